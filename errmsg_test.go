package billing_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/memstore"
)

// errCase is one call of the public API with one bad input.
type errCase struct {
	name  string
	books []billing.PriceBook // the Engine's books; nil for the default ones
	// call makes the call, after any setup of its own, on an Engine
	// where account "a" (application "app1", no postpaid) opened at
	// 2021-03-15 08:00 and the clock reads 09:00.
	call func(h *harness) error
	want string // the whole message
	is   error  // the sentinel it wraps
}

// TestErrorMessages pins the whole message of every error of the public
// API that a test can reach, with the sentinel each wraps. It is the one
// place where tests compare error strings: a message is what a person
// reads, so each says what is wrong in the caller's terms (the field, the
// value as given, its unit, a day as a date) and names the package once.
func TestErrorMessages(t *testing.T) {
	var tests []errCase
	tests = append(tests, functionCases()...)
	tests = append(tests, priceBookCases()...)
	tests = append(tests, accountCases()...)
	tests = append(tests, settleCases()...)
	tests = append(tests, buyCases()...)
	tests = append(tests, recordCases()...)
	tests = append(tests, refundCases()...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.books...)
			h.do(open(at(15, 8, 0, 0), false))
			h.clock.Set(at(15, 9, 0, 0))
			err := tt.call(h)
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("error %v does not wrap %v", err, tt.is)
			}
			if n := strings.Count(err.Error(), "billing: "); n != 1 {
				t.Errorf("%q names the package %d times, want once", err, n)
			}
		})
	}
}

// errCtx is the context of the calls of TestErrorMessages.
var errCtx = context.Background()

// longID is an id of 129 bytes, one more than MaxIDLength, and longQuoted is it
// as a message quotes it: cut after 64 bytes.
var (
	longID     = strings.Repeat("a", 129)
	longQuoted = `"` + strings.Repeat("a", 64) + `…"`
)

// year10000 is the first instant of the year 10000 (UTC), past MaxDay.
var year10000 = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)

// functionCases are the errors of the package's functions and of New.
func functionCases() []errCase {
	return []errCase{
		{name: "New without a Store", call: func(*harness) error {
			_, err := billing.New(nil, nil)
			return err
		}, want: "billing: invalid options: the Store is nil", is: billing.ErrInvalidOptions},
		{name: "New with a currency no book has", call: func(*harness) error {
			_, err := billing.New(memstore.New(), &billing.Options{Currency: "EUR"})
			return err
		}, want: `billing: invalid options: no price book in the default currency "EUR"`, is: billing.ErrInvalidOptions},
		{name: "New with two books of one ID", call: func(*harness) error {
			_, err := billing.New(memstore.New(), &billing.Options{PriceBooks: []billing.PriceBook{billing.Era1USD(), billing.Era1USD()}})
			return err
		}, want: `billing: invalid price book: two books with ID "era1-usd"`, is: billing.ErrInvalidPriceBook},
		{name: "New with books that overlap", call: func(*harness) error {
			b := billing.Era1USD()
			b.ID = "copy"
			_, err := billing.New(memstore.New(), &billing.Options{PriceBooks: []billing.PriceBook{billing.Era1USD(), b}})
			return err
		}, want: `billing: invalid price book: books "era1-usd" and "copy" overlap in time for the same accounts ` +
			`(replace one, end one with Until, or give them cohorts that do not overlap: CohortFrom, CohortUntil)`,
			is: billing.ErrInvalidPriceBook},
		// From 01:00 to 02:00 of one day holds no midnight of UTC+8.
		{name: "New with a book in force on no whole day", call: func(*harness) error {
			b := billing.Era1USD()
			b.From, b.Until = at(15, 1, 0, 0), at(15, 2, 0, 0)
			_, err := billing.New(memstore.New(), &billing.Options{PriceBooks: []billing.PriceBook{b}})
			return err
		}, want: `billing: invalid price book "era1-usd": from From to Until it holds the start of no billing day in UTC+8`,
			is: billing.ErrInvalidPriceBook},

		{name: "DayOf past the year 9999", call: func(*harness) error {
			_, err := billing.DayOf(year10000, time.UTC)
			return err
		}, want: "billing: invalid time: 10000-01-01T00:00:00Z is outside the years 1 to 9999", is: billing.ErrInvalidTime},
		{name: "DateDay with a huge part", call: func(*harness) error {
			_, err := billing.DateDay(2021, 2, 10_000_001)
			return err
		}, want: "billing: invalid time: date 2021-2-10000001 has a part beyond ±10,000,000", is: billing.ErrInvalidTime},
		{name: "DateDay past the year 9999", call: func(*harness) error {
			_, err := billing.DateDay(10000, 1, 1)
			return err
		}, want: "billing: invalid time: date 10000-1-1 is outside the years 1 to 9999", is: billing.ErrInvalidTime},
		// 2021 is not a leap year.
		{name: "ParseDay of a date that does not exist", call: func(*harness) error {
			_, err := billing.ParseDay("2021-02-29")
			return err
		}, want: `billing: invalid time: day "2021-02-29" is not a date 0001-01-01 to 9999-12-31`, is: billing.ErrInvalidTime},
		{name: "UnmarshalText of text that is not a date", call: func(*harness) error {
			var d billing.Day
			return d.UnmarshalText([]byte("15/03/2021"))
		}, want: `billing: invalid time: day "15/03/2021" is not a date 0001-01-01 to 9999-12-31`, is: billing.ErrInvalidTime},
		// MaxDay is 2,932,896.
		{name: "MarshalText past MaxDay", call: func(*harness) error {
			_, err := (billing.MaxDay + 1).MarshalText()
			return err
		}, want: "billing: invalid time: day 2932897 (in days since 1970-01-01) is outside the years 1 to 9999", is: billing.ErrInvalidTime},

		{name: "ServiceTiers of an unknown service", call: func(*harness) error {
			_, err := billing.Era1USD().ServiceTiers("hologram", billing.Resolution{Width: 640, Height: 480})
			return err
		}, want: `billing: unknown service "hologram" in book "era1-usd"`, is: billing.ErrUnknownService},
		{name: "VideoTiers of no stream", call: func(*harness) error {
			_, err := billing.Era1USD().VideoTiers()
			return err
		}, want: "billing: invalid resolution: 0 streams, not 1..1024", is: billing.ErrInvalidResolution},
		{name: "VideoTiers of 1,025 streams", call: func(*harness) error {
			streams := make([]billing.Resolution, 1025)
			for i := range streams {
				streams[i] = billing.Resolution{Width: 640, Height: 480}
			}
			_, err := billing.Era1USD().VideoTiers(streams...)
			return err
		}, want: "billing: invalid resolution: 1025 streams, not 1..1024", is: billing.ErrInvalidResolution},
		{name: "VideoTiers of a stream 0 pixels wide", call: func(*harness) error {
			_, err := billing.Era1USD().VideoTiers(billing.Resolution{Width: 0, Height: 720})
			return err
		}, want: "billing: invalid resolution: 0x720 pixels: a side is not in 1..65536", is: billing.ErrInvalidResolution},
		// Era 3 adds the areas: 4096×2176 = 8,912,896 > 4096×2160 = 8,847,360,
		// the bound of its highest tier, 4K.
		{name: "VideoTiers above a capped table", call: func(*harness) error {
			_, err := billing.Era3USD().VideoTiers(billing.Resolution{Width: 4096, Height: 2176})
			return err
		}, want: `billing: invalid resolution: area 8912896 square pixels is above every video tier of basic in book "era3-usd"`,
			is: billing.ErrInvalidResolution},
		{name: "AreaTier of no area", call: func(*harness) error {
			_, err := billing.Era1USD().AreaTier(billing.ServiceBasic, 0)
			return err
		}, want: "billing: invalid resolution: area 0 square pixels, not positive", is: billing.ErrInvalidResolution},
		{name: "AreaTier of an unknown service", call: func(*harness) error {
			_, err := billing.Era1USD().AreaTier("hologram", 1)
			return err
		}, want: `billing: unknown service "hologram" in book "era1-usd"`, is: billing.ErrUnknownService},
	}
}

