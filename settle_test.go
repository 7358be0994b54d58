package billing_test

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
)

// noTrialCNY is the Era 1 CNY book without a trial.
func noTrialCNY() billing.PriceBook {
	b := billing.Era1CNY()
	b.ID = "era1-cny-no-trial"
	b.Trial = billing.Grant{}
	return b
}

// line returns a bill line of day d; Billed is all the postpaid minutes
// (plus shortfall if billShortfall).
func line(d billing.Day, s billing.Service, t billing.Tier, seconds, prepaid, postpaid, shortfall int64, billShortfall bool, price, amount string) billing.Line {
	billed := postpaid
	if billShortfall {
		billed += shortfall
	}
	return billing.Line{Day: d, Service: s, Tier: t, Seconds: seconds, Minutes: prepaid + postpaid + shortfall,
		Prepaid: prepaid, Postpaid: postpaid, Shortfall: shortfall, Billed: billed, UnitPrice: dec(price), Amount: dec(amount)}
}

// adjustment returns l as an adjustment line: late usage of an earlier day.
func adjustment(l billing.Line) billing.Line {
	l.Adjustment = true
	return l
}

// TestSettleBills checks daily bills computed by hand from the Era 1 price
// books: a line per service and tier, exact amounts, the total rounded once.
func TestSettleBills(t *testing.T) {
	basicS := billing.ServiceBasic
	tests := []struct {
		name     string
		books    []billing.PriceBook
		currency string
		setup    []op
		settle   time.Time // when Settle(march(15)) runs
		want     billing.Bill
	}{
		{
			name:  "USD: postpaid basic, recording and MixTranscoding with 8-decimal prices",
			books: []billing.PriceBook{noTrial()},
			setup: []op{
				open(at(15, 8, 0, 0), true),
				use("u1", audio, 1000, at(15, 9, 0, 0)),                                    // ceil(1000/60) = 17 min
				use("u2", hd, 3600, at(15, 10, 0, 0)),                                      // 60 min
				vaUse("r1", recording, hd, 7200, at(15, 11, 0, 0)),                         // 120 min
				vaUse("m1", mix, sd, 1830, at(15, 12, 0, 0)),                               // ceil(30.5) = 31 min
				vaUse("m2", mix, fhd, 61, at(15, 13, 0, 0)),                                // 2 min
				use("u3", audio, 20, at(15, 23, 59, 59)),                                   // audio: ceil(1020/60) = 17, still
				vaUse("m3", mix, fhd, 59, time.Date(2021, 3, 15, 15, 59, 59, 0, time.UTC)), // 23:59:59 in UTC+8: fhd ceil(120/60) = 2
			},
			settle: at(16, 10, 0, 0),
			want: billing.Bill{
				Account: "a", Day: march(15), Through: march(15), Currency: "USD", Issued: at(16, 10, 0, 0), PostpaidOn: true,
				Lines: []billing.Line{
					line(march(15), basicS, audio, 1020, 0, 17, 0, true, "0.00099", "0.01683"), // 17 × 0.00099
					line(march(15), basicS, hd, 3600, 0, 60, 0, true, "0.00399", "0.2394"),     // 60 × 0.00399
					line(march(15), mix, sd, 1830, 0, 31, 0, true, "0.00228571", "0.07085701"), // 31 × 0.00228571
					line(march(15), mix, fhd, 120, 0, 2, 0, true, "0.00899", "0.01798"),        // 2 × 0.00899
					line(march(15), recording, hd, 7200, 0, 120, 0, true, "0.00199", "0.2388"), // 120 × 0.00199
				},
				// 0.01683 + 0.2394 + 0.07085701 + 0.01798 + 0.2388 = 0.58386701 → 0.58.
				Subtotal: dec("0.58386701"), Total: dec("0.58"),
			},
		},
		{
			name:     "CNY: postpaid basic, recording and MixTranscoding",
			books:    []billing.PriceBook{noTrialCNY()},
			currency: "CNY",
			setup: []op{
				{now: at(15, 8, 0, 0), open: &billing.AccountSpec{ID: "a", Currency: "CNY", Postpaid: true, App: "app1"}},
				use("u1", audio, 60_000, at(15, 9, 0, 0)),          // 1,000 min
				use("u2", fhd, 61, at(15, 10, 0, 0)),               // 2 min
				vaUse("r1", recording, sd, 6000, at(15, 11, 0, 0)), // 100 min
				vaUse("m1", mix, hd, 630, at(15, 12, 0, 0)),        // ceil(10.5) = 11 min
			},
			settle: at(16, 10, 0, 0),
			want: billing.Bill{
				Account: "a", Day: march(15), Through: march(15), Currency: "CNY", Issued: at(16, 10, 0, 0), PostpaidOn: true,
				Lines: []billing.Line{
					line(march(15), basicS, audio, 60_000, 0, 1000, 0, true, "0.007", "7"), // 1,000 × 0.007
					line(march(15), basicS, fhd, 61, 0, 2, 0, true, "0.105", "0.21"),       // 2 × 0.105
					line(march(15), mix, hd, 630, 0, 11, 0, true, "0.0325", "0.3575"),      // 11 × 0.0325
					line(march(15), recording, sd, 6000, 0, 100, 0, true, "0.007", "0.7"),  // 100 × 0.007
				},
				// 7 + 0.21 + 0.3575 + 0.7 = 8.2675 → 8.27.
				Subtotal: dec("8.2675"), Total: dec("8.27"),
			},
		},
		{
			name:     "rounded half up: 0.105 is 0.11",
			books:    []billing.PriceBook{noTrialCNY()},
			currency: "CNY",
			setup: []op{
				{now: at(15, 8, 0, 0), open: &billing.AccountSpec{ID: "a", Currency: "CNY", Postpaid: true, App: "app1"}},
				use("u1", fhd, 60, at(15, 9, 0, 0)), // 1 min × 0.105
			},
			settle: at(16, 0, 0, 0), // a day may be settled as soon as it has ended
			want: billing.Bill{
				Account: "a", Day: march(15), Through: march(15), Currency: "CNY", Issued: at(16, 0, 0, 0), PostpaidOn: true,
				Lines:    []billing.Line{line(march(15), basicS, fhd, 60, 0, 1, 0, true, "0.105", "0.105")},
				Subtotal: dec("0.105"), Total: dec("0.11"), // half even would give 0.10
			},
		},
		{
			name:  "the total is rounded once, not line by line",
			books: []billing.PriceBook{noTrial()},
			setup: []op{
				open(at(15, 8, 0, 0), true),
				use("u1", audio, 360, at(15, 9, 0, 0)), // 6 × 0.00099 = 0.00594, alone 0.01
				use("u2", sd, 180, at(15, 9, 0, 0)),    // 3 × 0.00199 = 0.00597, alone 0.01
			},
			settle: at(16, 10, 0, 0),
			want: billing.Bill{
				Account: "a", Day: march(15), Through: march(15), Currency: "USD", Issued: at(16, 10, 0, 0), PostpaidOn: true,
				Lines: []billing.Line{
					line(march(15), basicS, audio, 360, 0, 6, 0, true, "0.00099", "0.00594"),
					line(march(15), basicS, sd, 180, 0, 3, 0, true, "0.00199", "0.00597"),
				},
				// 0.00594 + 0.00597 = 0.01191 → 0.01 (line by line: 0.01 + 0.01 = 0.02).
				Subtotal: dec("0.01191"), Total: dec("0.01"),
			},
		},
		{
			name: "prepaid minutes are listed at no charge",
			setup: []op{
				open(at(15, 8, 0, 0), false),
				use("u1", hd, 600, at(15, 9, 0, 0)), // 10 min from the trial
			},
			settle: at(16, 10, 0, 0),
			want: billing.Bill{
				Account: "a", Day: march(15), Through: march(15), Currency: "USD", Issued: at(16, 10, 0, 0),
				Lines:    []billing.Line{line(march(15), basicS, hd, 600, 10, 0, 0, false, "0.00399", "0")},
				Subtotal: dec("0"), Total: dec("0"),
			},
		},
		{
			name: "shortfall with postpaid off: kept visible, not billed",
			setup: []op{
				open(at(15, 8, 0, 0), false),
				use("u0", sd, 600_000, at(15, 9, 0, 0)), // the trial: 10,000 min
				use("u1", fhd, 600, at(15, 10, 0, 0)),   // 10 min of shortfall; suspended
			},
			settle: at(16, 10, 0, 0),
			want: billing.Bill{
				Account: "a", Day: march(15), Through: march(15), Currency: "USD", Issued: at(16, 10, 0, 0),
				Lines: []billing.Line{
					line(march(15), basicS, sd, 600_000, 10_000, 0, 0, false, "0.00199", "0"),
					line(march(15), basicS, fhd, 600, 0, 0, 10, false, "0.01499", "0"),
				},
				Subtotal: dec("0"), Total: dec("0"),
			},
		},
		{
			name: "shortfall billed when postpaid is on at settlement",
			setup: []op{
				open(at(15, 8, 0, 0), false),
				use("u0", sd, 600_000, at(15, 9, 0, 0)),
				use("u1", fhd, 600, at(15, 10, 0, 0)),
				{now: at(16, 9, 0, 0), enable: "a"},
			},
			settle: at(16, 10, 0, 0),
			want: billing.Bill{
				Account: "a", Day: march(15), Through: march(15), Currency: "USD", Issued: at(16, 10, 0, 0), PostpaidOn: true,
				Lines: []billing.Line{
					line(march(15), basicS, sd, 600_000, 10_000, 0, 0, true, "0.00199", "0"),
					line(march(15), basicS, fhd, 600, 0, 0, 10, true, "0.01499", "0.1499"), // 10 × 0.01499
				},
				Subtotal: dec("0.1499"), Total: dec("0.15"),
			},
		},
		{
			name: "MixTranscoding before an older account's billing start is free",
			setup: []op{
				{now: time.Date(2020, 10, 1, 8, 0, 0, 0, cst), open: &billing.AccountSpec{ID: "a", Postpaid: true, App: "app1"}},
				vaUse("m1", mix, hd, 600, time.Date(2020, 11, 30, 23, 0, 0, 0, cst)),
			},
			settle: time.Date(2020, 12, 1, 10, 0, 0, 0, cst),
			want: billing.Bill{
				Account: "a", Day: refDateDay(2020, 11, 30), Through: refDateDay(2020, 11, 30), Currency: "USD", Issued: time.Date(2020, 12, 1, 10, 0, 0, 0, cst), PostpaidOn: true,
				Lines:    []billing.Line{line(refDateDay(2020, 11, 30), mix, hd, 600, 0, 10, 0, true, "0", "0")},
				Subtotal: dec("0"), Total: dec("0"),
			},
		},
		{
			name: "MixTranscoding from an older account's billing start is billed",
			setup: []op{
				{now: time.Date(2020, 10, 1, 8, 0, 0, 0, cst), open: &billing.AccountSpec{ID: "a", Postpaid: true, App: "app1"}},
				vaUse("m1", mix, hd, 600, time.Date(2020, 12, 1, 0, 0, 0, 0, cst)),
			},
			settle: time.Date(2020, 12, 2, 10, 0, 0, 0, cst),
			want: billing.Bill{
				Account: "a", Day: refDateDay(2020, 12, 1), Through: refDateDay(2020, 12, 1), Currency: "USD", Issued: time.Date(2020, 12, 2, 10, 0, 0, 0, cst), PostpaidOn: true,
				// 10 × 0.00464286 = 0.0464286.
				Lines:    []billing.Line{line(refDateDay(2020, 12, 1), mix, hd, 600, 0, 10, 0, true, "0.00464286", "0.0464286")},
				Subtotal: dec("0.0464286"), Total: dec("0.05"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.books...)
			h.do(tt.setup...)
			h.clock.Set(tt.settle)
			got, err := h.e.Settle(h.ctx, "a", tt.want.Day)
			if err != nil {
				t.Fatalf("Settle: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmpOpts); diff != "" {
				t.Errorf("Settle() bill (-want +got):\n%s", diff)
			}
			// Settling again returns the identical bill and changes nothing.
			before := h.state("a", tt.want.Day)
			h.clock.Set(tt.settle.Add(48 * time.Hour))
			again, err := h.e.Settle(h.ctx, "a", tt.want.Day)
			if err != nil || !cmp.Equal(got, again) {
				t.Errorf("Settle() again = %+v, %v; want the first bill", again, err)
			}
			after := h.state("a", tt.want.Day)
			after.Overview.Today = before.Overview.Today
			if diff := cmp.Diff(before, after, cmpOpts); diff != "" {
				t.Errorf("settling again changed the account (-before +after):\n%s", diff)
			}
			// The settlement is a ledger entry with the total.
			var found bool
			for _, en := range ledger(h, "a") {
				if en.Kind == billing.EntrySettlement {
					found = en.Request == billing.RequestSettle && en.Ref == tt.want.Day.String() && en.Amount.Equal(tt.want.Total)
				}
			}
			if !found {
				t.Errorf("no settlement entry for %s with amount %s", tt.want.Day, tt.want.Total)
			}
		})
	}
}

// TestLateUsage checks that usage arriving for a settled day leaves its bill
// as issued and goes on the next bill as an adjustment dated with its day.
func TestLateUsage(t *testing.T) {
	h := newHarness(t, noTrial())
	h.do(
		open(at(15, 8, 0, 0), true),
		use("u1", hd, 90, at(15, 9, 0, 0)), // 2 min × 0.00399 = 0.00798
	)
	h.clock.Set(at(16, 10, 0, 0))
	bill15, err := h.e.Settle(h.ctx, "a", march(15))
	if err != nil {
		t.Fatal(err)
	}
	h.do(
		buy(at(16, 11, 0, 0), "p1", uni, 1000),                                  // valid from the 16th: it cannot cover the 15th
		op{now: at(16, 12, 0, 0), use: usage("late", hd, 40, at(15, 23, 0, 0))}, // HD on the 15th: ceil(130/60) - 2 = 1 more minute
		vaUse("r1", recording, sd, 60, at(16, 13, 0, 0)),                        // day 16: 1 min × 0.00099
		use("u2", audio, 600, at(16, 14, 0, 0)),                                 // day 16: 10 min, from p1
	)
	r := h.meter("a", basic(march(15), hd))
	if want := (billing.Meter{Key: basic(march(15), hd), Seconds: 130, Postpaid: 3, Settled: billing.Tally{Seconds: 90, Postpaid: 2}}); !cmp.Equal(want, r) {
		t.Errorf("day 15's HD meter = %+v, want %+v", r, want)
	}
	h.clock.Set(at(17, 10, 0, 0))
	again, err := h.e.Settle(h.ctx, "a", march(15))
	if err != nil || !cmp.Equal(bill15, again) {
		t.Errorf("the bill of the 15th changed after late usage: %+v, %v", again, err)
	}
	got, err := h.e.Settle(h.ctx, "a", march(16))
	if err != nil {
		t.Fatal(err)
	}
	adj := adjustment(line(march(15), billing.ServiceBasic, hd, 40, 0, 1, 0, true, "0.00399", "0.00399"))
	want := billing.Bill{
		Account: "a", Day: march(16), Through: march(16), Currency: "USD", Issued: at(17, 10, 0, 0), PostpaidOn: true,
		Lines: []billing.Line{
			line(march(16), billing.ServiceBasic, audio, 600, 10, 0, 0, true, "0.00099", "0"),
			line(march(16), recording, sd, 60, 0, 1, 0, true, "0.00099", "0.00099"),
			adj,
		},
		// 0 + 0.00099 + 0.00399 = 0.00498 → 0.00.
		Subtotal: dec("0.00498"), Total: dec("0"),
	}
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("Settle(16th) (-want +got):\n%s", diff)
	}
	// Adjustments are billed once.
	h.do(use("u3", audio, 60, at(17, 9, 0, 0)))
	h.clock.Set(at(18, 10, 0, 0))
	b17, err := h.e.Settle(h.ctx, "a", march(17))
	if err != nil || len(b17.Lines) != 1 || b17.Lines[0].Adjustment {
		t.Errorf("Settle(17th) = %+v, %v; want one line of the 17th and no adjustment", b17, err)
	}
	bills, err := h.e.Bills(h.ctx, "a", march(1), march(31))
	if err != nil || len(bills) != 3 || !cmp.Equal(bills[0], bill15) || !cmp.Equal(bills[1], got) {
		t.Errorf("Bills() = %d bills, %v; want the three bills as issued", len(bills), err)
	}
}

