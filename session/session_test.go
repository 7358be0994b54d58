package session_test

import (
	"cmp"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/session"
)

var cst = time.FixedZone("UTC+8", 8*60*60)

// at is an instant of 2021-03-15 (or the next days) in UTC+8.
func at(day, hour, minute, second int) time.Time {
	return time.Date(2021, 3, day, hour, minute, second, 0, cst)
}

const (
	audio = billing.TierAudio
	sd    = billing.TierSD
	hd    = billing.TierHD
	fhd   = billing.TierFHD
)

var (
	vga    = billing.Resolution{Width: 640, Height: 480}   // 307,200: SD (Era 1 and 2)
	p360   = billing.Resolution{Width: 640, Height: 360}   // 230,400: SD
	p720   = billing.Resolution{Width: 1280, Height: 720}  // 921,600: HD
	p1080  = billing.Resolution{Width: 1920, Height: 1080} // 2,073,600: FHD
	uhd4k  = billing.Resolution{Width: 4096, Height: 2160} // 8,847,360: Era 3's top bound
	silent = billing.Resolution{}                          // audio only
)

// ev builds the events of room "r1" of account "a", application "app1".
type ev struct{ events []session.Event }

func (b *ev) add(k session.Kind, t time.Time, user string, more ...func(*session.Event)) *ev {
	e := session.Event{Account: "a", App: "app1", Room: "r1", Kind: k, At: t, User: user}
	for _, f := range more {
		f(&e)
	}
	b.events = append(b.events, e)
	return b
}

func (b *ev) enter(t time.Time, user string, s billing.Scenario) *ev {
	return b.add(session.Enter, t, user, func(e *session.Event) { e.Scenario = s })
}
func (b *ev) leave(t time.Time, user string) *ev { return b.add(session.Leave, t, user) }

// seq sets the Seq of the last event.
func (b *ev) seq(n uint64) *ev {
	b.events[len(b.events)-1].Seq = n
	return b
}

// alive adds user's heartbeats every minute after from, to until.
func alive(b *ev, user string, from, until time.Time) *ev {
	for t := from.Add(time.Minute); !t.After(until); t = t.Add(time.Minute) {
		b.add(session.Alive, t, user)
	}
	return b
}
func (b *ev) sub(t time.Time, user, from, stream string, r billing.Resolution) *ev {
	return b.add(session.Subscribe, t, user, func(e *session.Event) { e.From, e.Stream, e.Resolution = from, stream, r })
}
func (b *ev) unsub(t time.Time, user, from, stream string) *ev {
	return b.add(session.Unsubscribe, t, user, func(e *session.Event) { e.From, e.Stream = from, stream })
}

// use is what a test expects of one usage: everything but its ID.
type use struct {
	tier     billing.Tier
	seconds  int64
	at       time.Time
	scenario billing.Scenario
}

func uses(us []billing.Usage) []use {
	out := make([]use, len(us))
	for i, u := range us {
		out[i] = use{u.Tier, u.Seconds, u.At, u.Scenario}
	}
	return sorted(out)
}

// sorted sorts us by time, tier, then seconds: the order tests compare in.
func sorted(us []use) []use {
	slices.SortFunc(us, func(x, y use) int {
		return cmp.Or(x.at.Compare(y.at), strings.Compare(string(x.tier), string(y.tier)), cmp.Compare(x.seconds, y.seconds))
	})
	return us
}

func era1() session.Options { return session.Options{Book: billing.Era1USD()} }

// cappedEra1 is Era1USD with its FHD tier capped at 1920×1080.
func cappedEra1() billing.PriceBook {
	b := billing.Era1USD()
	b.ID = "era1-usd-capped"
	b.Tiers = slices.Clone(b.Tiers)
	b.Tiers[len(b.Tiers)-1].MaxArea = 1920 * 1080
	return b
}

