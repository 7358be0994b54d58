package billing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Options configures an [Engine]. A nil *Options, and every zero field, means
// the documented default.
type Options struct {
	// Now is the clock, read once per unit of work. Default: time.Now. A
	// reading on a day outside MinDay..MaxDay fails the operation with
	// ErrInvalidTime.
	Now func() time.Time
	// Location is the billing time zone: billing days, package validity and
	// the purchase day are calendar days there. Default: UTC+8 (a fixed zone,
	// the same as Asia/Shanghai since 1991), as Tencent bills in Beijing time.
	Location *time.Location
	// PriceBooks are the books usage is priced by. Default: [Era1USD] and
	// [Era1CNY]. Books of one currency must not overlap in time and must
	// round amounts to the same Decimals. A book prices the billing days
	// that begin while it is in force (see [PriceBook]); each book must
	// price at least one day. Engines that share a Store must be given the
	// same books and Location.
	PriceBooks []PriceBook
	// Currency is the currency of accounts opened without one. Default: the
	// currency of the first price book (USD by default).
	Currency string
	// ExpiryGrace is how long after a package's validity ends its remaining
	// minutes stay available to usage of its validity reported late (TRTC's
	// usage data arrives minutes to hours late). At End + ExpiryGrace they are
	// forfeited. Usage whose own time is at or after End is never covered.
	// Default (zero): 10 hours, which is 10:00 the day after the package's
	// last day in UTC+8, when TRTC settles that day. Negative: no grace.
	ExpiryGrace time.Duration
	// DueAfter is how long after a billing day ends it is due for settlement
	// (see [Engine.DueDays]; [Engine.Settle] may settle a day as soon as it
	// has ended). Default (zero): 10 hours, 10:00 the next day, when TRTC
	// charges a day. Negative: due as soon as it ends.
	DueAfter time.Duration
}

// Defaults of Options.ExpiryGrace and Options.DueAfter.
const (
	DefaultExpiryGrace = 10 * time.Hour
	DefaultDueAfter    = 10 * time.Hour
)

// Engine bills TRTC-style usage for accounts kept in a [Store]. It holds no
// account state of its own: every method is one or more atomic units of work
// on one account. An Engine is safe for concurrent use by many goroutines,
// and many Engines (in many processes) may share one durable Store.
type Engine struct {
	store    Store
	now      func() time.Time
	cal      calendar // the billing days of Options.Location
	books    []dated
	currency string
	grace    time.Duration
	dueAfter time.Duration
	witness  *witness
	// recorders are Record's reusable recorders.
	recorders sync.Pool
}

// utc8 is the default billing time zone.
var utc8 = time.FixedZone("UTC+8", 8*60*60)

