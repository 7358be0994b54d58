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

// TestMeterKeyAppsEncoding checks the encoding of the application of a
// meter key (in an account's Late and Unbilled lists and a checkpoint's
// meters) and of an absorption: written only if not empty, so that those
// written at schema version 11 (without it) read back with none, and one
// that names an application reads back with it.
func TestMeterKeyAppsEncoding(t *testing.T) {
	key := billing.MeterKey{Day: 18701, Service: billing.ServiceBasic, Tier: billing.TierHD}
	withApp := key
	withApp.App = "app-日本"
	opts := cmpopts.EquateEmpty()

	v11 := `[{"d": 18701, "s": "basic", "t": "hd"}]`
	if keys, err := decodeKeys(v11); err != nil || !cmp.Equal(keys, []billing.MeterKey{key}) {
		t.Errorf("decodeKeys(%s) = %+v, %v; want %+v", v11, keys, err, []billing.MeterKey{key})
	}
	keys := []billing.MeterKey{key, withApp}
	wantEnc := `[{"d":18701,"s":"basic","t":"hd"},{"d":18701,"s":"basic","t":"hd","a":"app-日本"}]`
	enc, err := encodeKeys(keys)
	if err != nil || enc != wantEnc {
		t.Errorf("encodeKeys(%+v) = %s, %v; want %s", keys, enc, err, wantEnc)
	}
	if back, err := decodeKeys(enc); err != nil || !cmp.Equal(back, keys) {
		t.Errorf("decodeKeys(%s) = %+v, %v; want %+v", enc, back, err, keys)
	}

	v11 = `[{"t": "hd", "s": 2, "p": 1, "d": 12}]`
	absorbed := []billing.Absorption{{Tier: billing.TierHD, Shortfall: 2, Postpaid: 1, Deducted: 12}}
	if as, err := decodeAbsorbed(v11); err != nil || !cmp.Equal(as, absorbed) {
		t.Errorf("decodeAbsorbed(%s) = %+v, %v; want %+v", v11, as, err, absorbed)
	}
	absorbed = append(absorbed, billing.Absorption{Tier: billing.TierSD, App: "app-日本", Postpaid: 3, Deducted: 9})
	wantEnc = `[{"t":"hd","s":2,"p":1,"d":12},{"t":"sd","a":"app-日本","s":0,"p":3,"d":9}]`
	if enc, err = encodeAbsorbed(absorbed); err != nil || enc != wantEnc {
		t.Errorf("encodeAbsorbed(%+v) = %s, %v; want %s", absorbed, enc, err, wantEnc)
	}
	if back, err := decodeAbsorbed(enc); err != nil || !cmp.Equal(back, absorbed) {
		t.Errorf("decodeAbsorbed(%s) = %+v, %v; want %+v", enc, back, err, absorbed)
	}

	meters := []billing.Meter{{Key: key, Seconds: 61, Prepaid: 2}, {Key: withApp, Seconds: 30, Postpaid: 1}}
	wantEnc = `[{"d":18701,"s":"basic","t":"hd","n":61,"pre":2,"post":0,"short":0},` +
		`{"d":18701,"s":"basic","t":"hd","a":"app-日本","n":30,"pre":0,"post":1,"short":0}]`
	if enc, err = encodeMeters(meters); err != nil || enc != wantEnc {
		t.Errorf("encodeMeters(%+v) = %s, %v; want %s", meters, enc, err, wantEnc)
	}
	if back, err := decodeMeters(enc); err != nil || !cmp.Equal(back, meters, opts) {
		t.Errorf("decodeMeters(%s) = %+v, %v; want %+v", enc, back, err, meters)
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

// TestAppsEncoding checks the encoding of an account's applications and
// of a checkpoint's: a switch and a status left out while zero, the lists
// while empty, a count while 0; every time to the nanosecond (the zero
// time too, which is not 1970); none as [], which reads back as nil, as
// the other lists do. It also decodes the shapes migration 0009 writes
// from a legacy account and checkpoint: the same shapes, nothing left out
// that it could leave out.
func TestAppsEncoding(t *testing.T) {
	at := time.Unix(1615766399, 999_999_999).UTC()
	legacy := billing.App{Created: at, Postpaid: billing.Postpaid{On: true, Since: at, Way: billing.PostpaidEnabled},
		Suspensions: []billing.Interval{{Since: time.Unix(0, 0).UTC(), Until: at}}}
	for _, tt := range []struct {
		apps []billing.App
		enc  string
	}{
		{nil, `[]`},
		{[]billing.App{}, `[]`},
		{[]billing.App{{ID: "app-日本"}}, `[{"i":"app-日本","c":-9223372036854775808,"e":-9223372036854775808}]`},
		{[]billing.App{legacy, {ID: "a", Created: at, Status: billing.Status{Suspended: true, Since: at, Reason: "why"},
			EnabledAt: time.Unix(0, 1).UTC(), Disabled: []billing.Interval{{Since: at}}}},
			`[{"i":"","c":1615766399999999999,"p":{"o":true,"s":1615766399999999999,"w":"enabled"},` +
				`"su":[{"s":0,"u":1615766399999999999}],"e":-9223372036854775808},` +
				`{"i":"a","c":1615766399999999999,"s":{"o":true,"s":1615766399999999999,"r":"why"},"e":1,` +
				`"d":[{"s":1615766399999999999,"u":-9223372036854775808}]}]`},
	} {
		enc, err := encodeApps(tt.apps)
		if err != nil || enc != tt.enc {
			t.Errorf("encodeApps(%+v) = %s, %v; want %s", tt.apps, enc, err, tt.enc)
		}
		want := tt.apps
		if len(want) == 0 {
			want = nil
		}
		if back, err := decodeApps(enc); err != nil || !cmp.Equal(back, want) {
			t.Errorf("decodeApps(%s) = %+v, %v; want %+v", enc, back, err, want)
		}
	}
	migrated := `[{"i": "", "c": 1615766399999999999, "p": {"o": true, "s": 1615766399999999999, "w": "enabled"},
		"s": {"o": false, "s": -9223372036854775808, "r": ""}, "su": [{"s": 0, "u": 1615766399999999999}],
		"e": -9223372036854775808, "d": []}]`
	if apps, err := decodeApps(migrated); err != nil || !cmp.Equal(apps, []billing.App{legacy}) {
		t.Errorf("decodeApps(%s) = %+v, %v; want %+v", migrated, apps, err, []billing.App{legacy})
	}
	if _, err := encodeApps([]billing.App{{Created: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)}}); err == nil {
		t.Error("encodeApps of an application created in 2300: no error")
	}

	states := []billing.AppState{{}, {Postpaid: legacy.Postpaid, Status: billing.Status{Suspended: true, Reason: "why"}, Suspensions: 3}}
	wantEnc := `[{},{"p":{"o":true,"s":1615766399999999999,"w":"enabled"},"s":{"o":true,"s":-9223372036854775808,"r":"why"},"su":3}]`
	if enc, err := encodeAppStates(states); err != nil || enc != wantEnc {
		t.Errorf("encodeAppStates(%+v) = %s, %v; want %s", states, enc, err, wantEnc)
	}
	if back, err := decodeAppStates(wantEnc); err != nil || !cmp.Equal(back, states) {
		t.Errorf("decodeAppStates(%s) = %+v, %v; want %+v", wantEnc, back, err, states)
	}
	if enc, err := encodeAppStates(nil); err != nil || enc != `[]` {
		t.Errorf("encodeAppStates(nil) = %s, %v; want []", enc, err)
	}
	if back, err := decodeAppStates(`[]`); err != nil || back != nil {
		t.Errorf("decodeAppStates([]) = %#v, %v; want nil", back, err)
	}
}

// FuzzDecode feeds arbitrary text to the decoders of the jsonb columns:
// never a panic; what decodes encodes back to the same values.
func FuzzDecode(f *testing.F) {
	f.Add(`[{"d": 18701, "s": "basic", "t": "hd"}]`)
	f.Add(`[{"d": 18701, "s": "basic", "t": "hd", "a": "app-日本"}, {"t": "hd", "a": "", "s": 2, "p": 1, "d": 12}]`)
	f.Add(`[{"p": "trial", "m": 9223372036854775807, "d": 4}]`)
	f.Add(`[{"t": "hd", "s": 2, "p": 1, "d": 12}]`)
	f.Add(`[{"s": -9223372036854775808, "u": 9223372036854775807}]`)
	f.Add(`[{"p": "trial", "b": 10000}]`)
	f.Add(`[{"d": 18701, "s": "basic", "t": "hd", "n": 61, "pre": 2, "settled": {"n": 0}}]`)
	f.Add(`[{"d": 18701, "s": "basic", "t": "hd", "n": 61, "short": 2, "settled": {"n": 61, "short": 2}, "unbilled": 2}]`)
	f.Add(`[{"d": 18701, "s": "basic", "t": "hd", "unbilled": -9223372036854775808}]`)
	f.Add(`["u2", "u-日本", ""]`)
	f.Add(`[{"i": "", "c": 1, "p": {"o": true, "s": 1, "w": "enabled"}, "su": [{"s": 0, "u": 1}], "e": -9223372036854775808}]`)
	f.Add(`[{"i": "a", "s": {"o": true, "s": -9223372036854775808, "r": "why"}, "d": [{"s": 1, "u": -9223372036854775808}]}]`)
	f.Add(`[{}, {"p": {"o": false, "s": -9223372036854775808, "w": ""}, "su": 3}]`)
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
		if apps, err := decodeApps(s); err == nil {
			enc, err := encodeApps(apps)
			if err != nil {
				t.Fatalf("encodeApps(%v): %v", apps, err)
			}
			if back, err := decodeApps(enc); err != nil || !cmp.Equal(apps, back, opts) {
				t.Fatalf("apps %v → %s → %v, %v", apps, enc, back, err)
			}
		}
		if ss, err := decodeAppStates(s); err == nil {
			enc, err := encodeAppStates(ss)
			if err != nil {
				t.Fatalf("encodeAppStates(%v): %v", ss, err)
			}
			if back, err := decodeAppStates(enc); err != nil || !cmp.Equal(ss, back, opts) {
				t.Fatalf("app states %v → %s → %v, %v", ss, enc, back, err)
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

// TestDayEncoding checks that the days of meter keys and of checkpoint
// meters are stored as their numbers, days since 1970-01-01, as before
// billing.Day wrote itself as a date in JSON: 2021-03-15 is 18701, and
// the first and last days are -719162 and 2932896.
func TestDayEncoding(t *testing.T) {
	tests := []struct {
		name                string
		day                 billing.Day
		wantKeys, wantMeter string
	}{
		{"2021-03-15", 18701, `[{"d":18701,"s":"basic","t":"hd"}]`,
			`[{"d":18701,"s":"basic","t":"hd","n":0,"pre":0,"post":0,"short":0}]`},
		{"MinDay", billing.MinDay, `[{"d":-719162,"s":"basic","t":"hd"}]`,
			`[{"d":-719162,"s":"basic","t":"hd","n":0,"pre":0,"post":0,"short":0}]`},
		{"MaxDay", billing.MaxDay, `[{"d":2932896,"s":"basic","t":"hd"}]`,
			`[{"d":2932896,"s":"basic","t":"hd","n":0,"pre":0,"post":0,"short":0}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := []billing.MeterKey{{Day: tt.day, Service: billing.ServiceBasic, Tier: billing.TierHD}}
			enc, err := encodeKeys(keys)
			if err != nil || enc != tt.wantKeys {
				t.Errorf("encodeKeys(%+v) = %s, %v; want %s", keys, enc, err, tt.wantKeys)
			}
			if back, err := decodeKeys(enc); err != nil || !cmp.Equal(back, keys) {
				t.Errorf("decodeKeys(%s) = %+v, %v; want %+v", enc, back, err, keys)
			}
			meters := []billing.Meter{{Key: keys[0]}}
			enc, err = encodeMeters(meters)
			if err != nil || enc != tt.wantMeter {
				t.Errorf("encodeMeters(%+v) = %s, %v; want %s", meters, enc, err, tt.wantMeter)
			}
			if back, err := decodeMeters(enc); err != nil || !cmp.Equal(back, meters) {
				t.Errorf("decodeMeters(%s) = %+v, %v; want %+v", enc, back, err, meters)
			}
		})
	}
}
