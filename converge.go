package billing

import (
	"slices"
	"time"
)

// A replay need not run to the account's last operation. Once it has
// passed the last call (a purchase, an EnablePostpaid call, the switch
// held on) and the last new usage, what comes after is the stored
// operations, applied to a state that differs from the stored one in few
// ways when the new usages changed little: their meter has more seconds,
// and the minutes those added were all paid one way (from one package,
// postpaid, or as shortfall). If every later minute of that meter is then
// paid the same way in both states, and the package paying for them keeps
// enough that no other draw from it changes, the rest of the replay is
// known without running it: every later checkpoint, and the account as
// stored, with the meter's seconds shifted and the package lowered by the
// minutes the shift adds there. converge checks this at each stored
// checkpoint the replay reaches, and stops it at the first where it holds.
// A usage late by hours on an account with a package that has minutes to
// spare then costs the operations around it, and a rewrite of the
// checkpoints after it, instead of a replay of every operation after it
// (docs/PERFORMANCE.md has the figures). Anything else (a package that
// runs low, a switch, a suspension, a change to another meter) replays on.
// So does a window of several days (the monthly cycle) whose package ends
// before the window does, or whose minutes are not prepaid: the shift
// would move postpaid or shortfall minutes between its days (Meter.Latest).

// shift is how a replay's state differs from the stored one: meter key
// has seconds more, and every minute they add is paid by way, from
// package pkg at ratio package minutes a minute if prepaid.
type shift struct {
	key     MeterKey
	seconds int64
	way     way
	pkg     string
	ratio   int64
}

// way is how a minute is paid.
type way int8

const (
	wayPrepaid way = iota
	wayPostpaid
	wayShortfall
)

// add counts n minutes paid by w on m.
func (w way) add(m *Meter, n int64) {
	switch w {
	case wayPrepaid:
		m.Prepaid += n
	case wayPostpaid:
		m.Postpaid += n
	default:
		m.Shortfall += n
	}
}

// minutes returns the minutes the shift adds to a meter of base seconds.
func (s *shift) minutes(base int64) int64 {
	return ceilMinutes(base+s.seconds) - ceilMinutes(base)
}

// shiftable returns the meter of the new operations ops if they are
// usages of one meter (refused ones aside).
func shiftable(ops []op) (MeterKey, bool) {
	var k MeterKey
	n := 0
	for i := range ops {
		o := &ops[i]
		if o.err != nil {
			continue
		}
		if o.usage == nil {
			return k, false
		}
		if n > 0 && o.meter != k {
			return k, false
		}
		k, n = o.meter, n+1
	}
	return k, n > 0
}

// converge reports whether the replay can stop at the stored checkpoint c,
// which it is about to pass, having applied every new operation (all of
// meter key) and every call. If it can, it writes the replay's checkpoint
// at c and the stored checkpoints after it (later) with the shift, and
// leaves the fold holding the account as stored with the shift, for write.
func (f *fold) converge(c *Checkpoint, later []Checkpoint, key MeterKey) (bool, error) {
	// Stored checkpoints before c that no operation came between are due
	// too, whether the replay stops at c or not.
	for len(f.rewrite) > 0 && f.rewrite[0].Compare(c.Key) < 0 {
		if err := f.snapshot(f.rewrite[0]); err != nil {
			return false, err
		}
		f.rewrite = f.rewrite[1:]
	}
	here, err := f.e.checkpointOf(f, &f.v.a, c.Key)
	if err != nil {
		return false, err
	}
	sh, added, ok, err := f.shiftAt(&here, c, key)
	if err != nil || !ok {
		return false, err
	}
	stored := &f.out.a
	// The account as stored, with the minutes the shift adds at its end:
	// those it added by c if its meter's window was over there.
	cur, last := f.meters[key], added
	if f.e.opens(stored, key, f.e.cal.day(c.Key.At)) {
		if cur, err = f.Reader.Meter(key); err != nil {
			return false, err
		}
		last = sh.minutes(cur.Seconds)
		cur.Seconds += sh.seconds
		sh.way.add(&cur, last)
	}
	f.meters = map[MeterKey]Meter{key: cur}
	f.pkgs = f.pkgs[:0]
	for _, p := range f.stored {
		if p.ID == sh.pkg && sh.way == wayPrepaid {
			p.Balance -= last * sh.ratio
		}
		f.pkgs = append(f.pkgs, p)
	}
	slices.SortFunc(f.pkgs, ComparePackages)
	a := &f.v.a
	a.Postpaid, a.AutoPostpaidArmed, a.Apps = stored.Postpaid, stored.AutoPostpaidArmed, cloneApps(stored.Apps)
	f.out.putCheckpoint(here)
	for _, l := range later { // keys after every checkpoint the replay wrote
		f.out.ch.Checkpoints = append(f.out.ch.Checkpoints, sh.apply(f.e.opens(stored, key, f.e.cal.day(l.Key.At)), l, last))
	}
	f.since, f.rewrite = stored.SinceCheckpoint, nil
	f.e.stops.Add(1)
	return true, nil
}

