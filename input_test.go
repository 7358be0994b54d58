package billing_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/rtcbill/billing"
)

// TestIdempotency checks that replaying an id with the same request returns
// the first result and changes nothing, and that the same id with another
// request is refused and changes nothing.
func TestIdempotency(t *testing.T) {
	days := []billing.Day{march(15), march(16)}
	setup := func(t *testing.T) *harness {
		h := newHarness(t)
		h.do(open(at(15, 8, 0, 0), false), buy(at(15, 8, 30, 0), "p1", uni, 1000), use("u1", hd, 61, at(15, 9, 0, 0)))
		h.clock.Set(at(16, 10, 0, 0)) // a day later: a replay must not depend on the clock
		return h
	}
	u1 := usage("u1", hd, 61, at(15, 9, 0, 0))
	firstReceipt := billing.Receipt{Key: basic(march(15), hd), Minutes: 2, Draws: []billing.Draw{{Package: "trial", Minutes: 2, Deducted: 2}}}

	t.Run("usage replay", func(t *testing.T) {
		h := setup(t)
		before := h.state("a", days...)
		got, err := h.e.Record(h.ctx, *u1)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(firstReceipt, got, cmpOpts); diff != "" {
			t.Errorf("replayed receipt (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(before, h.state("a", days...), cmpOpts); diff != "" {
			t.Errorf("replay changed the account (-before +after):\n%s", diff)
		}
	})
	t.Run("usage replay, the time in another zone", func(t *testing.T) {
		h := setup(t)
		u := *u1
		u.At = u.At.UTC()
		got, err := h.e.Record(h.ctx, u)
		if err != nil || !cmp.Equal(firstReceipt, got, cmpOpts) {
			t.Errorf("Record(same instant in UTC) = %+v, %v; want the first receipt", got, err)
		}
	})
	for _, tt := range []struct {
		name   string
		change func(*billing.Usage)
	}{
		{"another app", func(u *billing.Usage) { u.App = "app2" }},
		{"another scenario", func(u *billing.Usage) { u.Scenario = billing.VideoLive }},
		{"another tier", func(u *billing.Usage) { u.Tier = sd }},
		{"other seconds", func(u *billing.Usage) { u.Seconds = 62 }},
		{"another time", func(u *billing.Usage) { u.At = u.At.Add(time.Second) }},
	} {
		t.Run("usage id reused: "+tt.name, func(t *testing.T) {
			h := setup(t)
			before := h.state("a", days...)
			u := *u1
			tt.change(&u)
			_, err := h.e.Record(h.ctx, u)
			if !errors.Is(err, billing.ErrIdempotencyConflict) {
				t.Errorf("Record() error = %v, want ErrIdempotencyConflict", err)
			}
			if diff := cmp.Diff(before, h.state("a", days...), cmpOpts); diff != "" {
				t.Errorf("refused usage changed the account (-before +after):\n%s", diff)
			}
		})
	}
	t.Run("purchase replay and reuse", func(t *testing.T) {
		h := setup(t)
		before := h.state("a", days...)
		got, err := h.e.Buy(h.ctx, billing.Purchase{ID: "p1", Account: "a", Kind: uni, Minutes: 1000})
		if err != nil {
			t.Fatal(err)
		}
		want := billing.PurchaseReceipt{Day: march(15),
			Package: pkg("p1", uni, "era1-usd", 1000, "0.99", at(15, 8, 30, 0), at(15, 0, 0, 0), time.Date(2022, 4, 1, 0, 0, 0, 0, cst))}
		want.Package.Currency = "USD"
		if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
			t.Errorf("replayed purchase (-want +got):\n%s", diff)
		}
		_, err = h.e.Buy(h.ctx, billing.Purchase{ID: "p1", Account: "a", Kind: uni, Minutes: 2000})
		if !errors.Is(err, billing.ErrIdempotencyConflict) {
			t.Errorf("Buy(p1, other size) error = %v, want ErrIdempotencyConflict", err)
		}
		if diff := cmp.Diff(before, h.state("a", days...), cmpOpts); diff != "" {
			t.Errorf("replay or reuse changed the account (-before +after):\n%s", diff)
		}
	})
	t.Run("opening replay and reuse", func(t *testing.T) {
		h := setup(t)
		before := h.state("a", days...)
		got, err := h.e.OpenAccount(h.ctx, billing.AccountSpec{ID: "a", App: "app1"})
		if err != nil || !cmp.Equal(before.Overview.Account, got) {
			t.Errorf("OpenAccount(same) = %+v, %v; want the account unchanged", got, err)
		}
		for _, spec := range []billing.AccountSpec{{ID: "a", Postpaid: true}, {ID: "a", Currency: "CNY"}} {
			if _, err := h.e.OpenAccount(h.ctx, spec); !errors.Is(err, billing.ErrIdempotencyConflict) {
				t.Errorf("OpenAccount(%+v) error = %v, want ErrIdempotencyConflict", spec, err)
			}
		}
		if diff := cmp.Diff(before, h.state("a", days...), cmpOpts); diff != "" {
			t.Errorf("reopening changed the account (-before +after):\n%s", diff)
		}
	})
}

