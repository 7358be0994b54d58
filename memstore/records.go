package memstore

import (
	"encoding/binary"
	"math/big"
	"strings"
	"time"

	"github.com/rtcbill/billing"
	"github.com/shopspring/decimal"
)

// The records that grow with every usage (usage records with their
// receipts' draws, and ledger entries) are kept encoded in logs: integers
// as varints, times as Unix seconds, nanoseconds and a location number, and
// the strings that repeat as numbers: those of the billing package's
// constants (kinds, requests, services, scenarios, tiers) in statics, the
// others (account, application and package ids, a price book's own names)
// in the account's symbol table; fields that repeat another are left out
// (see the flags below). A usage with one draw and one entry takes about 50
// bytes this way, with no pointer for the garbage collector to follow; as
// structs it took 456 bytes, a slice of draws and 21 pointers.

// sym is a string interned in a symtab; 0 is "".
type sym uint32

// symtab interns an account's repeating strings and the locations of its
// times. Strings interned by a commit that is then refused stay: they are
// never seen.
type symtab struct {
	strs  []string // strs[s-1] is the string of s
	index map[string]sym
	// last holds the string each field interned last and its sym: a field
	// mostly repeats its last string, and then skips the map.
	last [fields]struct {
		s  string
		id sym
	}
	// The locations of times, and their numbers by zone name and offset
	// (see loc).
	locs     []*time.Location
	locIndex map[zone]uint64
	lastLoc  struct {
		l *time.Location
		n uint64
	}
}

// zone is a time's zone name and offset, which tell locations apart.
type zone struct {
	name   string
	offset int
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
	if l := &t.last[f]; s == l.s {
		return l.id
	}
	return t.lookup(f, s)
}

// lookup is intern past the field's last string.
func (t *symtab) lookup(f int, s string) sym {
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
	t.last[f].s, t.last[f].id = s, id
	return id
}

func (t *symtab) str(s sym) string {
	if s == 0 {
		return ""
	}
	return t.strs[s-1]
}

// loc returns the number of the location of t, adding it if new.
// Locations are told apart by the zone name and offset they give t, not by
// pointer: time.Parse and time.LoadLocation make a new *time.Location for
// the same zone at every call. A time reads back in the first location
// stored under its number: the same instant, and the same zone at it.
func (s *symtab) loc(t time.Time) uint64 {
	l := t.Location()
	if l == s.lastLoc.l {
		return s.lastLoc.n
	}
	name, offset := t.Zone()
	n, ok := s.locIndex[zone{name, offset}]
	if !ok {
		if s.locIndex == nil {
			s.locIndex = make(map[zone]uint64)
		}
		s.locs = append(s.locs, l)
		n = uint64(len(s.locs) - 1)
		s.locIndex[zone{strings.Clone(name), offset}] = n
	}
	s.lastLoc.l, s.lastLoc.n = l, n
	return n
}

// statics are the strings of the billing package's constants, which
// records share: the empty string, entry kinds, requests, services,
// scenarios and tiers. static finds them without reading memory.
var statics = [...]string{
	"",
	string(billing.EntryGrant), string(billing.EntryPurchase), string(billing.EntryDeduction),
	string(billing.EntryPostpaid), string(billing.EntryShortfall), string(billing.EntryForfeit),
	string(billing.EntryPostpaidOn), string(billing.EntrySuspended), string(billing.EntryResumed),
	string(billing.EntrySettlement),
	string(billing.RequestOpen), string(billing.RequestBuy), string(billing.RequestRecord),
	string(billing.RequestEnablePostpaid), string(billing.RequestOverview), string(billing.RequestSettle),
	string(billing.ServiceBasic), string(billing.ServiceRecording), string(billing.ServiceMixTranscoding),
	string(billing.AudioLive), string(billing.VideoLive), string(billing.AudioCall), string(billing.VideoCall),
	string(billing.TierAudio), string(billing.TierSD), string(billing.TierHD), string(billing.TierFHD),
}

