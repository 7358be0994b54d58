package billingtest

import (
	"sync"
	"time"
)

// Clock is a controllable clock for tests and replays: give its Now to
// billing.Options.Now, then Set or Advance it. It is safe for concurrent use.
// The zero Clock reads the zero time, which an Engine refuses: start it with
// NewClock or Set.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock that reads t until it is moved.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t, forwards or back (an Engine never stamps an
// account earlier than its last operation: see billing.Account.Touched).
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock forwards by d (backwards if d is negative) and
// returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}
