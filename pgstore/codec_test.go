package pgstore

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/rtcbill/billing"
)

// TestCheckpointMetersUnbilled checks the encoding of a checkpoint meter's
// Unbilled: written only if not zero, so that a checkpoint's meters as
// schema version 4 wrote them (without it) read back with Unbilled 0.
func TestCheckpointMetersUnbilled(t *testing.T) {
	key := billing.MeterKey{Day: 18701, Service: billing.ServiceBasic, Tier: billing.TierHD}
	settled := billing.Tally{Seconds: 61, Shortfall: 2}
	v4 := `[{"d": 18701, "s": "basic", "t": "hd", "n": 61, "pre": 0, "post": 0, "short": 2, "settled": {"n": 61, "pre": 0, "post": 0, "short": 2}}]`
	ms, err := decodeMeters(v4)
	want := []billing.Meter{{Key: key, Seconds: 61, Shortfall: 2, Settled: settled}}
	if err != nil || !cmp.Equal(ms, want) {
		t.Errorf("decodeMeters(%s) = %+v, %v; want %+v", v4, ms, err, want)
	}
	enc, err := encodeMeters(want)
	if wantEnc := `[{"d":18701,"s":"basic","t":"hd","n":61,"pre":0,"post":0,"short":2,"settled":{"n":61,"pre":0,"post":0,"short":2}}]`; err != nil || enc != wantEnc {
		t.Errorf("encodeMeters(%+v) = %s, %v; want %s", want, enc, err, wantEnc)
	}
	want[0].Unbilled = 2
	enc, err = encodeMeters(want)
	if wantEnc := `[{"d":18701,"s":"basic","t":"hd","n":61,"pre":0,"post":0,"short":2,"settled":{"n":61,"pre":0,"post":0,"short":2},"unbilled":2}]`; err != nil || enc != wantEnc {
		t.Errorf("encodeMeters(%+v) = %s, %v; want %s", want, enc, err, wantEnc)
	}
	if back, err := decodeMeters(enc); err != nil || !cmp.Equal(back, want) {
		t.Errorf("decodeMeters(%s) = %+v, %v; want %+v", enc, back, err, want)
	}
}

// TestCheckpointUsagesEncoding checks the encoding of a checkpoint's
// Usages: none as [] (the column's default, what checkpoints written at
// schema version 5 read as), which reads back as nil, as the other lists
// do; ids in the order given, byte for byte.
func TestCheckpointUsagesEncoding(t *testing.T) {
	for _, tt := range []struct {
		ids  []string
		enc  string
		back []string
	}{
		{nil, `[]`, nil},
		{[]string{}, `[]`, nil},
		{[]string{"u2", "u-日本", "a<b>&\u2028"}, `["u2","u-日本","a\u003cb\u003e\u0026\u2028"]`, []string{"u2", "u-日本", "a<b>&\u2028"}},
	} {
		enc, err := encodeIDs(tt.ids)
		if err != nil || enc != tt.enc {
			t.Errorf("encodeIDs(%q) = %s, %v; want %s", tt.ids, enc, err, tt.enc)
		}
		if back, err := decodeIDs(enc); err != nil || !cmp.Equal(back, tt.back) {
			t.Errorf("decodeIDs(%s) = %#v, %v; want %#v", enc, back, err, tt.back)
		}
	}
}

