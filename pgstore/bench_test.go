package pgstore_test

import (
	"context"
	"flag"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/pgstore"
)

// benchEngine returns an Engine on a fresh schema with accounts acct-0 ..
// acct-(n-1), each with the application sdkApp, postpaid on, the trial and
// two universal packages.
func benchEngine(b *testing.B, n int) (*billing.Engine, []string) {
	b.Helper()
	now := setAt
	e := engineAt(b, pgstore.New(newPool(b)), &now)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("acct-%d", i)
		if _, err := e.OpenAccount(context.Background(), billing.AccountSpec{ID: ids[i], Postpaid: true, App: sdkApp}); err != nil {
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

// usageOf returns the i-th benchmark usage of account a: HD video, 61 s, at
// 40 ms after the one before (so in the order of their times, up to more
// than 10⁶ usages before runAt).
func usageOf(a string, i int64) billing.Usage {
	return billing.Usage{ID: fmt.Sprintf("u%d", i), Account: a, App: sdkApp, Scenario: billing.VideoCall,
		Tier: billing.TierHD, Seconds: 61, At: setAt.Add(time.Duration(i) * 40 * time.Millisecond)}
}

// long lets BenchmarkLateUsage set up 10⁶ usages a day.
var long = flag.Bool("long", false, "run the benchmarks' largest sizes")

// BenchmarkLateUsage measures what recording one late usage costs on an
// account whose day holds perDay usages in the order of their times (as
// the root's BenchmarkLateUsage, on PostgreSQL): each late usage is 5
// minutes, or 3 hours, before the last one recorded. Its replay runs from
// the checkpoint before it (at most 64 operations) to the first stored
// checkpoint after it, and rewrites the checkpoints after that one (one
// per 64 usages). 10⁶ usages a day with -long only.
func BenchmarkLateUsage(b *testing.B) {
	for _, perDay := range []int{1_000, 10_000, 100_000, 1_000_000} {
		for _, lateness := range []time.Duration{5 * time.Minute, 3 * time.Hour} {
			b.Run(fmt.Sprintf("perDay=%d/late=%v", perDay, lateness), func(b *testing.B) {
				if perDay > 100_000 && !*long {
					b.Skip("10⁶ usages a day take minutes to set up: -long")
				}
				benchLateUsage(b, perDay, lateness)
			})
		}
	}
}

// benchLateUsage sets up the day of BenchmarkLateUsage and records b.N
// usages late by lateness.
func benchLateUsage(b *testing.B, perDay int, lateness time.Duration) {
	now := time.Date(2021, 3, 1, 8, 0, 0, 0, cst)
	e := engineAt(b, pgstore.New(newPool(b)), &now)
	ctx := context.Background()
	if _, err := e.OpenAccount(ctx, billing.AccountSpec{ID: "day", Postpaid: true, App: sdkApp}); err != nil {
		b.Fatal(err)
	}
	if _, err := e.Buy(ctx, billing.Purchase{ID: "p", Account: "day", Kind: billing.KindUniversal, Minutes: 100_000_000}); err != nil {
		b.Fatal(err)
	}
	now = time.Date(2021, 3, 16, 1, 0, 0, 0, cst)
	step := 24 * time.Hour / time.Duration(perDay)
	usage := func(id string, at time.Time) billing.Usage {
		return billing.Usage{ID: id, Account: "day", App: sdkApp, Scenario: billing.VideoCall, Tier: billing.TierHD, Seconds: 61, At: at}
	}
	batch := make([]billing.Usage, 0, 10_000)
	for i := range perDay {
		if batch = append(batch, usage(fmt.Sprint("u", i), day.Start(cst).Add(time.Duration(i)*step))); len(batch) == cap(batch) || i == perDay-1 {
			for _, r := range e.RecordBatch(ctx, batch) {
				if r.Err != nil {
					b.Fatal(r.Err)
				}
			}
			batch = batch[:0]
		}
	}
	last := day.Start(cst).Add(time.Duration(perDay-1) * step)
	b.ResetTimer()
	for i := range b.N {
		r, err := e.Record(ctx, usage(fmt.Sprint("late", i), last.Add(-lateness+time.Duration(i))))
		if err != nil || !r.Late {
			b.Fatalf("%+v, %v: want a late receipt", r, err)
		}
	}
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
// batch one unit of work, from 8 goroutines on 8 accounts, and from one
// goroutine on 8 accounts (the one to compare BenchmarkRecordBatchHotAccount
// with: one stream of batches either way).
func BenchmarkRecordBatch(b *testing.B) {
	for _, goroutines := range []int{8, 1} {
		b.Run(fmt.Sprintf("goroutines=%d", goroutines), func(b *testing.B) { benchmarkRecordBatch(b, goroutines) })
	}
}

func benchmarkRecordBatch(b *testing.B, goroutines int) {
	const size, accounts = 1000, 8
	e, ids := benchEngine(b, accounts)
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
			// Goroutine g's n-th batch goes to account g + n×goroutines
			// (mod 8): no two goroutines share an account.
			for k, n := next.Add(1), 0; k <= int64(batches); k, n = next.Add(1), n+1 {
				a := ids[(g+n*goroutines)%accounts]
				for j := range us {
					us[j] = usageOf(a, k*size+int64(j))
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

// BenchmarkRecordBatchHotAccount records 10⁶ usages into one account, in
// batches of 1,000 (one RecordBatch, so one unit of work, per batch) from one
// goroutine: units of work on one account run one after another anyway,
// under the account's row lock. As the account's usage records grow from
// none to 10⁶, a batch must not get slower: besides usages/s overall it
// reports the throughput of the first and of the last 10 % of the batches,
// and their ratio (last/first, 1 when flat). Compare them with
// BenchmarkRecordBatch/goroutines=1, one stream of batches on 8 accounts;
// BenchmarkRecordBatch/goroutines=8 runs 8 streams, whose client and
// server work share the two cores, where one account's units of work,
// one after another, make them take turns.
//
// Its size is fixed, whatever b.N (the iteration count it prints), and an
// op is one usage: ns/op is per usage, as in BenchmarkRecordBatch. It takes
// a while: run it alone with -benchtime 1x (a -benchtime of Nx with N > 1
// makes the testing package run it twice).
func BenchmarkRecordBatchHotAccount(b *testing.B) {
	const size, batches = 1000, 1000
	const tenth = batches / 10
	e, ids := benchEngine(b, 1)
	took := make([]time.Duration, batches)
	us := make([]billing.Usage, size)
	b.ResetTimer()
	for k := range batches {
		for j := range us {
			us[j] = usageOf(ids[0], int64(k*size+j))
		}
		start := time.Now()
		for _, r := range e.RecordBatch(context.Background(), us) {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
		took[k] = time.Since(start)
	}
	b.StopTimer()
	rate := func(ds []time.Duration) float64 {
		var sum time.Duration
		for _, d := range ds {
			sum += d
		}
		return float64(len(ds)*size) / sum.Seconds()
	}
	first, last := rate(took[:tenth]), rate(took[batches-tenth:])
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/(batches*size), "ns/op")
	b.ReportMetric(batches*size/b.Elapsed().Seconds(), "usages/s")
	b.ReportMetric(first, "first-10%-usages/s")
	b.ReportMetric(last, "last-10%-usages/s")
	b.ReportMetric(last/first, "last/first")
}
