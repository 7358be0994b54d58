package billing

import (
	"errors"
	"strings"
	"time"
)

// Grant is a package given for free when an account is opened (the trial,
// PriceBook.Trial).
type Grant struct {
	Kind    string
	Minutes int64
}

// Recurring is a grant renewed every month (PriceBook.Monthly): Era 2's
// 10,000 free minutes each month, which do not roll over. Its package kind
// is one not for sale, whose Validity says how long each grant lasts:
// Validity{ToMonthEnd: true} to the end of the month, Validity{Months: 1}
// to the same day next month.
type Recurring struct {
	Kind    string
	Minutes int64
	// Anniversary grants on the day of the month the account was opened
	// (the month's last day if it is shorter) instead of on the first of
	// each month.
	Anniversary bool
}

// GrantPrefix begins the ids of the packages of recurring grants ("grant:"
// and the grant's day, "grant:2021-04-01"). Purchase ids may not begin
// with it.
const GrantPrefix = "grant:"

// The Engine makes an account's recurring grants as it works on the
// account: a unit of work that finds grants due since the last
// (Account.GrantsThrough) first makes them in a unit of work of their own. A grant's day is the first of a
// month (or, for Anniversary, the opening's day of the month) in which the
// price book of that day has a Monthly grant, and the opening's day
// itself; the grant is an operation at the start of its day (at the
// opening, on the opening's day), in the reference order like a purchase:
// it lifts suspensions and absorbs what its day left uncovered before it.
// Every operation at or after that instant comes in a unit of work that
// made the grant first, so a grant is never late.

// errGrantsDue is the error of a unit of work on an account with
// recurring grants due: exec makes them in a unit of work of their own
// (what a unit writes, it cannot read back) and tries the unit again.
var errGrantsDue = errors.New("billing: recurring grants due")

// grantsChecked returns errGrantsDue if the account of u has recurring
// grants due, and else records that it has had every grant up to the day
// of u's time (written if u writes anything).
func (e *Engine) grantsChecked(u *unit) error {
	today := e.cal.day(u.now)
	if today <= u.a.GrantsThrough {
		return nil
	}
	due := false
	if e.grants {
		e.dueGrants(&u.a, u.now, func(Package) bool { due = true; return false })
	}
	if due {
		return errGrantsDue
	}
	u.a.GrantsThrough = today
	return nil
}

// grantDue makes the account's recurring grants of the days after
// GrantsThrough up to the day of u's time.
func (e *Engine) grantDue(u *unit) error {
	var ops []op
	e.dueGrants(&u.a, u.now, func(p Package) bool {
		ops = append(ops, op{key: purchaseKey(&p), pkg: &p})
		return true
	})
	// Written with the account's next unit of work that writes: a unit
	// that writes nothing else (settling a day again) stays a read.
	u.a.GrantsThrough = e.cal.day(u.now)
	if len(ops) == 0 {
		return nil
	}
	return e.place(u, ops)
}

// dueGrants calls fn, in order until it returns false, with the package of
// each recurring grant of account a due after its GrantsThrough, up to
// the day of now.
func (e *Engine) dueGrants(a *Account, now time.Time, fn func(Package) bool) {
	today := e.cal.day(now)
	for d := max(a.GrantsThrough, e.cal.day(a.Opened)-1) + 1; d <= today; d++ {
		if p, ok := e.grantOn(a, d); ok && !fn(p) {
			return
		}
	}
}

// grantOn returns the package of account a's recurring grant of day d, if
// d is a grant day.
func (e *Engine) grantOn(a *Account, d Day) (Package, bool) {
	book, err := e.bookFor(a, d)
	if err != nil || book.Monthly.Kind == "" {
		return Package{}, false
	}
	g := &book.Monthly
	opened := e.cal.day(a.Opened)
	y, m, dd := d.Date()
	switch {
	case d == opened:
	case !g.Anniversary && dd == 1:
	case g.Anniversary:
		_, _, day := opened.Date()
		last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
		if dd != min(day, last) {
			return Package{}, false
		}
	default:
		return Package{}, false
	}
	kind, _ := book.kind(g.Kind)
	return Package{
		ID: GrantPrefix + d.String(), Kind: g.Kind, Book: book.ID, Minutes: g.Minutes, Balance: g.Minutes,
		PurchasedAt: later(e.cal.start(d), a.Opened), Start: e.cal.start(d), End: kind.Validity.end(d, e.cal.loc),
	}, true
}

// pendingGrant reports whether a recurring grant the account has yet to
// get, due by now, covers instant at: Admit counts it as the unit of work
// that makes it would.
func (e *Engine) pendingGrant(a *Account, now, at time.Time) bool {
	covers := false
	e.dueGrants(a, now, func(p Package) bool {
		covers = !at.Before(p.PurchasedAt) && at.Before(p.End)
		return !covers
	})
	return covers
}

// granted reports whether the package of id is a recurring grant's.
func granted(id string) bool { return strings.HasPrefix(id, GrantPrefix) }
