package billing

import (
	"context"
	"fmt"
	"time"
)

// Admission is [Engine.Admit]'s answer: whether a new session may start.
type Admission struct {
	// Admitted reports whether a new session of the service may start.
	Admitted bool
	// Reason says why not (nil if admitted): an error wrapping
	// ErrSuspended if the account is suspended for arrears at the instant
	// asked (it also wraps ErrInArrears); else ErrAppDisabled if the host
	// had disabled the application then; else ErrSuspended if the
	// application is suspended then (at or after its Status.Since) (for a
	// value-added service each also wraps ErrNoBasicService); else
	// ErrNoBasicService if nothing could pay for basic usage of the
	// application then: no package valid at that instant has a minute's
	// worth left now (or will have, from a recurring grant due but not yet
	// made), the application's postpaid is off, and no universal package
	// was bought (which would turn it on automatically).
	Reason error
}

// Admit answers whether a new session of service ("" for basic service)
// of the account's application app may start at instant at. A value-added
// service (cloud recording, MixTranscoding) needs a basic service to go
// with it, so both get the same answer.
//
// An account in arrears is refused new sessions (ErrInArrears) from 24
// hours after it was reported overdue until the payment is reported; usage
// of sessions already running is billed all the same (Receipt.InArrears).
//
// Admit only reads. It answers from what has been reported so far, with
// today's balances even for an instant in the past: a usage reported later,
// with an earlier time, can change the answer for the past (a suspension
// found after the fact). Record never refuses usage because of
// the answer: usage is a fact, and is recorded and billed whatever Admit
// said (see Receipt.WhileSuspended, Receipt.AppDisabled and
// Receipt.NoBasicService).
//
// Errors wrap ErrInvalidID, ErrInvalidTime (the zero time, a day outside
// MinDay..MaxDay, or the clock), ErrNotFound, ErrUnknownApp,
// ErrBeforeOpened (before the opening or the application's creation),
// ErrNoPriceBook, ErrUnknownService, ErrCorrupt, or a Store or context
// error.
func (e *Engine) Admit(ctx context.Context, account, app string, service Service, at time.Time) (Admission, error) {
	fail := func(err error) (Admission, error) {
		return Admission{}, &Error{Op: "Admit", Account: account, Err: err}
	}
	if service == "" {
		service = ServiceBasic
	}
	if at.IsZero() {
		return fail(fmt.Errorf("%w: the instant asked about is the zero time", ErrInvalidTime))
	}
	d, err := e.cal.checked(at)
	if err != nil {
		return fail(err)
	}
	var why error
	err = e.view(ctx, "Admit", account, func(r Reader, a *Account) error {
		i, err := a.appAt(app, at, e.cal.loc)
		if err != nil {
			return err
		}
		book, err := e.bookFor(a, d)
		if err != nil {
			return err
		}
		if service != ServiceBasic {
			if _, err := book.valueAddedFor(service, a.Cohort(), a.Apps[i].Created); err != nil {
				return cause(err)
			}
		}
		now, err := e.clock(a)
		if err != nil {
			return err
		}
		why, err = e.basicService(r, a, i, now, at, service)
		return err
	})
	if err != nil {
		return Admission{}, err
	}
	return Admission{Admitted: why == nil, Reason: public(why)}, nil
}

// basicService returns why basic service is not available to account a at
// instant at, as seen at now, or nil if it is (see Admission.Reason; service
// only decides which errors the reason wraps). err reports a failure to
// read.
func (e *Engine) basicService(r Reader, a *Account, app int, now, at time.Time, service Service) (why, err error) {
	p := &a.Apps[app]
	// A recurring grant due but not yet made would lift the suspension
	// and pay (see grantAll).
	pending := e.pendingGrant(a, now, at)
	switch ar := a.inArrears(at); {
	case ar != nil:
		why = fmt.Errorf("%w since %s: %w", ErrSuspended, ar.Suspended().In(e.cal.loc).Format(time.RFC3339), ErrInArrears)
	case p.disabled(at):
		why = fmt.Errorf("%w: application %q", ErrAppDisabled, p.ID)
	case p.Status.Suspended && !at.Before(p.Status.Since) && !pending:
		why = fmt.Errorf("%w: application %q since %s", ErrSuspended, p.ID, p.Status.Since.In(e.cal.loc).Format(time.RFC3339))
	}
	switch {
	case why != nil && service != ServiceBasic:
		return fmt.Errorf("%w: %w", ErrNoBasicService, why), nil
	case why != nil:
		return why, nil
	case p.Postpaid.On || a.AutoPostpaidArmed || pending:
		return nil, nil // postpaid pays (or will, as it goes on automatically), or the grant will
	}
	payable := false
	walkErr := r.LivePackages(func(p Package) bool {
		if e.forfeitable(&p, a, now) || !a.covers(&p, at) || !p.forApp(a.Apps[app].ID) {
			return true
		}
		var kind *PackageKind
		if kind, err = e.kindOf(&p); err != nil {
			return false
		}
		r := kind.smallestRatio() // 0 for a kind that covers no basic tier
		payable = r > 0 && p.Balance >= r
		return !payable
	})
	switch {
	case err != nil:
		return nil, err
	case walkErr != nil:
		return nil, walkErr
	case !payable:
		return fmt.Errorf("%w: no package valid at %s has minutes left now, and the postpaid of application %q is off",
			ErrNoBasicService, at.In(e.cal.loc).Format(time.RFC3339), p.ID), nil
	}
	return nil, nil
}
