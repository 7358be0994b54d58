package billing

import "slices"

// fold is a replay in memory of an account's operations from a checkpoint:
// a Reader of the state the operations it has applied left (the packages
// bought so far with their balances, the meters of the checkpoint's day
// and later), over the account's Store for the rest. It applies each
// operation with the same code as the operations applied at once (see
// apply), in a unit of work of its own whose Changes it reads back.
type fold struct {
	Reader // the account as stored
	e      *Engine
	out    *unit // the unit of work the replay writes to
	v      *unit // the fold's own unit: the account's state as the fold goes
	day    Day   // the first day of the checkpoint's period
	cpDay  Day   // the checkpoint's day
	pkgs   []Package
	stored map[string]Package
	meters map[MeterKey]Meter
	// since counts the operations applied since the last checkpoint taken;
	// rewrite lists the keys of the stored checkpoints ahead, to take again.
	since   int64
	rewrite []OpKey
}

// newFold returns a fold of u's account from checkpoint cp, and the stored
// operations after cp other than usages (purchases, the EnablePostpaid
// calls, the switch held on where it went on), in no order.
func (e *Engine) newFold(u *unit, cp *Checkpoint) (*fold, []*op, error) {
	cpDay := e.cal.day(cp.Key.At)
	f := &fold{Reader: u.r, e: e, out: u, day: e.window(&u.a, cpDay), cpDay: cpDay,
		stored: map[string]Package{}, meters: map[MeterKey]Meter{}}
	v := &unit{e: e, account: u.account, req: u.req, ref: u.ref, r: f, a: u.a, now: u.now, replaying: true}
	v.step = v.visit
	v.a.Postpaid, v.a.AutoPostpaidArmed = cp.Postpaid, cp.Armed
	restore(&v.a, cp)
	f.v = v
	var calls []*op
	err := u.r.Packages(func(p Package) bool {
		f.stored[p.ID] = p
		if purchaseKey(&p).Compare(cp.Key) >= 0 {
			p.Balance = p.Minutes
			calls = append(calls, &op{key: purchaseKey(&p), pkg: &p})
			return true
		}
		if u.a.end(&p).After(cp.Key.At) {
			p.Balance = 0
			for _, b := range cp.Balances {
				if b.Package == p.ID {
					p.Balance = b.Balance
				}
			}
		}
		f.pkgs = append(f.pkgs, p)
		return true
	})
	if err != nil {
		return nil, nil, err
	}
	for _, m := range cp.Meters {
		f.meters[m.Key] = m
	}
	if at := u.a.EnabledAt; !at.IsZero() {
		if k := (OpKey{At: at, Class: ClassCall}); k.Compare(cp.Key) >= 0 {
			calls = append(calls, &op{key: k, enable: true})
		}
	}
	for i := range u.a.Apps {
		p := &u.a.Apps[i]
		if k := (OpKey{At: p.EnabledAt, Class: ClassCall}); !p.EnabledAt.IsZero() && k.Compare(cp.Key) >= 0 {
			calls = append(calls, &op{key: k, enable: true, app: p.ID})
		}
	}
	if p := u.a.Postpaid; p.On && !cp.Postpaid.On && p.Way == PostpaidAutomatic {
		calls = append(calls, &op{key: OpKey{At: p.Since, Class: ClassUsage}, hold: &p})
	}
	return f, calls, nil
}

// step applies o, first taking the checkpoints due before it.
func (f *fold) step(o *op) error {
	for len(f.rewrite) > 0 && f.rewrite[0].Compare(o.key) <= 0 {
		if err := f.snapshot(f.rewrite[0]); err != nil {
			return err
		}
		f.rewrite = f.rewrite[1:]
	}
	if o.mark || f.since >= f.e.every && !o.settled { // none at a settled day's usage: it is at a checkpoint's key
		if err := f.snapshot(o.key); err != nil {
			return err
		}
	}
	if o.mark {
		return nil
	}
	if o.usage != nil {
		f.v.ref = o.usage.ID
	}
	if err := f.e.apply(f.v, o); err != nil {
		return err
	}
	o.receipt.Late = o.settled || o.key.Compare(f.out.a.Frontier) <= 0
	for _, p := range f.v.ch.Packages {
		i := slices.IndexFunc(f.pkgs, func(q Package) bool { return q.ID == p.ID })
		if i < 0 {
			i, _ = slices.BinarySearchFunc(f.pkgs, p, ComparePackages)
			f.pkgs = slices.Insert(f.pkgs, i, p)
		}
		f.pkgs[i] = p
	}
	for _, m := range f.v.ch.Meters {
		f.meters[m.Key] = m
	}
	f.v.ch = emptied(f.v.ch)
	if o.err == nil {
		f.since++
	}
	return nil
}

// snapshot writes the checkpoint of the fold's state at key.
func (f *fold) snapshot(key OpKey) error {
	c, err := f.e.checkpointOf(f, &f.v.a, key)
	f.out.putCheckpoint(c)
	f.since = 0
	return err
}