func TestSettleRules(t *testing.T) {
	setup := func(t *testing.T) *harness {
		h := newHarness(t, noTrial())
		h.do(open(at(14, 8, 0, 0), true), use("u1", audio, 60, at(15, 9, 0, 0)), use("u2", audio, 60, at(17, 9, 0, 0)))
		return h
	}
	t.Run("a day that has not ended", func(t *testing.T) {
		h := newHarness(t, noTrial())
		h.do(open(at(14, 8, 0, 0), true), use("u1", audio, 60, at(15, 9, 0, 0)))
		h.clock.Set(at(15, 23, 59, 59))
		if _, err := h.e.Settle(h.ctx, "a", march(15)); !errors.Is(err, billing.ErrDayNotEnded) {
			t.Errorf("Settle(15th at 23:59:59) error = %v, want ErrDayNotEnded", err)
		}
		// 2021-03-15 16:00 UTC is 00:00 on the 16th in UTC+8: the 15th has ended.
		h.clock.Set(time.Date(2021, 3, 15, 16, 0, 0, 0, time.UTC))
		if _, err := h.e.Settle(h.ctx, "a", march(15)); err != nil {
			t.Errorf("Settle(15th at 00:00 on the 16th) error = %v", err)
		}
	})
	t.Run("days with usage in order; empty days closed on the way", func(t *testing.T) {
		h := setup(t)
		h.clock.Set(at(18, 10, 0, 0))
		if _, err := h.e.Settle(h.ctx, "a", march(17)); !errors.Is(err, billing.ErrSettleOrder) {
			t.Errorf("Settle(17th before 15th) error = %v, want ErrSettleOrder", err)
		}
		for _, d := range []int{15, 17} {
			if _, err := h.e.Settle(h.ctx, "a", march(d)); err != nil {
				t.Fatalf("Settle(%d): %v", d, err)
			}
		}
		// The 16th had no usage: settling the 17th closed it without a bill.
		for _, d := range []int{13, 14, 16} {
			if _, err := h.e.Settle(h.ctx, "a", march(d)); !errors.Is(err, billing.ErrDayClosed) {
				t.Errorf("Settle(%d) error = %v, want ErrDayClosed", d, err)
			}
		}
		if a := h.account("a"); a.SettledThrough != march(17) {
			t.Errorf("SettledThrough = %s, want 2021-03-17", a.SettledThrough)
		}
	})
	t.Run("due days", func(t *testing.T) {
		h := setup(t)
		due := func(at time.Time, want ...billing.Day) {
			t.Helper()
			got, err := h.e.DueDays(h.ctx, "a", at)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
				t.Errorf("DueDays(%s) (-want +got):\n%s", at.Format(time.DateTime), diff)
			}
		}
		due(at(16, 9, 59, 59))           // the 15th is due from 10:00 on the 16th
		due(at(16, 10, 0, 0), march(15)) // 02:00 UTC is 10:00 in UTC+8
		due(time.Date(2021, 3, 16, 2, 0, 0, 0, time.UTC), march(15))
		due(at(18, 10, 0, 0), march(15), march(17)) // the 16th had no usage
		h.clock.Set(at(18, 10, 0, 0))
		for _, d := range []int{15, 17} {
			if _, err := h.e.Settle(h.ctx, "a", march(d)); err != nil {
				t.Fatal(err)
			}
		}
		due(at(19, 10, 0, 0))
		// Late usage of the 15th arrives at 11:00 on the 19th, and there is no
		// usage after the 17th: the latest due day, the 18th, carries it.
		h.do(op{now: at(19, 11, 0, 0), use: usage("late", audio, 60, at(15, 22, 0, 0))})
		due(at(19, 12, 0, 0), march(18))
		h.clock.Set(at(19, 12, 0, 0))
		b, err := h.e.Settle(h.ctx, "a", march(18))
		if err != nil || len(b.Lines) != 1 || !b.Lines[0].Adjustment || b.Lines[0].Day != march(15) {
			t.Errorf("Settle(18th) = %+v, %v; want one adjustment line of the 15th", b, err)
		}
		due(at(20, 10, 0, 0))
	})
	t.Run("a configurable due time", func(t *testing.T) {
		h := setup(t)
		var err error
		if h.e, err = billing.New(h.store, &billing.Options{Now: h.clock.Now, PriceBooks: []billing.PriceBook{noTrial()}, DueAfter: -1}); err != nil {
			t.Fatal(err)
		}
		got, err := h.e.DueDays(h.ctx, "a", at(16, 0, 0, 0))
		if err != nil || !cmp.Equal(got, []billing.Day{march(15)}) {
			t.Errorf("DueDays(16th 00:00) with no delay = %v, %v; want [2021-03-15]", got, err)
		}
	})
}

