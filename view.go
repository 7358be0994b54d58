package billing

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"
)

// Overview is an account as it stands: its record, its packages and the
// meters of the current billing day.
type Overview struct {
	Account Account
	// Packages are all the account's packages, live or not, in deduction order.
	Packages []Package
	// Today is the current billing day.
	Today Day
	// Meters are Today's meters, by service, then tier in the price book's
	// order (audio, SD, HD, FHD); their Uncovered minutes are the day's minutes
	// no package covered (postpaid or shortfall), which a package bought
	// today would absorb.
	Meters []Meter
}

// Overview returns the account as it stands. It first forfeits the balance
// of packages that have expired (a unit of work of its own), so an expired
// package always shows a zero Balance and its Forfeited minutes.
//
// Errors wrap ErrInvalidID, ErrInvalidTime (the clock), ErrNotFound,
// ErrCorrupt, or a Store or context error.
func (e *Engine) Overview(ctx context.Context, account string) (Overview, error) {
	fail := func(err error) (Overview, error) {
		return Overview{}, &Error{Op: "Overview", Account: account, Err: err}
	}
	if !validID(account) {
		return fail(invalidID("account id", account))
	}
	u, err := e.run(ctx, RequestOverview, "", account, func(u *unit) error { return u.expire() })
	if err != nil {
		return fail(err)
	}
	o := Overview{Today: e.cal.day(u.now)}
	err = e.store.View(ctx, account, func(tx Reader) error {
		if o.Account, err = e.load(tx, account); err != nil {
			return err
		}
		if err := tx.Packages(func(p Package) bool { o.Packages = append(o.Packages, p); return true }); err != nil {
			return err
		}
		o.Meters, err = e.meters(tx, &o.Account, o.Today)
		return err
	})
	if err != nil {
		return fail(err)
	}
	return o, nil
}

// Ledger returns the account's ledger entries made in [from, to), in Seq
// order. A zero to means no upper bound.
//
// Errors wrap ErrInvalidID, ErrNotFound, ErrCorrupt, or a Store or context error.
func (e *Engine) Ledger(ctx context.Context, account string, from, to time.Time) ([]Entry, error) {
	var entries []Entry
	err := e.view(ctx, "Ledger", account, func(tx Reader, _ *Account) error {
		return tx.Entries(from, to, func(en Entry) bool { entries = append(entries, en); return true })
	})
	return entries, err
}

// Meters returns the account's meters of day d, by service, then tier in the
// order of the price book in force that day (audio, SD, HD, FHD).
//
// Errors wrap ErrInvalidID, ErrNotFound, ErrCorrupt, or a Store or context error.
func (e *Engine) Meters(ctx context.Context, account string, d Day) ([]Meter, error) {
	var meters []Meter
	err := e.view(ctx, "Meters", account, func(tx Reader, a *Account) (err error) {
		meters, err = e.meters(tx, a, d)
		return err
	})
	return meters, err
}

// meters reads the meters of day d in display order.
func (e *Engine) meters(tx Reader, a *Account, d Day) ([]Meter, error) {
	var ms []Meter
	if err := tx.Meters(d, func(m Meter) bool { ms = append(ms, m); return true }); err != nil {
		return nil, err
	}
	order := e.meterOrder(a.Currency)
	slices.SortStableFunc(ms, func(x, y Meter) int { return order(x.Key, y.Key) })
	return ms, nil
}

// meterOrder returns the display order of meters of an account in
// currency: by day, service, then tier in the order of the day's price
// book (tiers it lacks last, by name).
func (e *Engine) meterOrder(currency string) func(x, y MeterKey) int {
	rank := func(k MeterKey) int {
		if book, err := e.bookOf(currency, k.Day); err == nil {
			return book.tierRank(k.Tier)
		}
		return 0
	}
	return func(x, y MeterKey) int {
		return cmp.Or(cmp.Compare(x.Day, y.Day), strings.Compare(string(x.Service), string(y.Service)),
			rank(x)-rank(y), strings.Compare(string(x.Tier), string(y.Tier)))
	}
}

// view runs fn in a read-only view of an existing account.
func (e *Engine) view(ctx context.Context, op, account string, fn func(tx Reader, a *Account) error) error {
	if !validID(account) {
		return &Error{Op: op, Account: account, Err: invalidID("account id", account)}
	}
	err := e.store.View(ctx, account, func(tx Reader) error {
		a, err := e.load(tx, account)
		if err != nil {
			return err
		}
		return fn(tx, &a)
	})
	if err != nil {
		return &Error{Op: op, Account: account, Err: err}
	}
	return nil
}
