package billing_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
)

// monthlyCycle is noTrial with every account of its cohorts (through
// 2029) on the monthly billing cycle.
func monthlyCycle() billing.PriceBook {
	b := noTrial()
	b.ID = "era1-usd-no-trial-monthly-cycle"
	b.MonthlyCohortsUntil = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	return b
}

// april returns the billing day 2021-04-d.
func april(d int) billing.Day { return refDateDay(2021, 4, d) }

// TestCycleMonthlyRounding checks that the monthly cycle rounds a month's
// cumulative seconds and bills the month once, where the daily cycle
// rounds and bills each day: 30 s of HD on March 3, 10 and 20.
func TestCycleMonthlyRounding(t *testing.T) {
	basicS := billing.ServiceBasic
	settled := at(32, 10, 0, 0) // 2021-04-01 10:00 UTC+8
	tests := []struct {
		name       string
		book       billing.PriceBook
		wantCycle  billing.Cycle
		settle     []billing.Day // settled at settled, in order
		want       []billing.Bill
		wantMeters map[billing.Day][]billing.Meter
		wantClosed billing.Day // Account.SettledThrough afterwards
	}{
		{
			name:      "monthly: ceil(90/60) = 2 minutes on one bill",
			book:      monthlyCycle(),
			wantCycle: billing.Monthly,
			settle:    []billing.Day{march(20)}, // any day of the month
			want: []billing.Bill{{
				Account: "a", Day: march(1), Through: march(31), Currency: "USD", Issued: settled, PostpaidOn: true,
				// 30 + 30 + 30 = 90 s, ceil(90/60) = 2 min postpaid; 2 × 0.00399 = 0.00798.
				Lines:    []billing.Line{line(march(1), basicS, hd, 90, 0, 2, 0, true, "0.00399", "0.00798")},
				Subtotal: dec("0.00798"), Total: dec("0.01"), // 0.00798 → 0.01
			}},
			wantMeters: map[billing.Day][]billing.Meter{
				// One meter, of the window starting March 1 (the opening's day).
				// Its latest usage is March 20 = March 1 + 19; the minutes used
				// before it: March 3's 1 (March 10's 30 s made ceil(60/60) = 1,
				// no more), March 20's made ceil(90/60) = 2, 1 more.
				march(1):  {{Key: basic(march(1), hd), Seconds: 90, Postpaid: 2, Settled: billing.Tally{Seconds: 90, Postpaid: 2}, Latest: 19, EarlierPostpaid: 1}},
				march(3):  nil,
				march(10): nil,
				march(20): nil,
			},
			wantClosed: march(31),
		},
		{
			name:      "daily: ceil(30/60) = 1 minute on each of three bills",
			book:      noTrial(),
			wantCycle: billing.Daily,
			settle:    []billing.Day{march(3), march(10), march(20)},
			want: []billing.Bill{
				{
					Account: "a", Day: march(3), Through: march(3), Currency: "USD", Issued: settled, PostpaidOn: true,
					// 1 × 0.00399 = 0.00399 → 0.00.
					Lines:    []billing.Line{line(march(3), basicS, hd, 30, 0, 1, 0, true, "0.00399", "0.00399")},
					Subtotal: dec("0.00399"), Total: dec("0"),
				},
				{
					Account: "a", Day: march(10), Through: march(10), Currency: "USD", Issued: settled, PostpaidOn: true,
					Lines:    []billing.Line{line(march(10), basicS, hd, 30, 0, 1, 0, true, "0.00399", "0.00399")},
					Subtotal: dec("0.00399"), Total: dec("0"),
				},
				{
					Account: "a", Day: march(20), Through: march(20), Currency: "USD", Issued: settled, PostpaidOn: true,
					Lines:    []billing.Line{line(march(20), basicS, hd, 30, 0, 1, 0, true, "0.00399", "0.00399")},
					Subtotal: dec("0.00399"), Total: dec("0"),
				},
			},
			wantMeters: map[billing.Day][]billing.Meter{
				march(1):  nil,
				march(3):  {{Key: basic(march(3), hd), Seconds: 30, Postpaid: 1, Settled: billing.Tally{Seconds: 30, Postpaid: 1}}},
				march(10): {{Key: basic(march(10), hd), Seconds: 30, Postpaid: 1, Settled: billing.Tally{Seconds: 30, Postpaid: 1}}},
				march(20): {{Key: basic(march(20), hd), Seconds: 30, Postpaid: 1, Settled: billing.Tally{Seconds: 30, Postpaid: 1}}},
			},
			wantClosed: march(20),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.book)
			h.do(
				open(at(1, 8, 0, 0), true),
				use("u1", hd, 30, at(3, 9, 0, 0)),
				use("u2", hd, 30, at(10, 9, 0, 0)),
				use("u3", hd, 30, at(20, 9, 0, 0)),
			)
			if got := h.account("a").Cycle; got != tt.wantCycle {
				t.Errorf("Account.Cycle = %v, want %v", got, tt.wantCycle)
			}
			h.clock.Set(settled)
			var got []billing.Bill
			for _, d := range tt.settle {
				b, err := h.e.Settle(h.ctx, "a", d)
				if err != nil {
					t.Fatalf("Settle(%s): %v", d, err)
				}
				got = append(got, b)
			}
			if diff := cmp.Diff(tt.want, got, cmpOpts); diff != "" {
				t.Errorf("Settle() bills (-want +got):\n%s", diff)
			}
			listed, err := h.e.Bills(h.ctx, "a", march(1), march(31))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, listed, cmpOpts); diff != "" {
				t.Errorf("Bills(March) (-want +got):\n%s", diff)
			}
			for d, want := range tt.wantMeters {
				ms, err := h.e.Meters(h.ctx, "a", d)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, ms, cmpOpts); diff != "" {
					t.Errorf("Meters(%s) (-want +got):\n%s", d, diff)
				}
			}
			if got := h.account("a").SettledThrough; got != tt.wantClosed {
				t.Errorf("SettledThrough = %s, want %s", got, tt.wantClosed)
			}
		})
	}
}

