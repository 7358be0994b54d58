package billing

import (
	"hash/maphash"
	"sync"
	"time"
)

// Postpaid is an account's postpaid switch. It goes on in one of three ways
// and never goes off: there is no method to turn it off, and an account whose
// stored switch reads off after the Engine saw it on, or whose fields
// disagree, is refused with ErrCorrupt.
type Postpaid struct {
	On bool
	// Since is when the switch went on (zero while off).
	Since time.Time
	// Way is how it went on ("" while off).
	Way PostpaidWay
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

// Status is an account's service status.
type Status struct {
	// Suspended accounts refuse basic usage until a package is bought or
	// postpaid is enabled.
	Suspended bool
	// Since is when the account was suspended (zero while active).
	Since time.Time
	// Reason says why the account is suspended ("" while active).
	Reason string
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

// witness remembers the accounts this Engine has seen with postpaid on, so
// that a Store handing one back with the switch off is caught. It holds one
// entry per such account.
type witness struct {
	seed   maphash.Seed
	shards [64]struct {
		sync.RWMutex
		on map[string]struct{}
	}
}

func newWitness() *witness {
	w := &witness{seed: maphash.MakeSeed()}
	for i := range w.shards {
		w.shards[i].on = make(map[string]struct{})
	}
	return w
}

// check records that account a's switch is on, or reports false if it is off
// although this Engine saw it on.
func (w *witness) check(a *Account) bool {
	s := &w.shards[maphash.String(w.seed, a.ID)%uint64(len(w.shards))]
	s.RLock()
	_, seen := s.on[a.ID]
	s.RUnlock()
	if a.Postpaid.On && !seen {
		s.Lock()
		s.on[a.ID] = struct{}{}
		s.Unlock()
	}
	return a.Postpaid.On || !seen
}
