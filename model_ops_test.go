package billing_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the DST zones below, whatever the machine has

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/memstore"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

// TestModel runs random sequences of operations against the Engine and the
// reference model of model_test.go, and compares everything after each step.
func TestModel(t *testing.T) {
	refStats = map[string]int{}
	defer func() {
		keys := slices.Sorted(maps.Keys(refStats))
		for _, k := range keys {
			t.Logf("%-28s %d", k, refStats[k])
		}
	}()
	rapid.Check(t, func(rt *rapid.T) {
		refStats["sequences"]++
		r := newRefRun(rt)
		// Keys repeat an operation to weight it: rapid picks keys uniformly.
		actions := map[string]func(*rapid.T){
			"open":           r.opOpen,
			"buy":            r.opBuy,
			"buy2":           r.opBuy,
			"recordBasic":    r.opRecordBasic,
			"recordBasic2":   r.opRecordBasic,
			"recordBasic3":   r.opRecordBasic,
			"recordBasic4":   r.opRecordBasic,
			"recordValue":    r.opRecordValueAdded,
			"recordInvalid":  r.opRecordInvalid,
			"recordBatch":    r.opRecordBatch,
			"replay":         r.opReplay,
			"enablePostpaid": r.opEnablePostpaid,
			"createApp":      r.opCreateApp,
			"toggleApp":      r.opToggleApp,
			"reportOverdue":  r.opReportOverdue,
			"reportPaid":     r.opReportPaid,
			"jumpReclaim":    r.opJumpNearReclaim,
			"refund":         r.opRefund,
			"refund2":        r.opSettleAndRefund,
			"refund3":        r.opSettleAndRefund,
			"admit":          r.opAdmit,
			"settleDue":      r.opSettleDue,
			"settleDue2":     r.opSettleDue,
			"settleDay":      r.opSettleDay,
			"advance":        r.opAdvance,
			"advance2":       r.opAdvance,
			"jumpExpiry":     r.opJumpNearExpiry,
			"jumpDue":        r.opJumpToDueTime,
			"":               r.check,
		}
		// Two rounds of about -rapid.steps operations each: the states worth
		// reaching (trial used up, packages bought and used up, late usage
		// of settled days) need longer sequences than the default 30 steps.
		rt.Repeat(actions)
		rt.Repeat(actions)
	})
}

// refStats counts what the sequences exercised (shown with -v).
var refStats map[string]int

// refCount counts an event of a step.
func refCount(event string, happened bool) {
	if happened {
		refStats[event]++
	}
}

// refErrName names the sentinel an error wraps, for the statistics.
func refErrName(err error) string {
	for _, s := range []error{billing.ErrNotFound, billing.ErrIdempotencyConflict, billing.ErrInvalidID, billing.ErrInvalidSeconds,
		billing.ErrInvalidTime, billing.ErrFutureUsage, billing.ErrBeforeOpened, billing.ErrUnknownScenario, billing.ErrUnknownService,
		billing.ErrNoBasicService, billing.ErrSuspended, billing.ErrDayNotEnded, billing.ErrDayClosed, billing.ErrSettleOrder,
		billing.ErrUnknownTier, billing.ErrTierNotInScenario, billing.ErrNoPriceBook, billing.ErrUnknownKind, billing.ErrInvalidMinutes,
		billing.ErrUnknownApp, billing.ErrNotStackable, billing.ErrNotRefundable, billing.ErrNotYetRefundable, billing.ErrInvalidDiscount} {
		if errors.Is(err, s) {
			return strings.TrimPrefix(s.Error(), "billing: ")
		}
	}
	return fmt.Sprint(err)
}

// refAccounts are the account ids the test uses; "b" starts unopened.
var refAccounts = []string{"a", "b"}

var refCmpOpts = cmp.Options{
	cmp.Comparer(func(x, y decimal.Decimal) bool { return x.Equal(y) }),
	cmp.Comparer(func(x, y time.Time) bool { return x.Equal(y) }),
	cmpopts.EquateEmpty(),
	cmpopts.IgnoreFields(billing.Account{}, "Version", "Touched", "LastSeq", "SinceCheckpoint", "GrantsThrough"),
	// The model keeps every day's uncovered minutes of a window, not the
	// latest day's: what purchases absorb checks these.
	cmpopts.IgnoreFields(billing.Meter{}, "Latest", "EarlierPostpaid", "EarlierShortfall"),
}

type refRun struct {
	ctx       context.Context
	clk       *clock
	e         *billing.Engine
	m         *refModel
	n         int
	usages    []billing.Usage    // usages the engine accepted, for replays
	purchases []billing.Purchase // purchases the engine accepted, for replays
}

// refMonthlyCohortsUntil puts every account of a run on the monthly cycle.
var refMonthlyCohortsUntil = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)

// refZones are the billing zones a run may use: the default (nil, UTC+8),
// UTC, and two zones whose daylight-saving transitions happen at midnight
// (a day that starts at 01:00, and a day whose first hour repeats).
var refZones = []string{"", "", "", "UTC", "America/Santiago", "America/Havana"}

// refMidnightTransitions are days of those zones' transitions at midnight.
var refMidnightTransitions = map[string][]time.Time{
	"America/Santiago": {time.Date(2021, 9, 5, 12, 0, 0, 0, time.UTC), time.Date(2022, 4, 3, 12, 0, 0, 0, time.UTC), time.Date(2021, 4, 4, 12, 0, 0, 0, time.UTC)},
	"America/Havana":   {time.Date(2021, 3, 14, 12, 0, 0, 0, time.UTC), time.Date(2021, 11, 7, 12, 0, 0, 0, time.UTC), time.Date(2022, 3, 13, 12, 0, 0, 0, time.UTC)},
}

