package billing_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/memstore"
)

func TestVideoTiers(t *testing.T) {
	era1 := billing.Era1USD()
	aggregate := billing.Era1USD()
	aggregate.Tiering = billing.Aggregate
	r := func(w, h int) billing.Resolution { return billing.Resolution{Width: w, Height: h} }
	tests := []struct {
		name    string
		book    billing.PriceBook
		streams []billing.Resolution
		want    []billing.Tier
		wantErr error
	}{
		{"640×480 is SD, bound included", era1, []billing.Resolution{r(640, 480)}, []billing.Tier{sd}, nil},
		{"641×480 is HD", era1, []billing.Resolution{r(641, 480)}, []billing.Tier{hd}, nil},
		{"1280×720 is HD, bound included", era1, []billing.Resolution{r(1280, 720)}, []billing.Tier{hd}, nil},
		{"1281×720 is FHD", era1, []billing.Resolution{r(1281, 720)}, []billing.Tier{fhd}, nil},
		{"1920×1080 is FHD", era1, []billing.Resolution{r(1920, 1080)}, []billing.Tier{fhd}, nil},
		// 2,000 × 150 = 300,000 ≤ 307,200: the area decides, not the longer side.
		{"a long thin stream is tiered by area", era1, []billing.Resolution{r(2000, 150)}, []billing.Tier{sd}, nil},
		{"1×1 is SD", era1, []billing.Resolution{r(1, 1)}, []billing.Tier{sd}, nil},
		// Era 1: each stream by its own area; 640×480 + 1280×720 are not summed.
		{"per stream: never summed", era1, []billing.Resolution{r(640, 480), r(1280, 720), r(320, 240)}, []billing.Tier{sd, hd, sd}, nil},
		// 640×480 × 2 = 614,400: above SD's 307,200, within HD's 921,600.
		{"aggregate: two SD streams make HD", aggregate, []billing.Resolution{r(640, 480), r(640, 480)}, []billing.Tier{hd}, nil},
		// 614,400 + 320×240 (76,800) + 640×360 (230,400) = 921,600: HD, bound included.
		{"aggregate: up to HD's bound", aggregate, []billing.Resolution{r(640, 480), r(640, 480), r(320, 240), r(640, 360)}, []billing.Tier{hd}, nil},
		{"aggregate: one pixel more is FHD", aggregate, []billing.Resolution{r(1280, 720), r(1, 1)}, []billing.Tier{fhd}, nil},
		{"no stream", era1, nil, nil, billing.ErrInvalidResolution},
		{"zero width", era1, []billing.Resolution{r(0, 480)}, nil, billing.ErrInvalidResolution},
		{"negative height", era1, []billing.Resolution{r(640, -1)}, nil, billing.ErrInvalidResolution},
		{"wider than MaxDimension", era1, []billing.Resolution{r(billing.MaxDimension+1, 1)}, nil, billing.ErrInvalidResolution},
		{"one bad stream among good ones", era1, []billing.Resolution{r(640, 480), r(0, 0)}, nil, billing.ErrInvalidResolution},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.book.VideoTiers(tt.streams...)
			if diff := cmp.Diff(tt.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("VideoTiers() error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("VideoTiers() (-want +got):\n%s", diff)
			}
		})
	}
}

// capped2K is a book (Era 1 USD, renamed) whose recording has a tier
// table of its own, as Era 2's does: by the aggregate resolution of the
// recording task, audio, HD, FHD, 2K and 2K+ up to 4096 × 2160 =
// 8,847,360 pixels, capped there (domain reference §4.2, Era 2's prices
// in USD per 1,000 minutes: 1.49, 5.99, 13.49, 23.99, 53.99).
func capped2K() billing.PriceBook {
	b := billing.Era1USD()
	b.ID = "era1-usd-2k-recording"
	b.ValueAdded[0].Tiering = billing.Aggregate
	b.ValueAdded[0].Tiers = []billing.TierSpec{
		{Tier: audio, Price: dec("0.00149")},
		{Tier: hd, Video: true, MaxArea: 1280 * 720, Price: dec("0.00599")},
		{Tier: fhd, Video: true, MaxArea: 1920 * 1080, Price: dec("0.01349")},
		{Tier: "2k", Video: true, MaxArea: 2560 * 1440, Price: dec("0.02399")},
		{Tier: "2k+", Video: true, MaxArea: 4096 * 2160, Price: dec("0.05399")},
	}
	return b
}

