package billing

import (
	"cmp"
	"context"
	"slices"
	"strings"
)

// MeterKey identifies a meter: one account's rounding window, service and
// tier, and application where the book rounds per application.
type MeterKey struct {
	// Day is the first day of the rounding window: the billing day of the
	// usage on the daily cycle, and of value-added usage on every cycle;
	// for basic usage on the monthly cycle, the first day of its month's
	// period (see [Cycle]).
	Day     Day     `json:"day"`
	Service Service `json:"service"`
	Tier    Tier    `json:"tier"`
	// App is the application whose usage the meter holds, under a book
	// that rounds each application's usage on its own ([PriceBook].PerApp);
	// empty where the account's applications are rounded together.
	App string `json:"app"`
}

// Meter is a rounding window: the cumulative usage of one billing day (a
// month for basic services on the monthly cycle), service and tier, and
// how its billable minutes were paid. Billable minutes are ceil(Seconds/60), and
// Prepaid + Postpaid + Shortfall always equals them. Value-added services
// have no Shortfall: what no package covers is Postpaid.
type Meter struct {
	Key     MeterKey `json:"key"`
	Seconds int64    `json:"seconds"`
	// Prepaid minutes were covered by packages.
	Prepaid int64 `json:"prepaid"`
	// Postpaid minutes are billed at list price.
	Postpaid int64 `json:"postpaid"`
	// Shortfall minutes were used while neither a package nor postpaid could
	// pay for them; they are billed if postpaid is on when the period is settled.
	Shortfall int64 `json:"shortfall"`
	// Settled is the meter as the last bill that covered it saw it (zero
	// before its day is settled). Anything above it is late usage, to be
	// billed as an adjustment.
	Settled Tally `json:"settled"`
	// Unbilled is the shortfall minutes of the meter settled while postpaid
	// was off, not billed yet: the first bill settled with postpaid on
	// bills them, on a line dated with the meter's day (Line.Deferred).
	Unbilled int64 `json:"unbilled"`
	// Latest is the day of the meter's latest usage in the reference
	// order, counted from Key.Day (always 0 for a window of one day), and
	// EarlierPostpaid and EarlierShortfall are the minutes of its Postpaid
	// and Shortfall used on the window's days before that one. A package
	// bought on day Key.Day+Latest absorbs the rest: the minutes that
	// day's usage left uncovered.
	Latest           int32 `json:"latest"`
	EarlierPostpaid  int64 `json:"earlier_postpaid"`
	EarlierShortfall int64 `json:"earlier_shortfall"`
}

// Tally is a meter's counts at one moment.
type Tally struct {
	Seconds   int64 `json:"seconds"`
	Prepaid   int64 `json:"prepaid"`
	Postpaid  int64 `json:"postpaid"`
	Shortfall int64 `json:"shortfall"`
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

// consistent reports whether the meter's parts add up, and its last settled
// counts do too and are not above the current ones.
func (m *Meter) consistent() bool {
	s := &m.Settled
	return m.Seconds <= maxMeterSeconds && s.Seconds >= 0 && s.Prepaid >= 0 && s.Postpaid >= 0 && s.Shortfall >= 0 &&
		m.Unbilled >= 0 && m.Unbilled <= s.Shortfall &&
		s.Prepaid+s.Postpaid+s.Shortfall == ceilMinutes(s.Seconds) &&
		m.Seconds >= s.Seconds && m.Prepaid >= s.Prepaid && m.Postpaid >= s.Postpaid && m.Shortfall >= s.Shortfall &&
		m.Prepaid+m.Postpaid+m.Shortfall == m.Minutes() &&
		m.Latest >= 0 && m.EarlierPostpaid >= 0 && m.EarlierShortfall >= 0 &&
		m.EarlierPostpaid <= m.Postpaid && m.EarlierShortfall <= m.Shortfall
}

// onDay moves the meter's latest day to day d of its window, if d is later.
func (m *Meter) onDay(d Day) {
	if n := int32(d - m.Key.Day); n > m.Latest {
		m.Latest, m.EarlierPostpaid, m.EarlierShortfall = n, m.Postpaid, m.Shortfall
	}
}

// today returns the minutes of the meter paid postpaid and as shortfall on
// day d: what a package bought then absorbs.
func (m *Meter) today(d Day) (postpaid, shortfall int64) {
	if d != m.Key.Day+Day(m.Latest) {
		return 0, 0
	}
	return m.Postpaid - m.EarlierPostpaid, m.Shortfall - m.EarlierShortfall
}

// Meters returns the account's meters of day d (see [MeterKey]: on the
// monthly cycle, a month's basic meters are those of its first day), by
// service, tier in the order of the price book in force that day (audio,
// SD, HD, FHD), then application.
//
// Errors wrap ErrInvalidID, ErrNotFound, ErrCorrupt, or a Store or context error.
func (e *Engine) Meters(ctx context.Context, account string, d Day) ([]Meter, error) {
	var meters []Meter
	err := e.view(ctx, "Meters", account, func(r Reader, a *Account) (err error) {
		meters, err = e.meters(r, a, d, d)
		return err
	})
	return meters, err
}

// meters reads the meters of days first..last in display order.
func (e *Engine) meters(r Reader, a *Account, first, last Day) ([]Meter, error) {
	var ms []Meter
	var days []Day
	if err := r.Days(first, last, func(d Day) bool { days = append(days, d); return true }); err != nil {
		return nil, err
	}
	for _, d := range days {
		if err := r.Meters(d, func(m Meter) bool { ms = append(ms, m); return true }); err != nil {
			return nil, err
		}
	}
	e.sortMeters(a, ms)
	return ms, nil
}

// sortMeters sorts meters of account a in display order.
func (e *Engine) sortMeters(a *Account, ms []Meter) {
	order := e.meterOrder(a)
	slices.SortStableFunc(ms, func(x, y Meter) int { return order(x.Key, y.Key) })
}

// meterOrder returns the display order of meters of account a: by day,
// service, tier in the order of the day's price book (tiers it lacks last,
// by name), then application.
func (e *Engine) meterOrder(a *Account) func(x, y MeterKey) int {
	rank := func(k MeterKey) int {
		if book, err := e.bookFor(a, k.Day); err == nil {
			return book.tierRank(k.Service, k.Tier)
		}
		return 0
	}
	return func(x, y MeterKey) int {
		return cmp.Or(cmp.Compare(x.Day, y.Day), strings.Compare(string(x.Service), string(y.Service)),
			rank(x)-rank(y), strings.Compare(string(x.Tier), string(y.Tier)), strings.Compare(x.App, y.App))
	}
}

// compareInDay orders meter keys of one day by service, tier, then
// application, byte by byte: the order of a day's meters in a Store.
func compareInDay(x, y MeterKey) int {
	return cmp.Or(strings.Compare(string(x.Service), string(y.Service)), strings.Compare(string(x.Tier), string(y.Tier)),
		strings.Compare(x.App, y.App))
}

// showDay calls fn for the meters ms of one day with the meters written in
// place of those of the same key, or added, in the order of a day's meters
// in a Store (service, then tier), until fn returns false.
func showDay(ms, written []Meter, fn func(Meter) bool) {
	for _, m := range written {
		if i := slices.IndexFunc(ms, func(n Meter) bool { return n.Key == m.Key }); i >= 0 {
			ms[i] = m
		} else {
			ms = append(ms, m)
		}
	}
	slices.SortFunc(ms, func(x, y Meter) int { return compareInDay(x.Key, y.Key) })
	for _, m := range ms {
		if !fn(m) {
			return
		}
	}
}
