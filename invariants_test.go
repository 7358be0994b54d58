package billing_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

// TestInvariants runs random sequences of operations on two accounts (open,
// buy, record, replay, enable postpaid, move the clock by minutes to more
// than a year) and checks after every step:
//
//   - conservation: every receipt's draws, postpaid and shortfall add up to
//     its billable minutes, and each draw takes its minutes × a ratio of the
//     package's kind;
//   - no balance is negative or above the package's size;
//   - the ledger rebuilds every package balance and every meter's prepaid,
//     postpaid and shortfall minutes, and its Seq runs 1, 2, 3, ... in time order;
//   - every meter's parts add up to ceil(seconds/60), its usages' seconds
//     to its seconds, and, when none of them came late, their receipts to
//     its minutes;
//   - the postpaid switch never goes off, and the instant it went on never
//     moves later (a late report can only find it went on earlier);
//   - a suspended account has postpaid off; a receipt that came in order
//     says whether the account was suspended at its time;
//   - value-added usage is all postpaid;
//   - a replay returns the first receipt and changes nothing;
//   - a bill's amounts are its minutes at its unit prices, its total its
//     subtotal rounded once, and an issued bill never changes;
//   - the lines of all bills of a meter add up to what its last bill saw of
//     it (Settled): every second and minute is billed once.
func TestInvariants(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		m := &machine{
			h:        newHarness(rt, smallTrialMonthly()),
			receipts: map[string]receipt{},
			switches: map[string]billing.Postpaid{},
			days:     map[billing.Day]bool{},
			bills:    map[string][]billing.Bill{},
		}
		m.h.clock.Set(at(15, 8, 0, 0))
		rt.Repeat(map[string]func(*rapid.T){
			"open":    m.open,
			"buy":     m.buy,
			"record":  m.record,
			"replay":  m.replay,
			"enable":  m.enable,
			"advance": m.advance,
			"settle":  m.settle,
			"":        m.check,
		})
	})
}

// smallTrialMonthly has a 500-minute trial, the universal package, and the
// custom "monthly" kind (no automatic postpaid).
func smallTrialMonthly() billing.PriceBook {
	b := trialMonthly()
	b.ID = "era1-usd-small-trial-monthly"
	b.Trial.Minutes = 500
	return b
}

var ratiosOf = map[string]map[billing.Tier]int64{
	billing.KindTrial: {audio: 1, sd: 1, hd: 1, fhd: 1},
	uni:               {audio: 1, sd: 2, hd: 4, fhd: 15},
	"monthly":         {audio: 1, sd: 2, hd: 4, fhd: 15},
}

type receipt struct {
	usage   billing.Usage
	receipt billing.Receipt
}

type machine struct {
	h        *harness
	opened   []string
	receipts map[string]receipt          // by usage id
	kinds    map[string]string           // package kind by account/package id
	switches map[string]billing.Postpaid // the switch once seen on
	days     map[billing.Day]bool
	bills    map[string][]billing.Bill // issued, by account
	n        int
}

func (m *machine) account(t *rapid.T) string {
	if len(m.opened) == 0 {
		t.Skip("no account yet")
	}
	return rapid.SampledFrom(m.opened).Draw(t, "account")
}

func (m *machine) open(t *rapid.T) {
	id := rapid.SampledFrom([]string{"a", "b"}).Draw(t, "id")
	for _, o := range m.opened {
		if o == id {
			t.Skip("already open")
		}
	}
	if _, err := m.h.e.OpenAccount(m.h.ctx, billing.AccountSpec{ID: id, Postpaid: rapid.Bool().Draw(t, "postpaid"), App: "app1"}); err != nil {
		t.Fatalf("OpenAccount: %v", err)
	}
	m.opened = append(m.opened, id)
	if m.kinds == nil {
		m.kinds = map[string]string{}
	}
	m.kinds[id+"/"+billing.TrialID] = billing.KindTrial
}

