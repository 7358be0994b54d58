package billing_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
	"github.com/shopspring/decimal"
)

// statementSummary is what TestStatementRows compares of a Statement: the
// days of its bills, its rows and its totals.
type statementSummary struct {
	Bills           []billing.Day
	Rows            []billing.StatementRow
	Subtotal, Total decimal.Decimal
}

func summarize(s billing.Statement) statementSummary {
	sum := statementSummary{Rows: s.Rows, Subtotal: s.Subtotal, Total: s.Total}
	for _, b := range s.Bills {
		sum.Bills = append(sum.Bills, b.Day)
	}
	return sum
}

// statementMarch is account "a" (withMonthly, postpaid off) through March
// 1st to 3rd 2021, in its three daily bills:
//
//   - the 1st: a 100-minute monthly package covers 50 audio minutes (3,000
//     s) and 25 of the 31 SD minutes (1,830 s: 50 package minutes at 1:2);
//     6 are shortfall, unbilled (postpaid off): the bill is 0;
//   - the 2nd: postpaid on at 11:00; 10 SD minutes (600 s) postpaid, 10 ×
//     0.00199 = 0.0199; 2 minutes of HD cloud recording (120 s), 2 ×
//     0.00199 = 0.00398; the 1st's 6 SD minutes deferred, 6 × 0.00199 =
//     0.01194: 0.03582, billed 0.04;
//   - the 3rd: 2 audio minutes (61 s) postpaid, 2 × 0.00099 = 0.00198, and
//     90 s of FHD at 20:00 on the 2nd, reported after its bill: an
//     adjustment of 2 minutes postpaid, 2 × 0.01499 = 0.02998: 0.03196,
//     billed 0.03.
func statementMarch(t *testing.T) *harness {
	h := newHarness(t, withMonthly())
	h.do(open(at(1, 8, 0, 0), false),
		buy(at(1, 9, 0, 0), "m1", "monthly", 100),
		use("u1", audio, 3000, at(1, 10, 0, 0)),
		use("u2", sd, 1830, at(1, 11, 0, 0)),
		settle(at(2, 10, 0, 0), march(1)),
		op{now: at(2, 11, 0, 0), enable: "a"},
		use("u3", sd, 600, at(2, 12, 0, 0)),
		op{now: at(2, 13, 0, 0), use: &billing.Usage{ID: "r1", Account: "a", App: "app1", Service: billing.ServiceRecording,
			Tier: hd, Seconds: 120, At: at(2, 13, 0, 0)}},
		settle(at(3, 10, 0, 0), march(2)),
		op{now: at(3, 11, 0, 0), use: usage("u4", fhd, 90, at(2, 20, 0, 0))},
		use("u5", audio, 61, at(3, 12, 0, 0)),
		settle(at(4, 10, 0, 0), march(3)),
	)
	return h
}

// statementMonthly is account "a" on the monthly cycle: 1,830 s of audio
// and 1,830 s of HD cloud recording on March 5th, and again on the 6th,
// postpaid, settled on April 1st.
func statementMonthly(t *testing.T) *harness {
	h := newHarness(t, monthlyCycle())
	recording := func(id string, tt time.Time) op {
		return op{now: tt, use: &billing.Usage{ID: id, Account: "a", App: "app1", Service: billing.ServiceRecording,
			Tier: hd, Seconds: 1830, At: tt}}
	}
	h.do(open(at(1, 8, 0, 0), true),
		use("u1", audio, 1830, at(5, 10, 0, 0)), recording("r1", at(5, 11, 0, 0)),
		use("u2", audio, 1830, at(6, 10, 0, 0)), recording("r2", at(6, 11, 0, 0)),
		settle(at(32, 10, 0, 0), march(1)),
	)
	return h
}

