package billing

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"time"
)

// Postpaid is a postpaid switch: an application's, or the account's, which
// turns on every application's. It goes on in one of three ways and never
// goes off: there is no method to turn it off, and the Engine refuses with
// ErrCorrupt an account record whose switch fields disagree (off but with a
// Way or a Since), with an application suspended with its switch on, or
// with the account's switch on and an application's off. A
// record rewritten to a consistent "off" is caught by a Store wrapped with
// [GuardSwitch], for the accounts it has seen on.
type Postpaid struct {
	On bool `json:"on"`
	// Since is when the switch went on (zero while off): the time of the
	// usage that turned it on automatically, or the Engine's time of the
	// opening, of the application's creation or of the EnablePostpaid
	// call; for an application's switch turned on by the account's, the
	// later of that and the application's creation.
	Since time.Time `json:"since"`
	// Way is how it went on ("" while off).
	Way PostpaidWay `json:"way"`
}

// equal reports whether p and q are the same switch.
func (p Postpaid) equal(q Postpaid) bool {
	return p.On == q.On && p.Way == q.Way && p.Since.Equal(q.Since)
}

// PostpaidWay is how the postpaid switch went on. The values are stored by
// Stores and never change.
type PostpaidWay string

// The three ways the postpaid switch goes on.
const (
	// PostpaidAtOpening: chosen when the account was opened ("do not suspend
	// the service; postpaid at list price"), for all its applications.
	PostpaidAtOpening PostpaidWay = "at-opening"
	// PostpaidAtCreation: chosen when the application was created.
	PostpaidAtCreation PostpaidWay = "at-creation"
	// PostpaidEnabled: turned on later by [Engine.EnablePostpaid].
	PostpaidEnabled PostpaidWay = "enabled"
	// PostpaidAutomatic: turned on by usage that no package could cover, on
	// an account that has bought a universal package.
	PostpaidAutomatic PostpaidWay = "automatic"
)

func (p Postpaid) consistent() bool {
	switch p.Way {
	case "":
		return !p.On && p.Since.IsZero()
	case PostpaidAtOpening, PostpaidAtCreation, PostpaidEnabled, PostpaidAutomatic:
		return p.On && !p.Since.IsZero()
	}
	return false
}

// EnablePostpaid turns the postpaid switch of the account's application
// app on (the console's "Enable postpaid" on the application's page),
// lifting its suspension; app "" (or LegacyApp) turns the account's switch
// on, and with it every application's, present and future. It turns the
// day's basic shortfall into postpaid minutes: from then on, usage of the
// application that no package covers is billed at list price. A switch
// never goes off. The first call for an application (or for the account)
// is an operation at the Engine's time in the reference order (see
// [OpKey]), and App.EnabledAt (or Account.EnabledAt) records it; it turns
// the day's shortfall into postpaid even if the switch was already on.
// Later calls change nothing. It also forfeits the balance of packages
// that have expired.
//
// Errors wrap ErrInvalidID, ErrUnknownApp, ErrInvalidTime (the clock),
// ErrNotFound, ErrCorrupt, or a Store or context error.
func (e *Engine) EnablePostpaid(ctx context.Context, account, app string) (Account, error) {
	fail := func(err error) (Account, error) {
		return Account{}, &Error{Op: "EnablePostpaid", Account: account, ID: app, Err: err}
	}
	switch {
	case !validID(account):
		return fail(invalidID("account id", account))
	case app != "" && !validID(app):
		return fail(invalidID("app id", app))
	}
	a, _, err := e.update(ctx, RequestEnablePostpaid, app, account, func(u *unit) error {
		at := &u.a.EnabledAt
		if app != "" {
			i := u.a.created(app)
			if i < 0 {
				return fmt.Errorf("%w %q", ErrUnknownApp, app)
			}
			at = &u.a.Apps[i].EnabledAt
		}
		if err := u.expire(); err != nil {
			return err
		}
		if !at.IsZero() {
			return nil
		}
		ops := [1]op{{key: OpKey{At: u.now, Class: ClassCall}, enable: true, app: app}}
		err := e.place(u, ops[:])
		// after: a replay must not find the call stored too
		if app != "" {
			at = &u.a.Apps[u.a.created(app)].EnabledAt
		}
		*at, u.dirty = u.now, true
		return err
	})
	if err != nil {
		return fail(err)
	}
	return a, nil
}

