package billing

import (
	"time"

	"github.com/shopspring/decimal"
)

// Era1USD returns the Era 1 price book of the international site, in USD: the
// prices of Tencent Cloud TRTC from 2019-10-11 (the seed document's era),
// with cloud recording (billed for accounts whose first application was
// created from 2020-07-01) and MixTranscoding (per-minute prices to 8
// decimals, billed from 2020-11-01, and from 2020-12-01 for older
// accounts), and the monthly billing cycle for
// accounts whose first application was created before 2020-09-01. It
// prices every account (the seed's era, the default); [AllEras] limits it
// to the accounts whose first application was created before 2021-10-27
// and prices the later ones by [Era2USD]. It stays in force (Until is
// zero) until a later book of the same currency is configured in its place.
func Era1USD() PriceBook {
	return PriceBook{
		ID:        "era1-usd",
		Currency:  "USD",
		Decimals:  2,
		From:      era1Start(),
		Tiering:   PerStream,
		Tiers:     era1Tiers("0.99", "1.99", "3.99", "14.99"),
		Scenarios: era1Scenarios(),
		Kinds: []PackageKind{
			era1Trial(),
			era1Universal(usdUniversalPricing()),
		},
		Trial: Grant{Kind: KindTrial, Minutes: 10_000},
		// Monthly postpaid for accounts whose first application was
		// created on or before 2020-08-31 (domain reference §1.5).
		MonthlyCohortsUntil: era1DailyCohorts(),
		ValueAdded: []ValueAddedService{
			era1Recording("0.499", "0.99", "1.99", "7.499"),
			era1MixTranscoding(time.Date(2020, 12, 1, 0, 0, 0, 0, utc8),
				dec("0.000799"), dec("0.00228571"), dec("0.00464286"), dec("0.00899")),
		},
	}
}

// usdUniversalPricing is the universal package's price list of the
// international site, Era 1's and Era 2's (domain reference §2.2).
func usdUniversalPricing() Pricing {
	return Pricing{
		Unit: 1000,
		Offers: []Offer{
			{25_000, dec("24")},
			{250_000, dec("227")},
			{1_000_000, dec("856")},
			{3_000_000, dec("2416")},
		},
		Bands: []Band{
			{0, perThousand("0.99")},
			{25_000, perThousand("0.960")},
			{250_000, perThousand("0.908")},
			{1_000_000, perThousand("0.856")},
			{3_000_000, perThousand("0.805")},
		},
	}
}

// Era1CNY returns the Era 1 price book of the China site, in CNY (yuan), with
// the same tiers, ratios, validity, cycles and service dates as [Era1USD], except
// that MixTranscoding is billed for older accounts from 2020-12-08, and that
// the cloud recording of applications created from 2022-07-20 is billed per
// input stream, single-stream ([ServiceRecordingSingle]) or mixed
// ([ServiceRecordingMixed]), up to 4K ([ServiceRecording] is for earlier
// applications). Custom package sizes use the per-minute prices to 8
// decimals of the refund document.
func Era1CNY() PriceBook {
	return PriceBook{
		ID:        "era1-cny",
		Currency:  "CNY",
		Decimals:  2,
		From:      era1Start(),
		Tiering:   PerStream,
		Tiers:     era1Tiers("7.00", "14.00", "28.00", "105.00"),
		Scenarios: era1Scenarios(),
		Kinds: []PackageKind{
			era1Trial(),
			refundable(era1Universal(Pricing{
				Unit: 1000,
				Offers: []Offer{
					{25_000, dec("168.00")},
					{250_000, dec("1588.00")},
					{1_000_000, dec("5968.00")},
					{3_000_000, dec("16888.00")},
				},
				Bands: []Band{
					{0, dec("0.00700000")},
					{25_000, dec("0.00672000")},
					{250_000, dec("0.00635200")},
					{1_000_000, dec("0.00596800")},
					{3_000_000, dec("0.00562934")},
				},
			})),
		},
		Trial: Grant{Kind: KindTrial, Minutes: 10_000},
		// Monthly postpaid for accounts whose first application was
		// created on or before 2020-08-31 (domain reference §1.5).
		MonthlyCohortsUntil: era1DailyCohorts(),
		ValueAdded: []ValueAddedService{
			beforeChina2022(era1Recording("3.50", "7.00", "14.00", "52.50")),
			era1MixTranscoding(time.Date(2020, 12, 8, 0, 0, 0, 0, utc8),
				perThousand("5.6"), perThousand("16"), perThousand("32.5"), perThousand("63")),
			china2022Recording(ServiceRecordingSingle, "3.5", "7", "14", "31", "56", "97"),
			china2022Recording(ServiceRecordingMixed, "9", "19", "35", "79", "138", "323"),
		},
	}
}

// The package kinds of the Era 1 books.
const (
	KindTrial     = "trial"     // granted at opening: 10,000 minutes, ratio 1 for every tier
	KindUniversal = "universal" // bought: ratios audio 1, SD 2, HD 4, FHD 15
)

// era1Start is 2019-10-11 00:00 in UTC+8, when the Era 1 rules took effect.
func era1Start() time.Time { return time.Date(2019, 10, 11, 0, 0, 0, 0, utc8) }

// era1DailyCohorts is the first instant of the accounts Era 1 settles
// daily: 2020-09-01 in UTC+8 (§1.5: "accounts that created their first TRTC
// application on or after 2020-09-01"; earlier ones are settled monthly).
func era1DailyCohorts() time.Time { return time.Date(2020, 9, 1, 0, 0, 0, 0, utc8) }

// era1Tiers is the Era 1 tier table at the given prices per 1,000 minutes.
func era1Tiers(audio, sd, hd, fhd string) []TierSpec {
	return era1Table(perThousand(audio), perThousand(sd), perThousand(hd), perThousand(fhd))
}

