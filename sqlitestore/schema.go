package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
)

// SchemaVersion is the schema version this package reads and writes, kept
// in the file's user_version.
const SchemaVersion = 1

// applicationID marks a file as this package's, in its header's
// application_id ("RTCB"): Open refuses a file that holds tables of
// another application.
const applicationID = 0x52544342

// schema is version 1 of the tables. Every table is STRICT (a value of
// another type is an error, not a conversion) and WITHOUT ROWID: the rows
// are kept in the order of their primary key, which is how they are read.
//
// Money is decimal text, written with decimal.Decimal's String and read
// with NewFromString, exact to the last digit. Times are int64 nanoseconds
// since 1970-01-01 UTC, the zero time being -9223372036854775808, so that
// they sort as Go's times do. Days are billing.Day numbers. Ids and labels
// are TEXT in the BINARY collation: compared byte by byte, as the Store
// contract orders them. Flags are 0 or 1. The small lists inside a record
// (an account's applications, a purchase's absorptions, a bill's lines, a
// checkpoint's balances and meters...) are JSON text in the shapes of
// codec.go, their numbers integers and their amounts decimal strings. The
// ledger's runs of entries, and a usage record's fields that no query
// filters on (its receipt among them), are a compact binary encoding of
// their own (codec.go): one BLOB, one value to bind, per row.
const schema = `
CREATE TABLE accounts (
	id                  TEXT    NOT NULL PRIMARY KEY,
	version             INTEGER NOT NULL,
	currency            TEXT    NOT NULL,
	opened              INTEGER NOT NULL,
	postpaid_on         INTEGER NOT NULL,
	postpaid_since      INTEGER NOT NULL,
	postpaid_way        TEXT    NOT NULL,
	auto_postpaid_armed INTEGER NOT NULL,
	touched             INTEGER NOT NULL,
	last_seq            INTEGER NOT NULL,
	grants_through      INTEGER NOT NULL,
	cycle               INTEGER NOT NULL,
	settled_through     INTEGER NOT NULL,
	late                TEXT    NOT NULL, -- [{"d": day, "s": service, "t": tier, "a": app}, ...] in the order it arrived
	unbilled            TEXT    NOT NULL, -- the same shape, in the order settled
	frontier_at         INTEGER NOT NULL,
	frontier_class      INTEGER NOT NULL,
	frontier_id         TEXT    NOT NULL,
	since_checkpoint    INTEGER NOT NULL,
	enabled_at          INTEGER NOT NULL,
	apps                TEXT    NOT NULL, -- [{"i": id, "c": created, "p": switch, "s": status, "su": [...], "e": enabled, "d": [...]}, ...]
	arrears             TEXT    NOT NULL, -- [{"r": [refs], "s": since, "p": paid, "f": reclaim}, ...]
	refunds             TEXT    NOT NULL  -- [{"i": id, "p": package, "a": at, ...amounts as decimal strings}, ...]
) STRICT, WITHOUT ROWID;

CREATE TABLE packages (
	account      TEXT    NOT NULL,
	id           TEXT    NOT NULL,
	kind         TEXT    NOT NULL,
	book         TEXT    NOT NULL,
	currency     TEXT    NOT NULL,
	minutes      INTEGER NOT NULL,
	balance      INTEGER NOT NULL,
	forfeited    INTEGER NOT NULL,
	price        TEXT    NOT NULL,
	purchased_at INTEGER NOT NULL,
	start_at     INTEGER NOT NULL,
	end_at       INTEGER NOT NULL,
	app          TEXT    NOT NULL,
	first        INTEGER NOT NULL,
	rank         INTEGER NOT NULL, -- billing.Package.Rank, the first key of the deduction order
	PRIMARY KEY (account, id)
) STRICT, WITHOUT ROWID;
-- The live packages in deduction order (billing.ComparePackages): rank,
-- soonest end, earliest purchase, id.
CREATE INDEX packages_live ON packages (account, rank, end_at, purchased_at, id) WHERE balance > 0;

CREATE TABLE meters (
	account           TEXT    NOT NULL,
	day               INTEGER NOT NULL,
	service           TEXT    NOT NULL,
	tier              TEXT    NOT NULL,
	app               TEXT    NOT NULL,
	seconds           INTEGER NOT NULL,
	prepaid           INTEGER NOT NULL,
	postpaid          INTEGER NOT NULL,
	shortfall         INTEGER NOT NULL,
	settled_seconds   INTEGER NOT NULL,
	settled_prepaid   INTEGER NOT NULL,
	settled_postpaid  INTEGER NOT NULL,
	settled_shortfall INTEGER NOT NULL,
	unbilled          INTEGER NOT NULL,
	latest            INTEGER NOT NULL,
	earlier_postpaid  INTEGER NOT NULL,
	earlier_shortfall INTEGER NOT NULL,
	PRIMARY KEY (account, day, service, tier, app)
) STRICT, WITHOUT ROWID;

CREATE TABLE usages (
	account  TEXT    NOT NULL,
	id       TEXT    NOT NULL,
	at       INTEGER NOT NULL,
	-- where it was committed: the account's version then, and its place in that unit of work
	version  INTEGER NOT NULL,
	position INTEGER NOT NULL,
	record   BLOB    NOT NULL, -- the rest of the usage and its receipt (see encodeUsage in codec.go)
	PRIMARY KEY (account, id)
) STRICT, WITHOUT ROWID;
-- Reader.Usages: an account's usages in the order of their times, then ids.
CREATE INDEX usages_at ON usages (account, at, id);

CREATE TABLE purchases (
	account          TEXT    NOT NULL,
	id               TEXT    NOT NULL,
	kind             TEXT    NOT NULL,
	minutes          INTEGER NOT NULL,
	app              TEXT    NOT NULL,
	-- the receipt: the package as bought, the day, what it absorbed
	pkg_id           TEXT    NOT NULL,
	pkg_kind         TEXT    NOT NULL,
	pkg_book         TEXT    NOT NULL,
	pkg_currency     TEXT    NOT NULL,
	pkg_minutes      INTEGER NOT NULL,
	pkg_balance      INTEGER NOT NULL,
	pkg_forfeited    INTEGER NOT NULL,
	pkg_price        TEXT    NOT NULL,
	pkg_purchased_at INTEGER NOT NULL,
	pkg_start_at     INTEGER NOT NULL,
	pkg_end_at       INTEGER NOT NULL,
	pkg_app          TEXT    NOT NULL,
	pkg_first        INTEGER NOT NULL,
	day              INTEGER NOT NULL,
	absorbed         TEXT    NOT NULL, -- [{"t": tier, "a": app, "s": shortfall, "p": postpaid, "d": deducted}, ...]
	resumed          INTEGER NOT NULL,
	PRIMARY KEY (account, id)
) STRICT, WITHOUT ROWID;

-- The ledger, a run of entries per unit of work: the entries one Changes
-- appended, from first_seq to last_seq, in one BLOB (see encodeRun in
-- codec.go), with the earliest and latest of their times. One row per
-- unit of work instead of one per entry: a batch of 1,000 usages writes
-- one. The runs' Seqs do not overlap, and increase with first_seq.
CREATE TABLE entry_runs (
	account   TEXT    NOT NULL,
	first_seq INTEGER NOT NULL,
	last_seq  INTEGER NOT NULL,
	min_at    INTEGER NOT NULL,
	max_at    INTEGER NOT NULL,
	entries   BLOB    NOT NULL,
	PRIMARY KEY (account, first_seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE bills (
	account     TEXT    NOT NULL,
	day         INTEGER NOT NULL,
	through     INTEGER NOT NULL,
	currency    TEXT    NOT NULL,
	issued      INTEGER NOT NULL,
	postpaid_on INTEGER NOT NULL,
	subtotal    TEXT    NOT NULL,
	total       TEXT    NOT NULL,
	lines       TEXT    NOT NULL, -- [{"d": day, "s": service, ..., "u": unit price, "x": amount}, ...] in order
	PRIMARY KEY (account, day)
) STRICT, WITHOUT ROWID;

-- An account's state at points of its reference order, by key: (at,
-- class, id) in the order of billing.OpKey.Compare.
CREATE TABLE checkpoints (
	account        TEXT    NOT NULL,
	at             INTEGER NOT NULL,
	class          INTEGER NOT NULL,
	id             TEXT    NOT NULL,
	postpaid_on    INTEGER NOT NULL,
	postpaid_since INTEGER NOT NULL,
	postpaid_way   TEXT    NOT NULL,
	armed          INTEGER NOT NULL,
	apps           TEXT    NOT NULL, -- [{"p": switch, "s": status, "su": ended suspensions}, ...]
	balances       TEXT    NOT NULL, -- [{"p": package, "b": balance}, ...] in deduction order
	meters         TEXT    NOT NULL, -- [{"d": day, "s": service, "t": tier, "n": seconds, ...}, ...]
	usages         TEXT    NOT NULL, -- ["id", ...] in the order they came in
	PRIMARY KEY (account, at, class, id)
) STRICT, WITHOUT ROWID;
`

