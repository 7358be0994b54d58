package billing

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// Bill is an account's bill of one settlement period, a billing day (a
// month on the monthly cycle, see [Cycle]): what the period's usage costs,
// issued once the period has ended and never changed afterwards. Usage
// that arrives for a period after it was settled is billed on the next
// bill, as adjustment lines dated with its own period.
type Bill struct {
	Account string `json:"account"`
	// Day and Through are the first and the last day of the period (the
	// same day on the daily cycle).
	Day      Day    `json:"day"`
	Through  Day    `json:"through"`
	Currency string `json:"currency"`
	// Issued is when the bill was settled.
	Issued time.Time `json:"issued"`
	// PostpaidOn reports that a postpaid switch of the account (its own or
	// an application's) was on at settlement: basic shortfall minutes, the
	// account's whatever their application, are billed only then;
	// otherwise they stay visible, unbilled, until the first bill settled
	// with one on (Line.Deferred).
	PostpaidOn bool `json:"postpaid_on"`
	// Lines are the period's meters (by day, service, tier in the price
	// book's order, then application), then the adjustments (in the same
	// order).
	Lines []Line `json:"lines"`
	// Subtotal is the exact sum of the lines' amounts.
	Subtotal decimal.Decimal `json:"subtotal"`
	// Total is Subtotal rounded once, half up, to the currency's decimals.
	Total decimal.Decimal `json:"total"`
}

// Line is one line of a bill: one meter (rounding window, service, tier
// and, where the book rounds per application, application), or what late
// usage added to one since its last bill.
type Line struct {
	// Day is the meter's day (see MeterKey): the bill's Day, or an
	// earlier one for an adjustment.
	Day     Day     `json:"day"`
	Service Service `json:"service"`
	Tier    Tier    `json:"tier"`
	// App is the meter's application, where the book rounds per
	// application (see [MeterKey]).
	App string `json:"app"`
	// Adjustment marks late usage of a day settled (or closed) before.
	Adjustment bool `json:"adjustment"`
	// Seconds and Minutes are the usage and its billable minutes (for an
	// adjustment, what late usage added to the meter since its last bill).
	Seconds int64 `json:"seconds"`
	Minutes int64 `json:"minutes"`
	// Prepaid, Postpaid and Shortfall split Minutes as the meter does:
	// covered by packages, billed at list price, and used while nothing
	// could pay. Value-added services have no Shortfall.
	Prepaid   int64 `json:"prepaid"`
	Postpaid  int64 `json:"postpaid"`
	Shortfall int64 `json:"shortfall"`
	// Deferred is, on a line of its own, the shortfall minutes of the
	// meter settled before while postpaid was off, billed now that it is
	// on (see Meter.Unbilled).
	Deferred int64 `json:"deferred"`
	// Billed is the minutes charged: Postpaid, plus Shortfall if postpaid was
	// on at settlement, plus Deferred.
	Billed int64 `json:"billed"`
	// UnitPrice is the price of one minute (list price for basic services;
	// zero for value-added usage of a day before the service was billed).
	UnitPrice decimal.Decimal `json:"unit_price"`
	// Amount is Billed × UnitPrice, exact.
	Amount decimal.Decimal `json:"amount"`
}