// enable applies an EnablePostpaid call for app ("" for the account) at
// instant at: the switch goes on (if it is off), and the basic shortfall
// of its rounding window (its day, or its month on the monthly cycle)
// becomes postpaid.
func (e *Engine) enable(u *unit, app string, at time.Time) error {
	if app == "" {
		if !u.a.Postpaid.On {
			u.turnPostpaidOn(PostpaidEnabled, at)
		}
	} else if i := u.a.created(app); i >= 0 && !u.a.Apps[i].Postpaid.On {
		u.turnAppOn(i, PostpaidEnabled, at)
	}
	var short []Meter
	err := u.r.Meters(e.window(&u.a, e.cal.day(at)), func(m Meter) bool {
		if m.Key.Service == ServiceBasic && m.Shortfall > 0 {
			short = append(short, m)
		}
		return true
	})
	for _, m := range short {
		n := m.Shortfall
		m.Shortfall, m.Postpaid = 0, m.Postpaid+n
		m.EarlierShortfall, m.EarlierPostpaid = 0, m.EarlierPostpaid+m.EarlierShortfall
		u.append(Entry{Kind: EntryShortfall, Key: m.Key, Minutes: -n})
		u.append(Entry{Kind: EntryPostpaid, Key: m.Key, Minutes: n})
		u.putMeter(m)
	}
	return err
}

// turnPostpaidOn turns the account's switch on at instant at (it is off),
// and with it the switch of every application whose switch is off, at the
// later of at and its creation.
func (u *unit) turnPostpaidOn(way PostpaidWay, at time.Time) {
	u.a.Postpaid = Postpaid{On: true, Since: at, Way: way}
	u.append(Entry{Kind: EntryPostpaidOn})
	for i := range u.a.Apps {
		if p := &u.a.Apps[i]; !p.Postpaid.On {
			u.turnAppOn(i, way, later(at, p.Created))
		}
	}
}

// turnAppOn turns the switch of application i on at instant at (it is
// off) and lifts its suspension.
func (u *unit) turnAppOn(i int, way PostpaidWay, at time.Time) {
	p := &u.a.Apps[i]
	p.Postpaid = Postpaid{On: true, Since: at, Way: way}
	u.append(Entry{Kind: EntryPostpaidOn, App: p.ID})
	u.resume(i, at)
}

// suspend suspends application i at instant at, reporting whether it was
// active.
func (u *unit) suspend(i int, at time.Time) bool {
	p := &u.a.Apps[i]
	if p.Status.Suspended {
		return false
	}
	p.Status = Status{Suspended: true, Since: at, Reason: ReasonUncovered}
	u.append(Entry{Kind: EntrySuspended, App: p.ID})
	return true
}

// resume lifts the suspension of application i at instant at, reporting
// whether there was one.
func (u *unit) resume(i int, at time.Time) bool {
	p := &u.a.Apps[i]
	if !p.Status.Suspended {
		return false
	}
	p.Suspensions = append(p.Suspensions, Interval{Since: p.Status.Since, Until: at})
	p.Status = Status{}
	u.append(Entry{Kind: EntryResumed, App: p.ID})
	return true
}

// resumeAll lifts the suspension of every application at instant at,
// reporting whether there was one.
func (u *unit) resumeAll(at time.Time) bool {
	was := false
	for i := range u.a.Apps {
		was = u.resume(i, at) || was
	}
	return was
}

// later returns the later of t and s.
func later(t, s time.Time) time.Time {
	if s.After(t) {
		return s
	}
	return t
}

// Status is an application's service status.
type Status struct {
	// Suspended: no new session of the application may start (see
	// [Engine.Admit]) until a package is bought or granted (a recurring
	// grant) or postpaid is enabled.
	// Usage is still recorded.
	Suspended bool `json:"suspended"`
	// Since is when the application was suspended: the time of the first usage,
	// in the reference order, that nothing could pay for (zero while
	// active).
	Since time.Time `json:"since"`
	// Reason says why the application is suspended ("" while active).
	Reason string `json:"reason"`
}

// equal reports whether s and t are the same status.
func (s Status) equal(t Status) bool {
	return s.Suspended == t.Suspended && s.Since.Equal(t.Since) && s.Reason == t.Reason
}