// write writes to u what the fold changed, with ledger entries for the
// differences, labelled with the App and Scenario of the usage us that
// caused the replay (if one did).
func (f *fold) write(u *unit, us *Usage) error {
	var label Entry
	if us != nil {
		label.App, label.Scenario = us.App, us.Scenario
	}
	refunds := f.v.a.Refunds[len(u.a.Refunds):] // those the fold applied
	for _, p := range f.pkgs {
		old, ok := f.stored[p.ID]
		if i := slices.IndexFunc(refunds, func(r PackageRefund) bool { return r.Package == p.ID }); i >= 0 {
			// Back to its balance at the refund, which then takes it.
			r := &refunds[i]
			if d := r.Minutes - old.Balance; d != 0 {
				en := label
				en.Kind, en.Package, en.Balance = EntryDeduction, p.ID, d
				u.append(en)
			}
			u.append(Entry{Kind: EntryRefund, Package: p.ID, Balance: -r.Minutes, Amount: r.Amount})
			u.putPackage(p)
			continue
		}
		switch {
		case !ok:
			kind, err := f.e.kindOf(&p)
			if err != nil {
				return err
			}
			u.append(Entry{Kind: creditKind(kind), Package: p.ID, Balance: p.Minutes, Amount: p.Price})
			old.Balance = p.Minutes
		case old.Balance == p.Balance:
			continue
		}
		if d := p.Balance - old.Balance; d != 0 {
			en := label
			en.Kind, en.Package, en.Balance = EntryDeduction, p.ID, d
			u.append(en)
		}
		u.putPackage(p)
	}
	keys := make([]MeterKey, 0, len(f.meters))
	for k := range f.meters {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, f.e.meterOrder(&u.a))
	for _, k := range keys {
		m := f.meters[k]
		old, err := u.r.Meter(k)
		if err != nil {
			return err
		}
		if m.tally() == old.tally() {
			continue
		}
		for _, d := range []struct {
			kind EntryKind
			n    int64
		}{{EntryDeduction, m.Prepaid - old.Prepaid}, {EntryPostpaid, m.Postpaid - old.Postpaid}, {EntryShortfall, m.Shortfall - old.Shortfall}} {
			if d.n != 0 {
				en := label
				en.Kind, en.Key, en.Minutes = d.kind, k, d.n
				u.append(en)
			}
		}
		u.putMeter(m)
	}
	a := &f.v.a
	if p := a.Postpaid; !p.equal(u.a.Postpaid) {
		u.a.Postpaid = p
		u.append(Entry{Kind: EntryPostpaidOn})
	}
	for i := range a.Apps {
		p, q := &a.Apps[i], &u.a.Apps[i]
		if !p.Postpaid.equal(q.Postpaid) {
			q.Postpaid = p.Postpaid
			u.append(Entry{Kind: EntryPostpaidOn, App: q.ID})
		}
		if s := p.Status; !s.equal(q.Status) {
			q.Status = s
			if s.Suspended {
				u.append(Entry{Kind: EntrySuspended, App: q.ID})
			} else {
				u.append(Entry{Kind: EntryResumed, App: q.ID})
			}
		}
		q.Suspensions = p.Suspensions
	}
	u.a.AutoPostpaidArmed, u.a.Refunds = a.AutoPostpaidArmed, a.Refunds
	return nil
}

// open reports whether the operations after the checkpoint can change
// meter k: a basic meter of its period or later, a value-added one of its
// day or later (see openMeters). The fold holds those from the checkpoint
// on; the Store's others stand as they are.
func (f *fold) open(k MeterKey) bool {
	if k.Service == ServiceBasic {
		return k.Day >= f.day
	}
	return k.Day >= f.cpDay
}

// Meter returns the meter with key k as the fold left it.
func (f *fold) Meter(k MeterKey) (Meter, error) {
	if m, ok := f.meters[k]; ok {
		return m, nil
	}
	if f.open(k) {
		return Meter{Key: k}, nil
	}
	return f.Reader.Meter(k)
}

// Meters calls fn for the meters of day d as the fold left them.
func (f *fold) Meters(d Day, fn func(Meter) bool) error {
	var ms, written []Meter
	if d < f.cpDay { // else every meter of d is open
		err := f.Reader.Meters(d, func(m Meter) bool {
			if !f.open(m.Key) {
				ms = append(ms, m)
			}
			return true
		})
		if err != nil {
			return err
		}
	}
	for k, m := range f.meters {
		if k.Day == d {
			written = append(written, m)
		}
	}
	showDay(ms, written, fn)
	return nil
}

// LivePackages calls fn for the packages bought so far with a positive
// balance, in deduction order.
func (f *fold) LivePackages(fn func(Package) bool) error {
	for _, p := range f.pkgs {
		if p.Balance > 0 && !fn(p) {
			break
		}
	}
	return nil
}
