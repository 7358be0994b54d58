package billing

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
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

// MaxIDLength is the longest id, in bytes, that the Engine accepts.
const MaxIDLength = 128

// invalidID returns ErrInvalidID naming the field and the id.
func invalidID(field, id string) error {
	return fmt.Errorf("%w: %s %s", ErrInvalidID, field, quote(id))
}

// plainASCII holds the bytes that are printable ASCII characters, which
// validID accepts without decoding.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = true
	}
	return t
}()

// validID reports whether s is a usable id: 1..MaxIDLength bytes of UTF-8
// without control characters.
func validID(s string) bool {
	if len(s) == 0 || len(s) > MaxIDLength {
		return false
	}
	for i := 0; i < len(s); i++ { // ASCII first, byte by byte
		if c := s[i]; !plainASCII[c] {
			if c < 0x80 {
				return false
			}
			for _, r := range s[i:] {
				if r < 0x20 || r == 0x7f || r == '\uFFFD' || (r >= 0x80 && r < 0xa0) {
					return false
				}
			}
			return true
		}
	}
	return true
}

// Account is an account's root record: its currency, the postpaid switch,
// its status, and the counters the Engine keeps. Packages, meters, usage and
// the ledger are records of their own.
type Account struct {
	ID       string
	Currency string
	Opened   time.Time
	// Postpaid is the postpaid switch. Once On, it stays on.
	Postpaid Postpaid
	// Status is active or suspended.
	Status Status
	// AutoPostpaidArmed reports whether the account has bought a package whose
	// kind arms the automatic postpaid switch (the universal package).
	AutoPostpaidArmed bool
	// Version counts the units of work committed on the account.
	Version int64
	// Touched is the Engine time of the last unit of work. The Engine's time
	// for an account never goes backwards: an operation whose clock reads
	// earlier is stamped at Touched.
	Touched time.Time
	// LastSeq is the Seq of the account's last ledger entry.
	LastSeq int64
	// SettledThrough is the last closed billing day: every day up to it was
	// settled, or closed without a bill because it had nothing to bill.
	// Usage of a closed day is late: it is billed as an adjustment.
	SettledThrough Day
	// Late lists the meters of closed days that late usage changed since
	// their last bill, in the order it arrived; the next bill carries them
	// as adjustment lines.
	Late []MeterKey
}

// Package is a package of minutes an account holds: the trial it was granted
// or one it bought. Its ID is the purchase id ("trial" for the trial).
type Package struct {
	ID   string
	Kind string
	// Book is the ID of the price book whose kind terms (ratios) apply.
	Book string
	// Minutes is the package's size; Balance what is left. Both in package minutes.
	Minutes int64
	Balance int64
	// Forfeited is the balance forfeited at expiry.
	Forfeited int64
	// Price is what the package cost (zero for a grant), in the account's currency.
	Price       decimal.Decimal
	PurchasedAt time.Time
	// Start and End bound the validity: usage at t is covered if Start <= t < End.
	// Start is 00:00 of the purchase day in the billing time zone.
	Start, End time.Time
}

// TrialID is the ID of the trial package; purchases cannot use it.
const TrialID = "trial"

// Covers reports whether usage at t lies inside p's validity.
func (p Package) Covers(t time.Time) bool {
	return !t.Before(p.Start) && t.Before(p.End)
}

// ComparePackages orders packages for deduction: soonest End first, then
// earliest PurchasedAt, then ID (byte order). It returns -1, 0 or +1 like
// [strings.Compare].
func ComparePackages(p, q Package) int {
	if c := p.End.Compare(q.End); c != 0 {
		return c
	}
	if c := p.PurchasedAt.Compare(q.PurchasedAt); c != 0 {
		return c
	}
	return strings.Compare(p.ID, q.ID)
}

// MeterKey identifies a meter: one account's day, service and tier.
type MeterKey struct {
	Day     Day
	Service Service
	Tier    Tier
}

// Meter is the cumulative usage of one day, service and tier, and how its
// billable minutes were paid. Billable minutes are ceil(Seconds/60), and
// Prepaid + Postpaid + Shortfall always equals them. Value-added services are
// all Postpaid.
type Meter struct {
	Key     MeterKey
	Seconds int64
	// Prepaid minutes were covered by packages.
	Prepaid int64
	// Postpaid minutes are billed at list price.
	Postpaid int64
	// Shortfall minutes were used while neither a package nor postpaid could
	// pay for them; they are billed if postpaid is on when the day is settled.
	Shortfall int64
	// Settled is the meter as the last bill that covered it saw it (zero
	// before its day is settled). Anything above it is late usage, to be
	// billed as an adjustment.
	Settled Tally
}

// Tally is a meter's counts at one moment.
type Tally struct {
	Seconds, Prepaid, Postpaid, Shortfall int64
}

// tally returns the meter's current counts.
func (m *Meter) tally() Tally {
	return Tally{Seconds: m.Seconds, Prepaid: m.Prepaid, Postpaid: m.Postpaid, Shortfall: m.Shortfall}
}

// Minutes returns the meter's billable minutes, ceil(Seconds/60).
func (m Meter) Minutes() int64 { return ceilMinutes(m.Seconds) }

// Uncovered returns the minutes no package covered: Postpaid + Shortfall.
func (m Meter) Uncovered() int64 { return m.Postpaid + m.Shortfall }

func ceilMinutes(seconds int64) int64 { return (seconds + 59) / 60 }

// UsageRecord is a recorded usage and the receipt it got.
type UsageRecord struct {
	Usage   Usage
	Receipt Receipt
}

// PurchaseRecord is a purchase and the receipt it got.
type PurchaseRecord struct {
	Purchase Purchase
	Receipt  PurchaseReceipt
}