// TestCycleSettleBeforeMonthEnds checks that a monthly period cannot be
// settled, by any of its days, before the month has ended, where a daily
// one can once its day has.
func TestCycleSettleBeforeMonthEnds(t *testing.T) {
	tests := []struct {
		name       string
		book       billing.PriceBook
		now        time.Time
		day        billing.Day
		wantErr    error
		wantClosed billing.Day // Account.SettledThrough afterwards
	}{
		// Refused, nothing is closed: through the day before the opening's.
		{"monthly: March 20 settling March 5", monthlyCycle(), at(20, 10, 0, 0), march(5), billing.ErrDayNotEnded, march(0)},
		{"monthly: March 20 settling March 1", monthlyCycle(), at(20, 10, 0, 0), march(1), billing.ErrDayNotEnded, march(0)},
		{"monthly: March 6 settling March 5", monthlyCycle(), at(6, 10, 0, 0), march(5), billing.ErrDayNotEnded, march(0)},
		{"monthly: March 31 23:59:59 settling March 5", monthlyCycle(), at(31, 23, 59, 59), march(5), billing.ErrDayNotEnded, march(0)},
		{"monthly: April 1 00:00 settling March 5", monthlyCycle(), at(32, 0, 0, 0), march(5), nil, march(31)},
		{"daily: March 20 settling March 5", noTrial(), at(20, 10, 0, 0), march(5), nil, march(5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.book)
			h.do(open(at(1, 8, 0, 0), true), use("u1", hd, 30, at(5, 9, 0, 0)))
			h.clock.Set(tt.now)
			_, err := h.e.Settle(h.ctx, "a", tt.day)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Settle(%s) at %v: error %v, want %v", tt.day, tt.now, err, tt.wantErr)
			}
			bills, err := h.e.Bills(h.ctx, "a", march(1), march(31))
			if err != nil {
				t.Fatal(err)
			}
			wantBills := 0
			if tt.wantErr == nil {
				wantBills = 1
			}
			if len(bills) != wantBills {
				t.Errorf("%d bills, want %d", len(bills), wantBills)
			}
			if got := h.account("a").SettledThrough; got != tt.wantClosed {
				t.Errorf("SettledThrough = %s, want %s", got, tt.wantClosed)
			}
		})
	}
}