func TestStatement(t *testing.T) {
	h := newHarness(t, noTrial())
	h.do(open(at(30, 8, 0, 0), true),
		use("u1", fhd, 600, at(30, 9, 0, 0)),  // 10 × 0.01499 = 0.1499 → 0.15
		use("u2", fhd, 1200, at(31, 9, 0, 0)), // 20 × 0.01499 = 0.2998 → 0.30
		use("u3", fhd, 60, at(32, 9, 0, 0)),   // April 1st: 0.01499 → 0.01
	)
	h.clock.Set(at(33, 10, 0, 0))
	for _, d := range []int{30, 31, 32} {
		if _, err := h.e.Settle(h.ctx, "a", march(d)); err != nil {
			t.Fatal(err)
		}
	}
	s, err := h.e.Statement(h.ctx, "a", 2021, time.March)
	if err != nil {
		t.Fatal(err)
	}
	// 0.15 + 0.30: the bills of the 30th and 31st; April's is not March's.
	if len(s.Bills) != 2 || !s.Total.Equal(dec("0.45")) || s.Currency != "USD" {
		t.Errorf("Statement(March) = %d bills, total %s %s; want 2 bills, 0.45 USD", len(s.Bills), s.Total, s.Currency)
	}
}

// TestSettleDayBoundary checks that the billing day is UTC+8's: usage at
// 23:59:59 and 00:00:00 local time falls on two days' bills, whether the
// instants are given in UTC+8 or in UTC.
func TestSettleDayBoundary(t *testing.T) {
	h := newHarness(t, noTrial())
	h.do(
		op{now: at(15, 8, 0, 0), open: &billing.AccountSpec{ID: "local", Postpaid: true, App: "app1"}},
		op{open: &billing.AccountSpec{ID: "utc", Postpaid: true, App: "app1"}},
	)
	instants := map[string][2]time.Time{
		"local": {at(15, 23, 59, 59), at(16, 0, 0, 0)},
		"utc":   {time.Date(2021, 3, 15, 15, 59, 59, 0, time.UTC), time.Date(2021, 3, 15, 16, 0, 0, 0, time.UTC)},
	}
	for account, ts := range instants {
		for i, tt := range ts {
			u := usage(fmt.Sprint("u", i), fhd, int64(60*(i+1)), tt) // 1 minute before midnight, 2 after
			u.Account = account
			h.do(op{now: at(16, 0, 0, 1), use: u})
		}
	}
	h.clock.Set(at(17, 10, 0, 0))
	for account := range instants {
		var got []int64
		for _, d := range []int{15, 16} {
			b, err := h.e.Settle(h.ctx, account, march(d))
			if err != nil || len(b.Lines) != 1 {
				t.Fatalf("Settle(%s, %d) = %+v, %v; want one line", account, d, b, err)
			}
			got = append(got, b.Lines[0].Billed)
		}
		// The 15th: 1 FHD minute; the 16th: 2.
		if diff := cmp.Diff([]int64{1, 2}, got); diff != "" {
			t.Errorf("account %s: billed minutes of the 15th and 16th (-want +got):\n%s", account, diff)
		}
	}
}

