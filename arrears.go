package billing

import (
	"context"
	"errors"
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
	Refs []string
	// Since is the Engine's time of the first report. The account is
	// suspended for arrears from Since + ArrearsGrace until Paid.
	Since time.Time
	// Paid is the Engine's time of the report that it is paid (zero while
	// unpaid).
	Paid time.Time
	// Reclaimed reports that the account's packages were reclaimed: the
	// suspension lasted ArrearsReclaim, and the validity of every package
	// bought before then ended at that instant ([Arrears.ReclaimAt]).
	Reclaimed bool
}

// Suspended returns when the suspension for these arrears begins:
// ArrearsGrace after they were reported.
func (a *Arrears) Suspended() time.Time { return a.Since.Add(ArrearsGrace) }

// ReclaimAt returns when the account's packages are reclaimed if the
// arrears are not paid by then: ArrearsReclaim into the suspension.
func (a *Arrears) ReclaimAt() time.Time { return a.Suspended().Add(ArrearsReclaim) }

// suspends reports whether the arrears suspend the account at instant t.
func (a *Arrears) suspends(t time.Time) bool {
	return !t.Before(a.Suspended()) && (a.Paid.IsZero() || t.Before(a.Paid))
}

// consistent reports whether a is arrears the Engine could have written.
func (a *Arrears) consistent() bool {
	return len(a.Refs) > 0 && !a.Since.IsZero() && (a.Paid.IsZero() || !a.Paid.Before(a.Since)) &&
		(!a.Reclaimed || a.Paid.IsZero() || !a.Paid.Before(a.ReclaimAt()))
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

// ReportOverdue reports that the account is overdue (its payment is in
// arrears), under ref, the host's reference for it. Usage goes on being
// recorded and billed as before, drawn from packages or postpaid (usage is a
// fact: sessions already running keep being billed, and their usage
// receipts say so in Receipt.InArrears); but ArrearsGrace (24 hours) after
// the first report the account is suspended for arrears, even if its
// packages have balance: [Engine.Admit] admits no new session until
// [Engine.ReportPaid]. If the suspension lasts ArrearsReclaim (60 days), the
// account's packages are reclaimed: the validity of every package bought
// before that instant ends there, and their balance is forfeited as at
// expiry (an EntryReclaimed, then an EntryForfeit once the grace for late
// usage has passed; see Options.ExpiryGrace).
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
			u.a.Arrears = append(u.a.Arrears, Arrears{Refs: []string{ref}, Since: u.now})
		}
		u.append(Entry{Kind: EntryOverdue})
		return nil
	})
}

// ReportPaid reports that the arrears reported under ref are paid: the
// account is back in credit, and its suspension for arrears, if it began,
// is lifted. Packages already reclaimed stay so. Reporting arrears paid
// again changes nothing.
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
		return fmt.Errorf("%w: no arrears reported under %q", ErrNotFound, ref)
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

// errReclaim is the error of a unit of work that finds its account's
// packages due to be reclaimed (see cut): exec reclaims them in a unit of
// work of its own, then tries the unit again, whose reads then see them
// reclaimed.
var errReclaim = errors.New("billing: packages due to be reclaimed")

// reclaimDue reports whether the packages of account a are due to be
// reclaimed at now: unpaid arrears have reached their reclaim instant.
func reclaimDue(a *Account, now time.Time) bool {
	o := a.owing()
	return o != nil && !o.Reclaimed && !now.Before(o.ReclaimAt())
}

// reclaim reclaims the packages of the account of u (see cut) in a unit of
// work of its own, its entries under u's request.
func (e *Engine) reclaim(ctx context.Context, u *unit) error {
	r := e.newUnit(u.req, u.ref, u.account, (*unit).cut)
	defer e.done(r)
	r.reclaiming = true
	return e.exec(ctx, r)
}

// cut ends, at the reclaim instant of the account's unpaid arrears, the
// validity of every live package bought before it, if that instant has
// passed. A usage at or after the instant can only be recorded once the
// clock has passed it, after this, so every usage the packages covered is
// before it, whatever the order reports arrive in; their balance is
// forfeited as at expiry (see expire).
func (u *unit) cut() error {
	if !reclaimDue(&u.a, u.now) {
		return nil
	}
	o := u.a.owing()
	o.Reclaimed, u.dirty = true, true
	at := o.ReclaimAt()
	var cut []Package
	err := u.r.LivePackages(func(p Package) bool {
		if p.PurchasedAt.Before(at) && p.End.After(at) {
			cut = append(cut, p)
		}
		return true
	})
	for _, p := range cut {
		p.End = at
		u.append(Entry{Kind: EntryReclaimed, Package: p.ID})
		u.putPackage(p)
	}
	return err
}
