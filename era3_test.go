package billing_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/rtcbill/billing"
)

const (
	k2   = billing.Tier2K
	k4   = billing.Tier4K
	h265 = billing.ServiceMixTranscodingH265
)

// TestEra3Book checks every figure of Era3USD against the domain reference
// (§1, §2.6, §3.1) and docs/research/era2-era3.md §6.
func TestEra3Book(t *testing.T) {
	ratios := func(s billing.Service, tiers ...billing.Tier) []billing.Ratio {
		return []billing.Ratio{ // 1:1, 1:4, 1:9, 1:16, 1:36
			{Tier: tiers[0], Minutes: 1, Service: s}, {Tier: tiers[1], Minutes: 4, Service: s}, {Tier: tiers[2], Minutes: 9, Service: s},
			{Tier: tiers[3], Minutes: 16, Service: s}, {Tier: tiers[4], Minutes: 36, Service: s},
		}
	}
	free := ratios(billing.ServiceBasic, audio, hd, fhd, k2, k4)
	free = append(free, ratios(recording, audio, hd, fhd, k2, "2k+")...)
	free = append(free, ratios(mix, audio, hd, fhd, k2, k4)...)
	free = append(free, ratios(h265, audio, hd, fhd, k2, k4)...)
	// USD per 1,000 minutes, by aggregate area: HD to 921,600, FHD to
	// 2,073,600, 2K to 3,686,400, 4K to 8,847,360 (4096×2160), or
	// 8,912,896 (4096×2176) for MixTranscoding's inputs.
	mixTiers := func(a, h, f, k, kk string) []billing.TierSpec {
		return []billing.TierSpec{
			{Tier: audio, Price: dec(a)}, {Tier: hd, Video: true, MaxArea: 921_600, Price: dec(h)},
			{Tier: fhd, Video: true, MaxArea: 2_073_600, Price: dec(f)}, {Tier: k2, Video: true, MaxArea: 3_686_400, Price: dec(k)},
			{Tier: k4, Video: true, MaxArea: 8_912_896, Price: dec(kk)},
		}
	}
	want := billing.PriceBook{
		ID: "era3-usd", Currency: "USD", Decimals: 2, From: time.Date(2019, 10, 11, 0, 0, 0, 0, cst),
		Tiering: billing.Aggregate, PerApp: true,
		Tiers: []billing.TierSpec{
			{Tier: audio, Price: dec("0.00099")},
			{Tier: hd, Video: true, MaxArea: 921_600, Price: dec("0.00399")},
			{Tier: fhd, Video: true, MaxArea: 2_073_600, Price: dec("0.00899")},
			{Tier: k2, Video: true, MaxArea: 3_686_400, Price: dec("0.01599")},
			{Tier: k4, Video: true, MaxArea: 8_847_360, Price: dec("0.03599")},
		},
		Scenarios: []billing.ScenarioSpec{
			{Scenario: billing.AudioLive}, {Scenario: billing.VideoLive, Video: true},
			{Scenario: billing.AudioCall}, {Scenario: billing.VideoCall, Video: true},
		},
		// 10,000 free minutes a month for 12 months, on the first
		// application's day of the month, drawn first.
		Kinds:   []billing.PackageKind{{Name: billing.KindFree, Ratios: free, First: true}},
		Monthly: billing.Recurring{Kind: billing.KindFree, Minutes: 10_000, Anniversary: true, Months: 12},
		ValueAdded: []billing.ValueAddedService{
			{Service: recording, Tiering: billing.Aggregate, Tiers: []billing.TierSpec{
				{Tier: audio, Price: dec("0.00149")},
				{Tier: hd, Video: true, MaxArea: 921_600, Price: dec("0.00599")},
				{Tier: fhd, Video: true, MaxArea: 2_073_600, Price: dec("0.01349")},
				{Tier: k2, Video: true, MaxArea: 3_686_400, Price: dec("0.02399")},
				{Tier: "2k+", Video: true, MaxArea: 8_847_360, Price: dec("0.05399")},
			}},
			{Service: mix, Tiering: billing.Aggregate, Tiers: mixTiers("0.00199", "0.00599", "0.01399", "0.02599", "0.06999")},
			{Service: h265, Tiering: billing.Aggregate, Tiers: mixTiers("0.00199", "0.01799", "0.03799", "0.06999", "0.18999")},
		},
	}
	if diff := cmp.Diff(want, billing.Era3USD(), cmpOpts); diff != "" {
		t.Errorf("Era3USD (-want +got):\n%s", diff)
	}
	// The aggregate rule of Tencent's Era 3 example: receivers of
	// 3,072,000 and 3,379,200 pixels are in 2K; 4096×2160 is 4K, one
	// pixel row more has no tier. MixTranscoding's example: 1920×1080 +
	// 1280×720 = 2,995,200 is 2K.
	b := billing.Era3USD()
	for _, c := range []struct {
		s       billing.Service
		streams []billing.Resolution
		want    billing.Tier
	}{
		{billing.ServiceBasic, []billing.Resolution{{Width: 1920, Height: 1080}, {Width: 960, Height: 1040}}, k2}, // 2,073,600 + 998,400
		{billing.ServiceBasic, []billing.Resolution{{Width: 2560, Height: 1320}}, k2},                             // 3,379,200
		{billing.ServiceBasic, []billing.Resolution{{Width: 4096, Height: 2160}}, k4},
		{mix, []billing.Resolution{{Width: 1920, Height: 1080}, {Width: 1280, Height: 720}}, k2},
		{h265, []billing.Resolution{{Width: 4096, Height: 2176}}, k4},
	} {
		if got, err := b.ServiceTiers(c.s, c.streams...); err != nil || !cmp.Equal(got, []billing.Tier{c.want}) {
			t.Errorf("ServiceTiers(%s, %v) = %v, %v; want [%s]", c.s, c.streams, got, err, c.want)
		}
	}
	if got, err := b.VideoTiers(billing.Resolution{Width: 4096, Height: 2161}); err == nil {
		t.Errorf("VideoTiers(4096×2161) = %v; want an error", got)
	}
}

