package billing

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// The periods of arrears (domain reference §3.5): an account reported
// overdue has ArrearsGrace to pay before it is suspended for arrears, and
// its packages are reclaimed once that suspension has lasted
// ArrearsReclaim.
const (
	ArrearsGrace   = 24 * time.Hour
	ArrearsReclaim = 60 * 24 * time.Hour
)

// Arrears is one time an account was overdue: from the host's report of
// it ([Engine.ReportOverdue]) to the report that it is paid
// ([Engine.ReportPaid]).
type Arrears struct {
	// Refs are the references the host reported the arrears under (its
	// overdue bills, say), in the order reported: each is reported once.
	Refs []string `json:"refs"`
	// Since is the Engine's time of the first report. The account is
	// suspended for arrears from Since + ArrearsGrace until Paid.
	Since time.Time `json:"since"`
	// Paid is the Engine's time of the report that it is paid (zero while
	// unpaid).
	Paid time.Time `json:"paid"`
	// Reclaim is when the account's packages are reclaimed if the arrears
	// are not paid before it: the start of the first billing day that
	// begins once the suspension has lasted ArrearsReclaim. A package
	// bought before it covers no usage from then on, and its balance is
	// forfeited as at expiry.
	Reclaim time.Time `json:"reclaim"`
}

// Suspended returns when the suspension for the arrears begins:
// ArrearsGrace after they were reported.
func (a *Arrears) Suspended() time.Time { return a.Since.Add(ArrearsGrace) }

// suspends reports whether the arrears suspend the account at instant t.
func (a *Arrears) suspends(t time.Time) bool {
	return !t.Before(a.Suspended()) && (a.Paid.IsZero() || t.Before(a.Paid))
}

// reclaims reports whether the arrears reclaim the packages bought before
// their Reclaim instant: they were not paid before it.
func (a *Arrears) reclaims() bool { return a.Paid.IsZero() || !a.Paid.Before(a.Reclaim) }

// consistent reports whether a is arrears the Engine could have written:
// references, paid after reported, reclaiming at the start of a day within
// two days of ArrearsReclaim into the suspension (a day is at most 25 hours).
func (a *Arrears) consistent() bool {
	x := a.Suspended().Add(ArrearsReclaim)
	return len(a.Refs) > 0 && !slices.ContainsFunc(a.Refs, func(r string) bool { return !validID(r) }) &&
		!a.Since.IsZero() && (a.Paid.IsZero() || !a.Paid.Before(a.Since)) &&
		!a.Reclaim.Before(x) && a.Reclaim.Before(x.Add(48*time.Hour))
}

// arrearsConsistent reports whether as are an account's arrears as the
// Engine writes them: each consistent, in order, all paid but the last.
func arrearsConsistent(as []Arrears) bool {
	for i := range as {
		if !as[i].consistent() || i > 0 && (as[i-1].Paid.IsZero() || as[i].Since.Before(as[i-1].Paid)) {
			return false
		}
	}
	return true
}

// inArrears returns the arrears that suspend account a at instant t, as
// reported so far, or nil.
func (a *Account) inArrears(t time.Time) *Arrears {
	for i := range a.Arrears {
		if a.Arrears[i].suspends(t) {
			return &a.Arrears[i]
		}
	}
	return nil
}

// owing returns the account's unpaid arrears, or nil.
func (a *Account) owing() *Arrears {
	if n := len(a.Arrears); n > 0 && a.Arrears[n-1].Paid.IsZero() {
		return &a.Arrears[n-1]
	}
	return nil
}

// end returns when package p of account a stops covering usage: its End,
// or the Reclaim instant of arrears that reclaim it (bought before that
// instant, not paid before it), if earlier. While the instant has not
// come, arrears unpaid now may still be paid before it; but usage after it
// cannot be recorded before the clock passes it, by when such a payment
// would be known, so the order reports arrive in changes nothing. Like
// End, the instant is the start of a billing day.
func (a *Account) end(p *Package) time.Time {
	if len(a.Arrears) == 0 { // most accounts: a call the compiler inlines
		return p.End
	}
	return a.reclaimed(p)
}

// reclaimed is end for an account with arrears.
func (a *Account) reclaimed(p *Package) time.Time {
	end := p.End
	for i := range a.Arrears {
		if ar := &a.Arrears[i]; ar.reclaims() && p.PurchasedAt.Before(ar.Reclaim) && ar.Reclaim.Before(end) {
			end = ar.Reclaim
		}
	}
	return end
}