// TestCycleSettleAnyDay checks that settling a monthly period by any of
// its days issues, and then returns unchanged, its one bill.
func TestCycleSettleAnyDay(t *testing.T) {
	settled := at(32, 10, 0, 0) // April 1 10:00
	want := billing.Bill{
		Account: "a", Day: march(1), Through: march(31), Currency: "USD", Issued: settled, PostpaidOn: true,
		// 30 s + 20 s = 50 s: ceil(50/60) = 1 min × 0.00399 = 0.00399 → 0.00.
		Lines:    []billing.Line{line(march(1), billing.ServiceBasic, hd, 50, 0, 1, 0, true, "0.00399", "0.00399")},
		Subtotal: dec("0.00399"), Total: dec("0"),
	}
	days := []billing.Day{march(1), march(5), march(17), march(28), march(31)}
	for _, first := range days {
		t.Run("first by "+first.String(), func(t *testing.T) {
			h := newHarness(t, monthlyCycle())
			h.do(open(at(1, 8, 0, 0), true), use("u1", hd, 30, at(5, 9, 0, 0)), use("u2", hd, 20, at(28, 9, 0, 0)))
			h.clock.Set(settled)
			got, err := h.e.Settle(h.ctx, "a", first)
			if err != nil {
				t.Fatalf("Settle(%s): %v", first, err)
			}
			if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
				t.Errorf("Settle(%s) (-want +got):\n%s", first, diff)
			}
			h.clock.Set(at(33, 12, 0, 0)) // a day later: the bill keeps its Issued
			for _, d := range days {
				again, err := h.e.Settle(h.ctx, "a", d)
				if err != nil {
					t.Fatalf("Settle(%s) again: %v", d, err)
				}
				if diff := cmp.Diff(want, again, cmpOpts); diff != "" {
					t.Errorf("Settle(%s) again (-want +got):\n%s", d, diff)
				}
			}
			bills, err := h.e.Bills(h.ctx, "a", march(1), march(31))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]billing.Bill{want}, bills, cmpOpts); diff != "" {
				t.Errorf("Bills(March) (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCycleDueDays checks when a monthly period is due: from 10:00 (UTC+8)
// on the 1st of the next month, by its first day; a daily one from 10:00
// the next day.
func TestCycleDueDays(t *testing.T) {
	tests := []struct {
		name string
		book billing.PriceBook
		at   time.Time
		want []billing.Day
	}{
		{"monthly: March 6 10:00", monthlyCycle(), at(6, 10, 0, 0), nil},
		{"monthly: March 31 23:59:59", monthlyCycle(), at(31, 23, 59, 59), nil},
		{"monthly: April 1 00:00", monthlyCycle(), at(32, 0, 0, 0), nil},
		{"monthly: April 1 09:59", monthlyCycle(), at(32, 9, 59, 0), nil},
		{"monthly: April 1 09:59:59", monthlyCycle(), at(32, 9, 59, 59), nil},
		{"monthly: April 1 10:00", monthlyCycle(), at(32, 10, 0, 0), []billing.Day{march(1)}},
		{"monthly: April 1 10:00 in UTC is 02:00 UTC", monthlyCycle(), time.Date(2021, 4, 1, 2, 0, 0, 0, time.UTC), []billing.Day{march(1)}},
		{"monthly: April 1 01:59 UTC is 09:59 UTC+8", monthlyCycle(), time.Date(2021, 4, 1, 1, 59, 0, 0, time.UTC), nil},
		{"monthly: April 20 12:00, still March once", monthlyCycle(), time.Date(2021, 4, 20, 12, 0, 0, 0, cst), []billing.Day{march(1)}},
		{"daily: March 6 09:59", noTrial(), at(6, 9, 59, 0), nil},
		{"daily: March 6 10:00", noTrial(), at(6, 10, 0, 0), []billing.Day{march(5)}},
		{"daily: March 21 10:00", noTrial(), at(21, 10, 0, 0), []billing.Day{march(5), march(20)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.book)
			h.do(open(at(1, 8, 0, 0), true), use("u1", hd, 30, at(5, 9, 0, 0)), use("u2", hd, 30, at(20, 9, 0, 0)))
			got, err := h.e.DueDays(h.ctx, "a", tt.at)
			if err != nil {
				t.Fatalf("DueDays: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmpOpts); diff != "" {
				t.Errorf("DueDays(%v) (-want +got):\n%s", tt.at, diff)
			}
		})
	}
	t.Run("monthly: nothing due once settled", func(t *testing.T) {
		h := newHarness(t, monthlyCycle())
		h.do(open(at(1, 8, 0, 0), true), use("u1", hd, 30, at(5, 9, 0, 0)), settle(at(32, 10, 0, 0), march(5)))
		got, err := h.e.DueDays(h.ctx, "a", at(33, 10, 0, 0))
		if err != nil || len(got) != 0 {
			t.Errorf("DueDays after settling March = %v, %v; want none", got, err)
		}
	})
}

// TestCycleFirstPeriod checks the rounding window and the bill's period on
// the monthly cycle: a calendar month, from the opening's day in the
// account's first month.
func TestCycleFirstPeriod(t *testing.T) {
	basicS := billing.ServiceBasic
	tests := []struct {
		name     string
		books    []billing.PriceBook // none: the default books
		open     op
		uses     []op
		settleBy billing.Day // a day of the period
		settleAt time.Time
		dueAt    []billing.Day // DueDays(settleAt) before settling
		want     billing.Bill  // Issued is settleAt
	}{
		{
			name:     "opened March 15: the first window is March 15..31",
			books:    []billing.PriceBook{monthlyCycle()},
			open:     open(at(15, 8, 0, 0), true),
			uses:     []op{use("u1", hd, 30, at(15, 9, 0, 0)), use("u2", hd, 30, at(20, 9, 0, 0))},
			settleBy: march(20),
			settleAt: at(32, 10, 0, 0),
			dueAt:    []billing.Day{march(15)},
			want: billing.Bill{
				Account: "a", Day: march(15), Through: march(31), Currency: "USD", PostpaidOn: true,
				// 30 + 30 = 60 s: 1 min × 0.00399.
				Lines:    []billing.Line{line(march(15), basicS, hd, 60, 0, 1, 0, true, "0.00399", "0.00399")},
				Subtotal: dec("0.00399"), Total: dec("0"),
			},
		},
		{
			name:     "opened March 1: the window is the month",
			books:    []billing.PriceBook{monthlyCycle()},
			open:     open(at(1, 8, 0, 0), true),
			uses:     []op{use("u1", hd, 30, at(15, 9, 0, 0)), use("u2", hd, 31, at(20, 9, 0, 0))},
			settleBy: march(31),
			settleAt: at(32, 10, 0, 0),
			dueAt:    []billing.Day{march(1)},
			want: billing.Bill{
				Account: "a", Day: march(1), Through: march(31), Currency: "USD", PostpaidOn: true,
				// 30 + 31 = 61 s: ceil(61/60) = 2 min; 2 × 0.00399 = 0.00798.
				Lines:    []billing.Line{line(march(1), basicS, hd, 61, 0, 2, 0, true, "0.00399", "0.00798")},
				Subtotal: dec("0.00798"), Total: dec("0.01"),
			},
		},
		{
			name:     "opened in February: March is whole",
			books:    []billing.PriceBook{monthlyCycle()},
			open:     open(time.Date(2021, 2, 20, 8, 0, 0, 0, cst), true),
			uses:     []op{use("u1", hd, 60, at(20, 9, 0, 0))},
			settleBy: march(20),
			settleAt: at(32, 10, 0, 0),
			dueAt:    []billing.Day{march(1)},
			want: billing.Bill{
				Account: "a", Day: march(1), Through: march(31), Currency: "USD", PostpaidOn: true,
				Lines:    []billing.Line{line(march(1), basicS, hd, 60, 0, 1, 0, true, "0.00399", "0.00399")},
				Subtotal: dec("0.00399"), Total: dec("0"),
			},
		},
		{
			name:     "opened March 31: the first window is that day",
			books:    []billing.PriceBook{monthlyCycle()},
			open:     open(at(31, 8, 0, 0), true),
			uses:     []op{use("u1", hd, 60, at(31, 9, 0, 0))},
			settleBy: march(31),
			settleAt: at(32, 10, 0, 0),
			dueAt:    []billing.Day{march(31)},
			want: billing.Bill{
				Account: "a", Day: march(31), Through: march(31), Currency: "USD", PostpaidOn: true,
				Lines:    []billing.Line{line(march(31), basicS, hd, 60, 0, 1, 0, true, "0.00399", "0.00399")},
				Subtotal: dec("0.00399"), Total: dec("0"),
			},
		},
		{
			name:     "opened March 15: April is whole",
			books:    []billing.PriceBook{monthlyCycle()},
			open:     open(at(15, 8, 0, 0), true),
			uses:     []op{use("u1", hd, 30, at(33, 9, 0, 0)), use("u2", hd, 30, at(60, 9, 0, 0))}, // April 2 and 29
			settleBy: april(29),
			settleAt: time.Date(2021, 5, 1, 10, 0, 0, 0, cst),
			dueAt:    []billing.Day{april(1)},
			want: billing.Bill{
				Account: "a", Day: april(1), Through: april(30), Currency: "USD", PostpaidOn: true,
				// 30 + 30 = 60 s: 1 min × 0.00399.
				Lines:    []billing.Line{line(april(1), basicS, hd, 60, 0, 1, 0, true, "0.00399", "0.00399")},
				Subtotal: dec("0.00399"), Total: dec("0"),
			},
		},
		{
			// Era1USD: the cohort of 2020-08-31 23:00 UTC+8 is monthly; its
			// first window is its opening's day, the last of August; the
			// trial covers the minute.
			name:     "default books: opened 2020-08-31 23:00, the first window is that day",
			open:     op{now: time.Date(2020, 8, 31, 23, 0, 0, 0, cst), open: &billing.AccountSpec{ID: "a", Postpaid: true, App: "app1"}},
			uses:     []op{use("u1", hd, 30, time.Date(2020, 8, 31, 23, 10, 0, 0, cst)), use("u2", hd, 30, time.Date(2020, 8, 31, 23, 50, 0, 0, cst))},
			settleBy: refDateDay(2020, 8, 31),
			settleAt: time.Date(2020, 9, 1, 10, 0, 0, 0, cst),
			dueAt:    []billing.Day{refDateDay(2020, 8, 31)},
			want: billing.Bill{
				Account: "a", Day: refDateDay(2020, 8, 31), Through: refDateDay(2020, 8, 31), Currency: "USD", PostpaidOn: true,
				// 60 s: 1 min from the trial, billed 0.
				Lines:    []billing.Line{line(refDateDay(2020, 8, 31), basicS, hd, 60, 1, 0, 0, true, "0.00399", "0")},
				Subtotal: dec("0"), Total: dec("0"),
			},
		},
		{
			name:     "default books: opened 2020-08-31 23:00, September is whole",
			open:     op{now: time.Date(2020, 8, 31, 23, 0, 0, 0, cst), open: &billing.AccountSpec{ID: "a", Postpaid: true, App: "app1"}},
			uses:     []op{use("u1", hd, 30, time.Date(2020, 9, 1, 9, 0, 0, 0, cst)), use("u2", hd, 30, time.Date(2020, 9, 30, 9, 0, 0, 0, cst))},
			settleBy: refDateDay(2020, 9, 30),
			settleAt: time.Date(2020, 10, 1, 10, 0, 0, 0, cst),
			dueAt:    []billing.Day{refDateDay(2020, 9, 1)},
			want: billing.Bill{
				Account: "a", Day: refDateDay(2020, 9, 1), Through: refDateDay(2020, 9, 30), Currency: "USD", PostpaidOn: true,
				// 30 + 30 = 60 s: 1 min from the trial.
				Lines:    []billing.Line{line(refDateDay(2020, 9, 1), basicS, hd, 60, 1, 0, 0, true, "0.00399", "0")},
				Subtotal: dec("0"), Total: dec("0"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.books...)
			h.do(tt.open)
			h.do(tt.uses...)
			w := tt.want.Day // the window's first day: the meter's
			ms, err := h.e.Meters(h.ctx, "a", w)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != 1 || ms[0].Key != basic(w, hd) {
				t.Errorf("Meters(%s) = %+v, want one of key %v", w, ms, basic(w, hd))
			}
			if tt.settleBy != w {
				if ms, err := h.e.Meters(h.ctx, "a", tt.settleBy); err != nil || len(ms) != 0 {
					t.Errorf("Meters(%s) = %+v, %v; want none (not a window's first day)", tt.settleBy, ms, err)
				}
			}
			due, err := h.e.DueDays(h.ctx, "a", tt.settleAt)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.dueAt, due, cmpOpts); diff != "" {
				t.Errorf("DueDays(%v) (-want +got):\n%s", tt.settleAt, diff)
			}
			// The day before the period's end, it has not ended.
			h.clock.Set(tt.settleAt.Add(-24 * time.Hour))
			if _, err := h.e.Settle(h.ctx, "a", tt.settleBy); !errors.Is(err, billing.ErrDayNotEnded) {
				t.Errorf("Settle(%s) a day early: %v, want ErrDayNotEnded", tt.settleBy, err)
			}
			h.clock.Set(tt.settleAt)
			got, err := h.e.Settle(h.ctx, "a", tt.settleBy)
			if err != nil {
				t.Fatalf("Settle(%s): %v", tt.settleBy, err)
			}
			want := tt.want
			want.Issued = tt.settleAt
			if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
				t.Errorf("Settle(%s) (-want +got):\n%s", tt.settleBy, diff)
			}
		})
	}
}

// TestCycleBuyAbsorbs checks the same-day rule on the monthly cycle: a
// package bought on a day absorbs only the basic minutes that day's usage
// left uncovered, not those of the month's earlier days, which stay on the
// month's meter.
func TestCycleBuyAbsorbs(t *testing.T) {
	// Shortfall on March 10 and 12, postpaid off, no package.
	tenth := []op{
		use("a1", audio, 30, at(10, 9, 0, 0)), // audio: ceil(30/60) = 1 min of shortfall; app1 suspended
		use("h1", hd, 150, at(10, 10, 0, 0)),  // HD: ceil(150/60) = 3 min of shortfall
	}
	twelfth := []op{
		use("a2", audio, 20, at(12, 9, 0, 0)), // monthly: ceil(50/60) = 1, no more; daily: ceil(20/60) = 1
		use("h2", hd, 90, at(12, 10, 0, 0)),   // monthly: ceil(240/60) = 4, 1 more; daily: ceil(90/60) = 2
	}
	ops := func(open op, days ...[]op) []op {
		s := []op{open}
		for _, d := range days {
			s = append(s, d...)
		}
		return s
	}
	tests := []struct {
		name       string
		book       billing.PriceBook
		setup      []op
		buy        op
		want       billing.PurchaseReceipt // Package is checked apart
		wantMeters map[billing.Day][]billing.Meter
	}{
		{
			name:  "monthly: bought March 12 after its usage, only March 12's minutes",
			book:  monthlyCycle(),
			setup: ops(open(at(1, 8, 0, 0), false), tenth, twelfth),
			buy:   buy(at(12, 14, 0, 0), "p1", uni, 1000),
			// Audio: March 12 added no minute (1 - 1 = 0), nothing to absorb.
			// HD: March 12's 4 - 3 = 1 shortfall minute × 4 = 4 package
			// minutes. March 10's 1 audio and 3 HD minutes stay shortfall.
			want: billing.PurchaseReceipt{Day: march(12), Resumed: true, Absorbed: []billing.Absorption{{Tier: hd, Shortfall: 1, Deducted: 4}}},
			wantMeters: map[billing.Day][]billing.Meter{
				// Latest: March 12 = March 1 + 11; Earlier*: March 10's.
				march(1): {
					{Key: basic(march(1), audio), Seconds: 50, Shortfall: 1, Latest: 11, EarlierShortfall: 1},
					{Key: basic(march(1), hd), Seconds: 240, Prepaid: 1, Shortfall: 3, Latest: 11, EarlierShortfall: 3},
				},
				march(10): nil,
				march(12): nil,
			},
		},
		{
			name:  "daily: bought March 12 after its usage, March 12's meters",
			book:  noTrial(),
			setup: ops(open(at(1, 8, 0, 0), false), tenth, twelfth),
			buy:   buy(at(12, 14, 0, 0), "p1", uni, 1000),
			// Audio: 1 × 1 = 1; HD: 2 × 4 = 8.
			want: billing.PurchaseReceipt{Day: march(12), Resumed: true, Absorbed: []billing.Absorption{
				{Tier: audio, Shortfall: 1, Deducted: 1},
				{Tier: hd, Shortfall: 2, Deducted: 8},
			}},
			wantMeters: map[billing.Day][]billing.Meter{
				march(1): nil,
				march(10): {
					{Key: basic(march(10), audio), Seconds: 30, Shortfall: 1},
					{Key: basic(march(10), hd), Seconds: 150, Shortfall: 3},
				},
				march(12): {
					{Key: basic(march(12), audio), Seconds: 20, Prepaid: 1},
					{Key: basic(march(12), hd), Seconds: 90, Prepaid: 2},
				},
			},
		},
		{
			name:  "monthly: bought March 11, a day without usage, nothing",
			book:  monthlyCycle(),
			setup: ops(open(at(1, 8, 0, 0), false), tenth),
			buy:   buy(at(11, 9, 0, 0), "p1", uni, 1000),
			want:  billing.PurchaseReceipt{Day: march(11), Resumed: true},
			wantMeters: map[billing.Day][]billing.Meter{
				// Latest: March 10 = March 1 + 9; nothing before it.
				march(1): {
					{Key: basic(march(1), audio), Seconds: 30, Shortfall: 1, Latest: 9},
					{Key: basic(march(1), hd), Seconds: 150, Shortfall: 3, Latest: 9},
				},
			},
		},
		{
			name:  "monthly: bought March 10 after its usage, all of March 10's",
			book:  monthlyCycle(),
			setup: ops(open(at(1, 8, 0, 0), false), tenth),
			buy:   buy(at(10, 14, 0, 0), "p1", uni, 1000),
			// Audio: 1 × 1 = 1; HD: 3 × 4 = 12.
			want: billing.PurchaseReceipt{Day: march(10), Resumed: true, Absorbed: []billing.Absorption{
				{Tier: audio, Shortfall: 1, Deducted: 1},
				{Tier: hd, Shortfall: 3, Deducted: 12},
			}},
			wantMeters: map[billing.Day][]billing.Meter{
				march(1): {
					{Key: basic(march(1), audio), Seconds: 30, Prepaid: 1, Latest: 9},
					{Key: basic(march(1), hd), Seconds: 150, Prepaid: 3, Latest: 9},
				},
			},
		},
		{
			name: "monthly: bought on the window's first day, that day's",
			book: monthlyCycle(),
			setup: []op{
				open(at(1, 8, 0, 0), false),
				use("h1", hd, 61, at(1, 9, 0, 0)), // ceil(61/60) = 2 min of shortfall
			},
			buy: buy(at(1, 14, 0, 0), "p1", uni, 1000),
			// 2 × 4 = 8.
			want: billing.PurchaseReceipt{Day: march(1), Resumed: true, Absorbed: []billing.Absorption{{Tier: hd, Shortfall: 2, Deducted: 8}}},
			wantMeters: map[billing.Day][]billing.Meter{
				march(1): {{Key: basic(march(1), hd), Seconds: 61, Prepaid: 2}},
			},
		},
		{
			name: "monthly: postpaid, only March 12's postpaid minutes",
			book: monthlyCycle(),
			setup: []op{
				open(at(1, 8, 0, 0), true),
				use("h1", hd, 150, at(10, 10, 0, 0)), // 3 min postpaid
				use("h2", hd, 90, at(12, 10, 0, 0)),  // ceil(240/60) = 4: 1 more
			},
			buy: buy(at(12, 14, 0, 0), "p1", uni, 1000),
			// 4 - 3 = 1 postpaid minute × 4 = 4.
			want: billing.PurchaseReceipt{Day: march(12), Absorbed: []billing.Absorption{{Tier: hd, Postpaid: 1, Deducted: 4}}},
			wantMeters: map[billing.Day][]billing.Meter{
				march(1): {{Key: basic(march(1), hd), Seconds: 240, Prepaid: 1, Postpaid: 3, Latest: 11, EarlierPostpaid: 3}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.book)
			h.do(tt.setup...)
			h.clock.Set(tt.buy.now)
			got, err := h.e.Buy(h.ctx, *tt.buy.buy)
			if err != nil {
				t.Fatalf("Buy: %v", err)
			}
			var deducted int64
			for _, a := range tt.want.Absorbed {
				deducted += a.Deducted
			}
			if got.Package.Balance != 1000-deducted {
				t.Errorf("Package.Balance = %d, want 1000 - %d", got.Package.Balance, deducted)
			}
			got.Package = billing.Package{}
			if diff := cmp.Diff(tt.want, got, cmpOpts); diff != "" {
				t.Errorf("Buy() receipt (-want +got):\n%s", diff)
			}
			for d, want := range tt.wantMeters {
				ms, err := h.e.Meters(h.ctx, "a", d)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, ms, cmpOpts); diff != "" {
					t.Errorf("Meters(%s) after Buy (-want +got):\n%s", d, diff)
				}
			}
		})
	}
}

