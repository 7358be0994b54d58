package billingtest_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/billingtest"
	"github.com/rtcbill/billing/memstore"
	"github.com/shopspring/decimal"
)

// promises are the promises of the billing.Store contract: those of the
// Store doc, of the Changes doc (records without the Account, empty
// Changes, create or replace by ID and Key, Seqs in increasing order) and
// of the Reader and
// Prefetcher methods. Every one has at least one flaw below.
var promises = []string{
	"atomicity", "isolation", "unique keys", "snapshot reads", "no aliasing", "exact durability", "cancellation",
	"Seqs increase", "ids are bytes", "changes hold the account", "empty changes", "create or replace",
	"not found", "Meter", "Meters", "LivePackages", "Packages", "Entries", "Usages", "Checkpoints", "Days", "Bills", "fn stops",
	"Prefetch",
}

// flaw is a Store that breaks one promise of the contract: memstore, with
// one thing done wrong the way a plausible Store would do it wrong.
type flaw struct {
	name    string
	promise string // one of promises
	// caughtBy is the subtest of billingtest.TestStore that must fail on it.
	caughtBy string
	store    func(billing.Store) billing.Store
}

var flaws = []flaw{
	{"fn's error committed", "atomicity", "Atomicity", func(s billing.Store) billing.Store { return errorCommitted{s} }},
	{"half-applied commit", "atomicity", "Atomicity", func(s billing.Store) billing.Store { return halfApplied{s} }},
	{"Purchases dropped", "atomicity", "ExactReadBack", writes(dropPurchases)},
	{"no lock, no version check", "isolation", "Isolation", func(s billing.Store) billing.Store { return unlocked{s} }},
	{"versions unchecked", "isolation", "UniqueKeysAndVersions", writes(anyVersion)},
	{"one lock for all accounts", "isolation", "AccountsInParallel", func(s billing.Store) billing.Store { return &oneLock{Store: s} }},
	{"usage ids upserted", "unique keys", "UniqueKeysAndVersions", writes(usageUpsert)},
	{"purchase ids upserted", "unique keys", "UniqueKeysAndVersions", writes(purchaseUpsert)},
	{"ledger Seq upserted", "unique keys", "UniqueKeysAndVersions", writes(seqUpsert)},
	{"bill days upserted", "unique keys", "UniqueKeysAndVersions", writes(billUpsert)},
	{"usage id repeated in Changes kept once", "unique keys", "RepeatedKeys", writes(usageOnce)},
	{"purchase id repeated in Changes kept once", "unique keys", "RepeatedKeys", writes(purchaseOnce)},
	{"Seq repeated in Changes kept once", "unique keys", "RepeatedKeys", writes(seqOnce)},
	{"Seqs out of order sorted", "Seqs increase", "SeqsIncrease", writes(seqsSorted)},
	{"bill day repeated in Changes kept once", "unique keys", "RepeatedKeys", writes(billOnce)},
	{"package repeated in Changes, the last kept", "create or replace", "RepeatedRecords", writes(packageOnce)},
	{"checkpoint repeated in Changes, the last kept", "create or replace", "RepeatedRecords", writes(checkpointOnce)},
	{"usage ids shared by accounts", "unique keys", "AccountsApart", sharedUsages},
	{"usage ids case-folded", "ids are bytes", "IDsAreBytes", mappedIDs(strings.ToLower)},
	{"usage ids trimmed", "ids are bytes", "IDsAreBytes", mappedIDs(strings.TrimSpace)},
	{"usage ids normalized (NFC)", "ids are bytes", "IDsAreBytes", mappedIDs(nfc)},
	{"stale reads", "snapshot reads", "SnapshotReads", staleMeters},
	{"reads at read committed", "snapshot reads", "SnapshotReads", func(s billing.Store) billing.Store { return readCommitted{s} }},
	{"lost package writes", "create or replace", "PackagesInDeductionOrder", writes(insertOnlyPackages)},
	{"lost meter writes", "create or replace", "ReadModifyWrite", writes(insertOnlyMeters)},
	{"keeps the Changes' slices", "no aliasing", "NoAliasing", keepsDraws},
	{"keeps the Changes' Account", "no aliasing", "NoAliasing", keepsAccount},
	{"hands out shared slices", "no aliasing", "NoAliasing", sharesDraws},
	{"hands out shared arrears references", "no aliasing", "NoAliasing", sharesArrearsRefs},
	{"sorts the caller's Meters", "no aliasing", "NoAliasing", writes(sortsMeters)},
	{"times to microseconds", "exact durability", "ExactReadBack", writes(micros)},
	{"decimals through float64", "exact durability", "ExactReadBack", writes(floats)},
	{"checkpoints' Usages dropped", "exact durability", "ExactReadBack", writes(checkpointUsagesDropped)},
	{"accounts' Arrears dropped", "exact durability", "ExactReadBack", writes(arrearsDropped)},
	{"refunds' amounts to 2 decimals", "exact durability", "ExactReadBack", writes(refundsRounded)},
	{"checkpoints' Usages in byte order", "exact durability", "ExactReadBack", writes(checkpointUsagesSorted)},
	{"ignores cancellation", "cancellation", "Cancellation", func(s billing.Store) billing.Store { return uncancelled{s} }},
	{"cancellation checked before fn only", "cancellation", "Cancellation", func(s billing.Store) billing.Store { return checkedFirst{s} }},
	{"Changes without the Account applied", "changes hold the account", "ChangesWithoutAccount", writes(accountAdded)},
	{"empty Changes bump the Version", "empty changes", "EmptyChanges", writes(emptyBumps)},
	{"empty Changes create the account", "empty changes", "EmptyChanges", writes(emptyCreates)},
	{"empty Changes refused", "empty changes", "EmptyChanges", writes(accountRequired)},
	{"missing usage as a zero record", "not found", "ExactReadBack", reads(func(r billing.Reader) billing.Reader { return zeroUsage{r} })},
	{"missing account as a zero record", "not found", "AccountsApart", reads(func(r billing.Reader) billing.Reader { return zeroAccount{r} })},
	{"unwritten meter without its key", "Meter", "ExactReadBack", reads(func(r billing.Reader) billing.Reader { return keylessMeter{r} })},
	{"meters of the next day too", "Meters", "MetersOfADay", reads(func(r billing.Reader) billing.Reader { return nextDayMeters{r} })},
	{"meters in reverse order", "Meters", "MetersOfADay", reads(func(r billing.Reader) billing.Reader { return reversedMeters{r} })},
	{"live packages by id", "LivePackages", "PackagesInDeductionOrder", reads(func(r billing.Reader) billing.Reader { return liveByID{r} })},
	{"live packages with spent ones", "LivePackages", "PackagesInDeductionOrder", reads(func(r billing.Reader) billing.Reader { return liveWithSpent{r} })},
	{"package ids ordered by a collation", "LivePackages", "PackagesInDeductionOrder", reads(func(r billing.Reader) billing.Reader { return collated{r} })},
	{"packages without spent ones", "Packages", "PackagesInDeductionOrder", reads(func(r billing.Reader) billing.Reader { return packagesLive{r} })},
	{"entries from ignored", "Entries", "EntriesByTime", reads(func(r billing.Reader) billing.Reader { return entriesFrom{r} })},
	{"entries to ignored", "Entries", "EntriesByTime", reads(func(r billing.Reader) billing.Reader { return entriesTo{r} })},
	{"entries to zero as an instant", "Entries", "EntriesByTime", reads(func(r billing.Reader) billing.Reader { return entriesZeroTo{r} })},
	{"entries by time, not Seq", "Entries", "EntriesByTime", reads(func(r billing.Reader) billing.Reader { return entriesByTime{r} })},
	{"usages from ignored", "Usages", "UsagesInOrder", reads(func(r billing.Reader) billing.Reader { return usagesFrom{r} })},
	{"usages to ignored", "Usages", "UsagesInOrder", reads(func(r billing.Reader) billing.Reader { return usagesTo{r} })},
	{"usages ordered by id, not time", "Usages", "UsagesInOrder", reads(func(r billing.Reader) billing.Reader { return usagesByID{r} })},
	{"usage ids ordered by a collation", "Usages", "UsagesInOrder", reads(func(r billing.Reader) billing.Reader { return usagesCollated{r} })},
	{"checkpoints from the first", "Checkpoints", "CheckpointsInOrder", reads(func(r billing.Reader) billing.Reader { return checkpointsAll{r} })},
	{"checkpoints from the first after the key", "Checkpoints", "CheckpointsInOrder", reads(func(r billing.Reader) billing.Reader { return checkpointsAfter{r} })},
	{"checkpoints by time and id, not class", "Checkpoints", "CheckpointsInOrder", reads(func(r billing.Reader) billing.Reader { return checkpointsNoClass{r} })},
	{"hands out shared checkpoint slices", "no aliasing", "NoAliasing", sharesCheckpoints},
	{"keeps the checkpoints' Usages", "no aliasing", "NoAliasing", keepsCheckpointUsages},
	{"days from ignored", "Days", "DaysInRange", reads(func(r billing.Reader) billing.Reader { return daysFrom{r} })},
	{"days to ignored", "Days", "DaysInRange", reads(func(r billing.Reader) billing.Reader { return daysTo{r} })},
	{"bills from ignored", "Bills", "BillsInRange", reads(func(r billing.Reader) billing.Reader { return billsFrom{r} })},
	{"bills to ignored", "Bills", "BillsInRange", reads(func(r billing.Reader) billing.Reader { return billsTo{r} })},
	{"fn's stop ignored", "fn stops", "StopWhenFnReturnsFalse", reads(func(r billing.Reader) billing.Reader { return noStop{r} })},
	{"prefetched usages kept across units", "Prefetch", "Prefetch", stalePrefetch},
}

