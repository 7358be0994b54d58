package billing_test

import (
	"testing"

	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/billingtest"
	"github.com/rtcbill/billing/memstore"
)

// TestGuardSwitchStore checks that a Store wrapped with GuardSwitch keeps
// every promise of the Store contract.
func TestGuardSwitchStore(t *testing.T) {
	billingtest.TestStore(t, func(*testing.T) billing.Store { return billing.GuardSwitch(memstore.New()) })
}

// prefetchReader is a Reader that is a Prefetcher, counting its calls.
type prefetchReader struct {
	billing.Reader
	calls *int
}

func (r prefetchReader) Prefetch([]string, []billing.MeterKey) error {
	*r.calls++
	return nil
}

// TestGuardSwitchKeepsPrefetcher checks that the Reader GuardSwitch hands
// to the Engine stays a Prefetcher when the Store's is one: recording a
// usage prefetches once.
func TestGuardSwitchKeepsPrefetcher(t *testing.T) {
	calls := 0
	store := billing.GuardSwitch(wrapStore{Store: memstore.New(), wrap: func(r billing.Reader) billing.Reader {
		return prefetchReader{r, &calls}
	}})
	h := newHarnessOn(t, store)
	h.do(open(at(15, 8, 0, 0), true))
	calls = 0
	h.do(use("u1", hd, 60, at(15, 9, 0, 0)))
	if calls != 1 {
		t.Errorf("Prefetch called %d times for one usage, want 1", calls)
	}
}

// TestGuardSwitchLearnsOnlyWhatIsApplied checks that GuardSwitch learns
// the switch from Changes only once the Store has applied them: an
// EnablePostpaid whose commit fails leaves nothing for the guard to hold
// against the account, whose switch is then legitimately still off.
func TestGuardSwitchLearnsOnlyWhatIsApplied(t *testing.T) {
	inner := memstore.New()
	fail := false
	fs := &faultyStore{Store: inner, next: func() fault {
		if fail {
			return failCommit
		}
		return noFault
	}}
	h := newHarnessOn(t, billing.GuardSwitch(fs))
	h.do(open(at(15, 8, 0, 0), false)) // version 1, switch off
	fail = true
	h.clock.Set(at(15, 9, 0, 0))
	if _, err := h.e.EnablePostpaid(h.ctx, "a", ""); err == nil {
		t.Fatal("EnablePostpaid succeeded on a failing commit")
	}
	fail = false
	// The account moves on at version 2 with the switch off, written
	// around the guard (another process, say): the guard must read it.
	other, err := billing.New(inner, &billing.Options{Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Record(h.ctx, *usage("u1", audio, 60, at(15, 9, 0, 0))); err != nil {
		t.Fatal(err)
	}
	if o, err := h.e.Overview(h.ctx, "a"); err != nil || o.Account.Postpaid.On {
		t.Errorf("Overview through the guard = switch %+v, %v; want the account, switch off", o.Account.Postpaid, err)
	}
}