func newRefRun(rt *rapid.T) *refRun {
	custom := rapid.Bool().Draw(rt, "customBook")
	monthly := custom && rapid.Bool().Draw(rt, "monthlyGrant")
	eras := !custom && rapid.Bool().Draw(rt, "allEras")       // Era 2 for the USD accounts from 2021-10-27
	era3 := !custom && !eras && rapid.Bool().Draw(rt, "era3") // Era 3 with a host's kinds for every USD account
	var books []billing.PriceBook
	switch {
	case era3:
		books = []billing.PriceBook{era3Host(), billing.Era1CNY()}
	case monthly:
		books = []billing.PriceBook{refMonthlyBook(refCustomBook()), billing.Era1CNY()}
	case custom:
		books = []billing.PriceBook{refCustomBook(), billing.Era1CNY()}
	case eras:
		books = billing.AllEras()
	}
	// Every account on the monthly cycle, or only those of cohorts before
	// 2020-09-01 (runs that start in 2020 open some).
	allMonthly := rapid.Bool().Draw(rt, "monthlyCycle")
	if allMonthly {
		if books == nil {
			books = []billing.PriceBook{billing.Era1USD(), billing.Era1CNY()}
		}
		for i := range books {
			books[i].MonthlyCohortsUntil = refMonthlyCohortsUntil
		}
	}
	zone := rapid.SampledFrom(refZones).Draw(rt, "zone")
	loc := refZone
	var optLoc *time.Location
	if zone != "" {
		var err error
		if loc, err = time.LoadLocation(zone); err != nil {
			rt.Skipf("zone %s: %v", zone, err)
		}
		optLoc = loc
	}
	var start time.Time
	if ts := refMidnightTransitions[zone]; len(ts) > 0 && rapid.Bool().Draw(rt, "nearTransition") {
		// Up to three days before a transition at midnight.
		start = rapid.SampledFrom(ts).Draw(rt, "transition").Add(-time.Duration(rapid.IntRange(0, 72*60).Draw(rt, "minutesBefore")) * time.Minute)
	} else {
		year := rapid.IntRange(2020, 2024).Draw(rt, "year")
		firstMonth := 1
		if year == 2020 {
			firstMonth = 5 // before 2020-07-01 recording is refused; before 2020-11-01 MixTranscoding is free for a while
		}
		month := rapid.IntRange(firstMonth, 12).Draw(rt, "month")
		day := rapid.OneOf(rapid.IntRange(1, 28), rapid.SampledFrom([]int{28, 29, 30, 31})).Draw(rt, "day")
		hour := rapid.IntRange(0, 23).Draw(rt, "hour")
		minute := rapid.IntRange(0, 59).Draw(rt, "minute")
		start = time.Date(year, time.Month(month), day, hour, minute, 0, 0, loc)
	}
	r := &refRun{ctx: context.Background(), clk: &clock{}, m: newRefModel(custom, loc)}
	if monthly {
		r.m.figures["USD"].withMonthly(books[0].ID)
	}
	if eras {
		r.m.withEra2()
	}
	if era3 {
		r.m.figures["USD"] = refEra3USD()
	}
	if allMonthly {
		for _, f := range r.m.figures {
			f.monthlyCohortsUntil = refMonthlyCohortsUntil
		}
		if r.m.era2 != nil {
			r.m.era2.monthlyCohortsUntil = refMonthlyCohortsUntil
		}
	}
	r.clk.Set(start)
	var err error
	r.e, err = billing.New(memstore.New(), &billing.Options{Now: r.clk.Now, PriceBooks: books, Location: optLoc})
	if err != nil {
		rt.Fatalf("New: %v", err)
	}
	// Checkpoints every few operations: more replays start from one, and
	// may stop at one.
	billing.SetCheckpointEvery(r.e, rapid.SampledFrom([]int64{1, 4, billing.CheckpointEvery}).Draw(rt, "checkpointEvery"))
	rt.Logf("start %v, zone %q, custom book %v", r.clk.Now(), zone, custom)
	r.open(rt, billing.AccountSpec{ID: "a", Postpaid: rapid.Bool().Draw(rt, "postpaidA"), App: "app1",
		Currency: rapid.SampledFrom([]string{"", "", "CNY"}).Draw(rt, "currencyA")})
	return r
}

func (r *refRun) fresh(prefix string) string {
	r.n++
	return fmt.Sprintf("%s%d", prefix, r.n)
}

// refMatch reports whether err wraps one of the errors the model allows.
func refMatch(err error, want []error) bool {
	for _, w := range want {
		if errors.Is(err, w) {
			return true
		}
	}
	return false
}

// refCheck compares one operation's result or error with the model's.
func refCheck[T any](rt *rapid.T, op string, got T, gotErr error, want T, wantErrs []error) {
	rt.Helper()
	switch {
	case len(wantErrs) == 0 && gotErr != nil:
		rt.Fatalf("%s: engine error %v, model expects success with %+v", op, gotErr, want)
	case len(wantErrs) > 0 && gotErr == nil:
		rt.Fatalf("%s: engine succeeded with %+v, model expects one of %v", op, got, wantErrs)
	case gotErr != nil:
		var be *billing.Error
		if !errors.As(gotErr, &be) {
			rt.Fatalf("%s: error %v is not a *billing.Error", op, gotErr)
		}
		if !refMatch(gotErr, wantErrs) {
			rt.Fatalf("%s: engine error %v, model expects one of %v", op, gotErr, wantErrs)
		}
	default:
		if d := cmp.Diff(want, got, refCmpOpts); d != "" {
			rt.Fatalf("%s: engine and model differ (-model +engine):\n%s", op, d)
		}
	}
}

// ---------------------------------------------------------------------------
// Operations.

