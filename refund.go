package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// RefundFullDays is the window of the full refund: one package per account
// is refunded in full if asked within this many days of its delivery, the
// purchase day being the first (domain reference §2.7).
const RefundFullDays = 5

// Refund asks for a package to be refunded (the China site's rules, domain
// reference §2.7).
type Refund struct {
	// ID is the caller's refund id, unique within the account: the
	// idempotency key.
	ID      string `json:"id"`
	Account string `json:"account"`
	// Package is the ID of the package to refund (its purchase id).
	Package string `json:"package"`
	// Discount is the account's exclusive discount in force when the refund
	// is asked (适用折扣), a fraction in (0, 1] with up to 8 decimals: the
	// minutes consumed are charged at their band's unit price times it.
	// Zero means none (1).
	Discount decimal.Decimal `json:"discount"`
}

// PackageRefund is a refund an account got: what it took and paid back.
type PackageRefund struct {
	ID      string `json:"id"`
	Package string `json:"package"`
	// At is when the refund took effect: the start of the first unsettled
	// billing day when it was asked. The package covers no usage from then
	// on; the usage of that day and later that it had covered was covered
	// again as if it never had.
	At time.Time `json:"at"`
	// Full reports the account's one full refund, within RefundFullDays of
	// the purchase: Amount is the price paid, whatever was consumed.
	Full bool `json:"full"`
	// Minutes is the balance the refund took: the package minutes left at
	// At. Consumed is the package minutes used by then: Minutes of the
	// package less that balance.
	Minutes  int64 `json:"minutes"`
	Consumed int64 `json:"consumed"`
	// UnitPrice is the price per package minute of the band Consumed falls
	// into (the kind's Pricing.Bands); Discount is the one asked with;
	// Used is Consumed × UnitPrice × Discount, rounded half up to the
	// currency's decimals. Zero for a full refund.
	UnitPrice decimal.Decimal `json:"unit_price"`
	Discount  decimal.Decimal `json:"discount"`
	Used      decimal.Decimal `json:"used"`
	// Amount is what is paid back: the package's Price less Used, never
	// below zero (the rest is not charged).
	Amount decimal.Decimal `json:"amount"`
}

// refundsConsistent reports whether rs are an account's refunds as the
// Engine writes them: ids and packages once each, amounts not negative, a
// discount in (0, 1], minutes consumed and taken not negative.
func refundsConsistent(rs []PackageRefund) bool {
	for i, r := range rs {
		for _, q := range rs[:i] {
			if q.ID == r.ID || q.Package == r.Package {
				return false
			}
		}
		if r.Minutes < 0 || r.Consumed < 0 || r.Used.IsNegative() || r.Amount.IsNegative() || r.UnitPrice.IsNegative() ||
			!r.Discount.IsPositive() || r.Discount.GreaterThan(decimal.NewFromInt(1)) {
			return false
		}
	}
	return true
}

// refundOp is the refund an op applies.
type refundOp struct {
	id, pkg  string
	full     bool
	discount decimal.Decimal
	done     *PackageRefund // what it did
}

// Refund refunds a bought package, the China site's way (退费说明, domain
// reference §2.7), if its kind is Refundable (the Era 1 CNY universal
// package):
//
//   - The account's one full refund: the first refund asked within
//     RefundFullDays (5) calendar days of the purchase in the billing time
//     zone, the purchase day counted as the first, pays back the whole
//     price, unless the account had one before. Any other pays back the price less what was used: the package
//     minutes consumed × the unit price of the band they fall into (the
//     kind's Pricing.Bands: 0.00596800 yuan a minute from 1,000,000 to
//     3,000,000) × Refund.Discount, rounded half up to the currency's
//     decimals; if that is more than the price, nothing, and nothing more
//     is charged.
//   - The refund takes effect at the start of the first unsettled billing
//     day, and the package covers no usage from then on: its consumption is
//     that of the settled days, which no report can change any more, so the
//     amount paid back is final, whatever order reports arrive in. Usage of
//     that day and later that it covered is covered again, as if it never
//     had (by the packages after it, else postpaid or shortfall), and its
//     balance then leaves in an EntryRefund carrying the amount.
//   - Not refundable (ErrNotRefundable): the trial and other granted
//     packages, a kind that is not Refundable, a package expired, reclaimed
//     for arrears, used up or refunded by then. Not yet refundable
//     (ErrNotYetRefundable, to ask again later): a package whose purchase
//     day is not settled, and any package of an account recorded before
//     operations had keys that has not settled a day since. The window of
//     the full refund is judged by the day the refund is asked: a host
//     settles each day the next morning (TRTC's timing), so a package
//     bought on day D can be refunded in full from D+1 to D+4.
//
// Refunding a refund id again with the same package and discount returns
// the first refund and changes nothing.
//
// Errors wrap ErrInvalidID, ErrInvalidDiscount, ErrInvalidTime (the
// clock), ErrNotFound (no such account or package), ErrIdempotencyConflict,
// ErrNotRefundable, ErrNotYetRefundable, ErrNoPriceBook, ErrCorrupt, or a
// Store or context error. On error nothing is refunded.
func (e *Engine) Refund(ctx context.Context, r Refund) (PackageRefund, error) {
	fail := func(err error) (PackageRefund, error) {
		return PackageRefund{}, &Error{Op: "Refund", Account: r.Account, ID: r.ID, Err: err}
	}
	switch {
	case !validID(r.ID):
		return fail(invalidID("refund id", r.ID))
	case !validID(r.Account):
		return fail(invalidID("account id", r.Account))
	case !validID(r.Package):
		return fail(invalidID("package id", r.Package))
	}
	discount := r.Discount
	if discount.IsZero() {
		discount = decimal.NewFromInt(1)
	}
	if !discount.IsPositive() || discount.GreaterThan(decimal.NewFromInt(1)) || !discount.Equal(discount.Truncate(maxPriceDecimals)) {
		return fail(fmt.Errorf("%w: %s not in (0, 1] with up to 8 decimals", ErrInvalidDiscount, r.Discount))
	}
	var done PackageRefund
	_, _, err := e.update(ctx, RequestRefund, r.ID, r.Account, func(u *unit) error {
		var err error
		done, err = e.refund(u, r.ID, r.Package, discount)
		return err
	})
	if err != nil {
		return fail(cause(err))
	}
	return done, nil
}

