-- Applications' scopes (Era 3's rules): the application of a meter where
-- the price book rounds per application (billing.MeterKey.App), wherever a
-- meter key is stored, and of a bill line (billing.Line.App); packages
-- bound to an application (billing.Package.App, billing.Purchase.App) and
-- drawn first (billing.Package.First). Nothing written at version 11 named
-- an application there nor was drawn first: '' and false.
--
-- A meter's application is part of its key: a day may hold a meter per
-- service, tier and application, listed by service, tier, then
-- application, byte by byte (COLLATE "C").
ALTER TABLE billing_meters ADD COLUMN app text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE billing_meters DROP CONSTRAINT billing_meters_pkey, ADD PRIMARY KEY (account, day, service, tier, app);
-- The receipt's meter key (r_day, r_service, r_tier), an entry's (day,
-- service, tier; its app column is the entry's own App), and a bill line's.
ALTER TABLE billing_usages ADD COLUMN r_app text NOT NULL DEFAULT '';
ALTER TABLE billing_entries ADD COLUMN key_app text NOT NULL DEFAULT '';
ALTER TABLE billing_bill_lines ADD COLUMN app text NOT NULL DEFAULT '';
-- The deduction order (billing.ComparePackages) now begins with the
-- package's rank: 0 First, 1 bound to an application, 2 the whole
-- account's, written with the package (the packages of version 11: 2).
-- The live packages in deduction order: rank, soonest end, earliest
-- purchase, id.
ALTER TABLE billing_packages
	ADD COLUMN app   text     NOT NULL DEFAULT '',
	ADD COLUMN first boolean  NOT NULL DEFAULT false,
	ADD COLUMN rank  smallint NOT NULL DEFAULT 2;
DROP INDEX billing_packages_live;
CREATE INDEX billing_packages_live ON billing_packages (account, rank, end_at, purchased_at, id) WHERE balance > 0;
-- A purchase's application, and its receipt's package's.
ALTER TABLE billing_purchases
	ADD COLUMN app       text    NOT NULL DEFAULT '',
	ADD COLUMN pkg_app   text    NOT NULL DEFAULT '',
	ADD COLUMN pkg_first boolean NOT NULL DEFAULT false;
-- The meter keys of an account's lists (billing_accounts.late, unbilled),
-- a purchase's absorptions (billing_purchases.absorbed) and a checkpoint's
-- meters (billing_checkpoints.meters) hold "a", the application, only if
-- not empty: those written at version 11 read as ''.
