// Command quickstart walks one account through March 2021 with the billing
// engine on the in-memory store: the trial, the trial running out (the
// studio's application without postpaid is suspended, its second one, with
// postpaid chosen at creation, is not), a universal package bought (the
// day's shortfall is absorbed and the suspension lifted), the package used up, postpaid switched
// on automatically, and a day with cloud recording and MixTranscoding. Each
// day is settled into a bill at 10:00 the next day, as TRTC does. It prints
// what happens each day, with balances, one day's bill, and the month's
// statement, as a table and as CSV (billing.Statement). Last,
// it records one day's reports out of order on another account, and in
// order on a third: the bills are the same.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/memstore"
)

// beijing is the billing time zone: Tencent bills in UTC+8.
var beijing = time.FixedZone("UTC+8", 8*60*60)

// session is one usage the studio reports each day.
type session struct {
	hour     int
	scenario billing.Scenario
	tier     billing.Tier
	minutes  int64
}

// day is the studio's daily usage: 300 audio, 400 SD, 500 HD and 40 FHD
// minutes, 1,240 billable minutes a day.
var day = []session{
	{9, billing.AudioCall, billing.TierAudio, 100},
	{10, billing.VideoCall, billing.TierSD, 200},
	{11, billing.VideoLive, billing.TierHD, 250},
	{12, billing.VideoLive, billing.TierFHD, 40},
	{13, billing.AudioLive, billing.TierAudio, 200},
	{14, billing.VideoCall, billing.TierSD, 200},
	{15, billing.VideoLive, billing.TierHD, 250},
}

func main() {
	ctx := context.Background()
	now := time.Date(2021, 3, 1, 8, 0, 0, 0, beijing)
	engine, err := billing.New(memstore.New(), &billing.Options{
		Now:      func() time.Time { return now },
		Location: beijing,
	})
	if err != nil {
		log.Fatal(err)
	}
	const studio, app, app2 = "studio", "1400000001", "1400000002"

	a, err := engine.OpenAccount(ctx, billing.AccountSpec{ID: studio, App: app})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s  opened %q (%s) with application %s, postpaid off: the application is suspended if the trial runs out\n",
		stamp(now), a.ID, a.Currency, app)
	if _, err := engine.CreateApp(ctx, studio, billing.AppSpec{ID: app2, Postpaid: true}); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s  created application %s with postpaid chosen (\"do not suspend the service\")\n", stamp(now), app2)
	printBalances(ctx, engine, studio)

	for d := 1; d <= 31; d++ {
		for i, s := range day {
			now = time.Date(2021, 3, d, s.hour, 0, 0, 0, beijing)
			if s.hour == 10 {
				settleDue(ctx, engine, studio, now) // the host's scheduler
			}
			if d == 9 && s.hour == 10 {
				// The studio's first application, suspended since 09:00, may
				// start no session; its second, with postpaid on, may. One of
				// the first's that ran anyway is still recorded (usage is a
				// fact), as shortfall. Then the studio buys a package.
				now = now.Add(-45 * time.Minute)
				for _, id := range []string{app, app2} {
					adm, err := engine.Admit(ctx, studio, id, billing.ServiceBasic, now)
					if err != nil {
						log.Fatal(err)
					}
					fmt.Printf("%s  may a session of %s start? %v (%v)\n", stamp(now), id, adm.Admitted, adm.Reason)
				}
				r, err := engine.Record(ctx, billing.Usage{ID: "2021-03-09/anyway", Account: studio, App: app,
					Scenario: billing.AudioCall, Tier: billing.TierAudio, Seconds: 60, At: now})
				if err != nil {
					log.Fatal(err)
				}
				fmt.Printf("%s  a session that ran anyway is recorded: %d minute of shortfall (while suspended: %v)\n",
					stamp(now), r.Shortfall, r.WhileSuspended)
				now = now.Add(15 * time.Minute)
				buy(ctx, engine, studio)
				now = time.Date(2021, 3, d, s.hour, 0, 0, 0, beijing)
			}
			r, err := engine.Record(ctx, billing.Usage{
				ID: fmt.Sprintf("2021-03-%02d/%d", d, i), Account: studio, App: app,
				Scenario: s.scenario, Tier: s.tier, Seconds: s.minutes * 60, At: now,
			})
			if err != nil {
				log.Fatal(err)
			}
			drawn := int64(0)
			for _, dr := range r.Draws {
				drawn += dr.Minutes
			}
			if r.Suspended {
				fmt.Printf("%s  the trial ran out: %d %s minute(s) covered, %d of shortfall: application SUSPENDED\n",
					stamp(now), drawn, s.tier, r.Shortfall)
			}
			if r.PostpaidOn {
				fmt.Printf("%s  the package ran out: %d %s minute(s) covered, %d postpaid: postpaid switched ON automatically\n",
					stamp(now), drawn, s.tier, r.Postpaid)
			}
		}
		if d == 20 {
			now = time.Date(2021, 3, d, 16, 0, 0, 0, beijing)
			recordValueAdded(ctx, engine, studio, now)
		}
		printDay(ctx, engine, studio, march(d))
	}

	now = time.Date(2021, 4, 1, 10, 0, 0, 0, beijing)
	settleDue(ctx, engine, studio, now)
	fmt.Println()
	monthEnd(ctx, engine, studio)
	fmt.Println()
	outOfOrder(ctx)
}

