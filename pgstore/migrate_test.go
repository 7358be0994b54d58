package pgstore_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/pgstore"
	"github.com/shopspring/decimal"
)

// undoSince13 takes a schema at SchemaVersion back to version 12's tables:
// packages and purchases without the currency of their package.
var undoSince13 = []string{
	`ALTER TABLE billing_packages DROP COLUMN currency`,
	`ALTER TABLE billing_purchases DROP COLUMN pkg_currency`,
}

// undoSince12 takes a schema at SchemaVersion back to version 11's tables:
// as undoSince13, then meters keyed without their application, usages,
// ledger entries and bill lines without the application of their meter
// key, packages without their application, First flag and rank (and their
// live index without the rank), and purchases without their applications
// and First flag.
var undoSince12 = slices.Concat(undoSince13, []string{
	`ALTER TABLE billing_meters DROP CONSTRAINT billing_meters_pkey, DROP COLUMN app, ADD PRIMARY KEY (account, day, service, tier)`,
	`ALTER TABLE billing_usages DROP COLUMN r_app`,
	`ALTER TABLE billing_entries DROP COLUMN key_app`,
	`ALTER TABLE billing_bill_lines DROP COLUMN app`,
	`DROP INDEX billing_packages_live`,
	`ALTER TABLE billing_packages DROP COLUMN app, DROP COLUMN first, DROP COLUMN rank`,
	`CREATE INDEX billing_packages_live ON billing_packages (account, end_at, purchased_at, id) WHERE balance > 0`,
	`ALTER TABLE billing_purchases DROP COLUMN app, DROP COLUMN pkg_app, DROP COLUMN pkg_first`,
})

// undoSince11 takes a schema at SchemaVersion back to version 10's tables:
// as undoSince12, then accounts, bills and meters without the billing
// cycles of version 11.
var undoSince11 = slices.Concat(undoSince12, []string{
	`ALTER TABLE billing_accounts DROP COLUMN cycle`,
	`ALTER TABLE billing_bills DROP COLUMN through`,
	`ALTER TABLE billing_meters DROP COLUMN latest, DROP COLUMN earlier_postpaid, DROP COLUMN earlier_shortfall`,
})

// undoSince10 takes a schema at SchemaVersion back to version 9's tables:
// as undoSince11, then accounts without the recurring grants' day of
// version 10.
var undoSince10 = slices.Concat(undoSince11, []string{`ALTER TABLE billing_accounts DROP COLUMN grants_through`})

// undoSince9 takes a schema at SchemaVersion (with no rows) back to
// version 8's tables: as undoSince10, then the status and suspensions of
// accounts and checkpoints in columns of their own instead of their
// applications, and usages without the receipt flag of version 9.
var undoSince9 = slices.Concat(undoSince10, []string{
	`ALTER TABLE billing_accounts DROP COLUMN apps, ADD COLUMN suspended boolean NOT NULL,
		ADD COLUMN suspended_since bigint NOT NULL, ADD COLUMN suspend_reason text NOT NULL,
		ADD COLUMN suspensions jsonb NOT NULL DEFAULT '[]'`,
	`ALTER TABLE billing_checkpoints DROP COLUMN apps, ADD COLUMN suspended boolean NOT NULL,
		ADD COLUMN suspended_since bigint NOT NULL, ADD COLUMN suspend_reason text NOT NULL,
		ADD COLUMN suspensions bigint NOT NULL`,
	`ALTER TABLE billing_usages DROP COLUMN app_disabled`,
})

// undoSince6 takes a schema at SchemaVersion back to version 5's tables:
// as undoSince9, then without the checkpoints' usages of version 6, the
// arrears of accounts and the receipt flag of version 7, and the refunds
// of version 8.
var undoSince6 = slices.Concat(undoSince9, []string{
	`ALTER TABLE billing_accounts DROP COLUMN refunds`,
	`ALTER TABLE billing_accounts DROP COLUMN arrears`,
	`ALTER TABLE billing_usages DROP COLUMN in_arrears`,
	`ALTER TABLE billing_checkpoints DROP COLUMN usages`,
})

