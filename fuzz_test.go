package billing_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/memstore"
	"github.com/shopspring/decimal"
)

// usageErrors are the errors Record documents for bad usage.
var usageErrors = []error{
	billing.ErrInvalidID, billing.ErrInvalidSeconds, billing.ErrInvalidTime, billing.ErrNotFound,
	billing.ErrIdempotencyConflict, billing.ErrBeforeOpened, billing.ErrFutureUsage, billing.ErrNoPriceBook,
	billing.ErrUnknownScenario, billing.ErrUnknownTier, billing.ErrTierNotInScenario, billing.ErrUnknownService, billing.ErrUnknownApp,
}

func documented(err error, errs []error) bool {
	for _, e := range errs {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// FuzzRecord records one usage built from arbitrary fields on an account
// that has some history. It must not panic; an error must be a documented
// one and leave the account unchanged; a success must conserve minutes.
func FuzzRecord(f *testing.F) {
	f.Add("u9", "a", "app1", "", "video-call", "hd", int64(61), int64(0))
	f.Add("u1", "a", "app1", "", "audio-call", "audio", int64(30), int64(-3600))     // a replay of u1
	f.Add("u1", "a", "app1", "", "audio-call", "audio", int64(31), int64(-3600))     // u1 reused
	f.Add("u9", "a", "app1", "", "audio-live", "fhd", int64(1), int64(0))            // a video tier in an audio scenario
	f.Add("u9", "a", "app1", "", "video-live", "4k", int64(1), int64(0))             // unknown tier
	f.Add("u9", "b", "app1", "", "video-live", "sd", int64(1), int64(0))             // unknown account
	f.Add("", "a", "", "", "", "", int64(0), int64(0))                               // empty everything
	f.Add("u\x00", "a", "app1", "", "video-call", "hd", int64(-1), int64(1))         // control character, negative seconds, future
	f.Add("u9", "a", "app1", "", "video-call", "hd", int64(1e12), int64(-1e13))      // before the account was opened
	f.Add("u9", "a", "app1", "", "video-call", "hd", int64(9e18), int64(-9e18))      // absurd numbers
	f.Add("u9", "a", "\xff\xfe", "", "video-call", "sd", int64(600_000), int64(-60)) // invalid UTF-8 app
	f.Add("r9", "a", "app1", "recording", "", "hd", int64(90), int64(0))             // recording
	f.Add("m9", "a", "app1", "mixtranscoding", "", "fhd", int64(90), int64(-60))     // MixTranscoding
	f.Add("r9", "a", "app1", "recording", "video-call", "hd", int64(90), int64(0))   // value-added with a scenario
	f.Add("r9", "a", "app1", "transcription", "", "hd", int64(90), int64(0))         // unknown service
	f.Fuzz(func(t *testing.T, id, account, app, service, scenario, tier string, seconds, offset int64) {
		h := newHarness(t)
		h.do(open(at(15, 8, 0, 0), false), use("u1", audio, 30, at(15, 9, 0, 0)))
		now := at(15, 10, 0, 0)
		h.clock.Set(now)
		before := h.state("a", march(15))
		u := billing.Usage{ID: id, Account: account, App: app, Service: billing.Service(service), Scenario: billing.Scenario(scenario), Tier: billing.Tier(tier),
			Seconds: seconds, At: now.Add(time.Duration(offset % int64(400*24*time.Hour)))}
		r, err := h.e.Record(h.ctx, u)
		if err != nil {
			if !documented(err, usageErrors) {
				t.Fatalf("Record(%+v) error %v is not a documented one", u, err)
			}
			if diff := cmp.Diff(before, h.state("a", march(15)), cmpOpts); diff != "" {
				t.Fatalf("Record(%+v) failed with %v but changed the account (-before +after):\n%s", u, err, diff)
			}
			return
		}
		var drawn int64
		for _, d := range r.Draws {
			drawn += d.Minutes
		}
		if drawn+r.Postpaid+r.Shortfall != r.Minutes {
			t.Fatalf("receipt %+v does not conserve minutes", r)
		}
	})
}

// FuzzVideoTiers tiers arbitrary streams: never a panic, only the
// documented error, and one tier per stream.
func FuzzVideoTiers(f *testing.F) {
	f.Add(640, 480, 1280, 720)
	f.Add(0, 0, -1, 1<<62)
	f.Add(1<<16, 1<<16, 1<<16+1, 1)
	f.Fuzz(func(t *testing.T, w1, h1, w2, h2 int) {
		streams := []billing.Resolution{{Width: w1, Height: h1}, {Width: w2, Height: h2}}
		tiers, err := billing.Era1USD().VideoTiers(streams...)
		if err != nil {
			if !errors.Is(err, billing.ErrInvalidResolution) {
				t.Fatalf("VideoTiers(%v) error %v, want ErrInvalidResolution", streams, err)
			}
			return
		}
		if len(tiers) != 2 {
			t.Fatalf("VideoTiers(%v) = %v, want one tier per stream", streams, tiers)
		}
	})
}

// FuzzBuy buys a package built from arbitrary fields: never a panic, a
// documented error with nothing changed, or a package of the size asked.
func FuzzBuy(f *testing.F) {
	f.Add("p9", "a", "universal", int64(25_000))
	f.Add("p1", "a", "universal", int64(1000))    // a replay of p1
	f.Add("p1", "a", "universal", int64(2000))    // p1 reused
	f.Add("trial", "a", "universal", int64(1000)) // the reserved id
	f.Add("p9", "a", "trial", int64(1000))        // not for sale
	f.Add("p9", "a", "gold", int64(1000))
	f.Add("p9", "a", "universal", int64(1500))
	f.Add("p9", "a", "universal", int64(-9e18))
	f.Add("p9", "b", "universal", int64(1000))
	f.Add("", "", "", int64(0))
	f.Fuzz(func(t *testing.T, id, account, kind string, minutes int64) {
		h := newHarness(t)
		h.do(open(at(15, 8, 0, 0), false), buy(at(15, 8, 30, 0), "p1", uni, 1000))
		before := h.state("a", march(15))
		r, err := h.e.Buy(h.ctx, billing.Purchase{ID: id, Account: account, Kind: kind, Minutes: minutes})
		if err != nil {
			errs := []error{billing.ErrInvalidID, billing.ErrNotFound, billing.ErrIdempotencyConflict, billing.ErrNoPriceBook,
				billing.ErrUnknownKind, billing.ErrInvalidMinutes}
			if !documented(err, errs) {
				t.Fatalf("Buy() error %v is not a documented one", err)
			}
			if diff := cmp.Diff(before, h.state("a", march(15)), cmpOpts); diff != "" {
				t.Fatalf("Buy() failed with %v but changed the account (-before +after):\n%s", err, diff)
			}
			return
		}
		if r.Package.Minutes != minutes || r.Package.Balance < 0 || r.Package.Balance > minutes || r.Package.Price.IsNegative() {
			t.Fatalf("Buy() = %+v: not the package asked for", r.Package)
		}
	})
}

// FuzzOpenAccount opens accounts from arbitrary specs.
func FuzzOpenAccount(f *testing.F) {
	f.Add("a", "", false)
	f.Add("b", "CNY", true)
	f.Add("c", "EUR", false)
	f.Add("", "USD", false)
	f.Add("a\x7f", "usd", true)
	f.Fuzz(func(t *testing.T, id, currency string, postpaid bool) {
		h := newHarness(t)
		a, err := h.e.OpenAccount(h.ctx, billing.AccountSpec{ID: id, Currency: currency, Postpaid: postpaid, App: "app1"})
		if err != nil {
			if !documented(err, []error{billing.ErrInvalidID, billing.ErrNoPriceBook}) {
				t.Fatalf("OpenAccount() error %v is not a documented one", err)
			}
			if _, err := h.e.Overview(h.ctx, id); err == nil {
				t.Fatalf("OpenAccount(%q) failed but the account exists", id)
			}
			return
		}
		if a.ID != id || a.Postpaid.On != postpaid {
			t.Fatalf("OpenAccount() = %+v", a)
		}
	})
}

// FuzzApps creates an application with an arbitrary id and choice, at an
// arbitrary minute after the opening, disables it perhaps, and records a
// usage naming an arbitrary application at an arbitrary minute: only
// documented errors, nothing recorded on error, and a usage of the created
// application from its creation is recorded, flagged if it was disabled.
func FuzzApps(f *testing.F) {
	f.Add("1400000001", true, int64(60), "1400000001", int64(90), true)
	f.Add("app2", false, int64(0), "app2", int64(0), false)
	f.Add("app2", false, int64(60), "app2", int64(59), false)
	f.Add("", false, int64(0), "", int64(0), false)
	f.Add("x\x00", true, int64(1), "app1", int64(1), true)
	f.Add("app1", true, int64(1), "nope", int64(1), false)
	f.Fuzz(func(t *testing.T, app string, postpaid bool, createdAfter int64, used string, usedAfter int64, disable bool) {
		h := newHarness(t)
		h.do(open(at(15, 8, 0, 0), false))
		minutes := func(n int64) time.Duration { return time.Duration((n%1440+1440)%1440) * time.Minute } // 0..1439
		created := at(15, 8, 0, 0).Add(minutes(createdAfter))
		h.clock.Set(created)
		_, err := h.e.CreateApp(h.ctx, "a", billing.AppSpec{ID: app, Postpaid: postpaid})
		switch {
		case err != nil && !documented(err, []error{billing.ErrInvalidID, billing.ErrIdempotencyConflict}):
			t.Fatalf("CreateApp() error %v is not a documented one", err)
		case err == nil && disable:
			if _, err := h.e.DisableApp(h.ctx, "a", app); err != nil {
				t.Fatalf("DisableApp(%q): %v", app, err)
			}
		}
		ok := err == nil
		u := usage("u1", audio, 60, at(15, 8, 0, 0).Add(minutes(usedAfter)))
		u.App = used
		h.clock.Set(at(16, 8, 0, 0))
		r, err := h.e.Record(h.ctx, *u)
		if err != nil {
			if !documented(err, []error{billing.ErrInvalidID, billing.ErrUnknownApp, billing.ErrBeforeOpened}) {
				t.Fatalf("Record() error %v is not a documented one", err)
			}
			if us, _ := h.e.Usages(h.ctx, "a", time.Time{}, time.Time{}); len(us) != 0 {
				t.Fatalf("Record() failed but recorded %v", us)
			}
			if ok && used == app && !u.At.Before(created) {
				t.Fatalf("Record() of application %q, created at %v, at %v: %v", app, created, u.At, err)
			}
			return
		}
		if used == app && ok && r.AppDisabled != disable {
			t.Fatalf("Record() of application %q (disabled %v) = %+v", app, disable, r)
		}
	})
}

// FuzzSettle settles, asks for due days and for a month's statement with
// arbitrary days, instants and months.
func FuzzSettle(f *testing.F) {
	f.Add(int64(18701), int64(0), 2021, 3)  // 2021-03-15
	f.Add(int64(18702), int64(0), 2021, 13) // today; month 13
	f.Add(int64(1<<31-1), int64(-1<<62), -1, 0)
	f.Add(int64(-1<<31), int64(1<<62), 1<<40, -5)
	f.Fuzz(func(t *testing.T, day, atOffset int64, year, month int) {
		h := newHarness(t)
		h.do(open(at(14, 8, 0, 0), true), use("u1", audio, 60, at(15, 9, 0, 0)))
		h.clock.Set(at(16, 10, 0, 0))
		before := h.state("a", march(15))
		d := billing.Day(day)
		if day < -1<<31 || day >= 1<<31 {
			d = billing.Day(int32(day))
		}
		b, err := h.e.Settle(h.ctx, "a", d)
		if err != nil {
			errs := []error{billing.ErrDayNotEnded, billing.ErrDayClosed, billing.ErrSettleOrder, billing.ErrNoPriceBook}
			if !documented(err, errs) {
				t.Fatalf("Settle(%d) error %v is not a documented one", d, err)
			}
			if diff := cmp.Diff(before, h.state("a", march(15)), cmpOpts); diff != "" {
				t.Fatalf("Settle(%d) failed with %v but changed the account (-before +after):\n%s", d, err, diff)
			}
		} else if !b.Total.Equal(b.Subtotal.Round(2)) {
			t.Fatalf("Settle(%d) = %+v: total is not the rounded subtotal", d, b)
		}
		if _, err := h.e.DueDays(h.ctx, "a", at(16, 10, 0, 0).Add(time.Duration(atOffset))); err != nil {
			t.Fatalf("DueDays() error %v", err)
		}
		if _, err := h.e.Statement(h.ctx, "a", year, time.Month(month)); err != nil && !errors.Is(err, billing.ErrInvalidTime) {
			t.Fatalf("Statement(%d, %d) error %v is not a documented one", year, month, err)
		}
	})
}

// FuzzPriceBook changes a price book's figures arbitrarily: New must accept
// it or refuse it with ErrInvalidPriceBook, and an accepted book must bill
// an account without a panic.
func FuzzPriceBook(f *testing.F) {
	f.Add(int32(2), int64(0), int64(307_200), int64(921_600), int64(4), 12, int64(1000), "0.00096", "0.00399")
	f.Add(int32(-1), int64(-1), int64(0), int64(0), int64(0), 0, int64(0), "x", "-1")
	f.Add(int32(9), int64(1<<62), int64(1<<40), int64(1), int64(1<<40), 1<<30, int64(-5), "1e-9", "1e400")
	f.Fuzz(func(t *testing.T, decimals int32, untilOffset, sdArea, hdArea, hdRatio int64, months int, unit int64, band, hdPrice string) {
		b := billing.Era1USD()
		b.Decimals = decimals
		if untilOffset != 0 {
			b.Until = b.From.Add(time.Duration(untilOffset))
		}
		b.Tiers[1].MaxArea, b.Tiers[2].MaxArea = sdArea, hdArea
		b.Kinds[1].Ratios[2].Minutes = hdRatio
		b.Kinds[1].Validity.Months = months
		b.Kinds[1].Pricing.Unit = unit
		if d, err := decimal.NewFromString(band); err == nil {
			b.Kinds[1].Pricing.Bands[0].PerMinute = d
		}
		if d, err := decimal.NewFromString(hdPrice); err == nil {
			b.Tiers[2].Price = d
		}
		h := &harness{t: t, ctx: context.Background(), clock: &clock{t: at(15, 8, 0, 0)}, store: memstore.New()}
		var err error
		h.e, err = billing.New(h.store, &billing.Options{Now: h.clock.Now, PriceBooks: []billing.PriceBook{b}})
		if err != nil {
			if !errors.Is(err, billing.ErrInvalidPriceBook) {
				t.Fatalf("New() error %v, want ErrInvalidPriceBook", err)
			}
			return
		}
		if _, err := h.e.OpenAccount(h.ctx, billing.AccountSpec{ID: "a", App: "app1"}); err != nil {
			return // the book may not be in force now
		}
		_, _ = h.e.Buy(h.ctx, billing.Purchase{ID: "p1", Account: "a", Kind: uni, Minutes: unit})
		h.clock.Set(at(15, 9, 0, 0))
		if r, err := h.e.Record(h.ctx, *usage("u1", hd, 61, at(15, 9, 0, 0))); err == nil {
			var drawn int64
			for _, d := range r.Draws {
				drawn += d.Minutes
			}
			if drawn+r.Postpaid+r.Shortfall != r.Minutes {
				t.Fatalf("receipt %+v does not conserve minutes", r)
			}
		}
		_, _ = b.VideoTiers(billing.Resolution{Width: 1280, Height: 720})
	})
}

// FuzzDay checks the calendar arithmetic of Day on arbitrary instants and
// zones: an instant whose local date is in the years 1 to 9999 has that
// date for day, and any other is refused.
func FuzzDay(f *testing.F) {
	f.Add(int64(1615766399), 8*3600)
	f.Add(int64(-1), 0)
	f.Add(int64(-62135596800), -12*3600)
	f.Add(int64(253402300799), 14*3600)
	f.Add(int64(371086787980800), 0) // 11761242-03-10 00:00 UTC
	f.Fuzz(func(t *testing.T, unix int64, offset int) {
		if unix < -1<<60 || unix > 1<<60 || offset < -18*3600 || offset > 18*3600 {
			return // beyond what time.Time holds, and real zone offsets
		}
		loc := time.FixedZone("z", offset)
		tm := time.Unix(unix, 0)
		ly, lm, ld := tm.In(loc).Date()
		d, err := billing.DayOf(tm, loc)
		if ly < 1 || ly > 9999 {
			if !errors.Is(err, billing.ErrInvalidTime) {
				t.Fatalf("DayOf(%v) = %v, %v; want ErrInvalidTime", tm, d, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("DayOf(%v): %v", tm, err)
		}
		y, m, dd := d.Date()
		if back, err := billing.DateDay(y, m, dd); back != d || err != nil {
			t.Fatalf("DateDay(Date()) = %d, %v; want %d", back, err, d)
		}
		if start := d.Start(loc); start.After(tm) || !(d + 1).Start(loc).After(tm) {
			t.Fatalf("day %s [%v, %v) does not hold %v", d, start, (d + 1).Start(loc), tm)
		}
		if ly != y || lm != m || ld != dd {
			t.Fatalf("DayOf(%v) = %s, the local date is %d-%d-%d", tm, d, ly, lm, ld)
		}
	})
}

// FuzzDateDay checks DateDay on arbitrary dates: a date that normalizes
// into the years 1 to 9999 is that day, any other is refused.
func FuzzDateDay(f *testing.F) {
	f.Add(2021, 3, 15)
	f.Add(2021, 2, 29)
	f.Add(11761242, 3, 10)
	f.Add(9999, 13, 0)
	f.Add(1, 1, 0)
	f.Fuzz(func(t *testing.T, y, m, dd int) {
		d, err := billing.DateDay(y, time.Month(m), dd)
		const limit = 10_000_000
		if y < -limit || y > limit || m < -limit || m > limit || dd < -limit || dd > limit {
			if !errors.Is(err, billing.ErrInvalidTime) {
				t.Fatalf("DateDay(%d, %d, %d) = %v, %v; want ErrInvalidTime", y, m, dd, d, err)
			}
			return
		}
		ny, nm, nd := time.Date(y, time.Month(m), dd, 0, 0, 0, 0, time.UTC).Date()
		if ny < 1 || ny > 9999 {
			if !errors.Is(err, billing.ErrInvalidTime) {
				t.Fatalf("DateDay(%d, %d, %d) = %v, %v; want ErrInvalidTime", y, m, dd, d, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("DateDay(%d, %d, %d): %v", y, m, dd, err)
		}
		if gy, gm, gd := d.Date(); gy != ny || gm != nm || gd != nd {
			t.Fatalf("DateDay(%d, %d, %d) = %d-%d-%d, want %d-%d-%d", y, m, dd, gy, gm, gd, ny, nm, nd)
		}
	})
}

// FuzzArrears reports arrears paid or overdue under arbitrary references,
// at arbitrary times after the first report: never a panic; a documented
// error with nothing changed; or arrears that stay consistent (each
// reference once, at most the last unpaid, suspended a day after the
// report), a ledger entry only for a report that changed them.
func FuzzArrears(f *testing.F) {
	f.Add("a", "bill-1", true, int64(0))
	f.Add("a", "bill-1", false, int64(3600))       // reported again
	f.Add("a", "bill-2", false, int64(3600))       // joins bill-1's arrears
	f.Add("a", "bill-9", true, int64(60))          // unknown reference
	f.Add("b", "bill-1", false, int64(0))          // unknown account
	f.Add("a", "", false, int64(0))                // empty reference
	f.Add("a", "bill\x00", false, int64(0))        // control character
	f.Add("a", "bill-3", false, int64(90*24*3600)) // after the reclaim
	f.Add("a", "bill-1", true, int64(9e18))        // absurd offset
	f.Fuzz(func(t *testing.T, account, ref string, paid bool, offset int64) {
		h := newHarness(t)
		h.do(open(at(15, 8, 0, 0), false))
		h.clock.Set(at(15, 9, 0, 0))
		if _, err := h.e.ReportOverdue(h.ctx, "a", "bill-1"); err != nil {
			t.Fatal(err)
		}
		h.clock.Set(at(15, 9, 0, 0).Add(time.Duration(offset%int64(400*24*time.Hour)) / time.Second * time.Second))
		before := h.state("a", march(15))
		var err error
		if paid {
			_, err = h.e.ReportPaid(h.ctx, account, ref)
		} else {
			_, err = h.e.ReportOverdue(h.ctx, account, ref)
		}
		after := h.state("a", march(15))
		if err != nil {
			if !documented(err, []error{billing.ErrInvalidID, billing.ErrNotFound}) {
				t.Fatalf("report(%q, %q, paid %v) error %v is not a documented one", account, ref, paid, err)
			}
			if diff := cmp.Diff(before.Overview.Account.Arrears, after.Overview.Account.Arrears, cmpOpts); diff != "" {
				t.Fatalf("report failed with %v but changed the arrears (-before +after):\n%s", err, diff)
			}
			return
		}
		seen := map[string]bool{}
		as := after.Overview.Account.Arrears
		for i, ar := range as {
			for _, r := range ar.Refs {
				if seen[r] {
					t.Fatalf("reference %q in two arrears: %+v", r, as)
				}
				seen[r] = true
			}
			// Reclaimed at the start of the first day that begins once the
			// suspension (from a day after the report) has lasted 60 days.
			x := ar.Since.Add(61 * 24 * time.Hour)
			d, err := billing.DayOf(ar.Reclaim, cst)
			if ar.Paid.IsZero() && i < len(as)-1 || err != nil || !d.Start(cst).Equal(ar.Reclaim) ||
				ar.Reclaim.Before(x) || !ar.Reclaim.Before(x.Add(24*time.Hour)) {
				t.Fatalf("arrears %d of %+v", i, as)
			}
		}
		changed := !cmp.Equal(before.Overview.Account.Arrears, as, cmpOpts)
		if grew := len(after.Ledger) > len(before.Ledger); grew != changed {
			t.Fatalf("arrears changed %v, ledger grew %v", changed, grew)
		}
	})
}

// FuzzRefund asks for refunds of arbitrary packages, under arbitrary ids
// and discounts: never a panic; a documented error with nothing changed; or
// a refund of at most the price, which empties the package.
func FuzzRefund(f *testing.F) {
	f.Add("r1", "a", "p1", "0")
	f.Add("r1", "a", "p1", "0.8")
	f.Add("r1", "a", "p1", "1.000000001")
	f.Add("r1", "a", "trial", "0")
	f.Add("r1", "a", "p9", "0")
	f.Add("", "a", "p1", "0")
	f.Add("r1", "b", "p1", "-1")
	f.Add("r\x00", "a", "p\xff", "0.5")
	f.Fuzz(func(t *testing.T, id, account, pkg, discount string) {
		d, err := decimal.NewFromString(discount)
		if err != nil || d.Exponent() < -30 || d.Abs().GreaterThan(decimal.NewFromInt(1e9)) {
			return // not a decimal the caller could hold
		}
		h := newHarness(t)
		h.do(op{now: nov(1, 9, 0), open: &billing.AccountSpec{ID: "a", Currency: "CNY", App: "app1"}}, buy(nov(1, 9, 30), "p1", uni, 25_000),
			audioUsage("u1", 12_000, nov(1, 12, 0)), settle(nov(2, 10, 0), novDay(1)))
		h.clock.Set(nov(10, 10, 0))
		before := h.state("a")
		r, err := h.e.Refund(h.ctx, billing.Refund{ID: id, Account: account, Package: pkg, Discount: d})
		if err != nil {
			errs := []error{billing.ErrInvalidID, billing.ErrInvalidDiscount, billing.ErrNotFound, billing.ErrNotRefundable, billing.ErrNotYetRefundable}
			if !documented(err, errs) {
				t.Fatalf("Refund() error %v is not a documented one", err)
			}
			if diff := cmp.Diff(before, h.state("a"), cmpOpts); diff != "" {
				t.Fatalf("Refund() failed with %v but changed the account (-before +after):\n%s", err, diff)
			}
			return
		}
		// p1: 168.00; the trial took 10,000 minutes, p1 2,000.
		if r.Package != "p1" || r.Amount.IsNegative() || r.Amount.GreaterThan(dec("168")) || r.Consumed != 2_000 || r.Minutes != 23_000 {
			t.Fatalf("refund %+v", r)
		}
		if b := h.balances("a"); b["p1"] != 0 {
			t.Fatalf("p1's balance after the refund: %d", b["p1"])
		}
	})
}

// FuzzPeriod checks the settlement periods of a monthly account, whatever
// the day asked about: a period holds the day, lasts a month at most, lies
// in one calendar month, is the period of each of its days, and the next
// begins the day after it ends; the account's cohort's day begins one.
func FuzzPeriod(f *testing.F) {
	f.Add(int32(18701), int32(18690))   // 2021-03-15, an account of 2021-03-04
	f.Add(int32(18690), int32(18690))   // the cohort's own day
	f.Add(int32(-719162), int32(18000)) // 0001-01-01, before any book
	f.Add(int32(2932896), int32(18000)) // 9999-12-31
	books := []billing.PriceBook{monthlyCycle()}
	e, err := billing.New(memstore.New(), &billing.Options{PriceBooks: books})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, day, cohort int32) {
		d, c := billing.Day(day), billing.Day(cohort)
		if d < billing.MinDay || d > billing.MaxDay || c < billing.MinDay || c > billing.MaxDay {
			return
		}
		opened := c.Start(cst)
		a := &billing.Account{Currency: "USD", Opened: opened, Cycle: billing.Monthly,
			Apps: []billing.App{{ID: "app1", Created: opened}}}
		first, last := billing.Period(e, a, d)
		if first > d || d > last || last-first > 30 {
			t.Fatalf("period of %s = %s..%s: does not hold the day, or longer than a month", d, first, last)
		}
		if y1, m1, _ := first.Date(); func() bool { y2, m2, _ := last.Date(); return y1 != y2 || m1 != m2 }() {
			t.Fatalf("period of %s = %s..%s spans two months", d, first, last)
		}
		for _, x := range []billing.Day{first, last} {
			if f2, l2 := billing.Period(e, a, x); f2 != first || l2 != last {
				t.Fatalf("period of %s = %s..%s, of its day %s = %s..%s", d, first, last, x, f2, l2)
			}
		}
		if last < billing.MaxDay {
			if next, _ := billing.Period(e, a, last+1); next != last+1 {
				t.Fatalf("the period after %s..%s begins on %s", first, last, next)
			}
		}
		if d == c && first != c {
			t.Fatalf("the cohort's day %s does not begin a period: %s..%s", c, first, last)
		}
	})
}