// outOfOrder records three reports of one day on two trial accounts: on
// "late" as they arrive from the media servers (the evening's first, the
// morning's last), on "ordered" in the order of their times. Bills follow
// the times of the usage, not the order of the reports.
func outOfOrder(ctx context.Context) {
	now := time.Date(2021, 3, 15, 8, 0, 0, 0, beijing)
	e, err := billing.New(memstore.New(), &billing.Options{Now: func() time.Time { return now }, Location: beijing})
	if err != nil {
		log.Fatal(err)
	}
	at := func(h, m int) time.Time { return time.Date(2021, 3, 15, h, m, 0, 0, beijing) }
	reports := []billing.Usage{ // as they arrive
		{ID: "evening-stream", Scenario: billing.VideoLive, Tier: billing.TierHD, Seconds: 170 * 3600, At: at(21, 0)},
		{ID: "morning-recording", Service: billing.ServiceRecording, Tier: billing.TierHD, Seconds: 3600, At: at(10, 30)},
		{ID: "morning-call", Scenario: billing.VideoCall, Tier: billing.TierSD, Seconds: 600, At: at(9, 0)},
	}
	fmt.Println("Out of order: three reports of Mar 15 arrive evening first, morning last")
	bills := map[string]billing.Bill{}
	for _, account := range []string{"late", "ordered"} {
		if _, err := e.OpenAccount(ctx, billing.AccountSpec{ID: account, App: "1400000001"}); err != nil {
			log.Fatal(err)
		}
		now = at(23, 0)
		order := []int{0, 1, 2}
		if account == "ordered" {
			order = []int{2, 1, 0}
		}
		for _, i := range order {
			u := reports[i]
			u.Account, u.App = account, "1400000001"
			r, err := e.Record(ctx, u)
			if err != nil {
				log.Fatal(err)
			}
			if account == "late" && u.ID == "morning-call" {
				fmt.Printf("  %s, reported last: %d SD minutes from the trial (late: %v)\n", u.ID, r.Draws[0].Minutes, r.Late)
			}
		}
		now = time.Date(2021, 3, 16, 10, 0, 0, 0, beijing)
		if bills[account], err = e.Settle(ctx, account, march(15)); err != nil {
			log.Fatal(err)
		}
		now = time.Date(2021, 3, 15, 8, 0, 0, 0, beijing)
	}
	for _, account := range []string{"late", "ordered"} {
		b := bills[account]
		fmt.Printf("  %-7s bill: %s %s;", account, b.Total.StringFixed(2), b.Currency)
		for _, l := range b.Lines {
			fmt.Printf(" %s %s %d min (%d prepaid, %d shortfall, %d billed);", l.Service, l.Tier, l.Minutes, l.Prepaid, l.Shortfall, l.Billed)
		}
		fmt.Println()
	}
}

// recordValueAdded records two hours of HD cloud recording and an hour of SD
// MixTranscoding: never covered by packages, always on the day's bill.
func recordValueAdded(ctx context.Context, e *billing.Engine, account string, at time.Time) {
	for _, u := range []billing.Usage{
		{ID: "2021-03-20/recording", Service: billing.ServiceRecording, Tier: billing.TierHD, Seconds: 120 * 60},
		{ID: "2021-03-20/mix", Service: billing.ServiceMixTranscoding, Tier: billing.TierSD, Seconds: 60 * 60},
	} {
		u.Account, u.App, u.At = account, "1400000001", at
		r, err := e.Record(ctx, u)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s  %s %s: %d minutes, billed on the day's bill\n", stamp(at), u.Service, u.Tier, r.Postpaid)
	}
}