func (m *machine) buy(t *rapid.T) {
	a := m.account(t)
	kind := rapid.SampledFrom([]string{uni, "monthly"}).Draw(t, "kind")
	minutes := rapid.Int64Range(1, 30).Draw(t, "minutes")
	if kind == uni {
		minutes *= 1000
	}
	m.n++
	id := fmt.Sprintf("p%d", m.n)
	if _, err := m.h.e.Buy(m.h.ctx, billing.Purchase{ID: id, Account: a, Kind: kind, Minutes: minutes}); err != nil {
		t.Fatalf("Buy: %v", err)
	}
	m.kinds[a+"/"+id] = kind
}

func (m *machine) record(t *rapid.T) {
	a := m.account(t)
	now := m.h.clock.Now()
	ago := time.Duration(rapid.Int64Range(0, int64(48*time.Hour)).Draw(t, "ago"))
	acc := m.h.account(a)
	when := now.Add(-ago)
	if when.Before(acc.Opened) {
		when = acc.Opened
	}
	tier := rapid.SampledFrom([]billing.Tier{audio, sd, hd, fhd}).Draw(t, "tier")
	service := rapid.SampledFrom([]billing.Service{billing.ServiceBasic, billing.ServiceBasic, recording, mix}).Draw(t, "service")
	m.n++
	u := *usage(fmt.Sprintf("u%d", m.n), tier, rapid.Int64Range(1, 20_000).Draw(t, "seconds"), when)
	u.Account, u.Service = a, service
	if service != billing.ServiceBasic {
		u.Scenario = ""
	}
	r, err := m.h.e.Record(m.h.ctx, u)
	if err != nil {
		t.Fatalf("Record: %v", err) // usage is a fact: recorded whatever the account's state
	}
	if late := acc.Frontier.Compare(billing.OpKey{At: when, Class: billing.ClassUsage, ID: u.ID}) >= 0 ||
		mustDay(t, when) <= acc.SettledThrough; r.Late != late {
		t.Fatalf("receipt %+v: Late %v, but the account's frontier was %+v", r, r.Late, acc.Frontier)
	}
	if suspended := acc.Apps[0].Status.Suspended && !when.Before(acc.Apps[0].Status.Since); !r.Late && r.WhileSuspended != suspended {
		t.Fatalf("receipt %+v: WhileSuspended %v, but the account's status before was %+v", r, r.WhileSuspended, acc.Apps[0].Status)
	}
	if r.NoBasicService && (service == billing.ServiceBasic || !r.Late && (acc.Postpaid.On || acc.AutoPostpaidArmed)) {
		t.Fatalf("receipt %+v: no basic service, for basic usage or an account that can pay for basic usage: %+v", r, acc)
	}
	if service != billing.ServiceBasic && r.WhileSuspended && !r.NoBasicService {
		t.Fatalf("receipt %+v: value-added usage of a suspended account, not flagged as without a basic service", r)
	}
	if service != billing.ServiceBasic && (r.Postpaid != r.Minutes || len(r.Draws) > 0) {
		t.Fatalf("value-added receipt %+v: want all minutes postpaid", r)
	}
	var sum int64
	for _, d := range r.Draws {
		sum += d.Minutes
		ratio := ratiosOf[m.kinds[a+"/"+d.Package]][tier]
		if d.Minutes <= 0 || d.Deducted != d.Minutes*ratio {
			t.Fatalf("draw %+v of a %s minute: want a positive number of minutes × ratio %d", d, tier, ratio)
		}
	}
	if sum+r.Postpaid+r.Shortfall != r.Minutes || r.Postpaid < 0 || r.Shortfall < 0 {
		t.Fatalf("receipt %+v does not conserve: draws %d + postpaid %d + shortfall %d != %d", r, sum, r.Postpaid, r.Shortfall, r.Minutes)
	}
	if r.Suspended && (r.Shortfall == 0 || !r.Late && acc.Apps[0].Status.Suspended) {
		t.Fatalf("receipt %+v: suspended without shortfall, or already suspended", r)
	}
	if r.Shortfall > 0 && !r.Late && !m.h.account(a).Apps[0].Status.Suspended {
		t.Fatalf("receipt %+v: shortfall, but the account is not suspended", r)
	}
	m.receipts[u.ID] = receipt{u, r}
	m.days[r.Key.Day] = true
}

