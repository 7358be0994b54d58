package billing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// op is one operation of an account, placed in the reference order by its
// key: a usage, a purchase (pkg), an EnablePostpaid call (enable), or, in a
// replay only, the postpaid switch held on where it went on (hold) and a
// checkpoint to take (mark).
type op struct {
	key    OpKey
	usage  *Usage
	meter  MeterKey // the key of the usage's meter
	pkg    *Package // as bought: its Balance is its Minutes
	enable bool
	app    string // the application of an EnablePostpaid call ("" for the account)
	hold   *Postpaid
	refund *refundOp
	mark   bool
	// settled marks a usage of a settled day: it is applied at the start
	// of the first unsettled day, before the operations of that day.
	settled bool

	receipt Receipt          // a usage's
	bought  *PurchaseReceipt // a purchase's
	err     error            // why a new usage was refused; nothing of it is written
}

// usageOp returns the operation of recording us, accepted, of day d, on
// account a.
func (e *Engine) usageOp(a *Account, us *Usage, d Day) op {
	if d <= a.SettledThrough {
		return op{key: e.periodStart(a), usage: us, meter: e.meterKey(a, us, d), settled: true}
	}
	return op{key: usageKey(us), usage: us, meter: e.meterKey(a, us, d)}
}

// usageKey returns the key of usage us.
func usageKey(us *Usage) OpKey { return OpKey{At: us.At, Class: ClassUsage, ID: us.ID} }

// periodStart returns the key of the start of a's first unsettled day.
func (e *Engine) periodStart(a *Account) OpKey {
	return OpKey{At: e.cal.start(a.SettledThrough + 1), Class: ClassCheckpoint}
}

