package billing

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"time"
)

// Postpaid is an account's postpaid switch. It goes on in one of three ways
// and never goes off: there is no method to turn it off, and the Engine
// refuses with ErrCorrupt an account record whose switch fields disagree (off
// but with a Way or a Since), or that is suspended with the switch on. A
// record rewritten to a consistent "off" is caught by a Store wrapped with
// [GuardSwitch], for the accounts it has seen on.
type Postpaid struct {
	On bool
	// Since is when the switch went on (zero while off): the time of the
	// usage that turned it on automatically, or the Engine's time of the
	// opening or of the EnablePostpaid call.
	Since time.Time
	// Way is how it went on ("" while off).
	Way PostpaidWay
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
	// the service; postpaid at list price").
	PostpaidAtOpening PostpaidWay = "at-opening"
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
	case PostpaidAtOpening, PostpaidEnabled, PostpaidAutomatic:
		return p.On && !p.Since.IsZero()
	}
	return false
}

// EnablePostpaid turns the account's postpaid switch on (the console's
// "enable postpaid"), lifting a suspension, and turns the day's shortfall
// into postpaid minutes: from then on, usage that no package covers is
// billed at list price. The switch never goes off. The first call is an
// operation at the Engine's time in the reference order (see [OpKey]), and
// Account.EnabledAt records it; it turns the day's shortfall into postpaid
// even if the switch was already on. Later calls change nothing. It also
// forfeits the balance of packages that have expired.
//
// Errors wrap ErrInvalidID, ErrInvalidTime (the clock), ErrNotFound,
// ErrCorrupt, or a Store or context error.
func (e *Engine) EnablePostpaid(ctx context.Context, account string) (Account, error) {
	if !validID(account) {
		return Account{}, &Error{Op: "EnablePostpaid", Account: account, Err: invalidID("account id", account)}
	}
	a, _, err := e.update(ctx, RequestEnablePostpaid, "", account, func(u *unit) error {
		if err := u.expire(); err != nil {
			return err
		}
		if !u.a.EnabledAt.IsZero() {
			return nil
		}
		ops := [1]op{{key: OpKey{At: u.now, Class: ClassCall}, enable: true}}
		err := e.place(u, ops[:])
		u.a.EnabledAt, u.dirty = u.now, true // after: a replay must not find the call stored too
		return err
	})
	if err != nil {
		return Account{}, &Error{Op: "EnablePostpaid", Account: account, Err: err}
	}
	return a, nil
}

// enable applies an EnablePostpaid call at instant at: the switch goes on
// (if it is off), and the day's basic shortfall becomes postpaid.
func (e *Engine) enable(u *unit, at time.Time) error {
	if !u.a.Postpaid.On {
		u.turnPostpaidOn(PostpaidEnabled, at)
	}
	var short []Meter
	err := u.r.Meters(e.cal.day(at), func(m Meter) bool {
		if m.Key.Service == ServiceBasic && m.Shortfall > 0 {
			short = append(short, m)
		}
		return true
	})
	for _, m := range short {
		n := m.Shortfall
		m.Shortfall, m.Postpaid = 0, m.Postpaid+n
		u.append(Entry{Kind: EntryShortfall, Key: m.Key, Minutes: -n})
		u.append(Entry{Kind: EntryPostpaid, Key: m.Key, Minutes: n})
		u.putMeter(m)
	}
	return err
}

// turnPostpaidOn turns the switch on at instant at (it is off) and lifts a
// suspension.
func (u *unit) turnPostpaidOn(way PostpaidWay, at time.Time) {
	u.a.Postpaid = Postpaid{On: true, Since: at, Way: way}
	u.append(Entry{Kind: EntryPostpaidOn})
	u.resume(at)
}

// suspend suspends the account at instant at, reporting whether it was
// active.
func (u *unit) suspend(at time.Time) bool {
	if u.a.Status.Suspended {
		return false
	}
	u.a.Status = Status{Suspended: true, Since: at, Reason: ReasonUncovered}
	u.append(Entry{Kind: EntrySuspended})
	return true
}

// resume lifts a suspension at instant at, reporting whether there was one.
func (u *unit) resume(at time.Time) bool {
	if !u.a.Status.Suspended {
		return false
	}
	u.a.Suspensions = append(u.a.Suspensions, Interval{Since: u.a.Status.Since, Until: at})
	u.a.Status = Status{}
	u.append(Entry{Kind: EntryResumed})
	return true
}

// Status is an account's service status.
type Status struct {
	// Suspended: no new session may start (see [Engine.Admit]) until a
	// package is bought or postpaid is enabled. Usage is still recorded.
	Suspended bool
	// Since is when the account was suspended: the time of the first usage,
	// in the reference order, that nothing could pay for (zero while
	// active).
	Since time.Time
	// Reason says why the account is suspended ("" while active).
	Reason string
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
// the accounts whose postpaid switch it has seen on (in a record read, or
// in Changes applied through it), the lowest Version at which it was on: a
// record of that Version or later read with the switch off is refused with
// an error wrapping ErrCorrupt. It guards against a Store, or someone with
// access to it, turning the switch off behind the Engine's back; it cannot
// know what other processes saw, and holds up to about a million accounts,
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
		return Account{}, fmt.Errorf("%w: account %q: postpaid switch read off after it was on", ErrCorrupt, a.ID)
	}
	return a, err
}

type guardedPrefetcher struct {
	guarded
	Prefetcher
}

// witness remembers, for the accounts it has seen with postpaid on, the
// lowest Version at which it saw the switch on. A record of that
// Version or later with the switch off is corrupt; an older one is a
// legitimate stale snapshot (a Store may hand one to a unit of work whose
// commit it will then refuse with ErrConflict). It holds at most
// witnessShards × witnessPerShard accounts, forgetting arbitrary ones beyond.
type witness struct {
	seed   maphash.Seed
	shards [witnessShards]struct {
		sync.RWMutex
		on map[string]int64
	}
}

const (
	witnessShards   = 64
	witnessPerShard = 1 << 14
)

func newWitness() *witness {
	w := &witness{seed: maphash.MakeSeed()}
	for i := range w.shards {
		w.shards[i].on = make(map[string]int64)
	}
	return w
}

// check reports whether account a's switch is consistent with what the
// witness saw before, and remembers it if it is on.
func (w *witness) check(a *Account) bool {
	s := &w.shards[maphash.String(w.seed, a.ID)%witnessShards]
	s.RLock()
	since, seen := s.on[a.ID]
	s.RUnlock()
	switch {
	case !a.Postpaid.On:
		return !seen || a.Version < since
	case !seen || a.Version < since:
		s.Lock()
		if len(s.on) >= witnessPerShard {
			for id := range s.on {
				delete(s.on, id)
				break
			}
		}
		if v, ok := s.on[a.ID]; !ok || a.Version < v {
			s.on[a.ID] = a.Version
		}
		s.Unlock()
	}
	return true
}
