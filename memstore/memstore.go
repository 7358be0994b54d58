// Package memstore is an in-memory [billing.Store]: the default Store for a
// single process, and the reference implementation of the Store contract.
//
// A unit of work holds its account's lock from start to commit, so units of
// work on one account run one at a time and never conflict; units of work on
// different accounts run in parallel. Waiting for the lock does not watch
// the context (units of work are short); a unit of work whose context is
// done by the time it runs or commits commits nothing. Records are copied in and out: the Store
// never shares memory with its callers. Nothing survives the process.
//
// The cost of a usage does not grow with the account's history: usage,
// purchase and meter lookups are hash lookups, live packages are kept in
// deduction order apart from spent ones, and usage records and ledger
// entries are encoded compactly and appended to logs whose chunks are never
// copied again (256 bytes at first, doubling up to 64 KiB).
package memstore

import (
	"context"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rtcbill/billing"
)

// Store is an in-memory billing.Store, safe for concurrent use. The zero
// value is not usable; call New.
type Store struct {
	seed   maphash.Seed
	shards [64]shard
	txs    sync.Pool // of *tx, for Update: the buffers stay warm in the cache, and an account does not hold them
}

var _ billing.Store = (*Store)(nil)

type shard struct {
	mu       sync.RWMutex
	accounts map[string]*account
}

// account is one account's records and the lock that serializes its units of work.
type account struct {
	mu sync.RWMutex
	// refs counts the units of work holding or waiting for mu; an account
	// that does not exist is dropped from its shard when refs falls to zero.
	refs atomic.Int32

	exists    bool
	existed   atomic.Bool // exists, readable without mu: existing accounts need no reference
	rec       billing.Account
	seed      maphash.Seed // the Store's, for hashing usage ids
	usages    usageIndex
	records   log    // usage records, encoded
	syms      symtab // the strings and locations of records and ledger
	purchases map[string]billing.PurchaseRecord
	meters    map[billing.Day][]billing.Meter // each day's meters by (Service, Tier)
	days      []billing.Day                   // the days in meters, ascending
	// lastMeter is the meter written last, found again without a search:
	// usage mostly goes to the meter of the usage before it. It always
	// points into the current array of its day (putMeter moves it).
	lastMeter *billing.Meter
	bills     map[billing.Day]billing.Bill
	billDays  []billing.Day     // the days in bills, ascending
	pkgIndex  map[string]int    // index in pkgs
	pkgs      []billing.Package // every package, in the order first written
	live      []int             // indexes of those with Balance > 0, in deduction order
	ledger    ledger
}

// New returns an empty Store.
func New() *Store {
	s := &Store{seed: maphash.MakeSeed()}
	s.txs.New = func() any { return new(tx) }
	for i := range s.shards {
		s.shards[i].accounts = make(map[string]*account)
	}
	return s
}

func (s *Store) shard(id string) *shard {
	return &s.shards[maphash.String(s.seed, id)%uint64(len(s.shards))]
}

// acquire returns the account's entry, creating an empty entry if create
// is set, or nil. For an account that does not exist yet, it takes a
// reference (ref), which release drops.
func (s *Store) acquire(id string, create bool) (a *account, ref bool) {
	sh := s.shard(id)
	sh.mu.RLock()
	a = sh.accounts[id]
	if a != nil && !a.existed.Load() {
		a.refs.Add(1)
		ref = true
	}
	sh.mu.RUnlock()
	if a != nil || !create {
		return a, ref
	}
	sh.mu.Lock()
	if a = sh.accounts[id]; a == nil {
		a = &account{
			seed:      s.seed,
			purchases: make(map[string]billing.PurchaseRecord),
			meters:    make(map[billing.Day][]billing.Meter),
			bills:     make(map[billing.Day]billing.Bill),
			pkgIndex:  make(map[string]int),
		}
		sh.accounts[id] = a
	}
	a.refs.Add(1)
	sh.mu.Unlock()
	return a, true
}

