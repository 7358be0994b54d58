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
	ID      string `json:"id"`
	Account string `json:"account"`
	// App is the application (SDKAppID) the usage belongs to, required: a
	// label kept on the ledger for per-application breakdowns.
	App string `json:"app"`
	// Service is ServiceBasic (or empty, which means it) or a value-added service.
	Service  Service  `json:"service"`
	Scenario Scenario `json:"scenario"`
	Tier     Tier     `json:"tier"`
	// Seconds is the duration, in 1..MaxUsageSeconds.
	Seconds int64 `json:"seconds"`
	// At is when the usage happened; it decides the billing day (and so the
	// price book, see [PriceBook]) and the packages that can cover it.
	At time.Time `json:"at"`
}

// MaxUsageSeconds is the largest Seconds of one usage (about 31,700 years:
// enough for usage aggregated over many users, small enough to be absurd).
const MaxUsageSeconds = 1_000_000_000_000

// maxMeterSeconds bounds a meter's cumulative seconds.
const maxMeterSeconds = 1 << 60

// overflow returns ErrInvalidSeconds for a usage whose seconds would take
// its meter, of had seconds, past maxMeterSeconds.
func overflow(seconds, had int64) error {
	return fmt.Errorf("%w: %d seconds more would take the meter's %d seconds past %d", ErrInvalidSeconds,
		seconds, had, int64(maxMeterSeconds))
}

// Receipt is what recording one usage did. Its parts add up:
// the Minutes of all Draws, plus Postpaid, plus Shortfall, equal Minutes.
type Receipt struct {
	// Key is the meter the usage was added to: its rounding window (see
	// MeterKey), service and tier.
	Key MeterKey `json:"key"`
	// Minutes is the billable minutes this usage added: the window's ceiling of
	// the meter's seconds after it, minus the ceiling before it. Successive
	// small usages never pay twice for one started minute.
	Minutes int64 `json:"minutes"`
	// Draws are the packages that covered minutes, in deduction order.
	Draws []Draw `json:"draws"`
	// Postpaid is the minutes billed at list price.
	Postpaid int64 `json:"postpaid"`
	// Shortfall is the minutes nothing could pay for. The usage's
	// application was suspended at the usage's time: by this usage
	// (Suspended) or before it.
	Shortfall int64 `json:"shortfall"`
	// PostpaidOn reports that this usage turned the account's postpaid
	// switch, and with it every application's, on automatically (the
	// account had bought a universal package, and no package could cover
	// the usage).
	PostpaidOn bool `json:"postpaid_on"`
	// Suspended reports that this usage suspended its application.
	Suspended bool `json:"suspended"`
	// WhileSuspended reports that the usage's application was already
	// suspended at the usage's time (at or after its Status.Since). The
	// usage is recorded all the same (usage is a fact): packages valid then
	// still cover what they can, and the rest is shortfall (basic usage) or
	// postpaid (value-added usage). The host should stop the application's
	// sessions.
	WhileSuspended bool `json:"while_suspended"`
	// Late reports that the usage came after operations later than it in
	// the reference order (see [OpKey]), or on a settled day. Recording it
	// replayed them, and the receipt tells what the usage got at its own
	// place; what changed for the operations after it (a package that ran
	// out sooner, a purchase that absorbed its minutes) is in the ledger
	// entries under its id.
	Late bool `json:"late"`
	// AppDisabled reports that the host had disabled the usage's application
	// at its time, as reported when the usage was recorded (see
	// [Engine.DisableApp]): a session that should have stopped. The usage is
	// billed as any other.
	AppDisabled bool `json:"app_disabled"`
	// NoBasicService reports, for value-added usage, that no basic service
	// was available at its time (see [Admission]): the session should not
	// have started. Its minutes are recorded and billed all the same.
	NoBasicService bool `json:"no_basic_service"`
	// InArrears reports that the account was suspended for arrears at the
	// usage's time, as reported when the usage was recorded (see
	// [Engine.ReportOverdue]): a session that was already running. The usage
	// is billed as any other: packages cover it, the rest is postpaid or
	// shortfall.
	InArrears bool `json:"in_arrears"`
}