// TestUsages meters whole rooms, each computed by hand from the rules of
// domain reference §1.1 (audio = stay − time receiving video; Era 1 tiers
// each stream by its own area and adds their durations; Era 2 and 3 tier
// each instant by the sum of the areas).
func TestUsages(t *testing.T) {
	vc, vl, ac := billing.VideoCall, billing.VideoLive, billing.AudioCall
	three := func(s billing.Scenario) []session.Event {
		// alice sends SD, bob audio only, carol FHD; each receives the
		// other two from 10:00 to 10:30 (1,800 s).
		b := &ev{}
		for _, u := range []string{"alice", "bob", "carol"} {
			b.enter(at(15, 10, 0, 0), u, s)
		}
		sends := map[string]billing.Resolution{"alice": vga, "bob": silent, "carol": p1080}
		for _, u := range []string{"alice", "bob", "carol"} {
			for from, r := range sends {
				if from != u {
					b.sub(at(15, 10, 0, 0), u, from, "main", r)
				}
			}
		}
		for _, u := range []string{"alice", "bob", "carol"} {
			b.leave(at(15, 10, 30, 0), u)
		}
		return b.events
	}
	// A usage's At is the last second of its time.
	t0, end := at(15, 10, 0, 0), at(15, 10, 29, 59)
	for _, c := range []struct {
		name   string
		o      session.Options
		events []session.Event
		want   []use
	}{
		{"alone in a video call: audio", era1(),
			(&ev{}).enter(t0, "alice", vc).leave(at(15, 10, 10, 0), "alice").events,
			[]use{{audio, 600, at(15, 10, 9, 59), vc}}},
		{"an audio call receives no video", era1(),
			(&ev{}).enter(t0, "alice", ac).enter(t0, "bob", ac).sub(t0, "alice", "bob", "camera", vga).
				leave(at(15, 10, 10, 0), "alice").leave(at(15, 10, 10, 0), "bob").events,
			[]use{{audio, 600, at(15, 10, 9, 59), ac}, {audio, 600, at(15, 10, 9, 59), ac}}},
		// Era 1: alice gets carol's FHD, bob alice's SD and carol's FHD
		// (both, added), carol alice's SD; bob's audio stream is no video.
		{"three users, Era 1 per stream", era1(), three(vc),
			[]use{{fhd, 1800, end, vc}, {fhd, 1800, end, vc}, {sd, 1800, end, vc}, {sd, 1800, end, vc}}},
		// Era 2: bob's instant is 307,200 + 2,073,600 = 2,380,800: FHD once.
		{"three users, Era 2 aggregate", session.Options{Book: billing.Era2USD()}, three(vl),
			[]use{{fhd, 1800, end, vl}, {fhd, 1800, end, vl}, {sd, 1800, end, vl}}},
		// 1280×720 for 5 minutes, then 640×360 (SD) for 5; bob, who sends,
		// receives nothing: 600 s of audio.
		{"a resolution change splits the time", era1(),
			(&ev{}).enter(t0, "alice", vc).enter(t0, "bob", vc).sub(t0, "alice", "bob", "camera", p720).
				sub(at(15, 10, 5, 0), "alice", "bob", "camera", p360).leave(at(15, 10, 10, 0), "alice").leave(at(15, 10, 10, 0), "bob").events,
			[]use{{hd, 300, at(15, 10, 4, 59), vc}, {sd, 300, at(15, 10, 9, 59), vc}, {audio, 600, at(15, 10, 9, 59), vc}}},
		// 20 minutes in the room, HD from 10:05 to 10:15: 600 s HD, 600 s
		// audio; bob 1,200 s of audio.
		{"audio around a video segment", era1(),
			(&ev{}).enter(t0, "alice", vc).enter(t0, "bob", vc).sub(at(15, 10, 5, 0), "alice", "bob", "camera", p720).
				unsub(at(15, 10, 15, 0), "alice", "bob", "camera").leave(at(15, 10, 20, 0), "alice").leave(at(15, 10, 20, 0), "bob").events,
			[]use{{audio, 600, at(15, 10, 19, 59), vc}, {hd, 600, at(15, 10, 14, 59), vc}, {audio, 1200, at(15, 10, 19, 59), vc}}},
		// 23:50 to 00:10 receiving HD: 600 s on each day, the second from
		// midnight; bob's audio the same.
		{"midnight splits a stay", era1(),
			(&ev{}).enter(at(15, 23, 50, 0), "alice", vc).enter(at(15, 23, 50, 0), "bob", vc).
				sub(at(15, 23, 50, 0), "alice", "bob", "camera", p720).leave(at(16, 0, 10, 0), "alice").leave(at(16, 0, 10, 0), "bob").events,
			[]use{{hd, 600, at(15, 23, 59, 59), vc}, {hd, 600, at(16, 0, 9, 59), vc},
				{audio, 600, at(15, 23, 59, 59), vc}, {audio, 600, at(16, 0, 9, 59), vc}}},
		{"repeated entries add up", era1(),
			(&ev{}).enter(t0, "alice", vc).leave(at(15, 10, 1, 0), "alice").
				enter(at(15, 10, 5, 0), "alice", vc).leave(at(15, 10, 6, 30), "alice").events,
			[]use{{audio, 60, at(15, 10, 0, 59), vc}, {audio, 90, at(15, 10, 6, 29), vc}}},
		// bob leaves at 10:05: his camera ends for alice, who stays to 10:10.
		{"a publisher leaving ends its streams", era1(),
			(&ev{}).enter(t0, "alice", vc).enter(t0, "bob", vc).sub(t0, "alice", "bob", "camera", p720).
				leave(at(15, 10, 5, 0), "bob").leave(at(15, 10, 10, 0), "alice").events,
			[]use{{audio, 300, at(15, 10, 9, 59), vc}, {audio, 300, at(15, 10, 4, 59), vc}, {hd, 300, at(15, 10, 4, 59), vc}}},
		// Camera 640×480 (SD) and screen 1920×1080 (FHD), 10 minutes.
		{"screen sharing is a video stream", era1(),
			(&ev{}).enter(t0, "alice", vc).enter(t0, "bob", vc).sub(t0, "alice", "bob", "camera", vga).sub(t0, "alice", "bob", "screen", p1080).
				leave(at(15, 10, 10, 0), "alice").leave(at(15, 10, 10, 0), "bob").events,
			[]use{{fhd, 600, at(15, 10, 9, 59), vc}, {sd, 600, at(15, 10, 9, 59), vc}, {audio, 600, at(15, 10, 9, 59), vc}}},
		// Two 4096×2160 streams, 17,694,720 pixels, above Era 3's top bound:
		// 4K; the senders 60 s of audio each.
		{"above a capped table: the top tier", session.Options{Book: billing.Era3USD()},
			(&ev{}).enter(t0, "alice", vc).enter(t0, "bob", vc).enter(t0, "carol", vc).
				sub(t0, "alice", "bob", "camera", uhd4k).sub(t0, "alice", "carol", "camera", uhd4k).
				add(session.Close, at(15, 10, 1, 0), "").events,
			[]use{{billing.Tier4K, 60, at(15, 10, 0, 59), vc}, {audio, 60, at(15, 10, 0, 59), vc}, {audio, 60, at(15, 10, 0, 59), vc}}},
		// Heartbeat at 10:01, nothing after: out at 10:02:30 (Timeout 90 s).
		{"a missing leave times out", session.Options{Book: billing.Era1USD(), Timeout: 90 * time.Second},
			(&ev{}).enter(t0, "alice", vc).add(session.Alive, at(15, 10, 1, 0), "alice").events,
			[]use{{audio, 150, at(15, 10, 2, 29), vc}}},
		{"closing the room ends every stay", era1(),
			(&ev{}).enter(t0, "alice", vc).enter(at(15, 10, 2, 0), "bob", vc).add(session.Close, at(15, 10, 10, 0), "").events,
			[]use{{audio, 600, at(15, 10, 9, 59), vc}, {audio, 480, at(15, 10, 9, 59), vc}}},
		// Leaving and coming back at 10:05: the leave ends the first stay
		// before the entry starts the second (ends before starts).
		{"a leave and an entry at one instant", era1(),
			(&ev{}).enter(t0, "alice", vc).leave(at(15, 10, 5, 0), "alice").enter(at(15, 10, 5, 0), "alice", vc).
				leave(at(15, 10, 10, 0), "alice").events,
			[]use{{audio, 300, at(15, 10, 4, 59), vc}, {audio, 300, at(15, 10, 9, 59), vc}}},
		// A per-stream table capped at 1920×1080 (FHD): a 2560×1440
		// stream above it is billed FHD, the top tier, beside an SD one.
		{"above a capped per-stream table: the top tier", session.Options{Book: cappedEra1()},
			(&ev{}).enter(t0, "alice", vc).enter(t0, "bob", vc).enter(t0, "carol", vc).
				sub(t0, "alice", "bob", "camera", billing.Resolution{Width: 2560, Height: 1440}).
				sub(t0, "alice", "carol", "camera", vga).add(session.Close, at(15, 10, 1, 0), "").events,
			[]use{{fhd, 60, at(15, 10, 0, 59), vc}, {sd, 60, at(15, 10, 0, 59), vc}, {audio, 60, at(15, 10, 0, 59), vc}, {audio, 60, at(15, 10, 0, 59), vc}}},
		// Times are taken to the second: 10:00:00.3 to 10:00:01.9 is 1 s;
		// 10:00:05.1 to 10:00:05.8 nothing, the leave after the entry (Seq).
		{"times are taken to the second", era1(),
			(&ev{}).enter(t0.Add(300*time.Millisecond), "alice", vc).leave(t0.Add(1900*time.Millisecond), "alice").
				enter(t0.Add(5100*time.Millisecond), "bob", vc).seq(1).leave(t0.Add(5800*time.Millisecond), "bob").seq(2).events,
			[]use{{audio, 1, t0, vc}}},
		// bob gets no Alive after his entry: out at 10:01:30 (Timeout 90 s),
		// and his camera ends for alice then, who stays to 10:30 with
		// heartbeats: HD 90 s, audio 1,710 s; bob audio 90 s.
		{"a publisher timing out ends its streams", session.Options{Book: billing.Era1USD(), Timeout: 90 * time.Second},
			alive((&ev{}).enter(t0, "alice", vc).enter(t0, "bob", vc).sub(t0, "alice", "bob", "camera", p720), "alice", t0, at(15, 10, 29, 0)).
				leave(at(15, 10, 30, 0), "alice").events,
			[]use{{hd, 90, at(15, 10, 1, 29), vc}, {audio, 1710, at(15, 10, 29, 59), vc}, {audio, 90, at(15, 10, 1, 29), vc}}},
		// bob leaves at 10:01; alice's subscription to him at 10:02 (a stale
		// report) receives nothing, nor one to carol, never in the room.
		{"no video from a publisher not in the room", era1(),
			(&ev{}).enter(t0, "alice", vc).enter(t0, "bob", vc).leave(at(15, 10, 1, 0), "bob").
				sub(at(15, 10, 2, 0), "alice", "bob", "camera", p1080).sub(at(15, 10, 2, 0), "alice", "carol", "camera", p1080).
				leave(at(15, 10, 10, 0), "alice").events,
			[]use{{audio, 600, at(15, 10, 9, 59), vc}, {audio, 60, at(15, 10, 0, 59), vc}}},
		// A subscription and its end in one second, in this order (Seq):
		// nothing received; without Seq the end would go first.
		{"Seq orders an instant", era1(),
			(&ev{}).enter(t0, "alice", vc).enter(t0, "bob", vc).sub(at(15, 10, 0, 5), "alice", "bob", "camera", p1080).seq(1).
				unsub(at(15, 10, 0, 5), "alice", "bob", "camera").seq(2).leave(at(15, 10, 10, 0), "alice").leave(at(15, 10, 10, 0), "bob").events,
			[]use{{audio, 600, at(15, 10, 9, 59), vc}, {audio, 600, at(15, 10, 9, 59), vc}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := session.Usages(c.o, c.events)
			if err != nil {
				t.Fatal(err)
			}
			if diff := gocmp.Diff(sorted(c.want), uses(got), gocmp.AllowUnexported(use{})); diff != "" {
				t.Errorf("usages (-want +got):\n%s", diff)
			}
		})
	}
}