// mustDay is the billing day of t in UTC+8, the harness's zone.
func mustDay(t *rapid.T, at time.Time) billing.Day {
	d, err := billing.DayOf(at, cst)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (m *machine) replay(t *rapid.T) {
	if len(m.receipts) == 0 {
		t.Skip("nothing to replay")
	}
	ids := make([]string, 0, len(m.receipts))
	for id := range m.receipts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	first := m.receipts[rapid.SampledFrom(ids).Draw(t, "usage")]
	days := m.dayList()
	before := m.h.state(first.usage.Account, days...)
	got, err := m.h.e.Record(m.h.ctx, first.usage)
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	if diff := cmp.Diff(first.receipt, got, cmpOpts); diff != "" {
		t.Fatalf("replay receipt (-first +replay):\n%s", diff)
	}
	after := m.h.state(first.usage.Account, days...)
	before.Overview.Today, after.Overview.Today = 0, 0
	if diff := cmp.Diff(before, after, cmpOpts); diff != "" {
		t.Fatalf("replay changed the account (-before +after):\n%s", diff)
	}
}

func (m *machine) enable(t *rapid.T) {
	if _, err := m.h.e.EnablePostpaid(m.h.ctx, m.account(t), ""); err != nil {
		t.Fatalf("EnablePostpaid: %v", err)
	}
}

func (m *machine) advance(t *rapid.T) {
	d := rapid.SampledFrom([]time.Duration{time.Minute, time.Hour, 20 * time.Hour, 10 * 24 * time.Hour, 400 * 24 * time.Hour}).Draw(t, "by")
	m.h.clock.Set(m.h.clock.Now().Add(d))
}

func (m *machine) settle(t *rapid.T) {
	a := m.account(t)
	now := m.h.clock.Now()
	due, err := m.h.e.DueDays(m.h.ctx, a, now)
	if err != nil {
		t.Fatalf("DueDays: %v", err)
	}
	for _, d := range due {
		b, err := m.h.e.Settle(m.h.ctx, a, d)
		if err != nil {
			t.Fatalf("Settle(%s) of a due day: %v", d, err)
		}
		sum := decimal.Decimal{}
		for _, l := range b.Lines {
			if !l.Amount.Equal(l.UnitPrice.Mul(decimal.NewFromInt(l.Billed))) || l.Minutes != l.Prepaid+l.Postpaid+l.Shortfall ||
				l.Billed < l.Postpaid || l.Billed > l.Postpaid+l.Shortfall+l.Deferred || l.Adjustment != (l.Day != d) {
				t.Fatalf("bill of %s: line %+v does not add up", d, l)
			}
			sum = sum.Add(l.Amount)
		}
		if !sum.Equal(b.Subtotal) || !b.Total.Equal(b.Subtotal.Round(2)) {
			t.Fatalf("bill of %s: subtotal %s, total %s; lines sum to %s", d, b.Subtotal, b.Total, sum)
		}
		m.bills[a] = append(m.bills[a], b)
	}
}

func (m *machine) dayList() []billing.Day {
	var days []billing.Day
	for d := range m.days {
		days = append(days, d)
	}
	return days
}

func (m *machine) check(t *rapid.T) {
	for _, a := range m.opened {
		issued, err := m.h.e.Bills(m.h.ctx, a, 0, 1<<30)
		if err != nil {
			t.Fatalf("Bills: %v", err)
		}
		if diff := cmp.Diff(m.bills[a], issued, cmpOpts); diff != "" {
			t.Fatalf("account %s: issued bills changed (-issued +now):\n%s", a, diff)
		}
		s := m.h.state(a, m.dayList()...)
		acc := s.Overview.Account
		// A late report can find that the switch went on earlier, or at the
		// same instant in another way that came first in the reference
		// order (usage at the instant of an EnablePostpaid call comes
		// before it).
		if prev, ok := m.switches[a]; ok && (!acc.Postpaid.On || acc.Postpaid.Since.After(prev.Since)) {
			t.Fatalf("account %s: switch %+v became %+v", a, prev, acc.Postpaid)
		}
		if acc.Postpaid.On {
			m.switches[a] = acc.Postpaid
		}
		if acc.Apps[0].Status.Suspended && acc.Postpaid.On {
			t.Fatalf("account %s: suspended with postpaid on", a)
		}
		pkgSum := map[string]int64{}
		meterSum := map[billing.MeterKey][3]int64{}
		for i, en := range s.Ledger {
			if en.Seq != int64(i+1) || (i > 0 && en.At.Before(s.Ledger[i-1].At)) {
				t.Fatalf("account %s: entry %d is %+v: Seq or time out of order", a, i, en)
			}
			if en.Package != "" {
				pkgSum[en.Package] += en.Balance
			}
			ms := meterSum[en.Key]
			switch en.Kind {
			case billing.EntryDeduction:
				ms[0] += en.Minutes
			case billing.EntryPostpaid:
				ms[1] += en.Minutes
			case billing.EntryShortfall:
				ms[2] += en.Minutes
			}
			meterSum[en.Key] = ms
		}
		for _, p := range s.Overview.Packages {
			if p.Balance < 0 || p.Balance > p.Minutes || p.Forfeited < 0 {
				t.Fatalf("account %s: package %+v out of bounds", a, p)
			}
			if pkgSum[p.ID] != p.Balance {
				t.Fatalf("account %s: package %s balance %d, ledger sums to %d", a, p.ID, p.Balance, pkgSum[p.ID])
			}
		}
		billed := map[billing.MeterKey]billing.Tally{}
		for _, b := range issued {
			for _, l := range b.Lines {
				k := billing.MeterKey{Day: l.Day, Service: l.Service, Tier: l.Tier}
				s := billed[k]
				billed[k] = billing.Tally{Seconds: s.Seconds + l.Seconds, Prepaid: s.Prepaid + l.Prepaid,
					Postpaid: s.Postpaid + l.Postpaid, Shortfall: s.Shortfall + l.Shortfall}
			}
		}
		receipts := map[billing.MeterKey]int64{}
		seconds := map[billing.MeterKey]int64{}
		late := map[billing.MeterKey]bool{}
		for _, r := range m.receipts {
			if r.usage.Account == a {
				receipts[r.receipt.Key] += r.receipt.Minutes
				seconds[r.receipt.Key] += r.usage.Seconds
				late[r.receipt.Key] = late[r.receipt.Key] || r.receipt.Late
			}
		}
		for _, day := range s.Meters {
			for _, mt := range day {
				want := [3]int64{mt.Prepaid, mt.Postpaid, mt.Shortfall}
				if meterSum[mt.Key] != want {
					t.Fatalf("account %s: meter %+v, ledger sums to %v", a, mt, meterSum[mt.Key])
				}
				if mt.Prepaid+mt.Postpaid+mt.Shortfall != mt.Minutes() || mt.Minutes() != (mt.Seconds+59)/60 {
					t.Fatalf("account %s: meter %+v does not add up", a, mt)
				}
				if billed[mt.Key] != mt.Settled {
					t.Fatalf("account %s: meter %+v, its bill lines add up to %+v", a, mt, billed[mt.Key])
				}
				if !late[mt.Key] && receipts[mt.Key] != mt.Minutes() || seconds[mt.Key] != mt.Seconds {
					t.Fatalf("account %s: meter %+v, receipts add up to %d minutes of %d seconds", a, mt, receipts[mt.Key], seconds[mt.Key])
				}
			}
		}
	}
}
