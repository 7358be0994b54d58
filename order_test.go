package billing_test

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
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
}

// TestArrivalOrder is the property of the reference order (SPEC
// "Principles": event time decides, not arrival order). It draws a set of
// operations on one account over two days: usages (sub-minute and long,
// equal instants, around midnight, every tier, value-added ones), purchases
// that run out mid-day (the trial is 500 minutes, the universal package
// 1,000) and perhaps an EnablePostpaid call. Purchases and the call happen
// at their instants; each usage arrives at its time plus a lateness drawn
// anew for each of several arrival orders (none, minutes, hours, a whole
// day). Every order must end in the state of the reference model applying
// the operations in key order: meters, packages, the switch, the status and
// suspensions, the ledger's totals; and, once both days are settled, the
// same bills.
func TestArrivalOrder(t *testing.T) {
	defer func() { t.Logf("%v", orderStats) }()
	rapid.Check(t, func(rt *rapid.T) {
		open := at(15, rapid.IntRange(0, 12).Draw(rt, "openHour"), 0, 0)
		spec := billing.AccountSpec{ID: "a", Postpaid: rapid.IntRange(0, 3).Draw(rt, "postpaidAtOpening") == 0}
		var ops []orderOp
		instants := rapid.SliceOfN(rapid.Int64Range(0, 40*60), 1, 8).Draw(rt, "instants") // minutes after opening
		for i := range rapid.IntRange(1, 40).Draw(rt, "usages") {
			at := open.Add(time.Duration(rapid.SampledFrom(instants).Draw(rt, "instant"))*time.Minute +
				time.Duration(rapid.IntRange(0, 2).Draw(rt, "second"))*time.Second)
			tier := rapid.SampledFrom([]billing.Tier{audio, sd, hd, fhd}).Draw(rt, "tier")
			seconds := rapid.OneOf(rapid.Int64Range(1, 59), rapid.Int64Range(60, 600), rapid.Int64Range(600, 60*400)).Draw(rt, "seconds")
			u := usage(fmt.Sprintf("u%02d", i), tier, seconds, at)
			if rapid.IntRange(0, 5).Draw(rt, "valueAdded") == 0 {
				u.Service, u.Scenario = recording, ""
			}
			ops = append(ops, orderOp{usage: u})
		}
		for i := range rapid.IntRange(0, 3).Draw(rt, "purchases") {
			// Universal packages only: with the trial's 1:1, every kind
			// then shares one ratio vector, and the switch's exception
			// cannot happen (see TestSwitchStaysOnAtItsEarliest).
			at := open.Add(time.Duration(rapid.Int64Range(1, 40*60).Draw(rt, "bought")) * time.Minute)
			ops = append(ops, orderOp{arrives: at, buy: &billing.Purchase{ID: fmt.Sprintf("p%d", i), Account: "a", Kind: uni, Minutes: 1000}})
		}
		if rapid.IntRange(0, 3).Draw(rt, "enable") == 0 {
			ops = append(ops, orderOp{arrives: open.Add(time.Duration(rapid.Int64Range(1, 40*60).Draw(rt, "enabled")) * time.Minute), enable: true})
		}
		// The oracle: the model, given the operations in key order.
		want := runModel(rt, spec, open, arrive(ops, func(*orderOp) time.Duration { return 0 }))
		for k := range 10 {
			lateness := rapid.SampledFrom([]time.Duration{0, 5 * time.Minute, 3 * time.Hour, 30 * time.Hour}).Draw(rt, "lateness")
			order := arrive(ops, func(*orderOp) time.Duration {
				return time.Duration(rapid.Int64Range(0, int64(lateness)).Draw(rt, "late"))
			})
			got := runEngine(rt, spec, open, order)
			if diff := gocmp.Diff(runModel(rt, spec, open, order), got, refCmpOpts); diff != "" {
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

// runEngine applies order to an Engine and returns its states.
func runEngine(rt *rapid.T, spec billing.AccountSpec, open time.Time, order []orderOp) [2]orderState {
	h := newHarness(rt, orderBook())
	h.do(op{now: open, open: &spec})
	for _, o := range order {
		h.clock.Set(o.arrives)
		var err error
		switch {
		case o.usage != nil:
			_, err = h.e.Record(h.ctx, *o.usage)
		case o.buy != nil:
			_, err = h.e.Buy(h.ctx, *o.buy)
		default:
			_, err = h.e.EnablePostpaid(h.ctx, "a")
		}
		if err != nil {
			rt.Fatalf("%+v: %v", o, err)
		}
	}
	var out [2]orderState
	for i := range out {
		h.clock.Set(orderLook)
		if i == 1 {
			h.clock.Set(orderSettle)
			for _, d := range orderDays {
				if _, err := h.e.Settle(h.ctx, "a", d); err != nil {
					rt.Fatalf("Settle(%s): %v", d, err)
				}
			}
		}
		s := h.state("a", orderDays...)
		bills, err := h.e.Bills(h.ctx, "a", orderDays[0], orderDays[len(orderDays)-1])
		if err != nil {
			rt.Fatal(err)
		}
		out[i] = orderState{Overview: s.Overview, Meters: s.Meters, Totals: s.Totals, Bills: bills}
	}
	return out
}

// runModel applies order to the reference model and returns its states.
func runModel(rt *rapid.T, spec billing.AccountSpec, open time.Time, order []orderOp) [2]orderState {
	md := newRefModel(true, refZone)
	md.figures["USD"].bookID, md.figures["USD"].trial = orderBook().ID, orderBook().Trial.Minutes
	md.open(open, spec)
	now := open
	for _, o := range order {
		now = o.arrives
		var errs []error
		switch {
		case o.usage != nil:
			_, errs = md.record(now, *o.usage)
		case o.buy != nil:
			_, errs = md.buy(now, *o.buy)
		default:
			_, errs = md.enablePostpaid(now, "a")
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
			now = orderSettle
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
