package billing_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
)

const (
	recording = billing.ServiceRecording
	mix       = billing.ServiceMixTranscoding
)

// vaUsage returns value-added usage of account "a" at t.
func vaUsage(id string, s billing.Service, tier billing.Tier, seconds int64, t time.Time) *billing.Usage {
	return &billing.Usage{ID: id, Account: "a", App: "app1", Service: s, Tier: tier, Seconds: seconds, At: t}
}

func vaUse(id string, s billing.Service, tier billing.Tier, seconds int64, t time.Time) op {
	return op{now: t, use: vaUsage(id, s, tier, seconds, t)}
}

// TestValueAdded checks that value-added usage is metered per day and
// output tier with the daily ceiling, all postpaid, never from packages, and
// without the postpaid switch.
func TestValueAdded(t *testing.T) {
	tests := []struct {
		name  string
		setup []op
		use   *billing.Usage
		want  billing.Receipt
	}{
		{
			name:  "recording: the first started minute",
			setup: []op{open(at(15, 8, 0, 0), false)},
			use:   vaUsage("r1", recording, hd, 90, at(15, 9, 0, 0)),
			// ceil(90/60) = 2 minutes, all postpaid; the trial is not touched.
			want: billing.Receipt{Key: billing.MeterKey{Day: march(15), Service: recording, Tier: hd}, Minutes: 2, Postpaid: 2},
		},
		{
			name:  "recording: inside a billed minute adds nothing",
			setup: []op{open(at(15, 8, 0, 0), false), vaUse("r1", recording, hd, 90, at(15, 9, 0, 0))},
			use:   vaUsage("r2", recording, hd, 30, at(15, 9, 30, 0)),
			// ceil(120/60) - ceil(90/60) = 2 - 2 = 0.
			want: billing.Receipt{Key: billing.MeterKey{Day: march(15), Service: recording, Tier: hd}},
		},
		{
			name:  "MixTranscoding has meters of its own",
			setup: []op{open(at(15, 8, 0, 0), false), vaUse("r1", recording, sd, 30, at(15, 9, 0, 0)), use("u1", sd, 30, at(15, 9, 0, 0))},
			use:   vaUsage("m1", mix, sd, 30, at(15, 9, 10, 0)),
			// Its own SD meter: ceil(30/60) = 1.
			want: billing.Receipt{Key: billing.MeterKey{Day: march(15), Service: mix, Tier: sd}, Minutes: 1, Postpaid: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.do(tt.setup...)
			before := h.balances("a")
			h.clock.Set(tt.use.At)
			got, err := h.e.Record(h.ctx, *tt.use)
			if err != nil {
				t.Fatalf("Record: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmpOpts); diff != "" {
				t.Errorf("Record() receipt (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, h.balances("a")); diff != "" {
				t.Errorf("value-added usage changed package balances (-before +after):\n%s", diff)
			}
			if a := h.account("a"); a.Postpaid.On {
				t.Errorf("value-added usage turned postpaid on: %+v", a.Postpaid)
			}
		})
	}
}

// TestValueAddedWithoutBasicService checks value-added usage against the
// account's basic service: Admit refuses to start a session without one,
// with the reason, yet usage reported anyway is recorded and billed (one
// postpaid minute: 60 s), its receipt flagged. Malformed usage is refused,
// with nothing recorded.
func TestValueAddedWithoutBasicService(t *testing.T) {
	drainTrial := use("u0", sd, 600_000, at(15, 9, 0, 0)) // exactly the trial's 10,000 minutes
	rec := vaUsage("r1", recording, hd, 60, at(15, 10, 0, 0))
	tests := []struct {
		name      string
		books     []billing.PriceBook
		setup     []op
		use       *billing.Usage
		why       []error // Admit's reason wraps every one; nil: admitted
		suspended bool    // the receipt's WhileSuspended
		wantErr   []error // Record's error wraps every one; nil: recorded
		admitErr  error   // Admit's error (it knows the service, not the tier or scenario)
	}{
		{
			name:      "a suspended account",
			setup:     []op{open(at(15, 8, 0, 0), false), drainTrial, use("u1", audio, 60, at(15, 9, 30, 0))},
			use:       rec,
			why:       []error{billing.ErrNoBasicService, billing.ErrSuspended},
			suspended: true,
		},
		{
			name:  "a used-up trial without postpaid, not yet suspended",
			setup: []op{open(at(15, 8, 0, 0), false), drainTrial},
			use:   rec,
			why:   []error{billing.ErrNoBasicService},
		},
		{
			name:  "an expired trial without postpaid",
			setup: []op{open(at(15, 8, 0, 0), false)},
			use:   vaUsage("r1", recording, hd, 60, time.Date(2022, 4, 1, 0, 0, 0, 0, cst)),
			why:   []error{billing.ErrNoBasicService},
		},
		{
			name:  "a used-up trial, postpaid on",
			setup: []op{open(at(15, 8, 0, 0), true), drainTrial},
			use:   rec,
		},
		{
			name:  "a used-up universal package: the automatic switch would pay",
			books: []billing.PriceBook{noTrial()},
			setup: []op{open(at(15, 8, 0, 0), false), buy(at(15, 8, 10, 0), "p1", uni, 1000), use("u0", audio, 60_000, at(15, 9, 0, 0))},
			use:   rec,
		},
		{
			name:  "a trial with one minute left",
			setup: []op{open(at(15, 8, 0, 0), false), use("u0", sd, 599_940, at(15, 9, 0, 0))},
			use:   rec,
		},
		{
			name:     "a service the book does not price",
			setup:    []op{open(at(15, 8, 0, 0), true)},
			use:      vaUsage("r1", "transcription", hd, 60, at(15, 10, 0, 0)),
			wantErr:  []error{billing.ErrUnknownService},
			admitErr: billing.ErrUnknownService,
		},
		{
			name:    "a tier the service does not price",
			setup:   []op{open(at(15, 8, 0, 0), true)},
			use:     vaUsage("r1", recording, "4k", 60, at(15, 10, 0, 0)),
			wantErr: []error{billing.ErrUnknownTier},
		},
		{
			name:    "a scenario on value-added usage",
			setup:   []op{open(at(15, 8, 0, 0), true)},
			use:     &billing.Usage{ID: "r1", Account: "a", App: "app1", Service: recording, Scenario: billing.VideoCall, Tier: hd, Seconds: 60, At: at(15, 10, 0, 0)},
			wantErr: []error{billing.ErrUnknownScenario},
		},
		{
			// Recording of accounts opened before 2020-07-01 was billed under CSS rules.
			name:     "recording for an account opened before TRTC billed it",
			setup:    []op{{now: time.Date(2020, 6, 30, 12, 0, 0, 0, cst), open: &billing.AccountSpec{ID: "a", Postpaid: true, App: "app1"}}},
			use:      vaUsage("r1", recording, hd, 60, at(15, 10, 0, 0)),
			wantErr:  []error{billing.ErrNoPriceBook},
			admitErr: billing.ErrNoPriceBook,
		},
		{
			// The rule follows the first application's creation, not the
			// account's opening: opened on 2020-06-30, its first
			// application created on 2020-07-01, it pays for recording.
			name: "recording for an account whose first application TRTC billed",
			setup: []op{{now: time.Date(2020, 6, 30, 12, 0, 0, 0, cst), open: &billing.AccountSpec{ID: "a", Postpaid: true}},
				{now: time.Date(2020, 7, 1, 0, 0, 0, 0, cst), create: &billing.AppSpec{ID: "app1"}}},
			use: vaUsage("r1", recording, hd, 60, at(15, 10, 0, 0)),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.books...)
			h.do(tt.setup...)
			h.clock.Set(tt.use.At)
			day := refCalendar{cst}.dayOf(tt.use.At)
			before := h.state("a", day)
			adm, admErr := h.e.Admit(h.ctx, "a", tt.use.App, tt.use.Service, tt.use.At)
			r, err := h.e.Record(h.ctx, *tt.use)
			if !errors.Is(admErr, tt.admitErr) { // both nil, or admErr wraps admitErr
				t.Errorf("Admit() error = %v, want %v", admErr, tt.admitErr)
			}
			if tt.wantErr != nil {
				for _, want := range tt.wantErr {
					if !errors.Is(err, want) {
						t.Errorf("Record() error = %v, want one wrapping %v", err, want)
					}
				}
				if diff := cmp.Diff(before, h.state("a", day), cmpOpts); diff != "" {
					t.Errorf("refused usage changed the account (-before +after):\n%s", diff)
				}
				return
			}
			if adm.Admitted != (tt.why == nil) {
				t.Errorf("Admit() = %+v; want admitted %v", adm, tt.why == nil)
			}
			for _, w := range tt.why {
				if !errors.Is(adm.Reason, w) {
					t.Errorf("Admit() reason %v, want one wrapping %v", adm.Reason, w)
				}
			}
			want := billing.Receipt{Key: billing.MeterKey{Day: day, Service: tt.use.Service, Tier: tt.use.Tier}, Minutes: 1, Postpaid: 1,
				WhileSuspended: tt.suspended, NoBasicService: tt.why != nil}
			if err != nil || !cmp.Equal(want, r, cmpOpts) {
				t.Errorf("Record() = %+v, %v; want %+v", r, err, want)
			}
		})
	}
}

