package billing_test

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/memstore"
)

// The benchmarks of docs/PERFORMANCE.md. The usage stream is the one of the
// contract floor (../shared/bench, stream.go): HD video usages of 61
// seconds, each 2 billable minutes at first (the day's ceiling then makes
// every usage add 1 or 2), spread round-robin over the accounts, usage i of
// n at 2021-03-15 08:00 + i × 12 h / n, so that every account's usages come
// in the order of their own times (none is late).

// benchStream is n usages of the stream over the given accounts, built one
// at a time: a slice of them would be a large heap object full of pointers,
// and the garbage collector's work on it would count against the engine.
// The ids are cut from one string.
type benchStream struct {
	ids      string
	bounds   []int // the i-th id is ids[bounds[i]:bounds[i+1]]
	accounts []string
	start    time.Time
	n        int64
}

func newBenchStream(n int, accounts []string) *benchStream {
	s := &benchStream{bounds: make([]int, n+1), accounts: accounts, start: at(15, 8, 0, 0), n: int64(n)}
	var b []byte
	for i := range n {
		b = strconv.AppendInt(append(b, 'u'), int64(i), 10)
		s.bounds[i+1] = len(b)
	}
	s.ids = string(b)
	return s
}

// usage returns the i-th usage. Its time is i × 12 h / n computed in 128
// bits: in 64, i × 12 h overflows from i = 213,504 on, and the usages after
// it would go back in time (the floor's stream.go overflows so, which costs
// the floor nothing: it does not look at the order of times).
func (s *benchStream) usage(i int) billing.Usage {
	hi, lo := bits.Mul64(uint64(i), uint64(12*time.Hour))
	offset, _ := bits.Div64(hi, lo, uint64(s.n))
	return billing.Usage{
		ID: s.ids[s.bounds[i]:s.bounds[i+1]], Account: s.accounts[i%len(s.accounts)], App: benchApp,
		Scenario: billing.VideoCall, Tier: billing.TierHD, Seconds: 61,
		At: s.start.Add(time.Duration(offset)),
	}
}

// benchUsages returns the first n usages of the stream.
func benchUsages(n int, accounts []string) []billing.Usage {
	s := newBenchStream(n, accounts)
	us := make([]billing.Usage, n)
	for i := range us {
		us[i] = s.usage(i)
	}
	return us
}

// benchEngine returns an Engine on memstore with n postpaid accounts opened
// on 2021-03-01, each holding the trial and packages-1 universal packages
// of 3,000,000 minutes (all valid), and the clock at 2021-03-15 20:00.
func benchEngine(b *testing.B, n, packages int) (*harness, []string) {
	ids := accountIDs(n)
	return benchEngineOf(b, ids, packages), ids
}

// accountIDs returns "acct-0" to "acct-(n-1)".
func accountIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("acct-%d", i)
	}
	return ids
}

// benchApp is the application of the benchmarks' usage.
const benchApp = "1400000001"

// benchEngineOf is benchEngine for the given account ids.
func benchEngineOf(b *testing.B, ids []string, packages int) *harness {
	h := newHarness(b)
	h.clock.Set(at(1, 8, 0, 0))
	for i := range ids {
		h.do(op{open: &billing.AccountSpec{ID: ids[i], Postpaid: true, App: benchApp}})
		for j := range packages - 1 {
			h.do(op{buy: &billing.Purchase{ID: fmt.Sprintf("p%d", j), Account: ids[i], Kind: billing.KindUniversal, Minutes: 3_000_000}})
		}
	}
	h.clock.Set(at(15, 20, 0, 0))
	return h
}

// recordStream records the first b.N usages of us, timed, and reports the
// rate.
func recordStream(b *testing.B, h *harness, us *benchStream) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := h.e.Record(h.ctx, us.usage(i)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportRate(b, b.N)
}

func reportRate(b *testing.B, n int) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "usages/s")
}

// BenchmarkRecord records the stream from one goroutine into 1,000 accounts
// with 3 valid packages each. It also reports the memory the store holds
// per recorded usage (the live heap's growth, after a collection).
func BenchmarkRecord(b *testing.B) {
	h, ids := benchEngine(b, 1000, 3)
	us := newBenchStream(b.N, ids)
	before := liveHeap()
	recordStream(b, h, us)
	b.ReportMetric(float64(liveHeap()-before)/float64(b.N), "held-B/usage")
	runtime.KeepAlive(h)
}