// Draw is the part of a usage one package covered.
type Draw struct {
	Package string `json:"package"`
	// Minutes is the billable minutes covered; whole minutes only.
	Minutes int64 `json:"minutes"`
	// Deducted is the package minutes taken: Minutes × the kind's ratio for the tier.
	Deducted int64 `json:"deducted"`
}

// UsageRecord is a recorded usage and the receipt it got.
type UsageRecord struct {
	Usage   Usage   `json:"usage"`
	Receipt Receipt `json:"receipt"`
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
		return fmt.Errorf("%w: %d seconds, not in 1..%d", ErrInvalidSeconds, u.Seconds, int64(MaxUsageSeconds))
	case u.At.IsZero():
		return fmt.Errorf("%w: the usage's time is the zero time", ErrInvalidTime)
	}
	return c.valid(u.At) // a day outside MinDay..MaxDay
}

func (u *Usage) same(v *Usage) bool {
	return u.ID == v.ID && u.Account == v.Account && u.App == v.App && u.Service == v.Service && u.Scenario == v.Scenario &&
		u.Tier == v.Tier && u.Seconds == v.Seconds && u.At.Equal(v.At)
}

// Record records usage and returns its receipt.
//
// Usage is a fact: Record refuses only malformed input (see the errors
// below), never because of the account's state.
//
// Basic usage's billable minutes are covered, whole minute by whole minute,
// by the packages valid at its time in deduction order (soonest expiry, then
// earliest purchase, then id; first those whose kind is First, then those
// bound to the usage's application: see [ComparePackages]), each at its
// kind's ratio for the tier; a
// package whose balance is smaller than one minute's ratio is left for tiers
// with smaller ratios. Minutes no package covers are billed postpaid if the
// switch of the usage's application is on; else, if the account has bought a
// universal package, the account's switch goes on automatically, and with it
// every application's; else they are kept as the day's shortfall and the
// application is suspended. Usage of a suspended application, at or after
// its suspension, is recorded the same way (its uncovered minutes are shortfall;
// Receipt.WhileSuspended tells the host); whether a new session may start is
// [Engine.Admit]'s question.
//
// Value-added usage is covered only by packages whose kind has ratios for
// its service (none of Era 1's; Era 2's free minutes cover recording), in
// the same way; the rest of its minutes are postpaid, whatever the switch. It needs a basic service
// to go with it; reported without one (the application suspended or
// disabled, the account in arrears, or nothing to pay for basic usage at
// its time), it is recorded and billed all the same,
// with Receipt.NoBasicService set.
//
// Usage is applied at its place in the reference order, by its time: a
// usage that comes after usage of later times, or after a purchase or an
// EnablePostpaid call, replays them (see the package documentation, "Event
// time and arrival order", and Receipt.Late). Usage of a day already
// settled is metered on its own meter, applied at the start of the first
// unsettled day (among such usage by time, then id) and covered by the
// packages valid both at its own time and at that start; its minutes are
// billed as adjustments on the next bill. Recording usage in
// order also forfeits the balance of packages that have expired.
//
// Recording a usage id again with the same usage returns the first receipt
// and changes nothing.
//
// Errors wrap ErrInvalidID, ErrInvalidSeconds (also when the usage's meter
// would overflow), ErrInvalidTime (the zero time, a time on a day outside
// MinDay..MaxDay, or the clock), ErrNotFound (no such account),
// ErrUnknownApp (no such application; see [LegacyApp]),
// ErrIdempotencyConflict, ErrBeforeOpened, ErrFutureUsage, ErrNoPriceBook,
// ErrUnknownScenario, ErrUnknownTier, ErrTierNotInScenario, ErrUnknownService,
// ErrCorrupt, or a Store or context error. On error nothing is recorded.
func (e *Engine) Record(ctx context.Context, us Usage) (Receipt, error) {
	if err := us.check(e.cal); err != nil {
		return Receipt{}, &Error{Op: "Record", Account: us.Account, ID: us.ID, Err: err}
	}
	u := e.newUnit(RequestRecord, us.ID, us.Account, recordOne)
	defer e.done(u)
	u.usage = us
	if err := e.exec(ctx, u); err != nil {
		return Receipt{}, &Error{Op: "Record", Account: us.Account, ID: us.ID, Err: cause(err)}
	}
	return u.receipt, nil
}

