package billing

import (
	"cmp"
	"context"
	"slices"
	"strings"
)

// BatchResult is the outcome of one usage of a batch: its receipt, or the
// error recording it alone would have returned (an [*Error]).
type BatchResult struct {
	Receipt Receipt
	Err     error
}

// RecordBatch records many usages with exactly the semantics of recording
// them one by one with [Engine.Record] in the reference order (each
// account's usages by time, then id; usages of the same time and id in the
// order given), but in one unit of work per account: one commit, and for a
// Store that implements [Prefetcher], a few round trips, whatever the number
// of usages. So the order of a batch does not change what it records,
// unless one id comes twice at the same time with different usages (which
// of them is recorded, and which refused as a reuse of the id, is then the
// order given). Recording the same usages one by one, in any order, ends in
// the same state (see the package documentation, "Event time and arrival
// order"), but a batch replays late usage at most once. It returns one
// result per usage, in the order given. A usage refused on its
// own (bad input, an id reused with another usage, ...) gets its error and
// does not stop the others; if an account's unit of work fails (a Store or
// context error, or ErrCorrupt state), every usage of that account gets the
// error and none is recorded.
// The Engine's clock is read once per account.
//
// Accounts are processed one after another; a host that wants them in
// parallel splits the batch by account and calls RecordBatch concurrently.
func (e *Engine) RecordBatch(ctx context.Context, usages []Usage) []BatchResult {
	results := make([]BatchResult, len(usages))
	us := make([]Usage, len(usages))
	copy(us, usages)
	var accounts []string
	byAccount := map[string][]int{}
	for i := range us {
		if err := us[i].check(e.cal); err != nil {
			results[i].Err = &Error{Op: "Record", Account: us[i].Account, ID: us[i].ID, Err: err}
			continue
		}
		a := us[i].Account
		if _, ok := byAccount[a]; !ok {
			accounts = append(accounts, a)
		}
		byAccount[a] = append(byAccount[a], i)
	}
	for _, a := range accounts {
		e.recordAll(ctx, a, us, byAccount[a], results)
	}
	return results
}

// recordAll records the usages us[i] of account, for i in idx, in one unit
// of work and in the reference order, and sets their results.
func (e *Engine) recordAll(ctx context.Context, account string, us []Usage, idx []int, results []BatchResult) {
	slices.SortStableFunc(idx, func(i, j int) int {
		return cmp.Or(us[i].At.Compare(us[j].At), strings.Compare(us[i].ID, us[j].ID))
	})
	fail := func(i int, err error) {
		results[i] = BatchResult{Err: &Error{Op: "Record", Account: account, ID: us[i].ID, Err: err}}
	}
	_, _, err := e.update(ctx, RequestRecord, "", account, func(u *unit) error {
		batch := make([]*Usage, len(idx))
		for j, i := range idx {
			batch[j] = &us[i]
		}
		if err := e.prefetch(u, batch...); err != nil {
			return err
		}
		// Usages in the reference order are operations in order of key:
		// those of settled days first, as their keys are the earliest.
		ops := make([]op, 0, len(idx))
		opOf := make(map[string]int, len(idx)) // usage id → the op of its first accepted usage
		opAt := make(map[int]int, len(idx))    // usage → its op, or the op of the usage it repeats
		for _, i := range idx {
			if j, ok := opOf[us[i].ID]; ok {
				if us[i].same(ops[j].usage) {
					opAt[i] = j
				} else {
					fail(i, ErrIdempotencyConflict)
				}
				continue
			}
			d := e.cal.day(us[i].At)
			old, repeated, err := e.accept(u, &us[i], d)
			switch {
			case refused(err):
				fail(i, cause(err))
			case err != nil:
				return err
			case repeated:
				results[i] = BatchResult{Receipt: old}
			default:
				opOf[us[i].ID], opAt[i] = len(ops), len(ops)
				ops = append(ops, e.usageOp(&u.a, &us[i], d))
			}
		}
		if len(ops) > 1 {
			u.r = &overlay{Reader: u.r, ch: &u.ch}
			// A usage record each, and about one ledger entry each.
			u.ch.Usages, u.ch.Entries = slices.Grow(u.ch.Usages, len(ops)), slices.Grow(u.ch.Entries, len(ops))
		}
		if err := e.place(u, ops); err != nil {
			return err
		}
		for i, j := range opAt {
			if ops[j].err != nil {
				fail(i, cause(ops[j].err))
			} else {
				results[i] = BatchResult{Receipt: ops[j].receipt}
			}
		}
		return nil
	})
	if err != nil {
		for _, i := range idx {
			fail(i, err)
		}
	}
}

// overlay gives a unit of work that records several usages at once the
// reads of what it has written so far: its meters and packages.
type overlay struct {
	Reader
	ch *Changes
}

func (o *overlay) Meter(k MeterKey) (Meter, error) {
	for _, m := range o.ch.Meters {
		if m.Key == k {
			return m, nil
		}
	}
	return o.Reader.Meter(k)
}

// Meters shows the meters of day d as written.
func (o *overlay) Meters(d Day, fn func(Meter) bool) error {
	var ms, written []Meter
	if err := o.Reader.Meters(d, func(m Meter) bool { ms = append(ms, m); return true }); err != nil {
		return err
	}
	for _, m := range o.ch.Meters {
		if m.Key.Day == d {
			written = append(written, m)
		}
	}
	showDay(ms, written, fn)
	return nil
}

// LivePackages shows the packages as written, and not those written spent.
// A package is written only after it was read, so the order stays the
// Store's: draws and forfeits change balances, never validity.
func (o *overlay) LivePackages(fn func(Package) bool) error {
	return o.Reader.LivePackages(func(p Package) bool {
		for _, q := range o.ch.Packages {
			if q.ID == p.ID {
				if q.Balance <= 0 {
					return true
				}
				p = q
				break
			}
		}
		return fn(p)
	})
}
