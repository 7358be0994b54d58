package billing

import (
	"context"
	"time"

	"github.com/shopspring/decimal"
)

// Entry is one line of an account's ledger. Every change of a package
// balance or of a meter's postpaid or shortfall minutes is an entry, and so
// is every change of a postpaid switch or of an application's status (their
// App names the application; an account's switch has none). Summing
// the entries rebuilds the balances:
//
//   - a package's Balance is the sum of Balance over the entries naming it
//     (grant or purchase, deductions, forfeit);
//   - a meter's Prepaid, Postpaid and Shortfall minutes are the sums of
//     Minutes over its deduction, postpaid and shortfall entries.
type Entry struct {
	// Seq numbers the account's entries 1, 2, 3, ... in the order they were made.
	Seq int64 `json:"seq"`
	// At is the Engine time of the operation that made the entry.
	At   time.Time `json:"at"`
	Kind EntryKind `json:"kind"`
	// Request is the kind of request that made the entry, and Ref its id:
	// the account id of an opening, the purchase id of a purchase, the usage
	// id of a usage, the application id of CreateApp, DisableApp, EnableApp
	// and EnablePostpaid ("" for the account's switch); "" for Overview.
	// Forfeits at expiry
	// are made by whatever request first touched the account after it.
	Request Request `json:"request"`
	Ref     string  `json:"ref"`
	// Package is the package whose balance changed, for grants, purchases,
	// deductions and forfeits.
	Package string `json:"package"`
	// Balance is the change of the package's balance, in package minutes.
	Balance int64 `json:"balance"`
	// Key is the meter the entry is about, for deductions, postpaid and
	// shortfall; the zero MeterKey for other entries.
	Key MeterKey `json:"key"`
	// Minutes is the change, in billable minutes, of the meter's Prepaid
	// (deductions), Postpaid or Shortfall minutes. Negative when a package
	// bought later absorbs them. A late usage's entries are the differences
	// its replay made (see the package documentation, "Event time and
	// arrival order"): a deduction then names a package (its Balance) or a
	// meter (its Minutes), not both, and they carry the late usage's App and
	// Scenario, though the minutes whose payment moved may be other usages'
	// of the same meter.
	Minutes int64 `json:"minutes"`
	// App and Scenario label entries made by a usage; App also names the
	// application of an entry about one (its switch, its status, the host
	// disabling or enabling it). Entries of a purchase
	// absorbing the day's uncovered minutes have none: the minutes of a
	// day's tier are absorbed as a whole, whatever their applications.
	App      string   `json:"app"`
	Scenario Scenario `json:"scenario"`
	// Amount is the money the entry is about: a purchase's price, a bill's
	// total. An entry does not carry the account's currency, so its JSON
	// writes Amount exactly as it is ("158.6"), without the currency's
	// decimals.
	Amount decimal.Decimal `json:"amount"`
}

// EntryKind is the kind of a ledger entry. The values are stored by Stores
// and never change.
type EntryKind string

// The kinds of ledger entry.
const (
	EntryGrant       EntryKind = "grant"        // a package granted: +Balance
	EntryPurchase    EntryKind = "purchase"     // a package bought: +Balance, Amount is the price
	EntryDeduction   EntryKind = "deduction"    // package minutes drawn: -Balance, +Minutes prepaid
	EntryPostpaid    EntryKind = "postpaid"     // minutes billed at list price: ±Minutes
	EntryShortfall   EntryKind = "shortfall"    // minutes nothing could pay for: ±Minutes
	EntryForfeit     EntryKind = "forfeit"      // balance lost at expiry, or once arrears reclaimed the package: -Balance
	EntryPostpaidOn  EntryKind = "postpaid-on"  // the postpaid switch went on (or, after a late report, went on earlier)
	EntrySuspended   EntryKind = "suspended"    // the application was suspended
	EntryResumed     EntryKind = "resumed"      // the application's suspension was lifted
	EntrySettlement  EntryKind = "settlement"   // a day settled: Amount is the bill's total
	EntryOverdue     EntryKind = "overdue"      // the host reported the account overdue
	EntryPaid        EntryKind = "paid"         // the host reported its arrears paid
	EntryRefund      EntryKind = "refund"       // a package refunded: -Balance, Amount is what was paid back
	EntryAppDisabled EntryKind = "app-disabled" // the host disabled the application (App)
	EntryAppEnabled  EntryKind = "app-enabled"  // the host enabled the application again (App)
)

// Request is the kind of request that made a ledger entry. The values are
// stored by Stores and never change.
type Request string

// The kinds of request.
const (
	RequestOpen           Request = "open"            // OpenAccount
	RequestBuy            Request = "buy"             // Buy
	RequestRecord         Request = "record"          // Record
	RequestEnablePostpaid Request = "enable-postpaid" // EnablePostpaid
	RequestOverview       Request = "overview"        // Overview (forfeits only)
	RequestSettle         Request = "settle"          // Settle; Ref is the day, 2006-01-02
	RequestOverdue        Request = "report-overdue"  // ReportOverdue; Ref is the host's reference
	RequestPaid           Request = "report-paid"     // ReportPaid; Ref is the host's reference
	RequestRefund         Request = "refund"          // Refund; Ref is the refund id
	RequestCreateApp      Request = "create-app"      // CreateApp; Ref is the application id
	RequestGrant          Request = "grant"           // the recurring grants (PriceBook.Monthly), made before a unit of work that finds them due
	RequestDisableApp     Request = "disable-app"     // DisableApp; Ref is the application id
	RequestEnableApp      Request = "enable-app"      // EnableApp; Ref is the application id
)

// Ledger returns the account's ledger entries made in [from, to), in Seq
// order. A zero to means no upper bound.
//
// Errors wrap ErrInvalidID, ErrNotFound, ErrCorrupt, or a Store or context error.
func (e *Engine) Ledger(ctx context.Context, account string, from, to time.Time) ([]Entry, error) {
	var entries []Entry
	err := e.view(ctx, "Ledger", account, func(r Reader, _ *Account) error {
		return r.Entries(from, to, func(en Entry) bool { entries = append(entries, en); return true })
	})
	return entries, err
}
