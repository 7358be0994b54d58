package billing_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/memstore"
	"pgregory.net/rapid"
)

// errInjected is the failure a faultyStore injects.
var errInjected = errors.New("injected fault")

// fault is where a faultyStore fails a unit of work.
type fault int

const (
	noFault        fault = iota
	failBefore           // Update fails before running fn
	failRead             // a read inside the unit of work fails
	failCommit           // fn succeeds, the commit fails: nothing is stored
	failAfter            // the commit succeeds, but Update reports a failure (a lost reply)
	conflict             // the commit is refused as a concurrent update (the Engine retries)
	cancelled            // the context is cancelled before the commit
	cancelledAfter       // the commit succeeds, then the context error is reported
	faults
)

// faultyStore wraps a Store and fails its units of work as next says.
type faultyStore struct {
	billing.Store
	next     func() fault
	injected int
}

func (s *faultyStore) Update(ctx context.Context, id string, fn func(billing.Reader) (billing.Changes, error)) error {
	f := s.next()
	if f != noFault {
		s.injected++
	}
	switch f {
	case failBefore:
		return errInjected
	case conflict:
		return fmt.Errorf("faulty store: %w", billing.ErrConflict)
	}
	err := s.Store.Update(ctx, id, func(r billing.Reader) (billing.Changes, error) {
		if f == failRead {
			r = failingReader{r}
		}
		ch, err := fn(r)
		if err != nil {
			return billing.Changes{}, err
		}
		switch f {
		case failCommit:
			return billing.Changes{}, errInjected
		case cancelled:
			return billing.Changes{}, context.Canceled
		}
		return ch, nil
	})
	if err == nil {
		switch f {
		case failAfter:
			return errInjected
		case cancelledAfter:
			return context.Canceled
		}
	}
	return err
}

// failingReader fails every read but Account (which the Engine reads first).
type failingReader struct{ billing.Reader }

func (failingReader) Usage(string) (billing.UsageRecord, error) {
	return billing.UsageRecord{}, errInjected
}
func (failingReader) Purchase(string) (billing.PurchaseRecord, error) {
	return billing.PurchaseRecord{}, errInjected
}
func (failingReader) Meter(billing.MeterKey) (billing.Meter, error) {
	return billing.Meter{}, errInjected
}
func (failingReader) LivePackages(func(billing.Package) bool) error { return errInjected }
func (failingReader) Bill(billing.Day) (billing.Bill, error)        { return billing.Bill{}, errInjected }
func (failingReader) Meters(billing.Day, func(billing.Meter) bool) error {
	return errInjected
}
func (failingReader) Days(billing.Day, billing.Day, func(billing.Day) bool) error { return errInjected }

// injected reports whether err is (or wraps) a failure the store made up,
// which a host answers by retrying the same request.
func injected(err error) bool {
	return errors.Is(err, errInjected) || errors.Is(err, context.Canceled) || errors.Is(err, billing.ErrConflict)
}

