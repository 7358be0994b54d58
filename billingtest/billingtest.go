// Package billingtest checks that a billing.Store keeps the promises of the
// Store contract. A Store's test file runs the whole suite in one line:
//
//	func TestStore(t *testing.T) {
//		billingtest.TestStore(t, func(t *testing.T) billing.Store { return mystore.New() })
//	}
//
// Each promise is a subtest on a fresh Store, so a failure names the promise
// broken. Run the suite with -race: several subtests use many goroutines.
package billingtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/rtcbill/billing"
	"github.com/shopspring/decimal"
)

// NewStore returns an empty Store. TestStore calls it once per subtest;
// it may use t for cleanup (t.Cleanup) and to skip.
type NewStore func(t *testing.T) billing.Store

// TestStore runs the conformance suite against the Stores newStore returns:
// one subtest per promise of the billing.Store contract.
func TestStore(t *testing.T, newStore NewStore) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, NewStore)
	}{
		{"ExactReadBack", testReadBack},
		{"Atomicity", testAtomicity},
		{"UniqueKeysAndVersions", testUniqueKeysAndVersions},
		{"SnapshotReads", testSnapshotReads},
		{"NoAliasing", testNoAliasing},
		{"PackagesInDeductionOrder", testPackagesInDeductionOrder},
		{"EntriesByTime", testEntriesByTime},
		{"ManyEntries", testManyEntries},
		{"IDsAreBytes", testIDsAreBytes},
		{"MetersOfADay", testMetersOfADay},
		{"DaysInRange", testDaysInRange},
		{"BillsInRange", testBillsInRange},
		{"StopWhenFnReturnsFalse", testStop},
		{"Cancellation", testCancellation},
		{"Isolation", testNoLostUpdates},
		{"AccountsApart", testAccountsApart},
		{"AccountsInParallel", testAccountsInParallel},
		{"CreationRace", testCreationRace},
		{"CancelWhileWaiting", testCancelWhileWaiting},
		{"Prefetch", testPrefetch},
		{"ReadModifyWrite", testReadModifyWrite},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newStore) })
	}
}

var (
	t0  = time.Date(2021, 3, 15, 9, 0, 0, 0, time.UTC)
	day = billing.Day(t0.Unix() / (24 * 60 * 60)) // 2021-03-15
	ctx = context.Background()
)

