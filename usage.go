package billing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Usage is usage the host reports: Seconds of one service in one tier, at
// one instant. For basic services (the zero Service) it also names the
// scenario; for a value-added service (ServiceRecording,
// ServiceMixTranscoding) Tier is the output's tier and Scenario is empty.
// The Engine never splits a usage across days; a host that meters a session
// crossing midnight (in the billing time zone) reports a usage for each day.
type Usage struct {
	// ID is the caller's id for this usage, unique within the account: the
	// idempotency key.
	ID      string
	Account string
	// App is the application (SDKAppID) the usage belongs to, required: a
	// label kept on the ledger for per-application breakdowns.
	App string
	// Service is ServiceBasic (or empty, which means it) or a value-added service.
	Service  Service
	Scenario Scenario
	Tier     Tier
	// Seconds is the duration, in 1..MaxUsageSeconds.
	Seconds int64
	// At is when the usage happened; it decides the billing day (and so the
	// price book, see [PriceBook]) and the packages that can cover it.
	At time.Time
}

// MaxUsageSeconds is the largest Seconds of one usage (about 31,700 years:
// enough for usage aggregated over many users, small enough to be absurd).
const MaxUsageSeconds = 1_000_000_000_000

// maxMeterSeconds bounds a meter's cumulative seconds.
const maxMeterSeconds = 1 << 60

// Receipt is what recording one usage did. Its parts add up:
// the Minutes of all Draws, plus Postpaid, plus Shortfall, equal Minutes.
type Receipt struct {
	// Key is the meter the usage was added to: its billing day, service and tier.
	Key MeterKey
	// Minutes is the billable minutes this usage added: the day's ceiling of
	// the meter's seconds after it, minus the ceiling before it. Successive
	// small usages never pay twice for one started minute.
	Minutes int64
	// Draws are the packages that covered minutes, in deduction order. The
	// Draws of several receipts may lie in one array (each has no room
	// beyond its own: appending to it copies), so a receipt kept alone
	// keeps up to 16 draws' memory alive.
	Draws []Draw
	// Postpaid is the minutes billed at list price.
	Postpaid int64
	// Shortfall is the minutes nothing could pay for (the account was then suspended).
	Shortfall int64
	// PostpaidOn reports that this usage turned the postpaid switch on
	// automatically (the account had bought a universal package, and no
	// package could cover the usage).
	PostpaidOn bool
	// Suspended reports that this usage suspended the account.
	Suspended bool
}

// Draw is the part of a usage one package covered.
type Draw struct {
	Package string
	// Minutes is the billable minutes covered; whole minutes only.
	Minutes int64
	// Deducted is the package minutes taken: Minutes × the kind's ratio for the tier.
	Deducted int64
}

// UsageRecord is a recorded usage and the receipt it got.
type UsageRecord struct {
	Usage   Usage
	Receipt Receipt
}

func (u *Usage) check(c calendar) error {
	if u.Service == "" {
		u.Service = ServiceBasic
	}
	switch {
	case !validID(u.ID):
		return invalidID("usage id", u.ID)
	case !validID(u.Account):
		return invalidID("account id", u.Account)
	case !validID(u.App):
		return invalidID("app id", u.App)
	case u.Seconds < 1 || u.Seconds > MaxUsageSeconds:
		return fmt.Errorf("%w: %d not in 1..%d", ErrInvalidSeconds, u.Seconds, int64(MaxUsageSeconds))
	case u.At.IsZero():
		return ErrInvalidTime
	}
	return c.valid(u.At) // a day outside MinDay..MaxDay
}

func (u *Usage) same(v *Usage) bool {
	return u.ID == v.ID && u.Account == v.Account && u.App == v.App && u.Service == v.Service && u.Scenario == v.Scenario &&
		u.Tier == v.Tier && u.Seconds == v.Seconds && u.At.Equal(v.At)
}