// ReasonUncovered is the Reason of a suspension caused by basic usage that
// no package could cover while postpaid was off: a trial-only account whose
// trial ran out. It is not a suspension for arrears.
const ReasonUncovered = "usage not covered: packages used up or expired, postpaid off"

func (s Status) consistent() bool {
	if s.Suspended {
		return !s.Since.IsZero() && s.Reason != ""
	}
	return s.Since.IsZero() && s.Reason == ""
}

// GuardSwitch returns a Store that works as s does and also remembers, for
// the accounts with a postpaid switch it has seen on (the account's or an
// application's, in a record read, or in Changes applied through it), how
// many were on and the lowest Version at which that many were: a record of
// that Version or later read with fewer on is refused with an error
// wrapping ErrCorrupt. It guards against a Store, or someone with access to
// it, turning a switch off behind the Engine's back; it cannot know what
// other processes saw, and holds up to about a million accounts,
// forgetting arbitrary ones beyond.
func GuardSwitch(s Store) Store { return &switchGuard{Store: s, w: newWitness()} }

type switchGuard struct {
	Store
	w *witness
}

func (g *switchGuard) Update(ctx context.Context, account string, fn func(Reader) (Changes, error)) error {
	var written *Account
	err := g.Store.Update(ctx, account, func(r Reader) (Changes, error) {
		ch, err := fn(g.reader(r))
		written = ch.Account
		return ch, err
	})
	if err == nil && written != nil {
		g.w.check(written)
	}
	return err
}

func (g *switchGuard) View(ctx context.Context, account string, fn func(Reader) error) error {
	return g.Store.View(ctx, account, func(r Reader) error { return fn(g.reader(r)) })
}

// reader returns r, checking the account it reads; a Prefetcher stays one.
func (g *switchGuard) reader(r Reader) Reader {
	if p, ok := r.(Prefetcher); ok {
		return guardedPrefetcher{guarded{r, g.w}, p}
	}
	return guarded{r, g.w}
}

type guarded struct {
	Reader
	w *witness
}

func (r guarded) Account() (Account, error) {
	a, err := r.Reader.Account()
	if err == nil && !r.w.check(&a) {
		return Account{}, fmt.Errorf("%w: account %q: a postpaid switch read off after it was on", ErrCorrupt, a.ID)
	}
	return a, err
}

type guardedPrefetcher struct {
	guarded
	Prefetcher
}

// witness remembers, for the accounts it has seen with a postpaid switch
// on, how many were on and the lowest Version at which it saw that many. A
// record of that Version or later with fewer on is corrupt; an older one
// is a legitimate stale snapshot (a Store may hand one to a unit of work
// whose commit it will then refuse with ErrConflict). It holds at most
// witnessShards × witnessPerShard accounts, forgetting arbitrary ones
// beyond.
type witness struct {
	seed   maphash.Seed
	shards [witnessShards]struct {
		sync.RWMutex
		on map[string]seen
	}
}

// seen is how many switches a witness saw on, from which Version.
type seen struct {
	version int64
	on      int
}

const (
	witnessShards   = 64
	witnessPerShard = 1 << 14
)

func newWitness() *witness {
	w := &witness{seed: maphash.MakeSeed()}
	for i := range w.shards {
		w.shards[i].on = make(map[string]seen)
	}
	return w
}

// check reports whether account a's switches are consistent with what the
// witness saw before, and remembers them if one is on.
func (w *witness) check(a *Account) bool {
	n := 0
	if a.Postpaid.On {
		n++
	}
	for i := range a.Apps {
		if a.Apps[i].Postpaid.On {
			n++
		}
	}
	s := &w.shards[maphash.String(w.seed, a.ID)%witnessShards]
	s.RLock()
	was, ok := s.on[a.ID]
	s.RUnlock()
	switch {
	case ok && n < was.on:
		return a.Version < was.version
	case n == 0 || ok && n == was.on && a.Version >= was.version:
		return true
	}
	s.Lock()
	if len(s.on) >= witnessPerShard {
		for id := range s.on {
			delete(s.on, id)
			break
		}
	}
	if v, ok := s.on[a.ID]; !ok || n > v.on || n == v.on && a.Version < v.version {
		s.on[a.ID] = seen{version: a.Version, on: n}
	}
	s.Unlock()
	return true
}
