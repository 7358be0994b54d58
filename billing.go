package billing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
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
	// [Era1CNY], every account by Era 1's rules ([AllEras] bills each
	// account by its cohort's era). Books of one currency must not overlap
	// in time (and round amounts to the currency's decimals: see
	// [CurrencyDecimals]). A book prices the billing days
	// that begin while it is in force (see [PriceBook]); each book must
	// price at least one day. Engines that share a Store must be given the
	// same books and Location.
	PriceBooks []PriceBook
	// Currency is the currency of accounts opened without one. Default: the
	// currency of the first price book (USD by default).
	Currency string
	// ExpiryGrace is how long after a package's validity ends its remaining
	// minutes stay available to usage of its validity reported late (TRTC's
	// usage data arrives minutes to hours late), until that usage's day is
	// settled (usage of a settled day draws only from packages still valid
	// at the start of the first unsettled day). They are forfeited at the
	// later of End + ExpiryGrace and the settlement of the package's last
	// day. Usage whose own time is at or after End is never covered.
	// Default (zero): 10 hours, which is 10:00 the day after the package's
	// last day in UTC+8, when TRTC settles that day. Negative: no grace.
	ExpiryGrace time.Duration
	// DueAfter is how long after a billing day ends it is due for settlement
	// (see [Engine.DueDays]; [Engine.Settle] may settle a day as soon as it
	// has ended). Default (zero): 10 hours, 10:00 the next day, when TRTC
	// charges a day. Negative: due as soon as it ends.
	DueAfter time.Duration
	// Logger, if not nil, receives what an operator wants to know: units
	// of work retried after a conflict (Debug), applications suspended and
	// resumed and postpaid switches turned on (Info), bills issued (Info),
	// and units of work that failed in the Store or found a record corrupt
	// (Error; Debug if the context ended), each with the
	// account, request and ids as attributes (see "Operations" in the
	// package documentation). Default: nothing is logged.
	Logger *slog.Logger
	// Observer, if not nil, is told of every unit of work and every read
	// the Engine runs, for metrics (see [Observer]). Default: none.
	Observer Observer
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
	log      *slog.Logger // nil: no logging
	observer Observer     // nil: none
	units    sync.Pool    // of *unit
	// every is how many operations pass between two checkpoints:
	// CheckpointEvery (tests set fewer, to replay more often).
	every int64
	// stops counts the replays that stopped at a checkpoint (see
	// converge), for tests to see that they happen.
	stops atomic.Int64
	// packagesCoverValueAdded reports whether a package kind of a book
	// covers a value-added service: without one, value-added usage draws
	// on no package (and reads none).
	packagesCoverValueAdded bool
	// grants reports whether a book has a recurring grant.
	grants bool
	// perApp reports whether a book rounds per application: without one,
	// no meter key names an application (and finding one reads no book).
	perApp bool
}

// utc8 is the default billing time zone.
var utc8 = time.FixedZone("UTC+8", 8*60*60)

