package billing

import (
	"fmt"
	"time"
)

// Cycle is an account's billing cycle: how long its rounding windows and
// settlement periods are. Tencent settles postpaid usage daily for
// accounts whose first application was created on or after 2020-09-01
// ("fees for a day are deducted at 10:00 AM the next day"), monthly for
// earlier ones ("fees for a month are deducted within the first five days
// of the next month"), and the customer cannot change the cycle (domain
// reference §1.5). The cycle is the price book's rule for the account's
// cohort ([PriceBook].MonthlyCohortsUntil), fixed when the cohort is: at
// the account's opening and at the creation of its first application.
type Cycle int8

// The billing cycles.
const (
	// Daily: a rounding window and a settlement period are a billing day.
	Daily Cycle = iota
	// Monthly: a settlement period, and the rounding window of the basic
	// services, are a calendar month of billing days (from the day of the
	// account's cohort in its first month, and within the days one price
	// book prices: a period never spans two books). The month's cumulative
	// seconds of a tier are rounded up to minutes (the Era 1 scenario
	// documents: "monthly cumulative seconds are converted to minutes for
	// billing"); value-added services are still rounded per day. The month
	// is billed once, when it is settled.
	Monthly
)

// String returns "daily" or "monthly".
func (c Cycle) String() string {
	switch c {
	case Daily:
		return "daily"
	case Monthly:
		return "monthly"
	}
	return fmt.Sprintf("Cycle(%d)", int8(c))
}

// cycleOf returns the cycle of the accounts of currency and cohort: the
// rule of the book that prices the cohort's day for them; Daily if none
// does.
func (e *Engine) cycleOf(currency string, cohort time.Time) Cycle {
	book, err := e.bookOf(currency, cohort, e.cal.day(cohort))
	if err == nil && cohort.Before(book.MonthlyCohortsUntil) {
		return Monthly
	}
	return Daily
}

// period returns the first and last day of the settlement period of
// account a that day d is in, which is also the rounding window of the
// basic meters of d's usage: d itself on the daily cycle; on the monthly
// cycle, d's calendar month, within the days of the book that prices d,
// and split at the day of the account's cohort (its first period begins
// then: no usage comes before, and a cycle fixed with the cohort never
// reaches back to days closed under another). A day no book prices is a
// period of its own (its usage is refused).
func (e *Engine) period(a *Account, d Day) (first, last Day) {
	if a.Cycle != Monthly {
		return d, d
	}
	b, ok := e.datedOf(a.Currency, a.Cohort(), d)
	if !ok {
		return d, d
	}
	y, m, _ := d.Date()
	first, last = max(date(y, m, 1), b.first), min(date(y, m+1, 0), b.last)
	if begun := e.cal.day(a.Cohort()); d < begun {
		last = min(last, begun-1)
	} else {
		first = max(first, begun)
	}
	return first, last
}

// window returns the first day of the settlement period of day d of
// account a: the day of the basic meters of d's usage.
func (e *Engine) window(a *Account, d Day) Day {
	first, _ := e.period(a, d)
	return first
}

// meterDay returns the day of the meter of service s's usage of day d:
// the first day of d's period for the basic services; d itself for the
// value-added ones, which are rounded per day on every cycle (SPEC "Value-
// added services"; domain reference §4.2, §4.3).
func (e *Engine) meterDay(a *Account, s Service, d Day) Day {
	if a.Cycle == Daily || s != ServiceBasic { // a day's window, without a look at the book
		return d
	}
	return e.window(a, d)
}

// meterKey returns the key of the meter that usage us, of billing day d,
// adds to on account a: its rounding window's, service's and tier's, and
// its application's if the book of d rounds per application.
func (e *Engine) meterKey(a *Account, us *Usage, d Day) MeterKey {
	k := MeterKey{Day: e.meterDay(a, us.Service, d), Service: us.Service, Tier: us.Tier}
	if e.perApp {
		if book, err := e.bookFor(a, d); err == nil && book.PerApp {
			k.App = us.App
		}
	}
	return k
}

// meterWindow returns the first and last day of the rounding window of
// service s's usage of day d: its period for the basic services, the day
// for the value-added ones.
func (e *Engine) meterWindow(a *Account, s Service, d Day) (first, last Day) {
	if s != ServiceBasic {
		return d, d
	}
	return e.period(a, d)
}

// opens reports whether the operations of day d of account a can change
// meter k: it is of d's window or later (see openMeters).
func (e *Engine) opens(a *Account, k MeterKey, d Day) bool {
	return k.Day >= e.meterDay(a, k.Service, d)
}

// openMeters returns the meters of account a that the operations of day d
// can still change: the basic meters of d's period and the value-added
// meters of d, by service, then tier (basic first).
func (e *Engine) openMeters(r Reader, a *Account, d Day) ([]Meter, error) {
	var ms []Meter
	w := e.window(a, d)
	err := r.Meters(w, func(m Meter) bool {
		if w == d || m.Key.Service == ServiceBasic {
			ms = append(ms, m)
		}
		return true
	})
	if err != nil || w == d {
		return ms, err
	}
	err = r.Meters(d, func(m Meter) bool {
		if m.Key.Service != ServiceBasic {
			ms = append(ms, m)
		}
		return true
	})
	return ms, err
}

// span formats the period first..last: its day, or its first and last day.
func span(first, last Day) string {
	if first == last {
		return first.String()
	}
	return first.String() + ".." + last.String()
}
