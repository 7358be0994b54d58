package billing_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/memstore"
)

// TestEra2Book checks every figure of Era2USD against the domain reference
// (§1, §2.1, §2.3, §4.2) and docs/research/era2-era3.md (§1a, §2 v1, §3,
// §4a).
func TestEra2Book(t *testing.T) {
	ones := func(s billing.Service, tiers ...billing.Tier) []billing.Ratio {
		var rs []billing.Ratio
		for _, tier := range tiers {
			rs = append(rs, billing.Ratio{Tier: tier, Minutes: 1, Service: s})
		}
		return rs
	}
	free := ones(billing.ServiceBasic, audio, sd, hd, fhd)
	free = append(free, ones(recording, audio, hd, fhd, "2k", "2k+")...)
	free = append(free, ones(mix, audio, sd, hd, fhd)...)
	era2 := time.Date(2021, 10, 27, 0, 0, 0, 0, cst)
	// In force from Era 1's start, for the accounts from Era 2's.
	want := billing.PriceBook{
		ID: "era2-usd", Currency: "USD", Decimals: 2, From: time.Date(2019, 10, 11, 0, 0, 0, 0, cst), CohortFrom: era2, Tiering: billing.Aggregate,
		// USD per 1,000 minutes: 0.99, 1.99, 3.99, 14.99, by aggregate area;
		// FHD has no upper bound (version A).
		Tiers: []billing.TierSpec{
			{Tier: audio, Price: dec("0.00099")},
			{Tier: sd, Video: true, MaxArea: 307_200, Price: dec("0.00199")},
			{Tier: hd, Video: true, MaxArea: 921_600, Price: dec("0.00399")},
			{Tier: fhd, Video: true, Price: dec("0.01499")},
		},
		Scenarios: []billing.ScenarioSpec{
			{Scenario: billing.AudioLive}, {Scenario: billing.VideoLive, Video: true},
			{Scenario: billing.AudioCall}, {Scenario: billing.VideoCall, Video: true},
		},
		Kinds: []billing.PackageKind{
			// 10,000 free minutes a month, 1:1 for basic, recording and MixTranscoding.
			{Name: billing.KindFree, Ratios: free},
			{Name: uni, Ratios: []billing.Ratio{{Tier: audio, Minutes: 1}, {Tier: sd, Minutes: 2}, {Tier: hd, Minutes: 4}, {Tier: fhd, Minutes: 15}},
				Validity: billing.Validity{Months: 12, ToMonthEnd: true}, AutoPostpaid: true, Pricing: billing.Pricing{
					Unit:   1000,
					Offers: []billing.Offer{{25_000, dec("24")}, {250_000, dec("227")}, {1_000_000, dec("856")}, {3_000_000, dec("2416")}},
					Bands:  []billing.Band{{0, dec("0.00099")}, {25_000, dec("0.00096")}, {250_000, dec("0.000908")}, {1_000_000, dec("0.000856")}, {3_000_000, dec("0.000805")}},
				}},
		},
		Monthly: billing.Recurring{Kind: billing.KindFree, Minutes: 10_000},
		ValueAdded: []billing.ValueAddedService{
			// Recording by the task's aggregate area, USD per 1,000 minutes:
			// 1.49, 5.99 (to 921,600), 13.49 (to 2,073,600), 23.99 (to
			// 3,686,400), 53.99 (to 4096×2160 = 8,847,360).
			{Service: recording, Tiering: billing.Aggregate, Tiers: []billing.TierSpec{
				{Tier: audio, Price: dec("0.00149")},
				{Tier: hd, Video: true, MaxArea: 921_600, Price: dec("0.00599")},
				{Tier: fhd, Video: true, MaxArea: 2_073_600, Price: dec("0.01349")},
				{Tier: "2k", Video: true, MaxArea: 3_686_400, Price: dec("0.02399")},
				{Tier: "2k+", Video: true, MaxArea: 8_847_360, Price: dec("0.05399")},
			}},
			// MixTranscoding as Era 1's, per output stream.
			{Service: mix, From: time.Date(2020, 11, 1, 0, 0, 0, 0, cst), EarlierAccountsFrom: time.Date(2020, 12, 1, 0, 0, 0, 0, cst),
				Tiering: billing.PerStream, Tiers: []billing.TierSpec{
					{Tier: audio, Price: dec("0.000799")}, {Tier: sd, Video: true, MaxArea: 307_200, Price: dec("0.00228571")},
					{Tier: hd, Video: true, MaxArea: 921_600, Price: dec("0.00464286")}, {Tier: fhd, Video: true, Price: dec("0.00899")},
				}},
		},
	}
	if diff := cmp.Diff(want, billing.Era2USD(), cmpOpts); diff != "" {
		t.Errorf("Era2USD (-want +got):\n%s", diff)
	}
	// The aggregate rule: the research notes' example, two 960×720
	// streams, 1,382,400 pixels, is FHD; recording of 1920×1080 and
	// 1280×720, 2,995,200, is 2K; 4096×2161 is above the top bound.
	b := billing.Era2USD()
	r960 := billing.Resolution{Width: 960, Height: 720}
	if got, err := b.VideoTiers(r960, r960); err != nil || !cmp.Equal(got, []billing.Tier{fhd}) {
		t.Errorf("VideoTiers(960×720 twice) = %v, %v; want [fhd]", got, err)
	}
	got, err := b.ServiceTiers(recording, billing.Resolution{Width: 1920, Height: 1080}, billing.Resolution{Width: 1280, Height: 720})
	if err != nil || !cmp.Equal(got, []billing.Tier{"2k"}) {
		t.Errorf("ServiceTiers(recording, 1920×1080 + 1280×720) = %v, %v; want [2k]", got, err)
	}
	if got, err := b.ServiceTiers(recording, billing.Resolution{Width: 4096, Height: 2161}); err == nil {
		t.Errorf("ServiceTiers(recording, 4096×2161) = %v; want an error", got)
	}
}

