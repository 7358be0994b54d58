package billing

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Package is a package of minutes an account holds: the trial it was granted
// or one it bought. Its ID is the purchase id ("trial" for the trial).
type Package struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Book is the ID of the price book whose kind terms (ratios) apply.
	Book string `json:"book"`
	// Minutes is the package's size; Balance what is left. Both in package minutes.
	Minutes int64 `json:"minutes"`
	Balance int64 `json:"balance"`
	// Forfeited is the balance forfeited at expiry, or once arrears
	// reclaimed the package (see Arrears.Reclaim).
	Forfeited int64 `json:"forfeited"`
	// Currency is the account's currency, which Price is in.
	Currency string `json:"currency"`
	// Price is what the package cost (zero for a grant).
	Price       decimal.Decimal `json:"price"`
	PurchasedAt time.Time       `json:"purchased_at"`
	// Start and End bound the validity the package was sold with: usage at
	// t is covered if Start <= t < End, unless the account's unpaid arrears
	// reclaimed the package earlier (see Arrears.Reclaim). Start is 00:00
	// of the purchase day in the billing time zone.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// App is the application the package is bound to, whose usage alone
	// it covers (a kind with AppBound: Era 3's monthly packages); empty
	// for a package of the whole account.
	App string `json:"app"`
	// First reports that the package is drawn before packages without it,
	// as its kind says (PackageKind.First: Era 3's free minutes).
	First bool `json:"first"`
}

// forApp reports whether p may cover the usage of application app: it is
// the whole account's, or bound to app.
func (p *Package) forApp(app string) bool { return p.App == "" || p.App == app }

// TrialID is the ID of the trial package; purchases cannot use it.
const TrialID = "trial"

// Covers reports whether usage at t lies inside p's validity as sold
// (unpaid arrears can end it earlier: see Arrears.Reclaim).
func (p Package) Covers(t time.Time) bool {
	return !t.Before(p.Start) && t.Before(p.End)
}

// ComparePackages orders packages for deduction: First packages first,
// then packages bound to an application before those of the whole account
// (the narrower scope first), then soonest End, earliest PurchasedAt, and
// ID (byte order). Era 3 so draws its free minutes first, then the
// packages of the usage's application, then the account's (domain
// reference §2.4); packages of Era 1 and 2, none First nor bound, are
// drawn soonest expiry first. It returns -1, 0 or +1 like
// [strings.Compare].
func ComparePackages(p, q Package) int {
	if p.First != q.First || !p.First && (p.App == "") != (q.App == "") { // their ranks differ
		return cmp.Compare(p.Rank(), q.Rank())
	}
	if c := p.End.Compare(q.End); c != 0 {
		return c
	}
	if c := p.PurchasedAt.Compare(q.PurchasedAt); c != 0 {
		return c
	}
	return strings.Compare(p.ID, q.ID)
}

// Rank is the package's class in the deduction order (see
// [ComparePackages]): 0 First, 1 bound to an application, 2 the whole
// account's. A Store that sorts packages itself (in SQL) sorts by it
// first.
func (p Package) Rank() int {
	switch {
	case p.First:
		return 0
	case p.App != "":
		return 1
	}
	return lastRank
}

// lastRank is the Rank of the packages of the whole account, not First:
// those of the last rank are in order of End.
const lastRank = 2

// Purchase is a package bought by an account.
type Purchase struct {
	// ID is the caller's purchase id, unique within the account: the
	// idempotency key, and the package's ID. TrialID is reserved.
	ID      string `json:"id"`
	Account string `json:"account"`
	// Kind is a purchasable kind of the price book of the purchase day: KindUniversal,
	// or a custom kind.
	Kind string `json:"kind"`
	// Minutes is the package's size: a positive multiple of the kind's
	// Pricing.Unit (1,000 for the universal package).
	Minutes int64 `json:"minutes"`
	// App is the application a package of a kind bound to one (AppBound)
	// is bought for: one of the account's, created by the purchase. Empty
	// for the other kinds, which cover the whole account.
	App string `json:"app"`
}

// PurchaseReceipt is what a purchase did.
type PurchaseReceipt struct {
	// Package is the package as bought, after absorbing the day's uncovered minutes.
	Package Package `json:"package"`
	// Day is the purchase day.
	Day Day `json:"day"`
	// Absorbed lists, per tier, the purchase day's uncovered basic minutes
	// the new package covered.
	Absorbed []Absorption `json:"absorbed"`
	// Resumed reports that the purchase lifted a suspension.
	Resumed bool `json:"resumed"`
}

// Absorption is the part of a day's uncovered minutes of one tier that a
// package bought that day covered.
type Absorption struct {
	Tier Tier `json:"tier"`
	// App is the meter's application, where the book rounds per
	// application (see [MeterKey]).
	App string `json:"app"`
	// Shortfall and Postpaid are the billable minutes taken off the day's
	// shortfall and postpaid minutes.
	Shortfall int64 `json:"shortfall"`
	Postpaid  int64 `json:"postpaid"`
	// Deducted is the package minutes they took.
	Deducted int64 `json:"deducted"`
}