// Usages returns the account's usage records whose time is in [from, to),
// in the order of their times, then ids: the reference order. A zero to
// means no upper bound. Each record holds the usage as reported and the
// receipt it got.
//
// Errors wrap ErrInvalidID, ErrNotFound, ErrCorrupt, or a Store or context error.
func (e *Engine) Usages(ctx context.Context, account string, from, to time.Time) ([]UsageRecord, error) {
	var us []UsageRecord
	err := e.view(ctx, "Usages", account, func(r Reader, _ *Account) error {
		return r.Usages(from, to, func(u UsageRecord) bool { us = append(us, u); return true })
	})
	return us, err
}

// recordOne is the body of Record's unit of work.
func recordOne(u *unit) error {
	if err := u.e.prefetch(u, &u.usage); err != nil {
		return err
	}
	us, d := &u.usage, u.e.cal.day(u.usage.At)
	old, repeated, err := u.e.accept(u, us, d)
	key := usageKey(us)
	switch {
	case err != nil:
		return err
	case repeated:
		u.receipt = old
		return nil
	case d > u.a.SettledThrough && key.Compare(u.a.Frontier) > 0 && !u.a.Frontier.At.IsZero():
		// place's case of a usage in order, without building an op (the
		// common case: see docs/PERFORMANCE.md)
		u.receipt, err = u.e.record(u, us, key, u.e.meterKey(&u.a, us, d))
		return err
	}
	u.ops = append(u.ops[:0], u.e.usageOp(&u.a, us, d))
	o := &u.ops[0]
	if err := u.e.place(u, u.ops); err != nil {
		return err
	}
	if o.err != nil {
		return o.err
	}
	u.receipt = o.receipt
	return nil
}

// prefetch has a Store whose Reader is a Prefetcher load the records
// recording the usages us will read, in one round trip.
func (e *Engine) prefetch(u *unit, us ...*Usage) error {
	p, ok := u.r.(Prefetcher)
	if !ok {
		return nil
	}
	ids, keys := make([]string, len(us)), make([]MeterKey, len(us))
	for i, v := range us {
		ids[i], keys[i] = v.ID, e.meterKey(&u.a, v, e.cal.day(v.At))
	}
	return p.Prefetch(ids, keys)
}

// accept checks that us, of day d, may be recorded on the account of u.
// For a usage recorded before under its id it returns the first receipt
// and true.
func (e *Engine) accept(u *unit, us *Usage, d Day) (Receipt, bool, error) {
	switch old, err := u.r.Usage(us.ID); {
	case err == nil && old.Usage.same(us):
		return old.Receipt, true, nil
	case err == nil:
		return Receipt{}, false, refuse(fmt.Errorf("%w: the usage was recorded with other fields", ErrIdempotencyConflict))
	case !errors.Is(err, ErrNotFound):
		return Receipt{}, false, err
	}
	app, err := u.a.appAt(us.App, us.At, e.cal.loc)
	if err != nil {
		return Receipt{}, false, refuse(err)
	}
	if us.At.After(u.now) {
		return Receipt{}, false, refuse(ErrFutureUsage)
	}
	book, err := e.bookFor(&u.a, d)
	if err != nil {
		return Receipt{}, false, refuse(err)
	}
	if us.Service == ServiceBasic {
		err = book.checkBasic(us.Scenario, us.Tier)
	} else {
		err = e.checkValueAdded(book, us, u.a.Cohort(), u.a.Apps[app].Created)
	}
	return Receipt{}, false, err
}

