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
	"maps"
	"math"
	"math/rand/v2"
	"slices"
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
		{"RepeatedKeys", testRepeatedKeys},
		{"RepeatedRecords", testRepeatedRecords},
		{"SeqsIncrease", testSeqsIncrease},
		{"ChangesWithoutAccount", testChangesWithoutAccount},
		{"EmptyChanges", testEmptyChanges},
		{"SnapshotReads", testSnapshotReads},
		{"NoAliasing", testNoAliasing},
		{"PackagesInDeductionOrder", testPackagesInDeductionOrder},
		{"EntriesByTime", testEntriesByTime},
		{"UsagesInOrder", testUsagesInOrder},
		{"CheckpointsInOrder", testCheckpointsInOrder},
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
		{"AccountsListed", testAccountsListed},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newStore) })
	}
}

var (
	t0  = time.Date(2021, 3, 15, 9, 0, 0, 0, time.UTC)
	day = billing.Day(t0.Unix() / (24 * 60 * 60)) // 2021-03-15
	ctx = context.Background()
)

// unit is a unit of work: it reads, and returns what it writes.
type unit = func(billing.Reader) (billing.Changes, error)

// update runs fn as a unit of work on account id, again while the Store
// reports a conflict, as the Engine does (up to 1,000 times).
func update(s billing.Store, id string, fn unit) error {
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

// next returns the stored account with its Version one higher, for the
// Changes of a unit of work.
func next(r billing.Reader) *billing.Account {
	a, _ := r.Account()
	a.Version++
	return &a
}

// write applies c to account id in a unit of work of its own, with the
// account at its next Version unless c holds the Account.
func write(t testing.TB, s billing.Store, id string, c billing.Changes) {
	t.Helper()
	err := s.Update(ctx, id, func(r billing.Reader) (billing.Changes, error) {
		out := c
		if out.Account == nil {
			out.Account = next(r)
		}
		return out, nil
	})
	if err != nil {
		t.Fatalf("Update(%s): %v", id, err)
	}
}

// create stores account id at version 1.
func create(t testing.TB, s billing.Store, id string) {
	t.Helper()
	write(t, s, id, billing.Changes{Account: &billing.Account{ID: id, Currency: "USD", Opened: t0, Version: 1}})
}

// wantVersion checks the stored Version of account id.
func wantVersion(t testing.TB, s billing.Store, id string, want int64, when string) {
	t.Helper()
	view(t, s, id, func(r billing.Reader) error {
		if a, err := r.Account(); err != nil || a.Version != want {
			t.Errorf("account %s %s: version %d (%v), want %d", id, when, a.Version, err, want)
		}
		return nil
	})
}

func view(t testing.TB, s billing.Store, id string, fn func(billing.Reader) error) {
	t.Helper()
	if err := s.View(ctx, id, fn); err != nil {
		t.Fatalf("View(%s): %v", id, err)
	}
}

// contents is what a Reader shows of one account: the account (nil if not
// found), every package, every meter (by day, then as Meters lists them),
// the usage and purchase records of the ids asked for that are stored,
// every ledger entry and every bill.
type contents struct {
	Account     *billing.Account
	Packages    []billing.Package
	Meters      []billing.Meter
	Usages      []billing.UsageRecord
	Purchases   []billing.PurchaseRecord
	Entries     []billing.Entry
	Bills       []billing.Bill
	Checkpoints []billing.Checkpoint
}

// readAll reads the contents of the account r reads, with the usage and
// purchase records of ids.
func readAll(r billing.Reader, ids ...string) (contents, error) {
	var c contents
	a, err := r.Account()
	switch {
	case err == nil:
		c.Account = &a
	case !errors.Is(err, billing.ErrNotFound):
		return c, err
	}
	if err := r.Packages(func(p billing.Package) bool { c.Packages = append(c.Packages, p); return true }); err != nil {
		return c, err
	}
	var days []billing.Day
	if err := r.Days(0, 1<<30, func(d billing.Day) bool { days = append(days, d); return true }); err != nil {
		return c, err
	}
	for _, d := range days {
		if err := r.Meters(d, func(m billing.Meter) bool { c.Meters = append(c.Meters, m); return true }); err != nil {
			return c, err
		}
	}
	for _, id := range ids {
		switch u, err := r.Usage(id); {
		case err == nil:
			c.Usages = append(c.Usages, u)
		case !errors.Is(err, billing.ErrNotFound):
			return c, err
		}
		switch p, err := r.Purchase(id); {
		case err == nil:
			c.Purchases = append(c.Purchases, p)
		case !errors.Is(err, billing.ErrNotFound):
			return c, err
		}
	}
	if err := r.Entries(time.Time{}, time.Time{}, func(e billing.Entry) bool { c.Entries = append(c.Entries, e); return true }); err != nil {
		return c, err
	}
	if err := r.Bills(0, 1<<30, func(b billing.Bill) bool { c.Bills = append(c.Bills, b); return true }); err != nil {
		return c, err
	}
	err = r.Checkpoints(billing.OpKey{}, func(k billing.Checkpoint) bool { c.Checkpoints = append(c.Checkpoints, k); return true })
	return c, err
}

// dump returns the contents of account id in a View, with the usage and
// purchase records of ids.
func dump(t testing.TB, s billing.Store, id string, ids ...string) contents {
	t.Helper()
	var c contents
	view(t, s, id, func(r billing.Reader) error {
		var err error
		c, err = readAll(r, ids...)
		return err
	})
	return c
}

// unchanged checks that account id reads as before, with the usage and
// purchase records of ids.
func unchanged(t testing.TB, s billing.Store, id string, before contents, ids []string, after string) {
	t.Helper()
	if diff := cmp.Diff(before, dump(t, s, id, ids...), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("account %s after %s (-before +after):\n%s", id, after, diff)
	}
}

// testReadBack writes every kind of record, with values that lossy storage
// would change (nanoseconds, a zone other than UTC, zero times, decimals with
// many digits, large integers, Unicode), and reads them back. Meter keys,
// bill lines and absorptions name an application or none, packages are
// First or bound to an application and carry their currency.
func testReadBack(t *testing.T, newStore NewStore) {
	s := newStore(t)
	zone := time.FixedZone("UTC+8", 8*3600)
	nano := time.Date(2021, 3, 15, 23, 59, 59, 999_999_999, zone)
	money := decimal.RequireFromString("123456789012345678.00000001")
	appKey := key(billing.TierHD)
	appKey.App = "app-ü"
	a := billing.Account{
		ID: "acct-ü-日本", Currency: "CNY", Opened: nano, Version: 1, Touched: nano.Add(time.Nanosecond), LastSeq: 7,
		Postpaid:          billing.Postpaid{On: true, Since: nano, Way: billing.PostpaidAutomatic},
		AutoPostpaidArmed: true, SettledThrough: day - 1, GrantsThrough: day + 3, Cycle: billing.Monthly,
		Late: []billing.MeterKey{key(billing.TierHD), {Day: day - 3, Service: billing.ServiceRecording, Tier: billing.TierAudio},
			appKey},
		Unbilled: []billing.MeterKey{{Day: day - 2, Service: billing.ServiceBasic, Tier: billing.TierFHD, App: "app-日本"},
			{Day: day - 2, Service: billing.ServiceBasic, Tier: billing.TierFHD}},
		Frontier: billing.OpKey{At: nano, Class: billing.ClassCall, ID: "p-ü"}, SinceCheckpoint: 63, EnabledAt: nano.Add(-time.Nanosecond),
		Apps: []billing.App{
			{ID: "app-ü", Created: nano, Postpaid: billing.Postpaid{On: true, Since: nano, Way: billing.PostpaidAtCreation},
				Suspensions: []billing.Interval{{Since: nano.Add(-time.Hour), Until: nano.Add(-time.Minute)}, {Since: nano.Add(-time.Second)}},
				EnabledAt:   nano.Add(time.Nanosecond), Disabled: []billing.Interval{{Since: nano, Until: nano.Add(time.Hour)}, {Since: nano.Add(2 * time.Hour)}}},
			{ID: billing.LegacyApp, Created: nano.Add(-time.Nanosecond), // zero times read back as zero
				Status: billing.Status{Suspended: true, Since: nano.Add(time.Second), Reason: "why-日本"}},
		},
		Arrears: []billing.Arrears{{Refs: []string{"bill-ü", "bill-2"}, Since: nano.Add(-time.Hour), Paid: nano.Add(-time.Nanosecond),
			Reclaim: t0.AddDate(0, 2, 0)}, {Refs: []string{"bill-日本"}, Since: nano, Reclaim: nano.AddDate(0, 0, 61)}},
		Refunds: []billing.PackageRefund{{ID: "r-ü", Package: "p1", At: nano.Add(time.Nanosecond), Full: true, Minutes: 1_000_000_000_000,
			Consumed: 3, UnitPrice: decimal.RequireFromString("0.00562934"), Discount: decimal.RequireFromString("0.12345678"),
			Used: decimal.Zero, Amount: money}},
	}
	p := billing.Package{ID: "p1", Kind: "universal", Book: "era1-usd", Minutes: 1_000_000_000_000, Balance: 999_999_999_996, Forfeited: 3,
		Currency: a.Currency, Price: money, PurchasedAt: nano, Start: t0.Add(-9 * time.Hour), End: t0.AddDate(1, 0, 0), App: "app-ü", First: true}
	u := billing.UsageRecord{
		Usage: billing.Usage{ID: "u1", Account: a.ID, App: "app", Service: billing.ServiceBasic, Scenario: billing.VideoCall,
			Tier: billing.TierHD, Seconds: billing.MaxUsageSeconds, At: nano},
		Receipt: billing.Receipt{Key: appKey, Minutes: 2, Draws: []billing.Draw{{Package: "p1", Minutes: 1, Deducted: 4}},
			Postpaid: 1, PostpaidOn: true, WhileSuspended: true, NoBasicService: true, Late: true, InArrears: true, AppDisabled: true},
	}
	pr := billing.PurchaseRecord{Purchase: billing.Purchase{ID: "p1", Account: a.ID, Kind: "universal", Minutes: 1_000_000_000_000, App: "app-ü"},
		Receipt: billing.PurchaseReceipt{Package: p, Day: day, Absorbed: []billing.Absorption{{Tier: billing.TierHD, Shortfall: 2, Postpaid: 1, Deducted: 12},
			{Tier: billing.TierHD, App: "app-ü", Postpaid: 3, Deducted: 12}}, Resumed: true}}
	m := billing.Meter{Key: appKey, Seconds: 1 << 59, Postpaid: (1<<59 + 59) / 60,
		Settled: billing.Tally{Seconds: 61, Postpaid: 2, Shortfall: 3}, Unbilled: 3,
		Latest: math.MaxInt32, EarlierPostpaid: 1 << 58, EarlierShortfall: 1}
	e := billing.Entry{Seq: 1, At: nano, Kind: billing.EntryPurchase, Request: billing.RequestBuy, Ref: "p1", Package: "p1",
		Balance: 1_000_000_000_000, Key: appKey, Minutes: -3, App: "app", Scenario: billing.VideoCall, Amount: money}
	b := billing.Bill{Account: a.ID, Day: day - 1, Through: day + 29, Currency: "CNY", Issued: nano, PostpaidOn: true,
		Lines: []billing.Line{{Day: day - 2, Service: billing.ServiceMixTranscoding, Tier: billing.TierSD, Adjustment: true,
			Seconds: 1830, Minutes: 31, Postpaid: 31, Deferred: 7, Billed: 31, UnitPrice: decimal.RequireFromString("0.00228571"),
			Amount: decimal.RequireFromString("0.07085701")},
			{Day: day - 1, Service: billing.ServiceBasic, Tier: billing.TierHD, App: "app-日本", Seconds: 60, Minutes: 1, Prepaid: 1}},
		Subtotal: decimal.RequireFromString("0.07085701"), Total: decimal.RequireFromString("0.07")}
	cp := billing.Checkpoint{Key: billing.OpKey{At: nano, Class: billing.ClassCheckpoint, ID: "u-日本"},
		Postpaid: billing.Postpaid{On: true, Since: nano.Add(-time.Nanosecond), Way: billing.PostpaidEnabled},
		Armed:    true, Apps: []billing.AppState{{Status: billing.Status{Suspended: true, Since: nano, Reason: "why"}, Suspensions: 2},
			{Postpaid: billing.Postpaid{On: true, Since: nano, Way: billing.PostpaidAtCreation}}},
		Balances: []billing.Balance{{Package: "p1", Balance: 999_999_999_996}, {Package: "trial", Balance: 1}},
		Meters: []billing.Meter{{Key: key(billing.TierHD), Seconds: 1 << 59, Prepaid: 1, Postpaid: (1<<59+59)/60 - 1,
			Latest: 30, EarlierPostpaid: 7, EarlierShortfall: 1 << 40}, {Key: appKey, Seconds: 61, Shortfall: 2}},
		Usages: []string{"u2", "u-日本", "u1"}} // not in byte order: kept as written
	zeroCp := billing.Checkpoint{Key: billing.OpKey{At: nano, Class: billing.ClassUsage}} // zero times, no slices
	written := a
	err := s.Update(ctx, a.ID, func(billing.Reader) (billing.Changes, error) {
		return billing.Changes{Account: &written, Packages: []billing.Package{p}, Meters: []billing.Meter{m},
			Usages: []billing.UsageRecord{u}, Purchases: []billing.PurchaseRecord{pr}, Entries: []billing.Entry{e}, Bills: []billing.Bill{b},
			Checkpoints: []billing.Checkpoint{zeroCp, cp}}, nil
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
		var live, all []billing.Package
		err = r.LivePackages(func(p billing.Package) bool { live = append(live, p); return true })
		check("LivePackages", []billing.Package{p}, live, err)
		err = r.Packages(func(p billing.Package) bool { all = append(all, p); return true })
		check("Packages", []billing.Package{p}, all, err)
		var entries []billing.Entry
		err = r.Entries(time.Time{}, time.Time{}, func(e billing.Entry) bool { entries = append(entries, e); return true })
		check("Entries", []billing.Entry{e}, entries, err)
		var cps []billing.Checkpoint
		err = r.Checkpoints(billing.OpKey{}, func(c billing.Checkpoint) bool { cps = append(cps, c); return true })
		check("Checkpoints", []billing.Checkpoint{cp, zeroCp}, cps, err)
		// Equal decimals may differ in exponent; the digits must not.
		digits := map[string]decimal.Decimal{"Purchase's Package.Price": gotP.Receipt.Package.Price}
		if len(entries) > 0 {
			digits["Entry.Amount"] = entries[0].Amount
		}
		if len(live) > 0 {
			digits["Package.Price"] = live[0].Price
		}
		for what, got := range digits {
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
		// m's key without its application is another meter, never written.
		if got, err := r.Meter(key(billing.TierHD)); err != nil || got != (billing.Meter{Key: key(billing.TierHD)}) {
			t.Errorf("Meter(%v, without m's application) = %+v, %v; want a zero meter with its key", key(billing.TierHD), got, err)
		}
		return nil
	})
}

// testAtomicity checks that a unit of work whose fn fails writes nothing
// and returns fn's error unchanged, and that Changes refused for one
// record (a stored usage id, listed after a new one) write none of the
// others.
func testAtomicity(t *testing.T, newStore NewStore) {
	s := newStore(t)
	boom := errors.New("boom")
	err := s.Update(ctx, "a", func(billing.Reader) (billing.Changes, error) {
		return billing.Changes{
			Account: &billing.Account{ID: "a", Version: 1},
			Meters:  []billing.Meter{{Key: key(billing.TierAudio), Seconds: 60, Prepaid: 1}},
		}, boom
	})
	if err != boom {
		t.Errorf("Update() = %v, want fn's error unchanged", err)
	}
	unchanged(t, s, "a", contents{}, nil, "a failed creation")

	create(t, s, "a")
	write(t, s, "a", billing.Changes{Usages: []billing.UsageRecord{{Usage: billing.Usage{ID: "u1"}}}})
	ids := []string{"u1", "u2", "p1"}
	before := dump(t, s, "a", ids...)
	err = s.Update(ctx, "a", func(r billing.Reader) (billing.Changes, error) {
		return billing.Changes{
			Account:   next(r),
			Packages:  []billing.Package{{ID: "p1", Minutes: 10, Balance: 10, End: t0}},
			Meters:    []billing.Meter{{Key: key(billing.TierAudio), Seconds: 60, Prepaid: 1}},
			Usages:    []billing.UsageRecord{{Usage: billing.Usage{ID: "u2"}}, {Usage: billing.Usage{ID: "u1"}}},
			Purchases: []billing.PurchaseRecord{{Purchase: billing.Purchase{ID: "p1"}}},
			Entries:   []billing.Entry{{Seq: 1, At: t0}},
			Bills:     []billing.Bill{{Account: "a", Day: day}},
		}, nil
	})
	if !errors.Is(err, billing.ErrExists) {
		t.Errorf("Update(a stored usage id) = %v, want ErrExists", err)
	}
	unchanged(t, s, "a", before, ids, "Changes refused for one usage id")
}

// testUniqueKeysAndVersions checks that Changes holding a usage id, a
// purchase id, a Seq or a bill's Day already stored, or the Account at a
// Version other than the stored one plus one, are refused with ErrExists or
// ErrConflict, and that nothing of them is written.
func testUniqueKeysAndVersions(t *testing.T, newStore NewStore) {
	tests := []struct {
		name    string
		account string // "a" if empty: stored at version 2, with usage u1, purchase p1, Seq 1 and the bill of day
		changes func(r billing.Reader) billing.Changes
		want    error
	}{
		{name: "a stored usage id", changes: func(r billing.Reader) billing.Changes {
			return billing.Changes{Account: next(r), Usages: []billing.UsageRecord{{Usage: billing.Usage{ID: "u1"}}}}
		}, want: billing.ErrExists},
		{name: "a stored usage id after a new one", changes: func(r billing.Reader) billing.Changes {
			return billing.Changes{Account: next(r), Usages: []billing.UsageRecord{{Usage: billing.Usage{ID: "u2"}}, {Usage: billing.Usage{ID: "u1"}}}}
		}, want: billing.ErrExists},
		{name: "a stored purchase id", changes: func(r billing.Reader) billing.Changes {
			return billing.Changes{Account: next(r), Purchases: []billing.PurchaseRecord{{Purchase: billing.Purchase{ID: "p2"}}, {Purchase: billing.Purchase{ID: "p1"}}}}
		}, want: billing.ErrExists},
		{name: "a stored ledger Seq", changes: func(r billing.Reader) billing.Changes {
			return billing.Changes{Account: next(r), Entries: []billing.Entry{{Seq: 1, At: t0}}}
		}, want: billing.ErrExists},
		{name: "a stored bill day", changes: func(r billing.Reader) billing.Changes {
			return billing.Changes{Account: next(r), Bills: []billing.Bill{{Account: "a", Day: day + 1}, {Account: "a", Day: day}}}
		}, want: billing.ErrExists},
		{name: "a stale version", changes: func(r billing.Reader) billing.Changes {
			a := next(r)
			a.Version--
			return billing.Changes{Account: a}
		}, want: billing.ErrConflict},
		{name: "a version from the future", changes: func(r billing.Reader) billing.Changes {
			a := next(r)
			a.Version++
			return billing.Changes{Account: a}
		}, want: billing.ErrConflict},
		{name: "a new account at version 2", account: "nobody", changes: func(billing.Reader) billing.Changes {
			return billing.Changes{Account: &billing.Account{ID: "nobody", Version: 2}}
		}, want: billing.ErrConflict},
		{name: "a new account at version 0", account: "nobody", changes: func(billing.Reader) billing.Changes {
			return billing.Changes{Account: &billing.Account{ID: "nobody"}}
		}, want: billing.ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			create(t, s, "a")
			write(t, s, "a", billing.Changes{
				Usages:    []billing.UsageRecord{{Usage: billing.Usage{ID: "u1"}}},
				Purchases: []billing.PurchaseRecord{{Purchase: billing.Purchase{ID: "p1"}}},
				Entries:   []billing.Entry{{Seq: 1, At: t0}},
				Bills:     []billing.Bill{{Account: "a", Day: day}},
			})
			id := tt.account
			if id == "" {
				id = "a"
			}
			ids := []string{"u1", "u2", "p1", "p2"}
			before := dump(t, s, id, ids...)
			err := s.Update(ctx, id, func(r billing.Reader) (billing.Changes, error) {
				c := tt.changes(r)
				c.Meters = append(c.Meters, billing.Meter{Key: key(billing.TierAudio), Seconds: 60, Prepaid: 1})
				return c, nil
			})
			if diff := cmp.Diff(tt.want, err, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("Update() error (-want +got):\n%s", diff)
			}
			unchanged(t, s, id, before, ids, "refused Changes")
			wantVersion(t, s, "a", 2, "after refused Changes")
		})
	}
}

// testRepeatedKeys checks that Changes holding a usage id, a purchase id,
// a Seq or a bill's Day twice are refused with ErrExists and write nothing,
// and that the same Changes without the repetition are applied.
func testRepeatedKeys(t *testing.T, newStore NewStore) {
	tests := []struct {
		name    string
		changes func(again string, seq int64, d billing.Day) billing.Changes
	}{
		{"a usage id twice", func(again string, _ int64, _ billing.Day) billing.Changes {
			return billing.Changes{Usages: []billing.UsageRecord{{Usage: billing.Usage{ID: "x", Seconds: 1}}, {Usage: billing.Usage{ID: again, Seconds: 2}}}}
		}},
		{"a purchase id twice", func(again string, _ int64, _ billing.Day) billing.Changes {
			return billing.Changes{Purchases: []billing.PurchaseRecord{{Purchase: billing.Purchase{ID: "x", Minutes: 1}}, {Purchase: billing.Purchase{ID: again, Minutes: 2}}}}
		}},
		{"a ledger Seq twice", func(_ string, seq int64, _ billing.Day) billing.Changes {
			return billing.Changes{Entries: []billing.Entry{{Seq: 1, At: t0, Minutes: 1}, {Seq: seq, At: t0, Minutes: 2}}}
		}},
		{"a bill's Day twice", func(_ string, _ int64, d billing.Day) billing.Changes {
			return billing.Changes{Bills: []billing.Bill{{Account: "a", Day: day, Total: decimal.NewFromInt(1)}, {Account: "a", Day: d, Total: decimal.NewFromInt(2)}}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			create(t, s, "a")
			ids := []string{"x", "y"}
			before := dump(t, s, "a", ids...)
			err := s.Update(ctx, "a", func(r billing.Reader) (billing.Changes, error) {
				c := tt.changes("x", 1, day)
				c.Account = next(r)
				c.Meters = []billing.Meter{{Key: key(billing.TierAudio), Seconds: 60, Prepaid: 1}}
				return c, nil
			})
			if !errors.Is(err, billing.ErrExists) {
				t.Errorf("Update() = %v, want ErrExists", err)
			}
			unchanged(t, s, "a", before, ids, "Changes refused for a key they hold twice")
			// Without the repetition, the same Changes are applied.
			write(t, s, "a", tt.changes("y", 2, day+1))
			wantVersion(t, s, "a", 2, "after the Changes without the repetition")
		})
	}
}

// testRepeatedRecords checks that Changes writing one package ID or one
// meter Key twice are refused, neither as a conflict nor as a duplicate
// key (the Engine would retry those), and write nothing.
func testRepeatedRecords(t *testing.T, newStore NewStore) {
	pkg := func(balance int64) billing.Package {
		return billing.Package{ID: "p", Minutes: 10, Balance: balance, PurchasedAt: t0, End: t0.AddDate(1, 0, 0)}
	}
	meter := func(seconds int64) billing.Meter {
		return billing.Meter{Key: key(billing.TierAudio), Seconds: seconds, Prepaid: (seconds + 59) / 60}
	}
	for _, tt := range []struct {
		name    string
		changes billing.Changes
	}{
		{"a package twice", billing.Changes{Packages: []billing.Package{pkg(10), pkg(9)}}},
		{"a meter twice", billing.Changes{Meters: []billing.Meter{meter(60), meter(120)}}},
		{"a checkpoint twice", billing.Changes{Checkpoints: []billing.Checkpoint{
			{Key: billing.OpKey{At: t0, ID: "u1"}, Armed: true}, {Key: billing.OpKey{At: t0.In(time.FixedZone("UTC+8", 8*3600)), ID: "u1"}}}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			create(t, s, "a")
			before := dump(t, s, "a")
			err := s.Update(ctx, "a", func(r billing.Reader) (billing.Changes, error) {
				c := tt.changes
				c.Account = next(r)
				return c, nil
			})
			if err == nil || errors.Is(err, billing.ErrConflict) || errors.Is(err, billing.ErrExists) {
				t.Errorf("Update() = %v, want an error that is neither ErrConflict nor ErrExists", err)
			}
			unchanged(t, s, "a", before, nil, "Changes refused for a record they write twice")
		})
	}
}

// testSeqsIncrease checks that the Entries of Changes are appended in
// increasing order of Seq, each above the last stored Seq: Changes holding
// a Seq at or below the one before it (stored or in the Changes) are
// refused with ErrExists and write nothing, even where that Seq was never
// stored; a Seq above the last stored, after a gap, is appended.
func testSeqsIncrease(t *testing.T, newStore NewStore) {
	s := newStore(t)
	create(t, s, "a")
	entries := func(seqs ...int64) []billing.Entry {
		var es []billing.Entry
		for _, seq := range seqs {
			es = append(es, billing.Entry{Seq: seq, At: t0.Add(time.Duration(seq) * time.Minute), Minutes: seq})
		}
		return es
	}
	write(t, s, "a", billing.Changes{Entries: entries(1, 2)})
	err := s.Update(ctx, "a", func(r billing.Reader) (billing.Changes, error) {
		return billing.Changes{Account: next(r), Entries: entries(5)}, nil
	})
	if err != nil {
		t.Fatalf("Update(Seq 5 after Seq 2) = %v, want nil: a Seq above the last stored is appended", err)
	}
	tests := []struct {
		name string
		seqs []int64
	}{
		{"below the last stored, never stored", []int64{4}},
		{"the last stored", []int64{5}},
		{"below the one before it", []int64{7, 6}},
		{"the one before it again", []int64{6, 6}},
		{"a new one, then a stored one", []int64{6, 2}},
	}
	for _, tt := range tests {
		before := dump(t, s, "a")
		err := s.Update(ctx, "a", func(r billing.Reader) (billing.Changes, error) {
			return billing.Changes{Account: next(r), Entries: entries(tt.seqs...),
				Meters: []billing.Meter{{Key: key(billing.TierAudio), Seconds: 60, Prepaid: 1}}}, nil
		})
		if !errors.Is(err, billing.ErrExists) {
			t.Errorf("Update(Seqs %v after 1, 2, 5) = %v, want ErrExists (%s)", tt.seqs, err, tt.name)
		}
		unchanged(t, s, "a", before, nil, fmt.Sprintf("Changes refused for Seqs %v", tt.seqs))
	}
	write(t, s, "a", billing.Changes{Entries: entries(6, 7)})
	view(t, s, "a", func(r billing.Reader) error {
		var got []billing.Entry
		err := r.Entries(time.Time{}, time.Time{}, func(e billing.Entry) bool { got = append(got, e); return true })
		if diff := cmp.Diff(entries(1, 2, 5, 6, 7), got); err != nil || diff != "" {
			t.Errorf("Entries: error %v (-want +got):\n%s", err, diff)
		}
		return nil
	})
}

// testChangesWithoutAccount checks that non-empty Changes without the
// Account are refused, with an error, and write nothing, whether the
// account exists or not.
func testChangesWithoutAccount(t *testing.T, newStore NewStore) {
	tests := []struct {
		name    string
		changes billing.Changes
	}{
		{"Packages", billing.Changes{Packages: []billing.Package{{ID: "x", Minutes: 10, Balance: 10, End: t0}}}},
		{"Meters", billing.Changes{Meters: []billing.Meter{{Key: key(billing.TierAudio), Seconds: 60, Prepaid: 1}}}},
		{"Usages", billing.Changes{Usages: []billing.UsageRecord{{Usage: billing.Usage{ID: "x"}}}}},
		{"Purchases", billing.Changes{Purchases: []billing.PurchaseRecord{{Purchase: billing.Purchase{ID: "x"}}}}},
		{"Entries", billing.Changes{Entries: []billing.Entry{{Seq: 1, At: t0}}}},
		{"Bills", billing.Changes{Bills: []billing.Bill{{Account: "a", Day: day}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			create(t, s, "a")
			for _, id := range []string{"a", "nobody"} {
				before := dump(t, s, id, "x")
				err := s.Update(ctx, id, func(billing.Reader) (billing.Changes, error) { return tt.changes, nil })
				if diff := cmp.Diff(cmpopts.AnyError, err, cmpopts.EquateErrors()); diff != "" {
					t.Errorf("Update(%s) of %s without the Account: error (-want +got):\n%s", id, tt.name, diff)
				}
				unchanged(t, s, id, before, []string{"x"}, "Changes without the Account")
			}
		})
	}
}

// testEmptyChanges checks that empty Changes (nil or empty fields) are
// applied without an error and write nothing: not the Version, not an
// account that does not exist; the next Changes follow the same Version.
func testEmptyChanges(t *testing.T, newStore NewStore) {
	s := newStore(t)
	create(t, s, "a")
	empties := []billing.Changes{{}, {
		Packages: []billing.Package{}, Meters: []billing.Meter{}, Usages: []billing.UsageRecord{},
		Purchases: []billing.PurchaseRecord{}, Entries: []billing.Entry{}, Bills: []billing.Bill{},
	}}
	for _, id := range []string{"a", "nobody"} {
		for i, c := range empties {
			before := dump(t, s, id)
			if err := s.Update(ctx, id, func(billing.Reader) (billing.Changes, error) { return c, nil }); err != nil {
				t.Errorf("Update(%s) of empty Changes %d: %v, want nil", id, i, err)
			}
			unchanged(t, s, id, before, nil, "empty Changes")
		}
	}
	write(t, s, "a", billing.Changes{Account: &billing.Account{ID: "a", Currency: "USD", Opened: t0, Version: 2}})
	wantVersion(t, s, "a", 2, "after empty Changes and Changes at version 2")
}

// glance is what testSnapshotReads reads of an account in a unit of work.
type glance struct {
	Version int64
	Meter   billing.Meter
	Usages  int // of "u-during"
	Entries int
}

func glanceAt(r billing.Reader) (glance, error) {
	var g glance
	a, err := r.Account()
	if err != nil {
		return g, err
	}
	g.Version = a.Version
	if g.Meter, err = r.Meter(key(billing.TierAudio)); err != nil {
		return g, err
	}
	switch _, err := r.Usage("u-during"); {
	case err == nil:
		g.Usages = 1
	case !errors.Is(err, billing.ErrNotFound):
		return g, err
	}
	err = r.Entries(time.Time{}, time.Time{}, func(billing.Entry) bool { g.Entries++; return true })
	return g, err
}

// bump is a unit of work that adds a minute to the audio meter of day, and
// optionally a usage record and a ledger entry.
func bump(usage string, entry bool) unit {
	return func(r billing.Reader) (billing.Changes, error) {
		m, err := r.Meter(key(billing.TierAudio))
		if err != nil {
			return billing.Changes{}, err
		}
		m.Seconds += 60
		m.Prepaid++
		a := next(r)
		c := billing.Changes{Account: a, Meters: []billing.Meter{m}}
		if usage != "" {
			c.Usages = []billing.UsageRecord{{Usage: billing.Usage{ID: usage}}}
		}
		if entry {
			a.LastSeq++
			c.Entries = []billing.Entry{{Seq: a.LastSeq, At: t0}}
		}
		return c, nil
	}
}

// briefly waits for done for a tenth of a second at most: long enough for
// a unit of work that waits for nothing, not for one that waits for a lock
// the caller holds. It reports whether done delivered, and what.
func briefly(done <-chan error) (bool, error) {
	select {
	case err := <-done:
		return true, err
	case <-time.After(100 * time.Millisecond):
		return false, nil
	}
}

// testSnapshotReads checks that fn's reads see the state committed before
// its unit of work began: each unit reads what the one before it wrote and
// never its own writes; the reads of a view, and of a unit of work, do not
// change while another unit of work commits (if the Store lets it commit
// then); and a view that runs while a unit of work is in fn sees the state
// before it or after it, never a mix.
func testSnapshotReads(t *testing.T, newStore NewStore) {
	s := newStore(t)
	for _, id := range []string{"a", "b", "c"} {
		create(t, s, id)
	}
	k := key(billing.TierAudio)
	for i := int64(1); i <= 3; i++ {
		u := fmt.Sprint("u", i)
		err := s.Update(ctx, "a", func(r billing.Reader) (billing.Changes, error) {
			m, err := r.Meter(k)
			if err != nil {
				return billing.Changes{}, err
			}
			if m.Prepaid != i-1 {
				t.Errorf("unit %d read meter %+v, want the previous unit's write (%d minutes)", i, m, i-1)
			}
			if a, err := r.Account(); err != nil || a.Version != i {
				t.Errorf("unit %d read account version %d, %v; want %d", i, a.Version, err, i)
			}
			m.Seconds, m.Prepaid = 60*i, i
			c := billing.Changes{Account: next(r), Meters: []billing.Meter{m}, Usages: []billing.UsageRecord{{Usage: billing.Usage{ID: u}}}}
			if again, _ := r.Meter(k); again.Prepaid != i-1 {
				t.Errorf("unit %d read meter %+v after making its Changes, want %d minutes", i, again, i-1)
			}
			if _, err := r.Usage(u); !errors.Is(err, billing.ErrNotFound) {
				t.Errorf("unit %d: Usage(%s) error = %v before its Changes were applied, want ErrNotFound", i, u, err)
			}
			return c, nil
		})
		if err != nil {
			t.Fatalf("unit %d: %v", i, err)
		}
		view(t, s, "a", func(r billing.Reader) error {
			m, _ := r.Meter(k)
			_, err := r.Usage(u)
			if m.Prepaid != i || err != nil {
				t.Errorf("after unit %d: meter %+v, Usage(%s) error %v; want %d minutes and the usage", i, m, u, err, i)
			}
			return nil
		})
	}

	// A view on a, and a unit of work on b, each start a unit of work on
	// their account, wait briefly for it, and read again.
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		var during chan error
		var duringErr error
		finished := false
		err := s.View(ctx, "a", func(r billing.Reader) error {
			before, err := glanceAt(r)
			if err != nil {
				return err
			}
			during = make(chan error, 1)
			go func() { during <- update(s, "a", bump("u-during", false)) }()
			finished, duringErr = briefly(during)
			after, err := glanceAt(r)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("a view's reads changed while a unit of work committed (-before +after):\n%s", diff)
			}
			return nil
		})
		if err != nil {
			t.Errorf("View(a): %v", err)
		}
		if during != nil && !finished {
			duringErr = <-during
		}
		if duringErr != nil {
			t.Errorf("Update(a) during a view: %v", duringErr)
		}
	}()
	go func() {
		defer wg.Done()
		var during chan error
		var duringErr error
		finished := false
		err := s.Update(ctx, "b", func(r billing.Reader) (billing.Changes, error) {
			before, err := glanceAt(r)
			if err != nil {
				return billing.Changes{}, err
			}
			if during == nil {
				during = make(chan error, 1)
				go func() { during <- update(s, "b", bump("u-during", false)) }()
				finished, duringErr = briefly(during)
			}
			after, err := glanceAt(r)
			if err != nil {
				return billing.Changes{}, err
			}
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("a unit of work's reads changed while another committed (-before +after):\n%s", diff)
			}
			return bump("", false)(r)
		})
		if err != nil && !errors.Is(err, billing.ErrConflict) {
			t.Errorf("Update(b) = %v, want nil or ErrConflict", err)
		}
		if during != nil && !finished {
			duringErr = <-during
		}
		if duringErr != nil {
			t.Errorf("Update(b) during a unit of work: %v", duringErr)
		}
	}()
	wg.Wait()
	for _, id := range []string{"a", "b"} {
		view(t, s, id, func(r billing.Reader) error {
			if g, err := glanceAt(r); err != nil || g.Version != 1+g.Meter.Prepaid {
				t.Errorf("account %s: %+v, %v; want one version more than minutes (a unit of work lost)", id, g, err)
			}
			return nil
		})
	}

	// A view of c while a unit of work on c is in fn: it sees the account,
	// the meter and the ledger as they were before, or after, together.
	for i := range 20 {
		inside, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		done := make(chan error, 1)
		go func() {
			done <- s.Update(ctx, "c", func(r billing.Reader) (billing.Changes, error) {
				once.Do(func() { close(inside) })
				<-release
				return bump("", true)(r)
			})
		}()
		<-inside
		type seen struct {
			g   glance
			err error
		}
		viewed := make(chan seen, 1)
		go func() {
			var v seen
			err := s.View(ctx, "c", func(r billing.Reader) error {
				v.g, v.err = glanceAt(r)
				return v.err
			})
			if v.err == nil {
				v.err = err
			}
			viewed <- v
		}()
		close(release)
		if err := <-done; err != nil {
			t.Fatalf("Update(c) %d: %v", i, err)
		}
		v := <-viewed
		if v.err != nil {
			t.Fatalf("View(c) %d: %v", i, v.err)
		}
		if g := v.g; g.Version != 1+g.Meter.Prepaid || g.Meter.Prepaid != int64(g.Entries) || g.Entries != i && g.Entries != i+1 {
			t.Errorf("a view during unit of work %d saw %+v: a mix of the states before and after it", i, g)
		}
	}
}