// reclaimedBy reports whether arrears of account a had reclaimed packages
// by now: then packages may end out of their deduction order.
func (a *Account) reclaimedBy(now time.Time) bool {
	return len(a.Arrears) > 0 && a.reclaimedAt(now) // inlined for most accounts
}

// reclaimedAt is reclaimedBy for an account with arrears.
func (a *Account) reclaimedAt(now time.Time) bool {
	for i := range a.Arrears {
		if ar := &a.Arrears[i]; ar.reclaims() && !now.Before(ar.Reclaim) {
			return true
		}
	}
	return false
}

// covers reports whether package p of account a covers usage at t: from
// its Start until its end (see end).
func (a *Account) covers(p *Package, t time.Time) bool {
	return !t.Before(p.Start) && t.Before(a.end(p))
}

// ReportOverdue reports that the account is overdue (its payment is in
// arrears), under ref, the host's reference for it. Usage goes on being
// recorded and billed as before, drawn from packages or postpaid (usage is a
// fact: sessions already running keep being billed, and their usage
// receipts say so in Receipt.InArrears); but ArrearsGrace (24 hours) after
// the first report the account is suspended for arrears, even if its
// packages have balance: [Engine.Admit] admits no new session until
// [Engine.ReportPaid]. If the suspension lasts ArrearsReclaim (60 days), the
// account's packages are reclaimed at the start of the next billing day
// (Arrears.Reclaim): a package bought before then covers no usage from
// then on, and its balance is forfeited as at expiry (an EntryForfeit once
// Options.ExpiryGrace has passed and the day before is settled).
//
// Reports are at the Engine's time. A report while the account is overdue
// adds ref to its arrears; a ref already reported changes nothing, even
// after the arrears were paid, so a report can be retried safely.
//
// Errors wrap ErrInvalidID, ErrInvalidTime (the clock), ErrNotFound,
// ErrCorrupt, or a Store or context error.
func (e *Engine) ReportOverdue(ctx context.Context, account, ref string) (Account, error) {
	return e.arrears(ctx, "ReportOverdue", RequestOverdue, account, ref, func(u *unit) error {
		for i := range u.a.Arrears {
			if slices.Contains(u.a.Arrears[i].Refs, ref) {
				return nil
			}
		}
		if o := u.a.owing(); o != nil {
			o.Refs = append(o.Refs, ref)
		} else {
			ar := Arrears{Refs: []string{ref}, Since: u.now}
			ar.Reclaim = e.cal.start(e.cal.day(ar.Suspended().Add(ArrearsReclaim).Add(-1)) + 1)
			u.a.Arrears = append(u.a.Arrears, ar)
		}
		u.append(Entry{Kind: EntryOverdue})
		return nil
	})
}

// ReportPaid reports that the arrears reported under ref are paid: the
// account is back in credit, and its suspension for arrears, if it began,
// is lifted. It ends the arrears with every reference reported under them
// (the host reports the payment once the account owes nothing): those
// references stay used, and an overdue report under one of them changes
// nothing. Packages already reclaimed stay so. Reporting arrears paid again
// changes nothing; a payment reported before its overdue report is
// ErrNotFound (the host reports it again after the overdue report, or not
// at all).
//
// Errors wrap ErrInvalidID, ErrInvalidTime (the clock), ErrNotFound (no
// such account, or no arrears reported under ref), ErrCorrupt, or a Store or
// context error.
func (e *Engine) ReportPaid(ctx context.Context, account, ref string) (Account, error) {
	return e.arrears(ctx, "ReportPaid", RequestPaid, account, ref, func(u *unit) error {
		for i := range u.a.Arrears {
			ar := &u.a.Arrears[i]
			if !slices.Contains(ar.Refs, ref) {
				continue
			}
			if ar.Paid.IsZero() {
				ar.Paid = u.now
				u.append(Entry{Kind: EntryPaid})
			}
			return nil
		}
		return fmt.Errorf("arrears %q %w", ref, ErrNotFound)
	})
}

// arrears runs body, a report of arrears under ref, in a unit of work on an
// existing account.
func (e *Engine) arrears(ctx context.Context, name string, req Request, account, ref string, body func(u *unit) error) (Account, error) {
	fail := func(err error) (Account, error) {
		return Account{}, &Error{Op: name, Account: account, ID: ref, Err: err}
	}
	switch {
	case !validID(account):
		return fail(invalidID("account id", account))
	case !validID(ref):
		return fail(invalidID("arrears reference", ref))
	}
	a, _, err := e.update(ctx, req, ref, account, func(u *unit) error {
		if err := u.expire(); err != nil {
			return err
		}
		return body(u)
	})
	if err != nil {
		return fail(err)
	}
	return a, nil
}
