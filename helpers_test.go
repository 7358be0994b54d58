package billing_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/memstore"
	"github.com/shopspring/decimal"
)

// cst is the default billing time zone, UTC+8.
var cst = time.FixedZone("UTC+8", 8*60*60)

// at returns 2021-03-d hh:mm:ss in UTC+8; d may run past the month's end.
func at(d, hh, mm, ss int) time.Time {
	return time.Date(2021, 3, d, hh, mm, ss, 0, cst)
}

// march returns the billing day 2021-03-d.
func march(d int) billing.Day { return refDateDay(2021, 3, d) }

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// tb is what the helpers need of a *testing.T or a *rapid.T.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
}

// harness is an Engine on a fresh memstore with a settable clock.
type harness struct {
	t     tb
	ctx   context.Context
	clock *clock
	store billing.Store
	e     *billing.Engine
}

func newHarness(t tb, books ...billing.PriceBook) *harness {
	t.Helper()
	return newHarnessOn(t, memstore.New(), books...)
}

func newHarnessOn(t tb, store billing.Store, books ...billing.PriceBook) *harness {
	t.Helper()
	h := &harness{t: t, ctx: context.Background(), clock: &clock{t: at(1, 8, 0, 0)}, store: store}
	var err error
	h.e, err = billing.New(store, &billing.Options{Now: h.clock.Now, PriceBooks: books})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return h
}

// noTrial is the Era 1 USD book without a trial, so that tests of package
// arithmetic see only the packages they buy.
func noTrial() billing.PriceBook {
	b := billing.Era1USD()
	b.ID = "era1-usd-no-trial"
	b.Trial = billing.Grant{}
	return b
}

// withMonthly is noTrial plus "monthly", a custom kind with the universal
// ratios, valid one month (so it expires before a universal package), that
// does not arm the automatic postpaid switch.
func withMonthly() billing.PriceBook {
	b := noTrial()
	b.ID = "era1-usd-monthly"
	b.Kinds = append(b.Kinds, billing.PackageKind{
		Name:     "monthly",
		Ratios:   []billing.Ratio{{Tier: billing.TierAudio, Minutes: 1}, {Tier: billing.TierSD, Minutes: 2}, {Tier: billing.TierHD, Minutes: 4}, {Tier: billing.TierFHD, Minutes: 15}},
		Validity: billing.Validity{Months: 1},
		Pricing:  billing.Pricing{Unit: 1, Bands: []billing.Band{{From: 0, PerMinute: dec("0.001")}}},
	})
	return b
}

// op is one setup step: it sets the clock to now (if not zero), then does
// what its one non-nil field says.
type op struct {
	now    time.Time
	open   *billing.AccountSpec
	buy    *billing.Purchase
	use    *billing.Usage
	enable string
	create *billing.AppSpec // an application of account "a"
	settle billing.Day      // if not zero
}

func (h *harness) do(ops ...op) {
	h.t.Helper()
	for i, o := range ops {
		if !o.now.IsZero() {
			h.clock.Set(o.now)
		}
		var err error
		switch {
		case o.open != nil:
			_, err = h.e.OpenAccount(h.ctx, *o.open)
		case o.buy != nil:
			_, err = h.e.Buy(h.ctx, *o.buy)
		case o.use != nil:
			_, err = h.e.Record(h.ctx, *o.use)
		case o.enable != "":
			_, err = h.e.EnablePostpaid(h.ctx, o.enable, "")
		case o.create != nil:
			_, err = h.e.CreateApp(h.ctx, "a", *o.create)
		case o.settle != 0:
			_, err = h.e.Settle(h.ctx, "a", o.settle)
		}
		if err != nil {
			h.t.Fatalf("setup step %d: %v", i, err)
		}
	}
}

// open is an op that opens account "a", with application "app1", at now.
func open(now time.Time, postpaid bool) op {
	return op{now: now, open: &billing.AccountSpec{ID: "a", Postpaid: postpaid, App: "app1"}}
}

// buy is an op that buys a package for account "a" at now.
func buy(now time.Time, id, kind string, minutes int64) op {
	return op{now: now, buy: &billing.Purchase{ID: id, Account: "a", Kind: kind, Minutes: minutes}}
}

// settle is an op that settles day d of account "a" at now.
func settle(now time.Time, d billing.Day) op { return op{now: now, settle: d} }

// use is an op that records usage of account "a" at its own time.
func use(id string, tier billing.Tier, seconds int64, t time.Time) op {
	return op{now: t, use: usage(id, tier, seconds, t)}
}