func TestSettleBadDays(t *testing.T) {
	h := newHarness(t, noTrial())
	h.do(open(at(15, 8, 0, 0), true), use("u1", audio, 60, at(15, 9, 0, 0)))
	h.clock.Set(at(16, 10, 0, 0))
	before := h.state("a", march(15))
	tests := []struct {
		day  billing.Day
		want error
	}{
		{march(16), billing.ErrDayNotEnded},
		{math.MaxInt32, billing.ErrDayNotEnded},
		{math.MinInt32, billing.ErrDayClosed},
		{march(14), billing.ErrDayClosed}, // before the account was opened
	}
	for _, tt := range tests {
		if _, err := h.e.Settle(h.ctx, "a", tt.day); !errors.Is(err, tt.want) {
			t.Errorf("Settle(%d) error = %v, want %v", tt.day, err, tt.want)
		}
	}
	if _, err := h.e.Statement(h.ctx, "a", 2021, 13); !errors.Is(err, billing.ErrInvalidTime) {
		t.Errorf("Statement(month 13) error = %v, want ErrInvalidTime", err)
	}
	if diff := cmp.Diff(before, h.state("a", march(15)), cmpOpts); diff != "" {
		t.Errorf("refused settlements changed the account (-before +after):\n%s", diff)
	}
	if _, err := h.e.Settle(h.ctx, "a", march(15)); err != nil {
		t.Errorf("Settle(15th) after the refusals: %v", err)
	}
}

