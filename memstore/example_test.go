package memstore_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/memstore"
)

// An Engine on an in-memory Store: for tests, and for a process whose bills
// need not outlive it. Two Engines on one Store see the same accounts.
func ExampleNew() {
	ctx := context.Background()
	now := time.Date(2021, 3, 15, 9, 0, 0, 0, time.FixedZone("UTC+8", 8*60*60))
	opts := &billing.Options{Now: func() time.Time { return now }}
	store := memstore.New()
	e1, err := billing.New(store, opts)
	if err != nil {
		log.Fatal(err)
	}
	e2, err := billing.New(store, opts)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := e1.OpenAccount(ctx, billing.AccountSpec{ID: "acme", App: "1400000001"}); err != nil {
		log.Fatal(err)
	}
	// 30 s of audio: 1 billable minute, covered by the trial's 10,000.
	if _, err := e2.Record(ctx, billing.Usage{ID: "u1", Account: "acme", App: "1400000001",
		Scenario: billing.AudioCall, Tier: billing.TierAudio, Seconds: 30, At: now}); err != nil {
		log.Fatal(err)
	}
	o, err := e1.Overview(ctx, "acme")
	if err != nil {
		log.Fatal(err)
	}
	ids, err := store.Accounts(ctx, "", 10)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ids, o.Packages[0].ID, o.Packages[0].Balance)
	// Output:
	// [acme] trial 9999
}