// aliasChanges returns Changes with a record of each kind, each holding its
// slices, and with meters out of the order of their keys. Each call makes
// new ones.
func aliasChanges() billing.Changes {
	return billing.Changes{
		Account: &billing.Account{ID: "a", Currency: "USD", Opened: t0, Version: 2, Late: []billing.MeterKey{key(billing.TierHD)},
			Unbilled: []billing.MeterKey{key(billing.TierSD)},
			Apps: []billing.App{{ID: "app", Created: t0, Suspensions: []billing.Interval{{Since: t0, Until: t0.Add(time.Hour)}},
				Disabled: []billing.Interval{{Since: t0}}}},
			Arrears: []billing.Arrears{{Refs: []string{"r1"}, Since: t0}}},
		Packages: []billing.Package{{ID: "p1", Minutes: 10, Balance: 10, PurchasedAt: t0, End: t0.AddDate(1, 0, 0)}},
		Meters:   []billing.Meter{{Key: key(billing.TierHD), Seconds: 60, Prepaid: 1}, {Key: key(billing.TierAudio), Seconds: 120, Prepaid: 2}},
		Usages: []billing.UsageRecord{{Usage: billing.Usage{ID: "u1", Account: "a", Seconds: 60, At: t0},
			Receipt: billing.Receipt{Key: key(billing.TierHD), Minutes: 1, Draws: []billing.Draw{{Package: "p1", Minutes: 1, Deducted: 4}}}}},
		Purchases: []billing.PurchaseRecord{{Purchase: billing.Purchase{ID: "p1", Account: "a", Minutes: 10},
			Receipt: billing.PurchaseReceipt{Day: day, Absorbed: []billing.Absorption{{Tier: billing.TierHD, Postpaid: 1, Deducted: 4}}}}},
		Entries: []billing.Entry{{Seq: 1, At: t0, Minutes: 2}, {Seq: 2, At: t0.Add(time.Minute), Minutes: 1}},
		Bills: []billing.Bill{{Account: "a", Day: day, Total: decimal.RequireFromString("0.01"),
			Lines: []billing.Line{{Day: day, Service: billing.ServiceBasic, Tier: billing.TierHD, Billed: 2, Amount: decimal.RequireFromString("0.00798")}}}},
		Checkpoints: []billing.Checkpoint{{Key: billing.OpKey{At: t0, ID: "u1"}, Balances: []billing.Balance{{Package: "p1", Balance: 10}},
			Meters: []billing.Meter{{Key: key(billing.TierHD), Seconds: 60, Prepaid: 1}}, Usages: []string{"u1", "u0"},
			Apps: []billing.AppState{{Suspensions: 1}}}},
	}
}