// TestLateAdjustments checks adjustment lines of late usage of every kind:
// covered by a package valid at its time, value-added, and shortfall.
func TestLateAdjustments(t *testing.T) {
	h := newHarness(t)
	h.do(
		open(at(15, 8, 0, 0), false),
		use("u1", sd, 599_880, at(15, 9, 0, 0)), // 9,998 SD minutes from the trial: 2 left
	)
	h.clock.Set(at(16, 10, 0, 0))
	if _, err := h.e.Settle(h.ctx, "a", march(15)); err != nil {
		t.Fatal(err)
	}
	h.do(
		op{now: at(16, 11, 0, 0), use: usage("late1", hd, 60, at(15, 20, 0, 0))},          // 1 HD minute: the trial, 1 left
		op{now: at(16, 11, 0, 0), use: vaUsage("late2", mix, fhd, 120, at(15, 21, 0, 0))}, // 2 MixTranscoding FHD minutes
		op{now: at(16, 11, 0, 0), use: usage("late3", sd, 240, at(15, 22, 0, 0))},         // SD: ceil(600,120/60) - 9,998 = 4: 1 from the trial, 3 shortfall
	)
	// late3 suspended the account at 11:00 on the 16th: usage at 12:00 is
	// still recorded (usage is a fact), as 1 audio minute of shortfall.
	h.clock.Set(at(16, 12, 0, 0))
	r, err := h.e.Record(h.ctx, *usage("u2", audio, 60, at(16, 12, 0, 0)))
	if want := (billing.Receipt{Key: basic(march(16), audio), Minutes: 1, Shortfall: 1, WhileSuspended: true}); err != nil || !cmp.Equal(want, r, cmpOpts) {
		t.Fatalf("Record(12:00 on the 16th) = %+v, %v; want %+v", r, err, want)
	}
	h.do(op{now: at(17, 9, 0, 0), enable: "a"})
	h.clock.Set(at(17, 10, 0, 0))
	got, err := h.e.Settle(h.ctx, "a", march(16))
	if err != nil {
		t.Fatal(err)
	}
	want := billing.Bill{
		Account: "a", Day: march(16), Through: march(16), Currency: "USD", Issued: at(17, 10, 0, 0), PostpaidOn: true,
		Lines: []billing.Line{
			// The 16th: u2's shortfall minute, billed as postpaid is on at settlement: 0.00099.
			line(march(16), billing.ServiceBasic, audio, 60, 0, 0, 1, true, "0.00099", "0.00099"),
			// Days of the 15th, in the order of the day's lines: basic SD, basic HD, then MixTranscoding.
			adjustment(line(march(15), billing.ServiceBasic, sd, 240, 1, 0, 3, true, "0.00199", "0.00597")), // 3 shortfall × 0.00199, postpaid on now
			adjustment(line(march(15), billing.ServiceBasic, hd, 60, 1, 0, 0, true, "0.00399", "0")),        // from the trial
			adjustment(line(march(15), mix, fhd, 120, 0, 2, 0, true, "0.00899", "0.01798")),                 // 2 × 0.00899
		},
		// 0.00099 + 0.00597 + 0 + 0.01798 = 0.02494 → 0.02.
		Subtotal: dec("0.02494"), Total: dec("0.02"),
	}
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("Settle(16th) (-want +got):\n%s", diff)
	}
}