// BenchmarkRecordPerApp records the stream into 10 accounts on Era 3's
// book (era3Host), which rounds each application's day on its own, their
// usage spread over 1, 10 or 100 applications: a day of an account holds a
// meter per application.
func BenchmarkRecordPerApp(b *testing.B) {
	for _, apps := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("apps=%d", apps), func(b *testing.B) {
			h := newHarness(b, era3Host())
			h.clock.Set(at(1, 8, 0, 0))
			ids, appIDs := accountIDs(10), make([]string, apps)
			for i := range appIDs {
				appIDs[i] = fmt.Sprintf("app-%d", i)
			}
			for _, id := range ids {
				h.do(op{open: &billing.AccountSpec{ID: id, Postpaid: true, App: appIDs[0]}})
				for _, app := range appIDs[1:] {
					if _, err := h.e.CreateApp(h.ctx, id, billing.AppSpec{ID: app}); err != nil {
						b.Fatal(err)
					}
				}
			}
			h.clock.Set(at(15, 20, 0, 0))
			us := newBenchStream(b.N, ids)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				u := us.usage(i)
				u.App = appIDs[(i/len(ids))%apps]
				if _, err := h.e.Record(h.ctx, u); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			reportRate(b, b.N)
		})
	}
}

// BenchmarkRecordAccounts records the stream from one goroutine into 1,000,
// 100,000 and 1,000,000 accounts (the floor's BenchmarkFloorAccounts), and
// reports held-B/account, the live heap the opened accounts hold before any
// usage, and held-B/usage, the live heap's growth per recorded usage. It
// skips a size the machine's available memory cannot hold (and 1,000,000
// accounts with -test.short).
func BenchmarkRecordAccounts(b *testing.B) {
	for _, n := range []int{1000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("accounts=%d", n), func(b *testing.B) {
			if testing.Short() && n > 100_000 {
				b.Skip("-test.short")
			}
			// Generous: about 4 KiB per account and 1 KiB per usage, twice.
			if need := 2 * (int64(n)<<12 + int64(b.N)<<10); need > memAvailable() {
				b.Skipf("needs about %d MiB, %d MiB available", need>>20, memAvailable()>>20)
			}
			ids := accountIDs(n)
			before := liveHeap()
			h := benchEngineOf(b, ids, 3)
			opened := liveHeap()
			us := newBenchStream(b.N, ids)
			streamed := liveHeap()
			recordStream(b, h, us)
			b.ReportMetric(float64(opened-before)/float64(n), "held-B/account")
			b.ReportMetric(float64(liveHeap()-streamed)/float64(b.N), "held-B/usage")
			runtime.KeepAlive(h)
			runtime.KeepAlive(us)
			runtime.KeepAlive(ids)
		})
	}
}

// memAvailable returns the memory available to new processes (Linux's
// MemAvailable), or the largest int64 where the system does not say.
func memAvailable() int64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return math.MaxInt64
	}
	for _, line := range strings.Split(string(data), "\n") {
		if kb, ok := strings.CutPrefix(line, "MemAvailable:"); ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(kb, "kB")), 10, 64); err == nil {
				return n << 10
			}
		}
	}
	return math.MaxInt64
}

// liveHeap returns the bytes of live heap objects after a collection.
func liveHeap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// BenchmarkRecordBatch records the stream into 1,000 accounts through one
// call of RecordBatch, in the order of the usages' times or shuffled: the
// batch applies each account's usages in the reference order either way, so
// the difference is what sorting them costs.
func BenchmarkRecordBatch(b *testing.B) {
	for _, order := range []string{"time", "shuffled"} {
		b.Run("order="+order, func(b *testing.B) {
			h, ids := benchEngine(b, 1000, 3)
			us := benchUsages(b.N, ids)
			if order == "shuffled" {
				rand.New(rand.NewPCG(1, 2)).Shuffle(len(us), func(i, j int) { us[i], us[j] = us[j], us[i] })
			}
			b.ReportAllocs()
			b.ResetTimer()
			for _, r := range h.e.RecordBatch(h.ctx, us) {
				if r.Err != nil {
					b.Fatal(r.Err)
				}
			}
			b.StopTimer()
			reportRate(b, b.N)
		})
	}
}

// BenchmarkRecordShuffled records the stream as BenchmarkRecord does, but
// with 2% of the usages (drawn with a fixed seed) delayed by up to 5
// minutes of the stream's time. About half of them arrive after a later
// usage of their account (late/usage reports the share: 1% at 300,000
// usages), and are applied by a replay from the checkpoint before them.
func BenchmarkRecordShuffled(b *testing.B) {
	h, ids := benchEngine(b, 1000, 3)
	us := newBenchStream(b.N, ids)
	order := lateOrder(b.N, 0.02, int64(5*time.Minute)*int64(b.N)/int64(12*time.Hour))
	b.ReportAllocs()
	b.ResetTimer()
	late := 0
	for _, i := range order {
		r, err := h.e.Record(h.ctx, us.usage(i))
		if err != nil {
			b.Fatal(err)
		}
		if r.Late {
			late++
		}
	}
	b.StopTimer()
	reportRate(b, b.N)
	b.ReportMetric(float64(late)/float64(b.N), "late/usage")
}

