package billing

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Grant is a package given for free with an account's first application
// (the trial, PriceBook.Trial): at its opening, if it creates one.
type Grant struct {
	Kind    string
	Minutes int64
}

// Recurring is a grant renewed every month (PriceBook.Monthly): Era 2's
// 10,000 free minutes each month, which do not roll over. An account gets
// one with its first application (in full, from the start of its day, or
// from the opening on its day), then one on each grant day: the first of
// each month, or for Anniversary the day of the month of the first
// application. Each lasts until the next grant day, the end of its period,
// whatever its kind's Validity (which may be zero); its kind, not for sale,
// gives its ratios. Like a purchase, a grant lifts the suspensions of the
// account's applications and absorbs its day's basic minutes that nothing
// covered before it.
type Recurring struct {
	Kind    string
	Minutes int64
	// Anniversary grants on the day of the month the account's first
	// application was created (the month's last day if it is shorter)
	// instead of on the first of each month.
	Anniversary bool
	// Months limits the grants to the days before the same day of the
	// month Months months after the first application's (Era 3's free
	// minutes are "distributed for 12 months"); zero grants for ever.
	Months int
}

// GrantPrefix begins the ids of the packages of recurring grants ("grant:"
// and the grant's day, "grant:2021-04-01"). Purchase ids may not begin
// with it.
const GrantPrefix = "grant:"

// The recurring grants of an account. A grant day is the first of a month
// (or, for Anniversary, the day of the month of the account's cohort)
// whose price book has a Monthly grant, and the day of the cohort itself,
// from the first application on. The first application's grant is made
// with it, as the trial is (with the opening, if it creates one). Any
// other is an operation at
// the start of its day, ordered like the opening's grants (ClassOpening)
// so that it comes before any usage of that instant, and made in a unit
// of work of its own, one grant a unit, before any unit that finds it due
// (Account.GrantsThrough): every operation at or after that instant comes
// in a unit of work that made the grant first, so a grant is never late
// (but the first application's grant, at its day's start, after what an
// account without an application did that day: a replay applies it).
// A grant lifts suspensions and absorbs what its day left uncovered, as a
// purchase does.

// errGrantsDue is the error of a unit of work on an account with
// recurring grants due: exec makes them, each in a unit of work of its
// own (what a unit writes, it cannot read back), and tries the unit again.
var errGrantsDue = errors.New("recurring grants due")

// grantsChecked returns errGrantsDue if the account of u has recurring
// grants due, and else records that it has had every grant up to the day
// of u's time (written if u writes anything).
func (e *Engine) grantsChecked(u *unit) error {
	today := e.cal.day(u.now)
	switch {
	case today <= u.a.GrantsThrough:
		return nil
	case e.legacyGrants(&u.a):
		// Recorded before recurring grants: none for the past (they
		// would be late), nor for today, whose operations may be applied.
	case e.grants:
		if _, ok := e.nextGrant(&u.a, today); ok {
			return errGrantsDue
		}
	}
	u.a.GrantsThrough = today
	return nil
}

// grantAll makes the recurring grants due on account, one unit of work
// each.
func (e *Engine) grantAll(ctx context.Context, account string) error {
	for {
		made := false
		_, _, err := e.update(ctx, RequestGrant, "", account, func(u *unit) error {
			p, ok := e.nextGrant(&u.a, e.cal.day(u.now))
			if !ok {
				return nil
			}
			made, u.a.GrantsThrough = true, e.cal.day(p.Start)
			ops := [1]op{{key: purchaseKey(&p), pkg: &p}}
			return e.place(u, ops[:])
		})
		if err != nil || !made {
			return err
		}
	}
}

// nextGrant returns the first recurring grant of account a due after its
// GrantsThrough, up to day today.
func (e *Engine) nextGrant(a *Account, today Day) (Package, bool) {
	if e.legacyGrants(a) || len(a.Apps) == 0 { // none before the first application (see activate)
		return Package{}, false
	}
	for d := a.GrantsThrough + 1; d <= today; d++ {
		if p, ok := e.grantOn(a, d); ok {
			return p, true
		}
	}
	return Package{}, false
}

// legacyGrants reports whether account a was recorded before recurring
// grants: OpenAccount records its opening's day or later in GrantsThrough,
// and an older record has none (0, which is also a day: 1970-01-01).
func (e *Engine) legacyGrants(a *Account) bool { return a.GrantsThrough < e.cal.day(a.Opened) }

// grantOn returns the package of account a's recurring grant of day d, if
// d is a grant day: valid from the start of d (from the opening, on the
// opening's day) to the start of the next grant day. The day of the
// account's cohort is one.
func (e *Engine) grantOn(a *Account, d Day) (Package, bool) {
	book, err := e.bookFor(a, d)
	if err != nil || book.Monthly.Kind == "" {
		return Package{}, false
	}
	g := &book.Monthly
	begun := e.cal.day(a.Cohort()) // the first application's day (the opening's, before it)
	if d != begun && d != grantDay(g, begun, d) ||
		g.Months > 0 && d >= e.cal.day(Validity{Months: g.Months}.end(begun, e.cal.loc)) {
		return Package{}, false
	}
	y, m, _ := d.Date()
	next := grantDay(g, begun, date(y, m+1, 1))
	kind, _ := book.kind(g.Kind)
	return Package{
		ID: GrantPrefix + d.String(), Kind: g.Kind, Book: book.ID, Minutes: g.Minutes, Balance: g.Minutes, Currency: a.Currency,
		PurchasedAt: later(e.cal.start(d), a.Opened), Start: e.cal.start(d), End: e.cal.start(next), First: kind.First,
	}, true
}

// grantDay returns the grant day of g in the month of day d, for an
// account whose cohort began on day begun.
func grantDay(g *Recurring, begun, d Day) Day {
	y, m, _ := d.Date()
	if !g.Anniversary {
		return date(y, m, 1)
	}
	_, _, day := begun.Date()
	last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
	return date(y, m, min(day, last))
}

// pendingGrant reports whether a recurring grant the account has yet to
// get, due by now, could pay for a minute of basic service at instant at:
// Admit counts it as the unit of work that makes it would.
func (e *Engine) pendingGrant(a *Account, now, at time.Time) bool {
	if !e.grants || e.legacyGrants(a) {
		return false
	}
	today := e.cal.day(now)
	for d := a.GrantsThrough + 1; d <= today; d++ {
		p, ok := e.grantOn(a, d)
		if !ok || at.Before(p.PurchasedAt) || !at.Before(p.End) {
			continue
		}
		if kind, err := e.kindOf(&p); err == nil && kind.smallestRatio() > 0 && p.Minutes >= kind.smallestRatio() {
			return true
		}
	}
	return false
}

// granted reports whether the package of id is a recurring grant's.
func granted(id string) bool { return strings.HasPrefix(id, GrantPrefix) }
