package billing_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
)

// nov returns 2020-11-d hh:mm in UTC+8, and novDay the billing day 2020-11-d.
func nov(d, hh, mm int) time.Time { return time.Date(2020, 11, d, hh, mm, 0, 0, cst) }
func novDay(d int) billing.Day    { return refDateDay(2020, 11, d) }

// cnyAccount opens account "a" in CNY on 2020-11-01 at 09:00 (its trial:
// 10,000 minutes to 2021-11-30) and buys universal packages of the given
// ids and sizes at 09:30, 09:31, ... (valid to the same day, after the
// trial in the deduction order, in the order bought).
func cnyAccount(t *testing.T, sizes map[string]int64, ids ...string) *harness {
	t.Helper()
	h := newHarness(t)
	h.do(op{now: nov(1, 9, 0), open: &billing.AccountSpec{ID: "a", Currency: "CNY", App: "app1"}})
	for i, id := range ids {
		h.do(buy(nov(1, 9, 30+i), id, billing.KindUniversal, sizes[id]))
	}
	return h
}

// audioUsage is a usage of account "a" of the given audio minutes at t.
func audioUsage(id string, minutes int64, t time.Time) op {
	return op{now: t, use: &billing.Usage{ID: id, Account: "a", App: "app1", Scenario: billing.AudioCall, Tier: audio, Seconds: minutes * 60, At: t}}
}

func (h *harness) refund(now time.Time, r billing.Refund) (billing.PackageRefund, error) {
	h.clock.Set(now)
	r.Account = "a"
	return h.e.Refund(h.ctx, r)
}

// TestRefundExample is the China site's own example (退费说明): a
// 3,000,000-minute universal package bought on 2020-11-01 for 16,888.00
// yuan, 1,589,256 minutes consumed, refunded on 2020-11-20 with no
// exclusive discount: 16,888.00 − 1,589,256 × 0.00596800 = 16,888.00 −
// 9,484.68 = 7,403.32 yuan. With an exclusive discount of 80 %: 16,888.00 −
// 9,484.679808 × 0.8 (7,587.7438464, so 7,587.74) = 9,300.26.
func TestRefundExample(t *testing.T) {
	for _, tt := range []struct {
		discount               string
		wantUsed, wantRefunded string
	}{
		{"0", "9484.68", "7403.32"},
		{"0.8", "7587.74", "9300.26"},
	} {
		h := cnyAccount(t, map[string]int64{"p1": 3_000_000}, "p1")
		// The trial's 10,000 minutes first, then 1,589,256 of p1's.
		h.do(audioUsage("u1", 10_000+1_589_256, nov(10, 12, 0)), settle(nov(11, 10, 0), novDay(10)))
		got, err := h.refund(nov(20, 10, 0), billing.Refund{ID: "r1", Package: "p1", Discount: dec(tt.discount)})
		if err != nil {
			t.Fatal(err)
		}
		discount := dec(tt.discount)
		if discount.IsZero() {
			discount = dec("1")
		}
		want := billing.PackageRefund{ID: "r1", Package: "p1", At: nov(11, 0, 0), // the first unsettled day
			Minutes: 3_000_000 - 1_589_256, Consumed: 1_589_256, UnitPrice: dec("0.005968"), Discount: discount,
			Used: dec(tt.wantUsed), Amount: dec(tt.wantRefunded)}
		if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
			t.Errorf("discount %s: refund (-want +got):\n%s", tt.discount, diff)
		}
		s := h.state("a")
		if b := h.balances("a"); b["p1"] != 0 {
			t.Errorf("p1's balance after the refund: %d, want 0", b["p1"])
		}
		if s.Totals["package p1"] != "" || s.Totals[string(billing.EntryRefund)] != tt.wantRefunded {
			t.Errorf("ledger totals %v: want p1's entries to sum to 0 and the refunds to %s", s.Totals, tt.wantRefunded)
		}
		if diff := cmp.Diff([]billing.PackageRefund{want}, s.Overview.Account.Refunds, cmpOpts); diff != "" {
			t.Errorf("Account.Refunds (-want +got):\n%s", diff)
		}
	}
}

