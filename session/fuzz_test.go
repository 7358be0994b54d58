package session_test

import (
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/session"
)

// FuzzMeter feeds a Meter events built from arbitrary fields, advancing
// it between them: Add returns nil or a documented error, and every usage
// it returns is one an Engine accepts as input (an id of "sm-" and 32
// hexadecimal digits, whole seconds, a tier of the book, the event's
// account and application).
func FuzzMeter(f *testing.F) {
	f.Add(uint8(1), int64(0), "alice", "bob", "camera", 640, 480, uint8(0), int64(600), "VideoCall")
	f.Add(uint8(3), int64(60), "alice", "bob", "screen", 4096, 2161, uint8(2), int64(-60), "VideoLive")
	f.Add(uint8(6), int64(86_400), "", "", "", 0, 0, uint8(1), int64(1), "")
	f.Add(uint8(0), int64(-1e15), "a\x00", "b", "c", -1, 1<<30, uint8(9), int64(1e15), "AudioCall")
	ids := regexp.MustCompile(`^sm-[0-9a-f]{32}$`)
	f.Fuzz(func(t *testing.T, kind uint8, offset int64, user, from, stream string, w, h int, next uint8, step int64, scenario string) {
		book := billing.Era3USD()
		if kind%2 == 0 {
			book = billing.Era1USD()
		}
		m, err := session.New(session.Options{Book: book, Lateness: time.Minute, Timeout: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		known := map[billing.Tier]bool{}
		for _, tier := range book.Tiers {
			known[tier.Tier] = true
		}
		// Within ten days around 2021-03-15: a stay of centuries is metered
		// day by day, slowly (TestInvalidEvents refuses times on no day).
		offset, step = offset%(10*86_400), step%(3*86_400)
		t0 := time.Date(2021, 3, 15, 10, 0, 0, 0, time.UTC).Add(time.Duration(offset) * time.Second)
		e := session.Event{Account: "a", App: "app1", Room: "r1", Kind: session.Kind(kind % 8), At: t0, User: user,
			Scenario: billing.Scenario(scenario), From: from, Stream: stream, Resolution: billing.Resolution{Width: w, Height: h}}
		var usages []billing.Usage
		for i := range 4 {
			if err := m.Add(e); err != nil && !errors.Is(err, session.ErrInvalidEvent) && !errors.Is(err, session.ErrLate) {
				t.Fatalf("Add(%+v) = %v, not a documented error", e, err)
			}
			usages = append(usages, m.Advance(e.At.Add(time.Duration(i)*time.Minute))...)
			e.Kind = session.Kind((uint8(e.Kind) + next) % 8)
			e.At = e.At.Add(time.Duration(step) * time.Second)
		}
		usages = append(usages, m.Advance(t0.Add(1000*time.Hour))...)
		for _, u := range usages {
			if !ids.MatchString(u.ID) || u.Seconds < 1 || u.Seconds > billing.MaxUsageSeconds || !known[u.Tier] || u.Account != "a" || u.App != "app1" {
				t.Fatalf("usage %+v", u)
			}
		}
	})
}
