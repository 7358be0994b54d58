package billing_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
)

// arrearsAccount opens account "a" without postpaid on March 1 at 08:00
// (its trial: 10,000 minutes, valid to 2022-03-31), buys a universal
// package "p1" of 25,000 minutes at 09:00 (valid to the same day), and is
// reported overdue under "bill-1" on March 2 at 10:00: it is suspended for
// arrears from March 3 at 10:00, and its packages are reclaimed at the
// start of the first day after 60 days of it (May 2, March 63, at 10:00):
// May 3 (March 64) at 00:00.
func arrearsAccount(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t)
	h.do(open(at(1, 8, 0, 0), false), buy(at(1, 9, 0, 0), "p1", billing.KindUniversal, 25_000))
	h.clock.Set(at(2, 10, 0, 0))
	if _, err := h.e.ReportOverdue(h.ctx, "a", "bill-1"); err != nil {
		t.Fatalf("ReportOverdue: %v", err)
	}
	return h
}

// TestArrearsAdmission checks Admit's answers for instants around an
// account's arrears: admitted for the 24 hours after the report, then
// suspended (ErrSuspended and ErrInArrears, for value-added service also
// ErrNoBasicService) until the payment is reported, even for instants asked
// about after it.
func TestArrearsAdmission(t *testing.T) {
	h := arrearsAccount(t)
	h.clock.Set(at(4, 9, 0, 0))
	if _, err := h.e.ReportPaid(h.ctx, "a", "bill-1"); err != nil {
		t.Fatalf("ReportPaid: %v", err)
	}
	tests := []struct {
		at      time.Time
		service billing.Service
		want    []error // nil: admitted
	}{
		{at(2, 10, 0, 0), "", nil},
		{at(3, 9, 59, 59), "", nil}, // 24 hours to pay
		{at(3, 10, 0, 0), "", []error{billing.ErrSuspended, billing.ErrInArrears}}, // packages have balance: suspended all the same
		{at(3, 10, 0, 0), billing.ServiceRecording, []error{billing.ErrNoBasicService, billing.ErrSuspended, billing.ErrInArrears}},
		{at(4, 8, 59, 59), "", []error{billing.ErrSuspended, billing.ErrInArrears}},
		{at(4, 9, 0, 0), "", nil}, // paid
	}
	for _, tt := range tests {
		got, err := h.e.Admit(h.ctx, "a", "app1", tt.service, tt.at)
		if err != nil {
			t.Fatalf("Admit(%s, %q): %v", tt.at, tt.service, err)
		}
		if got.Admitted != (tt.want == nil) {
			t.Errorf("Admit(%s, %q) = %v, want admitted %v", tt.at, tt.service, got, tt.want == nil)
		}
		for _, w := range tt.want {
			if !errors.Is(got.Reason, w) {
				t.Errorf("Admit(%s, %q) reason %v, want it to wrap %v", tt.at, tt.service, got.Reason, w)
			}
		}
	}
}