// TestErasSideBySide: AllEras' books bill an account whose first
// application was created on 2021-10-26 by Era 1 and one of 2021-10-27 by
// Era 2, in one Engine, on the same day.
func TestErasSideBySide(t *testing.T) {
	h := newHarness(t, billing.AllEras()...)
	opened := map[string]time.Time{
		"era1": time.Date(2021, 10, 26, 23, 59, 59, 0, cst),
		"era2": time.Date(2021, 10, 27, 0, 0, 0, 0, cst),
	}
	for _, id := range []string{"era1", "era2"} {
		h.clock.Set(opened[id])
		if _, err := h.e.OpenAccount(h.ctx, billing.AccountSpec{ID: id, Postpaid: true, App: "app1"}); err != nil {
			t.Fatal(err)
		}
	}
	noon := time.Date(2021, 10, 28, 12, 0, 0, 0, cst)
	h.clock.Set(noon)
	for id, recTier := range map[string]billing.Tier{"era1": hd, "era2": "2k"} {
		for _, u := range []billing.Usage{
			{ID: "basic", Scenario: billing.VideoCall, Tier: hd, Seconds: 600}, // 10 minutes
			{ID: "rec", Service: recording, Tier: recTier, Seconds: 600_000},   // 10,000 minutes
		} {
			u.Account, u.App, u.At = id, "app1", noon
			if _, err := h.e.Record(h.ctx, u); err != nil {
				t.Fatalf("%s: %v", id, err)
			}
		}
	}
	day := refDateDay(2021, 10, 28)
	h.clock.Set(time.Date(2021, 10, 29, 10, 0, 0, 0, cst))
	tests := []struct {
		id    string
		lines []billing.Line
		total string
		pkgs  map[string]int64 // balances
	}{
		{
			// Era 1: the trial covers the 10 basic minutes (10,000 − 10 =
			// 9,990) and no recording: 10,000 × 0.00199 = 19.90.
			id: "era1",
			lines: []billing.Line{
				line(day, billing.ServiceBasic, hd, 600, 10, 0, 0, true, "0.00399", "0"),
				line(day, recording, hd, 600_000, 0, 10_000, 0, true, "0.00199", "19.9"),
			},
			total: "19.90", pkgs: map[string]int64{billing.TrialID: 9_990},
		},
		{
			// Era 2: no trial; October's free minutes cover the 10 basic
			// minutes and 9,990 of recording (10,000 − 10 − 9,990 = 0), the
			// other 10 at 2K's 0.02399: 0.2399.
			id: "era2",
			lines: []billing.Line{
				line(day, billing.ServiceBasic, hd, 600, 10, 0, 0, true, "0.00399", "0"),
				line(day, recording, "2k", 600_000, 9_990, 10, 0, true, "0.02399", "0.2399"),
			},
			total: "0.24", pkgs: map[string]int64{"grant:2021-10-27": 0},
		},
	}
	for _, tt := range tests {
		b, err := h.e.Settle(h.ctx, tt.id, day)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.lines, b.Lines, cmpOpts); diff != "" || b.Total.StringFixed(2) != tt.total {
			t.Errorf("%s: bill lines (-want +got):\n%s\ntotal %s, want %s", tt.id, diff, b.Total.StringFixed(2), tt.total)
		}
		o, err := h.e.Overview(h.ctx, tt.id)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for _, p := range o.Packages {
			got[p.ID] = p.Balance
		}
		if diff := cmp.Diff(tt.pkgs, got); diff != "" {
			t.Errorf("%s: balances (-want +got):\n%s", tt.id, diff)
		}
	}
	// November's free minutes: granted on the 1st, to December 1st.
	h.clock.Set(time.Date(2021, 11, 1, 9, 0, 0, 0, cst))
	o, err := h.e.Overview(h.ctx, "era2")
	if err != nil {
		t.Fatal(err)
	}
	var nov *billing.Package
	for i := range o.Packages {
		if o.Packages[i].ID == "grant:2021-11-01" {
			nov = &o.Packages[i]
		}
	}
	if nov == nil || nov.Kind != billing.KindFree || nov.Book != "era2-usd" || nov.Balance != 10_000 ||
		!nov.Start.Equal(time.Date(2021, 11, 1, 0, 0, 0, 0, cst)) || !nov.End.Equal(time.Date(2021, 12, 1, 0, 0, 0, 0, cst)) {
		t.Errorf("November's grant %+v; want 10,000 free minutes of era2-usd from 2021-11-01 to 2021-12-01", nov)
	}
}

