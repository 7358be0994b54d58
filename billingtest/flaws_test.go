package billingtest_test

import (
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

// promises are the promises of the billing.Store contract (its doc and the
// docs of the Reader methods). Every one has at least one flaw below.
var promises = []string{
	"atomicity", "isolation", "unique keys", "snapshot reads", "no aliasing", "exact durability", "cancellation",
	"not found", "Meter", "Meters", "LivePackages", "Packages", "Entries", "Days", "Bills", "fn stops",
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
	{"no lock, no version check", "isolation", "Isolation", func(s billing.Store) billing.Store { return unlocked{s} }},
	{"versions unchecked", "isolation", "UniqueKeysAndVersions", wrap(func(tx billing.Tx) billing.Tx { return anyVersion{tx} })},
	{"one lock for all accounts", "isolation", "AccountsInParallel", func(s billing.Store) billing.Store { return &oneLock{Store: s} }},
	{"usage ids upserted", "unique keys", "UniqueKeysAndVersions", wrap(func(tx billing.Tx) billing.Tx { return usageUpsert{tx} })},
	{"purchase ids upserted", "unique keys", "UniqueKeysAndVersions", wrap(func(tx billing.Tx) billing.Tx { return purchaseUpsert{tx} })},
	{"ledger Seq upserted", "unique keys", "UniqueKeysAndVersions", wrap(func(tx billing.Tx) billing.Tx { return seqUpsert{tx} })},
	{"bill days upserted", "unique keys", "UniqueKeysAndVersions", wrap(func(tx billing.Tx) billing.Tx { return billUpsert{tx} })},
	{"usage ids case-folded", "unique keys", "IDsAreBytes", wrap(func(tx billing.Tx) billing.Tx { return mappedIDs{tx, strings.ToLower} })},
	{"usage ids trimmed", "unique keys", "IDsAreBytes", wrap(func(tx billing.Tx) billing.Tx { return mappedIDs{tx, strings.TrimSpace} })},
	{"usage ids normalized (NFC)", "unique keys", "IDsAreBytes", wrap(func(tx billing.Tx) billing.Tx { return mappedIDs{tx, nfc} })},
	{"usage ids shared by accounts", "unique keys", "AccountsApart", func(s billing.Store) billing.Store { return &sharedUsages{Store: s} }},
	{"reads its own writes", "snapshot reads", "SnapshotReads", wrap(func(tx billing.Tx) billing.Tx { return &ownWrites{Tx: tx} })},
	{"first write wins", "snapshot reads", "SnapshotReads", wrap(func(tx billing.Tx) billing.Tx { return &firstWrite{Tx: tx} })},
	{"stale reads", "snapshot reads", "ReadModifyWrite", perAccount(func() txOf { m := &staleMeters{}; return m.tx })},
	{"lost package writes", "snapshot reads", "PackagesInDeductionOrder", func(s billing.Store) billing.Store { return &insertOnlyPackages{Store: s} }},
	{"keeps the caller's slices", "no aliasing", "NoAliasing", perAccount(func() txOf { d := &keepsDraws{}; return d.tx })},
	{"hands out shared slices", "no aliasing", "NoAliasing", perAccount(func() txOf { d := &sharesDraws{}; return d.tx })},
	{"times to microseconds", "exact durability", "ExactReadBack", wrap(func(tx billing.Tx) billing.Tx { return micros{tx} })},
	{"decimals through float64", "exact durability", "ExactReadBack", wrap(func(tx billing.Tx) billing.Tx { return floats{tx} })},
	{"ignores cancellation", "cancellation", "Cancellation", func(s billing.Store) billing.Store { return uncancelled{s} }},
	{"missing usage as a zero record", "not found", "ExactReadBack", wrap(func(tx billing.Tx) billing.Tx { return zeroUsage{tx} })},
	{"missing account as a zero record", "not found", "AccountsApart", wrap(func(tx billing.Tx) billing.Tx { return zeroAccount{tx} })},
	{"unwritten meter without its key", "Meter", "ExactReadBack", wrap(func(tx billing.Tx) billing.Tx { return keylessMeter{tx} })},
	{"meters of the next day too", "Meters", "MetersOfADay", wrap(func(tx billing.Tx) billing.Tx { return nextDayMeters{tx} })},
	{"meters in reverse order", "Meters", "MetersOfADay", wrap(func(tx billing.Tx) billing.Tx { return reversedMeters{tx} })},
	{"live packages by id", "LivePackages", "PackagesInDeductionOrder", wrap(func(tx billing.Tx) billing.Tx { return liveByID{tx} })},
	{"live packages with spent ones", "LivePackages", "PackagesInDeductionOrder", wrap(func(tx billing.Tx) billing.Tx { return liveWithSpent{tx} })},
	{"packages without spent ones", "Packages", "PackagesInDeductionOrder", wrap(func(tx billing.Tx) billing.Tx { return packagesLive{tx} })},
	{"entries from ignored", "Entries", "EntriesByTime", wrap(func(tx billing.Tx) billing.Tx { return entriesFrom{tx} })},
	{"entries to ignored", "Entries", "EntriesByTime", wrap(func(tx billing.Tx) billing.Tx { return entriesTo{tx} })},
	{"days from ignored", "Days", "DaysInRange", wrap(func(tx billing.Tx) billing.Tx { return daysFrom{tx} })},
	{"days to ignored", "Days", "DaysInRange", wrap(func(tx billing.Tx) billing.Tx { return daysTo{tx} })},
	{"bills from ignored", "Bills", "BillsInRange", wrap(func(tx billing.Tx) billing.Tx { return billsFrom{tx} })},
	{"bills to ignored", "Bills", "BillsInRange", wrap(func(tx billing.Tx) billing.Tx { return billsTo{tx} })},
	{"fn's stop ignored", "fn stops", "StopWhenFnReturnsFalse", wrap(func(tx billing.Tx) billing.Tx { return noStop{tx} })},
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

// txOf returns the Tx (or Reader) a unit of work or a view on an account
// sees, made from the Store's.
type txOf func(tx billing.Tx, account string) billing.Tx

// wrap returns a Store whose units of work and views see their Tx (or
// Reader) through w.
func wrap(w func(billing.Tx) billing.Tx) func(billing.Store) billing.Store {
	return func(s billing.Store) billing.Store {
		return wrapped{s, func(tx billing.Tx, _ string) billing.Tx { return w(tx) }}
	}
}

// perAccount is wrap for a flaw with state of its own, which newState
// makes afresh for each Store.
func perAccount(newState func() txOf) func(billing.Store) billing.Store {
	return func(s billing.Store) billing.Store { return wrapped{s, newState()} }
}

type wrapped struct {
	billing.Store
	w txOf
}

func (s wrapped) Update(ctx context.Context, id string, fn func(billing.Tx) error) error {
	return s.Store.Update(ctx, id, func(tx billing.Tx) error { return fn(s.w(tx, id)) })
}

func (s wrapped) View(ctx context.Context, id string, fn func(billing.Reader) error) error {
	return s.Store.View(ctx, id, func(r billing.Reader) error { return fn(s.w(readOnly{r}, id)) })
}

// readOnly is a view's Reader as a Tx, for the wrappers; a view never writes.
type readOnly struct{ billing.Reader }

func (readOnly) PutAccount(billing.Account)         {}
func (readOnly) PutPackage(billing.Package)         {}
func (readOnly) PutMeter(billing.Meter)             {}
func (readOnly) PutUsage(billing.UsageRecord)       {}
func (readOnly) PutPurchase(billing.PurchaseRecord) {}
func (readOnly) AppendEntry(billing.Entry)          {}
func (readOnly) PutBill(billing.Bill)               {}

// Atomicity.

// errorCommitted commits what fn wrote even when fn fails.
type errorCommitted struct{ billing.Store }

func (s errorCommitted) Update(ctx context.Context, id string, fn func(billing.Tx) error) error {
	var fnErr error
	err := s.Store.Update(ctx, id, func(tx billing.Tx) error { fnErr = fn(tx); return nil })
	if fnErr != nil {
		return fnErr
	}
	return err
}

// buffer records a unit of work's writes.
type buffer struct {
	billing.Tx
	account   *billing.Account
	meters    []billing.Meter
	packages  []billing.Package
	usages    []billing.UsageRecord
	purchases []billing.PurchaseRecord
	entries   []billing.Entry
	bills     []billing.Bill
}

func (b *buffer) PutAccount(a billing.Account)         { b.account = &a }
func (b *buffer) PutMeter(m billing.Meter)             { b.meters = append(b.meters, m) }
func (b *buffer) PutPackage(p billing.Package)         { b.packages = append(b.packages, p) }
func (b *buffer) PutUsage(r billing.UsageRecord)       { b.usages = append(b.usages, r) }
func (b *buffer) PutPurchase(r billing.PurchaseRecord) { b.purchases = append(b.purchases, r) }
func (b *buffer) AppendEntry(e billing.Entry)          { b.entries = append(b.entries, e) }
func (b *buffer) PutBill(bl billing.Bill)              { b.bills = append(b.bills, bl) }

// records writes the records with keys (usages, purchases, entries, bills).
func (b *buffer) records(tx billing.Tx) {
	for _, r := range b.usages {
		tx.PutUsage(r)
	}
	for _, r := range b.purchases {
		tx.PutPurchase(r)
	}
	for _, e := range b.entries {
		tx.AppendEntry(e)
	}
	for _, bl := range b.bills {
		tx.PutBill(bl)
	}
}

// state writes the meters and packages.
func (b *buffer) state(tx billing.Tx) {
	for _, m := range b.meters {
		tx.PutMeter(m)
	}
	for _, p := range b.packages {
		tx.PutPackage(p)
	}
}

// halfApplied commits the account, meters and packages of a unit of work,
// then, in a second commit, its records with keys: a duplicate key fails
// the second, and the first stays.
type halfApplied struct{ billing.Store }

func (s halfApplied) Update(ctx context.Context, id string, fn func(billing.Tx) error) error {
	b := &buffer{}
	err := s.Store.Update(ctx, id, func(tx billing.Tx) error {
		*b = buffer{Tx: tx}
		if err := fn(b); err != nil {
			return err
		}
		if b.account != nil {
			tx.PutAccount(*b.account)
		}
		b.state(tx)
		return nil
	})
	if err != nil {
		return err
	}
	return s.Store.Update(ctx, id, func(tx billing.Tx) error { b.records(tx); return nil })
}

// Isolation.

// unlocked runs fn on a view, then writes what it wrote in a unit of work
// of its own, over whatever was committed in between (its Version set to
// follow the stored one).
type unlocked struct{ billing.Store }

func (s unlocked) Update(ctx context.Context, id string, fn func(billing.Tx) error) error {
	b := &buffer{}
	err := s.Store.View(ctx, id, func(r billing.Reader) error {
		*b = buffer{Tx: readOnly{r}}
		return fn(b)
	})
	if err != nil {
		return err
	}
	runtime.Gosched()
	return s.Store.Update(ctx, id, func(tx billing.Tx) error {
		if b.account != nil {
			tx.PutAccount(anyVersion{tx}.next(*b.account))
		}
		b.state(tx)
		b.records(tx)
		return nil
	})
}

// oneLock runs one unit of work or view at a time, whatever its account.
type oneLock struct {
	billing.Store
	mu sync.Mutex
}

func (s *oneLock) Update(ctx context.Context, id string, fn func(billing.Tx) error) error {
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
type anyVersion struct{ billing.Tx }

func (t anyVersion) next(a billing.Account) billing.Account {
	if stored, err := t.Tx.Account(); err == nil {
		a.Version = stored.Version + 1
	} else {
		a.Version = 1
	}
	return a
}

func (t anyVersion) PutAccount(a billing.Account) { t.Tx.PutAccount(t.next(a)) }

// Unique keys.

// usageUpsert, purchaseUpsert, seqUpsert and billUpsert drop a record whose
// key is stored (INSERT ... ON CONFLICT DO NOTHING).
type (
	usageUpsert    struct{ billing.Tx }
	purchaseUpsert struct{ billing.Tx }
	seqUpsert      struct{ billing.Tx }
	billUpsert     struct{ billing.Tx }
)

func (t usageUpsert) PutUsage(r billing.UsageRecord) {
	if _, err := t.Tx.Usage(r.Usage.ID); err != nil {
		t.Tx.PutUsage(r)
	}
}

func (t purchaseUpsert) PutPurchase(r billing.PurchaseRecord) {
	if _, err := t.Tx.Purchase(r.Purchase.ID); err != nil {
		t.Tx.PutPurchase(r)
	}
}

func (t seqUpsert) AppendEntry(e billing.Entry) {
	stored := false
	_ = t.Tx.Entries(time.Time{}, time.Time{}, func(o billing.Entry) bool { stored = o.Seq == e.Seq; return !stored })
	if !stored {
		t.Tx.AppendEntry(e)
	}
}

func (t billUpsert) PutBill(b billing.Bill) {
	if _, err := t.Tx.Bill(b.Day); err != nil {
		t.Tx.PutBill(b)
	}
}

// mappedIDs stores and looks usage ids up through key, as a unique index
// under a collation that folds case, trims or normalizes would.
type mappedIDs struct {
	billing.Tx
	key func(string) string
}

func (t mappedIDs) PutUsage(r billing.UsageRecord) {
	r.Usage.ID = t.key(r.Usage.ID)
	t.Tx.PutUsage(r)
}

func (t mappedIDs) Usage(id string) (billing.UsageRecord, error) { return t.Tx.Usage(t.key(id)) }

// nfc composes e and a combining acute accent into é: enough of Unicode
// normalization form C for the ids of the suite.
func nfc(s string) string { return strings.ReplaceAll(s, "e\u0301", "\u00e9") }

// sharedUsages keys usage records by id alone, forgetting the account.
type sharedUsages struct {
	billing.Store
	mu     sync.Mutex
	usages map[string]billing.UsageRecord
}

type sharedTx struct {
	billing.Tx
	s   *sharedUsages
	put []billing.UsageRecord
}

func (t *sharedTx) PutUsage(r billing.UsageRecord) { t.put = append(t.put, r) }

func (t *sharedTx) Usage(id string) (billing.UsageRecord, error) {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	if r, ok := t.s.usages[id]; ok {
		return r, nil
	}
	return billing.UsageRecord{}, billing.ErrNotFound
}

func (s *sharedUsages) Update(ctx context.Context, id string, fn func(billing.Tx) error) error {
	t := &sharedTx{s: s}
	err := s.Store.Update(ctx, id, func(tx billing.Tx) error {
		t.Tx, t.put = tx, nil
		if err := fn(t); err != nil {
			return err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, r := range t.put {
			if _, dup := s.usages[r.Usage.ID]; dup {
				return fmt.Errorf("usage %q: %w", r.Usage.ID, billing.ErrExists)
			}
		}
		return nil
	})
	if err == nil {
		s.mu.Lock()
		if s.usages == nil {
			s.usages = map[string]billing.UsageRecord{}
		}
		for _, r := range t.put {
			s.usages[r.Usage.ID] = r
		}
		s.mu.Unlock()
	}
	return err
}

func (s *sharedUsages) View(ctx context.Context, id string, fn func(billing.Reader) error) error {
	return s.Store.View(ctx, id, func(r billing.Reader) error { return fn(&sharedTx{Tx: readOnly{r}, s: s}) })
}

// Snapshot reads.

// ownWrites shows a unit of work the meters it wrote.
type ownWrites struct {
	billing.Tx
	meters map[billing.MeterKey]billing.Meter
}

func (t *ownWrites) PutMeter(m billing.Meter) {
	if t.meters == nil {
		t.meters = map[billing.MeterKey]billing.Meter{}
	}
	t.meters[m.Key] = m
	t.Tx.PutMeter(m)
}

func (t *ownWrites) Meter(k billing.MeterKey) (billing.Meter, error) {
	if m, ok := t.meters[k]; ok {
		return m, nil
	}
	return t.Tx.Meter(k)
}

// firstWrite keeps the first write of a meter in a unit of work.
type firstWrite struct {
	billing.Tx
	written map[billing.MeterKey]bool
}

func (t *firstWrite) PutMeter(m billing.Meter) {
	if t.written[m.Key] {
		return
	}
	if t.written == nil {
		t.written = map[billing.MeterKey]bool{}
	}
	t.written[m.Key] = true
	t.Tx.PutMeter(m)
}

// staleMeters caches each meter at its first read, and never forgets it.
type staleMeters struct {
	mu    sync.Mutex
	cache map[string]billing.Meter
}

func (s *staleMeters) tx(tx billing.Tx, id string) billing.Tx { return staleTx{tx, s, id} }

type staleTx struct {
	billing.Tx
	s  *staleMeters
	id string
}

func (t staleTx) Meter(k billing.MeterKey) (billing.Meter, error) {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	key := fmt.Sprint(t.id, k)
	if m, ok := t.s.cache[key]; ok {
		return m, nil
	}
	m, err := t.Tx.Meter(k)
	if err == nil {
		if t.s.cache == nil {
			t.s.cache = map[string]billing.Meter{}
		}
		t.s.cache[key] = m
	}
	return m, err
}

// insertOnlyPackages drops the write of a package it has stored before.
type insertOnlyPackages struct {
	billing.Store
	mu     sync.Mutex
	stored map[string]bool
}

type insertOnlyTx struct {
	billing.Tx
	s   *insertOnlyPackages
	id  string
	put []string
}

func (t *insertOnlyTx) PutPackage(p billing.Package) {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	if !t.s.stored[t.id+"/"+p.ID] {
		t.put = append(t.put, t.id+"/"+p.ID)
		t.Tx.PutPackage(p)
	}
}

func (s *insertOnlyPackages) Update(ctx context.Context, id string, fn func(billing.Tx) error) error {
	t := &insertOnlyTx{s: s, id: id}
	err := s.Store.Update(ctx, id, func(tx billing.Tx) error { t.Tx, t.put = tx, nil; return fn(t) })
	if err == nil {
		s.mu.Lock()
		if s.stored == nil {
			s.stored = map[string]bool{}
		}
		for _, k := range t.put {
			s.stored[k] = true
		}
		s.mu.Unlock()
	}
	return err
}

// No aliasing.

// keepsDraws keeps the Draws slice a usage record was written with, and
// hands it out with the record.
type keepsDraws struct {
	mu    sync.Mutex
	draws map[string][]billing.Draw
}

func (s *keepsDraws) tx(tx billing.Tx, id string) billing.Tx { return keepsTx{tx, s, id} }

type keepsTx struct {
	billing.Tx
	s  *keepsDraws
	id string
}

func (t keepsTx) PutUsage(r billing.UsageRecord) {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	if t.s.draws == nil {
		t.s.draws = map[string][]billing.Draw{}
	}
	t.s.draws[t.id+"/"+r.Usage.ID] = r.Receipt.Draws
	t.Tx.PutUsage(r)
}

func (t keepsTx) Usage(id string) (billing.UsageRecord, error) {
	r, err := t.Tx.Usage(id)
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	if d, ok := t.s.draws[t.id+"/"+id]; ok && err == nil {
		r.Receipt.Draws = d
	}
	return r, err
}

// sharesDraws hands every reader of a usage record the same Draws slice.
type sharesDraws struct {
	mu    sync.Mutex
	cache map[string]billing.UsageRecord
}

func (s *sharesDraws) tx(tx billing.Tx, id string) billing.Tx { return sharesTx{tx, s, id} }

type sharesTx struct {
	billing.Tx
	s  *sharesDraws
	id string
}

func (t sharesTx) Usage(id string) (billing.UsageRecord, error) {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	if r, ok := t.s.cache[t.id+"/"+id]; ok {
		return r, nil
	}
	r, err := t.Tx.Usage(id)
	if err == nil {
		if t.s.cache == nil {
			t.s.cache = map[string]billing.UsageRecord{}
		}
		t.s.cache[t.id+"/"+id] = r
	}
	return r, err
}

// Exact durability.

// micros stores the account's and the ledger's times to the microsecond
// (as PostgreSQL's timestamptz does).
type micros struct{ billing.Tx }

func (t micros) PutAccount(a billing.Account) {
	a.Opened, a.Touched = a.Opened.Truncate(time.Microsecond), a.Touched.Truncate(time.Microsecond)
	t.Tx.PutAccount(a)
}

func (t micros) AppendEntry(e billing.Entry) {
	e.At = e.At.Truncate(time.Microsecond)
	t.Tx.AppendEntry(e)
}

// floats stores prices and amounts as float64.
type floats struct{ billing.Tx }

func float(d decimal.Decimal) decimal.Decimal { return decimal.NewFromFloat(d.InexactFloat64()) }

func (t floats) PutPackage(p billing.Package) {
	p.Price = float(p.Price)
	t.Tx.PutPackage(p)
}

func (t floats) AppendEntry(e billing.Entry) {
	e.Amount = float(e.Amount)
	t.Tx.AppendEntry(e)
}

// Cancellation.

// uncancelled ignores its context.
type uncancelled struct{ billing.Store }

func (s uncancelled) Update(_ context.Context, id string, fn func(billing.Tx) error) error {
	return s.Store.Update(context.Background(), id, fn)
}

func (s uncancelled) View(_ context.Context, id string, fn func(billing.Reader) error) error {
	return s.Store.View(context.Background(), id, fn)
}

// Reads.

// zeroUsage and zeroAccount return a zero record, not ErrNotFound, for
// one that does not exist.
type (
	zeroUsage   struct{ billing.Tx }
	zeroAccount struct{ billing.Tx }
)

func (t zeroUsage) Usage(id string) (billing.UsageRecord, error) {
	r, err := t.Tx.Usage(id)
	if errors.Is(err, billing.ErrNotFound) {
		return billing.UsageRecord{}, nil
	}
	return r, err
}

func (t zeroAccount) Account() (billing.Account, error) {
	a, err := t.Tx.Account()
	if errors.Is(err, billing.ErrNotFound) {
		return billing.Account{}, nil
	}
	return a, err
}

// keylessMeter returns a meter never written without its key.
type keylessMeter struct{ billing.Tx }

func (t keylessMeter) Meter(k billing.MeterKey) (billing.Meter, error) {
	m, err := t.Tx.Meter(k)
	if m == (billing.Meter{Key: k}) {
		return billing.Meter{}, err
	}
	return m, err
}

// nextDayMeters lists the meters of the next day after a day's.
type nextDayMeters struct{ billing.Tx }

func (t nextDayMeters) Meters(d billing.Day, fn func(billing.Meter) bool) error {
	more := true
	if err := t.Tx.Meters(d, func(m billing.Meter) bool { more = fn(m); return more }); err != nil || !more {
		return err
	}
	return t.Tx.Meters(d+1, fn)
}

// reversedMeters lists a day's meters in reverse order.
type reversedMeters struct{ billing.Tx }

func (t reversedMeters) Meters(d billing.Day, fn func(billing.Meter) bool) error {
	var ms []billing.Meter
	if err := t.Tx.Meters(d, func(m billing.Meter) bool { ms = append(ms, m); return true }); err != nil {
		return err
	}
	for _, m := range slices.Backward(ms) {
		if !fn(m) {
			break
		}
	}
	return nil
}

// liveByID lists live packages by id; liveWithSpent lists every package
// as live; packagesLive lists only the live ones as all packages.
type (
	liveByID      struct{ billing.Tx }
	liveWithSpent struct{ billing.Tx }
	packagesLive  struct{ billing.Tx }
)

func (t liveByID) LivePackages(fn func(billing.Package) bool) error {
	var ps []billing.Package
	if err := t.Tx.LivePackages(func(p billing.Package) bool { ps = append(ps, p); return true }); err != nil {
		return err
	}
	slices.SortFunc(ps, func(p, q billing.Package) int { return strings.Compare(p.ID, q.ID) })
	for _, p := range ps {
		if !fn(p) {
			break
		}
	}
	return nil
}

func (t liveWithSpent) LivePackages(fn func(billing.Package) bool) error { return t.Tx.Packages(fn) }

func (t packagesLive) Packages(fn func(billing.Package) bool) error { return t.Tx.LivePackages(fn) }

// entriesFrom, entriesTo, daysFrom, daysTo, billsFrom and billsTo leave out
// one bound of a range (as SQL with only "<= $to" would).
type (
	entriesFrom struct{ billing.Tx }
	entriesTo   struct{ billing.Tx }
	daysFrom    struct{ billing.Tx }
	daysTo      struct{ billing.Tx }
	billsFrom   struct{ billing.Tx }
	billsTo     struct{ billing.Tx }
)

func (t entriesFrom) Entries(_, to time.Time, fn func(billing.Entry) bool) error {
	return t.Tx.Entries(time.Time{}, to, fn)
}

func (t entriesTo) Entries(from, _ time.Time, fn func(billing.Entry) bool) error {
	return t.Tx.Entries(from, time.Time{}, fn)
}

func (t daysFrom) Days(_, to billing.Day, fn func(billing.Day) bool) error {
	return t.Tx.Days(math.MinInt32, to, fn)
}

func (t daysTo) Days(from, _ billing.Day, fn func(billing.Day) bool) error {
	return t.Tx.Days(from, math.MaxInt32, fn)
}

func (t billsFrom) Bills(_, to billing.Day, fn func(billing.Bill) bool) error {
	return t.Tx.Bills(math.MinInt32, to, fn)
}

func (t billsTo) Bills(from, _ billing.Day, fn func(billing.Bill) bool) error {
	return t.Tx.Bills(from, math.MaxInt32, fn)
}

// noStop goes on calling fn after it returned false.
type noStop struct{ billing.Tx }

func all[T any](fn func(T) bool) func(T) bool { return func(v T) bool { fn(v); return true } }

func (t noStop) Meters(d billing.Day, fn func(billing.Meter) bool) error {
	return t.Tx.Meters(d, all(fn))
}
func (t noStop) LivePackages(fn func(billing.Package) bool) error { return t.Tx.LivePackages(all(fn)) }
func (t noStop) Packages(fn func(billing.Package) bool) error     { return t.Tx.Packages(all(fn)) }
func (t noStop) Days(from, to billing.Day, fn func(billing.Day) bool) error {
	return t.Tx.Days(from, to, all(fn))
}
func (t noStop) Bills(from, to billing.Day, fn func(billing.Bill) bool) error {
	return t.Tx.Bills(from, to, all(fn))
}
func (t noStop) Entries(from, to time.Time, fn func(billing.Entry) bool) error {
	return t.Tx.Entries(from, to, all(fn))
}