// flawEnv names the flaw TestFlawedStore runs the suite on, in the
// process TestSuiteCatchesFlaws starts for it.
const flawEnv = "BILLINGTEST_FLAW"

// TestFlawedStore runs the conformance suite on the flawed Store named by
// $BILLINGTEST_FLAW; without it, it does nothing.
func TestFlawedStore(t *testing.T) {
	name := os.Getenv(flawEnv)
	if name == "" {
		t.Skip(flawEnv + " is not set: TestSuiteCatchesFlaws runs this test")
	}
	i := slices.IndexFunc(flaws, func(f flaw) bool { return f.name == name })
	if i < 0 {
		t.Fatalf("no flaw %q", name)
	}
	billingtest.TestStore(t, func(*testing.T) billing.Store { return flaws[i].store(memstore.New()) })
}

var failedSubtest = regexp.MustCompile(`--- FAIL: TestFlawedStore/(\S+)`)

// TestSuiteCatchesFlaws runs the conformance suite on each flawed Store,
// each in a process of its own (this test binary, running TestFlawedStore),
// and checks that the suite fails, in the subtest of the broken promise,
// without panicking.
func TestSuiteCatchesFlaws(t *testing.T) {
	if raceEnabled {
		t.Skip("the suite's runs are checked without the race detector (nothing here races)")
	}
	for _, p := range promises {
		if !slices.ContainsFunc(flaws, func(f flaw) bool { return f.promise == p }) {
			t.Errorf("no flaw breaks the promise %q", p)
		}
	}
	for _, f := range flaws {
		if !slices.Contains(promises, f.promise) {
			t.Errorf("the flaw %q breaks %q, not a promise of the list", f.name, f.promise)
		}
	}
	var mu sync.Mutex
	caught := 0
	t.Cleanup(func() { t.Logf("flaws caught: %d of %d", caught, len(flaws)) })
	for _, f := range flaws {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestFlawedStore$", "-test.count=1", "-test.v", "-test.timeout=5m")
			cmd.Env = append(os.Environ(), flawEnv+"="+f.name)
			out, err := cmd.CombinedOutput()
			var failed []string
			for _, m := range failedSubtest.FindAllStringSubmatch(string(out), -1) {
				if top, _, _ := strings.Cut(m[1], "/"); !slices.Contains(failed, top) {
					failed = append(failed, top)
				}
			}
			switch {
			case err == nil:
				t.Errorf("the suite passes the flawed Store %q (it breaks %s)", f.name, f.promise)
			case strings.Contains(string(out), "\npanic: "):
				t.Errorf("the suite panicked on the flawed Store %q:\n%s", f.name, out)
			case !slices.Contains(failed, f.caughtBy):
				t.Errorf("the suite failed in %v, not in %s, on the flawed Store %q:\n%s", failed, f.caughtBy, f.name, out)
			default:
				t.Logf("caught by %v", failed)
				mu.Lock()
				caught++
				mu.Unlock()
			}
		})
	}
}

// wrapped is a Store whose units of work and views see the Reader through
// reader, whose Changes pass through changes before they are applied, and
// which tells applied the Changes of each unit of work applied. Each hook
// is optional, and is told the account.
type wrapped struct {
	billing.Store
	reader  func(r billing.Reader, account string) billing.Reader
	changes func(r billing.Reader, account string, c billing.Changes) (billing.Changes, error)
	applied func(account string, c billing.Changes)
}

func (s wrapped) read(r billing.Reader, account string) billing.Reader {
	if s.reader == nil {
		return r
	}
	return s.reader(r, account)
}