// static returns the index of s in statics, or -1. Its cases repeat
// statics in order, so that the compiler can compare s without a table in
// memory; TestStatics checks every string of statics and strings one edit
// away from them.
func static(s string) int {
	switch s {
	case "":
		return 0
	case string(billing.EntryGrant):
		return 1
	case string(billing.EntryPurchase):
		return 2
	case string(billing.EntryDeduction):
		return 3
	case string(billing.EntryPostpaid):
		return 4
	case string(billing.EntryShortfall):
		return 5
	case string(billing.EntryForfeit):
		return 6
	case string(billing.EntryPostpaidOn):
		return 7
	case string(billing.EntrySuspended):
		return 8
	case string(billing.EntryResumed):
		return 9
	case string(billing.EntrySettlement):
		return 10
	case string(billing.RequestOpen):
		return 11
	case string(billing.RequestBuy):
		return 12
	case string(billing.RequestRecord):
		return 13
	case string(billing.RequestEnablePostpaid):
		return 14
	case string(billing.RequestOverview):
		return 15
	case string(billing.RequestSettle):
		return 16
	case string(billing.ServiceBasic):
		return 17
	case string(billing.ServiceRecording):
		return 18
	case string(billing.ServiceMixTranscoding):
		return 19
	case string(billing.AudioLive):
		return 20
	case string(billing.VideoLive):
		return 21
	case string(billing.AudioCall):
		return 22
	case string(billing.VideoCall):
		return 23
	case string(billing.TierAudio):
		return 24
	case string(billing.TierSD):
		return 25
	case string(billing.TierHD):
		return 26
	case string(billing.TierFHD):
		return 27
	}
	return -1
}

// enc encodes a record into b, interning its strings in syms.
type enc struct {
	b    []byte
	syms *symtab
}

func (e *enc) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) int(v int64)   { e.b = binary.AppendVarint(e.b, v) }

// sym encodes s, a string of field f: the number of a string of statics
// times 2 plus 1, or the number of s in the account's table times 2.
func (e *enc) sym(f int, s string) {
	if k := static(s); k >= 0 {
		e.uint(uint64(k)<<1 | 1)
		return
	}
	e.uint(uint64(e.syms.intern(f, s)) << 1)
}

func (e *enc) str(s string) {
	e.uint(uint64(len(s)))
	e.b = append(e.b, s...)
}

// time keeps the instant and the location: the monotonic reading goes.
func (e *enc) time(t time.Time) {
	e.int(t.Unix())
	e.uint(uint64(t.Nanosecond()))
	e.uint(e.syms.loc(t))
}

// decimal keeps the coefficient and the exponent, whatever they are; the
// zero Decimal, whose coefficient is not set, stays apart from other zeros.
// It is a sign (0 for the zero Decimal, 1 for zero and above, 2 below), the
// exponent, and the coefficient's magnitude as big-endian bytes.
func (e *enc) decimal(d decimal.Decimal) {
	if d == (decimal.Decimal{}) {
		e.uint(0)
		return
	}
	c := d.Coefficient()
	if c.Sign() < 0 {
		e.uint(2)
	} else {
		e.uint(1)
	}
	e.int(int64(d.Exponent()))
	e.str(string(c.Bytes()))
}

// dec decodes a record from b, the bytes from its place on; n counts the
// bytes read. The bytes are the store's own encoding, always well formed.
type dec struct {
	b    []byte
	n    int
	syms *symtab
}

func (d *dec) uint() uint64 {
	v, k := binary.Uvarint(d.b[d.n:])
	d.n += k
	return v
}

func (d *dec) int() int64 {
	v, k := binary.Varint(d.b[d.n:])
	d.n += k
	return v
}

func (d *dec) sym() string {
	v := d.uint()
	if v&1 != 0 {
		return statics[v>>1]
	}
	return d.syms.str(sym(v >> 1))
}

