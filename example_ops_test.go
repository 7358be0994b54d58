package billing_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/memstore"
)

// An Engine needs a Store; everything else has a default: Era 1's USD and
// CNY books, billing days in UTC+8, the clock time.Now. Here every account is
// billed by its cohort's era, and a fixed clock makes the output repeatable.
func ExampleNew() {
	ctx := context.Background()
	now := time.Date(2022, 3, 15, 9, 0, 0, 0, beijing)
	e, err := billing.New(memstore.New(), &billing.Options{
		PriceBooks: billing.AllEras(),
		Now:        func() time.Time { return now },
	})
	if err != nil {
		log.Fatal(err)
	}
	// Its first application created in 2022, the account is of Era 2's
	// cohort: 10,000 free minutes each month instead of Era 1's trial.
	if _, err := e.OpenAccount(ctx, billing.AccountSpec{ID: "acme", App: "1400000001"}); err != nil {
		log.Fatal(err)
	}
	o, err := e.Overview(ctx, "acme")
	if err != nil {
		log.Fatal(err)
	}
	p := o.Packages[0]
	fmt.Println("billing days in", e.Location(), "from", o.Today)
	fmt.Printf("%s (%s): %d minutes, to %s\n", p.Kind, p.Book, p.Balance, p.End.Add(-time.Second).Format(time.DateOnly))
	// Output:
	// billing days in UTC+8 from 2022-03-15
	// free (era2-usd): 10000 minutes, to 2022-03-31
}

// A batch is recorded in one unit of work per account, with the results of
// recording its usages one by one: two HD usages of 45 s are 90 s, 2 billable
// minutes, and a usage naming an application the account does not have is
// refused alone.
func ExampleEngine_RecordBatch() {
	ctx := context.Background()
	now := time.Date(2021, 3, 15, 9, 0, 0, 0, beijing)
	e := newEngine(&now)
	if _, err := e.OpenAccount(ctx, billing.AccountSpec{ID: "acme", App: "1400000001"}); err != nil {
		log.Fatal(err)
	}
	now = now.Add(time.Hour)
	var batch []billing.Usage
	for i, app := range []string{"1400000001", "1400000001", "1400000009"} {
		batch = append(batch, billing.Usage{ID: fmt.Sprintf("u%d", i+1), Account: "acme", App: app,
			Scenario: billing.VideoCall, Tier: billing.TierHD, Seconds: 45, At: now.Add(time.Duration(i-3) * time.Minute)})
	}
	for i, r := range e.RecordBatch(ctx, batch) {
		switch {
		case errors.Is(r.Err, billing.ErrUnknownApp):
			fmt.Printf("%s: refused, unknown application\n", batch[i].ID)
		case r.Err != nil:
			log.Fatal(r.Err)
		default:
			fmt.Printf("%s: +%d minute(s), %d from the trial\n", batch[i].ID, r.Receipt.Minutes, r.Receipt.Draws[0].Minutes)
		}
	}
	// Output:
	// u1: +1 minute(s), 1 from the trial
	// u2: +1 minute(s), 1 from the trial
	// u3: refused, unknown application
}

// EnablePostpaid turns an application's switch on ("Application info →
// Enable postpaid"), or, naming no application, every application's, present
// and future. It never goes off, and calling it again changes nothing.
func ExampleEngine_EnablePostpaid() {
	ctx := context.Background()
	now := time.Date(2021, 3, 15, 9, 0, 0, 0, beijing)
	e := newEngine(&now)
	if _, err := e.OpenAccount(ctx, billing.AccountSpec{ID: "acme", App: "1400000001"}); err != nil {
		log.Fatal(err)
	}
	if _, err := e.CreateApp(ctx, "acme", billing.AppSpec{ID: "1400000002"}); err != nil {
		log.Fatal(err)
	}
	now = now.Add(time.Hour)
	a, err := e.EnablePostpaid(ctx, "acme", "1400000002")
	if err != nil {
		log.Fatal(err)
	}
	for _, app := range a.Apps {
		fmt.Println(app.ID, app.Postpaid.On, app.Postpaid.Way, app.Postpaid.Since.Format(time.TimeOnly))
	}
	now = now.Add(time.Hour)
	if a, err = e.EnablePostpaid(ctx, "acme", ""); err != nil {
		log.Fatal(err)
	}
	fmt.Println("account:", a.Postpaid.On, a.Postpaid.Way, a.Postpaid.Since.Format(time.TimeOnly))
	fmt.Println(a.Apps[0].ID, a.Apps[0].Postpaid.On)
	// Output:
	// 1400000001 false  00:00:00
	// 1400000002 true enabled 10:00:00
	// account: true enabled 11:00:00
	// 1400000001 true
}

// A day is due for settlement from 10:00 the next day (Options.DueAfter), as
// TRTC charges it: a scheduler asks DueDays, then settles each day in order.
func ExampleEngine_DueDays() {
	ctx := context.Background()
	now := time.Date(2021, 3, 15, 9, 0, 0, 0, beijing)
	e := newEngine(&now)
	if _, err := e.OpenAccount(ctx, billing.AccountSpec{ID: "acme", App: "1400000001", Postpaid: true}); err != nil {
		log.Fatal(err)
	}
	for i, d := range []int{15, 16} {
		now = time.Date(2021, 3, d, 12, 0, 0, 0, beijing)
		if _, err := e.Record(ctx, billing.Usage{ID: fmt.Sprint("u", i), Account: "acme", App: "1400000001",
			Scenario: billing.VideoCall, Tier: billing.TierSD, Seconds: 60, At: now}); err != nil {
			log.Fatal(err)
		}
	}
	for _, t := range []time.Time{
		time.Date(2021, 3, 16, 9, 59, 59, 0, beijing),
		time.Date(2021, 3, 16, 10, 0, 0, 0, beijing),
		time.Date(2021, 3, 18, 0, 0, 0, 0, beijing),
	} {
		due, err := e.DueDays(ctx, "acme", t)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(t.Format("01-02 15:04:05"), due)
	}
	// Output:
	// 03-16 09:59:59 []
	// 03-16 10:00:00 [2021-03-15]
	// 03-18 00:00:00 [2021-03-15 2021-03-16]
}

// SettleDue settles every due day of every account, a few accounts at a
// time, and can be run again (or resumed after an interruption from
// SettleProgress.Through): a settled day is never billed twice.
func ExampleEngine_SettleDue() {
	ctx := context.Background()
	now := time.Date(2021, 3, 15, 9, 0, 0, 0, beijing)
	e := newEngine(&now)
	for _, id := range []string{"acme", "globex", "initech"} {
		if _, err := e.OpenAccount(ctx, billing.AccountSpec{ID: id, App: "1400000001", Postpaid: true}); err != nil {
			log.Fatal(err)
		}
	}
	for _, id := range []string{"acme", "globex"} {
		if _, err := e.Record(ctx, billing.Usage{ID: "u1", Account: id, App: "1400000001",
			Scenario: billing.VideoCall, Tier: billing.TierSD, Seconds: 60, At: now}); err != nil {
			log.Fatal(err)
		}
	}
	now = time.Date(2021, 3, 16, 10, 0, 0, 0, beijing)
	for range 2 {
		sum, err := e.SettleDue(ctx, now, nil)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d accounts, %d bills, %d failed, through %q\n", sum.Accounts, sum.Bills, sum.Failed, sum.Through)
	}
	// Output:
	// 3 accounts, 2 bills, 0 failed, through "initech"
	// 3 accounts, 0 bills, 0 failed, through "initech"
}