// place applies the new operations ops, in order of key, to the account
// of u in the reference order: one after another if the first comes after
// the account's Frontier, else by a replay (see replay). A usage refused
// gets its error in its op, and nothing of it is written.
func (e *Engine) place(u *unit, ops []op) error {
	if len(ops) == 0 {
		return nil
	}
	if u.a.Frontier.At.IsZero() {
		return errUnmigrated
	}
	if ops[0].settled || ops[0].key.Compare(u.a.Frontier) <= 0 {
		return e.replay(u, ops)
	}
	for i := range ops {
		o := &ops[i]
		var err error
		if o.usage != nil {
			u.ref = o.usage.ID
			if o.receipt, err = e.record(u, o.usage, o.key, o.meter); refused(err) {
				o.err, err = err, nil
			}
		} else if err = e.due(u, o.key); err == nil {
			if err = e.apply(u, o); err == nil {
				u.a.Frontier = o.key
				u.a.SinceCheckpoint++
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// record records usage us on meter k, at key, which comes after every
// operation of the account.
func (e *Engine) record(u *unit, us *Usage, key OpKey, k MeterKey) (Receipt, error) {
	if err := e.due(u, key); err != nil {
		return Receipt{}, err
	}
	r, err := e.use(u, us, k)
	if err != nil {
		return Receipt{}, err
	}
	u.putUsage(us, r)
	u.a.Frontier = key
	u.a.SinceCheckpoint++
	return r, nil
}

// due takes a checkpoint at key, the next operation's, if one is due.
func (e *Engine) due(u *unit, key OpKey) error {
	if u.a.SinceCheckpoint >= e.every {
		return e.checkpoint(u, key)
	}
	return nil
}

// errUnmigrated is the error of a unit of work on an account recorded
// before operations had keys (its Frontier is zero): exec migrates the
// account (see migrate) and tries the unit again.
var errUnmigrated = errors.New("account recorded before operations had keys")

// migrate gives an account recorded before operations had keys a Frontier
// after every operation it has, and a checkpoint there: its state as
// stored, in a unit of work of its own. Its operations with earlier keys
// are then applied at that checkpoint, in the order they arrive.
func (e *Engine) migrate(ctx context.Context, u *unit) error {
	_, _, err := e.update(ctx, u.req, u.ref, u.account, func(m *unit) error {
		if !m.a.Frontier.At.IsZero() {
			return nil // another unit of work did it
		}
		m.a.Frontier = OpKey{At: m.a.Touched, Class: ClassMigrated}
		return e.checkpoint(m, m.a.Frontier)
	})
	return err
}

// apply applies o to the account of u, at its place in the reference order.
func (e *Engine) apply(u *unit, o *op) error {
	var err error
	switch {
	case o.usage != nil:
		if o.receipt, err = e.use(u, o.usage, o.meter); refused(err) {
			o.err, err = err, nil
		}
	case o.pkg != nil:
		var r PurchaseReceipt
		r, err = e.credit(u, *o.pkg)
		o.bought = &r
	case o.hold != nil:
		if !u.a.Postpaid.On {
			u.turnPostpaidOn(o.hold.Way, o.hold.Since)
		}
	case o.enable:
		err = e.enable(u, o.app, o.key.At)
	case o.refund != nil:
		err = e.refunded(u, o.key, o.refund)
	}
	return err
}

// checkpoint writes a checkpoint of the account of u at key, which is after
// every operation applied.
func (e *Engine) checkpoint(u *unit, key OpKey) error {
	c, err := e.checkpointOf(u.r, &u.a, key)
	u.putCheckpoint(c)
	u.a.SinceCheckpoint = 0
	return err
}

// checkpointOf returns the checkpoint at key of account a, whose packages
// and meters r reads.
func (e *Engine) checkpointOf(r Reader, a *Account, key OpKey) (Checkpoint, error) {
	c := Checkpoint{Key: key, Postpaid: a.Postpaid, Armed: a.AutoPostpaidArmed, Apps: appStates(a)}
	err := r.LivePackages(func(p Package) bool {
		if a.end(&p).After(key.At) {
			c.Balances = append(c.Balances, Balance{Package: p.ID, Balance: p.Balance})
		}
		return true
	})
	if err != nil {
		return c, err
	}
	if c.Meters, err = e.openMeters(r, a, e.cal.day(key.At)); err != nil {
		return c, err
	}
	for i := range c.Meters {
		c.Meters[i].Settled = Tally{}
	}
	return c, nil
}

// putCheckpoint writes c, in place of an earlier write of it in this unit.
func (u *unit) putCheckpoint(c Checkpoint) {
	u.ch.Checkpoints = replace(u.ch.Checkpoints, c, func(d Checkpoint) bool { return d.Key.Compare(c.Key) == 0 })
}

// replay applies the new operations ops (in order of key; the first is
// late, or of a settled day) by replaying, in memory, the account's
// operations from the latest checkpoint at or before the first, in the
// reference order with ops among them. It then writes what the replay
// changed: packages and meters, with ledger entries for the differences
// (under the first op's id), the account, the checkpoints it passed, and
// the records of ops. If ops are only marks, it stops at the last and
// writes its checkpoints only. It may stop at a stored checkpoint past
// every op (see converge).
//
// A replay starts at the first unsettled period. Usage of settled days is
// applied at the period's checkpoint first, with the usages that
// checkpoint lists, by time, then id (see sequence); operations before the
// checkpoint of an account migrated to keys are applied there first, in
// the order they arrive.
func (e *Engine) replay(u *unit, ops []op) error {
	period := e.periodStart(&u.a)
	from := ops[0].key
	if from.Compare(period) < 0 {
		from = period
	}
	var cps []Checkpoint
	if err := u.r.Checkpoints(from, func(c Checkpoint) bool { cps = append(cps, c); return true }); err != nil {
		return err
	}
	if len(cps) > 0 && cps[0].Key.At.Before(period.At) { // a settled day's
		cps = cps[1:]
	}
	if len(cps) == 0 {
		return fmt.Errorf("%w: account %q has no checkpoint to replay from", ErrCorrupt, u.a.ID)
	}
	if o := &ops[0]; o.usage != nil {
		u.ref = o.usage.ID
	}
	if err := e.checkSeconds(u, ops); err != nil {
		return err
	}
	f, calls, err := e.newFold(u, &cps[0])
	if err != nil {
		return err
	}
	// The usages of settled days, sequenced at the period's start: those
	// its checkpoint lists, and the new ones.
	start := cps[0].Key.Compare(period) == 0
	var settled []*op
	if start {
		for _, id := range cps[0].Usages {
			rec, err := u.r.Usage(id)
			if err != nil {
				return err
			}
			settled = append(settled, &op{key: period, usage: &rec.Usage, meter: e.meterKey(&u.a, &rec.Usage, e.cal.day(rec.Usage.At)), settled: true})
		}
	}
	listed := len(settled)
	marks, early := true, false
	for i := range ops {
		o := &ops[i]
		marks = marks && o.mark
		switch {
		case o.err != nil:
		case start && o.settled:
			settled = append(settled, o)
		case o.settled || o.key.Compare(cps[0].Key) < 0:
			if o.mark { // no checkpoint goes before the first one
				continue
			}
			o.settled = true
			if err := f.step(o); err != nil {
				return err
			}
			early = true
		default:
			calls = append(calls, o)
		}
	}
	if early { // the state at the checkpoint changed: taken again before the usages of settled days
		f.rewrite = append(f.rewrite, cps[0].Key)
	}
	seq := cps[0] // the period's checkpoint, with the usages of settled days it sequences
	if len(settled) > listed {
		if seq, err = e.sequence(u, cps[0], settled[listed:]); err != nil {
			return err
		}
	}
	slices.SortStableFunc(calls, func(x, y *op) int { return x.key.Compare(y.key) })
	slices.SortFunc(settled, func(x, y *op) int { return usageKey(x.usage).Compare(usageKey(y.usage)) })
	for _, o := range settled {
		if err := f.step(o); err != nil {
			return err
		}
	}
	// The switch held on where it went on, if that is before the
	// checkpoint (a usage of a settled day turned it on at its time), comes
	// after the usages of settled days: those turn it on again at the
	// earliest of their times that finds nothing to pay, earlier if a later
	// report of an earlier day is among them; it stays on from its instant
	// if none does.
	for ; len(calls) > 0 && calls[0].key.Compare(cps[0].Key) < 0; calls = calls[1:] {
		if err := f.step(calls[0]); err != nil {
			return err
		}
	}
	if marks { // the checkpoints taken, nothing after them
		last := 0
		for i, o := range calls {
			if o.mark {
				last = i + 1
			}
		}
		calls = calls[:last]
	}
	if !marks {
		for _, c := range cps[1:] {
			f.rewrite = append(f.rewrite, c.Key)
		}
	}
	// The stored checkpoints after every call and new operation: the
	// replay may stop at one (see converge).
	var ahead []Checkpoint
	key, shifts := shiftable(ops)
	if shifts && !marks && !early {
		last := period
		if len(calls) > 0 {
			last = calls[len(calls)-1].key
		}
		if i := slices.IndexFunc(cps[1:], func(c Checkpoint) bool { return c.Key.Compare(last) > 0 }); i >= 0 {
			ahead = cps[1+i:]
		}
	}
	var failed error
	next := 0
	err = u.r.Usages(cps[0].Key.At, time.Time{}, func(rec UsageRecord) bool {
		o := op{key: usageKey(&rec.Usage), usage: &rec.Usage, meter: e.meterKey(&u.a, &rec.Usage, e.cal.day(rec.Usage.At))}
		if o.key.Compare(cps[0].Key) < 0 {
			return true
		}
		for ; next < len(calls) && calls[next].key.Compare(o.key) < 0; next++ {
			if failed = f.step(calls[next]); failed != nil {
				return false
			}
		}
		if marks && next == len(calls) {
			return false
		}
		for ; len(ahead) > 0 && ahead[0].Key.Compare(o.key) <= 0; ahead = ahead[1:] {
			var stop bool
			if stop, failed = f.converge(&ahead[0], ahead[1:], key); stop || failed != nil {
				return false
			}
		}
		failed = f.step(&o)
		return failed == nil
	})
	for ; err == nil && failed == nil && next < len(calls); next++ {
		failed = f.step(calls[next])
	}
	switch {
	case err != nil:
		return err
	case failed != nil:
		return failed
	}
	for _, k := range f.rewrite {
		if err := f.snapshot(k); err != nil {
			return err
		}
	}
	if early && start {
		// The period's checkpoint, taken again after the operations
		// before it (a refund), still sequences the usages of settled
		// days it listed, from their meters as they stood.
		for i := range u.ch.Checkpoints {
			if c := &u.ch.Checkpoints[i]; c.Key.Compare(cps[0].Key) == 0 {
				c.Usages = seq.Usages
				for _, m := range seq.Meters {
					if m.Key.Day < f.day {
						c.Meters = append(c.Meters, m)
					}
				}
			}
		}
	}
	if marks {
		return nil
	}
	if err := f.write(u, ops[0].usage); err != nil {
		return err
	}
	for i := range ops {
		o := &ops[i]
		if o.usage != nil && o.err == nil {
			u.putUsage(o.usage, o.receipt)
		}
		// A new usage or package (a grant an account's first application
		// brings, late as its day's start) is an operation of the account:
		// the latest one's key is its Frontier.
		if (o.usage != nil && o.err == nil || o.pkg != nil) && !o.settled && o.key.Compare(u.a.Frontier) > 0 {
			u.a.Frontier = o.key
		}
	}
	u.a.SinceCheckpoint = f.since
	return nil
}

// checkSeconds refuses, in their ops, the usages of ops that would take
// their meter past its bound: a replay applies every usage of a meter,
// and none may be refused there.
func (e *Engine) checkSeconds(u *unit, ops []op) error {
	added := map[MeterKey]int64{}
	for i := range ops {
		o := &ops[i]
		if o.usage == nil {
			continue
		}
		k := o.meter
		m, err := u.r.Meter(k)
		if err != nil {
			return err
		}
		if m.Seconds+added[k] > maxMeterSeconds-o.usage.Seconds {
			o.err = refuse(overflow(o.usage.Seconds, m.Seconds+added[k]))
			continue
		}
		added[k] += o.usage.Seconds
	}
	return nil
}

// sequence rewrites c, the checkpoint at the start of the first unsettled
// period, with the new usages of settled days ops added to its Usages and
// the meters they are of, as stored, to its Meters: as no usage it lists
// is of those, that is how they stood before its Usages. It returns the
// checkpoint written.
func (e *Engine) sequence(u *unit, c Checkpoint, ops []*op) (Checkpoint, error) {
	for _, o := range ops {
		c.Usages = append(c.Usages, o.usage.ID)
		k := o.meter
		if slices.ContainsFunc(c.Meters, func(m Meter) bool { return m.Key == k }) {
			continue
		}
		m, err := u.r.Meter(k)
		if err != nil {
			return c, err
		}
		c.Meters = append(c.Meters, m)
	}
	u.putCheckpoint(c)
	return c, nil
}
