package billing_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
)

// monthlyBook is Era 1 USD without the trial, with 1,000 free minutes
// every month (ratio 1 for every tier), as Era 2's 10,000: on the first of
// each month, or with anniversary on the opening's day of the month. The
// kind's Validity is ignored (zero here, or a month).
func monthlyBook(anniversary bool) billing.PriceBook {
	b := noTrial()
	b.ID = "era1-usd-monthly"
	var v billing.Validity
	if anniversary {
		b.ID, v = "era1-usd-anniversary", billing.Validity{Months: 1}
	}
	b.Kinds = append(b.Kinds, billing.PackageKind{Name: "monthly", Validity: v,
		Ratios: []billing.Ratio{{Tier: audio, Minutes: 1}, {Tier: sd, Minutes: 1}, {Tier: hd, Minutes: 1}, {Tier: fhd, Minutes: 1}}})
	b.Monthly = billing.Recurring{Kind: "monthly", Minutes: 1000, Anniversary: anniversary}
	return b
}

// TestMonthlyGrantDays: which days grant, and each grant's validity. The
// opening's day always grants (from the opening); then the first of each
// month, or, for anniversary grants, the opening's day of the month (the
// last day of a shorter month). A grant lasts to the next grant day: no
// gap, no overlap.
func TestMonthlyGrantDays(t *testing.T) {
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, cst) }
	opened := time.Date(2021, 1, 31, 15, 0, 0, 0, cst)
	type grant struct {
		ID                      string
		PurchasedAt, Start, End time.Time
	}
	for _, tt := range []struct {
		name        string
		anniversary bool
		want        []grant
	}{
		{"the first of each month", false, []grant{
			{"grant:2021-01-31", opened, d(2021, 1, 31), d(2021, 2, 1)},
			{"grant:2021-02-01", d(2021, 2, 1), d(2021, 2, 1), d(2021, 3, 1)},
			{"grant:2021-03-01", d(2021, 3, 1), d(2021, 3, 1), d(2021, 4, 1)},
		}},
		// From the 31st: February's is on the 28th, March's on the 31st,
		// April's on the 30th; each lasts to the next.
		{"the opening's day of each month", true, []grant{
			{"grant:2021-01-31", opened, d(2021, 1, 31), d(2021, 2, 28)},
			{"grant:2021-02-28", d(2021, 2, 28), d(2021, 2, 28), d(2021, 3, 31)},
			{"grant:2021-03-31", d(2021, 3, 31), d(2021, 3, 31), d(2021, 4, 30)},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, monthlyBook(tt.anniversary))
			h.do(op{now: opened, open: &billing.AccountSpec{ID: "a", App: "app1"}})
			h.clock.Set(time.Date(2021, 3, 31, 12, 0, 0, 0, cst))
			var got []grant
			for _, p := range h.state("a").Overview.Packages {
				if p.Minutes != 1000 || p.Kind != "monthly" {
					t.Errorf("package %+v, want 1,000 monthly minutes", p)
				}
				got = append(got, grant{p.ID, p.PurchasedAt, p.Start, p.End})
			}
			// Overview lists packages in deduction order: soonest expiry first.
			if diff := cmp.Diff(tt.want, got, cmpOpts); diff != "" {
				t.Errorf("grants (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMonthlyGrant: the month's grant pays first; used up, the trial-less
// account's application is suspended; the next month's grant, due at the
// start of the month, lifts the suspension and pays, and Admit counts it
// before any unit of work has made it.
func TestMonthlyGrant(t *testing.T) {
	h := newHarness(t, monthlyBook(false))
	h.do(open(at(15, 8, 0, 0), false))
	// u1: 60,000 s of audio = 1,000 minutes, March's grant; u2: 1 more, nothing covers it.
	h.record("u1", "app1", audio, 60_000, at(20, 9, 0, 0), time.Time{})
	if r := h.record("u2", "app1", audio, 60, at(20, 10, 0, 0), time.Time{}); r.Shortfall != 1 || !r.Suspended {
		t.Fatalf("u2 receipt %+v, want 1 minute of shortfall, suspended", r)
	}
	april := time.Date(2021, 4, 1, 9, 0, 0, 0, cst)
	h.clock.Set(april)
	if why := h.admit("app1", april); why != nil {
		t.Errorf("Admit on April 1, before a unit of work made April's grant: %v, want admitted", why)
	}
	if why := h.admit("app1", at(31, 23, 0, 0)); !errors.Is(why, billing.ErrSuspended) {
		t.Errorf("Admit on March 31: %v, want ErrSuspended", why)
	}
	// u3: 120 s = 2 minutes, from April's grant, made at April 1 00:00.
	r := h.record("u3", "app1", audio, 120, april, time.Time{})
	want := billing.Receipt{Key: basic(refDateDay(2021, 4, 1), audio), Minutes: 2,
		Draws: []billing.Draw{{Package: "grant:2021-04-01", Minutes: 2, Deducted: 2}}}
	if diff := cmp.Diff(want, r, cmpOpts); diff != "" {
		t.Errorf("u3 receipt (-want +got):\n%s", diff)
	}
	s := h.state("a")
	wantApp := billing.App{ID: "app1", Created: at(15, 8, 0, 0),
		Suspensions: []billing.Interval{{Since: at(20, 10, 0, 0), Until: time.Date(2021, 4, 1, 0, 0, 0, 0, cst)}}}
	if diff := cmp.Diff(wantApp, s.Overview.Account.Apps[0], cmpOpts); diff != "" {
		t.Errorf("app1 (-want +got):\n%s", diff)
	}
	balances := map[string]int64{}
	for _, p := range s.Overview.Packages {
		balances[p.ID] = p.Balance
	}
	if diff := cmp.Diff(map[string]int64{"grant:2021-03-15": 0, "grant:2021-04-01": 998}, balances); diff != "" {
		t.Errorf("balances (-want +got):\n%s", diff)
	}
	grants := 0
	for _, en := range s.Ledger {
		if en.Kind == billing.EntryGrant {
			grants++
		}
		if en.Kind == billing.EntryPurchase {
			t.Errorf("a purchase entry %+v: a grant is not a purchase", en)
		}
	}
	if grants != 2 {
		t.Errorf("%d grant entries, want 2 (March's, April's)", grants)
	}
	// The grant ids are the Engine's: a purchase may not take one.
	if _, err := h.e.Buy(h.ctx, billing.Purchase{ID: "grant:2021-05-01", Account: "a", Kind: uni, Minutes: 25_000}); !errors.Is(err, billing.ErrInvalidID) {
		t.Errorf("Buy(grant:...) error %v, want ErrInvalidID", err)
	}
}

// TestMonthlyGrantDoesNotRollOver: what is left of a month's grant is
// forfeited once it has ended, the grace has passed and its last day is
// settled.
func TestMonthlyGrantDoesNotRollOver(t *testing.T) {
	h := newHarness(t, monthlyBook(false))
	h.do(open(at(15, 8, 0, 0), true))
	h.record("u1", "app1", audio, 600, at(31, 9, 0, 0), time.Time{}) // 10 minutes of March's 1,000
	h.clock.Set(time.Date(2021, 4, 1, 10, 0, 0, 0, cst))
	if _, err := h.e.Settle(h.ctx, "a", march(31)); err != nil {
		t.Fatal(err)
	}
	var got []billing.Package
	for _, p := range h.state("a").Overview.Packages {
		got = append(got, billing.Package{ID: p.ID, Balance: p.Balance, Forfeited: p.Forfeited})
	}
	want := []billing.Package{{ID: "grant:2021-03-15", Forfeited: 990}, {ID: "grant:2021-04-01", Balance: 1000}}
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
}

// TestPackagesCoverValueAdded: a kind with ratios for a value-added
// service's tiers covers its usage, as Era 2's free minutes cover cloud
// recording; what no package covers is postpaid, whatever the switch, and
// a suspended application's value-added usage is still drawn and billed.
func TestPackagesCoverValueAdded(t *testing.T) {
	b := monthlyBook(false)
	b.Kinds[len(b.Kinds)-1].Ratios = append(b.Kinds[len(b.Kinds)-1].Ratios,
		billing.Ratio{Tier: hd, Minutes: 2, Service: recording}) // recording HD at 2, nothing else of recording
	h := newHarness(t, b)
	h.do(open(at(15, 8, 0, 0), false))
	rec := func(id string, tier billing.Tier, seconds int64, at time.Time) billing.Receipt {
		h.clock.Set(at)
		r, err := h.e.Record(h.ctx, *vaUsage(id, recording, tier, seconds, at))
		if err != nil {
			t.Fatalf("Record(%s): %v", id, err)
		}
		return r
	}
	got := []billing.Receipt{
		// 600 s of HD recording: 10 minutes, 20 of the grant's.
		rec("r1", hd, 600, at(15, 9, 0, 0)),
		// FHD recording: no ratio, postpaid.
		rec("r2", fhd, 60, at(15, 9, 30, 0)),
		// 58,800 s of SD: 980 minutes, the grant's last 980.
		h.record("u1", "app1", sd, 58_800, at(15, 10, 0, 0), time.Time{}),
		// 1 more minute of HD recording: the grant is empty, postpaid;
		// the account's basic service is gone (no package, postpaid off).
		rec("r3", hd, 60, at(15, 11, 0, 0)),
	}
	want := []billing.Receipt{
		{Key: billing.MeterKey{Day: march(15), Service: recording, Tier: hd}, Minutes: 10,
			Draws: []billing.Draw{{Package: "grant:2021-03-15", Minutes: 10, Deducted: 20}}},
		{Key: billing.MeterKey{Day: march(15), Service: recording, Tier: fhd}, Minutes: 1, Postpaid: 1},
		{Key: basic(march(15), sd), Minutes: 980, Draws: []billing.Draw{{Package: "grant:2021-03-15", Minutes: 980, Deducted: 980}}},
		{Key: billing.MeterKey{Day: march(15), Service: recording, Tier: hd}, Minutes: 1, Postpaid: 1, NoBasicService: true},
	}
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("receipts (-want +got):\n%s", diff)
	}
	h.clock.Set(at(16, 10, 0, 0))
	bill, err := h.e.Settle(h.ctx, "a", march(15))
	if err != nil {
		t.Fatal(err)
	}
	// Recording HD: 11 minutes, 10 prepaid, 1 billed × 0.00199; FHD: 1 × 0.007499.
	// Subtotal 0.009489, total 0.01.
	var lines []billing.Line
	for _, l := range bill.Lines {
		if l.Service == recording {
			lines = append(lines, l)
		}
	}
	wantLines := []billing.Line{
		{Day: march(15), Service: recording, Tier: hd, Seconds: 660, Minutes: 11, Prepaid: 10, Postpaid: 1, Billed: 1,
			UnitPrice: dec("0.00199"), Amount: dec("0.00199")},
		{Day: march(15), Service: recording, Tier: fhd, Seconds: 60, Minutes: 1, Postpaid: 1, Billed: 1,
			UnitPrice: dec("0.007499"), Amount: dec("0.007499")},
	}
	if diff := cmp.Diff(wantLines, lines, cmpOpts); diff != "" {
		t.Errorf("recording lines (-want +got):\n%s", diff)
	}
	if !bill.Total.Equal(dec("0.01")) {
		t.Errorf("total %s, want 0.01 (0.009489 rounded)", bill.Total)
	}
}

// TestGrantsThroughAdvances: a unit of work that writes records the day
// it checked the grants through, with or without a book that grants, so
// the next one checks only the days after it.
func TestGrantsThroughAdvances(t *testing.T) {
	for _, books := range [][]billing.PriceBook{nil, {monthlyBook(false)}} {
		h := newHarness(t, books...)
		h.do(op{now: at(1, 8, 0, 0), open: &billing.AccountSpec{ID: "a", Postpaid: true, App: "app1"}})
		h.record("u1", "app1", audio, 60, at(15, 9, 0, 0), time.Time{})
		if got := h.account("a").GrantsThrough; got != march(15) {
			t.Errorf("books %v: GrantsThrough %v after a usage of March 15, want 2021-03-15", len(books), got)
		}
	}
}

// TestMonthlyGrantAtMidnight: a usage at the very instant a grant day
// begins is the grant's to pay: the grant comes first at that instant.
func TestMonthlyGrantAtMidnight(t *testing.T) {
	h := newHarness(t, monthlyBook(false))
	h.do(open(at(15, 8, 0, 0), false))
	h.record("u1", "app1", audio, 60_000, at(20, 9, 0, 0), time.Time{}) // March's 1,000 minutes
	midnight := time.Date(2021, 4, 1, 0, 0, 0, 0, cst)
	r := h.record("u2", "app1", audio, 60, midnight, time.Time{})
	want := billing.Receipt{Key: basic(refDateDay(2021, 4, 1), audio), Minutes: 1,
		Draws: []billing.Draw{{Package: "grant:2021-04-01", Minutes: 1, Deducted: 1}}}
	if diff := cmp.Diff(want, r, cmpOpts); diff != "" {
		t.Errorf("u2 at 00:00:00 (-want +got):\n%s", diff)
	}
}

// TestMonthlyGrantsAfterIdleMonths: an account idle for months gets each
// month's grant on its own, with checkpoints between them (one every
// operation here); late usage of February then draws on February's grant
// alone, and no grant loses minutes to a replay.
func TestMonthlyGrantsAfterIdleMonths(t *testing.T) {
	h := newHarness(t, monthlyBook(false))
	billing.SetCheckpointEvery(h.e, 1)
	h.do(op{now: time.Date(2020, 12, 15, 9, 0, 0, 0, cst), open: &billing.AccountSpec{ID: "a", Postpaid: true, App: "app1"}})
	h.record("u1", "app1", audio, 60, time.Date(2020, 12, 20, 10, 0, 0, 0, cst), time.Time{})
	// Reported on March 1, when the grants of January, February and March
	// are made: both late (before March's grant, at March 1 00:00).
	feb := func(h int) time.Time { return time.Date(2021, 2, 28, h, 0, 0, 0, cst) }
	now := time.Date(2021, 3, 1, 12, 0, 0, 0, cst)
	got := []billing.Receipt{
		h.record("x", "app1", audio, 60, feb(13), now),
		h.record("late", "app1", audio, 60, feb(12), now.Add(time.Hour)),
	}
	fromFeb := []billing.Draw{{Package: "grant:2021-02-01", Minutes: 1, Deducted: 1}}
	key := basic(refDateDay(2021, 2, 28), audio)
	want := []billing.Receipt{{Key: key, Minutes: 1, Draws: fromFeb, Late: true}, {Key: key, Minutes: 1, Draws: fromFeb, Late: true}}
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("receipts (-want +got):\n%s", diff)
	}
	// December's 1,000 less u1's minute; January's untouched; February's
	// less two; March's untouched. Expired grants keep their minutes until
	// their last day is settled.
	wantBalances := map[string]int64{"grant:2020-12-15": 999, "grant:2021-01-01": 1000, "grant:2021-02-01": 998, "grant:2021-03-01": 1000}
	if diff := cmp.Diff(wantBalances, h.balances("a")); diff != "" {
		t.Errorf("balances (-want +got):\n%s", diff)
	}
}

// coverBook is monthlyBook with recording HD covered at 2.
func coverBook() billing.PriceBook {
	b := monthlyBook(false)
	b.Kinds[len(b.Kinds)-1].Ratios = append(b.Kinds[len(b.Kinds)-1].Ratios, billing.Ratio{Tier: hd, Minutes: 2, Service: recording})
	return b
}

// TestValueAddedUsageForfeitsOnce: value-added usage that draws on
// packages forfeits an expired package's minutes once, as basic usage does.
func TestValueAddedUsageForfeitsOnce(t *testing.T) {
	h := newHarness(t, coverBook())
	h.do(open(at(15, 8, 0, 0), true))
	h.record("u1", "app1", audio, 600, at(31, 9, 0, 0), time.Time{}) // March's grant: 990 left
	// March 31 settled before the grace (10 hours after the end) passed.
	h.do(settle(time.Date(2021, 4, 1, 5, 0, 0, 0, cst), march(31)))
	at2 := time.Date(2021, 4, 1, 11, 0, 0, 0, cst)
	h.clock.Set(at2)
	if _, err := h.e.Record(h.ctx, *vaUsage("r1", recording, hd, 60, at2)); err != nil {
		t.Fatal(err)
	}
	var forfeits []int64
	s := h.state("a")
	for _, en := range s.Ledger {
		if en.Kind == billing.EntryForfeit {
			forfeits = append(forfeits, en.Balance)
		}
	}
	if diff := cmp.Diff([]int64{-990}, forfeits); diff != "" {
		t.Errorf("forfeit entries (-want +got):\n%s", diff)
	}
}

// TestPackageOfValueAddedOnly: a package whose kind covers only a
// value-added service pays for no basic service: Admit refuses a basic
// session, and a basic minute is shortfall.
func TestPackageOfValueAddedOnly(t *testing.T) {
	b := noTrial()
	b.ID = "era1-usd-recording-package"
	b.Kinds = append(b.Kinds, billing.PackageKind{Name: "rec", Validity: billing.Validity{Months: 1},
		Ratios:  []billing.Ratio{{Tier: hd, Minutes: 1, Service: recording}},
		Pricing: billing.Pricing{Unit: 1, Bands: []billing.Band{{From: 0, PerMinute: dec("0.001")}}}})
	h := newHarness(t, b)
	h.do(open(at(15, 8, 0, 0), false), buy(at(15, 9, 0, 0), "p1", "rec", 1000))
	if why := h.admit("app1", at(15, 10, 0, 0)); !errors.Is(why, billing.ErrNoBasicService) {
		t.Errorf("Admit of a basic session with a recording package only: %v, want ErrNoBasicService", why)
	}
	if r := h.record("u1", "app1", audio, 60, at(15, 10, 0, 0), time.Time{}); r.Shortfall != 1 || !r.Suspended {
		t.Errorf("basic usage %+v, want 1 minute of shortfall", r)
	}
}

// TestFreeValueAddedUsageDrawsNothing: value-added usage of a day the book
// does not yet bill for the account is free, so no package pays for it.
func TestFreeValueAddedUsageDrawsNothing(t *testing.T) {
	b := billing.Era1USD()
	b.ID = "era1-usd-mix-package"
	b.Kinds = append(b.Kinds, billing.PackageKind{Name: "mix", Validity: billing.Validity{Months: 12, ToMonthEnd: true},
		Ratios:  []billing.Ratio{{Tier: hd, Minutes: 1, Service: billing.ServiceMixTranscoding}},
		Pricing: billing.Pricing{Unit: 1, Bands: []billing.Band{{From: 0, PerMinute: dec("0.001")}}}})
	h := newHarness(t, b)
	// Opened on 2020-10-15: its MixTranscoding is free until 2020-12-01.
	opened := time.Date(2020, 10, 15, 8, 0, 0, 0, cst)
	h.do(op{now: opened, open: &billing.AccountSpec{ID: "a", App: "app1", Postpaid: true}}, buy(opened.Add(time.Hour), "p1", "mix", 1000))
	at := time.Date(2020, 11, 15, 9, 0, 0, 0, cst)
	h.clock.Set(at)
	r, err := h.e.Record(h.ctx, *vaUsage("m1", billing.ServiceMixTranscoding, hd, 600, at))
	want := billing.Receipt{Key: billing.MeterKey{Day: refDateDay(2020, 11, 15), Service: billing.ServiceMixTranscoding, Tier: hd},
		Minutes: 10, Postpaid: 10}
	if err != nil || !cmp.Equal(want, r, cmpOpts) {
		t.Errorf("free MixTranscoding: %+v, %v; want %+v", r, err, want)
	}
}

// TestMonthlyGrantsIn1970: an account opened on 1970-01-01 (day 0, a
// common start of a fake clock) gets its grants like any other.
func TestMonthlyGrantsIn1970(t *testing.T) {
	b := monthlyBook(false)
	b.From = time.Date(1970, 1, 1, 0, 0, 0, 0, cst)
	h := newHarness(t, b)
	opened := time.Date(1970, 1, 1, 9, 0, 0, 0, cst)
	h.do(op{now: opened, open: &billing.AccountSpec{ID: "a", App: "app1", Postpaid: true}})
	h.record("u1", "app1", audio, 60, time.Date(1970, 3, 15, 9, 0, 0, 0, cst), time.Time{})
	want := map[string]int64{"grant:1970-01-01": 1000, "grant:1970-02-01": 1000, "grant:1970-03-01": 999}
	if diff := cmp.Diff(want, h.balances("a")); diff != "" {
		t.Errorf("balances (-want +got):\n%s", diff)
	}
}
