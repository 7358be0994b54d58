package billing

import (
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// PriceBook is the data that prices usage in one currency over one period:
// tiers with their bounds and list prices, scenarios, package kinds with their
// ratios, validity and prices, and the trial granted to new accounts. The
// engine holds no prices of its own; everything comes from the books in
// [Options.PriceBooks]. Usage is priced by the book of the account's currency
// that prices the usage's billing day (below).
//
// A PriceBook is a plain value: copy one of the built-in books ([Era1USD],
// [Era1CNY]), change it, and give it a new ID. [New] validates every book and
// keeps its own deep copy, so a book changed after New has no effect.
//
// Books take effect at billing-day boundaries: a book prices the billing
// days that begin while it is in force, From <= the day's first instant <
// Until, in [Options].Location. Everything about a day follows its book:
// the usage of the day is checked against it when recorded (so a book
// that adds a tier or a service accepts it from its first whole day on) and
// priced by it when settled, and purchases and openings use the book of
// their day. A book whose From or Until falls inside a billing day so takes
// effect, or ends, at the next day's start; usage of a day no book prices
// is refused with ErrNoPriceBook. With the default zone, UTC+8, the
// built-in books' dates are day boundaries.
type PriceBook struct {
	// ID names the book. Packages remember the ID of the book they were bought
	// under, so a book's ID must change whenever its package terms change.
	ID string
	// Currency is an ISO 4217 code such as "USD". Accounts are opened in one currency.
	Currency string
	// Decimals is the number of decimals amounts in Currency are rounded to:
	// CurrencyDecimals(Currency) (2 for USD and CNY).
	Decimals int32
	// From is the first instant the book is in force.
	From time.Time
	// Until is the first instant the book is no longer in force; zero means it
	// stays in force. Books of one currency must not overlap, unless their
	// cohorts do not (CohortFrom, CohortUntil).
	Until time.Time
	// Tiering is the rule that turns received video into the tiers of the
	// basic services.
	Tiering Tiering
	// PerApp makes each application's usage of a day its own rounding
	// window, as Era 3 does ("Durations for each day are calculated in
	// seconds for each application (SDKAppID) and then converted to
	// minutes"): its meters name the application ([MeterKey].App). False
	// rounds the usage of all the account's applications together, as Eras
	// 1 and 2 do.
	PerApp bool
	// Tiers are the tier table of the basic services (see [TierSpec]);
	// each value-added service has its own.
	Tiers []TierSpec
	// Scenarios are the basic scenarios the book prices.
	Scenarios []ScenarioSpec
	// Kinds are the package kinds: granted ones (the trial) and purchasable ones.
	Kinds []PackageKind
	// ValueAdded are the value-added services the book prices.
	ValueAdded []ValueAddedService
	// Trial is the package granted when an account is opened under this book.
	// A zero Trial grants nothing.
	Trial Grant
	// Monthly is the package granted to every account every month whose
	// grant day this book prices (see [Recurring]); zero grants nothing.
	Monthly Recurring
	// CohortFrom and CohortUntil limit the book to the accounts whose
	// cohort ([Account.Cohort], when the first application was created)
	// is in [CohortFrom, CohortUntil); zero means no bound. Tencent keeps
	// an account on the rules of its cohort: an account of 2020 stays on
	// Era 1's books after Era 2's begin (2021-10-27) for accounts of 2021
	// on. Books of one currency may be in force at once for cohorts that
	// do not overlap.
	CohortFrom, CohortUntil time.Time
	// MonthlyCohortsUntil puts the accounts whose cohort is before it on
	// the monthly billing cycle ([Monthly]), and the rest on the daily
	// one; zero puts every account on the daily cycle. The book that
	// prices an account's cohort's day decides the account's [Cycle]:
	// Era 1's books put accounts whose first application was created
	// before 2020-09-01 on the monthly cycle.
	MonthlyCohortsUntil time.Time
}

// Tiering is a price book's rule for turning received video into tiers.
type Tiering string

// The tiering rules. Era 1 books tier each received stream by its own area;
// later eras tier by the sum of the areas of everything a user receives.
const (
	PerStream Tiering = "per-stream"
	Aggregate Tiering = "aggregate"
)

// TierSpec is one tier of a tier table: the basic services' (PriceBook.Tiers)
// or a value-added service's (ValueAddedService.Tiers). A table holds audio
// tiers and video tiers, the video tiers in increasing order of MaxArea.
type TierSpec struct {
	Tier Tier
	// Video is false for the audio tier, which audio scenarios use.
	Video bool
	// MaxArea is the largest area, in pixels (width × height), of a video
	// tier; zero for audio. The highest video tier's is zero (unbounded) or
	// caps the table: a larger area has no tier (Era 2's 2K+ and Era 3's
	// 4K end at 4096 × 2160 = 8,847,360).
	MaxArea int64
	// Price is the list price of one minute of the service in the tier
	// (Era 1 USD basic audio: 0.99 per 1,000 minutes, so 0.00099). At most
	// 8 decimals.
	Price decimal.Decimal
}

// ScenarioSpec is one scenario of a price book.
type ScenarioSpec struct {
	Scenario Scenario
	// Video reports whether the scenario may use video tiers. Audio scenarios
	// only produce the audio (non-video) tiers.
	Video bool
}

// PackageKind is a kind of package: its deduction ratios, validity and, if it
// can be bought, its prices.
type PackageKind struct {
	Name string
	// Ratios are the package minutes deducted per billable minute of each
	// tier. A tier without a ratio is not covered by the kind.
	Ratios []Ratio
	// Validity is how long a package of this kind stays valid.
	Validity Validity
	// AutoPostpaid reports whether buying a package of this kind arms the
	// automatic postpaid switch (true for the universal package): once the
	// account has bought one, usage that no package can cover turns postpaid on.
	AutoPostpaid bool
	// Pricing is the kind's prices. A kind whose Pricing.Unit is zero cannot be
	// bought; it is only granted (the trial).
	Pricing Pricing
	// AppBound makes a package of the kind cover the usage of one
	// application only, the one it is bought for (Purchase.App), as
	// Era 3's monthly packages do: they "can only deduct usage generated
	// by the application (SDKAppID) to which the package is bound". Only
	// a book that rounds per application (PerApp) may have such kinds, and
	// neither its trial nor its recurring grant may be of one.
	AppBound bool
	// NoStacking refuses a purchase of the kind while a package of it
	// bought for the same application (or, for an account-wide kind, the
	// account) is still in its validity, used up or not, with
	// ErrNotStackable: Era 3's "multiple purchases of the same monthly
	// package cannot be stacked within its validity period".
	NoStacking bool
	// First makes packages of the kind drawn before every other package
	// (see [ComparePackages]): Era 3's free minutes "are used first".
	First bool
	// Refundable reports whether packages of the kind can be refunded (see
	// [Engine.Refund]): the minutes they consumed are charged at the unit
	// price of the Pricing.Bands band they fall into, so a refundable kind
	// needs bands.
	Refundable bool
}

// Ratio is the number of package minutes one billable minute of Tier consumes.
type Ratio struct {
	Tier    Tier
	Minutes int64
	// Service is the service of the tier: "" (or ServiceBasic) for the
	// basic services, or a value-added service of the book, whose usage a
	// package of the kind then covers too (Era 2's free minutes cover
	// cloud recording).
	Service Service
}

// Validity is a package's validity rule. A package is valid from 00:00 of its
// purchase day (in the billing time zone) to the start of the day Months
// months later, or, with ToMonthEnd, to the end of that month: Era 1's "the
// last day of the same month next year" is Validity{Months: 12, ToMonthEnd: true}.
// Without ToMonthEnd a purchase day that the later month lacks (the 31st) ends
// the validity at the end of that shorter month.
type Validity struct {
	Months     int
	ToMonthEnd bool
}

// Pricing is a package kind's price list.
type Pricing struct {
	// Unit is the size step: a package's minutes must be a positive multiple of
	// Unit (1,000 for the universal package). Zero means not for sale.
	Unit int64
	// Offers are fixed sizes at their published prices; a size equal to an
	// offer's costs the offer's price.
	Offers []Offer
	// Bands price every other size: the band with the largest From not above
	// the size applies, and the price is PerMinute × minutes, rounded half up
	// to the currency's decimals. Bands are in increasing order of From.
	Bands []Band
}

// Offer is a fixed package size and its price.
type Offer struct {
	Minutes int64
	Price   decimal.Decimal
}

// Band is a per-minute package price for sizes from From minutes up (to the next band).
type Band struct {
	From      int64
	PerMinute decimal.Decimal
}

// Limits on price book and package data.
const (
	// MaxPackageMinutes is the largest package size, and the largest trial.
	MaxPackageMinutes = 1_000_000_000_000
	// MaxRatio is the largest deduction ratio.
	MaxRatio = 1_000_000
	// maxPriceDecimals is the precision of unit prices.
	maxPriceDecimals = 8
	maxStreams       = 1024
)

// dated is a price book as an Engine holds it: its own copy, and the
// billing days it prices, first..last.
type dated struct {
	*PriceBook
	first, last Day
}

// bookOf returns the book of currency that prices day d for the accounts
// of cohort.
func (e *Engine) bookOf(currency string, cohort time.Time, d Day) (*PriceBook, error) {
	if b, ok := e.datedOf(currency, cohort, d); ok {
		return b.PriceBook, nil
	}
	return nil, fmt.Errorf("%w: no book in %q prices day %s for an account of the cohort of %s", ErrNoPriceBook,
		currency, d, cohort.In(e.cal.loc).Format(time.DateOnly))
}

// datedOf returns the book of currency that prices day d for the accounts
// of cohort, with the days it prices.
func (e *Engine) datedOf(currency string, cohort time.Time, d Day) (*dated, bool) {
	for i := range e.books {
		if b := &e.books[i]; b.Currency == currency && b.first <= d && d <= b.last && b.prices(cohort) {
			return b, true
		}
	}
	return nil, false
}

// bookFor returns the book that prices day d of account a.
func (e *Engine) bookFor(a *Account, d Day) (*PriceBook, error) {
	return e.bookOf(a.Currency, a.Cohort(), d)
}

// prices reports whether b prices the accounts of cohort (see
// Account.Cohort).
func (b *PriceBook) prices(cohort time.Time) bool {
	return !cohort.Before(b.CohortFrom) && (b.CohortUntil.IsZero() || cohort.Before(b.CohortUntil))
}

// decimals returns the number of decimals amounts in currency are rounded
// to (New checked that its books agree), or ErrNoPriceBook.
func (e *Engine) decimals(currency string) (int32, error) {
	for _, b := range e.books {
		if b.Currency == currency {
			return b.Decimals, nil
		}
	}
	return 0, fmt.Errorf("%w: no book in %q", ErrNoPriceBook, currency)
}

// kindOf returns the kind of package p, from the book it was bought under.
func (e *Engine) kindOf(p *Package) (*PackageKind, error) {
	for _, b := range e.books {
		if b.ID == p.Book {
			if k, ok := b.kind(p.Kind); ok {
				return k, nil
			}
			break
		}
	}
	return nil, refuse(fmt.Errorf("%w: package %q is of kind %q of book %q, which this Engine does not have",
		ErrNoPriceBook, p.ID, p.Kind, p.Book))
}

// VideoTiers returns the tiers at which basic video received as the given
// streams is billed: ServiceTiers of ServiceBasic.
func (b PriceBook) VideoTiers(streams ...Resolution) ([]Tier, error) {
	return b.ServiceTiers(ServiceBasic, streams...)
}

// ServiceTiers returns the tiers at which video of service s (ServiceBasic,
// or "" which means it, or a value-added service of the book) is billed, given the streams
// received, recorded or mixed at one instant: under the service's
// [PerStream] rule one tier per stream (each stream by its own area), under
// [Aggregate] one tier for the sum of their areas. An area's tier is the
// lowest video tier of the service's table whose MaxArea it does not
// exceed, even if one of its sides is longer than that bound's. It returns
// ErrInvalidResolution for no streams, more than 1,024, a side outside
// 1..MaxDimension, or an area above a capped table's highest bound, and
// ErrUnknownService for a service the book does not price.
func (b PriceBook) ServiceTiers(s Service, streams ...Resolution) ([]Tier, error) {
	tiering, _, ok := b.table(s)
	if !ok {
		return nil, public(fmt.Errorf("%w %q in book %q", ErrUnknownService, s, b.ID))
	}
	if len(streams) == 0 || len(streams) > maxStreams {
		return nil, public(fmt.Errorf("%w: %d streams, not 1..%d", ErrInvalidResolution, len(streams), maxStreams))
	}
	areas := make([]int64, len(streams))
	for i, s := range streams {
		a, err := s.area()
		if err != nil {
			return nil, public(err)
		}
		areas[i] = a
	}
	if tiering == Aggregate {
		var sum int64
		for _, a := range areas {
			sum += a
		}
		areas = []int64{sum}
	}
	tiers := make([]Tier, len(areas))
	for i, a := range areas {
		t, err := b.AreaTier(s, a)
		if err != nil {
			return nil, err
		}
		tiers[i] = t
	}
	return tiers, nil
}

// AreaTier returns the video tier of service s (as for ServiceTiers) that
// an area falls in: the area of one stream, or under the [Aggregate] rule
// the sum of the areas of the streams of one instant. It returns
// ErrInvalidResolution for an area below 1 or above a capped table's
// highest bound, and ErrUnknownService for a service the book does not
// price.
func (b PriceBook) AreaTier(s Service, area int64) (Tier, error) {
	_, table, ok := b.table(s)
	switch {
	case !ok:
		return "", public(fmt.Errorf("%w %q in book %q", ErrUnknownService, s, b.ID))
	case area < 1:
		return "", public(fmt.Errorf("%w: area %d square pixels, not positive", ErrInvalidResolution, area))
	}
	t, ok := videoTier(table, area)
	if !ok {
		return "", public(fmt.Errorf("%w: area %d square pixels is above every video tier of %s in book %q", ErrInvalidResolution, area, s, b.ID))
	}
	return t, nil
}

// table returns the tiering rule and the tier table of service s
// (ServiceBasic, or "" which means it, or a value-added service), and
// whether the book prices s.
func (b *PriceBook) table(s Service) (Tiering, []TierSpec, bool) {
	if s == ServiceBasic || s == "" {
		return b.Tiering, b.Tiers, true
	}
	if v, ok := b.valueAdded(s); ok {
		return v.Tiering, v.Tiers, true
	}
	return "", nil, false
}

// videoTier returns the tier of table an area falls in.
func videoTier(table []TierSpec, area int64) (Tier, bool) {
	for _, t := range table {
		if t.Video && (t.MaxArea == 0 || area <= t.MaxArea) {
			return t.Tier, true
		}
	}
	return "", false
}

// tierRank returns the position of tier t of service s in its tier table
// in the book, or the table's length for a tier it lacks.
func (b *PriceBook) tierRank(s Service, t Tier) int {
	_, table, _ := b.table(s)
	if i := slices.IndexFunc(table, func(spec TierSpec) bool { return spec.Tier == t }); i >= 0 {
		return i
	}
	return len(table)
}

// tierOf returns the spec of tier t in table.
func tierOf(table []TierSpec, t Tier) (*TierSpec, bool) {
	for i := range table {
		if table[i].Tier == t {
			return &table[i], true
		}
	}
	return nil, false
}

func (b *PriceBook) tier(t Tier) (*TierSpec, bool) { return tierOf(b.Tiers, t) }

func (b *PriceBook) scenario(s Scenario) (*ScenarioSpec, bool) {
	for i := range b.Scenarios {
		if b.Scenarios[i].Scenario == s {
			return &b.Scenarios[i], true
		}
	}
	return nil, false
}

func (b *PriceBook) kind(name string) (*PackageKind, bool) {
	for i := range b.Kinds {
		if b.Kinds[i].Name == name {
			return &b.Kinds[i], true
		}
	}
	return nil, false
}

// days returns the billing days in loc that b prices, first..last: those
// whose first instant lies in [From, Until), within MinDay..MaxDay. first >
// last if there are none.
func (b *PriceBook) days(loc *time.Location) (first, last Day) {
	begins := func(t time.Time) int64 { // the first day that starts at or after t
		d := localDay(t, loc)
		if d >= int64(MinDay) && d <= int64(MaxDay) && Day(d).Start(loc).Before(t) {
			d++
		}
		return d
	}
	// Days beyond MinDay-1..MaxDay+1 stand for "before all" or "after all".
	clamp := func(d int64) Day { return Day(min(max(d, int64(MinDay)-1), int64(MaxDay)+1)) }
	first, last = max(clamp(begins(b.From)), MinDay), MaxDay
	if !b.Until.IsZero() {
		last = min(clamp(begins(b.Until)-1), MaxDay)
	}
	return first, last
}

// service returns the service of r's tier.
func (r *Ratio) service() Service {
	if r.Service == "" {
		return ServiceBasic
	}
	return r.Service
}

// ratio returns the package minutes one billable minute of tier t of
// service s consumes, or 0 if the kind does not cover it.
func (k *PackageKind) ratio(s Service, t Tier) int64 {
	for i := range k.Ratios {
		if r := &k.Ratios[i]; r.Tier == t && r.service() == s {
			return r.Minutes
		}
	}
	return 0
}

// smallestRatio returns the smallest of the kind's ratios for basic
// services: a package of the kind can pay for a minute of some basic tier
// while its balance reaches it.
func (k *PackageKind) smallestRatio() int64 {
	var least int64
	for i := range k.Ratios {
		if r := &k.Ratios[i]; r.service() == ServiceBasic && (least == 0 || r.Minutes < least) {
			least = r.Minutes
		}
	}
	return least
}

// price returns the price of a package of the given size, or ErrInvalidMinutes.
func (k *PackageKind) price(minutes int64, decimals int32) (decimal.Decimal, error) {
	p := &k.Pricing
	if minutes <= 0 || minutes > MaxPackageMinutes || minutes%p.Unit != 0 {
		return decimal.Decimal{}, fmt.Errorf("%w: %d minutes of kind %q, which is sold in multiples of %d minutes, up to %d minutes",
			ErrInvalidMinutes, minutes, k.Name, p.Unit, int64(MaxPackageMinutes))
	}
	for _, o := range p.Offers {
		if o.Minutes == minutes {
			return o.Price, nil
		}
	}
	if b, ok := p.band(minutes); ok {
		return b.PerMinute.Mul(decimal.NewFromInt(minutes)).Round(decimals), nil
	}
	return decimal.Decimal{}, fmt.Errorf("%w: %d minutes of kind %q, a size the book has no price for", ErrInvalidMinutes, minutes, k.Name)
}

// band returns the band that prices minutes: the one with the largest From
// not above them, if any.
func (p *Pricing) band(minutes int64) (Band, bool) {
	for i := len(p.Bands) - 1; i >= 0; i-- {
		if p.Bands[i].From <= minutes {
			return p.Bands[i], true
		}
	}
	return Band{}, false
}

// end returns the first instant after the validity of a package whose
// validity starts on day start.
func (v Validity) end(start Day, loc *time.Location) time.Time {
	y, m, d := start.Date()
	if v.ToMonthEnd {
		return date(y, m+time.Month(v.Months)+1, 1).Start(loc)
	}
	last := time.Date(y, m+time.Month(v.Months)+1, 0, 0, 0, 0, 0, time.UTC).Day() // days in the target month
	if d > last {
		return date(y, m+time.Month(v.Months)+1, 1).Start(loc)
	}
	return date(y, m+time.Month(v.Months), d).Start(loc)
}

// clone returns a deep copy of b: no slice is shared with b.
func (b PriceBook) clone() PriceBook {
	b.Tiers = slices.Clone(b.Tiers)
	b.Scenarios = slices.Clone(b.Scenarios)
	b.Kinds = slices.Clone(b.Kinds)
	for i := range b.Kinds {
		k := &b.Kinds[i]
		k.Ratios = slices.Clone(k.Ratios)
		k.Pricing.Offers = slices.Clone(k.Pricing.Offers)
		k.Pricing.Bands = slices.Clone(k.Pricing.Bands)
	}
	b.ValueAdded = slices.Clone(b.ValueAdded)
	for i := range b.ValueAdded {
		b.ValueAdded[i].Tiers = slices.Clone(b.ValueAdded[i].Tiers)
	}
	return b
}

// validateTiers reports the first thing wrong with a tier table, and
// whether it has an audio tier and a video tier.
func validateTiers(table []TierSpec) (hasAudio, hasVideo bool, err error) {
	var lastArea int64
	unbounded := false
	for i, t := range table {
		if !validID(string(t.Tier)) || slices.ContainsFunc(table[:i], func(o TierSpec) bool { return o.Tier == t.Tier }) {
			return false, false, fmt.Errorf("tier %q: invalid or repeated name", t.Tier)
		}
		if !validPrice(t.Price) {
			return false, false, fmt.Errorf("tier %q: price %s is negative or has more than 8 decimals", t.Tier, t.Price)
		}
		if !t.Video {
			if t.MaxArea != 0 {
				return false, false, fmt.Errorf("audio tier %q has an area bound", t.Tier)
			}
			hasAudio = true
			continue
		}
		switch {
		case unbounded:
			return false, false, fmt.Errorf("video tier %q follows the unbounded tier", t.Tier)
		case t.MaxArea < 0 || (t.MaxArea > 0 && t.MaxArea <= lastArea):
			return false, false, fmt.Errorf("video tier %q: MaxArea %d not above the previous tier's", t.Tier, t.MaxArea)
		}
		hasVideo, unbounded, lastArea = true, t.MaxArea == 0, t.MaxArea
	}
	return hasAudio, hasVideo, nil
}

// validate reports, wrapping ErrInvalidPriceBook, the first thing wrong with b.
func (b *PriceBook) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w %q: %s", ErrInvalidPriceBook, b.ID, fmt.Sprintf(format, args...))
	}
	switch {
	case !validID(b.ID):
		return bad("invalid ID")
	case !validCurrency(b.Currency):
		return bad("currency %q is not three capital letters", b.Currency)
	case b.Decimals != CurrencyDecimals(b.Currency):
		return bad("decimals %d are not the %d of %s", b.Decimals, CurrencyDecimals(b.Currency), b.Currency)
	case b.From.IsZero():
		return bad("no From time")
	case !b.Until.IsZero() && !b.Until.After(b.From):
		return bad("Until is not after From")
	case !b.CohortUntil.IsZero() && !b.CohortUntil.After(b.CohortFrom):
		return bad("CohortUntil is not after CohortFrom")
	case b.Tiering != PerStream && b.Tiering != Aggregate:
		return bad("unknown tiering %q", b.Tiering)
	case len(b.Tiers) == 0 || len(b.Scenarios) == 0:
		return bad("no tiers or no scenarios")
	}
	hasAudio, hasVideo, err := validateTiers(b.Tiers)
	if err != nil {
		return bad("%v", err)
	}
	for i, s := range b.Scenarios {
		if !validID(string(s.Scenario)) || slices.ContainsFunc(b.Scenarios[:i], func(o ScenarioSpec) bool { return o.Scenario == s.Scenario }) {
			return bad("scenario %q: invalid or repeated name", s.Scenario)
		}
		if (s.Video && !hasVideo) || (!s.Video && !hasAudio) {
			return bad("scenario %q has no tier it may use", s.Scenario)
		}
	}
	for i := range b.Kinds {
		k := &b.Kinds[i]
		if !validID(k.Name) || slices.ContainsFunc(b.Kinds[:i], func(o PackageKind) bool { return o.Name == k.Name }) {
			return bad("kind %q: invalid or repeated name", k.Name)
		}
		if err := b.validateKind(k); err != nil {
			return bad("kind %q: %v", k.Name, err)
		}
	}
	if err := b.validateValueAdded(); err != nil {
		return bad("%v", err)
	}
	if b.Trial != (Grant{}) {
		switch k, ok := b.kind(b.Trial.Kind); {
		case !ok:
			return bad("trial kind %q is not in Kinds", b.Trial.Kind)
		case k.AppBound:
			return bad("trial kind %q is bound to an application", b.Trial.Kind)
		}
		if b.Trial.Minutes <= 0 || b.Trial.Minutes > MaxPackageMinutes {
			return bad("trial minutes %d not in 1..%d", b.Trial.Minutes, int64(MaxPackageMinutes))
		}
	}
	if g := b.Monthly; g != (Recurring{}) {
		switch k, ok := b.kind(g.Kind); {
		case !ok:
			return bad("monthly grant kind %q is not in Kinds", g.Kind)
		case k.Pricing.Unit != 0:
			return bad("monthly grant kind %q is for sale", g.Kind)
		case k.AutoPostpaid:
			return bad("monthly grant kind %q arms the automatic switch", g.Kind)
		case k.AppBound:
			return bad("monthly grant kind %q is bound to an application", g.Kind)
		case g.Months < 0:
			return bad("monthly grant for %d months", g.Months)
		case g.Minutes <= 0 || g.Minutes > MaxPackageMinutes:
			return bad("monthly grant minutes %d not in 1..%d", g.Minutes, int64(MaxPackageMinutes))
		}
	}
	return nil
}