// TestAllErasCohortEdges checks AllEras' books around Era 2's first cohort:
// an account opened on 2021-10-26 without an application, which buys a
// package then and whose first application of 2021-10-27 makes it Era 2's,
// records usage of the 27th reported late (its purchase day is then priced
// by Era 2's book, in force for its cohort from Era 1's start); and an
// Engine billing in UTC opens an account at 2021-10-26 18:00 UTC, after
// 2021-10-27 00:00 UTC+8 (Era 2's cohort) but inside the UTC day that
// Era 1's book began.
func TestAllErasCohortEdges(t *testing.T) {
	d21 := func(m time.Month, d, hh, mm int) time.Time { return time.Date(2021, m, d, hh, mm, 0, 0, cst) }
	h := newHarness(t, billing.AllEras()...)
	h.do(op{now: d21(10, 26, 9, 0), open: &billing.AccountSpec{ID: "a", Postpaid: true}},
		buy(d21(10, 26, 10, 0), "p1", uni, 25_000),
		op{now: d21(10, 27, 9, 0), create: &billing.AppSpec{ID: "app1"}},
		use("u2", hd, 60, d21(10, 27, 10, 0)))
	h.clock.Set(d21(10, 27, 11, 0))
	// HD 60 s at 09:30, before u2: 1 minute from the free minutes its
	// first application brought (Era 2's: no trial), which expire first,
	// on November 1st, at 1.
	r, err := h.e.Record(h.ctx, *usage("u1", hd, 60, d21(10, 27, 9, 30)))
	want := billing.Receipt{Key: basic(refDateDay(2021, 10, 27), hd), Minutes: 1,
		Draws: []billing.Draw{{Package: "grant:2021-10-27", Minutes: 1, Deducted: 1}}, Late: true}
	if diff := cmp.Diff(want, r, cmpOpts); err != nil || diff != "" {
		t.Errorf("late usage of 2021-10-27 09:30: %v (-want +got):\n%s", err, diff)
	}

	c := &clock{t: time.Date(2021, 10, 26, 18, 0, 0, 0, time.UTC)}
	e, err := billing.New(memstore.New(), &billing.Options{Now: c.Now, Location: time.UTC, PriceBooks: billing.AllEras()})
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.OpenAccount(h.ctx, billing.AccountSpec{ID: "a", App: "app1"})
	if err != nil {
		t.Fatalf("OpenAccount at 2021-10-26 18:00 UTC: %v", err)
	}
	o, err := e.Overview(h.ctx, a.ID)
	if err != nil || len(o.Packages) != 1 || o.Packages[0].Book != "era2-usd" {
		t.Errorf("packages %+v, %v; want Era 2's free minutes only", o.Packages, err)
	}
}