// TestServiceTiers: each service tiers by its own table and rule; a capped
// table has no tier above its top bound.
func TestServiceTiers(t *testing.T) {
	r := func(w, h int) billing.Resolution { return billing.Resolution{Width: w, Height: h} }
	era1, two := billing.Era1USD(), capped2K()
	tests := []struct {
		name    string
		book    billing.PriceBook
		service billing.Service
		streams []billing.Resolution
		want    []billing.Tier
		wantErr error
	}{
		// Era 1 recording: each output file by its own area, Era 1's bounds.
		{"Era 1 recording, per file", era1, recording, []billing.Resolution{r(640, 360), r(1920, 1080)}, []billing.Tier{sd, fhd}, nil},
		{"Era 1 MixTranscoding, per output", era1, billing.ServiceMixTranscoding, []billing.Resolution{r(1280, 720)}, []billing.Tier{hd}, nil},
		// 1280×720 × 2 = 1,843,200: above HD's 921,600, within FHD's 2,073,600.
		{"aggregate recording: two HD inputs make FHD", two, recording, []billing.Resolution{r(1280, 720), r(1280, 720)}, []billing.Tier{fhd}, nil},
		// 640×480 = 307,200: the lowest video tier of the table, HD (it has no SD).
		{"a table without SD: the lowest video tier", two, recording, []billing.Resolution{r(640, 480)}, []billing.Tier{hd}, nil},
		// 3840×2160 = 8,294,400 ≤ 8,847,360.
		{"4K within the cap is 2K+", two, recording, []billing.Resolution{r(3840, 2160)}, []billing.Tier{"2k+"}, nil},
		{"the cap itself is 2K+", two, recording, []billing.Resolution{r(4096, 2160)}, []billing.Tier{"2k+"}, nil},
		// 8,847,360 + 1 pixel: above the cap.
		{"one pixel above the cap", two, recording, []billing.Resolution{r(4096, 2160), r(1, 1)}, nil, billing.ErrInvalidResolution},
		// The basic services keep Era 1's table and rule in the same book.
		{"basic services keep their table", two, billing.ServiceBasic, []billing.Resolution{r(1280, 720), r(1280, 720)}, []billing.Tier{hd, hd}, nil},
		{"a service the book does not price", two, "relay", []billing.Resolution{r(640, 480)}, nil, billing.ErrUnknownService},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.book.ServiceTiers(tt.service, tt.streams...)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("ServiceTiers() error %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ServiceTiers() (-want +got):\n%s", diff)
			}
		})
	}
}

// TestServiceTierTables: usage of a tier only a value-added service's
// table has is recorded and billed at that table's price; the same tier is
// unknown to the basic services, and a tier only they have is unknown to
// the service.
func TestServiceTierTables(t *testing.T) {
	h := newHarness(t, capped2K())
	h.do(open(at(15, 8, 0, 0), true))
	for _, u := range []billing.Usage{
		{ID: "r1", Account: "a", App: "app1", Service: recording, Tier: "2k+", Seconds: 600, At: at(15, 9, 0, 0)},
		{ID: "r2", Account: "a", App: "app1", Service: recording, Tier: "2k", Seconds: 61, At: at(15, 9, 30, 0)},
		{ID: "r3", Account: "a", App: "app1", Service: recording, Tier: fhd, Seconds: 60, At: at(15, 10, 0, 0)},
	} {
		h.clock.Set(u.At)
		if _, err := h.e.Record(h.ctx, u); err != nil {
			t.Fatalf("Record(%s): %v", u.ID, err)
		}
	}
	u := usage("u1", "2k", 60, at(15, 10, 30, 0))
	h.clock.Set(u.At)
	if _, err := h.e.Record(h.ctx, *u); !errors.Is(err, billing.ErrUnknownTier) {
		t.Errorf("basic usage of tier 2k: error %v, want ErrUnknownTier", err)
	}
	u = &billing.Usage{ID: "r4", Account: "a", App: "app1", Service: recording, Tier: sd, Seconds: 60, At: at(15, 10, 30, 0)}
	if _, err := h.e.Record(h.ctx, *u); !errors.Is(err, billing.ErrUnknownTier) {
		t.Errorf("recording of tier sd, which its table lacks: error %v, want ErrUnknownTier", err)
	}
	h.clock.Set(at(16, 10, 0, 0))
	bill, err := h.e.Settle(h.ctx, "a", march(15))
	if err != nil {
		t.Fatal(err)
	}
	// In the recording table's order: FHD 1 minute × 0.01349; 2K 61 s = 2
	// minutes × 0.02399 = 0.04798; 2K+ 10 minutes × 0.05399 = 0.5399.
	// Subtotal 0.60137, total 0.60.
	line := func(tier billing.Tier, seconds, minutes int64, price, amount string) billing.Line {
		return billing.Line{Day: march(15), Service: recording, Tier: tier, Seconds: seconds, Minutes: minutes, Postpaid: minutes,
			Billed: minutes, UnitPrice: dec(price), Amount: dec(amount)}
	}
	want := billing.Bill{Account: "a", Day: march(15), Through: march(15), Currency: "USD", Issued: at(16, 10, 0, 0), PostpaidOn: true,
		Lines: []billing.Line{line(fhd, 60, 1, "0.01349", "0.01349"), line("2k", 61, 2, "0.02399", "0.04798"),
			line("2k+", 600, 10, "0.05399", "0.5399")},
		Subtotal: dec("0.60137"), Total: dec("0.6")}
	if diff := cmp.Diff(want, bill, cmpOpts); diff != "" {
		t.Errorf("bill (-want +got):\n%s", diff)
	}
}

