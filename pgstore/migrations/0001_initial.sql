-- pgstore schema, version 1.
--
-- Money is exact NUMERIC; minutes and seconds are NUMERIC(20, 0). Times are
-- nanoseconds since 1970-01-01 UTC (timestamptz keeps only microseconds), the
-- zero time being -9223372036854775808, so that they sort as Go's times do.
-- Days are billing.Day values: days since 1970-01-01 in the billing time zone.
-- Ids and labels sort byte by byte (COLLATE "C"), as the Store contract orders them.

CREATE TABLE billing_accounts (
	id                  text COLLATE "C" PRIMARY KEY,
	version             bigint  NOT NULL,
	currency            text    NOT NULL,
	opened              bigint  NOT NULL,
	postpaid_on         boolean NOT NULL,
	postpaid_since      bigint  NOT NULL,
	postpaid_way        text    NOT NULL,
	suspended           boolean NOT NULL,
	suspended_since     bigint  NOT NULL,
	suspend_reason      text    NOT NULL,
	auto_postpaid_armed boolean NOT NULL,
	touched             bigint  NOT NULL,
	last_seq            bigint  NOT NULL,
	settled_through     integer NOT NULL,
	late                jsonb   NOT NULL -- [{"d": day, "s": service, "t": tier}, ...] in the order late usage arrived
);

CREATE TABLE billing_packages (
	account      text COLLATE "C" NOT NULL,
	id           text COLLATE "C" NOT NULL,
	kind         text           NOT NULL,
	book         text           NOT NULL,
	minutes      numeric(20, 0) NOT NULL,
	balance      numeric(20, 0) NOT NULL,
	forfeited    numeric(20, 0) NOT NULL,
	price        numeric        NOT NULL,
	purchased_at bigint         NOT NULL,
	start_at     bigint         NOT NULL,
	end_at       bigint         NOT NULL,
	PRIMARY KEY (account, id)
);
-- The live packages in deduction order: soonest end, earliest purchase, id.
CREATE INDEX billing_packages_live ON billing_packages (account, end_at, purchased_at, id) WHERE balance > 0;

CREATE TABLE billing_meters (
	account           text COLLATE "C" NOT NULL,
	day               integer        NOT NULL,
	service           text COLLATE "C" NOT NULL,
	tier              text COLLATE "C" NOT NULL,
	seconds           numeric(20, 0) NOT NULL,
	prepaid           numeric(20, 0) NOT NULL,
	postpaid          numeric(20, 0) NOT NULL,
	shortfall         numeric(20, 0) NOT NULL,
	settled_seconds   numeric(20, 0) NOT NULL,
	settled_prepaid   numeric(20, 0) NOT NULL,
	settled_postpaid  numeric(20, 0) NOT NULL,
	settled_shortfall numeric(20, 0) NOT NULL,
	PRIMARY KEY (account, day, service, tier)
);

CREATE TABLE billing_usages (
	account     text COLLATE "C" NOT NULL,
	id          text COLLATE "C" NOT NULL,
	app         text           NOT NULL,
	service     text           NOT NULL,
	scenario    text           NOT NULL,
	tier        text           NOT NULL,
	seconds     numeric(20, 0) NOT NULL,
	at          bigint         NOT NULL,
	-- the receipt
	r_day       integer        NOT NULL,
	r_service   text           NOT NULL,
	r_tier      text           NOT NULL,
	minutes     numeric(20, 0) NOT NULL,
	postpaid    numeric(20, 0) NOT NULL,
	shortfall   numeric(20, 0) NOT NULL,
	postpaid_on boolean        NOT NULL,
	suspended   boolean        NOT NULL,
	draws       jsonb          NOT NULL, -- [{"p": package, "m": minutes, "d": deducted}, ...]
	-- where it was committed: the account's version then, and its place in that unit of work
	version     bigint         NOT NULL,
	position    integer        NOT NULL,
	PRIMARY KEY (account, id)
);

CREATE TABLE billing_purchases (
	account          text COLLATE "C" NOT NULL,
	id               text COLLATE "C" NOT NULL,
	kind             text           NOT NULL,
	minutes          numeric(20, 0) NOT NULL,
	-- the receipt: the package as bought, the day, what it absorbed
	pkg_id           text           NOT NULL,
	pkg_kind         text           NOT NULL,
	pkg_book         text           NOT NULL,
	pkg_minutes      numeric(20, 0) NOT NULL,
	pkg_balance      numeric(20, 0) NOT NULL,
	pkg_forfeited    numeric(20, 0) NOT NULL,
	pkg_price        numeric        NOT NULL,
	pkg_purchased_at bigint         NOT NULL,
	pkg_start_at     bigint         NOT NULL,
	pkg_end_at       bigint         NOT NULL,
	day              integer        NOT NULL,
	absorbed         jsonb          NOT NULL, -- [{"t": tier, "s": shortfall, "p": postpaid, "d": deducted}, ...]
	resumed          boolean        NOT NULL,
	PRIMARY KEY (account, id)
);

CREATE TABLE billing_entries (
	account  text COLLATE "C" NOT NULL,
	seq      bigint         NOT NULL,
	at       bigint         NOT NULL,
	kind     text           NOT NULL,
	request  text           NOT NULL,
	ref      text           NOT NULL,
	package  text           NOT NULL,
	balance  numeric(20, 0) NOT NULL,
	day      integer        NOT NULL,
	service  text           NOT NULL,
	tier     text           NOT NULL,
	minutes  numeric(20, 0) NOT NULL,
	app      text           NOT NULL,
	scenario text           NOT NULL,
	amount   numeric        NOT NULL,
	PRIMARY KEY (account, seq)
);
CREATE INDEX billing_entries_at ON billing_entries (account, at);

CREATE TABLE billing_bills (
	account     text COLLATE "C" NOT NULL,
	day         integer NOT NULL,
	currency    text    NOT NULL,
	issued      bigint  NOT NULL,
	postpaid_on boolean NOT NULL,
	subtotal    numeric NOT NULL,
	total       numeric NOT NULL,
	PRIMARY KEY (account, day)
);

CREATE TABLE billing_bill_lines (
	account    text COLLATE "C" NOT NULL,
	bill_day   integer        NOT NULL,
	n          integer        NOT NULL,
	day        integer        NOT NULL,
	service    text           NOT NULL,
	tier       text           NOT NULL,
	adjustment boolean        NOT NULL,
	seconds    numeric(20, 0) NOT NULL,
	minutes    numeric(20, 0) NOT NULL,
	prepaid    numeric(20, 0) NOT NULL,
	postpaid   numeric(20, 0) NOT NULL,
	shortfall  numeric(20, 0) NOT NULL,
	billed     numeric(20, 0) NOT NULL,
	unit_price numeric        NOT NULL,
	amount     numeric        NOT NULL,
	PRIMARY KEY (account, bill_day, n),
	FOREIGN KEY (account, bill_day) REFERENCES billing_bills (account, day)
);