// TestCohortsSideBySide bills three cohorts in one Engine (AllEras) on the
// same day, each by its own rules: an account of 2020-08 (Era 1, monthly:
// its trial expired at the end of August 2021), one of 2021-06 (Era 1,
// daily, its trial) and one of 2021-11 (Era 2, daily, its free minutes),
// each with 10 minutes of HD and 10 of HD recording on 2021-11-15.
func TestCohortsSideBySide(t *testing.T) {
	h := newHarness(t, billing.AllEras()...)
	opened := map[string]time.Time{
		"monthly": time.Date(2020, 8, 20, 9, 0, 0, 0, cst),
		"era1":    time.Date(2021, 6, 1, 9, 0, 0, 0, cst),
		"era2":    time.Date(2021, 11, 1, 9, 0, 0, 0, cst),
	}
	noon := time.Date(2021, 11, 15, 12, 0, 0, 0, cst)
	for _, id := range []string{"monthly", "era1", "era2"} {
		h.clock.Set(opened[id])
		if _, err := h.e.OpenAccount(h.ctx, billing.AccountSpec{ID: id, Postpaid: true, App: "app1"}); err != nil {
			t.Fatal(err)
		}
	}
	h.clock.Set(noon)
	for _, id := range []string{"monthly", "era1", "era2"} {
		for _, u := range []billing.Usage{
			{ID: "basic", Scenario: billing.VideoCall, Tier: hd, Seconds: 600},
			{ID: "rec", Service: recording, Tier: hd, Seconds: 600},
		} {
			u.Account, u.App, u.At = id, "app1", noon
			if _, err := h.e.Record(h.ctx, u); err != nil {
				t.Fatalf("%s: %v", id, err)
			}
		}
	}
	nov1, nov15, nov30 := refDateDay(2021, 11, 1), refDateDay(2021, 11, 15), refDateDay(2021, 11, 30)
	tests := []struct {
		id     string
		at     time.Time // when its period is due
		bill   billing.Bill
		before time.Time // a moment it is not due yet
	}{
		{
			// Monthly: nothing prepaid, 10 × 0.00399 + 10 × 0.00199 =
			// 0.0399 + 0.0199 = 0.0598, on November's bill, due on December 1st.
			id: "monthly", at: time.Date(2021, 12, 1, 10, 0, 0, 0, cst), before: time.Date(2021, 11, 16, 10, 0, 0, 0, cst),
			bill: billing.Bill{Account: "monthly", Day: nov1, Through: nov30, Currency: "USD", Issued: time.Date(2021, 12, 1, 10, 0, 0, 0, cst), PostpaidOn: true,
				Lines: []billing.Line{
					line(nov1, billing.ServiceBasic, hd, 600, 0, 10, 0, true, "0.00399", "0.0399"),
					line(nov15, recording, hd, 600, 0, 10, 0, true, "0.00199", "0.0199"),
				}, Subtotal: dec("0.0598"), Total: dec("0.06")},
		},
		{
			// Era 1 daily: the trial covers the basic minutes; recording
			// 10 × 0.00199 = 0.0199.
			id: "era1", at: time.Date(2021, 11, 16, 10, 0, 0, 0, cst), before: time.Date(2021, 11, 16, 9, 59, 0, 0, cst),
			bill: billing.Bill{Account: "era1", Day: nov15, Through: nov15, Currency: "USD", Issued: time.Date(2021, 11, 16, 10, 0, 0, 0, cst), PostpaidOn: true,
				Lines: []billing.Line{
					line(nov15, billing.ServiceBasic, hd, 600, 10, 0, 0, true, "0.00399", "0"),
					line(nov15, recording, hd, 600, 0, 10, 0, true, "0.00199", "0.0199"),
				}, Subtotal: dec("0.0199"), Total: dec("0.02")},
		},
		{
			// Era 2: November's free minutes cover both, 1:1; Era 2's HD
			// recording is 0.00599 a minute, billed for none.
			id: "era2", at: time.Date(2021, 11, 16, 10, 0, 0, 0, cst), before: time.Date(2021, 11, 16, 9, 59, 0, 0, cst),
			bill: billing.Bill{Account: "era2", Day: nov15, Through: nov15, Currency: "USD", Issued: time.Date(2021, 11, 16, 10, 0, 0, 0, cst), PostpaidOn: true,
				Lines: []billing.Line{
					line(nov15, billing.ServiceBasic, hd, 600, 10, 0, 0, true, "0.00399", "0"),
					line(nov15, recording, hd, 600, 10, 0, 0, true, "0.00599", "0"),
				}, Subtotal: dec("0"), Total: dec("0")},
		},
	}
	for _, tt := range tests {
		if due, err := h.e.DueDays(h.ctx, tt.id, tt.before); err != nil || len(due) != 0 {
			t.Errorf("%s: DueDays(%v) = %v, %v; want none yet", tt.id, tt.before, due, err)
		}
		h.clock.Set(tt.at)
		due, err := h.e.DueDays(h.ctx, tt.id, tt.at)
		if err != nil || !cmp.Equal(due, []billing.Day{tt.bill.Day}) {
			t.Errorf("%s: DueDays(%v) = %v, %v; want [%s]", tt.id, tt.at, due, err, tt.bill.Day)
			continue
		}
		b, err := h.e.Settle(h.ctx, tt.id, due[0])
		if diff := cmp.Diff(tt.bill, b, cmpOpts); err != nil || diff != "" {
			t.Errorf("%s: Settle = %v (-want +got):\n%s", tt.id, err, diff)
		}
	}
}

