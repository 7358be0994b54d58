package billing_test

import (
	"archive/zip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/rtcbill/billing"
)

func TestDay(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
		want string
	}{
		{"midnight UTC+8", at(15, 0, 0, 0), "2021-03-15"},
		{"last second of the day", at(15, 23, 59, 59), "2021-03-15"},
		{"last nanosecond of the day", at(15, 23, 59, 59).Add(999_999_999), "2021-03-15"},
		{"15:59:59 UTC is 23:59:59 in UTC+8", time.Date(2021, 3, 15, 15, 59, 59, 0, time.UTC), "2021-03-15"},
		{"16:00 UTC is the next day in UTC+8", time.Date(2021, 3, 15, 16, 0, 0, 0, time.UTC), "2021-03-16"},
		{"before 1970", time.Date(1969, 12, 31, 15, 59, 59, 0, time.UTC), "1969-12-31"},
		{"before 1970, next day in UTC+8", time.Date(1969, 12, 31, 16, 0, 0, 0, time.UTC), "1970-01-01"},
		{"the first day", time.Date(1, 1, 1, 0, 0, 0, 0, cst), "0001-01-01"},
		{"the last day", time.Date(9999, 12, 31, 23, 59, 59, 0, cst), "9999-12-31"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := billing.DayOf(tt.t, cst)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.String(); got != tt.want {
				t.Errorf("DayOf(%v) = %s, want %s", tt.t, got, tt.want)
			}
			y, m, dd := d.Date()
			if back, err := billing.DateDay(y, m, dd); back != d || err != nil {
				t.Errorf("DateDay(Date()) = %v, %v; want %v", back, err, d)
			}
			start := d.Start(cst)
			if start.After(tt.t) || !start.Add(24*time.Hour).After(tt.t) {
				t.Errorf("Start() = %v, does not contain %v", start, tt.t)
			}
		})
	}
}

// TestDayRange checks that dates and instants outside the years 1 to 9999
// are refused, never wrapped around into another day: 11761242-03-10 is
// 4,294,985,972 days after 1970-01-01, which as a 32-bit Day is 18,676,
// 2021-02-18.
func TestDayRange(t *testing.T) {
	tests := []struct {
		name    string
		y       int
		m       time.Month
		d       int
		want    billing.Day
		wantErr error
	}{
		{"1970-01-01", 1970, 1, 1, 0, nil},
		{"2021-03-15: 18,701 days after 1970-01-01", 2021, 3, 15, 18_701, nil},
		{"normalized: 2021-02-29 is 2021-03-01", 2021, 2, 29, 18_687, nil},
		{"0001-01-01 is MinDay", 1, 1, 1, billing.MinDay, nil},
		{"9999-12-31 is MaxDay", 9999, 12, 31, billing.MaxDay, nil},
		{"normalized into range: 9999-13-00 is 9999-12-31", 9999, 13, 0, billing.MaxDay, nil},
		{"0000-12-31", 0, 12, 31, 0, billing.ErrInvalidTime},
		{"10000-01-01", 10000, 1, 1, 0, billing.ErrInvalidTime},
		{"9999-12-32 normalizes to 10000-01-01", 9999, 12, 32, 0, billing.ErrInvalidTime},
		{"11761242-03-10 would wrap to 2021-02-18", 11_761_242, 3, 10, 0, billing.ErrInvalidTime},
		{"a month beyond ±10,000,000", 2021, 1 << 40, 1, 0, billing.ErrInvalidTime},
		{"a day beyond ±10,000,000", 2021, 1, -1 << 62, 0, billing.ErrInvalidTime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := billing.DateDay(tt.y, tt.m, tt.d)
			if diff := cmp.Diff(tt.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Fatalf("DateDay() error (-want +got):\n%s", diff)
			}
			if got != tt.want {
				t.Errorf("DateDay() = %d, want %d", got, tt.want)
			}
		})
	}
	for _, tm := range []time.Time{
		time.Date(0, 12, 31, 23, 59, 59, 0, cst),
		time.Date(10000, 1, 1, 0, 0, 0, 0, cst),
		time.Date(11_761_242, 3, 10, 12, 0, 0, 0, cst),
		time.Unix(1<<60, 0),
	} {
		if d, err := billing.DayOf(tm, cst); !errors.Is(err, billing.ErrInvalidTime) {
			t.Errorf("DayOf(%v) = %v, %v; want ErrInvalidTime", tm, d, err)
		}
	}
}

// loadZone loads a zone of the system's time zone database, or skips.
func loadZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("zone %s: %v", name, err)
	}
	return loc
}