// TestCycleBuyAbsorbedBill checks the bill of a month whose shortfall a
// purchase partly absorbed and the rest of which EnablePostpaid turned
// postpaid.
func TestCycleBuyAbsorbedBill(t *testing.T) {
	h := newHarness(t, monthlyCycle())
	h.do(
		open(at(1, 8, 0, 0), false),
		use("h1", hd, 150, at(10, 10, 0, 0)),   // 3 min of shortfall
		use("h2", hd, 90, at(12, 10, 0, 0)),    // ceil(240/60) = 4: 1 more
		buy(at(12, 14, 0, 0), "p1", uni, 1000), // absorbs March 12's 1 (4 package minutes)
		op{now: at(20, 9, 0, 0), enable: "a"},  // March 10's 3 become postpaid
		settle(at(32, 10, 0, 0), march(31)),
	)
	bills, err := h.e.Bills(h.ctx, "a", march(1), march(31))
	if err != nil {
		t.Fatal(err)
	}
	want := []billing.Bill{{
		Account: "a", Day: march(1), Through: march(31), Currency: "USD", Issued: at(32, 10, 0, 0), PostpaidOn: true,
		// 1 prepaid, 3 postpaid: 3 × 0.00399 = 0.01197 → 0.01.
		Lines:    []billing.Line{line(march(1), billing.ServiceBasic, hd, 240, 1, 3, 0, true, "0.00399", "0.01197")},
		Subtotal: dec("0.01197"), Total: dec("0.01"),
	}}
	if diff := cmp.Diff(want, bills, cmpOpts); diff != "" {
		t.Errorf("Bills(March) (-want +got):\n%s", diff)
	}
	if got := h.balances("a")["p1"]; got != 996 { // 1000 - 4
		t.Errorf("p1's balance = %d, want 996", got)
	}
}