// TestCohortsByFirstApplication bills four accounts in one Engine
// (AllEras) on 2022-08-15, each by the rules of its cohort, the creation of
// its first application (not its opening): the price-book family, the
// cycle and the cloud-recording model. Each uses 10 minutes of HD video
// and some value-added service that day:
//
//   - cny-2020-06, first application 2020-06-20: Era 1, monthly (on or
//     before 2020-08-31), its recording billed under CSS rules (before
//     2020-07-01), so refused here; its MixTranscoding billed;
//   - cny-2020-09, first application 2020-09-10: Era 1, daily, Era 1
//     recording;
//   - cny-late, opened 2020-03-01 without one, first application
//     2022-08-01: daily, its trial then, and the recording model of
//     2022 (Era 1 recording refused, mixed recording billed);
//   - usd-late, opened 2020-03-01 without one, first application
//     2022-08-01: Era 2 (from 2021-10-27), daily, Era 2's free minutes
//     and no Era 1 trial.
func TestCohortsByFirstApplication(t *testing.T) {
	cn := func(y int, m time.Month, d, hh int) time.Time { return time.Date(y, m, d, hh, 0, 0, 0, cst) }
	h := newHarness(t, billing.AllEras()...)
	for _, a := range []struct {
		id, currency string
		opened, app  time.Time // app: the first application's creation, if not at the opening
	}{
		{"cny-2020-06", "CNY", cn(2020, 6, 20, 9), time.Time{}},
		{"cny-2020-09", "CNY", cn(2020, 9, 10, 9), time.Time{}},
		{"cny-late", "CNY", cn(2020, 3, 1, 9), cn(2022, 8, 1, 9)},
		{"usd-late", "USD", cn(2020, 3, 1, 9), cn(2022, 8, 1, 9)},
	} {
		spec := billing.AccountSpec{ID: a.id, Currency: a.currency, Postpaid: true}
		if a.app.IsZero() {
			spec.App = "app1"
		}
		h.clock.Set(a.opened)
		if _, err := h.e.OpenAccount(h.ctx, spec); err != nil {
			t.Fatalf("%s: %v", a.id, err)
		}
		if !a.app.IsZero() {
			h.clock.Set(a.app)
			if _, err := h.e.CreateApp(h.ctx, a.id, billing.AppSpec{ID: "app1"}); err != nil {
				t.Fatalf("%s: %v", a.id, err)
			}
		}
	}
	noon := cn(2022, 8, 15, 12)
	h.clock.Set(noon)
	mixed := billing.ServiceRecordingMixed
	for _, u := range []struct {
		account string
		service billing.Service
		seconds int64
		err     error
	}{
		{"cny-2020-06", billing.ServiceBasic, 600, nil},
		{"cny-2020-06", recording, 600, billing.ErrNoPriceBook}, // first application before 2020-07-01
		{"cny-2020-06", mix, 660, nil},
		{"cny-2020-09", billing.ServiceBasic, 600, nil},
		{"cny-2020-09", recording, 600, nil},
		{"cny-2020-09", mixed, 600, billing.ErrNoPriceBook}, // application before 2022-07-20
		{"cny-late", billing.ServiceBasic, 600, nil},
		{"cny-late", recording, 600, billing.ErrNoPriceBook}, // application from 2022-07-20
		{"cny-late", mixed, 600, nil},
		{"usd-late", billing.ServiceBasic, 600, nil},
		{"usd-late", recording, 600, nil},
	} {
		r := billing.Usage{ID: string(u.service), Account: u.account, App: "app1", Service: u.service, Tier: hd, Seconds: u.seconds, At: noon}
		if u.service == billing.ServiceBasic {
			r.Service, r.Scenario = "", billing.VideoCall
		}
		if _, err := h.e.Record(h.ctx, r); !errors.Is(err, u.err) {
			t.Errorf("%s: Record(%s) = %v, want %v", u.account, u.service, err, u.err)
		}
	}
	aug1, aug15, aug31 := refDateDay(2022, 8, 1), refDateDay(2022, 8, 15), refDateDay(2022, 8, 31)
	nextDay := cn(2022, 8, 16, 10)
	tests := []struct {
		id     string
		cycle  billing.Cycle
		books  []string // of its packages
		at     time.Time
		before time.Time
		bill   billing.Bill
	}{
		{
			// Monthly, the trial long expired: HD 10 × 0.028 = 0.28 on
			// the month's line; MixTranscoding HD 11 × 0.0325 = 0.3575
			// on its day's; 0.6375 → 0.64, on August's bill, due on
			// September 1st.
			id: "cny-2020-06", cycle: billing.Monthly, books: []string{"era1-cny"}, at: cn(2022, 9, 1, 10), before: nextDay,
			bill: billing.Bill{Account: "cny-2020-06", Day: aug1, Through: aug31, Currency: "CNY", Issued: cn(2022, 9, 1, 10), PostpaidOn: true,
				Lines: []billing.Line{
					line(aug1, billing.ServiceBasic, hd, 600, 0, 10, 0, true, "0.028", "0.28"),
					line(aug15, mix, hd, 660, 0, 11, 0, true, "0.0325", "0.3575"),
				}, Subtotal: dec("0.6375"), Total: dec("0.64")},
		},
		{
			// Daily: HD 10 × 0.028 = 0.28; Era 1 recording HD 10 × 0.014
			// = 0.14; 0.42.
			id: "cny-2020-09", cycle: billing.Daily, books: []string{"era1-cny"}, at: nextDay, before: nextDay.Add(-time.Minute),
			bill: billing.Bill{Account: "cny-2020-09", Day: aug15, Through: aug15, Currency: "CNY", Issued: nextDay, PostpaidOn: true,
				Lines: []billing.Line{
					line(aug15, billing.ServiceBasic, hd, 600, 0, 10, 0, true, "0.028", "0.28"),
					line(aug15, recording, hd, 600, 0, 10, 0, true, "0.014", "0.14"),
				}, Subtotal: dec("0.42"), Total: dec("0.42")},
		},
		{
			// Daily: the trial of 2022-08-01 covers HD 1:1; mixed
			// recording HD 10 × 0.035 = 0.35.
			id: "cny-late", cycle: billing.Daily, books: []string{"era1-cny"}, at: nextDay, before: nextDay.Add(-time.Minute),
			bill: billing.Bill{Account: "cny-late", Day: aug15, Through: aug15, Currency: "CNY", Issued: nextDay, PostpaidOn: true,
				Lines: []billing.Line{
					line(aug15, billing.ServiceBasic, hd, 600, 10, 0, 0, true, "0.028", "0"),
					line(aug15, mixed, hd, 600, 0, 10, 0, true, "0.035", "0.35"),
				}, Subtotal: dec("0.35"), Total: dec("0.35")},
		},
		{
			// Era 2: August's free minutes cover HD and HD recording 1:1.
			id: "usd-late", cycle: billing.Daily, books: []string{"era2-usd"}, at: nextDay, before: nextDay.Add(-time.Minute),
			bill: billing.Bill{Account: "usd-late", Day: aug15, Through: aug15, Currency: "USD", Issued: nextDay, PostpaidOn: true,
				Lines: []billing.Line{
					line(aug15, billing.ServiceBasic, hd, 600, 10, 0, 0, true, "0.00399", "0"),
					line(aug15, recording, hd, 600, 10, 0, 0, true, "0.00599", "0"),
				}, Subtotal: dec("0"), Total: dec("0")},
		},
	}
	for _, tt := range tests {
		o, err := h.e.Overview(h.ctx, tt.id)
		var books []string
		for _, p := range o.Packages {
			books = append(books, p.Book)
		}
		if err != nil || o.Account.Cycle != tt.cycle || !cmp.Equal(books, tt.books) {
			t.Errorf("%s: cycle %v, packages' books %v, %v; want %v, %v", tt.id, o.Account.Cycle, books, err, tt.cycle, tt.books)
		}
		if due, err := h.e.DueDays(h.ctx, tt.id, tt.before); err != nil || len(due) != 0 {
			t.Errorf("%s: DueDays(%v) = %v, %v; want none yet", tt.id, tt.before, due, err)
		}
		h.clock.Set(tt.at)
		due, err := h.e.DueDays(h.ctx, tt.id, tt.at)
		if err != nil || !cmp.Equal(due, []billing.Day{tt.bill.Day}) {
			t.Errorf("%s: DueDays(%v) = %v, %v; want [%s]", tt.id, tt.at, due, err, tt.bill.Day)
			continue
		}
		b, err := h.e.Settle(h.ctx, tt.id, due[0])
		if diff := cmp.Diff(tt.bill, b, cmpOpts); err != nil || diff != "" {
			t.Errorf("%s: Settle = %v (-want +got):\n%s", tt.id, err, diff)
		}
	}
}