// drawAccount draws "a" mostly, "b" (opened later, or never) sometimes.
func (r *refRun) drawAccount(rt *rapid.T) string {
	return rapid.SampledFrom([]string{"a", "a", "a", "a", "b"}).Draw(rt, "account")
}

func (r *refRun) open(rt *rapid.T, spec billing.AccountSpec) {
	now := r.clk.Now()
	got, err := r.e.OpenAccount(r.ctx, spec)
	want, errs := r.m.open(now, spec)
	rt.Logf("%v OpenAccount(%+v) -> err %v", now, spec, err)
	if a := r.m.accts[spec.ID]; a != nil && !a.settledOnce && err == nil {
		want.SettledThrough = got.SettledThrough // the initial value is not documented
	}
	refCheck(rt, "OpenAccount", got, err, want, errs)
}

// opOpen opens (or reopens) an account; "b" may be a CNY account, or ask for
// a currency no book has. ("USD" spelled out is not drawn: whether it is the
// same spec as "" is not documented.)
func (r *refRun) opOpen(rt *rapid.T) {
	spec := billing.AccountSpec{ID: r.drawAccount(rt), Postpaid: rapid.Bool().Draw(rt, "postpaid"),
		App: rapid.SampledFrom([]string{"app1", "app1", "app1", "", "app2"}).Draw(rt, "firstApp")}
	if spec.ID == "b" {
		spec.Currency = rapid.SampledFrom([]string{"", "CNY", "CNY", "EUR"}).Draw(rt, "currency")
	}
	r.open(rt, spec)
}

func (r *refRun) buy(rt *rapid.T, p billing.Purchase) {
	now := r.clk.Now()
	got, err := r.e.Buy(r.ctx, p)
	want, errs := r.m.buy(now, p)
	rt.Logf("%v Buy(%+v) -> err %v, receipt %+v", now, p, err, got)
	refCheck(rt, "Buy", got, err, want, errs)
	refStats["step Buy"]++
	refCount("buy refused", err != nil)
	refCount("buy refused: "+refErrName(err), err != nil)
	refCount("buy absorbed minutes", len(got.Absorbed) > 0)
	refCount("buy resumed", got.Resumed)
	refCount("buy of a package bound to an application", err == nil && got.Package.App != "")
	refCount("buy of a bound package absorbed minutes", got.Package.App != "" && len(got.Absorbed) > 0)
	if a := r.m.accts[p.Account]; a != nil && a.monthly && len(got.Absorbed) > 0 {
		refCount("buy absorbed minutes, monthly cycle, not the window's first day", a.refWindow(got.Day) < got.Day)
	}
	if err == nil {
		r.purchases = append(r.purchases, p)
	}
}

func (r *refRun) opBuy(rt *rapid.T) {
	p := billing.Purchase{Account: r.drawAccount(rt)}
	// (rapid favours small values: the rare modes are the large ones.)
	switch mode := rapid.IntRange(0, 19).Draw(rt, "buyMode"); {
	case mode >= 17 && len(r.purchases) > 0: // replay, same or other request
		old := rapid.SampledFrom(r.purchases).Draw(rt, "oldPurchase")
		p = old
		if rapid.Bool().Draw(rt, "changePurchase") {
			p.Minutes += 1000
		}
		r.buy(rt, p)
		return
	case mode == 16:
		p.ID = billing.TrialID
	default:
		p.ID = r.fresh("p")
	}
	kinds := []string{billing.KindUniversal, billing.KindUniversal, billing.KindUniversal}
	if _, custom := r.m.figures["USD"].kinds[refCustomKind]; custom {
		kinds = append(kinds, refCustomKind, refCustomKind)
	}
	if r.m.figures["USD"].perApp { // Era 3's: bound to an application, and the account's
		kinds = append(kinds, "standard", "standard", "standard", "promo", "promo")
	}
	kinds = append(kinds, billing.KindUniversal, billing.KindUniversal, billing.KindUniversal, billing.KindUniversal,
		refCustomKind, billing.KindTrial, "bogus") // the last three are unknown or not for sale (mini: unknown to CNY and default books)
	p.Kind = rapid.SampledFrom(kinds).Draw(rt, "kind")
	if p.Kind == "standard" || rapid.IntRange(0, 9).Draw(rt, "appOnAccountKind") == 0 {
		p.App = rapid.SampledFrom([]string{"app1", "app1", "app2", "app3", ""}).Draw(rt, "purchaseApp")
	}
	unit := int64(1000)
	if p.Kind == refCustomKind {
		unit = 100
	}
	switch rapid.IntRange(0, 19).Draw(rt, "minutesMode") {
	default:
		p.Minutes = unit * rapid.Int64Range(1, 12).Draw(rt, "units")
	case 17:
		p.Minutes = rapid.SampledFrom([]int64{25_000, 250_000, 26_000, 3_000_000, billing.MaxPackageMinutes}).Draw(rt, "bigMinutes")
	case 18, 19:
		p.Minutes = rapid.SampledFrom([]int64{0, -unit, unit / 2, unit + 1, billing.MaxPackageMinutes + unit}).Draw(rt, "badMinutes")
	}
	r.buy(rt, p)
}