// PurchaseRecord is a purchase and the receipt it got.
type PurchaseRecord struct {
	Purchase Purchase        `json:"purchase"`
	Receipt  PurchaseReceipt `json:"receipt"`
}

// Buy buys a package for an account. The package is valid from 00:00 of the
// purchase day (in the billing time zone) to the end of its kind's validity,
// so it covers usage from its purchase on, and it first absorbs the purchase
// day's basic minutes that no package covered, never an earlier day's: tier
// by tier in the price book's order (audio, SD, HD, FHD in Era 1), and
// application by application where the book rounds per application
// (only its own, for a package bound to one), and within a tier
// the shortfall minutes before the postpaid ones, as many whole minutes as
// its balance allows at its ratio.
// Buying lifts a suspension, and buying a kind with AutoPostpaid (the
// universal package) arms the automatic postpaid switch. The kind and its
// price come from the price book of the purchase day. Buying also forfeits the
// balance of packages that have expired.
//
// Buying a purchase id again with the same kind and size returns the first
// receipt and changes nothing.
//
// Errors wrap ErrInvalidID, ErrInvalidTime (the clock), ErrNotFound, ErrIdempotencyConflict,
// ErrNoPriceBook, ErrUnknownKind, ErrInvalidMinutes, ErrCorrupt, or a Store
// or context error. On error nothing is bought.
func (e *Engine) Buy(ctx context.Context, p Purchase) (PurchaseReceipt, error) {
	fail := func(err error) (PurchaseReceipt, error) {
		return PurchaseReceipt{}, &Error{Op: "Buy", Account: p.Account, ID: p.ID, Err: err}
	}
	switch {
	case !validID(p.ID):
		return fail(invalidID("purchase id", p.ID))
	case p.ID == TrialID || granted(p.ID):
		return fail(fmt.Errorf("%w: purchase id %q is reserved: %q and ids starting with %q name the packages the Engine grants",
			ErrInvalidID, p.ID, TrialID, GrantPrefix))
	case !validID(p.Account):
		return fail(invalidID("account id", p.Account))
	case p.App != "" && !validID(p.App):
		return fail(invalidID("app id", p.App))
	}
	var r PurchaseReceipt
	_, _, err := e.update(ctx, RequestBuy, p.ID, p.Account, func(u *unit) error {
		var err error
		r, err = e.buy(u, &p)
		return err
	})
	if err != nil {
		return fail(err)
	}
	return r, nil
}

func (e *Engine) buy(u *unit, p *Purchase) (PurchaseReceipt, error) {
	switch old, err := u.r.Purchase(p.ID); {
	case err == nil && old.Purchase == *p:
		return old.Receipt, nil
	case err == nil:
		return PurchaseReceipt{}, fmt.Errorf("%w: the purchase was made with another Kind, Minutes or App", ErrIdempotencyConflict)
	case !errors.Is(err, ErrNotFound):
		return PurchaseReceipt{}, err
	}
	today := e.cal.day(u.now)
	book, err := e.bookFor(&u.a, today)
	if err != nil {
		return PurchaseReceipt{}, err
	}
	kind, ok := book.kind(p.Kind)
	switch {
	case !ok:
		return PurchaseReceipt{}, fmt.Errorf("%w %q in book %q", ErrUnknownKind, p.Kind, book.ID)
	case kind.Pricing.Unit == 0:
		return PurchaseReceipt{}, fmt.Errorf("%w: kind %q of book %q is not for sale", ErrUnknownKind, p.Kind, book.ID)
	}
	price, err := kind.price(p.Minutes, book.Decimals)
	if err != nil {
		return PurchaseReceipt{}, err
	}
	if err := e.scope(u, kind, p); err != nil {
		return PurchaseReceipt{}, err
	}
	if err := u.expire(); err != nil {
		return PurchaseReceipt{}, err
	}
	pkg := Package{
		ID: p.ID, Kind: p.Kind, Book: book.ID, Minutes: p.Minutes, Balance: p.Minutes, Currency: u.a.Currency, Price: price,
		PurchasedAt: u.now, Start: e.cal.start(today), End: kind.Validity.end(today, e.cal.loc),
		App: p.App, First: kind.First,
	}
	ops := [1]op{{key: purchaseKey(&pkg), pkg: &pkg}}
	if err := e.place(u, ops[:]); err != nil {
		return PurchaseReceipt{}, err
	}
	r := *ops[0].bought
	u.ch.Purchases = append(u.ch.Purchases, PurchaseRecord{Purchase: *p, Receipt: r})
	return r, nil
}