// priceBookCases are the errors of New for a book that fails validation:
// each changes one thing of the Era 1 USD book (kinds: 0 trial, 1
// universal; value-added: 0 recording, 1 MixTranscoding).
func priceBookCases() []errCase {
	tests := []struct {
		name   string
		change func(*billing.PriceBook)
		want   string // after `billing: invalid price book "era1-usd": `
	}{
		{"currency in lower case", func(b *billing.PriceBook) { b.Currency = "usd" }, `currency "usd" is not three capital letters`},
		{"wrong decimals", func(b *billing.PriceBook) { b.Decimals = 3 }, "decimals 3 are not the 2 of USD"},
		{"no From", func(b *billing.PriceBook) { b.From = time.Time{} }, "no From time"},
		{"Until before From", func(b *billing.PriceBook) { b.Until = b.From.Add(-time.Hour) }, "Until is not after From"},
		{"CohortUntil at CohortFrom", func(b *billing.PriceBook) { b.CohortFrom, b.CohortUntil = at(1, 0, 0, 0), at(1, 0, 0, 0) },
			"CohortUntil is not after CohortFrom"},
		{"unknown tiering", func(b *billing.PriceBook) { b.Tiering = "sum" }, `unknown tiering "sum"`},
		{"no tiers", func(b *billing.PriceBook) { b.Tiers = nil }, "no tiers or no scenarios"},
		{"repeated tier", func(b *billing.PriceBook) { b.Tiers[2].Tier = billing.TierSD }, `tier "sd": invalid or repeated name`},
		{"negative price", func(b *billing.PriceBook) { b.Tiers[0].Price = dec("-0.001") },
			`tier "audio": price -0.001 is negative or has more than 8 decimals`},
		{"audio tier with an area", func(b *billing.PriceBook) { b.Tiers[0].MaxArea = 1 }, `audio tier "audio" has an area bound`},
		{"video tier after the unbounded one", func(b *billing.PriceBook) {
			b.Tiers = append(b.Tiers, billing.TierSpec{Tier: billing.Tier2K, Video: true, MaxArea: 1 << 30})
		}, `video tier "2k" follows the unbounded tier`},
		// SD's bound is 640×480 = 307,200.
		{"video tiers out of order", func(b *billing.PriceBook) { b.Tiers[2].MaxArea = 100 },
			`video tier "hd": MaxArea 100 not above the previous tier's`},
		{"repeated scenario", func(b *billing.PriceBook) { b.Scenarios[1].Scenario = billing.AudioLive },
			`scenario "audio-live": invalid or repeated name`},
		{"video scenario without video tiers", func(b *billing.PriceBook) { b.Tiers = b.Tiers[:1] },
			`scenario "video-live" has no tier it may use`},
		{"repeated kind", func(b *billing.PriceBook) { b.Kinds[1].Name = billing.KindTrial }, `kind "trial": invalid or repeated name`},
		{"kind without ratios", func(b *billing.PriceBook) { b.Kinds[1].Ratios = nil }, `kind "universal": no ratios`},
		{"kind bound to an application in a book that is not per application", func(b *billing.PriceBook) { b.Kinds[1].AppBound = true },
			`kind "universal": bound to an application in a book that rounds the applications together`},
		{"ratio of a service the book does not price", func(b *billing.PriceBook) { b.Kinds[1].Ratios[0].Service = "hologram" },
			`kind "universal": ratio for service "hologram", which the book does not price`},
		{"ratio of an unknown tier", func(b *billing.PriceBook) { b.Kinds[1].Ratios[0].Tier = billing.Tier4K },
			`kind "universal": ratio for unknown or repeated tier "4k" of basic`},
		{"zero ratio", func(b *billing.PriceBook) { b.Kinds[1].Ratios[0].Minutes = 0 },
			`kind "universal": ratio 0 for tier "audio" not in 1..1000000`},
		{"zero validity", func(b *billing.PriceBook) { b.Kinds[1].Validity = billing.Validity{} },
			`kind "universal": validity of 0 months not in 1..120 (or 0 to the month's end)`},
		{"prices without a unit", func(b *billing.PriceBook) { b.Kinds[1].Pricing.Unit = 0 },
			`kind "universal": prices or refunds without a unit`},
		{"refundable without a band from 0", func(b *billing.PriceBook) {
			b.Kinds[1].Refundable, b.Kinds[1].Pricing.Bands = true, nil
		}, `kind "universal": refundable without bands from 0 minutes`},
		{"negative unit", func(b *billing.PriceBook) { b.Kinds[1].Pricing.Unit = -1 },
			`kind "universal": unit -1 not in 1..1000000000000`},
		{"for sale without prices", func(b *billing.PriceBook) { b.Kinds[1].Pricing.Offers, b.Kinds[1].Pricing.Bands = nil, nil },
			`kind "universal": for sale without prices`},
		{"offer not a multiple of the unit", func(b *billing.PriceBook) { b.Kinds[1].Pricing.Offers[0].Minutes = 1500 },
			`kind "universal": offer of 1500 minutes at 24: size or price invalid`},
		// The second band is from 25,000 minutes at 0.960 per 1,000.
		{"bands out of order", func(b *billing.PriceBook) { b.Kinds[1].Pricing.Bands[1].From = 0 },
			`kind "universal": band from 0 at 0.00096: out of order or price invalid`},
		{"value-added service named basic", func(b *billing.PriceBook) { b.ValueAdded[0].Service = billing.ServiceBasic },
			`value-added service "basic": invalid or repeated name`},
		{"value-added service without a tiering", func(b *billing.PriceBook) { b.ValueAdded[1].Tiering = "" },
			`value-added service "mixtranscoding": unknown tiering ""`},
		{"value-added service without tiers", func(b *billing.PriceBook) { b.ValueAdded[1].Tiers = nil },
			`value-added service "mixtranscoding": no tiers`},
		{"earlier accounts billed before the service", func(b *billing.PriceBook) {
			b.ValueAdded[1].EarlierAccountsFrom = b.ValueAdded[1].From.Add(-time.Hour)
		}, `value-added service "mixtranscoding": EarlierAccountsFrom before From`},
		{"applications created until when they are created from", func(b *billing.PriceBook) {
			b.ValueAdded[0].AppsFrom, b.ValueAdded[0].AppsUntil = at(1, 0, 0, 0), at(1, 0, 0, 0)
		}, `value-added service "recording": AppsUntil is not after AppsFrom`},
		{"value-added tier repeated", func(b *billing.PriceBook) { b.ValueAdded[0].Tiers[2].Tier = billing.TierSD },
			`value-added service "recording": tier "sd": invalid or repeated name`},
		{"trial of an unknown kind", func(b *billing.PriceBook) { b.Trial.Kind = "gift" }, `trial kind "gift" is not in Kinds`},
		{"trial bound to an application", func(b *billing.PriceBook) { b.PerApp, b.Kinds[0].AppBound = true, true },
			`trial kind "trial" is bound to an application`},
		{"trial of zero minutes", func(b *billing.PriceBook) { b.Trial.Minutes = 0 }, "trial minutes 0 not in 1..1000000000000"},
		{"monthly grant of an unknown kind", func(b *billing.PriceBook) { b.Monthly = billing.Recurring{Kind: "gift", Minutes: 1} },
			`monthly grant kind "gift" is not in Kinds`},
		{"monthly grant of a kind for sale", func(b *billing.PriceBook) {
			b.Monthly = billing.Recurring{Kind: billing.KindUniversal, Minutes: 1}
		}, `monthly grant kind "universal" is for sale`},
		{"monthly grant of a kind that arms the switch", func(b *billing.PriceBook) {
			b.Kinds[0].AutoPostpaid = true
			b.Monthly = billing.Recurring{Kind: billing.KindTrial, Minutes: 1}
		}, `monthly grant kind "trial" arms the automatic switch`},
		{"monthly grant bound to an application", func(b *billing.PriceBook) {
			b.PerApp, b.Kinds[0].AppBound, b.Trial = true, true, billing.Grant{}
			b.Monthly = billing.Recurring{Kind: billing.KindTrial, Minutes: 1}
		}, `monthly grant kind "trial" is bound to an application`},
		{"monthly grant for negative months", func(b *billing.PriceBook) {
			b.Monthly = billing.Recurring{Kind: billing.KindTrial, Minutes: 1, Months: -1}
		}, "monthly grant for -1 months"},
		{"monthly grant of no minutes", func(b *billing.PriceBook) { b.Monthly = billing.Recurring{Kind: billing.KindTrial} },
			"monthly grant minutes 0 not in 1..1000000000000"},
	}
	cases := []errCase{{name: "price book without an ID", call: func(*harness) error {
		b := billing.Era1USD()
		b.ID = ""
		_, err := billing.New(memstore.New(), &billing.Options{PriceBooks: []billing.PriceBook{b}})
		return err
	}, want: `billing: invalid price book "": invalid ID`, is: billing.ErrInvalidPriceBook}}
	for _, tt := range tests {
		cases = append(cases, errCase{name: "price book: " + tt.name, call: func(*harness) error {
			b := billing.Era1USD()
			tt.change(&b)
			_, err := billing.New(memstore.New(), &billing.Options{PriceBooks: []billing.PriceBook{b}})
			return err
		}, want: `billing: invalid price book "era1-usd": ` + tt.want, is: billing.ErrInvalidPriceBook})
	}
	return cases
}

