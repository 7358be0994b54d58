package billing_test

// This file is an independent reference model of the billing rules, written
// from SPEC.md, domain/trtc-billing-rules.md and the package documentation
// only (never from the engine's code). TestModel (model_ops_test.go) runs it
// side by side with the Engine. The model is deliberately naive: plain int64s,
// a slice of packages, maps keyed by (day, service, tier), every rule in a
// small function named after it. It uses the library's exported types only as
// plain data holders, and its own arithmetic for days, validity and prices.

import (
	"cmp"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/rtcbill/billing"
	"github.com/shopspring/decimal"
)

// refZone is the default billing time zone, UTC+8 (SPEC: "Billing day"); the
// price book's dates are instants in it.
var refZone = time.FixedZone("ref UTC+8", 8*60*60)

// The documented defaults of Options.ExpiryGrace and Options.DueAfter.
const (
	refExpiryGrace = 10 * time.Hour
	refDueAfter    = 10 * time.Hour
)

// refTierOrder is the price book's tier order (audio, SD, HD, FHD), the 2K
// and 4K of the China site's recording of 2022 (refChinaTiers), and the
// 2K+ of Era 2's (refEra2USD).
var refTierOrder = []billing.Tier{billing.TierAudio, billing.TierSD, billing.TierHD, billing.TierFHD, billing.Tier2K, billing.Tier4K,
	billing.Tier2KPlus}

// refEra1Tiers are Era 1's tiers, those of basic services and of Era 1's
// value-added services.
var refEra1Tiers = refTierOrder[:4]

// refServiceOrder orders the services of a day's meters and bill lines.
// The docs say "by service, then tier in the price book's order"; the
// Store's Reader.Meters orders services by byte order, which the model uses.
var refServiceOrder = []billing.Service{billing.ServiceBasic, billing.ServiceMixTranscoding, billing.ServiceMixTranscodingH265, billing.ServiceRecording,
	billing.ServiceRecordingMixed, billing.ServiceRecordingSingle}

func refRank[T comparable](order []T, v T) int {
	if i := slices.Index(order, v); i >= 0 {
		return i
	}
	return len(order)
}

// ---------------------------------------------------------------------------
// Days (own arithmetic, not the library's DayOf / Day.Start).

// refCalendar is the billing time zone's calendar, with its own arithmetic
// (not the library's DayOf / Day.Start).
type refCalendar struct{ loc *time.Location }

// dayOf: the billing day of an instant is its calendar date in the zone.
func (c refCalendar) dayOf(t time.Time) billing.Day {
	y, m, d := t.In(c.loc).Date()
	return refDateDay(y, m, d)
}