// bytes returns the next string's bytes, which share memory with the log.
func (d *dec) bytes() []byte {
	n := int(d.uint())
	d.n += n
	return d.b[d.n-n : d.n]
}

func (d *dec) str() string { return string(d.bytes()) }

func (d *dec) time() time.Time {
	sec, nsec := d.int(), int64(d.uint())
	return time.Unix(sec, nsec).In(d.syms.locs[d.uint()])
}

func (d *dec) decimal() decimal.Decimal {
	sign := d.uint()
	if sign == 0 {
		return decimal.Decimal{}
	}
	exp := int32(d.int())
	c := new(big.Int).SetBytes(d.bytes())
	if sign == 2 {
		c.Neg(c)
	}
	return decimal.NewFromBigInt(c, exp)
}

// The flags of an encoded usage record: the receipt's two, and the fields
// left out because they repeat another.
const (
	usagePostpaidOn = 1 << iota
	usageSuspended
	usageOwnAccount // Usage.Account is the account's id
	usageKeyService // Receipt.Key.Service is Usage.Service
	usageKeyTier    // Receipt.Key.Tier is Usage.Tier
)

// entryAboutUsage flags an encoded entry whose Ref, Key, App and Scenario
// are those of a usage record, which it refers to instead.
const entryAboutUsage = 1

// encodeUsage appends u, a usage record of the account with id account,
// whose receipt's draws are draws (u.Receipt.Draws is ignored), to b. The
// id comes first, for usageID.
func (s *symtab) encodeUsage(b []byte, u *billing.UsageRecord, draws []billing.Draw, account string) []byte {
	k := &u.Receipt.Key
	var f uint64
	if u.Receipt.PostpaidOn {
		f |= usagePostpaidOn
	}
	if u.Receipt.Suspended {
		f |= usageSuspended
	}
	if u.Usage.Account == account {
		f |= usageOwnAccount
	}
	if k.Service == u.Usage.Service {
		f |= usageKeyService
	}
	if k.Tier == u.Usage.Tier {
		f |= usageKeyTier
	}
	e := enc{b, s}
	e.str(u.Usage.ID)
	e.uint(f)
	if f&usageOwnAccount == 0 {
		e.sym(fieldAccount, u.Usage.Account)
	}
	e.sym(fieldApp, u.Usage.App)
	e.sym(fieldService, string(u.Usage.Service))
	e.sym(fieldScenario, string(u.Usage.Scenario))
	e.sym(fieldTier, string(u.Usage.Tier))
	e.int(u.Usage.Seconds)
	e.time(u.Usage.At)
	e.int(int64(k.Day))
	if f&usageKeyService == 0 {
		e.sym(fieldService, string(k.Service))
	}
	if f&usageKeyTier == 0 {
		e.sym(fieldTier, string(k.Tier))
	}
	e.int(u.Receipt.Minutes)
	e.int(u.Receipt.Postpaid)
	e.int(u.Receipt.Shortfall)
	e.uint(uint64(len(draws)))
	for _, d := range draws {
		e.sym(fieldPackage, d.Package)
		e.int(d.Minutes)
		e.int(d.Deducted)
	}
	return e.b
}

// usageID returns the id of the usage record at the start of b, sharing
// memory with b.
func usageID(b []byte) []byte {
	d := dec{b: b}
	return d.bytes()
}

// decodeUsage decodes the usage record at the start of b, a record of the
// account with id account.
func (s *symtab) decodeUsage(b []byte, account string) billing.UsageRecord {
	d := dec{b: b, syms: s}
	u := d.usageHead(account)
	if n := d.uint(); n > 0 {
		u.Receipt.Draws = make([]billing.Draw, n)
		for i := range u.Receipt.Draws {
			u.Receipt.Draws[i] = billing.Draw{Package: d.sym(), Minutes: d.int(), Deducted: d.int()}
		}
	}
	return u
}

