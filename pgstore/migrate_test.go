package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/pgstore"
)

// TestMigrateFromVersion1 takes a schema back to version 1 (without the
// receipt flags of version 2 and the index of version 3), writes a usage as
// version 1 wrote it, and
// checks that Migrate brings the schema to SchemaVersion and that the usage
// reads back whole, its new flags false.
func TestMigrateFromVersion1(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t) // migrated to SchemaVersion
	for _, q := range []string{
		`ALTER TABLE billing_usages DROP COLUMN while_suspended, DROP COLUMN no_basic_service`,
		`DROP INDEX billing_usages_at`,
		`DELETE FROM billing_schema WHERE version > 1`,
		`INSERT INTO billing_usages (account, id, app, service, scenario, tier, seconds, at, r_day, r_service, r_tier,
			minutes, postpaid, shortfall, postpaid_on, suspended, draws, version, position)
		VALUES ('a', 'u1', 'app', 'basic', 'video-call', 'hd', 61, 5000000000, 18701, 'basic', 'hd',
			2, 0, 2, false, true, '[]', 1, 0)`,
	} {
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
	var indexed bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('billing_usages_at') IS NOT NULL`).Scan(&indexed); err != nil || !indexed {
		t.Errorf("index billing_usages_at after the migration: %v, %v", indexed, err)
	}
	var got billing.UsageRecord
	err := pgstore.New(pool).View(ctx, "a", func(r billing.Reader) (err error) {
		got, err = r.Usage("u1")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	key := billing.MeterKey{Day: 18701, Service: billing.ServiceBasic, Tier: billing.TierHD}
	want := billing.UsageRecord{
		Usage: billing.Usage{ID: "u1", Account: "a", App: "app", Service: billing.ServiceBasic, Scenario: billing.VideoCall,
			Tier: billing.TierHD, Seconds: 61, At: time.Unix(5, 0)},
		Receipt: billing.Receipt{Key: key, Minutes: 2, Shortfall: 2, Suspended: true},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(x, y time.Time) bool { return x.Equal(y) })); diff != "" {
		t.Errorf("usage after the migration (-want +got):\n%s", diff)
	}
}
