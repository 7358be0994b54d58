-- A package's currency (billing.Package.Currency): its account's, which
-- its price is in, wherever a package is stored: a package and a purchase
-- receipt's package. The packages written at version 12 are in their
-- account's currency.
ALTER TABLE billing_packages ADD COLUMN currency text;
UPDATE billing_packages p SET currency = a.currency FROM billing_accounts a WHERE a.id = p.account;
ALTER TABLE billing_packages ALTER COLUMN currency SET NOT NULL;
ALTER TABLE billing_purchases ADD COLUMN pkg_currency text;
UPDATE billing_purchases p SET pkg_currency = a.currency FROM billing_accounts a WHERE a.id = p.account;
ALTER TABLE billing_purchases ALTER COLUMN pkg_currency SET NOT NULL;
