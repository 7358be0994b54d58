package billing_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/memstore"
	"github.com/shopspring/decimal"
)

// beijing is the default billing time zone, UTC+8.
var beijing = time.FixedZone("UTC+8", 8*60*60)

// newEngine returns an Engine on an in-memory Store whose clock reads *now.
func newEngine(now *time.Time) *billing.Engine {
	e, err := billing.New(memstore.New(), &billing.Options{Now: func() time.Time { return *now }})
	if err != nil {
		log.Fatal(err)
	}
	return e
}

func ExampleEngine_OpenAccount() {
	ctx := context.Background()
	now := time.Date(2021, 3, 15, 9, 0, 0, 0, beijing)
	e := newEngine(&now)

	a, err := e.OpenAccount(ctx, billing.AccountSpec{ID: "acme", App: "1400000001"})
	if err != nil {
		log.Fatal(err)
	}
	o, err := e.Overview(ctx, a.ID)
	if err != nil {
		log.Fatal(err)
	}
	trial := o.Packages[0]
	fmt.Println(a.ID, a.Currency, "postpaid:", a.Postpaid.On)
	fmt.Printf("%s: %d minutes, valid %s to %s\n", trial.Kind, trial.Balance,
		trial.Start.Format(time.DateOnly), trial.End.Add(-time.Second).Format(time.DateOnly))
	// Output:
	// acme USD postpaid: false
	// trial: 10000 minutes, valid 2021-03-15 to 2022-03-31
}

func ExampleEngine_Buy() {
	ctx := context.Background()
	now := time.Date(2021, 3, 15, 9, 0, 0, 0, beijing)
	e := newEngine(&now)
	if _, err := e.OpenAccount(ctx, billing.AccountSpec{ID: "acme", App: "1400000001"}); err != nil {
		log.Fatal(err)
	}

	r, err := e.Buy(ctx, billing.Purchase{ID: "order-1", Account: "acme", Kind: billing.KindUniversal, Minutes: 25_000})
	if err != nil {
		log.Fatal(err)
	}
	p := r.Package
	fmt.Printf("%s %s: %d minutes for %s USD, valid to %s\n", p.ID, p.Kind, p.Balance,
		p.Price.StringFixed(2), p.End.Add(-time.Second).Format(time.DateOnly))

	// Buying again with the same purchase id buys nothing more.
	again, err := e.Buy(ctx, billing.Purchase{ID: "order-1", Account: "acme", Kind: billing.KindUniversal, Minutes: 25_000})
	if err != nil {
		log.Fatal(err)
	}
	o, err := e.Overview(ctx, "acme")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("replayed:", again.Package.ID, "packages:", len(o.Packages))
	// Output:
	// order-1 universal: 25000 minutes for 24.00 USD, valid to 2022-03-31
	// replayed: order-1 packages: 2
}

func ExampleEngine_Record() {
	ctx := context.Background()
	now := time.Date(2021, 3, 15, 9, 0, 0, 0, beijing)
	e := newEngine(&now)
	if _, err := e.OpenAccount(ctx, billing.AccountSpec{ID: "acme", App: "1400000001"}); err != nil {
		log.Fatal(err)
	}

	// Two HD video-call usages of 45 seconds: 90 seconds in all, so the day's
	// HD meter bills ceil(90/60) = 2 minutes: 1 for each usage.
	now = now.Add(time.Hour)
	for i, at := range []time.Time{now.Add(-30 * time.Minute), now.Add(-time.Minute)} {
		r, err := e.Record(ctx, billing.Usage{
			ID: fmt.Sprintf("u%d", i+1), Account: "acme", App: "1400000001",
			Scenario: billing.VideoCall, Tier: billing.TierHD, Seconds: 45, At: at,
		})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s %s: +%d minute(s), draws %+v\n", r.Key.Day, r.Key.Tier, r.Minutes, r.Draws)
	}
	// Output:
	// 2021-03-15 hd: +1 minute(s), draws [{Package:trial Minutes:1 Deducted:1}]
	// 2021-03-15 hd: +1 minute(s), draws [{Package:trial Minutes:1 Deducted:1}]
}

