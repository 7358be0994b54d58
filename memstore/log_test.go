package memstore

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
	"github.com/shopspring/decimal"
)

// TestLog checks that every record added is found at its place, unchanged
// by what follows it, that walking with next visits the records in order,
// that chunks double from 256 bytes, and that truncate removes exactly the records after
// its place.
func TestLog(t *testing.T) {
	var l log
	if l.end() != 0 {
		t.Fatalf("empty log ends at %#x, want 0", l.end())
	}
	// Records of 100 bytes: two fit the 256-byte first chunk (200), the
	// third starts the 512-byte chunk 1, which takes five (500).
	var recs [][]byte
	var places []pos
	for i := range 200 {
		rec := bytes.Repeat([]byte{byte(i)}, 100)
		recs = append(recs, rec)
		places = append(places, l.add(rec))
	}
	want := []pos{place(0, 0), place(0, 100), place(1, 0), place(1, 400), place(2, 0)}
	if diff := cmp.Diff(want, []pos{places[0], places[1], places[2], places[6], places[7]}); diff != "" {
		t.Errorf("places (-want +got):\n%s", diff)
	}
	// Chunks of 256, 512, 1024, 2048, 4096, 8192 bytes hold 2, 5, 10, 20,
	// 40, 81 records (158 in all); the other 42 go to a chunk of 16384.
	var caps []int
	for _, c := range l.chunks {
		caps = append(caps, cap(c))
	}
	if diff := cmp.Diff([]int{256, 512, 1024, 2048, 4096, 8192, 16384}, caps); diff != "" {
		t.Errorf("chunk capacities (-want +got):\n%s", diff)
	}
	for i, p := range places {
		if got := l.from(p)[:len(recs[i])]; !bytes.Equal(got, recs[i]) {
			t.Fatalf("record %d changed", i)
		}
	}
	n := 0
	for p, end := pos(0), l.end(); p != end; p = l.next(p, len(recs[n-1])) {
		if p != places[n] {
			t.Fatalf("walk: record %d at %#x, want %#x", n, p, places[n])
		}
		n++
	}
	if n != len(recs) {
		t.Fatalf("walk visited %d records, want %d", n, len(recs))
	}
	l.truncate(places[3])
	if got := l.end(); got != places[3] {
		t.Fatalf("after truncate the log ends at %#x, want %#x", got, places[3])
	}
	if p := l.add(recs[3]); p != places[3] {
		t.Fatalf("after truncate a record goes to %#x, want %#x", p, places[3])
	}
}