func (r *refRun) record(rt *rapid.T, u billing.Usage) {
	now := r.clk.Now()
	got, err := r.e.Record(r.ctx, u)
	want, errs := r.m.record(now, u)
	late := false
	if a := r.m.accts[u.Account]; a != nil && len(errs) == 0 {
		late = len(a.late) > 0 && a.late[len(a.late)-1] == want.Key
	}
	rt.Logf("%v Record(%+v) -> err %v, receipt %+v", now, u, err, got)
	refCheck(rt, "Record", got, err, want, errs)
	refStats["step Record"]++
	refCount("record refused", err != nil)
	refCount("record refused: "+refErrName(err), err != nil)
	refCount("record suspended the account", got.Suspended)
	refCount("record switched postpaid on", got.PostpaidOn)
	refCount("record with shortfall", got.Shortfall > 0)
	refCount("value-added usage drawn from a package", len(got.Draws) > 0 && u.Service != "" && u.Service != billing.ServiceBasic)
	refCount("record drawn from 2+ packages", len(got.Draws) > 1)
	refCount("record on a meter of its application (Era 3)", err == nil && got.Key.App != "")
	if a := r.m.accts[u.Account]; a != nil && err == nil {
		for _, d := range got.Draws {
			for _, p := range a.cur.packages {
				refCount("record drawn from a package bound to its application", p.ID == d.Package && p.App != "")
				refCount("record drawn from Era 3's free minutes", p.ID == d.Package && p.First)
			}
		}
	}
	refCount("record partly postpaid", got.Postpaid > 0 && len(got.Draws) > 0)
	refCount("record of a closed day", late)
	refCount("record of the China site's recording of 2022", err == nil && (u.Service == billing.ServiceRecordingSingle || u.Service == billing.ServiceRecordingMixed))
	refCount("record late, replayed", got.Late && !late)
	if err == nil {
		r.usages = append(r.usages, u)
	}
}

// drawAt draws a usage time in the last 3 days, not before the opening:
// sometimes exactly the clock, sometimes exactly the opening.
func (r *refRun) drawAt(rt *rapid.T, account string) time.Time {
	now := r.clk.Now()
	earliest := now.Add(-72 * time.Hour)
	if a := r.m.accts[account]; a != nil && a.opened.After(earliest) {
		earliest = a.opened
	}
	switch rapid.IntRange(0, 7).Draw(rt, "atMode") {
	case 0:
		return now
	case 1:
		return earliest
	case 2: // a boundary: a package's Start or End, a suspension, a midnight
		var bs []time.Time
		add := func(t time.Time) {
			for _, b := range []time.Time{t, t.Add(-time.Second)} {
				if !b.Before(earliest) && !b.After(now) {
					bs = append(bs, b)
				}
			}
		}
		if a := r.m.accts[account]; a != nil {
			for _, p := range a.cur.packages {
				add(p.Start)
				add(p.End)
				add(p.PurchasedAt)
			}
			for _, p := range a.apps {
				if st := a.cur.app(a, p.id); st.status.Suspended {
					add(st.status.Since)
				}
				add(p.created)
			}
			if a.cur.postpaid.On {
				add(a.cur.postpaid.Since)
			}
		}
		for d := r.m.cal.dayOf(earliest); d <= r.m.cal.dayOf(now); d++ {
			add(r.m.cal.dayStart(d))
		}
		if len(bs) > 0 {
			return rapid.SampledFrom(bs).Draw(rt, "boundary")
		}
		return now
	default:
		span := int64(now.Sub(earliest) / time.Second)
		return now.Add(-time.Duration(rapid.Int64Range(0, span).Draw(rt, "atBack")) * time.Second)
	}
}

func (r *refRun) drawSeconds(rt *rapid.T) int64 {
	switch rapid.IntRange(0, 9).Draw(rt, "secondsMode") {
	case 0, 1, 2:
		return rapid.Int64Range(1, 150).Draw(rt, "seconds")
	case 3, 4, 5:
		return rapid.Int64Range(1, 4*3600).Draw(rt, "seconds")
	case 6, 7, 8: // enough to use up the trial or a package in a few usages
		return rapid.Int64Range(100_000, 900_000).Draw(rt, "seconds")
	default:
		return rapid.SampledFrom([]int64{59, 60, 61, 119, 120, billing.MaxUsageSeconds}).Draw(rt, "seconds")
	}
}

// refAllTiers are the basic tiers a usage draws: Era 1's and 2's, then
// Era 3's 2K and 4K (which Era 3's book lacks SD of).
var refAllTiers = []billing.Tier{billing.TierAudio, billing.TierSD, billing.TierHD, billing.TierFHD, billing.TierHD, billing.TierFHD,
	billing.Tier2K, billing.Tier4K}

func (r *refRun) opRecordBasic(rt *rapid.T) {
	u := billing.Usage{ID: r.fresh("u"), Account: r.drawAccount(rt)}
	u.Scenario = rapid.SampledFrom([]billing.Scenario{billing.AudioLive, billing.VideoLive, billing.AudioCall, billing.VideoCall}).Draw(rt, "scenario")
	u.Tier = billing.TierAudio
	if refVideoScenarios[u.Scenario] {
		u.Tier = rapid.SampledFrom(refAllTiers).Draw(rt, "tier")
	}
	u.Service = rapid.SampledFrom([]billing.Service{"", "", billing.ServiceBasic}).Draw(rt, "service")
	u.App = r.drawApp(rt)
	u.Seconds = r.drawSeconds(rt)
	u.At = r.drawAt(rt, u.Account)
	r.record(rt, u)
}

func (r *refRun) opRecordValueAdded(rt *rapid.T) {
	u := billing.Usage{ID: r.fresh("v"), Account: r.drawAccount(rt), App: r.drawApp(rt)}
	u.Service = rapid.SampledFrom([]billing.Service{billing.ServiceRecording, billing.ServiceMixTranscoding,
		billing.ServiceRecordingSingle, billing.ServiceRecordingMixed, billing.ServiceMixTranscodingH265}).Draw(rt, "vaService")
	u.Tier = rapid.SampledFrom(refTierOrder).Draw(rt, "tier")
	u.Seconds = r.drawSeconds(rt)
	u.At = r.drawAt(rt, u.Account)
	r.record(rt, u)
}

