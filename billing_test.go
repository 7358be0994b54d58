package billing_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
)

const (
	audio = billing.TierAudio
	sd    = billing.TierSD
	hd    = billing.TierHD
	fhd   = billing.TierFHD
	uni   = billing.KindUniversal
)

// TestRecord checks the rules of SPEC's Meter and Packages sections one
// usage at a time: the setup runs, then one usage is recorded, and its
// receipt and the package balances after it are compared with values
// computed by hand. Account "a" is opened on 2021-03-15 at 08:00 (UTC+8); the
// trial holds 10,000 minutes at ratio 1; universal packages deduct audio 1,
// SD 2, HD 4, FHD 15 package minutes per billable minute.
func TestRecord(t *testing.T) {
	open15 := open(at(15, 8, 0, 0), false)
	tests := []struct {
		name   string
		books  []billing.PriceBook
		setup  []op
		now    time.Time // the clock when recording; zero: the usage's time
		use    *billing.Usage
		want   billing.Receipt
		wantBy map[string]int64 // package balances after
	}{
		{
			name:  "one second bills one started minute",
			setup: []op{open15},
			use:   usage("u1", audio, 1, at(15, 9, 0, 0)),
			// ceil(1/60) = 1 minute; trial 10,000 - 1×1 = 9,999.
			want:   billing.Receipt{Key: basic(march(15), audio), Minutes: 1, Draws: []billing.Draw{{Package: "trial", Minutes: 1, Deducted: 1}}},
			wantBy: map[string]int64{"trial": 9999},
		},
		{
			name:  "a usage inside an already billed minute adds nothing",
			setup: []op{open15, use("u1", audio, 30, at(15, 9, 0, 0))},
			use:   usage("u2", audio, 30, at(15, 9, 5, 0)),
			// ceil(60/60) - ceil(30/60) = 1 - 1 = 0; trial 10,000 - 1 = 9,999.
			want:   billing.Receipt{Key: basic(march(15), audio)},
			wantBy: map[string]int64{"trial": 9999},
		},
		{
			name:  "the next started minute is billed once",
			setup: []op{open15, use("u1", audio, 30, at(15, 9, 0, 0)), use("u2", audio, 30, at(15, 9, 5, 0))},
			use:   usage("u3", audio, 1, at(15, 9, 10, 0)),
			// ceil(61/60) - ceil(60/60) = 2 - 1 = 1; trial 10,000 - 2 = 9,998.
			want:   billing.Receipt{Key: basic(march(15), audio), Minutes: 1, Draws: []billing.Draw{{Package: "trial", Minutes: 1, Deducted: 1}}},
			wantBy: map[string]int64{"trial": 9998},
		},
		{
			name:  "each tier has its own ceiling",
			setup: []op{open15, use("u1", audio, 30, at(15, 9, 0, 0))},
			use:   usage("u2", sd, 30, at(15, 9, 5, 0)),
			// SD meter: ceil(30/60) = 1; trial 10,000 - 1 (audio) - 1 (SD) = 9,998.
			want:   billing.Receipt{Key: basic(march(15), sd), Minutes: 1, Draws: []billing.Draw{{Package: "trial", Minutes: 1, Deducted: 1}}},
			wantBy: map[string]int64{"trial": 9998},
		},
		{
			name:  "a new billing day starts a new meter",
			setup: []op{open15, use("u1", audio, 30, at(15, 23, 59, 30))},
			// 2021-03-15 16:00:00 UTC is 2021-03-16 00:00:00 in UTC+8: day 16.
			use: usage("u2", audio, 30, time.Date(2021, 3, 15, 16, 0, 0, 0, time.UTC)),
			// Day 16's meter: ceil(30/60) = 1; trial 10,000 - 1 - 1 = 9,998.
			want:   billing.Receipt{Key: basic(march(16), audio), Minutes: 1, Draws: []billing.Draw{{Package: "trial", Minutes: 1, Deducted: 1}}},
			wantBy: map[string]int64{"trial": 9998},
		},
		{
			name:  "23:59:59 in UTC+8 is still the same billing day",
			setup: []op{open15, use("u1", audio, 30, at(15, 9, 0, 0))},
			// 2021-03-15 15:59:59 UTC is 23:59:59 on the 15th in UTC+8.
			use: usage("u2", audio, 30, time.Date(2021, 3, 15, 15, 59, 59, 0, time.UTC)),
			// Day 15: ceil(60/60) - ceil(30/60) = 0.
			want:   billing.Receipt{Key: basic(march(15), audio)},
			wantBy: map[string]int64{"trial": 9999},
		},
		{
			name:  "universal package: an HD minute takes 4",
			books: []billing.PriceBook{noTrial()},
			setup: []op{open15, buy(at(15, 8, 30, 0), "p1", uni, 1000)},
			use:   usage("u1", hd, 61, at(15, 9, 0, 0)),
			// ceil(61/60) = 2 minutes × 4 = 8; 1,000 - 8 = 992.
			want:   billing.Receipt{Key: basic(march(15), hd), Minutes: 2, Draws: []billing.Draw{{Package: "p1", Minutes: 2, Deducted: 8}}},
			wantBy: map[string]int64{"p1": 992},
		},
		{
			name:  "universal package: an SD minute takes 2",
			books: []billing.PriceBook{noTrial()},
			setup: []op{open15, buy(at(15, 8, 30, 0), "p1", uni, 1000)},
			use:   usage("u1", sd, 120, at(15, 9, 0, 0)),
			// 2 minutes × 2 = 4; 1,000 - 4 = 996.
			want:   billing.Receipt{Key: basic(march(15), sd), Minutes: 2, Draws: []billing.Draw{{Package: "p1", Minutes: 2, Deducted: 4}}},
			wantBy: map[string]int64{"p1": 996},
		},
		{
			name:  "universal package: an FHD minute takes 15",
			books: []billing.PriceBook{noTrial()},
			setup: []op{open15, buy(at(15, 8, 30, 0), "p1", uni, 1000)},
			use:   usage("u1", fhd, 59, at(15, 9, 0, 0)),
			// 1 minute × 15; 1,000 - 15 = 985.
			want:   billing.Receipt{Key: basic(march(15), fhd), Minutes: 1, Draws: []billing.Draw{{Package: "p1", Minutes: 1, Deducted: 15}}},
			wantBy: map[string]int64{"p1": 985},
		},
		{
			name:  "universal package: an audio minute takes 1",
			books: []billing.PriceBook{noTrial()},
			setup: []op{open15, buy(at(15, 8, 30, 0), "p1", uni, 1000)},
			use:   usage("u1", audio, 3600, at(15, 9, 0, 0)),
			// 60 minutes × 1; 1,000 - 60 = 940.
			want:   billing.Receipt{Key: basic(march(15), audio), Minutes: 60, Draws: []billing.Draw{{Package: "p1", Minutes: 60, Deducted: 60}}},
			wantBy: map[string]int64{"p1": 940},
		},
		{
			name:  "the trial, granted first, goes before a universal package of the same month",
			setup: []op{open15, buy(at(15, 8, 30, 0), "p1", uni, 1000)},
			use:   usage("u1", hd, 60, at(15, 9, 0, 0)),
			// Both end 2022-04-01; the trial was granted at 08:00, p1 bought at
			// 08:30: the trial covers 1 minute at ratio 1.
			want:   billing.Receipt{Key: basic(march(15), hd), Minutes: 1, Draws: []billing.Draw{{Package: "trial", Minutes: 1, Deducted: 1}}},
			wantBy: map[string]int64{"trial": 9999, "p1": 1000},
		},
		{
			name:  "soonest expiry first, even if bought later",
			books: []billing.PriceBook{withMonthly()},
			setup: []op{open15, buy(at(15, 8, 10, 0), "p-uni", uni, 1000), buy(at(15, 8, 20, 0), "p-mon", "monthly", 100)},
			use:   usage("u1", hd, 60, at(15, 9, 0, 0)),
			// p-mon ends 2021-04-15, p-uni 2022-04-01: p-mon covers 1 × 4; 100 - 4 = 96.
			want:   billing.Receipt{Key: basic(march(15), hd), Minutes: 1, Draws: []billing.Draw{{Package: "p-mon", Minutes: 1, Deducted: 4}}},
			wantBy: map[string]int64{"p-uni": 1000, "p-mon": 96},
		},
		{
			name:  "same expiry: earliest purchase first, whatever the ids",
			books: []billing.PriceBook{noTrial()},
			setup: []op{open15, buy(at(15, 8, 10, 0), "p-b", uni, 1000), buy(at(15, 8, 20, 0), "p-a", uni, 1000)},
			use:   usage("u1", hd, 60, at(15, 9, 0, 0)),
			// Both end 2022-04-01; p-b was bought first: 1,000 - 4 = 996.
			want:   billing.Receipt{Key: basic(march(15), hd), Minutes: 1, Draws: []billing.Draw{{Package: "p-b", Minutes: 1, Deducted: 4}}},
			wantBy: map[string]int64{"p-a": 1000, "p-b": 996},
		},
		{
			name:  "same expiry and purchase time: id order",
			books: []billing.PriceBook{noTrial()},
			setup: []op{open15, buy(at(15, 8, 10, 0), "p-b", uni, 1000), buy(time.Time{}, "p-a", uni, 1000)},
			use:   usage("u1", hd, 60, at(15, 9, 0, 0)),
			// Bought at the same instant: "p-a" < "p-b"; 1,000 - 4 = 996.
			want:   billing.Receipt{Key: basic(march(15), hd), Minutes: 1, Draws: []billing.Draw{{Package: "p-a", Minutes: 1, Deducted: 4}}},
			wantBy: map[string]int64{"p-a": 996, "p-b": 1000},
		},
		{
			name:  "a usage spills whole minutes into the next package",
			books: []billing.PriceBook{noTrial()},
			setup: []op{
				open15, buy(at(15, 8, 10, 0), "p1", uni, 1000), buy(at(15, 8, 20, 0), "p2", uni, 1000),
				use("u0", audio, 997*60, at(15, 8, 30, 0)), // p1: 1,000 - 997 = 3
			},
			use: usage("u1", audio, 300, at(15, 9, 0, 0)),
			// ceil((59,820+300)/60) - 997 = 1,002 - 997 = 5: p1 covers 3, p2 covers 2.
			want: billing.Receipt{Key: basic(march(15), audio), Minutes: 5, Draws: []billing.Draw{
				{Package: "p1", Minutes: 3, Deducted: 3}, {Package: "p2", Minutes: 2, Deducted: 2},
			}},
			wantBy: map[string]int64{"p1": 0, "p2": 998},
		},
		{
			name:  "a balance smaller than one minute's ratio is passed over",
			books: []billing.PriceBook{noTrial()},
			setup: []op{
				open15, buy(at(15, 8, 10, 0), "p1", uni, 1000), buy(at(15, 8, 20, 0), "p2", uni, 1000),
				use("u0", audio, 997*60, at(15, 8, 30, 0)), // p1: 3 left
			},
			use: usage("u1", hd, 60, at(15, 9, 0, 0)),
			// 1 HD minute needs 4 > 3: p1 is passed over, p2 covers it: 1,000 - 4 = 996.
			want:   billing.Receipt{Key: basic(march(15), hd), Minutes: 1, Draws: []billing.Draw{{Package: "p2", Minutes: 1, Deducted: 4}}},
			wantBy: map[string]int64{"p1": 3, "p2": 996},
		},
		{
			name:  "a passed-over balance still covers a tier with a smaller ratio",
			books: []billing.PriceBook{noTrial()},
			setup: []op{
				open15, buy(at(15, 8, 10, 0), "p1", uni, 1000), buy(at(15, 8, 20, 0), "p2", uni, 1000),
				use("u0", audio, 997*60, at(15, 8, 30, 0)), // p1: 3 left
				use("u1", hd, 60, at(15, 8, 40, 0)),        // p2: 996
			},
			use: usage("u2", sd, 60, at(15, 9, 0, 0)),
			// 1 SD minute needs 2 <= 3: p1 covers it, 3 - 2 = 1.
			want:   billing.Receipt{Key: basic(march(15), sd), Minutes: 1, Draws: []billing.Draw{{Package: "p1", Minutes: 1, Deducted: 2}}},
			wantBy: map[string]int64{"p1": 1, "p2": 996},
		},
		{
			name:  "a package covers as many whole minutes as its balance allows",
			books: []billing.PriceBook{noTrial()},
			setup: []op{
				open15, buy(at(15, 8, 10, 0), "p1", uni, 1000), buy(at(15, 8, 20, 0), "p2", uni, 1000),
				use("u0", audio, 994*60, at(15, 8, 30, 0)), // p1: 6 left
			},
			use: usage("u1", hd, 120, at(15, 9, 0, 0)),
			// 2 HD minutes: p1 covers floor(6/4) = 1 (4, leaving 2), p2 the other (4).
			want: billing.Receipt{Key: basic(march(15), hd), Minutes: 2, Draws: []billing.Draw{
				{Package: "p1", Minutes: 1, Deducted: 4}, {Package: "p2", Minutes: 1, Deducted: 4},
			}},
			wantBy: map[string]int64{"p1": 2, "p2": 996},
		},
		{
			name:  "minutes no package can cover go to postpaid",
			books: []billing.PriceBook{noTrial()},
			setup: []op{
				open(at(15, 8, 0, 0), true), buy(at(15, 8, 10, 0), "p1", uni, 1000),
				use("u0", audio, 997*60, at(15, 8, 30, 0)), // p1: 3 left
			},
			use: usage("u1", hd, 60, at(15, 9, 0, 0)),
			// 1 HD minute needs 4 > 3 and postpaid is on since opening: 1 postpaid.
			want:   billing.Receipt{Key: basic(march(15), hd), Minutes: 1, Postpaid: 1},
			wantBy: map[string]int64{"p1": 3},
		},
		{
			name:  "a package bought on a day covers that day's usage reported after the purchase",
			books: []billing.PriceBook{noTrial()},
			setup: []op{open(at(15, 8, 0, 0), true), buy(at(15, 14, 0, 0), "p1", uni, 1000)},
			now:   at(15, 15, 0, 0),
			use:   usage("u1", hd, 60, at(15, 9, 0, 0)),
			// In the reference order the usage (09:00) comes before the
			// purchase (14:00): it is postpaid at 09:00, and at 14:00 p1,
			// valid from 00:00 of the 15th, absorbs the day's uncovered
			// minute: 1 × 4.
			want:   billing.Receipt{Key: basic(march(15), hd), Minutes: 1, Postpaid: 1, Late: true},
			wantBy: map[string]int64{"p1": 996},
		},
		{
			name:  "a package never covers a day before its purchase day",
			books: []billing.PriceBook{noTrial()},
			setup: []op{open(at(14, 8, 0, 0), true), buy(at(15, 14, 0, 0), "p1", uni, 1000)},
			now:   at(15, 15, 0, 0),
			use:   usage("u1", hd, 60, at(14, 22, 0, 0)),
			// Usage of the 14th reported on the 15th: p1 starts on the 15th, so postpaid.
			want:   billing.Receipt{Key: basic(march(14), hd), Minutes: 1, Postpaid: 1, Late: true},
			wantBy: map[string]int64{"p1": 1000},
		},
		{
			name:  "usage at the end of a package's validity is not covered by it",
			books: []billing.PriceBook{withMonthly()},
			setup: []op{
				open15, buy(at(15, 8, 10, 0), "p-uni", uni, 1000), buy(at(15, 8, 20, 0), "p-mon", "monthly", 100),
			},
			use: usage("u1", hd, 60, time.Date(2021, 4, 15, 0, 0, 0, 0, cst)),
			// p-mon is valid to 2021-04-14 23:59:59: p-uni covers 1 × 4 = 4.
			// p-mon keeps its 100 minutes during the 10 hours of grace.
			want:   billing.Receipt{Key: basic(refDateDay(2021, 4, 15), hd), Minutes: 1, Draws: []billing.Draw{{Package: "p-uni", Minutes: 1, Deducted: 4}}},
			wantBy: map[string]int64{"p-uni": 996, "p-mon": 100},
		},
		{
			name:  "late usage of a package's last day, reported within the grace, is covered by it",
			books: []billing.PriceBook{withMonthly()},
			setup: []op{
				open15, buy(at(15, 8, 10, 0), "p-uni", uni, 1000), buy(at(15, 8, 20, 0), "p-mon", "monthly", 100),
			},
			now: time.Date(2021, 4, 15, 9, 59, 59, 0, cst), // 10 hours of grace after 2021-04-15 00:00, less a second
			use: usage("u1", hd, 60, time.Date(2021, 4, 14, 23, 59, 0, 0, cst)),
			// p-mon covers 1 × 4: 100 - 4 = 96.
			want:   billing.Receipt{Key: basic(refDateDay(2021, 4, 14), hd), Minutes: 1, Draws: []billing.Draw{{Package: "p-mon", Minutes: 1, Deducted: 4}}},
			wantBy: map[string]int64{"p-uni": 1000, "p-mon": 96},
		},
		{
			name:  "usage reported after the grace, its day not settled, is covered by the package",
			books: []billing.PriceBook{withMonthly()},
			setup: []op{
				open15, buy(at(15, 8, 10, 0), "p-uni", uni, 1000), buy(at(15, 8, 20, 0), "p-mon", "monthly", 100),
			},
			now: time.Date(2021, 4, 15, 10, 0, 0, 0, cst), // End + 10 hours
			use: usage("u1", hd, 60, time.Date(2021, 4, 14, 23, 59, 0, 0, cst)),
			// p-mon is forfeited once its last day (04-14) is settled, and
			// that day is open: p-mon covers 1 × 4 = 4 (100 - 4 = 96).
			want:   billing.Receipt{Key: basic(refDateDay(2021, 4, 14), hd), Minutes: 1, Draws: []billing.Draw{{Package: "p-mon", Minutes: 1, Deducted: 4}}},
			wantBy: map[string]int64{"p-uni": 1000, "p-mon": 96},
		},
		{
			name:  "usage reported after the grace and the settlement of its day finds the package forfeited",
			books: []billing.PriceBook{withMonthly()},
			setup: []op{
				open15, buy(at(15, 8, 10, 0), "p-uni", uni, 1000), buy(at(15, 8, 20, 0), "p-mon", "monthly", 100),
				settle(time.Date(2021, 4, 15, 10, 0, 0, 0, cst), refDateDay(2021, 4, 14)),
			},
			use: usage("u1", hd, 60, time.Date(2021, 4, 14, 23, 59, 0, 0, cst)),
			// Settling 04-14 at End + 10 hours forfeits p-mon's 100 minutes;
			// the usage of the settled day is covered by p-uni: 1 × 4.
			want: billing.Receipt{Key: basic(refDateDay(2021, 4, 14), hd), Minutes: 1, Late: true,
				Draws: []billing.Draw{{Package: "p-uni", Minutes: 1, Deducted: 4}}},
			wantBy: map[string]int64{"p-uni": 996, "p-mon": 0},
		},
		{
			name:  "a package is drawn up to the last instant of its validity",
			books: []billing.PriceBook{withMonthly()},
			setup: []op{
				open15, buy(at(15, 8, 10, 0), "p-uni", uni, 1000), buy(at(15, 8, 20, 0), "p-mon", "monthly", 100),
			},
			use: usage("u1", hd, 60, time.Date(2021, 4, 14, 23, 59, 59, 0, cst)),
			// p-mon is valid to 2021-04-14 23:59:59 and expires first: 100 - 4 = 96.
			want:   billing.Receipt{Key: basic(refDateDay(2021, 4, 14), hd), Minutes: 1, Draws: []billing.Draw{{Package: "p-mon", Minutes: 1, Deducted: 4}}},
			wantBy: map[string]int64{"p-uni": 1000, "p-mon": 96},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.books...)
			h.do(tt.setup...)
			now := tt.now
			if now.IsZero() {
				now = tt.use.At
			}
			h.clock.Set(now)
			got, err := h.e.Record(h.ctx, *tt.use)
			if err != nil {
				t.Fatalf("Record: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmpOpts); diff != "" {
				t.Errorf("Record() receipt (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantBy, h.balances("a")); diff != "" {
				t.Errorf("balances after Record (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReceiptDrawsApart checks that receipts own their draws: appending to
// one receipt's Draws changes no other receipt, however many share an
// allocation.
func TestReceiptDrawsApart(t *testing.T) {
	h := newHarness(t)
	h.do(open(at(15, 8, 0, 0), false))
	var receipts []billing.Receipt
	for i := range 40 { // more than one block of draws
		h.clock.Set(at(15, 9, 0, i))
		r, err := h.e.Record(h.ctx, *usage(fmt.Sprint("u", i), audio, 60, at(15, 9, 0, i)))
		if err != nil {
			t.Fatal(err)
		}
		receipts = append(receipts, r)
	}
	for i := range receipts {
		receipts[i].Draws = append(receipts[i].Draws, billing.Draw{Package: "x", Minutes: int64(i)})
	}
	// Each usage's minute came from the trial at ratio 1.
	for i, r := range receipts {
		want := []billing.Draw{{Package: billing.TrialID, Minutes: 1, Deducted: 1}, {Package: "x", Minutes: int64(i)}}
		if diff := cmp.Diff(want, r.Draws); diff != "" {
			t.Fatalf("receipt %d draws (-want +got):\n%s", i, diff)
		}
	}
}
