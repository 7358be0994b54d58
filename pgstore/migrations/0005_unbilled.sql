-- Shortfall settled while postpaid was off is billed later, by the first
-- bill settled with postpaid on: a meter's unbilled shortfall minutes
-- (billing.Meter.Unbilled), the account's list of such meters in the
-- order they were settled (billing.Account.Unbilled), and a bill line's
-- deferred minutes (billing.Line.Deferred). Nothing written at version 4
-- was unbilled and tracked: its meters have none, its accounts list none,
-- and its bill lines deferred none.
ALTER TABLE billing_meters ADD COLUMN unbilled numeric(20, 0) NOT NULL DEFAULT 0;
ALTER TABLE billing_accounts ADD COLUMN unbilled jsonb NOT NULL DEFAULT '[]'; -- [{"d": day, "s": service, "t": tier}, ...] in the order settled
ALTER TABLE billing_bill_lines ADD COLUMN deferred numeric(20, 0) NOT NULL DEFAULT 0;
-- A checkpoint's meters (billing_checkpoints.meters) hold the meter's
-- "unbilled" too, only if not zero: those written at version 4 read as zero.