// TestMigrateFromVersion1 takes a schema back to version 1 (without the
// receipt flags of version 2, the index of version 3, the account fields,
// receipt flag and checkpoints of version 4, the unbilled shortfall of
// meters and accounts and the deferred minutes of bill lines of version 5,
// the checkpoints' usages of version 6, the arrears of accounts and the
// receipt flag of version 7, the refunds of accounts of version 8, the
// applications and receipt flag of version 9, the recurring grants' day
// of version 10, the billing cycles of version 11, the applications'
// scopes of version 12, and the packages' currency of version 13), writes
// a usage as version 1
// wrote it, accounts as versions 1 to 3 wrote them, and a meter and a bill
// as versions 1 to 4 wrote them, and checks that Migrate brings the schema
// to SchemaVersion (13), that the usage reads back whole, its new flags
// false, that the accounts read back whole, their Frontier zero,
// SinceCheckpoint 0, no Unbilled meters, no Arrears, no Refunds, no
// checkpoints, EnabledAt the postpaid Since of a switch turned on by
// EnablePostpaid, else zero, and one application, the legacy one, with the
// account's switch and status and no Suspensions, and that the meter and
// the bill read back whole, the meter's Unbilled 0 (and its Latest and
// Earlier counts, a daily meter's), the bill line's Deferred 0 and the
// bill's period its day.
func TestMigrateFromVersion1(t *testing.T) {
	if pgstore.SchemaVersion != 13 {
		t.Errorf("SchemaVersion = %d, want 13: a new version needs its migration tested here", pgstore.SchemaVersion)
	}
	ctx := context.Background()
	pool := newPool(t) // migrated to SchemaVersion
	migrateAfter(t, ctx, pool, append(undoSince6[:len(undoSince6):len(undoSince6)],
		`ALTER TABLE billing_meters DROP COLUMN unbilled`,
		`ALTER TABLE billing_accounts DROP COLUMN unbilled`,
		`ALTER TABLE billing_bill_lines DROP COLUMN deferred`,
		`ALTER TABLE billing_usages DROP COLUMN while_suspended, DROP COLUMN no_basic_service`,
		`DROP INDEX billing_usages_at`,
		`ALTER TABLE billing_accounts DROP COLUMN frontier_at, DROP COLUMN frontier_class, DROP COLUMN frontier_id,
			DROP COLUMN since_checkpoint, DROP COLUMN enabled_at, DROP COLUMN suspensions`,
		`DROP TABLE billing_checkpoints`,
		`ALTER TABLE billing_usages DROP COLUMN late`,
		`DELETE FROM billing_schema WHERE version > 1`,
		`INSERT INTO billing_usages (account, id, app, service, scenario, tier, seconds, at, r_day, r_service, r_tier,
			minutes, postpaid, shortfall, postpaid_on, suspended, draws, version, position)
		VALUES ('a', 'u1', 'app', 'basic', 'video-call', 'hd', 61, 5000000000, 18701, 'basic', 'hd',
			2, 0, 2, false, true, '[]', 1, 0)`,
		// a: postpaid enabled at 7.000000001 s; b: postpaid at opening; c: suspended, postpaid off
		`INSERT INTO billing_accounts (id, version, currency, opened, postpaid_on, postpaid_since, postpaid_way, suspended,
			suspended_since, suspend_reason, auto_postpaid_armed, touched, last_seq, settled_through, late)
		VALUES ('a', 3, 'USD', 1000000000, true, 7000000001, 'enabled', false, -9223372036854775808, '', true,
			8000000000, 4, 18700, '[{"d": 18700, "s": "basic", "t": "hd"}]'),
			('b', 1, 'CNY', 1000000000, true, 1000000000, 'at-opening', false, -9223372036854775808, '', false,
			1000000000, 1, 18700, '[]'),
			('c', 2, 'USD', 1000000000, false, -9223372036854775808, '', true, 6000000000, 'why', false,
			6000000000, 2, 18700, '[]')`,
		// a's meter of day 18701, settled at 9 s (postpaid on), its shortfall billed on the bill of that day
		`INSERT INTO billing_meters (account, day, service, tier, seconds, prepaid, postpaid, shortfall,
			settled_seconds, settled_prepaid, settled_postpaid, settled_shortfall)
		VALUES ('a', 18701, 'basic', 'hd', 61, 0, 0, 2, 61, 0, 0, 2)`,
		`INSERT INTO billing_bills (account, day, currency, issued, postpaid_on, subtotal, total)
		VALUES ('a', 18701, 'USD', 9000000000, true, 0.0598, 0.06)`,
		`INSERT INTO billing_bill_lines (account, bill_day, n, day, service, tier, adjustment, seconds, minutes,
			prepaid, postpaid, shortfall, billed, unit_price, amount)
		VALUES ('a', 18701, 0, 18701, 'basic', 'hd', false, 61, 2, 0, 0, 2, 2, 0.0299, 0.0598)`,
	))
	var indexed bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('billing_usages_at') IS NOT NULL`).Scan(&indexed); err != nil || !indexed {
		t.Errorf("index billing_usages_at after the migration: %v, %v", indexed, err)
	}
	var got billing.UsageRecord
	var meter billing.Meter
	var meters []billing.Meter
	var bill billing.Bill
	accounts := map[string]billing.Account{}
	checkpoints := 0
	s := pgstore.New(pool)
	key := billing.MeterKey{Day: 18701, Service: billing.ServiceBasic, Tier: billing.TierHD}
	err := s.View(ctx, "a", func(r billing.Reader) (err error) {
		if got, err = r.Usage("u1"); err != nil {
			return err
		}
		if meter, err = r.Meter(key); err != nil {
			return err
		}
		if err := r.Meters(key.Day, func(m billing.Meter) bool { meters = append(meters, m); return true }); err != nil {
			return err
		}
		bill, err = r.Bill(key.Day)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c"} {
		err := s.View(ctx, id, func(r billing.Reader) (err error) {
			if accounts[id], err = r.Account(); err != nil {
				return err
			}
			return r.Checkpoints(billing.OpKey{At: time.Unix(1<<32, 0)}, func(billing.Checkpoint) bool { checkpoints++; return true })
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	equalTimes := cmp.Comparer(func(x, y time.Time) bool { return x.Equal(y) })
	want := billing.UsageRecord{
		Usage: billing.Usage{ID: "u1", Account: "a", App: "app", Service: billing.ServiceBasic, Scenario: billing.VideoCall,
			Tier: billing.TierHD, Seconds: 61, At: time.Unix(5, 0)},
		Receipt: billing.Receipt{Key: key, Minutes: 2, Shortfall: 2, Suspended: true},
	}
	if diff := cmp.Diff(want, got, equalTimes); diff != "" {
		t.Errorf("usage after the migration (-want +got):\n%s", diff)
	}
	opened := time.Unix(1, 0)
	wantAccounts := map[string]billing.Account{
		"a": {ID: "a", Currency: "USD", Opened: opened, Version: 3, AutoPostpaidArmed: true,
			Postpaid: billing.Postpaid{On: true, Since: time.Unix(7, 1), Way: billing.PostpaidEnabled},
			Touched:  time.Unix(8, 0), LastSeq: 4, SettledThrough: 18700,
			Late:      []billing.MeterKey{{Day: 18700, Service: billing.ServiceBasic, Tier: billing.TierHD}},
			EnabledAt: time.Unix(7, 1),
			Apps: []billing.App{{ID: billing.LegacyApp, Created: opened,
				Postpaid: billing.Postpaid{On: true, Since: time.Unix(7, 1), Way: billing.PostpaidEnabled}}}},
		"b": {ID: "b", Currency: "CNY", Opened: opened, Version: 1,
			Postpaid: billing.Postpaid{On: true, Since: opened, Way: billing.PostpaidAtOpening},
			Touched:  opened, LastSeq: 1, SettledThrough: 18700,
			Apps: []billing.App{{ID: billing.LegacyApp, Created: opened,
				Postpaid: billing.Postpaid{On: true, Since: opened, Way: billing.PostpaidAtOpening}}}},
		"c": {ID: "c", Currency: "USD", Opened: opened, Version: 2,
			Touched: time.Unix(6, 0), LastSeq: 2, SettledThrough: 18700,
			Apps: []billing.App{{ID: billing.LegacyApp, Created: opened,
				Status: billing.Status{Suspended: true, Since: time.Unix(6, 0), Reason: "why"}}}},
	}
	if diff := cmp.Diff(wantAccounts, accounts, equalTimes); diff != "" {
		t.Errorf("accounts after the migration (-want +got):\n%s", diff)
	}
	for id, a := range accounts { // zero times read back as the zero time itself
		if len(a.Apps) != 1 {
			continue // reported above
		}
		app := a.Apps[0]
		if !a.Frontier.At.IsZero() || (id != "a" && !a.EnabledAt.IsZero()) || (id != "c" && !app.Status.Since.IsZero()) ||
			(id == "c" && !app.Postpaid.Since.IsZero()) || !app.EnabledAt.IsZero() {
			t.Errorf("account %s after the migration: Frontier.At %v, EnabledAt %v, the app's Status.Since %v, Postpaid.Since %v "+
				"and EnabledAt %v; want zero times", id, a.Frontier.At, a.EnabledAt, app.Status.Since, app.Postpaid.Since, app.EnabledAt)
		}
	}
	if checkpoints != 0 {
		t.Errorf("%d checkpoints after the migration, want none", checkpoints)
	}
	wantMeter := billing.Meter{Key: key, Seconds: 61, Shortfall: 2,
		Settled: billing.Tally{Seconds: 61, Shortfall: 2}} // Unbilled 0
	if diff := cmp.Diff(wantMeter, meter); diff != "" {
		t.Errorf("meter after the migration (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]billing.Meter{wantMeter}, meters); diff != "" {
		t.Errorf("meters of the day after the migration (-want +got):\n%s", diff)
	}
	wantBill := billing.Bill{Account: "a", Day: 18701, Through: 18701, Currency: "USD", Issued: time.Unix(9, 0), PostpaidOn: true,
		Lines: []billing.Line{{Day: 18701, Service: billing.ServiceBasic, Tier: billing.TierHD, Seconds: 61, Minutes: 2,
			Shortfall: 2, Billed: 2, UnitPrice: decimal.RequireFromString("0.0299"), Amount: decimal.RequireFromString("0.0598")}}, // Deferred 0
		Subtotal: decimal.RequireFromString("0.0598"), Total: decimal.RequireFromString("0.06")}
	equalDecimals := cmp.Comparer(func(x, y decimal.Decimal) bool { return x.Equal(y) })
	if diff := cmp.Diff(wantBill, bill, equalTimes, equalDecimals); diff != "" {
		t.Errorf("bill after the migration (-want +got):\n%s", diff)
	}
}

// TestMigrateFromVersion5 takes a schema back to version 5 (without the
// checkpoints' usages of version 6, the arrears of version 7, the refunds
// of version 8 and the applications of version 9), writes a checkpoint as
// version 5 wrote it, and checks that Migrate brings the schema to
// SchemaVersion and that the checkpoint reads back whole, with no Usages
// and the legacy application's state, and that one written then keeps its
// Usages.
func TestMigrateFromVersion5(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t) // migrated to SchemaVersion
	migrateAfter(t, ctx, pool, append(undoSince6[:len(undoSince6):len(undoSince6)],
		`DELETE FROM billing_schema WHERE version > 5`,
		`INSERT INTO billing_accounts (id, version, currency, opened, postpaid_on, postpaid_since, postpaid_way, suspended,
			suspended_since, suspend_reason, auto_postpaid_armed, touched, last_seq, settled_through, late)
		VALUES ('a', 1, 'USD', 1000000000, false, -9223372036854775808, '', false, -9223372036854775808, '', false,
			1000000000, 0, 18700, '[]')`,
		`INSERT INTO billing_checkpoints (account, at, class, id, postpaid_on, postpaid_since, postpaid_way, suspended,
			suspended_since, suspend_reason, armed, suspensions, balances, meters)
		VALUES ('a', 5000000000, -1, '', false, -9223372036854775808, '', false, -9223372036854775808, '', true, 1,
			'[{"p": "trial", "b": 10000}]', '[{"d": 18701, "s": "basic", "t": "hd", "n": 61, "pre": 0, "post": 0, "short": 2}]')`,
	))
	s := pgstore.New(pool)
	old := billing.Checkpoint{Key: billing.OpKey{At: time.Unix(5, 0), Class: billing.ClassCheckpoint}, Armed: true,
		Apps:     []billing.AppState{{Suspensions: 1}},
		Balances: []billing.Balance{{Package: "trial", Balance: 10000}},
		Meters:   []billing.Meter{{Key: billing.MeterKey{Day: 18701, Service: billing.ServiceBasic, Tier: billing.TierHD}, Seconds: 61, Shortfall: 2}}}
	written := billing.Checkpoint{Key: billing.OpKey{At: time.Unix(6, 0), Class: billing.ClassCheckpoint}, Usages: []string{"u2", "u-日本"}}
	err := s.Update(ctx, "a", func(billing.Reader) (billing.Changes, error) {
		return billing.Changes{Account: &billing.Account{ID: "a", Currency: "USD", Opened: time.Unix(1, 0), Version: 2},
			Checkpoints: []billing.Checkpoint{written}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []billing.Checkpoint
	err = s.View(ctx, "a", func(r billing.Reader) error {
		return r.Checkpoints(billing.OpKey{}, func(c billing.Checkpoint) bool { got = append(got, c); return true })
	})
	if err != nil {
		t.Fatal(err)
	}
	equalTimes := cmp.Comparer(func(x, y time.Time) bool { return x.Equal(y) })
	if diff := cmp.Diff([]billing.Checkpoint{old, written}, got, equalTimes); diff != "" {
		t.Errorf("checkpoints after the migration (-want +got):\n%s", diff)
	}
}

// TestMigrateFromVersion8 takes a schema back to version 8 (without the
// applications and the receipt flag of version 9), writes accounts,
// checkpoints and a usage as version 8 wrote them, and checks that Migrate
// brings the schema to SchemaVersion; that each account reads back with one
// application, billing.LegacyApp, created at the account's opening, with
// the account's switch, status and suspensions, no EnabledAt and no
// disabling of its own, the account keeping its switch and EnabledAt; that
// each checkpoint reads back with that application's state: the
// checkpoint's switch, status and count of ended suspensions, the
// checkpoint keeping its switch; and that the usage reads back with
// AppDisabled false. Writing back what it read then leaves the stored
// applications as they are: the migration writes them as pgstore does.
func TestMigrateFromVersion8(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t) // migrated to SchemaVersion
	migrateAfter(t, ctx, pool, append(undoSince9[:len(undoSince9):len(undoSince9)],
		`DELETE FROM billing_schema WHERE version > 8`,
		// s: suspended at 6.000000001 s after two suspensions; e: postpaid enabled at 7 s, which ended its
		// suspension; o: postpaid at opening
		`INSERT INTO billing_accounts (id, version, currency, opened, postpaid_on, postpaid_since, postpaid_way, suspended,
			suspended_since, suspend_reason, auto_postpaid_armed, touched, last_seq, settled_through, late, frontier_at,
			frontier_class, frontier_id, since_checkpoint, enabled_at, suspensions)
		VALUES ('s', 5, 'USD', 1000000000, false, -9223372036854775808, '', true, 6000000001, 'why-日本', false,
			6000000001, 9, 18700, '[]', 6000000001, 0, 'u-ü', 3, -9223372036854775808,
			'[{"s": 2000000000, "u": 3000000000}, {"s": 4000000000, "u": 5000000001}]'),
			('e', 4, 'CNY', 1000000000, true, 7000000000, 'enabled', false, -9223372036854775808, '', true,
			7000000000, 6, 18700, '[]', 7000000000, 1, '', 1, 7000000000, '[{"s": 1500000000, "u": 7000000000}]'),
			('o', 1, 'USD', 1000000000, true, 1000000000, 'at-opening', false, -9223372036854775808, '', false,
			1000000000, 1, 18700, '[]', -9223372036854775808, 0, '', 0, -9223372036854775808, '[]')`,
		`INSERT INTO billing_checkpoints (account, at, class, id, postpaid_on, postpaid_since, postpaid_way, suspended,
			suspended_since, suspend_reason, armed, suspensions, balances, meters, usages)
		VALUES ('s', 1000000000, -1, '', false, -9223372036854775808, '', false, -9223372036854775808, '', false, 0,
			'[{"p": "trial", "b": 10000}]', '[]', '[]'),
			('s', 5000000000, -1, '', false, -9223372036854775808, '', true, 4000000000, 'why', false, 1, '[]', '[]', '["u1"]'),
			('e', 8000000000, 0, 'u-日本', true, 7000000000, 'enabled', false, -9223372036854775808, '', true, 1, '[]', '[]', '[]')`,
		`INSERT INTO billing_usages (account, id, app, service, scenario, tier, seconds, at, r_day, r_service, r_tier,
			minutes, postpaid, shortfall, postpaid_on, suspended, while_suspended, late, no_basic_service, in_arrears, draws,
			version, position)
		VALUES ('s', 'u1', 'app', 'basic', 'video-call', 'hd', 61, 6000000001, 18701, 'basic', 'hd',
			2, 0, 2, false, true, false, true, false, true, '[]', 5, 0)`,
	))
	s := pgstore.New(pool)
	accounts, checkpoints := map[string]billing.Account{}, map[string][]billing.Checkpoint{}
	var usage billing.UsageRecord
	for _, id := range []string{"s", "e", "o"} {
		err := s.View(ctx, id, func(r billing.Reader) (err error) {
			if accounts[id], err = r.Account(); err != nil {
				return err
			}
			if id == "s" {
				if usage, err = r.Usage("u1"); err != nil {
					return err
				}
			}
			return r.Checkpoints(billing.OpKey{}, func(c billing.Checkpoint) bool { checkpoints[id] = append(checkpoints[id], c); return true })
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	opened := time.Unix(1, 0)
	enabled := billing.Postpaid{On: true, Since: time.Unix(7, 0), Way: billing.PostpaidEnabled}
	atOpening := billing.Postpaid{On: true, Since: opened, Way: billing.PostpaidAtOpening}
	wantAccounts := map[string]billing.Account{
		"s": {ID: "s", Currency: "USD", Opened: opened, Version: 5, Touched: time.Unix(6, 1), LastSeq: 9, SettledThrough: 18700,
			Frontier: billing.OpKey{At: time.Unix(6, 1), Class: billing.ClassUsage, ID: "u-ü"}, SinceCheckpoint: 3,
			Apps: []billing.App{{ID: billing.LegacyApp, Created: opened,
				Status:      billing.Status{Suspended: true, Since: time.Unix(6, 1), Reason: "why-日本"},
				Suspensions: []billing.Interval{{Since: time.Unix(2, 0), Until: time.Unix(3, 0)}, {Since: time.Unix(4, 0), Until: time.Unix(5, 1)}}}}},
		"e": {ID: "e", Currency: "CNY", Opened: opened, Version: 4, Postpaid: enabled, AutoPostpaidArmed: true,
			Touched: time.Unix(7, 0), LastSeq: 6, SettledThrough: 18700, Frontier: billing.OpKey{At: time.Unix(7, 0), Class: billing.ClassCall},
			SinceCheckpoint: 1, EnabledAt: time.Unix(7, 0),
			Apps: []billing.App{{ID: billing.LegacyApp, Created: opened, Postpaid: enabled,
				Suspensions: []billing.Interval{{Since: time.Unix(1, 500_000_000), Until: time.Unix(7, 0)}}}}},
		"o": {ID: "o", Currency: "USD", Opened: opened, Version: 1, Postpaid: atOpening, Touched: opened, LastSeq: 1,
			SettledThrough: 18700, Apps: []billing.App{{ID: billing.LegacyApp, Created: opened, Postpaid: atOpening}}},
	}
	equalTimes := cmp.Comparer(func(x, y time.Time) bool { return x.Equal(y) && x.IsZero() == y.IsZero() })
	if diff := cmp.Diff(wantAccounts, accounts, equalTimes); diff != "" {
		t.Errorf("accounts after the migration (-want +got):\n%s", diff)
	}
	wantCheckpoints := map[string][]billing.Checkpoint{
		"s": {{Key: billing.OpKey{At: opened, Class: billing.ClassCheckpoint}, Balances: []billing.Balance{{Package: "trial", Balance: 10000}},
			Apps: []billing.AppState{{}}},
			{Key: billing.OpKey{At: time.Unix(5, 0), Class: billing.ClassCheckpoint}, Usages: []string{"u1"},
				Apps: []billing.AppState{{Status: billing.Status{Suspended: true, Since: time.Unix(4, 0), Reason: "why"}, Suspensions: 1}}}},
		"e": {{Key: billing.OpKey{At: time.Unix(8, 0), Class: billing.ClassUsage, ID: "u-日本"}, Postpaid: enabled, Armed: true,
			Apps: []billing.AppState{{Postpaid: enabled, Suspensions: 1}}}},
	}
	if diff := cmp.Diff(wantCheckpoints, checkpoints, equalTimes); diff != "" {
		t.Errorf("checkpoints after the migration (-want +got):\n%s", diff)
	}
	wantUsage := billing.UsageRecord{
		Usage: billing.Usage{ID: "u1", Account: "s", App: "app", Service: billing.ServiceBasic, Scenario: billing.VideoCall,
			Tier: billing.TierHD, Seconds: 61, At: time.Unix(6, 1)},
		Receipt: billing.Receipt{Key: billing.MeterKey{Day: 18701, Service: billing.ServiceBasic, Tier: billing.TierHD},
			Minutes: 2, Shortfall: 2, Suspended: true, Late: true, InArrears: true}, // AppDisabled false
	}
	if diff := cmp.Diff(wantUsage, usage, equalTimes); diff != "" {
		t.Errorf("usage after the migration (-want +got):\n%s", diff)
	}

	stored := func() []string {
		t.Helper()
		rows, err := pool.Query(ctx, `SELECT id || ' ' || apps::text FROM billing_accounts
			UNION ALL SELECT account || ' ' || at || ' ' || apps::text FROM billing_checkpoints ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		apps, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return apps
	}
	migrated := stored()
	for id, a := range accounts {
		a.Version++
		err := s.Update(ctx, id, func(billing.Reader) (billing.Changes, error) {
			return billing.Changes{Account: &a, Checkpoints: checkpoints[id]}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(migrated, stored()); diff != "" {
		t.Errorf("applications as migrated and as written back (-migrated +written):\n%s", diff)
	}
}

// migrateAfter runs the statements qs on pool, which hold data written at
// an earlier schema version, then Migrate, and checks that the schema is
// at SchemaVersion.
func migrateAfter(t *testing.T, ctx context.Context, pool *pgxpool.Pool, qs []string) {
	t.Helper()
	for _, q := range qs {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := pgstore.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	var version int
	if err := pool.QueryRow(ctx, `SELECT max(version) FROM billing_schema`).Scan(&version); err != nil || version != pgstore.SchemaVersion {
		t.Fatalf("schema version %d, %v; want %d", version, err, pgstore.SchemaVersion)
	}
}

// TestMigrateFromVersion9 takes a schema back to version 9 (without the
// recurring grants' day of version 10), writes an account as version 9
// wrote it, and checks that Migrate brings the schema to SchemaVersion and
// that the account reads back whole, its GrantsThrough 0 (none made since
// the opening, as the Engine reads it).
func TestMigrateFromVersion9(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t) // migrated to SchemaVersion
	migrateAfter(t, ctx, pool, append(undoSince10[:len(undoSince10):len(undoSince10)],
		`DELETE FROM billing_schema WHERE version > 9`,
		`INSERT INTO billing_accounts (id, version, currency, opened, postpaid_on, postpaid_since, postpaid_way,
			auto_postpaid_armed, touched, last_seq, settled_through, late, frontier_at, frontier_class, frontier_id,
			since_checkpoint, enabled_at, unbilled, arrears, refunds, apps)
		VALUES ('a', 2, 'USD', 1000000000, false, -9223372036854775808, '', false, 2000000000, 1, 18700, '[]',
			1000000000, -2, '', 0, -9223372036854775808, '[]', '[]', '[]', '[{"i": "app1", "c": 1000000000, "e": -9223372036854775808}]')`,
	))
	var got billing.Account
	err := pgstore.New(pool).View(ctx, "a", func(r billing.Reader) (err error) {
		got, err = r.Account()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := billing.Account{ID: "a", Currency: "USD", Opened: time.Unix(1, 0), Version: 2, Touched: time.Unix(2, 0), LastSeq: 1,
		SettledThrough: 18700, Frontier: billing.OpKey{At: time.Unix(1, 0), Class: billing.ClassOpening},
		Apps: []billing.App{{ID: "app1", Created: time.Unix(1, 0)}}}
	equalTimes := cmp.Comparer(func(x, y time.Time) bool { return x.Equal(y) })
	if diff := cmp.Diff(want, got, equalTimes, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("account after the migration (-want +got):\n%s", diff)
	}
}

// TestMigrateFromVersion10 takes a schema back to version 10 (without the
// billing cycles of version 11), writes an account, a meter, a bill and a
// checkpoint as version 10 wrote them, and checks that Migrate brings the
// schema to SchemaVersion and that they read back whole: the account on
// the daily cycle, the meter and the checkpoint's meter with Latest 0 and
// no Earlier counts (a day's meter), the bill's period its day.
func TestMigrateFromVersion10(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t) // migrated to SchemaVersion
	migrateAfter(t, ctx, pool, append(undoSince11[:len(undoSince11):len(undoSince11)],
		`DELETE FROM billing_schema WHERE version > 10`,
		`INSERT INTO billing_accounts (id, version, currency, opened, postpaid_on, postpaid_since, postpaid_way,
			auto_postpaid_armed, touched, last_seq, settled_through, late, frontier_at, frontier_class, frontier_id,
			since_checkpoint, enabled_at, unbilled, arrears, refunds, apps, grants_through)
		VALUES ('a', 2, 'USD', 1000000000, false, -9223372036854775808, '', false, 2000000000, 1, 18701, '[]',
			1000000000, -2, '', 0, -9223372036854775808, '[]', '[]', '[]', '[{"i": "app1", "c": 1000000000, "e": -9223372036854775808}]',
			18700)`,
		`INSERT INTO billing_meters (account, day, service, tier, seconds, prepaid, postpaid, shortfall,
			settled_seconds, settled_prepaid, settled_postpaid, settled_shortfall, unbilled)
		VALUES ('a', 18701, 'basic', 'hd', 61, 0, 2, 0, 61, 0, 2, 0, 0)`,
		`INSERT INTO billing_bills (account, day, currency, issued, postpaid_on, subtotal, total)
		VALUES ('a', 18701, 'USD', 9000000000, true, 0.00798, 0.01)`,
		`INSERT INTO billing_checkpoints (account, at, class, id, postpaid_on, postpaid_since, postpaid_way, armed,
			balances, meters, usages, apps)
		VALUES ('a', 5000000000, -1, '', false, -9223372036854775808, '', false, '[]',
			'[{"d": 18701, "s": "basic", "t": "hd", "n": 61, "pre": 0, "post": 2, "short": 0}]', '[]', '[]')`,
	))
	var got billing.Account
	var meter billing.Meter
	var bill billing.Bill
	var cps []billing.Checkpoint
	key := billing.MeterKey{Day: 18701, Service: billing.ServiceBasic, Tier: billing.TierHD}
	err := pgstore.New(pool).View(ctx, "a", func(r billing.Reader) (err error) {
		if got, err = r.Account(); err != nil {
			return err
		}
		if meter, err = r.Meter(key); err != nil {
			return err
		}
		if bill, err = r.Bill(key.Day); err != nil {
			return err
		}
		return r.Checkpoints(billing.OpKey{}, func(c billing.Checkpoint) bool { cps = append(cps, c); return true })
	})
	if err != nil {
		t.Fatal(err)
	}
	equalTimes := cmp.Comparer(func(x, y time.Time) bool { return x.Equal(y) })
	if got.Cycle != billing.Daily {
		t.Errorf("account's Cycle after the migration = %v, want daily", got.Cycle)
	}
	wantMeter := billing.Meter{Key: key, Seconds: 61, Postpaid: 2, Settled: billing.Tally{Seconds: 61, Postpaid: 2}}
	if diff := cmp.Diff(wantMeter, meter); diff != "" {
		t.Errorf("meter after the migration (-want +got):\n%s", diff)
	}
	if bill.Day != 18701 || bill.Through != 18701 {
		t.Errorf("bill after the migration: Day %v, Through %v; want 2021-03-15 both", bill.Day, bill.Through)
	}
	wantCps := []billing.Checkpoint{{Key: billing.OpKey{At: time.Unix(5, 0), Class: billing.ClassCheckpoint},
		Meters: []billing.Meter{{Key: key, Seconds: 61, Postpaid: 2}}}}
	if diff := cmp.Diff(wantCps, cps, equalTimes, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("checkpoints after the migration (-want +got):\n%s", diff)
	}
}

// TestMigrateFromVersion11 takes a schema back to version 11 (without the
// applications' scopes of version 12), writes an account, packages, a
// meter, a usage, a purchase, a ledger entry, a bill and a checkpoint as
// version 11 wrote them, and checks that Migrate brings the schema to
// SchemaVersion, that the live packages' index orders by rank first, and
// that the records read back whole: every meter key (the account's Late
// and Unbilled, the usage's receipt, the entry's, the checkpoint's meter)
// and the bill line and absorption without an application, the packages
// and the purchase's without one and not First (and in the account's
// currency, as version 13 fills it in), the purchase without one.
// It then writes records with applications and First packages beside them
// and checks that they read back whole too: a meter of the same day,
// service and tier for each of two applications after the old one's, and
// the packages in deduction order, First, bound to an application, then
// the account's.
func TestMigrateFromVersion11(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t) // migrated to SchemaVersion
	migrateAfter(t, ctx, pool, append(undoSince12[:len(undoSince12):len(undoSince12)],
		`DELETE FROM billing_schema WHERE version > 11`,
		`INSERT INTO billing_accounts (id, version, currency, opened, postpaid_on, postpaid_since, postpaid_way,
			auto_postpaid_armed, touched, last_seq, settled_through, late, frontier_at, frontier_class, frontier_id,
			since_checkpoint, enabled_at, unbilled, arrears, refunds, apps, grants_through, cycle)
		VALUES ('a', 2, 'USD', 1000000000, false, -9223372036854775808, '', false, 2000000000, 1, 18701,
			'[{"d": 18700, "s": "basic", "t": "hd"}]', 1000000000, -2, '', 0, -9223372036854775808,
			'[{"d": 18699, "s": "basic", "t": "sd"}]', '[]', '[]', '[{"i": "app1", "c": 1000000000, "e": -9223372036854775808}]',
			18700, 0)`,
		`INSERT INTO billing_packages (account, id, kind, book, minutes, balance, forfeited, price, purchased_at, start_at, end_at)
		VALUES ('a', 'trial', 'trial', 'era1-usd', 1000, 1000, 0, 0, 1000000000, 0, 3000000000),
			('a', 'p1', 'universal', 'era1-usd', 5000, 4998, 0, 49.9, 2000000000, 0, 2500000000)`,
		`INSERT INTO billing_meters (account, day, service, tier, seconds, prepaid, postpaid, shortfall,
			settled_seconds, settled_prepaid, settled_postpaid, settled_shortfall, unbilled, latest, earlier_postpaid, earlier_shortfall)
		VALUES ('a', 18701, 'basic', 'hd', 61, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)`,
		`INSERT INTO billing_usages (account, id, app, service, scenario, tier, seconds, at, r_day, r_service, r_tier,
			minutes, postpaid, shortfall, postpaid_on, suspended, draws, version, position)
		VALUES ('a', 'u1', 'app1', 'basic', 'video-call', 'hd', 61, 5000000000, 18701, 'basic', 'hd',
			2, 0, 0, false, false, '[{"p": "p1", "m": 2, "d": 2}]', 2, 0)`,
		`INSERT INTO billing_purchases (account, id, kind, minutes, pkg_id, pkg_kind, pkg_book, pkg_minutes, pkg_balance,
			pkg_forfeited, pkg_price, pkg_purchased_at, pkg_start_at, pkg_end_at, day, absorbed, resumed)
		VALUES ('a', 'p1', 'universal', 5000, 'p1', 'universal', 'era1-usd', 5000, 5000, 0, 49.9, 2000000000, 0, 2500000000,
			18701, '[{"t": "hd", "s": 2, "p": 0, "d": 2}]', true)`,
		`INSERT INTO billing_entries (account, seq, at, kind, request, ref, package, balance, day, service, tier,
			minutes, app, scenario, amount)
		VALUES ('a', 1, 5000000000, 'deduction', 'record', 'u1', 'p1', -2, 18701, 'basic', 'hd', 2, 'app1', 'video-call', 0)`,
		`INSERT INTO billing_bills (account, day, through, currency, issued, postpaid_on, subtotal, total)
		VALUES ('a', 18701, 18701, 'USD', 9000000000, false, 0, 0)`,
		`INSERT INTO billing_bill_lines (account, bill_day, n, day, service, tier, adjustment, seconds, minutes,
			prepaid, postpaid, shortfall, deferred, billed, unit_price, amount)
		VALUES ('a', 18701, 0, 18701, 'basic', 'hd', false, 61, 2, 2, 0, 0, 0, 0, 0.00399, 0)`,
		`INSERT INTO billing_checkpoints (account, at, class, id, postpaid_on, postpaid_since, postpaid_way, armed,
			balances, meters, usages, apps)
		VALUES ('a', 5000000000, -1, '', false, -9223372036854775808, '', false, '[{"p": "p1", "b": 4998}]',
			'[{"d": 18701, "s": "basic", "t": "hd", "n": 61, "pre": 2, "post": 0, "short": 0}]', '[]', '[{}]')`,
	))
	var index string
	if err := pool.QueryRow(ctx, `SELECT pg_get_indexdef('billing_packages_live'::regclass)`).Scan(&index); err != nil {
		t.Fatal(err)
	}
	if want := "(account, rank, end_at, purchased_at, id) WHERE (balance > "; !strings.Contains(index, want) {
		t.Errorf("index billing_packages_live after the migration: %s; want it on %s0)", index, want)
	}

	s := pgstore.New(pool)
	// records are what read reads of account a: the day 18701's meters,
	// then those of the keys asked, the usages and purchases asked, and
	// every other record.
	type records struct {
		Account     billing.Account
		Live, All   []billing.Package
		Meters      []billing.Meter
		Usages      []billing.UsageRecord
		Purchases   []billing.PurchaseRecord
		Entries     []billing.Entry
		Bills       []billing.Bill
		Checkpoints []billing.Checkpoint
	}
	// read reads account a's records, with the usages, purchases and meters
	// of the ids and keys given.
	read := func(usages, purchases []string, meters ...billing.MeterKey) records {
		t.Helper()
		var got records
		err := s.View(ctx, "a", func(r billing.Reader) (err error) {
			if got.Account, err = r.Account(); err != nil {
				return err
			}
			if err := r.LivePackages(func(p billing.Package) bool { got.Live = append(got.Live, p); return true }); err != nil {
				return err
			}
			if err := r.Packages(func(p billing.Package) bool { got.All = append(got.All, p); return true }); err != nil {
				return err
			}
			if err := r.Meters(18701, func(m billing.Meter) bool { got.Meters = append(got.Meters, m); return true }); err != nil {
				return err
			}
			for _, k := range meters {
				m, err := r.Meter(k)
				if err != nil {
					return err
				}
				got.Meters = append(got.Meters, m)
			}
			for _, id := range usages {
				u, err := r.Usage(id)
				if err != nil {
					return err
				}
				got.Usages = append(got.Usages, u)
			}
			for _, id := range purchases {
				p, err := r.Purchase(id)
				if err != nil {
					return err
				}
				got.Purchases = append(got.Purchases, p)
			}
			if err := r.Entries(time.Time{}, time.Time{}, func(e billing.Entry) bool { got.Entries = append(got.Entries, e); return true }); err != nil {
				return err
			}
			if err := r.Bills(0, 1<<30, func(b billing.Bill) bool { got.Bills = append(got.Bills, b); return true }); err != nil {
				return err
			}
			return r.Checkpoints(billing.OpKey{}, func(c billing.Checkpoint) bool { got.Checkpoints = append(got.Checkpoints, c); return true })
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	equalTimes := cmp.Comparer(func(x, y time.Time) bool { return x.Equal(y) && x.IsZero() == y.IsZero() })
	equalDecimals := cmp.Comparer(func(x, y decimal.Decimal) bool { return x.Equal(y) })

	hd := billing.MeterKey{Day: 18701, Service: billing.ServiceBasic, Tier: billing.TierHD}
	p1 := billing.Package{ID: "p1", Kind: "universal", Book: "era1-usd", Minutes: 5000, Balance: 4998, Currency: "USD",
		Price: decimal.RequireFromString("49.9"), PurchasedAt: time.Unix(2, 0), Start: time.Unix(0, 0), End: time.Unix(2, 500_000_000)}
	trial := billing.Package{ID: "trial", Kind: "trial", Book: "era1-usd", Minutes: 1000, Balance: 1000, Currency: "USD", Price: decimal.Zero,
		PurchasedAt: time.Unix(1, 0), Start: time.Unix(0, 0), End: time.Unix(3, 0)}
	bought := p1
	bought.Balance = 5000
	want := records{
		Account: billing.Account{ID: "a", Currency: "USD", Opened: time.Unix(1, 0), Version: 2, Touched: time.Unix(2, 0), LastSeq: 1,
			SettledThrough: 18701, GrantsThrough: 18700, Frontier: billing.OpKey{At: time.Unix(1, 0), Class: billing.ClassOpening},
			Late:     []billing.MeterKey{{Day: 18700, Service: billing.ServiceBasic, Tier: billing.TierHD}},
			Unbilled: []billing.MeterKey{{Day: 18699, Service: billing.ServiceBasic, Tier: billing.TierSD}},
			Apps:     []billing.App{{ID: "app1", Created: time.Unix(1, 0)}}},
		Live:   []billing.Package{p1, trial},
		All:    []billing.Package{p1, trial},
		Meters: []billing.Meter{{Key: hd, Seconds: 61, Prepaid: 2}, {Key: hd, Seconds: 61, Prepaid: 2}},
		Usages: []billing.UsageRecord{{
			Usage: billing.Usage{ID: "u1", Account: "a", App: "app1", Service: billing.ServiceBasic, Scenario: billing.VideoCall,
				Tier: billing.TierHD, Seconds: 61, At: time.Unix(5, 0)},
			Receipt: billing.Receipt{Key: hd, Minutes: 2, Draws: []billing.Draw{{Package: "p1", Minutes: 2, Deducted: 2}}}}},
		Purchases: []billing.PurchaseRecord{{Purchase: billing.Purchase{ID: "p1", Account: "a", Kind: "universal", Minutes: 5000},
			Receipt: billing.PurchaseReceipt{Package: bought, Day: 18701,
				Absorbed: []billing.Absorption{{Tier: billing.TierHD, Shortfall: 2, Deducted: 2}}, Resumed: true}}},
		Entries: []billing.Entry{{Seq: 1, At: time.Unix(5, 0), Kind: billing.EntryDeduction, Request: billing.RequestRecord, Ref: "u1",
			Package: "p1", Balance: -2, Key: hd, Minutes: 2, App: "app1", Scenario: billing.VideoCall, Amount: decimal.Zero}},
		Bills: []billing.Bill{{Account: "a", Day: 18701, Through: 18701, Currency: "USD", Issued: time.Unix(9, 0),
			Lines: []billing.Line{{Day: 18701, Service: billing.ServiceBasic, Tier: billing.TierHD, Seconds: 61, Minutes: 2, Prepaid: 2,
				UnitPrice: decimal.RequireFromString("0.00399"), Amount: decimal.Zero}},
			Subtotal: decimal.Zero, Total: decimal.Zero}},
		Checkpoints: []billing.Checkpoint{{Key: billing.OpKey{At: time.Unix(5, 0), Class: billing.ClassCheckpoint},
			Apps: []billing.AppState{{}}, Balances: []billing.Balance{{Package: "p1", Balance: 4998}},
			Meters: []billing.Meter{{Key: hd, Seconds: 61, Prepaid: 2}}}},
	}
	got := read([]string{"u1"}, []string{"p1"}, hd)
	if diff := cmp.Diff(want, got, equalTimes, equalDecimals, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("records after the migration (-want +got):\n%s", diff)
	}

	// Records with applications and First packages, beside those.
	hd1, hd2 := hd, hd
	hd1.App, hd2.App = "app1", "App2" // "App2" sorts before "app1", byte by byte
	free := billing.Package{ID: "free", Kind: "free", Book: "era3-usd", Minutes: 100, Balance: 100, Currency: "USD", Price: decimal.Zero,
		PurchasedAt: time.Unix(4, 0), Start: time.Unix(0, 0), End: time.Unix(40, 0), First: true}
	bound := billing.Package{ID: "bound", Kind: "monthly", Book: "era3-usd", Minutes: 500, Balance: 500, Currency: "USD",
		Price: decimal.RequireFromString("4.99"), PurchasedAt: time.Unix(4, 0), Start: time.Unix(0, 0), End: time.Unix(30, 0), App: "app1"}
	spent := bound
	spent.ID, spent.Balance, spent.End = "bound-spent", 0, time.Unix(3, 0)
	u2 := billing.UsageRecord{
		Usage: billing.Usage{ID: "u2", Account: "a", App: "app1", Service: billing.ServiceBasic, Scenario: billing.VideoCall,
			Tier: billing.TierHD, Seconds: 30, At: time.Unix(6, 0)},
		Receipt: billing.Receipt{Key: hd1, Minutes: 1, Draws: []billing.Draw{{Package: "free", Minutes: 1, Deducted: 1}}}}
	boughtBound := bound
	pr := billing.PurchaseRecord{Purchase: billing.Purchase{ID: "bound", Account: "a", Kind: "monthly", Minutes: 500, App: "app1"},
		Receipt: billing.PurchaseReceipt{Package: boughtBound, Day: 18701,
			Absorbed: []billing.Absorption{{Tier: billing.TierHD, App: "app1", Postpaid: 1, Deducted: 1}}}}
	entry := billing.Entry{Seq: 2, At: time.Unix(6, 0), Kind: billing.EntryDeduction, Request: billing.RequestRecord, Ref: "u2",
		Package: "free", Balance: -1, Key: hd1, Minutes: 1, App: "app1", Scenario: billing.VideoCall, Amount: decimal.Zero}
	bill := billing.Bill{Account: "a", Day: 18702, Through: 18702, Currency: "USD", Issued: time.Unix(10, 0),
		Lines: []billing.Line{
			{Day: 18702, Service: billing.ServiceBasic, Tier: billing.TierHD, App: "App2", Seconds: 60, Minutes: 1, Postpaid: 1, Billed: 1,
				UnitPrice: decimal.RequireFromString("0.00399"), Amount: decimal.RequireFromString("0.00399")},
			{Day: 18702, Service: billing.ServiceBasic, Tier: billing.TierHD, App: "app1", Seconds: 60, Minutes: 1, Prepaid: 1,
				UnitPrice: decimal.RequireFromString("0.00399"), Amount: decimal.Zero}},
		Subtotal: decimal.RequireFromString("0.00399"), Total: decimal.RequireFromString("0.01")}
	cp := billing.Checkpoint{Key: billing.OpKey{At: time.Unix(6, 0), Class: billing.ClassUsage, ID: "u2"}, Apps: []billing.AppState{{}},
		Balances: []billing.Balance{{Package: "free", Balance: 99}},
		Meters:   []billing.Meter{{Key: hd1, Seconds: 30, Prepaid: 1}, {Key: hd2, Seconds: 60, Postpaid: 1}}}
	a := want.Account
	a.Version, a.LastSeq = 3, 2
	a.Late = append(a.Late, hd2)
	a.Unbilled = append(a.Unbilled, hd1)
	err := s.Update(ctx, "a", func(billing.Reader) (billing.Changes, error) {
		return billing.Changes{Account: &a, Packages: []billing.Package{bound, free, spent},
			Meters:    []billing.Meter{{Key: hd1, Seconds: 30, Prepaid: 1}, {Key: hd2, Seconds: 60, Postpaid: 1}},
			Usages:    []billing.UsageRecord{u2},
			Purchases: []billing.PurchaseRecord{pr}, Entries: []billing.Entry{entry}, Bills: []billing.Bill{bill},
			Checkpoints: []billing.Checkpoint{cp}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want.Account = a
	want.Live = []billing.Package{free, bound, p1, trial}
	want.All = []billing.Package{free, spent, bound, p1, trial}
	// The day's meters by application ("", "App2", "app1"), then each by its key.
	want.Meters = []billing.Meter{{Key: hd, Seconds: 61, Prepaid: 2}, {Key: hd2, Seconds: 60, Postpaid: 1}, {Key: hd1, Seconds: 30, Prepaid: 1},
		{Key: hd, Seconds: 61, Prepaid: 2}, {Key: hd1, Seconds: 30, Prepaid: 1}, {Key: hd2, Seconds: 60, Postpaid: 1}}
	want.Usages = append(want.Usages, u2)
	want.Purchases = append(want.Purchases, pr)
	want.Entries = append(want.Entries, entry)
	want.Bills = append(want.Bills, bill)
	want.Checkpoints = append(want.Checkpoints, cp)
	got = read([]string{"u1", "u2"}, []string{"p1", "bound"}, hd, hd1, hd2)
	if diff := cmp.Diff(want, got, equalTimes, equalDecimals, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("records written after the migration (-want +got):\n%s", diff)
	}
}

// TestMigrateFromVersion12 takes a schema back to version 12 (without the
// packages' currency of version 13), writes two accounts, one in USD and
// one in CNY, with a package each and a purchase as version 12 wrote them,
// and checks that Migrate brings the schema to SchemaVersion and that the
// packages, and the purchase's package, read back in their account's
// currency. It then writes a package of each account with its currency and
// checks that it reads back whole.
func TestMigrateFromVersion12(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t) // migrated to SchemaVersion
	account := func(id, currency string) string {
		return `INSERT INTO billing_accounts (id, version, currency, opened, postpaid_on, postpaid_since, postpaid_way,
			auto_postpaid_armed, touched, last_seq, settled_through, late, frontier_at, frontier_class, frontier_id,
			since_checkpoint, enabled_at, unbilled, arrears, refunds, apps, grants_through, cycle)
		VALUES ('` + id + `', 2, '` + currency + `', 1000000000, false, -9223372036854775808, '', false, 2000000000, 0, 18700,
			'[]', 1000000000, -2, '', 0, -9223372036854775808, '[]', '[]', '[]',
			'[{"i": "app1", "c": 1000000000, "e": -9223372036854775808}]', 18700, 0)`
	}
	migrateAfter(t, ctx, pool, append(undoSince13[:len(undoSince13):len(undoSince13)],
		`DELETE FROM billing_schema WHERE version > 12`,
		account("a", "USD"), account("b", "CNY"),
		`INSERT INTO billing_packages (account, id, kind, book, minutes, balance, forfeited, price, purchased_at, start_at, end_at,
			app, first, rank)
		VALUES ('a', 'p1', 'universal', 'era1-usd', 5000, 4998, 0, 49.9, 2000000000, 0, 2500000000, '', false, 2),
			('b', 'trial', 'trial', 'era1-cny', 1000, 1000, 0, 0, 1000000000, 0, 3000000000, '', false, 2)`,
		`INSERT INTO billing_purchases (account, id, kind, minutes, app, pkg_id, pkg_kind, pkg_book, pkg_minutes, pkg_balance,
			pkg_forfeited, pkg_price, pkg_purchased_at, pkg_start_at, pkg_end_at, pkg_app, pkg_first, day, absorbed, resumed)
		VALUES ('a', 'p1', 'universal', 5000, '', 'p1', 'universal', 'era1-usd', 5000, 5000, 0, 49.9, 2000000000, 0, 2500000000,
			'', false, 18701, '[]', false)`,
	))

	s := pgstore.New(pool)
	// read reads an account's packages, and its purchases of the ids given.
	read := func(id string, purchases ...string) (billing.Account, []billing.Package, []billing.PurchaseRecord) {
		t.Helper()
		var a billing.Account
		var ps []billing.Package
		var prs []billing.PurchaseRecord
		err := s.View(ctx, id, func(r billing.Reader) (err error) {
			if a, err = r.Account(); err != nil {
				return err
			}
			if err := r.Packages(func(p billing.Package) bool { ps = append(ps, p); return true }); err != nil {
				return err
			}
			for _, pid := range purchases {
				pr, err := r.Purchase(pid)
				if err != nil {
					return err
				}
				prs = append(prs, pr)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return a, ps, prs
	}
	opts := []cmp.Option{
		cmp.Comparer(func(x, y time.Time) bool { return x.Equal(y) && x.IsZero() == y.IsZero() }),
		cmp.Comparer(func(x, y decimal.Decimal) bool { return x.Equal(y) }),
	}
	p1 := billing.Package{ID: "p1", Kind: "universal", Book: "era1-usd", Minutes: 5000, Balance: 4998, Currency: "USD",
		Price: decimal.RequireFromString("49.9"), PurchasedAt: time.Unix(2, 0), Start: time.Unix(0, 0), End: time.Unix(2, 500_000_000)}
	bought := p1
	bought.Balance = 5000
	pr := billing.PurchaseRecord{Purchase: billing.Purchase{ID: "p1", Account: "a", Kind: "universal", Minutes: 5000},
		Receipt: billing.PurchaseReceipt{Package: bought, Day: 18701, Absorbed: []billing.Absorption{}}}
	trial := billing.Package{ID: "trial", Kind: "trial", Book: "era1-cny", Minutes: 1000, Balance: 1000, Currency: "CNY",
		Price: decimal.Zero, PurchasedAt: time.Unix(1, 0), Start: time.Unix(0, 0), End: time.Unix(3, 0)}
	a, gotA, gotPr := read("a", "p1")
	if diff := cmp.Diff([]billing.Package{p1}, gotA, opts...); diff != "" {
		t.Errorf("account a's packages after the migration (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]billing.PurchaseRecord{pr}, gotPr, append(opts, cmpopts.EquateEmpty())...); diff != "" {
		t.Errorf("account a's purchase after the migration (-want +got):\n%s", diff)
	}
	b, gotB, _ := read("b")
	if diff := cmp.Diff([]billing.Package{trial}, gotB, opts...); diff != "" {
		t.Errorf("account b's packages after the migration (-want +got):\n%s", diff)
	}

	// A package of each account written after the migration, in its
	// account's currency: it ends sooner, so it comes before the old one.
	for _, tt := range []struct {
		a    billing.Account
		old  billing.Package
		want billing.Package
	}{
		{a, p1, billing.Package{ID: "p0", Kind: "universal", Book: "era1-usd", Minutes: 1000, Balance: 1000, Currency: "USD",
			Price: decimal.RequireFromString("9.99"), PurchasedAt: time.Unix(4, 0), Start: time.Unix(0, 0), End: time.Unix(1, 0)}},
		{b, trial, billing.Package{ID: "p0", Kind: "universal", Book: "era1-cny", Minutes: 1000, Balance: 1000, Currency: "CNY",
			Price: decimal.RequireFromString("70"), PurchasedAt: time.Unix(4, 0), Start: time.Unix(0, 0), End: time.Unix(1, 0)}},
	} {
		acct := tt.a
		acct.Version++
		err := s.Update(ctx, acct.ID, func(billing.Reader) (billing.Changes, error) {
			return billing.Changes{Account: &acct, Packages: []billing.Package{tt.want}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		_, got, _ := read(acct.ID)
		if diff := cmp.Diff([]billing.Package{tt.want, tt.old}, got, opts...); diff != "" {
			t.Errorf("account %s's packages written after the migration (-want +got):\n%s", acct.ID, diff)
		}
	}
}
