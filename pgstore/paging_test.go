package pgstore_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/pgstore"
)

// pageLog is a pgx query tracer that notes the size (the LIMIT) of each
// page of usages and of checkpoints that a Reader reads.
type pageLog struct {
	mu                  sync.Mutex
	usages, checkpoints []int
}

func (l *pageLog) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case strings.Contains(d.SQL, "FROM billing_usages") && strings.HasSuffix(d.SQL, "LIMIT $4"):
		l.usages = append(l.usages, d.Args[3].(int))
	case strings.Contains(d.SQL, "FROM billing_checkpoints") && strings.HasSuffix(d.SQL, "LIMIT $5"):
		l.checkpoints = append(l.checkpoints, d.Args[4].(int))
	}
	return ctx
}

func (l *pageLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// take returns the pages noted since the last call, and forgets them.
func (l *pageLog) take() (usages, checkpoints []int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	usages, checkpoints, l.usages, l.checkpoints = l.usages, l.checkpoints, nil, nil
	return usages, checkpoints
}

// pagedStore returns a Store on a fresh schema, and the log of its pages.
func pagedStore(t *testing.T) (*pgstore.Store, *pageLog) {
	if pgstore.FirstPage != 64 || pgstore.MaxPage != 4096 {
		t.Fatalf("pages of %d to %d rows: the tests below expect 64 to 4,096", pgstore.FirstPage, pgstore.MaxPage)
	}
	log := &pageLog{}
	pool := newPoolConfig(t, func(cfg *pgxpool.Config) { cfg.ConnConfig.Tracer = log })
	return pgstore.New(pool), log
}

var (
	pageT0      = time.Date(2021, 3, 15, 9, 0, 0, 0, time.UTC)
	accountOfA  = billing.Account{ID: "a", Currency: "USD", Opened: pageT0, Version: 1}
	sameInstant = gocmp.Comparer(func(x, y time.Time) bool { return x.Equal(y) })
)

// TestUsagesPages checks that Reader.Usages reads in pages of 64, 128, 256
// ... rows, continuing after the last usage read, and stops at the page
// where fn returns false: on 300 usages, 5 a second, whose ids sort in the
// reverse of the order they were written in, so that the usages of one
// second straddle the ends of the first two pages (64 and 64 + 128).
func TestUsagesPages(t *testing.T) {
	s, log := pagedStore(t)
	ctx := context.Background()
	const n = 300
	var written []billing.UsageRecord
	for i := range n {
		written = append(written, billing.UsageRecord{
			Usage: billing.Usage{ID: fmt.Sprint("u", 1000-i), Account: "a", App: "1400000001", Service: billing.ServiceBasic,
				Scenario: billing.VideoCall, Tier: billing.TierHD, Seconds: 61, At: pageT0.Add(time.Duration(i/5) * time.Second)},
			Receipt: billing.Receipt{Key: billing.MeterKey{Day: 18701, Service: billing.ServiceBasic, Tier: billing.TierHD}, Minutes: 2}})
	}
	acct := accountOfA
	if err := s.Update(ctx, "a", func(billing.Reader) (billing.Changes, error) {
		return billing.Changes{Account: &acct, Usages: written}, nil
	}); err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(written)
	slices.SortFunc(want, func(x, y billing.UsageRecord) int {
		return cmp.Or(x.Usage.At.Compare(y.Usage.At), strings.Compare(x.Usage.ID, y.Usage.ID))
	})
	// Where the first page ends: the second 12 (i = 60..64, ids u940..u936) straddles it.
	if ids := usageIDs(want[60:66]); !slices.Equal(ids, []string{"u936", "u937", "u938", "u939", "u940", "u931"}) {
		t.Fatalf("the usages around the end of the first page are %v", ids)
	}
	log.take()
	for _, tt := range []struct {
		name     string
		from, to time.Time
		stop     int // fn returns false at the stop-th usage; 0: never
		want     []billing.UsageRecord
		pages    []int
	}{
		{"the first 3", time.Time{}, time.Time{}, 3, want[:3], []int{64}},
		{"a page exactly", time.Time{}, time.Time{}, 64, want[:64], []int{64}},
		{"a page and one", time.Time{}, time.Time{}, 65, want[:65], []int{64, 128}},
		{"all", time.Time{}, time.Time{}, 0, want, []int{64, 128, 256}},
		{"from second 12 to 50", pageT0.Add(12 * time.Second), pageT0.Add(50 * time.Second), 0, want[60:250], []int{64, 128}},
		{"from second 12 on, 70 of them", pageT0.Add(12 * time.Second), time.Time{}, 70, want[60:130], []int{64, 128}},
		{"from second 59 on", pageT0.Add(59 * time.Second), time.Time{}, 0, want[295:], []int{64}},
		{"from after the last", pageT0.Add(time.Hour), time.Time{}, 0, nil, []int{64}},
	} {
		for _, unit := range []string{"View", "Update"} {
			var got []billing.UsageRecord
			read := func(r billing.Reader) error {
				return r.Usages(tt.from, tt.to, func(u billing.UsageRecord) bool {
					got = append(got, u)
					return len(got) != tt.stop
				})
			}
			if err := readIn(ctx, s, unit, read); err != nil {
				t.Fatalf("%s: %s: %v", unit, tt.name, err)
			}
			if diff := gocmp.Diff(tt.want, got, sameInstant); diff != "" {
				t.Errorf("%s: Usages, %s (-want +got):\n%s", unit, tt.name, diff)
			}
			if pages, _ := log.take(); !slices.Equal(pages, tt.pages) {
				t.Errorf("%s: Usages, %s: pages of %v rows, want %v", unit, tt.name, pages, tt.pages)
			}
		}
	}
	var first []string
	if err := s.View(ctx, "a", func(r billing.Reader) error {
		return r.Usages(time.Time{}, time.Time{}, func(u billing.UsageRecord) bool { first = append(first, u.Usage.ID); return len(first) < 3 })
	}); err != nil || !slices.Equal(first, []string{"u1000", "u996", "u997"}) {
		t.Errorf("the first 3 usages: %v, %v; want [u1000 u996 u997]", first, err)
	}
}

func usageIDs(us []billing.UsageRecord) []string {
	var ids []string
	for _, u := range us {
		ids = append(ids, u.Usage.ID)
	}
	return ids
}

// TestCheckpointsPages checks that Reader.Checkpoints reads in pages of 64,
// 128, 256 ... rows, the first from the latest checkpoint at or before the
// key asked, the next ones after the last checkpoint read, and stops at
// the page where fn returns false: on 300 checkpoints, 5 a second of each
// class, whose keys of one second straddle the ends of pages.
func TestCheckpointsPages(t *testing.T) {
	s, log := pagedStore(t)
	ctx := context.Background()
	const n = 300
	classes := []billing.Class{billing.ClassCheckpoint, billing.ClassUsage, billing.ClassUsage, billing.ClassUsage, billing.ClassCall}
	ids := []string{"", "u2", "u10", "U", "p"} // in key order: "", "U", "u10", "u2", "p"
	var written []billing.Checkpoint
	for i := range n {
		written = append(written, billing.Checkpoint{
			Key:      billing.OpKey{At: pageT0.Add(time.Duration(i/5) * time.Second), Class: classes[i%5], ID: ids[i%5]},
			Balances: []billing.Balance{{Package: "p1", Balance: int64(i)}},
			Usages:   []string{fmt.Sprint("u", i), "ü"}})
	}
	acct := accountOfA
	if err := s.Update(ctx, "a", func(billing.Reader) (billing.Changes, error) {
		return billing.Changes{Account: &acct, Checkpoints: written}, nil
	}); err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(written)
	slices.SortFunc(want, func(x, y billing.Checkpoint) int { return x.Key.Compare(y.Key) })
	at := func(sec int, class billing.Class, id string) billing.OpKey {
		return billing.OpKey{At: pageT0.Add(time.Duration(sec) * time.Second), Class: class, ID: id}
	}
	if k := want[62].Key; k.Compare(at(12, billing.ClassUsage, "u10")) != 0 {
		t.Fatalf("checkpoint 62 at %+v", k)
	}
	log.take()
	for _, tt := range []struct {
		name  string
		at    billing.OpKey
		stop  int
		want  []billing.Checkpoint
		pages []int
	}{
		{"all", billing.OpKey{}, 0, want, []int{64, 128, 256}},
		{"the first 3", billing.OpKey{}, 3, want[:3], []int{64}},
		{"from one", at(12, billing.ClassUsage, "u10"), 0, want[62:], []int{64, 128, 256}},
		{"from the one before", at(12, billing.ClassUsage, "u3"), 0, want[63:], []int{64, 128, 256}},
		{"3 from the one before", at(12, billing.ClassUsage, "u3"), 3, want[63:66], []int{64}},
		{"a page and one from the one before", at(12, billing.ClassUsage, "u3"), 65, want[63:128], []int{64, 128}},
		{"from the last", at(3600, billing.ClassCall, ""), 0, want[299:], []int{64}},
	} {
		for _, unit := range []string{"View", "Update"} {
			var got []billing.Checkpoint
			read := func(r billing.Reader) error {
				return r.Checkpoints(tt.at, func(c billing.Checkpoint) bool {
					got = append(got, c)
					return len(got) != tt.stop
				})
			}
			if err := readIn(ctx, s, unit, read); err != nil {
				t.Fatalf("%s: %s: %v", unit, tt.name, err)
			}
			if diff := gocmp.Diff(tt.want, got, sameInstant); diff != "" {
				t.Errorf("%s: Checkpoints, %s (-want +got):\n%s", unit, tt.name, diff)
			}
			if _, pages := log.take(); !slices.Equal(pages, tt.pages) {
				t.Errorf("%s: Checkpoints, %s: pages of %v rows, want %v", unit, tt.name, pages, tt.pages)
			}
		}
	}
	// The page boundary after 63 + 64 falls inside second 25: checkpoints 125 to 129.
	var keys []string
	for _, c := range want[125:130] {
		keys = append(keys, fmt.Sprintf("%d/%d/%s/%v", c.Key.At.Sub(pageT0)/time.Second, c.Key.Class, c.Key.ID, c.Usages))
	}
	if wantKeys := []string{"25/-1//[u125 ü]", "25/0/U/[u128 ü]", "25/0/u10/[u127 ü]", "25/0/u2/[u126 ü]", "25/1/p/[u129 ü]"}; !slices.Equal(keys, wantKeys) {
		t.Errorf("checkpoints 125 to 129: %v, want %v", keys, wantKeys)
	}
}

// readIn runs read on account "a" of s in a View (unit "View") or in an
// Update that writes nothing ("Update").
func readIn(ctx context.Context, s billing.Store, unit string, read func(billing.Reader) error) error {
	if unit == "View" {
		return s.View(ctx, "a", read)
	}
	return s.Update(ctx, "a", func(r billing.Reader) (billing.Changes, error) { return billing.Changes{}, read(r) })
}