// TestEra1Books checks every figure of the Era 1 books against the rules
// document (§1.2, §1.3, §2.1–2.5).
func TestEra1Books(t *testing.T) {
	ratios := func(a, s, h, f int64) []billing.Ratio {
		return []billing.Ratio{{Tier: audio, Minutes: a}, {Tier: sd, Minutes: s}, {Tier: hd, Minutes: h}, {Tier: fhd, Minutes: f}}
	}
	validity := billing.Validity{Months: 12, ToMonthEnd: true}
	scenarios := []billing.ScenarioSpec{
		{Scenario: billing.AudioLive}, {Scenario: billing.VideoLive, Video: true},
		{Scenario: billing.AudioCall}, {Scenario: billing.VideoCall, Video: true},
	}
	start := time.Date(2019, 10, 11, 0, 0, 0, 0, cst)
	want := []billing.PriceBook{
		{
			ID: "era1-usd", Currency: "USD", Decimals: 2, From: start, Tiering: billing.PerStream,
			// USD per 1,000 minutes: 0.99, 1.99, 3.99, 14.99; per minute ÷ 1,000.
			Tiers: []billing.TierSpec{
				{Tier: audio, Price: dec("0.00099")},
				{Tier: sd, Video: true, MaxArea: 307_200, Price: dec("0.00199")},
				{Tier: hd, Video: true, MaxArea: 921_600, Price: dec("0.00399")},
				{Tier: fhd, Video: true, Price: dec("0.01499")},
			},
			Scenarios: scenarios,
			Kinds: []billing.PackageKind{
				{Name: billing.KindTrial, Ratios: ratios(1, 1, 1, 1), Validity: validity},
				{Name: uni, Ratios: ratios(1, 2, 4, 15), Validity: validity, AutoPostpaid: true, Pricing: billing.Pricing{
					Unit:   1000,
					Offers: []billing.Offer{{25_000, dec("24")}, {250_000, dec("227")}, {1_000_000, dec("856")}, {3_000_000, dec("2416")}},
					// 0.99, 0.960, 0.908, 0.856, 0.805 per 1,000 minutes.
					Bands: []billing.Band{{0, dec("0.00099")}, {25_000, dec("0.00096")}, {250_000, dec("0.000908")}, {1_000_000, dec("0.000856")}, {3_000_000, dec("0.000805")}},
				}},
			},
			Trial: billing.Grant{Kind: billing.KindTrial, Minutes: 10_000},
			// Monthly postpaid for first applications created on or before
			// 2020-08-31, daily from 2020-09-01 (§1.5).
			MonthlyCohortsUntil: time.Date(2020, 9, 1, 0, 0, 0, 0, cst),
			ValueAdded: []billing.ValueAddedService{
				// Recording, USD per 1,000 minutes: 0.499, 0.99, 1.99, 7.499;
				// each output file by its own resolution, Era 1's bounds.
				{Service: billing.ServiceRecording, From: time.Date(2020, 7, 1, 0, 0, 0, 0, cst), Tiering: billing.PerStream,
					Tiers: []billing.TierSpec{
						{Tier: audio, Price: dec("0.000499")}, {Tier: sd, Video: true, MaxArea: 307_200, Price: dec("0.00099")},
						{Tier: hd, Video: true, MaxArea: 921_600, Price: dec("0.00199")}, {Tier: fhd, Video: true, Price: dec("0.007499")},
					}},
				// MixTranscoding, USD per minute, 8 decimals kept.
				{Service: billing.ServiceMixTranscoding, From: time.Date(2020, 11, 1, 0, 0, 0, 0, cst),
					EarlierAccountsFrom: time.Date(2020, 12, 1, 0, 0, 0, 0, cst), Tiering: billing.PerStream,
					Tiers: []billing.TierSpec{
						{Tier: audio, Price: dec("0.000799")}, {Tier: sd, Video: true, MaxArea: 307_200, Price: dec("0.00228571")},
						{Tier: hd, Video: true, MaxArea: 921_600, Price: dec("0.00464286")}, {Tier: fhd, Video: true, Price: dec("0.00899")},
					}},
			},
		},
		{
			ID: "era1-cny", Currency: "CNY", Decimals: 2, From: start, Tiering: billing.PerStream,
			// CNY per 1,000 minutes: 7, 14, 28, 105.
			Tiers: []billing.TierSpec{
				{Tier: audio, Price: dec("0.007")},
				{Tier: sd, Video: true, MaxArea: 307_200, Price: dec("0.014")},
				{Tier: hd, Video: true, MaxArea: 921_600, Price: dec("0.028")},
				{Tier: fhd, Video: true, Price: dec("0.105")},
			},
			Scenarios: scenarios,
			Kinds: []billing.PackageKind{
				{Name: billing.KindTrial, Ratios: ratios(1, 1, 1, 1), Validity: validity},
				{Name: uni, Ratios: ratios(1, 2, 4, 15), Validity: validity, AutoPostpaid: true, Pricing: billing.Pricing{
					Unit:   1000,
					Offers: []billing.Offer{{25_000, dec("168")}, {250_000, dec("1588")}, {1_000_000, dec("5968")}, {3_000_000, dec("16888")}},
					Bands:  []billing.Band{{0, dec("0.007")}, {25_000, dec("0.00672")}, {250_000, dec("0.006352")}, {1_000_000, dec("0.005968")}, {3_000_000, dec("0.00562934")}},
				}, Refundable: true}, // 退费说明: the China site's refund rules, at these bands' prices
			},
			Trial: billing.Grant{Kind: billing.KindTrial, Minutes: 10_000},
			// Monthly postpaid for first applications created on or before
			// 2020-08-31, daily from 2020-09-01 (§1.5).
			MonthlyCohortsUntil: time.Date(2020, 9, 1, 0, 0, 0, 0, cst),
			ValueAdded: []billing.ValueAddedService{
				// Recording, CNY per 1,000 minutes: 3.50, 7.00, 14.00, 52.50;
				// applications created before 2022-07-20 (§4.2).
				{Service: billing.ServiceRecording, From: time.Date(2020, 7, 1, 0, 0, 0, 0, cst), Tiering: billing.PerStream,
					Tiers: []billing.TierSpec{
						{Tier: audio, Price: dec("0.0035")}, {Tier: sd, Video: true, MaxArea: 307_200, Price: dec("0.007")},
						{Tier: hd, Video: true, MaxArea: 921_600, Price: dec("0.014")}, {Tier: fhd, Video: true, Price: dec("0.0525")},
					}, AppsUntil: time.Date(2022, 7, 20, 0, 0, 0, 0, cst)},
				// MixTranscoding, CNY per 1,000 minutes: 5.6, 16, 32.5, 63.
				{Service: billing.ServiceMixTranscoding, From: time.Date(2020, 11, 1, 0, 0, 0, 0, cst),
					EarlierAccountsFrom: time.Date(2020, 12, 8, 0, 0, 0, 0, cst), Tiering: billing.PerStream,
					Tiers: []billing.TierSpec{
						{Tier: audio, Price: dec("0.0056")}, {Tier: sd, Video: true, MaxArea: 307_200, Price: dec("0.016")},
						{Tier: hd, Video: true, MaxArea: 921_600, Price: dec("0.0325")}, {Tier: fhd, Video: true, Price: dec("0.063")},
					}},
				// Recording of applications created from 2022-07-20, per input
				// stream (§4.2), bounds 640×480 = 307,200, 1280×720 = 921,600,
				// 1920×1080 = 2,073,600, 2560×1440 = 3,686,400, 4096×2176 =
				// 8,912,896; single-stream CNY per 1,000 minutes: 3.5, 7, 14,
				// 31, 56, 97.
				{Service: billing.ServiceRecordingSingle, Tiering: billing.PerStream, AppsFrom: time.Date(2022, 7, 20, 0, 0, 0, 0, cst),
					Tiers: []billing.TierSpec{
						{Tier: audio, Price: dec("0.0035")}, {Tier: sd, Video: true, MaxArea: 307_200, Price: dec("0.007")},
						{Tier: hd, Video: true, MaxArea: 921_600, Price: dec("0.014")}, {Tier: fhd, Video: true, MaxArea: 2_073_600, Price: dec("0.031")},
						{Tier: "2k", Video: true, MaxArea: 3_686_400, Price: dec("0.056")}, {Tier: "4k", Video: true, MaxArea: 8_912_896, Price: dec("0.097")},
					}},
				// Mixed: 9, 19, 35, 79, 138, 323.
				{Service: billing.ServiceRecordingMixed, Tiering: billing.PerStream, AppsFrom: time.Date(2022, 7, 20, 0, 0, 0, 0, cst),
					Tiers: []billing.TierSpec{
						{Tier: audio, Price: dec("0.009")}, {Tier: sd, Video: true, MaxArea: 307_200, Price: dec("0.019")},
						{Tier: hd, Video: true, MaxArea: 921_600, Price: dec("0.035")}, {Tier: fhd, Video: true, MaxArea: 2_073_600, Price: dec("0.079")},
						{Tier: "2k", Video: true, MaxArea: 3_686_400, Price: dec("0.138")}, {Tier: "4k", Video: true, MaxArea: 8_912_896, Price: dec("0.323")},
					}},
			},
		},
	}
	got := []billing.PriceBook{billing.Era1USD(), billing.Era1CNY()}
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("Era 1 books (-want +got):\n%s", diff)
	}
}