// TestChinaRecording2022 checks the China site's cloud recording for
// applications created from 2022-07-20 (§4.2, 云端录制费用说明（新）): each
// input stream billed by its own area, single-stream or mixed, and the
// document's example; earlier applications keep Era 1's recording.
func TestChinaRecording2022(t *testing.T) {
	cnDay := func(m time.Month, d, h int) time.Time { return time.Date(2022, m, d, h, 0, 0, 0, cst) }
	single, mixed := billing.ServiceRecordingSingle, billing.ServiceRecordingMixed

	// The document's example: A audio only, B 640×360 (SD), C 1920×1080
	// (FHD, its bound included), 10 minutes each, mixed: 9 + 19 + 79 yuan
	// per 1,000 minutes × 10 = 0.09 + 0.19 + 0.79 = 1.07.
	tiers, err := billing.Era1CNY().ServiceTiers(mixed, billing.Resolution{Width: 640, Height: 360}, billing.Resolution{Width: 1920, Height: 1080})
	if diff := cmp.Diff([]billing.Tier{billing.TierSD, billing.TierFHD}, tiers); err != nil || diff != "" {
		t.Errorf("ServiceTiers(mixed, 640×360, 1920×1080) = %v, %v; want [sd fhd]", tiers, err)
	}
	h := newHarness(t)
	h.do(op{now: cnDay(8, 1, 9), open: &billing.AccountSpec{ID: "a", Currency: "CNY", Postpaid: true, App: "app1"}})
	for i, tier := range []billing.Tier{billing.TierAudio, billing.TierSD, billing.TierFHD} {
		h.do(vaUse(fmt.Sprint("r", i), mixed, tier, 600, cnDay(8, 1, 10)))
	}
	h.clock.Set(cnDay(8, 2, 10))
	b, err := h.e.Settle(h.ctx, "a", refDateDay(2022, 8, 1))
	if err != nil {
		t.Fatal(err)
	}
	d := refDateDay(2022, 8, 1)
	want := billing.Bill{Account: "a", Day: d, Through: d, Currency: "CNY", Issued: cnDay(8, 2, 10), PostpaidOn: true,
		Lines: []billing.Line{
			line(d, mixed, billing.TierAudio, 600, 0, 10, 0, true, "0.009", "0.09"),
			line(d, mixed, billing.TierSD, 600, 0, 10, 0, true, "0.019", "0.19"),
			line(d, mixed, billing.TierFHD, 600, 0, 10, 0, true, "0.079", "0.79"),
		},
		Subtotal: dec("1.07"), Total: dec("1.07")}
	if diff := cmp.Diff(want, b, cmpOpts); diff != "" {
		t.Errorf("bill (-want +got):\n%s", diff)
	}

	// Which applications each model prices.
	for _, tt := range []struct {
		name     string
		currency string
		opened   time.Time // the account, and its application app1
		app2     time.Time // if not zero, app2 created then; the usage is app2's
		service  billing.Service
		tier     billing.Tier
		wantErr  error
		minutes  int64 // else
	}{
		{name: "single-stream 4K of a new application", currency: "CNY", opened: cnDay(7, 20, 0), service: single, tier: billing.Tier4K, minutes: 1},
		{name: "Era 1 recording of a new application", currency: "CNY", opened: cnDay(7, 20, 0), service: billing.ServiceRecording, tier: billing.TierHD,
			wantErr: billing.ErrNoPriceBook},
		{name: "single-stream of an application created the day before", currency: "CNY", opened: time.Date(2022, 7, 19, 23, 59, 59, 0, cst),
			service: single, tier: billing.TierHD, wantErr: billing.ErrNoPriceBook},
		{name: "Era 1 recording of an application created the day before", currency: "CNY", opened: time.Date(2022, 7, 19, 23, 59, 59, 0, cst),
			service: billing.ServiceRecording, tier: billing.TierHD, minutes: 1},
		// An account of 2020-03 (recording under CSS rules): its new
		// application is billed by the model of 2022, which names no cohort.
		{name: "mixed recording of a new application of an old account", currency: "CNY", opened: time.Date(2020, 3, 1, 9, 0, 0, 0, cst),
			app2: cnDay(8, 1, 9), service: mixed, tier: billing.Tier2K, minutes: 1},
		{name: "Era 1 recording of an old account", currency: "CNY", opened: time.Date(2020, 3, 1, 9, 0, 0, 0, cst),
			service: billing.ServiceRecording, tier: billing.TierHD, wantErr: billing.ErrNoPriceBook},
		{name: "2K on Era 1 recording", currency: "CNY", opened: cnDay(7, 1, 0), service: billing.ServiceRecording, tier: billing.Tier2K,
			wantErr: billing.ErrUnknownTier},
		{name: "single-stream on the international site", currency: "USD", opened: cnDay(8, 1, 0), service: single, tier: billing.TierHD,
			wantErr: billing.ErrUnknownService},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.do(op{now: tt.opened, open: &billing.AccountSpec{ID: "a", Currency: tt.currency, Postpaid: true, App: "app1"}})
			app := "app1"
			if !tt.app2.IsZero() {
				h.do(op{now: tt.app2, create: &billing.AppSpec{ID: "app2"}})
				app = "app2"
			}
			at := cnDay(8, 15, 10)
			h.clock.Set(at)
			adm, admErr := h.e.Admit(h.ctx, "a", app, tt.service, at)
			u := vaUsage("r1", tt.service, tt.tier, 30, at)
			u.App = app
			r, err := h.e.Record(h.ctx, *u)
			if !errors.Is(err, tt.wantErr) || err == nil && r.Minutes != tt.minutes {
				t.Errorf("Record() = %+v, %v; want %d minutes, error %v", r, err, tt.minutes, tt.wantErr)
			}
			// Admit knows the service, not the tier.
			wantAdmit := tt.wantErr
			if errors.Is(wantAdmit, billing.ErrUnknownTier) {
				wantAdmit = nil
			}
			if !errors.Is(admErr, wantAdmit) || admErr == nil && !adm.Admitted {
				t.Errorf("Admit() = %+v, %v; want admitted, or error %v", adm, admErr, wantAdmit)
			}
		})
	}
}