// apply returns checkpoint c with the shift: n minutes if its meter is
// closed there (else it is open, among c's). It changes c's slices, which
// a Store hands out as copies. c is never the checkpoint of a period's
// start (the replay starts there or before), so its Meters are its open
// ones, in order of service, tier, then application.
func (s *shift) apply(open bool, c Checkpoint, n int64) Checkpoint {
	if open {
		i, found := slices.BinarySearchFunc(c.Meters, s.key, func(m Meter, k MeterKey) int { return compareInDay(m.Key, k) })
		if !found {
			c.Meters = slices.Insert(c.Meters, i, Meter{Key: s.key})
		}
		m := &c.Meters[i]
		n = s.minutes(m.Seconds)
		m.Seconds += s.seconds
		s.way.add(m, n)
	}
	if s.way == wayPrepaid && n != 0 {
		if i := slices.IndexFunc(c.Balances, func(b Balance) bool { return b.Package == s.pkg }); i >= 0 {
			if c.Balances[i].Balance -= n * s.ratio; c.Balances[i].Balance == 0 { // positive balances only
				c.Balances = slices.Delete(c.Balances, i, i+1)
			}
		}
	}
	return c
}

// shiftAt returns how the replay's checkpoint here differs from the
// stored one c (at the same key), and the minutes the shift added by c, if
// the difference is a shift of meter key that carries over unchanged to
// every later stored operation (see converge).
func (f *fold) shiftAt(here, c *Checkpoint, key MeterKey) (sh shift, n int64, ok bool, err error) {
	a, stored := &f.v.a, &f.out.a
	if !a.Postpaid.equal(c.Postpaid) || a.AutoPostpaidArmed != c.Armed || !sameStates(a, stored, c) {
		return sh, 0, false, nil
	}
	// The meters: only key's may differ, by seconds added and minutes paid
	// one way.
	day := f.e.cal.day(c.Key.At)
	open := f.e.opens(stored, key, day)
	var base, now Meter
	if open {
		base, now = meterIn(c.Meters, key), meterIn(here.Meters, key)
	} else if base, err = f.Reader.Meter(key); err != nil {
		return sh, 0, false, err
	} else if now, ok = f.meters[key]; !ok {
		return sh, 0, false, nil
	}
	if !sameMeters(here.Meters, c.Meters, key) {
		return sh, 0, false, nil
	}
	for k, m := range f.meters {
		if k == key || f.e.opens(stored, k, day) {
			continue
		}
		if old, err := f.Reader.Meter(k); err != nil || m != old {
			return sh, 0, false, err
		}
	}
	d := Tally{Seconds: now.Seconds - base.Seconds, Prepaid: now.Prepaid - base.Prepaid,
		Postpaid: now.Postpaid - base.Postpaid, Shortfall: now.Shortfall - base.Shortfall}
	if d.Seconds <= 0 || d.Prepaid < 0 || d.Postpaid < 0 || d.Shortfall < 0 ||
		now.Settled != base.Settled || now.Unbilled != base.Unbilled {
		return sh, 0, false, nil
	}
	sh = shift{key: key, seconds: d.Seconds}
	n = d.Prepaid + d.Postpaid + d.Shortfall
	var seen way // how the minutes so far were paid (any way if none)
	switch {
	case n == 0 || d.Postpaid == n:
		seen = wayPostpaid
	case d.Prepaid == n:
		seen = wayPrepaid
	case d.Shortfall == n:
		seen = wayShortfall
	default: // paid more than one way
		return sh, 0, false, nil
	}
	// How the minutes the shift adds later are paid: as they were so far,
	// if its meter's window is over; else as key's next minute would be.
	most := n // the most minutes the shift ever adds after c
	if open {
		first, last := f.e.meterWindow(stored, key.Service, day)
		var p *Package
		if sh.way, p, ok, err = f.payer(c.Key.At, f.e.cal.start(last+1), key); err != nil || !ok || n > 0 && seen != sh.way {
			return sh, 0, false, err
		}
		// A window of several days (the monthly cycle) keeps, for its
		// latest day, the uncovered minutes of the days before; seconds
		// added early move later minutes to earlier days. Minutes all
		// prepaid leave those counts as they are, and nothing else does.
		if last > first && (sh.way != wayPrepaid || now.Latest != base.Latest ||
			now.EarlierPostpaid != base.EarlierPostpaid || now.EarlierShortfall != base.EarlierShortfall) {
			return sh, 0, false, nil
		}
		if p != nil {
			sh.pkg = p.ID
		}
		most = ceilMinutes(sh.seconds)
	} else if sh.way = seen; n > 0 && seen == wayPrepaid {
		// The package that paid is the one whose balance differs: a
		// guess, which the checks of every balance below verify.
		for i, b := range here.Balances {
			if i < len(c.Balances) && b != c.Balances[i] {
				sh.pkg = b.Package
				break
			}
		}
		if sh.pkg == "" { // no package paid for them
			return sh, 0, false, nil
		}
	}
	// The packages: only the payer's balance may differ, by what the
	// minutes so far took from it. Its stored balance, the lowest it had
	// after c, must pay for the most minutes the shift adds: then every
	// later draw from it takes as many minutes in both states (a draw
	// takes as many whole minutes as the balance pays for, and the rest of
	// the balance stays above what the shift took).
	if sh.pkg != "" {
		p, found := f.stored[sh.pkg]
		if !found {
			return sh, 0, false, nil
		}
		kind, err := f.e.kindOf(&p)
		if err != nil {
			return sh, 0, false, err
		}
		sh.ratio = kind.ratio(key.Service, key.Tier)
		if sh.ratio == 0 || p.Balance < most*sh.ratio {
			return sh, 0, false, nil
		}
	}
	if len(here.Balances) != len(c.Balances) {
		return sh, 0, false, nil
	}
	// A checkpoint lists the packages valid after it: those that ended by
	// c, which nothing after it changes, must be as stored already.
	for _, p := range f.pkgs {
		if !f.v.a.end(&p).After(c.Key.At) && p.Balance != f.stored[p.ID].Balance {
			return sh, 0, false, nil
		}
	}
	for i, b := range here.Balances {
		old := c.Balances[i]
		taken := int64(0)
		if b.Package == sh.pkg {
			taken = d.Prepaid * sh.ratio
		}
		if b.Package != old.Package || old.Balance-b.Balance != taken {
			return sh, 0, false, nil
		}
	}
	return sh, n, true, nil
}

