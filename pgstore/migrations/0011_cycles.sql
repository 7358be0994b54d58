-- Billing cycles (billing.Cycle): an account's cycle (billing.Account.Cycle,
-- 0 daily, 1 monthly), the last day of a bill's period (billing.Bill.Through),
-- and what a meter of a month's window knows of its latest day
-- (billing.Meter.Latest, EarlierPostpaid, EarlierShortfall). Everything
-- written at version 10 was daily: accounts are daily, a bill's period is
-- its day, and a meter's latest day is its own (0) with nothing earlier.
ALTER TABLE billing_accounts ADD COLUMN cycle smallint NOT NULL DEFAULT 0;
ALTER TABLE billing_bills ADD COLUMN through integer;
UPDATE billing_bills SET through = day;
ALTER TABLE billing_bills ALTER COLUMN through SET NOT NULL;
ALTER TABLE billing_meters
	ADD COLUMN latest integer NOT NULL DEFAULT 0,
	ADD COLUMN earlier_postpaid numeric(20, 0) NOT NULL DEFAULT 0,
	ADD COLUMN earlier_shortfall numeric(20, 0) NOT NULL DEFAULT 0;
-- A checkpoint's meters (billing_checkpoints.meters) hold "latest", "ep"
-- and "es" too, only if not zero: those written at version 10 read as zero.
