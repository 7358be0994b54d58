package billing_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/memstore"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

// orderOp is one operation of TestArrivalOrder: a usage, a purchase or an
// EnablePostpaid call, and the instant it arrives.
type orderOp struct {
	arrives time.Time
	usage   *billing.Usage
	buy     *billing.Purchase
	enable  bool
	app     string           // the application of an EnablePostpaid call ("" for the account)
	create  *billing.AppSpec // an application created
	toggle  string           // "disable" or "enable": a DisableApp or EnableApp call for app
	paid    bool             // a ReportPaid call for the arrears "bill-1"
}

// TestArrivalOrder is the property of the reference order (SPEC
// "Principles": event time decides, not arrival order). It draws a set of
// operations on one account over two days: usages (sub-minute and long,
// equal instants, around midnight, every tier, value-added ones), purchases
// that run out mid-day (the trial is 500 minutes; universal and "mini"
// packages, of other ratios, 1,000), perhaps EnablePostpaid calls (for the
// account or for an application), of three applications: app1 and app2
// (with or without postpaid) created at the opening, app3 during the
// operations; perhaps app2 disabled and enabled again, and an account in
// arrears paying them. Purchases, calls and app3's creation happen at their
// instants; each usage arrives at its time plus a lateness drawn
// anew for each of several arrival orders (none, minutes, hours, a whole
// day). Every order must end in the state of the reference model applying
// the operations in key order: meters, packages, the switches, the
// applications' statuses and suspensions, the ledger's totals; and, once both days are settled, the
// same bills. A quarter of the accounts are on Era 3's rules (era3Host):
// meters per application, free minutes drawn first, packages bound to
// app1 and app2 and a pack of the account's.
func TestArrivalOrder(t *testing.T) {
	defer func() { t.Logf("%v", orderStats) }()
	rapid.Check(t, func(rt *rapid.T) {
		open := at(15, rapid.IntRange(0, 12).Draw(rt, "openHour"), 0, 0)
		spec := billing.AccountSpec{ID: "a", Postpaid: rapid.IntRange(0, 3).Draw(rt, "postpaidAtOpening") == 0, App: "app1"}
		acct := orderAccount{opened: open, app2: rapid.Bool().Draw(rt, "app2Postpaid"), monthly: rapid.Bool().Draw(rt, "monthlyGrant"),
			monthlyCycle: rapid.Bool().Draw(rt, "monthlyCycle"), era3: rapid.IntRange(0, 3).Draw(rt, "era3") == 0}
		if rapid.IntRange(0, 3).Draw(rt, "inArrears") == 0 {
			// Opened, and reported overdue, on January 13 at 12:00:
			// suspended from the 14th at 12:00, 60 days of it end on
			// March 15 at 12:00, so the packages bought before March 16
			// 00:00 cover no usage from then on, in the middle of the
			// operations.
			acct = orderAccount{opened: at(15-61, 12, 0, 0), overdue: true, app2: acct.app2, monthly: acct.monthly, monthlyCycle: acct.monthlyCycle,
				era3: acct.era3}
		}
		created := open.Add(time.Duration(rapid.Int64Range(1, 40*60).Draw(rt, "app3Created")) * time.Minute)
		ops := []orderOp{{arrives: created, create: &billing.AppSpec{ID: "app3", Postpaid: rapid.Bool().Draw(rt, "app3Postpaid")}}}
		instants := rapid.SliceOfN(rapid.Int64Range(0, 40*60), 1, 8).Draw(rt, "instants") // minutes after opening
		for i := range rapid.IntRange(1, 40).Draw(rt, "usages") {
			at := open.Add(time.Duration(rapid.SampledFrom(instants).Draw(rt, "instant"))*time.Minute +
				time.Duration(rapid.IntRange(0, 2).Draw(rt, "second"))*time.Second)
			tiers := []billing.Tier{audio, sd, hd, fhd}
			if acct.era3 {
				tiers = []billing.Tier{audio, hd, fhd, k2}
			}
			tier := rapid.SampledFrom(tiers).Draw(rt, "tier")
			seconds := rapid.OneOf(rapid.Int64Range(1, 59), rapid.Int64Range(60, 600), rapid.Int64Range(600, 60*400)).Draw(rt, "seconds")
			u := usage(fmt.Sprintf("u%02d", i), tier, seconds, at)
			if u.App = rapid.SampledFrom([]string{"app1", "app2", "app3"}).Draw(rt, "app"); u.App == "app3" && at.Before(created) {
				u.App = "app1"
			}
			if rapid.IntRange(0, 5).Draw(rt, "valueAdded") == 0 {
				u.Service, u.Scenario = recording, ""
			}
			ops = append(ops, orderOp{usage: u})
		}
		for i := range rapid.IntRange(0, 3).Draw(rt, "purchases") {
			// Universal packages, and "mini" ones (other ratios, no
			// automatic switch), so that a draw can find one package
			// short for one tier and not for another.
			at := open.Add(time.Duration(rapid.Int64Range(1, 40*60).Draw(rt, "bought")) * time.Minute)
			p := &billing.Purchase{ID: fmt.Sprintf("p%d", i), Account: "a", Kind: rapid.SampledFrom([]string{uni, refCustomKind}).Draw(rt, "kind"), Minutes: 1000}
			if acct.era3 { // a package bound to app1, one to app2, a pack of the account's
				p.Kind, p.App = []string{"standard", "standard", "promo"}[i], []string{"app1", "app2", ""}[i]
			}
			ops = append(ops, orderOp{arrives: at, buy: p})
		}
		for _, app := range []string{"", "app1", "app2"} {
			if rapid.IntRange(0, 5).Draw(rt, "enable") == 0 {
				ops = append(ops, orderOp{arrives: open.Add(time.Duration(rapid.Int64Range(1, 40*60).Draw(rt, "enabled")) * time.Minute),
					enable: true, app: app})
			}
		}
		if rapid.IntRange(0, 3).Draw(rt, "toggle") == 0 {
			off := open.Add(time.Duration(rapid.Int64Range(1, 40*60).Draw(rt, "disabled")) * time.Minute)
			on := off.Add(time.Duration(rapid.Int64Range(1, 20*60).Draw(rt, "enabledAgain")) * time.Minute)
			ops = append(ops, orderOp{arrives: off, toggle: "disable", app: "app2"}, orderOp{arrives: on, toggle: "enable", app: "app2"})
		}
		if acct.overdue && rapid.Bool().Draw(rt, "paid") {
			// Before or after the reclaim of March 15 at 12:00.
			ops = append(ops, orderOp{arrives: open.Add(time.Duration(rapid.Int64Range(1, 40*60).Draw(rt, "paidAt")) * time.Minute), paid: true})
		}
		// The oracle: the model, given the operations in key order.
		want := runModel(rt, spec, acct, arrive(ops, func(*orderOp) time.Duration { return 0 }))
		for k := range 10 {
			lateness := rapid.SampledFrom([]time.Duration{0, 5 * time.Minute, 3 * time.Hour, 30 * time.Hour}).Draw(rt, "lateness")
			order := arrive(ops, func(*orderOp) time.Duration {
				return time.Duration(rapid.Int64Range(0, int64(lateness)).Draw(rt, "late"))
			})
			got := runEngine(rt, spec, acct, order)
			if diff := gocmp.Diff(runModel(rt, spec, acct, order), got, refCmpOpts); diff != "" {
				rt.Fatalf("arrival order %d (-model +engine, both in arrival order):\n%s", k, diff)
			}
			diff := gocmp.Diff(want, got, refCmpOpts)
			if diff == "" {
				continue
			}
			// The one documented exception: the switch went on at an
			// instant a later report moved on, and stays on from there.
			if w, g := want[0].Overview.Account.Postpaid, got[0].Overview.Account.Postpaid; !g.On || w.On && !g.Since.Before(w.Since) {
				rt.Fatalf("arrival order %d (-model, key order +engine, arrival order):\n%s", k, diff)
			}
			orderStats["switch held at an earlier instant"]++
		}
	})
}