// TestTrialWithFirstApplication checks that an account opened without an
// application gets the trial, or Era 2's free minutes, with its first
// application, from the book of its cohort (§2.1: the trial goes to
// "accounts that create applications for the first time").
func TestTrialWithFirstApplication(t *testing.T) {
	t.Run("Era 1", func(t *testing.T) {
		h := newHarness(t)
		h.do(op{now: at(1, 9, 0, 0), open: &billing.AccountSpec{ID: "a", Postpaid: true}})
		if ps := h.balances("a"); len(ps) != 0 {
			t.Errorf("packages before the first application %v, want none", ps)
		}
		h.do(op{now: at(10, 9, 0, 0), create: &billing.AppSpec{ID: "app1"}})
		o, err := h.e.Overview(h.ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		// 10,000 minutes from March 10 to the end of March 2022.
		want := []billing.Package{{ID: billing.TrialID, Kind: billing.KindTrial, Book: "era1-usd", Minutes: 10_000, Balance: 10_000,
			Currency: "USD", Price: dec("0"), PurchasedAt: at(10, 9, 0, 0), Start: at(10, 0, 0, 0), End: time.Date(2022, 4, 1, 0, 0, 0, 0, cst)}}
		if diff := cmp.Diff(want, o.Packages, cmpOpts); diff != "" {
			t.Errorf("packages (-want +got):\n%s", diff)
		}
	})
	t.Run("Era 2 by its first application", func(t *testing.T) {
		d21 := func(m time.Month, d, hh int) time.Time { return time.Date(2021, m, d, hh, 0, 0, 0, cst) }
		h := newHarness(t, billing.AllEras()...)
		h.do(op{now: d21(10, 26, 9), open: &billing.AccountSpec{ID: "a", Postpaid: true}},
			op{now: d21(10, 28, 9), create: &billing.AppSpec{ID: "app1"}})
		h.clock.Set(d21(10, 28, 11))
		// October 28's free minutes cover the 10 minutes of recording.
		r, err := h.e.Record(h.ctx, *vaUsage("r1", recording, hd, 600, d21(10, 28, 10)))
		want := billing.Receipt{Key: billing.MeterKey{Day: refDateDay(2021, 10, 28), Service: recording, Tier: hd}, Minutes: 10,
			Draws: []billing.Draw{{Package: "grant:2021-10-28", Minutes: 10, Deducted: 10}}}
		if diff := cmp.Diff(want, r, cmpOpts); err != nil || diff != "" {
			t.Errorf("recording of October 28: %v (-want +got):\n%s", err, diff)
		}
		// November: its 10,000 free minutes, no trial: 15,000 audio
		// minutes are 10,000 free and 5,000 postpaid.
		h.clock.Set(d21(11, 10, 11))
		r, err = h.e.Record(h.ctx, *usage("u1", audio, 15_000*60, d21(11, 10, 10)))
		if err != nil || r.Postpaid != 5_000 || len(r.Draws) != 1 || r.Draws[0].Package != "grant:2021-11-01" {
			t.Errorf("15,000 audio minutes in November: %+v, %v; want 10,000 from grant:2021-11-01, 5,000 postpaid", r, err)
		}
	})
}

// TestTrialAtTheOpeningsInstant: an account opened without an application
// whose first application is created at the same instant, then a package
// bought then, and usage of that instant reported after the purchase
// (late: it replays the purchase). The trial came with the application at
// (that instant, ClassOpening, "trial"), before the usage: it pays the
// usage's 59 s, one minute at ratio 1, whether the account opened at
// midnight or later, and whether a checkpoint was taken at every
// operation or not. (A replay once started from the opening's checkpoint,
// which came after the trial's key and did not know it: the minute was
// shortfall.)
func TestTrialAtTheOpeningsInstant(t *testing.T) {
	for _, opened := range []time.Time{time.Date(2020, 5, 28, 0, 0, 0, 0, cst), time.Date(2020, 5, 28, 10, 0, 0, 0, cst)} {
		for _, every := range []int64{1, billing.CheckpointEvery} {
			h := newHarness(t)
			billing.SetCheckpointEvery(h.e, every)
			h.clock.Set(opened)
			if _, err := h.e.OpenAccount(h.ctx, billing.AccountSpec{ID: "b"}); err != nil {
				t.Fatal(err)
			}
			if _, err := h.e.CreateApp(h.ctx, "b", billing.AppSpec{ID: "app1"}); err != nil {
				t.Fatal(err)
			}
			if _, err := h.e.Buy(h.ctx, billing.Purchase{ID: "p1", Account: "b", Kind: uni, Minutes: 1000}); err != nil {
				t.Fatal(err)
			}
			got, err := h.e.Record(h.ctx, billing.Usage{ID: "u1", Account: "b", App: "app1", Scenario: billing.VideoLive, Tier: audio, Seconds: 59, At: opened})
			if err != nil {
				t.Fatal(err)
			}
			want := billing.Receipt{Key: billing.MeterKey{Day: refDateDay(2020, 5, 28), Service: billing.ServiceBasic, Tier: audio},
				Minutes: 1, Draws: []billing.Draw{{Package: billing.TrialID, Minutes: 1, Deducted: 1}}, Late: true}
			if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
				t.Errorf("opened %v, a checkpoint every %d operations: receipt (-want +got):\n%s", opened, every, diff)
			}
		}
	}
}