// payer returns how the fold pays a minute of meter key used at or after
// at, until until (the end of its window), when no purchase comes after at
// (the replay tries to stop only past every call), whichever application's
// usage it is: by the first package in deduction order that can pay one
// (of the whole account, or bound to the meter's application: a meter
// rounded per application is that application's usage),
// if it stays valid until then (those before it can pay none as no balance
// grows); else, for a value-added service, postpaid; else postpaid
// if the account's switch is on, or, the automatic switch not armed, if
// every application's is; else as
// shortfall if every application is suspended already and the automatic
// switch is not armed. It reports false in any other case: the minute
// would suspend an application or turn a switch on, or the package that
// pays it ends before until.
func (f *fold) payer(at, until time.Time, key MeterKey) (way, *Package, bool, error) {
	for i := range f.pkgs {
		p := &f.pkgs[i]
		if p.Balance <= 0 || !f.v.a.covers(p, at) || !p.forApp(key.App) {
			continue
		}
		kind, err := f.e.kindOf(p)
		if err != nil {
			return 0, nil, false, err
		}
		if r := kind.ratio(key.Service, key.Tier); r == 0 || p.Balance < r {
			continue
		}
		return wayPrepaid, p, f.v.a.end(p).Compare(until) >= 0, nil
	}
	if key.Service != ServiceBasic {
		return wayPostpaid, nil, true, nil // whatever the switch
	}
	// The minute is of some application's usage: a switch or status
	// decides only if it is every application's, and only if the minute
	// cannot turn the account's switch on automatically.
	a := &f.v.a
	switch {
	case a.Postpaid.On:
		return wayPostpaid, nil, true, nil
	case len(a.Apps) == 0 || a.AutoPostpaidArmed:
	case a.allPostpaid():
		return wayPostpaid, nil, true, nil
	case a.allSuspended():
		return wayShortfall, nil, true, nil
	}
	return 0, nil, false, nil
}

// sameStates reports whether the switches and statuses of the
// applications of a, as the replay left them, are those of checkpoint c,
// and their ended suspensions those of stored, as stored, up to c.
func sameStates(a, stored *Account, c *Checkpoint) bool {
	if len(a.Apps) != len(c.Apps) || len(stored.Apps) != len(c.Apps) {
		return false
	}
	for i, s := range c.Apps {
		p, q := &a.Apps[i], &stored.Apps[i]
		if !p.Postpaid.equal(s.Postpaid) || !p.Status.equal(s.Status) || len(p.Suspensions) != s.Suspensions ||
			len(q.Suspensions) < s.Suspensions || !slices.EqualFunc(p.Suspensions, q.Suspensions[:s.Suspensions], Interval.equal) {
			return false
		}
	}
	return true
}

// meterIn returns the meter with key k among ms, or a zero one.
func meterIn(ms []Meter, k MeterKey) Meter {
	if i := slices.IndexFunc(ms, func(m Meter) bool { return m.Key == k }); i >= 0 {
		return ms[i]
	}
	return Meter{Key: k}
}

// sameMeters reports whether ms and ns hold the same meters but for the
// one with key k.
func sameMeters(ms, ns []Meter, k MeterKey) bool {
	ms = slices.DeleteFunc(slices.Clone(ms), func(m Meter) bool { return m.Key == k })
	ns = slices.DeleteFunc(slices.Clone(ns), func(m Meter) bool { return m.Key == k })
	return slices.Equal(ms, ns)
}