// New returns an Engine that keeps accounts in store. It returns an error
// wrapping ErrInvalidOptions for a nil store or a default currency that no
// book has, and one wrapping ErrInvalidPriceBook for a book that fails
// validation.
func New(store Store, opts *Options) (*Engine, error) {
	if store == nil {
		return nil, public(fmt.Errorf("%w: the Store is nil", ErrInvalidOptions))
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	e := &Engine{store: store, now: o.Now, currency: o.Currency, every: CheckpointEvery,
		grace: duration(o.ExpiryGrace, DefaultExpiryGrace), dueAfter: duration(o.DueAfter, DefaultDueAfter),
		log: o.Logger, observer: o.Observer}
	e.units.New = func() any {
		u := &unit{e: e}
		u.run, u.step = u.apply, u.visit
		return u
	}
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
			return nil, public(err)
		}
		for _, o := range e.books {
			switch {
			case o.ID == b.ID:
				return nil, public(fmt.Errorf("%w: two books with ID %q", ErrInvalidPriceBook, b.ID))
			case o.Currency == b.Currency && overlap(o.PriceBook, &b):
				return nil, public(fmt.Errorf("%w: books %q and %q overlap in time for the same accounts (replace one, end one with Until, or give them cohorts that do not overlap: CohortFrom, CohortUntil)",
					ErrInvalidPriceBook, o.ID, b.ID))
			}
		}
		e.grants = e.grants || b.Monthly != (Recurring{})
		e.perApp = e.perApp || b.PerApp
		for _, k := range b.Kinds {
			for i := range k.Ratios {
				e.packagesCoverValueAdded = e.packagesCoverValueAdded || k.Ratios[i].service() != ServiceBasic
			}
		}
		d := dated{PriceBook: &b}
		d.first, d.last = b.days(loc)
		if d.first > d.last {
			return nil, public(fmt.Errorf("%w %q: from From to Until it holds the start of no billing day in %s", ErrInvalidPriceBook, b.ID, loc))
		}
		e.books = append(e.books, d)
	}
	if e.currency == "" {
		e.currency = e.books[0].Currency
	}
	if !slices.ContainsFunc(e.books, func(b dated) bool { return b.Currency == e.currency }) {
		return nil, public(fmt.Errorf("%w: no price book in the default currency %q", ErrInvalidOptions, e.currency))
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

// overlap reports whether books a and b could both price a day of an
// account: they are in force at once for cohorts that overlap.
func overlap(a, b *PriceBook) bool {
	return spans(a.From, a.Until, b.From, b.Until) && spans(a.CohortFrom, a.CohortUntil, b.CohortFrom, b.CohortUntil)
}

// spans reports whether [from1, until1) and [from2, until2) overlap, a
// zero until being no end.
func spans(from1, until1, from2, until2 time.Time) bool {
	return (until1.IsZero() || until1.After(from2)) && (until2.IsZero() || until2.After(from1))
}

// Location returns the billing time zone.
func (e *Engine) Location() *time.Location { return e.cal.loc }

// maxAttempts bounds the retries of a unit of work that keeps conflicting.
const maxAttempts = 100

// unit is one unit of work on one account: the request it serves, the
// operation's time, the account as it will be written, and the Changes
// made so far.
//
// Units come from the Engine's pool: a unit reused keeps its buffers (its
// Changes, the packages a draw touched) and its run function, bound once,
// so that recording a usage allocates only its receipt's draws.
type unit struct {
	e       *Engine
	account string
	req     Request
	ref     string
	body    func(u *unit) error
	run     func(Reader) (Changes, error) // u.apply, bound once
	failed  error                         // body's or begin's error, which exec returns as it is
	// replaying marks a unit that replays operations in memory (see fold):
	// it forfeits nothing, and its Changes are read back, not committed.
	replaying bool
	// dirty marks a unit that changed the account record and maybe nothing
	// else: it writes the account even with no other Changes.
	dirty bool

	r   Reader
	a   Account
	now time.Time
	ch  Changes

	was     []appWas           // the applications as begin found them, if the Engine logs
	usage   Usage              // Record's usage
	receipt Receipt            // and its receipt
	ops     []op               // Record's operation (a buffer)
	touched []touch            // the packages draw touched
	step    func(Package) bool // u.visit, bound once: draw's visit of a package
	walk    struct {           // draw's walk
		us   *Usage
		need int64
		err  error
		// from is the start of the first unsettled period if us is of
		// a settled day (else zero): a package that ended by then pays
		// for none of it.
		from time.Time
	}
}

// newUnit returns a unit of work on account for request req with id ref,
// running body. Put it back with e.done once its results are read.
func (e *Engine) newUnit(req Request, ref, account string, body func(u *unit) error) *unit {
	u := e.units.Get().(*unit)
	u.account, u.req, u.ref, u.body = account, req, ref, body
	return u
}

// done puts u back in the pool, keeping its buffers and its values. Each
// field is written before a unit of work reads it (newUnit: the request;
// exec: failed; begin: the reader, Changes, clock, dirty and account; the
// bodies: the usage, receipt, operations and walk), so done only drops the
// body and the Reader. What the rest held stays until it is written again
// or the pool drops u (within two garbage collections): a bound, and
// clearing the unit cost about 380 instructions per usage, 4 % of Record.
func (e *Engine) done(u *unit) {
	u.body, u.r = nil, nil
	e.units.Put(u)
}

// emptied returns Changes that write nothing, on the buffers of c.
func emptied(c Changes) Changes {
	return Changes{Packages: c.Packages[:0], Meters: c.Meters[:0], Usages: c.Usages[:0],
		Purchases: c.Purchases[:0], Entries: c.Entries[:0], Bills: c.Bills[:0]}
}

// exec has the Store run u in units of work until one applies its Changes,
// again while the Store reports a conflict or a duplicate key (up to 100
// times). An error of u's body is returned as it is, without another try.
// It reports the unit to the Logger and the Observer, if there are any.
func (e *Engine) exec(ctx context.Context, u *unit) error {
	if e.log == nil && e.observer == nil {
		_, err := e.tries(ctx, u)
		return err
	}
	start := time.Now()
	n, err := e.tries(ctx, u)
	e.report(ctx, u, start, n, err)
	return err
}

// tries is exec without the reports: it returns how many times it ran u
// (1, plus one per retry after a conflict or a duplicate key; not the runs
// that found grants due or an account to migrate first).
func (e *Engine) tries(ctx context.Context, u *unit) (int, error) {
	var err error
	migrated, n := false, 1
	for range maxAttempts {
		u.failed = nil
		err = e.store.Update(ctx, u.account, u.run)
		switch {
		case u.failed == errUnmigrated && migrated:
			return n, fmt.Errorf("%w: account %q: its migration to keys did not hold", ErrCorrupt, u.account)
		case u.failed == errUnmigrated:
			if err = e.migrate(ctx, u); err != nil {
				return n, err
			}
			migrated = true
		case u.failed == errGrantsDue:
			if err = e.grantAll(ctx, u.account); err != nil {
				return n, err
			}
		case u.failed != nil:
			return n, u.failed
		case err == nil:
			return n, nil
		case !errors.Is(err, ErrConflict) && !errors.Is(err, ErrExists):
			return n, err
		default: // a conflict or a duplicate key: try again
			if e.log != nil {
				e.log.LogAttrs(ctx, slog.LevelDebug, "billing: unit of work retried", slog.String("request", string(u.req)),
					slog.String("account", u.account), slog.String("id", u.ref), slog.Int("attempt", n), slog.Any("error", err))
			}
			n++
		}
	}
	return n - 1, err // the last try conflicted too
}

// update runs body in a unit of work on an existing account (see exec). It
// returns the account as the unit left it, and the unit's time.
func (e *Engine) update(ctx context.Context, req Request, ref, account string, body func(u *unit) error) (Account, time.Time, error) {
	u := e.newUnit(req, ref, account, body)
	defer e.done(u)
	if err := e.exec(ctx, u); err != nil {
		return Account{}, time.Time{}, err
	}
	return u.a, u.now, nil
}

// apply is one try of u: it loads the account, runs the body, and returns
// what it wrote, with the account at its next Version, or empty Changes if
// it wrote nothing.
func (u *unit) apply(r Reader) (Changes, error) {
	if u.failed = u.e.begin(u, r); u.failed == nil && u.req != RequestGrant && u.a.Version > 0 && !u.now.IsZero() {
		u.failed = u.e.grantsChecked(u)
	}
	if u.failed == nil {
		u.failed = u.body(u)
	}
	if u.failed != nil {
		return Changes{}, u.failed
	}
	if u.ch.Empty() && u.a.Version > 0 && !u.dirty {
		return Changes{}, nil
	}
	u.a.Version++
	u.a.Touched = u.now
	u.ch.Account = &u.a
	return u.ch, nil
}

// begin starts u on the account r reads: it loads and checks the account
// (which an opening may find missing), reads the clock (unless the opening
// finds the account: it only compares it), and clears what an earlier try
// wrote.
func (e *Engine) begin(u *unit, r Reader) error {
	u.r, u.ch, u.now, u.dirty = r, emptied(u.ch), time.Time{}, false
	err := e.load(r, u.account, &u.a)
	switch {
	case errors.Is(err, ErrNotFound) && u.req == RequestOpen:
		u.a = Account{}
	case err != nil:
		return err
	}
	if e.log != nil {
		u.was = snapshot(&u.a, u.was[:0])
	}
	if u.a.Version == 0 || u.req != RequestOpen {
		if u.now, err = e.clock(&u.a); err != nil {
			return err
		}
	}
	return nil
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
		return time.Time{}, fmt.Errorf("%w: the Engine's clock reads %s", ErrInvalidTime, now.Format(time.RFC3339))
	}
	if e.cal.valid(now) != nil {
		return time.Time{}, fmt.Errorf("%w: the Engine's clock reads %s, outside the years 1 to 9999", ErrInvalidTime, now.Format(time.RFC3339))
	}
	return now, nil
}