// usageHead decodes a usage record up to its draws.
func (d *dec) usageHead(account string) billing.UsageRecord {
	var u billing.UsageRecord
	u.Usage.ID = d.str()
	f := d.uint()
	u.Receipt.PostpaidOn, u.Receipt.Suspended = f&usagePostpaidOn != 0, f&usageSuspended != 0
	u.Usage.Account = account
	if f&usageOwnAccount == 0 {
		u.Usage.Account = d.sym()
	}
	u.Usage.App = d.sym()
	u.Usage.Service = billing.Service(d.sym())
	u.Usage.Scenario = billing.Scenario(d.sym())
	u.Usage.Tier = billing.Tier(d.sym())
	u.Usage.Seconds = d.int()
	u.Usage.At = d.time()
	k := &u.Receipt.Key
	k.Day = billing.Day(d.int())
	k.Service, k.Tier = u.Usage.Service, u.Usage.Tier
	if f&usageKeyService == 0 {
		k.Service = billing.Service(d.sym())
	}
	if f&usageKeyTier == 0 {
		k.Tier = billing.Tier(d.sym())
	}
	u.Receipt.Minutes = d.int()
	u.Receipt.Postpaid = d.int()
	u.Receipt.Shortfall = d.int()
	return u
}

// aboutUsage reports whether x's Ref, Key, App and Scenario are those of u.
func aboutUsage(x *billing.Entry, u *billing.UsageRecord) bool {
	return x.Ref == u.Usage.ID && x.Key == u.Receipt.Key && x.App == u.Usage.App && x.Scenario == u.Usage.Scenario
}

// encodeEntry appends x to b. If about is not nil, x is about the usage
// record at *about (aboutUsage) and refers to it for the fields they share.
func (s *symtab) encodeEntry(b []byte, x *billing.Entry, about *pos) []byte {
	var f uint64
	if about != nil {
		f |= entryAboutUsage
	}
	e := enc{b, s}
	e.int(x.Seq)
	e.time(x.At)
	e.sym(fieldKind, string(x.Kind))
	e.sym(fieldRequest, string(x.Request))
	e.uint(f)
	if about != nil {
		e.uint(uint64(*about))
	} else {
		e.str(x.Ref)
		e.int(int64(x.Key.Day))
		e.sym(fieldService, string(x.Key.Service))
		e.sym(fieldTier, string(x.Key.Tier))
		e.sym(fieldApp, x.App)
		e.sym(fieldScenario, string(x.Scenario))
	}
	e.sym(fieldPackage, x.Package)
	e.int(x.Balance)
	e.int(x.Minutes)
	e.decimal(x.Amount)
	return e.b
}

// decodeEntry decodes the entry at the start of b, an entry of the account
// with id account whose usage records are records, and returns it and its
// size in bytes.
func (s *symtab) decodeEntry(b []byte, records *log, account string) (billing.Entry, int) {
	d := dec{b: b, syms: s}
	var x billing.Entry
	x.Seq = d.int()
	x.At = d.time()
	x.Kind = billing.EntryKind(d.sym())
	x.Request = billing.Request(d.sym())
	f := d.uint()
	if f&entryAboutUsage != 0 {
		u := (&dec{b: records.from(pos(d.uint())), syms: s}).usageHead(account)
		x.Ref, x.Key, x.App, x.Scenario = u.Usage.ID, u.Receipt.Key, u.Usage.App, u.Usage.Scenario
	} else {
		x.Ref = d.str()
		x.Key.Day = billing.Day(d.int())
		x.Key.Service = billing.Service(d.sym())
		x.Key.Tier = billing.Tier(d.sym())
		x.App = d.sym()
		x.Scenario = billing.Scenario(d.sym())
	}
	x.Package = d.sym()
	x.Balance = d.int()
	x.Minutes = d.int()
	x.Amount = d.decimal()
	return x, d.n
}