// TestBadUsage checks that each kind of bad usage gets its documented error
// and leaves the account unchanged.
func TestBadUsage(t *testing.T) {
	now := at(15, 12, 0, 0)
	ok := *usage("u9", hd, 60, at(15, 11, 0, 0))
	tests := []struct {
		name    string
		change  func(*billing.Usage)
		wantErr error
	}{
		{"negative seconds", func(u *billing.Usage) { u.Seconds = -60 }, billing.ErrInvalidSeconds},
		{"zero seconds", func(u *billing.Usage) { u.Seconds = 0 }, billing.ErrInvalidSeconds},
		{"absurd seconds", func(u *billing.Usage) { u.Seconds = billing.MaxUsageSeconds + 1 }, billing.ErrInvalidSeconds},
		{"the largest int64 seconds", func(u *billing.Usage) { u.Seconds = math.MaxInt64 }, billing.ErrInvalidSeconds},
		{"unknown account", func(u *billing.Usage) { u.Account = "nobody" }, billing.ErrNotFound},
		{"unknown scenario", func(u *billing.Usage) { u.Scenario = "screen-share" }, billing.ErrUnknownScenario},
		{"empty scenario", func(u *billing.Usage) { u.Scenario = "" }, billing.ErrUnknownScenario},
		{"unknown tier", func(u *billing.Usage) { u.Tier = "4k" }, billing.ErrUnknownTier},
		{"a video tier in audio live streaming", func(u *billing.Usage) { u.Scenario = billing.AudioLive }, billing.ErrTierNotInScenario},
		{"a video tier in an audio call", func(u *billing.Usage) { u.Scenario = billing.AudioCall }, billing.ErrTierNotInScenario},
		{"before the account was opened", func(u *billing.Usage) { u.At = at(15, 7, 59, 59) }, billing.ErrBeforeOpened},
		{"after the engine's clock", func(u *billing.Usage) { u.At = now.Add(time.Second) }, billing.ErrFutureUsage},
		{"no time", func(u *billing.Usage) { u.At = time.Time{} }, billing.ErrInvalidTime},
		{"empty usage id", func(u *billing.Usage) { u.ID = "" }, billing.ErrInvalidID},
		{"usage id too long", func(u *billing.Usage) { u.ID = strings.Repeat("x", billing.MaxIDLength+1) }, billing.ErrInvalidID},
		{"usage id with a control character", func(u *billing.Usage) { u.ID = "u\x00" }, billing.ErrInvalidID},
		{"usage id not UTF-8", func(u *billing.Usage) { u.ID = "u\xff" }, billing.ErrInvalidID},
		{"empty account id", func(u *billing.Usage) { u.Account = "" }, billing.ErrInvalidID},
		{"empty app id", func(u *billing.Usage) { u.App = "" }, billing.ErrInvalidID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.do(open(at(15, 8, 0, 0), false), use("u1", hd, 30, at(15, 9, 0, 0)))
			h.clock.Set(now)
			before := h.state("a", march(15))
			u := ok
			tt.change(&u)
			_, err := h.e.Record(h.ctx, u)
			if diff := cmp.Diff(tt.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("Record() error (-want +got):\n%s", diff)
			}
			var be *billing.Error
			if !errors.As(err, &be) || be.Op != "Record" || be.Account != u.Account || be.ID != u.ID {
				t.Errorf("Record() error = %#v, want a *billing.Error naming the operation, account and usage", err)
			}
			if diff := cmp.Diff(before, h.state("a", march(15)), cmpOpts); diff != "" {
				t.Errorf("bad usage changed the account (-before +after):\n%s", diff)
			}
		})
	}
}