func (e *Engine) refund(u *unit, id, pkg string, discount decimal.Decimal) (PackageRefund, error) {
	for _, f := range u.a.Refunds {
		switch {
		case f.ID == id && f.Package == pkg && f.Discount.Equal(discount):
			return f, nil
		case f.ID == id:
			return PackageRefund{}, fmt.Errorf("%w: refund %q refunded package %q at discount %s", ErrIdempotencyConflict, id, f.Package, f.Discount)
		case f.Package == pkg:
			return PackageRefund{}, fmt.Errorf("%w: package %q was refunded under %q", ErrNotRefundable, pkg, f.ID)
		}
	}
	if err := u.expire(); err != nil {
		return PackageRefund{}, err
	}
	p, err := findPackage(u.r.Packages, pkg)
	switch {
	case err != nil:
		return PackageRefund{}, err
	case p == nil:
		return PackageRefund{}, fmt.Errorf("package %q %w", pkg, ErrNotFound)
	}
	if _, err := u.r.Purchase(pkg); err != nil {
		return PackageRefund{}, fmt.Errorf("%w: package %q was not bought: %w", ErrNotRefundable, pkg, err)
	}
	kind, err := e.kindOf(p)
	if err != nil {
		return PackageRefund{}, err
	}
	period := e.periodStart(&u.a)
	at := period.At
	switch {
	case !kind.Refundable:
		return PackageRefund{}, fmt.Errorf("%w: packages of kind %q of book %q", ErrNotRefundable, p.Kind, p.Book)
	case !p.PurchasedAt.Before(at):
		return PackageRefund{}, fmt.Errorf("%w: package %q until its purchase day is settled", ErrNotYetRefundable, pkg)
	case !u.a.end(p).After(at):
		return PackageRefund{}, fmt.Errorf("%w: package %q ended by %s", ErrNotRefundable, pkg, at.Format(time.RFC3339))
	}
	// The refund is applied at the period's checkpoint, which an account
	// recorded before operations had keys lacks until it settles a day.
	var first *Checkpoint
	if err := u.r.Checkpoints(period, func(c Checkpoint) bool { first = &c; return false }); err != nil {
		return PackageRefund{}, err
	}
	if first == nil || first.Key.Compare(period) != 0 {
		return PackageRefund{}, fmt.Errorf("%w: package %q until the account settles a day", ErrNotYetRefundable, pkg)
	}
	full := e.cal.day(u.now) < e.cal.day(p.PurchasedAt)+RefundFullDays
	for _, f := range u.a.Refunds {
		full = full && !f.Full
	}
	o := op{key: OpKey{At: at, Class: ClassRefund, ID: id}, refund: &refundOp{id: id, pkg: pkg, full: full, discount: discount}}
	if err := e.replay(u, []op{o}); err != nil {
		return PackageRefund{}, err
	}
	return *o.refund.done, nil
}

// refunded applies refund o at its place in the reference order, the start
// of the first unsettled day, before the usages of settled days sequenced
// there: the package's balance then leaves, and the amount paid back is
// worked out from what it consumed. It runs in the replay that Refund makes
// (fold), whose write records the refund's ledger entry.
func (e *Engine) refunded(u *unit, key OpKey, o *refundOp) error {
	p, err := findPackage(u.r.LivePackages, o.pkg)
	switch {
	case err != nil:
		return err
	case p == nil:
		return fmt.Errorf("%w: package %q used up by %s", ErrNotRefundable, o.pkg, key.At.Format(time.RFC3339))
	}
	kind, err := e.kindOf(p)
	if err != nil {
		return err
	}
	places, err := e.decimals(u.a.Currency)
	if err != nil {
		return err
	}
	f := PackageRefund{ID: o.id, Package: p.ID, At: key.At, Full: o.full, Minutes: p.Balance, Consumed: p.Minutes - p.Balance,
		UnitPrice: decimal.Zero, Discount: o.discount, Used: decimal.Zero, Amount: p.Price}
	if !f.Full {
		b, _ := kind.Pricing.band(f.Consumed) // a Refundable kind has bands from 0 minutes
		f.UnitPrice = b.PerMinute
		f.Used = decimal.NewFromInt(f.Consumed).Mul(f.UnitPrice).Mul(f.Discount).Round(places)
		f.Amount = decimal.Max(p.Price.Sub(f.Used), decimal.Zero)
	}
	p.Balance = 0
	u.putPackage(*p)
	u.a.Refunds = append(u.a.Refunds, f)
	o.done = &f
	return nil
}

// findPackage returns the package id among those list shows, or nil.
func findPackage(list func(func(Package) bool) error, id string) (*Package, error) {
	var p *Package
	err := list(func(q Package) bool {
		if q.ID == id {
			p = &q
		}
		return p == nil
	})
	return p, err
}
