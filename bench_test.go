package billing_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/rtcbill/billing"
)

// benchUsages returns n usages of HD video, 61 seconds each, spread over the
// given accounts and over 2021-03-15 from 08:00, with distinct ids.
func benchUsages(n int, accounts []string) []billing.Usage {
	us := make([]billing.Usage, n)
	for i := range us {
		us[i] = billing.Usage{
			ID: fmt.Sprintf("u%d", i), Account: accounts[i%len(accounts)], App: "1400000001",
			Scenario: billing.VideoCall, Tier: billing.TierHD, Seconds: 61,
			At: at(15, 8, 0, 0).Add(time.Duration(i%(12*3600)) * time.Second),
		}
	}
	return us
}

// benchAccounts opens n postpaid accounts on 2021-03-01, each with the trial
// and two universal packages of 3,000,000 minutes: 3 valid packages.
func benchAccounts(b *testing.B, h *harness, n int) []string {
	h.clock.Set(at(1, 8, 0, 0))
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("acct-%d", i)
		h.do(op{open: &billing.AccountSpec{ID: ids[i], Postpaid: true}})
		for j := range 2 {
			h.do(op{buy: &billing.Purchase{ID: fmt.Sprintf("p%d", j), Account: ids[i], Kind: billing.KindUniversal, Minutes: 3_000_000}})
		}
	}
	h.clock.Set(at(15, 20, 0, 0))
	return ids
}

func runRecord(b *testing.B, h *harness, us []billing.Usage) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := h.e.Record(h.ctx, us[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "usages/s")
}

// BenchmarkRecord records basic usage from one goroutine into 1,000 accounts
// on memstore, each with 3 valid packages.
func BenchmarkRecord(b *testing.B) {
	h := newHarness(b)
	runRecord(b, h, benchUsages(b.N, benchAccounts(b, h, 1000)))
}

// BenchmarkRecordHistory records into one account that already has n usages
// (and their ledger entries) of earlier days: the cost must not grow with n.
func BenchmarkRecordHistory(b *testing.B) {
	for _, n := range []int{0, 100_000} {
		b.Run(fmt.Sprintf("history=%d", n), func(b *testing.B) {
			h := newHarness(b)
			ids := benchAccounts(b, h, 1)
			for i, u := range benchUsages(n, ids) {
				u.ID = fmt.Sprintf("old%d", i)
				u.At = at(14, 8, 0, 0)
				if _, err := h.e.Record(h.ctx, u); err != nil {
					b.Fatal(err)
				}
			}
			runRecord(b, h, benchUsages(b.N, ids))
		})
	}
}
