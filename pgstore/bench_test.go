package pgstore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/pgstore"
)

// benchEngine returns an Engine on a fresh schema with accounts acct-0 ..
// acct-(n-1), each with postpaid on, the trial and two universal packages.
func benchEngine(b *testing.B, n int) (*billing.Engine, []string) {
	b.Helper()
	now := setAt
	e := engineAt(b, pgstore.New(newPool(b)), &now)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("acct-%d", i)
		if _, err := e.OpenAccount(context.Background(), billing.AccountSpec{ID: ids[i], Postpaid: true}); err != nil {
			b.Fatal(err)
		}
		for j := range 2 {
			p := billing.Purchase{ID: fmt.Sprintf("p%d", j), Account: ids[i], Kind: billing.KindUniversal, Minutes: 3_000_000}
			if _, err := e.Buy(context.Background(), p); err != nil {
				b.Fatal(err)
			}
		}
	}
	now = runAt
	return e, ids
}

// usageOf returns the i-th benchmark usage of account a: HD video, 61 s.
func usageOf(a string, i int64) billing.Usage {
	return billing.Usage{ID: fmt.Sprintf("u%d", i), Account: a, App: "1400000001", Scenario: billing.VideoCall,
		Tier: billing.TierHD, Seconds: 61, At: setAt.Add(time.Duration(i%(12*3600)) * time.Second)}
}

// BenchmarkRecord records one usage per unit of work (one transaction),
// from one goroutine and from 16, into 100 accounts.
func BenchmarkRecord(b *testing.B) {
	for _, goroutines := range []int{1, 16} {
		b.Run(fmt.Sprintf("goroutines=%d", goroutines), func(b *testing.B) {
			e, ids := benchEngine(b, 100)
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			var wg sync.WaitGroup
			for range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
						if _, err := e.Record(context.Background(), usageOf(ids[i%int64(len(ids))], i)); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "usages/s")
		})
	}
}

// BenchmarkRecordBatch records batches of 1,000 usages of one account, each
// batch one unit of work, from several goroutines on different accounts.
func BenchmarkRecordBatch(b *testing.B) {
	const size, goroutines = 1000, 8
	e, ids := benchEngine(b, goroutines)
	batches := (b.N + size - 1) / size
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			us := make([]billing.Usage, size)
			for k := next.Add(1); k <= int64(batches); k = next.Add(1) {
				for j := range us {
					us[j] = usageOf(ids[g], k*size+int64(j))
				}
				for _, r := range e.RecordBatch(context.Background(), us) {
					if r.Err != nil {
						b.Error(r.Err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(batches*size)/b.Elapsed().Seconds(), "usages/s")
}
