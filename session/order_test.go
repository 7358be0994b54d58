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
	"pgregory.net/rapid"
)

// drawRoom draws the events of up to two rooms over a few hours around
// midnight: entries and leaves (some missing, closed by a heartbeat's
// timeout or the room's close), subscriptions to each other's camera and
// screen at resolutions that change, audio-only streams, heartbeats and
// closes, many at equal instants, some ordered there by Seq.
func drawRoom(rt *rapid.T) []session.Event {
	users := []string{"alice", "bob", "carol", "dave"}
	res := []billing.Resolution{{}, vga, p360, p720, p1080, uhd4k}
	start := at(15, 22, 0, 0)
	instant := func(label string) time.Time {
		// minutes within four hours, and now and then a second off them
		return start.Add(time.Duration(rapid.IntRange(0, 240).Draw(rt, label))*time.Minute +
			time.Duration(rapid.SampledFrom([]int{0, 0, 0, 1, 29}).Draw(rt, label+"Second"))*time.Second)
	}
	var events []session.Event
	for i := range rapid.IntRange(1, 60).Draw(rt, "events") {
		_ = i
		e := session.Event{Account: "a", App: "app1", Room: rapid.SampledFrom([]string{"r1", "r1", "r2"}).Draw(rt, "room"),
			At: instant("at"), User: rapid.SampledFrom(users).Draw(rt, "user"), Seq: rapid.SampledFrom([]uint64{0, 0, 1, 2}).Draw(rt, "seq")}
		switch k := rapid.IntRange(0, 9).Draw(rt, "kind"); {
		case k < 3:
			e.Kind = session.Enter
			e.Scenario = rapid.SampledFrom([]billing.Scenario{billing.VideoCall, billing.VideoLive, billing.AudioCall}).Draw(rt, "scenario")
		case k < 4:
			e.Kind = session.Leave
		case k < 7:
			e.Kind, e.From = session.Subscribe, rapid.SampledFrom(others(users, e.User)).Draw(rt, "from")
			e.Stream = rapid.SampledFrom([]string{"camera", "screen"}).Draw(rt, "stream")
			e.Resolution = rapid.SampledFrom(res).Draw(rt, "resolution")
		case k < 8:
			e.Kind, e.From = session.Unsubscribe, rapid.SampledFrom(others(users, e.User)).Draw(rt, "from")
			e.Stream = rapid.SampledFrom([]string{"camera", "screen"}).Draw(rt, "stream")
		case k < 9:
			e.Kind = session.Alive
		default:
			e.Kind, e.User = session.Close, ""
		}
		events = append(events, e)
	}
	return events
}

// others returns users but user.
func others(users []string, user string) []string {
	return slices.DeleteFunc(slices.Clone(users), func(u string) bool { return u == user })
}

// sortUsages sorts usages by ID: the order two sets are compared in.
func sortUsages(us []billing.Usage) []billing.Usage {
	slices.SortFunc(us, func(x, y billing.Usage) int { return cmp.Or(strings.Compare(x.ID, y.ID), x.At.Compare(y.At)) })
	return us
}

// TestArrivalOrder is the meter's property of order: the events of rooms
// given to a Meter in any order, each arriving within Lateness of the
// watermark, with Advance called at random instants in between, give
// exactly the usages of Usages given them at once: the same ids, times,
// tiers and seconds, none twice. Under Era 1's per-stream rule and Era 3's
// aggregate one.
func TestArrivalOrder(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		book := rapid.SampledFrom([]billing.PriceBook{billing.Era1USD(), billing.Era3USD()}).Draw(rt, "book")
		o := session.Options{Book: book, Lateness: time.Hour, Timeout: 30 * time.Minute}
		events := drawRoom(rt)
		want, err := session.Usages(o, events)
		if err != nil {
			rt.Fatal(err)
		}
		// Each event arrives at its time plus up to Lateness; the meter is
		// advanced to the arrival times, sometimes.
		type arrival struct {
			e  session.Event
			at time.Time
		}
		arrivals := make([]arrival, len(events))
		for i, e := range events {
			arrivals[i] = arrival{e, e.At.Add(time.Duration(rapid.Int64Range(0, int64(o.Lateness)).Draw(rt, "late")))}
		}
		slices.SortStableFunc(arrivals, func(x, y arrival) int { return x.at.Compare(y.at) })
		m, err := session.New(o)
		if err != nil {
			rt.Fatal(err)
		}
		var got []billing.Usage
		for _, a := range arrivals {
			if rapid.IntRange(0, 3).Draw(rt, "advance") == 0 {
				got = append(got, m.Advance(a.at)...)
			}
			if err := m.Add(a.e); err != nil {
				rt.Fatalf("Add(%+v) at %v: %v", a.e, a.at, err)
			}
		}
		got = append(got, m.Advance(at(20, 0, 0, 0))...)
		if diff := gocmp.Diff(sortUsages(want), sortUsages(got)); diff != "" {
			rt.Fatalf("arrival order (-all at once +as they came):\n%s", diff)
		}
		if m.Open() != 0 {
			rt.Fatalf("%d users still in a room", m.Open())
		}
	})
}
