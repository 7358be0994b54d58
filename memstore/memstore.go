// Package memstore is an in-memory [billing.Store]: the reference
// implementation of the Store contract, and the Store for a single process
// whose data need not outlive it.
//
// It is plain on purpose, to be read: each account's records are maps and
// slices behind one lock per account, and records are copied in and out, so
// the Store never shares memory with its callers. A unit of work holds its
// account's lock from the start of fn until its Changes are applied, so
// units of work on one account run one at a time and never conflict; units
// of work on different accounts run in parallel. Waiting for the lock does
// not watch the context (units of work are short); a unit of work whose
// context is done by the time it runs, or by the time fn returns, writes
// nothing. Nothing survives the process.
package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rtcbill/billing"
)

// Store is an in-memory billing.Store, safe for concurrent use. The zero
// value is an empty Store.
type Store struct {
	accounts sync.Map   // account id → *account
	mu       sync.Mutex // guards the refs of accounts that do not exist
}

var (
	_ billing.Store         = (*Store)(nil)
	_ billing.AccountLister = (*Store)(nil)
)

// New returns an empty Store.
func New() *Store { return &Store{} }

// account is one account's records, and the lock that serializes its units
// of work.
type account struct {
	mu     sync.RWMutex
	exists atomic.Bool // once true, the account is never dropped
	refs   int         // while !exists: the units of work and views using it (under Store.mu)

	reader    *reader // the account's, made once
	rec       billing.Account
	usages    map[string]int              // usage id → its place in records
	records   chunks[billing.UsageRecord] // the usage records, as they came
	draws     slab[billing.Draw]          // their receipts' draws
	byTime    []int                       // their places, in order of At, then ID
	purchases map[string]billing.PurchaseRecord
	packages  map[string]int                  // package id → its place in pkgs
	pkgs      []billing.Package               // every package, in the order first written
	live      []int                           // the places of those with a positive balance, in deduction order
	days      map[billing.Day][]billing.Meter // each day's meters, by service, tier, then application
	dayList   []billing.Day                   // the days with meters, ascending
	entries   chunks[billing.Entry]           // the ledger, in Seq order
	bills     []billing.Bill                  // ascending Day
	marks     []billing.Checkpoint            // the checkpoints, by Key
}