// TestLongRecord checks that a record longer than any chunk gets a chunk
// of its own size, and that the chunk after it is a 64 KiB one.
func TestLongRecord(t *testing.T) {
	var l log
	l.add(make([]byte, 10))
	p := l.add(make([]byte, 100_000))
	q := l.add(make([]byte, 10))
	if diff := cmp.Diff([]pos{place(1, 0), place(2, 0)}, []pos{p, q}); diff != "" {
		t.Errorf("places (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{256, 100_000, 65536}, []int{cap(l.chunks[0]), cap(l.chunks[1]), cap(l.chunks[2])}); diff != "" {
		t.Errorf("chunk capacities (-want +got):\n%s", diff)
	}
}

// TestLedgerSeek checks that seek starts at the last mark before the first
// entry at or after the time asked for, and at the start when the ledger
// is not in time order.
func TestLedgerSeek(t *testing.T) {
	var l ledger
	base := time.Date(2021, 3, 15, 0, 0, 0, 0, time.UTC)
	var places []pos
	for i := range 200 { // entry i at base + i s; marks at entries 0, 64, 128, 192
		places = append(places, l.end())
		l.add(make([]byte, 10), int64(i+1), base.Add(time.Duration(i)*time.Second))
	}
	for _, c := range []struct {
		from time.Time
		want pos
	}{
		{base, 0},
		{base.Add(64 * time.Second), places[0]},    // mark 64 is not before it
		{base.Add(65 * time.Second), places[64]},   // mark 64 is
		{base.Add(500 * time.Second), places[192]}, // after every entry
	} {
		if got := l.seek(c.from); got != c.want {
			t.Errorf("seek(+%v) = %#x, want %#x", c.from.Sub(base), got, c.want)
		}
	}
	if l.lastSeq != 200 || !l.lastAt.Equal(base.Add(199*time.Second)) || l.unsorted {
		t.Fatalf("last seq %d at %v, unsorted %v; want 200 at +199s, sorted", l.lastSeq, l.lastAt, l.unsorted)
	}
	l.add(make([]byte, 10), 201, base)
	if got := l.seek(base.Add(100 * time.Second)); !l.unsorted || got != 0 {
		t.Fatalf("unsorted ledger: seek = %#x, unsorted %v; want 0, true", got, l.unsorted)
	}
}

// TestEncoding checks that records decode to exactly what was encoded:
// times at the edges of time.Time in their zones, the zero Decimal
// apart from other zeros, long and empty strings, extreme integers, and
// the fields left out because they repeat others (the account's id, the
// meter key's service and tier, an entry's usage), with and without the
// repeat.
func TestEncoding(t *testing.T) {
	var s symtab
	var records log
	shanghai := time.FixedZone("UTC+8", 8*3600)
	times := []time.Time{
		{},
		time.Date(2021, 3, 15, 23, 59, 59, 999_999_999, shanghai),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.Local),
		time.Unix(math.MaxInt64/2, 0).UTC(),
		time.Unix(-math.MaxInt64/2, 5),
	}
	amounts := []decimal.Decimal{{}, decimal.Zero, decimal.New(0, -2), decimal.RequireFromString("-12345678901234567890.123456"), decimal.New(15, 3),
		decimal.New(1, -10_001), decimal.New(-7, math.MaxInt32), decimal.New(5, math.MinInt32)} // beyond what decimal's decoders accept
	for i, at := range times {
		u := billing.UsageRecord{
			Usage: billing.Usage{ID: strings.Repeat("é", i*100), Account: "acct", App: "", Service: billing.ServiceRecording,
				Scenario: billing.VideoCall, Tier: billing.TierHD, Seconds: math.MaxInt64 - int64(i), At: at},
			Receipt: billing.Receipt{Key: billing.MeterKey{Day: math.MinInt32, Service: billing.ServiceRecording, Tier: billing.TierHD},
				Minutes: math.MinInt64, Postpaid: int64(i), Shortfall: -1, PostpaidOn: i%2 == 0, Suspended: i%3 == 0},
		}
		account := "acct" // the account's id: Usage.Account repeats it in every other usage
		if i%2 == 1 {
			account = "another"
		}
		switch i % 3 { // the key repeats both, one or none of the usage's service and tier
		case 1:
			u.Receipt.Key.Service = billing.ServiceBasic
		case 2:
			u.Receipt.Key.Service, u.Receipt.Key.Tier = billing.ServiceBasic, billing.TierFHD
		}
		draws := []billing.Draw{{Package: "p1", Minutes: 3, Deducted: 12}, {Package: "", Minutes: math.MaxInt64, Deducted: 0}}[:i%3]
		b := s.encodeUsage(nil, &u, draws, account)
		p := records.add(b)
		if len(draws) > 0 {
			u.Receipt.Draws = draws
		}
		if diff := cmp.Diff(u, s.decodeUsage(b, account), cmp.Comparer(sameTime)); diff != "" {
			t.Errorf("usage %d (-want +got):\n%s", i, diff)
		}
		if got := string(usageID(b)); got != u.Usage.ID {
			t.Errorf("usageID = %q, want %q", got, u.Usage.ID)
		}
		// An entry about the usage, and one that differs from it in one field.
		about := billing.Entry{Seq: int64(i) + 1, At: times[len(times)-1-i], Kind: billing.EntryDeduction, Request: billing.RequestRecord,
			Ref: u.Usage.ID, Package: "p1", Balance: math.MinInt64, Key: u.Receipt.Key, Minutes: -5, App: u.Usage.App,
			Scenario: u.Usage.Scenario, Amount: amounts[i%len(amounts)]}
		other := about
		switch i % 4 {
		case 0:
			other.Ref += "x"
		case 1:
			other.Key.Day++
		case 2:
			other.App = "app"
		case 3:
			other.Scenario = billing.AudioCall
		}
		for _, c := range []struct {
			name  string
			e     billing.Entry
			about *pos
			want  bool // aboutUsage
		}{{"about the usage", about, &p, true}, {"not about it", other, nil, false}} {
			if got := aboutUsage(&c.e, &u); got != c.want {
				t.Errorf("entry %d %s: aboutUsage = %v, want %v", i, c.name, got, c.want)
			}
			b = s.encodeEntry(b[:0], &c.e, c.about)
			got, n := s.decodeEntry(append(b, 0xff), &records, account) // a byte of the next record
			if diff := cmp.Diff(c.e, got, cmp.Comparer(sameTime), cmp.Comparer(sameDecimal)); diff != "" {
				t.Errorf("entry %d %s (-want +got):\n%s", i, c.name, diff)
			}
			if n != len(b) {
				t.Errorf("entry %d %s: decoded %d bytes, want %d", i, c.name, n, len(b))
			}
		}
	}
}