func (s wrapped) Update(ctx context.Context, id string, fn func(billing.Reader) (billing.Changes, error)) error {
	var c billing.Changes
	err := s.Store.Update(ctx, id, func(r billing.Reader) (billing.Changes, error) {
		var err error
		c, err = fn(s.read(r, id))
		if err == nil && s.changes != nil {
			c, err = s.changes(r, id, c)
		}
		return c, err
	})
	if err == nil && s.applied != nil {
		s.applied(id, c)
	}
	return err
}

func (s wrapped) View(ctx context.Context, id string, fn func(billing.Reader) error) error {
	return s.Store.View(ctx, id, func(r billing.Reader) error { return fn(s.read(r, id)) })
}

// reads returns a Store whose units of work and views see their Reader
// through w.
func reads(w func(billing.Reader) billing.Reader) func(billing.Store) billing.Store {
	return func(s billing.Store) billing.Store {
		return wrapped{Store: s, reader: func(r billing.Reader, _ string) billing.Reader { return w(r) }}
	}
}

// writes returns a Store that applies what w makes of the Changes fn
// returns; w reads the stored records through r (the state before the unit).
func writes(w func(r billing.Reader, account string, c billing.Changes) (billing.Changes, error)) func(billing.Store) billing.Store {
	return func(s billing.Store) billing.Store { return wrapped{Store: s, changes: w} }
}

// nextAccount returns a with the Version after the stored one (1 for a new
// account).
func nextAccount(r billing.Reader, a billing.Account) *billing.Account {
	a.Version = 1
	if stored, err := r.Account(); err == nil {
		a.Version = stored.Version + 1
	}
	return &a
}

// Atomicity.

// errorCommitted applies the Changes fn returned even when fn fails.
type errorCommitted struct{ billing.Store }

func (s errorCommitted) Update(ctx context.Context, id string, fn func(billing.Reader) (billing.Changes, error)) error {
	var fnErr error
	err := s.Store.Update(ctx, id, func(r billing.Reader) (billing.Changes, error) {
		c, err := fn(r)
		fnErr = err
		return c, nil
	})
	return cmp.Or(fnErr, err)
}

// halfApplied applies the account, packages and meters of the Changes,
// then, in a second unit of work, its records with keys: a duplicate key
// fails the second, and the first stays.
type halfApplied struct{ billing.Store }

func (s halfApplied) Update(ctx context.Context, id string, fn func(billing.Reader) (billing.Changes, error)) error {
	var rest billing.Changes
	err := s.Store.Update(ctx, id, func(r billing.Reader) (billing.Changes, error) {
		c, err := fn(r)
		rest = billing.Changes{Usages: c.Usages, Purchases: c.Purchases, Entries: c.Entries, Bills: c.Bills}
		return billing.Changes{Account: c.Account, Packages: c.Packages, Meters: c.Meters}, err
	})
	if err != nil || rest.Empty() {
		return err
	}
	return s.Store.Update(ctx, id, func(r billing.Reader) (billing.Changes, error) {
		a, err := r.Account()
		if err != nil {
			return billing.Changes{}, err
		}
		rest.Account = nextAccount(r, a)
		return rest, nil
	})
}

// dropPurchases forgets a field of the Changes it does not know.
func dropPurchases(_ billing.Reader, _ string, c billing.Changes) (billing.Changes, error) {
	c.Purchases = nil
	return c, nil
}

// checkpointUsagesDropped forgets the checkpoints' newest field (as a
// Store whose schema lacks its column would).
func checkpointUsagesDropped(_ billing.Reader, _ string, c billing.Changes) (billing.Changes, error) {
	c.Checkpoints = slices.Clone(c.Checkpoints)
	for i := range c.Checkpoints {
		c.Checkpoints[i].Usages = nil
	}
	return c, nil
}

// arrearsDropped stores accounts without their Arrears (a column
// forgotten in a migration).
func arrearsDropped(_ billing.Reader, _ string, c billing.Changes) (billing.Changes, error) {
	if c.Account != nil {
		a := *c.Account
		a.Arrears = nil
		c.Account = &a
	}
	return c, nil
}

// refundsRounded stores the amounts of accounts' refunds to 2 decimals (a
// NUMERIC(20, 2) column), the unit price and discount among them.
func refundsRounded(_ billing.Reader, _ string, c billing.Changes) (billing.Changes, error) {
	if c.Account != nil {
		a := *c.Account
		a.Refunds = slices.Clone(a.Refunds)
		for i := range a.Refunds {
			r := &a.Refunds[i]
			r.UnitPrice, r.Discount, r.Used, r.Amount = r.UnitPrice.Round(2), r.Discount.Round(2), r.Used.Round(2), r.Amount.Round(2)
		}
		c.Account = &a
	}
	return c, nil
}

// checkpointUsagesSorted stores the checkpoints' usage ids in byte order
// (as a set, or an array aggregated in the order of an index, would).
func checkpointUsagesSorted(_ billing.Reader, _ string, c billing.Changes) (billing.Changes, error) {
	c.Checkpoints = slices.Clone(c.Checkpoints)
	for i := range c.Checkpoints {
		c.Checkpoints[i].Usages = slices.Sorted(slices.Values(c.Checkpoints[i].Usages))
	}
	return c, nil
}

// Isolation.

// unlocked runs fn on a view, then applies its Changes in a unit of work
// of its own, over whatever was applied in between (the Account's Version
// set to follow the stored one).
type unlocked struct{ billing.Store }

func (s unlocked) Update(ctx context.Context, id string, fn func(billing.Reader) (billing.Changes, error)) error {
	var c billing.Changes
	err := s.Store.View(ctx, id, func(r billing.Reader) error {
		var err error
		c, err = fn(r)
		return err
	})
	if err != nil {
		return err
	}
	runtime.Gosched()
	return s.Store.Update(ctx, id, func(r billing.Reader) (billing.Changes, error) { return anyVersion(r, id, c) })
}

// oneLock runs one unit of work or view at a time, whatever its account.
type oneLock struct {
	billing.Store
	mu sync.Mutex
}