// orderBook is the model's book with a 500-minute trial, for the engine.
func orderBook() billing.PriceBook {
	b := refCustomBook()
	b.ID, b.Trial.Minutes = "era1-usd-ref-500", 500
	return b
}

// orderState is what TestArrivalOrder compares, before and after the days
// are settled.
type orderState struct {
	Overview billing.Overview
	Meters   map[billing.Day][]billing.Meter
	Totals   map[string]string // a ledger's totals (see totals)
	Bills    []billing.Bill
}

// orderDays are the days of TestArrivalOrder's operations (all of them
// arrive before the 18th, 10:01), orderLook is when it looks at the state
// they leave, and orderSettle when it settles the days.
var (
	orderDays   = []billing.Day{march(15), march(16), march(17), march(18)}
	orderLook   = at(19, 9, 0, 0)
	orderSettle = at(19, 10, 0, 0)
)

// orderAccount is how TestArrivalOrder's account starts: opened at opened
// with app1, app2 created then (with postpaid if app2), and, if overdue,
// reported overdue then, never paid; monthly uses orderBook with the
// recurring grant of refMonthlyBook.
type orderAccount struct {
	opened       time.Time
	overdue      bool
	app2         bool
	monthly      bool // a monthly grant
	monthlyCycle bool // settled monthly
	era3         bool // on era3Host instead, whatever monthly says
}