// load reads the account into a and checks the invariants the Engine keeps.
func (e *Engine) load(r Reader, id string, a *Account) (err error) {
	switch *a, err = r.Account(); {
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("account %w", ErrNotFound) // the Store's words would repeat the Error's account id
	case err != nil:
		return err
	}
	if a.ID != id || a.Version < 1 || a.LastSeq < 0 || a.Opened.IsZero() || a.Cycle != Daily && a.Cycle != Monthly ||
		!a.Postpaid.consistent() || !appsConsistent(a) || !arrearsConsistent(a.Arrears) || !refundsConsistent(a.Refunds) {
		return fmt.Errorf("%w: account record %q", ErrCorrupt, id)
	}
	return nil
}

// append adds a ledger entry, numbering it and stamping it with the unit's
// time and request.
func (u *unit) append(en Entry) {
	u.a.LastSeq++
	en.Seq = u.a.LastSeq
	en.At = u.now
	en.Request, en.Ref = u.req, u.ref
	u.ch.Entries = append(u.ch.Entries, en)
}

// putPackage writes p, in place of an earlier write of it in this unit.
func (u *unit) putPackage(p Package) {
	u.ch.Packages = replace(u.ch.Packages, p, func(q Package) bool { return q.ID == p.ID })
}

// putMeter writes m, in place of an earlier write of it in this unit.
func (u *unit) putMeter(m Meter) {
	u.ch.Meters = replace(u.ch.Meters, m, func(n Meter) bool { return n.Key == m.Key })
}

// replace puts v in place of the first element of s that is the same
// record, or at the end.
func replace[T any](s []T, v T, same func(T) bool) []T {
	if i := slices.IndexFunc(s, same); i >= 0 {
		s[i] = v
		return s
	}
	return append(s, v)
}

// view runs fn in a read-only view of an existing account.
func (e *Engine) view(ctx context.Context, op, account string, fn func(r Reader, a *Account) error) error {
	if !validID(account) {
		return &Error{Op: op, Account: account, Err: invalidID("account id", account)}
	}
	start := e.started()
	err := e.store.View(ctx, account, func(r Reader) error {
		var a Account
		if err := e.load(r, account, &a); err != nil {
			return err
		}
		return fn(r, &a)
	})
	e.observeRead(ctx, op, account, start, err)
	if err != nil {
		return &Error{Op: op, Account: account, Err: err}
	}
	return nil
}
