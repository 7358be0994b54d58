package pgstore

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/rtcbill/billing"
	"github.com/shopspring/decimal"
)

// zeroTime stands for the zero time.Time: it sorts before every other time.
const zeroTime = math.MinInt64

// nanos encodes t as nanoseconds since 1970 UTC, or an error if it cannot be.
func nanos(t time.Time) (int64, error) {
	if t.IsZero() {
		return zeroTime, nil
	}
	n := t.UnixNano()
	if n == zeroTime || !time.Unix(0, n).Equal(t) {
		return 0, fmt.Errorf("pgstore: time %v is outside the years 1678 to 2262", t)
	}
	return n, nil
}

// bound encodes a bound of a period: as nanos does, but clamped to the
// representable times, which is exact for comparisons with stored times.
func bound(t time.Time) int64 {
	switch {
	case t.IsZero():
		return zeroTime
	case t.Before(minTime):
		return zeroTime + 1
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// The representable times.
var (
	minTime = time.Unix(0, zeroTime+1)
	maxTime = time.Unix(0, math.MaxInt64)
)

// fromNanos decodes nanos' encoding, in UTC.
func fromNanos(n int64) time.Time {
	if n == zeroTime {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// dec parses NUMERIC text.
func dec(s string) (decimal.Decimal, error) {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("pgstore: numeric %q: %w", s, err)
	}
	return d, nil
}

// The JSON shapes of the small lists stored in jsonb columns. Their numbers
// are integers, exact in jsonb and decoded into int64 exactly.
type (
	jsonKey struct {
		D billing.Day     `json:"d"`
		S billing.Service `json:"s"`
		T billing.Tier    `json:"t"`
	}
	jsonDraw struct {
		P string `json:"p"`
		M int64  `json:"m"`
		D int64  `json:"d"`
	}
	jsonAbsorption struct {
		T billing.Tier `json:"t"`
		S int64        `json:"s"`
		P int64        `json:"p"`
		D int64        `json:"d"`
	}
)

func encodeKeys(keys []billing.MeterKey) (string, error) {
	js := make([]jsonKey, len(keys))
	for i, k := range keys {
		js[i] = jsonKey{k.Day, k.Service, k.Tier}
	}
	return encode(js)
}

func decodeKeys(s string) ([]billing.MeterKey, error) {
	var js []jsonKey
	if err := json.Unmarshal([]byte(s), &js); err != nil {
		return nil, fmt.Errorf("pgstore: late: %w", err)
	}
	var keys []billing.MeterKey
	for _, k := range js {
		keys = append(keys, billing.MeterKey{Day: k.D, Service: k.S, Tier: k.T})
	}
	return keys, nil
}

func encodeDraws(ds []billing.Draw) (string, error) {
	js := make([]jsonDraw, len(ds))
	for i, d := range ds {
		js[i] = jsonDraw{d.Package, d.Minutes, d.Deducted}
	}
	return encode(js)
}

func decodeDraws(s string) ([]billing.Draw, error) {
	var js []jsonDraw
	if err := json.Unmarshal([]byte(s), &js); err != nil {
		return nil, fmt.Errorf("pgstore: draws: %w", err)
	}
	var ds []billing.Draw
	for _, d := range js {
		ds = append(ds, billing.Draw{Package: d.P, Minutes: d.M, Deducted: d.D})
	}
	return ds, nil
}

func encodeAbsorbed(as []billing.Absorption) (string, error) {
	js := make([]jsonAbsorption, len(as))
	for i, a := range as {
		js[i] = jsonAbsorption{a.Tier, a.Shortfall, a.Postpaid, a.Deducted}
	}
	return encode(js)
}

func decodeAbsorbed(s string) ([]billing.Absorption, error) {
	var js []jsonAbsorption
	if err := json.Unmarshal([]byte(s), &js); err != nil {
		return nil, fmt.Errorf("pgstore: absorbed: %w", err)
	}
	var as []billing.Absorption
	for _, a := range js {
		as = append(as, billing.Absorption{Tier: a.T, Shortfall: a.S, Postpaid: a.P, Deducted: a.D})
	}
	return as, nil
}

func encode(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