// lateOrder returns the order of arrival of n usages: i, but for a share
// of them delayed by up to delay positions (drawn with a fixed seed).
func lateOrder(n int, share float64, delay int64) []int {
	rnd := rand.New(rand.NewPCG(3, 4))
	arrives := make([]int64, n)
	for i := range arrives {
		arrives[i] = int64(i) * 2 // even: in order; odd: a late one, after those of its slot
		if rnd.Float64() < share {
			arrives[i] += 2*rnd.Int64N(delay+1) + 1
		}
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return cmp.Compare(arrives[i], arrives[j]) })
	return order
}

// BenchmarkLateUsage measures what recording one late usage costs on an
// account whose day holds perDay usages, in the order of their times
// (HD, 61 s each, spread over the day), with a package that covers them
// all: each late usage is 5 minutes, or 3 hours, before the last one
// recorded (perDay × lateness / 24 h usages come after it). Its replay
// runs from the checkpoint before it (at most 64 operations) to the first
// stored checkpoint after it, where the rest is a shift of its meter, and
// rewrites the checkpoints after that one (one per 64 usages). On the
// monthly cycle (cycle=monthly) the replay runs to the last usage: a
// shift is not tried there (see replay).
func BenchmarkLateUsage(b *testing.B) {
	for _, cycle := range []billing.Cycle{billing.Daily, billing.Monthly} {
		for _, perDay := range []int{1_000, 10_000, 100_000, 1_000_000} {
			benchLate(b, cycle, perDay)
		}
	}
}

// benchLate is BenchmarkLateUsage on one cycle, for one day of perDay usages.
func benchLate(b *testing.B, cycle billing.Cycle, perDay int) {
	var h *harness
	for _, lateness := range []time.Duration{5 * time.Minute, 3 * time.Hour} {
		b.Run(fmt.Sprintf("cycle=%v/perDay=%d/late=%v", cycle, perDay, lateness), func(b *testing.B) {
			if h == nil {
				h = benchDay(b, perDay, cycle)
			}
			last := at(15, 0, 0, 0).Add(time.Duration(perDay-1) * (24 * time.Hour / time.Duration(perDay)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				u := usage(fmt.Sprint("late", lateness, i), hd, 61, last.Add(-lateness+time.Duration(i)))
				u.Account = "day"
				r, err := h.e.Record(h.ctx, *u)
				if err != nil || !r.Late {
					b.Fatalf("%+v, %v: want a late receipt", r, err)
				}
			}
		})
	}
}

// benchDay returns an Engine on memstore with account "day", on cycle,
// holding perDay usages of 2021-03-15 (recorded in batches, in order) and
// a package of 100,000,000 minutes, the clock at 01:00 the next day.
func benchDay(b *testing.B, perDay int, cycle billing.Cycle) *harness {
	book := billing.Era1USD()
	if cycle == billing.Monthly {
		book.MonthlyCohortsUntil = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	h := newHarness(b, book)
	h.clock.Set(at(1, 8, 0, 0))
	h.do(op{open: &billing.AccountSpec{ID: "day", Postpaid: true, App: "app1"}},
		op{buy: &billing.Purchase{ID: "p", Account: "day", Kind: billing.KindUniversal, Minutes: 100_000_000}})
	h.clock.Set(at(16, 1, 0, 0))
	batch := make([]billing.Usage, 0, 10_000)
	for i := range perDay {
		u := usage(fmt.Sprint("u", i), hd, 61, at(15, 0, 0, 0).Add(time.Duration(i)*(24*time.Hour/time.Duration(perDay))))
		u.Account = "day"
		if batch = append(batch, *u); len(batch) == cap(batch) || i == perDay-1 {
			for _, r := range h.e.RecordBatch(h.ctx, batch) {
				if r.Err != nil {
					b.Fatal(r.Err)
				}
			}
			batch = batch[:0]
		}
	}
	return h
}

// BenchmarkRecordParallel records the stream from GOMAXPROCS goroutines,
// into 1,000 accounts, and into one hot account.
func BenchmarkRecordParallel(b *testing.B) {
	for _, accounts := range []int{1000, 1} {
		name := "accounts=1000"
		if accounts == 1 {
			name = "hot-account"
		}
		b.Run(name, func(b *testing.B) {
			h, ids := benchEngine(b, accounts, 3)
			us := newBenchStream(b.N, ids)
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := h.e.Record(h.ctx, us.usage(int(next.Add(1)-1))); err != nil {
						b.Error(err)
						return
					}
				}
			})
			reportRate(b, b.N)
			b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "goroutines")
		})
	}
}