// TestFaults runs random operation sequences twice, on a plain store and
// on a store that fails units of work at random points (before, during
// reads, at commit, after commit, conflicts, cancellation), the host
// retrying each failed request with the same ids. Every result and the
// final state must be those of the fault-free run: nothing lost, nothing
// doubled.
func TestFaults(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		clean := newHarness(rt, smallTrialMonthly())
		faulty := newHarness(rt, smallTrialMonthly())
		fs := &faultyStore{Store: faulty.store, next: func() fault {
			if rapid.IntRange(0, 2).Draw(rt, "faulty") > 0 {
				return noFault
			}
			return fault(rapid.IntRange(1, int(faults)-1).Draw(rt, "fault"))
		}}
		var err error
		if faulty.e, err = billing.New(fs, &billing.Options{Now: faulty.clock.Now, PriceBooks: []billing.PriceBook{smallTrialMonthly()}}); err != nil {
			rt.Fatal(err)
		}
		accounts := []string{"a", "b"}
		for _, h := range []*harness{clean, faulty} {
			h.clock.Set(at(15, 8, 0, 0))
		}
		n := 0
		steps := rapid.IntRange(1, 40).Draw(rt, "steps")
		for range steps {
			a := rapid.SampledFrom(accounts).Draw(rt, "account")
			n++
			var do func(h *harness) (any, error)
			switch rapid.IntRange(0, 7).Draw(rt, "op") {
			case 0:
				postpaid := rapid.Bool().Draw(rt, "postpaid")
				do = func(h *harness) (any, error) {
					return h.e.OpenAccount(h.ctx, billing.AccountSpec{ID: a, Postpaid: postpaid, App: "app1"})
				}
			case 1:
				p := billing.Purchase{ID: fmt.Sprint("p", n), Account: a, Kind: "monthly", Minutes: rapid.Int64Range(1, 300).Draw(rt, "minutes")}
				do = func(h *harness) (any, error) { return h.e.Buy(h.ctx, p) }
			case 2, 3:
				now := clean.clock.Now()
				u := *usage(fmt.Sprint("u", n), rapid.SampledFrom([]billing.Tier{audio, sd, hd, fhd}).Draw(rt, "tier"),
					rapid.Int64Range(1, 30_000).Draw(rt, "seconds"), now.Add(-time.Duration(rapid.Int64Range(0, int64(30*time.Hour)).Draw(rt, "ago"))))
				u.Account = a
				if rapid.IntRange(0, 3).Draw(rt, "value-added") == 0 {
					u.Service, u.Scenario = recording, ""
				}
				do = func(h *harness) (any, error) { return h.e.Record(h.ctx, u) }
			case 4:
				var us []billing.Usage
				for i := range rapid.IntRange(1, 5).Draw(rt, "batch") {
					u := *usage(fmt.Sprint("u", n, "-", i), audio, rapid.Int64Range(1, 3000).Draw(rt, "seconds"), clean.clock.Now())
					u.Account = rapid.SampledFrom(accounts).Draw(rt, "account")
					us = append(us, u)
				}
				do = func(h *harness) (any, error) { return batchRetry(h, us), nil }
			case 5:
				do = func(h *harness) (any, error) { return h.e.EnablePostpaid(h.ctx, a, "") }
			case 6:
				// Settle each due day, each a request of its own (DueDays
				// reads; retrying a settled day returns its bill).
				due, err := clean.e.DueDays(clean.ctx, a, clean.clock.Now())
				if err != nil && !errors.Is(err, billing.ErrNotFound) {
					rt.Fatal(err)
				}
				for _, d := range due {
					want, wantErr := clean.e.Settle(clean.ctx, a, d)
					got, gotErr := retry(func(h *harness) (any, error) { return h.e.Settle(h.ctx, a, d) }, faulty)
					if wantErr != nil || gotErr != nil || !cmp.Equal(want, got, cmpOpts) {
						rt.Fatalf("step %d: Settle(%s) = %+v, %v; fault-free %+v, %v", n, d, got, gotErr, want, wantErr)
					}
				}
				continue
			case 7:
				by := rapid.SampledFrom([]time.Duration{time.Hour, 20 * time.Hour, 40 * 24 * time.Hour, 400 * 24 * time.Hour}).Draw(rt, "advance")
				for _, h := range []*harness{clean, faulty} {
					h.clock.Set(h.clock.Now().Add(by))
				}
				continue
			}
			want, wantErr := do(clean)
			got, gotErr := retry(do, faulty)
			want, got = sentinels(want), sentinels(got)
			if sentinel(wantErr) != sentinel(gotErr) {
				rt.Fatalf("step %d: error %v, fault-free %v", n, gotErr, wantErr)
			}
			if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
				rt.Fatalf("step %d: result (-fault-free +with faults):\n%s", n, diff)
			}
		}
		// The faulty store's records, read without faults.
		plain := *faulty
		if plain.e, err = billing.New(faulty.store, &billing.Options{Now: faulty.clock.Now, PriceBooks: []billing.PriceBook{smallTrialMonthly()}}); err != nil {
			rt.Fatal(err)
		}
		for _, a := range accounts {
			if _, err := clean.e.Overview(clean.ctx, a); errors.Is(err, billing.ErrNotFound) {
				continue
			}
			want := clean.state(a, march(14), march(15), march(16))
			got := plain.state(a, march(14), march(15), march(16))
			ignore := cmpopts.IgnoreFields(billing.Account{}, "Version") // a lost reply costs a replay, not a unit of work
			if diff := cmp.Diff(want, got, cmpOpts, ignore); diff != "" {
				rt.Fatalf("account %s (-fault-free +with faults):\n%s", a, diff)
			}
		}
		if fs.injected == 0 && steps > 10 {
			rt.Logf("no fault injected in %d steps", steps)
		}
	})
}

