package memstore

import (
	"strings"
	"time"

	"github.com/rtcbill/billing"
	"github.com/shopspring/decimal"
)

// The records that grow with every usage (usage records, their receipts'
// draws, ledger entries) are kept in a compact form: the strings that
// repeat (kinds, requests, services, scenarios, tiers, account, application
// and package ids) as numbers in the account's symbol table, and amounts of
// money apart, where they are not the zero Decimal. A usage with one draw
// and one entry takes 248 bytes instead of 456 plus the draws' own slice,
// with 4 pointers for the garbage collector to follow instead of 21.

// sym is a string interned in a symtab; 0 is "".
type sym uint32

// symtab interns an account's repeating strings.
type symtab struct {
	strs  []string // strs[s-1] is the string of s
	index map[string]sym
	// last holds the string each field interned last and its sym: a field
	// mostly repeats its last string, and then skips the map.
	last [fields]struct {
		s  string
		id sym
	}
}

// The fields of records that intern their strings, each with its own entry
// in symtab.last.
const (
	fieldAccount = iota
	fieldApp
	fieldService
	fieldScenario
	fieldTier
	fieldPackage
	fieldKind
	fieldRequest
	fields
)

// intern returns the sym of s, a string of field f, adding it if new.
func (t *symtab) intern(f int, s string) sym {
	l := &t.last[f]
	if s == l.s {
		return l.id
	}
	id, ok := t.index[s]
	if !ok {
		if t.index == nil {
			t.index = map[string]sym{"": 0}
		}
		s = strings.Clone(s) // not a part of a larger string of the caller's
		t.strs = append(t.strs, s)
		id = sym(len(t.strs))
		t.index[s] = id
	}
	l.s, l.id = s, id
	return id
}

func (t *symtab) str(s sym) string {
	if s == 0 {
		return ""
	}
	return t.strs[s-1]
}

// usageRec is a stored billing.UsageRecord. Its receipt's draws are
// draws[first:], up to the next record's first (or the end of draws).
type usageRec struct {
	id                           string
	at                           time.Time
	seconds                      int64
	minutes, postpaid, shortfall int64
	first                        int
	day                          billing.Day
	account, app, service        sym
	scenario, tier               sym
	keyService, keyTier          sym
	postpaidOn, suspended        bool
}

// drawRec is a stored billing.Draw.
type drawRec struct {
	pkg               sym
	minutes, deducted int64
}

// entryRec is a stored billing.Entry; amount is the index in amounts plus
// one, or 0 for the zero Decimal.
type entryRec struct {
	ref                   string
	at                    time.Time
	seq, balance, minutes int64
	amount                int
	day                   billing.Day
	kind, request, pkg    sym
	service, tier         sym
	app, scenario         sym
}

// addUsage stores u, whose receipt's draws are draws (u.Receipt.Draws is
// ignored).
func (a *account) addUsage(u *billing.UsageRecord, draws []billing.Draw) {
	s := &a.syms
	k := &u.Receipt.Key
	a.records.add(usageRec{
		id: u.Usage.ID, at: u.Usage.At, seconds: u.Usage.Seconds,
		minutes: u.Receipt.Minutes, postpaid: u.Receipt.Postpaid, shortfall: u.Receipt.Shortfall,
		first: a.draws.n, day: k.Day,
		account: s.intern(fieldAccount, u.Usage.Account), app: s.intern(fieldApp, u.Usage.App), service: s.intern(fieldService, string(u.Usage.Service)),
		scenario: s.intern(fieldScenario, string(u.Usage.Scenario)), tier: s.intern(fieldTier, string(u.Usage.Tier)),
		keyService: s.intern(fieldService, string(k.Service)), keyTier: s.intern(fieldTier, string(k.Tier)),
		postpaidOn: u.Receipt.PostpaidOn, suspended: u.Receipt.Suspended,
	})
	for _, d := range draws {
		a.draws.add(drawRec{pkg: s.intern(fieldPackage, d.Package), minutes: d.Minutes, deducted: d.Deducted})
	}
}

// usage returns the i-th stored usage record, sharing no memory with the store.
func (a *account) usage(i int) billing.UsageRecord {
	r, s := a.records.at(i), &a.syms
	end := a.draws.n
	if i+1 < a.records.n {
		end = a.records.at(i + 1).first
	}
	var draws []billing.Draw
	if end > r.first {
		draws = make([]billing.Draw, 0, end-r.first)
		for j := r.first; j < end; j++ {
			d := a.draws.at(j)
			draws = append(draws, billing.Draw{Package: s.str(d.pkg), Minutes: d.minutes, Deducted: d.deducted})
		}
	}
	return billing.UsageRecord{
		Usage: billing.Usage{
			ID: r.id, Account: s.str(r.account), App: s.str(r.app), Service: billing.Service(s.str(r.service)),
			Scenario: billing.Scenario(s.str(r.scenario)), Tier: billing.Tier(s.str(r.tier)), Seconds: r.seconds, At: r.at,
		},
		Receipt: billing.Receipt{
			Key:     billing.MeterKey{Day: r.day, Service: billing.Service(s.str(r.keyService)), Tier: billing.Tier(s.str(r.keyTier))},
			Minutes: r.minutes, Draws: draws, Postpaid: r.postpaid, Shortfall: r.shortfall,
			PostpaidOn: r.postpaidOn, Suspended: r.suspended,
		},
	}
}

// addEntry appends e to the ledger.
func (a *account) addEntry(e *billing.Entry) {
	s := &a.syms
	r := entryRec{
		ref: e.Ref, at: e.At, seq: e.Seq, balance: e.Balance, minutes: e.Minutes, day: e.Key.Day,
		kind: s.intern(fieldKind, string(e.Kind)), request: s.intern(fieldRequest, string(e.Request)), pkg: s.intern(fieldPackage, e.Package),
		service: s.intern(fieldService, string(e.Key.Service)), tier: s.intern(fieldTier, string(e.Key.Tier)),
		app: s.intern(fieldApp, e.App), scenario: s.intern(fieldScenario, string(e.Scenario)),
	}
	if e.Amount != (decimal.Decimal{}) {
		r.amount = a.amounts.add(e.Amount) + 1
	}
	a.ledger.append(r)
}

// entry returns the entry r stands for.
func (a *account) entry(r *entryRec) billing.Entry {
	s := &a.syms
	e := billing.Entry{
		Seq: r.seq, At: r.at, Kind: billing.EntryKind(s.str(r.kind)), Request: billing.Request(s.str(r.request)),
		Ref: r.ref, Package: s.str(r.pkg), Balance: r.balance,
		Key:     billing.MeterKey{Day: r.day, Service: billing.Service(s.str(r.service)), Tier: billing.Tier(s.str(r.tier))},
		Minutes: r.minutes, App: s.str(r.app), Scenario: billing.Scenario(s.str(r.scenario)),
	}
	if r.amount > 0 {
		e.Amount = *a.amounts.at(r.amount - 1)
	}
	return e
}