// TestCycleEnablePostpaid checks that EnablePostpaid turns the shortfall
// of its rounding window into postpaid: the month's on the monthly cycle,
// the day's on the daily one.
func TestCycleEnablePostpaid(t *testing.T) {
	tests := []struct {
		name       string
		book       billing.PriceBook
		enable     time.Time
		wantMeters map[billing.Day][]billing.Meter
	}{
		{
			name:   "monthly: enabled March 12, the month's",
			book:   monthlyCycle(),
			enable: at(12, 14, 0, 0),
			// 3 (March 10) + 1 (March 12: ceil(240/60) - 3) = 4, all postpaid;
			// March 10's 3 are the earlier ones.
			wantMeters: map[billing.Day][]billing.Meter{
				march(1): {{Key: basic(march(1), hd), Seconds: 240, Postpaid: 4, Latest: 11, EarlierPostpaid: 3}},
			},
		},
		{
			name:   "monthly: enabled March 20, a day without usage, the month's",
			book:   monthlyCycle(),
			enable: at(20, 9, 0, 0),
			wantMeters: map[billing.Day][]billing.Meter{
				march(1): {{Key: basic(march(1), hd), Seconds: 240, Postpaid: 4, Latest: 11, EarlierPostpaid: 3}},
			},
		},
		{
			name:   "daily: enabled March 12, March 12's only",
			book:   noTrial(),
			enable: at(12, 14, 0, 0),
			wantMeters: map[billing.Day][]billing.Meter{
				march(10): {{Key: basic(march(10), hd), Seconds: 150, Shortfall: 3}}, // ceil(150/60)
				march(12): {{Key: basic(march(12), hd), Seconds: 90, Postpaid: 2}},   // ceil(90/60)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.book)
			h.do(
				open(at(1, 8, 0, 0), false),
				use("h1", hd, 150, at(10, 10, 0, 0)),
				use("h2", hd, 90, at(12, 10, 0, 0)),
				op{now: tt.enable, enable: "a"},
			)
			for d, want := range tt.wantMeters {
				ms, err := h.e.Meters(h.ctx, "a", d)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, ms, cmpOpts); diff != "" {
					t.Errorf("Meters(%s) after EnablePostpaid (-want +got):\n%s", d, diff)
				}
			}
		})
	}
}

