package billing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Accounts returns the ids of up to limit accounts whose id is after after
// in byte order, ascending ("" starts at the first): one page of the
// Store's accounts. An empty page means there are no more.
//
// Errors wrap ErrInvalidOptions (limit not positive), errors.ErrUnsupported
// (the Store does not implement AccountLister), or a Store or context error.
func (e *Engine) Accounts(ctx context.Context, after string, limit int) ([]string, error) {
	fail := func(err error) ([]string, error) { return nil, &Error{Op: "Accounts", Err: err} }
	if limit <= 0 {
		return fail(fmt.Errorf("%w: limit %d is not positive", ErrInvalidOptions, limit))
	}
	l, ok := e.store.(AccountLister)
	if !ok {
		return fail(fmt.Errorf("the Store %T does not list its accounts (billing.AccountLister): %w", e.store, errors.ErrUnsupported))
	}
	start := e.started()
	ids, err := l.Accounts(ctx, after, limit)
	e.observeRead(ctx, "Accounts", "", start, err)
	if err != nil {
		return fail(err)
	}
	return ids, nil
}

// SettleOptions configures Engine.SettleDue. A nil *SettleOptions, and
// every zero field, means the documented default.
type SettleOptions struct {
	// After resumes an interrupted run: only the accounts whose id is
	// after it are settled (SettleProgress.Through of the last progress
	// report). Default "": every account.
	After string
	// Workers is how many accounts are settled at once. Default (zero): 4;
	// at most 256.
	Workers int
	// Progress, if not nil, is called once per account, when the account
	// is finished, from the goroutine that called SettleDue (one call at
	// a time).
	Progress func(SettleProgress)
}

// SettleProgress reports one account of a SettleDue run.
type SettleProgress struct {
	// Account is the account finished.
	Account string
	// Bills are the bills its due days got, in order (a day settled
	// before, by another run, gives its bill again).
	Bills []Bill
	// Err is why the account stopped short, nil if every due day was
	// settled; its remaining due days wait for the next run.
	Err error
	// Done is how many accounts this run has finished so far.
	Done int
	// Through is the greatest account id up to which every account is
	// finished: SettleOptions.After resumes the run from there.
	Through string
}

// SettleSummary is what a SettleDue run did.
type SettleSummary struct {
	// Accounts is how many accounts were looked at; Bills how many
	// bills their due days got; Failed how many accounts stopped short.
	Accounts, Bills, Failed int
	// Through is the greatest account id up to which every account is
	// finished (SettleOptions.After, to resume a run that was stopped).
	Through string
}

// SettleOptions.Workers' default and maximum.
const (
	settleWorkers    = 4
	maxSettleWorkers = 256
)

// settlePage is how many account ids SettleDue reads at a time.
const settlePage = 1000

// SettleDue settles every due period of every account (see
// [Engine.DueDays]: the periods that ended Options.DueAfter before now),
// in order within each account, accounts in parallel (SettleOptions.Workers).
// It is idempotent and resumable: settling a settled day returns its bill
// and changes nothing, so a run stopped at any point, run again, settles what
// is left (SettleOptions.After skips the accounts a run finished). An
// account that fails (a Store error, say) is reported and counted, and the
// run goes on with the others. now is normally the Engine's clock: a period
// due at now but not yet ended by the Engine's clock fails with
// ErrDayNotEnded.
//
// It returns an error if any account failed (wrapping the first failure),
// if the Store cannot list accounts (errors.ErrUnsupported: see
// AccountLister), or if ctx is done (wrapping ctx.Err()); the summary says
// what was done up to then. If there is an error, it is of type *Error.
func (e *Engine) SettleDue(ctx context.Context, now time.Time, opts *SettleOptions) (SettleSummary, error) {
	var o SettleOptions
	if opts != nil {
		o = *opts
	}
	if o.Workers <= 0 {
		o.Workers = settleWorkers
	}
	o.Workers = min(o.Workers, maxSettleWorkers)
	type job struct {
		n  int // the account's place in the run
		id string
	}
	type result struct {
		job
		bills []Bill
		err   error
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs, results := make(chan job), make(chan result)
	listed := make(chan error, 1)
	go func() { // lists the accounts, in order
		defer close(jobs)
		n, after := 0, o.After
		for {
			ids, err := e.Accounts(ctx, after, settlePage)
			if err != nil {
				listed <- err
				return
			}
			for _, id := range ids {
				select {
				case jobs <- job{n, id}:
					n++
				case <-ctx.Done():
					listed <- nil
					return
				}
			}
			if len(ids) == 0 { // not a short page: a Store may cap its pages
				listed <- nil
				return
			}
			after = ids[len(ids)-1]
		}
	}()
	var wg sync.WaitGroup
	for range o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				bills, err := e.settleDue(ctx, j.id, now)
				results <- result{j, bills, err}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()
	// Results arrive in any order: Through advances over the accounts
	// settled without an error and without a gap.
	sum := SettleSummary{Through: o.After}
	var first result
	settled := map[int]string{}
	next := 0
	for r := range results {
		sum.Accounts++
		sum.Bills += len(r.bills)
		if r.err != nil {
			sum.Failed++
			if first.err == nil {
				first = r
			}
		} else {
			settled[r.n] = r.id
		}
		for id, ok := settled[next]; ok; id, ok = settled[next] {
			delete(settled, next)
			sum.Through, next = id, next+1
		}
		if o.Progress != nil {
			o.Progress(SettleProgress{Account: r.id, Bills: r.bills, Err: r.err, Done: sum.Accounts, Through: sum.Through})
		}
	}
	if e.log != nil {
		e.log.LogAttrs(parent, slog.LevelInfo, "billing: due days settled", slog.Int("accounts", sum.Accounts),
			slog.Int("bills", sum.Bills), slog.Int("failed", sum.Failed), slog.String("through", sum.Through))
	}
	fail := func(err error) (SettleSummary, error) { return sum, &Error{Op: "SettleDue", Err: err} }
	switch err := <-listed; {
	case err != nil:
		return fail(err)
	case parent.Err() != nil:
		return fail(parent.Err())
	case first.err != nil:
		cause, op := first.err, "settling"
		var pe *Error
		if errors.As(cause, &pe) {
			cause, op = pe.Err, pe.Op
		}
		return fail(fmt.Errorf("%d of %d accounts failed; the first to fail, account %s in %s: %w", sum.Failed, sum.Accounts, quote(first.id), op, cause))
	}
	return sum, nil
}

// settleDue settles the due periods of account at now, in order, until one
// fails.
func (e *Engine) settleDue(ctx context.Context, account string, now time.Time) ([]Bill, error) {
	days, err := e.DueDays(ctx, account, now)
	if err != nil {
		return nil, err
	}
	var bills []Bill
	for _, d := range days {
		b, err := e.Settle(ctx, account, d)
		if err != nil {
			return bills, err
		}
		bills = append(bills, b)
	}
	return bills, nil
}
