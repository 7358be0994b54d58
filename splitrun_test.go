package billing_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/rtcbill/billing"
	"pgregory.net/rapid"
)

// TestSplitRun checks that a day's usage gives the same bill, meters and
// balances whether it is recorded in one run or split across several runs,
// each usage possibly cut into pieces of the same tier that add up to it.
func TestSplitRun(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		one := newHarness(rt)
		split := newHarness(rt)
		setup := []op{
			open(at(15, 8, 0, 0), rapid.Bool().Draw(rt, "postpaid")),
			buy(at(15, 8, 10, 0), "p1", uni, 1000*rapid.Int64Range(0, 2).Draw(rt, "package")+1000),
		}
		one.do(setup...)
		split.do(setup...)
		var whole, pieces []billing.Usage
		for i := range rapid.IntRange(1, 30).Draw(rt, "usages") {
			tier := rapid.SampledFrom([]billing.Tier{audio, sd, hd, fhd}).Draw(rt, "tier")
			u := *usage(fmt.Sprint("u", i), tier, rapid.Int64Range(1, 20_000).Draw(rt, "seconds"), at(15, 9, i, 0))
			if rapid.IntRange(0, 4).Draw(rt, "value-added") == 0 {
				u.Service, u.Scenario = recording, ""
			}
			whole = append(whole, u)
			left := u.Seconds
			for j := 0; left > 0; j++ {
				p := u
				p.ID, p.Seconds = fmt.Sprint(u.ID, "-", j), rapid.Int64Range(1, left).Draw(rt, "piece")
				left -= p.Seconds
				pieces = append(pieces, p)
			}
		}
		for _, h := range []*harness{one, split} {
			h.clock.Set(at(15, 12, 0, 0))
		}
		one.e.RecordBatch(one.ctx, whole)
		for rest := pieces; len(rest) > 0; {
			k := rapid.IntRange(1, len(rest)).Draw(rt, "run")
			if k == 1 {
				_, _ = split.e.Record(split.ctx, rest[0])
			} else {
				split.e.RecordBatch(split.ctx, rest[:k])
			}
			rest = rest[k:]
		}
		for _, h := range []*harness{one, split} {
			h.clock.Set(at(16, 10, 0, 0))
		}
		want, err1 := one.e.Settle(one.ctx, "a", march(15))
		got, err2 := split.e.Settle(split.ctx, "a", march(15))
		if err1 != nil || err2 != nil {
			rt.Fatalf("Settle: %v, %v", err1, err2)
		}
		if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
			rt.Fatalf("bill (-one run +split runs):\n%s", diff)
		}
		a, b := one.state("a", march(15)), split.state("a", march(15))
		// The runs' usage ids differ: so does the key of the last one.
		ignore := cmpopts.IgnoreFields(billing.Account{}, "Version", "LastSeq", "Frontier", "SinceCheckpoint", "GrantsThrough")
		if diff := cmp.Diff(a.Overview, b.Overview, cmpOpts, ignore); diff != "" {
			rt.Fatalf("packages and account (-one run +split runs):\n%s", diff)
		}
		if diff := cmp.Diff(a.Meters, b.Meters, cmpOpts); diff != "" {
			rt.Fatalf("meters (-one run +split runs):\n%s", diff)
		}
	})
}