func TestUsageOutsideEveryPriceBook(t *testing.T) {
	until := at(20, 0, 0, 0)
	b := billing.Era1USD()
	b.Until = until
	h := newHarness(t, b)
	h.do(open(at(15, 8, 0, 0), true))
	h.clock.Set(until)
	before := h.state("a", march(20))
	_, err := h.e.Record(h.ctx, *usage("u1", audio, 60, until))
	if !errors.Is(err, billing.ErrNoPriceBook) {
		t.Errorf("Record(at Until) error = %v, want ErrNoPriceBook", err)
	}
	if _, err := h.e.Buy(h.ctx, billing.Purchase{ID: "p1", Account: "a", Kind: uni, Minutes: 1000}); !errors.Is(err, billing.ErrNoPriceBook) {
		t.Errorf("Buy(after Until) error = %v, want ErrNoPriceBook", err)
	}
	if _, err := h.e.OpenAccount(h.ctx, billing.AccountSpec{ID: "b", App: "app1"}); !errors.Is(err, billing.ErrNoPriceBook) {
		t.Errorf("OpenAccount(after Until) error = %v, want ErrNoPriceBook", err)
	}
	if diff := cmp.Diff(before, h.state("a", march(20)), cmpOpts); diff != "" {
		t.Errorf("refused calls changed the account (-before +after):\n%s", diff)
	}
	if _, err := h.e.Record(h.ctx, *usage("u2", audio, 60, until.Add(-time.Second))); err != nil {
		t.Errorf("Record(a second before Until) error = %v, want none", err)
	}
}