// TestArrearsUsage checks that usage of an account suspended for arrears
// is recorded and billed as any other, its receipt flagged: a session that
// was running keeps being billed.
func TestArrearsUsage(t *testing.T) {
	h := arrearsAccount(t)
	h.clock.Set(at(3, 12, 0, 0))
	before, err := h.e.Record(h.ctx, *usage("u0", hd, 61, at(3, 9, 0, 0))) // before the suspension
	if err != nil {
		t.Fatal(err)
	}
	during, err := h.e.Record(h.ctx, *usage("u1", hd, 61, at(3, 12, 0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	// u0: 61 s → 2 minutes of HD on March 3, from the trial (it expires
	// with p1, and was granted first) at ratio 1. u1: the meter's 122 s
	// are 3 minutes, so 1 more, from the trial too.
	want := []billing.Receipt{
		{Key: basic(march(3), hd), Minutes: 2, Draws: []billing.Draw{{Package: billing.TrialID, Minutes: 2, Deducted: 2}}},
		{Key: basic(march(3), hd), Minutes: 1, Draws: []billing.Draw{{Package: billing.TrialID, Minutes: 1, Deducted: 1}}, InArrears: true},
	}
	if diff := cmp.Diff(want, []billing.Receipt{before, during}, cmpOpts); diff != "" {
		t.Errorf("receipts (-want +got):\n%s", diff)
	}
	if got := h.balances("a"); got[billing.TrialID] != 10_000-3 || got["p1"] != 25_000 {
		t.Errorf("balances %v, want trial 9,997 and p1 25,000", got)
	}
}

// TestArrearsReclaim checks that packages are reclaimed once an arrears
// suspension has lasted 60 days: from the start of the next day they cover
// no usage, usage before that instant still draws from them, and their
// balance is forfeited once the grace and the day's settlement have
// passed.
func TestArrearsReclaim(t *testing.T) {
	h := arrearsAccount(t)
	reclaim := at(64, 0, 0, 0) // May 3, 00:00
	if a := h.account("a"); len(a.Arrears) != 1 || !a.Arrears[0].Reclaim.Equal(reclaim) {
		t.Fatalf("arrears %+v, want one reclaiming at %s", a.Arrears, reclaim)
	}
	h.clock.Set(reclaim)
	u1, err := h.e.Record(h.ctx, *usage("u1", hd, 61, reclaim.Add(-time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	u2, err := h.e.Record(h.ctx, *usage("u2", hd, 61, reclaim))
	if err != nil {
		t.Fatal(err)
	}
	// u1: 61 s → 2 minutes of HD on May 2, before the reclaim: the trial
	// pays. u2: 61 s → 2 minutes of HD on May 3: no package covers them,
	// and the account bought a universal package, so the switch goes on
	// automatically and they are postpaid.
	may2, may3 := refDateDay(2021, 5, 2), refDateDay(2021, 5, 3)
	want := []billing.Receipt{
		{Key: basic(may2, hd), Minutes: 2, Draws: []billing.Draw{{Package: billing.TrialID, Minutes: 2, Deducted: 2}}, InArrears: true},
		{Key: basic(may3, hd), Minutes: 2, Postpaid: 2, PostpaidOn: true, InArrears: true},
	}
	if diff := cmp.Diff(want, []billing.Receipt{u1, u2}, cmpOpts); diff != "" {
		t.Errorf("receipts (-want +got):\n%s", diff)
	}
	// Before the grace (10 hours) has passed, and May 2 is settled, the
	// balances stay: usage of May 2 reported late may still draw on them.
	h.clock.Set(at(64, 9, 59, 59))
	if got := h.balances("a"); got[billing.TrialID] != 9_998 || got["p1"] != 25_000 {
		t.Errorf("balances before the forfeit %v, want trial 9,998 and p1 25,000", got)
	}
	h.do(settle(at(64, 10, 0, 0), may2))
	s := h.state("a")
	left := map[string][2]int64{}
	for _, p := range s.Overview.Packages {
		left[p.ID] = [2]int64{p.Balance, p.Forfeited}
	}
	// The trial's 10,000 minutes less u1's 2, and p1's 25,000, forfeited.
	wantLeft := map[string][2]int64{billing.TrialID: {0, 9_998}, "p1": {0, 25_000}}
	if diff := cmp.Diff(wantLeft, left, cmpOpts); diff != "" {
		t.Errorf("packages' [balance, forfeited] (-want +got):\n%s", diff)
	}
	var kinds []string
	for _, e := range s.Ledger {
		if e.Kind == billing.EntryOverdue || e.Kind == billing.EntryForfeit {
			kinds = append(kinds, string(e.Kind)+" "+e.Package)
		}
	}
	wantKinds := []string{"overdue ", "forfeit trial", "forfeit p1"}
	if diff := cmp.Diff(wantKinds, kinds); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
}

// TestArrearsPaidInTime checks that arrears paid before the reclaim
// instant reclaim nothing: usage after it draws from the packages.
func TestArrearsPaidInTime(t *testing.T) {
	h := arrearsAccount(t)
	h.clock.Set(at(63, 23, 59, 59)) // a second before the reclaim
	if _, err := h.e.ReportPaid(h.ctx, "a", "bill-1"); err != nil {
		t.Fatal(err)
	}
	h.clock.Set(at(70, 10, 0, 0))
	got, err := h.e.Record(h.ctx, *usage("u1", hd, 61, at(70, 10, 0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	// 61 s → 2 minutes of HD, from the trial at ratio 1.
	want := billing.Receipt{Key: basic(refDateDay(2021, 5, 9), hd), Minutes: 2, Draws: []billing.Draw{{Package: billing.TrialID, Minutes: 2, Deducted: 2}}}
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("receipt (-want +got):\n%s", diff)
	}
}

// TestArrearsReports checks that reports are idempotent on their
// references: a reference reported again, even after a payment, changes
// nothing; another one while overdue joins the same arrears; a payment under
// an unknown reference is ErrNotFound.
func TestArrearsReports(t *testing.T) {
	h := arrearsAccount(t)
	report := func(now time.Time, paid bool, ref string) error {
		h.clock.Set(now)
		var err error
		if paid {
			_, err = h.e.ReportPaid(h.ctx, "a", ref)
		} else {
			_, err = h.e.ReportOverdue(h.ctx, "a", ref)
		}
		return err
	}
	steps := []struct {
		now  time.Time
		paid bool
		ref  string
		err  error
	}{
		{at(2, 11, 0, 0), false, "bill-1", nil}, // again: nothing
		{at(2, 12, 0, 0), false, "bill-2", nil}, // joins bill-1's arrears
		{at(2, 13, 0, 0), true, "bill-9", billing.ErrNotFound},
		{at(2, 14, 0, 0), true, "bill-2", nil},
		{at(2, 15, 0, 0), true, "bill-1", nil},  // paid already: nothing
		{at(2, 16, 0, 0), false, "bill-1", nil}, // a retry after the payment: nothing
		{at(5, 10, 0, 0), false, "bill-3", nil}, // new arrears
		{at(2, 17, 0, 0), false, "", billing.ErrInvalidID},
	}
	for i, st := range steps {
		if err := report(st.now, st.paid, st.ref); !errors.Is(err, st.err) || (err == nil) != (st.err == nil) {
			t.Errorf("step %d: error %v, want %v", i, err, st.err)
		}
	}
	// Reclaims: suspended a day after the report, 60 days more, then the
	// next day's start: March 3 10:00 + 60 days = May 2 10:00, so May 3
	// (March 64) 00:00; March 6 10:00 + 60 days = May 5 10:00, so May 6.
	want := []billing.Arrears{
		{Refs: []string{"bill-1", "bill-2"}, Since: at(2, 10, 0, 0), Paid: at(2, 14, 0, 0), Reclaim: at(64, 0, 0, 0)},
		{Refs: []string{"bill-3"}, Since: at(5, 10, 0, 0), Reclaim: at(67, 0, 0, 0)},
	}
	s := h.state("a")
	if diff := cmp.Diff(want, s.Overview.Account.Arrears, cmpOpts); diff != "" {
		t.Errorf("arrears (-want +got):\n%s", diff)
	}
	var kinds []billing.EntryKind
	for _, e := range s.Ledger {
		if e.Kind == billing.EntryOverdue || e.Kind == billing.EntryPaid {
			kinds = append(kinds, e.Kind)
		}
	}
	wantKinds := []billing.EntryKind{billing.EntryOverdue, billing.EntryOverdue, billing.EntryPaid, billing.EntryOverdue}
	if diff := cmp.Diff(wantKinds, kinds); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
}

// TestArrearsOrder checks that the reclaim does not depend on the order
// usage arrives in: usage just before the reclaim instant, reported after
// usage at it, still draws from the reclaimed packages.
func TestArrearsOrder(t *testing.T) {
	reclaim := at(64, 0, 0, 0)
	first, second := usage("u1", hd, 61, reclaim.Add(-time.Second)), usage("u2", hd, 61, reclaim)
	var states []state
	for _, order := range [][]*billing.Usage{{first, second}, {second, first}} {
		h := arrearsAccount(t)
		h.clock.Set(reclaim)
		for _, u := range order {
			if _, err := h.e.Record(h.ctx, *u); err != nil {
				t.Fatal(err)
			}
		}
		states = append(states, h.state("a", refDateDay(2021, 5, 2), refDateDay(2021, 5, 3)))
	}
	if diff := cmp.Diff(states[0], states[1], ignoreLedgerEntries, cmpOpts); diff != "" {
		t.Errorf("u2 then u1 differs from u1 then u2 (-in order +reversed):\n%s", diff)
	}
}

// TestArrearsReclaimForfeitedByUsage checks that basic usage forfeits the
// balance of reclaimed packages due for it even when a package ahead of
// them in the deduction order covers the usage (the reclaimed ones keep
// the End they were sold with, so they can come after a package bought
// since that ends sooner).
func TestArrearsReclaimForfeitedByUsage(t *testing.T) {
	h := newHarness(t, refCustomBook())
	h.do(open(at(1, 8, 0, 0), false), buy(at(1, 9, 0, 0), "p1", billing.KindUniversal, 25_000))
	h.clock.Set(at(2, 10, 0, 0))
	if _, err := h.e.ReportOverdue(h.ctx, "a", "bill-1"); err != nil {
		t.Fatal(err)
	}
	// Reclaimed at May 3 00:00 (March 64). A "mini" package bought after it
	// is valid a month, to June 3: ahead of the trial and p1 (to 2022-04-01).
	h.do(buy(at(64, 1, 0, 0), "m1", refCustomKind, 1000), settle(at(64, 9, 0, 0), refDateDay(2021, 5, 2)))
	// At 10:30 the grace (10 hours after the reclaim) has passed and May 2
	// is settled: the trial's and p1's balances are due to be forfeited.
	h.clock.Set(at(64, 10, 30, 0))
	r, err := h.e.Record(h.ctx, *usage("u1", hd, 61, at(64, 10, 30, 0)))
	if err != nil {
		t.Fatal(err)
	}
	// 61 s → 2 minutes of HD, from m1 at its ratio 5: 10 package minutes.
	want := billing.Receipt{Key: basic(refDateDay(2021, 5, 3), hd), Minutes: 2, Draws: []billing.Draw{{Package: "m1", Minutes: 2, Deducted: 10}}, InArrears: true}
	if diff := cmp.Diff(want, r, cmpOpts); diff != "" {
		t.Errorf("receipt (-want +got):\n%s", diff)
	}
	l, err := h.e.Ledger(h.ctx, "a", time.Time{}, time.Time{}) // a view: nothing forfeits here
	if err != nil {
		t.Fatal(err)
	}
	var forfeits []string
	for _, e := range l {
		if e.Kind == billing.EntryForfeit {
			forfeits = append(forfeits, fmt.Sprintf("%s %d by %s %s", e.Package, e.Balance, e.Request, e.Ref))
		}
	}
	wantForfeits := []string{"trial -10000 by record u1", "p1 -25000 by record u1"}
	if diff := cmp.Diff(wantForfeits, forfeits); diff != "" {
		t.Errorf("forfeits (-want +got):\n%s", diff)
	}
}
