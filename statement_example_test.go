package billing_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/rtcbill/billing"
)

func ExampleEngine_Statement() {
	ctx := context.Background()
	now := time.Date(2021, 3, 15, 9, 0, 0, 0, beijing)
	e := newEngine(&now)
	if _, err := e.OpenAccount(ctx, billing.AccountSpec{ID: "acme", App: "1400000001", Postpaid: true}); err != nil {
		log.Fatal(err)
	}
	record := func(id string, service billing.Service, tier billing.Tier, minutes int64, at time.Time) {
		now = at
		u := billing.Usage{ID: id, Account: "acme", App: "1400000001", Service: service, Tier: tier, Seconds: minutes * 60, At: at}
		if service == billing.ServiceBasic {
			u.Scenario = billing.VideoCall
		}
		if _, err := e.Record(ctx, u); err != nil {
			log.Fatal(err)
		}
	}
	settle := func(day int) {
		now = time.Date(2021, 3, day+1, 10, 0, 0, 0, beijing)
		d, err := billing.DateDay(2021, time.March, day)
		if err != nil {
			log.Fatal(err)
		}
		if _, err := e.Settle(ctx, "acme", d); err != nil {
			log.Fatal(err)
		}
	}
	// The 15th: 9,000 audio minutes from the 10,000-minute trial.
	record("call-1", billing.ServiceBasic, billing.TierAudio, 9_000, time.Date(2021, 3, 15, 20, 0, 0, 0, beijing))
	settle(15)
	// The 16th: 2,000 HD minutes, 1,000 from the trial and 1,000 postpaid
	// (3.99), and 30 minutes of HD cloud recording (0.0597).
	record("call-2", billing.ServiceBasic, billing.TierHD, 2_000, time.Date(2021, 3, 16, 20, 0, 0, 0, beijing))
	record("rec-1", billing.ServiceRecording, billing.TierHD, 30, time.Date(2021, 3, 16, 21, 0, 0, 0, beijing))
	settle(16)

	s, err := e.Statement(ctx, "acme", 2021, time.March)
	if err != nil {
		log.Fatal(err)
	}
	if err := s.WriteText(os.Stdout); err != nil {
		log.Fatal(err)
	}
	fmt.Println()
	if err := s.WriteCSV(os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// Statement of acme, March 2021, USD: 2 bills, 2021-03-15 to 2021-03-16
	//
	// service    tier   seconds  minutes  prepaid  postpaid  shortfall  deferred  billed  amount
	// basic      audio   540000     9000     9000         0          0         0       0    0.00
	// basic      hd      120000     2000     1000      1000          0         0    1000    3.99
	// recording  hd        1800       30        0        30          0         0      30    0.06
	// total                                                                                 4.05
	//
	// account,from,through,service,tier,app,seconds,minutes,prepaid,postpaid,shortfall,deferred,billed,amount,currency
	// acme,2021-03-15,2021-03-15,basic,audio,,540000,9000,9000,0,0,0,0,0.00,USD
	// acme,2021-03-16,2021-03-16,basic,hd,,120000,2000,1000,1000,0,0,1000,3.99,USD
	// acme,2021-03-16,2021-03-16,recording,hd,,1800,30,0,30,0,0,30,0.0597,USD
}