func TestMeterOverflow(t *testing.T) {
	h := newHarness(t)
	h.do(open(at(15, 8, 0, 0), true))
	k := basic(march(15), audio)
	// Put a meter just below the bound straight into the Store.
	seconds := int64(1<<60) - 10
	err := h.store.Update(h.ctx, "a", func(r billing.Reader) (billing.Changes, error) {
		a, err := r.Account()
		if err != nil {
			return billing.Changes{}, err
		}
		a.Version++
		return billing.Changes{Account: &a, Meters: []billing.Meter{{Key: k, Seconds: seconds, Postpaid: (seconds + 59) / 60}}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Set(at(15, 9, 0, 0))
	before := h.state("a", march(15))
	if _, err := h.e.Record(h.ctx, *usage("u1", audio, 11, at(15, 9, 0, 0))); !errors.Is(err, billing.ErrInvalidSeconds) {
		t.Errorf("Record() error = %v, want ErrInvalidSeconds", err)
	}
	if diff := cmp.Diff(before, h.state("a", march(15)), cmpOpts); diff != "" {
		t.Errorf("refused usage changed the account (-before +after):\n%s", diff)
	}
	if _, err := h.e.Record(h.ctx, *usage("u2", audio, 10, at(15, 9, 0, 0))); err != nil {
		t.Errorf("Record(up to the bound) error = %v", err)
	}
}

func TestBadPurchase(t *testing.T) {
	tests := []struct {
		name    string
		p       billing.Purchase
		wantErr error
	}{
		{"unknown kind", billing.Purchase{ID: "p1", Account: "a", Kind: "gold", Minutes: 1000}, billing.ErrUnknownKind},
		{"the trial is not for sale", billing.Purchase{ID: "p1", Account: "a", Kind: billing.KindTrial, Minutes: 1000}, billing.ErrUnknownKind},
		{"not a multiple of 1,000", billing.Purchase{ID: "p1", Account: "a", Kind: uni, Minutes: 1500}, billing.ErrInvalidMinutes},
		{"zero minutes", billing.Purchase{ID: "p1", Account: "a", Kind: uni, Minutes: 0}, billing.ErrInvalidMinutes},
		{"negative minutes", billing.Purchase{ID: "p1", Account: "a", Kind: uni, Minutes: -1000}, billing.ErrInvalidMinutes},
		{"absurd minutes", billing.Purchase{ID: "p1", Account: "a", Kind: uni, Minutes: billing.MaxPackageMinutes + 1000}, billing.ErrInvalidMinutes},
		{"the reserved id", billing.Purchase{ID: billing.TrialID, Account: "a", Kind: uni, Minutes: 1000}, billing.ErrInvalidID},
		{"empty id", billing.Purchase{ID: "", Account: "a", Kind: uni, Minutes: 1000}, billing.ErrInvalidID},
		{"unknown account", billing.Purchase{ID: "p1", Account: "b", Kind: uni, Minutes: 1000}, billing.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.do(open(at(15, 8, 0, 0), false), use("u1", audio, 60, at(15, 9, 0, 0)))
			before := h.state("a", march(15))
			_, err := h.e.Buy(h.ctx, tt.p)
			if diff := cmp.Diff(tt.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("Buy() error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, h.state("a", march(15)), cmpOpts); diff != "" {
				t.Errorf("refused purchase changed the account (-before +after):\n%s", diff)
			}
		})
	}
}

func TestUnknownAccount(t *testing.T) {
	h := newHarness(t)
	if _, err := h.e.EnablePostpaid(h.ctx, "nobody", ""); !errors.Is(err, billing.ErrNotFound) {
		t.Errorf("EnablePostpaid() error = %v, want ErrNotFound", err)
	}
	if _, err := h.e.Overview(h.ctx, "nobody"); !errors.Is(err, billing.ErrNotFound) {
		t.Errorf("Overview() error = %v, want ErrNotFound", err)
	}
	if _, err := h.e.Ledger(h.ctx, "nobody", time.Time{}, time.Time{}); !errors.Is(err, billing.ErrNotFound) {
		t.Errorf("Ledger() error = %v, want ErrNotFound", err)
	}
	if _, err := h.e.OpenAccount(h.ctx, billing.AccountSpec{ID: "a", Currency: "EUR", App: "app1"}); !errors.Is(err, billing.ErrNoPriceBook) {
		t.Errorf("OpenAccount(EUR) error = %v, want ErrNoPriceBook", err)
	}
	if _, err := h.e.Overview(h.ctx, "a"); !errors.Is(err, billing.ErrNotFound) {
		t.Errorf("Overview(a refused opening) error = %v, want ErrNotFound", err)
	}
}

func TestContextCancelled(t *testing.T) {
	h := newHarness(t)
	h.do(open(at(15, 8, 0, 0), false))
	before := h.state("a", march(15))
	ctx, cancel := context.WithCancel(h.ctx)
	cancel()
	h.clock.Set(at(15, 9, 0, 0))
	if _, err := h.e.Record(ctx, *usage("u1", audio, 60, at(15, 9, 0, 0))); !errors.Is(err, context.Canceled) {
		t.Errorf("Record(cancelled) error = %v, want context.Canceled", err)
	}
	if diff := cmp.Diff(before, h.state("a", march(15)), cmpOpts); diff != "" {
		t.Errorf("cancelled Record changed the account (-before +after):\n%s", diff)
	}
}

// TestScenarioCheckedPerBook checks that a scenario one account's book
// prices is refused for an account whose book does not, right after the
// first account recorded it (the Engine remembers the last pair a book
// accepted).
func TestScenarioCheckedPerBook(t *testing.T) {
	cny := billing.Era1CNY()
	cny.Scenarios = slices.DeleteFunc(slices.Clone(cny.Scenarios), func(s billing.ScenarioSpec) bool { return s.Scenario == billing.VideoCall })
	h := newHarness(t, billing.Era1USD(), cny)
	h.do(op{now: at(15, 8, 0, 0), open: &billing.AccountSpec{ID: "a", Postpaid: true, App: "app1"}},
		op{now: at(15, 8, 0, 0), open: &billing.AccountSpec{ID: "b", Currency: cny.Currency, Postpaid: true, App: "app1"}})
	h.clock.Set(at(15, 12, 0, 0))
	// The Engine keeps what it remembers in recorders it reuses through a
	// sync.Pool, which drops a quarter of them at random under the race
	// detector: in 20 rounds, some round all but certainly hands the
	// recorder that accepted the scenario for a to b.
	for i := range 20 {
		u := *usage(fmt.Sprint("u", i), hd, 61, at(15, 9, 0, 0))
		if _, err := h.e.Record(h.ctx, u); err != nil {
			t.Fatalf("video call on the USD book: %v", err)
		}
		u.Account = "b"
		if _, err := h.e.Record(h.ctx, u); !errors.Is(err, billing.ErrUnknownScenario) {
			t.Fatalf("video call on a CNY book without it: %v, want ErrUnknownScenario", err)
		}
	}
}
