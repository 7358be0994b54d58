package billing

import (
	"context"
	"time"
)

// Store persists accounts for an [Engine]. It promises storage semantics only;
// every billing rule lives in the Engine. A Store serves many goroutines at
// once, and a durable Store may serve many Engines in many processes.
//
// The unit of work is one account: Update runs fn against one account's
// records and either commits everything fn wrote or nothing. The promises
// (package billingtest checks each one):
//
//   - Atomicity: if fn returns an error, or the commit fails, nothing fn wrote
//     is stored, and Update returns that error (fn's error unchanged).
//   - Isolation: units of work on the same account behave as if run one after
//     another (serializable per account). A Store may run them one at a time
//     (a lock), or optimistically and then refuse a commit whose account
//     Version is not the stored Version plus one (1 for a new account) with an
//     error wrapping ErrConflict; the Engine retries on ErrConflict. Units of
//     work on different accounts do not wait for each other.
//   - Unique keys: a usage id, a purchase id, a ledger Seq and a bill's Day
//     are each stored at most once per account. Writing one that is already stored fails the
//     commit with an error wrapping ErrExists, in the same atomic commit as the
//     balance changes, so a duplicate can never be half applied. The Engine
//     retries on ErrExists and then finds the first one.
//   - Snapshot reads: reads inside a unit of work see the state committed
//     before it began, not fn's own writes. Writes are applied at commit, in
//     the order they were made; a later write of the same record replaces an
//     earlier one.
//   - No aliasing: a Store never retains or shares memory with the values fn
//     passes in or gets back (slices inside records are copied both ways).
//   - Exact durability: what is read back equals what was written: decimals
//     to the last digit, times to the same instant (the location may differ),
//     strings byte for byte.
//   - Cancellation: Update and View honour ctx. Once ctx is done they commit
//     nothing more and return an error wrapping ctx.Err().
//
// Ids are opaque strings to a Store (the Engine guarantees they are valid
// UTF-8 without control characters, at most MaxIDLength bytes), compared and
// ordered byte by byte: ids that differ only in case, in a space at either
// end, or in Unicode normalization form are different ids (a unique index
// under a case-insensitive or normalizing collation breaks the contract).
type Store interface {
	// Update runs fn as one atomic, isolated unit of work on account, which
	// need not exist yet (creating it is a write of its Account). fn must not
	// retain tx, use it after returning, or call the Store itself.
	Update(ctx context.Context, account string, fn func(tx Tx) error) error
	// View runs fn with a consistent read-only view of account. Reading an
	// account that does not exist is not an error of View: tx.Account reports
	// ErrNotFound.
	View(ctx context.Context, account string, fn func(tx Reader) error) error
}

// Reader reads one account's records inside a unit of work. Read methods
// return errors only for storage failures, except where ErrNotFound is named.
type Reader interface {
	// Account returns the account record, or an error wrapping ErrNotFound.
	Account() (Account, error)
	// Usage returns the usage recorded under id, or an error wrapping ErrNotFound.
	Usage(id string) (UsageRecord, error)
	// Purchase returns the purchase made under id, or an error wrapping ErrNotFound.
	Purchase(id string) (PurchaseRecord, error)
	// Meter returns the meter with key k; a meter never written is returned as
	// Meter{Key: k} with zero counts.
	Meter(k MeterKey) (Meter, error)
	// Meters calls fn for each stored meter of day d in order of Service, then
	// Tier (byte order), until fn returns false.
	Meters(d Day, fn func(Meter) bool) error
	// LivePackages calls fn for each package with a positive Balance, in
	// deduction order (see [ComparePackages]), until fn returns false. A Store
	// reads lazily: the cost of a call must grow with the packages fn is shown,
	// not with the packages the account has.
	LivePackages(fn func(Package) bool) error
	// Packages calls fn for every package of the account, live or not, in
	// deduction order, until fn returns false.
	Packages(fn func(Package) bool) error
	// Entries calls fn for each ledger entry with from <= At < to, in Seq
	// order, until fn returns false. A zero to means no upper bound.
	Entries(from, to time.Time, fn func(Entry) bool) error
	// Days calls fn, in ascending order until fn returns false, for each day
	// from..to (both included; none if from is after to) that has at least
	// one meter.
	Days(from, to Day, fn func(Day) bool) error
	// Bill returns the bill of day d, or an error wrapping ErrNotFound.
	Bill(d Day) (Bill, error)
	// Bills calls fn for each bill of a day from..to (both included; none if
	// from is after to), in order of Day, until fn returns false.
	Bills(from, to Day, fn func(Bill) bool) error
}

// Tx is a Reader that also writes, inside Store.Update. Writes are buffered
// or applied as the Store likes, but become visible only when the unit of
// work commits; an error from a write is reported by Update.
type Tx interface {
	Reader
	// PutAccount creates or replaces the account record. Its Version is one
	// more than the stored one (1 for a new account).
	PutAccount(Account)
	// PutPackage creates or replaces the package with p.ID.
	PutPackage(p Package)
	// PutMeter creates or replaces the meter with m.Key.
	PutMeter(m Meter)
	// PutUsage stores a usage record; its id must be new (ErrExists).
	PutUsage(r UsageRecord)
	// PutPurchase stores a purchase record; its id must be new (ErrExists).
	PutPurchase(r PurchaseRecord)
	// AppendEntry appends a ledger entry; its Seq must be new (ErrExists).
	AppendEntry(e Entry)
	// PutBill stores a bill; its Day must be new (ErrExists).
	PutBill(b Bill)
}

// Prefetcher is an optional interface of a [Tx]: a Store whose reads cost a
// round trip can load, in one, the usage records and meters a unit of work
// is about to read. The Engine calls Prefetch before recording usage; what
// Usage and Meter return afterwards must be what they would have returned
// without it.
type Prefetcher interface {
	Prefetch(usages []string, meters []MeterKey) error
}
