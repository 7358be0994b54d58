package billing_test

import (
	"errors"
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
		why       []error     // Admit's reason wraps every one; nil: admitted
		suspended bool        // the receipt's WhileSuspended
		wantErr   []error     // Record's error wraps every one; nil: recorded
		admitErr  error       // Admit's error (it knows the service, not the tier or scenario)
		window    billing.Day // the meter's day if not the usage's (the monthly cycle)
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
			// Its cohort, 2020-07-01, is on the monthly cycle: the meter
			// is March's, the window that begins on the 1st.
			window: march(1),
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
			if tt.window != 0 {
				want.Key.Day = tt.window
			}
			if err != nil || !cmp.Equal(want, r, cmpOpts) {
				t.Errorf("Record() = %+v, %v; want %+v", r, err, want)
			}
		})
	}
}