// scribble changes the slices inside every record r hands out that has
// one, as a careless caller would.
func scribble(r billing.Reader) {
	if a, err := r.Account(); err == nil && len(a.Late) > 0 && len(a.Unbilled) > 0 && len(a.Apps) > 0 &&
		len(a.Apps[0].Suspensions) > 0 && len(a.Apps[0].Disabled) > 0 {
		a.Late[0].Tier, a.Unbilled[0].Tier = "scribbled", "scribbled"
		a.Apps[0].ID, a.Apps[0].Suspensions[0].Until, a.Apps[0].Disabled[0].Since = "scribbled", time.Time{}, time.Time{}
	}
	if a, err := r.Account(); err == nil && len(a.Arrears) > 0 && len(a.Arrears[0].Refs) > 0 {
		a.Arrears[0].Refs[0], a.Arrears[0].Since = "scribbled", time.Time{}
	}
	_ = r.Checkpoints(billing.OpKey{}, func(c billing.Checkpoint) bool {
		if len(c.Balances) > 0 && len(c.Meters) > 0 {
			c.Balances[0].Balance, c.Meters[0].Seconds = 77, 77
		}
		if len(c.Usages) > 0 {
			c.Usages[0] = "scribbled"
		}
		if len(c.Apps) > 0 {
			c.Apps[0].Suspensions = 77
		}
		return true
	})
	if u, err := r.Usage("u1"); err == nil && len(u.Receipt.Draws) > 0 {
		u.Receipt.Draws[0].Minutes = 77
	}
	if p, err := r.Purchase("p1"); err == nil && len(p.Receipt.Absorbed) > 0 {
		p.Receipt.Absorbed[0].Postpaid = 77
	}
	if b, err := r.Bill(day); err == nil && len(b.Lines) > 0 {
		b.Lines[0].Billed = 77
	}
	_ = r.Bills(day, day, func(b billing.Bill) bool {
		if len(b.Lines) > 0 {
			b.Lines[0].Seconds = 77
		}
		return true
	})
}

