-- Usage is a fact: usage of a suspended account, and value-added usage
-- without a basic service, are recorded, their receipts flagged.
ALTER TABLE billing_usages
	ADD COLUMN while_suspended  boolean NOT NULL DEFAULT false,
	ADD COLUMN no_basic_service boolean NOT NULL DEFAULT false;