// Settle settles the settlement period of an account that day d is in:
// the day on the daily cycle, its month on the monthly cycle (see
// [Cycle]). It issues the period's bill, with a line per meter of the
// period and an adjustment line per meter of an earlier period that late
// usage changed since its last bill, and closes every day up to the
// period's last. The period must have ended in the billing time zone;
// periods with usage are settled in order. Settling a period again (by any
// of its days) returns its bill unchanged.
// Settling also forfeits the balance of packages that have expired. Each
// line is priced by the price book of its own day (see [PriceBook]); the
// total is rounded to the currency's decimals.
//
// A bill reflects the moment it is settled: shortfall is billed if postpaid
// is on then, and usage of the day reported afterwards is an adjustment on
// a later bill. A host that wants TRTC's timing settles a period when
// [Engine.DueDays] says it is due (10:00 the next day; on the monthly
// cycle, 10:00 on the first of the next month, within Tencent's "first five
// days"), not as soon as it ends. Settle issues a bill for the period it is
// asked for even if it is empty; periods skipped over are closed without a
// bill.
//
// Errors wrap ErrInvalidID, ErrInvalidTime (the clock), ErrNotFound, ErrDayNotEnded, ErrDayClosed,
// ErrSettleOrder, ErrNoPriceBook, ErrCorrupt, or a Store or context error.
func (e *Engine) Settle(ctx context.Context, account string, d Day) (Bill, error) {
	fail := func(err error) (Bill, error) {
		return Bill{}, &Error{Op: "Settle", Account: account, Err: fmt.Errorf("day %s: %w", d, err)}
	}
	if !validID(account) {
		return fail(invalidID("account id", account))
	}
	var b Bill
	var issued bool
	_, _, err := e.update(ctx, RequestSettle, d.String(), account, func(u *unit) error {
		var err error
		b, err = e.settle(u, d)
		issued = len(u.ch.Bills) > 0
		return err
	})
	if err != nil {
		return fail(err)
	}
	if e.log != nil && issued {
		e.log.LogAttrs(ctx, slog.LevelInfo, "billing: bill issued", slog.String("account", account),
			slog.String("day", b.Day.String()), slog.String("through", b.Through.String()),
			slog.String("total", b.Total.StringFixed(CurrencyDecimals(b.Currency))), slog.String("currency", b.Currency), slog.Int("lines", len(b.Lines)))
	}
	return b, nil
}

func (e *Engine) settle(u *unit, day Day) (Bill, error) {
	d, last := e.period(&u.a, day)
	u.ref = d.String() // the bill's, whichever of its days was asked for
	switch old, ok, err := billOf(u.r, day); {
	case err != nil:
		return Bill{}, err
	case ok:
		return old, nil
	}
	if today := e.cal.day(u.now); last >= today {
		return Bill{}, fmt.Errorf("%w: billing period %s, today is %s", ErrDayNotEnded, span(d, last), today)
	}
	if d <= u.a.SettledThrough {
		return Bill{}, fmt.Errorf("%w: billing period %s; the account is closed through %s", ErrDayClosed, span(d, last), u.a.SettledThrough)
	}
	var earlier []Day
	if err := u.r.Days(u.a.SettledThrough+1, d-1, func(x Day) bool { earlier = append(earlier, x); return false }); err != nil {
		return Bill{}, err
	}
	if len(earlier) > 0 {
		return Bill{}, fmt.Errorf("%w: settle %s first", ErrSettleOrder, earlier[0])
	}
	places, err := e.decimals(u.a.Currency)
	if err != nil {
		return Bill{}, err
	}
	meters, err := e.meters(u.r, &u.a, d, last)
	if err != nil {
		return Bill{}, err
	}
	late := slices.Clone(u.a.Late)
	slices.SortFunc(late, e.meterOrder(&u.a))
	for _, k := range late {
		m, err := u.r.Meter(k)
		if err != nil {
			return Bill{}, err
		}
		meters = append(meters, m)
	}
	b := Bill{Account: u.a.ID, Day: d, Through: last, Currency: u.a.Currency, Issued: u.now, PostpaidOn: u.a.anyPostpaid()}
	for i := range meters {
		m := &meters[i]
		if !m.consistent() || (m.Key.Day < d || m.Key.Day > last) && !slices.Contains(late, m.Key) {
			return Bill{}, fmt.Errorf("%w: meter %v", ErrCorrupt, m.Key)
		}
		l, err := e.line(u, m)
		if err != nil {
			return Bill{}, err
		}
		l.Adjustment = m.Key.Day < d
		b.Lines = append(b.Lines, l)
		b.Subtotal = b.Subtotal.Add(l.Amount)
		if m.Key.Service == ServiceBasic && l.Shortfall > 0 && !b.PostpaidOn {
			m.Unbilled += l.Shortfall
			if !slices.Contains(u.a.Unbilled, m.Key) {
				u.a.Unbilled = append(u.a.Unbilled, m.Key)
			}
		}
		m.Settled = m.tally()
		u.putMeter(*m)
	}
	if b.PostpaidOn {
		if err := e.billDeferred(u, &b, meters); err != nil {
			return Bill{}, err
		}
	}
	b.Total = b.Subtotal.Round(places)
	if err := e.closeThrough(u, last); err != nil {
		return Bill{}, err
	}
	u.a.Late = nil
	u.append(Entry{Kind: EntrySettlement, Amount: b.Total})
	u.ch.Bills = append(u.ch.Bills, b)
	return b, u.expire()
}

