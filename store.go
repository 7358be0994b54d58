package billing

import (
	"context"
	"time"
)

// Store persists accounts for an [Engine]. It promises storage semantics only;
// every billing rule lives in the Engine. A Store serves many goroutines at
// once, and a durable Store may serve many Engines in many processes.
//
// The unit of work is one account: Update runs fn on a view of one account's
// records, and fn returns what the unit writes as one value, [Changes],
// which the Store applies at once. The promises (package billingtest checks
// each one):
//
//   - Atomicity: the Store applies all of the Changes or none of them. If fn
//     returns an error, nothing is written and Update returns that error
//     unchanged; if applying fails, nothing is written and Update returns the
//     failure.
//   - Isolation: units of work on the same account behave as if run one after
//     another (serializable per account), whether the Store runs them one at
//     a time (a lock) or optimistically. Either way it refuses Changes whose
//     Account Version is not the stored Version plus one (1 for a new
//     account) with an error wrapping ErrConflict; the Engine retries on
//     ErrConflict. Units of work on different accounts do not wait for each
//     other.
//   - Unique keys: a usage id, a purchase id, a ledger Seq and a bill's Day
//     are each stored at most once per account. Changes holding one that is
//     already stored, or holding it twice, fail with an error wrapping
//     ErrExists (for Seqs: one at or below the Seq before it), and nothing
//     of them is written, so a duplicate can never be half applied. The
//     Engine retries on ErrExists and then finds the first one.
//   - Snapshot reads: fn's reads see the state committed before the unit of
//     work began (and, since the Changes are applied after fn returns, never
//     its own writes).
//   - No aliasing: a Store never retains or shares memory with the Changes it
//     applies or the records it hands out (slices inside records are copied
//     both ways).
//   - Exact durability: what is read back equals what was written: decimals
//     to the last digit, times to the same instant (the location may differ),
//     strings byte for byte.
//   - Cancellation: Update and View honour ctx. Once ctx is done they apply
//     nothing more and return an error wrapping ctx.Err().
//
// Ids are opaque strings to a Store (the Engine guarantees they are valid
// UTF-8 without control characters, at most MaxIDLength bytes), compared and
// ordered byte by byte: ids that differ only in case, in a space at either
// end, or in Unicode normalization form are different ids (a unique index
// under a case-insensitive or normalizing collation breaks the contract).
type Store interface {
	// Update runs fn on account, which need not exist yet, and applies the
	// Changes it returns. fn must not retain its Reader, use it after
	// returning, or call the Store itself.
	Update(ctx context.Context, account string, fn func(Reader) (Changes, error)) error
	// View runs fn with a consistent read-only view of account. Reading an
	// account that does not exist is not an error of View: Account reports
	// ErrNotFound.
	View(ctx context.Context, account string, fn func(Reader) error) error
}

// Changes is what one unit of work writes to one account. A new kind of
// record is a new field. Empty Changes write nothing, and Update returns nil
// for them. Any others hold the Account: the Store refuses them otherwise,
// writing nothing, with an error that wraps neither ErrConflict nor
// ErrExists (a mistake to report, not a race to retry).
type Changes struct {
	// Account creates or replaces the account record. Its ID is the
	// account's, and its Version the stored one plus one (1 for a new
	// account).
	Account *Account
	// Packages and Meters create or replace records by ID and by Key; each
	// ID or Key appears at most once: Changes that repeat one are refused
	// (an error that wraps neither ErrConflict nor ErrExists), writing
	// nothing.
	Packages []Package
	Meters   []Meter
	// Usages, Purchases and Bills are new records: a usage id, a purchase
	// id or a Day already stored, or repeated, is ErrExists.
	Usages    []UsageRecord
	Purchases []PurchaseRecord
	// Entries are appended to the ledger in increasing order of Seq, each
	// above the account's last stored Seq (the Engine numbers them 1, 2,
	// 3, ...; a gap is allowed): a Seq at or below the one before it is
	// ErrExists.
	Entries []Entry
	Bills   []Bill
	// Checkpoints create or replace checkpoints by Key; each Key appears at
	// most once (Changes that repeat one are refused, as for Packages).
	Checkpoints []Checkpoint
}

// Empty reports whether c writes nothing.
func (c *Changes) Empty() bool {
	return c.Account == nil && len(c.Packages) == 0 && len(c.Meters) == 0 && len(c.Usages) == 0 &&
		len(c.Purchases) == 0 && len(c.Entries) == 0 && len(c.Bills) == 0 && len(c.Checkpoints) == 0
}

// Reader reads one account's records inside a unit of work or a view. Read
// methods return errors only for storage failures, except where ErrNotFound
// is named.
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
	// Meters calls fn for each stored meter of day d in order of Service,
	// Tier, then App (byte order), until fn returns false.
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
	// Usages calls fn for each usage record with from <= Usage.At < to, in
	// the order of Usage.At, then Usage.ID (byte order), until fn returns
	// false. A zero to means no upper bound. A Store keeps an ordered index:
	// the cost of a call grows with the records fn is shown, not with the
	// account's usages.
	Usages(from, to time.Time, fn func(UsageRecord) bool) error
	// Days calls fn, in ascending order until fn returns false, for each day
	// from..to (both included; none if from is after to) that has at least
	// one meter.
	Days(from, to Day, fn func(Day) bool) error
	// Checkpoints calls fn for the latest checkpoint whose Key is at or
	// before at (in the order of [OpKey.Compare]), if there is one, then for
	// each later checkpoint, in order of Key, until fn returns false. A Store
	// keeps an ordered index: the cost grows with the checkpoints fn is
	// shown, not with the account's checkpoints.
	Checkpoints(at OpKey, fn func(Checkpoint) bool) error
	// Bill returns the bill of day d, or an error wrapping ErrNotFound.
	Bill(d Day) (Bill, error)
	// Bills calls fn for each bill of a day from..to (both included; none if
	// from is after to), in order of Day, until fn returns false.
	Bills(from, to Day, fn func(Bill) bool) error
}

// Prefetcher is an optional interface of the [Reader] that Update hands to
// fn: a Store whose reads cost a round trip can load, in one, the usage
// records and meters a unit of work is about to read. The Engine calls
// Prefetch before recording usage; what Usage and Meter return afterwards
// must be what they would have returned without it.
type Prefetcher interface {
	Prefetch(usages []string, meters []MeterKey) error
}

// AccountLister is an optional interface of a [Store]: a Store that can list
// the accounts it holds implements it, and [Engine.Accounts] and
// [Engine.SettleDue] use it (a Store without it makes them return an error
// wrapping errors.ErrUnsupported). It is not part of Store so that a Store
// written before it still compiles.
type AccountLister interface {
	// Accounts returns the ids of up to limit stored accounts (limit > 0)
	// whose id is after after in byte order, in ascending byte order; ""
	// starts at the first. An empty page means there are no more (a Store
	// may return fewer than limit ids before that).
	// It honours ctx as Update and View do. The list is read outside any
	// unit of work: an account created while pages are read appears if its
	// id is after the page being read.
	Accounts(ctx context.Context, after string, limit int) ([]string, error)
}