// admitReason returns Admit's error, or else the admission's reason.
func admitReason(a billing.Admission, err error) error {
	if err != nil {
		return err
	}
	return a.Reason
}

// unlisted is a Store that does not list its accounts.
type unlisted struct{ billing.Store }

// conflicting is a Store whose units of work always meet a concurrent
// update.
type conflicting struct{ billing.Store }

func (conflicting) Update(_ context.Context, id string, _ func(billing.Reader) (billing.Changes, error)) error {
	return fmt.Errorf("test store: account %q: %w", id, billing.ErrConflict)
}

// openCNY opens account "c" in CNY, with application "app1", at the
// harness's time.
func openCNY(h *harness) {
	h.t.Helper()
	if _, err := h.e.OpenAccount(errCtx, billing.AccountSpec{ID: "c", Currency: "CNY", App: "app1"}); err != nil {
		h.t.Fatalf("OpenAccount: %v", err)
	}
}

// accountCases are the errors of the Engine's methods on accounts,
// applications, admission, arrears and reads.
func accountCases() []errCase {
	return []errCase{
		{name: "OpenAccount with an empty id", call: func(h *harness) error {
			_, err := h.e.OpenAccount(errCtx, billing.AccountSpec{})
			return err
		}, want: `billing: OpenAccount: invalid id: account id is empty`, is: billing.ErrInvalidID},
		{name: "OpenAccount with an id of 129 bytes", call: func(h *harness) error {
			_, err := h.e.OpenAccount(errCtx, billing.AccountSpec{ID: longID})
			return err
		}, want: `billing: OpenAccount account ` + longQuoted + `: invalid id: account id ` + longQuoted + ` is 129 bytes long, more than 128`,
			is: billing.ErrInvalidID},
		{name: "OpenAccount with a control character", call: func(h *harness) error {
			_, err := h.e.OpenAccount(errCtx, billing.AccountSpec{ID: "b\x00"})
			return err
		}, want: `billing: OpenAccount account "b\x00": invalid id: account id "b\x00" has a control character`, is: billing.ErrInvalidID},
		{name: "OpenAccount with bytes that are not UTF-8", call: func(h *harness) error {
			_, err := h.e.OpenAccount(errCtx, billing.AccountSpec{ID: "b\xff"})
			return err
		}, want: `billing: OpenAccount account "b\xff": invalid id: account id "b\xff" is not UTF-8`, is: billing.ErrInvalidID},
		{name: "OpenAccount with U+FFFD", call: func(h *harness) error {
			_, err := h.e.OpenAccount(errCtx, billing.AccountSpec{ID: "b\uFFFD"})
			return err
		}, want: "billing: OpenAccount account \"b\uFFFD\": invalid id: account id \"b\uFFFD\" has U+FFFD, the mark of text that was not UTF-8",
			is: billing.ErrInvalidID},
		{name: "OpenAccount with an invalid application id", call: func(h *harness) error {
			_, err := h.e.OpenAccount(errCtx, billing.AccountSpec{ID: "b", App: "app\n"})
			return err
		}, want: `billing: OpenAccount account "b": invalid id: app id "app\n" has a control character`, is: billing.ErrInvalidID},
		{name: "OpenAccount in a currency no book has", call: func(h *harness) error {
			_, err := h.e.OpenAccount(errCtx, billing.AccountSpec{ID: "b", Currency: "EUR"})
			return err
		}, want: `billing: OpenAccount account "b": no price book in force: no book in "EUR" prices day 2021-03-15 for an account of the cohort of 2021-03-15`,
			is: billing.ErrNoPriceBook},
		{name: "OpenAccount again, differently", call: func(h *harness) error {
			_, err := h.e.OpenAccount(errCtx, billing.AccountSpec{ID: "a", App: "app1", Postpaid: true})
			return err
		}, want: `billing: OpenAccount account "a": id reused with a different request: the account was opened with another Currency, Postpaid or App`,
			is: billing.ErrIdempotencyConflict},
		{name: "OpenAccount with the clock at the zero time", call: func(h *harness) error {
			h.clock.Set(time.Time{})
			_, err := h.e.OpenAccount(errCtx, billing.AccountSpec{ID: "b"})
			return err
		}, want: `billing: OpenAccount account "b": invalid time: the Engine's clock reads 0001-01-01T00:00:00Z`, is: billing.ErrInvalidTime},
		{name: "OpenAccount with the clock past the year 9999", call: func(h *harness) error {
			h.clock.Set(year10000)
			_, err := h.e.OpenAccount(errCtx, billing.AccountSpec{ID: "b"})
			return err
		}, want: `billing: OpenAccount account "b": invalid time: the Engine's clock reads 10000-01-01T00:00:00Z, outside the years 1 to 9999`,
			is: billing.ErrInvalidTime},

		// The Engine tries a unit of work 100 times, then returns the Store's error.
		{name: "OpenAccount on a Store that always conflicts", call: func(h *harness) error {
			e, err := billing.New(conflicting{h.store}, &billing.Options{Now: h.clock.Now})
			if err != nil {
				return err
			}
			_, err = e.OpenAccount(errCtx, billing.AccountSpec{ID: "b"})
			return err
		}, want: `billing: OpenAccount account "b": test store: account "b": concurrent update`, is: billing.ErrConflict},

		{name: "Overview with an empty id", call: func(h *harness) error {
			_, err := h.e.Overview(errCtx, "")
			return err
		}, want: `billing: Overview: invalid id: account id is empty`, is: billing.ErrInvalidID},
		{name: "Overview of no such account", call: func(h *harness) error {
			_, err := h.e.Overview(errCtx, "zz")
			return err
		}, want: `billing: Overview account "zz": account not found`, is: billing.ErrNotFound},
		{name: "Ledger of no such account", call: func(h *harness) error {
			_, err := h.e.Ledger(errCtx, "zz", time.Time{}, time.Time{})
			return err
		}, want: `billing: Ledger account "zz": account not found`, is: billing.ErrNotFound},
		{name: "Meters of no such account", call: func(h *harness) error {
			_, err := h.e.Meters(errCtx, "zz", march(15))
			return err
		}, want: `billing: Meters account "zz": account not found`, is: billing.ErrNotFound},
		{name: "Usages of no such account", call: func(h *harness) error {
			_, err := h.e.Usages(errCtx, "zz", time.Time{}, time.Time{})
			return err
		}, want: `billing: Usages account "zz": account not found`, is: billing.ErrNotFound},
		{name: "Bills of no such account", call: func(h *harness) error {
			_, err := h.e.Bills(errCtx, "zz", march(1), march(31))
			return err
		}, want: `billing: Bills account "zz": account not found`, is: billing.ErrNotFound},
		{name: "Statement of month 13", call: func(h *harness) error {
			_, err := h.e.Statement(errCtx, "a", 2021, 13)
			return err
		}, want: `billing: Statement account "a": invalid time: month 13 is not 1 to 12`, is: billing.ErrInvalidTime},
		{name: "Statement of the year 10000", call: func(h *harness) error {
			_, err := h.e.Statement(errCtx, "a", 10000, time.January)
			return err
		}, want: `billing: Statement account "a": invalid time: date 10000-1-1 is outside the years 1 to 9999`, is: billing.ErrInvalidTime},
		{name: "Statement of no such account", call: func(h *harness) error {
			_, err := h.e.Statement(errCtx, "zz", 2021, time.March)
			return err
		}, want: `billing: Statement account "zz": account not found`, is: billing.ErrNotFound},
		// DueAfter is 10 hours by default.
		{name: "DueDays past the year 9999", call: func(h *harness) error {
			_, err := h.e.DueDays(errCtx, "a", year10000.Add(24*time.Hour))
			return err
		}, want: `billing: DueDays account "a": invalid time: 10000-01-02T00:00:00Z less DueAfter, 10h0m0s, is outside the years 1 to 9999`,
			is: billing.ErrInvalidTime},
		{name: "DueDays of no such account", call: func(h *harness) error {
			_, err := h.e.DueDays(errCtx, "zz", at(16, 10, 0, 0))
			return err
		}, want: `billing: DueDays account "zz": account not found`, is: billing.ErrNotFound},

		{name: "Accounts of a page of no ids", call: func(h *harness) error {
			_, err := h.e.Accounts(errCtx, "", 0)
			return err
		}, want: "billing: Accounts: invalid options: limit 0 is not positive", is: billing.ErrInvalidOptions},
		{name: "Accounts of a Store that does not list them", call: func(*harness) error {
			e, err := billing.New(unlisted{memstore.New()}, nil)
			if err != nil {
				return err
			}
			_, err = e.Accounts(errCtx, "", 10)
			return err
		}, want: "billing: Accounts: the Store billing_test.unlisted does not list its accounts (billing.AccountLister): unsupported operation",
			is: errors.ErrUnsupported},
		{name: "SettleDue on a Store that does not list the accounts", call: func(*harness) error {
			e, err := billing.New(unlisted{memstore.New()}, nil)
			if err != nil {
				return err
			}
			_, err = e.SettleDue(errCtx, at(16, 10, 0, 0), nil)
			return err
		}, want: "billing: SettleDue: Accounts: the Store billing_test.unlisted does not list its accounts (billing.AccountLister): unsupported operation",
			is: errors.ErrUnsupported},

		{name: "CreateApp with an invalid account id", call: func(h *harness) error {
			_, err := h.e.CreateApp(errCtx, "", billing.AppSpec{ID: "app2"})
			return err
		}, want: `billing: CreateApp id "app2": invalid id: account id is empty`, is: billing.ErrInvalidID},
		{name: "CreateApp with an empty application id", call: func(h *harness) error {
			_, err := h.e.CreateApp(errCtx, "a", billing.AppSpec{})
			return err
		}, want: `billing: CreateApp account "a": invalid id: app id is empty`, is: billing.ErrInvalidID},
		{name: "CreateApp on no such account", call: func(h *harness) error {
			_, err := h.e.CreateApp(errCtx, "zz", billing.AppSpec{ID: "app2"})
			return err
		}, want: `billing: CreateApp account "zz" id "app2": account not found`, is: billing.ErrNotFound},
		{name: "CreateApp again, differently", call: func(h *harness) error {
			_, err := h.e.CreateApp(errCtx, "a", billing.AppSpec{ID: "app1", Postpaid: true})
			return err
		}, want: `billing: CreateApp account "a" id "app1": id reused with a different request: application "app1" was created with Postpaid false`,
			is: billing.ErrIdempotencyConflict},
		// app1 and app2..app100 are MaxApps, 100.
		{name: "CreateApp of a 101st application", call: func(h *harness) error {
			for i := 2; i <= billing.MaxApps; i++ {
				if _, err := h.e.CreateApp(errCtx, "a", billing.AppSpec{ID: fmt.Sprint("app", i)}); err != nil {
					return err
				}
			}
			_, err := h.e.CreateApp(errCtx, "a", billing.AppSpec{ID: "app101"})
			return err
		}, want: `billing: CreateApp account "a" id "app101": too many applications: the account has 100, the most it may have`,
			is: billing.ErrTooManyApps},
		{name: "DisableApp with an invalid account id", call: func(h *harness) error {
			_, err := h.e.DisableApp(errCtx, longID, "app1")
			return err
		}, want: `billing: DisableApp account ` + longQuoted + ` id "app1": invalid id: account id ` + longQuoted + ` is 129 bytes long, more than 128`,
			is: billing.ErrInvalidID},
		{name: "EnableApp with an empty application id", call: func(h *harness) error {
			_, err := h.e.EnableApp(errCtx, "a", "")
			return err
		}, want: `billing: EnableApp account "a": invalid id: app id is empty`, is: billing.ErrInvalidID},
		{name: "DisableApp of an unknown application", call: func(h *harness) error {
			_, err := h.e.DisableApp(errCtx, "a", "app9")
			return err
		}, want: `billing: DisableApp account "a" id "app9": unknown application "app9"`, is: billing.ErrUnknownApp},
		{name: "EnableApp on no such account", call: func(h *harness) error {
			_, err := h.e.EnableApp(errCtx, "zz", "app1")
			return err
		}, want: `billing: EnableApp account "zz" id "app1": account not found`, is: billing.ErrNotFound},
		{name: "EnablePostpaid with an invalid account id", call: func(h *harness) error {
			_, err := h.e.EnablePostpaid(errCtx, "", "")
			return err
		}, want: `billing: EnablePostpaid: invalid id: account id is empty`, is: billing.ErrInvalidID},
		{name: "EnablePostpaid with an invalid application id", call: func(h *harness) error {
			_, err := h.e.EnablePostpaid(errCtx, "a", "app\x7f")
			return err
		}, want: `billing: EnablePostpaid account "a" id "app\x7f": invalid id: app id "app\x7f" has a control character`, is: billing.ErrInvalidID},
		{name: "EnablePostpaid of an unknown application", call: func(h *harness) error {
			_, err := h.e.EnablePostpaid(errCtx, "a", "app9")
			return err
		}, want: `billing: EnablePostpaid account "a" id "app9": unknown application "app9"`, is: billing.ErrUnknownApp},
		{name: "EnablePostpaid on no such account", call: func(h *harness) error {
			_, err := h.e.EnablePostpaid(errCtx, "zz", "")
			return err
		}, want: `billing: EnablePostpaid account "zz": account not found`, is: billing.ErrNotFound},
		{name: "ReportOverdue with an invalid account id", call: func(h *harness) error {
			_, err := h.e.ReportOverdue(errCtx, "", "inv-1")
			return err
		}, want: `billing: ReportOverdue id "inv-1": invalid id: account id is empty`, is: billing.ErrInvalidID},
		{name: "ReportOverdue with an empty reference", call: func(h *harness) error {
			_, err := h.e.ReportOverdue(errCtx, "a", "")
			return err
		}, want: `billing: ReportOverdue account "a": invalid id: arrears reference is empty`, is: billing.ErrInvalidID},
		{name: "ReportPaid of arrears never reported", call: func(h *harness) error {
			_, err := h.e.ReportPaid(errCtx, "a", "inv-9")
			return err
		}, want: `billing: ReportPaid account "a" id "inv-9": arrears "inv-9" not found`, is: billing.ErrNotFound},
		{name: "ReportOverdue on no such account", call: func(h *harness) error {
			_, err := h.e.ReportOverdue(errCtx, "zz", "inv-1")
			return err
		}, want: `billing: ReportOverdue account "zz" id "inv-1": account not found`, is: billing.ErrNotFound},

		{name: "Admit at the zero time", call: func(h *harness) error {
			return admitReason(h.e.Admit(errCtx, "a", "app1", "", time.Time{}))
		}, want: `billing: Admit account "a": invalid time: the instant asked about is the zero time`, is: billing.ErrInvalidTime},
		{name: "Admit past the year 9999", call: func(h *harness) error {
			return admitReason(h.e.Admit(errCtx, "a", "app1", "", year10000))
		}, want: `billing: Admit account "a": invalid time: 10000-01-01T00:00:00Z is outside the years 1 to 9999`, is: billing.ErrInvalidTime},
		{name: "Admit with an invalid account id", call: func(h *harness) error {
			return admitReason(h.e.Admit(errCtx, "", "app1", "", at(15, 9, 0, 0)))
		}, want: `billing: Admit: invalid id: account id is empty`, is: billing.ErrInvalidID},
		{name: "Admit on no such account", call: func(h *harness) error {
			return admitReason(h.e.Admit(errCtx, "zz", "app1", "", at(15, 9, 0, 0)))
		}, want: `billing: Admit account "zz": account not found`, is: billing.ErrNotFound},
		{name: "Admit of an unknown application", call: func(h *harness) error {
			return admitReason(h.e.Admit(errCtx, "a", "app9", "", at(15, 9, 0, 0)))
		}, want: `billing: Admit account "a": unknown application "app9"`, is: billing.ErrUnknownApp},
		{name: "Admit before the opening", call: func(h *harness) error {
			return admitReason(h.e.Admit(errCtx, "a", "app1", "", at(15, 7, 0, 0)))
		}, want: `billing: Admit account "a": before the account was opened or its application created: ` +
			`2021-03-15T07:00:00+08:00 is before the account opened, 2021-03-15T08:00:00+08:00`, is: billing.ErrBeforeOpened},
		{name: "Admit before the application's creation", call: func(h *harness) error {
			h.do(op{create: &billing.AppSpec{ID: "app2"}})
			return admitReason(h.e.Admit(errCtx, "a", "app2", "", at(15, 8, 30, 0)))
		}, want: `billing: Admit account "a": before the account was opened or its application created: ` +
			`2021-03-15T08:30:00+08:00 is before application "app2" was created, 2021-03-15T09:00:00+08:00`, is: billing.ErrBeforeOpened},
		{name: "Admit to an unknown service", call: func(h *harness) error {
			return admitReason(h.e.Admit(errCtx, "a", "app1", "hologram", at(15, 9, 0, 0)))
		}, want: `billing: Admit account "a": unknown service "hologram" in book "era1-usd"`, is: billing.ErrUnknownService},
		// The China site's single-stream recording is for applications
		// created from 2022-07-20.
		{name: "Admit to a service not priced for the application", call: func(h *harness) error {
			openCNY(h)
			return admitReason(h.e.Admit(errCtx, "c", "app1", billing.ServiceRecordingSingle, at(15, 9, 0, 0)))
		}, want: `billing: Admit account "c": no price book in force: book "era1-cny" prices recording-single only for applications created from 2022-07-20`,
			is: billing.ErrNoPriceBook},
		// Era 1 USD recording is priced for accounts from 2020-07-01.
		{name: "Admit to a service not priced for the account", call: func(h *harness) error {
			h.clock.Set(time.Date(2020, 6, 1, 9, 0, 0, 0, cst))
			if _, err := h.e.OpenAccount(errCtx, billing.AccountSpec{ID: "old", App: "app1"}); err != nil {
				return err
			}
			return admitReason(h.e.Admit(errCtx, "old", "app1", billing.ServiceRecording, time.Date(2020, 6, 1, 9, 0, 0, 0, cst)))
		}, want: `billing: Admit account "old": no price book in force: book "era1-usd" prices recording only for accounts whose first application was created from 2020-07-01`,
			is: billing.ErrNoPriceBook},
		// Overdue at 09:00 on the 15th: suspended 24 hours later.
		{name: "Admission's reason: arrears", call: func(h *harness) error {
			if _, err := h.e.ReportOverdue(errCtx, "a", "inv-1"); err != nil {
				return err
			}
			h.clock.Set(at(16, 10, 0, 0))
			return admitReason(h.e.Admit(errCtx, "a", "app1", "", at(16, 10, 0, 0)))
		}, want: "billing: suspended since 2021-03-16T09:00:00+08:00: account in arrears", is: billing.ErrInArrears},
		{name: "Admission's reason: a disabled application", call: func(h *harness) error {
			if _, err := h.e.DisableApp(errCtx, "a", "app1"); err != nil {
				return err
			}
			return admitReason(h.e.Admit(errCtx, "a", "app1", "", at(15, 9, 0, 0)))
		}, want: `billing: application disabled: application "app1"`, is: billing.ErrAppDisabled},
		// 10,001 audio minutes: the trial covers 10,000, one is shortfall.
		{name: "Admission's reason: a suspended application", call: func(h *harness) error {
			h.do(use("u1", billing.TierAudio, 10_001*60, at(15, 9, 0, 0)))
			return admitReason(h.e.Admit(errCtx, "a", "app1", "", at(15, 9, 0, 0)))
		}, want: `billing: suspended: application "app1" since 2021-03-15T09:00:00+08:00`, is: billing.ErrSuspended},
		{name: "Admission's reason: recording of a suspended application", call: func(h *harness) error {
			h.do(use("u1", billing.TierAudio, 10_001*60, at(15, 9, 0, 0)))
			return admitReason(h.e.Admit(errCtx, "a", "app1", billing.ServiceRecording, at(15, 9, 0, 0)))
		}, want: `billing: no basic service: suspended: application "app1" since 2021-03-15T09:00:00+08:00`, is: billing.ErrSuspended},
		{name: "Admission's reason: nothing to pay", books: []billing.PriceBook{noTrial()}, call: func(h *harness) error {
			return admitReason(h.e.Admit(errCtx, "a", "app1", "", at(15, 9, 0, 0)))
		}, want: `billing: no basic service: no package valid at 2021-03-15T09:00:00+08:00 has minutes left now, and the postpaid of application "app1" is off`,
			is: billing.ErrNoBasicService},
	}
}

