package session_test

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/memstore"
	"github.com/rtcbill/billing/session"
	"github.com/shopspring/decimal"
)

// TestWatermark: Advance applies only the events before its watermark
// (now less Lateness), which never goes back; an event older than it is
// refused with ErrLate and changes nothing; an event at it waits, and is
// put in order with those of its instant that come later.
func TestWatermark(t *testing.T) {
	m, err := session.New(session.Options{Book: billing.Era1USD(), Lateness: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	b := &ev{}
	b.enter(at(15, 10, 0, 0), "alice", billing.VideoCall)
	if err := m.Add(b.events[0]); err != nil {
		t.Fatal(err)
	}
	// The watermark is 10:05: alice is in, and nothing is complete.
	if us := m.Advance(at(15, 10, 10, 0)); len(us) != 0 || m.Open() != 1 {
		t.Fatalf("Advance(10:10) = %v, %d open; want none, 1", us, m.Open())
	}
	m.Advance(at(15, 10, 0, 0)) // does not move it back
	late := (&ev{}).leave(at(15, 10, 4, 0), "alice").events[0]
	if err := m.Add(late); !errors.Is(err, session.ErrLate) {
		t.Fatalf("Add(Leave at 10:04) = %v; want ErrLate", err)
	}
	// bob enters at 10:05, at the watermark; the room's close at 10:05
	// comes after it but goes first: alice's stay ends, bob's begins.
	for _, e := range (&ev{}).enter(at(15, 10, 5, 0), "bob", billing.VideoCall).add(session.Close, at(15, 10, 5, 0), "").events {
		if err := m.Add(e); err != nil {
			t.Fatal(err)
		}
		m.Advance(at(15, 10, 10, 0))
	}
	us := m.Advance(at(15, 10, 20, 0))
	if diff := gocmp.Diff([]use{{audio, 300, at(15, 10, 4, 59), billing.VideoCall}}, uses(us), gocmp.AllowUnexported(use{})); diff != "" || m.Open() != 1 {
		t.Errorf("%d open (want 1: bob); usages (-want +got):\n%s", m.Open(), diff)
	}
}

// TestInvalidEvents: malformed events are refused with ErrInvalidEvent.
func TestInvalidEvents(t *testing.T) {
	m, err := session.New(era1())
	if err != nil {
		t.Fatal(err)
	}
	ok := session.Event{Account: "a", App: "app1", Room: "r1", Kind: session.Subscribe, At: at(15, 10, 0, 0), User: "alice",
		From: "bob", Stream: "camera", Resolution: vga}
	if err := m.Add(ok); err != nil {
		t.Fatalf("Add(%+v) = %v", ok, err)
	}
	for name, f := range map[string]func(*session.Event){
		"no account":           func(e *session.Event) { e.Account = "" },
		"no application":       func(e *session.Event) { e.App = "" },
		"no room":              func(e *session.Event) { e.Room = "" },
		"no user":              func(e *session.Event) { e.User = "" },
		"no time":              func(e *session.Event) { e.At = time.Time{} },
		"a time on no day":     func(e *session.Event) { e.At = time.Date(-5000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"unknown kind":         func(e *session.Event) { e.Kind = 0 },
		"kind beyond the last": func(e *session.Event) { e.Kind = session.Close + 1 },
		"no publisher":         func(e *session.Event) { e.From = "" },
		"no stream":            func(e *session.Event) { e.Stream = "" },
		"one's own stream":     func(e *session.Event) { e.From = e.User },
		"zero width":           func(e *session.Event) { e.Resolution.Width = 0 },
		"too high":             func(e *session.Event) { e.Resolution.Height = billing.MaxDimension + 1 },
		"a leave's resolution": func(e *session.Event) { e.Kind = session.Leave },
		"an entry without a scenario": func(e *session.Event) {
			e.Kind, e.Resolution = session.Enter, billing.Resolution{}
		},
		"an entry in a scenario the book lacks": func(e *session.Event) {
			e.Kind, e.Resolution, e.Scenario = session.Enter, billing.Resolution{}, "karaoke"
		},
	} {
		e := ok
		f(&e)
		if err := m.Add(e); !errors.Is(err, session.ErrInvalidEvent) {
			t.Errorf("%s: Add(%+v) = %v; want ErrInvalidEvent", name, e, err)
		}
	}
	if _, err := session.New(session.Options{Book: billing.PriceBook{ID: "empty"}}); !errors.Is(err, session.ErrInvalidOptions) {
		t.Errorf("New(an empty book) = %v; want ErrInvalidOptions", err)
	}
	if _, err := session.New(session.Options{Book: billing.Era1USD(), Lateness: -1}); !errors.Is(err, session.ErrInvalidOptions) {
		t.Errorf("New(negative Lateness) = %v; want ErrInvalidOptions", err)
	}
	open := (&ev{}).enter(at(15, 10, 0, 0), "alice", billing.VideoCall).events
	if _, err := session.Usages(era1(), open); !errors.Is(err, session.ErrOpenStay) {
		t.Errorf("Usages(a stay without an end) = %v; want ErrOpenStay", err)
	}
}

// TestIDs: a usage's id is "sm-" and 32 hexadecimal digits, the same
// when the room is metered again, and another for another stay, day, tier,
// user, room, application or account.
func TestIDs(t *testing.T) {
	room := func(account, app, r, alice string) []session.Event {
		b := &ev{}
		b.enter(at(15, 23, 0, 0), "alice", billing.VideoCall).enter(at(15, 23, 0, 0), "bob", billing.VideoCall).
			sub(at(15, 23, 30, 0), "alice", "bob", "camera", p720).
			leave(at(16, 0, 30, 0), "alice").enter(at(16, 1, 0, 0), "alice", billing.VideoCall).leave(at(16, 1, 1, 0), "alice").
			leave(at(16, 1, 1, 0), "bob")
		for i := range b.events {
			b.events[i].Account, b.events[i].App, b.events[i].Room = account, app, r
			if b.events[i].User == "alice" {
				b.events[i].User = alice
			}
		}
		return b.events
	}
	seen := map[string]billing.Usage{}
	format := regexp.MustCompile(`^sm-[0-9a-f]{32}$`)
	// The last two differ only where their names' bytes are cut: a room
	// "r\x00u" and a user "u\x00v" of room "r".
	for _, k := range [][4]string{{"a", "app1", "r1", "alice"}, {"b", "app1", "r1", "alice"}, {"a", "app2", "r1", "alice"},
		{"a", "app1", "r2", "alice"}, {"a", "app1", "r\x00u", "v"}, {"a", "app1", "r", "u\x00v"}} {
		first, err := session.Usages(era1(), room(k[0], k[1], k[2], k[3]))
		if err != nil {
			t.Fatal(err)
		}
		again, err := session.Usages(era1(), room(k[0], k[1], k[2], k[3]))
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(first, again); diff != "" {
			t.Errorf("%v metered again (-first +again):\n%s", k, diff)
		}
		// alice's first stay: audio and HD on the 15th, HD on the 16th;
		// her second: audio; bob's: audio on the 15th and the 16th. 6 usages.
		if len(first) != 6 {
			t.Errorf("%v: %d usages, want 6", k, len(first))
		}
		for _, u := range first {
			if !format.MatchString(u.ID) {
				t.Errorf("id %q", u.ID)
			}
			if o, ok := seen[u.ID]; ok {
				t.Errorf("id %s of %+v and %+v", u.ID, o, u)
			}
			seen[u.ID] = u
		}
	}
}

// TestRecordedBill: the meter's usages of a room, recorded by an Engine,
// give the bill computed by hand. Era 1, no trial, postpaid: alice, bob
// and carol (SD, audio, FHD senders) receive each other for 30 minutes:
// alice FHD 1,800 s, bob SD and FHD 1,800 s each, carol SD 1,800 s; the
// day's meters hold FHD 3,600 s = 60 minutes and SD 3,600 s = 60 minutes:
// 60 × 0.01499 + 60 × 0.00199 = 0.8994 + 0.1194 = 1.0188, billed 1.02.
func TestRecordedBill(t *testing.T) {
	book := billing.Era1USD()
	book.ID, book.Trial = "era1-usd-no-trial", billing.Grant{}
	now := at(15, 9, 0, 0)
	e, err := billing.New(memstore.New(), &billing.Options{Now: func() time.Time { return now }, PriceBooks: []billing.PriceBook{book}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := e.OpenAccount(ctx, billing.AccountSpec{ID: "a", Postpaid: true, App: "app1"}); err != nil {
		t.Fatal(err)
	}
	b := &ev{}
	sends := map[string]billing.Resolution{"alice": vga, "bob": {}, "carol": p1080}
	for u := range sends {
		b.enter(at(15, 10, 0, 0), u, billing.VideoCall).leave(at(15, 10, 30, 0), u)
		for from, r := range sends {
			if from != u {
				b.sub(at(15, 10, 0, 0), u, from, "camera", r)
			}
		}
	}
	us, err := session.Usages(session.Options{Book: book}, b.events)
	if err != nil {
		t.Fatal(err)
	}
	now = at(16, 10, 0, 0)
	for _, u := range us {
		if _, err := e.Record(ctx, u); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Record(ctx, u); err != nil { // again: once
			t.Fatal(err)
		}
	}
	day, _ := billing.DayOf(at(15, 10, 0, 0), cst)
	bill, err := e.Settle(ctx, "a", day)
	if err != nil {
		t.Fatal(err)
	}
	if !bill.Subtotal.Equal(decimal.RequireFromString("1.0188")) || !bill.Total.Equal(decimal.RequireFromString("1.02")) || len(bill.Lines) != 2 {
		t.Errorf("bill: subtotal %s, total %s, %d lines; want 1.0188, 1.02, 2 lines: %+v", bill.Subtotal, bill.Total, len(bill.Lines), bill.Lines)
	}
}

// TestTimeoutWithoutEvents: a stay the Timeout ends is returned once the
// watermark passes its end, though no event of its room came since.
func TestTimeoutWithoutEvents(t *testing.T) {
	m, err := session.New(session.Options{Book: billing.Era1USD(), Timeout: 90 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Add((&ev{}).enter(at(15, 10, 0, 0), "alice", billing.VideoCall).events[0]); err != nil {
		t.Fatal(err)
	}
	if us := m.Advance(at(15, 10, 0, 30)); len(us) != 0 || m.Open() != 1 {
		t.Fatalf("Advance(10:00:30) = %v, %d open; want none, 1", us, m.Open())
	}
	// Out at 10:01:30: 90 s of audio, its last second 10:01:29.
	us := m.Advance(at(15, 10, 5, 0))
	if diff := gocmp.Diff([]use{{audio, 90, at(15, 10, 1, 29), billing.VideoCall}}, uses(us), gocmp.AllowUnexported(use{})); diff != "" || m.Open() != 0 {
		t.Errorf("%d open (want 0); usages (-want +got):\n%s", m.Open(), diff)
	}
}