// migrate brings the file's schema up to SchemaVersion in one write
// transaction (BEGIN IMMEDIATE: one process at a time, the others wait
// for it under the busy timeout and then find the schema made). A file
// that is empty gets the schema; a file at SchemaVersion is left alone; a
// file at a later version, or of another application, is refused.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlitestore: migrate: %w", err)
	}
	defer tx.Rollback() // after Commit, a no-op
	var version, app, tables int64
	err1 := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version)
	err2 := tx.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&app)
	err3 := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&tables)
	if err := firstErr(err1, err2, err3); err != nil {
		return fmt.Errorf("sqlitestore: migrate: %w", err)
	}
	switch {
	case app != applicationID && (app != 0 || tables > 0):
		return fmt.Errorf("sqlitestore: the file is not a billing store (application_id %#x, %d tables)", app, tables)
	case version > SchemaVersion:
		return fmt.Errorf("sqlitestore: schema version %d is newer than this package's %d", version, SchemaVersion)
	case version == SchemaVersion:
		return nil
	}
	for _, q := range []string{schema, fmt.Sprintf(`PRAGMA application_id = %d`, applicationID),
		fmt.Sprintf(`PRAGMA user_version = %d`, SchemaVersion)} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("sqlitestore: migrate to version %d: %w", SchemaVersion, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlitestore: migrate: %w", err)
	}
	return nil
}