// book is the price book of the account's Engine.
func (a orderAccount) book() billing.PriceBook {
	b := orderBook()
	switch {
	case a.era3:
		b = era3Host()
	case a.monthly:
		b = refMonthlyBook(b)
	}
	if a.monthlyCycle {
		b.MonthlyCohortsUntil = refMonthlyCohortsUntil
	}
	return b
}

// settleAt is when the account's days can be settled: the 19th, or April
// 2nd on the monthly cycle (March is one period).
func (a orderAccount) settleAt() time.Time {
	if a.monthlyCycle {
		return at(31+2, 10, 0, 0)
	}
	return orderSettle
}

// runEngine applies order to an Engine and returns its states.
func runEngine(rt *rapid.T, spec billing.AccountSpec, acct orderAccount, order []orderOp) [2]orderState {
	h := newHarness(rt, acct.book())
	// Checkpoints every few operations: more replays, which start from
	// one and may stop at one (see converge in the package).
	billing.SetCheckpointEvery(h.e, rapid.SampledFrom([]int64{1, 3, 8, billing.CheckpointEvery}).Draw(rt, "checkpointEvery"))
	defer func() { orderStats["replays stopped at a checkpoint"] += int(billing.Stops(h.e)) }()
	h.do(op{now: acct.opened, open: &spec})
	if _, err := h.e.CreateApp(h.ctx, "a", billing.AppSpec{ID: "app2", Postpaid: acct.app2}); err != nil {
		rt.Fatal(err)
	}
	if acct.overdue {
		if _, err := h.e.ReportOverdue(h.ctx, "a", "bill-1"); err != nil {
			rt.Fatal(err)
		}
		orderStats["accounts in arrears"]++
	}
	for _, o := range order {
		h.clock.Set(o.arrives)
		var err error
		switch {
		case o.create != nil:
			_, err = h.e.CreateApp(h.ctx, "a", *o.create)
		case o.enable:
			_, err = h.e.EnablePostpaid(h.ctx, "a", o.app)
		case o.toggle == "disable":
			_, err = h.e.DisableApp(h.ctx, "a", o.app)
		case o.toggle == "enable":
			_, err = h.e.EnableApp(h.ctx, "a", o.app)
		case o.paid:
			_, err = h.e.ReportPaid(h.ctx, "a", "bill-1")
			orderStats["arrears paid"]++
		default:
			h.do(op{use: o.usage, buy: o.buy})
		}
		if err != nil {
			rt.Fatalf("%+v: %v", o, err)
		}
	}
	var out [2]orderState
	for i := range out {
		h.clock.Set(orderLook)
		if i == 1 {
			h.clock.Set(acct.settleAt())
			for _, d := range orderDays {
				if _, err := h.e.Settle(h.ctx, "a", d); err != nil {
					rt.Fatalf("Settle(%s): %v", d, err)
				}
			}
		}
		s := h.state("a", orderDays...)
		bills, err := h.e.Bills(h.ctx, "a", billing.MinDay, billing.MaxDay)
		if err != nil {
			rt.Fatal(err)
		}
		out[i] = orderState{Overview: s.Overview, Meters: s.Meters, Totals: s.Totals, Bills: bills}
		for _, p := range s.Overview.Packages {
			if acct.overdue && i == 1 && p.Forfeited > 0 {
				orderStats["reclaimed packages forfeited"]++
			}
			if i == 0 && p.Kind == refMonthlyKind && p.Balance < p.Minutes {
				orderStats["monthly grants drawn from"]++
			}
			if i == 0 && p.App != "" && p.Balance < p.Minutes {
				orderStats["era 3: packages bound to an application drawn from"]++
			}
		}
		suspended := 0
		for _, p := range s.Overview.Account.Apps {
			if p.Status.Suspended || len(p.Suspensions) > 0 {
				suspended++
			}
			if i == 0 && p.Postpaid.On && !s.Overview.Account.Postpaid.On {
				orderStats["an application's own switch on"]++
			}
		}
		if i == 0 && suspended > 0 && suspended < len(s.Overview.Account.Apps) {
			orderStats["applications suspended while others were not"]++
		}
	}
	return out
}

