package billing_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
)

const usdTM = "era1-usd-trial-monthly"

// trialMonthly is the Era 1 USD book (with its trial) plus the custom
// "monthly" kind of withMonthly, sold by the minute.
func trialMonthly() billing.PriceBook {
	b := billing.Era1USD()
	b.ID = usdTM
	b.Kinds = append(b.Kinds, withMonthly().Kinds[2])
	return b
}

// TestBuyAbsorbs checks the same-day rule: a package bought on day D first
// covers D's basic minutes that no package covered, never an earlier day's.
func TestBuyAbsorbs(t *testing.T) {
	tests := []struct {
		name       string
		books      []billing.PriceBook
		setup      []op
		buy        op
		want       billing.PurchaseReceipt // Package is checked apart
		wantMeters []billing.Meter
	}{
		{
			name:  "today's postpaid minutes",
			books: []billing.PriceBook{noTrial()},
			setup: []op{open(at(15, 8, 0, 0), true), use("u1", hd, 120, at(15, 9, 0, 0))},
			buy:   buy(at(15, 14, 0, 0), "p1", uni, 1000),
			// 2 postpaid HD minutes × 4 = 8 package minutes.
			want: billing.PurchaseReceipt{Day: march(15), Absorbed: []billing.Absorption{{Tier: hd, Postpaid: 2, Deducted: 8}}},
			wantMeters: []billing.Meter{
				{Key: basic(march(15), hd), Seconds: 120, Prepaid: 2},
			},
		},
		{
			name:  "never an earlier day's",
			books: []billing.PriceBook{noTrial()},
			setup: []op{open(at(15, 8, 0, 0), true), use("u1", hd, 120, at(15, 9, 0, 0))},
			buy:   buy(at(16, 9, 0, 0), "p1", uni, 1000),
			want:  billing.PurchaseReceipt{Day: march(16)},
			wantMeters: []billing.Meter{
				{Key: basic(march(15), hd), Seconds: 120, Postpaid: 2},
			},
		},
		{
			name:  "shortfall first, tiers in the book's order, whole minutes as far as the balance goes",
			books: []billing.PriceBook{trialMonthly()},
			setup: []op{
				open(at(15, 8, 0, 0), false),
				use("u0", sd, 600_000, at(15, 9, 0, 0)), // 10,000 SD minutes: the trial is used up
				use("u1", hd, 18_000, at(15, 10, 0, 0)), // 300 HD minutes of shortfall; suspended
				// The universal package absorbs floor(1,000/4) = 250 of them,
				// leaving 50 of shortfall and nothing of its own; it arms the
				// automatic switch.
				buy(at(15, 10, 30, 0), "p1", uni, 1000),
				use("u2", audio, 120, at(15, 11, 0, 0)), // nothing covers: the switch goes on, 2 audio minutes postpaid
				use("u3", hd, 60, at(15, 12, 0, 0)),     // HD: ceil(18,060/60) - 300 = 1 more, postpaid
			},
			buy: buy(at(15, 14, 0, 0), "m1", "monthly", 10),
			// Audio first: 2 postpaid × 1 = 2, leaving 8. HD: shortfall first,
			// floor(8/4) = 2 of the 50 shortfall minutes (8), leaving 0; 48
			// shortfall minutes and the postpaid one stay.
			want: billing.PurchaseReceipt{Day: march(15), Absorbed: []billing.Absorption{
				{Tier: audio, Postpaid: 2, Deducted: 2},
				{Tier: hd, Shortfall: 2, Deducted: 8},
			}},
			wantMeters: []billing.Meter{
				{Key: basic(march(15), audio), Seconds: 120, Prepaid: 2},
				{Key: basic(march(15), sd), Seconds: 600_000, Prepaid: 10_000},
				{Key: basic(march(15), hd), Seconds: 18_060, Prepaid: 252, Postpaid: 1, Shortfall: 48},
			},
		},
		{
			name:  "a kind without a ratio for a tier leaves it",
			books: []billing.PriceBook{audioOnly()},
			setup: []op{open(at(15, 8, 0, 0), true), use("u1", hd, 60, at(15, 9, 0, 0)), use("u2", audio, 60, at(15, 9, 0, 0))},
			buy:   buy(at(15, 14, 0, 0), "v1", "voice", 1000),
			want:  billing.PurchaseReceipt{Day: march(15), Absorbed: []billing.Absorption{{Tier: audio, Postpaid: 1, Deducted: 1}}},
			wantMeters: []billing.Meter{
				{Key: basic(march(15), audio), Seconds: 60, Prepaid: 1},
				{Key: basic(march(15), hd), Seconds: 60, Postpaid: 1},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.books...)
			h.do(tt.setup...)
			h.clock.Set(tt.buy.now)
			got, err := h.e.Buy(h.ctx, *tt.buy.buy)
			if err != nil {
				t.Fatalf("Buy: %v", err)
			}
			var deducted int64
			for _, a := range tt.want.Absorbed {
				deducted += a.Deducted
			}
			if got.Package.Balance != got.Package.Minutes-deducted {
				t.Errorf("Package.Balance = %d, want %d - %d", got.Package.Balance, got.Package.Minutes, deducted)
			}
			got.Package = billing.Package{}
			if diff := cmp.Diff(tt.want, got, cmpOpts); diff != "" {
				t.Errorf("Buy() receipt (-want +got):\n%s", diff)
			}
			var meters []billing.Meter
			for _, d := range []billing.Day{march(15), march(16)} {
				ms, err := h.e.Meters(h.ctx, "a", d)
				if err != nil {
					t.Fatal(err)
				}
				meters = append(meters, ms...)
			}
			if diff := cmp.Diff(tt.wantMeters, meters, cmpOpts); diff != "" {
				t.Errorf("meters after Buy (-want +got):\n%s", diff)
			}
		})
	}
}

