package pgstore_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/billingtest"
	"github.com/rtcbill/billing/pgstore"
)

// The tests run against the PostgreSQL server named by PGSTORE_TEST_DSN
// (a connection string), and are skipped without one. The repository's
// .ci/pgtest starts a throwaway server and sets it.
var dsn = os.Getenv("PGSTORE_TEST_DSN")

var schemas atomic.Int64

// newPool returns a pool whose search_path is a new, empty, migrated
// schema, dropped when the test ends.
func newPool(t testing.TB) *pgxpool.Pool {
	return newPoolMode(t, pgx.QueryExecModeCacheStatement)
}

// newPoolMode is newPool with the given pgx query execution mode.
func newPoolMode(t testing.TB, mode pgx.QueryExecMode) *pgxpool.Pool {
	t.Helper()
	return newPoolConfig(t, func(cfg *pgxpool.Config) { cfg.ConnConfig.DefaultQueryExecMode = mode })
}

// needDatabase skips the test if there is no database to test against,
// noting it for TestMain's count.
func needDatabase(t testing.TB) {
	t.Helper()
	if dsn == "" {
		skipped.add(t.Name())
		t.Skip("PGSTORE_TEST_DSN is not set: run .ci/pgtest to test against a throwaway PostgreSQL")
	}
}

// newPoolConfig is newPool with its configuration changed by config.
func newPoolConfig(t testing.TB, config func(*pgxpool.Config)) *pgxpool.Pool {
	t.Helper()
	needDatabase(t)
	ctx := context.Background()
	schema := fmt.Sprintf("t%d_%d", time.Now().UnixNano(), schemas.Add(1))
	admin, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admin.Close)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	config(cfg)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := pgstore.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	return pool
}

func TestStore(t *testing.T) {
	billingtest.TestStore(t, func(t *testing.T) billing.Store { return pgstore.New(newPool(t)) })
}

// TestStoreSimpleProtocol runs the suite with pgx's simple protocol, as
// behind PgBouncer in transaction mode: no prepared statements, parameter
// types not known in advance.
func TestStoreSimpleProtocol(t *testing.T) {
	billingtest.TestStore(t, func(t *testing.T) billing.Store {
		return pgstore.New(newPoolMode(t, pgx.QueryExecModeSimpleProtocol))
	})
}