func (s *oneLock) Update(ctx context.Context, id string, fn func(billing.Reader) (billing.Changes, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Store.Update(ctx, id, fn)
}

func (s *oneLock) View(ctx context.Context, id string, fn func(billing.Reader) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Store.View(ctx, id, fn)
}

// anyVersion writes the account at the version after the stored one,
// whatever version it was given.
func anyVersion(r billing.Reader, _ string, c billing.Changes) (billing.Changes, error) {
	if c.Account != nil {
		c.Account = nextAccount(r, *c.Account)
	}
	return c, nil
}

// Unique keys.

// usageUpsert, purchaseUpsert, seqUpsert and billUpsert drop a record whose
// key is stored (INSERT ... ON CONFLICT DO NOTHING).
func usageUpsert(r billing.Reader, _ string, c billing.Changes) (billing.Changes, error) {
	c.Usages = slices.DeleteFunc(slices.Clone(c.Usages), func(u billing.UsageRecord) bool {
		_, err := r.Usage(u.Usage.ID)
		return err == nil
	})
	return c, nil
}

func purchaseUpsert(r billing.Reader, _ string, c billing.Changes) (billing.Changes, error) {
	c.Purchases = slices.DeleteFunc(slices.Clone(c.Purchases), func(p billing.PurchaseRecord) bool {
		_, err := r.Purchase(p.Purchase.ID)
		return err == nil
	})
	return c, nil
}

func seqUpsert(r billing.Reader, _ string, c billing.Changes) (billing.Changes, error) {
	c.Entries = slices.DeleteFunc(slices.Clone(c.Entries), func(e billing.Entry) bool {
		stored := false
		_ = r.Entries(time.Time{}, time.Time{}, func(o billing.Entry) bool { stored = o.Seq == e.Seq; return !stored })
		return stored
	})
	return c, nil
}

func billUpsert(r billing.Reader, _ string, c billing.Changes) (billing.Changes, error) {
	c.Bills = slices.DeleteFunc(slices.Clone(c.Bills), func(b billing.Bill) bool {
		_, err := r.Bill(b.Day)
		return err == nil
	})
	return c, nil
}

// once keeps the last of the values with the same key, where the first
// was (a map keyed by id, or INSERT ... ON CONFLICT DO UPDATE in one
// statement).
func once[T any, K comparable](vs []T, key func(T) K) []T {
	var out []T
	at := map[K]int{}
	for _, v := range vs {
		if i, ok := at[key(v)]; ok {
			out[i] = v
			continue
		}
		at[key(v)] = len(out)
		out = append(out, v)
	}
	return out
}

// usageOnce, purchaseOnce, seqOnce and billOnce accept Changes that hold
// a key twice, and apply one of the two records.
func usageOnce(_ billing.Reader, _ string, c billing.Changes) (billing.Changes, error) {
	c.Usages = once(c.Usages, func(u billing.UsageRecord) string { return u.Usage.ID })
	return c, nil
}

func purchaseOnce(_ billing.Reader, _ string, c billing.Changes) (billing.Changes, error) {
	c.Purchases = once(c.Purchases, func(p billing.PurchaseRecord) string { return p.Purchase.ID })
	return c, nil
}

// packageOnce keeps the last of the writes of one package.
func packageOnce(_ billing.Reader, _ string, c billing.Changes) (billing.Changes, error) {
	c.Packages = once(c.Packages, func(p billing.Package) string { return p.ID })
	return c, nil
}

func checkpointOnce(_ billing.Reader, _ string, c billing.Changes) (billing.Changes, error) {
	c.Checkpoints = once(c.Checkpoints, func(k billing.Checkpoint) billing.OpKey { k.Key.At = k.Key.At.UTC(); return k.Key })
	return c, nil
}

func seqOnce(_ billing.Reader, _ string, c billing.Changes) (billing.Changes, error) {
	c.Entries = once(c.Entries, func(e billing.Entry) int64 { return e.Seq })
	return c, nil
}

func billOnce(_ billing.Reader, _ string, c billing.Changes) (billing.Changes, error) {
	c.Bills = once(c.Bills, func(b billing.Bill) billing.Day { return b.Day })
	return c, nil
}

// seqsSorted sorts the Entries of the Changes by Seq (a copy) before it
// appends them: it checks that each Seq is new, not that it follows the one
// before it.
func seqsSorted(_ billing.Reader, _ string, c billing.Changes) (billing.Changes, error) {
	c.Entries = slices.SortedStableFunc(slices.Values(c.Entries), func(x, y billing.Entry) int { return cmp.Compare(x.Seq, y.Seq) })
	return c, nil
}

// sharedUsages keys usage records by id alone, forgetting the account.
func sharedUsages(s billing.Store) billing.Store {
	var mu sync.Mutex
	usages := map[string]billing.UsageRecord{}
	return wrapped{
		Store: s,
		reader: func(r billing.Reader, _ string) billing.Reader {
			return usageLookup{r, func(id string) (billing.UsageRecord, error) {
				mu.Lock()
				defer mu.Unlock()
				if u, ok := usages[id]; ok {
					return u, nil
				}
				return billing.UsageRecord{}, fmt.Errorf("usage %q: %w", id, billing.ErrNotFound)
			}}
		},
		changes: func(_ billing.Reader, _ string, c billing.Changes) (billing.Changes, error) {
			mu.Lock()
			defer mu.Unlock()
			for _, u := range c.Usages {
				if _, dup := usages[u.Usage.ID]; dup {
					return c, fmt.Errorf("usage %q: %w", u.Usage.ID, billing.ErrExists)
				}
			}
			return c, nil
		},
		applied: func(_ string, c billing.Changes) {
			mu.Lock()
			defer mu.Unlock()
			for _, u := range c.Usages {
				usages[u.Usage.ID] = u
			}
		},
	}
}

// usageLookup is a Reader whose Usage is usage.
type usageLookup struct {
	billing.Reader
	usage func(id string) (billing.UsageRecord, error)
}

func (r usageLookup) Usage(id string) (billing.UsageRecord, error) { return r.usage(id) }

// Ids are bytes.

// mappedIDs stores and looks usage ids up through key, as a unique index
// under a collation that folds case, trims or normalizes would.
func mappedIDs(key func(string) string) func(billing.Store) billing.Store {
	return func(s billing.Store) billing.Store {
		return wrapped{
			Store: s,
			reader: func(r billing.Reader, _ string) billing.Reader {
				return usageLookup{r, func(id string) (billing.UsageRecord, error) { return r.Usage(key(id)) }}
			},
			changes: func(_ billing.Reader, _ string, c billing.Changes) (billing.Changes, error) {
				c.Usages = slices.Clone(c.Usages)
				for i := range c.Usages {
					c.Usages[i].Usage.ID = key(c.Usages[i].Usage.ID)
				}
				return c, nil
			},
		}
	}
}

// nfc composes e and a combining acute accent into é: enough of Unicode
// normalization form C for the ids of the suite.
func nfc(s string) string { return strings.ReplaceAll(s, "e\u0301", "\u00e9") }

// Snapshot reads.

// staleMeters caches each meter at its first read, and never forgets it.
func staleMeters(s billing.Store) billing.Store {
	var mu sync.Mutex
	cache := map[string]billing.Meter{}
	return wrapped{Store: s, reader: func(r billing.Reader, id string) billing.Reader {
		return meterLookup{r, func(k billing.MeterKey) (billing.Meter, error) {
			mu.Lock()
			defer mu.Unlock()
			if m, ok := cache[fmt.Sprint(id, k)]; ok {
				return m, nil
			}
			m, err := r.Meter(k)
			if err == nil {
				cache[fmt.Sprint(id, k)] = m
			}
			return m, err
		}}
	}}
}

// meterLookup is a Reader whose Meter is meter.
type meterLookup struct {
	billing.Reader
	meter func(billing.MeterKey) (billing.Meter, error)
}

func (r meterLookup) Meter(k billing.MeterKey) (billing.Meter, error) { return r.meter(k) }

// readCommitted reads each record in a view of its own, as a SQL Store
// running each statement of a unit of work at READ COMMITTED would, and
// applies the Changes in a unit of work of its own, which the stored
// Version guards (optimistically).
type readCommitted struct{ billing.Store }

func (s readCommitted) Update(ctx context.Context, id string, fn func(billing.Reader) (billing.Changes, error)) error {
	c, err := fn(committed{ctx, s.Store, id})
	if err != nil {
		return err
	}
	return s.Store.Update(ctx, id, func(billing.Reader) (billing.Changes, error) { return c, nil })
}

func (s readCommitted) View(ctx context.Context, id string, fn func(billing.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return fn(committed{ctx, s.Store, id})
}

// committed is a Reader that reads each time in a new view.
type committed struct {
	ctx context.Context
	s   billing.Store
	id  string
}

// in reads with fn in a new view, and returns what fn read.
func in[T any](r committed, fn func(billing.Reader) (T, error)) (T, error) {
	var v T
	err := r.s.View(r.ctx, r.id, func(rd billing.Reader) error {
		var err error
		v, err = fn(rd)
		return err
	})
	return v, err
}

func (r committed) Account() (billing.Account, error) {
	return in(r, func(rd billing.Reader) (billing.Account, error) { return rd.Account() })
}

func (r committed) Usage(id string) (billing.UsageRecord, error) {
	return in(r, func(rd billing.Reader) (billing.UsageRecord, error) { return rd.Usage(id) })
}

func (r committed) Purchase(id string) (billing.PurchaseRecord, error) {
	return in(r, func(rd billing.Reader) (billing.PurchaseRecord, error) { return rd.Purchase(id) })
}

func (r committed) Meter(k billing.MeterKey) (billing.Meter, error) {
	return in(r, func(rd billing.Reader) (billing.Meter, error) { return rd.Meter(k) })
}

func (r committed) Bill(d billing.Day) (billing.Bill, error) {
	return in(r, func(rd billing.Reader) (billing.Bill, error) { return rd.Bill(d) })
}

func (r committed) Meters(d billing.Day, fn func(billing.Meter) bool) error {
	return r.s.View(r.ctx, r.id, func(rd billing.Reader) error { return rd.Meters(d, fn) })
}

func (r committed) LivePackages(fn func(billing.Package) bool) error {
	return r.s.View(r.ctx, r.id, func(rd billing.Reader) error { return rd.LivePackages(fn) })
}

func (r committed) Packages(fn func(billing.Package) bool) error {
	return r.s.View(r.ctx, r.id, func(rd billing.Reader) error { return rd.Packages(fn) })
}

func (r committed) Entries(from, to time.Time, fn func(billing.Entry) bool) error {
	return r.s.View(r.ctx, r.id, func(rd billing.Reader) error { return rd.Entries(from, to, fn) })
}

func (r committed) Usages(from, to time.Time, fn func(billing.UsageRecord) bool) error {
	return r.s.View(r.ctx, r.id, func(rd billing.Reader) error { return rd.Usages(from, to, fn) })
}

func (r committed) Days(from, to billing.Day, fn func(billing.Day) bool) error {
	return r.s.View(r.ctx, r.id, func(rd billing.Reader) error { return rd.Days(from, to, fn) })
}

func (r committed) Bills(from, to billing.Day, fn func(billing.Bill) bool) error {
	return r.s.View(r.ctx, r.id, func(rd billing.Reader) error { return rd.Bills(from, to, fn) })
}

func (r committed) Checkpoints(at billing.OpKey, fn func(billing.Checkpoint) bool) error {
	return r.s.View(r.ctx, r.id, func(rd billing.Reader) error { return rd.Checkpoints(at, fn) })
}

// Create or replace.

// insertOnlyPackages and insertOnlyMeters drop the write of a package or a
// meter that is stored (INSERT ... ON CONFLICT DO NOTHING).
func insertOnlyPackages(r billing.Reader, _ string, c billing.Changes) (billing.Changes, error) {
	stored := map[string]bool{}
	if err := r.Packages(func(p billing.Package) bool { stored[p.ID] = true; return true }); err != nil {
		return c, err
	}
	c.Packages = slices.DeleteFunc(slices.Clone(c.Packages), func(p billing.Package) bool { return stored[p.ID] })
	return c, nil
}

func insertOnlyMeters(r billing.Reader, _ string, c billing.Changes) (billing.Changes, error) {
	c.Meters = slices.DeleteFunc(slices.Clone(c.Meters), func(m billing.Meter) bool {
		stored, err := r.Meter(m.Key)
		return err == nil && stored != (billing.Meter{Key: m.Key})
	})
	return c, nil
}

// No aliasing.

// keepsDraws keeps the Draws slice of the usage records of the Changes,
// and hands it out with the record.
func keepsDraws(s billing.Store) billing.Store {
	var mu sync.Mutex
	draws := map[string][]billing.Draw{}
	return wrapped{
		Store: s,
		reader: func(r billing.Reader, account string) billing.Reader {
			return usageLookup{r, func(id string) (billing.UsageRecord, error) {
				u, err := r.Usage(id)
				mu.Lock()
				defer mu.Unlock()
				if d, ok := draws[account+"/"+id]; ok && err == nil {
					u.Receipt.Draws = d
				}
				return u, err
			}}
		},
		applied: func(account string, c billing.Changes) {
			mu.Lock()
			defer mu.Unlock()
			for _, u := range c.Usages {
				draws[account+"/"+u.Usage.ID] = u.Receipt.Draws
			}
		},
	}
}

// keepsAccount keeps the Account of the Changes it applied, the caller's
// pointer, and reads the account through it.
func keepsAccount(s billing.Store) billing.Store {
	var mu sync.Mutex
	kept := map[string]*billing.Account{}
	return wrapped{
		Store: s,
		reader: func(r billing.Reader, account string) billing.Reader {
			return accountLookup{r, func() (billing.Account, error) {
				a, err := r.Account()
				mu.Lock()
				defer mu.Unlock()
				if p, ok := kept[account]; ok && err == nil {
					return *p, nil
				}
				return a, err
			}}
		},
		applied: func(account string, c billing.Changes) {
			if c.Account != nil {
				mu.Lock()
				defer mu.Unlock()
				kept[account] = c.Account
			}
		},
	}
}

// accountLookup is a Reader whose Account is account.
type accountLookup struct {
	billing.Reader
	account func() (billing.Account, error)
}

func (r accountLookup) Account() (billing.Account, error) { return r.account() }

// sharesDraws hands every reader of a usage record the same record, Draws
// slice and all.
func sharesDraws(s billing.Store) billing.Store {
	var mu sync.Mutex
	cache := map[string]billing.UsageRecord{}
	return wrapped{Store: s, reader: func(r billing.Reader, account string) billing.Reader {
		return usageLookup{r, func(id string) (billing.UsageRecord, error) {
			mu.Lock()
			defer mu.Unlock()
			if u, ok := cache[account+"/"+id]; ok {
				return u, nil
			}
			u, err := r.Usage(id)
			if err == nil {
				cache[account+"/"+id] = u
			}
			return u, err
		}}
	}}
}

// sharesArrearsRefs copies the account's Arrears it hands out, but not
// the references inside them: each list of references read is kept, and
// handed out again while it reads the same.
func sharesArrearsRefs(s billing.Store) billing.Store {
	var mu sync.Mutex
	kept := map[string][]string{}
	return wrapped{Store: s, reader: func(r billing.Reader, account string) billing.Reader {
		return accountLookup{r, func() (billing.Account, error) {
			a, err := r.Account()
			mu.Lock()
			defer mu.Unlock()
			for i := range a.Arrears {
				k := fmt.Sprint(account, "/", i)
				if refs, ok := kept[k]; ok && len(refs) == len(a.Arrears[i].Refs) {
					a.Arrears[i].Refs = refs
				} else {
					kept[k] = a.Arrears[i].Refs
				}
			}
			return a, err
		}}
	}}
}

// sortsMeters sorts the caller's Meters by key, in place, to write them in
// the order of the primary key (as a SQL Store avoiding deadlocks would).
func sortsMeters(_ billing.Reader, _ string, c billing.Changes) (billing.Changes, error) {
	slices.SortFunc(c.Meters, func(x, y billing.Meter) int {
		return cmp.Or(cmp.Compare(x.Key.Day, y.Key.Day), strings.Compare(string(x.Key.Service), string(y.Key.Service)),
			strings.Compare(string(x.Key.Tier), string(y.Key.Tier)))
	})
	return c, nil
}

// Exact durability.

// micros stores the account's and the ledger's times to the microsecond
// (as PostgreSQL's timestamptz does).
func micros(_ billing.Reader, _ string, c billing.Changes) (billing.Changes, error) {
	if c.Account != nil {
		a := *c.Account
		a.Opened, a.Touched = a.Opened.Truncate(time.Microsecond), a.Touched.Truncate(time.Microsecond)
		c.Account = &a
	}
	c.Entries = slices.Clone(c.Entries)
	for i := range c.Entries {
		c.Entries[i].At = c.Entries[i].At.Truncate(time.Microsecond)
	}
	return c, nil
}

// floats stores prices and amounts as float64.
func floats(_ billing.Reader, _ string, c billing.Changes) (billing.Changes, error) {
	float := func(d decimal.Decimal) decimal.Decimal { return decimal.NewFromFloat(d.InexactFloat64()) }
	c.Packages, c.Entries = slices.Clone(c.Packages), slices.Clone(c.Entries)
	for i := range c.Packages {
		c.Packages[i].Price = float(c.Packages[i].Price)
	}
	for i := range c.Entries {
		c.Entries[i].Amount = float(c.Entries[i].Amount)
	}
	return c, nil
}

// Cancellation.

// uncancelled ignores its context.
type uncancelled struct{ billing.Store }

func (s uncancelled) Update(_ context.Context, id string, fn func(billing.Reader) (billing.Changes, error)) error {
	return s.Store.Update(context.Background(), id, fn)
}

func (s uncancelled) View(_ context.Context, id string, fn func(billing.Reader) error) error {
	return s.Store.View(context.Background(), id, fn)
}

// checkedFirst looks at its context before it starts, and never again.
type checkedFirst struct{ billing.Store }

func (s checkedFirst) Update(ctx context.Context, id string, fn func(billing.Reader) (billing.Changes, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.Store.Update(context.Background(), id, fn)
}

func (s checkedFirst) View(ctx context.Context, id string, fn func(billing.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.Store.View(context.Background(), id, fn)
}

// Changes hold the account.

// accountAdded applies records without the Account: it writes the stored
// account (or a new one) at its next Version with them.
func accountAdded(r billing.Reader, id string, c billing.Changes) (billing.Changes, error) {
	if c.Account == nil && !c.Empty() {
		a, err := r.Account()
		if err != nil {
			a = billing.Account{ID: id}
		}
		c.Account = nextAccount(r, a)
	}
	return c, nil
}

// Empty changes.

// emptyBumps writes the account at its next Version for empty Changes.
func emptyBumps(r billing.Reader, _ string, c billing.Changes) (billing.Changes, error) {
	if a, err := r.Account(); err == nil && c.Empty() {
		c.Account = nextAccount(r, a)
	}
	return c, nil
}

// emptyCreates creates the account on empty Changes (the row made as a
// unit of work starts).
func emptyCreates(r billing.Reader, id string, c billing.Changes) (billing.Changes, error) {
	if _, err := r.Account(); errors.Is(err, billing.ErrNotFound) && c.Empty() {
		c.Account = &billing.Account{ID: id, Version: 1}
	}
	return c, nil
}

// accountRequired refuses any Changes without the Account, empty ones too.
func accountRequired(_ billing.Reader, id string, c billing.Changes) (billing.Changes, error) {
	if c.Account == nil {
		return c, fmt.Errorf("account %q: Changes without the account", id)
	}
	return c, nil
}

// Reads.

// zeroUsage and zeroAccount return a zero record, not ErrNotFound, for
// one that does not exist.
type (
	zeroUsage   struct{ billing.Reader }
	zeroAccount struct{ billing.Reader }
)

func (r zeroUsage) Usage(id string) (billing.UsageRecord, error) {
	u, err := r.Reader.Usage(id)
	if errors.Is(err, billing.ErrNotFound) {
		return billing.UsageRecord{}, nil
	}
	return u, err
}

func (r zeroAccount) Account() (billing.Account, error) {
	a, err := r.Reader.Account()
	if errors.Is(err, billing.ErrNotFound) {
		return billing.Account{}, nil
	}
	return a, err
}

// keylessMeter returns a meter never written without its key.
type keylessMeter struct{ billing.Reader }

func (r keylessMeter) Meter(k billing.MeterKey) (billing.Meter, error) {
	m, err := r.Reader.Meter(k)
	if m == (billing.Meter{Key: k}) {
		return billing.Meter{}, err
	}
	return m, err
}

// nextDayMeters lists the meters of the next day after a day's.
type nextDayMeters struct{ billing.Reader }

func (r nextDayMeters) Meters(d billing.Day, fn func(billing.Meter) bool) error {
	more := true
	if err := r.Reader.Meters(d, func(m billing.Meter) bool { more = fn(m); return more }); err != nil || !more {
		return err
	}
	return r.Reader.Meters(d+1, fn)
}

// reversedMeters lists a day's meters in reverse order.
type reversedMeters struct{ billing.Reader }

func (r reversedMeters) Meters(d billing.Day, fn func(billing.Meter) bool) error {
	var ms []billing.Meter
	if err := r.Reader.Meters(d, func(m billing.Meter) bool { ms = append(ms, m); return true }); err != nil {
		return err
	}
	for _, m := range slices.Backward(ms) {
		if !fn(m) {
			break
		}
	}
	return nil
}

// sorted calls fn for the packages each lists, in the order of compare,
// until fn returns false.
func sorted(each func(func(billing.Package) bool) error, compare func(p, q billing.Package) int, fn func(billing.Package) bool) error {
	var ps []billing.Package
	if err := each(func(p billing.Package) bool { ps = append(ps, p); return true }); err != nil {
		return err
	}
	slices.SortStableFunc(ps, compare)
	for _, p := range ps {
		if !fn(p) {
			break
		}
	}
	return nil
}

// liveByID lists live packages by id; liveWithSpent lists every package
// as live; collated orders packages with the same End and PurchasedAt by
// id under a case-insensitive collation; packagesLive lists only the live
// ones as all packages.
type (
	liveByID      struct{ billing.Reader }
	liveWithSpent struct{ billing.Reader }
	collated      struct{ billing.Reader }
	packagesLive  struct{ billing.Reader }
)

func (r liveByID) LivePackages(fn func(billing.Package) bool) error {
	return sorted(r.Reader.LivePackages, func(p, q billing.Package) int { return strings.Compare(p.ID, q.ID) }, fn)
}

func (r liveWithSpent) LivePackages(fn func(billing.Package) bool) error {
	return r.Reader.Packages(fn)
}

func byCollation(p, q billing.Package) int {
	return cmp.Or(p.End.Compare(q.End), p.PurchasedAt.Compare(q.PurchasedAt), strings.Compare(strings.ToLower(p.ID), strings.ToLower(q.ID)))
}

func (r collated) LivePackages(fn func(billing.Package) bool) error {
	return sorted(r.Reader.LivePackages, byCollation, fn)
}

func (r collated) Packages(fn func(billing.Package) bool) error {
	return sorted(r.Reader.Packages, byCollation, fn)
}

func (r packagesLive) Packages(fn func(billing.Package) bool) error { return r.Reader.LivePackages(fn) }

// entriesFrom, entriesTo, daysFrom, daysTo, billsFrom and billsTo leave out
// one bound of a range (as SQL with only "<= $to" would).
type (
	entriesFrom struct{ billing.Reader }
	entriesTo   struct{ billing.Reader }
	daysFrom    struct{ billing.Reader }
	daysTo      struct{ billing.Reader }
	billsFrom   struct{ billing.Reader }
	billsTo     struct{ billing.Reader }
)

func (r entriesFrom) Entries(_, to time.Time, fn func(billing.Entry) bool) error {
	return r.Reader.Entries(time.Time{}, to, fn)
}

func (r entriesTo) Entries(from, _ time.Time, fn func(billing.Entry) bool) error {
	return r.Reader.Entries(from, time.Time{}, fn)
}

func (r daysFrom) Days(_, to billing.Day, fn func(billing.Day) bool) error {
	return r.Reader.Days(math.MinInt32, to, fn)
}

func (r daysTo) Days(from, _ billing.Day, fn func(billing.Day) bool) error {
	return r.Reader.Days(from, math.MaxInt32, fn)
}

func (r billsFrom) Bills(_, to billing.Day, fn func(billing.Bill) bool) error {
	return r.Reader.Bills(math.MinInt32, to, fn)
}

func (r billsTo) Bills(from, _ billing.Day, fn func(billing.Bill) bool) error {
	return r.Reader.Bills(from, math.MaxInt32, fn)
}

// usagesFrom and usagesTo leave out one bound of the range.
type (
	usagesFrom struct{ billing.Reader }
	usagesTo   struct{ billing.Reader }
)

func (r usagesFrom) Usages(_, to time.Time, fn func(billing.UsageRecord) bool) error {
	return r.Reader.Usages(time.Time{}, to, fn)
}

func (r usagesTo) Usages(from, _ time.Time, fn func(billing.UsageRecord) bool) error {
	return r.Reader.Usages(from, time.Time{}, fn)
}

// usagesByID orders the usages by id alone (ORDER BY id); usagesCollated
// orders equal times by id under a case-insensitive collation.
type (
	usagesByID     struct{ billing.Reader }
	usagesCollated struct{ billing.Reader }
)

func (r usagesByID) Usages(from, to time.Time, fn func(billing.UsageRecord) bool) error {
	return resorted(r.Reader, from, to, fn, func(x, y billing.UsageRecord) int { return strings.Compare(x.Usage.ID, y.Usage.ID) })
}

func (r usagesCollated) Usages(from, to time.Time, fn func(billing.UsageRecord) bool) error {
	return resorted(r.Reader, from, to, fn, func(x, y billing.UsageRecord) int {
		return cmp.Or(x.Usage.At.Compare(y.Usage.At), strings.Compare(strings.ToLower(x.Usage.ID), strings.ToLower(y.Usage.ID)))
	})
}

// checkpointsAll lists every checkpoint, whatever the key asked.
type checkpointsAll struct{ billing.Reader }

func (r checkpointsAll) Checkpoints(_ billing.OpKey, fn func(billing.Checkpoint) bool) error {
	return r.Reader.Checkpoints(billing.OpKey{}, fn)
}

// checkpointsAfter starts after the key asked (a "> at" for a ">= latest").
type checkpointsAfter struct{ billing.Reader }

func (r checkpointsAfter) Checkpoints(at billing.OpKey, fn func(billing.Checkpoint) bool) error {
	return r.Reader.Checkpoints(at, func(c billing.Checkpoint) bool { return c.Key.Compare(at) <= 0 || fn(c) })
}

// checkpointsNoClass orders checkpoints by time and id only.
type checkpointsNoClass struct{ billing.Reader }

func (r checkpointsNoClass) Checkpoints(at billing.OpKey, fn func(billing.Checkpoint) bool) error {
	var cs []billing.Checkpoint
	if err := r.Reader.Checkpoints(billing.OpKey{}, func(c billing.Checkpoint) bool { cs = append(cs, c); return true }); err != nil {
		return err
	}
	order := func(k billing.OpKey) billing.OpKey { k.Class = 0; return k }
	slices.SortStableFunc(cs, func(x, y billing.Checkpoint) int { return order(x.Key).Compare(order(y.Key)) })
	first := 0
	for i, c := range cs {
		if order(c.Key).Compare(order(at)) <= 0 {
			first = i
		}
	}
	for _, c := range cs[first:] {
		if !fn(c) {
			break
		}
	}
	return nil
}

// sharesCheckpoints hands out the same checkpoints, slices and all, to
// every unit of work and view of an account.
func sharesCheckpoints(s billing.Store) billing.Store {
	var mu sync.Mutex
	cache := map[string][]billing.Checkpoint{}
	return wrapped{Store: s, reader: func(r billing.Reader, account string) billing.Reader {
		return checkpointLookup{r, func(at billing.OpKey, fn func(billing.Checkpoint) bool) error {
			mu.Lock()
			cs, ok := cache[account]
			mu.Unlock()
			if !ok {
				if err := r.Checkpoints(billing.OpKey{}, func(c billing.Checkpoint) bool { cs = append(cs, c); return true }); err != nil {
					return err
				}
				mu.Lock()
				cache[account] = cs
				mu.Unlock()
			}
			for _, c := range cs {
				if !fn(c) {
					break
				}
			}
			return nil
		}}
	}}
}

// keepsCheckpointUsages keeps the Usages slice of the checkpoints of the
// Changes, and hands it out with the checkpoint.
func keepsCheckpointUsages(s billing.Store) billing.Store {
	var mu sync.Mutex
	kept := map[string][]string{}
	name := func(account string, k billing.OpKey) string {
		return fmt.Sprint(account, "/", k.At.UnixNano(), "/", k.Class, "/", k.ID)
	}
	return wrapped{
		Store: s,
		reader: func(r billing.Reader, account string) billing.Reader {
			return checkpointLookup{r, func(at billing.OpKey, fn func(billing.Checkpoint) bool) error {
				return r.Checkpoints(at, func(c billing.Checkpoint) bool {
					mu.Lock()
					if us, ok := kept[name(account, c.Key)]; ok {
						c.Usages = us
					}
					mu.Unlock()
					return fn(c)
				})
			}}
		},
		applied: func(account string, c billing.Changes) {
			mu.Lock()
			defer mu.Unlock()
			for _, cp := range c.Checkpoints {
				kept[name(account, cp.Key)] = cp.Usages
			}
		},
	}
}

// checkpointLookup is a Reader whose Checkpoints is list.
type checkpointLookup struct {
	billing.Reader
	list func(billing.OpKey, func(billing.Checkpoint) bool) error
}

func (r checkpointLookup) Checkpoints(at billing.OpKey, fn func(billing.Checkpoint) bool) error {
	return r.list(at, fn)
}

// resorted lists r's usages of [from, to) sorted by order instead.
func resorted(r billing.Reader, from, to time.Time, fn func(billing.UsageRecord) bool, order func(x, y billing.UsageRecord) int) error {
	var us []billing.UsageRecord
	if err := r.Usages(from, to, func(u billing.UsageRecord) bool { us = append(us, u); return true }); err != nil {
		return err
	}
	slices.SortStableFunc(us, order)
	for _, u := range us {
		if !fn(u) {
			break
		}
	}
	return nil
}

// entriesZeroTo takes a zero to as the instant it is (at < $to), not as no
// bound: it lists nothing then, unless from is the zero instant too (the
// whole ledger).
type entriesZeroTo struct{ billing.Reader }

func (r entriesZeroTo) Entries(from, to time.Time, fn func(billing.Entry) bool) error {
	if to.IsZero() && !from.IsZero() {
		return nil
	}
	return r.Reader.Entries(from, to, fn)
}

// entriesByTime lists the entries in order of At (ORDER BY at).
type entriesByTime struct{ billing.Reader }

func (r entriesByTime) Entries(from, to time.Time, fn func(billing.Entry) bool) error {
	var es []billing.Entry
	if err := r.Reader.Entries(from, to, func(e billing.Entry) bool { es = append(es, e); return true }); err != nil {
		return err
	}
	slices.SortStableFunc(es, func(x, y billing.Entry) int { return x.At.Compare(y.At) })
	for _, e := range es {
		if !fn(e) {
			break
		}
	}
	return nil
}

// noStop goes on calling fn after it returned false.
type noStop struct{ billing.Reader }

func all[T any](fn func(T) bool) func(T) bool { return func(v T) bool { fn(v); return true } }

func (r noStop) Meters(d billing.Day, fn func(billing.Meter) bool) error {
	return r.Reader.Meters(d, all(fn))
}
func (r noStop) LivePackages(fn func(billing.Package) bool) error {
	return r.Reader.LivePackages(all(fn))
}
func (r noStop) Packages(fn func(billing.Package) bool) error { return r.Reader.Packages(all(fn)) }
func (r noStop) Days(from, to billing.Day, fn func(billing.Day) bool) error {
	return r.Reader.Days(from, to, all(fn))
}
func (r noStop) Bills(from, to billing.Day, fn func(billing.Bill) bool) error {
	return r.Reader.Bills(from, to, all(fn))
}
func (r noStop) Usages(from, to time.Time, fn func(billing.UsageRecord) bool) error {
	return r.Reader.Usages(from, to, all(fn))
}
func (r noStop) Checkpoints(at billing.OpKey, fn func(billing.Checkpoint) bool) error {
	return r.Reader.Checkpoints(at, all(fn))
}

func (r noStop) Entries(from, to time.Time, fn func(billing.Entry) bool) error {
	return r.Reader.Entries(from, to, all(fn))
}

// Prefetch.

// stalePrefetch gives units of work a Prefetcher that loads usage records
// into a cache of the Store's, found or not, which Usage answers from and
// which nothing empties.
func stalePrefetch(s billing.Store) billing.Store {
	var mu sync.Mutex
	type loaded struct {
		u   billing.UsageRecord
		err error
	}
	cache := map[string]loaded{}
	return wrapped{Store: s, reader: func(r billing.Reader, account string) billing.Reader {
		return prefetching{
			usageLookup: usageLookup{r, func(id string) (billing.UsageRecord, error) {
				mu.Lock()
				defer mu.Unlock()
				if l, ok := cache[account+"/"+id]; ok {
					return l.u, l.err
				}
				return r.Usage(id)
			}},
			prefetch: func(ids []string, _ []billing.MeterKey) error {
				mu.Lock()
				defer mu.Unlock()
				for _, id := range ids {
					if _, ok := cache[account+"/"+id]; !ok {
						u, err := r.Usage(id)
						cache[account+"/"+id] = loaded{u, err}
					}
				}
				return nil
			},
		}
	}}
}

// prefetching is a Reader that is a billing.Prefetcher.
type prefetching struct {
	usageLookup
	prefetch func(usages []string, meters []billing.MeterKey) error
}

func (r prefetching) Prefetch(usages []string, meters []billing.MeterKey) error {
	return r.prefetch(usages, meters)
}
