package sqlitestore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/rtcbill/billing"
	"github.com/shopspring/decimal"
)

// TestLedgerRuns writes the ledger in two units of work, each stored as
// one run, whose times overlap and are not in Seq order, and reads periods
// of it: each entry comes back whole (bytes that are not UTF-8 too), once,
// in Seq order, when from <= At < to; and a Seq at or below the last
// stored is refused.
func TestLedgerRuns(t *testing.T) {
	h := func(n int) time.Time { return time.Date(2026, 12, 7, n, 0, 0, 0, time.UTC) }
	// Every field set: a purchase's, with a meter key and minutes besides.
	full := billing.Entry{Seq: 1, At: h(3), Kind: billing.EntryPurchase, Request: billing.RequestBuy, Ref: "p\xff1",
		Package: "p\xff1", Balance: 3000, Key: billing.MeterKey{Day: 20794, Service: billing.ServiceBasic, Tier: billing.TierHD, App: "app"},
		Minutes: 2, App: "app", Scenario: billing.VideoCall, Amount: decimal.RequireFromString("12.50")}
	runs := [][]billing.Entry{
		{full, {Seq: 2, At: h(0)}},               // run 1: from 0h to 3h
		{{Seq: 3, At: h(1)}, {Seq: 5, At: h(4)}}, // run 2: from 1h to 4h
	}
	s := open(t, nil)
	create(t, s, "a")
	for _, run := range runs {
		err := s.Update(ctx, "a", func(r billing.Reader) (billing.Changes, error) {
			c, err := next(r)
			c.Entries = run
			return c, err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name     string
		from, to time.Time
		want     []int64 // Seqs
	}{
		{"all", time.Time{}, time.Time{}, []int64{1, 2, 3, 5}},
		{"[1h, 3h): run 1 holds none, run 2 Seq 3", h(1), h(3), []int64{3}},
		{"[0h, 1h): Seq 2 of run 1", h(0), h(1), []int64{2}},
		{"[3h, no bound): Seq 1 of run 1, 5 of run 2", h(3), time.Time{}, []int64{1, 5}},
		{"[5h, 6h): none", h(5), h(6), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []int64
			err := s.View(ctx, "a", func(r billing.Reader) error {
				return r.Entries(tt.from, tt.to, func(e billing.Entry) bool { got = append(got, e.Seq); return true })
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Entries' Seqs (-want +got):\n%s", diff)
			}
		})
	}
	var got billing.Entry
	err := s.View(ctx, "a", func(r billing.Reader) error {
		return r.Entries(h(3), h(4), func(e billing.Entry) bool { got = e; return false })
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(full, got); diff != "" {
		t.Errorf("entry 1 (-want +got):\n%s", diff)
	}
	for _, seq := range []int64{5, 4} { // 5 is stored; 4 is below it
		err := s.Update(ctx, "a", func(r billing.Reader) (billing.Changes, error) {
			c, err := next(r)
			c.Entries = []billing.Entry{{Seq: seq, At: h(5)}}
			return c, err
		})
		if !errors.Is(err, billing.ErrExists) {
			t.Errorf("writing Seq %d after Seq 5: %v, want an error wrapping ErrExists", seq, err)
		}
	}
}
