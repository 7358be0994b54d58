package billing

// Era3USD returns the Era 3 price book of the international site
// (trtc.io, 2024–2025), in USD, as Tencent's current documents state its
// rules (domain reference §1.3–1.5, §2.3–2.6; every figure and its source
// in docs/research/era2-era3.md §6):
//
//   - Basic services are tiered by aggregate resolution (Aggregate): HD to
//     1280 × 720, FHD to 1920 × 1080, 2K to 2560 × 1440 and 4K to
//     4096 × 2160, the top bound (a larger area has no tier); list prices
//     audio 0.99, HD 3.99, FHD 8.99, 2K 15.99 and 4K 35.99 USD per 1,000
//     minutes.
//   - Each application's usage of a day is rounded on its own (PerApp):
//     "Durations for each day are calculated in seconds for each
//     application (SDKAppID) and then converted to minutes". Accounts are
//     on the daily cycle ("Daily pay-as-you-go").
//   - The free trial is 10,000 minutes a month for 12 months from the
//     first application ([KindFree], the book's Monthly grant, on the day
//     of the month of the first application), each month's expiring at the
//     next grant. They are drawn before any other package (First) and
//     cover basic services, cloud recording and MixTranscoding.
//   - Packages deduct audio, HD, FHD, 2K and 4K minutes at 1:1, 1:4, 1:9,
//     1:16 and 1:36 ([Era3Ratios]).
//   - Cloud recording is Era 2's: tiered by the aggregate resolution of
//     the recording task, audio 1.49, HD 5.99, FHD 13.49, 2K 23.99 and 2K+
//     (to 4096 × 2160) 53.99 USD per 1,000 minutes.
//   - MixTranscoding is billed on the aggregate resolution of its inputs,
//     by codec: [ServiceMixTranscoding] for H.264 (audio 1.99, HD 5.99,
//     FHD 13.99, 2K 25.99, 4K 69.99) and [ServiceMixTranscodingH265]
//     (audio 1.99, HD 17.99, FHD 37.99, 2K 69.99, 4K 189.99), the 4K tier
//     to 4096 × 2176 as that page writes it.
//
// The monthly packages Tencent sells in this era (RTC Engine, Call, Live,
// Conference editions) are bound to one application, valid from the
// purchase day to the day before the same date next month, do not stack,
// and are drawn after the free minutes (whose kind is First) and before
// the account-wide packs; the engine bills them (PackageKind.AppBound and
// NoStacking, and [ComparePackages]: a kind a host adds is not First).
// Their sizes and prices are not in Tencent's public documents, so the
// book sells none: a host adds the kinds it sells, with its prices, under
// a book ID of its own, as the Era3USD example in the package's examples
// shows.
//
// Decisions where the documents are silent:
//
//   - No document dates the accounts Era 3 begins with, so the book has
//     no cohort bounds and is in force from Era 1's start: it is the book
//     of an Engine that bills every USD account by today's rules. Beside
//     other USD books, give it CohortFrom (and them CohortUntil).
//   - The free minutes' ratios are the packages' (1, 4, 9, 16, 36), for
//     every service, as the last published free-minute ratios (Era 2's
//     1/2/4/9/16/36 without SD) and the packages' agree.
//   - Value-added usage is rounded per application too, as MixTranscoding's
//     page says ("daily per SDKAppID"); recording's is silent.
func Era3USD() PriceBook {
	return PriceBook{
		ID:       "era3-usd",
		Currency: "USD",
		Decimals: 2,
		From:     era1Start(),
		Tiering:  Aggregate,
		PerApp:   true,
		Tiers: []TierSpec{
			{Tier: TierAudio, Price: perThousand("0.99")},
			{Tier: TierHD, Video: true, MaxArea: 1280 * 720, Price: perThousand("3.99")},
			{Tier: TierFHD, Video: true, MaxArea: 1920 * 1080, Price: perThousand("8.99")},
			{Tier: Tier2K, Video: true, MaxArea: 2560 * 1440, Price: perThousand("15.99")},
			{Tier: Tier4K, Video: true, MaxArea: 4096 * 2160, Price: perThousand("35.99")},
		},
		Scenarios: era1Scenarios(),
		Kinds:     []PackageKind{era3Free()},
		Monthly:   Recurring{Kind: KindFree, Minutes: 10_000, Anniversary: true, Months: 12},
		ValueAdded: []ValueAddedService{
			era2Recording(),
			era3MixTranscoding(ServiceMixTranscoding, "1.99", "5.99", "13.99", "25.99", "69.99"),
			era3MixTranscoding(ServiceMixTranscodingH265, "1.99", "17.99", "37.99", "69.99", "189.99"),
		},
	}
}

// ServiceMixTranscodingH265 is Era 3's On-Cloud MixTranscoding to H.265,
// billed on its inputs ([Era3USD]); ServiceMixTranscoding is its H.264.
const ServiceMixTranscodingH265 Service = "mixtranscoding-h265"

// Era3Ratios returns Era 3's deduction ratios of the basic services,
// for a package kind a host adds to [Era3USD]: audio 1, HD 4, FHD 9, 2K
// 16 and 4K 36 package minutes per minute ("The deduction ratios for
// pre-paid packages are 1:1, 1:4, 1:9, 1:16, and 1:36 for audio, HD, FHD,
// 2K, and 4K duration respectively").
func Era3Ratios() []Ratio {
	return era3Ratios(ServiceBasic, TierAudio, TierHD, TierFHD, Tier2K, Tier4K)
}

// era3Ratios returns the ratios 1, 4, 9, 16 and 36 of service s's tiers,
// audio and four video tiers in increasing order.
func era3Ratios(s Service, tiers ...Tier) []Ratio {
	minutes := [...]int64{1, 4, 9, 16, 36}
	rs := make([]Ratio, len(tiers))
	for i, t := range tiers {
		rs[i] = Ratio{Tier: t, Minutes: minutes[i], Service: s}
	}
	return rs
}

// era3Free is Era 3's free minutes: drawn first, at the packages' ratios,
// for the basic services, cloud recording and MixTranscoding.
func era3Free() PackageKind {
	ratios := Era3Ratios()
	ratios = append(ratios, era3Ratios(ServiceRecording, TierAudio, TierHD, TierFHD, Tier2K, Tier2KPlus)...)
	for _, s := range []Service{ServiceMixTranscoding, ServiceMixTranscodingH265} {
		ratios = append(ratios, era3Ratios(s, TierAudio, TierHD, TierFHD, Tier2K, Tier4K)...)
	}
	return PackageKind{Name: KindFree, Ratios: ratios, First: true}
}

// era3MixTranscoding is Era 3's MixTranscoding of one codec, tiered by the
// aggregate resolution of its inputs, in USD per 1,000 minutes.
func era3MixTranscoding(s Service, audio, hd, fhd, k2, k4 string) ValueAddedService {
	return ValueAddedService{
		Service: s,
		Tiering: Aggregate,
		Tiers: []TierSpec{
			{Tier: TierAudio, Price: perThousand(audio)},
			{Tier: TierHD, Video: true, MaxArea: 1280 * 720, Price: perThousand(hd)},
			{Tier: TierFHD, Video: true, MaxArea: 1920 * 1080, Price: perThousand(fhd)},
			{Tier: Tier2K, Video: true, MaxArea: 2560 * 1440, Price: perThousand(k2)},
			{Tier: Tier4K, Video: true, MaxArea: 4096 * 2176, Price: perThousand(k4)},
		},
	}
}