// usage returns usage of account "a", app "app1", in the video call
// scenario (audio call for the audio tier).
func usage(id string, tier billing.Tier, seconds int64, t time.Time) *billing.Usage {
	s := billing.VideoCall
	if tier == billing.TierAudio {
		s = billing.AudioCall
	}
	return &billing.Usage{ID: id, Account: "a", App: "app1", Scenario: s, Tier: tier, Seconds: seconds, At: t}
}

// state is everything an account holds, for comparing before and after.
type state struct {
	Overview billing.Overview
	Ledger   []billing.Entry
	Totals   map[string]string // the ledger's totals (see totals)
	Meters   map[billing.Day][]billing.Meter
}

// ignoreLedgerEntries compares states by their ledgers' totals only: the
// same operations in another order of arrival make other entries.
var ignoreLedgerEntries = cmp.Options{cmpopts.IgnoreFields(state{}, "Ledger"),
	cmpopts.IgnoreFields(billing.Account{}, "Version", "LastSeq", "Touched", "SinceCheckpoint", "GrantsThrough")}

// totals sums a ledger: each package's Balance, each meter's minutes of
// each kind, and the Amount of each kind of entry.
func totals(l []billing.Entry) map[string]string {
	minutes, amounts := map[string]int64{}, map[string]decimal.Decimal{}
	for _, e := range l {
		if e.Package != "" {
			minutes["package "+e.Package] += e.Balance
		}
		if e.Key != (billing.MeterKey{}) {
			minutes[fmt.Sprintf("%v %s", e.Key, e.Kind)] += e.Minutes
		}
		if !e.Amount.IsZero() {
			amounts[string(e.Kind)] = amounts[string(e.Kind)].Add(e.Amount)
		}
	}
	t := map[string]string{}
	for k, n := range minutes {
		if n != 0 {
			t[k] = fmt.Sprint(n)
		}
	}
	for k, a := range amounts {
		t[k] = a.String()
	}
	return t
}

func (h *harness) state(account string, days ...billing.Day) state {
	h.t.Helper()
	o, err := h.e.Overview(h.ctx, account)
	if err != nil {
		h.t.Fatalf("Overview: %v", err)
	}
	l, err := h.e.Ledger(h.ctx, account, time.Time{}, time.Time{})
	if err != nil {
		h.t.Fatalf("Ledger: %v", err)
	}
	s := state{Overview: o, Ledger: l, Totals: totals(l), Meters: map[billing.Day][]billing.Meter{}}
	for _, d := range days {
		if s.Meters[d], err = h.e.Meters(h.ctx, account, d); err != nil {
			h.t.Fatalf("Meters: %v", err)
		}
	}
	return s
}

// balances returns the Balance of each of the account's packages.
func (h *harness) balances(account string) map[string]int64 {
	h.t.Helper()
	o, err := h.e.Overview(h.ctx, account)
	if err != nil {
		h.t.Fatalf("Overview: %v", err)
	}
	b := map[string]int64{}
	for _, p := range o.Packages {
		b[p.ID] = p.Balance
	}
	return b
}

func (h *harness) meter(account string, k billing.MeterKey) billing.Meter {
	h.t.Helper()
	ms, err := h.e.Meters(h.ctx, account, k.Day)
	if err != nil {
		h.t.Fatalf("Meters: %v", err)
	}
	for _, m := range ms {
		if m.Key == k {
			return m
		}
	}
	return billing.Meter{Key: k}
}

func (h *harness) account(id string) billing.Account {
	h.t.Helper()
	o, err := h.e.Overview(h.ctx, id)
	if err != nil {
		h.t.Fatalf("Overview: %v", err)
	}
	return o.Account
}

// cmpOpts compares times as instants and errors with errors.Is.
var cmpOpts = cmp.Options{cmpopts.EquateErrors(), cmpopts.EquateEmpty()}

func basic(d billing.Day, t billing.Tier) billing.MeterKey {
	return billing.MeterKey{Day: d, Service: billing.ServiceBasic, Tier: t}
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// cmpIgnoreAccountBookkeeping leaves out of a comparison the Account fields
// that identify it or count its history.
var cmpIgnoreAccountBookkeeping = cmpopts.IgnoreFields(billing.Account{}, "ID", "Currency", "Opened", "Version", "Touched", "LastSeq", "SettledThrough", "GrantsThrough",
	"Frontier", "SinceCheckpoint")

// wrapStore is a Store whose units of work read through the Reader wrap
// makes of the Store's.
type wrapStore struct {
	billing.Store
	wrap func(billing.Reader) billing.Reader
}

func (s wrapStore) Update(ctx context.Context, id string, fn func(billing.Reader) (billing.Changes, error)) error {
	return s.Store.Update(ctx, id, func(r billing.Reader) (billing.Changes, error) { return fn(s.wrap(r)) })
}