// settleCases are the errors of Settle.
func settleCases() []errCase {
	return []errCase{
		{name: "Settle with an invalid account id", call: func(h *harness) error {
			_, err := h.e.Settle(errCtx, "", march(14))
			return err
		}, want: `billing: Settle: day 2021-03-14: invalid id: account id is empty`, is: billing.ErrInvalidID},
		{name: "Settle on no such account", call: func(h *harness) error {
			_, err := h.e.Settle(errCtx, "zz", march(14))
			return err
		}, want: `billing: Settle account "zz": day 2021-03-14: account not found`, is: billing.ErrNotFound},
		{name: "Settle today", call: func(h *harness) error {
			_, err := h.e.Settle(errCtx, "a", march(15))
			return err
		}, want: `billing: Settle account "a": day 2021-03-15: day has not ended: billing period 2021-03-15, today is 2021-03-15`,
			is: billing.ErrDayNotEnded},
		// Opened on the 15th: closed through the 14th.
		{name: "Settle before the opening", call: func(h *harness) error {
			_, err := h.e.Settle(errCtx, "a", march(14))
			return err
		}, want: `billing: Settle account "a": day 2021-03-14: day closed without a bill: billing period 2021-03-14; the account is closed through 2021-03-14`,
			is: billing.ErrDayClosed},
		{name: "Settle out of order", call: func(h *harness) error {
			h.do(use("u1", billing.TierAudio, 60, at(15, 9, 0, 0)))
			h.clock.Set(at(17, 9, 0, 0))
			_, err := h.e.Settle(errCtx, "a", march(16))
			return err
		}, want: `billing: Settle account "a": day 2021-03-16: an earlier day is not settled: settle 2021-03-15 first`, is: billing.ErrSettleOrder},
	}
}