// TestUsageAroundSuspension checks that usage is recorded whatever the
// account's state, before its suspension (reported late) and after it, that
// its receipt says which it was, and that the suspension moves to the first
// minute nothing could pay for, in the reference order.
func TestUsageAroundSuspension(t *testing.T) {
	h := suspended(t) // the trial used up at 09:00, suspended at 10:00 on the 15th
	h.clock.Set(at(15, 14, 0, 0))
	tests := []struct {
		u    *billing.Usage
		want billing.Receipt
	}{
		// 60 s: one minute each, which nothing covers (the trial has 0 left,
		// postpaid off): shortfall for basic usage, postpaid for value-added.
		// "early" comes before u1 (10:00) in the reference order: its
		// minute is the first nothing could pay for, so the suspension
		// moves to 09:59:59.
		{usage("early", audio, 60, at(15, 9, 59, 59)), billing.Receipt{Key: basic(march(15), audio), Minutes: 1, Shortfall: 1, Suspended: true, Late: true}},
		// Value-added usage then, after "early" (by id), is on a suspended account.
		{vaUsage("early-rec", recording, hd, 60, at(15, 9, 59, 59)),
			billing.Receipt{Key: billing.MeterKey{Day: march(15), Service: recording, Tier: hd}, Minutes: 1, Postpaid: 1,
				WhileSuspended: true, NoBasicService: true, Late: true}},
		// "late" at 10:00 comes before u1 (by id): audio 60 s (early) + 60 s
		// = 120 s, ceil(120/60) − ceil(60/60) = 1 minute.
		{usage("late", audio, 60, at(15, 10, 0, 0)), billing.Receipt{Key: basic(march(15), audio), Minutes: 1, Shortfall: 1, WhileSuspended: true, Late: true}},
		// Recording: 60 + 60 s, one more minute.
		{vaUsage("late-rec", recording, hd, 60, at(15, 10, 0, 0)),
			billing.Receipt{Key: billing.MeterKey{Day: march(15), Service: recording, Tier: hd}, Minutes: 1, Postpaid: 1,
				WhileSuspended: true, NoBasicService: true, Late: true}},
	}
	for _, tt := range tests {
		got, err := h.e.Record(h.ctx, *tt.u)
		if err != nil || !cmp.Equal(tt.want, got, cmpOpts) {
			t.Errorf("Record(%s) = %+v, %v; want %+v", tt.u.ID, got, err, tt.want)
		}
	}
	if s := h.account("a").Apps[0].Status; !s.Suspended || !s.Since.Equal(at(15, 9, 59, 59)) {
		t.Errorf("status = %+v, want suspended since 09:59:59", s)
	}
	// The audio meter: 60 + 60 + 60 s = 3 minutes, all shortfall.
	want := billing.Meter{Key: basic(march(15), audio), Seconds: 180, Shortfall: 3}
	if diff := cmp.Diff(want, h.meter("a", want.Key)); diff != "" {
		t.Errorf("audio meter (-want +got):\n%s", diff)
	}
}

