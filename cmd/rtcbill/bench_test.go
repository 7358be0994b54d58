package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var benchLines = flag.Int("lines", 20_000, "the lines of the usage file BenchmarkImportUsage generates (1000000 for the figure in README.md)")

// benchAccounts is how many accounts the generated file's usages go to.
const benchAccounts = 10

// writeUsageFile writes a CSV file of n usages, in time order through
// March 2021, of benchAccounts accounts in turn, tiers in turn.
func writeUsageFile(tb testing.TB, path string, n int) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "id,account,app,scenario,tier,seconds,at")
	start := time.Date(2021, 3, 1, 12, 0, 0, 0, time.FixedZone("UTC+8", 8*3600))
	step := 30 * 24 * time.Hour / time.Duration(n)
	tiers := []string{"audio", "sd", "hd", "fhd"}
	for i := range n {
		a := i % benchAccounts
		fmt.Fprintf(w, "u%d,acct-%d,app-%d,video-call,%s,%d,%s\n",
			i, a, a, tiers[i/benchAccounts%len(tiers)], 1+i%600, start.Add(time.Duration(i)*step).Format(time.RFC3339))
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkImportUsage imports a generated file of -lines usages into a
// new SQLite file, durable commits, and reports lines/s.
//
//	go test -run XXX -bench ImportUsage -benchtime 1x -lines 1000000
func BenchmarkImportUsage(b *testing.B) {
	dir := b.TempDir()
	file := filepath.Join(dir, "usage.csv")
	writeUsageFile(b, file, *benchLines)
	var elapsed time.Duration
	for i := range b.N {
		b.StopTimer()
		h := &harness{t: b, store: []string{"--db", filepath.Join(dir, fmt.Sprintf("bench-%d.db", i))}}
		for a := range benchAccounts {
			h.must("--now", "2021-03-01T09:00:00+08:00", "open", fmt.Sprintf("acct-%d", a), "--app", fmt.Sprintf("app-%d", a), "--postpaid")
		}
		b.StartTimer()
		start := time.Now()
		h.must("--now", "2021-04-01T12:00:00+08:00", "import", "usage", file)
		elapsed += time.Since(start)
	}
	b.ReportMetric(float64(*benchLines)*float64(b.N)/elapsed.Seconds(), "lines/s")
}