// billOf returns the bill whose period holds day d, if there is one. A
// period lasts a month at most; it is looked for among the bills of the
// month before d, not as d's period now, which a change of cycle (with the
// account's cohort) may have made another.
func billOf(r Reader, d Day) (Bill, bool, error) {
	var found Bill
	ok := false
	err := r.Bills(d-30, d, func(b Bill) bool {
		if b.Day <= d && d <= b.Through {
			found, ok = b, true
		}
		return true
	})
	return found, ok, err
}

// closeThrough closes the days up to d, the last of a settlement period,
// taking a checkpoint at the start of the next: a replay never starts before it, so never changes a closed day
// but through usage of closed days, which it applies there.
func (e *Engine) closeThrough(u *unit, d Day) error {
	if u.a.Frontier.At.IsZero() {
		return errUnmigrated
	}
	next := OpKey{At: e.cal.start(d + 1), Class: ClassCheckpoint}
	var err error
	if u.a.Frontier.Compare(next) < 0 {
		err = e.checkpoint(u, next) // the state as stored is the state there
	} else {
		ops := [1]op{{key: next, mark: true}}
		err = e.replay(u, ops[:])
	}
	u.a.SettledThrough = d
	return err
}

// billDeferred adds to b, whose postpaid is on, a line for each meter
// whose shortfall was settled while postpaid was off (Account.Unbilled),
// billing it at its day's list price. meters are those b bills already.
func (e *Engine) billDeferred(u *unit, b *Bill, meters []Meter) error {
	keys := slices.Clone(u.a.Unbilled)
	slices.SortFunc(keys, e.meterOrder(&u.a))
	for _, k := range keys {
		m, err := u.r.Meter(k)
		if i := slices.IndexFunc(meters, func(n Meter) bool { return n.Key == k }); i >= 0 {
			m, err = meters[i], nil
		}
		if err != nil {
			return err
		}
		if !m.consistent() || k.Service != ServiceBasic || m.Unbilled == 0 {
			return fmt.Errorf("%w: meter %v listed unbilled", ErrCorrupt, k)
		}
		price, err := e.basicPrice(u, k)
		if err != nil {
			return err
		}
		l := Line{Day: k.Day, Service: k.Service, Tier: k.Tier, App: k.App, Adjustment: true, Deferred: m.Unbilled, Billed: m.Unbilled,
			UnitPrice: price, Amount: price.Mul(decimal.NewFromInt(m.Unbilled))}
		b.Lines = append(b.Lines, l)
		b.Subtotal = b.Subtotal.Add(l.Amount)
		m.Unbilled = 0
		u.putMeter(m)
	}
	u.a.Unbilled = nil
	return nil
}

// basicPrice returns the list price of one minute of basic meter k.
func (e *Engine) basicPrice(u *unit, k MeterKey) (decimal.Decimal, error) {
	book, err := e.bookFor(&u.a, k.Day)
	if err != nil {
		return decimal.Decimal{}, err
	}
	t, ok := book.tier(k.Tier)
	if !ok {
		return decimal.Decimal{}, fmt.Errorf("%w %q in book %q", ErrUnknownTier, k.Tier, book.ID)
	}
	return t.Price, nil
}

