package billing_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
)

// TestPostpaidSwitch checks the three ways the switch goes on, that it goes
// on automatically only for accounts that bought a universal package, and
// what happens to a trial-only account without it.
func TestPostpaidSwitch(t *testing.T) {
	drainTrial := use("u0", sd, 600_000, at(15, 9, 0, 0)) // 10,000 SD minutes × 1: the trial is used up
	tests := []struct {
		name        string
		books       []billing.PriceBook
		setup       []op
		now         time.Time      // the clock for use; zero: use.At
		use         *billing.Usage // recorded last, if not nil
		want        billing.Receipt
		wantSwitch  billing.Postpaid
		wantStatus  billing.Status
		wantEntries []entryRef // the kinds and refs of the ledger entries made by the last step
	}{
		{
			name:       "on at opening",
			setup:      []op{open(at(15, 8, 0, 0), true)},
			wantSwitch: billing.Postpaid{On: true, Since: at(15, 8, 0, 0), Way: billing.PostpaidAtOpening},
			// Opening grants the trial, then turns the account's switch on,
			// then app1's as it is created.
			wantEntries: []entryRef{{billing.EntryGrant, "a"}, {billing.EntryPostpaidOn, "a"}, {billing.EntryPostpaidOn, "a"}},
		},
		{
			name:       "on by a call",
			setup:      []op{open(at(15, 8, 0, 0), false), {now: at(15, 9, 0, 0), enable: "a"}},
			wantSwitch: billing.Postpaid{On: true, Since: at(15, 9, 0, 0), Way: billing.PostpaidEnabled},
			// The account's switch, then app1's with it.
			wantEntries: []entryRef{{billing.EntryPostpaidOn, ""}, {billing.EntryPostpaidOn, ""}},
		},
		{
			name:       "a second call changes nothing",
			setup:      []op{open(at(15, 8, 0, 0), true), {now: at(15, 9, 0, 0), enable: "a"}},
			wantSwitch: billing.Postpaid{On: true, Since: at(15, 8, 0, 0), Way: billing.PostpaidAtOpening},
			// The call made no entry: the last entries are the opening's.
			wantEntries: []entryRef{{billing.EntryGrant, "a"}, {billing.EntryPostpaidOn, "a"}, {billing.EntryPostpaidOn, "a"}},
		},
		{
			name:  "on automatically when bought universal packages are used up",
			books: []billing.PriceBook{noTrial()},
			setup: []op{
				open(at(15, 8, 0, 0), false), buy(at(15, 8, 10, 0), "p1", uni, 1000),
				use("u0", audio, 60_000, at(15, 9, 0, 0)), // 1,000 minutes: p1 is used up
			},
			use:         usage("u1", audio, 60, at(15, 10, 0, 0)),
			want:        billing.Receipt{Key: basic(march(15), audio), Minutes: 1, Postpaid: 1, PostpaidOn: true},
			wantSwitch:  billing.Postpaid{On: true, Since: at(15, 10, 0, 0), Way: billing.PostpaidAutomatic},
			wantEntries: []entryRef{{billing.EntryPostpaidOn, "u1"}, {billing.EntryPostpaidOn, "u1"}, {billing.EntryPostpaid, "u1"}},
		},
		{
			name:  "on automatically when the bought universal package has expired",
			books: []billing.PriceBook{noTrial()},
			setup: []op{open(at(15, 8, 0, 0), false), buy(at(15, 8, 10, 0), "p1", uni, 1000)},
			// p1 is valid to 2022-03-31 23:59:59.
			use:        usage("u1", audio, 60, time.Date(2022, 4, 1, 0, 0, 0, 0, cst)),
			want:       billing.Receipt{Key: basic(refDateDay(2022, 4, 1), audio), Minutes: 1, Postpaid: 1, PostpaidOn: true},
			wantSwitch: billing.Postpaid{On: true, Since: time.Date(2022, 4, 1, 0, 0, 0, 0, cst), Way: billing.PostpaidAutomatic},
			// p1 keeps its minutes for 10 hours of grace: nothing is forfeited yet.
			wantEntries: []entryRef{{billing.EntryPostpaidOn, "u1"}, {billing.EntryPostpaidOn, "u1"}, {billing.EntryPostpaid, "u1"}},
		},
		{
			// In the reference order the usage (14th, 22:00) comes before the
			// purchase that arms the switch (15th, 08:00): nothing can pay
			// for it then, so it is shortfall and the account was suspended
			// from 22:00 to the purchase. The purchase absorbs only its own
			// day's minutes.
			name:        "late usage of a day before the universal package's purchase is shortfall",
			books:       []billing.PriceBook{noTrial()},
			setup:       []op{open(at(14, 8, 0, 0), false), buy(at(15, 8, 0, 0), "p1", uni, 1000)},
			now:         at(15, 9, 0, 0),
			use:         usage("u1", audio, 60, at(14, 22, 0, 0)),
			want:        billing.Receipt{Key: basic(march(14), audio), Minutes: 1, Shortfall: 1, Suspended: true, Late: true},
			wantEntries: []entryRef{{billing.EntryShortfall, "u1"}},
		},
		{
			name:  "on automatically when what is left cannot pay one minute of the tier",
			books: []billing.PriceBook{noTrial()},
			setup: []op{
				open(at(15, 8, 0, 0), false), buy(at(15, 8, 10, 0), "p1", uni, 1000),
				use("u0", audio, 997*60, at(15, 9, 0, 0)), // 3 left
			},
			use:         usage("u1", hd, 60, at(15, 10, 0, 0)), // needs 4
			want:        billing.Receipt{Key: basic(march(15), hd), Minutes: 1, Postpaid: 1, PostpaidOn: true},
			wantSwitch:  billing.Postpaid{On: true, Since: at(15, 10, 0, 0), Way: billing.PostpaidAutomatic},
			wantEntries: []entryRef{{billing.EntryPostpaidOn, "u1"}, {billing.EntryPostpaidOn, "u1"}, {billing.EntryPostpaid, "u1"}},
		},
		{
			name: "a usage partly covered: the rest goes postpaid as the switch goes on",
			setup: []op{
				open(at(15, 8, 0, 0), false), buy(at(15, 8, 10, 0), "p1", uni, 1000),
				use("u0", sd, 599_940, at(15, 9, 0, 0)),    // 9,999 SD minutes: the trial keeps 1
				use("u1", audio, 59_940, at(15, 9, 10, 0)), // 999 audio minutes: 1 from the trial, 998 from p1; p1 keeps 2
			},
			use: usage("u2", audio, 180, at(15, 10, 0, 0)),
			// 3 minutes: p1 covers 2, 1 goes postpaid.
			want: billing.Receipt{Key: basic(march(15), audio), Minutes: 3, Draws: []billing.Draw{{Package: "p1", Minutes: 2, Deducted: 2}},
				Postpaid: 1, PostpaidOn: true},
			wantSwitch:  billing.Postpaid{On: true, Since: at(15, 10, 0, 0), Way: billing.PostpaidAutomatic},
			wantEntries: []entryRef{{billing.EntryDeduction, "u2"}, {billing.EntryPostpaidOn, "u2"}, {billing.EntryPostpaidOn, "u2"}, {billing.EntryPostpaid, "u2"}},
		},
		{
			name:        "a trial-only account without postpaid is suspended when its trial is used up",
			setup:       []op{open(at(15, 8, 0, 0), false), drainTrial},
			use:         usage("u1", audio, 60, at(15, 10, 0, 0)),
			want:        billing.Receipt{Key: basic(march(15), audio), Minutes: 1, Shortfall: 1, Suspended: true},
			wantStatus:  billing.Status{Suspended: true, Since: at(15, 10, 0, 0), Reason: billing.ReasonUncovered},
			wantEntries: []entryRef{{billing.EntryShortfall, "u1"}, {billing.EntrySuspended, "u1"}},
		},
		{
			name:  "a trial-only account without postpaid is suspended when its trial has expired",
			setup: []op{open(at(15, 8, 0, 0), false)},
			// The trial is valid to 2022-03-31 23:59:59.
			use:         usage("u1", audio, 60, time.Date(2022, 4, 1, 0, 0, 0, 0, cst)),
			want:        billing.Receipt{Key: basic(refDateDay(2022, 4, 1), audio), Minutes: 1, Shortfall: 1, Suspended: true},
			wantStatus:  billing.Status{Suspended: true, Since: time.Date(2022, 4, 1, 0, 0, 0, 0, cst), Reason: billing.ReasonUncovered},
			wantEntries: []entryRef{{billing.EntryShortfall, "u1"}, {billing.EntrySuspended, "u1"}},
		},
		{
			name:  "a custom kind that does not arm the switch: suspended, not postpaid",
			books: []billing.PriceBook{trialMonthly()},
			setup: []op{
				open(at(15, 8, 0, 0), false), drainTrial, buy(at(15, 9, 30, 0), "m1", "monthly", 10),
				use("u1", audio, 600, at(15, 10, 0, 0)), // 10 minutes: m1 is used up
			},
			use:         usage("u2", audio, 60, at(15, 11, 0, 0)),
			want:        billing.Receipt{Key: basic(march(15), audio), Minutes: 1, Shortfall: 1, Suspended: true},
			wantStatus:  billing.Status{Suspended: true, Since: at(15, 11, 0, 0), Reason: billing.ReasonUncovered},
			wantEntries: []entryRef{{billing.EntryShortfall, "u2"}, {billing.EntrySuspended, "u2"}},
		},
		{
			name:        "a trial-only account with postpaid chosen at opening goes on to postpaid",
			setup:       []op{open(at(15, 8, 0, 0), true), drainTrial},
			use:         usage("u1", audio, 60, at(15, 10, 0, 0)),
			want:        billing.Receipt{Key: basic(march(15), audio), Minutes: 1, Postpaid: 1},
			wantSwitch:  billing.Postpaid{On: true, Since: at(15, 8, 0, 0), Way: billing.PostpaidAtOpening},
			wantEntries: []entryRef{{billing.EntryPostpaid, "u1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.books...)
			h.do(tt.setup...)
			before := h.account("a").LastSeq
			if tt.use != nil {
				h.clock.Set(tt.use.At)
				if !tt.now.IsZero() {
					h.clock.Set(tt.now)
				}
				got, err := h.e.Record(h.ctx, *tt.use)
				if err != nil {
					t.Fatalf("Record: %v", err)
				}
				if diff := cmp.Diff(tt.want, got, cmpOpts); diff != "" {
					t.Errorf("Record() receipt (-want +got):\n%s", diff)
				}
			} else {
				before -= int64(len(tt.wantEntries))
			}
			a := h.account("a")
			if diff := cmp.Diff(tt.wantSwitch, a.Postpaid); diff != "" {
				t.Errorf("postpaid switch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantStatus, a.Apps[0].Status); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
			var kinds []entryRef
			for _, en := range ledger(h, "a") {
				if en.Seq > before {
					kinds = append(kinds, entryRef{en.Kind, en.Ref})
				}
			}
			if diff := cmp.Diff(tt.wantEntries, kinds); diff != "" {
				t.Errorf("entries of the last step (-want +got):\n%s", diff)
			}
		})
	}
}

// entryRef is the kind of a ledger entry and the id of the request that made it.
type entryRef struct {
	Kind billing.EntryKind
	Ref  string
}

func ledger(h *harness, account string) []billing.Entry {
	h.t.Helper()
	l, err := h.e.Ledger(h.ctx, account, time.Time{}, time.Time{})
	if err != nil {
		h.t.Fatalf("Ledger: %v", err)
	}
	return l
}

// suspended sets up account "a", trial only, without postpaid, suspended at
// 10:00 on the 15th by one audio minute of shortfall.
func suspended(t *testing.T) *harness {
	h := newHarness(t)
	h.do(open(at(15, 8, 0, 0), false), use("u0", sd, 600_000, at(15, 9, 0, 0)), use("u1", audio, 60, at(15, 10, 0, 0)))
	if !h.account("a").Apps[0].Status.Suspended {
		t.Fatal("setup: account not suspended")
	}
	return h
}

// TestSuspendedAccountRecordsUsage: usage is a fact. A suspended account's
// usage is recorded like any other: nothing covers it (the trial is used
// up), so each minute is shortfall, and the receipt says the account was
// suspended then. The suspension itself does not move.
func TestSuspendedAccountRecordsUsage(t *testing.T) {
	h := suspended(t)
	h.clock.Set(at(15, 11, 0, 0))
	for i, tier := range []billing.Tier{audio, sd, hd, fhd} {
		got, err := h.e.Record(h.ctx, *usage(fmt.Sprintf("u2-%d", i), tier, 60, at(15, 11, 0, 0)))
		// 60 s: one minute of its tier; the trial has 0 left; postpaid off.
		want := billing.Receipt{Key: basic(march(15), tier), Minutes: 1, Shortfall: 1, WhileSuspended: true}
		if err != nil || !cmp.Equal(want, got, cmpOpts) {
			t.Errorf("Record(%s) = %+v, %v; want %+v", tier, got, err, want)
		}
	}
	// In the book's tier order. audio: u1 60 s + 60 s = 2 minutes, both shortfall; sd: u0 600,000 s +
	// 60 s = ceil(600,060 / 60) = 10,001 minutes, 10,000 from the trial and 1
	// shortfall; hd and fhd: 1 minute of shortfall each.
	want := []billing.Meter{
		{Key: basic(march(15), audio), Seconds: 120, Shortfall: 2},
		{Key: basic(march(15), sd), Seconds: 600_060, Prepaid: 10_000, Shortfall: 1},
		{Key: basic(march(15), hd), Seconds: 60, Shortfall: 1},
		{Key: basic(march(15), fhd), Seconds: 60, Shortfall: 1},
	}
	if diff := cmp.Diff(want, h.state("a", march(15)).Meters[march(15)], cmpOpts); diff != "" {
		t.Errorf("meters (-want +got):\n%s", diff)
	}
	if a := h.account("a"); a.Apps[0].Status != (billing.Status{Suspended: true, Since: at(15, 10, 0, 0), Reason: billing.ReasonUncovered}) {
		t.Errorf("status %+v, want suspended since 10:00 for uncovered minutes", a.Apps[0].Status)
	}
	// A replay of the usage that suspended the account still answers.
	got, err := h.e.Record(h.ctx, *usage("u1", audio, 60, at(15, 10, 0, 0)))
	wantR := billing.Receipt{Key: basic(march(15), audio), Minutes: 1, Shortfall: 1, Suspended: true}
	if err != nil || !cmp.Equal(wantR, got, cmpOpts) {
		t.Errorf("replay of u1 = %+v, %v; want %+v", got, err, wantR)
	}
}

func TestPurchaseLiftsSuspension(t *testing.T) {
	h := suspended(t)
	h.clock.Set(at(15, 12, 0, 0))
	r, err := h.e.Buy(h.ctx, billing.Purchase{ID: "p1", Account: "a", Kind: uni, Minutes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	// The day's 1 minute of audio shortfall is absorbed at ratio 1: 1,000 - 1 = 999.
	if !r.Resumed || r.Package.Balance != 999 || !cmp.Equal(r.Absorbed, []billing.Absorption{{Tier: audio, Shortfall: 1, Deducted: 1}}) {
		t.Errorf("Buy() = %+v, want Resumed, balance 999, 1 audio shortfall minute absorbed", r)
	}
	var got []entryRef
	for _, en := range ledger(h, "a")[4:] { // after the grant, u0's deduction, u1's shortfall and suspension
		got = append(got, entryRef{en.Kind, en.Ref})
	}
	want := []entryRef{{billing.EntryPurchase, "p1"}, {billing.EntryResumed, "p1"}, {billing.EntryDeduction, "p1"}, {billing.EntryShortfall, "p1"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries of the purchase (-want +got):\n%s", diff)
	}
	if s := h.account("a").Apps[0].Status; s.Suspended {
		t.Errorf("status after Buy = %+v, want active", s)
	}
	// Usage after the purchase (at its instant, it would come before it).
	h.clock.Set(at(15, 12, 0, 1))
	gotR, err := h.e.Record(h.ctx, *usage("u2", hd, 60, at(15, 12, 0, 1)))
	wantR := billing.Receipt{Key: basic(march(15), hd), Minutes: 1, Draws: []billing.Draw{{Package: "p1", Minutes: 1, Deducted: 4}}}
	if err != nil || !cmp.Equal(wantR, gotR, cmpOpts) {
		t.Errorf("Record after Buy = %+v, %v; want %+v", gotR, err, wantR)
	}
}

func TestEnablePostpaidLiftsSuspension(t *testing.T) {
	h := suspended(t)
	h.clock.Set(at(15, 12, 0, 0))
	a, err := h.e.EnablePostpaid(h.ctx, "a", "")
	if err != nil {
		t.Fatal(err)
	}
	// Suspended by u1 at 10:00, resumed at 12:00.
	want := billing.Account{Postpaid: billing.Postpaid{On: true, Since: at(15, 12, 0, 0), Way: billing.PostpaidEnabled},
		EnabledAt: at(15, 12, 0, 0), Apps: []billing.App{{ID: "app1", Created: at(15, 8, 0, 0),
			Postpaid:    billing.Postpaid{On: true, Since: at(15, 12, 0, 0), Way: billing.PostpaidEnabled},
			Suspensions: []billing.Interval{{Since: at(15, 10, 0, 0), Until: at(15, 12, 0, 0)}}}}}
	if diff := cmp.Diff(want, a, cmpOpts, cmpIgnoreAccountBookkeeping); diff != "" {
		t.Errorf("EnablePostpaid() (-want +got):\n%s", diff)
	}
	kinds := []billing.EntryKind{}
	for _, en := range ledger(h, "a")[len(ledger(h, "a"))-4:] {
		kinds = append(kinds, en.Kind)
	}
	want4 := []billing.EntryKind{billing.EntryPostpaidOn, billing.EntryResumed, billing.EntryShortfall, billing.EntryPostpaid}
	if diff := cmp.Diff(want4, kinds); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	// The day's shortfall minute becomes postpaid; new usage (after the
	// call) goes postpaid.
	h.clock.Set(at(15, 12, 0, 1))
	got, err := h.e.Record(h.ctx, *usage("u2", audio, 60, at(15, 12, 0, 1)))
	wantR := billing.Receipt{Key: basic(march(15), audio), Minutes: 1, Postpaid: 1}
	if err != nil || !cmp.Equal(wantR, got, cmpOpts) {
		t.Errorf("Record after EnablePostpaid = %+v, %v; want %+v", got, err, wantR)
	}
	wantM := billing.Meter{Key: basic(march(15), audio), Seconds: 120, Postpaid: 2}
	if diff := cmp.Diff(wantM, h.meter("a", wantM.Key)); diff != "" {
		t.Errorf("audio meter (-want +got):\n%s", diff)
	}
}

// TestForfeit checks that expired minutes are forfeited by a ledger entry
// when the account is first touched once the validity and its grace (10
// hours by default) have passed and the package's last day is settled, and
// not before.
func TestForfeit(t *testing.T) {
	end := time.Date(2022, 4, 1, 0, 0, 0, 0, cst) // the end of the trial of an account opened 2021-03-15
	last := refDateDay(2022, 3, 31)               // its last day
	trial := func(balance, forfeited int64) []billing.Package {
		return []billing.Package{{ID: "trial", Kind: billing.KindTrial, Book: "era1-usd", Minutes: 10_000, Balance: balance, Forfeited: forfeited,
			Currency: "USD", Price: dec("0"), PurchasedAt: at(15, 8, 0, 0), Start: at(15, 0, 0, 0), End: end}}
	}
	forfeit := func(at time.Time, by billing.Request, ref string) *billing.Entry {
		// After the grant, u1's deduction and the settlements of 2021-03-15 and 2022-03-31.
		return &billing.Entry{Seq: 5, At: at, Kind: billing.EntryForfeit, Request: by, Ref: ref, Package: "trial", Balance: -9999}
	}
	tests := []struct {
		name      string
		grace     time.Duration
		settle    time.Time // when the last day is settled (zero: not)
		now       time.Time
		want      []billing.Package
		wantEntry *billing.Entry // the last ledger entry, if a forfeit
	}{
		// 10,000 - 1 minute used = 9,999.
		{name: "a second before the end", now: end.Add(-time.Second), want: trial(9999, 0)},
		{name: "at the end, in the grace", settle: end, now: end, want: trial(9999, 0)},
		{name: "the last instant of the grace", settle: end, now: end.Add(10*time.Hour - 1), want: trial(9999, 0)},
		{name: "the grace has passed, the last day is not settled", now: end.Add(10 * time.Hour), want: trial(9999, 0)},
		{
			name: "at the end of the grace", settle: end, now: end.Add(10 * time.Hour), want: trial(0, 9999),
			wantEntry: forfeit(end.Add(10*time.Hour), billing.RequestOverview, ""),
		},
		{
			name: "the last day settled after the grace", settle: end.Add(12 * time.Hour), now: end.Add(12 * time.Hour), want: trial(0, 9999),
			wantEntry: forfeit(end.Add(12*time.Hour), billing.RequestSettle, last.String()),
		},
		{
			name: "no grace: at the end", grace: -1, settle: end, now: end, want: trial(0, 9999),
			wantEntry: forfeit(end, billing.RequestSettle, last.String()),
		},
		{
			name: "a grace of a day", grace: 24 * time.Hour, settle: end, now: end.Add(24 * time.Hour), want: trial(0, 9999),
			wantEntry: forfeit(end.Add(24*time.Hour), billing.RequestOverview, ""),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			var err error
			if h.e, err = billing.New(h.store, &billing.Options{Now: h.clock.Now, ExpiryGrace: tt.grace}); err != nil {
				t.Fatal(err)
			}
			h.do(open(at(15, 8, 0, 0), false), use("u1", audio, 60, at(15, 9, 0, 0)), settle(at(16, 10, 0, 0), march(15)))
			entries := 3 // the grant, u1's deduction and the settlement of the 15th
			if !tt.settle.IsZero() {
				h.do(settle(tt.settle, last))
				entries++
			}
			h.clock.Set(tt.now)
			o, err := h.e.Overview(h.ctx, "a")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, o.Packages, cmpOpts); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			l := ledger(h, "a")
			if tt.wantEntry == nil {
				if len(l) != entries {
					t.Errorf("ledger has %d entries, want %d: %+v", len(l), entries, l)
				}
				return
			}
			if diff := cmp.Diff(*tt.wantEntry, l[len(l)-1], cmpOpts); diff != "" {
				t.Errorf("forfeit entry (-want +got):\n%s", diff)
			}
			// Touching the account again forfeits nothing more.
			if _, err := h.e.Overview(h.ctx, "a"); err != nil {
				t.Fatal(err)
			}
			if n := len(ledger(h, "a")); n != entries+1 {
				t.Errorf("ledger has %d entries after a second Overview, want %d", n, entries+1)
			}
		})
	}
}

// flipStore hands back account "a" with its postpaid switch turned off.
type flipStore struct {
	billing.Store
	flip func(*billing.Account)
}

func (s flipStore) Update(ctx context.Context, id string, fn func(billing.Reader) (billing.Changes, error)) error {
	return s.Store.Update(ctx, id, func(r billing.Reader) (billing.Changes, error) { return fn(flipReader{r, s.flip}) })
}

type flipReader struct {
	billing.Reader
	flip func(*billing.Account)
}

func (r flipReader) Account() (billing.Account, error) {
	a, err := r.Reader.Account()
	if err == nil {
		r.flip(&a)
	}
	return a, err
}

// TestSwitchNeverGoesOff checks that an Engine on a Store wrapped with
// GuardSwitch refuses an account whose switch reads off after it was on,
// however it went on and however it was turned off: the account's, or an
// application's.
func TestSwitchNeverGoesOff(t *testing.T) {
	type flip struct {
		name string
		flip func(*billing.Account)
	}
	flips := []flip{
		{"switch off, the rest kept", func(a *billing.Account) { a.Postpaid.On = false }},
		{"switch off, way forgotten", func(a *billing.Account) { a.Postpaid.On, a.Postpaid.Way = false, "" }},
		{"switch reset to the zero value", func(a *billing.Account) { a.Postpaid = billing.Postpaid{} }},
		{"every switch reset to the zero value", func(a *billing.Account) {
			a.Postpaid, a.Apps[0].Postpaid = billing.Postpaid{}, billing.Postpaid{}
		}},
	}
	last := func(a *billing.Account) *billing.Postpaid { return &a.Apps[len(a.Apps)-1].Postpaid }
	appFlips := []flip{ // the last application's
		{"application's switch reset to the zero value", func(a *billing.Account) { *last(a) = billing.Postpaid{} }},
		{"application's switch off, way forgotten", func(a *billing.Account) { last(a).On, last(a).Way = false, "" }},
	}
	// The ways the switch goes on. For the last two the Engine that will
	// read the flipped record turns it on itself, so it learns of it only
	// from its own commit, never from reading the account.
	ways := []struct {
		name     string
		postpaid bool // at opening
		app      bool // the application's switch alone
		on       func(h *harness, e *billing.Engine) error
	}{
		{"at opening", true, false, func(h *harness, e *billing.Engine) error {
			_, err := e.Record(h.ctx, *usage("u1", audio, 60, at(15, 9, 0, 0)))
			return err
		}},
		{"by a call", false, false, func(h *harness, e *billing.Engine) error {
			_, err := e.EnablePostpaid(h.ctx, "a", "")
			return err
		}},
		{"by a call for the application", false, true, func(h *harness, e *billing.Engine) error {
			_, err := e.EnablePostpaid(h.ctx, "a", "app1")
			return err
		}},
		{"at the application's creation", false, true, func(h *harness, e *billing.Engine) error {
			_, err := e.CreateApp(h.ctx, "a", billing.AppSpec{ID: "app2", Postpaid: true})
			return err
		}},
		{"automatically", false, false, func(h *harness, e *billing.Engine) error {
			// p1's 1,000 minutes cover u0's; u1 finds no package: the switch goes on.
			h.clock.Set(at(15, 8, 30, 0))
			if _, err := e.Buy(h.ctx, billing.Purchase{ID: "p1", Account: "a", Kind: uni, Minutes: 1000}); err != nil {
				return err
			}
			h.clock.Set(at(15, 9, 0, 0))
			for _, u := range []*billing.Usage{usage("u0", audio, 60_000, at(15, 9, 0, 0)), usage("u1", audio, 60, at(15, 9, 0, 0))} {
				if _, err := e.Record(h.ctx, *u); err != nil {
					return err
				}
			}
			if a := h.account("a"); a.Postpaid.Way != billing.PostpaidAutomatic {
				return fmt.Errorf("switch %+v, want on automatically", a.Postpaid)
			}
			return nil
		}},
	}
	for _, way := range ways {
		fs := flips
		if way.app {
			fs = appFlips
		}
		for _, tt := range fs {
			t.Run(way.name+"/"+tt.name, func(t *testing.T) {
				inner := newHarness(t, noTrial())
				inner.do(open(at(15, 8, 0, 0), way.postpaid))
				flipped := false
				h := inner
				store := flipStore{Store: inner.store, flip: func(a *billing.Account) {
					if flipped {
						tt.flip(a)
					}
				}}
				// The same Engine reads the account through the flipping store.
				e, err := billing.New(billing.GuardSwitch(store), &billing.Options{Now: h.clock.Now, PriceBooks: []billing.PriceBook{noTrial()}})
				if err != nil {
					t.Fatal(err)
				}
				h.clock.Set(at(15, 9, 0, 0))
				if err := way.on(h, e); err != nil {
					t.Fatalf("before the flip: %v", err)
				}
				flipped = true
				h.clock.Set(at(15, 10, 0, 0))
				before := h.state("a", march(15))
				_, err = e.Record(h.ctx, *usage("u2", audio, 60, at(15, 10, 0, 0)))
				if !errors.Is(err, billing.ErrCorrupt) {
					t.Errorf("Record after the flip: error = %v, want ErrCorrupt", err)
				}
				_, err = e.EnablePostpaid(h.ctx, "a", "")
				if !errors.Is(err, billing.ErrCorrupt) {
					t.Errorf("EnablePostpaid after the flip: error = %v, want ErrCorrupt", err)
				}
				if diff := cmp.Diff(before, h.state("a", march(15)), cmpOpts); diff != "" {
					t.Errorf("the corrupt read changed the account (-before +after):\n%s", diff)
				}
			})
		}
	}
}

// staleStore hands its next unit of work an old account record, as a Store
// with snapshot reads may when another unit of work commits first.
type staleStore struct {
	billing.Store
	stale   *billing.Account
	updates int
}

func (s *staleStore) Update(ctx context.Context, id string, fn func(billing.Reader) (billing.Changes, error)) error {
	s.updates++
	stale := s.stale
	s.stale = nil
	return s.Store.Update(ctx, id, func(r billing.Reader) (billing.Changes, error) { return fn(staleReader{r, stale}) })
}

type staleReader struct {
	billing.Reader
	stale *billing.Account
}

func (r staleReader) Account() (billing.Account, error) {
	if r.stale != nil {
		return *r.stale, nil
	}
	return r.Reader.Account()
}

// TestSwitchStaleSnapshot checks that a record older than the one on which
// GuardSwitch saw the switch on is a stale snapshot, not corruption: the
// commit conflicts and the Engine retries on fresh state.
func TestSwitchStaleSnapshot(t *testing.T) {
	h := newHarness(t)
	s := &staleStore{Store: h.store}
	var err error
	if h.e, err = billing.New(billing.GuardSwitch(s), &billing.Options{Now: h.clock.Now}); err != nil {
		t.Fatal(err)
	}
	h.do(open(at(15, 8, 0, 0), false))
	old := h.account("a") // version 1, switch off
	h.do(op{now: at(15, 9, 0, 0), enable: "a"})
	s.stale, s.updates = &old, 0
	h.clock.Set(at(15, 10, 0, 0))
	r, err := h.e.Record(h.ctx, *usage("u1", audio, 60, at(15, 10, 0, 0)))
	if err != nil {
		t.Fatalf("Record on a stale snapshot: %v, want a retry and success", err)
	}
	// The first attempt read version 1 and its commit of version 2 conflicted
	// with the stored version 2; the second attempt read version 2 (switch on).
	if s.updates != 2 || len(r.Draws) != 1 {
		t.Errorf("Record: %d units of work, receipt %+v; want 2 and a draw from the trial", s.updates, r)
	}
	if a := h.account("a"); !a.Postpaid.On || a.Version != 3 {
		t.Errorf("account after Record: %+v, want the switch on at version 3", a)
	}
}
