package billing_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
	"pgregory.net/rapid"
)

// allErrors are every sentinel error of the package.
var allErrors = append([]error{
	billing.ErrCorrupt, billing.ErrExists, billing.ErrConflict, billing.ErrDayNotEnded, billing.ErrDayClosed,
	billing.ErrSettleOrder, billing.ErrUnknownKind, billing.ErrInvalidMinutes, billing.ErrInvalidResolution,
	billing.ErrInvalidPriceBook, billing.ErrInvalidOptions,
}, usageErrors...)

// sentinel returns the first documented error err wraps, or err itself.
func sentinel(err error) error {
	for _, s := range allErrors {
		if errors.Is(err, s) {
			return s
		}
	}
	return err
}

// batchSetup opens "trial" (trial only, postpaid off: it gets suspended),
// "armed" (a small universal package: postpaid goes on automatically) and
// "postpaid" (postpaid at opening, a custom package that expires sooner).
func batchSetup(h *harness) {
	h.do(
		op{now: at(15, 8, 0, 0), open: &billing.AccountSpec{ID: "trial", App: "app1"}},
		op{open: &billing.AccountSpec{ID: "armed", App: "app1"}},
		op{open: &billing.AccountSpec{ID: "postpaid", Postpaid: true, App: "app1"}},
		op{now: at(15, 8, 10, 0), buy: &billing.Purchase{ID: "p1", Account: "armed", Kind: uni, Minutes: 1000}},
		op{buy: &billing.Purchase{ID: "m1", Account: "postpaid", Kind: "monthly", Minutes: 50}},
	)
	h.clock.Set(at(15, 20, 0, 0))
}

// TestRecordBatchIsOneByOne records random usage streams (duplicates, ids
// reused with other usage, bad input, value-added usage, suspensions) in
// random batches on one engine, and one by one on another, each batch's
// usages in the reference order (by time, then id, else as given): every
// result and the final state of every account must be the same.
func TestRecordBatchIsOneByOne(t *testing.T) {
	accounts := []string{"trial", "armed", "postpaid", "nobody"}
	rapid.Check(t, func(rt *rapid.T) {
		one := newHarness(rt, smallTrialMonthly())
		batch := newHarness(rt, smallTrialMonthly())
		batchSetup(one)
		batchSetup(batch)
		n := rapid.IntRange(1, 60).Draw(rt, "usages")
		stream := make([]billing.Usage, n)
		for i := range stream {
			tier := rapid.SampledFrom([]billing.Tier{audio, sd, hd, fhd, "8k"}).Draw(rt, "tier")
			u := *usage(fmt.Sprintf("u%d", rapid.IntRange(0, n).Draw(rt, "id")), tier,
				rapid.Int64Range(-1, 3000).Draw(rt, "seconds"), at(15, rapid.IntRange(7, 20).Draw(rt, "hour"), 0, 0))
			u.Account = rapid.SampledFrom(accounts).Draw(rt, "account")
			if rapid.IntRange(0, 4).Draw(rt, "value-added") == 0 {
				u.Service, u.Scenario = recording, ""
			}
			stream[i] = u
		}
		want := make([]billing.BatchResult, n)
		var got []billing.BatchResult
		for done := 0; done < n; {
			k := rapid.IntRange(1, n-done).Draw(rt, "batch")
			got = append(got, batch.e.RecordBatch(batch.ctx, stream[done:done+k])...)
			order := make([]int, k)
			for j := range order {
				order[j] = done + j
			}
			slices.SortStableFunc(order, func(i, j int) int {
				if c := stream[i].At.Compare(stream[j].At); c != 0 {
					return c
				}
				return strings.Compare(stream[i].ID, stream[j].ID)
			})
			for _, i := range order {
				r, err := one.e.Record(one.ctx, stream[i])
				want[i] = billing.BatchResult{Receipt: r, Err: err}
			}
			done += k
		}
		for i := range stream {
			if diff := cmp.Diff(want[i].Receipt, got[i].Receipt, cmpOpts); diff != "" || sentinel(want[i].Err) != sentinel(got[i].Err) {
				rt.Fatalf("usage %d %+v: one by one %v, batch %v; receipts (-one +batch):\n%s", i, stream[i], want[i].Err, got[i].Err, diff)
			}
		}
		for _, a := range accounts[:3] {
			// Fewer units of work in a batch, and one replay for its late
			// usages where one by one makes one each: other ledger entries,
			// with the same totals.
			if diff := cmp.Diff(one.state(a, march(15)), batch.state(a, march(15)), cmpOpts, ignoreLedgerEntries); diff != "" {
				rt.Fatalf("account %s (-one by one +batch):\n%s", a, diff)
			}
		}
	})
}