// runModel applies order to the reference model and returns its states.
func runModel(rt *rapid.T, spec billing.AccountSpec, acct orderAccount, order []orderOp) [2]orderState {
	md := newRefModel(true, refZone)
	md.figures["USD"].bookID, md.figures["USD"].trial = orderBook().ID, orderBook().Trial.Minutes
	switch {
	case acct.era3:
		md.figures["USD"] = refEra3USD()
	case acct.monthly:
		md.figures["USD"].withMonthly(acct.book().ID)
	}
	if acct.monthlyCycle {
		md.figures["USD"].monthlyCohortsUntil = refMonthlyCohortsUntil
	}
	md.open(acct.opened, spec)
	if _, errs := md.createApp(acct.opened, "a", billing.AppSpec{ID: "app2", Postpaid: acct.app2}); len(errs) > 0 {
		rt.Fatalf("model: CreateApp: %v", errs)
	}
	if acct.overdue {
		if _, errs := md.reportOverdue(acct.opened, "a", "bill-1"); len(errs) > 0 {
			rt.Fatalf("model: ReportOverdue: %v", errs)
		}
	}
	now := acct.opened
	for _, o := range order {
		now = o.arrives
		var errs []error
		switch {
		case o.usage != nil:
			_, errs = md.record(now, *o.usage)
		case o.buy != nil:
			_, errs = md.buy(now, *o.buy)
		case o.create != nil:
			_, errs = md.createApp(now, "a", *o.create)
		case o.toggle != "":
			_, errs = md.toggleApp(now, "a", o.app, o.toggle == "disable")
		case o.paid:
			_, errs = md.reportPaid(now, "a", "bill-1")
		default:
			_, errs = md.enablePostpaid(now, "a", o.app)
		}
		if len(errs) > 0 {
			rt.Fatalf("model: %+v: %v", o, errs)
		}
	}
	a := md.accts["a"]
	var out [2]orderState
	for i := range out {
		now = orderLook
		if i == 1 {
			now = acct.settleAt()
			for _, d := range orderDays {
				if _, errs := md.settle(now, "a", d); len(errs) > 0 {
					rt.Fatalf("model: Settle(%s): %v", d, errs)
				}
			}
		}
		o, _ := md.overview(now, "a")
		s := orderState{Overview: o, Meters: map[billing.Day][]billing.Meter{}, Totals: map[string]string{}, Bills: md.billsOf("a")}
		for _, d := range orderDays {
			s.Meters[d] = a.metersOf(d)
		}
		// The ledger's totals: balances, meters' parts, prices and bills.
		for _, p := range a.cur.packages {
			if p.Balance != 0 {
				s.Totals["package "+p.ID] = fmt.Sprint(p.Balance)
			}
			if !p.Price.IsZero() {
				s.Totals[string(billing.EntryPurchase)] = refSum(s.Totals[string(billing.EntryPurchase)], p.Price)
			}
		}
		for k, m := range a.cur.meters {
			for kind, n := range map[billing.EntryKind]int64{billing.EntryDeduction: m.Prepaid, billing.EntryPostpaid: m.Postpaid, billing.EntryShortfall: m.Shortfall} {
				if n != 0 {
					s.Totals[fmt.Sprintf("%v %s", k, kind)] = fmt.Sprint(n)
				}
			}
		}
		for _, b := range a.bills {
			if !b.Total.IsZero() {
				s.Totals[string(billing.EntrySettlement)] = refSum(s.Totals[string(billing.EntrySettlement)], b.Total)
			}
		}
		out[i] = s
	}
	return out
}

// refSum adds d to the decimal sum s ("" for none).
func refSum(s string, d decimal.Decimal) string {
	if s == "" {
		return d.String()
	}
	return decimal.RequireFromString(s).Add(d).String()
}

// orderStats counts the exceptions TestArrivalOrder met (shown with -v).
var orderStats = map[string]int{}

// arrive returns ops in order of arrival: calls at their instants, usages
// at their time plus late(op); at equal instants, calls first, then usages
// in a random (but drawn) order.
func arrive(ops []orderOp, late func(*orderOp) time.Duration) []orderOp {
	out := slices.Clone(ops)
	for i := range out {
		if u := out[i].usage; u != nil {
			out[i].arrives = u.At.Add(late(&out[i]))
		}
	}
	slices.SortStableFunc(out, func(x, y orderOp) int {
		return cmp.Or(x.arrives.Compare(y.arrives), cmp.Compare(bool2int(x.usage != nil), bool2int(y.usage != nil)))
	})
	return out
}