// refDateDay counts the days from 1970-01-01 to a date (normalized).
func refDateDay(y int, m time.Month, d int) billing.Day {
	return billing.Day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// refDate is the date of a day.
func refDate(d billing.Day) (int, time.Month, int) {
	return time.Unix(int64(d)*86400, 0).UTC().Date()
}

// dayStart is the first instant of day d in the zone: its midnight, or the
// first instant after a daylight-saving gap at midnight. Found by bisection
// on whole seconds, so it does not rely on time.Date's handling of gaps.
func (c refCalendar) dayStart(d billing.Day) time.Time {
	y, m, dd := refDate(d)
	hi := time.Date(y, m, dd, 12, 0, 0, 0, c.loc) // well inside day d
	lo := hi.Add(-36 * time.Hour)                 // well inside an earlier day
	for hi.Sub(lo) > time.Second {
		mid := lo.Add(hi.Sub(lo) / 2).Truncate(time.Second)
		if c.dayOf(mid) >= d {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// dayEnded: Settle may run once the day has ended in the billing zone.
func (c refCalendar) dayEnded(d billing.Day, now time.Time) bool {
	return !now.Before(c.dayStart(d + 1))
}

// dayDue: a day is due for settlement once it ended DueAfter (10 hours:
// 10:00 the next day) before the instant asked about.
func (c refCalendar) dayDue(d billing.Day, at time.Time) bool {
	return !c.dayStart(d + 1).Add(refDueAfter).After(at)
}

// ---------------------------------------------------------------------------
// Minutes.

// refBillableMinutes: billable minutes of a meter are ceil(seconds / 60).
func refBillableMinutes(seconds int64) int64 { return (seconds + 59) / 60 }

// refUsageIncrement: a usage adds ceil(after/60) - ceil(before/60).
func refUsageIncrement(before, added int64) int64 {
	return refBillableMinutes(before+added) - refBillableMinutes(before)
}

// ---------------------------------------------------------------------------
// Price book figures, typed in again from domain/trtc-billing-rules.md (Era 1,
// USD and CNY) so that a wrong figure in the engine's books shows up as a
// difference.

func refPerThousand(s string) decimal.Decimal { return decimal.RequireFromString(s).Shift(-3) }

func refDec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// refTierPrices maps the tiers audio, SD, HD, FHD to the given prices.
func refTierPrices(audio, sd, hd, fhd decimal.Decimal) map[billing.Tier]decimal.Decimal {
	return map[billing.Tier]decimal.Decimal{billing.TierAudio: audio, billing.TierSD: sd, billing.TierHD: hd, billing.TierFHD: fhd}
}

// refFigures are one currency's Era 1 figures.
type refFigures struct {
	bookID     string
	basic      map[billing.Tier]decimal.Decimal                     // list price per minute (§1.3)
	valueAdded map[billing.Service]map[billing.Tier]decimal.Decimal // per minute (§4.2, §4.3)
	// mixEarlierFrom: MixTranscoding of accounts opened before 2020-11-01 is
	// free for days before this date (§4.3).
	mixEarlierFrom time.Time
	kinds          map[string]*refKind
	trial          int64 // the trial's minutes (10,000)
	// monthly is the kind of the recurring grant, if the book has one, of
	// monthlyMinutes on the first of each month and on the opening's day.
	monthly        *refKind
	monthlyMinutes int64
	// monthlyCohortsUntil: accounts whose first application was created
	// before it are settled monthly, the rest daily (§1.5: 2020-09-01).
	monthlyCohortsUntil time.Time
	// anniversary: the recurring grant comes on the day of the month of
	// the first application (the month's last if shorter), not on the
	// first; grantMonths: for that many months from it (0: for ever).
	anniversary bool
	grantMonths int
	// perApp: each application's usage of a day is rounded on its own
	// (Era 3, §1.4): its meters name the application.
	perApp bool
	// recordingFrom: the cohorts recording is priced for (Era 1: first
	// applications from 2020-07-01; zero: every cohort).
	recordingFrom time.Time
}

// Service start dates (§4.2, §4.3 and the package docs), and scenarios.
var (
	refRecordingFrom  = time.Date(2020, 7, 1, 0, 0, 0, 0, refZone)
	refChina2022From  = time.Date(2022, 7, 20, 0, 0, 0, 0, refZone)  // the China site's recording of applications created from then
	refEra2From       = time.Date(2021, 10, 27, 0, 0, 0, 0, refZone) // USD accounts whose first application was created from then are Era 2's
	refMixFrom        = time.Date(2020, 11, 1, 0, 0, 0, 0, refZone)
	refVideoScenarios = map[billing.Scenario]bool{billing.VideoLive: true, billing.VideoCall: true}
	refAudioScenarios = map[billing.Scenario]bool{billing.AudioLive: true, billing.AudioCall: true}
)

// refEra1 returns the Era 1 figures by currency; custom adds refCustomKind
// to the USD book.
func refEra1(custom bool) map[string]*refFigures {
	usd := &refFigures{
		bookID: "era1-usd",
		basic:  refTierPrices(refPerThousand("0.99"), refPerThousand("1.99"), refPerThousand("3.99"), refPerThousand("14.99")),
		valueAdded: map[billing.Service]map[billing.Tier]decimal.Decimal{
			billing.ServiceRecording:      refTierPrices(refPerThousand("0.499"), refPerThousand("0.99"), refPerThousand("1.99"), refPerThousand("7.499")),
			billing.ServiceMixTranscoding: refTierPrices(refDec("0.000799"), refDec("0.00228571"), refDec("0.00464286"), refDec("0.00899")),
		},
		mixEarlierFrom:      time.Date(2020, 12, 1, 0, 0, 0, 0, refZone),
		monthlyCohortsUntil: time.Date(2020, 9, 1, 0, 0, 0, 0, refZone),
		recordingFrom:       refRecordingFrom,
		trial:               10_000,
		kinds: refEra1Kinds(
			map[int64]decimal.Decimal{25_000: refDec("24"), 250_000: refDec("227"), 1_000_000: refDec("856"), 3_000_000: refDec("2416")},
			[]refBand{
				{0, refPerThousand("0.99")},
				{25_000, refPerThousand("0.960")},
				{250_000, refPerThousand("0.908")},
				{1_000_000, refPerThousand("0.856")},
				{3_000_000, refPerThousand("0.805")},
			}),
	}
	cny := &refFigures{
		bookID: "era1-cny",
		basic:  refTierPrices(refPerThousand("7.00"), refPerThousand("14.00"), refPerThousand("28.00"), refPerThousand("105.00")),
		valueAdded: map[billing.Service]map[billing.Tier]decimal.Decimal{
			billing.ServiceRecording:      refTierPrices(refPerThousand("3.50"), refPerThousand("7.00"), refPerThousand("14.00"), refPerThousand("52.50")),
			billing.ServiceMixTranscoding: refTierPrices(refPerThousand("5.6"), refPerThousand("16"), refPerThousand("32.5"), refPerThousand("63")),
			// §4.2, applications created from 2022-07-20, yuan per 1,000
			// minutes of each input stream: audio, SD, HD, FHD, 2K, 4K.
			billing.ServiceRecordingSingle: refChinaTiers("3.5", "7", "14", "31", "56", "97"),
			billing.ServiceRecordingMixed:  refChinaTiers("9", "19", "35", "79", "138", "323"),
		},
		mixEarlierFrom:      time.Date(2020, 12, 8, 0, 0, 0, 0, refZone),
		monthlyCohortsUntil: time.Date(2020, 9, 1, 0, 0, 0, 0, refZone),
		recordingFrom:       refRecordingFrom,
		trial:               10_000,
		kinds: refEra1Kinds(
			map[int64]decimal.Decimal{25_000: refDec("168.00"), 250_000: refDec("1588.00"), 1_000_000: refDec("5968.00"), 3_000_000: refDec("16888.00")},
			[]refBand{
				{0, refDec("0.00700000")},
				{25_000, refDec("0.00672000")},
				{250_000, refDec("0.00635200")},
				{1_000_000, refDec("0.00596800")},
				{3_000_000, refDec("0.00562934")},
			}),
	}
	cny.kinds[billing.KindUniversal].refundable = true
	if custom {
		usd.bookID = refCustomBook().ID
		usd.kinds[billing.KindUniversal].refundable = true
		usd.kinds[refCustomKind] = &refKind{
			name:   refCustomKind,
			ratios: map[billing.Tier]int64{billing.TierAudio: 1, billing.TierSD: 3, billing.TierHD: 5},
			months: 1, unit: 100,
			bands: []refBand{{0, refDec("0.00123")}},
		}
	}
	return map[string]*refFigures{"USD": usd, "CNY": cny}
}

// refChinaTiers are the prices per minute of the China site's recording of
// 2022, given per 1,000 minutes.
func refChinaTiers(audio, sd, hd, fhd, k2, k4 string) map[billing.Tier]decimal.Decimal {
	m := refTierPrices(refPerThousand(audio), refPerThousand(sd), refPerThousand(hd), refPerThousand(fhd))
	m[billing.Tier2K], m[billing.Tier4K] = refPerThousand(k2), refPerThousand(k4)
	return m
}

// refEra2USD returns the figures of Era 2 (§1, §2.1, §2.3, §4.2; the
// docs/research notes): Era 1's basic prices and universal package, no
// trial, 10,000 free minutes each month to the month's end at 1 for every
// basic, recording and MixTranscoding tier, Era 2's recording (audio 1.49,
// HD 5.99, FHD 13.49, 2K 23.99, 2K+ 53.99 per 1,000 minutes), Era 1's
// MixTranscoding.
func refEra2USD() *refFigures {
	era1 := refEra1(false)["USD"]
	f := &refFigures{
		bookID: "era2-usd",
		basic:  era1.basic,
		valueAdded: map[billing.Service]map[billing.Tier]decimal.Decimal{
			billing.ServiceRecording: {billing.TierAudio: refPerThousand("1.49"), billing.TierHD: refPerThousand("5.99"),
				billing.TierFHD: refPerThousand("13.49"), billing.Tier2K: refPerThousand("23.99"), billing.Tier2KPlus: refPerThousand("53.99")},
			billing.ServiceMixTranscoding: era1.valueAdded[billing.ServiceMixTranscoding],
		},
		mixEarlierFrom: era1.mixEarlierFrom,
		kinds:          map[string]*refKind{billing.KindUniversal: era1.kinds[billing.KindUniversal]},
		monthlyMinutes: 10_000,
	}
	one := func(tiers ...billing.Tier) map[billing.Tier]int64 {
		m := map[billing.Tier]int64{}
		for _, t := range tiers {
			m[t] = 1
		}
		return m
	}
	f.monthly = &refKind{name: billing.KindFree, toMonthEnd: true, ratios: one(refEra1Tiers...),
		valueAdded: map[billing.Service]map[billing.Tier]int64{
			billing.ServiceRecording:      one(billing.TierAudio, billing.TierHD, billing.TierFHD, billing.Tier2K, billing.Tier2KPlus),
			billing.ServiceMixTranscoding: one(refEra1Tiers...),
		}}
	f.kinds[billing.KindFree] = f.monthly
	return f
}

// refEra3USD returns the figures of Era 3 (§1.3–1.5, §2.3–2.6; the
// docs/research notes §6) with the kinds era3Host sells: tiers audio, HD,
// FHD, 2K, 4K at 0.99, 3.99, 8.99, 15.99, 35.99 per 1,000 minutes; each
// application's day rounded on its own; 10,000 free minutes a month for
// 12 months on the first application's day of the month, drawn first, at
// 1, 4, 9, 16, 36 (recording's 2K+ at 36) for basic services, recording
// and both MixTranscodings; Era 2's recording; MixTranscoding by input
// (H.264 1.99, 5.99, 13.99, 25.99, 69.99; H.265 1.99, 17.99, 37.99,
// 69.99, 189.99). The host's kinds: "standard", bound to an application,
// not stacking, a month, 50,000 minutes for 29.99 or 0.0007 a minute;
// "promo", the account's, a month, 1,000 for 9.90 or 0.0099 a minute.
func refEra3USD() *refFigures {
	tiers := []billing.Tier{billing.TierAudio, billing.TierHD, billing.TierFHD, billing.Tier2K, billing.Tier4K}
	prices := func(tiers []billing.Tier, per ...string) map[billing.Tier]decimal.Decimal {
		m := map[billing.Tier]decimal.Decimal{}
		for i, t := range tiers {
			m[t] = refPerThousand(per[i])
		}
		return m
	}
	ratios := func(tiers []billing.Tier) map[billing.Tier]int64 {
		m := map[billing.Tier]int64{}
		for i, t := range tiers {
			m[t] = []int64{1, 4, 9, 16, 36}[i]
		}
		return m
	}
	recTiers := []billing.Tier{billing.TierAudio, billing.TierHD, billing.TierFHD, billing.Tier2K, billing.Tier2KPlus}
	f := &refFigures{
		bookID: "era3-usd-host",
		basic:  prices(tiers, "0.99", "3.99", "8.99", "15.99", "35.99"),
		valueAdded: map[billing.Service]map[billing.Tier]decimal.Decimal{
			billing.ServiceRecording:          prices(recTiers, "1.49", "5.99", "13.49", "23.99", "53.99"),
			billing.ServiceMixTranscoding:     prices(tiers, "1.99", "5.99", "13.99", "25.99", "69.99"),
			billing.ServiceMixTranscodingH265: prices(tiers, "1.99", "17.99", "37.99", "69.99", "189.99"),
		},
		monthlyMinutes: 10_000, anniversary: true, grantMonths: 12, perApp: true,
	}
	f.monthly = &refKind{name: billing.KindFree, first: true, ratios: ratios(tiers),
		valueAdded: map[billing.Service]map[billing.Tier]int64{
			billing.ServiceRecording:          ratios(recTiers),
			billing.ServiceMixTranscoding:     ratios(tiers),
			billing.ServiceMixTranscodingH265: ratios(tiers),
		}}
	f.kinds = map[string]*refKind{
		billing.KindFree: f.monthly,
		"standard": {name: "standard", ratios: ratios(tiers), months: 1, bound: true, noStack: true, unit: 1000,
			offers: map[int64]decimal.Decimal{50_000: refDec("29.99")}, bands: []refBand{{0, refDec("0.0007")}}},
		"promo": {name: "promo", ratios: ratios(tiers), months: 1, unit: 1000,
			offers: map[int64]decimal.Decimal{1000: refDec("9.90")}, bands: []refBand{{0, refDec("0.0099")}}},
	}
	return f
}

type refBand struct {
	from      int64
	perMinute decimal.Decimal
}

// refKind is a package kind: ratios, validity, whether it arms the
// automatic postpaid switch, and its price list (unit 0: not for sale).
type refKind struct {
	name       string
	ratios     map[billing.Tier]int64
	valueAdded map[billing.Service]map[billing.Tier]int64 // the value-added tiers it covers
	months     int
	toMonthEnd bool
	arms       bool
	unit       int64
	offers     map[int64]decimal.Decimal
	bands      []refBand
	refundable bool // the China site's refund rules (§2.7)
	// first: drawn before every other package; bound: bought for one
	// application, whose usage alone it covers; noStack: not sold while
	// one of the kind for the same application is in its validity (§2.6).
	first, bound, noStack bool
}

// refCustomKind is the name of the custom kind the model's book adds.
const refCustomKind = "mini"

// refMonthlyKind is the recurring grant of refMonthlyBook:
// refMonthlyMinutes minutes, ratio 1 for every basic tier, and for
// recording 1 for audio and 2 for HD, on the first of each month (and the
// opening's day), to the end of the month.
const (
	refMonthlyKind    = "monthly"
	refMonthlyMinutes = 300
)

// refEra1Kinds: the trial (10,000 minutes granted, ratio 1 for every tier)
// and the universal package (1:2:4:15, for sale in steps of 1,000 minutes),
// both valid 12 months to month end (§2.2, §2.3, §2.5).
func refEra1Kinds(offers map[int64]decimal.Decimal, bands []refBand) map[string]*refKind {
	return map[string]*refKind{
		billing.KindTrial: {
			name:   billing.KindTrial,
			ratios: map[billing.Tier]int64{billing.TierAudio: 1, billing.TierSD: 1, billing.TierHD: 1, billing.TierFHD: 1},
			months: 12, toMonthEnd: true,
		},
		billing.KindUniversal: {
			name:   billing.KindUniversal,
			ratios: map[billing.Tier]int64{billing.TierAudio: 1, billing.TierSD: 2, billing.TierHD: 4, billing.TierFHD: 15},
			months: 12, toMonthEnd: true, arms: true, unit: 1000,
			offers: offers, bands: bands,
		},
	}
}

// refCustomBook is Era1USD plus refCustomKind, as the engine is configured
// with it: a kind that does not cover FHD, expires after one month (not to
// month end) and does not arm the automatic switch; and its universal
// package Refundable, so that USD accounts are refunded too.
func refCustomBook() billing.PriceBook {
	b := billing.Era1USD()
	b.ID = "era1-usd-ref"
	for i := range b.Kinds {
		b.Kinds[i].Refundable = b.Kinds[i].Name == billing.KindUniversal // refunds on USD accounts too
	}
	b.Kinds = append(b.Kinds, billing.PackageKind{
		Name: refCustomKind,
		Ratios: []billing.Ratio{
			{Tier: billing.TierAudio, Minutes: 1}, {Tier: billing.TierSD, Minutes: 3}, {Tier: billing.TierHD, Minutes: 5},
		},
		Validity: billing.Validity{Months: 1},
		Pricing:  billing.Pricing{Unit: 100, Bands: []billing.Band{{From: 0, PerMinute: decimal.RequireFromString("0.00123")}}},
	})
	return b
}

// refMonthlyBook returns b, renamed, with the recurring grant
// refMonthlyKind.
func refMonthlyBook(b billing.PriceBook) billing.PriceBook {
	b.ID += "-monthly"
	b.Kinds = append(slices.Clone(b.Kinds), billing.PackageKind{
		Name: refMonthlyKind,
		Ratios: []billing.Ratio{
			{Tier: billing.TierAudio, Minutes: 1}, {Tier: billing.TierSD, Minutes: 1}, {Tier: billing.TierHD, Minutes: 1}, {Tier: billing.TierFHD, Minutes: 1},
			// and two tiers of recording, HD at 2
			{Tier: billing.TierAudio, Minutes: 1, Service: billing.ServiceRecording},
			{Tier: billing.TierHD, Minutes: 2, Service: billing.ServiceRecording},
		},
		Validity: billing.Validity{ToMonthEnd: true},
	})
	b.Monthly = billing.Recurring{Kind: refMonthlyKind, Minutes: refMonthlyMinutes}
	return b
}

// withMonthly gives figures f the recurring grant of refMonthlyBook, and
// the book's id.
func (f *refFigures) withMonthly(bookID string) {
	f.bookID = bookID
	f.monthly = &refKind{name: refMonthlyKind, toMonthEnd: true,
		ratios:     map[billing.Tier]int64{billing.TierAudio: 1, billing.TierSD: 1, billing.TierHD: 1, billing.TierFHD: 1},
		valueAdded: map[billing.Service]map[billing.Tier]int64{billing.ServiceRecording: {billing.TierAudio: 1, billing.TierHD: 2}}}
	f.monthlyMinutes = refMonthlyMinutes
	f.kinds[refMonthlyKind] = f.monthly
}

// validityEnd: a package is valid from 00:00 of its purchase day to the
// start of the day `months` later, or with toMonthEnd to the end of that
// month ("the last day of the same month next year"); a day the later month
// lacks ends the validity at the end of that shorter month.
func (c refCalendar) validityEnd(start billing.Day, k *refKind) time.Time {
	y, m, d := refDate(start)
	first := refDateDay(y, m+time.Month(k.months), 1)
	nextFirst := refDateDay(y, m+time.Month(k.months)+1, 1)
	switch {
	case k.toMonthEnd:
		return c.dayStart(nextFirst)
	case first+billing.Day(d-1) >= nextFirst: // the later month lacks day d
		return c.dayStart(nextFirst)
	default:
		return c.dayStart(first + billing.Day(d-1))
	}
}

// refPackagePrice: a fixed offer's published price, else the band of the
// largest From not above the size, per minute × minutes, rounded half up to
// 2 decimals.
func refPackagePrice(k *refKind, minutes int64) decimal.Decimal {
	if p, ok := k.offers[minutes]; ok {
		return p
	}
	var per decimal.Decimal
	for _, b := range k.bands {
		if b.from <= minutes {
			per = b.perMinute
		}
	}
	return refRoundHalfUp(per.Mul(decimal.NewFromInt(minutes)))
}

// refRoundHalfUp rounds a non-negative amount half up to 2 decimals.
func refRoundHalfUp(d decimal.Decimal) decimal.Decimal {
	// decimal.Round rounds half away from zero: half up for amounts >= 0.
	return d.Round(2)
}

// ---------------------------------------------------------------------------
// State.

type refPackage struct {
	billing.Package
	kind *refKind
}

// refCovers: a package covers usage at t if Start <= t < its end (End, or
// the reclaim instant of arrears that reclaim it: see refEnd).
func refCovers(a *refAccount, p *refPackage, t time.Time) bool {
	return !t.Before(p.Start) && t.Before(refEnd(a, p))
}

// refDeductionOrder: first packages (Era 3's free minutes), then those
// bound to an application, then the account's (§2.6: free minutes, then
// the narrower scope); within each, soonest End first, then earliest
// PurchasedAt, then ID.
func refDeductionOrder(p, q *refPackage) int {
	class := func(p *refPackage) int {
		switch {
		case p.First:
			return 0
		case p.App != "":
			return 1
		}
		return 2
	}
	if c := cmp.Compare(class(p), class(q)); c != 0 {
		return c
	}
	if c := p.End.Compare(q.End); c != 0 {
		return c
	}
	if c := p.PurchasedAt.Compare(q.PurchasedAt); c != 0 {
		return c
	}
	return strings.Compare(p.ID, q.ID)
}

type refUsageRecord struct {
	usage   billing.Usage
	receipt billing.Receipt
}

type refPurchaseRecord struct {
	purchase billing.Purchase
	receipt  billing.PurchaseReceipt
}

// refState is what an account's operations have made of it.
type refState struct {
	packages []*refPackage
	meters   map[billing.MeterKey]*billing.Meter
	// uncovered: the minutes of a meter paid postpaid and as shortfall by
	// the usage of one day of its window, which a package bought that day
	// absorbs (the engine keeps the latest day's only: Meter.Latest).
	uncovered map[refDayMeter]refUncovered
	postpaid  billing.Postpaid // the account's switch: on, every application's is
	armed     bool
	apps      map[string]*refAppState // by application id
}

type refDayMeter struct {
	key billing.MeterKey
	day billing.Day
}

type refUncovered struct{ postpaid, shortfall int64 }

// refAppState is an application's switch and status.
type refAppState struct {
	postpaid    billing.Postpaid
	status      billing.Status
	suspensions []billing.Interval // the ended suspensions, in order
}

// refApp is an application as created: an application's switch is on from
// its creation if chosen then, from its first EnablePostpaid call, and from
// when the account's switch went on (or its creation, if later).
type refApp struct {
	id        string
	created   time.Time
	own       bool // postpaid chosen at creation
	enabledAt time.Time
	disabled  []billing.Interval
}

func (s *refState) clone() *refState {
	c := *s
	c.packages = nil
	for _, p := range s.packages {
		q := *p
		c.packages = append(c.packages, &q)
	}
	c.meters = map[billing.MeterKey]*billing.Meter{}
	for k, m := range s.meters {
		n := *m
		c.meters[k] = &n
	}
	c.uncovered = maps.Clone(s.uncovered)
	c.apps = map[string]*refAppState{}
	for id, st := range s.apps {
		t := *st
		t.suspensions = slices.Clone(st.suspensions)
		c.apps[id] = &t
	}
	return &c
}

// refOp is an operation of an account's unsettled days, placed in the
// reference order by its key (SPEC "Principles": event time decides): a
// usage at (its time, 0, its id), a purchase or the first EnablePostpaid
// call at (the clock then, 1, its id or ""), a usage of a settled day at
// the start of the first unsettled day (see refFold).
type refOp struct {
	key    billing.OpKey
	usage  *billing.Usage // Service set
	pkg    *refPackage    // as bought
	refund string         // the package a refund empties
	enable bool
	app    string            // the application of an EnablePostpaid call ("" for the account)
	hold   *billing.Postpaid // the switch as it was on: it stays on from then
}

// refAccount is an account. The model keeps its state at the start of its
// first unsettled day (base) and the operations after it (ops), and makes
// the current state (cur) by applying them to a copy of base in the
// reference order, from scratch, after every operation.
type refAccount struct {
	cal            refCalendar
	fig            *refFigures
	currency       string
	spec           billing.AccountSpec
	id             string
	opened         time.Time
	base, cur      *refState
	ops            []refOp
	frontier       billing.OpKey // the latest key of an operation
	enabledAt      time.Time
	monthly        bool     // on the monthly cycle (fig.monthlyCohortsUntil)
	apps           []refApp // in the order they were created
	grantsThrough  billing.Day
	usages         map[string]refUsageRecord
	purchases      map[string]refPurchaseRecord
	bills          map[billing.Day]billing.Bill
	settledThrough billing.Day
	settledOnce    bool
	late           []billing.MeterKey
	unbilled       []billing.MeterKey // meters with shortfall settled while postpaid was off
	arrears        []billing.Arrears  // as reported, in order
	refunds        []billing.PackageRefund
}

func (a *refAccount) purchaseOf(id string) (refPurchaseRecord, bool) {
	if a == nil {
		return refPurchaseRecord{}, false
	}
	r, ok := a.purchases[id]
	return r, ok
}

type refModel struct {
	cal     refCalendar
	figures map[string]*refFigures // by currency
	era2    *refFigures            // USD accounts of Era 2's cohorts (nil: the Era 1 figures)
	accts   map[string]*refAccount
}

// figuresFor: the figures of the accounts of currency and cohort.
func (md *refModel) figuresFor(currency string, cohort time.Time) *refFigures {
	if currency == "USD" && md.era2 != nil && !cohort.Before(refEra2From) {
		return md.era2
	}
	return md.figures[currency]
}

// newRefModel: the model of an Engine with the default books (Era 1), or
// with refCustomBook for every USD account; withEra2 sets Era 2's figures
// for the USD accounts from 2021-10-27 (AllEras).
func newRefModel(custom bool, loc *time.Location) *refModel {
	return &refModel{cal: refCalendar{loc}, figures: refEra1(custom), accts: map[string]*refAccount{}}
}

// withEra2 makes md the model of an Engine with AllEras' books.
func (md *refModel) withEra2() { md.era2 = refEra2USD() }

// sortedPackages returns the state's packages in deduction order.
func (s *refState) sortedPackages() []*refPackage {
	ps := slices.Clone(s.packages)
	slices.SortStableFunc(ps, refDeductionOrder)
	return ps
}

func (s *refState) meter(k billing.MeterKey) *billing.Meter {
	m := s.meters[k]
	if m == nil {
		m = &billing.Meter{Key: k}
		s.meters[k] = m
	}
	return m
}

// refMeterKeyOrder orders meters by day, service, tier in book order, then
// application.
func refMeterKeyOrder(x, y billing.MeterKey) int {
	if c := cmp.Compare(x.Day, y.Day); c != 0 {
		return c
	}
	if c := cmp.Compare(refRank(refServiceOrder, x.Service), refRank(refServiceOrder, y.Service)); c != 0 {
		return c
	}
	if c := cmp.Compare(refRank(refTierOrder, x.Tier), refRank(refTierOrder, y.Tier)); c != 0 {
		return c
	}
	return strings.Compare(x.App, y.App)
}

// metersOf returns the meters of day d in service, tier order.
func (a *refAccount) metersOf(d billing.Day) []billing.Meter {
	return a.metersWhere(func(k billing.MeterKey) bool { return k.Day == d })
}

// metersWhere returns the meters whose key satisfies in, in order of day,
// service, then tier.
func (a *refAccount) metersWhere(in func(billing.MeterKey) bool) []billing.Meter {
	var out []billing.Meter
	for k, m := range a.cur.meters {
		if in(k) {
			out = append(out, *m)
		}
	}
	slices.SortFunc(out, func(x, y billing.Meter) int { return refMeterKeyOrder(x.Key, y.Key) })
	return out
}

// refMeterDay: a usage's meter is of its window's first day for basic
// services, of its own day for value-added ones (rounded per day on every
// cycle: SPEC "Value-added services").
func (a *refAccount) refMeterDay(svc billing.Service, d billing.Day) billing.Day {
	if svc != billing.ServiceBasic {
		return d
	}
	return a.refWindow(d)
}

// days returns the days that have meters, ascending.
func (a *refAccount) days() []billing.Day {
	var ds []billing.Day
	for k := range a.cur.meters {
		if !slices.Contains(ds, k.Day) {
			ds = append(ds, k.Day)
		}
	}
	slices.Sort(ds)
	return ds
}

// view is the account record as the docs describe it (bookkeeping fields
// Version, Touched, LastSeq and SinceCheckpoint are not modelled).
func (a *refAccount) view() billing.Account {
	return billing.Account{
		ID:                a.id,
		Currency:          a.currency,
		Opened:            a.opened,
		Postpaid:          a.cur.postpaid,
		Apps:              a.appViews(),
		AutoPostpaidArmed: a.cur.armed,
		SettledThrough:    a.settledThrough,
		Cycle:             a.cycle(),
		Late:              slices.Clone(a.late),
		Unbilled:          slices.Clone(a.unbilled),
		Frontier:          a.frontier,
		EnabledAt:         a.enabledAt,
		Arrears:           refCloneArrears(a.arrears),
		Refunds:           slices.Clone(a.refunds),
	}
}

// appViews are the applications as the docs describe them.
func (a *refAccount) appViews() []billing.App {
	var out []billing.App
	for _, p := range a.apps {
		st := a.cur.app(a, p.id)
		out = append(out, billing.App{ID: p.id, Created: p.created, Postpaid: st.postpaid, Status: st.status,
			Suspensions: slices.Clone(st.suspensions), EnabledAt: p.enabledAt, Disabled: slices.Clone(p.disabled)})
	}
	return out
}

// app returns the state of application id, as it was created if no
// operation of s has touched it.
func (s *refState) app(a *refAccount, id string) *refAppState {
	if st := s.apps[id]; st != nil {
		return st
	}
	st := &refAppState{}
	for _, p := range a.apps {
		if p.id != id {
			continue
		}
		switch {
		case p.own:
			st.postpaid = billing.Postpaid{On: true, Since: p.created, Way: billing.PostpaidAtCreation}
		case s.postpaid.On:
			st.postpaid = billing.Postpaid{On: true, Since: refLater(s.postpaid.Since, p.created), Way: s.postpaid.Way}
		}
	}
	s.apps[id] = st
	return st
}

// refPeriod: the settlement period of day d, first..last, which is also
// the rounding window of its usage: the day on the daily cycle; on the
// monthly cycle its calendar month, split at the day of the account's
// cohort (§1.5; SPEC decision 3). The model's books are in force from
// before the accounts it opens, with no end.
func (a *refAccount) refPeriod(d billing.Day) (billing.Day, billing.Day) {
	if !a.monthly {
		return d, d
	}
	y, m, _ := refDate(d)
	first, last := refDateDay(y, m, 1), refDateDay(y, m+1, 0)
	if begun := a.cal.dayOf(a.cohort()); d < begun {
		return first, min(last, begun-1)
	}
	return max(first, a.cal.dayOf(a.cohort())), last
}

func (a *refAccount) cycle() billing.Cycle {
	if a.monthly {
		return billing.Monthly
	}
	return billing.Daily
}

// refWindow: the first day of the window of day d, its meters' day.
func (a *refAccount) refWindow(d billing.Day) billing.Day {
	first, _ := a.refPeriod(d)
	return first
}

// cohort: the creation of the account's first application (its opening
// if it has none): the date the value-added services' start follows.
func (a *refAccount) cohort() time.Time {
	if len(a.apps) == 0 {
		return a.opened
	}
	return a.apps[0].created
}

// grant makes the account's recurring grants of the days after the last
// day it has had them, up to now's: each an operation at the start of its
// day (the opening's day at the opening), before the usages of that
// instant, like a purchase otherwise, to the next grant day. The model
// makes them on every operation; the Engine before the first unit of work
// that finds them due, which comes to the same (a grant is never late).
func (a *refAccount) grant(now time.Time) {
	if a == nil {
		return
	}
	today, opened := a.cal.dayOf(now), a.cal.dayOf(a.opened)
	for d := max(a.grantsThrough, opened-1) + 1; d <= today && len(a.apps) > 0; d++ { // none before the first application
		if o, ok := a.grantOf(d); ok {
			if d != opened { // the opening's is made with it, as the trial is
				a.frontier = refMaxKey(a.frontier, o.key)
			}
			a.ops = append(a.ops, o)
			a.refold()
		}
	}
	a.grantsThrough = today
}

// grantOf: the recurring grant of day d, if d is a grant day (the first of
// a month, or its anniversary day: see grantDayIn; or the day of the
// account's cohort) before the end of the grants' months, from the start
// of d (from the opening, on its day) to the next grant day.
func (a *refAccount) grantOf(d billing.Day) (refOp, bool) {
	if a.fig.monthly == nil {
		return refOp{}, false
	}
	begun := a.cal.dayOf(a.cohort())
	y, m, _ := refDate(d)
	if d != begun && d != a.grantDayIn(y, m) ||
		a.fig.grantMonths > 0 && d >= a.cal.dayOf(a.cal.validityEnd(begun, &refKind{months: a.fig.grantMonths})) {
		return refOp{}, false
	}
	start := refLater(a.cal.dayStart(d), a.opened)
	p := &refPackage{kind: a.fig.monthly, Package: billing.Package{
		ID: "grant:" + d.String(), Kind: a.fig.monthly.name, Book: a.fig.bookID, Minutes: a.fig.monthlyMinutes,
		Balance: a.fig.monthlyMinutes, Currency: a.currency, Price: decimal.Zero, PurchasedAt: start, Start: a.cal.dayStart(d),
		End: a.cal.dayStart(a.grantDayIn(y, m+1)), First: a.fig.monthly.first,
	}}
	return refOp{key: billing.OpKey{At: start, Class: billing.ClassOpening, ID: p.ID}, pkg: p}, true
}

// grantDayIn: the grant day of month m of year y: the first, or on
// anniversary grants the day of the month of the cohort (the month's last
// if shorter).
func (a *refAccount) grantDayIn(y int, m time.Month) billing.Day {
	if !a.fig.anniversary {
		return refDateDay(y, m, 1)
	}
	_, _, cd := refDate(a.cal.dayOf(a.cohort()))
	_, _, last := refDate(refDateDay(y, m+1, 0))
	return refDateDay(y, m, min(cd, last))
}

// refTrial: the trial an account in currency gets with its first
// application, made at now, if its book has one.
func refTrial(cal refCalendar, fig *refFigures, currency string, now time.Time) (*refPackage, bool) {
	trial := fig.kinds[billing.KindTrial]
	if fig.trial == 0 || trial == nil {
		return nil, false
	}
	day := cal.dayOf(now)
	return &refPackage{kind: trial, Package: billing.Package{
		ID: billing.TrialID, Kind: billing.KindTrial, Book: fig.bookID, Minutes: fig.trial, Balance: fig.trial, Currency: currency,
		Price: decimal.Zero, PurchasedAt: now, Start: cal.dayStart(day), End: cal.validityEnd(day, trial),
	}}, true
}

// refAppAt: the application of usage at time at naming id, if it was
// created by then.
func (a *refAccount) refAppAt(id string, at time.Time) (refApp, bool) {
	for _, p := range a.apps {
		if p.id == id && !at.Before(p.created) {
			return p, true
		}
	}
	return refApp{}, false
}

func refLater(t, u time.Time) time.Time {
	if u.After(t) {
		return u
	}
	return t
}

// refSwitchOn: the account's switch goes on at instant at, and with it
// every application's that is off, at the later of at and its creation.
func (a *refAccount) refSwitchOn(s *refState, p billing.Postpaid) {
	s.postpaid = p
	for _, ap := range a.apps {
		if st := s.app(a, ap.id); !st.postpaid.On {
			at := refLater(p.Since, ap.created)
			st.postpaid = billing.Postpaid{On: true, Since: at, Way: p.Way}
			refResumeApp(st, at)
		}
	}
}

func refCloneArrears(as []billing.Arrears) []billing.Arrears {
	out := slices.Clone(as)
	for i := range out {
		out[i].Refs = slices.Clone(out[i].Refs)
	}
	return out
}

func (a *refAccount) packageViews() []billing.Package {
	var out []billing.Package
	for _, p := range a.cur.sortedPackages() {
		out = append(out, p.Package)
	}
	return out
}

// ---------------------------------------------------------------------------
// Rules.

// refForfeitable: a package's remaining minutes are forfeited once its
// validity and ExpiryGrace have passed and its last day is settled.
func refForfeitable(a *refAccount, p *refPackage, now time.Time) bool {
	end := refEnd(a, p)
	return !now.Before(end.Add(refExpiryGrace)) && a.cal.dayOf(end.Add(-time.Nanosecond)) <= a.settledThrough
}

// refForfeitExpired: forfeitable packages lose their remaining minutes
// (recorded in Forfeited, not dropped). Every unit of work that changes the
// account does this. Such a package ended before the first unsettled day,
// so it is in base, and no operation after it can draw from it.
func refForfeitExpired(a *refAccount, now time.Time) {
	for _, p := range a.base.packages {
		if p.Balance > 0 && refForfeitable(a, p, now) {
			p.Forfeited += p.Balance
			p.Balance = 0
		}
	}
	a.refold()
}

// refArrearsGrace and refArrearsReclaim: an account reported overdue is
// suspended 24 hours later, and its packages are reclaimed once the
// suspension has lasted 60 days (domain reference §3.5).
const (
	refArrearsGrace   = 24 * time.Hour
	refArrearsReclaim = 60 * 24 * time.Hour
)

// refInArrears: the account is suspended for arrears at t: from 24 hours
// after a report until its payment.
func refInArrears(a *refAccount, t time.Time) bool {
	for _, ar := range a.arrears {
		if !t.Before(ar.Since.Add(refArrearsGrace)) && (ar.Paid.IsZero() || t.Before(ar.Paid)) {
			return true
		}
	}
	return false
}

// refEnd: a package stops covering usage at its End, or earlier at the
// reclaim instant of arrears not paid before it, if it was bought before
// that instant.
func refEnd(a *refAccount, p *refPackage) time.Time {
	end := p.End
	for _, ar := range a.arrears {
		if (ar.Paid.IsZero() || !ar.Paid.Before(ar.Reclaim)) && p.PurchasedAt.Before(ar.Reclaim) && ar.Reclaim.Before(end) {
			end = ar.Reclaim
		}
	}
	return end
}

// refCoverWholeMinutes: packages valid at the usage's time, of the whole
// account or bound to the usage's application app, in deduction order, each cover as many whole minutes as their balance allows at their
// ratio; a balance below one minute's ratio (or a kind without a ratio for
// the tier) is skipped. It returns the draws and the minutes left uncovered.
func refCoverWholeMinutes(a *refAccount, ps []*refPackage, app string, at time.Time, svc billing.Service, tier billing.Tier, minutes int64) ([]billing.Draw, int64) {
	var draws []billing.Draw
	for _, p := range ps {
		if minutes == 0 {
			break
		}
		r, ok := p.kind.ratios[tier]
		if svc != billing.ServiceBasic {
			r, ok = p.kind.valueAdded[svc][tier]
		}
		if !ok || !refCovers(a, p, at) || p.App != "" && p.App != app {
			continue
		}
		n := min(minutes, p.Balance/r)
		if n == 0 {
			continue
		}
		p.Balance -= n * r
		minutes -= n
		draws = append(draws, billing.Draw{Package: p.ID, Minutes: n, Deducted: n * r})
	}
	return draws, minutes
}

// refPayUncovered: minutes no package covered go postpaid if the switch is
// on; else, if a universal package was bought, the switch goes on
// automatically at the usage's time; else they are the day's shortfall
// and the account is suspended from the usage's time.
// The switch that decides is the usage's application's; the automatic
// switch is the account's, and turns every application's on.
func (a *refAccount) refPayUncovered(s *refState, app string, at time.Time, rc *billing.Receipt, m *billing.Meter, rest int64) {
	if rest == 0 {
		return
	}
	if !s.postpaid.On && s.armed {
		a.refSwitchOn(s, billing.Postpaid{On: true, Since: at, Way: billing.PostpaidAutomatic})
		rc.PostpaidOn = true
	}
	if st := s.app(a, app); !st.postpaid.On {
		rc.Shortfall = rest
		m.Shortfall += rest
		if !st.status.Suspended {
			st.status = billing.Status{Suspended: true, Since: at, Reason: billing.ReasonUncovered}
			rc.Suspended = true
		}
		return
	}
	rc.Postpaid = rest
	m.Postpaid += rest
}

// refResume: a purchase ends the suspension of every application.
func (a *refAccount) refResume(s *refState, at time.Time) bool {
	resumed := false
	for _, p := range a.apps {
		resumed = refResumeApp(s.app(a, p.id), at) || resumed
	}
	return resumed
}

// refResumeApp: its switch going on ends an application's suspension.
func refResumeApp(st *refAppState, at time.Time) bool {
	if !st.status.Suspended {
		return false
	}
	st.suspensions = append(st.suspensions, billing.Interval{Since: st.status.Since, Until: at})
	st.status = billing.Status{}
	return true
}

// refSuspendedAt: the application is suspended at that time: at or after
// its suspension.
func refSuspendedAt(st *refAppState, at time.Time) bool {
	return st.status.Suspended && !at.Before(st.status.Since)
}

// refHasBasicService: the account can pay for basic usage of the
// application at t, as seen at now: its postpaid is on, a universal package
// was bought, or a package valid at t, not forfeited by now and of the
// whole account or bound to the application, has minutes.
func refHasBasicService(a *refAccount, s *refState, app string, st *refAppState, now, at time.Time) bool {
	if st.postpaid.On || s.armed {
		return true
	}
	for _, p := range s.packages {
		if refCovers(a, p, at) && p.Balance > 0 && !refForfeitable(a, p, now) && (p.App == "" || p.App == app) {
			return true
		}
	}
	return false
}

// refNoteLate: usage of a closed day is late: its meter is listed (once, in
// order of arrival) for adjustment lines on the next bill.
func refNoteLate(a *refAccount, k billing.MeterKey) {
	if k.Day <= a.settledThrough && !slices.Contains(a.late, k) {
		a.late = append(a.late, k)
	}
}

// refAbsorbPurchaseDay: a package bought on day D absorbs the basic
// minutes D's usage left uncovered (in the meters of D's window), tier by
// tier in book order (then application by application, where each has
// its meters: only its own application's for a package bound to one),
// shortfall before postpaid, whole minutes at its ratio.
func refAbsorbPurchaseDay(a *refAccount, s *refState, p *refPackage, d billing.Day) []billing.Absorption {
	var out []billing.Absorption
	apps := []string{""}
	if a.fig.perApp {
		apps = apps[:0]
		for _, ap := range a.apps {
			if p.App == "" || p.App == ap.id {
				apps = append(apps, ap.id)
			}
		}
		slices.Sort(apps)
	}
	for _, t := range refTierOrder {
		for _, app := range apps {
			k := billing.MeterKey{Day: a.refWindow(d), Service: billing.ServiceBasic, Tier: t, App: app}
			if ab, ok := refAbsorbMeter(s, p, k, d); ok {
				out = append(out, ab)
			}
		}
	}
	return out
}

// refAbsorbMeter: package p absorbs what day d's usage left uncovered in
// meter k, shortfall before postpaid, whole minutes at its ratio.
func refAbsorbMeter(s *refState, p *refPackage, k billing.MeterKey, d billing.Day) (billing.Absorption, bool) {
	t := k.Tier
	m, u := s.meters[k], s.uncovered[refDayMeter{k, d}]
	r, ok := p.kind.ratios[t]
	if m == nil || !ok {
		return billing.Absorption{}, false
	}
	sh := min(u.shortfall, p.Balance/r)
	p.Balance -= sh * r
	q := min(u.postpaid, p.Balance/r)
	p.Balance -= q * r
	if sh+q == 0 {
		return billing.Absorption{}, false
	}
	s.uncovered[refDayMeter{k, d}] = refUncovered{u.postpaid - q, u.shortfall - sh}
	m.Shortfall -= sh
	m.Postpaid -= q
	m.Prepaid += sh + q
	return billing.Absorption{Tier: t, App: k.App, Shortfall: sh, Postpaid: q, Deducted: (sh + q) * r}, true
}

// refUse applies a usage to s: its seconds to its window's meter, the minutes
// they add paid by packages valid then and at the start of the first
// unsettled day, else as refPayUncovered says;
// value-added minutes all postpaid.
func (a *refAccount) refUse(s *refState, now time.Time, u *billing.Usage) billing.Receipt {
	day := a.cal.dayOf(u.At)
	key := billing.MeterKey{Day: a.refMeterDay(u.Service, day), Service: u.Service, Tier: u.Tier}
	if a.fig.perApp {
		key.App = u.App
	}
	m := s.meter(key)
	ap, _ := a.refAppAt(u.App, u.At)
	st := s.app(a, ap.id)
	rc := billing.Receipt{Key: key, Minutes: refUsageIncrement(m.Seconds, u.Seconds), WhileSuspended: refSuspendedAt(st, u.At),
		AppDisabled: refDisabledAt(ap, u.At)}
	m.Seconds += u.Seconds
	if u.Service != billing.ServiceBasic {
		rc.NoBasicService = refAdmit(a, s, ap, now, u.At, u.Service) != nil
	}
	// Usage of a settled day draws only from packages still valid at the
	// start of the first unsettled day (others cover no usage after it
	// anyway).
	start := a.cal.dayStart(a.settledThrough + 1)
	ps := slices.DeleteFunc(s.sortedPackages(), func(p *refPackage) bool { return !refEnd(a, p).After(start) })
	var rest int64
	rc.Draws, rest = refCoverWholeMinutes(a, ps, ap.id, u.At, u.Service, u.Tier, rc.Minutes)
	m.Prepaid += rc.Minutes - rest
	if u.Service == billing.ServiceBasic {
		a.refPayUncovered(s, ap.id, u.At, &rc, m, rest)
	} else {
		// Value-added minutes no package covers (Era 1's packages cover
		// none) are postpaid, whatever the switch.
		rc.Postpaid = rest
		m.Postpaid += rest
	}
	un := s.uncovered[refDayMeter{key, day}]
	s.uncovered[refDayMeter{key, day}] = refUncovered{un.postpaid + rc.Postpaid, un.shortfall + rc.Shortfall}
	return rc
}

// refApply applies op o to s at its place and returns what it got.
func (a *refAccount) refApply(s *refState, now time.Time, o *refOp) (billing.Receipt, billing.PurchaseReceipt) {
	switch {
	case o.usage != nil:
		return a.refUse(s, now, o.usage), billing.PurchaseReceipt{}
	case o.pkg != nil:
		p := *o.pkg
		s.packages = append(s.packages, &p)
		day := a.cal.dayOf(p.PurchasedAt)
		rc := billing.PurchaseReceipt{Day: day, Absorbed: refAbsorbPurchaseDay(a, s, &p, day)}
		if p.App == "" {
			rc.Resumed = a.refResume(s, p.PurchasedAt)
		} else {
			rc.Resumed = refResumeApp(s.app(a, p.App), p.PurchasedAt) // a bound package resumes its application only
		}
		rc.Package = p.Package
		if p.kind.arms {
			s.armed = true
		}
		return billing.Receipt{}, rc
	case o.hold != nil:
		if !s.postpaid.On {
			a.refSwitchOn(s, *o.hold)
		}
	case o.refund != "":
		for _, p := range s.packages {
			if p.ID == o.refund {
				p.Balance = 0
			}
		}
	case o.enable:
		// The first EnablePostpaid call: the switch goes on, and the
		// basic shortfall of its window becomes postpaid.
		on := billing.Postpaid{On: true, Since: o.key.At, Way: billing.PostpaidEnabled}
		if st := s.app(a, o.app); o.app != "" && !st.postpaid.On {
			st.postpaid = on
			refResumeApp(st, o.key.At)
		} else if o.app == "" && !s.postpaid.On {
			a.refSwitchOn(s, on)
		}
		d := a.refWindow(a.cal.dayOf(o.key.At))
		for k, m := range s.meters {
			if k.Day == d && k.Service == billing.ServiceBasic {
				m.Postpaid += m.Shortfall
				m.Shortfall = 0
			}
		}
		for k, u := range s.uncovered {
			if k.key.Day == d && k.key.Service == billing.ServiceBasic {
				s.uncovered[k] = refUncovered{u.postpaid + u.shortfall, 0}
			}
		}
	}
	return billing.Receipt{}, billing.PurchaseReceipt{}
}

// refFold applies a's operations with keys before until (all of them if
// until is nil) to a copy of base, in the reference order, and returns the
// state and what the operation last added got. A switch that was on stays
// on from when it went on (SPEC's exception: it never goes off).
func (a *refAccount) refFold(now time.Time, until *billing.OpKey, last *refOp) (*refState, billing.Receipt, billing.PurchaseReceipt) {
	s := a.base.clone()
	ops := slices.Clone(a.ops)
	if p := a.cur.postpaid; p.On && !a.base.postpaid.On && p.Way == billing.PostpaidAutomatic {
		// Held where it went on, but not before the usages of settled
		// days sequenced at the period's start: they turn it on again,
		// at the earliest of their times, if they find nothing to pay.
		key := billing.OpKey{At: p.Since, Class: billing.ClassUsage}
		if start := a.refPeriodStart(); key.Compare(start) < 0 {
			key = billing.OpKey{At: start.At, Class: billing.ClassUsage}
		}
		ops = append(ops, refOp{key: key, hold: &p})
	}
	// Usages of settled days share the key of the period's start: among
	// them, by time, then id.
	slices.SortStableFunc(ops, func(x, y refOp) int {
		if c := x.key.Compare(y.key); c != 0 || x.usage == nil || y.usage == nil {
			return c
		}
		return cmp.Or(x.usage.At.Compare(y.usage.At), strings.Compare(x.usage.ID, y.usage.ID))
	})
	var rc billing.Receipt
	var pr billing.PurchaseReceipt
	for i := range ops {
		o := &ops[i]
		if until != nil && o.key.Compare(*until) >= 0 {
			break
		}
		r, p := a.refApply(s, now, o)
		if last != nil && o.key.Compare(last.key) == 0 && o.hold == nil && (o.usage == nil || o.usage.ID == last.usage.ID) {
			rc, pr = r, p
		}
	}
	return s, rc, pr
}

// refold makes the current state again.
func (a *refAccount) refold() { a.cur, _, _ = a.refFold(time.Time{}, nil, nil) }

// refPeriodStart is the key of the start of the first unsettled day.
func (a *refAccount) refPeriodStart() billing.OpKey {
	return billing.OpKey{At: a.cal.dayStart(a.settledThrough + 1), Class: billing.ClassCheckpoint}
}

// refUnitPrice: basic minutes at list price; value-added at the book's
// price, MixTranscoding free (zero) for days before 2020-12-01 of accounts
// opened before 2020-11-01.
func refUnitPrice(a *refAccount, k billing.MeterKey) decimal.Decimal {
	switch k.Service {
	case billing.ServiceBasic:
		return a.fig.basic[k.Tier]
	case billing.ServiceMixTranscoding:
		if a.cohort().Before(refMixFrom) && a.cal.dayStart(k.Day).Before(a.fig.mixEarlierFrom) {
			return decimal.Zero
		}
	}
	return a.fig.valueAdded[k.Service][k.Tier]
}

// refBilledMinutes: postpaid minutes, plus shortfall if postpaid is on at
// settlement.
func refBilledMinutes(postpaid, shortfall int64, postpaidOn bool) int64 {
	if postpaidOn {
		return postpaid + shortfall
	}
	return postpaid
}

// refBillLine is one bill line: for a day's own meter the whole meter, for
// an adjustment what late usage added since the meter's last bill.
func refBillLine(a *refAccount, m *billing.Meter, adjustment, postpaidOn bool) billing.Line {
	s := m.Settled
	l := billing.Line{
		Day: m.Key.Day, Service: m.Key.Service, Tier: m.Key.Tier, App: m.Key.App, Adjustment: adjustment,
		Seconds:   m.Seconds - s.Seconds,
		Minutes:   refBillableMinutes(m.Seconds) - refBillableMinutes(s.Seconds),
		Prepaid:   m.Prepaid - s.Prepaid,
		Postpaid:  m.Postpaid - s.Postpaid,
		Shortfall: m.Shortfall - s.Shortfall,
		UnitPrice: refUnitPrice(a, m.Key),
	}
	l.Billed = refBilledMinutes(l.Postpaid, l.Shortfall, postpaidOn)
	l.Amount = l.UnitPrice.Mul(decimal.NewFromInt(l.Billed))
	return l
}

func refTally(m *billing.Meter) billing.Tally {
	return billing.Tally{Seconds: m.Seconds, Prepaid: m.Prepaid, Postpaid: m.Postpaid, Shortfall: m.Shortfall}
}

// refIssueBill: a line per meter of the period d..last, then adjustments
// (by day, service, tier); subtotal exact, total rounded once half up. The
// meters are those of base, where the period's now are.
func refIssueBill(a *refAccount, d, last billing.Day, now time.Time) billing.Bill {
	b := billing.Bill{Account: a.id, Day: d, Through: last, Currency: a.currency, Issued: now, PostpaidOn: a.cur.anyPostpaid(a), Subtotal: decimal.Zero}
	// Shortfall settled while postpaid is off is not billed then, and never
	// dropped: the first bill settled with postpaid on bills it, a line per
	// meter dated with its day, at that day's list price.
	bill := func(m *billing.Meter, adjustment bool) {
		l := refBillLine(a, m, adjustment, b.PostpaidOn)
		b.Lines = append(b.Lines, l)
		m.Settled = refTally(m)
		if m.Key.Service == billing.ServiceBasic && l.Shortfall > 0 && !b.PostpaidOn {
			m.Unbilled += l.Shortfall
			if !slices.Contains(a.unbilled, m.Key) {
				a.unbilled = append(a.unbilled, m.Key)
			}
		}
	}
	for _, mv := range a.metersWhere(func(k billing.MeterKey) bool { return k.Day >= d && k.Day <= last }) {
		bill(a.base.meters[mv.Key], false)
	}
	late := slices.Clone(a.late)
	slices.SortFunc(late, refMeterKeyOrder)
	for _, k := range late {
		bill(a.base.meters[k], true)
	}
	if b.PostpaidOn {
		slices.SortFunc(a.unbilled, refMeterKeyOrder)
		for _, k := range a.unbilled {
			m := a.base.meters[k]
			l := billing.Line{Day: k.Day, Service: k.Service, Tier: k.Tier, App: k.App, Adjustment: true, Deferred: m.Unbilled, Billed: m.Unbilled,
				UnitPrice: refUnitPrice(a, k)}
			l.Amount = l.UnitPrice.Mul(decimal.NewFromInt(l.Billed))
			b.Lines = append(b.Lines, l)
			m.Unbilled = 0
		}
		a.unbilled = nil
	}
	for _, l := range b.Lines {
		b.Subtotal = b.Subtotal.Add(l.Amount)
	}
	b.Total = refRoundHalfUp(b.Subtotal)
	a.late = nil
	a.settledOnce = true
	a.refold()
	return b
}

// ---------------------------------------------------------------------------
// Operations. Each returns the result or the errors the docs allow (when a
// request breaks several rules the docs do not say which error wins, so any
// of them is accepted). On error the model changes nothing but forfeits.

func (md *refModel) open(now time.Time, spec billing.AccountSpec) (billing.Account, []error) {
	if a := md.accts[spec.ID]; a != nil {
		// The same spec: the same currency and choice, and the application
		// it names (if any) created.
		created := spec.App == "" || slices.ContainsFunc(a.apps, func(p refApp) bool { return p.id == spec.App })
		if a.spec.Currency != spec.Currency || a.spec.Postpaid != spec.Postpaid || !created {
			return billing.Account{}, []error{billing.ErrIdempotencyConflict}
		}
		return a.view(), nil
	}
	currency := spec.Currency
	if currency == "" {
		currency = "USD" // the currency of the first price book
	}
	fig := md.figuresFor(currency, now)
	if fig == nil {
		return billing.Account{}, []error{billing.ErrNoPriceBook}
	}
	day := md.cal.dayOf(now)
	a := &refAccount{
		cal: md.cal, fig: fig, currency: currency, spec: spec, id: spec.ID, opened: now,
		base: &refState{meters: map[billing.MeterKey]*billing.Meter{}, uncovered: map[refDayMeter]refUncovered{},
			apps: map[string]*refAppState{}},
		monthly:   now.Before(fig.monthlyCohortsUntil), // its cohort: the opening, or its first application's creation
		usages:    map[string]refUsageRecord{},
		purchases: map[string]refPurchaseRecord{}, bills: map[billing.Day]billing.Bill{},
		settledThrough: day - 1, frontier: billing.OpKey{At: now, Class: billing.ClassOpening},
	}
	if spec.Postpaid {
		a.base.postpaid = billing.Postpaid{On: true, Since: now, Way: billing.PostpaidAtOpening}
	}
	// The trial and the day's grant come with the first application (§2.1).
	if p, ok := refTrial(md.cal, fig, currency, now); ok && spec.App != "" {
		a.base.packages = append(a.base.packages, p)
	}
	if spec.App != "" {
		a.apps = append(a.apps, refApp{id: spec.App, created: now})
	}
	a.cur = a.base.clone()
	a.grant(now)
	md.accts[spec.ID] = a
	return a.view(), nil
}

// refSameUsage: the same usage, Service "" meaning basic and times compared
// as instants.
func refSameUsage(x, y billing.Usage) bool {
	norm := func(s billing.Service) billing.Service {
		if s == "" {
			return billing.ServiceBasic
		}
		return s
	}
	return x.ID == y.ID && x.Account == y.Account && x.App == y.App && norm(x.Service) == norm(y.Service) &&
		x.Scenario == y.Scenario && x.Tier == y.Tier && x.Seconds == y.Seconds && x.At.Equal(y.At)
}

// refUsageInputErrors: what is wrong with a usage as input (a is nil for an
// account that does not exist).
func refUsageInputErrors(a *refAccount, now time.Time, u billing.Usage, svc billing.Service) []error {
	var errs []error
	if u.App == "" {
		errs = append(errs, billing.ErrInvalidID)
	}
	if u.Seconds < 1 || u.Seconds > billing.MaxUsageSeconds {
		errs = append(errs, billing.ErrInvalidSeconds)
	}
	switch {
	case u.At.IsZero():
		errs = append(errs, billing.ErrInvalidTime)
	case u.At.After(now):
		errs = append(errs, billing.ErrFutureUsage)
	case a != nil && u.At.Before(a.opened):
		errs = append(errs, billing.ErrBeforeOpened)
	}
	if a != nil {
		switch _, ok := a.refAppAt(u.App, u.At); {
		case ok:
		case !slices.ContainsFunc(a.apps, func(p refApp) bool { return p.id == u.App }):
			errs = append(errs, billing.ErrUnknownApp)
		default:
			errs = append(errs, billing.ErrBeforeOpened)
		}
	}
	// The tiers the account's book prices for the service (any, if the
	// account is unknown).
	known := slices.Contains(refTierOrder, u.Tier)
	if a != nil {
		prices := a.fig.basic
		if svc != billing.ServiceBasic {
			prices = a.fig.valueAdded[svc]
		}
		_, known = prices[u.Tier]
	}
	if !known {
		errs = append(errs, billing.ErrUnknownTier)
	}
	var created time.Time // the application's creation, if it is known
	if a != nil {
		if ap, ok := a.refAppAt(u.App, u.At); ok {
			created = ap.created
		}
	}
	errs = append(errs, refServiceErrors(a, svc, created)...)
	if svc == billing.ServiceBasic {
		switch {
		case refAudioScenarios[u.Scenario]:
			if u.Tier != billing.TierAudio && known {
				errs = append(errs, billing.ErrTierNotInScenario)
			}
		case refVideoScenarios[u.Scenario]:
		default:
			errs = append(errs, billing.ErrUnknownScenario)
		}
	}
	return errs
}

// refServiceErrors: why account a's book does not price value-added
// service svc for an application created at created (zero if unknown):
// Era 1 recording is for accounts whose first application was created
// from 2020-07-01 and, on the China site, for applications created before
// 2022-07-20; the recording of 2022 (China site only) for the later ones.
func refServiceErrors(a *refAccount, svc billing.Service, created time.Time) []error {
	if a != nil && svc != billing.ServiceBasic {
		if _, ok := a.fig.valueAdded[svc]; !ok {
			return []error{billing.ErrUnknownService}
		}
	}
	cny := a != nil && a.currency == "CNY"
	switch svc {
	case billing.ServiceBasic, billing.ServiceMixTranscoding, billing.ServiceMixTranscodingH265:
	case billing.ServiceRecording:
		if a != nil && (a.cohort().Before(a.fig.recordingFrom) || cny && !created.IsZero() && !created.Before(refChina2022From)) {
			return []error{billing.ErrNoPriceBook}
		}
	case billing.ServiceRecordingSingle, billing.ServiceRecordingMixed:
		if cny && !created.IsZero() && created.Before(refChina2022From) {
			return []error{billing.ErrNoPriceBook}
		}
	default:
		return []error{billing.ErrUnknownService}
	}
	return nil
}

// refDisabledAt: the host had disabled the application at that time.
func refDisabledAt(app refApp, at time.Time) bool {
	for _, d := range app.disabled {
		if !at.Before(d.Since) && (d.Until.IsZero() || at.Before(d.Until)) {
			return true
		}
	}
	return false
}

// anyPostpaid: a switch of the account is on, its own or an application's:
// its bills bill its shortfall.
func (s *refState) anyPostpaid(a *refAccount) bool {
	if s.postpaid.On {
		return true
	}
	for _, p := range a.apps {
		if s.app(a, p.id).postpaid.On {
			return true
		}
	}
	return false
}

// refAdmit: a new session needs a basic service: the account not suspended
// at that time and able to pay for basic usage then. Value-added services
// get the same answer; the reason also wraps ErrNoBasicService for them when
// the account is suspended.
func refAdmit(a *refAccount, s *refState, app refApp, now, at time.Time, svc billing.Service) []error {
	st := s.app(a, app.id)
	switch {
	case refInArrears(a, at) && svc == billing.ServiceBasic:
		return []error{billing.ErrSuspended, billing.ErrInArrears}
	case refInArrears(a, at):
		return []error{billing.ErrSuspended, billing.ErrInArrears, billing.ErrNoBasicService}
	case refDisabledAt(app, at) && svc == billing.ServiceBasic:
		return []error{billing.ErrAppDisabled}
	case refDisabledAt(app, at):
		return []error{billing.ErrAppDisabled, billing.ErrNoBasicService}
	case refSuspendedAt(st, at) && svc == billing.ServiceBasic:
		return []error{billing.ErrSuspended}
	case refSuspendedAt(st, at):
		return []error{billing.ErrSuspended, billing.ErrNoBasicService}
	case !refHasBasicService(a, s, app.id, st, now, at):
		return []error{billing.ErrNoBasicService}
	}
	return nil
}

func (md *refModel) record(now time.Time, u billing.Usage) (billing.Receipt, []error) {
	svc := u.Service
	if svc == "" {
		svc = billing.ServiceBasic
	}
	a := md.accts[u.Account]
	a.grant(now)
	if a == nil {
		return billing.Receipt{}, append(refUsageInputErrors(nil, now, u, svc), billing.ErrNotFound)
	}
	refForfeitExpired(a, now)
	if r, ok := a.usages[u.ID]; ok {
		if refSameUsage(r.usage, u) {
			return r.receipt, nil
		}
		// Which error wins when the other request is also bad input is not
		// documented: either is accepted.
		return billing.Receipt{}, append(refUsageInputErrors(a, now, u, svc), billing.ErrIdempotencyConflict)
	}
	errs := refUsageInputErrors(a, now, u, svc)
	if len(errs) > 0 {
		return billing.Receipt{}, errs
	}
	u.Service = svc
	o := refOp{key: billing.OpKey{At: u.At, Class: billing.ClassUsage, ID: u.ID}, usage: &u}
	var rc billing.Receipt
	if md.cal.dayOf(u.At) <= a.settledThrough {
		// Usage of a settled day: sequenced at the start of the first
		// unsettled day, before its operations, among such usage by time,
		// then id, and billed as an adjustment.
		o.key = a.refPeriodStart()
		a.ops = append(a.ops, o)
		a.cur, rc, _ = a.refFold(now, nil, &o)
		rc.Late = true
	} else {
		late := o.key.Compare(a.frontier) <= 0
		a.ops = append(a.ops, o)
		var cur *refState
		cur, rc, _ = a.refFold(now, nil, &o)
		a.cur = cur
		rc.Late = late
		a.frontier = refMaxKey(a.frontier, o.key)
	}
	refNoteLate(a, rc.Key)
	rc.InArrears = refInArrears(a, u.At)
	a.usages[u.ID] = refUsageRecord{usage: u, receipt: rc}
	return rc, nil
}

// refund: the China site's rules (§2.7). The refund takes effect at the
// start of the first unsettled day, before the usages of settled days
// sequenced there; it is worked out from the package's balance then, which
// is base's, and it empties the package. The account's first refund within
// 5 days of the purchase (its day the first) pays back the price; any other
// the price less consumed × the unit price of the consumed minutes' band ×
// the discount, rounded half up to 2 decimals, never below zero.
func (md *refModel) refund(now time.Time, r billing.Refund) (billing.PackageRefund, []error) {
	discount := r.Discount
	if discount.IsZero() {
		discount = refDec("1")
	}
	switch {
	case r.ID == "" || r.Package == "":
		return billing.PackageRefund{}, []error{billing.ErrInvalidID}
	case !discount.IsPositive() || discount.GreaterThan(refDec("1")) || !discount.Equal(discount.Truncate(8)):
		return billing.PackageRefund{}, []error{billing.ErrInvalidDiscount}
	}
	a := md.accts[r.Account]
	a.grant(now)
	if a == nil {
		return billing.PackageRefund{}, []error{billing.ErrNotFound}
	}
	refForfeitExpired(a, now)
	for _, f := range a.refunds {
		switch {
		case f.ID == r.ID && f.Package == r.Package && f.Discount.Equal(discount):
			return f, nil
		case f.ID == r.ID:
			return billing.PackageRefund{}, []error{billing.ErrIdempotencyConflict}
		case f.Package == r.Package:
			return billing.PackageRefund{}, []error{billing.ErrNotRefundable}
		}
	}
	// The package as it stood at the start of the first unsettled day.
	var p *refPackage
	for _, q := range a.base.packages {
		if q.ID == r.Package {
			p = q
		}
	}
	at := md.cal.dayStart(a.settledThrough + 1)
	pr, bought := a.purchases[r.Package]
	switch {
	case !bought && !slices.ContainsFunc(a.cur.packages, func(q *refPackage) bool { return q.ID == r.Package }): // no trial, no grant of that id
		return billing.PackageRefund{}, []error{billing.ErrNotFound}
	case p == nil && bought && a.fig.kinds[pr.purchase.Kind].refundable: // bought since the first unsettled day began
		return billing.PackageRefund{}, []error{billing.ErrNotYetRefundable}
	case p == nil:
		return billing.PackageRefund{}, []error{billing.ErrNotRefundable}
	case !bought || !p.kind.refundable || !p.PurchasedAt.Before(at) || !refEnd(a, p).After(at) || p.Balance <= 0:
		return billing.PackageRefund{}, []error{billing.ErrNotRefundable}
	}
	f := billing.PackageRefund{ID: r.ID, Package: p.ID, At: at, Minutes: p.Balance, Consumed: p.Minutes - p.Balance,
		UnitPrice: decimal.Zero, Discount: discount, Used: decimal.Zero, Amount: p.Price}
	f.Full = md.cal.dayOf(now) < md.cal.dayOf(p.PurchasedAt)+5
	for _, g := range a.refunds {
		f.Full = f.Full && !g.Full
	}
	if !f.Full {
		for _, b := range p.kind.bands {
			if b.from <= f.Consumed {
				f.UnitPrice = b.perMinute
			}
		}
		f.Used = refRoundHalfUp(decimal.NewFromInt(f.Consumed).Mul(f.UnitPrice).Mul(discount))
		f.Amount = decimal.Max(p.Price.Sub(f.Used), decimal.Zero)
	}
	a.refunds = append(a.refunds, f)
	a.ops = append(a.ops, refOp{key: billing.OpKey{At: at, Class: billing.ClassRefund, ID: r.ID}, refund: p.ID})
	a.refold()
	return f, nil
}

// reportOverdue: a reference reported before changes nothing; another joins
// the unpaid arrears, or opens new ones at now.
func (md *refModel) reportOverdue(now time.Time, id, ref string) (billing.Account, []error) {
	a := md.accts[id]
	a.grant(now)
	if a == nil {
		return billing.Account{}, []error{billing.ErrNotFound}
	}
	refForfeitExpired(a, now)
	for _, ar := range a.arrears {
		if slices.Contains(ar.Refs, ref) {
			return a.view(), nil
		}
	}
	if n := len(a.arrears); n > 0 && a.arrears[n-1].Paid.IsZero() {
		a.arrears[n-1].Refs = append(a.arrears[n-1].Refs, ref)
	} else {
		// Reclaimed at the start of the first day that begins once the
		// suspension has lasted 60 days.
		x := now.Add(refArrearsGrace + refArrearsReclaim)
		a.arrears = append(a.arrears, billing.Arrears{Refs: []string{ref}, Since: now, Reclaim: md.cal.dayStart(md.cal.dayOf(x.Add(-time.Nanosecond)) + 1)})
	}
	return a.view(), nil
}

// reportPaid: the arrears holding ref are paid at now (if not already);
// an unknown reference is ErrNotFound.
func (md *refModel) reportPaid(now time.Time, id, ref string) (billing.Account, []error) {
	a := md.accts[id]
	a.grant(now)
	if a == nil {
		return billing.Account{}, []error{billing.ErrNotFound}
	}
	refForfeitExpired(a, now)
	for i := range a.arrears {
		if slices.Contains(a.arrears[i].Refs, ref) {
			if a.arrears[i].Paid.IsZero() {
				a.arrears[i].Paid = now
			}
			return a.view(), nil
		}
	}
	return billing.Account{}, []error{billing.ErrNotFound}
}

func refMaxKey(x, y billing.OpKey) billing.OpKey {
	if x.Compare(y) >= 0 {
		return x
	}
	return y
}

// admit: Admit's answer, or the errors it may return.
func (md *refModel) admit(now time.Time, account, app string, svc billing.Service, at time.Time) (billing.Admission, []error) {
	a := md.accts[account]
	a.grant(now)
	var ap refApp
	var ok bool
	if a != nil {
		ap, ok = a.refAppAt(app, at)
	}
	switch {
	case a == nil:
		return billing.Admission{}, []error{billing.ErrNotFound}
	case at.Before(a.opened):
		return billing.Admission{}, []error{billing.ErrBeforeOpened}
	case !ok && slices.ContainsFunc(a.apps, func(p refApp) bool { return p.id == app }):
		return billing.Admission{}, []error{billing.ErrBeforeOpened}
	case !ok:
		return billing.Admission{}, []error{billing.ErrUnknownApp}
	case svc != "" && refServiceErrors(a, svc, ap.created) != nil:
		return billing.Admission{}, refServiceErrors(a, svc, ap.created)
	}
	if svc == "" {
		svc = billing.ServiceBasic
	}
	why := refAdmit(a, a.cur, ap, now, at, svc)
	return billing.Admission{Admitted: why == nil, Reason: errors.Join(why...)}, nil
}

func (md *refModel) buy(now time.Time, p billing.Purchase) (billing.PurchaseReceipt, []error) {
	a := md.accts[p.Account]
	a.grant(now)
	var errs []error
	if a == nil {
		errs = append(errs, billing.ErrNotFound)
	} else {
		refForfeitExpired(a, now)
	}
	if p.ID == billing.TrialID {
		errs = append(errs, billing.ErrInvalidID)
	}
	if r, ok := a.purchaseOf(p.ID); ok {
		if r.purchase.Kind == p.Kind && r.purchase.Minutes == p.Minutes && r.purchase.App == p.App {
			return r.receipt, nil
		}
		errs = append(errs, billing.ErrIdempotencyConflict)
	}
	var k *refKind
	if a != nil {
		k = a.fig.kinds[p.Kind]
	}
	switch {
	case k == nil || k.unit == 0:
		errs = append(errs, billing.ErrUnknownKind)
	case p.Minutes <= 0 || p.Minutes%k.unit != 0 || p.Minutes > billing.MaxPackageMinutes:
		errs = append(errs, billing.ErrInvalidMinutes)
	}
	if k != nil && a != nil {
		errs = append(errs, refScopeErrors(a, k, p, now)...)
	}
	if len(errs) > 0 || a == nil {
		return billing.PurchaseReceipt{}, errs
	}
	day := md.cal.dayOf(now)
	pkg := &refPackage{kind: k, Package: billing.Package{
		ID: p.ID, Kind: p.Kind, Book: a.fig.bookID, Minutes: p.Minutes, Balance: p.Minutes, Currency: a.currency,
		Price: refPackagePrice(k, p.Minutes), PurchasedAt: now, Start: md.cal.dayStart(day), End: md.cal.validityEnd(day, k),
		App: p.App, First: k.first,
	}}
	o := refOp{key: billing.OpKey{At: now, Class: billing.ClassCall, ID: p.ID}, pkg: pkg}
	a.ops = append(a.ops, o)
	var rc billing.PurchaseReceipt
	a.cur, _, rc = a.refFold(now, nil, &o)
	a.frontier = refMaxKey(a.frontier, o.key)
	a.purchases[p.ID] = refPurchaseRecord{purchase: p, receipt: rc}
	return rc, nil
}

// refScopeErrors: a purchase of a kind bound to an application names one of
// the account's; of another kind, none; of a kind that does not stack,
// none of it for the same application is in its validity today (refunded
// ones aside).
func refScopeErrors(a *refAccount, k *refKind, p billing.Purchase, now time.Time) []error {
	var errs []error
	switch {
	case !k.bound && p.App != "":
		errs = append(errs, billing.ErrInvalidID)
	case k.bound && !slices.ContainsFunc(a.apps, func(ap refApp) bool { return ap.id == p.App }):
		errs = append(errs, billing.ErrUnknownApp)
	}
	if k.noStack {
		today := a.cal.dayStart(a.cal.dayOf(now))
		for _, q := range a.cur.packages {
			refunded := slices.ContainsFunc(a.refunds, func(f billing.PackageRefund) bool { return f.Package == q.ID })
			if q.Kind == p.Kind && q.App == p.App && refEnd(a, q).After(today) && !refunded {
				errs = append(errs, billing.ErrNotStackable)
				break
			}
		}
	}
	return errs
}

func (md *refModel) enablePostpaid(now time.Time, id, app string) (billing.Account, []error) {
	a := md.accts[id]
	a.grant(now)
	if a == nil {
		return billing.Account{}, []error{billing.ErrNotFound}
	}
	at := &a.enabledAt
	if app != "" {
		i := slices.IndexFunc(a.apps, func(p refApp) bool { return p.id == app })
		if i < 0 {
			return billing.Account{}, []error{billing.ErrUnknownApp}
		}
		at = &a.apps[i].enabledAt
	}
	refForfeitExpired(a, now)
	if at.IsZero() {
		*at = now
		o := refOp{key: billing.OpKey{At: now, Class: billing.ClassCall}, enable: true, app: app}
		a.ops = append(a.ops, o)
		a.refold()
		a.frontier = refMaxKey(a.frontier, o.key)
	}
	return a.view(), nil
}

// createApp: an application created at now, its switch on if chosen or if
// the account's is on.
func (md *refModel) createApp(now time.Time, id string, spec billing.AppSpec) (billing.Account, []error) {
	a := md.accts[id]
	a.grant(now)
	if a == nil {
		return billing.Account{}, []error{billing.ErrNotFound}
	}
	if i := slices.IndexFunc(a.apps, func(p refApp) bool { return p.id == spec.ID }); i >= 0 {
		// The same spec: the same choice at creation, which only the
		// application's own way says.
		if (a.cur.app(a, spec.ID).postpaid.Way == billing.PostpaidAtCreation) != spec.Postpaid {
			return billing.Account{}, []error{billing.ErrIdempotencyConflict}
		}
		return a.view(), nil
	}
	first := len(a.apps) == 0
	if first { // the account's cohort, and so its book and cycle
		a.fig = md.figuresFor(a.currency, now)
		a.monthly = now.Before(a.fig.monthlyCohortsUntil)
	}
	a.apps = append(a.apps, refApp{id: spec.ID, created: now, own: spec.Postpaid})
	if first { // what an opening with an application gives: the trial, the day's grant
		have := func(id string) bool {
			return slices.ContainsFunc(a.cur.packages, func(p *refPackage) bool { return p.ID == id })
		}
		if o, ok := a.grantOf(md.cal.dayOf(now)); ok && !have(o.pkg.ID) {
			a.ops = append(a.ops, o)
			a.frontier = refMaxKey(a.frontier, o.key)
		}
		if p, ok := refTrial(md.cal, a.fig, a.currency, now); ok && !have(p.ID) {
			o := refOp{key: billing.OpKey{At: now, Class: billing.ClassOpening, ID: p.ID}, pkg: p}
			a.ops = append(a.ops, o)
			a.frontier = refMaxKey(a.frontier, o.key)
		}
	}
	a.refold()
	return a.view(), nil
}

// toggleApp: the host disables (or enables again) an application at now.
func (md *refModel) toggleApp(now time.Time, id, app string, disable bool) (billing.Account, []error) {
	a := md.accts[id]
	a.grant(now)
	if a == nil {
		return billing.Account{}, []error{billing.ErrNotFound}
	}
	i := slices.IndexFunc(a.apps, func(p refApp) bool { return p.id == app })
	if i < 0 {
		return billing.Account{}, []error{billing.ErrUnknownApp}
	}
	p := &a.apps[i]
	open := len(p.disabled) > 0 && p.disabled[len(p.disabled)-1].Until.IsZero()
	switch {
	case disable && !open:
		p.disabled = append(p.disabled, billing.Interval{Since: now})
	case !disable && open:
		p.disabled[len(p.disabled)-1].Until = now
	}
	return a.view(), nil
}

func (md *refModel) dueDays(at time.Time, id string) ([]billing.Day, []error) {
	a := md.accts[id]
	if a == nil {
		return nil, []error{billing.ErrNotFound}
	}
	var due []billing.Day
	for _, d := range a.days() {
		first, last := a.refPeriod(d)
		if d > a.settledThrough && md.cal.dayDue(last, at) && !slices.Contains(due, first) {
			due = append(due, first)
		}
	}
	if len(due) == 0 && len(a.late) > 0 {
		// The latest due period that is not closed carries the adjustments.
		for d := md.cal.dayOf(at.Add(-refDueAfter)) - 1; d > a.settledThrough; d-- {
			if first, last := a.refPeriod(d); md.cal.dayDue(last, at) {
				due = append(due, first)
				break
			}
		}
	}
	return due, nil
}

func (md *refModel) settle(now time.Time, id string, d billing.Day) (billing.Bill, []error) {
	a := md.accts[id]
	a.grant(now)
	if a == nil {
		return billing.Bill{}, []error{billing.ErrNotFound}
	}
	for _, b := range a.bills { // the bill of the period that holds d, whatever the cycle now
		if b.Day <= d && d <= b.Through {
			refForfeitExpired(a, now)
			return b, nil
		}
	}
	d, last := a.refPeriod(d)
	var errs []error
	if !md.cal.dayEnded(last, now) {
		errs = append(errs, billing.ErrDayNotEnded)
	}
	if d <= a.settledThrough {
		errs = append(errs, billing.ErrDayClosed)
	} else {
		for _, e := range a.days() {
			if e > a.settledThrough && e < d {
				errs = append(errs, billing.ErrSettleOrder)
				break
			}
		}
	}
	if len(errs) > 0 {
		return billing.Bill{}, errs
	}
	// Close the days up to the period's last: base becomes the state at
	// the start of the next, the operations before it leave the log.
	next := billing.OpKey{At: md.cal.dayStart(last + 1), Class: billing.ClassCheckpoint}
	a.base, _, _ = a.refFold(now, &next, nil)
	a.ops = slices.DeleteFunc(a.ops, func(o refOp) bool { return o.key.Compare(next) < 0 })
	a.settledThrough = last
	a.refold()
	b := refIssueBill(a, d, last, now)
	a.bills[d] = b
	refForfeitExpired(a, now)
	return b, nil
}

// overview is what Engine.Overview shows (after forfeiting).
func (md *refModel) overview(now time.Time, id string) (billing.Overview, []error) {
	a := md.accts[id]
	a.grant(now)
	if a == nil {
		return billing.Overview{}, []error{billing.ErrNotFound}
	}
	refForfeitExpired(a, now)
	today := md.cal.dayOf(now)
	// The meters today's usage goes to: its window's basic meters, its own value-added ones.
	meters := a.metersWhere(func(k billing.MeterKey) bool { return k.Day == a.refMeterDay(k.Service, today) })
	return billing.Overview{Account: a.view(), Packages: a.packageViews(), Today: today, Meters: meters}, nil
}

func (md *refModel) billsOf(id string) []billing.Bill {
	a := md.accts[id]
	var out []billing.Bill
	for _, b := range a.bills {
		out = append(out, b)
	}
	slices.SortFunc(out, func(x, y billing.Bill) int { return cmp.Compare(x.Day, y.Day) })
	return out
}

// statement: the bills of the days of one month, their rows and the sums
// of their subtotals and totals.
func (md *refModel) statement(id string, y int, m time.Month) billing.Statement {
	st := billing.Statement{Account: id, Year: y, Month: m, Currency: md.accts[id].currency, Total: decimal.Zero}
	for _, b := range md.billsOf(id) {
		if by, bm, _ := refDate(b.Day); by == y && bm == m {
			st.Bills = append(st.Bills, b)
			st.Total = st.Total.Add(b.Total)
		}
	}
	st.Rows, st.Subtotal = refStatementRows(st.Bills)
	return st
}