// audioOnly is noTrial plus "voice", a kind that covers audio only.
func audioOnly() billing.PriceBook {
	b := noTrial()
	b.ID = "era1-usd-voice"
	b.Kinds = append(b.Kinds, billing.PackageKind{
		Name:     "voice",
		Ratios:   []billing.Ratio{{Tier: billing.TierAudio, Minutes: 1}},
		Validity: billing.Validity{Months: 12, ToMonthEnd: true},
		Pricing:  billing.Pricing{Unit: 1000, Bands: []billing.Band{{From: 0, PerMinute: dec("0.0005")}}},
	})
	return b
}

// TestBuyPackage checks what a purchase creates: its price from the price
// book, its validity, and its ledger entry.
func TestBuyPackage(t *testing.T) {
	tests := []struct {
		name     string
		currency string
		now      time.Time
		kind     string
		minutes  int64
		want     billing.Package
	}{
		{
			name: "USD 25,000: the published price", currency: "USD", now: at(15, 14, 0, 0), kind: uni, minutes: 25_000,
			// Valid from 2021-03-15 00:00 to the last day of March 2022.
			want: pkg("p", uni, usdTM, 25_000, "24", at(15, 14, 0, 0), at(15, 0, 0, 0), time.Date(2022, 4, 1, 0, 0, 0, 0, cst)),
		},
		{
			name: "USD 250,000", currency: "USD", now: at(15, 14, 0, 0), kind: uni, minutes: 250_000,
			want: pkg("p", uni, usdTM, 250_000, "227", at(15, 14, 0, 0), at(15, 0, 0, 0), time.Date(2022, 4, 1, 0, 0, 0, 0, cst)),
		},
		{
			name: "USD 1,000,000", currency: "USD", now: at(15, 14, 0, 0), kind: uni, minutes: 1_000_000,
			want: pkg("p", uni, usdTM, 1_000_000, "856", at(15, 14, 0, 0), at(15, 0, 0, 0), time.Date(2022, 4, 1, 0, 0, 0, 0, cst)),
		},
		{
			name: "USD 3,000,000: the published price, not 0.805 × 3,000", currency: "USD", now: at(15, 14, 0, 0), kind: uni, minutes: 3_000_000,
			want: pkg("p", uni, usdTM, 3_000_000, "2416", at(15, 14, 0, 0), at(15, 0, 0, 0), time.Date(2022, 4, 1, 0, 0, 0, 0, cst)),
		},
		{
			name: "USD custom 1,000 below 25,000: 0.99 per 1,000", currency: "USD", now: at(15, 14, 0, 0), kind: uni, minutes: 1_000,
			want: pkg("p", uni, usdTM, 1_000, "0.99", at(15, 14, 0, 0), at(15, 0, 0, 0), time.Date(2022, 4, 1, 0, 0, 0, 0, cst)),
		},
		{
			name: "USD custom 30,000: 0.960 per 1,000", currency: "USD", now: at(15, 14, 0, 0), kind: uni, minutes: 30_000,
			// 0.00096 × 30,000 = 28.80.
			want: pkg("p", uni, usdTM, 30_000, "28.80", at(15, 14, 0, 0), at(15, 0, 0, 0), time.Date(2022, 4, 1, 0, 0, 0, 0, cst)),
		},
		{
			name: "USD custom 300,000: 0.908 per 1,000", currency: "USD", now: at(15, 14, 0, 0), kind: uni, minutes: 300_000,
			// 0.000908 × 300,000 = 272.40.
			want: pkg("p", uni, usdTM, 300_000, "272.40", at(15, 14, 0, 0), at(15, 0, 0, 0), time.Date(2022, 4, 1, 0, 0, 0, 0, cst)),
		},
		{
			name: "USD custom 4,000,000: 0.805 per 1,000", currency: "USD", now: at(15, 14, 0, 0), kind: uni, minutes: 4_000_000,
			// 0.000805 × 4,000,000 = 3,220.
			want: pkg("p", uni, usdTM, 4_000_000, "3220", at(15, 14, 0, 0), at(15, 0, 0, 0), time.Date(2022, 4, 1, 0, 0, 0, 0, cst)),
		},
		{
			name: "CNY 3,000,000: the published 16,888.00", currency: "CNY", now: at(15, 14, 0, 0), kind: uni, minutes: 3_000_000,
			want: pkg("p", uni, "era1-cny", 3_000_000, "16888", at(15, 14, 0, 0), at(15, 0, 0, 0), time.Date(2022, 4, 1, 0, 0, 0, 0, cst)),
		},
		{
			name: "CNY custom 26,000 at 0.00672000 a minute", currency: "CNY", now: at(15, 14, 0, 0), kind: uni, minutes: 26_000,
			// 0.00672 × 26,000 = 174.72.
			want: pkg("p", uni, "era1-cny", 26_000, "174.72", at(15, 14, 0, 0), at(15, 0, 0, 0), time.Date(2022, 4, 1, 0, 0, 0, 0, cst)),
		},
		{
			name: "CNY custom 3,750,000 at 0.00562934 a minute, rounded half up", currency: "CNY", now: at(15, 14, 0, 0), kind: uni, minutes: 3_750_000,
			// 0.00562934 × 3,750,000 = 21,110.025 → 21,110.03 (half up; half even would give .02).
			want: pkg("p", uni, "era1-cny", 3_750_000, "21110.03", at(15, 14, 0, 0), at(15, 0, 0, 0), time.Date(2022, 4, 1, 0, 0, 0, 0, cst)),
		},
		{
			name: "bought at 23:59:59 on the last day of the year: valid to the end of next December", currency: "USD",
			now: time.Date(2021, 12, 31, 23, 59, 59, 0, cst), kind: uni, minutes: 1_000,
			want: pkg("p", uni, usdTM, 1_000, "0.99", time.Date(2021, 12, 31, 23, 59, 59, 0, cst),
				time.Date(2021, 12, 31, 0, 0, 0, 0, cst), time.Date(2023, 1, 1, 0, 0, 0, 0, cst)),
		},
		{
			name: "the purchase day is UTC+8's: 16:00 UTC on the 14th is the 15th", currency: "USD",
			now: time.Date(2021, 3, 14, 16, 0, 0, 0, time.UTC), kind: uni, minutes: 1_000,
			want: pkg("p", uni, usdTM, 1_000, "0.99", at(15, 0, 0, 0), at(15, 0, 0, 0), time.Date(2022, 4, 1, 0, 0, 0, 0, cst)),
		},
		{
			name: "a one-month kind bought on Jan 31 is valid to the end of February", currency: "USD",
			now: time.Date(2021, 1, 31, 12, 0, 0, 0, cst), kind: "monthly", minutes: 100,
			// 0.001 × 100 = 0.10.
			want: pkg("p", "monthly", usdTM, 100, "0.10", time.Date(2021, 1, 31, 12, 0, 0, 0, cst),
				time.Date(2021, 1, 31, 0, 0, 0, 0, cst), time.Date(2021, 3, 1, 0, 0, 0, 0, cst)),
		},
		{
			name: "a one-month kind bought on Jan 15 is valid to Feb 14", currency: "USD",
			now: time.Date(2021, 1, 15, 12, 0, 0, 0, cst), kind: "monthly", minutes: 100,
			want: pkg("p", "monthly", usdTM, 100, "0.10", time.Date(2021, 1, 15, 12, 0, 0, 0, cst),
				time.Date(2021, 1, 15, 0, 0, 0, 0, cst), time.Date(2021, 2, 15, 0, 0, 0, 0, cst)),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			usd := trialMonthly()
			h := newHarness(t, usd, billing.Era1CNY())
			h.clock.Set(tt.now.Add(-time.Hour))
			if _, err := h.e.OpenAccount(h.ctx, billing.AccountSpec{ID: "a", Currency: tt.currency, App: "app1"}); err != nil {
				t.Fatal(err)
			}
			h.clock.Set(tt.now)
			got, err := h.e.Buy(h.ctx, billing.Purchase{ID: "p", Account: "a", Kind: tt.kind, Minutes: tt.minutes})
			if err != nil {
				t.Fatalf("Buy: %v", err)
			}
			wantPkg := tt.want
			wantPkg.Currency = tt.currency // the account's
			if wantPkg.Currency == "" {
				wantPkg.Currency = "USD" // the default: the first book's
			}
			if diff := cmp.Diff(wantPkg, got.Package, cmpOpts); diff != "" {
				t.Errorf("Buy() package (-want +got):\n%s", diff)
			}
			l, err := h.e.Ledger(h.ctx, "a", tt.now, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			want := []billing.Entry{{Seq: 2, At: tt.now, Kind: billing.EntryPurchase, Request: billing.RequestBuy, Ref: "p", Package: "p", Balance: tt.minutes, Amount: tt.want.Price}}
			if diff := cmp.Diff(want, l, cmpOpts); diff != "" {
				t.Errorf("ledger after Buy (-want +got):\n%s", diff)
			}
		})
	}
}