// update runs fn as a unit of work on account id, again while the Store
// reports a conflict, as the Engine does (up to 1,000 times).
func update(s billing.Store, id string, fn func(billing.Tx) error) error {
	var err error
	for range 1000 {
		if err = s.Update(ctx, id, fn); !errors.Is(err, billing.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("1,000 conflicts in a row: %w", err)
}

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

// wantVersion checks the stored Version of account id.
func wantVersion(t *testing.T, s billing.Store, id string, want int64, when string) {
	t.Helper()
	view(t, s, id, func(r billing.Reader) error {
		if a, err := r.Account(); err != nil || a.Version != want {
			t.Errorf("account %s %s: version %d (%v), want %d", id, when, a.Version, err, want)
		}
		return nil
	})
}

func view(t *testing.T, s billing.Store, id string, fn func(billing.Reader) error) {
	t.Helper()
	if err := s.View(ctx, id, fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// testReadBack writes every kind of record, with values that lossy storage
// would change (nanoseconds, a zone other than UTC, zero times, decimals with
// many digits, large integers, Unicode), and reads them back.
func testReadBack(t *testing.T, newStore NewStore) {
	s := newStore(t)
	zone := time.FixedZone("UTC+8", 8*3600)
	nano := time.Date(2021, 3, 15, 23, 59, 59, 999_999_999, zone)
	money := decimal.RequireFromString("123456789012345678.00000001")
	a := billing.Account{
		ID: "acct-ü-日本", Currency: "CNY", Opened: nano, Version: 1, Touched: nano.Add(time.Nanosecond), LastSeq: 7,
		Postpaid:          billing.Postpaid{On: true, Since: nano, Way: billing.PostpaidAutomatic},
		Status:            billing.Status{}, // zero times read back as zero
		AutoPostpaidArmed: true, SettledThrough: day - 1,
		Late: []billing.MeterKey{key(billing.TierHD), {Day: day - 3, Service: billing.ServiceRecording, Tier: billing.TierAudio}},
	}
	p := billing.Package{ID: "p1", Kind: "universal", Book: "era1-usd", Minutes: 1_000_000_000_000, Balance: 999_999_999_996, Forfeited: 3,
		Price: money, PurchasedAt: nano, Start: t0.Add(-9 * time.Hour), End: t0.AddDate(1, 0, 0)}
	u := billing.UsageRecord{
		Usage: billing.Usage{ID: "u1", Account: a.ID, App: "app", Service: billing.ServiceBasic, Scenario: billing.VideoCall,
			Tier: billing.TierHD, Seconds: billing.MaxUsageSeconds, At: nano},
		Receipt: billing.Receipt{Key: key(billing.TierHD), Minutes: 2, Draws: []billing.Draw{{Package: "p1", Minutes: 1, Deducted: 4}},
			Postpaid: 1, PostpaidOn: true},
	}
	pr := billing.PurchaseRecord{Purchase: billing.Purchase{ID: "p1", Account: a.ID, Kind: "universal", Minutes: 1_000_000_000_000},
		Receipt: billing.PurchaseReceipt{Package: p, Day: day, Absorbed: []billing.Absorption{{Tier: billing.TierHD, Shortfall: 2, Postpaid: 1, Deducted: 12}}, Resumed: true}}
	m := billing.Meter{Key: key(billing.TierHD), Seconds: 1 << 59, Postpaid: (1<<59 + 59) / 60,
		Settled: billing.Tally{Seconds: 61, Postpaid: 2}}
	e := billing.Entry{Seq: 1, At: nano, Kind: billing.EntryPurchase, Request: billing.RequestBuy, Ref: "p1", Package: "p1",
		Balance: 1_000_000_000_000, Key: key(billing.TierHD), Minutes: -3, App: "app", Scenario: billing.VideoCall, Amount: money}
	b := billing.Bill{Account: a.ID, Day: day - 1, Currency: "CNY", Issued: nano, PostpaidOn: true,
		Lines: []billing.Line{{Day: day - 2, Service: billing.ServiceMixTranscoding, Tier: billing.TierSD, Adjustment: true,
			Seconds: 1830, Minutes: 31, Postpaid: 31, Billed: 31, UnitPrice: decimal.RequireFromString("0.00228571"),
			Amount: decimal.RequireFromString("0.07085701")}},
		Subtotal: decimal.RequireFromString("0.07085701"), Total: decimal.RequireFromString("0.07")}
	err := s.Update(ctx, a.ID, func(tx billing.Tx) error {
		tx.PutAccount(a)
		tx.PutPackage(p)
		tx.PutUsage(u)
		tx.PutPurchase(pr)
		tx.PutMeter(m)
		tx.AppendEntry(e)
		tx.PutBill(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, want, got any, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", what, err)
			return
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s read back (-written +read):\n%s", what, diff)
		}
	}
	view(t, s, a.ID, func(r billing.Reader) error {
		gotA, err := r.Account()
		check("Account", a, gotA, err)
		gotU, err := r.Usage("u1")
		check("Usage", u, gotU, err)
		gotP, err := r.Purchase("p1")
		check("Purchase", pr, gotP, err)
		gotM, err := r.Meter(m.Key)
		check("Meter", m, gotM, err)
		gotB, err := r.Bill(b.Day)
		check("Bill", b, gotB, err)
		var live []billing.Package
		err = r.LivePackages(func(p billing.Package) bool { live = append(live, p); return true })
		check("LivePackages", []billing.Package{p}, live, err)
		var entries []billing.Entry
		err = r.Entries(time.Time{}, time.Time{}, func(e billing.Entry) bool { entries = append(entries, e); return true })
		check("Entries", []billing.Entry{e}, entries, err)
		// Equal decimals may differ in exponent; the digits must not.
		for what, got := range map[string]decimal.Decimal{"Entry.Amount": entries[0].Amount, "Package.Price": live[0].Price} {
			if got.String() != money.String() {
				t.Errorf("%s read back as %s, want %s", what, got, money)
			}
		}
		if !gotA.Opened.Equal(nano) || gotA.Opened.Nanosecond() != 999_999_999 {
			t.Errorf("Opened read back as %v, want %v to the nanosecond", gotA.Opened, nano)
		}
		if _, err := r.Usage("u2"); !errors.Is(err, billing.ErrNotFound) {
			t.Errorf("Usage(unknown) error = %v, want ErrNotFound", err)
		}
		if _, err := r.Purchase("p2"); !errors.Is(err, billing.ErrNotFound) {
			t.Errorf("Purchase(unknown) error = %v, want ErrNotFound", err)
		}
		if got, err := r.Meter(key(billing.TierSD)); err != nil || got != (billing.Meter{Key: key(billing.TierSD)}) {
			t.Errorf("Meter(never written) = %+v, %v; want a zero meter with its key", got, err)
		}
		return nil
	})
}

func testAtomicity(t *testing.T, newStore NewStore) {
	s := newStore(t)
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

func testUniqueKeysAndVersions(t *testing.T, newStore NewStore) {
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
		{"a stored usage id", func(tx billing.Tx) {
			tx.PutAccount(next(tx))
			tx.PutUsage(billing.UsageRecord{Usage: billing.Usage{ID: "u1"}})
		}, billing.ErrExists},
		{"a stored purchase id", func(tx billing.Tx) {
			tx.PutAccount(next(tx))
			tx.PutPurchase(billing.PurchaseRecord{Purchase: billing.Purchase{ID: "p1"}})
		}, billing.ErrExists},
		{"a stored bill day", func(tx billing.Tx) {
			tx.PutAccount(next(tx))
			tx.PutBill(billing.Bill{Account: "a", Day: day})
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
			s := newStore(t)
			create(t, s, "a")
			err := s.Update(ctx, "a", func(tx billing.Tx) error {
				tx.PutAccount(next(tx))
				tx.PutUsage(billing.UsageRecord{Usage: billing.Usage{ID: "u1"}})
				tx.PutPurchase(billing.PurchaseRecord{Purchase: billing.Purchase{ID: "p1"}})
				tx.AppendEntry(billing.Entry{Seq: 1})
				tx.PutBill(billing.Bill{Account: "a", Day: day})
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
			wantVersion(t, s, "a", 2, "after a refused commit")
		})
	}
}

func testSnapshotReads(t *testing.T, newStore NewStore) {
	s := newStore(t)
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

func testNoAliasing(t *testing.T, newStore NewStore) {
	s := newStore(t)
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

func testPackagesInDeductionOrder(t *testing.T, newStore NewStore) {
	s := newStore(t)
	create(t, s, "a")
	end := t0.AddDate(1, 0, 0)
	pk := func(id string, bought time.Time, end time.Time, balance int64) billing.Package {
		return billing.Package{ID: id, Minutes: 1000, Balance: balance, PurchasedAt: bought, End: end}
	}
	all := []billing.Package{
		pk("later-end", t0, end.AddDate(0, 1, 0), 10),
		pk("b", t0, end, 10),
		pk("a", t0, end, 10),
		pk("B", t0, end, 10), // byte order: "B" (0x42) before "a" (0x61), whatever a collation says
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
	order := func(when string, live, all []string) {
		t.Helper()
		view(t, s, "a", func(r billing.Reader) error {
			if diff := cmp.Diff(live, ids(r.LivePackages)); diff != "" {
				t.Errorf("LivePackages %s (-want +got):\n%s", when, diff)
			}
			if diff := cmp.Diff(all, ids(r.Packages)); diff != "" {
				t.Errorf("Packages %s (-want +got):\n%s", when, diff)
			}
			return nil
		})
	}
	order("after b was used up",
		[]string{"sooner-end", "earlier-purchase", "B", "a", "later-end"},
		[]string{"sooner-end", "earlier-purchase", "B", "a", "b", "spent", "later-end"})
	// A package put again with a later end moves to its new place; one put
	// again with only its balance changed stays where it is.
	err = s.Update(ctx, "a", func(tx billing.Tx) error {
		tx.PutAccount(next(tx))
		tx.PutPackage(pk("a", t0, end.AddDate(0, 2, 0), 10))
		tx.PutPackage(pk("later-end", t0, end.AddDate(0, 1, 0), 4))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	order("after a moved",
		[]string{"sooner-end", "earlier-purchase", "B", "later-end", "a"},
		[]string{"sooner-end", "earlier-purchase", "B", "b", "spent", "later-end", "a"})
}

func testEntriesByTime(t *testing.T, newStore NewStore) {
	for _, sorted := range []bool{true, false} {
		t.Run(fmt.Sprintf("sorted=%v", sorted), func(t *testing.T) {
			s := newStore(t)
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

func testCancellation(t *testing.T, newStore NewStore) {
	s := newStore(t)
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
	wantVersion(t, s, "a", 1, "after a cancelled unit of work")
}

// testNoLostUpdates runs read-modify-write units of work on one account from
// many goroutines: every one of them must count.
func testNoLostUpdates(t *testing.T, newStore NewStore) {
	s := newStore(t)
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
				err := update(s, id, func(tx billing.Tx) error {
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

// testManyEntries finds a period among thousands of entries.
func testManyEntries(t *testing.T, newStore NewStore) {
	s := newStore(t)
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

// testDaysInRange writes meters on days 0, 2 (two of them), 5 and 9, and
// asks for ranges that leave some out at either end.
func testDaysInRange(t *testing.T, newStore NewStore) {
	s := newStore(t)
	create(t, s, "a")
	d := func(n int) billing.Day { return day + billing.Day(n) }
	err := s.Update(ctx, "a", func(tx billing.Tx) error {
		tx.PutAccount(next(tx))
		for _, k := range []struct {
			n    int
			tier billing.Tier
		}{{5, billing.TierAudio}, {2, billing.TierHD}, {9, billing.TierAudio}, {0, billing.TierAudio}, {2, billing.TierAudio}} {
			tx.PutMeter(billing.Meter{Key: billing.MeterKey{Day: d(k.n), Service: billing.ServiceBasic, Tier: k.tier}, Seconds: 60, Prepaid: 1})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		from, to int
		want     []billing.Day
	}{
		{1, 5, []billing.Day{d(2), d(5)}}, // day 0 before, day 9 after; day 2 once
		{2, 9, []billing.Day{d(2), d(5), d(9)}},
		{0, 2, []billing.Day{d(0), d(2)}},
		{5, 5, []billing.Day{d(5)}},
		{3, 4, nil},
		{6, 8, nil},
		{9, 2, nil}, // from after to
	}
	view(t, s, "a", func(r billing.Reader) error {
		for _, tt := range tests {
			var got []billing.Day
			if err := r.Days(d(tt.from), d(tt.to), func(x billing.Day) bool { got = append(got, x); return true }); err != nil {
				t.Error(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Days(%d, %d) (-want +got):\n%s", tt.from, tt.to, diff)
			}
		}
		return nil
	})
}

// testBillsInRange writes bills of days 1, 2, 3 and 5 (out of order), asks
// for ranges that leave some out at either end, and writes a day's bill twice.
func testBillsInRange(t *testing.T, newStore NewStore) {
	s := newStore(t)
	create(t, s, "a")
	d := func(n int) billing.Day { return day + billing.Day(n) }
	lines := []billing.Line{{Day: d(1), Service: billing.ServiceBasic, Tier: billing.TierHD, Billed: 2, Amount: decimal.RequireFromString("0.00798")}}
	late := []billing.MeterKey{key(billing.TierHD)}
	err := s.Update(ctx, "a", func(tx billing.Tx) error {
		a := next(tx)
		a.Late = late
		tx.PutAccount(a)
		for _, n := range []int{3, 1, 5, 2} {
			tx.PutBill(billing.Bill{Account: "a", Day: d(n), Lines: lines, Total: decimal.NewFromInt(int64(n))})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	lines[0].Billed, late[0].Tier = 99, billing.TierFHD // the caller's slices change after the commit
	tests := []struct {
		from, to int
		want     []billing.Day
	}{
		{2, 3, []billing.Day{d(2), d(3)}}, // day 1 before, day 5 after
		{2, 4, []billing.Day{d(2), d(3)}},
		{0, 1, []billing.Day{d(1)}},
		{3, 9, []billing.Day{d(3), d(5)}},
		{4, 4, nil},
		{3, 1, nil}, // from after to
	}
	view(t, s, "a", func(r billing.Reader) error {
		for _, tt := range tests {
			var got []billing.Day
			err := r.Bills(d(tt.from), d(tt.to), func(b billing.Bill) bool {
				if !b.Total.Equal(decimal.NewFromInt(int64(b.Day - day))) {
					t.Errorf("Bills(%d, %d): the bill of %s has the total of another", tt.from, tt.to, b.Day)
				}
				got = append(got, b.Day)
				return true
			})
			if err != nil {
				t.Error(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Bills(%d, %d) (-want +got):\n%s", tt.from, tt.to, diff)
			}
		}
		b, err := r.Bill(d(3))
		if err != nil || b.Day != d(3) || len(b.Lines) != 1 || b.Lines[0].Billed != 2 {
			t.Errorf("Bill(3) = %+v, %v; want the bill as written", b, err)
		}
		if _, err := r.Bill(d(4)); !errors.Is(err, billing.ErrNotFound) {
			t.Errorf("Bill(4) error = %v, want ErrNotFound", err)
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

// testMetersOfADay writes meters of three services and four tiers on one
// day and the days around it, in no order, and reads the day's meters.
func testMetersOfADay(t *testing.T, newStore NewStore) {
	s := newStore(t)
	create(t, s, "a")
	services := []billing.Service{billing.ServiceRecording, billing.ServiceBasic, billing.ServiceMixTranscoding}
	tiers := []billing.Tier{billing.TierSD, billing.TierFHD, billing.TierAudio, billing.TierHD, "HD"}
	err := s.Update(ctx, "a", func(tx billing.Tx) error {
		tx.PutAccount(next(tx))
		for _, d := range []billing.Day{day + 1, day, day - 1} {
			for i, sv := range services {
				for j, tier := range tiers {
					n := int64(i*len(tiers) + j + 1)
					tx.PutMeter(billing.Meter{Key: billing.MeterKey{Day: d, Service: sv, Tier: tier}, Seconds: 60 * n, Postpaid: n})
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// By Service, then Tier, byte by byte ("HD" before "audio").
	var want []billing.MeterKey
	for _, sv := range []billing.Service{billing.ServiceBasic, billing.ServiceMixTranscoding, billing.ServiceRecording} {
		for _, tier := range []billing.Tier{"HD", billing.TierAudio, billing.TierFHD, billing.TierHD, billing.TierSD} {
			want = append(want, billing.MeterKey{Day: day, Service: sv, Tier: tier})
		}
	}
	view(t, s, "a", func(r billing.Reader) error {
		var got []billing.MeterKey
		err := r.Meters(day, func(m billing.Meter) bool {
			if m.Postpaid == 0 || m.Seconds != 60*m.Postpaid {
				t.Errorf("meter %v read back as %+v", m.Key, m)
			}
			got = append(got, m.Key)
			return true
		})
		if err != nil {
			t.Error(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Meters(day) (-want +got):\n%s", diff)
		}
		return nil
	})
}

// testIDsAreBytes stores usages, purchases, packages and accounts whose
// ids differ only in case, in a space at either end, or in Unicode
// normalization form (é as one code point or as e and a combining
// accent), each in a unit of work of its own, and reads each back as its
// own record: a Store that folds case (a case-insensitive collation),
// trims, or normalizes ids loses usage.
func testIDsAreBytes(t *testing.T, newStore NewStore) {
	ids := []string{"u1", "U1", "u1 ", " u1", "caf\u00e9", "cafe\u0301"}
	s := newStore(t)
	for _, acct := range ids {
		create(t, s, "acct-"+acct)
	}
	create(t, s, "a")
	for i, id := range ids {
		n := int64(i + 1)
		err := s.Update(ctx, "a", func(tx billing.Tx) error {
			tx.PutAccount(next(tx))
			tx.PutUsage(billing.UsageRecord{Usage: billing.Usage{ID: id, Account: "a", Seconds: n}})
			tx.PutPurchase(billing.PurchaseRecord{Purchase: billing.Purchase{ID: id, Account: "a", Minutes: n}})
			tx.PutPackage(billing.Package{ID: id, Minutes: 10, Balance: n, End: t0})
			return nil
		})
		if err != nil {
			t.Fatalf("usage, purchase and package %q: %v; ids that differ in any byte are different ids", id, err)
		}
		err = s.Update(ctx, "acct-"+id, func(tx billing.Tx) error {
			a := next(tx)
			a.LastSeq = n
			tx.PutAccount(a)
			return nil
		})
		if err != nil {
			t.Fatalf("account %q: %v", "acct-"+id, err)
		}
	}
	view(t, s, "a", func(r billing.Reader) error {
		packages := map[string]int64{}
		if err := r.Packages(func(p billing.Package) bool { packages[p.ID] = p.Balance; return true }); err != nil {
			t.Error(err)
		}
		for i, id := range ids {
			n := int64(i + 1)
			if u, err := r.Usage(id); err != nil || u.Usage.ID != id || u.Usage.Seconds != n {
				t.Errorf("Usage(%q) = %q with %d seconds, %v; want its own record (%d seconds)", id, u.Usage.ID, u.Usage.Seconds, err, n)
			}
			if p, err := r.Purchase(id); err != nil || p.Purchase.ID != id || p.Purchase.Minutes != n {
				t.Errorf("Purchase(%q) = %q of %d minutes, %v; want its own record (%d minutes)", id, p.Purchase.ID, p.Purchase.Minutes, err, n)
			}
			if packages[id] != n {
				t.Errorf("package %q has balance %d, want %d", id, packages[id], n)
			}
		}
		if len(packages) != len(ids) {
			t.Errorf("Packages: %d packages %v, want %d", len(packages), packages, len(ids))
		}
		return nil
	})
	for i, id := range ids {
		view(t, s, "acct-"+id, func(r billing.Reader) error {
			if a, err := r.Account(); err != nil || a.ID != "acct-"+id || a.LastSeq != int64(i+1) || a.Version != 2 {
				t.Errorf("Account(%q) = %q, LastSeq %d, version %d, %v; want its own record", "acct-"+id, a.ID, a.LastSeq, a.Version, err)
			}
			return nil
		})
	}
}

// testStop checks that every method that calls fn for each record stops
// as soon as fn returns false.
func testStop(t *testing.T, newStore NewStore) {
	s := newStore(t)
	create(t, s, "a")
	err := s.Update(ctx, "a", func(tx billing.Tx) error {
		tx.PutAccount(next(tx))
		for i := range 3 { // three of each: meters of day, days with meters, packages, entries, bills
			d := day + billing.Day(i)
			tx.PutMeter(billing.Meter{Key: billing.MeterKey{Day: day, Service: billing.ServiceRecording, Tier: []billing.Tier{"a", "b", "c"}[i]}})
			if i > 0 {
				tx.PutMeter(billing.Meter{Key: billing.MeterKey{Day: d, Service: billing.ServiceBasic, Tier: billing.TierAudio}})
			}
			tx.PutPackage(billing.Package{ID: fmt.Sprint("p", i), Minutes: 10, Balance: 10, End: t0.Add(time.Duration(i) * time.Hour)})
			tx.AppendEntry(billing.Entry{Seq: int64(i + 1), At: t0.Add(time.Duration(i) * time.Minute)})
			tx.PutBill(billing.Bill{Account: "a", Day: d})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	each := map[string]func(r billing.Reader, more func() bool) error{
		"Meters": func(r billing.Reader, more func() bool) error {
			return r.Meters(day, func(billing.Meter) bool { return more() })
		},
		"LivePackages": func(r billing.Reader, more func() bool) error {
			return r.LivePackages(func(billing.Package) bool { return more() })
		},
		"Packages": func(r billing.Reader, more func() bool) error {
			return r.Packages(func(billing.Package) bool { return more() })
		},
		"Entries": func(r billing.Reader, more func() bool) error {
			return r.Entries(time.Time{}, time.Time{}, func(billing.Entry) bool { return more() })
		},
		"Days": func(r billing.Reader, more func() bool) error {
			return r.Days(day, day+2, func(billing.Day) bool { return more() })
		},
		"Bills": func(r billing.Reader, more func() bool) error {
			return r.Bills(day, day+2, func(billing.Bill) bool { return more() })
		},
	}
	for name, call := range each {
		for _, stopAt := range []int{1, 2, 4} { // of 3 records: stop at the first, the second, never
			view(t, s, "a", func(r billing.Reader) error {
				calls := 0
				err := call(r, func() bool { calls++; return calls < stopAt })
				if want := min(stopAt, 3); err != nil || calls != want {
					t.Errorf("%s with fn false at call %d: %d calls, %v; want %d", name, stopAt, calls, err, want)
				}
				return nil
			})
		}
	}
}

// testAccountsApart checks that one account's records never show in another's.
func testAccountsApart(t *testing.T, newStore NewStore) {
	s := newStore(t)
	create(t, s, "a")
	create(t, s, "b")
	err := s.Update(ctx, "a", func(tx billing.Tx) error {
		tx.PutAccount(next(tx))
		tx.PutPackage(billing.Package{ID: "p1", Minutes: 10, Balance: 10, End: t0})
		tx.PutMeter(billing.Meter{Key: key(billing.TierAudio), Seconds: 60, Postpaid: 1})
		tx.PutUsage(billing.UsageRecord{Usage: billing.Usage{ID: "u1"}})
		tx.PutPurchase(billing.PurchaseRecord{Purchase: billing.Purchase{ID: "p1"}})
		tx.AppendEntry(billing.Entry{Seq: 1, At: t0})
		tx.PutBill(billing.Bill{Account: "a", Day: day})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	view(t, s, "b", func(r billing.Reader) error {
		none := func(what string, n int) {
			if n != 0 {
				t.Errorf("account b sees %d %s of account a", n, what)
			}
		}
		var n int
		_ = r.LivePackages(func(billing.Package) bool { n++; return true })
		_ = r.Packages(func(billing.Package) bool { n++; return true })
		none("packages", n)
		n = 0
		_ = r.Meters(day, func(billing.Meter) bool { n++; return true })
		_ = r.Days(0, 1<<30, func(billing.Day) bool { n++; return true })
		none("meters", n)
		n = 0
		_ = r.Entries(time.Time{}, time.Time{}, func(billing.Entry) bool { n++; return true })
		none("ledger entries", n)
		n = 0
		_ = r.Bills(0, 1<<30, func(billing.Bill) bool { n++; return true })
		none("bills", n)
		if _, err := r.Usage("u1"); !errors.Is(err, billing.ErrNotFound) {
			t.Errorf("account b: Usage(u1) error = %v, want ErrNotFound", err)
		}
		if _, err := r.Purchase("p1"); !errors.Is(err, billing.ErrNotFound) {
			t.Errorf("account b: Purchase(p1) error = %v, want ErrNotFound", err)
		}
		if _, err := r.Bill(day); !errors.Is(err, billing.ErrNotFound) {
			t.Errorf("account b: Bill error = %v, want ErrNotFound", err)
		}
		return nil
	})
	// The same keys in account b are b's own.
	err = s.Update(ctx, "b", func(tx billing.Tx) error {
		tx.PutAccount(next(tx))
		tx.PutUsage(billing.UsageRecord{Usage: billing.Usage{ID: "u1"}})
		tx.AppendEntry(billing.Entry{Seq: 1, At: t0})
		tx.PutBill(billing.Bill{Account: "b", Day: day})
		return nil
	})
	if err != nil {
		t.Errorf("account b's usage u1, entry 1 and bill: %v; they are not account a's", err)
	}
	view(t, s, "nobody", func(r billing.Reader) error {
		if _, err := r.Account(); !errors.Is(err, billing.ErrNotFound) {
			t.Errorf("View of an account that does not exist: Account() error = %v, want ErrNotFound", err)
		}
		return nil
	})
}

var errRollBack = errors.New("billingtest: roll back")

// testPrefetch checks, for a Store whose Tx implements billing.Prefetcher,
// that reads after Prefetch return what they would have without it: stored
// records, not-found for the rest, and never the unit's own writes.
func testPrefetch(t *testing.T, newStore NewStore) {
	s := newStore(t)
	create(t, s, "a")
	stored := billing.Meter{Key: key(billing.TierHD), Seconds: 60, Postpaid: 1}
	err := s.Update(ctx, "a", func(tx billing.Tx) error {
		tx.PutAccount(next(tx))
		tx.PutUsage(billing.UsageRecord{Usage: billing.Usage{ID: "u1", Account: "a", Seconds: 60},
			Receipt: billing.Receipt{Draws: []billing.Draw{{Package: "p1", Minutes: 1, Deducted: 4}}}})
		tx.PutMeter(stored)
		for i := range 20 { // more than one page of live packages
			tx.PutPackage(billing.Package{ID: fmt.Sprintf("p%02d", i), Minutes: 10, Balance: 10, PurchasedAt: t0, End: t0.Add(time.Duration(i) * time.Hour)})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, "a", func(tx billing.Tx) error {
		p, ok := tx.(billing.Prefetcher)
		if !ok {
			t.Skip("the Store's Tx is not a billing.Prefetcher")
		}
		tx.PutUsage(billing.UsageRecord{Usage: billing.Usage{ID: "u2"}})
		tx.PutMeter(billing.Meter{Key: key(billing.TierSD), Seconds: 1, Postpaid: 1})
		if err := p.Prefetch([]string{"u1", "u2", "u3"}, []billing.MeterKey{key(billing.TierHD), key(billing.TierSD)}); err != nil {
			return err
		}
		u, err := tx.Usage("u1")
		if err != nil || u.Usage.Seconds != 60 || len(u.Receipt.Draws) != 1 {
			t.Errorf("Usage(u1) after Prefetch = %+v, %v; want the stored record", u, err)
		}
		for _, id := range []string{"u2", "u3"} {
			if _, err := tx.Usage(id); !errors.Is(err, billing.ErrNotFound) {
				t.Errorf("Usage(%s) after Prefetch: error %v, want ErrNotFound (not stored before the unit)", id, err)
			}
		}
		if m, err := tx.Meter(stored.Key); err != nil || m != stored {
			t.Errorf("Meter(hd) after Prefetch = %+v, %v; want %+v", m, err, stored)
		}
		if m, err := tx.Meter(key(billing.TierSD)); err != nil || m != (billing.Meter{Key: key(billing.TierSD)}) {
			t.Errorf("Meter(sd) after Prefetch = %+v, %v; want a zero meter", m, err)
		}
		n := 0
		err = tx.LivePackages(func(p billing.Package) bool {
			if want := fmt.Sprintf("p%02d", n); p.ID != want {
				t.Errorf("live package %d is %s, want %s", n, p.ID, want)
			}
			n++
			return true
		})
		if err != nil || n != 20 {
			t.Errorf("LivePackages after Prefetch: %d packages, %v; want 20", n, err)
		}
		return errRollBack
	})
	if !errors.Is(err, errRollBack) {
		t.Errorf("Update() = %v, want fn's error", err)
	}
}

// testAccountsInParallel checks that a unit of work on one account does not
// wait for a unit of work on another.
func testAccountsInParallel(t *testing.T, newStore NewStore) {
	s := newStore(t)
	create(t, s, "a")
	create(t, s, "b")
	inside, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Update(ctx, "a", func(tx billing.Tx) error {
			close(inside)
			<-release
			tx.PutAccount(next(tx))
			return nil
		})
	}()
	<-inside
	other := make(chan error, 1)
	go func() {
		other <- s.Update(ctx, "b", func(tx billing.Tx) error { tx.PutAccount(next(tx)); return nil })
	}()
	select {
	case err := <-other:
		if err != nil {
			t.Errorf("Update(b) while a unit of work on a runs: %v", err)
		}
		close(release)
	case <-time.After(10 * time.Second):
		t.Errorf("Update(b) waited 10 s for a unit of work on account a")
		close(release)
		<-other
	}
	if err := <-done; err != nil {
		t.Errorf("Update(a): %v", err)
	}
}

// testCreationRace creates one account from many goroutines at once: one
// creation commits, the others find the account (after a conflict, retried).
func testCreationRace(t *testing.T, newStore NewStore) {
	s := newStore(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := update(s, "a", func(tx billing.Tx) error {
				if _, err := tx.Account(); err == nil {
					return nil // someone else created it
				}
				tx.PutAccount(billing.Account{ID: "a", Currency: "USD", Opened: t0, Version: 1, LastSeq: int64(g)})
				return nil
			})
			if err != nil {
				t.Errorf("goroutine %d: %v", g, err)
			}
		}()
	}
	wg.Wait()
	view(t, s, "a", func(r billing.Reader) error {
		a, err := r.Account()
		if err != nil || a.Version != 1 {
			t.Errorf("Account() = %+v, %v; want the account at version 1", a, err)
		}
		return nil
	})
}

// testCancelWhileWaiting cancels a unit of work while another holds its
// account: whenever it gets to run, it commits nothing and returns the
// context's error.
func testCancelWhileWaiting(t *testing.T, newStore NewStore) {
	s := newStore(t)
	create(t, s, "a")
	inside, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Update(ctx, "a", func(tx billing.Tx) error {
			close(inside)
			<-release
			return errRollBack
		})
	}()
	<-inside
	c, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	waiting := make(chan error, 1)
	go func() {
		waiting <- s.Update(c, "a", func(tx billing.Tx) error {
			tx.PutAccount(next(tx))
			return nil
		})
	}()
	time.Sleep(200 * time.Millisecond) // past the deadline, still waiting (or already returned)
	close(release)
	if err := <-done; !errors.Is(err, errRollBack) {
		t.Errorf("the first unit of work: %v, want its own error", err)
	}
	if err := <-waiting; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the cancelled unit of work: %v, want an error wrapping context.DeadlineExceeded", err)
	}
	wantVersion(t, s, "a", 1, "after a unit of work cancelled while it waited")
}

// testReadModifyWrite runs 300 units of work that each read a meter or the
// first live package, change it and write it back, as the Engine does,
// among units that add meters and packages next to them (a meter of the
// same day that sorts before, a package that is deducted first); a meter
// written in one of the two units before comes back often. After
// each unit, every meter and package must read back as a plain map of
// what was written says.
func testReadModifyWrite(t *testing.T, newStore NewStore) {
	s := newStore(t)
	create(t, s, "a")
	var keys []billing.MeterKey
	for d := range 3 {
		for _, sv := range []billing.Service{billing.ServiceBasic, billing.ServiceRecording} {
			for _, tier := range []billing.Tier{billing.TierFHD, billing.TierHD, billing.TierSD, billing.TierAudio} {
				keys = append(keys, billing.MeterKey{Day: day + billing.Day(d), Service: sv, Tier: tier})
			}
		}
	}
	meters := map[billing.MeterKey]billing.Meter{}
	recent := [2]billing.MeterKey{keys[0], keys[1]}
	packages := map[string]billing.Package{}
	end := t0.AddDate(1, 0, 0)
	rnd := rand.New(rand.NewPCG(1, 2))
	// The first units write HD, HD again, then each other tier of the day
	// (each sorts before HD or after it) followed by HD once more.
	first := []billing.MeterKey{keys[1], keys[1], keys[3], keys[1], keys[2], keys[1], keys[0], keys[1]}
	for i := range 300 {
		err := s.Update(ctx, "a", func(tx billing.Tx) error {
			tx.PutAccount(next(tx))
			op := rnd.IntN(10)
			if i < len(first) {
				op = 0
			}
			switch {
			case op < 4: // a meter read, changed and written back: half the time one of the last two written
				k := keys[rnd.IntN(len(keys))]
				if rnd.IntN(2) == 0 {
					k = recent[rnd.IntN(2)]
				}
				if i < len(first) {
					k = first[i]
				}
				recent[0], recent[1] = recent[1], k
				m, err := tx.Meter(k)
				if err != nil {
					return err
				}
				m.Seconds += int64(i + 1)
				m.Prepaid++
				tx.PutMeter(m)
				meters[k] = m
			case op < 8: // the first live package drawn from
				var p billing.Package
				found := false
				if err := tx.LivePackages(func(q billing.Package) bool { p, found = q, true; return false }); err != nil {
					return err
				}
				if !found {
					return nil
				}
				p.Balance--
				tx.PutPackage(p)
				packages[p.ID] = p
			default: // a new package, deducted before the others half the time
				pEnd := end.Add(time.Duration(rnd.IntN(1000)) * time.Hour)
				if rnd.IntN(2) == 0 {
					pEnd = t0.Add(time.Duration(i+1) * time.Minute)
				}
				p := billing.Package{ID: fmt.Sprint("p", i), Minutes: 5, Balance: 1 + int64(rnd.IntN(5)), PurchasedAt: t0, End: pEnd}
				tx.PutPackage(p)
				packages[p.ID] = p
			}
			return nil
		})
		if err != nil {
			t.Fatalf("unit %d: %v", i, err)
		}
		view(t, s, "a", func(r billing.Reader) error {
			for _, k := range keys {
				want := meters[k]
				want.Key = k
				if got, err := r.Meter(k); err != nil || got != want {
					t.Fatalf("after unit %d: Meter(%v) = %+v, %v; want %+v", i, k, got, err, want)
				}
			}
			got := map[billing.MeterKey]billing.Meter{}
			for d := range 3 {
				if err := r.Meters(day+billing.Day(d), func(m billing.Meter) bool { got[m.Key] = m; return true }); err != nil {
					return err
				}
			}
			if diff := cmp.Diff(meters, got); diff != "" {
				t.Fatalf("after unit %d: Meters (-want +got):\n%s", i, diff)
			}
			gotP := map[string]billing.Package{}
			if err := r.Packages(func(p billing.Package) bool { gotP[p.ID] = p; return true }); err != nil {
				return err
			}
			if diff := cmp.Diff(packages, gotP); diff != "" {
				t.Fatalf("after unit %d: Packages (-want +got):\n%s", i, diff)
			}
			return nil
		})
	}
}