// shopBook is the Era 1 USD book without a trial, with two more kinds for
// sale: "offers", sold only in the sizes it offers (25,000 minutes), and
// "once", which does not stack.
func shopBook() billing.PriceBook {
	b := noTrial()
	u := b.Kinds[1]
	offers := u
	offers.Name, offers.AutoPostpaid = "offers", false
	offers.Pricing = billing.Pricing{Unit: 1000, Offers: []billing.Offer{{Minutes: 25_000, Price: dec("24")}}}
	once := u
	once.Name, once.AutoPostpaid, once.NoStacking = "once", false, true
	once.Validity = billing.Validity{Months: 1}
	b.Kinds = append(b.Kinds, offers, once)
	return b
}

// perAppBook is the Era 3 USD book with "standard", a kind for sale that is
// bound to an application.
func perAppBook() billing.PriceBook {
	b := billing.Era3USD()
	b.Kinds = append(b.Kinds, billing.PackageKind{Name: "standard", Ratios: billing.Era3Ratios(), Validity: billing.Validity{Months: 1},
		AppBound: true, Pricing: billing.Pricing{Unit: 1000, Bands: []billing.Band{{From: 0, PerMinute: dec("0.001")}}}})
	return b
}

// purchaseOf returns a purchase of account "a".
func purchaseOf(id, kind string, minutes int64) billing.Purchase {
	return billing.Purchase{ID: id, Account: "a", Kind: kind, Minutes: minutes}
}