// acquire returns the records of account id. Those of an account that
// does not exist yet are made, and must be released.
func (s *Store) acquire(id string) (a *account, release bool) {
	if v, ok := s.accounts.Load(id); ok && v.(*account).exists.Load() {
		return v.(*account), false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, loaded := s.accounts.LoadOrStore(id, &account{})
	a = v.(*account)
	if !loaded {
		a.reader = &reader{a, id}
	}
	a.refs++
	return a, true
}

// release drops the account id once nothing uses it, unless it exists now:
// ids that never become accounts leave nothing behind.
func (s *Store) release(id string, a *account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.refs--; a.refs == 0 && !a.exists.Load() {
		s.accounts.Delete(id)
	}
}

// Update implements billing.Store.
func (s *Store) Update(ctx context.Context, id string, fn func(billing.Reader) (billing.Changes, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a, release := s.acquire(id)
	if release {
		defer s.release(id, a)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	ch, err := fn(a.reader)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return a.apply(id, &ch)
}

// Accounts implements billing.AccountLister. Each call collects and sorts
// the ids of the accounts after after: a page costs a walk of them all.
func (s *Store) Accounts(ctx context.Context, after string, limit int) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, fmt.Errorf("memstore: accounts: limit %d is not positive", limit)
	}
	var ids []string
	s.accounts.Range(func(id, a any) bool {
		if id.(string) > after && a.(*account).exists.Load() {
			ids = append(ids, id.(string))
		}
		return true
	})
	slices.Sort(ids)
	return ids[:min(limit, len(ids))], nil
}

// View implements billing.Store.
func (s *Store) View(ctx context.Context, id string, fn func(billing.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a, release := s.acquire(id)
	if release {
		defer s.release(id, a)
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	if err := fn(a.reader); err != nil {
		return err
	}
	return ctx.Err()
}

// apply checks the Changes, then writes them all, or, if a check fails,
// none.
func (a *account) apply(id string, ch *billing.Changes) error {
	switch {
	case ch.Empty():
		return nil
	case ch.Account == nil:
		return fmt.Errorf("memstore: account %q: records written without the account", id)
	case ch.Account.ID != id:
		return fmt.Errorf("memstore: account record %q written under id %q", ch.Account.ID, id)
	case ch.Account.Version != a.rec.Version+1:
		return fmt.Errorf("memstore: account %q version %d after %d: %w", id, ch.Account.Version, a.rec.Version, billing.ErrConflict)
	}
	if err := a.checkKeys(ch); err != nil {
		return err
	}
	if id, twice := clash(ch.Packages, func(p *billing.Package) string { return p.ID }, nil); twice {
		return fmt.Errorf("memstore: package %q written twice", id)
	}
	if k, twice := clash(ch.Meters, func(m *billing.Meter) billing.MeterKey { return m.Key }, nil); twice {
		return fmt.Errorf("memstore: meter %v written twice", k)
	}
	if k, twice := clash(ch.Checkpoints, func(c *billing.Checkpoint) billing.OpKey { return keyOf(c.Key) }, nil); twice {
		return fmt.Errorf("memstore: checkpoint %v written twice", k)
	}
	a.rec = *ch.Account
	unshare(&a.rec)
	a.exists.Store(true)
	for i := range ch.Packages {
		a.putPackage(&ch.Packages[i])
	}
	for _, m := range ch.Meters {
		a.putMeter(m)
	}
	for i := range ch.Usages { // by index: records are large
		a.usages = put(a.usages, ch.Usages[i].Usage.ID, a.records.len())
		a.insertByTime(a.records.len(), &ch.Usages[i].Usage)
		u := a.records.add(&ch.Usages[i])
		u.Receipt.Draws = a.draws.keep(u.Receipt.Draws)
	}
	for _, p := range ch.Purchases {
		p.Receipt.Absorbed = slices.Clone(p.Receipt.Absorbed)
		a.purchases = put(a.purchases, p.Purchase.ID, p)
	}
	for i := range ch.Entries {
		a.entries.add(&ch.Entries[i])
	}
	for _, b := range ch.Bills {
		b.Lines = slices.Clone(b.Lines)
		i, _ := a.bill(b.Day)
		a.bills = slices.Insert(a.bills, i, b)
	}
	for _, c := range ch.Checkpoints {
		unshareCheckpoint(&c)
		if i, found := a.mark(c.Key); found {
			a.marks[i] = c
		} else {
			a.marks = slices.Insert(a.marks, i, c)
		}
	}
	return nil
}

// mark returns the place of the checkpoint at k in marks, or where it would go.
func (a *account) mark(k billing.OpKey) (int, bool) {
	return slices.BinarySearchFunc(a.marks, k, func(c billing.Checkpoint, k billing.OpKey) int { return c.Key.Compare(k) })
}

// keyOf returns k with its time in UTC, so that equal keys are ==.
func keyOf(k billing.OpKey) billing.OpKey {
	k.At = k.At.UTC()
	return k
}

// unshare gives a copies of its slices.
func unshare(a *billing.Account) {
	a.Late, a.Unbilled = slices.Clone(a.Late), slices.Clone(a.Unbilled)
	a.Apps = slices.Clone(a.Apps)
	for i := range a.Apps {
		p := &a.Apps[i]
		p.Suspensions, p.Disabled = slices.Clone(p.Suspensions), slices.Clone(p.Disabled)
	}
	a.Arrears, a.Refunds = slices.Clone(a.Arrears), slices.Clone(a.Refunds)
	for i := range a.Arrears {
		a.Arrears[i].Refs = slices.Clone(a.Arrears[i].Refs)
	}
}

// unshareCheckpoint gives c copies of its slices.
func unshareCheckpoint(c *billing.Checkpoint) {
	c.Balances, c.Meters, c.Usages, c.Apps = slices.Clone(c.Balances), slices.Clone(c.Meters), slices.Clone(c.Usages), slices.Clone(c.Apps)
}

// checkKeys returns an error wrapping ErrExists if the Changes hold a usage
// id, a purchase id or a bill's day that is stored, or twice, or a Seq at
// or below the one before it.
func (a *account) checkKeys(ch *billing.Changes) error {
	usage := func(u *billing.UsageRecord) string { return u.Usage.ID }
	if id, bad := clash(ch.Usages, usage, func(id string) bool { _, ok := a.usages[id]; return ok }); bad {
		return fmt.Errorf("memstore: usage %q stored or repeated: %w", id, billing.ErrExists)
	}
	purchase := func(p *billing.PurchaseRecord) string { return p.Purchase.ID }
	if id, bad := clash(ch.Purchases, purchase, func(id string) bool { _, ok := a.purchases[id]; return ok }); bad {
		return fmt.Errorf("memstore: purchase %q stored or repeated: %w", id, billing.ErrExists)
	}
	bill := func(b *billing.Bill) billing.Day { return b.Day }
	if d, bad := clash(ch.Bills, bill, func(d billing.Day) bool { _, ok := a.bill(d); return ok }); bad {
		return fmt.Errorf("memstore: bill of %s stored or repeated: %w", d, billing.ErrExists)
	}
	last := int64(0)
	if n := a.entries.len(); n > 0 {
		last = a.entries.at(n - 1).Seq
	}
	for i := range ch.Entries {
		seq := ch.Entries[i].Seq
		if seq <= last {
			return fmt.Errorf("memstore: ledger entry %d not after %d: %w", seq, last, billing.ErrExists)
		}
		last = seq
	}
	return nil
}

// clash returns a key of the records that stored reports stored (if stored
// is not nil), or that two of them have, if any.
func clash[T any, K comparable](records []T, key func(*T) K, stored func(K) bool) (K, bool) {
	var none K
	if stored == nil && len(records) < 2 {
		return none, false
	}
	var seen map[K]bool // made for a second record only: most Changes have one of a kind
	for i := range records {
		k := key(&records[i])
		if stored != nil && stored(k) || seen[k] {
			return k, true
		}
		if i+1 < len(records) {
			if seen == nil {
				seen = make(map[K]bool, len(records))
			}
			seen[k] = true
		}
	}
	return none, false
}

// putPackage stores p, and keeps the live packages in deduction order.
func (a *account) putPackage(p *billing.Package) {
	i, stored := a.packages[p.ID]
	if stored {
		draw := a.pkgs[i].Balance > 0 && p.Balance > 0 && billing.ComparePackages(a.pkgs[i], *p) == 0
		a.pkgs[i] = *p
		if draw {
			return // its place in the deduction order stays
		}
		a.live = slices.DeleteFunc(a.live, func(j int) bool { return j == i })
	} else {
		i = len(a.pkgs)
		a.pkgs = append(a.pkgs, *p)
		a.packages = put(a.packages, p.ID, i)
	}
	if p.Balance > 0 {
		at, _ := slices.BinarySearchFunc(a.live, *p, func(j int, p billing.Package) int { return billing.ComparePackages(a.pkgs[j], p) })
		a.live = slices.Insert(a.live, at, i)
	}
}

// putMeter stores m among the meters of its day.
func (a *account) putMeter(m billing.Meter) {
	ms := a.days[m.Key.Day]
	i, stored := meterIn(ms, m.Key)
	switch {
	case stored:
		ms[i] = m
	case len(ms) == 0:
		a.dayList = insert(a.dayList, m.Key.Day)
		fallthrough
	default:
		a.days = put(a.days, m.Key.Day, slices.Insert(ms, i, m))
	}
}

// meterIn returns the place of meter k among its day's meters ms, or where
// it would go. A day has a meter per service and tier it used (a few, so
// a scan, which costs a tenth of a binary search's 700 instructions per
// usage: docs/PERFORMANCE.md), and per application under a book that
// rounds per application (perhaps many: a binary search).
func meterIn(ms []billing.Meter, k billing.MeterKey) (int, bool) {
	if len(ms) > 8 {
		return slices.BinarySearchFunc(ms, k, func(m billing.Meter, k billing.MeterKey) int { return compareKeys(m.Key, k) })
	}
	for i := range ms {
		if ms[i].Key == k {
			return i, true
		}
		if compareKeys(ms[i].Key, k) > 0 {
			return i, false
		}
	}
	return len(ms), false
}

// insertByTime puts the place i of usage us in byTime, in order of At,
// then ID: mostly last, as usage mostly comes in the order of its times.
func (a *account) insertByTime(i int, us *billing.Usage) {
	order := func(j int, us *billing.Usage) int {
		u := &a.records.at(j).Usage
		return cmp.Or(u.At.Compare(us.At), strings.Compare(u.ID, us.ID))
	}
	if n := len(a.byTime); n == 0 || order(a.byTime[n-1], us) < 0 {
		a.byTime = append(a.byTime, i)
		return
	}
	at, _ := slices.BinarySearchFunc(a.byTime, us, order)
	a.byTime = slices.Insert(a.byTime, at, i)
}

// reader reads an account, under its lock.
type reader struct {
	a  *account
	id string
}

func (r *reader) Account() (billing.Account, error) {
	if !r.a.exists.Load() {
		return billing.Account{}, fmt.Errorf("memstore: account %q: %w", r.id, billing.ErrNotFound)
	}
	rec := r.a.rec
	unshare(&rec)
	return rec, nil
}

func (r *reader) Usage(id string) (billing.UsageRecord, error) {
	i, ok := r.a.usages[id]
	if !ok {
		return billing.UsageRecord{}, billing.ErrNotFound // mostly a new usage: no message to make
	}
	u := *r.a.records.at(i)
	u.Receipt.Draws = slices.Clone(u.Receipt.Draws)
	return u, nil
}

func (r *reader) Purchase(id string) (billing.PurchaseRecord, error) {
	p, ok := r.a.purchases[id]
	if !ok {
		return billing.PurchaseRecord{}, fmt.Errorf("memstore: purchase %q: %w", id, billing.ErrNotFound)
	}
	p.Receipt.Absorbed = slices.Clone(p.Receipt.Absorbed)
	return p, nil
}

func (r *reader) Meter(k billing.MeterKey) (billing.Meter, error) {
	ms := r.a.days[k.Day]
	if i, ok := meterIn(ms, k); ok {
		return ms[i], nil
	}
	return billing.Meter{Key: k}, nil
}

func (r *reader) Meters(d billing.Day, fn func(billing.Meter) bool) error {
	show(r.a.days[d], fn)
	return nil
}

func (r *reader) LivePackages(fn func(billing.Package) bool) error {
	for _, i := range r.a.live {
		if !fn(r.a.pkgs[i]) {
			break
		}
	}
	return nil
}

func (r *reader) Packages(fn func(billing.Package) bool) error {
	show(slices.SortedFunc(slices.Values(r.a.pkgs), billing.ComparePackages), fn)
	return nil
}

func (r *reader) Entries(from, to time.Time, fn func(billing.Entry) bool) error {
	for i := range r.a.entries.len() {
		e := r.a.entries.at(i)
		if !e.At.Before(from) && (to.IsZero() || e.At.Before(to)) && !fn(*e) {
			break
		}
	}
	return nil
}

func (r *reader) Usages(from, to time.Time, fn func(billing.UsageRecord) bool) error {
	first := sort.Search(len(r.a.byTime), func(k int) bool { return !r.a.records.at(r.a.byTime[k]).Usage.At.Before(from) })
	for _, j := range r.a.byTime[first:] {
		u := *r.a.records.at(j)
		if !to.IsZero() && !u.Usage.At.Before(to) {
			break
		}
		u.Receipt.Draws = slices.Clone(u.Receipt.Draws)
		if !fn(u) {
			break
		}
	}
	return nil
}

func (r *reader) Checkpoints(at billing.OpKey, fn func(billing.Checkpoint) bool) error {
	i, found := r.a.mark(at)
	if !found && i > 0 {
		i--
	}
	for _, c := range r.a.marks[i:] {
		unshareCheckpoint(&c)
		if !fn(c) {
			break
		}
	}
	return nil
}

func (r *reader) Days(from, to billing.Day, fn func(billing.Day) bool) error {
	for i, _ := slices.BinarySearch(r.a.dayList, from); i < len(r.a.dayList) && r.a.dayList[i] <= to; i++ {
		if !fn(r.a.dayList[i]) {
			break
		}
	}
	return nil
}

func (r *reader) Bill(d billing.Day) (billing.Bill, error) {
	i, ok := r.a.bill(d)
	if !ok {
		return billing.Bill{}, fmt.Errorf("memstore: bill of %s: %w", d, billing.ErrNotFound)
	}
	b := r.a.bills[i]
	b.Lines = slices.Clone(b.Lines)
	return b, nil
}

func (r *reader) Bills(from, to billing.Day, fn func(billing.Bill) bool) error {
	for i, _ := r.a.bill(from); i < len(r.a.bills) && r.a.bills[i].Day <= to; i++ {
		b := r.a.bills[i]
		b.Lines = slices.Clone(b.Lines)
		if !fn(b) {
			break
		}
	}
	return nil
}

// bill returns the place of the bill of day d in bills, or where it would go.
func (a *account) bill(d billing.Day) (int, bool) {
	return slices.BinarySearchFunc(a.bills, d, func(b billing.Bill, d billing.Day) int { return cmp.Compare(b.Day, d) })
}

// show calls fn for each of vs until fn returns false.
func show[T any](vs []T, fn func(T) bool) {
	for _, v := range vs {
		if !fn(v) {
			return
		}
	}
}

// put sets m[k] to v, making m first if it is nil.
func put[K comparable, V any](m map[K]V, k K, v V) map[K]V {
	if m == nil {
		m = map[K]V{}
	}
	m[k] = v
	return m
}

// insert adds d to the ascending days, unless it is there.
func insert(days []billing.Day, d billing.Day) []billing.Day {
	i, found := slices.BinarySearch(days, d)
	if found {
		return days
	}
	return slices.Insert(days, i, d)
}

func compareKeys(x, y billing.MeterKey) int {
	return cmp.Or(strings.Compare(string(x.Service), string(y.Service)), strings.Compare(string(x.Tier), string(y.Tier)),
		strings.Compare(x.App, y.App))
}
