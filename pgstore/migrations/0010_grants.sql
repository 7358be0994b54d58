-- Recurring grants (billing.PriceBook.Monthly): the last billing day whose
-- grants the account has had (billing.Account.GrantsThrough), as a day
-- number like settled_through. Accounts written at version 9 had none: 0,
-- which the Engine reads as "none since the opening".
ALTER TABLE billing_accounts ADD COLUMN grants_through integer NOT NULL DEFAULT 0;