// statementEra3 is account "a" on Era3USD with applications app1 and app2
// (TestEra3PerAppRounding's 15 March 2025, then 90 s of app2's audio on
// the 16th), settled daily.
func statementEra3(t *testing.T) *harness {
	h := newHarness(t, billing.Era3USD())
	h.clock.Set(era3At(15, 8, 0))
	if _, err := h.e.OpenAccount(h.ctx, billing.AccountSpec{ID: "a", Postpaid: true, App: "app1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.CreateApp(h.ctx, "a", billing.AppSpec{ID: "app2"}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		id, app string
		tier    billing.Tier
		seconds int64
		at      time.Time
	}{
		{"u1", "app1", hd, 30, era3At(15, 10, 0)},
		{"u2", "app2", hd, 30, era3At(15, 10, 1)},
		{"u3", "app1", audio, 600_000, era3At(15, 10, 2)},
		{"u4", "app2", audio, 90, era3At(16, 10, 0)},
	} {
		h.record(u.id, u.app, u.tier, u.seconds, u.at, u.at)
	}
	h.do(op{now: era3At(16, 10, 0), settle: refDateDay(2025, 3, 15)}, op{now: era3At(17, 10, 0), settle: refDateDay(2025, 3, 16)})
	return h
}

func TestStatementRows(t *testing.T) {
	basic, recording := billing.ServiceBasic, billing.ServiceRecording
	e3 := func(d int) billing.Day { return refDateDay(2025, 3, d) }
	tests := []struct {
		name  string
		setup func(*testing.T) *harness
		year  int
		month time.Month
		want  statementSummary
	}{
		{
			name:  "daily: two services, three tiers, prepaid, postpaid, shortfall, deferred, an adjustment",
			setup: statementMarch, year: 2021, month: time.March,
			want: statementSummary{
				Bills: []billing.Day{march(1), march(2), march(3)},
				Rows: []billing.StatementRow{
					// 3,000 + 61 s; 50 + 2 minutes; 2 × 0.00099.
					{Service: basic, Tier: audio, From: march(1), Through: march(3), Seconds: 3061, Minutes: 52, Prepaid: 50, Postpaid: 2,
						Billed: 2, Amount: dec("0.00198")},
					// 1,830 + 600 s; 31 + 10 minutes; 6 shortfall unbilled on
					// the 1st, deferred to the 2nd: billed 10 + 6 = 16, ×
					// 0.00199 = 0.03184.
					{Service: basic, Tier: sd, From: march(1), Through: march(2), Seconds: 2430, Minutes: 41, Prepaid: 25, Postpaid: 10,
						Shortfall: 6, Deferred: 6, Billed: 16, Amount: dec("0.03184")},
					// The adjustment: the 2nd's usage on the 3rd's bill.
					{Service: basic, Tier: fhd, From: march(2), Through: march(3), Seconds: 90, Minutes: 2, Postpaid: 2, Billed: 2,
						Amount: dec("0.02998")},
					{Service: recording, Tier: hd, From: march(2), Through: march(2), Seconds: 120, Minutes: 2, Postpaid: 2, Billed: 2,
						Amount: dec("0.00398")},
				},
				// 0.00198 + 0.03184 + 0.02998 + 0.00398 = 0.06778 = 0 +
				// 0.03582 + 0.03196; the bills' totals 0 + 0.04 + 0.03.
				Subtotal: dec("0.06778"), Total: dec("0.07"),
			},
		},
		{
			name: "daily: a month without bills has no rows", setup: statementMarch, year: 2021, month: time.February,
			want: statementSummary{Subtotal: dec("0"), Total: dec("0")},
		},
		{
			name:  "monthly cycle: basic seconds rounded once a month, value-added once a day",
			setup: statementMonthly, year: 2021, month: time.March,
			want: statementSummary{
				Bills: []billing.Day{march(1)},
				Rows: []billing.StatementRow{
					// 1,830 + 1,830 = 3,660 s: 61 minutes (the daily cycle
					// would bill 31 + 31), × 0.00099 = 0.06039.
					{Service: basic, Tier: audio, From: march(1), Through: march(31), Seconds: 3660, Minutes: 61, Postpaid: 61,
						Billed: 61, Amount: dec("0.06039")},
					// 31 + 31 = 62 minutes, × 0.00199 = 0.12338.
					{Service: recording, Tier: hd, From: march(5), Through: march(31), Seconds: 3660, Minutes: 62, Postpaid: 62,
						Billed: 62, Amount: dec("0.12338")},
				},
				// 0.06039 + 0.12338 = 0.18377, one bill: 0.18.
				Subtotal: dec("0.18377"), Total: dec("0.18"),
			},
		},
		{
			name:  "Era 3: a row per application, tiers in the book's order",
			setup: statementEra3, year: 2025, month: time.March,
			want: statementSummary{
				Bills: []billing.Day{e3(15), e3(16)},
				Rows: []billing.StatementRow{
					// 10,000 minutes: 9,992 of the free 10,000 (8 went to
					// the two HD minutes at 1:4), 8 postpaid × 0.00099.
					{Service: basic, Tier: audio, App: "app1", From: e3(15), Through: e3(15), Seconds: 600_000, Minutes: 10_000,
						Prepaid: 9_992, Postpaid: 8, Billed: 8, Amount: dec("0.00792")},
					// 90 s on the 16th: 2 minutes, × 0.00099 = 0.00198.
					{Service: basic, Tier: audio, App: "app2", From: e3(16), Through: e3(16), Seconds: 90, Minutes: 2,
						Postpaid: 2, Billed: 2, Amount: dec("0.00198")},
					{Service: basic, Tier: hd, App: "app1", From: e3(15), Through: e3(15), Seconds: 30, Minutes: 1, Prepaid: 1,
						Amount: dec("0")},
					{Service: basic, Tier: hd, App: "app2", From: e3(15), Through: e3(15), Seconds: 30, Minutes: 1, Prepaid: 1,
						Amount: dec("0")},
				},
				// 0.00792 + 0.00198 = 0.0099; bills 0.01 + 0.00.
				Subtotal: dec("0.0099"), Total: dec("0.01"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.setup(t)
			s, err := h.e.Statement(h.ctx, "a", tt.year, tt.month)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, summarize(s), cmpOpts); diff != "" {
				t.Errorf("Statement(%d, %s) (-want +got):\n%s", tt.year, tt.month, diff)
			}
		})
	}
}

// failingWriter fails every write.
type failingWriter struct{}

var errWrite = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestStatementWrite(t *testing.T) {
	type writer func(billing.Statement, *bytes.Buffer) error
	text := func(s billing.Statement, b *bytes.Buffer) error { return s.WriteText(b) }
	csv := func(s billing.Statement, b *bytes.Buffer) error { return s.WriteCSV(b) }
	tests := []struct {
		name   string
		setup  func(*testing.T) *harness
		year   int
		write  writer
		want   string
		reason string
	}{
		{
			name: "text", setup: statementMarch, year: 2021, write: text,
			reason: "amounts rounded half up to cents (0.00198 → 0.00, 0.03184 → 0.03, 0.02998 → 0.03, 0.00398 → 0.00); " +
				"their sum, 0.06, is not the total, 0.07: the bills' 0.04 + 0.03",
			want: `Statement of a, March 2021, USD: 3 bills, 2021-03-01 to 2021-03-03

service    tier   seconds  minutes  prepaid  postpaid  shortfall  deferred  billed  amount
basic      audio     3061       52       50         2          0         0       2    0.00
basic      sd        2430       41       25        10          6         6      16    0.03
basic      fhd         90        2        0         2          0         0       2    0.03
recording  hd         120        2        0         2          0         0       2    0.00
total                                                                                 0.07
`,
		},
		{
			name: "text per application", setup: statementEra3, year: 2025, write: text,
			reason: "an app column; 0.00792 → 0.01, 0.00198 → 0.00",
			want: `Statement of a, March 2025, USD: 2 bills, 2025-03-15 to 2025-03-16

service  tier   app   seconds  minutes  prepaid  postpaid  shortfall  deferred  billed  amount
basic    audio  app1   600000    10000     9992         8          0         0       8    0.01
basic    audio  app2       90        2        0         2          0         0       2    0.00
basic    hd     app1       30        1        1         0          0         0       0    0.00
basic    hd     app2       30        1        1         0          0         0       0    0.00
total                                                                                     0.01
`,
		},
		{
			name: "text without bills", setup: statementMarch, year: 2020, write: text,
			reason: "no rows, a total of 0.00",
			want: `Statement of a, March 2020, USD: no bills

service  tier  seconds  minutes  prepaid  postpaid  shortfall  deferred  billed  amount
total                                                                              0.00
`,
		},
		{
			name: "CSV", setup: statementMarch, year: 2021, write: csv,
			reason: "exact amounts, at least two decimals; the app column empty",
			want: `account,from,through,service,tier,app,seconds,minutes,prepaid,postpaid,shortfall,deferred,billed,amount,currency
a,2021-03-01,2021-03-03,basic,audio,,3061,52,50,2,0,0,2,0.00198,USD
a,2021-03-01,2021-03-02,basic,sd,,2430,41,25,10,6,6,16,0.03184,USD
a,2021-03-02,2021-03-03,basic,fhd,,90,2,0,2,0,0,2,0.02998,USD
a,2021-03-02,2021-03-02,recording,hd,,120,2,0,2,0,0,2,0.00398,USD
`,
		},
		{
			name: "CSV per application", setup: statementEra3, year: 2025, write: csv,
			reason: "a zero amount as 0.00",
			want: `account,from,through,service,tier,app,seconds,minutes,prepaid,postpaid,shortfall,deferred,billed,amount,currency
a,2025-03-15,2025-03-15,basic,audio,app1,600000,10000,9992,8,0,0,8,0.00792,USD
a,2025-03-16,2025-03-16,basic,audio,app2,90,2,0,2,0,0,2,0.00198,USD
a,2025-03-15,2025-03-15,basic,hd,app1,30,1,1,0,0,0,0,0.00,USD
a,2025-03-15,2025-03-15,basic,hd,app2,30,1,1,0,0,0,0,0.00,USD
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.setup(t)
			s, err := h.e.Statement(h.ctx, "a", tt.year, time.March)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := tt.write(s, &b); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, b.String()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.reason, diff)
			}
		})
	}
}

func TestStatementWriteError(t *testing.T) {
	h := statementMarch(t)
	s, err := h.e.Statement(h.ctx, "a", 2021, time.March)
	if err != nil {
		t.Fatal(err)
	}
	for name, write := range map[string]func() error{
		"WriteText": func() error { return s.WriteText(failingWriter{}) },
		"WriteCSV":  func() error { return s.WriteCSV(failingWriter{}) },
	} {
		if err := write(); !errors.Is(err, errWrite) {
			t.Errorf("%s to a failing writer: error %v, want %v", name, err, errWrite)
		}
	}
}

func TestStatementJSON(t *testing.T) {
	h := statementMarch(t)
	s, err := h.e.Statement(h.ctx, "a", 2021, time.March)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var fields struct {
		Account  string
		Year     int
		Month    int
		Currency string
		Rows     []map[string]any
		Subtotal any
		Total    any
	}
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatal(err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		t.Fatal(err)
	}
	got := map[string]any{"keys": slices.Sorted(maps.Keys(keys)),
		"account": fields.Account, "year": fields.Year, "month": fields.Month, "currency": fields.Currency,
		"subtotal": fields.Subtotal, "total": fields.Total, "row 2": fields.Rows[1]}
	want := map[string]any{
		"keys":    []string{"account", "bills", "currency", "month", "rows", "subtotal", "total", "year"},
		"account": "a", "year": 2021, "month": 3, "currency": "USD",
		// Exact, and rounded to the currency's 2 decimals.
		"subtotal": "0.06778", "total": "0.07",
		"row 2": map[string]any{"service": "basic", "tier": "sd", "app": "", "from": "2021-03-01", "through": "2021-03-02",
			"seconds": 2430.0, "minutes": 41.0, "prepaid": 25.0, "postpaid": 10.0, "shortfall": 6.0, "deferred": 6.0,
			"billed": 16.0, "amount": "0.03184"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Statement JSON (-want +got):\n%s\n%s", diff, data)
	}
	var back billing.Statement
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, back, cmpOpts); diff != "" {
		t.Errorf("Statement after a JSON round trip (-want +got):\n%s", diff)
	}
}

// refStatementRows is the reference for a statement's Rows and Subtotal:
// the bills' lines summed per service, tier and application, in the
// model's order of meters, and the sum of the bills' subtotals.
func refStatementRows(bills []billing.Bill) ([]billing.StatementRow, decimal.Decimal) {
	var rows []billing.StatementRow
	subtotal := decimal.Zero
	for _, b := range bills {
		subtotal = subtotal.Add(b.Subtotal)
		for _, l := range b.Lines {
			i := slices.IndexFunc(rows, func(r billing.StatementRow) bool {
				return r.Service == l.Service && r.Tier == l.Tier && r.App == l.App
			})
			if i < 0 {
				i = len(rows)
				rows = append(rows, billing.StatementRow{Service: l.Service, Tier: l.Tier, App: l.App, From: l.Day, Through: b.Through,
					Amount: decimal.Zero})
			}
			r := &rows[i]
			if l.Day < r.From {
				r.From = l.Day
			}
			if b.Through > r.Through {
				r.Through = b.Through
			}
			r.Seconds, r.Minutes, r.Billed = r.Seconds+l.Seconds, r.Minutes+l.Minutes, r.Billed+l.Billed
			r.Prepaid, r.Postpaid, r.Shortfall, r.Deferred = r.Prepaid+l.Prepaid, r.Postpaid+l.Postpaid, r.Shortfall+l.Shortfall, r.Deferred+l.Deferred
			r.Amount = r.Amount.Add(l.Amount)
		}
	}
	slices.SortFunc(rows, func(x, y billing.StatementRow) int {
		return refMeterKeyOrder(billing.MeterKey{Service: x.Service, Tier: x.Tier, App: x.App},
			billing.MeterKey{Service: y.Service, Tier: y.Tier, App: y.App})
	})
	return rows, subtotal
}

// BenchmarkStatement measures the statement of a month of 31 daily bills of
// six lines each (four basic tiers, cloud recording and MixTranscoding):
// reading it (Engine.Statement on memstore), and writing it as text and as
// CSV.
func BenchmarkStatement(b *testing.B) {
	h := newHarness(b, noTrial())
	h.do(open(at(1, 8, 0, 0), true))
	for d := 1; d <= 31; d++ {
		for i, tier := range []billing.Tier{audio, sd, hd, fhd} {
			h.do(use(fmt.Sprint(d, "/", tier), tier, 3600, at(d, 11+i, 0, 0)))
		}
		for i, s := range []billing.Service{billing.ServiceRecording, billing.ServiceMixTranscoding} {
			t := at(d, 15+i, 0, 0)
			h.do(op{now: t, use: &billing.Usage{ID: fmt.Sprint(d, "/", s), Account: "a", App: "app1", Service: s, Tier: hd, Seconds: 1800, At: t}})
		}
		h.do(settle(at(d+1, 10, 0, 0), march(d)))
	}
	s, err := h.e.Statement(h.ctx, "a", 2021, time.March)
	if err != nil || len(s.Bills) != 31 || len(s.Rows) != 6 {
		b.Fatalf("Statement = %d bills, %d rows, %v; want 31 bills, 6 rows", len(s.Bills), len(s.Rows), err)
	}
	b.Run("Statement", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := h.e.Statement(h.ctx, "a", 2021, time.March); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("WriteText", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if err := s.WriteText(io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("WriteCSV", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if err := s.WriteCSV(io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestStatementTextRunes aligns columns by characters, not bytes: "应用" is
// two characters (six bytes), padded to the four of "app2".
func TestStatementTextRunes(t *testing.T) {
	row := func(app string) billing.StatementRow {
		// 60 s of audio: 1 minute postpaid at 0.00099 (Era 1 USD audio).
		return billing.StatementRow{Service: billing.ServiceBasic, Tier: billing.TierAudio, App: app,
			Seconds: 60, Minutes: 1, Postpaid: 1, Billed: 1, Amount: decimal.RequireFromString("0.00099")}
	}
	s := billing.Statement{Account: "a", Year: 2025, Month: time.March, Currency: "USD",
		Rows: []billing.StatementRow{row("应用"), row("app2")}, Subtotal: decimal.RequireFromString("0.00198"), Total: decimal.Zero}
	var b bytes.Buffer
	if err := s.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `Statement of a, March 2025, USD: no bills

service  tier   app   seconds  minutes  prepaid  postpaid  shortfall  deferred  billed  amount
basic    audio  应用         60        1        0         1          0         0       1    0.00
basic    audio  app2       60        1        0         1          0         0       1    0.00
total                                                                                     0.00
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("WriteText (-want +got):\n%s", diff)
	}
}
