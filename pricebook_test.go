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
				{Tier: audio, Basic: dec("0.00099")},
				{Tier: sd, Video: true, MaxArea: 307_200, Basic: dec("0.00199")},
				{Tier: hd, Video: true, MaxArea: 921_600, Basic: dec("0.00399")},
				{Tier: fhd, Video: true, Basic: dec("0.01499")},
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
			ValueAdded: []billing.ValueAddedService{
				// Recording, USD per 1,000 minutes: 0.499, 0.99, 1.99, 7.499.
				{Service: billing.ServiceRecording, From: time.Date(2020, 7, 1, 0, 0, 0, 0, cst), Prices: []billing.TierPrice{
					{Tier: audio, PerMinute: dec("0.000499")}, {Tier: sd, PerMinute: dec("0.00099")},
					{Tier: hd, PerMinute: dec("0.00199")}, {Tier: fhd, PerMinute: dec("0.007499")},
				}},
				// MixTranscoding, USD per minute, 8 decimals kept.
				{Service: billing.ServiceMixTranscoding, From: time.Date(2020, 11, 1, 0, 0, 0, 0, cst),
					EarlierAccountsFrom: time.Date(2020, 12, 1, 0, 0, 0, 0, cst), Prices: []billing.TierPrice{
						{Tier: audio, PerMinute: dec("0.000799")}, {Tier: sd, PerMinute: dec("0.00228571")},
						{Tier: hd, PerMinute: dec("0.00464286")}, {Tier: fhd, PerMinute: dec("0.00899")},
					}},
			},
		},
		{
			ID: "era1-cny", Currency: "CNY", Decimals: 2, From: start, Tiering: billing.PerStream,
			// CNY per 1,000 minutes: 7, 14, 28, 105.
			Tiers: []billing.TierSpec{
				{Tier: audio, Basic: dec("0.007")},
				{Tier: sd, Video: true, MaxArea: 307_200, Basic: dec("0.014")},
				{Tier: hd, Video: true, MaxArea: 921_600, Basic: dec("0.028")},
				{Tier: fhd, Video: true, Basic: dec("0.105")},
			},
			Scenarios: scenarios,
			Kinds: []billing.PackageKind{
				{Name: billing.KindTrial, Ratios: ratios(1, 1, 1, 1), Validity: validity},
				{Name: uni, Ratios: ratios(1, 2, 4, 15), Validity: validity, AutoPostpaid: true, Pricing: billing.Pricing{
					Unit:   1000,
					Offers: []billing.Offer{{25_000, dec("168")}, {250_000, dec("1588")}, {1_000_000, dec("5968")}, {3_000_000, dec("16888")}},
					Bands:  []billing.Band{{0, dec("0.007")}, {25_000, dec("0.00672")}, {250_000, dec("0.006352")}, {1_000_000, dec("0.005968")}, {3_000_000, dec("0.00562934")}},
				}},
			},
			Trial: billing.Grant{Kind: billing.KindTrial, Minutes: 10_000},
			ValueAdded: []billing.ValueAddedService{
				// Recording, CNY per 1,000 minutes: 3.50, 7.00, 14.00, 52.50.
				{Service: billing.ServiceRecording, From: time.Date(2020, 7, 1, 0, 0, 0, 0, cst), Prices: []billing.TierPrice{
					{Tier: audio, PerMinute: dec("0.0035")}, {Tier: sd, PerMinute: dec("0.007")},
					{Tier: hd, PerMinute: dec("0.014")}, {Tier: fhd, PerMinute: dec("0.0525")},
				}},
				// MixTranscoding, CNY per 1,000 minutes: 5.6, 16, 32.5, 63.
				{Service: billing.ServiceMixTranscoding, From: time.Date(2020, 11, 1, 0, 0, 0, 0, cst),
					EarlierAccountsFrom: time.Date(2020, 12, 8, 0, 0, 0, 0, cst), Prices: []billing.TierPrice{
						{Tier: audio, PerMinute: dec("0.0056")}, {Tier: sd, PerMinute: dec("0.016")},
						{Tier: hd, PerMinute: dec("0.0325")}, {Tier: fhd, PerMinute: dec("0.063")},
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
		{"negative price", func(b *billing.PriceBook) { b.Tiers[0].Basic = dec("-0.001") }},
		{"price with 9 decimals", func(b *billing.PriceBook) { b.Tiers[0].Basic = dec("0.000000001") }},
		{"video tiers out of order", func(b *billing.PriceBook) { b.Tiers[2].MaxArea = 100 }},
		{"bounded top video tier", func(b *billing.PriceBook) { b.Tiers[3].MaxArea = 10_000_000 }},
		{"audio tier with an area", func(b *billing.PriceBook) { b.Tiers[0].MaxArea = 1 }},
		{"video scenario without video tiers", func(b *billing.PriceBook) { b.Tiers = b.Tiers[:1] }},
		{"repeated scenario", func(b *billing.PriceBook) { b.Scenarios[1].Scenario = billing.AudioLive }},
		{"kind without ratios", func(b *billing.PriceBook) { b.Kinds[1].Ratios = nil }},
		{"ratio of an unknown tier", func(b *billing.PriceBook) { b.Kinds[1].Ratios[0].Tier = "4k" }},
		{"zero ratio", func(b *billing.PriceBook) { b.Kinds[1].Ratios[0].Minutes = 0 }},
		{"zero validity", func(b *billing.PriceBook) { b.Kinds[1].Validity.Months = 0 }},
		{"offer not a multiple of the unit", func(b *billing.PriceBook) { b.Kinds[1].Pricing.Offers[0].Minutes = 1500 }},
		{"bands out of order", func(b *billing.PriceBook) { b.Kinds[1].Pricing.Bands[1].From = 0 }},
		{"for sale without prices", func(b *billing.PriceBook) {
			b.Kinds[1].Pricing.Offers, b.Kinds[1].Pricing.Bands = nil, nil
		}},
		{"trial of an unknown kind", func(b *billing.PriceBook) { b.Trial.Kind = "gift" }},
		{"trial of zero minutes", func(b *billing.PriceBook) { b.Trial.Minutes = 0 }},
		{"repeated kind", func(b *billing.PriceBook) { b.Kinds[1].Name = billing.KindTrial }},
		{"value-added service named basic", func(b *billing.PriceBook) { b.ValueAdded[0].Service = billing.ServiceBasic }},
		{"repeated value-added service", func(b *billing.PriceBook) { b.ValueAdded[1].Service = recording }},
		{"value-added price of an unknown tier", func(b *billing.PriceBook) { b.ValueAdded[0].Prices[0].Tier = "4k" }},
		{"value-added price with 9 decimals", func(b *billing.PriceBook) { b.ValueAdded[1].Prices[1].PerMinute = dec("0.000000001") }},
		{"value-added service without prices", func(b *billing.PriceBook) { b.ValueAdded[1].Prices = nil }},
		{"earlier accounts billed before the service", func(b *billing.PriceBook) {
			b.ValueAdded[1].EarlierAccountsFrom = b.ValueAdded[1].From.Add(-time.Hour)
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

func TestDay(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
		want string
	}{
		{"midnight UTC+8", at(15, 0, 0, 0), "2021-03-15"},
		{"last second of the day", at(15, 23, 59, 59), "2021-03-15"},
		{"last nanosecond of the day", at(15, 23, 59, 59).Add(999_999_999), "2021-03-15"},
		{"15:59:59 UTC is 23:59:59 in UTC+8", time.Date(2021, 3, 15, 15, 59, 59, 0, time.UTC), "2021-03-15"},
		{"16:00 UTC is the next day in UTC+8", time.Date(2021, 3, 15, 16, 0, 0, 0, time.UTC), "2021-03-16"},
		{"before 1970", time.Date(1969, 12, 31, 15, 59, 59, 0, time.UTC), "1969-12-31"},
		{"before 1970, next day in UTC+8", time.Date(1969, 12, 31, 16, 0, 0, 0, time.UTC), "1970-01-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := billing.DayOf(tt.t, cst)
			if got := d.String(); got != tt.want {
				t.Errorf("DayOf(%v) = %s, want %s", tt.t, got, tt.want)
			}
			y, m, dd := d.Date()
			if back := billing.DateDay(y, m, dd); back != d {
				t.Errorf("DateDay(Date()) = %v, want %v", back, d)
			}
			start := d.Start(cst)
			if start.After(tt.t) || !start.Add(24*time.Hour).After(tt.t) {
				t.Errorf("Start() = %v, does not contain %v", start, tt.t)
			}
		})
	}
	if got := billing.DateDay(2021, 2, 29).String(); got != "2021-03-01" {
		t.Errorf("DateDay(2021, 2, 29) = %s, want 2021-03-01", got)
	}
	if got := billing.DateDay(1970, 1, 1); got != 0 {
		t.Errorf("DateDay(1970, 1, 1) = %d, want 0", got)
	}
}

// TestDaylightSavingMidnight checks days and validity in a zone whose
// daylight-saving gap is at midnight: in America/Santiago, 2021-09-05
// starts at 01:00 -03 (00:00 does not exist), and a package bought that day
// does not cover the evening before.
func TestDaylightSavingMidnight(t *testing.T) {
	santiago, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	d := billing.DateDay(2021, 9, 5)
	want := time.Date(2021, 9, 5, 1, 0, 0, 0, santiago)
	if got := d.Start(santiago); !got.Equal(want) || billing.DayOf(got, santiago) != d || billing.DayOf(got.Add(-1), santiago) != d-1 {
		t.Errorf("Start = %v, want %v, the first instant of the 5th", got, want)
	}
	h := newHarness(t)
	if h.e, err = billing.New(h.store, &billing.Options{Now: h.clock.Now, Location: santiago}); err != nil {
		t.Fatal(err)
	}
	h.do(
		op{now: time.Date(2021, 9, 4, 20, 0, 0, 0, santiago), open: &billing.AccountSpec{ID: "a", Postpaid: true}},
		op{now: time.Date(2021, 9, 4, 21, 0, 0, 0, santiago), use: usage("u0", audio, 600_000, time.Date(2021, 9, 4, 21, 0, 0, 0, santiago))},
		op{now: time.Date(2021, 9, 5, 2, 0, 0, 0, santiago), buy: &billing.Purchase{ID: "p1", Account: "a", Kind: uni, Minutes: 1000}},
	)
	r, err := h.e.Record(h.ctx, *usage("u1", audio, 60, time.Date(2021, 9, 4, 23, 30, 0, 0, santiago)))
	if err != nil || r.Postpaid != 1 || len(r.Draws) != 0 {
		t.Errorf("Record(23:30 on the 4th) = %+v, %v; want 1 postpaid minute: p1 starts on the 5th", r, err)
	}
}