// TestRecordBatchOrder records the same usages, with distinct ids, in
// random orders, each in one batch: the order of a batch must not change
// any receipt or the accounts' states.
func TestRecordBatchOrder(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 40).Draw(rt, "usages")
		stream := make([]billing.Usage, n)
		for i := range stream {
			tier := rapid.SampledFrom([]billing.Tier{audio, sd, hd, fhd}).Draw(rt, "tier")
			// Few distinct instants, so that equal times are ordered by id.
			u := *usage(fmt.Sprintf("u%d", i), tier, rapid.Int64Range(1, 200_000).Draw(rt, "seconds"),
				at(15, rapid.IntRange(8, 19).Draw(rt, "hour"), 0, 0))
			u.Account = rapid.SampledFrom([]string{"trial", "armed", "postpaid"}).Draw(rt, "account")
			if rapid.IntRange(0, 4).Draw(rt, "value-added") == 0 {
				u.Service, u.Scenario = recording, ""
			}
			stream[i] = u
		}
		shuffled := rapid.Permutation(stream).Draw(rt, "order")
		var results [2]map[string]billing.BatchResult
		var states [2]map[string]state
		for k, us := range [][]billing.Usage{stream, shuffled} {
			h := newHarness(rt, smallTrialMonthly())
			batchSetup(h)
			results[k], states[k] = map[string]billing.BatchResult{}, map[string]state{}
			for i, r := range h.e.RecordBatch(h.ctx, us) {
				results[k][us[i].ID] = r
			}
			for _, a := range []string{"trial", "armed", "postpaid"} {
				states[k][a] = h.state(a, march(15))
			}
		}
		if diff := cmp.Diff(results[0], results[1], cmpOpts); diff != "" {
			rt.Fatalf("results by usage id (-given order +shuffled):\n%s", diff)
		}
		if diff := cmp.Diff(states[0], states[1], cmpOpts); diff != "" {
			rt.Fatalf("states (-given order +shuffled):\n%s", diff)
		}
	})
}

func TestRecordBatchResults(t *testing.T) {
	h := newHarness(t)
	h.do(open(at(15, 8, 0, 0), false))
	h.clock.Set(at(15, 10, 0, 0))
	res := h.e.RecordBatch(h.ctx, []billing.Usage{
		*usage("u1", hd, 61, at(15, 9, 0, 0)), // 2 minutes from the trial
		*usage("u2", hd, 0, at(15, 9, 0, 0)),  // bad: zero seconds
		*usage("u1", hd, 61, at(15, 9, 0, 0)), // a replay of u1, in the same batch
		*usage("u1", sd, 61, at(15, 9, 0, 0)), // u1 reused
		{ID: "x", Account: "b", App: "app1", Scenario: billing.AudioCall, Tier: audio, Seconds: 1, At: at(15, 9, 0, 0)}, // no account b
		*usage("u3", hd, 59, at(15, 9, 0, 0)), // ceil(120/60) - 2 = 0
	})
	r1 := billing.Receipt{Key: basic(march(15), hd), Minutes: 2, Draws: []billing.Draw{{Package: "trial", Minutes: 2, Deducted: 2}}}
	want := []billing.BatchResult{
		{Receipt: r1},
		{Err: billing.ErrInvalidSeconds},
		{Receipt: r1},
		{Err: billing.ErrIdempotencyConflict},
		{Err: billing.ErrNotFound},
		{Receipt: billing.Receipt{Key: basic(march(15), hd)}},
	}
	if diff := cmp.Diff(want, res, cmpOpts); diff != "" {
		t.Errorf("RecordBatch() (-want +got):\n%s", diff)
	}
	for _, r := range res {
		var be *billing.Error
		if r.Err != nil && !errors.As(r.Err, &be) {
			t.Errorf("result error %v is not a *billing.Error", r.Err)
		}
	}
	if got := h.balances("a")["trial"]; got != 9998 {
		t.Errorf("trial balance = %d, want 10,000 - 2 = 9,998", got)
	}
}

// TestRecordBatchRefusedLeavesNoTrace checks that a usage refused inside a
// batch changes nothing the rest of the batch commits: here a late usage
// refused because its package's book is unknown to this Engine must not
// list its meter for adjustments.
func TestRecordBatchRefusedLeavesNoTrace(t *testing.T) {
	h := newHarness(t)
	h.do(open(at(15, 8, 0, 0), true), use("u0", audio, 60, at(15, 9, 0, 0)))
	h.clock.Set(at(16, 10, 0, 0))
	if _, err := h.e.Settle(h.ctx, "a", march(15)); err != nil {
		t.Fatal(err)
	}
	other := billing.Era1USD()
	other.ID = "era1-usd-other" // the trial was granted under "era1-usd"
	e, err := billing.New(h.store, &billing.Options{Now: h.clock.Now, PriceBooks: []billing.PriceBook{other}})
	if err != nil {
		t.Fatal(err)
	}
	res := e.RecordBatch(h.ctx, []billing.Usage{
		*usage("late", hd, 60, at(15, 22, 0, 0)),            // refused: the trial's book is unknown
		*vaUsage("rec", recording, hd, 60, at(16, 9, 0, 0)), // recorded
	})
	if !errors.Is(res[0].Err, billing.ErrNoPriceBook) || res[1].Err != nil {
		t.Fatalf("RecordBatch() = %+v; want the late usage refused and the recording recorded", res)
	}
	if late := h.account("a").Late; len(late) != 0 {
		t.Errorf("Late = %v after the late usage was refused, want none", late)
	}
}
