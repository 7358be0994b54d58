package sqlitestore

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/rtcbill/billing"
	"github.com/shopspring/decimal"
)

// zeroTime stands for the zero time.Time: it sorts before every other time.
const zeroTime = math.MinInt64

// The representable times: those of nanos.
var (
	minTime = time.Unix(0, zeroTime+1)
	maxTime = time.Unix(0, math.MaxInt64)
)

// nanos encodes t as nanoseconds since 1970 UTC, or an error if it cannot be
// (a time outside the years 1678 to 2262).
func nanos(t time.Time) (int64, error) {
	if t.IsZero() {
		return zeroTime, nil
	}
	n := t.UnixNano()
	if n == zeroTime || !time.Unix(0, n).Equal(t) {
		return 0, fmt.Errorf("sqlitestore: time %v is outside the years 1678 to 2262", t)
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

// keyBound encodes k for comparisons with stored checkpoint keys: as nanos
// does, but a time outside the representable ones as a key between the
// stored keys before it and those after it (a class no OpKey has).
func keyBound(k billing.OpKey) (int64, int64, string) {
	switch {
	case k.At.IsZero():
	case k.At.Before(minTime):
		return zeroTime + 1, math.MinInt64, ""
	case k.At.After(maxTime):
		return math.MaxInt64, math.MaxInt64, ""
	}
	return bound(k.At), int64(k.Class), k.ID
}

// fromNanos decodes nanos' encoding, in UTC.
func fromNanos(n int64) time.Time {
	if n == zeroTime {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// dec parses decimal text.
func dec(s string) (decimal.Decimal, error) {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("sqlitestore: decimal %q: %w", s, err)
	}
	return d, nil
}

// The bits of a usage record's flags (see encodeUsage): a receipt's flags. Append only: a bit's
// meaning never changes.
const (
	flagPostpaidOn = 1 << iota
	flagSuspended
	flagWhileSuspended
	flagLate
	flagAppDisabled
	flagNoBasicService
	flagInArrears
)

// usageFlags encodes rc's flags.
func usageFlags(rc *billing.Receipt) int64 {
	var f int64
	for bit, on := range []bool{rc.PostpaidOn, rc.Suspended, rc.WhileSuspended, rc.Late, rc.AppDisabled, rc.NoBasicService, rc.InArrears} {
		if on {
			f |= 1 << bit
		}
	}
	return f
}

// setFlags decodes usageFlags' encoding into rc.
func setFlags(rc *billing.Receipt, f int64) {
	rc.PostpaidOn, rc.Suspended, rc.WhileSuspended = f&flagPostpaidOn != 0, f&flagSuspended != 0, f&flagWhileSuspended != 0
	rc.Late, rc.AppDisabled, rc.NoBasicService, rc.InArrears = f&flagLate != 0, f&flagAppDisabled != 0, f&flagNoBasicService != 0,
		f&flagInArrears != 0
}

// The JSON shapes of the small lists stored in TEXT columns. Their field
// names are short and fixed; their numbers are integers, decoded into
// int64 exactly; their amounts are decimal strings; their times nanos'
// encoding (which keeps the zero time and every nanosecond). Days are
// int32 and labels plain strings, never the billing types themselves, so
// that a marshaler those types gain cannot change what is stored.
type (
	jsonKey struct {
		D int32  `json:"d"`
		S string `json:"s"`
		T string `json:"t"`
		A string `json:"a,omitempty"`
	}
	jsonAbsorption struct {
		T string `json:"t"`
		A string `json:"a,omitempty"`
		S int64  `json:"s"`
		P int64  `json:"p"`
		D int64  `json:"d"`
	}
	jsonInterval struct {
		S int64 `json:"s"`
		U int64 `json:"u"`
	}
	jsonArrears struct {
		R []string `json:"r"`
		S int64    `json:"s"`
		P int64    `json:"p"`
		F int64    `json:"f"`
	}
	jsonRefund struct {
		I string `json:"i"`
		P string `json:"p"`
		A int64  `json:"a"`
		F bool   `json:"f,omitempty"`
		M int64  `json:"m"`
		C int64  `json:"c"`
		U string `json:"u"`
		D string `json:"d"`
		S string `json:"s"`
		X string `json:"x"`
	}
	// An application: its switch and status are left out while zero (off,
	// active), its lists while empty.
	jsonApp struct {
		I  string         `json:"i"`
		C  int64          `json:"c"`
		P  *jsonPostpaid  `json:"p,omitempty"`
		S  *jsonStatus    `json:"s,omitempty"`
		Su []jsonInterval `json:"su,omitempty"`
		E  int64          `json:"e"`
		D  []jsonInterval `json:"d,omitempty"`
	}
	jsonAppState struct {
		P  *jsonPostpaid `json:"p,omitempty"`
		S  *jsonStatus   `json:"s,omitempty"`
		Su int64         `json:"su,omitempty"`
	}
	jsonPostpaid struct {
		O bool   `json:"o"`
		S int64  `json:"s"`
		W string `json:"w"`
	}
	jsonStatus struct {
		O bool   `json:"o"`
		S int64  `json:"s"`
		R string `json:"r"`
	}
	jsonBalance struct {
		P string `json:"p"`
		B int64  `json:"b"`
	}
	// A checkpoint's meter: what is zero is left out.
	jsonMeter struct {
		D        int32      `json:"d"`
		S        string     `json:"s"`
		T        string     `json:"t"`
		A        string     `json:"a,omitempty"`
		N        int64      `json:"n,omitempty"`
		Pre      int64      `json:"pre,omitempty"`
		Post     int64      `json:"post,omitempty"`
		Short    int64      `json:"short,omitempty"`
		Settled  *jsonTally `json:"settled,omitempty"`
		Unbilled int64      `json:"unbilled,omitempty"`
		Latest   int32      `json:"latest,omitempty"`
		EP       int64      `json:"ep,omitempty"`
		ES       int64      `json:"es,omitempty"`
	}
	jsonTally struct {
		N     int64 `json:"n"`
		Pre   int64 `json:"pre"`
		Post  int64 `json:"post"`
		Short int64 `json:"short"`
	}
	// A bill's line.
	jsonLine struct {
		D     int32  `json:"d"`
		S     string `json:"s"`
		T     string `json:"t"`
		A     string `json:"a,omitempty"`
		J     bool   `json:"j,omitempty"` // an adjustment
		N     int64  `json:"n"`
		M     int64  `json:"m"`
		Pre   int64  `json:"pre"`
		Post  int64  `json:"post"`
		Short int64  `json:"short"`
		Def   int64  `json:"def,omitempty"`
		B     int64  `json:"b"`
		U     string `json:"u"`
		X     string `json:"x"`
	}
)

func encodeKeys(keys []billing.MeterKey) (string, error) {
	js := make([]jsonKey, len(keys))
	for i, k := range keys {
		js[i] = jsonKey{int32(k.Day), string(k.Service), string(k.Tier), k.App}
	}
	return encode(js)
}

func decodeKeys(s string) ([]billing.MeterKey, error) {
	var js []jsonKey
	if err := json.Unmarshal([]byte(s), &js); err != nil {
		return nil, fmt.Errorf("sqlitestore: meter keys: %w", err)
	}
	var keys []billing.MeterKey
	for _, k := range js {
		keys = append(keys, billing.MeterKey{Day: billing.Day(k.D), Service: billing.Service(k.S), Tier: billing.Tier(k.T), App: k.A})
	}
	return keys, nil
}

func encodeAbsorbed(as []billing.Absorption) (string, error) {
	js := make([]jsonAbsorption, len(as))
	for i, a := range as {
		js[i] = jsonAbsorption{string(a.Tier), a.App, a.Shortfall, a.Postpaid, a.Deducted}
	}
	return encode(js)
}

func decodeAbsorbed(s string) ([]billing.Absorption, error) {
	var js []jsonAbsorption
	if err := json.Unmarshal([]byte(s), &js); err != nil {
		return nil, fmt.Errorf("sqlitestore: absorbed: %w", err)
	}
	var as []billing.Absorption
	for _, a := range js {
		as = append(as, billing.Absorption{Tier: billing.Tier(a.T), App: a.A, Shortfall: a.S, Postpaid: a.P, Deducted: a.D})
	}
	return as, nil
}

// toIntervals encodes is; none as nil.
func toIntervals(is []billing.Interval) ([]jsonInterval, error) {
	var js []jsonInterval
	for _, in := range is {
		s, err1 := nanos(in.Since)
		u, err2 := nanos(in.Until)
		if err := firstErr(err1, err2); err != nil {
			return nil, err
		}
		js = append(js, jsonInterval{s, u})
	}
	return js, nil
}

// fromIntervals decodes toIntervals' encoding; none as nil.
func fromIntervals(js []jsonInterval) []billing.Interval {
	var is []billing.Interval
	for _, in := range js {
		is = append(is, billing.Interval{Since: fromNanos(in.S), Until: fromNanos(in.U)})
	}
	return is
}

// toPostpaid encodes a switch; nil if it is zero (off).
func toPostpaid(p billing.Postpaid) (*jsonPostpaid, error) {
	if p == (billing.Postpaid{}) {
		return nil, nil
	}
	since, err := nanos(p.Since)
	if err != nil {
		return nil, err
	}
	return &jsonPostpaid{p.On, since, string(p.Way)}, nil
}

// postpaid decodes toPostpaid's encoding.
func (j *jsonPostpaid) postpaid() billing.Postpaid {
	if j == nil {
		return billing.Postpaid{}
	}
	return billing.Postpaid{On: j.O, Since: fromNanos(j.S), Way: billing.PostpaidWay(j.W)}
}

// toStatus encodes a status; nil if it is zero (active).
func toStatus(s billing.Status) (*jsonStatus, error) {
	if s == (billing.Status{}) {
		return nil, nil
	}
	since, err := nanos(s.Since)
	if err != nil {
		return nil, err
	}
	return &jsonStatus{s.Suspended, since, s.Reason}, nil
}

// status decodes toStatus's encoding.
func (j *jsonStatus) status() billing.Status {
	if j == nil {
		return billing.Status{}
	}
	return billing.Status{Suspended: j.O, Since: fromNanos(j.S), Reason: j.R}
}

func encodeApps(apps []billing.App) (string, error) {
	js := make([]jsonApp, len(apps))
	for i, p := range apps {
		j := &js[i]
		j.I = p.ID
		var errs [6]error
		j.C, errs[0] = nanos(p.Created)
		j.P, errs[1] = toPostpaid(p.Postpaid)
		j.S, errs[2] = toStatus(p.Status)
		j.Su, errs[3] = toIntervals(p.Suspensions)
		j.E, errs[4] = nanos(p.EnabledAt)
		j.D, errs[5] = toIntervals(p.Disabled)
		if err := firstErr(errs[:]...); err != nil {
			return "", err
		}
	}
	return encode(js)
}

func decodeApps(s string) ([]billing.App, error) {
	var js []jsonApp
	if err := json.Unmarshal([]byte(s), &js); err != nil {
		return nil, fmt.Errorf("sqlitestore: apps: %w", err)
	}
	var apps []billing.App
	for _, j := range js {
		apps = append(apps, billing.App{ID: j.I, Created: fromNanos(j.C), Postpaid: j.P.postpaid(), Status: j.S.status(),
			Suspensions: fromIntervals(j.Su), EnabledAt: fromNanos(j.E), Disabled: fromIntervals(j.D)})
	}
	return apps, nil
}

func encodeAppStates(ss []billing.AppState) (string, error) {
	js := make([]jsonAppState, len(ss))
	for i, s := range ss {
		var err1, err2 error
		js[i].P, err1 = toPostpaid(s.Postpaid)
		js[i].S, err2 = toStatus(s.Status)
		js[i].Su = int64(s.Suspensions)
		if err := firstErr(err1, err2); err != nil {
			return "", err
		}
	}
	return encode(js)
}

func decodeAppStates(s string) ([]billing.AppState, error) {
	var js []jsonAppState
	if err := json.Unmarshal([]byte(s), &js); err != nil {
		return nil, fmt.Errorf("sqlitestore: checkpoint apps: %w", err)
	}
	var ss []billing.AppState
	for _, j := range js {
		ss = append(ss, billing.AppState{Postpaid: j.P.postpaid(), Status: j.S.status(), Suspensions: int(j.Su)})
	}
	return ss, nil
}

func encodeArrears(as []billing.Arrears) (string, error) {
	js := make([]jsonArrears, len(as))
	for i, a := range as {
		var err1, err2, err3 error
		js[i].R = a.Refs
		js[i].S, err1 = nanos(a.Since)
		js[i].P, err2 = nanos(a.Paid)
		js[i].F, err3 = nanos(a.Reclaim)
		if err := firstErr(err1, err2, err3); err != nil {
			return "", err
		}
	}
	return encode(js)
}

func decodeArrears(s string) ([]billing.Arrears, error) {
	var js []jsonArrears
	if err := json.Unmarshal([]byte(s), &js); err != nil {
		return nil, fmt.Errorf("sqlitestore: arrears: %w", err)
	}
	var as []billing.Arrears
	for _, a := range js {
		as = append(as, billing.Arrears{Refs: a.R, Since: fromNanos(a.S), Paid: fromNanos(a.P), Reclaim: fromNanos(a.F)})
	}
	return as, nil
}

func encodeRefunds(rs []billing.PackageRefund) (string, error) {
	js := make([]jsonRefund, len(rs))
	for i, r := range rs {
		at, err := nanos(r.At)
		if err != nil {
			return "", err
		}
		js[i] = jsonRefund{I: r.ID, P: r.Package, A: at, F: r.Full, M: r.Minutes, C: r.Consumed,
			U: r.UnitPrice.String(), D: r.Discount.String(), S: r.Used.String(), X: r.Amount.String()}
	}
	return encode(js)
}

func decodeRefunds(s string) ([]billing.PackageRefund, error) {
	var js []jsonRefund
	if err := json.Unmarshal([]byte(s), &js); err != nil {
		return nil, fmt.Errorf("sqlitestore: refunds: %w", err)
	}
	var rs []billing.PackageRefund
	for _, j := range js {
		r := billing.PackageRefund{ID: j.I, Package: j.P, At: fromNanos(j.A), Full: j.F, Minutes: j.M, Consumed: j.C}
		var errs [4]error
		r.UnitPrice, errs[0] = dec(j.U)
		r.Discount, errs[1] = dec(j.D)
		r.Used, errs[2] = dec(j.S)
		r.Amount, errs[3] = dec(j.X)
		if err := firstErr(errs[:]...); err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, nil
}

func encodeBalances(bs []billing.Balance) (string, error) {
	js := make([]jsonBalance, len(bs))
	for i, b := range bs {
		js[i] = jsonBalance{b.Package, b.Balance}
	}
	return encode(js)
}

func decodeBalances(s string) ([]billing.Balance, error) {
	var js []jsonBalance
	if err := json.Unmarshal([]byte(s), &js); err != nil {
		return nil, fmt.Errorf("sqlitestore: balances: %w", err)
	}
	var bs []billing.Balance
	for _, b := range js {
		bs = append(bs, billing.Balance{Package: b.P, Balance: b.B})
	}
	return bs, nil
}

func encodeMeters(ms []billing.Meter) (string, error) {
	js := make([]jsonMeter, len(ms))
	for i, m := range ms {
		js[i] = jsonMeter{D: int32(m.Key.Day), S: string(m.Key.Service), T: string(m.Key.Tier), A: m.Key.App,
			N: m.Seconds, Pre: m.Prepaid, Post: m.Postpaid, Short: m.Shortfall, Unbilled: m.Unbilled,
			Latest: m.Latest, EP: m.EarlierPostpaid, ES: m.EarlierShortfall}
		if s := m.Settled; s != (billing.Tally{}) {
			js[i].Settled = &jsonTally{s.Seconds, s.Prepaid, s.Postpaid, s.Shortfall}
		}
	}
	return encode(js)
}

func decodeMeters(s string) ([]billing.Meter, error) {
	var js []jsonMeter
	if err := json.Unmarshal([]byte(s), &js); err != nil {
		return nil, fmt.Errorf("sqlitestore: checkpoint meters: %w", err)
	}
	var ms []billing.Meter
	for _, j := range js {
		m := billing.Meter{Key: billing.MeterKey{Day: billing.Day(j.D), Service: billing.Service(j.S), Tier: billing.Tier(j.T), App: j.A},
			Seconds: j.N, Prepaid: j.Pre, Postpaid: j.Post, Shortfall: j.Short, Unbilled: j.Unbilled,
			Latest: j.Latest, EarlierPostpaid: j.EP, EarlierShortfall: j.ES}
		if st := j.Settled; st != nil {
			m.Settled = billing.Tally{Seconds: st.N, Prepaid: st.Pre, Postpaid: st.Post, Shortfall: st.Short}
		}
		ms = append(ms, m)
	}
	return ms, nil
}

func encodeLines(ls []billing.Line) (string, error) {
	js := make([]jsonLine, len(ls))
	for i, l := range ls {
		js[i] = jsonLine{D: int32(l.Day), S: string(l.Service), T: string(l.Tier), A: l.App, J: l.Adjustment, N: l.Seconds, M: l.Minutes,
			Pre: l.Prepaid, Post: l.Postpaid, Short: l.Shortfall, Def: l.Deferred, B: l.Billed, U: l.UnitPrice.String(), X: l.Amount.String()}
	}
	return encode(js)
}

func decodeLines(s string) ([]billing.Line, error) {
	var js []jsonLine
	if err := json.Unmarshal([]byte(s), &js); err != nil {
		return nil, fmt.Errorf("sqlitestore: bill lines: %w", err)
	}
	var ls []billing.Line
	for _, j := range js {
		l := billing.Line{Day: billing.Day(j.D), Service: billing.Service(j.S), Tier: billing.Tier(j.T), App: j.A, Adjustment: j.J,
			Seconds: j.N, Minutes: j.M, Prepaid: j.Pre, Postpaid: j.Post, Shortfall: j.Short, Deferred: j.Def, Billed: j.B}
		var err1, err2 error
		l.UnitPrice, err1 = dec(j.U)
		l.Amount, err2 = dec(j.X)
		if err := firstErr(err1, err2); err != nil {
			return nil, err
		}
		ls = append(ls, l)
	}
	return ls, nil
}

// decodeIDs decodes a checkpoint's usage ids; none reads as nil.
func decodeIDs(s string) ([]string, error) {
	var ids []string
	if err := json.Unmarshal([]byte(s), &ids); err != nil {
		return nil, fmt.Errorf("sqlitestore: checkpoint usages: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return ids, nil
}

// encode marshals v, a slice: nil as [], not null.
func encode[T any](v []T) (string, error) {
	if v == nil {
		v = []T{}
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// cloneApps returns a copy of apps that shares no memory with it.
func cloneApps(apps []billing.App) []billing.App {
	apps = slices.Clone(apps)
	for i := range apps {
		apps[i].Suspensions, apps[i].Disabled = slices.Clone(apps[i].Suspensions), slices.Clone(apps[i].Disabled)
	}
	return apps
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// A ledger run is the ledger entries of one unit of work, in Seq order,
// stored as one BLOB: each entry's fields one after another, integers as
// varints (encoding/binary) and strings as their length (a uvarint) and
// their bytes, exactly as they are (any bytes, not only UTF-8). In order:
// Seq, At (nanos' encoding), Kind, Request, Ref, Package, Balance, the
// key's day, service, tier and application, Minutes, App, Scenario, and
// Amount as decimal text.

// encodeRun encodes es, at least one, as a ledger run, and returns it with
// the earliest and latest of their times, in nanos' encoding.
func encodeRun(es []billing.Entry) (run []byte, minAt, maxAt int64, err error) {
	b := make([]byte, 0, 96*len(es)) // about an entry's size: few reallocations
	minAt, maxAt = math.MaxInt64, math.MinInt64
	for i := range es {
		e := &es[i]
		at, err := nanos(e.At)
		if err != nil {
			return nil, 0, 0, err
		}
		minAt, maxAt = min(minAt, at), max(maxAt, at)
		b = binary.AppendVarint(b, e.Seq)
		b = binary.AppendVarint(b, at)
		b = appendStrings(b, string(e.Kind), string(e.Request), e.Ref, e.Package)
		b = binary.AppendVarint(b, e.Balance)
		b = binary.AppendVarint(b, int64(e.Key.Day))
		b = appendStrings(b, string(e.Key.Service), string(e.Key.Tier), e.Key.App)
		b = binary.AppendVarint(b, e.Minutes)
		b = appendStrings(b, e.App, string(e.Scenario), e.Amount.String())
	}
	return b, minAt, maxAt, nil
}

// appendStrings appends each of ss to b, its length first.
func appendStrings(b []byte, ss ...string) []byte {
	for _, s := range ss {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

// decodeRun decodes encodeRun's encoding.
func decodeRun(b []byte) ([]billing.Entry, error) {
	d := decoder{b: b, what: "ledger run"}
	var es []billing.Entry
	for len(d.b) > 0 && d.err == nil {
		var e billing.Entry
		e.Seq = d.int()
		e.At = fromNanos(d.int())
		e.Kind, e.Request, e.Ref, e.Package = billing.EntryKind(d.string()), billing.Request(d.string()), d.string(), d.string()
		e.Balance = d.int()
		e.Key.Day = billing.Day(d.int())
		e.Key.Service, e.Key.Tier, e.Key.App = billing.Service(d.string()), billing.Tier(d.string()), d.string()
		e.Minutes = d.int()
		e.App, e.Scenario = d.string(), billing.Scenario(d.string())
		amount := d.string()
		if d.err != nil {
			break
		}
		var err error
		if e.Amount, err = dec(amount); err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	if d.err != nil {
		return nil, d.err
	}
	return es, nil
}

// decoder reads the integers and strings of a binary encoding (a ledger
// run, a usage record), what it is. Once one cannot be read, err says so
// and the rest read as zero.
type decoder struct {
	b    []byte
	what string
	err  error
}

func (d *decoder) int() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = fmt.Errorf("sqlitestore: %s: bad integer", d.what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	if d.err != nil {
		return ""
	}
	l, n := binary.Uvarint(d.b)
	if n <= 0 || l > uint64(len(d.b)-n) {
		d.err = fmt.Errorf("sqlitestore: %s: bad string", d.what)
		return ""
	}
	s := string(d.b[n : n+int(l)])
	d.b = d.b[n+int(l):]
	return s
}

// A usage record is stored as its account, id and time, each a column of
// its own (the keys of the usages table and of its index usages_at), and
// one BLOB of the rest, in the encoding of a ledger run: App, Service,
// Scenario, Tier, Seconds, then the receipt's key (day, service, tier,
// application), Minutes, Postpaid, Shortfall, flags (usageFlags), the
// number of draws, and each draw's Package, Minutes and Deducted.

// encodeUsage encodes u's fields other than its account, id and time, and
// its receipt rc, appending them to b.
func encodeUsage(b []byte, u *billing.Usage, rc *billing.Receipt) []byte {
	b = appendStrings(b, u.App, string(u.Service), string(u.Scenario), string(u.Tier))
	b = binary.AppendVarint(b, u.Seconds)
	b = binary.AppendVarint(b, int64(rc.Key.Day))
	b = appendStrings(b, string(rc.Key.Service), string(rc.Key.Tier), rc.Key.App)
	for _, n := range []int64{rc.Minutes, rc.Postpaid, rc.Shortfall, usageFlags(rc), int64(len(rc.Draws))} {
		b = binary.AppendVarint(b, n)
	}
	for _, d := range rc.Draws {
		b = appendStrings(b, d.Package)
		b = binary.AppendVarint(b, d.Minutes)
		b = binary.AppendVarint(b, d.Deducted)
	}
	return b
}

// decodeUsage decodes encodeUsage's encoding into u and rc: no draws as
// nil.
func decodeUsage(b []byte, u *billing.Usage, rc *billing.Receipt) error {
	d := decoder{b: b, what: "usage record"}
	u.App, u.Service, u.Scenario, u.Tier = d.string(), billing.Service(d.string()), billing.Scenario(d.string()), billing.Tier(d.string())
	u.Seconds = d.int()
	rc.Key.Day = billing.Day(d.int())
	rc.Key.Service, rc.Key.Tier, rc.Key.App = billing.Service(d.string()), billing.Tier(d.string()), d.string()
	rc.Minutes, rc.Postpaid, rc.Shortfall = d.int(), d.int(), d.int()
	setFlags(rc, d.int())
	n := d.int()
	if d.err == nil && (n < 0 || n > int64(len(d.b))) { // a draw takes 3 bytes at least
		d.err = errors.New("sqlitestore: usage record: bad number of draws")
	}
	for i := int64(0); i < n && d.err == nil; i++ {
		rc.Draws = append(rc.Draws, billing.Draw{Package: d.string(), Minutes: d.int(), Deducted: d.int()})
	}
	if d.err == nil && len(d.b) > 0 {
		d.err = errors.New("sqlitestore: usage record: bytes after its end")
	}
	return d.err
}