// opRecordBatch records a few usages of both accounts with RecordBatch,
// which must behave exactly like Record one by one, in the reference order.
func (r *refRun) opRecordBatch(rt *rapid.T) {
	n := rapid.IntRange(1, 4).Draw(rt, "batchSize")
	var us []billing.Usage
	for i := 0; i < n; i++ {
		u := billing.Usage{ID: r.fresh("w"), Account: r.drawAccount(rt), App: "app1", Scenario: billing.VideoLive}
		if i > 0 && rapid.Bool().Draw(rt, "batchReuse") { // an id earlier in the batch, same or other payload
			u = us[rapid.IntRange(0, i-1).Draw(rt, "batchReuseOf")]
		} else {
			u.Tier = rapid.SampledFrom(refAllTiers).Draw(rt, "tier")
			u.Seconds = r.drawSeconds(rt)
			u.At = r.drawAt(rt, u.Account)
		}
		if rapid.Bool().Draw(rt, "batchBump") {
			u.Seconds++
		}
		us = append(us, u)
	}
	now := r.clk.Now()
	got := r.e.RecordBatch(r.ctx, us)
	rt.Logf("%v RecordBatch(%+v) -> %+v", now, us, got)
	if len(got) != len(us) {
		rt.Fatalf("RecordBatch: %d results for %d usages", len(got), len(us))
	}
	refStats["step RecordBatch"]++
	// The reference order: by time, then id, else as given.
	order := make([]int, len(us))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int {
		if c := us[i].At.Compare(us[j].At); c != 0 {
			return c
		}
		return strings.Compare(us[i].ID, us[j].ID)
	})
	for _, i := range order {
		want, errs := r.m.record(now, us[i])
		refCheck(rt, fmt.Sprintf("RecordBatch[%d]", i), got[i].Receipt, got[i].Err, want, errs)
		if got[i].Err == nil {
			r.usages = append(r.usages, us[i])
		}
	}
}

// opRecordInvalid records usage that breaks one input rule.
func (r *refRun) opRecordInvalid(rt *rapid.T) {
	u := billing.Usage{ID: r.fresh("x"), Account: r.drawAccount(rt), App: "app1", Scenario: billing.VideoCall, Tier: billing.TierSD, Seconds: 61}
	u.At = r.drawAt(rt, u.Account)
	switch rapid.IntRange(0, 6).Draw(rt, "invalid") {
	case 0:
		u.Seconds = rapid.SampledFrom([]int64{-1, 0, billing.MaxUsageSeconds + 1}).Draw(rt, "badSeconds")
	case 1:
		u.At = r.clk.Now().Add(time.Duration(rapid.Int64Range(1, 3600).Draw(rt, "ahead")) * time.Second)
	case 2:
		if a := r.m.accts[u.Account]; a != nil {
			u.At = a.opened.Add(-time.Duration(rapid.Int64Range(1, 3600).Draw(rt, "before")) * time.Second)
		}
	case 3:
		u.Scenario = billing.AudioCall
		u.Tier = rapid.SampledFrom([]billing.Tier{billing.TierSD, billing.TierHD, billing.TierFHD}).Draw(rt, "videoTier")
	case 4:
		u.Tier = "8k"
	case 5:
		u.App = ""
	case 6:
		u.Service, u.Scenario = "relay", ""
	}
	r.record(rt, u)
}

// opReplay repeats an accepted usage: the same request (also with its time
// in another location, or Service "" spelled "basic"), or a changed one.
func (r *refRun) opReplay(rt *rapid.T) {
	if len(r.usages) == 0 {
		return
	}
	u := rapid.SampledFrom(r.usages).Draw(rt, "oldUsage")
	switch rapid.IntRange(0, 5).Draw(rt, "replayMode") {
	case 0, 1: // identical
	case 2:
		u.At = u.At.UTC()
	case 3:
		switch u.Service {
		case "":
			u.Service = billing.ServiceBasic
		case billing.ServiceBasic:
			u.Service = ""
		}
	case 4:
		u.Seconds++
	case 5:
		u.App += "x"
	}
	r.record(rt, u)
}

// opAdmit asks whether a session may start: its answer and the errors its
// reason wraps must be the model's.
func (r *refRun) opAdmit(rt *rapid.T) {
	id := r.drawAccount(rt)
	svc := rapid.SampledFrom([]billing.Service{"", billing.ServiceBasic, billing.ServiceRecording, billing.ServiceMixTranscoding,
		billing.ServiceRecordingSingle}).Draw(rt, "admitService")
	at := r.drawAt(rt, id)
	now := r.clk.Now()
	app := r.drawApp(rt)
	got, err := r.e.Admit(r.ctx, id, app, svc, at)
	want, errs := r.m.admit(now, id, app, svc, at)
	rt.Logf("%v Admit(%s, %s, %q, %v) -> %+v, err %v", now, id, app, svc, at, got, err)
	refStats["step Admit"]++
	refCount("admit refused a session", err == nil && !got.Admitted)
	if err != nil || len(errs) > 0 {
		refCheck(rt, "Admit", got, err, want, errs)
		return
	}
	if got.Admitted != want.Admitted {
		rt.Fatalf("Admit: admitted %v (%v), model %v (%v)", got.Admitted, got.Reason, want.Admitted, want.Reason)
	}
	for _, w := range []error{billing.ErrSuspended, billing.ErrNoBasicService, billing.ErrInArrears, billing.ErrAppDisabled} {
		if errors.Is(got.Reason, w) != errors.Is(want.Reason, w) {
			rt.Fatalf("Admit: reason %v, model's %v", got.Reason, want.Reason)
		}
	}
}

// drawApp draws an application: "app1" (the first, mostly), "app2"
// (created later, or never), or one never created.
func (r *refRun) drawApp(rt *rapid.T) string {
	return rapid.SampledFrom([]string{"app1", "app1", "app2", "app2", "app3"}).Draw(rt, "app")
}