// Record records usage and returns its receipt.
//
// Basic usage's billable minutes are covered, whole minute by whole minute,
// by the packages valid at its time in deduction order (soonest expiry, then
// earliest purchase, then id), each at its kind's ratio for the tier; a
// package whose balance is smaller than one minute's ratio is left for tiers
// with smaller ratios. Minutes no package covers are billed postpaid if the
// switch is on; else, if the account has bought a universal package, the
// switch goes on automatically; else they are kept as the day's shortfall and
// the account is suspended.
//
// A suspended account refuses usage whose time is at or after its
// suspension; usage from before it, reported late, is still recorded (its
// uncovered minutes are shortfall, and the account stays suspended).
//
// Value-added usage is never covered by packages: all its minutes are
// postpaid, on the daily bill, whatever the switch. It is refused if the
// account has no basic service to go with it: if it is suspended (at the
// usage's time), or could not pay for basic usage at the usage's time (no
// package valid then with minutes left, postpaid off, and no universal
// package bought).
//
// Usage of a day already settled (late usage) is metered on its own day and
// covered by the packages valid at its own time; its minutes are billed as
// adjustments on the next bill. Recording also forfeits the balance of
// packages that have expired.
//
// Recording a usage id again with the same usage returns the first receipt
// and changes nothing.
//
// Errors wrap ErrInvalidID, ErrInvalidSeconds (also when the day's meter
// would overflow), ErrInvalidTime (the zero time, a time on a day outside
// MinDay..MaxDay, or the clock), ErrNotFound (no such account),
// ErrIdempotencyConflict, ErrBeforeOpened, ErrFutureUsage, ErrNoPriceBook,
// ErrUnknownScenario, ErrUnknownTier, ErrTierNotInScenario, ErrUnknownService,
// ErrSuspended, ErrNoBasicService (which also wraps ErrSuspended for a
// suspended account), ErrCorrupt, or a Store or context error. On error
// nothing is recorded.
func (e *Engine) Record(ctx context.Context, us Usage) (Receipt, error) {
	if err := us.check(e.cal); err != nil {
		return Receipt{}, &Error{Op: "Record", Account: us.Account, ID: us.ID, Err: err}
	}
	rc := e.recorders.Get().(*recorder)
	rc.us, rc.account, rc.ref = us, us.Account, us.ID
	err := e.exec(ctx, &rc.work)
	r := rc.receipt
	if err == nil {
		e.witnessed(&rc.u)
	}
	rc.reset()
	e.recorders.Put(rc)
	if err != nil {
		return Receipt{}, &Error{Op: "Record", Account: us.Account, ID: us.ID, Err: err}
	}
	return r, nil
}

// recorder records usage. Record takes one from the Engine's pool: its
// buffers and its functions, bound once, are reused, so that recording a
// usage allocates only its receipt's draws.
type recorder struct {
	operation
	us      Usage // the usage Record records
	receipt Receipt
	ids     [1]string   // what Prefetch gets
	tried   bool        // an attempt of this Record has run (see recordOne)
	keys    [1]MeterKey // (a Store must not retain them)

	// The walk over the live packages of draw.
	walk struct {
		u       *unit
		us      *Usage
		need    int64
		touched []touch
		err     error
	}
	visit func(Package) bool // step, bound once

	// basic is the scenario and tier checkBasic accepted last, in book.
	basic struct {
		book     *PriceBook
		scenario Scenario
		tier     Tier
	}

	// draws is where receipts' Draws are cut from: one allocation for
	// many receipts. Each receipt's slice has no room beyond its own draws.
	draws []Draw
}

// newDraws returns an empty slice with room for n draws, cut from rc.draws.
func (rc *recorder) newDraws(n int) []Draw {
	if len(rc.draws) < n {
		rc.draws = make([]Draw, max(n, drawsBlock))
	}
	d := rc.draws[:0:n]
	rc.draws = rc.draws[n:]
	return d
}

// drawsBlock is how many draws rc.draws holds when made: a receipt kept
// alone keeps up to that many alive (32 bytes each).
const drawsBlock = 16