// sentinels replaces the errors of batch results with the sentinels they
// wrap, for comparison.
func sentinels(v any) any {
	rs, ok := v.([]billing.BatchResult)
	if !ok {
		return v
	}
	out := make([]billing.BatchResult, len(rs))
	for i, r := range rs {
		out[i] = billing.BatchResult{Receipt: r.Receipt}
		if r.Err != nil {
			out[i].Err = sentinel(r.Err)
		}
	}
	return out
}

// retry repeats a request while the store made the failure up.
func retry(do func(*harness) (any, error), h *harness) (any, error) {
	for {
		v, err := do(h)
		if !injected(err) {
			return v, err
		}
	}
}

// batchRetry records a batch, then again the usages whose account's unit of
// work the store failed, until none is failed.
func batchRetry(h *harness, us []billing.Usage) []billing.BatchResult {
	res := h.e.RecordBatch(h.ctx, us)
	for {
		var again []billing.Usage
		var at []int
		for i, r := range res {
			if injected(r.Err) {
				again, at = append(again, us[i]), append(at, i)
			}
		}
		if len(again) == 0 {
			return res
		}
		for j, r := range h.e.RecordBatch(h.ctx, again) {
			res[at[j]] = r
		}
	}
}

// recordedOnce opens an account with postpaid on (on the 15th at 08:00) on
// store, sets the clock to 12:00 and records u1, 61 seconds of HD at 09:00;
// it returns u1 and its receipt.
func recordedOnce(t *testing.T, store billing.Store) (*harness, billing.Usage, billing.Receipt) {
	t.Helper()
	h := newHarnessOn(t, store)
	h.do(open(at(15, 8, 0, 0), true))
	h.clock.Set(at(15, 12, 0, 0))
	u1 := *usage("u1", hd, 61, at(15, 9, 0, 0))
	first, err := h.e.Record(h.ctx, u1)
	if err != nil {
		t.Fatal(err)
	}
	return h, u1, first
}

// TestRecordAfterConflicts checks Record when the Store refuses every
// attempt but the Engine's last (100) as a conflict, before running it:
// that attempt, which has no retry behind it, must still answer a replay
// with the first receipt and another usage under the same id with
// ErrIdempotencyConflict, and one conflict more must come back as the
// conflict.
func TestRecordAfterConflicts(t *testing.T) {
	conflicts := 0
	fs := &faultyStore{Store: memstore.New(), next: func() fault {
		if conflicts > 0 {
			conflicts--
			return conflict
		}
		return noFault
	}}
	h, u1, first := recordedOnce(t, fs)

	conflicts = 99
	if got, err := h.e.Record(h.ctx, u1); err != nil || !cmp.Equal(got, first) {
		t.Errorf("replay on the last attempt = %+v, %v; want %+v, nil", got, err, first)
	}
	conflicts = 99
	other := *usage("u1", hd, 62, at(15, 9, 0, 0)) // u1's id, another request
	if _, err := h.e.Record(h.ctx, other); !errors.Is(err, billing.ErrIdempotencyConflict) {
		t.Errorf("another usage under u1's id on the last attempt: %v, want ErrIdempotencyConflict", err)
	}
	conflicts = 100
	if _, err := h.e.Record(h.ctx, *usage("u3", hd, 61, at(15, 10, 0, 0))); !errors.Is(err, billing.ErrConflict) {
		t.Errorf("100 conflicts: %v, want ErrConflict", err)
	}
	if fs.injected != 298 {
		t.Errorf("%d conflicts injected, want 99 + 99 + 100 = 298", fs.injected)
	}
}

