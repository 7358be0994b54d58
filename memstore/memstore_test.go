package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/memstore"
	"github.com/shopspring/decimal"
)

var (
	t0  = time.Date(2021, 3, 15, 9, 0, 0, 0, time.UTC)
	day = billing.DateDay(2021, 3, 15)
	ctx = context.Background()
)

func key(tier billing.Tier) billing.MeterKey {
	return billing.MeterKey{Day: day, Service: billing.ServiceBasic, Tier: tier}
}

// create stores account id at version 1.
func create(t *testing.T, s billing.Store, id string) {
	t.Helper()
	err := s.Update(ctx, id, func(tx billing.Tx) error {
		tx.PutAccount(billing.Account{ID: id, Currency: "USD", Opened: t0, Version: 1})
		return nil
	})
	if err != nil {
		t.Fatalf("create %s: %v", id, err)
	}
}

// next returns the account with its Version one higher, for a write.
func next(tx billing.Tx) billing.Account {
	a, _ := tx.Account()
	a.Version++
	return a
}

func view(t *testing.T, s billing.Store, id string, fn func(billing.Reader) error) {
	t.Helper()
	if err := s.View(ctx, id, fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func TestReadBack(t *testing.T) {
	s := memstore.New()
	create(t, s, "a")
	price := decimal.RequireFromString("2416.00000001")
	zone := time.FixedZone("UTC+8", 8*3600)
	p := billing.Package{ID: "p1", Kind: "universal", Book: "era1-usd", Minutes: 3_000_000, Balance: 2_999_996, Price: price,
		PurchasedAt: t0.In(zone), Start: t0.Add(-9 * time.Hour), End: t0.AddDate(1, 0, 0)}
	u := billing.UsageRecord{
		Usage:   billing.Usage{ID: "u1", Account: "a", App: "app", Scenario: billing.VideoCall, Tier: billing.TierHD, Seconds: 61, At: t0.Add(time.Nanosecond)},
		Receipt: billing.Receipt{Key: key(billing.TierHD), Minutes: 2, Draws: []billing.Draw{{Package: "p1", Minutes: 1, Deducted: 4}}, Postpaid: 1},
	}
	pr := billing.PurchaseRecord{Purchase: billing.Purchase{ID: "p1", Account: "a", Kind: "universal", Minutes: 3_000_000},
		Receipt: billing.PurchaseReceipt{Package: p, Day: day, Absorbed: []billing.Absorption{{Tier: billing.TierHD, Postpaid: 1, Deducted: 4}}}}
	m := billing.Meter{Key: key(billing.TierHD), Seconds: 61, Prepaid: 1, Postpaid: 1}
	e := billing.Entry{Seq: 1, At: t0, Kind: billing.EntryPurchase, Ref: "p1", Package: "p1", Balance: 3_000_000, Amount: price}
	err := s.Update(ctx, "a", func(tx billing.Tx) error {
		tx.PutAccount(next(tx))
		tx.PutPackage(p)
		tx.PutUsage(u)
		tx.PutPurchase(pr)
		tx.PutMeter(m)
		tx.AppendEntry(e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	view(t, s, "a", func(r billing.Reader) error {
		a, err := r.Account()
		if err != nil || a.Version != 2 {
			t.Errorf("Account() = %+v, %v; want version 2", a, err)
		}
		gotU, err := r.Usage("u1")
		if diff := cmp.Diff(u, gotU); err != nil || diff != "" {
			t.Errorf("Usage() error %v, diff (-want +got):\n%s", err, diff)
		}
		gotP, err := r.Purchase("p1")
		if diff := cmp.Diff(pr, gotP); err != nil || diff != "" {
			t.Errorf("Purchase() error %v, diff (-want +got):\n%s", err, diff)
		}
		gotM, err := r.Meter(m.Key)
		if diff := cmp.Diff(m, gotM); err != nil || diff != "" {
			t.Errorf("Meter() error %v, diff (-want +got):\n%s", err, diff)
		}
		var live []billing.Package
		if err := r.LivePackages(func(p billing.Package) bool { live = append(live, p); return true }); err != nil {
			t.Error(err)
		}
		if diff := cmp.Diff([]billing.Package{p}, live); diff != "" {
			t.Errorf("LivePackages (-want +got):\n%s", diff)
		}
		var entries []billing.Entry
		if err := r.Entries(time.Time{}, time.Time{}, func(e billing.Entry) bool { entries = append(entries, e); return true }); err != nil {
			t.Error(err)
		}
		if diff := cmp.Diff([]billing.Entry{e}, entries); diff != "" {
			t.Errorf("Entries (-want +got):\n%s", diff)
		}
		if got := entries[0].Amount.String(); got != "2416.00000001" {
			t.Errorf("Amount read back as %s, want 2416.00000001", got)
		}
		if _, err := r.Usage("u2"); !errors.Is(err, billing.ErrNotFound) {
			t.Errorf("Usage(unknown) error = %v, want ErrNotFound", err)
		}
		if got, err := r.Meter(key(billing.TierSD)); err != nil || got != (billing.Meter{Key: key(billing.TierSD)}) {
			t.Errorf("Meter(never written) = %+v, %v; want a zero meter with its key", got, err)
		}
		return nil
	})
}

func TestAtomicity(t *testing.T) {
	s := memstore.New()
	boom := errors.New("boom")
	err := s.Update(ctx, "a", func(tx billing.Tx) error {
		tx.PutAccount(billing.Account{ID: "a", Version: 1})
		tx.PutMeter(billing.Meter{Key: key(billing.TierAudio), Seconds: 60, Prepaid: 1})
		return boom
	})
	if err != boom {
		t.Errorf("Update() = %v, want fn's error unchanged", err)
	}
	view(t, s, "a", func(r billing.Reader) error {
		if _, err := r.Account(); !errors.Is(err, billing.ErrNotFound) {
			t.Errorf("Account() after a failed creation: %v, want ErrNotFound", err)
		}
		if m, _ := r.Meter(key(billing.TierAudio)); m.Seconds != 0 {
			t.Errorf("meter written by a failed unit of work: %+v", m)
		}
		return nil
	})

	// A commit refused for a duplicate usage id writes nothing else either.
	create(t, s, "a")
	u := billing.UsageRecord{Usage: billing.Usage{ID: "u1"}}
	if err := s.Update(ctx, "a", func(tx billing.Tx) error { tx.PutAccount(next(tx)); tx.PutUsage(u); return nil }); err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, "a", func(tx billing.Tx) error {
		tx.PutAccount(next(tx))
		tx.PutMeter(billing.Meter{Key: key(billing.TierAudio), Seconds: 60, Prepaid: 1})
		tx.PutUsage(u)
		return nil
	})
	if !errors.Is(err, billing.ErrExists) {
		t.Errorf("Update(duplicate usage) = %v, want ErrExists", err)
	}
	view(t, s, "a", func(r billing.Reader) error {
		a, _ := r.Account()
		m, _ := r.Meter(key(billing.TierAudio))
		if a.Version != 2 || m.Seconds != 0 {
			t.Errorf("after a refused commit: version %d, meter %+v; want version 2 and no meter", a.Version, m)
		}
		return nil
	})
}

func TestUniqueKeysAndVersions(t *testing.T) {
	tests := []struct {
		name string
		fn   func(tx billing.Tx)
		want error
	}{
		{"the same usage id twice in one unit", func(tx billing.Tx) {
			tx.PutAccount(next(tx))
			tx.PutUsage(billing.UsageRecord{Usage: billing.Usage{ID: "u9"}})
			tx.PutUsage(billing.UsageRecord{Usage: billing.Usage{ID: "u9"}})
		}, billing.ErrExists},
		{"a stored purchase id", func(tx billing.Tx) {
			tx.PutAccount(next(tx))
			tx.PutPurchase(billing.PurchaseRecord{Purchase: billing.Purchase{ID: "p1"}})
		}, billing.ErrExists},
		{"a stored ledger Seq", func(tx billing.Tx) {
			tx.PutAccount(next(tx))
			tx.AppendEntry(billing.Entry{Seq: 1})
		}, billing.ErrExists},
		{"a stale version", func(tx billing.Tx) {
			a := next(tx)
			a.Version--
			tx.PutAccount(a)
		}, billing.ErrConflict},
		{"a version from the future", func(tx billing.Tx) {
			a := next(tx)
			a.Version++
			tx.PutAccount(a)
		}, billing.ErrConflict},
		{"records of an account that does not exist", nil, billing.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := memstore.New()
			create(t, s, "a")
			err := s.Update(ctx, "a", func(tx billing.Tx) error {
				tx.PutAccount(next(tx))
				tx.PutPurchase(billing.PurchaseRecord{Purchase: billing.Purchase{ID: "p1"}})
				tx.AppendEntry(billing.Entry{Seq: 1})
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			id, fn := "a", tt.fn
			if fn == nil {
				id, fn = "nobody", func(tx billing.Tx) { tx.PutMeter(billing.Meter{Key: key(billing.TierAudio)}) }
			}
			err = s.Update(ctx, id, func(tx billing.Tx) error { fn(tx); return nil })
			if diff := cmp.Diff(tt.want, err, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("Update() error (-want +got):\n%s", diff)
			}
			view(t, s, "a", func(r billing.Reader) error {
				if a, _ := r.Account(); a.Version != 2 {
					t.Errorf("version after a refused commit = %d, want 2", a.Version)
				}
				return nil
			})
		})
	}
}

func TestSnapshotReads(t *testing.T) {
	s := memstore.New()
	create(t, s, "a")
	k := key(billing.TierAudio)
	err := s.Update(ctx, "a", func(tx billing.Tx) error {
		tx.PutAccount(next(tx))
		tx.PutMeter(billing.Meter{Key: k, Seconds: 60, Prepaid: 1})
		tx.PutMeter(billing.Meter{Key: k, Seconds: 120, Prepaid: 2}) // the later write wins
		if m, _ := tx.Meter(k); m.Seconds != 0 {
			t.Errorf("a unit of work read its own write: %+v", m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	view(t, s, "a", func(r billing.Reader) error {
		if m, _ := r.Meter(k); m.Seconds != 120 {
			t.Errorf("meter = %+v, want the later write (120 seconds)", m)
		}
		return nil
	})
}

func TestNoAliasing(t *testing.T) {
	s := memstore.New()
	create(t, s, "a")
	draws := []billing.Draw{{Package: "p1", Minutes: 1, Deducted: 4}}
	absorbed := []billing.Absorption{{Tier: billing.TierHD, Postpaid: 1, Deducted: 4}}
	err := s.Update(ctx, "a", func(tx billing.Tx) error {
		tx.PutAccount(next(tx))
		tx.PutUsage(billing.UsageRecord{Usage: billing.Usage{ID: "u1"}, Receipt: billing.Receipt{Draws: draws}})
		tx.PutPurchase(billing.PurchaseRecord{Purchase: billing.Purchase{ID: "p1"}, Receipt: billing.PurchaseReceipt{Absorbed: absorbed}})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	draws[0].Minutes, absorbed[0].Postpaid = 99, 99 // the caller's slices change after the commit
	for range 2 {
		view(t, s, "a", func(r billing.Reader) error {
			u, _ := r.Usage("u1")
			p, _ := r.Purchase("p1")
			if u.Receipt.Draws[0].Minutes != 1 || p.Receipt.Absorbed[0].Postpaid != 1 {
				t.Errorf("the store shares memory with its caller: draws %+v, absorbed %+v", u.Receipt.Draws, p.Receipt.Absorbed)
			}
			u.Receipt.Draws[0].Minutes, p.Receipt.Absorbed[0].Postpaid = 77, 77 // the caller changes what it read
			return nil
		})
	}
}

func TestPackagesInDeductionOrder(t *testing.T) {
	s := memstore.New()
	create(t, s, "a")
	end := t0.AddDate(1, 0, 0)
	pk := func(id string, bought time.Time, end time.Time, balance int64) billing.Package {
		return billing.Package{ID: id, Minutes: 1000, Balance: balance, PurchasedAt: bought, End: end}
	}
	all := []billing.Package{
		pk("later-end", t0, end.AddDate(0, 1, 0), 10),
		pk("b", t0, end, 10),
		pk("a", t0, end, 10),
		pk("spent", t0, end, 0),
		pk("earlier-purchase", t0.Add(-time.Hour), end, 10),
		pk("sooner-end", t0.Add(time.Hour), end.AddDate(0, -1, 0), 10),
	}
	err := s.Update(ctx, "a", func(tx billing.Tx) error {
		tx.PutAccount(next(tx))
		for _, p := range all {
			tx.PutPackage(p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// "b" is used up in a later unit of work: it leaves the live packages.
	err = s.Update(ctx, "a", func(tx billing.Tx) error {
		tx.PutAccount(next(tx))
		tx.PutPackage(pk("b", t0, end, 0))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(each func(func(billing.Package) bool) error) []string {
		var ids []string
		if err := each(func(p billing.Package) bool { ids = append(ids, p.ID); return true }); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	view(t, s, "a", func(r billing.Reader) error {
		if diff := cmp.Diff([]string{"sooner-end", "earlier-purchase", "a", "later-end"}, ids(r.LivePackages)); diff != "" {
			t.Errorf("LivePackages (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"sooner-end", "earlier-purchase", "a", "b", "spent", "later-end"}, ids(r.Packages)); diff != "" {
			t.Errorf("Packages (-want +got):\n%s", diff)
		}
		return nil
	})
}

func TestEntriesByTime(t *testing.T) {
	for _, sorted := range []bool{true, false} {
		t.Run(fmt.Sprintf("sorted=%v", sorted), func(t *testing.T) {
			s := memstore.New()
			create(t, s, "a")
			ats := []time.Time{t0, t0.Add(time.Hour), t0.Add(2 * time.Hour), t0.Add(3 * time.Hour)}
			if !sorted {
				ats[1], ats[2] = ats[2], ats[1]
			}
			err := s.Update(ctx, "a", func(tx billing.Tx) error {
				tx.PutAccount(next(tx))
				for i, at := range ats {
					tx.AppendEntry(billing.Entry{Seq: int64(i + 1), At: at})
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			view(t, s, "a", func(r billing.Reader) error {
				var seqs []int64
				err := r.Entries(t0.Add(time.Hour), t0.Add(3*time.Hour), func(e billing.Entry) bool { seqs = append(seqs, e.Seq); return true })
				// [t0+1h, t0+3h) holds the entries at +1h and +2h: Seq 2 and 3 either way.
				if diff := cmp.Diff([]int64{2, 3}, seqs); err != nil || diff != "" {
					t.Errorf("Entries error %v (-want +got):\n%s", err, diff)
				}
				return nil
			})
		})
	}
}

func TestCancellation(t *testing.T) {
	s := memstore.New()
	create(t, s, "a")
	c, cancel := context.WithCancel(ctx)
	err := s.Update(c, "a", func(tx billing.Tx) error {
		tx.PutAccount(next(tx))
		cancel() // cancelled while the unit of work runs
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update() = %v, want context.Canceled", err)
	}
	if err := s.Update(c, "a", func(billing.Tx) error { t.Error("fn ran under a cancelled context"); return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Update(cancelled) = %v, want context.Canceled", err)
	}
	if err := s.View(c, "a", func(billing.Reader) error { t.Error("fn ran under a cancelled context"); return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("View(cancelled) = %v, want context.Canceled", err)
	}
	view(t, s, "a", func(r billing.Reader) error {
		if a, _ := r.Account(); a.Version != 1 {
			t.Errorf("version = %d after a cancelled unit of work, want 1", a.Version)
		}
		return nil
	})
}

// TestNoLostUpdates runs read-modify-write units of work on one account from
// many goroutines: every one of them must count.
func TestNoLostUpdates(t *testing.T) {
	s := memstore.New()
	create(t, s, "a")
	create(t, s, "b")
	const goroutines, each = 8, 200
	k := key(billing.TierAudio)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := []string{"a", "b"}[(g+i)%2]
				err := s.Update(ctx, id, func(tx billing.Tx) error {
					m, err := tx.Meter(k)
					if err != nil {
						return err
					}
					m.Seconds += 60
					m.Prepaid++
					tx.PutMeter(m)
					tx.PutAccount(next(tx))
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	// Each account got half of the 8 × 200 = 1,600 units of work.
	for _, id := range []string{"a", "b"} {
		view(t, s, id, func(r billing.Reader) error {
			a, _ := r.Account()
			m, _ := r.Meter(k)
			if a.Version != 1+800 || m.Prepaid != 800 {
				t.Errorf("account %s: version %d, meter %+v; want version 801 and 800 minutes", id, a.Version, m)
			}
			return nil
		})
	}
}

// TestEntriesAcrossChunks finds a period among thousands of entries.
func TestEntriesAcrossChunks(t *testing.T) {
	s := memstore.New()
	create(t, s, "a")
	const n = 5000
	for i := range n / 100 {
		err := s.Update(ctx, "a", func(tx billing.Tx) error {
			tx.PutAccount(next(tx))
			for j := range 100 {
				seq := i*100 + j + 1
				tx.AppendEntry(billing.Entry{Seq: int64(seq), At: t0.Add(time.Duration(seq) * time.Minute)})
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	view(t, s, "a", func(r billing.Reader) error {
		var seqs []int64
		// Entry k is at t0 + k minutes: [t0+1500m, t0+3500m) holds 1,500..3,499.
		err := r.Entries(t0.Add(1500*time.Minute), t0.Add(3500*time.Minute), func(e billing.Entry) bool { seqs = append(seqs, e.Seq); return true })
		if err != nil || len(seqs) != 2000 || seqs[0] != 1500 || seqs[1999] != 3499 {
			t.Errorf("Entries: %d entries, error %v; want 2,000 from 1,500 to 3,499", len(seqs), err)
		}
		return nil
	})
}

func TestBillsAndDays(t *testing.T) {
	s := memstore.New()
	create(t, s, "a")
	d := func(n int) billing.Day { return day + billing.Day(n) }
	lines := []billing.Line{{Day: d(1), Service: billing.ServiceBasic, Tier: billing.TierHD, Billed: 2, Amount: decimal.RequireFromString("0.00798")}}
	late := []billing.MeterKey{key(billing.TierHD)}
	err := s.Update(ctx, "a", func(tx billing.Tx) error {
		a := next(tx)
		a.Late = late
		tx.PutAccount(a)
		for _, n := range []int{3, 1, 2} {
			tx.PutBill(billing.Bill{Account: "a", Day: d(n), Lines: lines})
		}
		for _, n := range []int{5, 2, 9} {
			tx.PutMeter(billing.Meter{Key: billing.MeterKey{Day: d(n), Service: billing.ServiceBasic, Tier: billing.TierAudio}})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	lines[0].Billed, late[0].Tier = 99, billing.TierFHD // the caller's slices change after the commit
	view(t, s, "a", func(r billing.Reader) error {
		var bills []billing.Day
		if err := r.Bills(d(1), d(2), func(b billing.Bill) bool { bills = append(bills, b.Day); return true }); err != nil {
			t.Error(err)
		}
		if diff := cmp.Diff([]billing.Day{d(1), d(2)}, bills); diff != "" {
			t.Errorf("Bills(1..2) (-want +got):\n%s", diff)
		}
		b, err := r.Bill(d(3))
		if err != nil || b.Lines[0].Billed != 2 {
			t.Errorf("Bill(3) = %+v, %v; want the bill as written", b, err)
		}
		if _, err := r.Bill(d(4)); !errors.Is(err, billing.ErrNotFound) {
			t.Errorf("Bill(4) error = %v, want ErrNotFound", err)
		}
		var days []billing.Day
		if err := r.Days(d(1), d(6), func(x billing.Day) bool { days = append(days, x); return true }); err != nil {
			t.Error(err)
		}
		if diff := cmp.Diff([]billing.Day{d(2), d(5)}, days); diff != "" {
			t.Errorf("Days(1..6) (-want +got):\n%s", diff)
		}
		if a, _ := r.Account(); !cmp.Equal(a.Late, []billing.MeterKey{key(billing.TierHD)}) {
			t.Errorf("Late = %v, want the keys as written", a.Late)
		}
		return nil
	})
	err = s.Update(ctx, "a", func(tx billing.Tx) error {
		tx.PutAccount(next(tx))
		tx.PutBill(billing.Bill{Account: "a", Day: d(2)})
		return nil
	})
	if !errors.Is(err, billing.ErrExists) {
		t.Errorf("a second bill of day 2: %v, want ErrExists", err)
	}
}