func newRecorder(e *Engine) *recorder {
	rc := &recorder{}
	rc.e, rc.req = e, RequestRecord
	rc.do = rc.operation.apply
	rc.body = rc.recordOne
	rc.visit = rc.step
	return rc
}

// recordOne is the body of Record's unit of work.
//
// Its first try on a Store that is not a Prefetcher does not look the
// usage id up before recording: a usage is mostly new, and the Store
// refuses the commit of an id it has (ErrExists, a promise of the Store
// contract), which exec retries. Every later try looks the id up first,
// and so does exec's last attempt (it has no retry to fall back on) and
// every try on a Prefetcher, whose Prefetch fetches the usage record in the
// same trip as the meter. If recording fails on a first try, it looks the
// id up then, in the same unit of work: a replay gets its first receipt
// whatever has changed since, and nothing the try wrote is committed. If
// that lookup fails too, the first error stands, unless it was a refusal
// (see refused), which the lookup might have overturned: then the Store's
// error does.
func (rc *recorder) recordOne(u *unit) error {
	lookup := rc.tried || rc.last
	if p, ok := u.tx.(Prefetcher); ok {
		lookup = true
		rc.ids[0] = rc.us.ID
		rc.keys[0] = MeterKey{Day: rc.e.cal.day(rc.us.At), Service: rc.us.Service, Tier: rc.us.Tier}
		if err := p.Prefetch(rc.ids[:], rc.keys[:]); err != nil {
			return err
		}
	}
	rc.tried = true
	var err error
	rc.receipt, err = rc.record(u, &rc.us, lookup)
	if err != nil && !lookup {
		r, seen, lerr := previous(u, &rc.us)
		switch {
		case seen && lerr == nil:
			rc.receipt, err = r, errNoChange
		case seen && (errors.Is(lerr, ErrIdempotencyConflict) || refused(err)):
			// The id is another usage's, or the Store failed the lookup
			// that decides whether a refusal stands: its error says more.
			err = lerr
		}
	}
	return err
}

// reset drops what the recorder refers to, before it goes back to the pool.
func (rc *recorder) reset() {
	rc.us, rc.receipt, rc.u, rc.err, rc.ids[0], rc.tried = Usage{}, Receipt{}, unit{}, nil, "", false
	clear(rc.walk.touched)
	rc.walk.u, rc.walk.us, rc.walk.touched, rc.walk.err = nil, nil, rc.walk.touched[:0], nil
}

// previous looks the id of us up. seen reports whether that decides what
// recording us returns: us repeats a recorded usage (r is its receipt), its
// id is taken by another usage (ErrIdempotencyConflict), or the lookup
// failed (its error).
func previous(u *unit, us *Usage) (r Receipt, seen bool, err error) {
	switch old, err := u.tx.Usage(us.ID); {
	case err == nil && old.Usage.same(us):
		return old.Receipt, true, nil
	case err == nil:
		return Receipt{}, true, ErrIdempotencyConflict
	case !errors.Is(err, ErrNotFound):
		return Receipt{}, true, err
	}
	return Receipt{}, false, nil
}