// TestCycleCohort checks that the cohort decides the cycle under Era1USD's
// default book: an account whose first application was created (or, with
// none, that was opened) before 2020-09-01 00:00 UTC+8 is monthly.
func TestCycleCohort(t *testing.T) {
	openAt := func(t time.Time, app string) op {
		return op{now: t, open: &billing.AccountSpec{ID: "a", App: app}}
	}
	create := func(t time.Time, app string) op { return op{now: t, create: &billing.AppSpec{ID: app}} }
	d := func(day, hh, mm, ss int) time.Time { return time.Date(2020, 8, day, hh, mm, ss, 0, cst) } // d(32, ...) is September 1
	tests := []struct {
		name  string
		setup []op
		want  billing.Cycle
	}{
		{"opened 2020-08-31 23:00 with its application", []op{openAt(d(31, 23, 0, 0), "app1")}, billing.Monthly},
		{"opened 2020-08-31 23:59:59 with its application", []op{openAt(d(31, 23, 59, 59), "app1")}, billing.Monthly},
		{"opened 2020-09-01 00:00 with its application", []op{openAt(d(32, 0, 0, 0), "app1")}, billing.Daily},
		{"opened 2020-08-31 16:00 UTC (09-01 00:00 UTC+8)", []op{openAt(time.Date(2020, 8, 31, 16, 0, 0, 0, time.UTC), "app1")}, billing.Daily},
		{"opened 2020-08-31 15:59:59 UTC (08-31 23:59:59 UTC+8)", []op{openAt(time.Date(2020, 8, 31, 15, 59, 59, 0, time.UTC), "app1")}, billing.Monthly},
		{"opened 2019-10-11, Era 1's first day", []op{openAt(time.Date(2019, 10, 11, 0, 0, 0, 0, cst), "app1")}, billing.Monthly},
		{"opened 2021-03-01", []op{openAt(at(1, 8, 0, 0), "app1")}, billing.Daily},
		{"opened 2020-08-20 without an application", []op{openAt(d(20, 8, 0, 0), "")}, billing.Monthly},
		{"opened 2020-09-02 without an application", []op{openAt(d(33, 8, 0, 0), "")}, billing.Daily},
		{"opened 2020-08-20, first application 2020-08-31 23:00", []op{openAt(d(20, 8, 0, 0), ""), create(d(31, 23, 0, 0), "app1")}, billing.Monthly},
		{"opened 2020-08-20, first application 2020-09-01 00:00", []op{openAt(d(20, 8, 0, 0), ""), create(d(32, 0, 0, 0), "app1")}, billing.Daily},
		{"opened 2020-08-20, first application 2020-09-02", []op{openAt(d(20, 8, 0, 0), ""), create(d(33, 8, 0, 0), "app1")}, billing.Daily},
		{"opened 2020-08-20 with an application, a second 2020-09-02", []op{openAt(d(20, 8, 0, 0), "app1"), create(d(33, 8, 0, 0), "app2")}, billing.Monthly},
		{"opened 2020-09-02 without one, first application 2020-09-03", []op{openAt(d(33, 8, 0, 0), ""), create(d(34, 8, 0, 0), "app1")}, billing.Daily},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t) // the default books: Era1USD, Era1CNY
			h.do(tt.setup...)
			if got := h.account("a").Cycle; got != tt.want {
				t.Errorf("Account.Cycle = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestCycleLateReportAcrossExpiry checks a late report on the monthly
// cycle whose replay could stop at a checkpoint (converge) while the
// package paying its meter's minutes there ends before the month does: the
// minute the report moves to a later day is paid by the package valid
// then, in whatever order the reports arrive.
func TestCycleLateReportAcrossExpiry(t *testing.T) {
	book := refCustomBook() // with the "mini" kind: HD at 5, valid one month
	book.Trial = billing.Grant{}
	book.MonthlyCohortsUntil = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	setup := []op{
		{now: at(-8, 8, 0, 0), open: &billing.AccountSpec{ID: "a", Postpaid: false, App: "app1"}}, // 2021-02-20
		buy(at(-8, 9, 0, 0), "mini", refCustomKind, 100),                                          // valid to March 20 00:00
		buy(at(-8, 9, 1, 0), "uni", billing.KindUniversal, 1000),                                  // to 2022-02-28
	}
	u1 := use("u1", hd, 30, at(10, 9, 0, 0))
	u2 := use("u2", hd, 30, at(10, 10, 0, 0))
	audio := use("a1", billing.TierAudio, 30, at(15, 12, 0, 0)) // a checkpoint before the mini package ends
	u3 := use("u3", hd, 30, at(25, 9, 0, 0))
	for _, tt := range []struct {
		name  string
		order []op
	}{
		{"in order", []op{u1, u2, audio, u3}},
		{"u2 reported last", []op{u1, audio, u3, u2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, book)
			billing.SetCheckpointEvery(h.e, 1)
			h.do(setup...)
			for _, o := range tt.order {
				o.now = at(26, 8, 0, 0)
				h.do(o)
			}
			// u1: HD 30 s, minute 1, mini 100 − 5 = 95; u2: 60 s, no new
			// minute; a1: audio minute 1, mini 95 − 1 = 94; u3 on March 25:
			// 90 s, minute 2, the mini package ended on March 20: uni
			// 1000 − 4 = 996.
			want := map[string]int64{"mini": 94, "uni": 996}
			o, err := h.e.Overview(h.ctx, "a")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int64{}
			for _, p := range o.Packages {
				got[p.ID] = p.Balance
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("balances (-want +got):\n%s", diff)
			}
			ms, err := h.e.Meters(h.ctx, "a", march(1))
			if err != nil {
				t.Fatal(err)
			}
			wantMeters := []billing.Meter{
				{Key: basic(march(1), billing.TierAudio), Seconds: 30, Prepaid: 1, Latest: 14},
				{Key: basic(march(1), hd), Seconds: 90, Prepaid: 2, Latest: 24},
			}
			if diff := cmp.Diff(wantMeters, ms, cmpOpts); diff != "" {
				t.Errorf("March's meters (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCycleLateReportMovesMinutes checks a late report on the monthly
// cycle that moves a later day's minute to its own day: a purchase on the
// later day then finds nothing of that day's to absorb, in whatever order
// the reports arrive (a replay that stopped at a checkpoint by shifting the
// meter would leave the minute on the later day).
func TestCycleLateReportMovesMinutes(t *testing.T) {
	u1 := use("u1", hd, 50, at(10, 9, 0, 0))
	u2 := use("u2", hd, 20, at(10, 10, 0, 0))
	audio := use("a1", billing.TierAudio, 30, at(15, 12, 0, 0)) // a checkpoint between
	u3 := use("u3", hd, 20, at(25, 9, 0, 0))
	for _, tt := range []struct {
		name  string
		order []op
	}{
		{"in order", []op{u1, u2, audio, u3}},
		{"u2 reported last", []op{u1, audio, u3, u2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, monthlyCycle())
			billing.SetCheckpointEvery(h.e, 1)
			h.do(open(at(1, 8, 0, 0), true))
			for _, o := range tt.order {
				o.now = at(25, 10, 0, 0)
				h.do(o)
			}
			h.clock.Set(at(25, 11, 0, 0))
			r, err := h.e.Buy(h.ctx, billing.Purchase{ID: "p", Account: "a", Kind: billing.KindUniversal, Minutes: 1000})
			if err != nil {
				t.Fatal(err)
			}
			// HD: u1 50 s, minute 1; u2 70 s, minute 2, both on March 10;
			// u3 90 s, no new minute on March 25: nothing of March 25's to
			// absorb, and the audio minute is March 15's.
			if len(r.Absorbed) != 0 || r.Package.Balance != 1000 {
				t.Errorf("Buy() absorbed %+v, balance %d; want nothing absorbed, 1000", r.Absorbed, r.Package.Balance)
			}
			ms, err := h.e.Meters(h.ctx, "a", march(1))
			if err != nil {
				t.Fatal(err)
			}
			wantMeters := []billing.Meter{
				{Key: basic(march(1), billing.TierAudio), Seconds: 30, Postpaid: 1, Latest: 14},
				// Latest March 25 = March 1 + 24; both postpaid minutes before it.
				{Key: basic(march(1), hd), Seconds: 90, Postpaid: 2, Latest: 24, EarlierPostpaid: 2},
			}
			if diff := cmp.Diff(wantMeters, ms, cmpOpts); diff != "" {
				t.Errorf("March's meters (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCycleLateReportStops checks that a late report on the monthly cycle,
// whose minutes a package valid to the month's end pays, stops its replay
// at a checkpoint (converge) and leaves what a replay to the end would.
func TestCycleLateReportStops(t *testing.T) {
	h := newHarness(t, monthlyCycle())
	billing.SetCheckpointEvery(h.e, 1)
	h.do(open(at(1, 8, 0, 0), false), buy(at(1, 9, 0, 0), "p", billing.KindUniversal, 1000))
	for i, d := range []int{10, 12, 15, 20} {
		h.do(op{now: at(25, 8, 0, 0), use: usage(fmt.Sprint("u", i), hd, 40, at(d, 9, 0, 0))})
	}
	h.do(op{now: at(25, 9, 0, 0), use: usage("late", hd, 40, at(11, 9, 0, 0))})
	if billing.Stops(h.e) == 0 {
		t.Errorf("the late report's replay ran to the end; want it stopped at a checkpoint")
	}
	// 5 × 40 = 200 s, ceil(200/60) = 4 minutes, all from p at 4: 1000 − 16 = 984.
	ms, err := h.e.Meters(h.ctx, "a", march(1))
	if err != nil {
		t.Fatal(err)
	}
	want := []billing.Meter{{Key: basic(march(1), hd), Seconds: 200, Prepaid: 4, Latest: 19}}
	if diff := cmp.Diff(want, ms, cmpOpts); diff != "" {
		t.Errorf("March's meters (-want +got):\n%s", diff)
	}
	o, err := h.e.Overview(h.ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Packages) != 1 || o.Packages[0].Balance != 984 {
		t.Errorf("packages %+v; want p with 984 minutes", o.Packages)
	}
}

// TestCycleChangesWithTheCohort checks the cycle fixed with the cohort when
// the first application is created after the opening: from monthly to
// daily, the month settled before is still its bill, asked for by any of
// its days; from daily to monthly (books split by cohort), the first month
// begins on the first application's day, after the days already closed,
// and is settled when it ends.
func TestCycleChangesWithTheCohort(t *testing.T) {
	t.Run("monthly to daily", func(t *testing.T) {
		h := newHarness(t) // Era 1: first applications before 2020-09-01 monthly
		d := func(m time.Month, day, hh int) time.Time { return time.Date(2020, m, day, hh, 0, 0, 0, cst) }
		h.do(op{now: d(8, 20, 8), open: &billing.AccountSpec{ID: "a"}})
		if c := h.account("a").Cycle; c != billing.Monthly {
			t.Fatalf("cycle %v after opening on 2020-08-20, want monthly", c)
		}
		h.clock.Set(d(9, 1, 10))
		first, err := h.e.Settle(h.ctx, "a", refDateDay(2020, 8, 25))
		if err != nil {
			t.Fatal(err)
		}
		if first.Day != refDateDay(2020, 8, 20) || first.Through != refDateDay(2020, 8, 31) {
			t.Errorf("August's bill of %s..%s; want 2020-08-20..2020-08-31", first.Day, first.Through)
		}
		h.do(op{now: d(9, 2, 8), create: &billing.AppSpec{ID: "app1"}})
		if c := h.account("a").Cycle; c != billing.Daily {
			t.Fatalf("cycle %v after the first application on 2020-09-02, want daily", c)
		}
		again, err := h.e.Settle(h.ctx, "a", refDateDay(2020, 8, 25))
		if err != nil || !cmp.Equal(first, again, cmpOpts) {
			t.Errorf("Settle(2020-08-25) again = %+v, %v; want August's bill %+v", again, err, first)
		}
	})
	t.Run("daily to monthly", func(t *testing.T) {
		split := at(5, 0, 0, 0)
		daily, monthly := noTrial(), noTrial()
		daily.ID, daily.CohortUntil = "daily-cohorts", split
		monthly.ID, monthly.CohortFrom, monthly.MonthlyCohortsUntil = "monthly-cohorts", split, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		h := newHarness(t, daily, monthly)
		h.do(op{now: at(1, 8, 0, 0), open: &billing.AccountSpec{ID: "a", Postpaid: true}}, settle(at(3, 10, 0, 0), march(2)),
			op{now: at(6, 8, 0, 0), create: &billing.AppSpec{ID: "app1"}}, use("u1", hd, 60, at(6, 9, 0, 0)))
		if c := h.account("a").Cycle; c != billing.Monthly {
			t.Fatalf("cycle %v, want monthly", c)
		}
		ms, err := h.e.Meters(h.ctx, "a", march(6))
		if err != nil || len(ms) != 1 {
			t.Fatalf("Meters(March 6) = %+v, %v; want the month's HD meter, of the window from the 6th", ms, err)
		}
		h.clock.Set(at(32, 10, 0, 0)) // April 1 10:00
		due, err := h.e.DueDays(h.ctx, "a", at(32, 10, 0, 0))
		if err != nil || !cmp.Equal(due, []billing.Day{march(6)}) {
			t.Errorf("DueDays(April 1 10:00) = %v, %v; want [2021-03-06]", due, err)
		}
		b, err := h.e.Settle(h.ctx, "a", march(20))
		// 60 s of HD, 1 minute postpaid at 0.00399.
		want := billing.Bill{Account: "a", Day: march(6), Through: march(31), Currency: "USD", Issued: at(32, 10, 0, 0), PostpaidOn: true,
			Lines:    []billing.Line{line(march(6), billing.ServiceBasic, hd, 60, 0, 1, 0, true, "0.00399", "0.00399")},
			Subtotal: dec("0.00399"), Total: dec("0")}
		if diff := cmp.Diff(want, b, cmpOpts); err != nil || diff != "" {
			t.Errorf("Settle(March 20) = %v; (-want +got):\n%s", err, diff)
		}
	})
}

// TestCycleValueAddedDaily checks that value-added services are rounded
// per day on the monthly cycle too (SPEC "Value-added services"), a line
// per day on the month's bill, and priced by their own day: on the China
// site, the MixTranscoding of an account opened before 2020-11-01 is free
// before 2020-12-08 and billed from it.
func TestCycleValueAddedDaily(t *testing.T) {
	h := newHarness(t)
	d := func(m time.Month, day, hh int) time.Time { return time.Date(2020, m, day, hh, 0, 0, 0, cst) }
	h.do(op{now: d(8, 20, 8), open: &billing.AccountSpec{ID: "a", Currency: "CNY", Postpaid: true, App: "app1"}})
	for i, day := range []int{7, 8, 8} {
		h.do(vaUse(fmt.Sprint("m", i), mix, hd, 30, d(12, day, 9+i)))
	}
	h.clock.Set(time.Date(2021, 1, 1, 10, 0, 0, 0, cst))
	b, err := h.e.Settle(h.ctx, "a", refDateDay(2020, 12, 10))
	if err != nil {
		t.Fatal(err)
	}
	// December 7: 30 s, 1 minute, free (0); December 8: 60 s, 1 minute at
	// 32.5 yuan per 1,000 minutes, 0.0325. Rounded per month they would be
	// 90 s, 2 minutes, priced as of December 1: free.
	dec7, dec8 := refDateDay(2020, 12, 7), refDateDay(2020, 12, 8)
	want := []billing.Line{
		line(dec7, mix, hd, 30, 0, 1, 0, true, "0", "0"),
		line(dec8, mix, hd, 60, 0, 1, 0, true, "0.0325", "0.0325"),
	}
	if diff := cmp.Diff(want, b.Lines, cmpOpts); diff != "" || b.Day != refDateDay(2020, 12, 1) || !b.Subtotal.Equal(dec("0.0325")) {
		t.Errorf("December's bill %s..%s, subtotal %s; lines (-want +got):\n%s", b.Day, b.Through, b.Subtotal, diff)
	}
}