func TestPriceBookValidation(t *testing.T) {
	tests := []struct {
		name   string
		change func(*billing.PriceBook)
	}{
		{"no ID", func(b *billing.PriceBook) { b.ID = "" }},
		{"lowercase currency", func(b *billing.PriceBook) { b.Currency = "usd" }},
		{"negative decimals", func(b *billing.PriceBook) { b.Decimals = -1 }},
		{"no From", func(b *billing.PriceBook) { b.From = time.Time{} }},
		{"Until before From", func(b *billing.PriceBook) { b.Until = b.From.Add(-time.Hour) }},
		{"unknown tiering", func(b *billing.PriceBook) { b.Tiering = "sum" }},
		{"no tiers", func(b *billing.PriceBook) { b.Tiers = nil }},
		{"repeated tier", func(b *billing.PriceBook) { b.Tiers[2].Tier = sd }},
		{"negative price", func(b *billing.PriceBook) { b.Tiers[0].Price = dec("-0.001") }},
		{"price with 9 decimals", func(b *billing.PriceBook) { b.Tiers[0].Price = dec("0.000000001") }},
		{"video tiers out of order", func(b *billing.PriceBook) { b.Tiers[2].MaxArea = 100 }},
		{"audio tier with an area", func(b *billing.PriceBook) { b.Tiers[0].MaxArea = 1 }},
		{"video scenario without video tiers", func(b *billing.PriceBook) { b.Tiers = b.Tiers[:1] }},
		{"repeated scenario", func(b *billing.PriceBook) { b.Scenarios[1].Scenario = billing.AudioLive }},
		{"kind without ratios", func(b *billing.PriceBook) { b.Kinds[1].Ratios = nil }},
		{"ratio of an unknown tier", func(b *billing.PriceBook) { b.Kinds[1].Ratios[0].Tier = "4k" }},
		{"zero ratio", func(b *billing.PriceBook) { b.Kinds[1].Ratios[0].Minutes = 0 }},
		{"zero validity", func(b *billing.PriceBook) { b.Kinds[1].Validity = billing.Validity{} }},
		{"monthly grant of an unknown kind", func(b *billing.PriceBook) { b.Monthly = billing.Recurring{Kind: "gift", Minutes: 1} }},
		{"monthly grant of a kind for sale", func(b *billing.PriceBook) { b.Monthly = billing.Recurring{Kind: uni, Minutes: 1} }},
		{"monthly grant of no minutes", func(b *billing.PriceBook) { b.Monthly = billing.Recurring{Kind: billing.KindTrial} }},
		{"offer not a multiple of the unit", func(b *billing.PriceBook) { b.Kinds[1].Pricing.Offers[0].Minutes = 1500 }},
		{"bands out of order", func(b *billing.PriceBook) { b.Kinds[1].Pricing.Bands[1].From = 0 }},
		{"for sale without prices", func(b *billing.PriceBook) {
			b.Kinds[1].Pricing.Offers, b.Kinds[1].Pricing.Bands = nil, nil
		}},
		{"trial of an unknown kind", func(b *billing.PriceBook) { b.Trial.Kind = "gift" }},
		// Era 1's book rounds the applications together: no kind is bound to one.
		{"kind bound to an application in a book that is not per application", func(b *billing.PriceBook) { b.Kinds[1].AppBound = true }},
		{"trial bound to an application", func(b *billing.PriceBook) { b.PerApp, b.Kinds[0].AppBound = true, true }},
		{"monthly grant bound to an application", func(b *billing.PriceBook) {
			b.PerApp, b.Kinds[0].AppBound, b.Trial = true, true, billing.Grant{}
			b.Monthly = billing.Recurring{Kind: billing.KindTrial, Minutes: 1}
		}},
		{"monthly grant for negative months", func(b *billing.PriceBook) {
			b.Monthly = billing.Recurring{Kind: billing.KindTrial, Minutes: 1, Months: -1}
		}},
		{"trial of zero minutes", func(b *billing.PriceBook) { b.Trial.Minutes = 0 }},
		{"repeated kind", func(b *billing.PriceBook) { b.Kinds[1].Name = billing.KindTrial }},
		{"value-added service named basic", func(b *billing.PriceBook) { b.ValueAdded[0].Service = billing.ServiceBasic }},
		{"repeated value-added service", func(b *billing.PriceBook) { b.ValueAdded[1].Service = recording }},
		{"value-added tier repeated", func(b *billing.PriceBook) { b.ValueAdded[0].Tiers[2].Tier = sd }},
		{"value-added price with 9 decimals", func(b *billing.PriceBook) { b.ValueAdded[1].Tiers[1].Price = dec("0.000000001") }},
		{"value-added service without tiers", func(b *billing.PriceBook) { b.ValueAdded[1].Tiers = nil }},
		{"value-added video tiers out of order", func(b *billing.PriceBook) { b.ValueAdded[0].Tiers[2].MaxArea = 1000 }},
		{"value-added tier after the unbounded one", func(b *billing.PriceBook) {
			b.ValueAdded[0].Tiers = append(b.ValueAdded[0].Tiers, billing.TierSpec{Tier: "2k", Video: true, MaxArea: 1 << 30})
		}},
		{"value-added service without a tiering", func(b *billing.PriceBook) { b.ValueAdded[1].Tiering = "" }},
		{"earlier accounts billed before the service", func(b *billing.PriceBook) {
			b.ValueAdded[1].EarlierAccountsFrom = b.ValueAdded[1].From.Add(-time.Hour)
		}},
		{"applications created until before they are created from", func(b *billing.PriceBook) {
			b.ValueAdded[0].AppsFrom = time.Date(2022, 7, 20, 0, 0, 0, 0, cst)
			b.ValueAdded[0].AppsUntil = b.ValueAdded[0].AppsFrom
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := billing.Era1USD()
			tt.change(&b)
			_, err := billing.New(memstore.New(), &billing.Options{PriceBooks: []billing.PriceBook{b}})
			if !errors.Is(err, billing.ErrInvalidPriceBook) {
				t.Errorf("New() error = %v, want ErrInvalidPriceBook", err)
			}
		})
	}
}

