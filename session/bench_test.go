package session_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/session"
)

// benchEvents returns n events of rooms of 4 users each, in time order,
// rooms at once open, their events interleaved: each room's users enter,
// receive each other's camera at resolutions that change, send
// heartbeats, and leave after 308 events; a new room opens as one closes.
// Events come 10 ms apart (100 a second).
func benchEvents(n, rooms int) []session.Event {
	users := []string{"u0", "u1", "u2", "u3"}
	res := []billing.Resolution{vga, p720, p1080, p360}
	script := func(room string, i int) session.Event { // the i-th event of a room, 0..307
		e := session.Event{Account: "a", App: "app1", Room: room}
		switch {
		case i < 4:
			e.Kind, e.User, e.Scenario = session.Enter, users[i], billing.VideoCall
		case i >= 304:
			e.Kind, e.User = session.Leave, users[i-304]
		case i%3 == 2:
			e.Kind, e.User = session.Alive, users[i%4]
		default:
			e.Kind, e.User, e.From, e.Stream, e.Resolution = session.Subscribe, users[i%4], users[(i+1)%4], "camera", res[i/4%4]
		}
		return e
	}
	events := make([]session.Event, 0, n)
	next := make([]int, rooms)     // the next event of each open room
	names := make([]string, rooms) // and its name
	opened := 0
	t := at(15, 8, 0, 0)
	for i := 0; len(events) < n; i = (i + 1) % rooms {
		if next[i] == 0 {
			names[i] = fmt.Sprintf("room-%d", opened)
			opened++
		}
		e := script(names[i], next[i])
		e.At = t
		events = append(events, e)
		t = t.Add(10 * time.Millisecond)
		next[i] = (next[i] + 1) % 308
	}
	return events
}

// BenchmarkMeter meters a stream of the events of 100 open rooms on one
// goroutine: Add each, and Advance once a simulated second (the meter
// applies them then, 10 seconds late at most), and reports events/s.
func BenchmarkMeter(b *testing.B) {
	for _, book := range []billing.PriceBook{billing.Era1USD(), billing.Era3USD()} {
		b.Run("tiering="+string(book.Tiering), func(b *testing.B) {
			events := benchEvents(b.N, 100)
			m, err := session.New(session.Options{Book: book, Lateness: 10 * time.Second, Timeout: time.Minute})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			next := events[0].At
			for i := range events {
				if err := m.Add(events[i]); err != nil {
					b.Fatal(err)
				}
				if events[i].At.After(next) {
					m.Advance(events[i].At)
					next = events[i].At.Add(time.Second)
				}
			}
			m.Advance(events[len(events)-1].At.Add(time.Hour))
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkOpenRoom reports the heap a Meter holds per open room of 4
// users receiving each other's camera (12 subscriptions) once their
// events are applied.
func BenchmarkOpenRoom(b *testing.B) {
	const rooms = 1000
	for range b.N {
		m, err := session.New(session.Options{Book: billing.Era1USD()})
		if err != nil {
			b.Fatal(err)
		}
		before := heap()
		t := at(15, 8, 0, 0)
		for r := range rooms {
			for _, u := range []string{"u0", "u1", "u2", "u3"} {
				base := session.Event{Account: "a", App: "app1", Room: fmt.Sprintf("room-%d", r), User: u, At: t}
				e := base
				e.Kind, e.Scenario = session.Enter, billing.VideoCall
				if err := m.Add(e); err != nil {
					b.Fatal(err)
				}
				for _, from := range []string{"u0", "u1", "u2", "u3"} {
					if from != u {
						e := base
						e.Kind, e.From, e.Stream, e.Resolution = session.Subscribe, from, "camera", p720
						if err := m.Add(e); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
		}
		m.Advance(t.Add(time.Minute))
		b.ReportMetric(float64(heap()-before)/rooms, "held-B/room")
		runtime.KeepAlive(m)
	}
}

func heap() int64 {
	runtime.GC()
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	return int64(s.HeapAlloc)
}
