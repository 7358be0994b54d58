package session_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/memstore"
	"github.com/rtcbill/billing/session"
)

// A video call of three users becomes a bill. alice sends 640×480, bob
// audio only, carol 1920×1080, and each receives the others from 10:00 to
// 10:30; carol stays alone until 10:40. Under Era 1's rule each stream is
// tiered by its own area: alice receives FHD (carol), bob SD and FHD,
// carol SD (alice), 30 minutes each, and carol's last 10 minutes are
// audio. The day's meters: FHD 60 minutes, SD 60, audio 10; at list price,
// postpaid (no trial in this book): 60 × 0.01499 + 60 × 0.00199 +
// 10 × 0.00099 = 1.0287, billed 1.03.
func Example() {
	ctx := context.Background()
	book := billing.Era1USD()
	book.ID, book.Trial = "era1-usd-no-trial", billing.Grant{}
	beijing := time.FixedZone("UTC+8", 8*60*60)
	at := func(h, m int) time.Time { return time.Date(2021, 3, 15, h, m, 0, 0, beijing) }

	room := func(k session.Kind, t time.Time, user string) session.Event {
		return session.Event{Account: "acme", App: "1400000001", Room: "standup", Kind: k, At: t, User: user}
	}
	sends := map[string]billing.Resolution{"alice": {Width: 640, Height: 480}, "bob": {}, "carol": {Width: 1920, Height: 1080}}
	var events []session.Event
	for user := range sends {
		e := room(session.Enter, at(10, 0), user)
		e.Scenario = billing.VideoCall
		events = append(events, e)
		for from, r := range sends {
			if from != user {
				e := room(session.Subscribe, at(10, 0), user)
				e.From, e.Stream, e.Resolution = from, "camera", r
				events = append(events, e)
			}
		}
	}
	events = append(events, room(session.Leave, at(10, 30), "alice"), room(session.Leave, at(10, 30), "bob"),
		room(session.Leave, at(10, 40), "carol"))

	usages, err := session.Usages(session.Options{Book: book}, events)
	if err != nil {
		log.Fatal(err)
	}
	now := at(9, 0) // the account opens
	engine, err := billing.New(memstore.New(), &billing.Options{Now: func() time.Time { return now }, PriceBooks: []billing.PriceBook{book}})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := engine.OpenAccount(ctx, billing.AccountSpec{ID: "acme", Postpaid: true, App: "1400000001"}); err != nil {
		log.Fatal(err)
	}
	now = at(11, 0) // the usages are recorded
	for _, u := range usages {
		if _, err := engine.Record(ctx, u); err != nil {
			log.Fatal(err)
		}
	}
	now = now.Add(24 * time.Hour)
	day, _ := billing.DayOf(at(10, 0), beijing)
	bill, err := engine.Settle(ctx, "acme", day)
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range bill.Lines {
		fmt.Printf("%-5s %3d min × %s = %s\n", l.Tier, l.Minutes, l.UnitPrice, l.Amount)
	}
	fmt.Println("total", bill.Total.StringFixed(2))
	// Output:
	// audio  10 min × 0.00099 = 0.0099
	// sd     60 min × 0.00199 = 0.1194
	// fhd    60 min × 0.01499 = 0.8994
	// total 1.03
}