func bool2int(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestSwitchStaysOnAtItsEarliest is the documented exception to the
// reference order, with the built-in ratios (a book without the trial). A
// package bought on a day absorbs its uncovered minutes in whole minutes,
// so what it keeps depends on which minutes there were: a late report can
// leave it more, and the minute that turned the switch on covered. The
// switch stays on from the instant it went on.
//
//	09:00 u1: 100 FHD minutes, nothing pays: shortfall, suspended
//	09:30 u0: 3 HD minutes (the late report), shortfall
//	10:00 p1: 1,000 minutes absorb 3 HD × 4 = 12, then floor(988/15) = 65
//	      FHD minutes (975): 13 left; 35 FHD minutes stay shortfall
//	11:00 u2: 1 audio minute: 12 left
//	12:00 u3: 3 HD minutes = 12: 0 left
//	13:00 u4: 1 audio minute: nothing pays, the switch goes on: postpaid
//
// Without u0, p1 absorbs floor(1,000/15) = 66 FHD minutes (990) and keeps
// 10: u2 leaves 9, and u3's third HD minute (4 > 1) turns the switch on at
// 12:00. With u0 reported after u4, the switch stays on from 12:00; every
// balance and meter is the same as in the reference order.
func TestSwitchStaysOnAtItsEarliest(t *testing.T) {
	u0 := usage("u0", hd, 180, at(15, 9, 30, 0))
	others := []*billing.Usage{usage("u2", audio, 60, at(15, 11, 0, 0)), usage("u3", hd, 180, at(15, 12, 0, 0)), usage("u4", audio, 60, at(15, 13, 0, 0))}
	run := func(late bool) (billing.Postpaid, map[string]int64, []billing.Meter) {
		h := newHarness(t, noTrial())
		h.do(open(at(15, 8, 0, 0), false), use("u1", fhd, 6000, at(15, 9, 0, 0)))
		if !late {
			h.do(use(u0.ID, u0.Tier, u0.Seconds, u0.At))
		}
		h.do(buy(at(15, 10, 0, 0), "p1", uni, 1000))
		for _, u := range others {
			h.do(use(u.ID, u.Tier, u.Seconds, u.At))
		}
		if late {
			h.clock.Set(at(15, 14, 0, 0))
			if _, err := h.e.Record(h.ctx, *u0); err != nil {
				t.Fatal(err)
			}
		}
		ms, err := h.e.Meters(h.ctx, "a", march(15))
		if err != nil {
			t.Fatal(err)
		}
		return h.account("a").Postpaid, h.balances("a"), ms
	}
	wantMeters := []billing.Meter{
		{Key: basic(march(15), audio), Seconds: 120, Prepaid: 1, Postpaid: 1},
		{Key: basic(march(15), hd), Seconds: 360, Prepaid: 6},
		{Key: basic(march(15), fhd), Seconds: 6000, Prepaid: 65, Shortfall: 35},
	}
	for _, tt := range []struct {
		name string
		late bool
		want billing.Postpaid
	}{
		{"in the reference order", false, billing.Postpaid{On: true, Since: at(15, 13, 0, 0), Way: billing.PostpaidAutomatic}},
		{"u0 reported last", true, billing.Postpaid{On: true, Since: at(15, 12, 0, 0), Way: billing.PostpaidAutomatic}},
	} {
		sw, balances, meters := run(tt.late)
		if diff := gocmp.Diff(tt.want, sw, cmpOpts); diff != "" {
			t.Errorf("%s: switch (-want +got):\n%s", tt.name, diff)
		}
		if diff := gocmp.Diff(map[string]int64{"p1": 0}, balances); diff != "" {
			t.Errorf("%s: balances (-want +got):\n%s", tt.name, diff)
		}
		if diff := gocmp.Diff(wantMeters, meters, cmpOpts); diff != "" {
			t.Errorf("%s: meters (-want +got):\n%s", tt.name, diff)
		}
	}
}

// legacyCopy returns a memstore holding account id of s as an Engine from
// before operations had keys would have left it: its records, with no
// checkpoint and a zero Frontier.
func legacyCopy(t *testing.T, s billing.Store, id string) billing.Store {
	t.Helper()
	var c billing.Changes
	err := s.View(context.Background(), id, func(r billing.Reader) error {
		a, err := r.Account()
		if err != nil {
			return err
		}
		a.Version, a.Frontier, a.SinceCheckpoint = 1, billing.OpKey{}, 0
		c.Account = &a
		collect := func(err error) {
			if err != nil {
				t.Fatal(err)
			}
		}
		collect(r.Packages(func(p billing.Package) bool { c.Packages = append(c.Packages, p); return true }))
		for _, p := range c.Packages {
			if pr, err := r.Purchase(p.ID); err == nil {
				c.Purchases = append(c.Purchases, pr)
			}
		}
		var days []billing.Day
		collect(r.Days(0, 1<<30, func(d billing.Day) bool { days = append(days, d); return true }))
		for _, d := range days {
			collect(r.Meters(d, func(m billing.Meter) bool { c.Meters = append(c.Meters, m); return true }))
		}
		collect(r.Usages(time.Time{}, time.Time{}, func(u billing.UsageRecord) bool { c.Usages = append(c.Usages, u); return true }))
		collect(r.Entries(time.Time{}, time.Time{}, func(e billing.Entry) bool { c.Entries = append(c.Entries, e); return true }))
		return r.Bills(0, 1<<30, func(b billing.Bill) bool { c.Bills = append(c.Bills, b); return true })
	})
	if err != nil {
		t.Fatal(err)
	}
	out := memstore.New()
	if err := out.Update(context.Background(), id, func(billing.Reader) (billing.Changes, error) { return c, nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMigratedAccount records usage on accounts recorded before operations
// had keys, then after: operations before the account's first unit of work
// afterwards are applied at its state then, in the order they arrive;
// those after it, in the reference order. Every case is 60 s HD usage on
// an account with postpaid on since its opening (so 1 postpaid minute for
// each usage alone in its minute).
func TestMigratedAccount(t *testing.T) {
	tests := []struct {
		name       string
		before     []op // recorded before the migration
		after      []op // after it
		wantMeters []billing.Meter
	}{
		{
			// 11:00, 11:30, 11:15 after u12: 4 × 60 s = 240 s, 4 minutes.
			name:       "usage before the last one of the migrated account",
			before:     []op{use("u12", hd, 60, at(15, 12, 0, 0))},
			after:      []op{use("u11", hd, 60, at(15, 11, 0, 0)), use("u1130", hd, 60, at(15, 11, 30, 0)), use("u1115", hd, 60, at(15, 11, 15, 0))},
			wantMeters: []billing.Meter{{Key: basic(march(15), hd), Seconds: 240, Postpaid: 4}},
		},
		{
			// u12 gives the account its first checkpoint (at the migration);
			// u10 comes before u12 in the reference order, then u14, u13.
			name:       "usage on both sides of the first checkpoint",
			after:      []op{use("u12", hd, 60, at(15, 12, 0, 0)), use("u10", hd, 60, at(15, 10, 0, 0)), use("u14", hd, 60, at(15, 14, 0, 0)), use("u13", hd, 60, at(15, 13, 0, 0))},
			wantMeters: []billing.Meter{{Key: basic(march(15), hd), Seconds: 240, Postpaid: 4}},
		},
		{
			// The 15th is settled after the migration, then usage of the
			// 15th arrives: the 15th gets it (120 s), the 16th keeps its 60 s.
			name:   "usage of a day settled after the migration",
			before: []op{use("d15", hd, 60, at(15, 20, 0, 0)), use("d16", hd, 60, at(16, 1, 0, 0))},
			after:  []op{settle(at(16, 10, 0, 0), march(15)), {now: at(16, 11, 0, 0), use: usage("late15", hd, 60, at(15, 21, 0, 0))}},
			wantMeters: []billing.Meter{
				{Key: basic(march(15), hd), Seconds: 120, Postpaid: 2, Settled: billing.Tally{Seconds: 60, Postpaid: 1}},
				{Key: basic(march(16), hd), Seconds: 60, Postpaid: 1},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := newHarness(t, noTrial())
			old.do(open(at(15, 8, 0, 0), true))
			old.do(tt.before...)
			h := newHarnessOn(t, legacyCopy(t, old.store, "a"), noTrial())
			h.clock.Set(old.clock.Now())
			h.do(tt.after...)
			var got []billing.Meter
			for _, d := range []billing.Day{march(15), march(16)} {
				got = append(got, h.state("a", d).Meters[d]...)
			}
			if diff := gocmp.Diff(tt.wantMeters, got, cmpOpts); diff != "" {
				t.Errorf("meters (-want +got):\n%s", diff)
			}
			// The ledger still adds up to the meters.
			s := h.state("a")
			for _, m := range got {
				if n := s.Totals[fmt.Sprintf("%v %s", m.Key, billing.EntryPostpaid)]; n != fmt.Sprint(m.Postpaid) {
					t.Errorf("meter %v: postpaid %d, ledger %s", m.Key, m.Postpaid, n)
				}
			}
		})
	}
}

// TestLateUsageLedger checks that a late usage's ledger entries, the
// differences its replay made, carry its id, App and Scenario, and still
// sum to the meter's parts: u1 (10:00) is recorded first, then u0 (09:00,
// app2), 120 s of HD: 2 more postpaid minutes (postpaid at opening).
func TestLateUsageLedger(t *testing.T) {
	h := newHarness(t, noTrial())
	h.do(open(at(15, 8, 0, 0), true))
	if _, err := h.e.CreateApp(h.ctx, "a", billing.AppSpec{ID: "app2"}); err != nil {
		t.Fatal(err)
	}
	h.do(use("u1", hd, 60, at(15, 10, 0, 0)))
	u0 := usage("u0", hd, 120, at(15, 9, 0, 0))
	u0.App = "app2"
	h.clock.Set(at(15, 11, 0, 0))
	if r, err := h.e.Record(h.ctx, *u0); err != nil || !r.Late {
		t.Fatalf("Record(u0) = %+v, %v; want a late receipt", r, err)
	}
	byApp := map[string]int64{}
	for _, en := range h.state("a").Ledger {
		if en.Kind == billing.EntryPostpaid {
			byApp[en.Ref+"/"+en.App+"/"+string(en.Scenario)] += en.Minutes
		}
	}
	want := map[string]int64{"u1/app1/video-call": 1, "u0/app2/video-call": 2}
	if diff := gocmp.Diff(want, byApp); diff != "" {
		t.Errorf("postpaid minutes by usage, App and Scenario (-want +got):\n%s", diff)
	}
}

// TestSettledDayOrder checks that usages of a settled day are sequenced at
// the start of the first unsettled day by time, then id, whatever order
// they arrive in: on the 15th, 498 HD minutes leave the 500-minute trial
// 2 minutes; the 15th is settled; then X (SD, 12:00, 2 minutes) and Y
// (audio, 11:00, 2 minutes) arrive, in either order. Y comes first: the
// trial pays its 2 minutes, and X's 2 are shortfall (the HD meter was
// settled as it is).
func TestSettledDayOrder(t *testing.T) {
	x, y := usage("X", sd, 120, at(15, 12, 0, 0)), usage("Y", audio, 120, at(15, 11, 0, 0))
	key := func(tier billing.Tier) billing.MeterKey {
		return billing.MeterKey{Day: march(15), Service: billing.ServiceBasic, Tier: tier}
	}
	want := []billing.Meter{{Key: key(audio), Seconds: 120, Prepaid: 2}, {Key: key(sd), Seconds: 120, Shortfall: 2},
		{Key: key(hd), Seconds: 498 * 60, Prepaid: 498, Settled: billing.Tally{Seconds: 498 * 60, Prepaid: 498}}}
	for _, order := range [][]*billing.Usage{{x, y}, {y, x}} {
		h := newHarness(t, orderBook())
		h.do(open(at(15, 8, 0, 0), false), use("B", hd, 498*60, at(15, 10, 0, 0)), op{now: at(16, 10, 0, 0), settle: march(15)})
		for _, u := range order {
			h.do(late(u.ID, u.Tier, u.Seconds, u.At, at(16, 11, 0, 0)))
		}
		// A late usage of the 16th replays from the period's start, with
		// X and Y again: nothing of the 15th changes.
		h.do(use("W", audio, 60, at(16, 10, 45, 0)), late("Z", audio, 60, at(16, 10, 30, 0), at(16, 11, 0, 0)))
		s := h.state("a", march(15))
		if diff := gocmp.Diff(want, s.Meters[march(15)]); diff != "" {
			t.Errorf("%s then %s: meters of the 15th (-want +got):\n%s", order[0].ID, order[1].ID, diff)
		}
	}
}

// TestSettledDayEndedPackage checks that a package that ended by the start
// of the first unsettled period pays for no usage of a settled day, even
// within its grace: the trial of an account opened on 2021-01-28 is valid
// through 2022-01-31 (forfeited 10 hours later). Once that day is settled,
// at 01:00, u1 (2022-01-29, 1 s of audio) finds nothing to pay for its
// minute: shortfall, and the trial keeps its 10,000 minutes, however often
// the usages of settled days are replayed (v2, a recording, replays u1).
func TestSettledDayEndedPackage(t *testing.T) {
	day := func(m time.Month, d, hh int) time.Time { return time.Date(2022, m, d, hh, 0, 0, 0, cst) }
	h := newHarness(t)
	h.do(op{now: time.Date(2021, 1, 28, 8, 0, 0, 0, cst), open: &billing.AccountSpec{ID: "a", App: "app1"}},
		op{now: day(2, 1, 1), settle: refDateDay(2022, 1, 31)})
	if end := h.state("a").Overview.Packages[0].End; !end.Equal(day(2, 1, 0)) {
		t.Fatalf("the trial ends at %v, want %v", end, day(2, 1, 0))
	}
	h.clock.Set(day(2, 1, 2))
	r, err := h.e.Record(h.ctx, *usage("u1", audio, 1, day(1, 29, 0)))
	if want := (billing.Receipt{Key: billing.MeterKey{Day: refDateDay(2022, 1, 29), Service: billing.ServiceBasic, Tier: audio},
		Minutes: 1, Shortfall: 1, Suspended: true, Late: true}); err != nil || !gocmp.Equal(want, r) {
		t.Fatalf("Record(u1) = %+v, %v; want %+v", r, err, want)
	}
	v2 := usage("v2", audio, 1, day(1, 29, 0))
	v2.Service, v2.Scenario = recording, ""
	h.do(op{use: v2})
	if got := h.balances("a")[billing.TrialID]; got != 10000 {
		t.Errorf("trial balance %d, want 10000", got)
	}
}

// TestSettledDaySwitch checks the automatic switch turned on by a usage of a
// settled day: it goes on at that usage's time, before the start of the
// first unsettled day where the usage is sequenced; a usage of an earlier
// settled day that arrives later is sequenced before it, and turns it on
// at its own, earlier, time. The universal package bought on 2020-05-28
// ends at the start of 2021-06-01; once 2021-05-31 is settled, w2
// (2021-05-30 20:48:03, 62 s of HD) finds nothing to pay for its 2 minutes
// and turns postpaid on; then u6 (2021-05-29 00:00, 39 s of FHD): 1 minute
// postpaid, turning it on at its time.
func TestSettledDaySwitch(t *testing.T) {
	h := newHarness(t)
	bought := time.Date(2020, 5, 28, 0, 0, 0, 0, cst)
	h.do(op{now: bought, open: &billing.AccountSpec{ID: "a", App: "app1"}},
		op{now: bought, buy: &billing.Purchase{ID: "p1", Account: "a", Kind: billing.KindUniversal, Minutes: 1000}},
		op{now: time.Date(2021, 6, 1, 0, 0, 0, 0, cst), settle: refDateDay(2021, 5, 31)})
	on := time.Date(2021, 5, 30, 20, 48, 3, 0, cst)
	r, err := h.e.Record(h.ctx, *usage("w2", hd, 62, on))
	if err != nil || !r.PostpaidOn || r.Postpaid != 2 {
		t.Fatalf("Record(w2) = %+v, %v; want 2 minutes postpaid, the switch turned on", r, err)
	}
	earlier := time.Date(2021, 5, 29, 0, 0, 0, 0, cst)
	r, err = h.e.Record(h.ctx, *usage("u6", fhd, 39, earlier))
	if err != nil || !r.PostpaidOn || r.Postpaid != 1 {
		t.Fatalf("Record(u6) = %+v, %v; want 1 minute postpaid, the switch turned on", r, err)
	}
	want := billing.Postpaid{On: true, Since: earlier, Way: billing.PostpaidAutomatic}
	if got := h.state("a").Overview.Account.Postpaid; !got.Since.Equal(want.Since) || got.On != want.On || got.Way != want.Way {
		t.Errorf("switch %+v, want %+v", got, want)
	}
}

// TestSettledDaySwitchEarliest checks that the automatic switch goes on at
// the earliest usage, in time, that turns it on, among usages of settled
// days that arrive in any order: a later report of an earlier day moves it
// earlier, as the reference order does.
func TestSettledDaySwitchEarliest(t *testing.T) {
	for _, order := range [][2]string{{"w", "u"}, {"u", "w"}} {
		h := newHarness(t)
		// The trial and p1 used up on March 1; days to March 6 settled.
		h.do(open(at(1, 8, 0, 0), false), buy(at(1, 9, 0, 0), "p1", uni, 1000),
			op{now: at(1, 12, 0, 0), use: usage("u0", audio, 11_000*60, at(1, 12, 0, 0))},
			settle(at(2, 10, 0, 0), march(1)), settle(at(7, 10, 0, 0), march(6)))
		late := map[string]*billing.Usage{"w": usage("w", audio, 600, at(3, 12, 0, 0)), "u": usage("u", audio, 600, at(5, 12, 0, 0))}
		for i, id := range order {
			h.do(op{now: at(7, 11+i, 0, 0), use: late[id]})
		}
		// Nothing covers either: the account bought a universal package, so
		// the switch goes on automatically at w's time, the earlier.
		want := billing.Postpaid{On: true, Since: at(3, 12, 0, 0), Way: billing.PostpaidAutomatic}
		if got := h.account("a").Postpaid; !gocmp.Equal(want, got, cmpOpts) {
			t.Errorf("arriving %v: switch %+v, want %+v", order, got, want)
		}
	}
}
