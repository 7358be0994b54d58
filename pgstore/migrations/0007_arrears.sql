-- Arrears (billing.Account.Arrears): the times the account was overdue, a
-- jsonb array as the account's other lists are:
-- [{"r": [refs], "s": since, "p": paid, "f": reclaim}, ...], times in
-- nanoseconds. And the receipt's InArrears flag. Accounts and usages
-- written at version 6 had no arrears.
ALTER TABLE billing_accounts ADD COLUMN arrears jsonb NOT NULL DEFAULT '[]';
ALTER TABLE billing_usages ADD COLUMN in_arrears boolean NOT NULL DEFAULT false;
