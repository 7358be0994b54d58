package billing_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
)

// usageErrors are the errors Record documents for bad usage.
var usageErrors = []error{
	billing.ErrInvalidID, billing.ErrInvalidSeconds, billing.ErrInvalidTime, billing.ErrNotFound,
	billing.ErrIdempotencyConflict, billing.ErrBeforeOpened, billing.ErrFutureUsage, billing.ErrNoPriceBook,
	billing.ErrUnknownScenario, billing.ErrUnknownTier, billing.ErrTierNotInScenario, billing.ErrSuspended,
	billing.ErrUnknownService, billing.ErrNoBasicService,
}

func documented(err error, errs []error) bool {
	for _, e := range errs {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// FuzzRecord records one usage built from arbitrary fields on an account
// that has some history. It must not panic; an error must be a documented
// one and leave the account unchanged; a success must conserve minutes.
func FuzzRecord(f *testing.F) {
	f.Add("u9", "a", "app1", "", "video-call", "hd", int64(61), int64(0))
	f.Add("u1", "a", "app1", "", "audio-call", "audio", int64(30), int64(-3600))     // a replay of u1
	f.Add("u1", "a", "app1", "", "audio-call", "audio", int64(31), int64(-3600))     // u1 reused
	f.Add("u9", "a", "app1", "", "audio-live", "fhd", int64(1), int64(0))            // a video tier in an audio scenario
	f.Add("u9", "a", "app1", "", "video-live", "4k", int64(1), int64(0))             // unknown tier
	f.Add("u9", "b", "app1", "", "video-live", "sd", int64(1), int64(0))             // unknown account
	f.Add("", "a", "", "", "", "", int64(0), int64(0))                               // empty everything
	f.Add("u\x00", "a", "app1", "", "video-call", "hd", int64(-1), int64(1))         // control character, negative seconds, future
	f.Add("u9", "a", "app1", "", "video-call", "hd", int64(1e12), int64(-1e13))      // before the account was opened
	f.Add("u9", "a", "app1", "", "video-call", "hd", int64(9e18), int64(-9e18))      // absurd numbers
	f.Add("u9", "a", "\xff\xfe", "", "video-call", "sd", int64(600_000), int64(-60)) // invalid UTF-8 app
	f.Add("r9", "a", "app1", "recording", "", "hd", int64(90), int64(0))             // recording
	f.Add("m9", "a", "app1", "mixtranscoding", "", "fhd", int64(90), int64(-60))     // MixTranscoding
	f.Add("r9", "a", "app1", "recording", "video-call", "hd", int64(90), int64(0))   // value-added with a scenario
	f.Add("r9", "a", "app1", "transcription", "", "hd", int64(90), int64(0))         // unknown service
	f.Fuzz(func(t *testing.T, id, account, app, service, scenario, tier string, seconds, offset int64) {
		h := newHarness(t)
		h.do(open(at(15, 8, 0, 0), false), use("u1", audio, 30, at(15, 9, 0, 0)))
		now := at(15, 10, 0, 0)
		h.clock.Set(now)
		before := h.state("a", march(15))
		u := billing.Usage{ID: id, Account: account, App: app, Service: billing.Service(service), Scenario: billing.Scenario(scenario), Tier: billing.Tier(tier),
			Seconds: seconds, At: now.Add(time.Duration(offset % int64(400*24*time.Hour)))}
		r, err := h.e.Record(h.ctx, u)
		if err != nil {
			if !documented(err, usageErrors) {
				t.Fatalf("Record(%+v) error %v is not a documented one", u, err)
			}
			if diff := cmp.Diff(before, h.state("a", march(15)), cmpOpts); diff != "" {
				t.Fatalf("Record(%+v) failed with %v but changed the account (-before +after):\n%s", u, err, diff)
			}
			return
		}
		var drawn int64
		for _, d := range r.Draws {
			drawn += d.Minutes
		}
		if drawn+r.Postpaid+r.Shortfall != r.Minutes {
			t.Fatalf("receipt %+v does not conserve minutes", r)
		}
	})
}

// FuzzVideoTiers tiers arbitrary streams: never a panic, only the
// documented error, and one tier per stream.
func FuzzVideoTiers(f *testing.F) {
	f.Add(640, 480, 1280, 720)
	f.Add(0, 0, -1, 1<<62)
	f.Add(1<<16, 1<<16, 1<<16+1, 1)
	f.Fuzz(func(t *testing.T, w1, h1, w2, h2 int) {
		streams := []billing.Resolution{{Width: w1, Height: h1}, {Width: w2, Height: h2}}
		tiers, err := billing.Era1USD().VideoTiers(streams...)
		if err != nil {
			if !errors.Is(err, billing.ErrInvalidResolution) {
				t.Fatalf("VideoTiers(%v) error %v, want ErrInvalidResolution", streams, err)
			}
			return
		}
		if len(tiers) != 2 {
			t.Fatalf("VideoTiers(%v) = %v, want one tier per stream", streams, tiers)
		}
	})
}