// TestDaylightSavingMidnight checks the first instant of days whose
// midnight is skipped or repeated, or whose date clocks leave and come back
// to, against instants read off the zone's clocks by hand.
func TestDaylightSavingMidnight(t *testing.T) {
	tests := []struct {
		name string
		zone string
		day  billing.Day
		// start is the day's first instant, as the zone's clocks show it.
		start time.Time
	}{
		{
			// 2021-09-05: clocks go from 23:59:59 -04 to 01:00 -03; 00:00 does not exist.
			"America/Santiago skips midnight", "America/Santiago", refDateDay(2021, 9, 5),
			time.Date(2021, 9, 5, 4, 0, 0, 0, time.UTC), // 01:00 -03
		},
		{
			// 2021-10-29: clocks go from 00:59:59 +03 back to 00:00 +02, so
			// midnight comes twice: first at 21:00 UTC, again at 22:00 UTC.
			"Asia/Amman repeats midnight", "Asia/Amman", refDateDay(2021, 10, 29),
			time.Date(2021, 10, 28, 21, 0, 0, 0, time.UTC),
		},
		{
			// 2010-11-07: clocks go from 00:00:59 -02:30 back to 23:01 -03:30
			// of the 6th; the 7th began at 00:00 -02:30, 02:30 UTC.
			"America/St_Johns falls back across midnight", "America/St_Johns", refDateDay(2010, 11, 7),
			time.Date(2010, 11, 7, 2, 30, 0, 0, time.UTC),
		},
		{
			// 2011-12-30 did not exist: 2011-12-29 23:59:59 -10 was followed
			// by 2011-12-31 00:00 +14, 10:00 UTC on the 30th.
			"Pacific/Apia skips a whole date", "Pacific/Apia", refDateDay(2011, 12, 30),
			time.Date(2011, 12, 30, 10, 0, 0, 0, time.UTC),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := loadZone(t, tt.zone)
			if got := tt.day.Start(loc); !got.Equal(tt.start) {
				t.Errorf("Start(%s) = %v, want %v", tt.day, got.UTC(), tt.start)
			}
			if d, _ := billing.DayOf(tt.start.Add(-time.Nanosecond), loc); d >= tt.day {
				t.Errorf("the instant before the start is on day %s, want an earlier day", d)
			}
			// Every instant of the next hour is on the day (or, for an
			// empty day, on a later one), however the clocks go.
			for m := range 61 {
				tm := tt.start.Add(time.Duration(m) * time.Minute)
				if d, _ := billing.DayOf(tm, loc); d < tt.day {
					t.Errorf("DayOf(%v) = %s, before the day that started at %v", tm.In(loc), d, tt.start)
				}
			}
		})
	}
}

// TestDaysOfEveryZone checks, for every zone of Go's time zone database
// and every offset change from 2000 to 2040, that billing days agree with
// the zone's clocks: DayOf is the latest date the clocks have shown (so
// that days never overlap), Start is the first instant of that day, and the
// instant before it is on an earlier day. Minutes within 3 hours of each
// change are compared with a scan of the clocks, and one day in 29 of the
// 41 years is checked too.
func TestDaysOfEveryZone(t *testing.T) {
	zones := goZones(t)
	from, to := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2041, 1, 1, 0, 0, 0, 0, time.UTC)
	changes, seen := 0, map[string]bool{}
	for _, z := range zones {
		loc := z.loc
		// The offset changes; zones that are other names of one zone
		// (US/Eastern, America/New_York) are checked once.
		var ends []time.Time
		var clocks strings.Builder
		for tm := from; tm.Before(to); {
			_, end := tm.In(loc).ZoneBounds()
			if end.IsZero() || !end.Before(to) {
				break
			}
			if !end.After(tm) { // a bound Go reports at a year's turn
				tm = tm.Add(time.Hour)
				continue
			}
			tm = end
			_, offset := end.In(loc).Zone()
			fmt.Fprintf(&clocks, "%d %d,", end.Unix(), offset)
			ends = append(ends, end)
		}
		_, offset := from.In(loc).Zone()
		fmt.Fprintf(&clocks, "%d", offset)
		if seen[clocks.String()] {
			continue
		}
		seen[clocks.String()] = true
		dayOf := func(tm time.Time) billing.Day {
			d, err := billing.DayOf(tm, loc)
			if err != nil {
				t.Fatalf("%s: DayOf(%v): %v", z.name, tm, err)
			}
			return d
		}
		agrees := func(d billing.Day) {
			s := d.Start(loc)
			if dayOf(s) < d || dayOf(s.Add(-time.Nanosecond)) >= d {
				t.Errorf("%s: day %s starts at %v, which is on day %s, after an instant on day %s",
					z.name, d, s, dayOf(s), dayOf(s.Add(-time.Nanosecond)))
			}
		}
		for tm := from; tm.Before(to); tm = tm.Add(29 * 24 * time.Hour) {
			agrees(dayOf(tm))
		}
		for _, end := range ends {
			changes++
			// The clocks' latest date, minute by minute from 3 hours before
			// the change (no other change is that close before it).
			latest := refDateDay(end.Add(-3 * time.Hour).In(loc).Date())
			for m := -180; m <= 180; m++ {
				s := end.Add(time.Duration(m) * time.Minute)
				shown := refDateDay(s.In(loc).Date())
				for d := latest + 1; d <= shown; d++ {
					// Day d began in the minute ending at s.
					if st := d.Start(loc); !st.After(s.Add(-time.Minute)) || st.After(s) {
						t.Errorf("%s: day %s starts at %v, want in the minute before %v", z.name, d, st, s)
					}
					agrees(d)
				}
				latest = max(latest, shown)
				if got := dayOf(s); got != latest {
					t.Errorf("%s: DayOf(%v) = %s, want %s, the latest date its clocks have shown", z.name, s.In(loc), got, latest)
				}
			}
		}
	}
	t.Logf("%d zones, %d with clocks of their own, %d offset changes", len(zones), len(seen), changes)
}