// use applies usage us, accepted, to its meter key (see meterKey) at its
// place in the reference order: it adds its seconds to the meter and pays
// for the billable minutes they add. The instants of a suspension and of
// the automatic switch it causes are its time.
func (e *Engine) use(u *unit, us *Usage, key MeterKey) (Receipt, error) {
	d := key.Day
	m, err := u.r.Meter(key)
	if err != nil {
		return Receipt{}, err
	}
	if m.Key != key || !m.consistent() {
		return Receipt{}, fmt.Errorf("%w: meter %v", ErrCorrupt, key)
	}
	if m.Seconds > maxMeterSeconds-us.Seconds {
		return Receipt{}, refuse(overflow(us.Seconds, m.Seconds))
	}
	day := d
	if u.a.Cycle == Monthly {
		day = e.cal.day(us.At)
		m.onDay(day)
	}
	before := m.Minutes()
	m.Seconds += us.Seconds
	r := Receipt{Key: key, Minutes: m.Minutes() - before}
	i := u.a.app(us.App, us.At)
	if i < 0 { // accepted against the account as it was read: a replay's is the same
		return Receipt{}, fmt.Errorf("%w: usage %q of application %q", ErrCorrupt, us.ID, us.App)
	}
	ap := &u.a.Apps[i]
	r.WhileSuspended = ap.Status.Suspended && !us.At.Before(ap.Status.Since)
	r.InArrears = u.a.inArrears(us.At) != nil
	r.AppDisabled = ap.disabled(us.At)
	drawn := us.Service == ServiceBasic
	if !drawn {
		why, err := e.basicService(u.r, &u.a, i, u.now, us.At, us.Service)
		if err != nil {
			return Receipt{}, err
		}
		r.NoBasicService = why != nil
		if drawn, err = e.drawsValueAdded(&u.a, us.Service, d); err != nil {
			return Receipt{}, err
		}
		if !drawn { // the draw forfeits what has expired, else this
			if err := u.expire(); err != nil {
				return Receipt{}, err
			}
		}
	}
	need, touched := r.Minutes, []touch(nil)
	if drawn {
		var err error
		if need, touched, err = e.draw(u, us, d, r.Minutes); err != nil {
			return Receipt{}, err
		}
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
	switch {
	case need == 0:
	case us.Service != ServiceBasic: // postpaid whatever the switch
		r.Postpaid, m.Postpaid = need, m.Postpaid+need
		u.append(Entry{Kind: EntryPostpaid, Key: key, Minutes: need, App: us.App})
	default:
		if !u.a.Postpaid.On && u.a.AutoPostpaidArmed {
			u.turnPostpaidOn(PostpaidAutomatic, us.At)
			r.PostpaidOn = true
		}
		en := Entry{Key: key, Minutes: need, App: us.App, Scenario: us.Scenario}
		if ap.Postpaid.On {
			en.Kind, r.Postpaid, m.Postpaid = EntryPostpaid, need, m.Postpaid+need
			u.append(en)
		} else {
			en.Kind, r.Shortfall, m.Shortfall = EntryShortfall, need, m.Shortfall+need
			u.append(en)
			r.Suspended = u.suspend(i, us.At)
		}
	}
	if day < d+Day(m.Latest) { // usage of a settled month, reported late
		m.EarlierPostpaid += r.Postpaid
		m.EarlierShortfall += r.Shortfall
	}
	u.putMeter(m)
	return r, nil
}

// drawsValueAdded reports whether value-added usage of service s on day d
// of account a draws on packages: if some book's kind covers a value-added
// service, and the day is not free for the account (see
// ValueAddedService.EarlierAccountsFrom).
func (e *Engine) drawsValueAdded(a *Account, s Service, d Day) (bool, error) {
	if !e.packagesCoverValueAdded {
		return false, nil
	}
	book, err := e.bookFor(a, d)
	if err != nil {
		return false, err
	}
	v, ok := book.valueAdded(s)
	return ok && !v.free(a.Cohort(), e.cal.start(d)), nil
}

// putUsage writes the usage record, and lists the meter of a closed day for
// the next bill's adjustments. Nothing before it may refuse the usage.
func (u *unit) putUsage(us *Usage, r Receipt) {
	if k := r.Key; k.Day <= u.a.SettledThrough && !slices.Contains(u.a.Late, k) {
		u.a.Late = append(u.a.Late, k)
	}
	u.ch.Usages = append(u.ch.Usages, UsageRecord{Usage: *us, Receipt: r})
}