func TestNewOptions(t *testing.T) {
	usd2 := billing.Era1USD()
	usd2.ID = "era1-usd-2"
	usd2.From = time.Date(2021, 1, 1, 0, 0, 0, 0, cst)
	first := billing.Era1USD()
	first.Until = usd2.From
	usd3 := usd2 // rounds USD to 3 decimals
	usd3.Decimals = 3
	hours := billing.Era1USD() // in force from 10:00 to 20:00 of one day
	hours.From, hours.Until = time.Date(2021, 1, 1, 10, 0, 0, 0, cst), time.Date(2021, 1, 1, 20, 0, 0, 0, cst)
	tests := []struct {
		name    string
		store   billing.Store
		opts    *billing.Options
		wantErr error
	}{
		{"defaults", memstore.New(), nil, nil},
		{"nil store", nil, nil, billing.ErrInvalidOptions},
		{"no books: the defaults", memstore.New(), &billing.Options{PriceBooks: []billing.PriceBook{}}, nil},
		{"bad default currency", memstore.New(), &billing.Options{Currency: "usd"}, billing.ErrInvalidOptions},
		{"a default currency no book has", memstore.New(), &billing.Options{Currency: "EUR"}, billing.ErrInvalidOptions},
		{"two books with one ID", memstore.New(), &billing.Options{PriceBooks: []billing.PriceBook{billing.Era1USD(), billing.Era1USD()}}, billing.ErrInvalidPriceBook},
		{"overlapping books of one currency", memstore.New(), &billing.Options{PriceBooks: []billing.PriceBook{billing.Era1USD(), usd2}}, billing.ErrInvalidPriceBook},
		{"consecutive books of one currency", memstore.New(), &billing.Options{PriceBooks: []billing.PriceBook{first, usd2}}, nil},
		{"books of one currency with other decimals", memstore.New(), &billing.Options{PriceBooks: []billing.PriceBook{first, usd3}}, billing.ErrInvalidPriceBook},
		{"a book that prices no whole day", memstore.New(), &billing.Options{PriceBooks: []billing.PriceBook{hours}}, billing.ErrInvalidPriceBook},
		{"the same book in UTC-10, where it spans a midnight", memstore.New(), &billing.Options{PriceBooks: []billing.PriceBook{hours}, Location: time.FixedZone("UTC-10", -10*3600)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := billing.New(tt.store, tt.opts)
			if diff := cmp.Diff(tt.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("New() error (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBooksAreCopied checks that changing a book after New changes nothing.
func TestBooksAreCopied(t *testing.T) {
	b := noTrial()
	h := newHarness(t, b)
	b.Kinds[1].Ratios[2].Minutes = 1 // HD at 1 instead of 4, after New
	h.do(open(at(15, 8, 0, 0), false), buy(at(15, 8, 10, 0), "p1", uni, 1000), use("u1", hd, 60, at(15, 9, 0, 0)))
	if got := h.balances("a")["p1"]; got != 996 {
		t.Errorf("p1 balance = %d, want 1,000 - 4 = 996", got)
	}
}

// TestBooksChangeAtDayBoundaries checks that a book prices the billing days
// that begin while it is in force, so that usage the Engine accepts is
// always billable, and a book's change never leaves a day that cannot be
// settled. The Engine bills in UTC, where Era 1's end at 2021-10-27 00:00
// UTC+8 (2021-10-26 16:00 UTC) falls inside a billing day; its successor
// adds a tier "2k" and a value-added service "relay".
func TestBooksChangeAtDayBoundaries(t *testing.T) {
	change := time.Date(2021, 10, 27, 0, 0, 0, 0, cst) // 2021-10-26 16:00 UTC
	utc := func(d, h int) time.Time { return time.Date(2021, 10, d, h, 0, 0, 0, time.UTC) }
	era1 := noTrial()
	era1.Until = change
	next := noTrial()
	next.ID, next.From = "usd-next", change
	next.Tiers[3].MaxArea = 1920 * 1080                                                                    // FHD gets a bound,
	next.Tiers = append(next.Tiers, billing.TierSpec{Tier: "2k", Video: true, Price: dec("0.02999")})      // 29.99 per 1,000 minutes
	next.ValueAdded = append(next.ValueAdded, billing.ValueAddedService{Service: "relay", From: era1.From, // for every account,
		Tiering: billing.PerStream, Tiers: []billing.TierSpec{{Tier: audio, Price: dec("0.01")}}})
	untilMarch20 := noTrial() // Era 1 ending at 2021-03-20 00:00 with no successor
	untilMarch20.Until = at(20, 0, 0, 0)

	type step struct {
		now     time.Time
		use     *billing.Usage
		wantErr error
	}
	relay := func(id string, t time.Time) *billing.Usage {
		return &billing.Usage{ID: id, Account: "a", App: "app1", Service: "relay", Tier: audio, Seconds: 60, At: t}
	}
	tests := []struct {
		name   string
		loc    *time.Location
		books  []billing.PriceBook
		opened time.Time
		steps  []step
		settle time.Time // DueDays at this instant, and Settle each day
		want   []billing.Bill
	}{
		{
			name: "a tier only the next book has is refused on the day the change falls in",
			loc:  time.UTC, books: []billing.PriceBook{era1, next}, opened: utc(26, 8),
			steps: []step{
				{now: utc(26, 17), use: usage("u1", "2k", 60, utc(26, 17)), wantErr: billing.ErrUnknownTier},
				{now: utc(27, 1), use: usage("u2", "2k", 60, utc(27, 1))},
			},
			settle: utc(28, 10),
			want: []billing.Bill{{Account: "a", Day: refDateDay(2021, 10, 27), Through: refDateDay(2021, 10, 27), Currency: "USD", Issued: utc(28, 10), PostpaidOn: true,
				// 1 minute × 0.02999
				Lines:    []billing.Line{line(refDateDay(2021, 10, 27), billing.ServiceBasic, "2k", 60, 0, 1, 0, true, "0.02999", "0.02999")},
				Subtotal: dec("0.02999"), Total: dec("0.03")}},
		},
		{
			name: "a service only the next book has is refused on the day the change falls in",
			loc:  time.UTC, books: []billing.PriceBook{era1, next}, opened: utc(26, 8),
			steps: []step{
				{now: utc(26, 17), use: relay("r1", utc(26, 17)), wantErr: billing.ErrUnknownService},
				{now: utc(27, 1), use: relay("r2", utc(27, 1))},
			},
			settle: utc(28, 10),
			want: []billing.Bill{{Account: "a", Day: refDateDay(2021, 10, 27), Through: refDateDay(2021, 10, 27), Currency: "USD", Issued: utc(28, 10), PostpaidOn: true,
				// 1 minute × 0.01
				Lines:    []billing.Line{line(refDateDay(2021, 10, 27), "relay", audio, 60, 0, 1, 0, true, "0.01", "0.01")},
				Subtotal: dec("0.01"), Total: dec("0.01")}},
		},
		{
			name: "a book that ends inside a day prices the whole day",
			loc:  time.UTC, books: []billing.PriceBook{era1}, opened: utc(26, 8),
			steps: []step{
				{now: utc(26, 17), use: usage("u1", hd, 6000, utc(26, 17))}, // an hour after the book's end
				{now: utc(27, 1), use: usage("u2", hd, 60, utc(27, 1)), wantErr: billing.ErrNoPriceBook},
			},
			settle: utc(27, 10),
			want: []billing.Bill{{Account: "a", Day: refDateDay(2021, 10, 26), Through: refDateDay(2021, 10, 26), Currency: "USD", Issued: utc(27, 10), PostpaidOn: true,
				// 100 minutes × 0.00399 = 0.399
				Lines:    []billing.Line{line(refDateDay(2021, 10, 26), billing.ServiceBasic, hd, 6000, 0, 100, 0, true, "0.00399", "0.399")},
				Subtotal: dec("0.399"), Total: dec("0.40")}},
		},
		{
			name: "late usage of a day whose book ended with no successor",
			loc:  cst, books: []billing.PriceBook{untilMarch20}, opened: at(15, 8, 0, 0),
			steps: []step{
				{now: at(18, 10, 0, 0), use: usage("u1", hd, 6000, at(18, 10, 0, 0))},
				{now: at(19, 10, 0, 0)}, // settles the 18th
				{now: at(21, 12, 0, 0), use: usage("u2", hd, 6000, at(18, 11, 0, 0))},
			},
			// The 21st, which no book prices, carries the adjustment.
			settle: at(22, 10, 0, 0),
			want: []billing.Bill{{Account: "a", Day: march(21), Through: march(21), Currency: "USD", Issued: at(22, 10, 0, 0), PostpaidOn: true,
				// 100 late minutes of the 18th × 0.00399 = 0.399
				Lines:    []billing.Line{adjustment(line(march(18), billing.ServiceBasic, hd, 6000, 0, 100, 0, true, "0.00399", "0.399"))},
				Subtotal: dec("0.399"), Total: dec("0.40")}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			var err error
			if h.e, err = billing.New(h.store, &billing.Options{Now: h.clock.Now, Location: tt.loc, PriceBooks: tt.books}); err != nil {
				t.Fatal(err)
			}
			h.do(op{now: tt.opened, open: &billing.AccountSpec{ID: "a", Postpaid: true, App: "app1"}})
			var bills []billing.Bill
			settleDue := func(now time.Time) {
				t.Helper()
				h.clock.Set(now)
				days, err := h.e.DueDays(h.ctx, "a", now)
				if err != nil {
					t.Fatalf("DueDays(%v): %v", now, err)
				}
				for _, d := range days {
					b, err := h.e.Settle(h.ctx, "a", d)
					if err != nil {
						t.Fatalf("Settle(%s): %v", d, err)
					}
					bills = append(bills, b)
				}
			}
			for i, s := range tt.steps {
				if s.use == nil {
					settleDue(s.now)
					continue
				}
				h.clock.Set(s.now)
				_, err := h.e.Record(h.ctx, *s.use)
				if diff := cmp.Diff(s.wantErr, err, cmpopts.EquateErrors()); diff != "" {
					t.Fatalf("step %d: Record(%s) error (-want +got):\n%s", i, s.use.ID, diff)
				}
			}
			bills = bills[:0] // only the bills of the last settlement
			settleDue(tt.settle)
			if diff := cmp.Diff(tt.want, bills, cmpOpts); diff != "" {
				t.Errorf("bills (-want +got):\n%s", diff)
			}
			if days, err := h.e.DueDays(h.ctx, "a", tt.settle); err != nil || len(days) > 0 {
				t.Errorf("DueDays after settling = %v, %v; want none", days, err)
			}
		})
	}
}

// cohortBooks are two USD books in force at once for different cohorts:
// Era 1 for accounts whose first application dates from before
// 2021-10-27, and from then a book for the later accounts, tiered by
// aggregate resolution, with HD at 4.99 per 1,000 minutes and a trial of
// 5,000 minutes.
func cohortBooks() []billing.PriceBook {
	era2 := time.Date(2021, 10, 27, 0, 0, 0, 0, cst)
	old := billing.Era1USD()
	old.ID, old.CohortUntil = "era1-usd-cohort", era2
	later := billing.Era1USD()
	later.ID, later.From, later.CohortFrom, later.Tiering = "later-usd", era2, era2, billing.Aggregate
	later.Tiers[2].Price, later.Trial.Minutes = dec("0.00499"), 5000
	return []billing.PriceBook{old, later}
}

// TestCohorts: accounts of two cohorts billed side by side in one Engine,
// each by its cohort's book, on the same day.
func TestCohorts(t *testing.T) {
	h := newHarness(t, cohortBooks()...)
	for _, o := range []struct {
		id string
		at time.Time
	}{{"old", time.Date(2021, 6, 1, 9, 0, 0, 0, cst)}, {"new", time.Date(2021, 11, 1, 9, 0, 0, 0, cst)}} {
		h.clock.Set(o.at)
		if _, err := h.e.OpenAccount(h.ctx, billing.AccountSpec{ID: o.id, Postpaid: true, App: "app1"}); err != nil {
			t.Fatal(err)
		}
	}
	day := refDateDay(2021, 11, 15)
	noon := time.Date(2021, 11, 15, 12, 0, 0, 0, cst)
	h.clock.Set(noon)
	for _, id := range []string{"old", "new"} {
		// 12,000 minutes of HD: the trial covers 10,000 (old) or 5,000 (new), the rest postpaid.
		u := billing.Usage{ID: "u1", Account: id, App: "app1", Scenario: billing.VideoCall, Tier: hd, Seconds: 720_000, At: noon}
		if _, err := h.e.Record(h.ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	h.clock.Set(time.Date(2021, 11, 16, 10, 0, 0, 0, cst))
	for _, tt := range []struct {
		id                 string
		prepaid, postpaid  int64
		price, total, book string
	}{
		// old: 2,000 × 0.00399 = 7.98; new: 7,000 × 0.00499 = 34.93.
		{"old", 10_000, 2_000, "0.00399", "7.98", "era1-usd-cohort"},
		{"new", 5_000, 7_000, "0.00499", "34.93", "later-usd"},
	} {
		bill, err := h.e.Settle(h.ctx, tt.id, day)
		if err != nil {
			t.Fatal(err)
		}
		want := []billing.Line{{Day: day, Service: billing.ServiceBasic, Tier: hd, Seconds: 720_000, Minutes: 12_000,
			Prepaid: tt.prepaid, Postpaid: tt.postpaid, Billed: tt.postpaid, UnitPrice: dec(tt.price), Amount: dec(tt.total)}}
		if diff := cmp.Diff(want, bill.Lines, cmpOpts); diff != "" || !bill.Total.Equal(dec(tt.total)) {
			t.Errorf("%s: bill lines (-want +got):\n%s\ntotal %s, want %s", tt.id, diff, bill.Total, tt.total)
		}
		o, err := h.e.Overview(h.ctx, tt.id)
		if err != nil || len(o.Packages) != 1 || o.Packages[0].Book != tt.book {
			t.Errorf("%s: packages %+v, %v; want the trial of %s", tt.id, o.Packages, err, tt.book)
		}
	}
	// Books of one currency in force at once for overlapping cohorts are refused.
	bad := cohortBooks()
	bad[1].CohortFrom = time.Date(2021, 10, 26, 0, 0, 0, 0, cst)
	if _, err := billing.New(h.store, &billing.Options{PriceBooks: bad}); !errors.Is(err, billing.ErrInvalidPriceBook) {
		t.Errorf("New(overlapping cohorts) error %v, want ErrInvalidPriceBook", err)
	}
	// A cohort no book prices: the later book alone, in force from 2021-01-01
	// for the accounts of 2021-10-27 on, opens none on 2021-10-26.
	later := cohortBooks()[1]
	later.From = time.Date(2021, 1, 1, 0, 0, 0, 0, cst)
	only := newHarness(t, later)
	only.clock.Set(time.Date(2021, 10, 26, 9, 0, 0, 0, cst))
	if _, err := only.e.OpenAccount(only.ctx, billing.AccountSpec{ID: "b", App: "app1"}); !errors.Is(err, billing.ErrNoPriceBook) {
		t.Errorf("OpenAccount(b) on 2021-10-26 under the later book alone: %v, want ErrNoPriceBook", err)
	}
	only.clock.Set(time.Date(2021, 10, 27, 9, 0, 0, 0, cst))
	if _, err := only.e.OpenAccount(only.ctx, billing.AccountSpec{ID: "a", App: "app1"}); err != nil {
		t.Errorf("OpenAccount(a) on 2021-10-27: %v", err)
	}
}

// TestAreaTier: the tier an area falls in, by the service's own table: the
// lowest whose MaxArea it does not exceed (Era 1: SD to 307,200, HD to
// 921,600, FHD unbounded; Era 3 capped at 8,847,360; Era 2's recording
// at 8,847,360 as 2K+).
func TestAreaTier(t *testing.T) {
	for _, c := range []struct {
		book billing.PriceBook
		s    billing.Service
		area int64
		want billing.Tier
		err  error
	}{
		{billing.Era1USD(), billing.ServiceBasic, 1, sd, nil},
		{billing.Era1USD(), billing.ServiceBasic, 307_200, sd, nil},
		{billing.Era1USD(), billing.ServiceBasic, 307_201, hd, nil},
		{billing.Era1USD(), billing.ServiceBasic, 921_601, fhd, nil},
		{billing.Era1USD(), "", 1 << 40, fhd, nil}, // "" is the basic services
		{billing.Era3USD(), billing.ServiceBasic, 8_847_360, billing.Tier4K, nil},
		{billing.Era3USD(), billing.ServiceBasic, 8_847_361, "", billing.ErrInvalidResolution},
		{billing.Era2USD(), billing.ServiceRecording, 3_686_401, billing.Tier2KPlus, nil},
		{billing.Era1USD(), billing.ServiceBasic, 0, "", billing.ErrInvalidResolution},
		{billing.Era1USD(), "karaoke", 1, "", billing.ErrUnknownService},
	} {
		got, err := c.book.AreaTier(c.s, c.area)
		if got != c.want || !cmp.Equal(err, c.err, cmpOpts) {
			t.Errorf("%s.AreaTier(%q, %d) = %q, %v; want %q, %v", c.book.ID, c.s, c.area, got, err, c.want, c.err)
		}
	}
}