type zone struct {
	name string
	loc  *time.Location
}

// goZones returns every zone of the time zone database that comes with Go,
// or skips.
func goZones(t *testing.T) []zone {
	t.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("go env GOROOT: %v", err)
	}
	r, err := zip.OpenReader(filepath.Join(strings.TrimSpace(string(out)), "lib", "time", "zoneinfo.zip"))
	if err != nil {
		t.Skipf("Go's time zone database: %v", err)
	}
	defer r.Close()
	var zones []zone
	for _, f := range r.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if loc, err := time.LoadLocationFromTZData(f.Name, data); err == nil {
			zones = append(zones, zone{f.Name, loc})
		}
	}
	if len(zones) < 400 {
		t.Fatalf("%d zones in Go's time zone database, want over 400", len(zones))
	}
	return zones
}

// TestOffsetChangesAfterFallingBack checks DayOf and Start in a made-up
// zone whose clocks change twice while they show the previous date again:
// at 00:30 +02 on the 15th (22:30 UTC on the 14th) they go back to 22:30
// +00 of the 14th, and half an hour later (23:00 +00) forward to 23:30
// +00:30, still the 14th. The 15th, begun at 00:00 +02 (22:00 UTC),
// goes on through both changes.
func TestOffsetChangesAfterFallingBack(t *testing.T) {
	back := time.Date(2021, 3, 14, 22, 30, 0, 0, time.UTC)
	forward := back.Add(30 * time.Minute)
	loc := zoneOf(t, []int32{2 * 3600, 0, 1800}, []int64{back.Unix(), forward.Unix()}, []uint8{1, 2})
	d15 := refDateDay(2021, 3, 15)
	for _, tm := range []time.Time{back.Add(-time.Minute), back.Add(10 * time.Minute), forward.Add(10 * time.Minute)} {
		if d, err := billing.DayOf(tm, loc); d != d15 || err != nil {
			t.Errorf("DayOf(%v) = %s, %v; want 2021-03-15, the latest date the clocks have shown", tm.In(loc), d, err)
		}
	}
	if got, want := d15.Start(loc), back.Add(-30*time.Minute); !got.Equal(want) {
		t.Errorf("Start(2021-03-15) = %v, want %v (00:00 +02)", got.UTC(), want)
	}
}