// TestRefusedUsageTakesOneUnit checks that a usage Record refuses costs one
// unit of work, which writes nothing.
func TestRefusedUsageTakesOneUnit(t *testing.T) {
	updates := 0
	fs := &faultyStore{Store: memstore.New(), next: func() fault { updates++; return noFault }}
	h := newHarnessOn(t, fs)
	h.do(open(at(15, 8, 0, 0), false))
	h.clock.Set(at(15, 12, 0, 0))
	before := h.account("a")
	updates = 0
	refused := []billing.Usage{*usage("u1", hd, 61, at(15, 13, 0, 0)), *usage("u2", "4k", 61, at(15, 9, 0, 0))}
	for _, u := range refused {
		if _, err := h.e.Record(h.ctx, u); err == nil {
			t.Fatalf("Record(%s) accepted", u.ID)
		}
	}
	if updates != len(refused) {
		t.Errorf("%d units of work for %d refused usages", updates, len(refused))
	}
	if after := h.account("a"); after.Version != before.Version {
		t.Errorf("version %d after refused usage, want %d", after.Version, before.Version)
	}
}

// lookupReader counts the usage ids a unit of work looks up, and fails its
// reads as its fields say.
type lookupReader struct {
	billing.Reader
	lookups  *int
	meterErr error // returned by Meter, if set
	usageErr error // returned by Usage, if set
}

func (r lookupReader) Usage(id string) (billing.UsageRecord, error) {
	*r.lookups++
	if r.usageErr != nil {
		return billing.UsageRecord{}, r.usageErr
	}
	return r.Reader.Usage(id)
}

func (r lookupReader) Meter(k billing.MeterKey) (billing.Meter, error) {
	if r.meterErr != nil {
		return billing.Meter{}, r.meterErr
	}
	return r.Reader.Meter(k)
}

// TestRecordLookups checks that Record looks a usage id up once, before
// anything else, and what it returns when a read fails: the Store's error,
// never a refusal the lookup could have overturned.
func TestRecordLookups(t *testing.T) {
	errAborted := errors.New("transaction aborted") // a Store failing every read after one failed
	var lookups int
	var meterErr, usageErr error
	h, u1, first := recordedOnce(t, wrapStore{Store: memstore.New(), wrap: func(r billing.Reader) billing.Reader {
		return lookupReader{Reader: r, lookups: &lookups, meterErr: meterErr, usageErr: usageErr}
	}})
	for _, c := range []struct {
		name          string
		u             billing.Usage
		meter, lookup error // the reads' failures
		want          error // nil: recorded, or replayed with first's receipt if u's id is u1
	}{
		{name: "new", u: *usage("u2", hd, 61, at(15, 10, 0, 0))},
		{name: "replay", u: u1},
		{name: "another usage under the id", u: *usage("u1", hd, 62, at(15, 9, 0, 0)), want: billing.ErrIdempotencyConflict},
		{name: "refused", u: *usage("u3", hd, 61, at(15, 13, 0, 0)), want: billing.ErrFutureUsage},
		{name: "another usage under the id, refused", u: *usage("u1", hd, 61, at(15, 13, 0, 0)), want: billing.ErrIdempotencyConflict},
		{name: "meter read fails", u: *usage("u4", hd, 61, at(15, 10, 0, 0)), meter: errInjected, want: errInjected},
		{name: "refused, lookup fails", u: *usage("u5", hd, 61, at(15, 13, 0, 0)), lookup: errAborted, want: errAborted},
	} {
		lookups, meterErr, usageErr = 0, c.meter, c.lookup
		got, err := h.e.Record(h.ctx, c.u)
		if c.want != nil {
			if !errors.Is(err, c.want) {
				t.Errorf("%s: Record error %v, want %v", c.name, err, c.want)
			}
		} else if err != nil || c.u.ID == u1.ID && !cmp.Equal(got, first) {
			t.Errorf("%s: Record = %+v, %v; want the first receipt", c.name, got, err)
		}
		if lookups != 1 {
			t.Errorf("%s: %d lookups, want 1", c.name, lookups)
		}
	}
}