// A universal package is used up: the next usage turns postpaid on by itself.
func ExampleEngine_Record_automaticPostpaid() {
	ctx := context.Background()
	now := time.Date(2021, 3, 15, 9, 0, 0, 0, beijing)
	e := newEngine(&now)
	if _, err := e.OpenAccount(ctx, billing.AccountSpec{ID: "acme", App: "1400000001"}); err != nil {
		log.Fatal(err)
	}
	now = now.Add(30 * time.Minute)
	if _, err := e.Buy(ctx, billing.Purchase{ID: "order-1", Account: "acme", Kind: billing.KindUniversal, Minutes: 1000}); err != nil {
		log.Fatal(err)
	}
	now = now.Add(time.Minute) // usage after the purchase
	record := func(id string, tier billing.Tier, seconds int64) billing.Receipt {
		r, err := e.Record(ctx, billing.Usage{ID: id, Account: "acme", App: "1400000001",
			Scenario: billing.VideoLive, Tier: tier, Seconds: seconds, At: now})
		if err != nil {
			log.Fatal(err)
		}
		return r
	}
	// The trial (granted first) covers 10,000 audio minutes at ratio 1.
	record("u1", billing.TierAudio, 10_000*60)
	// 67 FHD minutes need 67 × 15 = 1,005 package minutes: order-1 covers
	// 66 (990), and its last 10 cannot pay for a 67th, which goes postpaid.
	r := record("u2", billing.TierFHD, 67*60)
	fmt.Printf("u2: %d minutes, %d covered, %d postpaid, postpaid switched on: %v\n",
		r.Minutes, r.Draws[0].Minutes, r.Postpaid, r.PostpaidOn)

	o, err := e.Overview(ctx, "acme")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("switch:", o.Account.Postpaid.Way, "since", o.Account.Postpaid.Since.Format(time.DateTime))
	// Output:
	// u2: 67 minutes, 66 covered, 1 postpaid, postpaid switched on: true
	// switch: automatic since 2021-03-15 09:31:00
}

