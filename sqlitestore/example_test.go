package sqlitestore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/sqlitestore"
)

// An Engine on a SQLite file: what one process needs to keep its bills
// across restarts. Reopened, the file has every account as it was.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "billing")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "billing.db")
	now := time.Date(2021, 3, 15, 9, 0, 0, 0, time.FixedZone("UTC+8", 8*60*60))
	opts := &billing.Options{Now: func() time.Time { return now }}

	store, err := sqlitestore.Open(path, nil) // durable: each unit of work is on disk when it returns
	if err != nil {
		log.Fatal(err)
	}
	e, err := billing.New(store, opts)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := e.OpenAccount(ctx, billing.AccountSpec{ID: "acme", App: "1400000001"}); err != nil {
		log.Fatal(err)
	}
	// 61 s of HD video: ceil(61/60) = 2 minutes, from the trial.
	if _, err := e.Record(ctx, billing.Usage{ID: "u1", Account: "acme", App: "1400000001",
		Scenario: billing.VideoCall, Tier: billing.TierHD, Seconds: 61, At: now}); err != nil {
		log.Fatal(err)
	}
	if err := store.Close(); err != nil {
		log.Fatal(err)
	}

	store, err = sqlitestore.Open(path, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	if e, err = billing.New(store, opts); err != nil {
		log.Fatal(err)
	}
	o, err := e.Overview(ctx, "acme")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(o.Packages[0].ID, o.Packages[0].Balance, "minutes left") // 10,000 − 2
	// Output:
	// trial 9998 minutes left
}
