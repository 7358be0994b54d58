package pgstore_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/pgstore"
)

// An Engine on PostgreSQL: Migrate creates the tables (in the pool's
// search_path), then every Engine of every process shares the accounts. The
// example needs a server (it reads PGSTORE_TEST_DSN, as the tests do), so go
// test does not run it as an example: TestExample runs it, and checks its
// output, against the server .ci/pgtest starts.
func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("PGSTORE_TEST_DSN"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	if err := pgstore.Migrate(ctx, pool); err != nil {
		log.Fatal(err)
	}
	now := time.Date(2021, 3, 15, 9, 0, 0, 0, time.FixedZone("UTC+8", 8*60*60))
	e, err := billing.New(pgstore.New(pool), &billing.Options{Now: func() time.Time { return now }})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := e.OpenAccount(ctx, billing.AccountSpec{ID: "acme", App: "1400000001", Postpaid: true}); err != nil {
		log.Fatal(err)
	}
	// 150 s of SD video: ceil(150/60) = 3 minutes, from the trial (ratio 1
	// at every tier).
	r, err := e.Record(ctx, billing.Usage{ID: "u1", Account: "acme", App: "1400000001",
		Scenario: billing.VideoCall, Tier: billing.TierSD, Seconds: 150, At: now})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Key.Day, r.Key.Tier, r.Minutes, "minutes,", r.Draws[0].Deducted, "from the", r.Draws[0].Package)
}

// TestExample runs Example against a fresh schema and checks its output.
func TestExample(t *testing.T) {
	pool := newPool(t) // a fresh, migrated schema, dropped at the end
	schema := pool.Config().ConnConfig.RuntimeParams["search_path"]
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	t.Setenv("PGSTORE_TEST_DSN", dsn+sep+"search_path="+schema) // pgx sends unknown parameters as run-time parameters
	out := captureStdout(t, Example)
	// 150 s → 3 minutes; the trial deducts 1 package minute a minute.
	if want := "2021-03-15 sd 3 minutes, 3 from the trial\n"; out != want {
		t.Errorf("Example printed %q, want %q", out, want)
	}
}

// captureStdout returns what fn writes to os.Stdout.
func captureStdout(t *testing.T, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	done := make(chan []byte)
	go func() {
		var b bytes.Buffer
		io.Copy(&b, r)
		done <- b.Bytes()
	}()
	fn()
	os.Stdout = stdout
	w.Close()
	return string(<-done)
}