// era1Table is the Era 1 tier table at the given prices per minute: audio,
// SD up to 640 × 480, HD up to 1280 × 720, FHD above (domain reference
// §1.2 for basic services; §4.2 and §4.3 give recording's and
// MixTranscoding's output tiers the same bounds).
func era1Table(audio, sd, hd, fhd decimal.Decimal) []TierSpec {
	return []TierSpec{
		{Tier: TierAudio, Price: audio},
		{Tier: TierSD, Video: true, MaxArea: 640 * 480, Price: sd},
		{Tier: TierHD, Video: true, MaxArea: 1280 * 720, Price: hd},
		{Tier: TierFHD, Video: true, Price: fhd},
	}
}

func era1Scenarios() []ScenarioSpec {
	return []ScenarioSpec{
		{Scenario: AudioLive},
		{Scenario: VideoLive, Video: true},
		{Scenario: AudioCall},
		{Scenario: VideoCall, Video: true},
	}
}

func era1Trial() PackageKind {
	return PackageKind{
		Name:     KindTrial,
		Ratios:   []Ratio{{Tier: TierAudio, Minutes: 1}, {Tier: TierSD, Minutes: 1}, {Tier: TierHD, Minutes: 1}, {Tier: TierFHD, Minutes: 1}},
		Validity: Validity{Months: 12, ToMonthEnd: true},
	}
}

func era1Universal(p Pricing) PackageKind {
	return PackageKind{
		Name:         KindUniversal,
		Ratios:       []Ratio{{Tier: TierAudio, Minutes: 1}, {Tier: TierSD, Minutes: 2}, {Tier: TierHD, Minutes: 4}, {Tier: TierFHD, Minutes: 15}},
		Validity:     Validity{Months: 12, ToMonthEnd: true},
		AutoPostpaid: true,
		Pricing:      p,
	}
}

// refundable returns k, refundable: the China site publishes the refund
// rules of TRTC's packages (退费说明, domain reference §2.7), at the unit
// prices of its bands; the international site publishes none.
func refundable(k PackageKind) PackageKind {
	k.Refundable = true
	return k
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// perThousand turns a price per 1,000 minutes into a price per minute, exactly.
func perThousand(s string) decimal.Decimal { return dec(s).Shift(-3) }

// era1Recording is Era 1 on-cloud recording: billed by TRTC for accounts
// whose first application dates from 2020-07-01 on; older accounts were
// billed under CSS recording rules, which no book here prices. Each output
// file is billed by its own resolution (domain reference §4.2).
func era1Recording(audio, sd, hd, fhd string) ValueAddedService {
	return ValueAddedService{
		Service: ServiceRecording,
		Tiering: PerStream,
		Tiers:   era1Tiers(audio, sd, hd, fhd),
		From:    time.Date(2020, 7, 1, 0, 0, 0, 0, utc8),
	}
}

// china2022From is when the China site's recording model of 2022 begins:
// applications created before 2022-07-20 keep Era 1's (domain reference
// §4.2; 云端录制费用说明（新）: "在2022年7月20日之前已创建的应用依然沿用之前的云端录制技术和费用").
func china2022From() time.Time { return time.Date(2022, 7, 20, 0, 0, 0, 0, utc8) }

// beforeChina2022 limits v to the applications created before the China
// site's recording model of 2022.
func beforeChina2022(v ValueAddedService) ValueAddedService {
	v.AppsUntil = china2022From()
	return v
}

// china2022Recording is the China site's cloud recording for applications
// created from 2022-07-20 (云端录制费用说明（新）, domain reference §4.2), in
// yuan per 1,000 minutes: each input stream the recording service receives
// is billed by its own area (SD to 640 × 480, HD to 1280 × 720, FHD to
// 1920 × 1080, 2K to 2560 × 1440, 4K to 4096 × 2176, bounds included), at
// the single-stream or the mixed prices; daily cumulative seconds are
// rounded up to minutes. The document names no first account cohort: every
// account's new applications are billed so.
func china2022Recording(s Service, audio, sd, hd, fhd, k2, k4 string) ValueAddedService {
	return ValueAddedService{
		Service: s,
		Tiering: PerStream,
		Tiers: []TierSpec{
			{Tier: TierAudio, Price: perThousand(audio)},
			{Tier: TierSD, Video: true, MaxArea: 640 * 480, Price: perThousand(sd)},
			{Tier: TierHD, Video: true, MaxArea: 1280 * 720, Price: perThousand(hd)},
			{Tier: TierFHD, Video: true, MaxArea: 1920 * 1080, Price: perThousand(fhd)},
			{Tier: Tier2K, Video: true, MaxArea: 2560 * 1440, Price: perThousand(k2)},
			{Tier: Tier4K, Video: true, MaxArea: 4096 * 2176, Price: perThousand(k4)},
		},
		AppsFrom: china2022From(),
	}
}

// era1MixTranscoding is Era 1 On-Cloud MixTranscoding: billed from
// 2020-11-01, and for older accounts from earlier (2020-12-01 on the
// international site, 2020-12-08 on the China site). Each output stream is
// billed by its own resolution (domain reference §4.3).
func era1MixTranscoding(earlier time.Time, audio, sd, hd, fhd decimal.Decimal) ValueAddedService {
	return ValueAddedService{
		Service:             ServiceMixTranscoding,
		Tiering:             PerStream,
		Tiers:               era1Table(audio, sd, hd, fhd),
		From:                time.Date(2020, 11, 1, 0, 0, 0, 0, utc8),
		EarlierAccountsFrom: earlier,
	}
}