func (b *PriceBook) validateKind(k *PackageKind) error {
	switch {
	case len(k.Ratios) == 0:
		return fmt.Errorf("no ratios")
	case k.AppBound && !b.PerApp:
		return fmt.Errorf("bound to an application in a book that rounds the applications together")
	}
	for i, r := range k.Ratios {
		_, table, ok := b.table(r.service())
		if !ok {
			return fmt.Errorf("ratio for service %q, which the book does not price", r.service())
		}
		if _, ok := tierOf(table, r.Tier); !ok ||
			slices.ContainsFunc(k.Ratios[:i], func(o Ratio) bool { return o.Tier == r.Tier && o.service() == r.service() }) {
			return fmt.Errorf("ratio for unknown or repeated tier %q of %s", r.Tier, r.service())
		}
		if r.Minutes < 1 || r.Minutes > MaxRatio {
			return fmt.Errorf("ratio %d for tier %q not in 1..%d", r.Minutes, r.Tier, MaxRatio)
		}
	}
	monthlyOnly := k.Name == b.Monthly.Kind && k.Name != b.Trial.Kind // a recurring grant lasts to the next
	if !monthlyOnly && (k.Validity.Months < 0 || k.Validity.Months > 120 || k.Validity.Months == 0 && !k.Validity.ToMonthEnd) {
		return fmt.Errorf("validity of %d months not in 1..120 (or 0 to the month's end)", k.Validity.Months)
	}
	p := &k.Pricing
	if p.Unit == 0 {
		if len(p.Offers) > 0 || len(p.Bands) > 0 || k.Refundable {
			return fmt.Errorf("prices or refunds without a unit")
		}
		return nil
	}
	if k.Refundable && (len(p.Bands) == 0 || p.Bands[0].From != 0) {
		return fmt.Errorf("refundable without bands from 0 minutes")
	}
	if p.Unit < 0 || p.Unit > MaxPackageMinutes {
		return fmt.Errorf("unit %d not in 1..%d", p.Unit, int64(MaxPackageMinutes))
	}
	if len(p.Offers) == 0 && len(p.Bands) == 0 {
		return fmt.Errorf("for sale without prices")
	}
	for _, o := range p.Offers {
		if o.Minutes <= 0 || o.Minutes > MaxPackageMinutes || o.Minutes%p.Unit != 0 || !validPrice(o.Price) {
			return fmt.Errorf("offer of %d minutes at %s: size or price invalid", o.Minutes, o.Price)
		}
	}
	for i, band := range p.Bands {
		if band.From < 0 || (i > 0 && band.From <= p.Bands[i-1].From) || !validPrice(band.PerMinute) {
			return fmt.Errorf("band from %d at %s: out of order or price invalid", band.From, band.PerMinute)
		}
	}
	return nil
}

func validPrice(d decimal.Decimal) bool {
	return !d.IsNegative() && d.Equal(d.Truncate(maxPriceDecimals))
}

func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

// checkBasic checks that the book prices basic usage of scenario s in tier
// t (a refusal if not).
func (b *PriceBook) checkBasic(s Scenario, t Tier) error {
	sc, ok := b.scenario(s)
	switch {
	case s == "":
		return refuse(fmt.Errorf("%w: the scenario is empty, and basic usage needs one", ErrUnknownScenario))
	case !ok:
		return refuse(fmt.Errorf("%w %q in book %q", ErrUnknownScenario, s, b.ID))
	}
	ts, ok := b.tier(t)
	if !ok {
		return refuse(fmt.Errorf("%w %q in book %q", ErrUnknownTier, t, b.ID))
	}
	if ts.Video && !sc.Video {
		return refuse(fmt.Errorf("%w: video tier %q in audio scenario %q", ErrTierNotInScenario, t, s))
	}
	return nil
}