// line bills what meter m gained since its last bill.
func (e *Engine) line(u *unit, m *Meter) (Line, error) {
	s := &m.Settled
	l := Line{
		Day: m.Key.Day, Service: m.Key.Service, Tier: m.Key.Tier, App: m.Key.App,
		Seconds: m.Seconds - s.Seconds, Minutes: m.Minutes() - ceilMinutes(s.Seconds),
		Prepaid: m.Prepaid - s.Prepaid, Postpaid: m.Postpaid - s.Postpaid, Shortfall: m.Shortfall - s.Shortfall,
	}
	book, err := e.bookFor(&u.a, m.Key.Day)
	if err != nil {
		return Line{}, err
	}
	l.Billed = l.Postpaid
	if m.Key.Service == ServiceBasic {
		if l.UnitPrice, err = e.basicPrice(u, m.Key); err != nil {
			return Line{}, err
		}
		if u.a.anyPostpaid() {
			l.Billed += l.Shortfall
		}
	} else {
		v, ok := book.valueAdded(m.Key.Service)
		if !ok {
			return Line{}, fmt.Errorf("%w %q in book %q", ErrUnknownService, m.Key.Service, book.ID)
		}
		price, ok := v.price(m.Key.Tier)
		if !ok {
			return Line{}, fmt.Errorf("%w %q for %s in book %q", ErrUnknownTier, m.Key.Tier, m.Key.Service, book.ID)
		}
		if !v.free(u.a.Cohort(), e.cal.start(m.Key.Day)) {
			l.UnitPrice = price
		}
	}
	l.Amount = l.UnitPrice.Mul(decimal.NewFromInt(l.Billed))
	return l, nil
}

// DueDays returns the settlement periods of an account due for
// settlement at instant at, each by its first day, in the order they must
// be settled: the periods with usage that are not settled and ended at
// least Options.DueAfter (10 hours by default: 10:00 the next day) before
// at. A period is a day, or a month on the monthly cycle (see [Cycle]). If
// late usage waits for a bill and no such period is due, it returns the
// latest due period that is not closed, to carry it.
//
// Errors wrap ErrInvalidID, ErrInvalidTime (at, less DueAfter, falls on a
// day outside MinDay..MaxDay), ErrNotFound, ErrCorrupt, or a Store or
// context error.
func (e *Engine) DueDays(ctx context.Context, account string, at time.Time) ([]Day, error) {
	due, err := e.cal.checked(at.Add(-e.dueAfter))
	if err != nil {
		return nil, &Error{Op: "DueDays", Account: account, Err: fmt.Errorf("%w: %s less DueAfter, %s, is outside the years 1 to 9999",
			ErrInvalidTime, at.Format(time.RFC3339), e.dueAfter)}
	}
	var days []Day
	err = e.view(ctx, "DueDays", account, func(r Reader, a *Account) error {
		lastDue := due - 1
		if lastDue <= a.SettledThrough {
			return nil
		}
		err := r.Days(a.SettledThrough+1, lastDue, func(d Day) bool {
			first, last := e.period(a, d)
			if last > lastDue {
				return false
			}
			if len(days) == 0 || days[len(days)-1] != first { // a month's value-added days share its period
				days = append(days, first)
			}
			return true
		})
		if err != nil || len(days) > 0 || len(a.Late) == 0 {
			return err
		}
		// The latest period that ended by lastDue.
		first, last := e.period(a, lastDue)
		if last > lastDue {
			if first-1 <= a.SettledThrough {
				return nil
			}
			first = e.window(a, first-1)
		}
		days = append(days, first)
		return nil
	})
	return days, err
}

// Bills returns the account's bills whose Day is in from..to (both
// included), in order of day.
//
// Errors wrap ErrInvalidID, ErrNotFound, ErrCorrupt, or a Store or context error.
func (e *Engine) Bills(ctx context.Context, account string, from, to Day) ([]Bill, error) {
	var bills []Bill
	err := e.view(ctx, "Bills", account, func(r Reader, _ *Account) error {
		return r.Bills(from, to, func(b Bill) bool { bills = append(bills, b); return true })
	})
	return bills, err
}
