package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/session"
	"github.com/shopspring/decimal"
)

// harness runs command lines in-process against one store: store are
// the global flags that name it.
type harness struct {
	t     testing.TB
	store []string
}

// newHarness returns a harness on a new SQLite file.
func newHarness(t testing.TB) *harness {
	t.Helper()
	return &harness{t: t, store: []string{"--db", filepath.Join(t.TempDir(), "rtcbill.db")}}
}

// newPostgresHarness returns a harness on a new schema of the PostgreSQL
// database of $RTCBILL_TEST_DSN, or skips the test without one.
func newPostgresHarness(t *testing.T) *harness {
	t.Helper()
	dsn := os.Getenv("RTCBILL_TEST_DSN")
	if dsn == "" {
		t.Skip("RTCBILL_TEST_DSN is not set: no PostgreSQL to test --dsn on")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("rtcbill_test_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return &harness{t: t, store: []string{"--dsn", dsn + sep + "search_path=" + schema}}
}

// run runs one command line and returns its exit status, stdout and stderr.
func (h *harness) run(args ...string) (int, string, string) {
	h.t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append(h.store[:len(h.store):len(h.store)], args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// must runs a command line that must succeed and returns its stdout.
func (h *harness) must(args ...string) string {
	h.t.Helper()
	code, out, errOut := h.run(args...)
	if code != exitOK {
		h.t.Fatalf("rtcbill %s: exit status %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// flow runs the demo's steps up to the settlement, with the sample files
// of testdata.
func (h *harness) flow() {
	h.t.Helper()
	for _, step := range demoSteps {
		if step[2] == "statement" || step[2] == "overview" {
			continue
		}
		args := make([]string, len(step))
		for i, a := range step {
			args[i] = strings.ReplaceAll(a, "{dir}", "testdata")
		}
		h.must(args...)
	}
}

func readCSV(t testing.TB, s string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v\n%s", err, s)
	}
	return rows
}

const april = "2021-04-01T12:00:00+08:00"

// billFigures are the figures of a bill a test checks.
type billFigures struct {
	Day             string
	Lines           []billing.Line
	Subtotal, Total decimal.Decimal
}

func TestSampleStatements(t *testing.T) { testSampleStatements(t, newHarness(t)) }

// TestSampleStatementsPostgres runs the sample on PostgreSQL (--dsn):
// RTCBILL_TEST_DSN=postgres://postgres@127.0.0.1:5432/postgres go test -run Postgres
func TestSampleStatementsPostgres(t *testing.T) { testSampleStatements(t, newPostgresHarness(t)) }

func testSampleStatements(t *testing.T, h *harness) {
	h.flow()
	day := func(s string) billing.Day {
		d, err := billing.ParseDay(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	dec := decimal.RequireFromString
	// line is a basic line of day d: seconds, minutes, prepaid, postpaid,
	// billed, unit price and amount (no shortfall, nothing deferred).
	line := func(d string, tier billing.Tier, seconds, minutes, prepaid, postpaid, billed int64, price, amount string) billing.Line {
		return billing.Line{Day: day(d), Service: billing.ServiceBasic, Tier: tier, Seconds: seconds, Minutes: minutes,
			Prepaid: prepaid, Postpaid: postpaid, Billed: billed, UnitPrice: dec(price), Amount: dec(amount)}
	}
	tests := []struct {
		name    string
		account string
		want    []billFigures
		total   string
	}{{
		// Era 1 USD, per 1,000 minutes: audio 0.99, SD 1.99, HD 3.99, FHD 14.99.
		// acme: trial 10,000 (ratio 1), then universal 25,000 bought 03-01
		// (ratios SD 2, FHD 15), which arms the automatic postpaid switch.
		name:    "acme",
		account: "acme",
		want: []billFigures{{
			// 03-02: audio 90+30 s = ceil(120/60) = 2 min; HD 300,000 s = 5,000 min:
			// all from the trial (10,000 - 5,000 - 2 = 4,998 left).
			Day: "2021-03-02",
			Lines: []billing.Line{
				line("2021-03-02", billing.TierAudio, 120, 2, 2, 0, 0, "0.00099", "0"),
				line("2021-03-02", billing.TierHD, 300_000, 5000, 5000, 0, 0, "0.00399", "0"),
			},
			Subtotal: dec("0"), Total: dec("0"),
		}, {
			// 03-03: FHD 360,000 s = 6,000 min: 4,998 from the trial, 1,002 from the
			// universal package at 15 (15,030 of its 25,000: 9,970 left).
			Day:      "2021-03-03",
			Lines:    []billing.Line{line("2021-03-03", billing.TierFHD, 360_000, 6000, 6000, 0, 0, "0.01499", "0")},
			Subtotal: dec("0"), Total: dec("0"),
		}, {
			// 03-04: audio 61 s = 2 min postpaid at 0.00099 = 0.00198; SD 1,200,000 s =
			// 20,000 min: 9,970 / 2 = 4,985 from the package, 15,015 postpaid (the
			// switch goes on) at 0.00199 = 29.87985; 29.88183 -> 29.88.
			Day: "2021-03-04",
			Lines: []billing.Line{
				line("2021-03-04", billing.TierAudio, 61, 2, 0, 2, 2, "0.00099", "0.00198"),
				line("2021-03-04", billing.TierSD, 1_200_000, 20_000, 4985, 15_015, 15_015, "0.00199", "29.87985"),
			},
			Subtotal: dec("29.88183"), Total: dec("29.88"),
		}, {
			// 03-05: HD 6,000 s = 100 min postpaid at 0.00399 = 0.399 -> 0.40.
			Day:      "2021-03-05",
			Lines:    []billing.Line{line("2021-03-05", billing.TierHD, 6000, 100, 0, 100, 100, "0.00399", "0.399")},
			Subtotal: dec("0.399"), Total: dec("0.40"),
		}},
		total: "30.28", // 0.00 + 0.00 + 29.88 + 0.40
	}, {
		// globex: room r1 on 03-06, 10:00 to 10:30: alice receives bob's
		// 1280x720 camera (HD, 1,800 s = 30 min), bob receives nothing
		// (audio, 1,800 s = 30 min); the trial covers both.
		name:    "globex from room events",
		account: "globex",
		want: []billFigures{{
			Day: "2021-03-06",
			Lines: []billing.Line{
				line("2021-03-06", billing.TierAudio, 1800, 30, 30, 0, 0, "0.00099", "0"),
				line("2021-03-06", billing.TierHD, 1800, 30, 30, 0, 0, "0.00399", "0"),
			},
			Subtotal: dec("0"), Total: dec("0"),
		}},
		total: "0",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s billing.Statement
			if err := json.Unmarshal([]byte(h.must("--now", april, "statement", tt.account, "2021-03", "--format", "json")), &s); err != nil {
				t.Fatal(err)
			}
			var got []billFigures
			for _, b := range s.Bills {
				got = append(got, billFigures{Day: period(b), Lines: b.Lines, Subtotal: b.Subtotal, Total: b.Total})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("bills (-want +got):\n%s", diff)
			}
			if !s.Total.Equal(dec(tt.total)) {
				t.Errorf("total %s, want %s", s.Total, tt.total)
			}
			text := h.must("--now", april, "statement", tt.account, "2021-03")
			if !strings.Contains(text, money(dec(tt.total), "USD")) {
				t.Errorf("the statement's table does not show its total %s:\n%s", tt.total, text)
			}
		})
	}
}

func TestReimportRecordsNothingTwice(t *testing.T) {
	h := newHarness(t)
	h.flow()
	ledger := h.must("--now", april, "ledger", "acme", "--format", "csv")
	statement := h.must("--now", april, "statement", "acme", "2021-03", "--format", "csv")
	for _, file := range []string{"testdata/sample.csv", "testdata/sample.jsonl"} {
		out := h.must("--now", april, "import", "usage", file)
		// 7 usages, each already recorded: taken as done, none refused.
		if want := file + ": 7 lines read, 7 usages recorded (now or by an earlier import), 0 refused\n"; out != want {
			t.Errorf("import %s printed %q, want %q", file, out, want)
		}
	}
	globex := h.must("--now", april, "ledger", "globex", "--format", "csv")
	for _, file := range []string{"testdata/events.csv", "testdata/events.jsonl"} {
		out := h.must("--now", april, "import", "events", file)
		// The same 5 events give the same 2 usages, under the same ids.
		if want := file + ": 5 lines read, 2 usages recorded (now or by an earlier import), 0 refused (5 events taken, 2 usages metered, 0 users still in a room)\n"; out != want {
			t.Errorf("import %s printed %q, want %q", file, out, want)
		}
	}
	if diff := cmp.Diff(globex, h.must("--now", april, "ledger", "globex", "--format", "csv")); diff != "" {
		t.Errorf("globex's ledger after a re-import (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(ledger, h.must("--now", april, "ledger", "acme", "--format", "csv")); diff != "" {
		t.Errorf("ledger after a re-import (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(statement, h.must("--now", april, "statement", "acme", "2021-03", "--format", "csv")); diff != "" {
		t.Errorf("statement after a re-import (-before +after):\n%s", diff)
	}
	// Settling again issues no bill: every due day is settled.
	if got := readCSV(t, h.must("--now", april, "settle", "acme", "globex", "--format", "csv")); len(got) != 1 {
		t.Errorf("settling again issued bills: %q", got)
	}
}

// refusalRow matches a row of the refusals table: count, reason, first lines.
var refusalRow = regexp.MustCompile(`^(\d+)\s{2,}(.+?)\s{2,}(.+?)\s{2,}`)

func TestImportRefusalsGrouped(t *testing.T) {
	h := newHarness(t)
	h.must("--now", "2021-03-01T09:00:00+08:00", "open", "acme", "--app", "1400000001")
	code, out, _ := h.run("--now", april, "import", "usage", "testdata/bad.csv")
	if code != exitFailed {
		t.Errorf("exit status %d, want %d", code, exitFailed)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	// 12 lines: b1 and b12 recorded, 10 refused.
	if want := "testdata/bad.csv: 12 lines read, 2 usages recorded (now or by an earlier import), 10 refused"; lines[0] != want {
		t.Errorf("summary %q, want %q", lines[0], want)
	}
	var got [][]string
	for _, l := range lines[2:] {
		m := refusalRow.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("not a row of the refusals table: %q", l)
		}
		got = append(got, m[1:])
	}
	// Malformed lines come first, as read; then the engine's refusals, in
	// line order. File lines count the header as line 1.
	want := [][]string{
		{"1", "malformed: seconds is not a whole number", "4"},
		{"1", "malformed: at is not an RFC 3339 time", "8"},
		{"1", "malformed: wrong number of fields", "12"},
		{"2", billing.ErrUnknownTier.Error(), "3, 7"},
		{"1", billing.ErrUnknownApp.Error(), "5"},
		{"1", billing.ErrTierNotInScenario.Error(), "6"},
		{"1", billing.ErrFutureUsage.Error(), "9"},
		{"1", billing.ErrInvalidSeconds.Error(), "10"},
		{"1", billing.ErrNotFound.Error(), "11"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("refusals (-want +got):\n%s", diff)
	}
}

func TestImportEventsRefusals(t *testing.T) {
	h := newHarness(t)
	h.must("--now", "2021-03-01T09:00:00+08:00", "open", "globex", "--app", "1400000003")
	// --batch 1: the meter advances after each event, to the newest less
	// --lateness (1h): after the leave at 10:10, events before 09:10 are late.
	code, out, _ := h.run("--now", april, "import", "events", "testdata/badevents.csv", "--batch", "1")
	if code != exitFailed {
		t.Errorf("exit status %d, want %d", code, exitFailed)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	// 7 lines: carol's enter and leave taken (one usage: 600 s of audio),
	// 5 refused.
	if want := "testdata/badevents.csv: 7 lines read, 1 usages recorded (now or by an earlier import), 5 refused (2 events taken, 1 usages metered, 0 users still in a room)"; lines[0] != want {
		t.Errorf("summary %q, want %q", lines[0], want)
	}
	var got [][]string
	for _, l := range lines[2:] {
		m := refusalRow.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("not a row of the refusals table: %q", l)
		}
		got = append(got, m[1:])
	}
	want := [][]string{
		{"1", "malformed: kind is not enter, leave, subscribe, unsubscribe, alive or close", "3"},
		{"1", "malformed: at is not an RFC 3339 time", "5"},
		{"1", "malformed: width is out of range", "6"},
		{"1", session.ErrInvalidEvent.Error(), "7"},
		{"1", session.ErrLate.Error(), "8"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("refusals (-want +got):\n%s", diff)
	}
	// carol: 10:00 to 10:10 in an audio call, 600 s = 10 min of audio on
	// 03-07, from the trial (ratio 1).
	var entries []billing.Entry
	if err := json.Unmarshal([]byte(h.must("--now", april, "ledger", "globex", "--format", "json")), &entries); err != nil {
		t.Fatal(err)
	}
	var deductions [][]string
	for _, e := range entries {
		if e.Kind == billing.EntryDeduction {
			deductions = append(deductions, []string{e.Key.Day.String(), string(e.Key.Tier), itoa(e.Minutes), e.Package, itoa(e.Balance)})
		}
	}
	if diff := cmp.Diff([][]string{{"2021-03-07", "audio", "10", billing.TrialID, "-10"}}, deductions); diff != "" {
		t.Errorf("deductions (-want +got):\n%s", diff)
	}
}

func TestProgress(t *testing.T) {
	h := newHarness(t)
	h.must("--now", "2021-03-01T09:00:00+08:00", "open", "acme", "--app", "1400000001")
	h.must("--now", "2021-03-01T09:05:00+08:00", "app", "create", "acme", "1400000002")
	_, _, errOut := h.run("--now", april, "import", "usage", "testdata/sample.csv", "--progress")
	// Not a terminal: one line, the final figures: all 7 lines and the
	// file's 514 bytes.
	if !regexp.MustCompile(`^testdata/sample.csv: 100% 0.0 MB/0.0 MB, 7 lines, \d+ lines/s, 0 refused\n$`).MatchString(errOut) {
		t.Errorf("progress %q", errOut)
	}
}

func TestDemo(t *testing.T) {
	code, out, errOut := newHarness(t).run("demo")
	if code != exitOK {
		t.Fatalf("exit status %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	// The statement of acme as TestSampleStatements computes it.
	if !regexp.MustCompile(`(?m)^total\s+30\.28$`).MatchString(out) {
		t.Errorf("no total of 30.28 in the demo's output:\n%s", out)
	}
}

// appState is what TestApps checks of an application.
type appState struct {
	ID       string
	Postpaid billing.Postpaid
	Disabled []billing.Interval
}

func TestApps(t *testing.T) {
	h := newHarness(t)
	at := func(hhmm string) string { return "2021-03-01T" + hhmm + ":00+08:00" }
	h.must("--now", at("09:00"), "open", "acme", "--app", "1400000001")
	h.must("--now", at("09:05"), "app", "create", "acme", "1400000002", "--postpaid")
	h.must("--now", at("10:00"), "app", "disable", "acme", "1400000001")
	h.must("--now", at("11:00"), "app", "enable", "acme", "1400000001")
	var a billing.Account
	if err := json.Unmarshal([]byte(h.must("--now", at("12:00"), "app", "postpaid", "acme", "1400000001", "--format", "json")), &a); err != nil {
		t.Fatal(err)
	}
	tm := func(hhmm string) time.Time {
		v, err := time.Parse(time.RFC3339, at(hhmm))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	want := []appState{{
		// Disabled 10:00 to 11:00; postpaid enabled by hand at 12:00.
		ID:       "1400000001",
		Postpaid: billing.Postpaid{On: true, Since: tm("12:00"), Way: billing.PostpaidEnabled},
		Disabled: []billing.Interval{{Since: tm("10:00"), Until: tm("11:00")}},
	}, {
		// Created with --postpaid at 09:05.
		ID:       "1400000002",
		Postpaid: billing.Postpaid{On: true, Since: tm("09:05"), Way: billing.PostpaidAtCreation},
	}}
	var got []appState
	for _, app := range a.Apps {
		got = append(got, appState{ID: app.ID, Postpaid: app.Postpaid, Disabled: app.Disabled})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("applications (-want +got):\n%s", diff)
	}
}

func TestImportFileRefused(t *testing.T) {
	tests := []struct {
		name, file, content string
		want                int
	}{
		{"unknown column", "u.csv", "id,account,app,tier,seconds,at,colour\n", exitFailed},
		{"column twice", "u.csv", "id,account,app,tier,seconds,at,id\n", exitFailed},
		{"required column missing", "u.csv", "id,account,app,tier,at\n", exitFailed},
		{"empty file", "u.csv", "", exitFailed},
		{"byte order mark and no rows", "u.csv", "\ufeffid,account,app,tier,seconds,at\n", exitOK},
		{"empty JSON Lines file", "u.jsonl", "", exitOK},
		{"unknown JSON key", "u.jsonl", `{"id":"u1","colour":"red"}` + "\n", exitFailed},
		{"format by flag", "u.txt --format csv", "id,account,app,tier,seconds,at\n", exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			name, flags, _ := strings.Cut(tt.file, " ")
			path := filepath.Join(t.TempDir(), name)
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"import", "usage", path}, strings.Fields(flags)...)
			if code, out, errOut := h.run(args...); code != tt.want {
				t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.want, out, errOut)
			}
		})
	}
}

func TestCommandLineErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"no command", nil, exitUsage},
		{"unknown command", []string{"frobnicate"}, exitUsage},
		{"import without kind", []string{"import"}, exitUsage},
		{"bad format", []string{"statement", "acme", "2021-03", "--format", "xml"}, exitUsage},
		{"bad month", []string{"statement", "acme", "March"}, exitUsage},
		{"missing argument", []string{"overview"}, exitUsage},
		{"bad --from", []string{"ledger", "acme", "--from", "yesterday"}, exitUsage},
		{"bad --batch", []string{"import", "usage", "testdata/sample.csv", "--batch", "0"}, exitUsage},
		{"bad --tz", []string{"--tz", "Asia/Shanghai", "overview", "acme"}, exitUsage},
		{"bad clock", []string{"--now", "yesterday", "overview", "acme"}, exitUsage},
		{"bad books", []string{"--books", "era9", "overview", "acme"}, exitUsage},
		{"unknown account", []string{"overview", "nobody"}, exitFailed},
		{"unknown file format", []string{"import", "usage", "testdata/sample.txt"}, exitUsage},
		{"help", []string{"help", "import"}, exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			if code, out, errOut := h.run(tt.args...); code != tt.want {
				t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.want, out, errOut)
			}
		})
	}
}