// opEnablePostpaid enables postpaid on the account ("") or on an application.
func (r *refRun) opEnablePostpaid(rt *rapid.T) {
	id := r.drawAccount(rt)
	app := rapid.SampledFrom([]string{"", "app1", "app2", "app3"}).Draw(rt, "enableApp")
	now := r.clk.Now()
	got, err := r.e.EnablePostpaid(r.ctx, id, app)
	want, errs := r.m.enablePostpaid(now, id, app)
	rt.Logf("%v EnablePostpaid(%s, %q) -> err %v", now, id, app, err)
	if a := r.m.accts[id]; a != nil && !a.settledOnce && err == nil {
		want.SettledThrough = got.SettledThrough
	}
	refCheck(rt, "EnablePostpaid", got, err, want, errs)
	refStats["step EnablePostpaid"]++
	refCount("postpaid enabled on an application", err == nil && app != "")
}

// opCreateApp creates an application, choosing postpaid or not.
func (r *refRun) opCreateApp(rt *rapid.T) {
	id := r.drawAccount(rt)
	spec := billing.AppSpec{ID: r.drawApp(rt), Postpaid: rapid.Bool().Draw(rt, "appPostpaid")}
	now := r.clk.Now()
	got, err := r.e.CreateApp(r.ctx, id, spec)
	want, errs := r.m.createApp(now, id, spec)
	rt.Logf("%v CreateApp(%s, %+v) -> err %v", now, id, spec, err)
	if a := r.m.accts[id]; a != nil && !a.settledOnce && err == nil {
		want.SettledThrough = got.SettledThrough
	}
	refCheck(rt, "CreateApp", got, err, want, errs)
	refStats["step CreateApp"]++
}

// opToggleApp disables or enables an application.
func (r *refRun) opToggleApp(rt *rapid.T) {
	id, app := r.drawAccount(rt), r.drawApp(rt)
	disable := rapid.Bool().Draw(rt, "disable")
	now := r.clk.Now()
	var got billing.Account
	var err error
	if disable {
		got, err = r.e.DisableApp(r.ctx, id, app)
	} else {
		got, err = r.e.EnableApp(r.ctx, id, app)
	}
	want, errs := r.m.toggleApp(now, id, app, disable)
	rt.Logf("%v toggle app %s/%s (disable %v) -> err %v", now, id, app, disable, err)
	if a := r.m.accts[id]; a != nil && !a.settledOnce && err == nil {
		want.SettledThrough = got.SettledThrough
	}
	refCheck(rt, "DisableApp/EnableApp", got, err, want, errs)
	refStats["step toggle app"]++
}

// refArrearsRefs are the references arrears are reported under: few, so
// that reports repeat them.
var refArrearsRefs = []string{"bill-1", "bill-2", "bill-3"}

func (r *refRun) opReportOverdue(rt *rapid.T) {
	r.report(rt, "ReportOverdue", r.e.ReportOverdue, r.m.reportOverdue)
}
func (r *refRun) opReportPaid(rt *rapid.T) {
	r.report(rt, "ReportPaid", r.e.ReportPaid, r.m.reportPaid)
}

// report reports arrears of a drawn account under a drawn reference, to
// the Engine (call) and to the model (model), and compares their answers.
func (r *refRun) report(rt *rapid.T, name string, call func(context.Context, string, string) (billing.Account, error),
	model func(time.Time, string, string) (billing.Account, []error)) {
	id, ref := r.drawAccount(rt), rapid.SampledFrom(refArrearsRefs).Draw(rt, "ref")
	now := r.clk.Now()
	got, err := call(r.ctx, id, ref)
	want, errs := model(now, id, ref)
	rt.Logf("%v %s(%s, %s) -> err %v", now, name, id, ref, err)
	if a := r.m.accts[id]; a != nil && !a.settledOnce && err == nil {
		want.SettledThrough = got.SettledThrough
	}
	refCheck(rt, name, got, err, want, errs)
	refStats["step "+name]++
	refCount(name+" accepted", err == nil)
}

// opRefund asks for a refund of one of the account's packages (or of one
// it does not have) under a few ids, with a few discounts, one invalid.
func (r *refRun) opRefund(rt *rapid.T) {
	req := billing.Refund{ID: rapid.SampledFrom([]string{"r1", "r2", "r3"}).Draw(rt, "refundID"), Account: r.drawAccount(rt),
		Discount: rapid.SampledFrom([]decimal.Decimal{decimal.Zero, refDec("0.8"), refDec("1"), refDec("1.5")}).Draw(rt, "discount")}
	pkgs := []string{billing.TrialID, "none"}
	if a := r.m.accts[req.Account]; a != nil {
		pkgs = append(pkgs, slices.Sorted(maps.Keys(a.purchases))...)
	}
	req.Package = rapid.SampledFrom(pkgs).Draw(rt, "refundPackage")
	r.refund(rt, req)
}

// opSettleAndRefund asks for a refund of one of an account's purchases
// after its day is settled: it moves the clock to when that day would be
// due on the daily cycle, if it is not yet, and settles the account's due
// days first (on the monthly cycle the month is seldom due by then, and
// the refund is refused as not yet refundable). Without it few of
// opRefund's refunds are paid.
func (r *refRun) opSettleAndRefund(rt *rapid.T) {
	id := r.drawAccount(rt)
	a := r.m.accts[id]
	if a == nil || len(a.purchases) == 0 {
		return
	}
	pkg := rapid.SampledFrom(slices.Sorted(maps.Keys(a.purchases))).Draw(rt, "refundPackage")
	day := r.m.cal.dayOf(a.purchases[pkg].receipt.Package.PurchasedAt)
	if due := r.m.cal.dayStart(day + 1).Add(refDueAfter); due.After(r.clk.Now()) {
		r.advance(rt, due.Add(time.Duration(rapid.IntRange(0, 6*24*60).Draw(rt, "refundAfter"))*time.Minute))
	}
	r.settleDue(rt, id)
	if a.settledThrough < day { // no usage since: settling the day closes it
		r.settle(rt, id, day)
	}
	r.refund(rt, billing.Refund{ID: rapid.SampledFrom([]string{"r1", "r2", "r3"}).Draw(rt, "refundID"), Account: id, Package: pkg})
}

