-- Refunds (billing.Account.Refunds): a jsonb array as the account's other
-- lists are: [{"i": id, "p": package, "a": at, "f": full, "m": minutes,
-- "c": consumed, "u": unit price, "d": discount, "s": used, "x": amount},
-- ...], the time in nanoseconds, the amounts as decimal strings (exact).
-- Accounts written at version 7 had no refunds.
ALTER TABLE billing_accounts ADD COLUMN refunds jsonb NOT NULL DEFAULT '[]';