// release drops the reference acquire took, if it took one; gone reports
// that the account did not exist when the caller unlocked it.
func (s *Store) release(id string, a *account, ref, gone bool) {
	if !ref || a.refs.Add(-1) != 0 || !gone {
		return
	}
	sh := s.shard(id)
	sh.mu.Lock()
	if a.refs.Load() == 0 && !a.exists && sh.accounts[id] == a {
		delete(sh.accounts, id)
	}
	sh.mu.Unlock()
}

// Update implements billing.Store.
func (s *Store) Update(ctx context.Context, id string, fn func(billing.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a, ref := s.acquire(id, true)
	t := s.txs.Get().(*tx)
	a.mu.Lock()
	t.reset(ctx, a, id)
	defer s.done(t, ref) // also if fn panics
	err := fn(t)
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = t.commit()
	}
	return err
}

// done ends Update's unit of work t, on an account acquired with reference
// ref: it unlocks the account, releases it, and puts t back in the pool.
func (s *Store) done(t *tx, ref bool) {
	a, id := t.a, t.id
	gone := !a.exists
	a.mu.Unlock()
	s.release(id, a, ref, gone)
	t.reset(nil, nil, "")
	s.txs.Put(t)
}

// View implements billing.Store.
func (s *Store) View(ctx context.Context, id string, fn func(billing.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a, ref := s.acquire(id, false)
	if a == nil {
		return fn(&reader{a: &account{seed: s.seed}, ctx: ctx})
	}
	gone := true
	defer func() { s.release(id, a, ref, gone) }()
	a.mu.RLock()
	defer a.mu.RUnlock()
	gone = !a.exists
	return fn(&reader{a: a, ctx: ctx})
}

// reader reads an account's committed records; its account's lock is held.
type reader struct {
	a   *account
	ctx context.Context
	// Where the reads found the records a unit of work mostly writes back,
	// for commit to write them without searching again: the meter Meter
	// found last, and the package LivePackages yielded last.
	meter *billing.Meter
	pkg   int
}

func (r *reader) Account() (billing.Account, error) {
	if !r.a.exists {
		return billing.Account{}, billing.ErrNotFound
	}
	a := r.a.rec
	a.Late = slices.Clone(a.Late)
	return a, nil
}

func (r *reader) Usage(id string) (billing.UsageRecord, error) {
	p, ok := r.a.usages.find(&r.a.records, id, maphash.String(r.a.seed, id))
	if !ok {
		return billing.UsageRecord{}, billing.ErrNotFound
	}
	return r.a.syms.decodeUsage(r.a.records.from(p), r.a.rec.ID), nil
}

func (r *reader) Purchase(id string) (billing.PurchaseRecord, error) {
	p, ok := r.a.purchases[id]
	if !ok {
		return billing.PurchaseRecord{}, billing.ErrNotFound
	}
	p.Receipt.Absorbed = slices.Clone(p.Receipt.Absorbed)
	return p, nil
}

func (r *reader) Meter(k billing.MeterKey) (billing.Meter, error) {
	if m := r.a.lastMeter; m != nil && m.Key == k {
		r.meter = m
		return *m, nil
	}
	day := r.a.meters[k.Day]
	i, ok := findMeter(day, k)
	if !ok {
		r.meter = nil
		return billing.Meter{Key: k}, nil
	}
	r.meter = &day[i]
	return day[i], nil
}

func (r *reader) Meters(d billing.Day, fn func(billing.Meter) bool) error {
	for _, m := range r.a.meters[d] {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		if !fn(m) {
			break
		}
	}
	return nil
}

func (r *reader) LivePackages(fn func(billing.Package) bool) error {
	for _, i := range r.a.live {
		r.pkg = i
		if !fn(r.a.pkgs[i]) {
			break
		}
	}
	return r.ctx.Err()
}

func (r *reader) Packages(fn func(billing.Package) bool) error {
	all := slices.Clone(r.a.pkgs)
	slices.SortFunc(all, billing.ComparePackages)
	for _, p := range all {
		if !fn(p) {
			break
		}
	}
	return r.ctx.Err()
}

func (r *reader) Entries(from, to time.Time, fn func(billing.Entry) bool) error {
	l := &r.a.ledger
	for p, end, n := l.seek(from), l.end(), 0; p != end; n++ {
		e, size := r.a.syms.decodeEntry(l.from(p), &r.a.records, r.a.rec.ID)
		p = l.next(p, size)
		if !to.IsZero() && !e.At.Before(to) {
			if l.unsorted {
				continue
			}
			break
		}
		if e.At.Before(from) {
			continue
		}
		if n%1024 == 0 && r.ctx.Err() != nil {
			return r.ctx.Err()
		}
		if !fn(e) {
			break
		}
	}
	return r.ctx.Err()
}

func (r *reader) Days(from, to billing.Day, fn func(billing.Day) bool) error {
	i, _ := slices.BinarySearch(r.a.days, from)
	for _, d := range r.a.days[i:] {
		if d > to || !fn(d) {
			break
		}
	}
	return r.ctx.Err()
}

func (r *reader) Bill(d billing.Day) (billing.Bill, error) {
	b, ok := r.a.bills[d]
	if !ok {
		return billing.Bill{}, billing.ErrNotFound
	}
	b.Lines = slices.Clone(b.Lines)
	return b, nil
}

func (r *reader) Bills(from, to billing.Day, fn func(billing.Bill) bool) error {
	i, _ := slices.BinarySearch(r.a.billDays, from)
	for _, d := range r.a.billDays[i:] {
		if d > to {
			break
		}
		b := r.a.bills[d]
		b.Lines = slices.Clone(b.Lines)
		if !fn(b) {
			break
		}
	}
	return r.ctx.Err()
}

// tx is a unit of work: a reader plus the writes it buffers until commit.
// A tx serves one unit of work after another, of any account: a Tx kept
// past its fn (which the Store contract forbids) would write into another
// account's unit. Its buffers are reused without clearing them: they keep
// the last unit's records until the next unit overwrites them or the pool
// drops the tx at a garbage collection.
type tx struct {
	reader
	id        string
	account   billing.Account
	putAcct   bool
	packages  []billing.Package
	meters    []billing.Meter
	usages    []billing.UsageRecord
	draws     []billing.Draw // the usages' draws
	drawn     [][2]int       // each usage's range in draws
	purchases []billing.PurchaseRecord
	entries   []billing.Entry
	bills     []billing.Bill
	buf       []byte       // a record being encoded
	added     []addedUsage // the usages commit has added so far
}

func (t *tx) reset(ctx context.Context, a *account, id string) {
	t.reader = reader{a: a, ctx: ctx}
	t.id = id
	t.account, t.putAcct = billing.Account{}, false
	t.packages, t.meters, t.usages = t.packages[:0], t.meters[:0], t.usages[:0]
	t.draws, t.drawn = t.draws[:0], t.drawn[:0]
	t.purchases, t.entries, t.bills = t.purchases[:0], t.entries[:0], t.bills[:0]
}

func (t *tx) PutAccount(a billing.Account) {
	a.Late = slices.Clone(a.Late)
	t.account, t.putAcct = a, true
}
func (t *tx) PutPackage(p billing.Package) { t.packages = append(t.packages, p) }
func (t *tx) PutMeter(m billing.Meter)     { t.meters = append(t.meters, m) }
func (t *tx) AppendEntry(e billing.Entry)  { t.entries = append(t.entries, e) }

func (t *tx) PutUsage(u billing.UsageRecord) {
	// The draws are copied now, into a buffer the tx reuses, and the
	// record keeps the range of the copy until commit.
	start := len(t.draws)
	t.draws = append(t.draws, u.Receipt.Draws...)
	u.Receipt.Draws = nil
	t.usages = append(t.usages, u)
	t.drawn = append(t.drawn, [2]int{start, len(t.draws)})
}

func (t *tx) PutBill(b billing.Bill) {
	b.Lines = slices.Clone(b.Lines)
	t.bills = append(t.bills, b)
}

func (t *tx) PutPurchase(p billing.PurchaseRecord) {
	p.Receipt.Absorbed = slices.Clone(p.Receipt.Absorbed)
	t.purchases = append(t.purchases, p)
}

var errNoAccount = fmt.Errorf("memstore: records written for an account that does not exist: %w", billing.ErrNotFound)

// commit checks the buffered writes and applies them all, or none.
func (t *tx) commit() error {
	a := t.a
	switch {
	case t.putAcct && t.account.ID != t.id:
		return fmt.Errorf("memstore: account record %q written under id %q", t.account.ID, t.id)
	case t.putAcct && t.account.Version != a.rec.Version+1:
		return fmt.Errorf("memstore: account %q version %d after %d: %w", t.id, t.account.Version, a.rec.Version, billing.ErrConflict)
	case !a.exists && !t.putAcct && t.written():
		return errNoAccount
	}
	for i, p := range t.purchases {
		if _, dup := a.purchases[p.Purchase.ID]; dup || slices.ContainsFunc(t.purchases[:i], func(q billing.PurchaseRecord) bool { return q.Purchase.ID == p.Purchase.ID }) {
			return fmt.Errorf("memstore: purchase %q: %w", p.Purchase.ID, billing.ErrExists)
		}
	}
	for i, b := range t.bills {
		if _, dup := a.bills[b.Day]; dup || slices.ContainsFunc(t.bills[:i], func(o billing.Bill) bool { return o.Day == b.Day }) {
			return fmt.Errorf("memstore: bill of %s: %w", b.Day, billing.ErrExists)
		}
	}
	last := a.ledger.lastSeq
	for _, e := range t.entries {
		if e.Seq <= last {
			return fmt.Errorf("memstore: ledger entry %d not after %d: %w", e.Seq, last, billing.ErrExists)
		}
		last = e.Seq
	}

	if err := t.addUsages(); err != nil {
		return err
	}
	if t.putAcct {
		a.rec, a.exists = t.account, true
		a.existed.Store(true)
	}
	for _, p := range t.purchases {
		a.purchases[p.Purchase.ID] = p
	}
	for i, m := range t.meters {
		if i == 0 && t.meter != nil && t.meter.Key == m.Key { // nothing has moved it yet
			*t.meter = m
			a.lastMeter = t.meter
			continue
		}
		a.putMeter(m)
	}
	for _, p := range t.packages {
		a.putPackage(p, t.pkg)
	}
	u := 0 // the usage the entries are at: each usage's entries follow the last's
	for i := range t.entries {
		e := &t.entries[i]
		if u+1 < len(t.usages) && e.Ref == t.usages[u+1].Usage.ID {
			u++
		}
		var about *pos
		if u < len(t.usages) && aboutUsage(e, &t.usages[u]) {
			about = &t.added[u].p
		}
		t.buf = a.syms.encodeEntry(t.buf[:0], e, about)
		a.ledger.add(t.buf, e.Seq, e.At)
	}
	for _, b := range t.bills {
		a.bills[b.Day] = b
		a.billDays = insertDay(a.billDays, b.Day)
	}
	return nil
}

// addedUsage is a usage record commit has added: its id's hash and its place.
type addedUsage struct {
	h uint64
	p pos
}

// addUsages adds the usage records and maps their ids, the last check of
// commit: if an id is taken, it undoes what it did and returns ErrExists.
func (t *tx) addUsages() error {
	a := t.a
	t.added = t.added[:0]
	start := a.records.end()
	for i := range t.usages {
		u := &t.usages[i]
		t.buf = a.syms.encodeUsage(t.buf[:0], u, t.draws[t.drawn[i][0]:t.drawn[i][1]], t.id)
		p := a.records.add(t.buf)
		h := maphash.String(a.seed, u.Usage.ID)
		if !a.usages.put(&a.records, u.Usage.ID, h, p) {
			for j, d := range t.added {
				a.usages.remove(t.usages[j].Usage.ID, d.h, d.p)
			}
			a.records.truncate(start)
			return fmt.Errorf("memstore: usage %q: %w", u.Usage.ID, billing.ErrExists)
		}
		t.added = append(t.added, addedUsage{h, p})
	}
	return nil
}

func (t *tx) written() bool {
	return len(t.packages)+len(t.meters)+len(t.usages)+len(t.purchases)+len(t.entries)+len(t.bills) > 0
}

func compareMeterKey(m billing.Meter, k billing.MeterKey) int {
	if m.Key.Service != k.Service {
		if m.Key.Service < k.Service {
			return -1
		}
		return 1
	}
	switch {
	case m.Key.Tier < k.Tier:
		return -1
	case m.Key.Tier > k.Tier:
		return 1
	}
	return 0
}

func findMeter(day []billing.Meter, k billing.MeterKey) (int, bool) {
	return slices.BinarySearchFunc(day, k, compareMeterKey)
}

func (a *account) putMeter(m billing.Meter) {
	day := a.meters[m.Key.Day]
	i, ok := findMeter(day, m.Key)
	if ok {
		day[i] = m
		a.lastMeter = &day[i]
		return
	}
	if len(day) == 0 {
		a.days = insertDay(a.days, m.Key.Day)
	}
	day = slices.Insert(day, i, m)
	a.meters[m.Key.Day] = day
	a.lastMeter = &day[i]
}

// insertDay inserts d into the ascending days, unless it is there; days
// mostly arrive in order, so this is mostly an append.
func insertDay(days []billing.Day, d billing.Day) []billing.Day {
	if n := len(days); n == 0 || days[n-1] < d {
		return append(days, d)
	}
	if i, found := slices.BinarySearch(days, d); !found {
		return slices.Insert(days, i, d)
	}
	return days
}

// putPackage stores p, which is mostly the package at index hint. A
// balance that changes, the common case, is written in place: the
// deduction order depends only on End, PurchasedAt and ID.
func (a *account) putPackage(p billing.Package, hint int) {
	i, ok := hint, hint < len(a.pkgs) && a.pkgs[hint].ID == p.ID
	if !ok {
		i, ok = a.pkgIndex[p.ID]
	}
	if !ok {
		i = len(a.pkgs)
		a.pkgs = append(a.pkgs, p)
		a.pkgIndex[p.ID] = i
		if p.Balance > 0 {
			a.insertLive(i)
		}
		return
	}
	old := &a.pkgs[i]
	wasLive, moved := old.Balance > 0, !sameOrder(old, &p)
	if wasLive && (moved || p.Balance <= 0) {
		j := a.livePlace(*old)
		a.live = slices.Delete(a.live, j, j+1)
	}
	*old = p
	if p.Balance > 0 && (!wasLive || moved) {
		a.insertLive(i)
	}
}

// sameOrder reports whether billing.ComparePackages(*p, *q) is 0, without
// copying the packages.
func sameOrder(p, q *billing.Package) bool {
	return p.End.Equal(q.End) && p.PurchasedAt.Equal(q.PurchasedAt) && p.ID == q.ID
}

// livePlace returns where a package in the order of p sits, or would, in live.
func (a *account) livePlace(p billing.Package) int {
	j, _ := slices.BinarySearchFunc(a.live, p, func(i int, p billing.Package) int { return billing.ComparePackages(a.pkgs[i], p) })
	return j
}

func (a *account) insertLive(i int) {
	a.live = slices.Insert(a.live, a.livePlace(a.pkgs[i]), i)
}