// sameTime compares times as instants and by the zone name and offset they
// are in (the location itself may be another with that zone).
func sameTime(a, b time.Time) bool {
	an, ao := a.Zone()
	bn, bo := b.Zone()
	return a.Equal(b) && an == bn && ao == bo
}

// sameDecimal compares the coefficient and the exponent, and tells the zero
// Decimal from other zeros.
func sameDecimal(a, b decimal.Decimal) bool {
	return (a == decimal.Decimal{}) == (b == decimal.Decimal{}) && a.Exponent() == b.Exponent() && a.Coefficient().Cmp(b.Coefficient()) == 0
}

// TestLocations checks that times in one zone share one location number
// however many *time.Location values they come with (time.Parse and
// time.LoadLocation make a new one at every call), that zones with another
// name or offset get their own, and that each time reads back in its zone.
func TestLocations(t *testing.T) {
	var s symtab
	var times []time.Time
	for i := range 1000 { // as encoding/json parses them: a new location each time
		at, err := time.Parse(time.RFC3339, fmt.Sprintf("2021-03-15T09:%02d:00+05:30", i%60))
		if err != nil {
			t.Fatal(err)
		}
		times = append(times, at)
	}
	for _, month := range []time.Month{1, 7, 1, 7} { // a zone with daylight saving: CET, then CEST
		berlin, err := time.LoadLocation("Europe/Berlin")
		if err != nil {
			t.Fatal(err)
		}
		times = append(times, time.Date(2021, month, 1, 12, 0, 0, 0, berlin))
	}
	times = append(times, time.Date(2021, 3, 15, 9, 0, 0, 0, time.FixedZone("", 9*3600+1800)), time.Date(2021, 3, 15, 9, 0, 0, 0, time.UTC))
	for i, at := range times {
		b := s.encodeUsage(nil, &billing.UsageRecord{Usage: billing.Usage{ID: "u", At: at}}, nil, "")
		if got := s.decodeUsage(b, "").Usage.At; !sameTime(at, got) {
			t.Errorf("time %d: %v read back as %v", i, at, got)
		}
	}
	// +05:30, CET, CEST, +09:30, UTC.
	if len(s.locs) != 5 {
		t.Errorf("%d locations for 5 zones", len(s.locs))
	}
}

// TestStatics checks that static finds each string of statics at its index,
// and that strings one edit away from one (a byte more, a byte less, a byte
// changed, a letter's case) are not found unless they are statics too.
func TestStatics(t *testing.T) {
	index := make(map[string]int, len(statics))
	for i, s := range statics {
		index[s] = i
		if got := static(s); got != i {
			t.Errorf("static(%q) = %d, want %d", s, got, i)
		}
	}
	for _, s := range statics {
		near := []string{s + "x", "x" + s}
		if s != "" {
			last := len(s) - 1
			near = append(near, s[:last], s[1:],
				s[:last]+string(s[last]^1), string(s[0]^1)+s[1:],
				strings.ToUpper(s[:1])+s[1:])
		}
		for _, n := range near {
			want, ok := index[n]
			if !ok {
				want = -1
			}
			if got := static(n); got != want {
				t.Errorf("static(%q) = %d, want %d", n, got, want)
			}
		}
	}
}

// FuzzStatic checks that static finds no string outside statics: a string
// it finds is the one at the index it returns, and it reads back as itself.
func FuzzStatic(f *testing.F) {
	for _, s := range statics {
		f.Add(s)
		f.Add(s + "x")
	}
	f.Add("video")
	f.Fuzz(func(t *testing.T, s string) {
		if k := static(s); k >= 0 && statics[k] != s {
			t.Errorf("static(%q) = %d, the index of %q", s, k, statics[k])
		}
		var syms symtab
		e := enc{syms: &syms}
		e.sym(fieldApp, s)
		if got := (&dec{b: e.b, syms: &syms}).sym(); got != s {
			t.Errorf("%q reads back as %q", s, got)
		}
	})
}