// TestRefundFull checks the account's one full refund within 5 days of the
// purchase (the purchase day the first): the whole price, whatever was
// consumed; a second refund in the window is not full.
func TestRefundFull(t *testing.T) {
	h := cnyAccount(t, map[string]int64{"p1": 25_000, "p2": 25_000}, "p1", "p2")
	// 30,000 minutes on November 1: the trial's 10,000, then 20,000 of p1.
	h.do(audioUsage("u1", 30_000, nov(1, 12, 0)), settle(nov(2, 10, 0), novDay(1)))
	p2, err := h.refund(nov(5, 10, 0), billing.Refund{ID: "r2", Package: "p2"}) // day 5 of 5
	if err != nil {
		t.Fatal(err)
	}
	p1, err := h.refund(nov(5, 11, 0), billing.Refund{ID: "r1", Package: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	// Both take effect on November 2, the first unsettled day. p2: unused,
	// in full: 168.00. p1: 20,000 consumed, in the first band (under
	// 25,000) at 0.00700000: 140.00 used, 168.00 − 140.00 = 28.00.
	want := []billing.PackageRefund{
		{ID: "r2", Package: "p2", At: nov(2, 0, 0), Full: true, Minutes: 25_000, UnitPrice: dec("0"), Discount: dec("1"), Used: dec("0"), Amount: dec("168")},
		{ID: "r1", Package: "p1", At: nov(2, 0, 0), Minutes: 5_000, Consumed: 20_000, UnitPrice: dec("0.007"), Discount: dec("1"), Used: dec("140"), Amount: dec("28")},
	}
	if diff := cmp.Diff(want, []billing.PackageRefund{p2, p1}, cmpOpts); diff != "" {
		t.Errorf("refunds (-want +got):\n%s", diff)
	}
	// On day 6 the window has passed: a package consumed in part, refunded
	// then, is charged for what it used.
	h2 := cnyAccount(t, map[string]int64{"p1": 25_000}, "p1")
	h2.do(audioUsage("u1", 30_000, nov(1, 12, 0)), settle(nov(2, 10, 0), novDay(1)))
	got, err := h2.refund(nov(6, 0, 0), billing.Refund{ID: "r1", Package: "p1"})
	if err != nil || got.Full || !got.Amount.Equal(dec("28")) {
		t.Errorf("refund on day 6: %+v, %v; want 28.00, not full", got, err)
	}
}

// TestRefundMovesUsage checks that a refund takes effect at the start of
// the first unsettled day: the usage it had covered since is covered as if
// it never had, also the usage of settled days sequenced there, and usage
// reported after the refund does not draw from it, so its amount stays
// right.
func TestRefundMovesUsage(t *testing.T) {
	h := cnyAccount(t, map[string]int64{"p1": 25_000, "p2": 25_000}, "p1", "p2")
	// The trial used up on November 1; days to November 8 settled.
	h.do(audioUsage("u1", 10_000, nov(1, 12, 0)), settle(nov(9, 10, 0), novDay(1)), settle(nov(9, 10, 0), novDay(8)))
	// s1, of November 5 (settled) reported now, is sequenced at November 9
	// 00:00 and takes 7 minutes from p1; u2 takes 1,000 from it.
	h.do(op{now: nov(9, 11, 0), use: audioUsage("s1", 7, nov(5, 12, 0)).use}, audioUsage("u2", 1_000, nov(9, 12, 0)))
	r, err := h.refund(nov(9, 13, 0), billing.Refund{ID: "r1", Package: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	// At November 9 00:00, before the usages of settled days sequenced
	// there, p1 had all its 25,000 minutes: 0 consumed, 0 used, 168.00 paid
	// back (not full: day 9 is past the window).
	if want := (billing.PackageRefund{ID: "r1", Package: "p1", At: nov(9, 0, 0), Minutes: 25_000, UnitPrice: dec("0.007"),
		Discount: dec("1"), Used: dec("0"), Amount: dec("168")}); !cmp.Equal(want, r, cmpOpts) {
		t.Errorf("refund %+v, want %+v", r, want)
	}
	// s1's 7 minutes, u2's 1,000, and u0's 5 (reported late, that morning,
	// so replayed from November 9 00:00 again, s1 first) come from p2:
	// 25,000 − 1,012 = 23,988 left.
	h.do(audioUsage("u0", 5, nov(9, 8, 0)))
	h.clock.Set(nov(9, 14, 0))
	for _, tt := range []struct {
		day     int
		prepaid int64
	}{{5, 7}, {9, 1_005}} {
		if m := h.meter("a", basic(novDay(tt.day), audio)); m.Prepaid != tt.prepaid || m.Uncovered() != 0 {
			t.Errorf("November %d's audio meter %+v: want %d minutes prepaid, none uncovered", tt.day, m, tt.prepaid)
		}
	}
	if b := h.balances("a"); b["p1"] != 0 || b["p2"] != 23_988 {
		t.Errorf("balances %v, want p1 0 and p2 23,988", b)
	}
	s := h.state("a")
	if s.Totals["package p1"] != "" || s.Totals["package p2"] != "23988" || s.Totals[string(billing.EntryRefund)] != "168" {
		t.Errorf("ledger totals %v: want p1's entries to sum to 0, p2's to 23,988 and the refund to 168", s.Totals)
	}
}

// TestRefundRefused checks the refunds that are refused, each with nothing
// changed, and that a refund asked again is the first one.
func TestRefundRefused(t *testing.T) {
	h := cnyAccount(t, map[string]int64{"p1": 25_000, "p2": 25_000}, "p1", "p2")
	// The trial's 10,000, all of p1's 25,000, then 1,000 of p2's.
	h.do(audioUsage("u1", 10_000+25_000+1_000, nov(1, 12, 0)), settle(nov(2, 10, 0), novDay(1)),
		buy(nov(10, 9, 0), "p3", billing.KindUniversal, 25_000))
	first, err := h.refund(nov(10, 10, 0), billing.Refund{ID: "r1", Package: "p2"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		r    billing.Refund
		want error
	}{
		{"the trial", billing.Refund{ID: "r9", Package: billing.TrialID}, billing.ErrNotRefundable},
		{"no such package", billing.Refund{ID: "r9", Package: "p9"}, billing.ErrNotFound},
		{"bought today: its day not settled", billing.Refund{ID: "r9", Package: "p3"}, billing.ErrNotYetRefundable},
		{"used up", billing.Refund{ID: "r9", Package: "p1"}, billing.ErrNotRefundable},
		{"refunded already", billing.Refund{ID: "r9", Package: "p2"}, billing.ErrNotRefundable},
		{"the refund id reused", billing.Refund{ID: "r1", Package: "p2", Discount: dec("0.5")}, billing.ErrIdempotencyConflict},
		{"a discount above 1", billing.Refund{ID: "r9", Package: "p3", Discount: dec("1.5")}, billing.ErrInvalidDiscount},
		{"a negative discount", billing.Refund{ID: "r9", Package: "p3", Discount: dec("-0.1")}, billing.ErrInvalidDiscount},
		{"a discount of 9 decimals", billing.Refund{ID: "r9", Package: "p3", Discount: dec("0.123456789")}, billing.ErrInvalidDiscount},
		{"no refund id", billing.Refund{Package: "p3"}, billing.ErrInvalidID},
	}
	before := h.state("a")
	for _, tt := range tests {
		got, err := h.refund(nov(10, 11, 0), tt.r)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: Refund(%+v) = %+v, %v; want %v", tt.name, tt.r, got, err, tt.want)
		}
	}
	again, err := h.refund(nov(10, 12, 0), billing.Refund{ID: "r1", Package: "p2"})
	if err != nil || !cmp.Equal(first, again, cmpOpts) {
		t.Errorf("the same refund again: %+v, %v; want %+v", again, err, first)
	}
	if diff := cmp.Diff(before, h.state("a"), cmpOpts); diff != "" {
		t.Errorf("refused refunds changed the account (-before +after):\n%s", diff)
	}
	// A USD account's universal package: the international site publishes
	// no refund rule.
	hu := newHarness(t)
	hu.do(open(at(1, 8, 0, 0), false), buy(at(1, 9, 0, 0), "p1", billing.KindUniversal, 25_000), settle(at(2, 10, 0, 0), march(1)))
	hu.clock.Set(at(3, 10, 0, 0))
	if _, err := hu.e.Refund(hu.ctx, billing.Refund{ID: "r1", Account: "a", Package: "p1"}); !errors.Is(err, billing.ErrNotRefundable) {
		t.Errorf("refund of a USD universal package: %v, want ErrNotRefundable", err)
	}
	// Gifts other than the trial are refused as it is: a refundable kind
	// has prices, so it is for sale, and a book may not grant a kind for
	// sale (TestPriceBookValidation, "monthly grant of a kind for sale").
}

// TestRefundMigrated checks that an account recorded before operations had
// keys, which has no checkpoint at the start of its first unsettled day
// until it settles a day, is not refunded until then, and is refunded
// right once it has.
func TestRefundMigrated(t *testing.T) {
	h := cnyAccount(t, map[string]int64{"p1": 25_000}, "p1")
	// The trial's 10,000 minutes, then 2,000 of p1's, on November 1; 1,000
	// more of p1's on November 2.
	h.do(audioUsage("u1", 12_000, nov(1, 12, 0)), settle(nov(2, 10, 0), novDay(1)), audioUsage("u2", 1_000, nov(2, 12, 0)))
	clk := &clock{t: nov(2, 13, 0)}
	e, err := billing.New(legacyCopy(t, h.store, "a"), &billing.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	r := billing.Refund{ID: "r1", Account: "a", Package: "p1"}
	if got, err := e.Refund(h.ctx, r); !errors.Is(err, billing.ErrNotYetRefundable) {
		t.Fatalf("Refund before a settlement: %+v, %v; want ErrNotYetRefundable", got, err)
	}
	clk.Set(nov(3, 10, 0))
	if _, err := e.Settle(h.ctx, "a", novDay(2)); err != nil {
		t.Fatal(err)
	}
	got, err := e.Refund(h.ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	// From November 3 00:00, with 3,000 of p1's minutes consumed; asked on
	// November 3, inside the window (November 1 to 5), and the account's
	// first full refund: the whole 168.00.
	want := billing.PackageRefund{ID: "r1", Package: "p1", At: nov(3, 0, 0), Full: true, Minutes: 22_000, Consumed: 3_000,
		UnitPrice: dec("0"), Discount: dec("1"), Used: dec("0"), Amount: dec("168")}
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("refund (-want +got):\n%s", diff)
	}
}
