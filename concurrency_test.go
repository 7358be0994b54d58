package billing_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
)

// orderStore records, per account, the usage ids in the order their units of
// work committed. memstore runs an account's units of work one at a time
// under its lock, and the callback below runs under that lock, so the ticket
// it takes there orders the units as they committed; a unit whose commit
// then fails (a duplicate id) is left out.
type orderStore struct {
	billing.Store
	mu      sync.Mutex
	tickets map[string]int
	order   map[string][]ticketed
}

type ticketed struct {
	ticket int
	ids    []string
}

func (s *orderStore) Update(ctx context.Context, id string, fn func(billing.Reader) (billing.Changes, error)) error {
	var ids []string
	ticket := 0
	err := s.Store.Update(ctx, id, func(r billing.Reader) (billing.Changes, error) {
		s.mu.Lock()
		s.tickets[id]++
		ticket = s.tickets[id]
		s.mu.Unlock()
		ch, err := fn(r)
		ids = ids[:0]
		for _, u := range ch.Usages {
			ids = append(ids, u.Usage.ID)
		}
		return ch, err
	})
	if err == nil && len(ids) > 0 {
		s.mu.Lock()
		s.order[id] = append(s.order[id], ticketed{ticket, slices.Clone(ids)})
		s.mu.Unlock()
	}
	return err
}

// committed returns the account's usage ids in commit order.
func (s *orderStore) committed(account string) []string {
	units := slices.Clone(s.order[account])
	slices.SortFunc(units, func(a, b ticketed) int { return a.ticket - b.ticket })
	var ids []string
	for _, u := range units {
		ids = append(ids, u.ids...)
	}
	return ids
}

// smallTrial is the Era 1 USD book with a 500-minute trial, so that trials
// run out within a test's usage.
func smallTrial() billing.PriceBook {
	b := billing.Era1USD()
	b.ID = "era1-usd-small-trial"
	b.Trial.Minutes = 500
	return b
}

// concurrentSetup opens the accounts of the concurrency test: "trial-only"
// (suspended once its trial runs out), "universal" (postpaid goes on
// automatically), and "postpaid" (postpaid at opening, two packages).
func concurrentSetup(h *harness) {
	h.do(
		op{now: at(15, 8, 0, 0), open: &billing.AccountSpec{ID: "trial-only", App: "app1"}},
		op{open: &billing.AccountSpec{ID: "universal", App: "app1"}},
		op{open: &billing.AccountSpec{ID: "postpaid", Postpaid: true, App: "app1"}},
		op{now: at(15, 8, 10, 0), buy: &billing.Purchase{ID: "p1", Account: "universal", Kind: uni, Minutes: 1000}},
		op{buy: &billing.Purchase{ID: "p1", Account: "postpaid", Kind: uni, Minutes: 1000}},
		op{now: at(15, 8, 20, 0), buy: &billing.Purchase{ID: "p2", Account: "postpaid", Kind: uni, Minutes: 2000}},
	)
	h.clock.Set(at(15, 12, 0, 0))
}

// TestConcurrentRecord records one usage stream from many goroutines, each
// in its own order and with every usage sent by all of them, and checks that
// the result is exactly the state of a serial run of the same usages in the
// order their units of work committed.
func TestConcurrentRecord(t *testing.T) {
	accounts := []string{"trial-only", "universal", "postpaid"}
	tiers := []billing.Tier{audio, sd, hd, fhd}
	rng := rand.New(rand.NewPCG(1, 2))
	var stream []billing.Usage
	for _, a := range accounts {
		for i := range 150 {
			tier := tiers[rng.IntN(len(tiers))]
			when := at(15, 8, 30+rng.IntN(200), rng.IntN(60))
			if i%3 == 0 {
				when = at(15, 12, 0, 0) // at the clock: after the trial-only account's suspension
			}
			u := *usage(fmt.Sprintf("%s-u%d", a, i), tier, 1+rng.Int64N(1200), when)
			u.Account = a
			stream = append(stream, u)
		}
	}

	ordered := &orderStore{tickets: map[string]int{}, order: map[string][]ticketed{}}
	h := newHarness(t, smallTrial())
	ordered.Store = h.store
	h.store = ordered
	var err error
	if h.e, err = billing.New(ordered, &billing.Options{Now: h.clock.Now, PriceBooks: []billing.PriceBook{smallTrial()}}); err != nil {
		t.Fatal(err)
	}
	concurrentSetup(h)
	ordered.order = map[string][]ticketed{}

	const goroutines = 8
	var wg sync.WaitGroup
	for g := range goroutines {
		mine := append([]billing.Usage(nil), stream...)
		rand.New(rand.NewPCG(uint64(g), 7)).Shuffle(len(mine), func(i, j int) { mine[i], mine[j] = mine[j], mine[i] })
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, u := range mine {
				if _, err := h.e.Record(h.ctx, u); err != nil {
					t.Errorf("Record(%s): %v", u.ID, err)
				}
			}
		}()
	}
	wg.Wait()

	serial := newHarness(t, smallTrial())
	concurrentSetup(serial)
	byID := map[string]billing.Usage{}
	for _, u := range stream {
		byID[u.ID] = u
	}
	whileSuspended := 0
	for _, a := range accounts {
		seen := map[string]bool{}
		for _, id := range ordered.committed(a) {
			if seen[id] {
				t.Fatalf("usage %s committed twice", id)
			}
			seen[id] = true
			r, err := serial.e.Record(serial.ctx, byID[id])
			if err != nil {
				t.Fatalf("serial Record(%s): %v", id, err)
			}
			if r.WhileSuspended {
				whileSuspended++
			}
		}
		if n := len(ordered.committed(a)); n != 150 {
			t.Errorf("%s committed %d of 150 usages", a, n)
		}
	}
	if whileSuspended == 0 || whileSuspended == 150 {
		t.Errorf("%d of trial-only's 150 usages found it suspended; the test wants it suspended part way", whileSuspended)
	}
	for _, a := range accounts {
		if diff := cmp.Diff(serial.state(a, march(15)), h.state(a, march(15)), cmpOpts); diff != "" {
			t.Errorf("account %s: concurrent run differs from the serial run (-serial +concurrent):\n%s", a, diff)
		}
	}
	// Every usage answers the same in both: the same receipt.
	for _, u := range stream {
		want, wantErr := serial.e.Record(serial.ctx, u)
		got, gotErr := h.e.Record(h.ctx, u)
		if !errors.Is(gotErr, errors.Unwrap(wantErr)) || !cmp.Equal(want, got, cmpOpts) {
			t.Errorf("Record(%s) = %+v, %v; serial run: %+v, %v", u.ID, got, gotErr, want, wantErr)
		}
	}
}