// scope checks purchase p's application against its kind: one of the
// account's, created by now, for a kind bound to one, and none for the
// others; and, for a kind that does not stack, that no package of it for
// the same application is still in its validity today, unless refunded.
func (e *Engine) scope(u *unit, kind *PackageKind, p *Purchase) error {
	switch {
	case !kind.AppBound && p.App != "":
		return fmt.Errorf("%w: kind %q covers the whole account; the purchase names application %q", ErrInvalidID, p.Kind, p.App)
	case kind.AppBound && p.App == "":
		return fmt.Errorf("%w: kind %q is bound to an application; the purchase names none", ErrUnknownApp, p.Kind)
	case kind.AppBound:
		if _, err := u.a.appAt(p.App, u.now, e.cal.loc); err != nil {
			return err
		}
	}
	if !kind.NoStacking {
		return nil
	}
	today := e.cal.start(e.cal.day(u.now))
	var held *Package
	err := u.r.Packages(func(q Package) bool {
		refunded := slices.ContainsFunc(u.a.Refunds, func(f PackageRefund) bool { return f.Package == q.ID })
		if q.Kind == p.Kind && q.App == p.App && u.a.end(&q).After(today) && !refunded {
			held = &q
			return false
		}
		return true
	})
	if err != nil {
		return err
	}
	if held != nil {
		return fmt.Errorf("%w: package %q of kind %q is valid until %s", ErrNotStackable, held.ID, p.Kind,
			u.a.end(held).In(e.cal.loc).Format(time.RFC3339))
	}
	return nil
}

// purchaseKey returns the key of the purchase of p in the reference order.
func purchaseKey(p *Package) OpKey {
	if p.ID == TrialID || granted(p.ID) {
		return OpKey{At: p.PurchasedAt, Class: ClassOpening, ID: p.ID}
	}
	return OpKey{At: p.PurchasedAt, Class: ClassCall, ID: p.ID}
}

// credit applies the purchase of package p (its Balance its Minutes) at its
// place in the reference order: it arms the automatic switch if its kind
// does, lifts a suspension, and absorbs the purchase day's minutes still
// uncovered.
func (e *Engine) credit(u *unit, p Package) (PurchaseReceipt, error) {
	kind, err := e.kindOf(&p)
	if err != nil {
		return PurchaseReceipt{}, err
	}
	day := e.cal.day(p.PurchasedAt)
	book, err := e.bookFor(&u.a, day)
	if err != nil {
		return PurchaseReceipt{}, err
	}
	u.append(Entry{Kind: creditKind(kind), Package: p.ID, Balance: p.Balance, Amount: p.Price})
	if kind.AutoPostpaid {
		u.a.AutoPostpaidArmed = true
	}
	r := PurchaseReceipt{Day: day}
	if p.App == "" {
		r.Resumed = u.resumeAll(p.PurchasedAt)
	} else if i := u.a.created(p.App); i >= 0 {
		r.Resumed = u.resume(i, p.PurchasedAt)
	}
	if err := e.absorb(u, book, kind, &p, &r); err != nil {
		return PurchaseReceipt{}, err
	}
	r.Package = p
	u.putPackage(p)
	return r, nil
}

// creditKind is the kind of the ledger entry of a package of kind k: a
// purchase, or a grant if the kind is not for sale.
func creditKind(k *PackageKind) EntryKind {
	if k.Pricing.Unit == 0 {
		return EntryGrant
	}
	return EntryPurchase
}

// absorb covers the basic minutes the purchase day's usage left uncovered
// with the new package pkg, as far as its balance goes.
func (e *Engine) absorb(u *unit, book *PriceBook, kind *PackageKind, pkg *Package, r *PurchaseReceipt) error {
	var meters []Meter
	w := e.window(&u.a, r.Day)
	err := u.r.Meters(w, func(m Meter) bool {
		if !pkg.forApp(m.Key.App) {
			return true
		}
		if postpaid, shortfall := m.today(r.Day); m.Key.Service == ServiceBasic && postpaid+shortfall > 0 {
			meters = append(meters, m)
		}
		return true
	})
	if err != nil {
		return err
	}
	// Tier by tier in the book's order; tiers the book lacks last, by name.
	slices.SortStableFunc(meters, func(a, b Meter) int {
		return book.tierRank(ServiceBasic, a.Key.Tier) - book.tierRank(ServiceBasic, b.Key.Tier)
	})
	for _, m := range meters {
		if !m.consistent() || m.Key.Day != w {
			return fmt.Errorf("%w: meter %v", ErrCorrupt, m.Key)
		}
		ratio := kind.ratio(ServiceBasic, m.Key.Tier)
		if ratio == 0 {
			continue
		}
		postpaid, shortfall := m.today(r.Day)
		a := Absorption{Tier: m.Key.Tier, App: m.Key.App}
		a.Shortfall = min(shortfall, pkg.Balance/ratio)
		a.Postpaid = min(postpaid, (pkg.Balance-a.Shortfall*ratio)/ratio)
		n := a.Shortfall + a.Postpaid
		if n == 0 {
			continue
		}
		a.Deducted = n * ratio
		pkg.Balance -= a.Deducted
		m.Shortfall -= a.Shortfall
		m.Postpaid -= a.Postpaid
		m.Prepaid += n
		u.append(Entry{Kind: EntryDeduction, Package: pkg.ID, Balance: -a.Deducted, Key: m.Key, Minutes: n})
		if a.Shortfall > 0 {
			u.append(Entry{Kind: EntryShortfall, Key: m.Key, Minutes: -a.Shortfall})
		}
		if a.Postpaid > 0 {
			u.append(Entry{Kind: EntryPostpaid, Key: m.Key, Minutes: -a.Postpaid})
		}
		u.putMeter(m)
		r.Absorbed = append(r.Absorbed, a)
	}
	return nil
}