// zoneOf returns a zone made from a time zone file (version 1, RFC 8536)
// with the given offsets (seconds east of UTC), and the instants at which
// each types[i] of them takes over; offsets[0] is in force before.
func zoneOf(t *testing.T, offsets []int32, at []int64, types []uint8) *time.Location {
	t.Helper()
	var b []byte
	be32 := func(v int32) { b = binary.BigEndian.AppendUint32(b, uint32(v)) }
	b = append(b, "TZif"...)
	b = append(b, make([]byte, 16)...) // version 1, reserved
	for _, n := range []int{0, 0, 0, len(at), len(offsets), 2 * len(offsets)} {
		be32(int32(n)) // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
	}
	for _, a := range at {
		be32(int32(a))
	}
	b = append(b, types...)
	for i, o := range offsets {
		be32(o)
		b = append(b, 0, byte(2*i)) // not daylight saving time; designation
	}
	for i := range offsets {
		b = append(b, byte('A'+i), 0)
	}
	loc, err := time.LoadLocationFromTZData("Made-up", b)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestRepeatedMidnight checks accounts whose billing day begins twice,
// against instants read off the zones' clocks by hand.
//
// Asia/Amman, 2021-10-29: the day began at 00:00 +03 (21:00 UTC), and at
// 01:00 +03 the clocks went back to 00:00 +02 (22:00 UTC). Both passes are
// the 29th, so a trial granted at 00:10 (first pass) or a package bought at
// 00:30 (first pass) is valid from 21:00 UTC.
//
// America/St_Johns, 2010-11-07: the day began at 00:00 -02:30 (02:30 UTC),
// and at 00:01 the clocks went back to 23:01 -03:30 of the 6th. The
// repeated minutes to midnight stay on the 7th, the day already begun.
func TestRepeatedMidnight(t *testing.T) {
	amman := func(h, m int) time.Time { return time.Date(2021, 10, 28, h, m, 0, 0, time.UTC) }
	stJohns := func(h, m int) time.Time { return time.Date(2010, 11, 7, h, m, 0, 0, time.UTC) }
	from2010 := noTrial() // Era 1 prices from 2010 on
	from2010.From = time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	from2010.MonthlyCohortsUntil = time.Time{} // every account daily
	tests := []struct {
		name  string
		zone  string
		books []billing.PriceBook
		setup []op
		now   time.Time
		use   *billing.Usage
		want  billing.Receipt
	}{
		{
			// 10 minutes of audio at 00:20 (first pass), from the trial of 10,000.
			name: "the trial granted in the first pass covers it", zone: "Asia/Amman",
			setup: []op{{now: amman(21, 10), open: &billing.AccountSpec{ID: "a", App: "app1"}}},
			now:   amman(21, 40), use: usage("u1", audio, 600, amman(21, 20)),
			want: billing.Receipt{Key: basic(refDateDay(2021, 10, 29), audio), Minutes: 10,
				Draws: []billing.Draw{{Package: billing.TrialID, Minutes: 10, Deducted: 10}}},
		},
		{
			// Usage at 00:10 (first pass), reported after the purchase at
			// 00:30 (first pass): in the reference order it comes first, on
			// the 29th, postpaid (10 HD minutes); p1, bought the same day,
			// absorbs them at 00:30.
			name: "a package bought in the first pass covers it", zone: "Asia/Amman", books: []billing.PriceBook{noTrial()},
			setup: []op{
				{now: amman(12, 0), open: &billing.AccountSpec{ID: "a", Postpaid: true, App: "app1"}},
				{now: amman(21, 30), buy: &billing.Purchase{ID: "p1", Account: "a", Kind: uni, Minutes: 1000}},
			},
			now: amman(21, 40), use: usage("u1", hd, 600, amman(21, 10)),
			want: billing.Receipt{Key: basic(refDateDay(2021, 10, 29), hd), Minutes: 10, Postpaid: 10, Late: true},
		},
		{
			// Usage at 23:30 -03:30 (03:00 UTC), after the clocks went back:
			// on the 7th, drawn from p1, bought on the 7th at 00:00:30 -02:30.
			name: "the minutes repeated after falling back across midnight", zone: "America/St_Johns", books: []billing.PriceBook{from2010},
			setup: []op{
				{now: stJohns(0, 0), open: &billing.AccountSpec{ID: "a", Postpaid: true, App: "app1"}},
				{now: stJohns(2, 30).Add(30 * time.Second), buy: &billing.Purchase{ID: "p1", Account: "a", Kind: uni, Minutes: 1000}},
			},
			now: stJohns(3, 10), use: usage("u1", hd, 600, stJohns(3, 0)),
			want: billing.Receipt{Key: basic(refDateDay(2010, 11, 7), hd), Minutes: 10,
				Draws: []billing.Draw{{Package: "p1", Minutes: 10, Deducted: 40}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := loadZone(t, tt.zone)
			h := newHarness(t)
			var err error
			if h.e, err = billing.New(h.store, &billing.Options{Now: h.clock.Now, Location: loc, PriceBooks: tt.books}); err != nil {
				t.Fatal(err)
			}
			h.do(tt.setup...)
			h.clock.Set(tt.now)
			got, err := h.e.Record(h.ctx, *tt.use)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpOpts); diff != "" {
				t.Errorf("Record() (-want +got):\n%s", diff)
			}
			if a := h.account("a"); a.Apps[0].Status.Suspended {
				t.Errorf("account suspended: %+v", a.Apps[0].Status)
			}
		})
	}
}
