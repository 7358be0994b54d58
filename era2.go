package billing

import "time"

// Era2USD returns the Era 2 price book of the international site, in USD,
// for the accounts whose first application was created on or after
// 2021-10-27 (CohortFrom), as Tencent's documents of 2021-10 state its
// rules. It is in force from Era 1's start (2019-10-11), so that it also
// prices the days of such an account opened earlier without an
// application; [AllEras] configures it beside Era 1's books. The rules (domain reference §1, §2.1, §2.3, §4.2; every figure and its
// source in docs/research/era2-era3.md §1a, §2 v1, §3 and §4a):
//
//   - Basic services are tiered by aggregate resolution, the sum of the
//     areas of everything a user receives (Aggregate): SD to 640 × 480, HD
//     to 1280 × 720, FHD above, without an upper bound; list prices 0.99,
//     1.99, 3.99 and 14.99 USD per 1,000 minutes, as Era 1's.
//   - Every account gets 10,000 free minutes each month ([KindFree], the
//     book's Monthly grant, on the first of each month and on the
//     opening's day), which expire at the month's end. They cover basic
//     services, cloud recording and MixTranscoding, a minute for a minute
//     in every tier. There is no trial besides them.
//   - The universal package is Era 1's: ratios 1, 2, 4 and 15, the same
//     sizes and prices, valid to the end of the same month next year.
//   - Cloud recording is tiered by the aggregate resolution of the
//     recording task: audio 1.49, HD (to 1280 × 720) 5.99, FHD (to
//     1920 × 1080) 13.49, 2K (to 2560 × 1440) 23.99 and 2K+ (to
//     4096 × 2160, the top bound) 53.99 USD per 1,000 minutes.
//   - MixTranscoding keeps Era 1's prices, by output stream.
//
// Decisions where the documents disagree or are silent:
//
//   - The documents of 2021-10 round and bill the month; Era 1's daily
//     settlement for accounts from 2020-09-01 on, the package FAQ's daily
//     rounding and the later text of the same page ("Daily
//     pay-as-you-go") say daily. Era 2 accounts are on the daily cycle.
//   - The 2022 versions (HD/FHD/2K/4K tiers at 3.99, 8.99, 15.99 and 35.99;
//     free minutes without MixTranscoding, later at ratios 1 to 36 and per
//     cycle from the grant date; MixTranscoding billed on its input, by
//     codec, from 2022-06-01) are not built: no source dates the switch of
//     the basic tiers. A host that bills them configures a book of its
//     own from the date it knows, ending this one with Until.
//   - No CNY Era 2 book is published: the China site's accounts stay on
//     [Era1CNY].
//   - MixTranscoding keeps Era 1's per-minute prices, SD 0.00228571
//     (2.286 per 1,000 minutes); the Era 2 period's document prints 2.296,
//     an apparent typo (docs/research/era2-era3.md §4b).
func Era2USD() PriceBook {
	return PriceBook{
		ID:         "era2-usd",
		Currency:   "USD",
		Decimals:   2,
		From:       era1Start(),
		CohortFrom: era2Start(),
		Tiering:    Aggregate,
		Tiers:      era1Tiers("0.99", "1.99", "3.99", "14.99"),
		Scenarios:  era1Scenarios(),
		Kinds:      []PackageKind{era2Free(), era1Universal(usdUniversalPricing())},
		Monthly:    Recurring{Kind: KindFree, Minutes: 10_000},
		ValueAdded: []ValueAddedService{
			era2Recording(),
			era1MixTranscoding(time.Date(2020, 12, 1, 0, 0, 0, 0, utc8),
				dec("0.000799"), dec("0.00228571"), dec("0.00464286"), dec("0.00899")),
		},
	}
}

// AllEras returns the built-in books that bill each account by the era of
// its cohort, side by side in one Engine: Era1USD for the accounts whose
// first application was created before 2021-10-27 (2021-10-27 00:00 UTC+8),
// Era2USD for the later ones, and Era1CNY (the China site published no
// Era 2). Give them as Options.PriceBooks; the default books bill every
// account by Era 1.
func AllEras() []PriceBook {
	era1 := Era1USD()
	era1.CohortUntil = era2Start()
	return []PriceBook{era1, Era2USD(), Era1CNY()}
}

// KindFree is the kind of Era 2's monthly free minutes.
const KindFree = "free"

// era2Start is 2021-10-27 00:00 in UTC+8: accounts whose first application
// was created from then on are billed by Era 2's rules.
func era2Start() time.Time { return time.Date(2021, 10, 27, 0, 0, 0, 0, utc8) }

// era2Free is Era 2's monthly free minutes (domain reference §2.1, §2.6;
// free minutes v1): a minute for a minute of the basic services, cloud
// recording and MixTranscoding, in every tier. Granted each month, they
// last to the next grant (the Validity of a recurring kind is unused).
func era2Free() PackageKind {
	one := func(s Service, tiers ...Tier) []Ratio {
		var rs []Ratio
		for _, t := range tiers {
			rs = append(rs, Ratio{Tier: t, Minutes: 1, Service: s})
		}
		return rs
	}
	era1 := []Tier{TierAudio, TierSD, TierHD, TierFHD}
	ratios := one(ServiceBasic, era1...)
	ratios = append(ratios, one(ServiceRecording, TierAudio, TierHD, TierFHD, Tier2K, Tier2KPlus)...)
	ratios = append(ratios, one(ServiceMixTranscoding, era1...)...)
	return PackageKind{Name: KindFree, Ratios: ratios}
}

// era2Recording is Era 2's cloud recording (domain reference §4.2),
// tiered by the aggregate resolution of the recording task, in USD per
// 1,000 minutes.
func era2Recording() ValueAddedService {
	return ValueAddedService{
		Service: ServiceRecording,
		Tiering: Aggregate,
		Tiers: []TierSpec{
			{Tier: TierAudio, Price: perThousand("1.49")},
			{Tier: TierHD, Video: true, MaxArea: 1280 * 720, Price: perThousand("5.99")},
			{Tier: TierFHD, Video: true, MaxArea: 1920 * 1080, Price: perThousand("13.49")},
			{Tier: Tier2K, Video: true, MaxArea: 2560 * 1440, Price: perThousand("23.99")},
			{Tier: Tier2KPlus, Video: true, MaxArea: 4096 * 2160, Price: perThousand("53.99")},
		},
	}
}