// touch is a package a usage changed: drawn from, or (draw.Minutes == 0) expired.
type touch struct {
	p    Package
	draw Draw
}

// draw walks the live packages in deduction order, forfeiting the expired
// ones it meets and covering up to need minutes of us, of day d, from those
// valid at us.At (and, if d is settled, at the start of the first unsettled
// period: usage of a settled day is sequenced there). It returns the
// minutes left uncovered and the packages changed, in order (in u's
// buffer, until the next draw), without writing anything.
func (e *Engine) draw(u *unit, us *Usage, d Day, need int64) (int64, []touch, error) {
	w := &u.walk
	w.us, w.need, w.err, w.from = us, need, nil, time.Time{}
	if d <= u.a.SettledThrough {
		w.from = e.cal.start(u.a.SettledThrough + 1)
	}
	u.touched = u.touched[:0]
	err := u.r.LivePackages(u.step)
	if w.err != nil {
		err = w.err
	}
	return w.need, u.touched, err
}

// visit is draw's visit of one live package.
func (u *unit) visit(p Package) bool {
	w := &u.walk
	if p.Balance <= 0 || p.Balance > p.Minutes {
		w.err = fmt.Errorf("%w: package %q balance %d of %d", ErrCorrupt, p.ID, p.Balance, p.Minutes)
		return false
	}
	if u.e.forfeitable(&p, &u.a, u.now) {
		if !u.replaying {
			u.touched = append(u.touched, touch{p: p})
		}
		return true
	}
	if w.need == 0 {
		// Packages after this one end later, and forfeit later, unless
		// arrears reclaimed some, or they are of a later rank.
		return u.a.reclaimedBy(u.now) || p.Rank() < lastRank
	}
	if !p.forApp(w.us.App) || !u.a.covers(&p, w.us.At) || !w.from.IsZero() && !u.a.end(&p).After(w.from) {
		return true
	}
	kind, err := u.e.kindOf(&p)
	if err != nil {
		w.err = err
		return false
	}
	ratio := kind.ratio(w.us.Service, w.us.Tier)
	if ratio == 0 || p.Balance < ratio {
		return true
	}
	n := min(w.need, p.Balance/ratio)
	p.Balance -= n * ratio
	w.need -= n
	u.touched = append(u.touched, touch{p: p, draw: Draw{Package: p.ID, Minutes: n, Deducted: n * ratio}})
	return w.need > 0 || u.a.reclaimedBy(u.now) || p.Rank() < lastRank
}

// forfeit zeroes the balance of an expired package.
func (u *unit) forfeit(p *Package) {
	u.append(Entry{Kind: EntryForfeit, Package: p.ID, Balance: -p.Balance})
	p.Forfeited += p.Balance
	p.Balance = 0
	u.putPackage(*p)
}

// forfeitable reports whether p's minutes are forfeited at now on account
// a: its validity and the grace after it have passed, and its last day is
// settled.
func (e *Engine) forfeitable(p *Package, a *Account, now time.Time) bool {
	end := a.end(p)
	return !end.Add(e.grace).After(now) && e.cal.day(end.Add(-1)) <= a.SettledThrough
}

// expire forfeits the balance of every live package whose validity and
// grace have passed and whose last day is settled. A replay forfeits
// nothing.
func (u *unit) expire() error {
	if u.replaying {
		return nil
	}
	var expired []Package
	err := u.r.LivePackages(func(p Package) bool {
		if !u.e.forfeitable(&p, &u.a, u.now) {
			// Packages of the last rank end in deduction order, unless
			// arrears reclaimed some (see Account.end).
			return u.a.reclaimedBy(u.now) || p.Rank() < lastRank
		}
		expired = append(expired, p)
		return true
	})
	for i := range expired {
		u.forfeit(&expired[i])
	}
	return err
}