// record records us in u, unless lookup is set and previous decides: then
// it returns what previous does, with no writes.
func (rc *recorder) record(u *unit, us *Usage, lookup bool) (Receipt, error) {
	e := rc.e
	if lookup {
		if r, seen, err := previous(u, us); seen {
			return r, err
		}
	}
	switch {
	case us.At.Before(u.a.Opened):
		return Receipt{}, ErrBeforeOpened
	case us.At.After(u.now):
		return Receipt{}, ErrFutureUsage
	}
	key := MeterKey{Day: e.cal.day(us.At), Service: us.Service, Tier: us.Tier}
	book, err := e.bookOf(u.a.Currency, key.Day)
	if err != nil {
		return Receipt{}, err
	}
	basic := us.Service == ServiceBasic
	if basic {
		err = rc.checkBasic(book, us.Scenario, us.Tier)
	} else {
		err = e.checkValueAdded(u, book, us)
	}
	if err != nil {
		return Receipt{}, err
	}
	if u.a.Status.Suspended && !us.At.Before(u.a.Status.Since) {
		return Receipt{}, ErrSuspended
	}
	m, err := u.tx.Meter(key)
	if err != nil {
		return Receipt{}, err
	}
	if m.Key != key || !m.consistent() {
		return Receipt{}, fmt.Errorf("%w: meter %v", ErrCorrupt, key)
	}
	if m.Seconds > maxMeterSeconds-us.Seconds {
		return Receipt{}, ErrInvalidSeconds
	}
	before := m.Minutes()
	m.Seconds += us.Seconds
	r := Receipt{Key: key, Minutes: m.Minutes() - before}
	if !basic {
		if err := u.expire(); err != nil {
			return Receipt{}, err
		}
		if r.Minutes > 0 {
			r.Postpaid, m.Postpaid = r.Minutes, m.Postpaid+r.Minutes
			u.append(Entry{Kind: EntryPostpaid, Key: key, Minutes: r.Minutes, App: us.App})
		}
		u.putMeter(m)
		u.putUsage(us, r)
		return r, nil
	}

	need, touched, err := rc.draw(u, us, r.Minutes)
	if err != nil {
		return Receipt{}, err
	}
	drawn := 0
	for i := range touched {
		if touched[i].draw.Minutes > 0 {
			drawn++
		}
	}
	if drawn > 0 {
		r.Draws = rc.newDraws(drawn)
	}
	for i := range touched {
		t := &touched[i]
		if t.draw.Minutes == 0 {
			u.forfeit(&t.p)
			continue
		}
		u.append(Entry{Kind: EntryDeduction, Package: t.p.ID, Balance: -t.draw.Deducted,
			Key: key, Minutes: t.draw.Minutes, App: us.App, Scenario: us.Scenario})
		u.putPackage(t.p)
		r.Draws = append(r.Draws, t.draw)
		m.Prepaid += t.draw.Minutes
	}
	if need > 0 {
		if !u.a.Postpaid.On && u.a.AutoPostpaidArmed {
			u.turnPostpaidOn(PostpaidAutomatic)
			r.PostpaidOn = true
		}
		en := Entry{Key: key, Minutes: need, App: us.App, Scenario: us.Scenario}
		if u.a.Postpaid.On {
			en.Kind, r.Postpaid, m.Postpaid = EntryPostpaid, need, m.Postpaid+need
			u.append(en)
		} else {
			en.Kind, r.Shortfall, m.Shortfall = EntryShortfall, need, m.Shortfall+need
			u.append(en)
			if !u.a.Status.Suspended {
				u.a.Status = Status{Suspended: true, Since: u.now, Reason: ReasonUncovered}
				u.append(Entry{Kind: EntrySuspended})
				r.Suspended = true
			}
		}
	}
	u.putMeter(m)
	u.putUsage(us, r)
	return r, nil
}

// putUsage writes the usage record, and lists the meter of a closed day for
// the next bill's adjustments. Nothing before it may refuse the usage.
func (u *unit) putUsage(us *Usage, r Receipt) {
	if k := r.Key; k.Day <= u.a.SettledThrough && !slices.Contains(u.a.Late, k) {
		u.a.Late = append(u.a.Late, k)
	}
	u.tx.PutUsage(UsageRecord{Usage: *us, Receipt: r})
	u.dirty = true
}

// checkBasic is book.checkBasic(s, t), which it skips for the pair it
// accepted last in book: a stream of usage mostly repeats its scenario and
// tier. It remembers the book's strings, not the caller's.
func (rc *recorder) checkBasic(book *PriceBook, s Scenario, t Tier) error {
	if c := &rc.basic; c.book == book && c.scenario == s && c.tier == t {
		return nil
	}
	sc, tc, err := book.checkBasic(s, t)
	if err == nil {
		rc.basic.book, rc.basic.scenario, rc.basic.tier = book, sc, tc
	}
	return err
}