// era3At is an instant of March 2025 in UTC+8.
func era3At(day, hour, minute int) time.Time {
	return time.Date(2025, 3, day, hour, minute, 0, 0, cst)
}

// era3Key is the key of the basic meter of tier and app on 2025-03-15.
func era3Key(tier billing.Tier, app string) billing.MeterKey {
	return billing.MeterKey{Day: refDateDay(2025, 3, 15), Service: billing.ServiceBasic, Tier: tier, App: app}
}

// era3Usage is a usage of account "a" and the receipt it should get.
type era3Usage struct {
	u    billing.Usage
	want billing.Receipt
}

// recordEach records each usage at its time and compares its receipt.
func recordEach(t *testing.T, h *harness, us []era3Usage) {
	t.Helper()
	for _, c := range us {
		h.clock.Set(c.u.At)
		c.u.Account = "a"
		got, err := h.e.Record(h.ctx, c.u)
		if err != nil {
			t.Fatalf("%s: %v", c.u.ID, err)
		}
		if diff := cmp.Diff(c.want, got, cmpOpts); diff != "" {
			t.Errorf("%s: receipt (-want +got):\n%s", c.u.ID, diff)
		}
	}
}

// TestEra3PerAppRounding: Era3USD rounds each application's usage of a
// day on its own, draws the free minutes at 1:1/1:4, and bills a line per
// application.
func TestEra3PerAppRounding(t *testing.T) {
	h := newHarness(t, billing.Era3USD())
	h.clock.Set(era3At(15, 8, 0))
	if _, err := h.e.OpenAccount(h.ctx, billing.AccountSpec{ID: "a", Postpaid: true, App: "app1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.CreateApp(h.ctx, "a", billing.AppSpec{ID: "app2"}); err != nil {
		t.Fatal(err)
	}
	day := refDateDay(2025, 3, 15)
	grant := billing.GrantPrefix + "2025-03-15"
	recordEach(t, h, []era3Usage{
		// 30 s of HD in app1: 1 minute of its own, 4 free minutes (1:4).
		{billing.Usage{ID: "u1", App: "app1", Scenario: billing.VideoCall, Tier: hd, Seconds: 30, At: era3At(15, 10, 0)},
			billing.Receipt{Key: era3Key(hd, "app1"), Minutes: 1, Draws: []billing.Draw{{Package: grant, Minutes: 1, Deducted: 4}}}},
		// 30 s more in app2: its own minute (one meter of the account's
		// would have stayed at 1 minute), 4 more free minutes: 9,992 left.
		{billing.Usage{ID: "u2", App: "app2", Scenario: billing.VideoCall, Tier: hd, Seconds: 30, At: era3At(15, 10, 1)},
			billing.Receipt{Key: era3Key(hd, "app2"), Minutes: 1, Draws: []billing.Draw{{Package: grant, Minutes: 1, Deducted: 4}}}},
		// 600,000 s = 10,000 minutes of audio in app1: 9,992 free, 8 postpaid.
		{billing.Usage{ID: "u3", App: "app1", Scenario: billing.VideoCall, Tier: audio, Seconds: 600_000, At: era3At(15, 10, 2)},
			billing.Receipt{Key: era3Key(audio, "app1"), Minutes: 10_000, Draws: []billing.Draw{{Package: grant, Minutes: 9_992, Deducted: 9_992}}, Postpaid: 8}},
	})
	h.clock.Set(era3At(16, 10, 0))
	bill, err := h.e.Settle(h.ctx, "a", day)
	if err != nil {
		t.Fatal(err)
	}
	want := billing.Bill{Account: "a", Day: day, Through: day, Currency: "USD", Issued: era3At(16, 10, 0), PostpaidOn: true,
		Lines: []billing.Line{
			// 8 × 0.00099 = 0.00792
			{Day: day, Service: billing.ServiceBasic, Tier: audio, App: "app1", Seconds: 600_000, Minutes: 10_000, Prepaid: 9_992, Postpaid: 8,
				Billed: 8, UnitPrice: dec("0.00099"), Amount: dec("0.00792")},
			{Day: day, Service: billing.ServiceBasic, Tier: hd, App: "app1", Seconds: 30, Minutes: 1, Prepaid: 1, UnitPrice: dec("0.00399"), Amount: dec("0")},
			{Day: day, Service: billing.ServiceBasic, Tier: hd, App: "app2", Seconds: 30, Minutes: 1, Prepaid: 1, UnitPrice: dec("0.00399"), Amount: dec("0")},
		},
		Subtotal: dec("0.00792"), Total: dec("0.01"),
	}
	if diff := cmp.Diff(want, bill, cmpOpts); diff != "" {
		t.Errorf("bill (-want +got):\n%s", diff)
	}
}

// era3Host is Era3USD with the kinds a host sells (its own sizes and
// prices: Tencent publishes none): "standard", a monthly package bound to
// one application that does not stack (50,000 minutes for 29.99, other
// sizes at 0.0007 a minute), and "promo", a pack of the whole account
// (1,000 minutes for 9.90, others at 0.0099), both at Era 3's ratios and
// valid one month. The model's runs on Era 3 use it too.
func era3Host() billing.PriceBook {
	b := billing.Era3USD()
	b.ID = "era3-usd-host"
	b.Kinds = append(b.Kinds,
		billing.PackageKind{Name: "standard", Ratios: billing.Era3Ratios(), Validity: billing.Validity{Months: 1},
			AppBound: true, NoStacking: true, Pricing: billing.Pricing{Unit: 1000, Offers: []billing.Offer{{Minutes: 50_000, Price: dec("29.99")}},
				Bands: []billing.Band{{From: 0, PerMinute: dec("0.0007")}}}},
		billing.PackageKind{Name: "promo", Ratios: billing.Era3Ratios(), Validity: billing.Validity{Months: 1},
			Pricing: billing.Pricing{Unit: 1000, Offers: []billing.Offer{{Minutes: 1000, Price: dec("9.90")}},
				Bands: []billing.Band{{From: 0, PerMinute: dec("0.0099")}}}},
	)
	return b
}

// TestEra3BoundPackages: the free minutes first, then the packages bound
// to the usage's application, then the account's, whatever their expiry;
// a bound package covers its application only, absorbs only its day's
// uncovered minutes, resumes only it, and does not stack.
func TestEra3BoundPackages(t *testing.T) {
	h := newHarness(t, era3Host())
	h.clock.Set(era3At(14, 8, 0))
	if _, err := h.e.OpenAccount(h.ctx, billing.AccountSpec{ID: "a", App: "app1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.CreateApp(h.ctx, "a", billing.AppSpec{ID: "app2"}); err != nil {
		t.Fatal(err)
	}
	buy := func(id, kind, app string, minutes int64, at time.Time) (billing.PurchaseReceipt, error) {
		h.clock.Set(at)
		return h.e.Buy(h.ctx, billing.Purchase{ID: id, Account: "a", Kind: kind, Minutes: minutes, App: app})
	}
	// promo, bought on the 14th, ends on April 14th; s1, of app1, bought on
	// the 15th, on April 15th.
	if _, err := buy("promo", "promo", "", 1000, era3At(14, 9, 0)); err != nil {
		t.Fatal(err)
	}
	r, err := buy("s1", "standard", "app1", 50_000, era3At(15, 9, 0))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2025, 4, 15, 0, 0, 0, 0, cst); !r.Package.End.Equal(want) || r.Package.App != "app1" {
		t.Errorf("s1 ends %v for %q; want %v for app1", r.Package.End, r.Package.App, want)
	}
	grant := billing.GrantPrefix + "2025-03-14"
	recordEach(t, h, []era3Usage{
		// 120,000 s = 2,000 FHD minutes of app1 (1:9): the free minutes pay
		// 1,111 (9,999 of 10,000), s1 the other 889 (8,001); promo, which
		// ends sooner, is left for last.
		{billing.Usage{ID: "u1", App: "app1", Scenario: billing.VideoCall, Tier: fhd, Seconds: 120_000, At: era3At(15, 10, 0)},
			billing.Receipt{Key: era3Key(fhd, "app1"), Minutes: 2000,
				Draws: []billing.Draw{{Package: grant, Minutes: 1111, Deducted: 9999}, {Package: "s1", Minutes: 889, Deducted: 8001}}}},
		// 7,200 s = 120 FHD minutes of app2: the free minute left is less
		// than 9, s1 is app1's, promo pays 111 (999 of 1,000); 9 minutes
		// are shortfall and app2 is suspended.
		{billing.Usage{ID: "u2", App: "app2", Scenario: billing.VideoCall, Tier: fhd, Seconds: 7200, At: era3At(15, 10, 1)},
			billing.Receipt{Key: era3Key(fhd, "app2"), Minutes: 120, Draws: []billing.Draw{{Package: "promo", Minutes: 111, Deducted: 999}},
				Shortfall: 9, Suspended: true}},
		// 60 s of audio in app1: the last free minute, first still.
		{billing.Usage{ID: "u3", App: "app1", Scenario: billing.VideoCall, Tier: audio, Seconds: 60, At: era3At(15, 10, 2)},
			billing.Receipt{Key: era3Key(audio, "app1"), Minutes: 1, Draws: []billing.Draw{{Package: grant, Minutes: 1, Deducted: 1}}}},
		// 60 s of audio in app2, suspended: promo's last minute.
		{billing.Usage{ID: "u4", App: "app2", Scenario: billing.VideoCall, Tier: audio, Seconds: 60, At: era3At(15, 10, 3)},
			billing.Receipt{Key: era3Key(audio, "app2"), Minutes: 1, Draws: []billing.Draw{{Package: "promo", Minutes: 1, Deducted: 1}}, WhileSuspended: true}},
	})
	// Purchases that do not fit the kind, or stack, are refused.
	for _, c := range []struct {
		id, kind, app string
		minutes       int64
		want          error
	}{
		{"s2", "standard", "app1", 50_000, billing.ErrNotStackable}, // s1 is valid until April 15th
		{"s2", "standard", "", 50_000, billing.ErrUnknownApp},       // bound to no application
		{"s2", "standard", "app9", 50_000, billing.ErrUnknownApp},
		{"s2", "promo", "app1", 1000, billing.ErrInvalidID}, // the account's kind names no application
	} {
		if _, err := buy(c.id, c.kind, c.app, c.minutes, era3At(15, 11, 0)); !cmp.Equal(err, c.want, cmpOpts) {
			t.Errorf("Buy(%s for %q) = %v; want %v", c.kind, c.app, err, c.want)
		}
	}
	// A package of app3 absorbs none of app2's shortfall, nor resumes it.
	if _, err := h.e.CreateApp(h.ctx, "a", billing.AppSpec{ID: "app3"}); err != nil {
		t.Fatal(err)
	}
	// Only s1, app1's, has minutes left: app3 may not start a session.
	if ad, err := h.e.Admit(h.ctx, "a", "app3", billing.ServiceBasic, era3At(15, 11, 0)); err != nil || ad.Admitted {
		t.Errorf("Admit(app3) = %+v, %v; want not admitted", ad, err)
	}
	r, err = buy("s4", "standard", "app3", 50_000, era3At(15, 11, 0))
	if err != nil || len(r.Absorbed) != 0 || r.Resumed || r.Package.Balance != 50_000 {
		t.Errorf("s4 = %+v, %v; want nothing absorbed nor resumed", r, err)
	}
	// A package of app2 absorbs its 9 minutes of shortfall (81 package
	// minutes) and resumes it.
	r, err = buy("s3", "standard", "app2", 50_000, era3At(15, 11, 0))
	if err != nil {
		t.Fatal(err)
	}
	wantAbsorbed := []billing.Absorption{{Tier: fhd, App: "app2", Shortfall: 9, Deducted: 81}}
	if diff := cmp.Diff(wantAbsorbed, r.Absorbed); diff != "" || !r.Resumed || r.Package.Balance != 49_919 {
		t.Errorf("s3: resumed %v, balance %d (want true, 49,919); absorbed (-want +got):\n%s", r.Resumed, r.Package.Balance, diff)
	}
	// The deduction order: the free minutes, the bound packages (by end,
	// then purchase), the account's.
	o, err := h.e.Overview(h.ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range o.Packages {
		ids = append(ids, p.ID)
	}
	if want := []string{grant, "s1", "s3", "s4", "promo"}; !cmp.Equal(ids, want) {
		t.Errorf("packages %v; want %v", ids, want)
	}
}

// TestEra3FreeMinutesForAYear: Era 3's free minutes come for 12 months, on
// the first application's day of the month (the month's last day if
// shorter), each until the next.
func TestEra3FreeMinutesForAYear(t *testing.T) {
	h := newHarness(t, billing.Era3USD())
	h.clock.Set(time.Date(2025, 1, 31, 8, 0, 0, 0, cst))
	if _, err := h.e.OpenAccount(h.ctx, billing.AccountSpec{ID: "a", Postpaid: true, App: "app1"}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 2, 10, 12, 0, 0, 0, cst)
	h.clock.Set(at)
	if _, err := h.e.Record(h.ctx, billing.Usage{ID: "u", Account: "a", App: "app1", Scenario: billing.AudioCall, Tier: audio, Seconds: 60, At: at}); err != nil {
		t.Fatal(err)
	}
	o, err := h.e.Overview(h.ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range o.Packages {
		got = append(got, p.ID)
	}
	want := []string{"grant:2025-01-31", "grant:2025-02-28", "grant:2025-03-31", "grant:2025-04-30", "grant:2025-05-31", "grant:2025-06-30",
		"grant:2025-07-31", "grant:2025-08-31", "grant:2025-09-30", "grant:2025-10-31", "grant:2025-11-30", "grant:2025-12-31"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("grants (-want +got):\n%s", diff)
	}
	if last := o.Packages[len(o.Packages)-1]; !last.End.Equal(time.Date(2026, 1, 31, 0, 0, 0, 0, cst)) {
		t.Errorf("the last grant ends %v; want 2026-01-31 00:00", last.End)
	}
}

// TestEra3LateReportBoundPackage: a late report of app3's usage takes the
// free minutes' last minute that app1's later usage had taken, which then
// takes a minute from app1's own package; app3's minute, postpaid before,
// is now prepaid. (A replay that stops early, at a checkpoint, once took
// app1's package for the payer of app3's meter: it left app3's minute
// postpaid and app1's package 4 minutes too high.)
func TestEra3LateReportBoundPackage(t *testing.T) {
	h := newHarness(t, era3Host())
	billing.SetCheckpointEvery(h.e, 1) // a checkpoint between every two operations, where a replay may stop
	h.clock.Set(era3At(14, 8, 0))
	if _, err := h.e.OpenAccount(h.ctx, billing.AccountSpec{ID: "a", App: "app1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.CreateApp(h.ctx, "a", billing.AppSpec{ID: "app3", Postpaid: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.Buy(h.ctx, billing.Purchase{ID: "p0", Account: "a", Kind: "standard", Minutes: 50_000, App: "app1"}); err != nil {
		t.Fatal(err)
	}
	grant := billing.GrantPrefix + "2025-03-14"
	recordEach(t, h, []era3Usage{
		// 599,520 s = 9,992 minutes of audio: 8 free minutes are left.
		{billing.Usage{ID: "u0", App: "app1", Scenario: billing.VideoCall, Tier: audio, Seconds: 599_520, At: era3At(15, 9, 0)},
			billing.Receipt{Key: era3Key(audio, "app1"), Minutes: 9_992, Draws: []billing.Draw{{Package: grant, Minutes: 9_992, Deducted: 9_992}}}},
		// 120 s of HD in app1 at 10:00:02: 2 minutes at 1:4, the last 8.
		{billing.Usage{ID: "u15", App: "app1", Scenario: billing.VideoCall, Tier: hd, Seconds: 120, At: era3At(15, 10, 0).Add(2 * time.Second)},
			billing.Receipt{Key: era3Key(hd, "app1"), Minutes: 2, Draws: []billing.Draw{{Package: grant, Minutes: 2, Deducted: 8}}}},
		// 50 s of HD in app3 then: nothing of the account's is left, p0 is
		// app1's: postpaid (app3's switch is on).
		{billing.Usage{ID: "u23", App: "app3", Scenario: billing.VideoCall, Tier: hd, Seconds: 50, At: era3At(15, 10, 0).Add(2 * time.Second)},
			billing.Receipt{Key: era3Key(hd, "app3"), Minutes: 1, Postpaid: 1}},
		// Late: 2 s of HD in app3 at 10:00:01, before both: app3's minute
		// is its, from the free minutes (4); u15 then gets 1 free minute
		// (4 left) and 1 of p0.
		{billing.Usage{ID: "u32", App: "app3", Scenario: billing.VideoCall, Tier: hd, Seconds: 2, At: era3At(15, 10, 0).Add(time.Second)},
			billing.Receipt{Key: era3Key(hd, "app3"), Minutes: 1, Draws: []billing.Draw{{Package: grant, Minutes: 1, Deducted: 4}}, Late: true}},
	})
	ms, err := h.e.Meters(h.ctx, "a", refDateDay(2025, 3, 15))
	if err != nil {
		t.Fatal(err)
	}
	want := []billing.Meter{
		{Key: era3Key(audio, "app1"), Seconds: 599_520, Prepaid: 9_992},
		{Key: era3Key(hd, "app1"), Seconds: 120, Prepaid: 2},
		{Key: era3Key(hd, "app3"), Seconds: 52, Prepaid: 1},
	}
	if diff := cmp.Diff(want, ms, cmpOpts, cmpopts.IgnoreFields(billing.Meter{}, "Latest", "EarlierPostpaid", "EarlierShortfall")); diff != "" {
		t.Errorf("meters (-want +got):\n%s", diff)
	}
	o, err := h.e.Overview(h.ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range o.Packages {
		if want := map[string]int64{grant: 0, "p0": 49_996}[p.ID]; p.Balance != want {
			t.Errorf("%s: balance %d, want %d", p.ID, p.Balance, want)
		}
	}
}
