package billing

import (
	"cmp"
	"strings"
	"time"
)

// OpKey places an operation in its account's reference order: by At, then
// Class, then ID (byte order). A usage is at (its time, ClassUsage, its id);
// a granted package (the trial at the opening, a recurring grant at the
// start of its day) at (that instant, ClassOpening, its id), before the
// usages of that instant; a purchase at (the Engine's time of the call,
// ClassCall, its id), the
// first EnablePostpaid call for the account or for an application at (its
// time, ClassCall, ""), and a refund at (the
// start of the first unsettled day, ClassRefund, its id). Bills follow the
// reference order, whatever order the operations arrive in (see the package
// documentation, "Event time and arrival order").
type OpKey struct {
	At    time.Time `json:"at"`
	Class Class     `json:"class"`
	ID    string    `json:"id"`
}

// Class orders the operations of one instant: a refund, what the account
// had at opening, then a checkpoint taken there, then usage, then calls,
// then the state of an account migrated from before operations had keys.
type Class int8

// The classes of operations.
const (
	ClassRefund     Class = -3 // a refund, at the start of the first unsettled day (before its checkpoint)
	ClassOpening    Class = -2 // a package granted: the trial at opening, a recurring grant at the start of its day
	ClassCheckpoint Class = -1 // a checkpoint at the start of a settlement period
	ClassUsage      Class = 0
	ClassCall       Class = 1 // Buy and EnablePostpaid
	// ClassMigrated is the key, at its last unit of work, of the state of
	// an account recorded before operations had keys: after every
	// operation it had. Its operations with earlier keys are applied
	// there, in the order they arrive.
	ClassMigrated Class = 2
)

// Compare returns -1, 0 or +1 as k is before, the same as, or after l in the
// reference order.
func (k OpKey) Compare(l OpKey) int {
	return cmp.Or(k.At.Compare(l.At), cmp.Compare(k.Class, l.Class), strings.Compare(k.ID, l.ID))
}

// Interval is a span of time, [Since, Until); a zero Until means it has not
// ended.
type Interval struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
}

// equal reports whether i and j are the same span of time.
func (i Interval) equal(j Interval) bool { return i.Since.Equal(j.Since) && i.Until.Equal(j.Until) }

// Checkpoint is an account's state at one point of its reference order:
// just before the operations at or after Key. An operation that arrives
// late (its key is before the account's Frontier) is applied by replaying
// the account's operations from the latest checkpoint before it; the
// Engine writes one every CheckpointEvery operations, and one at the start
// of each settlement period. Checkpoints are the Engine's working records:
// a Store keeps them as it keeps the rest, and nothing outside the Engine
// needs to read them.
type Checkpoint struct {
	Key OpKey
	// Postpaid is the account's switch at Key.
	Postpaid Postpaid
	Armed    bool
	// Apps are the switches and statuses of the account's applications at
	// Key, in the order of Account.Apps; an application created later is
	// as it was created.
	Apps []AppState
	// Balances are the positive balances, at Key, of the packages bought
	// before Key and valid after Key.At (those the operations after it can
	// draw from), in deduction order.
	Balances []Balance
	// Meters are the meters of Key's billing day as they stood at Key, by
	// service, then tier (byte order). Their Settled counts are zero.
	// After them come the meters of settled days that Usages are of, as
	// they stood before those usages, in the order those came in.
	Meters []Meter
	// Usages are the ids of the usages of settled days sequenced at Key,
	// the start of the first unsettled period, after the state above, in
	// the order they came in: a replay from the checkpoint applies them
	// first, in the order of their times, then ids. Other checkpoints
	// have none.
	Usages []string
}

// Balance is a package's balance at a checkpoint.
type Balance struct {
	Package string
	Balance int64
}

// CheckpointEvery is how many operations applied in the reference order
// the Engine lets pass between two checkpoints. A late operation replays
// the operations from the checkpoint before it (at most this many) and
// those after it, up to the first checkpoint where the rest is known
// without replaying it (see the package documentation, "Event time and
// arrival order").
const CheckpointEvery = 64