func pkg(id, kind, book string, minutes int64, price string, bought, start, end time.Time) billing.Package {
	return billing.Package{ID: id, Kind: kind, Book: book, Minutes: minutes, Balance: minutes, Price: dec(price),
		PurchasedAt: bought, Start: start, End: end}
}

// TestPackageRank checks Package.Rank against the deduction order:
// packages of a lower rank are drawn first, whatever their End, and the
// rank decides before it.
func TestPackageRank(t *testing.T) {
	end := time.Unix(1615766400, 0)
	for _, tt := range []struct {
		p    billing.Package
		rank int
	}{
		{billing.Package{ID: "first", First: true, End: end.Add(time.Hour)}, 0},
		{billing.Package{ID: "first-bound", First: true, App: "app1", End: end.Add(2 * time.Hour)}, 0},
		{billing.Package{ID: "bound", App: "app1", End: end.Add(3 * time.Hour)}, 1},
		{billing.Package{ID: "account", End: end}, 2},
	} {
		if got := tt.p.Rank(); got != tt.rank {
			t.Errorf("%s.Rank() = %d, want %d", tt.p.ID, got, tt.rank)
		}
		// Against a package of each other rank that ends sooner or later.
		for _, q := range []billing.Package{{ID: "q-first", First: true}, {ID: "q-bound", App: "app2"}, {ID: "q-account"}} {
			for _, qEnd := range []time.Time{end.Add(-time.Hour), end.Add(time.Hour * 10)} {
				q.End = qEnd
				if c, r := billing.ComparePackages(tt.p, q), q.Rank(); r != tt.rank && (c < 0) != (tt.rank < r) {
					t.Errorf("ComparePackages(%s, %s ending %v) = %d, but their ranks are %d and %d", tt.p.ID, q.ID, qEnd, c, tt.rank, r)
				}
			}
		}
	}
}