// refund asks the engine and the model for refund req, and compares.
func (r *refRun) refund(rt *rapid.T, req billing.Refund) {
	now := r.clk.Now()
	got, err := r.e.Refund(r.ctx, req)
	want, errs := r.m.refund(now, req)
	rt.Logf("%v Refund(%+v) -> %+v, err %v", now, req, got, err)
	refCheck(rt, "Refund", got, err, want, errs)
	refStats["step Refund"]++
	refCount("refund paid", err == nil)
	refCount("refund paid in full", err == nil && got.Full)
	refCount("refund refused: "+refErrName(err), err != nil)
}

// opJumpNearReclaim moves the clock near the reclaim instant of unpaid
// arrears, or near the end of their grace.
func (r *refRun) opJumpNearReclaim(rt *rapid.T) {
	now := r.clk.Now()
	var marks []time.Time
	for _, id := range refAccounts {
		if a := r.m.accts[id]; a != nil {
			for _, ar := range a.arrears {
				if ar.Paid.IsZero() {
					marks = append(marks, ar.Suspended(), ar.Reclaim)
				}
			}
		}
	}
	if len(marks) == 0 {
		return
	}
	mark := rapid.SampledFrom(marks).Draw(rt, "arrearsMark")
	offset := rapid.SampledFrom([]time.Duration{-time.Hour, -time.Second, 0, time.Second, time.Hour}).Draw(rt, "arrearsOffset")
	if to := mark.Add(offset); to.After(now) {
		r.advance(rt, to)
	}
}

func (r *refRun) settle(rt *rapid.T, id string, d billing.Day) {
	now := r.clk.Now()
	got, err := r.e.Settle(r.ctx, id, d)
	want, errs := r.m.settle(now, id, d)
	rt.Logf("%v Settle(%s, %v) -> err %v, bill total %v", now, id, d, err, got.Total)
	refCheck(rt, "Settle", got, err, want, errs)
	refStats["step Settle"]++
	refCount("settle refused", err != nil)
	refCount("settle refused: "+refErrName(err), err != nil)
	refCount("settle billed a month", err == nil && got.Through > got.Day)
	refCount("settle billed deferred shortfall", slices.ContainsFunc(got.Lines, func(l billing.Line) bool { return l.Deferred > 0 }))
	for _, l := range got.Lines {
		refCount("bill line adjustment", l.Adjustment)
		refCount("bill line shortfall billed", l.Shortfall > 0 && got.PostpaidOn)
		refCount("bill line shortfall unbilled", l.Shortfall > 0 && !got.PostpaidOn)
		refCount("bill line nonzero amount", !l.Amount.IsZero())
	}
}

// opSettleDue settles what DueDays says is due, in order.
func (r *refRun) opSettleDue(rt *rapid.T) { r.settleDue(rt, r.drawAccount(rt)) }

// settleDue settles account id's due days.
func (r *refRun) settleDue(rt *rapid.T, id string) {
	now := r.clk.Now()
	got, err := r.e.DueDays(r.ctx, id, now)
	want, errs := r.m.dueDays(now, id)
	rt.Logf("%v DueDays(%s) -> %v, err %v", now, id, got, err)
	refCheck(rt, "DueDays", got, err, want, errs)
	for _, d := range got {
		r.settle(rt, id, d)
	}
}

// opSettleDay settles a day of the last few, due or not, in order or not.
func (r *refRun) opSettleDay(rt *rapid.T) {
	id := r.drawAccount(rt)
	d := r.m.cal.dayOf(r.clk.Now()) - billing.Day(rapid.IntRange(0, 4).Draw(rt, "daysBack"))
	r.settle(rt, id, d)
}

func (r *refRun) advance(rt *rapid.T, to time.Time) {
	refStats["step clock move"]++
	rt.Logf("clock %v -> %v", r.clk.Now(), to)
	r.clk.Set(to)
}

func (r *refRun) opAdvance(rt *rapid.T) {
	minutes := rapid.OneOf(
		rapid.Int64Range(1, 180),
		rapid.Int64Range(1, 180),
		rapid.Int64Range(1, 3*24*60),
		rapid.Int64Range(1, 3*24*60),
		rapid.Int64Range(1, 420*24*60),
	).Draw(rt, "advanceMinutes")
	r.advance(rt, r.clk.Now().Add(time.Duration(minutes)*time.Minute))
}

// opJumpNearExpiry moves the clock near a package's End (or End + grace).
func (r *refRun) opJumpNearExpiry(rt *rapid.T) {
	var ends []time.Time
	now := r.clk.Now()
	for _, id := range refAccounts {
		if a := r.m.accts[id]; a != nil {
			for _, p := range a.cur.packages {
				if p.End.Add(refExpiryGrace).After(now) {
					ends = append(ends, p.End)
				}
			}
		}
	}
	if len(ends) == 0 {
		return
	}
	slices.SortFunc(ends, func(x, y time.Time) int { return x.Compare(y) })
	end := rapid.SampledFrom(ends).Draw(rt, "end")
	offset := rapid.OneOf(
		rapid.Int64Range(-180, 12*60),
		rapid.SampledFrom([]int64{0, 1, 599, 600, 601}), // End + grace is End + 600 minutes
	).Draw(rt, "offsetMinutes")
	to := end.Add(time.Duration(offset) * time.Minute)
	if to.After(now) {
		r.advance(rt, to)
	}
}