// testNoAliasing checks that Update leaves the Changes as fn returned them,
// that the Store keeps no memory of them (the caller changes them after
// Update returns), and that it hands out no memory it keeps (the caller
// changes what it read, in a view and in a unit of work).
func testNoAliasing(t *testing.T, newStore NewStore) {
	s := newStore(t)
	create(t, s, "a")
	c := aliasChanges()
	if err := s.Update(ctx, "a", func(billing.Reader) (billing.Changes, error) { return c, nil }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(aliasChanges(), c); diff != "" {
		t.Errorf("Update changed the Changes fn returned (-returned +after Update):\n%s", diff)
	}
	// The caller changes the Changes after Update returned.
	c.Account.Currency = "XXX"
	if a := c.Account; len(a.Late) > 0 && len(a.Unbilled) > 0 && len(a.Apps) > 0 && len(a.Apps[0].Suspensions) > 0 && len(a.Apps[0].Disabled) > 0 {
		a.Late[0].Tier, a.Unbilled[0].Tier = billing.TierFHD, billing.TierFHD
		a.Apps[0].ID, a.Apps[0].Suspensions[0].Since, a.Apps[0].Disabled[0].Since = "changed", time.Time{}, time.Time{}
	}
	if len(c.Account.Arrears) > 0 && len(c.Account.Arrears[0].Refs) > 0 {
		c.Account.Arrears[0].Refs[0] = "changed"
	}
	if cp := &c.Checkpoints[0]; len(cp.Balances) > 0 && len(cp.Meters) > 0 {
		cp.Key.ID, cp.Balances[0].Balance, cp.Meters[0].Seconds = "changed", 99, 99
	}
	if cp := &c.Checkpoints[0]; len(cp.Usages) > 0 && len(cp.Apps) > 0 {
		cp.Usages[0], cp.Apps[0].Suspensions = "changed", 99
	}
	c.Packages[0].Balance, c.Meters[0].Prepaid, c.Entries[0].Minutes = 99, 99, 99
	c.Usages[0].Usage.Seconds, c.Purchases[0].Purchase.Minutes, c.Bills[0].Currency = 99, 99, "XXX"
	if len(c.Usages[0].Receipt.Draws) > 0 {
		c.Usages[0].Receipt.Draws[0].Minutes = 99
	}
	if len(c.Purchases[0].Receipt.Absorbed) > 0 {
		c.Purchases[0].Receipt.Absorbed[0].Postpaid = 99
	}
	if len(c.Bills[0].Lines) > 0 {
		c.Bills[0].Lines[0].Billed = 99
	}
	w := aliasChanges()
	slices.Reverse(w.Meters) // "audio" before "hd", as Meters lists them
	want := contents{Account: w.Account, Packages: w.Packages, Meters: w.Meters, Usages: w.Usages,
		Purchases: w.Purchases, Entries: w.Entries, Bills: w.Bills, Checkpoints: w.Checkpoints}
	ids := []string{"u1", "p1"}
	for round := range 2 {
		if diff := cmp.Diff(want, dump(t, s, "a", ids...)); diff != "" {
			t.Errorf("round %d: the Store shares memory with its caller (-written +read):\n%s", round, diff)
		}
		view(t, s, "a", func(r billing.Reader) error { scribble(r); return nil })
		err := s.Update(ctx, "a", func(r billing.Reader) (billing.Changes, error) { scribble(r); return billing.Changes{}, errRollBack })
		if !errors.Is(err, errRollBack) {
			t.Errorf("Update() = %v, want fn's error", err)
		}
	}
}

// testPackagesInDeductionOrder checks that LivePackages lists the packages
// with a positive balance, and Packages all of them, in the order of
// billing.ComparePackages, as packages are added, used up and replaced:
// First packages first, then those bound to an application, then the
// account's, each by End, PurchasedAt and ID.
func testPackagesInDeductionOrder(t *testing.T, newStore NewStore) {
	s := newStore(t)
	create(t, s, "a")
	end := t0.AddDate(1, 0, 0)
	pk := func(id string, bought time.Time, end time.Time, balance int64) billing.Package {
		return billing.Package{ID: id, Minutes: 1000, Balance: balance, PurchasedAt: bought, End: end}
	}
	write(t, s, "a", billing.Changes{Packages: []billing.Package{
		pk("later-end", t0, end.AddDate(0, 1, 0), 10),
		pk("b", t0, end, 10),
		pk("a", t0, end, 10),
		pk("B", t0, end, 10), // byte order: "B" (0x42) before "a" (0x61), whatever a collation says
		pk("spent", t0, end, 0),
		pk("earlier-purchase", t0.Add(-time.Hour), end, 10),
		pk("sooner-end", t0.Add(time.Hour), end.AddDate(0, -1, 0), 10),
	}})
	// "b" is used up in a later unit of work: it leaves the live packages.
	write(t, s, "a", billing.Changes{Packages: []billing.Package{pk("b", t0, end, 0)}})
	listed := func(each func(func(billing.Package) bool) error) []billing.Package {
		var ps []billing.Package
		if err := each(func(p billing.Package) bool { ps = append(ps, p); return true }); err != nil {
			t.Fatal(err)
		}
		return ps
	}
	idsOf := func(ps []billing.Package) []string {
		var ids []string
		for _, p := range ps {
			ids = append(ids, p.ID)
		}
		return ids
	}
	// inOrder checks the order of ps against the one ComparePackages defines.
	inOrder := func(what, when string, ps []billing.Package) {
		t.Helper()
		sorted := slices.SortedStableFunc(slices.Values(ps), billing.ComparePackages)
		if diff := cmp.Diff(idsOf(sorted), idsOf(ps)); diff != "" {
			t.Errorf("%s %s, against billing.ComparePackages (-want +got):\n%s", what, when, diff)
		}
	}
	order := func(when string, live, all []string) {
		t.Helper()
		view(t, s, "a", func(r billing.Reader) error {
			gotLive, gotAll := listed(r.LivePackages), listed(r.Packages)
			if diff := cmp.Diff(live, idsOf(gotLive)); diff != "" {
				t.Errorf("LivePackages %s (-want +got):\n%s", when, diff)
			}
			if diff := cmp.Diff(all, idsOf(gotAll)); diff != "" {
				t.Errorf("Packages %s (-want +got):\n%s", when, diff)
			}
			inOrder("LivePackages", when, gotLive)
			inOrder("Packages", when, gotAll)
			return nil
		})
	}
	order("after b was used up",
		[]string{"sooner-end", "earlier-purchase", "B", "a", "later-end"},
		[]string{"sooner-end", "earlier-purchase", "B", "a", "b", "spent", "later-end"})
	// A package written again with a later end moves to its new place; one
	// written again with only its balance changed stays where it is.
	write(t, s, "a", billing.Changes{Packages: []billing.Package{
		pk("a", t0, end.AddDate(0, 2, 0), 10),
		pk("later-end", t0, end.AddDate(0, 1, 0), 4),
	}})
	order("after a moved",
		[]string{"sooner-end", "earlier-purchase", "B", "later-end", "a"},
		[]string{"sooner-end", "earlier-purchase", "B", "b", "spent", "later-end", "a"})

	// First packages, and packages bound to an application, are drawn
	// before the account's whatever their End; First ones before bound
	// ones, bound or not. A package written again as First moves to the
	// front; one bound to an application used up leaves the live ones.
	first := func(p billing.Package) billing.Package { p.First = true; return p }
	bound := func(app string, p billing.Package) billing.Package { p.App = app; return p }
	write(t, s, "a", billing.Changes{Packages: []billing.Package{
		bound("app1", pk("bound-later", t0, end.AddDate(0, 2, 0), 10)),
		bound("app2", pk("bound-soon", t0, end.AddDate(0, -1, 0), 10)),
		bound("app1", pk("bound-B", t0, end.AddDate(0, -1, 0), 10)), // "B" before "s"
		first(pk("first-later", t0, end.AddDate(0, 3, 0), 10)),
		first(bound("app1", pk("first-bound", t0, end, 10))),
		first(pk("first-spent", t0, end.AddDate(0, -6, 0), 0)),
		bound("app2", pk("bound-earlier-purchase", t0.Add(-time.Hour), end.AddDate(0, -1, 0), 10)),
	}})
	order("with First and bound packages",
		[]string{"first-bound", "first-later", "bound-earlier-purchase", "bound-B", "bound-soon", "bound-later",
			"sooner-end", "earlier-purchase", "B", "later-end", "a"},
		[]string{"first-spent", "first-bound", "first-later", "bound-earlier-purchase", "bound-B", "bound-soon", "bound-later",
			"sooner-end", "earlier-purchase", "B", "b", "spent", "later-end", "a"})
	write(t, s, "a", billing.Changes{Packages: []billing.Package{
		first(pk("later-end", t0, end.AddDate(0, 1, 0), 4)),
		bound("app1", pk("bound-B", t0, end.AddDate(0, -1, 0), 0)),
		pk("first-later", t0, end.AddDate(0, 3, 0), 10), // no longer First
	}})
	order("after later-end became First, bound-B was used up and first-later became the account's",
		[]string{"first-bound", "later-end", "bound-earlier-purchase", "bound-soon", "bound-later",
			"sooner-end", "earlier-purchase", "B", "a", "first-later"},
		[]string{"first-spent", "first-bound", "later-end", "bound-earlier-purchase", "bound-B", "bound-soon", "bound-later",
			"sooner-end", "earlier-purchase", "B", "b", "spent", "a", "first-later"})

	// Many packages, with ties of End and of PurchasedAt, ids that a
	// collation would order otherwise, some First and some bound to an
	// application, written and rewritten in 10 units: more live packages
	// than a Store may read at a time.
	create(t, s, "many")
	rnd := rand.New(rand.NewPCG(3, 4))
	ids := []string{"a", "B", "b", "a ", " a", "caf\u00e9", "cafe\u0301", "10", "9", "Z", "z", "_", "-", "日本"}
	for i := range 26 {
		ids = append(ids, fmt.Sprintf("p%02d", i))
	}
	apps := []string{"", "", "app1", "App2"}
	model := map[string]billing.Package{}
	for range 10 {
		var ps []billing.Package
		for _, i := range rnd.Perm(len(ids))[:15] {
			p := pk(ids[i], t0.Add(time.Duration(rnd.IntN(3))*time.Hour), end.AddDate(0, rnd.IntN(3), 0), int64(rnd.IntN(3)))
			p.First, p.App = rnd.IntN(4) == 0, apps[rnd.IntN(len(apps))]
			ps = append(ps, p)
			model[p.ID] = p
		}
		write(t, s, "many", billing.Changes{Packages: ps})
	}
	all := slices.SortedFunc(maps.Values(model), billing.ComparePackages)
	live := slices.DeleteFunc(slices.Clone(all), func(p billing.Package) bool { return p.Balance <= 0 })
	view(t, s, "many", func(r billing.Reader) error {
		if diff := cmp.Diff(idsOf(live), idsOf(listed(r.LivePackages))); diff != "" {
			t.Errorf("LivePackages of many, against billing.ComparePackages (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(idsOf(all), idsOf(listed(r.Packages))); diff != "" {
			t.Errorf("Packages of many, against billing.ComparePackages (-want +got):\n%s", diff)
		}
		return nil
	})
}

// testEntriesByTime checks that Entries lists the entries with
// from <= At < to (no upper bound for a zero to) in Seq order, whether or
// not their times follow their Seqs.
func testEntriesByTime(t *testing.T, newStore NewStore) {
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	ranges := []struct {
		name     string
		from, to time.Time
	}{
		{"[1h, 3h)", h(1), h(3)},
		{"[0h, 2h)", h(0), h(2)},
		{"[1h, no bound)", h(1), time.Time{}},
		{"[-1h, 1h)", h(-1), h(1)},
		{"[2h, 2h)", h(2), h(2)},
		{"[4h, 5h)", h(4), h(5)},
		{"[3h, 1h)", h(3), h(1)},
	}
	for _, sorted := range []bool{true, false} {
		t.Run(fmt.Sprintf("sorted=%v", sorted), func(t *testing.T) {
			s := newStore(t)
			create(t, s, "a")
			ats := []time.Time{h(0), h(1), h(2), h(3)}
			if !sorted {
				ats[1], ats[2] = ats[2], ats[1] // Seq 2 at 2h, Seq 3 at 1h
			}
			var entries []billing.Entry
			for i, at := range ats {
				entries = append(entries, billing.Entry{Seq: int64(i + 1), At: at})
			}
			write(t, s, "a", billing.Changes{Entries: entries})
			view(t, s, "a", func(r billing.Reader) error {
				for _, rg := range ranges {
					var want, got []int64
					for _, e := range entries { // in Seq order
						if !e.At.Before(rg.from) && (rg.to.IsZero() || e.At.Before(rg.to)) {
							want = append(want, e.Seq)
						}
					}
					err := r.Entries(rg.from, rg.to, func(e billing.Entry) bool { got = append(got, e.Seq); return true })
					if err != nil {
						t.Errorf("Entries%s: %v", rg.name, err)
					}
					if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
						t.Errorf("Entries%s (-want +got):\n%s", rg.name, diff)
					}
				}
				return nil
			})
		})
	}
}

// testUsagesInOrder writes usages in three units of work, out of the order
// of their times, two of them at one instant (ordered by id, byte by byte:
// "U2" before "u1"), and checks Usages over ranges: from <= At < to, in
// order of At, then ID, each record whole.
func testUsagesInOrder(t *testing.T, newStore NewStore) {
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	rec := func(id string, at time.Time) billing.UsageRecord {
		return billing.UsageRecord{
			Usage:   billing.Usage{ID: id, Account: "a", App: "app", Scenario: billing.VideoCall, Tier: billing.TierHD, Seconds: 61, At: at},
			Receipt: billing.Receipt{Key: key(billing.TierHD), Minutes: 2, Draws: []billing.Draw{{Package: "p1", Minutes: 2, Deducted: 8}}},
		}
	}
	s := newStore(t)
	create(t, s, "a")
	units := [][]billing.UsageRecord{
		{rec("u3", h(3)), rec("u1", h(1))},
		{rec("u0", h(0))},
		{rec("U2", h(1)), rec("u4", h(4))},
	}
	for _, u := range units {
		write(t, s, "a", billing.Changes{Usages: u})
	}
	inOrder := []billing.UsageRecord{rec("u0", h(0)), rec("U2", h(1)), rec("u1", h(1)), rec("u3", h(3)), rec("u4", h(4))}
	ranges := []struct {
		name     string
		from, to time.Time
		want     []billing.UsageRecord
	}{
		{"all", time.Time{}, time.Time{}, inOrder},
		{"[1h, 3h)", h(1), h(3), inOrder[1:3]},
		{"[1h, 4h]", h(1), h(4).Add(time.Nanosecond), inOrder[1:5]},
		{"[2h, no bound)", h(2), time.Time{}, inOrder[3:]},
		{"[-1h, 1h)", h(-1), h(1), inOrder[:1]},
		{"[1h, 1h)", h(1), h(1), nil},
		{"[5h, 6h)", h(5), h(6), nil},
		{"[3h, 1h)", h(3), h(1), nil},
	}
	view(t, s, "a", func(r billing.Reader) error {
		for _, rg := range ranges {
			var got []billing.UsageRecord
			if err := r.Usages(rg.from, rg.to, func(u billing.UsageRecord) bool { got = append(got, u); return true }); err != nil {
				t.Errorf("Usages%s: %v", rg.name, err)
			}
			if diff := cmp.Diff(rg.want, got, cmpopts.EquateEmpty(),
				cmp.Comparer(func(x, y time.Time) bool { return x.Equal(y) })); diff != "" {
				t.Errorf("Usages%s (-want +got):\n%s", rg.name, diff)
			}
		}
		return nil
	})
}

// testCheckpointsInOrder checks that Checkpoints starts at the latest
// checkpoint at or before the key asked (or the first, if none is), and
// lists the later ones in the order of billing.OpKey.Compare (time, class,
// then id byte by byte), and that a checkpoint written again under its
// key replaces the first (whatever the location of its time).
func testCheckpointsInOrder(t *testing.T, newStore NewStore) {
	k := func(minutes int, class billing.Class, id string) billing.OpKey {
		return billing.OpKey{At: t0.Add(time.Duration(minutes) * time.Minute), Class: class, ID: id}
	}
	cp := func(key billing.OpKey, balance int64) billing.Checkpoint {
		return billing.Checkpoint{Key: key, Balances: []billing.Balance{{Package: "p1", Balance: balance}}}
	}
	keys := []billing.OpKey{ // in order
		k(0, billing.ClassCheckpoint, ""), k(0, billing.ClassUsage, "B"), k(0, billing.ClassUsage, "a"),
		k(0, billing.ClassCall, ""), {At: t0.Add(time.Nanosecond)}, k(60, billing.ClassUsage, "u"),
	}
	s := newStore(t)
	create(t, s, "a")
	for _, i := range []int{5, 2, 0} {
		write(t, s, "a", billing.Changes{Checkpoints: []billing.Checkpoint{cp(keys[i], 1)}})
	}
	write(t, s, "a", billing.Changes{Checkpoints: []billing.Checkpoint{cp(keys[4], 1), cp(keys[1], 1), cp(keys[3], 1)}})
	// Written again, in another location: replaced.
	again := cp(keys[2], 2)
	again.Key.At = again.Key.At.In(time.FixedZone("UTC+8", 8*3600))
	write(t, s, "a", billing.Changes{Checkpoints: []billing.Checkpoint{again}})
	all := []billing.Checkpoint{cp(keys[0], 1), cp(keys[1], 1), cp(keys[2], 2), cp(keys[3], 1), cp(keys[4], 1), cp(keys[5], 1)}
	for _, tt := range []struct {
		name string
		at   billing.OpKey
		want []billing.Checkpoint
	}{
		{"before the first", billing.OpKey{At: t0.Add(-time.Nanosecond)}, all},
		{"at the first", keys[0], all},
		{"at one", keys[2], all[2:]},
		{"between two ids", k(0, billing.ClassUsage, "C"), all[1:]},
		{"between two classes", k(0, billing.ClassUsage, "zz"), all[2:]},
		{"between two instants", k(30, billing.ClassCall, "z"), all[4:]},
		{"after the last", k(61, billing.ClassOpening, ""), all[5:]},
	} {
		view(t, s, "a", func(r billing.Reader) error {
			var got []billing.Checkpoint
			if err := r.Checkpoints(tt.at, func(c billing.Checkpoint) bool { got = append(got, c); return true }); err != nil {
				t.Errorf("Checkpoints(%s): %v", tt.name, err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty(),
				cmp.Comparer(func(x, y time.Time) bool { return x.Equal(y) })); diff != "" {
				t.Errorf("Checkpoints(%s) (-want +got):\n%s", tt.name, diff)
			}
			return nil
		})
	}
}

// testCancellation checks that a unit of work whose context is cancelled
// while fn runs applies nothing, and that Update and View under a cancelled
// context do not run fn; all return an error wrapping context.Canceled.
func testCancellation(t *testing.T, newStore NewStore) {
	s := newStore(t)
	create(t, s, "a")
	before := dump(t, s, "a")
	c, cancel := context.WithCancel(ctx)
	err := s.Update(c, "a", func(r billing.Reader) (billing.Changes, error) {
		cancel() // cancelled while the unit of work runs
		return billing.Changes{Account: next(r), Meters: []billing.Meter{{Key: key(billing.TierAudio), Seconds: 60, Prepaid: 1}}}, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update() = %v, want context.Canceled", err)
	}
	err = s.Update(c, "a", func(billing.Reader) (billing.Changes, error) {
		t.Error("fn ran under a cancelled context")
		return billing.Changes{}, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update(cancelled) = %v, want context.Canceled", err)
	}
	if err := s.View(c, "a", func(billing.Reader) error { t.Error("fn ran under a cancelled context"); return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("View(cancelled) = %v, want context.Canceled", err)
	}
	unchanged(t, s, "a", before, nil, "a cancelled unit of work")
}

// testNoLostUpdates runs read-modify-write units of work on two accounts
// from many goroutines: every one of them must count.
func testNoLostUpdates(t *testing.T, newStore NewStore) {
	s := newStore(t)
	create(t, s, "a")
	create(t, s, "b")
	const goroutines, each = 8, 200
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := update(s, []string{"a", "b"}[(g+i)%2], bump("", false)); err != nil {
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
			m, _ := r.Meter(key(billing.TierAudio))
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
		var entries []billing.Entry
		for j := range 100 {
			seq := i*100 + j + 1
			entries = append(entries, billing.Entry{Seq: int64(seq), At: t0.Add(time.Duration(seq) * time.Minute)})
		}
		write(t, s, "a", billing.Changes{Entries: entries})
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
	var meters []billing.Meter
	for _, k := range []struct {
		n    int
		tier billing.Tier
	}{{5, billing.TierAudio}, {2, billing.TierHD}, {9, billing.TierAudio}, {0, billing.TierAudio}, {2, billing.TierAudio}} {
		meters = append(meters, billing.Meter{Key: billing.MeterKey{Day: d(k.n), Service: billing.ServiceBasic, Tier: k.tier}, Seconds: 60, Prepaid: 1})
	}
	write(t, s, "a", billing.Changes{Meters: meters})
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
	err := s.Update(ctx, "a", func(r billing.Reader) (billing.Changes, error) {
		a := next(r)
		a.Late = late
		c := billing.Changes{Account: a}
		for _, n := range []int{3, 1, 5, 2} {
			c.Bills = append(c.Bills, billing.Bill{Account: "a", Day: d(n), Lines: lines, Total: decimal.NewFromInt(int64(n))})
		}
		return c, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	lines[0].Billed, late[0].Tier = 99, billing.TierFHD // the caller's slices change after the Changes were applied
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
	err = s.Update(ctx, "a", func(r billing.Reader) (billing.Changes, error) {
		return billing.Changes{Account: next(r), Bills: []billing.Bill{{Account: "a", Day: d(2)}}}, nil
	})
	if !errors.Is(err, billing.ErrExists) {
		t.Errorf("a second bill of day 2: %v, want ErrExists", err)
	}
}

// testMetersOfADay writes meters of three services and five tiers on one
// day and the days around it, in no order, some of them for each of
// several applications too, and reads the day's meters.
func testMetersOfADay(t *testing.T, newStore NewStore) {
	s := newStore(t)
	create(t, s, "a")
	services := []billing.Service{billing.ServiceRecording, billing.ServiceBasic, billing.ServiceMixTranscoding}
	tiers := []billing.Tier{billing.TierSD, billing.TierFHD, billing.TierAudio, billing.TierHD, "HD"}
	var meters []billing.Meter
	for _, d := range []billing.Day{day + 1, day, day - 1} {
		for i, sv := range services {
			for j, tier := range tiers {
				n := int64(i*len(tiers) + j + 1)
				meters = append(meters, billing.Meter{Key: billing.MeterKey{Day: d, Service: sv, Tier: tier}, Seconds: 60 * n, Postpaid: n})
			}
		}
		// The same service and tier for applications, of which one (""),
		// the account's, is written above.
		for i, k := range []billing.MeterKey{
			{Day: d, Service: billing.ServiceBasic, Tier: billing.TierHD, App: "app1"},
			{Day: d, Service: billing.ServiceBasic, Tier: billing.TierHD, App: "App2"},
			{Day: d, Service: billing.ServiceRecording, Tier: billing.TierSD, App: "app1"},
			{Day: d, Service: billing.ServiceBasic, Tier: billing.TierHD, App: "app10"},
			{Day: d, Service: billing.ServiceBasic, Tier: billing.TierHD, App: "app-ü"},
			{Day: d, Service: billing.ServiceBasic, Tier: billing.TierAudio, App: "app1"},
		} {
			n := int64(100 + i)
			meters = append(meters, billing.Meter{Key: k, Seconds: 60 * n, Postpaid: n})
		}
	}
	write(t, s, "a", billing.Changes{Meters: meters})
	// By Service, Tier, then App, byte by byte ("HD" before "audio",
	// "App2" before "app-ü" before "app1" before "app10").
	k := func(sv billing.Service, tier billing.Tier, app string) billing.MeterKey {
		return billing.MeterKey{Day: day, Service: sv, Tier: tier, App: app}
	}
	basic, mix, rec := billing.ServiceBasic, billing.ServiceMixTranscoding, billing.ServiceRecording
	want := []billing.MeterKey{
		k(basic, "HD", ""), k(basic, billing.TierAudio, ""), k(basic, billing.TierAudio, "app1"), k(basic, billing.TierFHD, ""),
		k(basic, billing.TierHD, ""), k(basic, billing.TierHD, "App2"), k(basic, billing.TierHD, "app-ü"),
		k(basic, billing.TierHD, "app1"), k(basic, billing.TierHD, "app10"), k(basic, billing.TierSD, ""),
		k(mix, "HD", ""), k(mix, billing.TierAudio, ""), k(mix, billing.TierFHD, ""), k(mix, billing.TierHD, ""), k(mix, billing.TierSD, ""),
		k(rec, "HD", ""), k(rec, billing.TierAudio, ""), k(rec, billing.TierFHD, ""), k(rec, billing.TierHD, ""), k(rec, billing.TierSD, ""),
		k(rec, billing.TierSD, "app1"),
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
// accent), each in a unit of work of its own, then all in one, and reads
// each back as its own record: a Store that folds case (a case-insensitive
// collation), trims, or normalizes ids loses usage.
func testIDsAreBytes(t *testing.T, newStore NewStore) {
	ids := []string{"u1", "U1", "u1 ", " u1", "caf\u00e9", "cafe\u0301"}
	s := newStore(t)
	for _, acct := range ids {
		create(t, s, "acct-"+acct)
	}
	create(t, s, "a")
	create(t, s, "together")
	var together billing.Changes
	for i, id := range ids {
		n := int64(i + 1)
		c := billing.Changes{
			Usages:    []billing.UsageRecord{{Usage: billing.Usage{ID: id, Account: "a", Seconds: n}}},
			Purchases: []billing.PurchaseRecord{{Purchase: billing.Purchase{ID: id, Account: "a", Minutes: n}}},
			Packages:  []billing.Package{{ID: id, Minutes: 10, Balance: n, End: t0}},
		}
		err := s.Update(ctx, "a", func(r billing.Reader) (billing.Changes, error) { c.Account = next(r); return c, nil })
		if err != nil {
			t.Fatalf("usage, purchase and package %q: %v; ids that differ in any byte are different ids", id, err)
		}
		together.Usages = append(together.Usages, c.Usages...)
		together.Purchases = append(together.Purchases, c.Purchases...)
		together.Packages = append(together.Packages, c.Packages...)
		err = s.Update(ctx, "acct-"+id, func(r billing.Reader) (billing.Changes, error) {
			a := next(r)
			a.LastSeq = n
			return billing.Changes{Account: a}, nil
		})
		if err != nil {
			t.Fatalf("account %q: %v", "acct-"+id, err)
		}
	}
	err := s.Update(ctx, "together", func(r billing.Reader) (billing.Changes, error) { together.Account = next(r); return together, nil })
	if err != nil {
		t.Errorf("usages, purchases and packages %q in one unit of work: %v; ids that differ in any byte are different ids", ids, err)
	}
	for _, acct := range []string{"a", "together"} {
		view(t, s, acct, func(r billing.Reader) error {
			packages := map[string]int64{}
			if err := r.Packages(func(p billing.Package) bool { packages[p.ID] = p.Balance; return true }); err != nil {
				t.Error(err)
			}
			for i, id := range ids {
				n := int64(i + 1)
				if u, err := r.Usage(id); err != nil || u.Usage.ID != id || u.Usage.Seconds != n {
					t.Errorf("%s: Usage(%q) = %q with %d seconds, %v; want its own record (%d seconds)", acct, id, u.Usage.ID, u.Usage.Seconds, err, n)
				}
				if p, err := r.Purchase(id); err != nil || p.Purchase.ID != id || p.Purchase.Minutes != n {
					t.Errorf("%s: Purchase(%q) = %q of %d minutes, %v; want its own record (%d minutes)", acct, id, p.Purchase.ID, p.Purchase.Minutes, err, n)
				}
				if packages[id] != n {
					t.Errorf("%s: package %q has balance %d, want %d", acct, id, packages[id], n)
				}
			}
			if len(packages) != len(ids) {
				t.Errorf("%s: Packages: %d packages %v, want %d", acct, len(packages), packages, len(ids))
			}
			return nil
		})
	}
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
	var c billing.Changes
	for i := range 3 { // three of each: meters of day, days with meters, packages, entries, bills, usages, checkpoints
		d := day + billing.Day(i)
		c.Meters = append(c.Meters, billing.Meter{Key: billing.MeterKey{Day: day, Service: billing.ServiceRecording, Tier: []billing.Tier{"a", "b", "c"}[i]}})
		if i > 0 {
			c.Meters = append(c.Meters, billing.Meter{Key: billing.MeterKey{Day: d, Service: billing.ServiceBasic, Tier: billing.TierAudio}})
		}
		c.Packages = append(c.Packages, billing.Package{ID: fmt.Sprint("p", i), Minutes: 10, Balance: 10, End: t0.Add(time.Duration(i) * time.Hour)})
		c.Entries = append(c.Entries, billing.Entry{Seq: int64(i + 1), At: t0.Add(time.Duration(i) * time.Minute)})
		c.Bills = append(c.Bills, billing.Bill{Account: "a", Day: d})
		c.Usages = append(c.Usages, billing.UsageRecord{Usage: billing.Usage{ID: fmt.Sprint("u", i), At: t0.Add(time.Duration(i) * time.Minute)}})
		c.Checkpoints = append(c.Checkpoints, billing.Checkpoint{Key: billing.OpKey{At: t0.Add(time.Duration(i) * time.Minute)}})
	}
	write(t, s, "a", c)
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
		"Usages": func(r billing.Reader, more func() bool) error {
			return r.Usages(time.Time{}, time.Time{}, func(billing.UsageRecord) bool { return more() })
		},
		"Checkpoints": func(r billing.Reader, more func() bool) error {
			return r.Checkpoints(billing.OpKey{}, func(billing.Checkpoint) bool { return more() })
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

// testAccountsApart checks that one account's records never show in
// another's, that the same keys in another account are its own, and that
// an account never written is not found.
func testAccountsApart(t *testing.T, newStore NewStore) {
	s := newStore(t)
	create(t, s, "a")
	create(t, s, "b")
	write(t, s, "a", billing.Changes{
		Packages:    []billing.Package{{ID: "p1", Minutes: 10, Balance: 10, End: t0}},
		Meters:      []billing.Meter{{Key: key(billing.TierAudio), Seconds: 60, Postpaid: 1}},
		Usages:      []billing.UsageRecord{{Usage: billing.Usage{ID: "u1"}}},
		Purchases:   []billing.PurchaseRecord{{Purchase: billing.Purchase{ID: "p1"}}},
		Entries:     []billing.Entry{{Seq: 1, At: t0}},
		Bills:       []billing.Bill{{Account: "a", Day: day}},
		Checkpoints: []billing.Checkpoint{{Key: billing.OpKey{At: t0}}},
	})
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
		n = 0
		_ = r.Checkpoints(billing.OpKey{}, func(billing.Checkpoint) bool { n++; return true })
		none("checkpoints", n)
		if m, err := r.Meter(key(billing.TierAudio)); err != nil || m != (billing.Meter{Key: key(billing.TierAudio)}) {
			t.Errorf("account b: Meter() = %+v, %v; want a zero meter", m, err)
		}
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
	err := s.Update(ctx, "b", func(r billing.Reader) (billing.Changes, error) {
		return billing.Changes{Account: next(r),
			Usages:    []billing.UsageRecord{{Usage: billing.Usage{ID: "u1"}}},
			Purchases: []billing.PurchaseRecord{{Purchase: billing.Purchase{ID: "p1"}}},
			Entries:   []billing.Entry{{Seq: 1, At: t0}},
			Bills:     []billing.Bill{{Account: "b", Day: day}},
		}, nil
	})
	if err != nil {
		t.Errorf("account b's usage u1, purchase p1, entry 1 and bill: %v; they are not account a's", err)
	}
	view(t, s, "nobody", func(r billing.Reader) error {
		if _, err := r.Account(); !errors.Is(err, billing.ErrNotFound) {
			t.Errorf("View of an account that does not exist: Account() error = %v, want ErrNotFound", err)
		}
		return nil
	})
}

var errRollBack = errors.New("billingtest: roll back")

// testPrefetch checks, for a Store whose Update hands fn a
// billing.Prefetcher, that reads after Prefetch return what they would
// have without it: stored records, not-found for the rest, and, in the
// next unit of work, what the unit before wrote. Meter keys that differ
// only in their application are different meters.
func testPrefetch(t *testing.T, newStore NewStore) {
	s := newStore(t)
	create(t, s, "a")
	stored := billing.Meter{Key: key(billing.TierHD), Seconds: 60, Postpaid: 1}
	appKey := func(tier billing.Tier, app string) billing.MeterKey { k := key(tier); k.App = app; return k }
	storedApp := billing.Meter{Key: appKey(billing.TierHD, "app1"), Seconds: 120, Postpaid: 2}
	c := billing.Changes{
		Usages: []billing.UsageRecord{{Usage: billing.Usage{ID: "u1", Account: "a", Seconds: 60},
			Receipt: billing.Receipt{Draws: []billing.Draw{{Package: "p1", Minutes: 1, Deducted: 4}}}}},
		Meters: []billing.Meter{stored, storedApp},
	}
	for i := range 20 { // more than one page of live packages
		c.Packages = append(c.Packages, billing.Package{ID: fmt.Sprintf("p%02d", i), Minutes: 10, Balance: 10, PurchasedAt: t0, End: t0.Add(time.Duration(i) * time.Hour)})
	}
	write(t, s, "a", c)
	prefetcher := true
	written := billing.Meter{Key: key(billing.TierSD), Seconds: 1, Postpaid: 1}
	err := s.Update(ctx, "a", func(r billing.Reader) (billing.Changes, error) {
		p, ok := r.(billing.Prefetcher)
		if !ok {
			prefetcher = false
			return billing.Changes{}, errRollBack
		}
		keys := []billing.MeterKey{key(billing.TierHD), appKey(billing.TierHD, "app1"), key(billing.TierSD), appKey(billing.TierHD, "App1")}
		if err := p.Prefetch([]string{"u1", "u2", "u3"}, keys); err != nil {
			return billing.Changes{}, err
		}
		u, err := r.Usage("u1")
		if err != nil || u.Usage.Seconds != 60 || len(u.Receipt.Draws) != 1 {
			t.Errorf("Usage(u1) after Prefetch = %+v, %v; want the stored record", u, err)
		}
		for _, id := range []string{"u2", "u3"} {
			if _, err := r.Usage(id); !errors.Is(err, billing.ErrNotFound) {
				t.Errorf("Usage(%s) after Prefetch: error %v, want ErrNotFound (not stored)", id, err)
			}
		}
		if m, err := r.Meter(stored.Key); err != nil || m != stored {
			t.Errorf("Meter(hd) after Prefetch = %+v, %v; want %+v", m, err, stored)
		}
		if m, err := r.Meter(key(billing.TierSD)); err != nil || m != (billing.Meter{Key: key(billing.TierSD)}) {
			t.Errorf("Meter(sd) after Prefetch = %+v, %v; want a zero meter", m, err)
		}
		if m, err := r.Meter(storedApp.Key); err != nil || m != storedApp {
			t.Errorf("Meter(hd of app1) after Prefetch = %+v, %v; want %+v", m, err, storedApp)
		}
		if m, err := r.Meter(keys[3]); err != nil || m != (billing.Meter{Key: keys[3]}) {
			t.Errorf("Meter(hd of App1) after Prefetch = %+v, %v; want a zero meter", m, err)
		}
		n := 0
		err = r.LivePackages(func(p billing.Package) bool {
			if want := fmt.Sprintf("p%02d", n); p.ID != want {
				t.Errorf("live package %d is %s, want %s", n, p.ID, want)
			}
			n++
			return true
		})
		if err != nil || n != 20 {
			t.Errorf("LivePackages after Prefetch: %d packages, %v; want 20", n, err)
		}
		return billing.Changes{Account: next(r), Usages: []billing.UsageRecord{{Usage: billing.Usage{ID: "u2", Seconds: 2}}},
			Meters: []billing.Meter{written}}, nil
	})
	if !prefetcher {
		t.Skip("the Reader of the Store's Update is not a billing.Prefetcher")
	}
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, "a", func(r billing.Reader) (billing.Changes, error) {
		p, ok := r.(billing.Prefetcher)
		if !ok {
			t.Error("the Reader of the Store's Update is a billing.Prefetcher once, not twice")
			return billing.Changes{}, errRollBack
		}
		if err := p.Prefetch([]string{"u2", "u3"}, []billing.MeterKey{key(billing.TierSD)}); err != nil {
			return billing.Changes{}, err
		}
		if u, err := r.Usage("u2"); err != nil || u.Usage.Seconds != 2 {
			t.Errorf("Usage(u2) after Prefetch = %+v, %v; want the record the unit before wrote", u, err)
		}
		if _, err := r.Usage("u3"); !errors.Is(err, billing.ErrNotFound) {
			t.Errorf("Usage(u3) after Prefetch: error %v, want ErrNotFound (not stored)", err)
		}
		if m, err := r.Meter(key(billing.TierSD)); err != nil || m != written {
			t.Errorf("Meter(sd) after Prefetch = %+v, %v; want %+v, as the unit before wrote it", m, err, written)
		}
		return billing.Changes{}, errRollBack
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
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		done <- s.Update(ctx, "a", func(r billing.Reader) (billing.Changes, error) {
			once.Do(func() { close(inside) })
			<-release
			return billing.Changes{Account: next(r)}, nil
		})
	}()
	<-inside
	other := make(chan error, 1)
	go func() {
		other <- s.Update(ctx, "b", func(r billing.Reader) (billing.Changes, error) { return billing.Changes{Account: next(r)}, nil })
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
// creation is applied, the others find the account (after a conflict,
// retried) and write nothing.
func testCreationRace(t *testing.T, newStore NewStore) {
	s := newStore(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := update(s, "a", func(r billing.Reader) (billing.Changes, error) {
				if _, err := r.Account(); err == nil {
					return billing.Changes{}, nil // someone else created it
				}
				return billing.Changes{Account: &billing.Account{ID: "a", Currency: "USD", Opened: t0, Version: 1, LastSeq: int64(g)}}, nil
			})
			if err != nil {
				t.Errorf("goroutine %d: %v", g, err)
			}
		}()
	}
	wg.Wait()
	wantVersion(t, s, "a", 1, "after 8 goroutines created it")
}

// testCancelWhileWaiting cancels a unit of work while another holds its
// account: whenever it gets to run, it applies nothing and returns the
// context's error.
func testCancelWhileWaiting(t *testing.T, newStore NewStore) {
	s := newStore(t)
	create(t, s, "a")
	inside, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		done <- s.Update(ctx, "a", func(billing.Reader) (billing.Changes, error) {
			once.Do(func() { close(inside) })
			<-release
			return billing.Changes{}, errRollBack
		})
	}()
	<-inside
	c, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	waiting := make(chan error, 1)
	go func() {
		waiting <- s.Update(c, "a", func(r billing.Reader) (billing.Changes, error) {
			return billing.Changes{Account: next(r)}, nil
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
		err := s.Update(ctx, "a", func(r billing.Reader) (billing.Changes, error) {
			c := billing.Changes{Account: next(r)}
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
				m, err := r.Meter(k)
				if err != nil {
					return billing.Changes{}, err
				}
				m.Seconds += int64(i + 1)
				m.Prepaid++
				c.Meters = []billing.Meter{m}
				meters[k] = m
			case op < 8: // the first live package drawn from
				var p billing.Package
				found := false
				if err := r.LivePackages(func(q billing.Package) bool { p, found = q, true; return false }); err != nil {
					return billing.Changes{}, err
				}
				if !found {
					return c, nil
				}
				p.Balance--
				c.Packages = []billing.Package{p}
				packages[p.ID] = p
			default: // a new package, deducted before the others half the time
				pEnd := end.Add(time.Duration(rnd.IntN(1000)) * time.Hour)
				if rnd.IntN(2) == 0 {
					pEnd = t0.Add(time.Duration(i+1) * time.Minute)
				}
				p := billing.Package{ID: fmt.Sprint("p", i), Minutes: 5, Balance: 1 + int64(rnd.IntN(5)), Currency: "USD", PurchasedAt: t0, End: pEnd}
				c.Packages = []billing.Package{p}
				packages[p.ID] = p
			}
			return c, nil
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