// buyCases are the errors of Buy.
func buyCases() []errCase {
	buyErr := func(p billing.Purchase) func(h *harness) error {
		return func(h *harness) error {
			_, err := h.e.Buy(errCtx, p)
			return err
		}
	}
	withApp := func(p billing.Purchase, app string) billing.Purchase { p.App = app; return p }
	withAccount := func(p billing.Purchase, account string) billing.Purchase { p.Account = account; return p }
	return []errCase{
		{name: "Buy with an empty purchase id", call: buyErr(purchaseOf("", billing.KindUniversal, 25_000)),
			want: `billing: Buy account "a": invalid id: purchase id is empty`, is: billing.ErrInvalidID},
		{name: "Buy under the trial's id", call: buyErr(purchaseOf("trial", billing.KindUniversal, 25_000)),
			want: `billing: Buy account "a" id "trial": invalid id: purchase id "trial" is reserved: "trial" and ids starting with "grant:" name the packages the Engine grants`,
			is:   billing.ErrInvalidID},
		{name: "Buy under a grant's id", call: buyErr(purchaseOf("grant:x", billing.KindUniversal, 25_000)),
			want: `billing: Buy account "a" id "grant:x": invalid id: purchase id "grant:x" is reserved: "trial" and ids starting with "grant:" name the packages the Engine grants`,
			is:   billing.ErrInvalidID},
		{name: "Buy with an invalid account id", call: buyErr(withAccount(purchaseOf("p1", billing.KindUniversal, 25_000), "")),
			want: `billing: Buy id "p1": invalid id: account id is empty`, is: billing.ErrInvalidID},
		{name: "Buy with an invalid application id", call: buyErr(withApp(purchaseOf("p1", billing.KindUniversal, 25_000), "\t")),
			want: `billing: Buy account "a" id "p1": invalid id: app id "\t" has a control character`, is: billing.ErrInvalidID},
		{name: "Buy on no such account", call: buyErr(withAccount(purchaseOf("p1", billing.KindUniversal, 25_000), "zz")),
			want: `billing: Buy account "zz" id "p1": account not found`, is: billing.ErrNotFound},
		{name: "Buy again, differently", call: func(h *harness) error {
			h.do(buy(at(15, 9, 0, 0), "p1", billing.KindUniversal, 25_000))
			_, err := h.e.Buy(errCtx, purchaseOf("p1", billing.KindUniversal, 50_000))
			return err
		}, want: `billing: Buy account "a" id "p1": id reused with a different request: the purchase was made with another Kind, Minutes or App`,
			is: billing.ErrIdempotencyConflict},
		{name: "Buy an unknown kind", call: buyErr(purchaseOf("p1", "gold", 25_000)),
			want: `billing: Buy account "a" id "p1": unknown package kind "gold" in book "era1-usd"`, is: billing.ErrUnknownKind},
		{name: "Buy a kind not for sale", call: buyErr(purchaseOf("p1", billing.KindTrial, 25_000)),
			want: `billing: Buy account "a" id "p1": unknown package kind: kind "trial" of book "era1-usd" is not for sale`, is: billing.ErrUnknownKind},
		{name: "Buy a size not a multiple of the unit", call: buyErr(purchaseOf("p1", billing.KindUniversal, 2500)),
			want: `billing: Buy account "a" id "p1": invalid package size: 2500 minutes of kind "universal", which is sold in multiples of 1000 minutes, up to 1000000000000 minutes`,
			is:   billing.ErrInvalidMinutes},
		{name: "Buy no minutes", call: buyErr(purchaseOf("p1", billing.KindUniversal, 0)),
			want: `billing: Buy account "a" id "p1": invalid package size: 0 minutes of kind "universal", which is sold in multiples of 1000 minutes, up to 1000000000000 minutes`,
			is:   billing.ErrInvalidMinutes},
		{name: "Buy a size the book has no price for", books: []billing.PriceBook{shopBook()}, call: buyErr(purchaseOf("p1", "offers", 50_000)),
			want: `billing: Buy account "a" id "p1": invalid package size: 50000 minutes of kind "offers", a size the book has no price for`,
			is:   billing.ErrInvalidMinutes},
		{name: "Buy a kind for the account for an application", call: buyErr(withApp(purchaseOf("p1", billing.KindUniversal, 25_000), "app1")),
			want: `billing: Buy account "a" id "p1": invalid id: kind "universal" covers the whole account; the purchase names application "app1"`,
			is:   billing.ErrInvalidID},
		{name: "Buy a kind bound to an application for none", books: []billing.PriceBook{perAppBook()}, call: buyErr(purchaseOf("p1", "standard", 1000)),
			want: `billing: Buy account "a" id "p1": unknown application: kind "standard" is bound to an application; the purchase names none`,
			is:   billing.ErrUnknownApp},
		{name: "Buy a kind bound to an application for an unknown one", books: []billing.PriceBook{perAppBook()},
			call: buyErr(withApp(purchaseOf("p1", "standard", 1000), "app9")),
			want: `billing: Buy account "a" id "p1": unknown application "app9"`, is: billing.ErrUnknownApp},
		// One month from the 15th: valid to the end of April 14.
		{name: "Buy a kind that does not stack twice", books: []billing.PriceBook{shopBook()}, call: func(h *harness) error {
			h.do(buy(at(15, 9, 0, 0), "p1", "once", 1000))
			_, err := h.e.Buy(errCtx, purchaseOf("p2", "once", 1000))
			return err
		}, want: `billing: Buy account "a" id "p2": package does not stack: package "p1" of kind "once" is valid until 2021-04-15T00:00:00+08:00`,
			is: billing.ErrNotStackable},
	}
}