// settleDue settles the account's days that are due at now, and prints the
// bill of March 20th.
func settleDue(ctx context.Context, e *billing.Engine, account string, now time.Time) {
	due, err := e.DueDays(ctx, account, now)
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range due {
		b, err := e.Settle(ctx, account, d)
		if err != nil {
			log.Fatal(err)
		}
		if d != march(20) {
			continue
		}
		fmt.Printf("%s  settled the bill of %s:\n", stamp(now), d)
		for _, l := range b.Lines {
			fmt.Printf("               %-14s %-5s %4d min, %4d billed × %-10s = %s\n",
				l.Service, l.Tier, l.Minutes, l.Billed, l.UnitPrice, l.Amount)
		}
		fmt.Printf("               total %s %s (exactly %s)\n", b.Total.StringFixed(2), b.Currency, b.Subtotal)
	}
}

func buy(ctx context.Context, e *billing.Engine, account string) {
	r, err := e.Buy(ctx, billing.Purchase{ID: "order-1", Account: account, Kind: billing.KindUniversal, Minutes: 25_000})
	if err != nil {
		log.Fatal(err)
	}
	p, at := r.Package, r.Package.PurchasedAt
	fmt.Printf("%s  bought %s: %s package of %d minutes for %s USD, valid to %s\n", stamp(at), p.ID, p.Kind, p.Minutes,
		p.Price.StringFixed(2), p.End.Add(-time.Second).Format(time.DateOnly))
	for _, ab := range r.Absorbed {
		fmt.Printf("%s  it covers today's %d %s minute(s) of shortfall (%d package minutes)\n", stamp(at), ab.Shortfall, ab.Tier, ab.Deducted)
	}
	if r.Resumed {
		fmt.Printf("%s  suspension lifted\n", stamp(at))
	}
}

// printDay prints how the day's billable minutes were paid, from its meters,
// and the balances at the end of the day.
func printDay(ctx context.Context, e *billing.Engine, account string, d billing.Day) {
	meters, err := e.Meters(ctx, account, d)
	if err != nil {
		log.Fatal(err)
	}
	var billable, prepaid, postpaid int64
	for _, m := range meters {
		billable, prepaid, postpaid = billable+m.Minutes(), prepaid+m.Prepaid, postpaid+m.Postpaid
	}
	fmt.Printf("%s  %4d billable min: %4d from packages, %4d postpaid  |  ",
		d.Start(beijing).Format("Jan 02"), billable, prepaid, postpaid)
	printBalances(ctx, e, account)
}

func printBalances(ctx context.Context, e *billing.Engine, account string) {
	o, err := e.Overview(ctx, account)
	if err != nil {
		log.Fatal(err)
	}
	for i, p := range o.Packages {
		if i > 0 {
			fmt.Print(", ")
		}
		fmt.Printf("%s %d/%d", p.ID, p.Balance, p.Minutes)
	}
	fmt.Println()
}

// monthEnd prints the month's statement, as a table and as CSV, the
// postpaid switch, and the package balances beside the sums of their
// ledger entries.
func monthEnd(ctx context.Context, e *billing.Engine, account string) {
	s, err := e.Statement(ctx, account, 2021, time.March)
	if err != nil {
		log.Fatal(err)
	}
	if err := s.WriteText(os.Stdout); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("(the rows' exact sum is %s %s; each bill is rounded to cents on its own)\n\n", s.Subtotal, s.Currency)
	if err := s.WriteCSV(os.Stdout); err != nil {
		log.Fatal(err)
	}
	fmt.Println()

	o, err := e.Overview(ctx, account)
	if err != nil {
		log.Fatal(err)
	}
	entries, err := e.Ledger(ctx, account, time.Time{}, time.Time{})
	if err != nil {
		log.Fatal(err)
	}
	balances := map[string]int64{}
	for _, en := range entries {
		balances[en.Package] += en.Balance
	}
	fmt.Printf("postpaid: on (%s, since %s); %d ledger entries\n", o.Account.Postpaid.Way, stamp(o.Account.Postpaid.Since), len(entries))
	for _, p := range o.Packages {
		fmt.Printf("  %-8s balance %5d, ledger sum %5d\n", p.ID, p.Balance, balances[p.ID])
	}
}

// march returns the billing day 2021-03-d.
func march(d int) billing.Day {
	day, err := billing.DateDay(2021, time.March, d)
	if err != nil {
		log.Fatal(err)
	}
	return day
}

func stamp(t time.Time) string { return t.In(beijing).Format("Jan 02 15:04") }
