package billing_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/memstore"
	"github.com/shopspring/decimal"
)

func TestCurrencyDecimals(t *testing.T) {
	tests := []struct {
		code string
		want int32
	}{
		{"USD", 2}, {"CNY", 2}, {"EUR", 2}, {"JPY", 0}, {"KRW", 0}, {"KWD", 3}, {"CLF", 4},
		{"XXX", 2}, // not in the table: 2
		{"", 2},
	}
	for _, tt := range tests {
		if got := billing.CurrencyDecimals(tt.code); got != tt.want {
			t.Errorf("CurrencyDecimals(%q) = %d, want %d", tt.code, got, tt.want)
		}
	}
}

// TestPriceBookCurrencyDecimals checks that New refuses a book whose
// Decimals are not its currency's.
func TestPriceBookCurrencyDecimals(t *testing.T) {
	tests := []struct {
		name     string
		currency string
		decimals int32
		wantErr  error
	}{
		{"USD with 2", "USD", 2, nil},
		{"USD with 3", "USD", 3, billing.ErrInvalidPriceBook},
		{"USD with 0", "USD", 0, billing.ErrInvalidPriceBook},
		{"JPY with 2", "JPY", 2, billing.ErrInvalidPriceBook},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := billing.Era1USD()
			b.Currency, b.Decimals = tt.currency, tt.decimals
			_, err := billing.New(memstore.New(), &billing.Options{PriceBooks: []billing.PriceBook{b}})
			if diff := cmp.Diff(tt.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("New() error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseDay(t *testing.T) {
	tests := []struct {
		text    string
		want    billing.Day
		wantErr error
	}{
		// 2021-01-01 is 51 years after 1970-01-01, 13 of them leap
		// (1972..2020): 51×365 + 13 = 18628; + 31 (January) + 28
		// (February) + 14 = 18701.
		{"2021-03-15", 18701, nil},
		{"1970-01-01", 0, nil},
		{"1969-12-31", -1, nil},
		{"0001-01-01", billing.MinDay, nil},
		{"9999-12-31", billing.MaxDay, nil},
		{"2020-02-29", 18321, nil}, // 18628 - 366 + 31 + 28 = 18321
		{"2021-02-29", 0, billing.ErrInvalidTime},
		{"2021-13-01", 0, billing.ErrInvalidTime},
		{"0000-12-31", 0, billing.ErrInvalidTime},
		{"10000-01-01", 0, billing.ErrInvalidTime},
		{"2021-3-15", 0, billing.ErrInvalidTime},
		{"21-03-15", 0, billing.ErrInvalidTime},
		{"+2021-03-15", 0, billing.ErrInvalidTime},
		{" 2021-03-15", 0, billing.ErrInvalidTime},
		{"2021-03-15 ", 0, billing.ErrInvalidTime},
		{"2021-03-15T00:00:00Z", 0, billing.ErrInvalidTime},
		{"18701", 0, billing.ErrInvalidTime},
		{"", 0, billing.ErrInvalidTime},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got, err := billing.ParseDay(tt.text)
			if diff := cmp.Diff(tt.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Fatalf("ParseDay(%q) error (-want +got):\n%s", tt.text, diff)
			}
			if got != tt.want {
				t.Errorf("ParseDay(%q) = %d, want %d", tt.text, got, tt.want)
			}
			var d billing.Day
			if err := d.UnmarshalText([]byte(tt.text)); !cmp.Equal(tt.wantErr, err, cmpopts.EquateErrors()) || d != tt.want {
				t.Errorf("UnmarshalText(%q) = %d, %v; want %d, %v", tt.text, d, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestDayMarshalText(t *testing.T) {
	tests := []struct {
		day     billing.Day
		want    string
		wantErr error
	}{
		{18701, "2021-03-15", nil},
		{billing.MinDay, "0001-01-01", nil},
		{billing.MaxDay, "9999-12-31", nil},
		{billing.MinDay - 1, "", billing.ErrInvalidTime},
		{billing.MaxDay + 1, "", billing.ErrInvalidTime},
	}
	for _, tt := range tests {
		got, err := tt.day.MarshalText()
		if diff := cmp.Diff(tt.wantErr, err, cmpopts.EquateErrors()); diff != "" {
			t.Errorf("Day(%d).MarshalText() error (-want +got):\n%s", tt.day, diff)
		}
		if string(got) != tt.want {
			t.Errorf("Day(%d).MarshalText() = %q, want %q", tt.day, got, tt.want)
		}
		if err == nil && tt.day.String() != tt.want {
			t.Errorf("Day(%d).String() = %q, want %q as MarshalText", tt.day, tt.day.String(), tt.want)
		}
	}
	// A Day in JSON, as a value and as a map key.
	got, err := json.Marshal(map[billing.Day]billing.Day{18701: 0})
	if want := `{"2021-03-15":"1970-01-01"}`; err != nil || string(got) != want {
		t.Errorf("json.Marshal() = %s, %v; want %s", got, err, want)
	}
}

// TestBillJSON checks the JSON of bills written by hand: lower-case field
// names, days as dates, the total with exactly the currency's decimals and
// the exact amounts with all their digits.
func TestBillJSON(t *testing.T) {
	issued := time.Date(2021, 3, 16, 10, 0, 0, 0, time.FixedZone("UTC+8", 8*3600))
	// 61,000 seconds are 1,017 billable minutes (60 × 1,017 = 61,020);
	// 1,017 × 0.00399 = 4.05783, rounded half up to cents: 4.06.
	line := billing.Line{Day: 18701, Service: billing.ServiceBasic, Tier: billing.TierHD, Seconds: 61_000, Minutes: 1017,
		Postpaid: 1017, Billed: 1017, UnitPrice: decimal.RequireFromString("0.00399"), Amount: decimal.RequireFromString("4.05783")}
	bill := billing.Bill{Account: "acme", Day: 18701, Through: 18701, Currency: "USD", Issued: issued, PostpaidOn: true,
		Lines: []billing.Line{line}, Subtotal: decimal.RequireFromString("4.05783"), Total: decimal.RequireFromString("4.06")}
	const lineJSON = `{"day":"2021-03-15","service":"basic","tier":"hd","app":"","adjustment":false,"seconds":61000,"minutes":1017,` +
		`"prepaid":0,"postpaid":1017,"shortfall":0,"deferred":0,"billed":1017,"unit_price":"0.00399","amount":"4.05783"}`
	zero := func(currency string) billing.Bill {
		return billing.Bill{Account: "acme", Day: 18701, Through: 18731, Currency: currency, Issued: issued, Lines: []billing.Line{},
			Subtotal: decimal.Zero, Total: decimal.Zero}
	}
	withTotal := func(currency, total string) billing.Bill {
		b := zero(currency)
		b.Total = decimal.RequireFromString(total)
		return b
	}
	const head = `{"account":"acme","day":"2021-03-15","through":"2021-04-14","currency":`
	// The subtotal, exact, with at least the currency's decimals: zero is
	// "0.00" in USD, "0" in JPY, "0.000" in KWD.
	tail := func(subtotal string) string {
		return `,"issued":"2021-03-16T10:00:00+08:00","postpaid_on":false,"lines":[],"subtotal":"` + subtotal + `","total":`
	}
	tests := []struct {
		name string
		bill billing.Bill
		want string
	}{
		{"4.06", bill, `{"account":"acme","day":"2021-03-15","through":"2021-03-15","currency":"USD",` +
			`"issued":"2021-03-16T10:00:00+08:00","postpaid_on":true,"lines":[` + lineJSON + `],"subtotal":"4.05783","total":"4.06"}`},
		{"zero", zero("USD"), head + `"USD"` + tail("0.00") + `"0.00"}`},
		{"4.1 in cents", withTotal("USD", "4.1"), head + `"USD"` + tail("0.00") + `"4.10"}`},
		{"yen", withTotal("JPY", "406"), head + `"JPY"` + tail("0") + `"406"}`},
		{"dinars", withTotal("KWD", "4.06"), head + `"KWD"` + tail("0.000") + `"4.060"}`},
		{"more decimals than the currency's: not rounded", withTotal("USD", "4.065"), head + `"USD"` + tail("0.00") + `"4.065"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.bill)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("json.Marshal() (-want +got):\n%s", diff)
			}
			var back billing.Bill
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.bill, back); diff != "" {
				t.Errorf("json.Unmarshal(json.Marshal()) (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPackageJSON checks the JSON of packages written by hand: the price
// with exactly the currency's decimals.
func TestPackageJSON(t *testing.T) {
	start := time.Date(2021, 3, 15, 0, 0, 0, 0, time.FixedZone("UTC+8", 8*3600))
	bought := billing.Package{ID: "p1", Kind: "universal", Book: "era1-usd", Minutes: 25_000, Balance: 24_990, Currency: "USD",
		Price: decimal.RequireFromString("49.9"), PurchasedAt: start.Add(10 * time.Hour), Start: start, End: start.AddDate(1, 0, 0)}
	trial := billing.Package{ID: "trial", Kind: "trial", Book: "era1-cny", Minutes: 10_000, Balance: 10_000, Currency: "CNY",
		Price: decimal.Zero, PurchasedAt: start, Start: start, End: start.AddDate(1, 0, 0), App: "app1", First: true}
	tests := []struct {
		name string
		pkg  billing.Package
		want string
	}{
		{"bought", bought, `{"id":"p1","kind":"universal","book":"era1-usd","minutes":25000,"balance":24990,"forfeited":0,` +
			`"currency":"USD","purchased_at":"2021-03-15T10:00:00+08:00","start":"2021-03-15T00:00:00+08:00",` +
			`"end":"2022-03-15T00:00:00+08:00","app":"","first":false,"price":"49.90"}`},
		{"granted", trial, `{"id":"trial","kind":"trial","book":"era1-cny","minutes":10000,"balance":10000,"forfeited":0,` +
			`"currency":"CNY","purchased_at":"2021-03-15T00:00:00+08:00","start":"2021-03-15T00:00:00+08:00",` +
			`"end":"2022-03-15T00:00:00+08:00","app":"app1","first":true,"price":"0.00"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.pkg)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("json.Marshal() (-want +got):\n%s", diff)
			}
			var back billing.Package
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.pkg, back); diff != "" {
				t.Errorf("json.Unmarshal(json.Marshal()) (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAccountRefundsJSON checks that an account writes the amounts of its
// refunds that are rounded to its currency with exactly its decimals, and
// the exact ones with all their digits; and a refund alone, which does not
// know its currency, all with all their digits.
func TestAccountRefundsJSON(t *testing.T) {
	// 2,000 package minutes consumed at 0.00562934 with no discount:
	// 11.25868, rounded half up to cents, 11.26; paid back 49.9 - 11.26 = 38.64.
	r := billing.PackageRefund{ID: "r1", Package: "p1", At: time.Date(2021, 3, 16, 0, 0, 0, 0, time.UTC), Minutes: 23_000,
		Consumed: 2000, UnitPrice: decimal.RequireFromString("0.00562934"), Discount: decimal.NewFromInt(1),
		Used: decimal.RequireFromString("11.26"), Amount: decimal.RequireFromString("38.6")}
	const fields = `{"id":"r1","package":"p1","at":"2021-03-16T00:00:00Z","full":false,"minutes":23000,"consumed":2000,` +
		`"unit_price":"0.00562934","discount":"1",`
	got, err := json.Marshal(billing.Account{ID: "a", Currency: "USD", Refunds: []billing.PackageRefund{r}})
	if err != nil {
		t.Fatal(err)
	}
	var refunds struct{ Refunds []json.RawMessage }
	if err := json.Unmarshal(got, &refunds); err != nil || len(refunds.Refunds) != 1 {
		t.Fatalf("json.Unmarshal(%s) = %+v, %v; want one refund", got, refunds, err)
	}
	if diff := cmp.Diff(fields+`"used":"11.26","amount":"38.60"}`, string(refunds.Refunds[0])); diff != "" {
		t.Errorf("an account's refund (-want +got):\n%s", diff)
	}
	alone, err := json.Marshal(r)
	if diff := cmp.Diff(fields+`"used":"11.26","amount":"38.6"}`, string(alone)); err != nil || diff != "" {
		t.Errorf("a refund alone: %v (-want +got):\n%s", err, diff)
	}
}

// roundTrip marshals v to JSON, unmarshals it into a new T and checks that
// the two are equal (decimals and times by their Equal methods).
func roundTrip[T any](t *testing.T, name string, v T) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal(%s): %v", name, err)
	}
	var back T
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("json.Unmarshal(%s): %v\n%s", name, err, data)
	}
	if diff := cmp.Diff(v, back); diff != "" {
		t.Errorf("%s after a round trip through JSON (-want +got):\n%s", name, diff)
	}
}

// TestJSONRoundTrip marshals every value the Engine returns to JSON and
// back: values written by hand with every field set, and those an Engine
// returned for an account with history.
func TestJSONRoundTrip(t *testing.T) {
	zone := time.FixedZone("UTC+8", 8*3600)
	nano := time.Date(2021, 3, 15, 23, 59, 59, 999_999_999, zone)
	key := billing.MeterKey{Day: 18701, Service: billing.ServiceBasic, Tier: billing.TierHD, App: "app-ü"}
	money := decimal.RequireFromString("123456789012345678.00000001")
	pkg := billing.Package{ID: "p1", Kind: "universal", Book: "era1-usd", Minutes: 1_000_000_000_000, Balance: 999_999_999_996,
		Forfeited: 3, Currency: "CNY", Price: money, PurchasedAt: nano, Start: nano.Add(-time.Hour), End: nano.AddDate(1, 0, 0),
		App: "app-ü", First: true}
	account := billing.Account{ID: "acct-日本", Currency: "CNY", Opened: nano, Version: 3, Touched: nano, LastSeq: 7,
		Postpaid:          billing.Postpaid{On: true, Since: nano, Way: billing.PostpaidAutomatic},
		AutoPostpaidArmed: true, SettledThrough: 18700, GrantsThrough: 18703, Cycle: billing.Monthly,
		Late: []billing.MeterKey{key}, Unbilled: []billing.MeterKey{{Day: billing.MinDay, Service: billing.ServiceRecording, Tier: billing.TierSD}},
		Frontier:        billing.OpKey{At: nano, Class: billing.ClassCall, ID: "u-日本"},
		SinceCheckpoint: 5, EnabledAt: nano.Add(time.Nanosecond),
		Apps: []billing.App{{ID: "app-ü", Created: nano, Postpaid: billing.Postpaid{On: true, Since: nano, Way: billing.PostpaidEnabled},
			Status:      billing.Status{Suspended: true, Since: nano, Reason: "why"},
			Suspensions: []billing.Interval{{Since: nano.Add(-time.Hour), Until: nano}, {Since: nano}},
			EnabledAt:   nano, Disabled: []billing.Interval{{Since: nano, Until: nano.Add(time.Hour)}}}},
		Arrears: []billing.Arrears{{Refs: []string{"bill-1"}, Since: nano, Paid: nano.Add(time.Hour), Reclaim: nano.AddDate(0, 2, 0)}},
		Refunds: []billing.PackageRefund{{ID: "r1", Package: "p1", At: nano, Full: true, Minutes: 10, Consumed: 3,
			UnitPrice: decimal.RequireFromString("0.00562934"), Discount: decimal.RequireFromString("0.12345678"),
			Used: decimal.RequireFromString("0.01"), Amount: money}},
	}
	meter := billing.Meter{Key: key, Seconds: 1 << 59, Prepaid: 1, Postpaid: 2, Shortfall: 3,
		Settled: billing.Tally{Seconds: 61, Prepaid: 1, Postpaid: 2, Shortfall: 3}, Unbilled: 3, Latest: 18702,
		EarlierPostpaid: 1 << 58, EarlierShortfall: 1}
	receipt := billing.Receipt{Key: key, Minutes: 2, Draws: []billing.Draw{{Package: "p1", Minutes: 1, Deducted: 4}}, Postpaid: 1,
		Shortfall: 1, PostpaidOn: true, Suspended: true, WhileSuspended: true, Late: true, AppDisabled: true, NoBasicService: true,
		InArrears: true}
	purchase := billing.PurchaseReceipt{Package: pkg, Day: billing.MaxDay,
		Absorbed: []billing.Absorption{{Tier: billing.TierHD, App: "app-ü", Shortfall: 2, Postpaid: 1, Deducted: 12}}, Resumed: true}
	bill := billing.Bill{Account: account.ID, Day: 18701, Through: 18731, Currency: "CNY", Issued: nano, PostpaidOn: true,
		Lines: []billing.Line{{Day: 18700, Service: billing.ServiceMixTranscoding, Tier: billing.TierSD, App: "app-ü", Adjustment: true,
			Seconds: 1830, Minutes: 31, Prepaid: 1, Postpaid: 30, Shortfall: 2, Deferred: 7, Billed: 37,
			UnitPrice: decimal.RequireFromString("0.00228571"), Amount: decimal.RequireFromString("0.08457127")}},
		Subtotal: decimal.RequireFromString("0.08457127"), Total: decimal.RequireFromString("0.08")}
	usage := billing.UsageRecord{Usage: billing.Usage{ID: "u1", Account: account.ID, App: "app-ü", Service: billing.ServiceBasic,
		Scenario: billing.VideoCall, Tier: billing.TierHD, Seconds: billing.MaxUsageSeconds, At: nano}, Receipt: receipt}

	roundTrip(t, "Bill", bill)
	roundTrip(t, "Bill without lines", billing.Bill{})
	roundTrip(t, "Line", bill.Lines[0])
	roundTrip(t, "Receipt", receipt)
	roundTrip(t, "UsageRecord", usage)
	roundTrip(t, "PurchaseReceipt", purchase)
	roundTrip(t, "PurchaseRecord", billing.PurchaseRecord{Purchase: billing.Purchase{ID: "p1", Account: account.ID, Kind: "universal",
		Minutes: 1000, App: "app-ü"}, Receipt: purchase})
	roundTrip(t, "Package", pkg)
	roundTrip(t, "PackageRefund", account.Refunds[0])
	roundTrip(t, "Account", account)
	roundTrip(t, "Account without slices", billing.Account{})
	roundTrip(t, "Overview", billing.Overview{Account: account, Packages: []billing.Package{pkg, {}}, Today: 18701,
		Meters: []billing.Meter{meter, {}}})

	// What an Engine returns.
	ctx := context.Background()
	now := time.Date(2021, 3, 15, 9, 0, 0, 0, zone)
	e, err := billing.New(memstore.New(), &billing.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.OpenAccount(ctx, billing.AccountSpec{ID: "a", App: "app1", Postpaid: true}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Hour)
	r, err := e.Record(ctx, billing.Usage{ID: "u1", Account: "a", App: "app1", Service: billing.ServiceBasic, Scenario: billing.VideoCall,
		Tier: billing.TierHD, Seconds: 600_000, At: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, "Engine's Receipt", r)
	p, err := e.Buy(ctx, billing.Purchase{ID: "p1", Account: "a", Kind: billing.KindUniversal, Minutes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, "Engine's PurchaseReceipt", p)
	now = now.AddDate(0, 0, 1)
	b, err := e.Settle(ctx, "a", 18701)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, "Engine's Bill", b)
	o, err := e.Overview(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, "Engine's Overview", o)
	if p.Package.Currency != "USD" || len(o.Packages) != 2 || o.Packages[0].Currency != "USD" || o.Packages[1].Currency != "USD" {
		t.Errorf("the packages' currencies: bought %q, held %+v; want USD, the account's", p.Package.Currency, o.Packages)
	}
}

// FuzzParseDay parses arbitrary text as a day and marshals an arbitrary
// number as one. ParseDay must not panic; a day it parses is in
// MinDay..MaxDay and prints back as the same text. A day in range
// marshals to text that parses back to it; one outside is refused.
func FuzzParseDay(f *testing.F) {
	f.Add("2021-03-15", int32(18701))
	f.Add("0001-01-01", int32(billing.MinDay))
	f.Add("9999-12-31", int32(billing.MaxDay))
	f.Add("0000-12-31", int32(billing.MinDay-1))
	f.Add("2021-02-29", int32(billing.MaxDay+1))
	f.Add("+2021-03-15", int32(-1))
	f.Add("", int32(0))
	f.Fuzz(func(t *testing.T, s string, n int32) {
		if d, err := billing.ParseDay(s); err == nil {
			if d < billing.MinDay || d > billing.MaxDay || d.String() != s {
				t.Errorf("ParseDay(%q) = %d, printed %q", s, d, d.String())
			}
		}
		d := billing.Day(n)
		text, err := d.MarshalText()
		if in := d >= billing.MinDay && d <= billing.MaxDay; in != (err == nil) {
			t.Fatalf("Day(%d).MarshalText() error %v", n, err)
		}
		if err != nil {
			return
		}
		if back, err := billing.ParseDay(string(text)); err != nil || back != d {
			t.Errorf("ParseDay(%q) = %d, %v; want %d", text, back, err, d)
		}
	})
}

// BenchmarkBillJSON marshals and unmarshals a bill of 20 lines.
func BenchmarkBillJSON(b *testing.B) {
	line := billing.Line{Day: 18701, Service: billing.ServiceBasic, Tier: billing.TierHD, App: "app1", Seconds: 61_000, Minutes: 1017,
		Postpaid: 1017, Billed: 1017, UnitPrice: decimal.RequireFromString("0.00399"), Amount: decimal.RequireFromString("4.05783")}
	bill := billing.Bill{Account: "acme", Day: 18701, Through: 18701, Currency: "USD", Issued: time.Date(2021, 3, 16, 10, 0, 0, 0, time.UTC),
		PostpaidOn: true, Subtotal: decimal.RequireFromString("81.1566"), Total: decimal.RequireFromString("81.16")}
	for range 20 {
		bill.Lines = append(bill.Lines, line)
	}
	data, err := json.Marshal(bill)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := json.Marshal(bill); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var back billing.Bill
			if err := json.Unmarshal(data, &back); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestDayUnmarshalJSON reads days as strings, and as the numbers of days
// since 1970-01-01 this package wrote before days had a text form.
func TestDayUnmarshalJSON(t *testing.T) {
	for _, tt := range []struct {
		json    string
		want    billing.Day
		wantErr bool
	}{
		{json: `"2021-03-15"`, want: 18701}, // 2021-03-15 is 18,701 days after 1970-01-01
		{json: `18701`, want: 18701},
		{json: `-719162`, want: billing.MinDay}, // 0001-01-01
		{json: `2932896`, want: billing.MaxDay}, // 9999-12-31
		{json: `null`, want: 7},                 // unchanged
		{json: `-719163`, want: 7, wantErr: true},
		{json: `2932897`, want: 7, wantErr: true},
		{json: `1.5e3`, want: 7, wantErr: true},
		{json: `"2021-3-15"`, want: 7, wantErr: true},
		{json: `true`, want: 7, wantErr: true},
	} {
		d := billing.Day(7)
		err := json.Unmarshal([]byte(tt.json), &d)
		if (err != nil) != tt.wantErr || d != tt.want {
			t.Errorf("Unmarshal(%s) = %d, %v; want %d, error %v", tt.json, d, err, tt.want, tt.wantErr)
		}
		if err != nil && !errors.Is(err, billing.ErrInvalidTime) {
			t.Errorf("Unmarshal(%s): %v, want an error wrapping ErrInvalidTime", tt.json, err)
		}
	}
	// A meter key written before Day had a text form.
	var k billing.MeterKey
	if err := json.Unmarshal([]byte(`{"day":18701,"service":"basic","tier":"hd"}`), &k); err != nil {
		t.Fatal(err)
	}
	if want := (billing.MeterKey{Day: 18701, Service: billing.ServiceBasic, Tier: billing.TierHD}); k != want {
		t.Errorf("old meter key: %+v, want %+v", k, want)
	}
}