// recordCases are the errors of Record and RecordBatch.
func recordCases() []errCase {
	record := func(change func(u *billing.Usage)) func(h *harness) error {
		return func(h *harness) error {
			u := usage("u1", billing.TierHD, 60, at(15, 9, 0, 0))
			change(u)
			_, err := h.e.Record(errCtx, *u)
			return err
		}
	}
	// until20 is the Era 1 USD book, ended at the start of the 20th.
	until20 := billing.Era1USD()
	until20.Until = at(20, 0, 0, 0)
	return []errCase{
		{name: "Record with an empty usage id", call: record(func(u *billing.Usage) { u.ID = "" }),
			want: `billing: Record account "a": invalid id: usage id is empty`, is: billing.ErrInvalidID},
		{name: "Record with an invalid account id", call: record(func(u *billing.Usage) { u.Account = "" }),
			want: `billing: Record id "u1": invalid id: account id is empty`, is: billing.ErrInvalidID},
		{name: "Record with an invalid application id", call: record(func(u *billing.Usage) { u.App = longID }),
			want: `billing: Record account "a" id "u1": invalid id: app id ` + longQuoted + ` is 129 bytes long, more than 128`, is: billing.ErrInvalidID},
		{name: "Record of no seconds", call: record(func(u *billing.Usage) { u.Seconds = 0 }),
			want: `billing: Record account "a" id "u1": invalid seconds: 0 seconds, not in 1..1000000000000`, is: billing.ErrInvalidSeconds},
		{name: "Record of too many seconds", call: record(func(u *billing.Usage) { u.Seconds = billing.MaxUsageSeconds + 1 }),
			want: `billing: Record account "a" id "u1": invalid seconds: 1000000000001 seconds, not in 1..1000000000000`, is: billing.ErrInvalidSeconds},
		{name: "Record at the zero time", call: record(func(u *billing.Usage) { u.At = time.Time{} }),
			want: `billing: Record account "a" id "u1": invalid time: the usage's time is the zero time`, is: billing.ErrInvalidTime},
		{name: "Record past the year 9999", call: record(func(u *billing.Usage) { u.At = year10000 }),
			want: `billing: Record account "a" id "u1": invalid time: 10000-01-01T00:00:00Z is outside the years 1 to 9999`, is: billing.ErrInvalidTime},
		{name: "Record on no such account", call: record(func(u *billing.Usage) { u.Account = "zz" }),
			want: `billing: Record account "zz" id "u1": account not found`, is: billing.ErrNotFound},
		{name: "Record again, differently", call: func(h *harness) error {
			h.do(use("u1", billing.TierHD, 60, at(15, 9, 0, 0)))
			_, err := h.e.Record(errCtx, *usage("u1", billing.TierHD, 120, at(15, 9, 0, 0)))
			return err
		}, want: `billing: Record account "a" id "u1": id reused with a different request: the usage was recorded with other fields`,
			is: billing.ErrIdempotencyConflict},
		{name: "Record of an unknown application", call: record(func(u *billing.Usage) { u.App = "app9" }),
			want: `billing: Record account "a" id "u1": unknown application "app9"`, is: billing.ErrUnknownApp},
		{name: "Record before the opening", call: record(func(u *billing.Usage) { u.At = at(15, 7, 59, 59) }),
			want: `billing: Record account "a" id "u1": before the account was opened or its application created: ` +
				`2021-03-15T07:59:59+08:00 is before the account opened, 2021-03-15T08:00:00+08:00`, is: billing.ErrBeforeOpened},
		{name: "Record in the future", call: record(func(u *billing.Usage) { u.At = at(15, 9, 0, 1) }),
			want: `billing: Record account "a" id "u1": usage time is in the future`, is: billing.ErrFutureUsage},
		{name: "RecordBatch in the future", call: func(h *harness) error {
			return h.e.RecordBatch(errCtx, []billing.Usage{*usage("u1", billing.TierHD, 60, at(15, 9, 0, 1))})[0].Err
		}, want: `billing: Record account "a" id "u1": usage time is in the future`, is: billing.ErrFutureUsage},
		{name: "Record on a day no book prices", books: []billing.PriceBook{until20}, call: func(h *harness) error {
			h.clock.Set(at(20, 9, 0, 0))
			_, err := h.e.Record(errCtx, *usage("u1", billing.TierHD, 60, at(20, 9, 0, 0)))
			return err
		}, want: `billing: Record account "a" id "u1": no price book in force: no book in "USD" prices day 2021-03-20 for an account of the cohort of 2021-03-15`,
			is: billing.ErrNoPriceBook},
		{name: "Record on an Engine without the book of a package", books: []billing.PriceBook{noTrial()}, call: func(h *harness) error {
			h.do(buy(at(15, 9, 0, 0), "p1", billing.KindUniversal, 25_000))
			e, err := billing.New(h.store, &billing.Options{Now: h.clock.Now})
			if err != nil {
				return err
			}
			_, err = e.Record(errCtx, *usage("u1", billing.TierHD, 60, at(15, 9, 0, 0)))
			return err
		}, want: `billing: Record account "a" id "u1": no price book in force: package "p1" is of kind "universal" of book "era1-usd-no-trial", which this Engine does not have`,
			is: billing.ErrNoPriceBook},
		{name: "Record without a scenario", call: record(func(u *billing.Usage) { u.Scenario = "" }),
			want: `billing: Record account "a" id "u1": unknown scenario: the scenario is empty, and basic usage needs one`, is: billing.ErrUnknownScenario},
		{name: "Record of an unknown scenario", call: record(func(u *billing.Usage) { u.Scenario = "karaoke" }),
			want: `billing: Record account "a" id "u1": unknown scenario "karaoke" in book "era1-usd"`, is: billing.ErrUnknownScenario},
		{name: "Record of an unknown tier", call: record(func(u *billing.Usage) { u.Tier = "8k" }),
			want: `billing: Record account "a" id "u1": unknown tier "8k" in book "era1-usd"`, is: billing.ErrUnknownTier},
		{name: "Record of video in an audio scenario", call: record(func(u *billing.Usage) { u.Scenario = billing.AudioCall }),
			want: `billing: Record account "a" id "u1": tier not allowed in scenario: video tier "hd" in audio scenario "audio-call"`,
			is:   billing.ErrTierNotInScenario},
		{name: "Record of an unknown service", call: record(func(u *billing.Usage) { u.Service, u.Scenario = "hologram", "" }),
			want: `billing: Record account "a" id "u1": unknown service "hologram" in book "era1-usd"`, is: billing.ErrUnknownService},
		{name: "Record of recording with a scenario", call: record(func(u *billing.Usage) { u.Service = billing.ServiceRecording }),
			want: `billing: Record account "a" id "u1": unknown scenario "video-call": value-added usage takes no scenario`, is: billing.ErrUnknownScenario},
		{name: "Record of recording in an unknown tier", call: record(func(u *billing.Usage) {
			u.Service, u.Scenario, u.Tier = billing.ServiceRecording, "", "8k"
		}), want: `billing: Record account "a" id "u1": unknown tier "8k" for recording in book "era1-usd"`, is: billing.ErrUnknownTier},
		{name: "Record of recording not priced for the application", call: func(h *harness) error {
			openCNY(h)
			u := usage("u1", billing.TierHD, 60, at(15, 9, 0, 0))
			u.Account, u.Service, u.Scenario = "c", billing.ServiceRecordingSingle, ""
			_, err := h.e.Record(errCtx, *u)
			return err
		}, want: `billing: Record account "c" id "u1": no price book in force: book "era1-cny" prices recording-single only for applications created from 2022-07-20`,
			is: billing.ErrNoPriceBook},
	}
}