// FuzzDecode feeds arbitrary text to the decoders of the jsonb columns:
// never a panic; what decodes encodes back to the same values.
func FuzzDecode(f *testing.F) {
	f.Add(`[{"d": 18701, "s": "basic", "t": "hd"}]`)
	f.Add(`[{"p": "trial", "m": 9223372036854775807, "d": 4}]`)
	f.Add(`[{"t": "hd", "s": 2, "p": 1, "d": 12}]`)
	f.Add(`[{"s": -9223372036854775808, "u": 9223372036854775807}]`)
	f.Add(`[{"p": "trial", "b": 10000}]`)
	f.Add(`[{"d": 18701, "s": "basic", "t": "hd", "n": 61, "pre": 2, "settled": {"n": 0}}]`)
	f.Add(`[{"d": 18701, "s": "basic", "t": "hd", "n": 61, "short": 2, "settled": {"n": 61, "short": 2}, "unbilled": 2}]`)
	f.Add(`[{"d": 18701, "s": "basic", "t": "hd", "unbilled": -9223372036854775808}]`)
	f.Add(`["u2", "u-日本", ""]`)
	f.Add(`[{"m": 1e300}]`)
	f.Add(`null`)
	f.Add(`[`)
	f.Fuzz(func(t *testing.T, s string) {
		opts := cmpopts.EquateEmpty()
		if keys, err := decodeKeys(s); err == nil {
			enc, err := encodeKeys(keys)
			if err != nil {
				t.Fatalf("encodeKeys(%v): %v", keys, err)
			}
			if back, err := decodeKeys(enc); err != nil || !cmp.Equal(keys, back, opts) {
				t.Fatalf("keys %v → %s → %v, %v", keys, enc, back, err)
			}
		}
		if draws, err := decodeDraws(s); err == nil {
			enc, err := encodeDraws(draws)
			if err != nil {
				t.Fatalf("encodeDraws(%v): %v", draws, err)
			}
			if back, err := decodeDraws(enc); err != nil || !cmp.Equal(draws, back, opts) {
				t.Fatalf("draws %v → %s → %v, %v", draws, enc, back, err)
			}
		}
		if as, err := decodeAbsorbed(s); err == nil {
			enc, err := encodeAbsorbed(as)
			if err != nil {
				t.Fatalf("encodeAbsorbed(%v): %v", as, err)
			}
			if back, err := decodeAbsorbed(enc); err != nil || !cmp.Equal(as, back, opts) {
				t.Fatalf("absorbed %v → %s → %v, %v", as, enc, back, err)
			}
		}
		if is, err := decodeIntervals(s); err == nil {
			enc, err := encodeIntervals(is)
			if err != nil {
				t.Fatalf("encodeIntervals(%v): %v", is, err)
			}
			if back, err := decodeIntervals(enc); err != nil || !cmp.Equal(is, back, opts) {
				t.Fatalf("intervals %v → %s → %v, %v", is, enc, back, err)
			}
		}
		if bs, err := decodeBalances(s); err == nil {
			enc, err := encodeBalances(bs)
			if err != nil {
				t.Fatalf("encodeBalances(%v): %v", bs, err)
			}
			if back, err := decodeBalances(enc); err != nil || !cmp.Equal(bs, back, opts) {
				t.Fatalf("balances %v → %s → %v, %v", bs, enc, back, err)
			}
		}
		if ms, err := decodeMeters(s); err == nil {
			enc, err := encodeMeters(ms)
			if err != nil {
				t.Fatalf("encodeMeters(%v): %v", ms, err)
			}
			if back, err := decodeMeters(enc); err != nil || !cmp.Equal(ms, back, opts) {
				t.Fatalf("meters %v → %s → %v, %v", ms, enc, back, err)
			}
		}
		if ids, err := decodeIDs(s); err == nil {
			enc, err := encodeIDs(ids)
			if err != nil {
				t.Fatalf("encodeIDs(%q): %v", ids, err)
			}
			if back, err := decodeIDs(enc); err != nil || !cmp.Equal(ids, back) {
				t.Fatalf("ids %q → %s → %q, %v", ids, enc, back, err)
			}
		}
		if d, err := dec(s); err == nil && d.String() != "" {
			if back, err := dec(d.String()); err != nil || !back.Equal(d) {
				t.Fatalf("numeric %s → %s → %v, %v", s, d, back, err)
			}
		}
	})
}

// FuzzNanos checks the time encoding: exact within its range, refused outside.
func FuzzNanos(f *testing.F) {
	f.Add(int64(1615766399), int64(999_999_999))
	f.Add(int64(-62135596800), int64(0))
	f.Add(int64(9223372036), int64(854775807))
	f.Fuzz(func(t *testing.T, sec, nsec int64) {
		tm := time.Unix(sec, nsec)
		n, err := nanos(tm)
		if err != nil {
			return
		}
		if back := fromNanos(n); !back.Equal(tm) {
			t.Fatalf("%v → %d → %v", tm, n, back)
		}
		if b := bound(tm); b != n {
			t.Fatalf("bound(%v) = %d, nanos %d", tm, b, n)
		}
	})
}
