package billing_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
	"pgregory.net/rapid"
)

// TestTenantIsolation runs random operations on account "other", using the
// usage and purchase ids, days and apps of account "a", on an engine where
// "a" exists and on one where it does not. Account "a" must not change, and
// "other" must get the same results either way: no operation on one account
// reads or changes another's packages, meters, ledger or bills.
func TestTenantIsolation(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		shared := newHarness(rt)
		alone := newHarness(rt)
		shared.do(
			open(at(15, 8, 0, 0), false),
			buy(at(15, 8, 10, 0), "p1", uni, 1000),
			use("u1", hd, 600, at(15, 9, 0, 0)),
			op{now: at(15, 9, 30, 0), use: vaUsage("u2", recording, sd, 60, at(15, 9, 30, 0))},
		)
		shared.clock.Set(at(16, 10, 0, 0))
		if _, err := shared.e.Settle(shared.ctx, "a", march(15)); err != nil {
			rt.Fatal(err)
		}
		days := []billing.Day{march(15), march(16)}
		before := shared.state("a", days...)
		postpaid := rapid.Bool().Draw(rt, "postpaid")
		for _, h := range []*harness{shared, alone} {
			h.clock.Set(at(16, 10, 0, 0))
			if _, err := h.e.OpenAccount(h.ctx, billing.AccountSpec{ID: "other", Postpaid: postpaid, App: "app1"}); err != nil {
				rt.Fatal(err)
			}
		}
		ids := []string{"u1", "u2", "p1", "a", "trial", "u9"}
		for i := range rapid.IntRange(1, 20).Draw(rt, "steps") {
			id := rapid.SampledFrom(ids).Draw(rt, "id")
			var do func(h *harness) (any, error)
			switch rapid.IntRange(0, 4).Draw(rt, "op") {
			case 0:
				p := billing.Purchase{ID: id, Account: "other", Kind: uni, Minutes: 1000 * rapid.Int64Range(1, 3).Draw(rt, "size")}
				do = func(h *harness) (any, error) { return h.e.Buy(h.ctx, p) }
			case 1, 2:
				u := *usage(id, rapid.SampledFrom([]billing.Tier{audio, hd}).Draw(rt, "tier"), rapid.Int64Range(1, 900).Draw(rt, "seconds"),
					at(rapid.IntRange(15, 16).Draw(rt, "day"), 9, 0, 0))
				u.Account, u.App = "other", rapid.SampledFrom([]string{"app1", "a"}).Draw(rt, "app")
				do = func(h *harness) (any, error) { return h.e.Record(h.ctx, u) }
			case 3:
				d := march(rapid.IntRange(14, 16).Draw(rt, "day"))
				do = func(h *harness) (any, error) { return h.e.Settle(h.ctx, "other", d) }
			case 4:
				do = func(h *harness) (any, error) { return h.e.EnablePostpaid(h.ctx, "other", "") }
			}
			want, wantErr := do(alone)
			got, gotErr := do(shared)
			if sentinel(wantErr) != sentinel(gotErr) || !cmp.Equal(want, got, cmpOpts) {
				rt.Fatalf("step %d on account other: %+v, %v; without account a: %+v, %v", i, got, gotErr, want, wantErr)
			}
		}
		if diff := cmp.Diff(before, shared.state("a", days...), cmpOpts); diff != "" {
			rt.Fatalf("operations on another account changed account a (-before +after):\n%s", diff)
		}
		if diff := cmp.Diff(alone.state("other", days...), shared.state("other", days...), cmpOpts); diff != "" {
			rt.Fatalf("account other (-alone +beside a):\n%s", diff)
		}
	})
}

// TestLedgerOfOneAccount checks that an account's ledger, meters and bills
// hold only its own records, whatever the other accounts did.
func TestLedgerOfOneAccount(t *testing.T) {
	h := newHarness(t)
	for i, a := range []string{"x", "y"} {
		h.do(
			op{now: at(15, 8, 0, 0), open: &billing.AccountSpec{ID: a, Postpaid: true, App: "app1"}},
			op{now: at(15, 9, 0, 0), use: &billing.Usage{ID: "u1", Account: a, App: "app1", Scenario: billing.VideoCall, Tier: hd,
				Seconds: int64(60 * (i + 1)), At: at(15, 9, 0, 0)}},
		)
	}
	for i, a := range []string{"x", "y"} {
		for _, en := range ledger(h, a) {
			if en.Kind == billing.EntryDeduction && en.Minutes != int64(i+1) {
				t.Errorf("account %s: deduction of %d minutes, want %d (its own usage u1)", a, en.Minutes, i+1)
			}
		}
		m := h.meter(a, basic(march(15), hd))
		if m.Seconds != int64(60*(i+1)) {
			t.Errorf("account %s: HD meter %+v, want %d seconds", a, m, 60*(i+1))
		}
	}
	h.clock.Set(at(16, 10, 0, 0))
	b, err := h.e.Settle(h.ctx, "x", march(15))
	if err != nil || len(b.Lines) != 1 || b.Lines[0].Seconds != 60 || b.Account != "x" {
		t.Errorf("Settle(x) = %+v, %v; want x's one line of 60 s", b, err)
	}
	if bills, err := h.e.Bills(h.ctx, "y", 0, 1<<30); err != nil || len(bills) != 0 {
		t.Errorf("Bills(y) = %v, %v; want none: only x was settled", bills, err)
	}
}