// refundCases are the errors of Refund, on account "c" (CNY, whose
// universal package is refundable) unless they say otherwise.
func refundCases() []errCase {
	refund := func(id, account, pkg, discount string) billing.Refund {
		r := billing.Refund{ID: id, Account: account, Package: pkg}
		if discount != "" {
			r.Discount = dec(discount)
		}
		return r
	}
	refundErr := func(r billing.Refund) func(h *harness) error {
		return func(h *harness) error {
			_, err := h.e.Refund(errCtx, r)
			return err
		}
	}
	// bought opens "c", buys "p1" (25,000 minutes) on the 15th and settles
	// the 15th on the 16th.
	bought := func(h *harness) error {
		openCNY(h)
		if _, err := h.e.Buy(errCtx, billing.Purchase{ID: "p1", Account: "c", Kind: billing.KindUniversal, Minutes: 25_000}); err != nil {
			return err
		}
		h.clock.Set(at(16, 10, 0, 0))
		_, err := h.e.Settle(errCtx, "c", march(15))
		return err
	}
	return []errCase{
		{name: "Refund with an empty refund id", call: refundErr(refund("", "c", "p1", "")),
			want: `billing: Refund account "c": invalid id: refund id is empty`, is: billing.ErrInvalidID},
		{name: "Refund with an invalid account id", call: refundErr(refund("r1", "", "p1", "")),
			want: `billing: Refund id "r1": invalid id: account id is empty`, is: billing.ErrInvalidID},
		{name: "Refund with an empty package id", call: refundErr(refund("r1", "c", "", "")),
			want: `billing: Refund account "c" id "r1": invalid id: package id is empty`, is: billing.ErrInvalidID},
		{name: "Refund with a discount above 1", call: refundErr(refund("r1", "c", "p1", "1.5")),
			want: `billing: Refund account "c" id "r1": invalid discount: 1.5 not in (0, 1] with up to 8 decimals`, is: billing.ErrInvalidDiscount},
		{name: "Refund with a negative discount", call: refundErr(refund("r1", "c", "p1", "-0.5")),
			want: `billing: Refund account "c" id "r1": invalid discount: -0.5 not in (0, 1] with up to 8 decimals`, is: billing.ErrInvalidDiscount},
		{name: "Refund on no such account", call: refundErr(refund("r1", "c", "p1", "")),
			want: `billing: Refund account "c" id "r1": account not found`, is: billing.ErrNotFound},
		{name: "Refund of no such package", call: func(h *harness) error {
			openCNY(h)
			_, err := h.e.Refund(errCtx, refund("r1", "c", "p9", ""))
			return err
		}, want: `billing: Refund account "c" id "r1": package "p9" not found`, is: billing.ErrNotFound},
		{name: "Refund of the trial", call: func(h *harness) error {
			openCNY(h)
			_, err := h.e.Refund(errCtx, refund("r1", "c", billing.TrialID, ""))
			return err
		}, want: `billing: Refund account "c" id "r1": package not refundable: package "trial" was not bought: memstore: purchase "trial": not found`,
			is: billing.ErrNotRefundable},
		{name: "Refund of a kind that is not refundable", call: func(h *harness) error {
			h.do(buy(at(15, 9, 0, 0), "p1", billing.KindUniversal, 25_000))
			_, err := h.e.Refund(errCtx, refund("r1", "a", "p1", ""))
			return err
		}, want: `billing: Refund account "a" id "r1": package not refundable: packages of kind "universal" of book "era1-usd"`,
			is: billing.ErrNotRefundable},
		{name: "Refund before the purchase day is settled", call: func(h *harness) error {
			openCNY(h)
			if _, err := h.e.Buy(errCtx, billing.Purchase{ID: "p1", Account: "c", Kind: billing.KindUniversal, Minutes: 25_000}); err != nil {
				return err
			}
			_, err := h.e.Refund(errCtx, refund("r1", "c", "p1", ""))
			return err
		}, want: `billing: Refund account "c" id "r1": package not refundable yet: package "p1" until its purchase day is settled`,
			is: billing.ErrNotYetRefundable},
		{name: "Refund again, of another package", call: func(h *harness) error {
			if err := bought(h); err != nil {
				return err
			}
			if _, err := h.e.Refund(errCtx, refund("r1", "c", "p1", "")); err != nil {
				return err
			}
			_, err := h.e.Refund(errCtx, refund("r1", "c", "p2", ""))
			return err
		}, want: `billing: Refund account "c" id "r1": id reused with a different request: refund "r1" refunded package "p1" at discount 1`,
			is: billing.ErrIdempotencyConflict},
		{name: "Refund of a refunded package", call: func(h *harness) error {
			if err := bought(h); err != nil {
				return err
			}
			if _, err := h.e.Refund(errCtx, refund("r1", "c", "p1", "")); err != nil {
				return err
			}
			_, err := h.e.Refund(errCtx, refund("r2", "c", "p1", ""))
			return err
		}, want: `billing: Refund account "c" id "r2": package not refundable: package "p1" was refunded under "r1"`, is: billing.ErrNotRefundable},
	}
}