// BenchmarkBaseline is the floor: the stream's arithmetic alone, on
// preallocated int64 slices, with no engine and no store. Each usage adds
// its seconds to its account's meter, takes the increase of the meter's
// ceiling in minutes, covers whole minutes from the account's 3 packages in
// order at the HD ratio of each (1 for the trial, 4 for the others), and
// counts the rest as postpaid.
func BenchmarkBaseline(b *testing.B) {
	const accounts, packages = 1000, 3
	seconds := make([]int64, accounts)
	balance := make([]int64, accounts*packages)
	ratio := [packages]int64{1, 4, 4}
	for i := range balance {
		balance[i] = 3_000_000
	}
	us := newBenchStream(b.N, []string{"x"})
	usageSeconds := make([]int64, b.N)
	for i := range usageSeconds {
		usageSeconds[i] = us.usage(i).Seconds
	}
	var postpaid int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		a := i % accounts
		before := (seconds[a] + 59) / 60
		seconds[a] += usageSeconds[i]
		need := (seconds[a]+59)/60 - before
		for p := range packages {
			if need == 0 {
				break
			}
			n := min(need, balance[a*packages+p]/ratio[p])
			balance[a*packages+p] -= n * ratio[p]
			need -= n
		}
		postpaid += need
	}
	b.StopTimer()
	if postpaid < 0 {
		b.Fatal("unreachable")
	}
	reportRate(b, b.N)
}

// BenchmarkSettle settles one account's day that has 1,000,000 usages, in 4
// tiers and 2 value-added services; each settlement runs on a fresh copy.
func BenchmarkSettle(b *testing.B) {
	const usages = 1_000_000
	record := func(e *billing.Engine) {
		ctx := context.Background()
		batch := make([]billing.Usage, 0, 10_000)
		tiers := []billing.Tier{audio, sd, hd, fhd}
		for i := range usages {
			u := billing.Usage{ID: fmt.Sprint("u", i), Account: "a", App: benchApp, Tier: tiers[i%4], Seconds: 1 + int64(i%120),
				At: at(15, 8, 0, 0).Add(time.Duration(i%36_000) * time.Second)}
			switch i % 10 {
			case 0:
				u.Service = recording
			case 1:
				u.Service = mix
			default:
				u.Scenario = billing.VideoCall
			}
			batch = append(batch, u)
			if len(batch) == cap(batch) {
				for _, r := range e.RecordBatch(ctx, batch) {
					if r.Err != nil {
						b.Fatal(r.Err)
					}
				}
				batch = batch[:0]
			}
		}
	}
	b.ReportAllocs()
	for range b.N {
		b.StopTimer()
		now := at(15, 8, 0, 0)
		e, err := billing.New(memstore.New(), &billing.Options{Now: func() time.Time { return now }})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.OpenAccount(context.Background(), billing.AccountSpec{ID: "a", Postpaid: true, App: benchApp}); err != nil {
			b.Fatal(err)
		}
		now = at(15, 20, 0, 0)
		record(e)
		now = at(16, 10, 0, 0)
		b.StartTimer()
		bill, err := e.Settle(context.Background(), "a", march(15))
		if err != nil || len(bill.Lines) != 8 {
			b.Fatalf("Settle: %d lines, %v", len(bill.Lines), err)
		}
	}
	reportRate(b, b.N*usages)
}

// BenchmarkRecordPackages records into accounts holding 1, 10, 100 and
// 1,000 valid packages: the cost may grow at most with their logarithm.
func BenchmarkRecordPackages(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("packages=%d", n), func(b *testing.B) {
			h, ids := benchEngine(b, 10, n)
			us := newBenchStream(b.N, ids)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if _, err := h.e.Record(h.ctx, us.usage(i)); err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b, b.N)
		})
	}
}

// BenchmarkRecordHistory records into one account that already has 0,
// 100,000 or 1,000,000 ledger entries (from usage of earlier days): the
// cost must not grow with them.
func BenchmarkRecordHistory(b *testing.B) {
	for _, n := range []int{0, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			h, ids := benchEngine(b, 1, 3)
			old := benchUsages(n, ids)
			for i := range old {
				old[i].ID, old[i].At = fmt.Sprint("old", i), at(14, 8, 0, 0).Add(time.Duration(i%36_000)*time.Second)
				old[i].Seconds = 60 // one minute, one deduction entry each
			}
			for start := 0; start < n; start += 10_000 {
				for _, r := range h.e.RecordBatch(h.ctx, old[start:min(start+10_000, n)]) {
					if r.Err != nil {
						b.Fatal(r.Err)
					}
				}
			}
			if l := h.account(ids[0]).LastSeq; int(l) < n {
				b.Fatalf("%d ledger entries, want at least %d", l, n)
			}
			us := newBenchStream(b.N, ids)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if _, err := h.e.Record(h.ctx, us.usage(i)); err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b, b.N)
		})
	}
}
