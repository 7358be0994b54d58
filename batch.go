package billing

import (
	"context"
	"errors"
	"slices"
)

// BatchResult is the outcome of one usage of a batch: its receipt, or the
// error recording it alone would have returned (an [*Error]).
type BatchResult struct {
	Receipt Receipt
	Err     error
}

// RecordBatch records many usages with exactly the semantics of recording
// them one by one with [Engine.Record], in order, but in one unit of work
// per account: one commit, and for a Store that implements [Prefetcher], a
// few round trips, whatever the number of usages. It returns one result per
// usage, in order. A usage refused on its own (bad input, a suspended
// account, an id reused with another usage, ...) gets its error and does not
// stop the others; if an account's unit of work fails (a Store or context
// error, or ErrCorrupt state), every usage of that account gets the error
// and none is recorded.
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
// of work, and sets their results.
func (e *Engine) recordAll(ctx context.Context, account string, us []Usage, idx []int, results []BatchResult) {
	rc := newRecorder(e)
	_, err := e.run(ctx, RequestRecord, "", account, func(u *unit) error {
		if p, ok := u.tx.(Prefetcher); ok {
			ids, keys := make([]string, len(idx)), make([]MeterKey, len(idx))
			for j, i := range idx {
				ids[j] = us[i].ID
				keys[j] = MeterKey{Day: e.cal.day(us[i].At), Service: us[i].Service, Tier: us[i].Tier}
			}
			if err := p.Prefetch(ids, keys); err != nil {
				return err
			}
		}
		var ov *overlay
		if len(idx) > 1 {
			ov = newOverlay(u.tx)
			u.tx = ov
		}
		for _, i := range idx {
			u.ref = us[i].ID
			r, err := rc.record(u, &us[i], true)
			switch {
			case err == nil:
				results[i] = BatchResult{Receipt: r}
			case refused(err):
				results[i] = BatchResult{Err: &Error{Op: "Record", Account: account, ID: us[i].ID, Err: err}}
			default:
				return err
			}
		}
		if ov != nil {
			ov.flush()
		}
		return nil
	})
	if err != nil {
		for _, i := range idx {
			results[i] = BatchResult{Err: &Error{Op: "Record", Account: account, ID: us[i].ID, Err: err}}
		}
	}
}

// refused reports whether err refuses one usage (and writes nothing), as
// opposed to failing the whole unit of work.
func refused(err error) bool {
	for _, e := range []error{
		ErrInvalidID, ErrInvalidSeconds, ErrInvalidTime, ErrIdempotencyConflict, ErrBeforeOpened,
		ErrFutureUsage, ErrNoPriceBook, ErrUnknownScenario, ErrUnknownTier, ErrTierNotInScenario,
		ErrUnknownService, ErrSuspended, ErrNoBasicService,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// overlay gives a unit of work that records several usages the reads of
// its own writes: the usages, meters and packages written so far. Meters
// and packages go to the Store once, at flush, in the order first written.
type overlay struct {
	Tx
	usages   map[string]UsageRecord
	meters   map[MeterKey]Meter
	packages map[string]Package
	keys     []MeterKey
	ids      []string
}

func newOverlay(tx Tx) *overlay {
	return &overlay{Tx: tx, usages: map[string]UsageRecord{}, meters: map[MeterKey]Meter{}, packages: map[string]Package{}}
}

func (o *overlay) Usage(id string) (UsageRecord, error) {
	if r, ok := o.usages[id]; ok {
		r.Receipt.Draws = slices.Clone(r.Receipt.Draws)
		return r, nil
	}
	return o.Tx.Usage(id)
}

func (o *overlay) Meter(k MeterKey) (Meter, error) {
	if m, ok := o.meters[k]; ok {
		return m, nil
	}
	return o.Tx.Meter(k)
}

func (o *overlay) LivePackages(fn func(Package) bool) error {
	return o.Tx.LivePackages(func(p Package) bool {
		if q, ok := o.packages[p.ID]; ok {
			if q.Balance <= 0 {
				return true
			}
			p = q
		}
		return fn(p)
	})
}

func (o *overlay) PutUsage(r UsageRecord) {
	o.usages[r.Usage.ID] = r
	o.Tx.PutUsage(r)
}

func (o *overlay) PutMeter(m Meter) {
	if _, ok := o.meters[m.Key]; !ok {
		o.keys = append(o.keys, m.Key)
	}
	o.meters[m.Key] = m
}

func (o *overlay) PutPackage(p Package) {
	if _, ok := o.packages[p.ID]; !ok {
		o.ids = append(o.ids, p.ID)
	}
	o.packages[p.ID] = p
}

// flush writes the meters and packages to the Store.
func (o *overlay) flush() {
	for _, k := range o.keys {
		o.Tx.PutMeter(o.meters[k])
	}
	for _, id := range o.ids {
		o.Tx.PutPackage(o.packages[id])
	}
}