// New returns an Engine that keeps accounts in store. It returns an error
// wrapping ErrInvalidOptions for a nil store or a default currency that no
// book has, and one wrapping ErrInvalidPriceBook for a book that fails
// validation.
func New(store Store, opts *Options) (*Engine, error) {
	if store == nil {
		return nil, fmt.Errorf("%w: nil Store", ErrInvalidOptions)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	e := &Engine{store: store, now: o.Now, currency: o.Currency, witness: newWitness(),
		grace: duration(o.ExpiryGrace, DefaultExpiryGrace), dueAfter: duration(o.DueAfter, DefaultDueAfter)}
	e.recorders.New = func() any { return newRecorder(e) }
	if e.now == nil {
		e.now = time.Now
	}
	loc := o.Location
	if loc == nil {
		loc = utc8
	}
	e.cal = newCalendar(loc)
	books := o.PriceBooks
	if len(books) == 0 {
		books = []PriceBook{Era1USD(), Era1CNY()}
	}
	for i := range books {
		b := books[i].clone()
		if err := b.validate(); err != nil {
			return nil, err
		}
		for _, o := range e.books {
			switch {
			case o.ID == b.ID:
				return nil, fmt.Errorf("%w: two books with ID %q", ErrInvalidPriceBook, b.ID)
			case o.Currency == b.Currency && overlap(o.PriceBook, &b):
				return nil, fmt.Errorf("%w: books %q and %q overlap in time", ErrInvalidPriceBook, o.ID, b.ID)
			case o.Currency == b.Currency && o.Decimals != b.Decimals:
				return nil, fmt.Errorf("%w: books %q and %q round %s to %d and %d decimals", ErrInvalidPriceBook,
					o.ID, b.ID, b.Currency, o.Decimals, b.Decimals)
			}
		}
		d := dated{PriceBook: &b}
		d.first, d.last = b.days(loc)
		if d.first > d.last {
			return nil, fmt.Errorf("%w %q: in force at the first instant of no billing day in %s", ErrInvalidPriceBook, b.ID, loc)
		}
		e.books = append(e.books, d)
	}
	if e.currency == "" {
		e.currency = e.books[0].Currency
	}
	if !slices.ContainsFunc(e.books, func(b dated) bool { return b.Currency == e.currency }) {
		return nil, fmt.Errorf("%w: no price book in the default currency %q", ErrInvalidOptions, e.currency)
	}
	return e, nil
}

// duration returns d, def if d is zero, and zero if d is negative.
func duration(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

func overlap(a, b *PriceBook) bool {
	aEndsAfterB := a.Until.IsZero() || a.Until.After(b.From)
	bEndsAfterA := b.Until.IsZero() || b.Until.After(a.From)
	return aEndsAfterB && bEndsAfterA
}

// Location returns the billing time zone.
func (e *Engine) Location() *time.Location { return e.cal.loc }

// errNoChange makes a unit of work end without committing anything.
var errNoChange = errors.New("billing: no change")

// maxAttempts bounds the retries of a unit of work that keeps conflicting.
const maxAttempts = 100

// update runs fn in a unit of work on account, again while the Store reports
// a conflict or a duplicate key. fn returning errNoChange ends it without a
// commit and without an error.
func (e *Engine) update(ctx context.Context, account string, fn func(tx Tx) error) error {
	w := &work{account: account}
	w.do = func(tx Tx) error {
		w.err = fn(tx)
		return w.err
	}
	return e.exec(ctx, w)
}

// work is an operation's unit of work as the Engine hands it to the Store,
// and runs it again on conflicts. do is bound once, so that an operation
// that reuses its work allocates nothing to run it.
type work struct {
	account string
	do      func(tx Tx) error // sets err to the operation's own error
	err     error
	last    bool // this is the last attempt exec makes
}

// exec runs w in units of work until one commits, ends without a change
// (errNoChange), fails on the operation's own error, or fails in the Store
// with an error other than a conflict or a duplicate key.
func (e *Engine) exec(ctx context.Context, w *work) error {
	var err error
	for attempt := range maxAttempts {
		w.err, w.last = nil, attempt == maxAttempts-1
		err = e.store.Update(ctx, w.account, w.do)
		switch {
		case w.err == errNoChange:
			return nil
		case w.err != nil:
			return w.err
		case err == nil:
			return nil
		case !errors.Is(err, ErrConflict) && !errors.Is(err, ErrExists):
			return err
		}
	}
	return err
}

// unit is the state of one unit of work on one account: the request it
// serves, the operation's time, and the account as it will be committed.
type unit struct {
	tx    Tx
	req   Request
	ref   string
	a     Account
	wasOn bool // the switch was on when the unit read the account
	now   time.Time
	grace time.Duration
	dirty bool
	put   bool // commit wrote the account: the Store has it once exec succeeds
}

// witnessed shows the witness the account u committed if u turned the
// switch on: load showed it every other state. A unit that ended without
// committing (errNoChange) may hold changes that were dropped.
func (e *Engine) witnessed(u *unit) {
	if u.put && u.a.Postpaid.On && !u.wasOn {
		e.witness.check(&u.a)
	}
}

// run loads account and runs fn on it in a unit of work for request req with
// id ref, then commits the account if fn wrote anything. It returns the unit
// as it ended: the account as committed, and the operation's time.
func (e *Engine) run(ctx context.Context, req Request, ref, account string, fn func(u *unit) error) (unit, error) {
	o := &operation{e: e, req: req, ref: ref, body: fn}
	o.work = work{account: account, do: o.apply}
	if err := e.exec(ctx, &o.work); err != nil {
		return unit{}, err
	}
	e.witnessed(&o.u)
	return o.u, nil
}

// operation is a unit of work on an existing account: load it, run body,
// commit the account if body wrote anything.
type operation struct {
	work
	e    *Engine
	req  Request
	ref  string
	body func(u *unit) error
	u    unit
}

func (o *operation) apply(tx Tx) error {
	a, err := o.e.load(tx, o.account)
	var now time.Time
	if err == nil {
		now, err = o.e.clock(&a)
	}
	if err == nil {
		o.u = unit{tx: tx, req: o.req, ref: o.ref, a: a, wasOn: a.Postpaid.On, now: now, grace: o.e.grace}
		err = o.body(&o.u)
	}
	if err == nil && !o.u.dirty {
		err = errNoChange
	}
	if err != nil {
		o.err = err
		return err
	}
	o.u.commit()
	return nil
}

// commit writes the account with the next Version.
func (u *unit) commit() {
	u.a.Version++
	u.a.Touched = u.now
	u.tx.PutAccount(u.a)
	u.put = true
}

// clock returns the operation's time: the Engine's clock, but never earlier
// than the account's last unit of work. It returns ErrInvalidTime if the
// clock reads a day outside MinDay..MaxDay, or not after the zero time
// (which records take for "never").
func (e *Engine) clock(a *Account) (time.Time, error) {
	now := e.now()
	if now.Before(a.Touched) {
		now = a.Touched
	}
	if !now.After(time.Time{}) {
		return time.Time{}, fmt.Errorf("%w: the clock reads %s", ErrInvalidTime, now.Format(time.RFC3339))
	}
	if err := e.cal.valid(now); err != nil {
		return time.Time{}, fmt.Errorf("the clock: %w", err)
	}
	return now, nil
}

// load reads the account and checks the invariants the Engine keeps.
func (e *Engine) load(tx Reader, id string) (Account, error) {
	a, err := tx.Account()
	if err != nil {
		return Account{}, err
	}
	if a.ID != id || a.Version < 1 || a.LastSeq < 0 || a.Opened.IsZero() ||
		!a.Postpaid.consistent() || !a.Status.consistent() || (a.Status.Suspended && a.Postpaid.On) {
		return Account{}, fmt.Errorf("%w: account record %q", ErrCorrupt, id)
	}
	if !e.witness.check(&a) {
		return Account{}, fmt.Errorf("%w: account %q: postpaid switch read off after it was on", ErrCorrupt, id)
	}
	return a, nil
}

// append adds a ledger entry, numbering it and stamping it with the unit's
// time and request.
func (u *unit) append(en Entry) {
	u.a.LastSeq++
	en.Seq = u.a.LastSeq
	en.At = u.now
	en.Request, en.Ref = u.req, u.ref
	u.tx.AppendEntry(en)
	u.dirty = true
}

func (u *unit) putPackage(p Package) {
	u.tx.PutPackage(p)
	u.dirty = true
}

func (u *unit) putMeter(m Meter) {
	u.tx.PutMeter(m)
	u.dirty = true
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