// opJumpToDueTime moves the clock to exactly 10:00 (UTC+8) of a coming day,
// the instant a day becomes due and a package's grace ends.
func (r *refRun) opJumpToDueTime(rt *rapid.T) {
	now := r.clk.Now()
	d := r.m.cal.dayOf(now) + billing.Day(rapid.IntRange(0, 2).Draw(rt, "dueDays"))
	to := r.m.cal.dayStart(d).Add(refDueAfter)
	if to.After(now) {
		r.advance(rt, to)
	}
}

// ---------------------------------------------------------------------------
// The check after every step.

func (r *refRun) check(rt *rapid.T) {
	now := r.clk.Now()
	for _, id := range refAccounts {
		got, err := r.e.Overview(r.ctx, id)
		want, errs := r.m.overview(now, id)
		a := r.m.accts[id]
		if a != nil && !a.settledOnce && err == nil {
			want.Account.SettledThrough = got.Account.SettledThrough
		}
		refCheck(rt, "Overview("+id+")", got, err, want, errs)
		refStats["check Overview"]++
		for _, p := range got.Packages {
			refCount("package seen forfeited", p.Forfeited > 0)
			refCount("monthly grant drawn from", p.Kind == refMonthlyKind && p.Balance < p.Minutes)
			refCount("Era 2's free minutes drawn from", p.Kind == billing.KindFree && p.Balance < p.Minutes)
		}
		if a != nil {
			for _, p := range a.cur.packages {
				refCount("package reclaimed by arrears", refEnd(a, p).Before(p.End) && !now.Before(refEnd(a, p)))
			}
		}
		if a == nil {
			continue
		}
		for _, d := range a.days() {
			ms, err := r.e.Meters(r.ctx, id, d)
			refCheck(rt, fmt.Sprintf("Meters(%s, %v)", id, d), ms, err, a.metersOf(d), nil)
		}
		bills, err := r.e.Bills(r.ctx, id, r.m.cal.dayOf(a.opened)-1, r.m.cal.dayOf(now))
		refCheck(rt, "Bills("+id+")", bills, err, r.m.billsOf(id), nil)
		y, mo, _ := refDate(r.m.cal.dayOf(now) - 1)
		st, err := r.e.Statement(r.ctx, id, y, mo)
		refCheck(rt, "Statement("+id+")", st, err, r.m.statement(id, y, mo), nil)
		r.checkLedger(rt, id, a)
	}
}

// checkLedger rebuilds balances, forfeits and the meters' parts from the
// ledger (the Entry docs say they sum exactly) and compares them with the
// model; it also checks that Seq counts 1, 2, 3, ... and that each bill has
// one settlement entry with its total.
func (r *refRun) checkLedger(rt *rapid.T, id string, a *refAccount) {
	es, err := r.e.Ledger(r.ctx, id, time.Time{}, time.Time{})
	if err != nil {
		rt.Fatalf("Ledger(%s): %v", id, err)
	}
	type parts struct{ Prepaid, Postpaid, Shortfall int64 }
	gotBal, gotForf := map[string]int64{}, map[string]int64{}
	gotMeters := map[billing.MeterKey]parts{}
	gotSettled, gotRefunded := map[string]decimal.Decimal{}, map[string]decimal.Decimal{}
	for i, e := range es {
		if e.Seq != int64(i+1) {
			rt.Fatalf("Ledger(%s): entry %d has Seq %d", id, i, e.Seq)
		}
		if e.Package != "" {
			gotBal[e.Package] += e.Balance
		}
		p := gotMeters[e.Key]
		switch e.Kind {
		case billing.EntryForfeit:
			gotForf[e.Package] -= e.Balance
		case billing.EntryDeduction:
			p.Prepaid += e.Minutes
		case billing.EntryPostpaid:
			p.Postpaid += e.Minutes
		case billing.EntryShortfall:
			p.Shortfall += e.Minutes
		case billing.EntrySettlement:
			gotSettled[e.Ref] = gotSettled[e.Ref].Add(e.Amount) // summed: an entry twice shows
		case billing.EntryRefund:
			gotRefunded[e.Ref] = gotRefunded[e.Ref].Add(e.Amount)
		}
		if e.Key != (billing.MeterKey{}) {
			gotMeters[e.Key] = p
		}
	}
	wantBal, wantForf := map[string]int64{}, map[string]int64{}
	for _, p := range a.cur.packages {
		wantBal[p.ID] = p.Balance
		if p.Forfeited != 0 {
			wantForf[p.ID] = p.Forfeited
		}
	}
	wantMeters := map[billing.MeterKey]parts{}
	for k, m := range a.cur.meters {
		if m.Prepaid != 0 || m.Postpaid != 0 || m.Shortfall != 0 {
			wantMeters[k] = parts{m.Prepaid, m.Postpaid, m.Shortfall}
		}
	}
	for k, p := range gotMeters {
		if p == (parts{}) {
			delete(gotMeters, k)
		}
	}
	wantSettled := map[string]decimal.Decimal{}
	for d, b := range a.bills {
		wantSettled[d.String()] = b.Total
	}
	refCheck(rt, "Ledger("+id+") package balances", gotBal, nil, wantBal, nil)
	refCheck(rt, "Ledger("+id+") forfeits", gotForf, nil, wantForf, nil)
	refCheck(rt, "Ledger("+id+") meter parts", gotMeters, nil, wantMeters, nil)
	refCheck(rt, "Ledger("+id+") settlements", gotSettled, nil, wantSettled, nil)
	wantRefunded := map[string]decimal.Decimal{}
	for _, f := range a.refunds {
		wantRefunded[f.ID] = f.Amount
	}
	refCheck(rt, "Ledger("+id+") refunds", gotRefunded, nil, wantRefunded, nil)
}