// A trial-only account without postpaid is suspended when its trial runs out,
// until it buys a package or enables postpaid. Suspension tells the host to
// start no new sessions (Admit); usage that happened anyway is still
// recorded (usage is a fact), as shortfall.
func ExampleEngine_Record_suspension() {
	ctx := context.Background()
	now := time.Date(2021, 3, 15, 9, 0, 0, 0, beijing)
	e := newEngine(&now)
	if _, err := e.OpenAccount(ctx, billing.AccountSpec{ID: "acme", App: "1400000001"}); err != nil {
		log.Fatal(err)
	}
	use := func(id string, minutes int64) billing.Receipt {
		r, err := e.Record(ctx, billing.Usage{ID: id, Account: "acme", App: "1400000001",
			Scenario: billing.AudioCall, Tier: billing.TierAudio, Seconds: minutes * 60, At: now})
		if err != nil {
			log.Fatal(err)
		}
		return r
	}
	admit := func() billing.Admission {
		a, err := e.Admit(ctx, "acme", "1400000001", billing.ServiceBasic, now)
		if err != nil {
			log.Fatal(err)
		}
		return a
	}
	r := use("u1", 10_002) // 2 minutes more than the trial holds
	fmt.Printf("u1: %d covered, %d shortfall, suspended: %v\n", r.Draws[0].Minutes, r.Shortfall, r.Suspended)
	a := admit()
	fmt.Println("admitted:", a.Admitted, "-", a.Reason)
	r = use("u2", 1) // reported anyway
	fmt.Printf("u2: %d shortfall, while suspended: %v\n", r.Shortfall, r.WhileSuspended)

	now = now.Add(time.Hour)
	acct, err := e.EnablePostpaid(ctx, "acme", "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("after EnablePostpaid: suspended:", acct.Apps[0].Status.Suspended, "admitted:", admit().Admitted)
	now = now.Add(time.Minute) // usage after the call
	fmt.Printf("u3: %d postpaid\n", use("u3", 1).Postpaid)
	// Output:
	// u1: 10000 covered, 2 shortfall, suspended: true
	// admitted: false - billing: suspended: application "1400000001" since 2021-03-15T09:00:00+08:00
	// u2: 1 shortfall, while suspended: true
	// after EnablePostpaid: suspended: false admitted: true
	// u3: 1 postpaid
}

// An account reported overdue has 24 hours to pay; then no new session is
// admitted, even with packages left, until the payment is reported. Usage
// of sessions already running is recorded and billed as usual.
func ExampleEngine_ReportOverdue() {
	ctx := context.Background()
	now := time.Date(2021, 3, 15, 9, 0, 0, 0, beijing)
	e := newEngine(&now)
	if _, err := e.OpenAccount(ctx, billing.AccountSpec{ID: "acme", App: "1400000001"}); err != nil {
		log.Fatal(err)
	}
	a, err := e.ReportOverdue(ctx, "acme", "invoice-2021-02")
	if err != nil {
		log.Fatal(err)
	}
	ar := a.Arrears[0]
	fmt.Println("suspended from", ar.Suspended().In(beijing).Format(time.DateTime))
	fmt.Println("packages reclaimed, unless paid, at", ar.Reclaim.In(beijing).Format(time.DateTime))

	now = now.Add(25 * time.Hour)
	admission, err := e.Admit(ctx, "acme", "1400000001", billing.ServiceBasic, now)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("admitted:", admission.Admitted, "-", admission.Reason)
	r, err := e.Record(ctx, billing.Usage{ID: "u1", Account: "acme", App: "1400000001",
		Scenario: billing.AudioCall, Tier: billing.TierAudio, Seconds: 60, At: now})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("u1: %d minute from the %s, in arrears: %v\n", r.Draws[0].Minutes, r.Draws[0].Package, r.InArrears)

	now = now.Add(time.Hour)
	if _, err := e.ReportPaid(ctx, "acme", "invoice-2021-02"); err != nil {
		log.Fatal(err)
	}
	if admission, err = e.Admit(ctx, "acme", "1400000001", billing.ServiceBasic, now); err != nil {
		log.Fatal(err)
	}
	fmt.Println("after ReportPaid: admitted:", admission.Admitted)
	// Output:
	// suspended from 2021-03-16 09:00:00
	// packages reclaimed, unless paid, at 2021-05-16 00:00:00
	// admitted: false - billing: suspended since 2021-03-16T09:00:00+08:00: account in arrears
	// u1: 1 minute from the trial, in arrears: true
	// after ReportPaid: admitted: true
}

// The China site's refund example (退费说明): a 3,000,000-minute universal
// package bought for 16,888.00 yuan, 1,589,256 of its minutes consumed,
// refunded after the 5-day window: 16,888.00 − 1,589,256 × 0.00596800.
func ExampleEngine_Refund() {
	ctx := context.Background()
	now := time.Date(2020, 11, 1, 9, 0, 0, 0, beijing)
	e := newEngine(&now)
	if _, err := e.OpenAccount(ctx, billing.AccountSpec{ID: "acme", Currency: "CNY", App: "1400000001"}); err != nil {
		log.Fatal(err)
	}
	now = now.Add(30 * time.Minute) // after the trial was granted: it goes first
	if _, err := e.Buy(ctx, billing.Purchase{ID: "order-1", Account: "acme", Kind: billing.KindUniversal, Minutes: 3_000_000}); err != nil {
		log.Fatal(err)
	}
	now = time.Date(2020, 11, 10, 12, 0, 0, 0, beijing)
	// The trial's 10,000 minutes first, then 1,589,256 of the package's.
	if _, err := e.Record(ctx, billing.Usage{ID: "u1", Account: "acme", App: "1400000001", Scenario: billing.AudioCall,
		Tier: billing.TierAudio, Seconds: (10_000 + 1_589_256) * 60, At: now}); err != nil {
		log.Fatal(err)
	}
	now = time.Date(2020, 11, 11, 10, 0, 0, 0, beijing)
	day, err := billing.DateDay(2020, time.November, 10)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := e.Settle(ctx, "acme", day); err != nil {
		log.Fatal(err)
	}
	now = time.Date(2020, 11, 20, 10, 0, 0, 0, beijing)
	r, err := e.Refund(ctx, billing.Refund{ID: "refund-1", Account: "acme", Package: "order-1"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("consumed:", r.Consumed, "at", r.UnitPrice.StringFixed(8), "a minute: used", r.Used.StringFixed(2))
	fmt.Println("refunded:", r.Amount.StringFixed(2), "full:", r.Full)
	// Output:
	// consumed: 1589256 at 0.00596800 a minute: used 9484.68
	// refunded: 7403.32 full: false
}

// A day's usage is settled into a bill once the day has ended (TRTC charges
// at 10:00 the next day): basic minutes covered by packages cost nothing,
// value-added services are always billed, and the total is rounded once.
func ExampleEngine_Settle() {
	ctx := context.Background()
	now := time.Date(2021, 3, 15, 9, 0, 0, 0, beijing)
	e := newEngine(&now)
	if _, err := e.OpenAccount(ctx, billing.AccountSpec{ID: "acme", Postpaid: true, App: "1400000001"}); err != nil {
		log.Fatal(err)
	}
	now = now.Add(3 * time.Hour)
	for _, u := range []billing.Usage{
		{ID: "u1", Service: billing.ServiceBasic, Scenario: billing.VideoCall, Tier: billing.TierHD, Seconds: 125},
		{ID: "r1", Service: billing.ServiceRecording, Tier: billing.TierHD, Seconds: 3600},
		{ID: "m1", Service: billing.ServiceMixTranscoding, Tier: billing.TierSD, Seconds: 1830},
	} {
		u.Account, u.App, u.At = "acme", "1400000001", now
		if _, err := e.Record(ctx, u); err != nil {
			log.Fatal(err)
		}
	}

	now = time.Date(2021, 3, 16, 10, 0, 0, 0, beijing)
	due, err := e.DueDays(ctx, "acme", now)
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range due {
		b, err := e.Settle(ctx, "acme", d)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("bill of", b.Day, "in", b.Currency)
		for _, l := range b.Lines {
			fmt.Printf("  %-14s %-3s %3d min, %3d billed × %-10s = %s\n", l.Service, l.Tier, l.Minutes, l.Billed, l.UnitPrice, l.Amount)
		}
		fmt.Println("  subtotal", b.Subtotal, "total", b.Total.StringFixed(2))
	}
	// Output:
	// bill of 2021-03-15 in USD
	//   basic          hd    3 min,   0 billed × 0.00399    = 0
	//   mixtranscoding sd   31 min,  31 billed × 0.00228571 = 0.07085701
	//   recording      hd   60 min,  60 billed × 0.00199    = 0.1194
	//   subtotal 0.19025701 total 0.19
}

// An account whose first application was created before 2020-09-01 is
// settled monthly: its month's seconds of basic services are rounded once
// per tier (3 × 40 s of HD is 2 minutes, not 3), value-added services are
// still rounded per day (a line per day), and the month is one bill, due at
// 10:00 on the first of the next month.
func ExampleEngine_Settle_monthly() {
	ctx := context.Background()
	now := time.Date(2020, 8, 15, 9, 0, 0, 0, beijing)
	e := newEngine(&now)
	a, err := e.OpenAccount(ctx, billing.AccountSpec{ID: "acme", Postpaid: true, App: "1400000001"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("cycle:", a.Cycle)
	for i, day := range []int{20, 25, 31} {
		now = time.Date(2020, 8, day, 12, 0, 0, 0, beijing)
		for _, u := range []billing.Usage{
			{ID: fmt.Sprint("u", i), Scenario: billing.VideoCall, Tier: billing.TierHD, Seconds: 40},
			{ID: fmt.Sprint("r", i), Service: billing.ServiceRecording, Tier: billing.TierHD, Seconds: 40},
		} {
			u.Account, u.App, u.At = "acme", "1400000001", now
			if _, err := e.Record(ctx, u); err != nil {
				log.Fatal(err)
			}
		}
	}
	for _, now = range []time.Time{time.Date(2020, 9, 1, 9, 59, 0, 0, beijing), time.Date(2020, 9, 1, 10, 0, 0, 0, beijing)} {
		due, err := e.DueDays(ctx, "acme", now)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(now.Format("Jan 2 15:04"), "due:", due)
		for _, d := range due {
			b, err := e.Settle(ctx, "acme", d)
			if err != nil {
				log.Fatal(err)
			}
			fmt.Println("bill of", b.Day, "to", b.Through)
			for _, l := range b.Lines {
				fmt.Printf("  %s %-9s %s %d s, %d min: %d prepaid, %d billed × %s = %s\n", l.Day, l.Service, l.Tier, l.Seconds, l.Minutes,
					l.Prepaid, l.Billed, l.UnitPrice, l.Amount)
			}
			fmt.Println("  total", b.Total.StringFixed(2))
		}
	}
	// Output:
	// cycle: monthly
	// Sep 1 09:59 due: []
	// Sep 1 10:00 due: [2020-08-15]
	// bill of 2020-08-15 to 2020-08-31
	//   2020-08-15 basic     hd 120 s, 2 min: 2 prepaid, 0 billed × 0.00399 = 0
	//   2020-08-20 recording hd 40 s, 1 min: 0 prepaid, 1 billed × 0.00199 = 0.00199
	//   2020-08-25 recording hd 40 s, 1 min: 0 prepaid, 1 billed × 0.00199 = 0.00199
	//   2020-08-31 recording hd 40 s, 1 min: 0 prepaid, 1 billed × 0.00199 = 0.00199
	//   total 0.01
}

// Each application has its own postpaid switch and status: when the
// trial runs out, the application without postpaid is suspended, and the
// one whose postpaid was chosen at its creation keeps running.
func ExampleEngine_CreateApp() {
	ctx := context.Background()
	now := time.Date(2021, 3, 15, 8, 0, 0, 0, beijing)
	e := newEngine(&now)
	if _, err := e.OpenAccount(ctx, billing.AccountSpec{ID: "acme", App: "1400000001"}); err != nil {
		log.Fatal(err)
	}
	if _, err := e.CreateApp(ctx, "acme", billing.AppSpec{ID: "1400000002", Postpaid: true}); err != nil {
		log.Fatal(err)
	}
	record := func(id, app string, tier billing.Tier, seconds int64) billing.Receipt {
		now = now.Add(time.Hour)
		scenario := billing.VideoCall
		if tier == billing.TierAudio {
			scenario = billing.AudioCall
		}
		r, err := e.Record(ctx, billing.Usage{ID: id, Account: "acme", App: app, Scenario: scenario, Tier: tier, Seconds: seconds, At: now})
		if err != nil {
			log.Fatal(err)
		}
		return r
	}
	record("u1", "1400000001", billing.TierSD, 600_000) // 10,000 minutes: the whole trial
	r := record("u2", "1400000001", billing.TierAudio, 60)
	fmt.Println("1400000001:", r.Shortfall, "minute of shortfall, suspended:", r.Suspended)
	r = record("u3", "1400000002", billing.TierAudio, 120)
	fmt.Println("1400000002:", r.Postpaid, "minutes postpaid")
	for _, app := range []string{"1400000001", "1400000002"} {
		adm, err := e.Admit(ctx, "acme", app, billing.ServiceBasic, now)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("a new session of", app, "admitted:", adm.Admitted)
	}
	// Output:
	// 1400000001: 1 minute of shortfall, suspended: true
	// 1400000002: 2 minutes postpaid
	// a new session of 1400000001 admitted: false
	// a new session of 1400000002 admitted: true
}

// Era 1 tiers each received stream by its own area; a book whose service
// tiers by aggregate resolution tiers the sum of the areas of the streams
// of one instant.
func ExamplePriceBook_ServiceTiers() {
	streams := []billing.Resolution{{Width: 640, Height: 480}, {Width: 1280, Height: 720}}
	era1 := billing.Era1USD()
	perStream, err := era1.ServiceTiers(billing.ServiceBasic, streams...)
	if err != nil {
		log.Fatal(err)
	}
	aggregate := billing.Era1USD()
	aggregate.Tiering = billing.Aggregate
	// 307,200 + 921,600 = 1,228,800 pixels: above HD's 921,600.
	summed, err := aggregate.ServiceTiers(billing.ServiceBasic, streams...)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(perStream, summed)
	// Output: [sd hd] [fhd]
}

// A book of your own can give every account free minutes each month
// (Era 2's 10,000), and let them cover cloud recording too.
func Example_monthlyGrant() {
	ctx := context.Background()
	book := billing.Era1USD()
	book.ID, book.Trial = "usd-monthly", billing.Grant{}
	book.Kinds = append(book.Kinds, billing.PackageKind{Name: "free", Ratios: []billing.Ratio{
		{Tier: billing.TierAudio, Minutes: 1}, {Tier: billing.TierSD, Minutes: 1},
		{Tier: billing.TierHD, Minutes: 1}, {Tier: billing.TierFHD, Minutes: 1},
		{Tier: billing.TierHD, Minutes: 1, Service: billing.ServiceRecording},
	}})
	book.Monthly = billing.Recurring{Kind: "free", Minutes: 10_000}
	now := time.Date(2021, 3, 15, 8, 0, 0, 0, beijing)
	e, err := billing.New(memstore.New(), &billing.Options{Now: func() time.Time { return now }, PriceBooks: []billing.PriceBook{book}})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := e.OpenAccount(ctx, billing.AccountSpec{ID: "acme", App: "1400000001"}); err != nil {
		log.Fatal(err)
	}
	now = time.Date(2021, 4, 2, 9, 0, 0, 0, beijing)
	r, err := e.Record(ctx, billing.Usage{ID: "rec-1", Account: "acme", App: "1400000001",
		Service: billing.ServiceRecording, Tier: billing.TierHD, Seconds: 600, At: now})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("recording: %d minutes from %s\n", r.Draws[0].Minutes, r.Draws[0].Package)
	o, err := e.Overview(ctx, "acme")
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range o.Packages {
		fmt.Printf("%s: %d of %d, to %s\n", p.ID, p.Balance, p.Minutes, p.End.In(beijing).Format(time.DateOnly))
	}
	// Output:
	// recording: 10 minutes from grant:2021-04-01
	// grant:2021-03-15: 10000 of 10000, to 2021-04-01
	// grant:2021-04-01: 9990 of 10000, to 2021-05-01
}

// Era 3 rounds each application's usage of a day on its own, draws its
// free minutes first, and sells monthly packages bound to one application
// that do not stack. Tencent does not publish those packages' sizes and
// prices: a host adds the kinds it sells (here 50,000 minutes for 29.99,
// its own figures) at Era 3's ratios.
func ExampleEra3USD() {
	ctx := context.Background()
	book := billing.Era3USD()
	book.ID = "era3-usd-acme"
	book.Kinds = append(book.Kinds, billing.PackageKind{
		Name: "rtc-standard", Ratios: billing.Era3Ratios(), Validity: billing.Validity{Months: 1},
		AppBound: true, NoStacking: true,
		Pricing: billing.Pricing{Unit: 50_000, Offers: []billing.Offer{{Minutes: 50_000, Price: decimal.RequireFromString("29.99")}}},
	})
	now := time.Date(2025, 3, 15, 9, 0, 0, 0, beijing)
	e, err := billing.New(memstore.New(), &billing.Options{Now: func() time.Time { return now }, PriceBooks: []billing.PriceBook{book}})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := e.OpenAccount(ctx, billing.AccountSpec{ID: "acme", App: "1400000001"}); err != nil {
		log.Fatal(err)
	}
	if _, err := e.CreateApp(ctx, "acme", billing.AppSpec{ID: "1400000002"}); err != nil {
		log.Fatal(err)
	}
	buy := billing.Purchase{ID: "order-1", Account: "acme", Kind: "rtc-standard", Minutes: 50_000, App: "1400000001"}
	p, err := e.Buy(ctx, buy)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s for %s, valid until %s\n", p.Package.ID, p.Package.App, p.Package.End.In(beijing).Format(time.DateTime))
	// 30 seconds of HD in each application: a minute each, 4 free minutes
	// each (1:4), before the package.
	for _, app := range []string{"1400000001", "1400000002"} {
		now = now.Add(time.Minute)
		r, err := e.Record(ctx, billing.Usage{ID: "u-" + app, Account: "acme", App: app,
			Scenario: billing.VideoCall, Tier: billing.TierHD, Seconds: 30, At: now})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %d minute, %d from %s\n", r.Key.App, r.Minutes, r.Draws[0].Deducted, r.Draws[0].Package)
	}
	buy.ID = "order-2"
	_, err = e.Buy(ctx, buy)
	fmt.Println(errors.Is(err, billing.ErrNotStackable))
	// Output:
	// order-1 for 1400000001, valid until 2025-04-15 00:00:00
	// 1400000001: 1 minute, 4 from grant:2025-03-15
	// 1400000002: 1 minute, 4 from grant:2025-03-15
	// true
}