// TestOtherBillingZone runs the built-in books with UTC as the billing zone.
func TestOtherBillingZone(t *testing.T) {
	h := newHarness(t)
	var err error
	if h.e, err = billing.New(h.store, &billing.Options{Now: h.clock.Now, Location: time.UTC}); err != nil {
		t.Fatal(err)
	}
	h.do(open(at(15, 8, 0, 0), true), use("u1", audio, 60, time.Date(2021, 3, 15, 23, 30, 0, 0, time.UTC)))
	h.clock.Set(time.Date(2021, 3, 16, 10, 0, 0, 0, time.UTC))
	// 23:30 UTC on the 15th is the 15th in UTC (the 16th in UTC+8).
	b, err := h.e.Settle(h.ctx, "a", march(15))
	if err != nil || len(b.Lines) != 1 || b.Lines[0].Day != march(15) {
		t.Errorf("Settle(15th, UTC) = %+v, %v; want the usage's line", b, err)
	}
}

// TestDatesOutOfRange checks that dates and instants outside the years 1
// to 9999 are refused, never wrapped around into another period: as 32-bit
// Days, March 11761242 would be 2021-02-09 to 2021-03-11, which holds the
// bill of 2021-03-10.
func TestDatesOutOfRange(t *testing.T) {
	h := newHarness(t, noTrial())
	h.do(open(at(9, 8, 0, 0), true), use("u1", hd, 60, at(10, 9, 0, 0)))
	far := time.Date(11_761_242, 3, 11, 10, 0, 0, 0, cst)
	if days, err := h.e.DueDays(h.ctx, "a", far); !errors.Is(err, billing.ErrInvalidTime) {
		t.Errorf("DueDays(%v) = %v, %v; want ErrInvalidTime", far, days, err)
	}
	h.clock.Set(at(11, 10, 0, 0))
	if _, err := h.e.Settle(h.ctx, "a", march(10)); err != nil {
		t.Fatal(err)
	}
	for _, year := range []int{11_761_242, 0, 10000, -1} {
		if s, err := h.e.Statement(h.ctx, "a", year, time.March); !errors.Is(err, billing.ErrInvalidTime) {
			t.Errorf("Statement(%d, March) = %d bills, %v; want ErrInvalidTime", year, len(s.Bills), err)
		}
	}
	if s, err := h.e.Statement(h.ctx, "a", 2021, time.March); err != nil || len(s.Bills) != 1 {
		t.Errorf("Statement(2021, March) = %d bills, %v; want the bill of the 10th", len(s.Bills), err)
	}
	// A clock outside the years 1 to 9999 is refused too.
	h.clock.Set(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
	if _, err := h.e.Record(h.ctx, *usage("u2", hd, 60, at(11, 9, 0, 0))); !errors.Is(err, billing.ErrInvalidTime) {
		t.Errorf("Record() with the clock in the year 10000: %v, want ErrInvalidTime", err)
	}
	if _, err := h.e.OpenAccount(h.ctx, billing.AccountSpec{ID: "b", App: "app1"}); !errors.Is(err, billing.ErrInvalidTime) {
		t.Errorf("OpenAccount() with the clock in the year 10000: %v, want ErrInvalidTime", err)
	}
	// Opening an account that exists needs no clock: a replay returns it,
	// another spec is a conflict.
	if a, err := h.e.OpenAccount(h.ctx, billing.AccountSpec{ID: "a", Postpaid: true, App: "app1"}); err != nil || a.ID != "a" {
		t.Errorf("OpenAccount(a, again) with the clock in the year 10000 = %q, %v; want account a", a.ID, err)
	}
	if _, err := h.e.OpenAccount(h.ctx, billing.AccountSpec{ID: "a", App: "app1"}); !errors.Is(err, billing.ErrIdempotencyConflict) {
		t.Errorf("OpenAccount(a, another spec) with the clock in the year 10000: %v, want ErrIdempotencyConflict", err)
	}
	// So is a usage time outside them, before anything reads it.
	h.clock.Set(at(11, 10, 0, 0))
	for _, tm := range []time.Time{time.Date(10000, 1, 1, 0, 0, 0, 0, cst), time.Date(5_883_631, 3, 10, 0, 0, 0, 0, cst), time.Date(0, 1, 1, 0, 0, 0, 0, cst)} {
		if _, err := h.e.Record(h.ctx, *usage("u3", hd, 60, tm)); !errors.Is(err, billing.ErrInvalidTime) {
			t.Errorf("Record() at %v: %v, want ErrInvalidTime", tm, err)
		}
	}
	// 0001-01-01 07:00 in UTC+8 is MinDay, but before the zero time, which
	// records take for "never": an account opened then would be corrupt.
	h.clock.Set(time.Date(1, 1, 1, 7, 0, 0, 0, cst))
	if _, err := h.e.OpenAccount(h.ctx, billing.AccountSpec{ID: "c", App: "app1"}); !errors.Is(err, billing.ErrInvalidTime) {
		t.Errorf("OpenAccount() at %v: %v, want ErrInvalidTime", h.clock.Now(), err)
	}
	// In a zone 72 hours ahead of UTC, 9999-12-30 00:00 UTC is 10000-01-02.
	far72 := newHarness(t)
	var err error
	if far72.e, err = billing.New(far72.store, &billing.Options{Now: far72.clock.Now, Location: time.FixedZone("+72", 72*3600)}); err != nil {
		t.Fatal(err)
	}
	far72.clock.Set(time.Date(9999, 12, 30, 0, 0, 0, 0, time.UTC))
	if _, err := far72.e.OpenAccount(far72.ctx, billing.AccountSpec{ID: "a", App: "app1"}); !errors.Is(err, billing.ErrInvalidTime) {
		t.Errorf("OpenAccount() at %v in a zone 72 hours ahead: %v, want ErrInvalidTime", far72.clock.Now(), err)
	}
}

// TestDeferredShortfall: shortfall is never dropped. Settled while postpaid
// is off it is not billed; the first bill settled with postpaid on bills
// it, on a line dated with its day, at that day's list price.
func TestDeferredShortfall(t *testing.T) {
	h := newHarness(t)
	h.do(open(at(15, 8, 0, 0), false),
		use("u0", sd, 600_000, at(15, 9, 0, 0)), // 10,000 SD minutes: the trial is used up
		use("u1", hd, 30_000, at(15, 10, 0, 0)), // 500 HD minutes of shortfall; suspended
		settle(at(16, 10, 0, 0), march(15)),
		op{now: at(16, 11, 0, 0), enable: "a"}, // the 16th has no shortfall to turn into postpaid
	)
	b15, err := h.e.Bills(h.ctx, "a", march(15), march(15))
	if err != nil {
		t.Fatal(err)
	}
	want15 := []billing.Line{
		line(march(15), billing.ServiceBasic, sd, 600_000, 10_000, 0, 0, false, "0.00199", "0"),
		line(march(15), billing.ServiceBasic, hd, 30_000, 0, 0, 500, false, "0.00399", "0"), // postpaid off: not billed
	}
	if diff := cmp.Diff(want15, b15[0].Lines, cmpOpts); diff != "" {
		t.Errorf("bill of the 15th (-want +got):\n%s", diff)
	}
	if got := h.account("a").Unbilled; !cmp.Equal(got, []billing.MeterKey{basic(march(15), hd)}) {
		t.Errorf("Account.Unbilled = %v, want the 15th's HD meter", got)
	}
	h.clock.Set(at(17, 10, 0, 0))
	got, err := h.e.Settle(h.ctx, "a", march(16))
	if err != nil {
		t.Fatal(err)
	}
	// The 16th has no usage; its bill carries the 15th's 500 HD minutes at
	// 0.00399: 1.995, rounded half up to 2.00.
	want := billing.Bill{Account: "a", Day: march(16), Through: march(16), Currency: "USD", Issued: at(17, 10, 0, 0), PostpaidOn: true,
		Lines: []billing.Line{{Day: march(15), Service: billing.ServiceBasic, Tier: hd, Adjustment: true,
			Deferred: 500, Billed: 500, UnitPrice: dec("0.00399"), Amount: dec("1.995")}},
		Subtotal: dec("1.995"), Total: dec("2.00")}
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("bill of the 16th (-want +got):\n%s", diff)
	}
	wantM := billing.Meter{Key: basic(march(15), hd), Seconds: 30_000, Shortfall: 500,
		Settled: billing.Tally{Seconds: 30_000, Shortfall: 500}}
	if diff := cmp.Diff(wantM, h.meter("a", wantM.Key)); diff != "" {
		t.Errorf("HD meter of the 15th (-want +got):\n%s", diff)
	}
	if got := h.account("a").Unbilled; len(got) != 0 {
		t.Errorf("Account.Unbilled = %v after a bill with postpaid on, want none", got)
	}
}
