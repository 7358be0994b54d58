package pgstore

import (
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/rtcbill/billing"
)

// commit applies c to the account r has read and locked, and ends the
// transaction: the writes and COMMIT go in one round trip, one set-based
// statement per table (one or two per purchase and bill). Empty Changes
// send COMMIT alone. Nothing of c is kept: every value is encoded into the
// statements' arguments before commit returns.
func (r *reader) commit(c *billing.Changes) error {
	var b pgx.Batch
	if err := r.queueWrites(&b, c); err != nil {
		return err
	}
	if b.Len() == 0 {
		_, err := r.q.Exec(r.ctx, `COMMIT`)
		return err
	}
	b.Queue(`COMMIT`)
	br := r.q.SendBatch(r.ctx, &b)
	defer br.Close()
	for range b.Len() {
		tag, err := br.Exec()
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 && tag.Update() {
			return fmt.Errorf("pgstore: account %q changed concurrently: %w", r.id, billing.ErrConflict)
		}
	}
	return br.Close()
}

// queueWrites checks c against the account r read and queues its writes.
// The primary keys refuse a usage id, a purchase id, a Seq or a bill's day
// already stored or repeated. The Seqs must also increase, from above the
// ledger's last: queueWrites checks that they increase from 1 up, and the
// INSERT of the entries that the first is above the last stored.
func (r *reader) queueWrites(b *pgx.Batch, c *billing.Changes) error {
	if c.Empty() {
		return nil
	}
	a := c.Account
	switch {
	case a == nil && !r.exists:
		return fmt.Errorf("pgstore: records written for account %q, which does not exist: %w", r.id, billing.ErrNotFound)
	case a == nil:
		return fmt.Errorf("pgstore: records written for account %q without its account record", r.id)
	case a.ID != r.id:
		return fmt.Errorf("pgstore: account record %q written under id %q", a.ID, r.id)
	case a.Version != r.account.Version+1:
		return fmt.Errorf("pgstore: account %q version %d after %d: %w", r.id, a.Version, r.account.Version, billing.ErrConflict)
	}
	prev := int64(0) // Seqs start at 1
	for _, e := range c.Entries {
		if e.Seq <= prev {
			return fmt.Errorf("pgstore: ledger entry %d of account %q not after %d: %w", e.Seq, r.id, prev, billing.ErrExists)
		}
		prev = e.Seq
	}
	if id, ok := repeated(c.Packages, func(p billing.Package) string { return p.ID }); ok {
		return fmt.Errorf("pgstore: package %q written twice to account %q", id, r.id)
	}
	if k, ok := repeated(c.Meters, func(m billing.Meter) billing.MeterKey { return m.Key }); ok {
		return fmt.Errorf("pgstore: meter %v written twice to account %q", k, r.id)
	}
	if k, ok := repeated(c.Checkpoints, func(cp billing.Checkpoint) billing.OpKey { return opKey(cp.Key) }); ok {
		return fmt.Errorf("pgstore: checkpoint %v written twice to account %q", k, r.id)
	}
	if err := r.queueAccount(b, a); err != nil {
		return err
	}
	for _, queue := range []func(*pgx.Batch, string, *billing.Changes) error{
		queuePackages, queueMeters, queueUsages, queuePurchases, queueEntries, queueBills, queueCheckpoints,
	} {
		if err := queue(b, r.id, c); err != nil {
			return err
		}
	}
	return nil
}

// repeated returns a key that two of xs share, if any. Changes hold each
// package ID, meter key and checkpoint key at most once (the Engine merges
// its writes); ON CONFLICT DO UPDATE would refuse a repeated one too, but
// less clearly.
func repeated[T any, K comparable](xs []T, key func(T) K) (K, bool) {
	if len(xs) <= 16 {
		for i := range xs {
			k := key(xs[i])
			for _, x := range xs[:i] {
				if key(x) == k {
					return k, true
				}
			}
		}
	} else {
		seen := make(map[K]bool, len(xs))
		for _, x := range xs {
			k := key(x)
			if seen[k] {
				return k, true
			}
			seen[k] = true
		}
	}
	var zero K
	return zero, false
}

// opKey returns k with its time in UTC and without a monotonic reading,
// so that keys of the same instant, class and id are ==.
func opKey(k billing.OpKey) billing.OpKey {
	k.At = k.At.UTC()
	return k
}

// queueAccount queues the INSERT of a new account, or the UPDATE of the
// account r read, where its version is still the one r read (commit reports
// an UPDATE of no row as ErrConflict).
func (r *reader) queueAccount(b *pgx.Batch, a *billing.Account) error {
	opened, err1 := nanos(a.Opened)
	since, err2 := nanos(a.Postpaid.Since)
	touched, err3 := nanos(a.Touched)
	late, err4 := encodeKeys(a.Late)
	frontier, err5 := nanos(a.Frontier.At)
	enabled, err6 := nanos(a.EnabledAt)
	unbilled, err7 := encodeKeys(a.Unbilled)
	arrears, err8 := encodeArrears(a.Arrears)
	refunds, err9 := encodeRefunds(a.Refunds)
	apps, err10 := encodeApps(a.Apps)
	if err := firstErr(err1, err2, err3, err4, err5, err6, err7, err8, err9, err10); err != nil {
		return err
	}
	args := []any{a.ID, a.Version, a.Currency, opened, a.Postpaid.On, since, a.Postpaid.Way, a.AutoPostpaidArmed, touched,
		a.LastSeq, int32(a.SettledThrough), late, frontier, int16(a.Frontier.Class), a.Frontier.ID, a.SinceCheckpoint, enabled,
		unbilled, arrears, refunds, apps, int32(a.GrantsThrough), int16(a.Cycle)}
	if !r.exists {
		b.Queue(`INSERT INTO billing_accounts (id, `+accountColumnsNoCast+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb,
				$13, $14, $15, $16, $17, $18::jsonb, $19::jsonb, $20::jsonb, $21::jsonb, $22, $23)`, args...)
		return nil
	}
	b.Queue(`UPDATE billing_accounts SET (`+accountColumnsNoCast+`) =
		($2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13, $14, $15, $16, $17, $18::jsonb, $19::jsonb, $20::jsonb,
			$21::jsonb, $22, $23)
		WHERE id = $1 AND version = $24`,
		append(args, r.account.Version)...)
	return nil
}

const accountColumnsNoCast = `version, currency, opened, postpaid_on, postpaid_since, postpaid_way, auto_postpaid_armed,
	touched, last_seq, settled_through, late, frontier_at, frontier_class, frontier_id, since_checkpoint, enabled_at,
	unbilled, arrears, refunds, apps, grants_through, cycle`

func queuePackages(b *pgx.Batch, id string, c *billing.Changes) error {
	if len(c.Packages) == 0 {
		return nil
	}
	n := len(c.Packages)
	ids, kinds, books, prices, apps := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	currencies := make([]string, n)
	minutes, balances, forfeited := make([]int64, n), make([]int64, n), make([]int64, n)
	bought, starts, ends := make([]int64, n), make([]int64, n), make([]int64, n)
	first, ranks := make([]bool, n), make([]int16, n)
	for i, p := range c.Packages {
		ids[i], kinds[i], books[i], currencies[i], prices[i] = p.ID, p.Kind, p.Book, p.Currency, p.Price.String()
		minutes[i], balances[i], forfeited[i] = p.Minutes, p.Balance, p.Forfeited
		apps[i], first[i], ranks[i] = p.App, p.First, int16(p.Rank())
		var err1, err2, err3 error
		bought[i], err1 = nanos(p.PurchasedAt)
		starts[i], err2 = nanos(p.Start)
		ends[i], err3 = nanos(p.End)
		if err := firstErr(err1, err2, err3); err != nil {
			return err
		}
	}
	b.Queue(`INSERT INTO billing_packages (account, id, kind, book, minutes, balance, forfeited, price, purchased_at, start_at, end_at,
			app, first, rank, currency)
		SELECT $1, id, kind, book, minutes, balance, forfeited, price::numeric, purchased_at, start_at, end_at, app, first, rank, currency
		FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[], $9::bigint[], $10::bigint[], $11::bigint[],
			$12::text[], $13::boolean[], $14::smallint[], $15::text[])
			AS p(id, kind, book, minutes, balance, forfeited, price, purchased_at, start_at, end_at, app, first, rank, currency)
		ON CONFLICT (account, id) DO UPDATE SET
			(kind, book, minutes, balance, forfeited, price, purchased_at, start_at, end_at, app, first, rank, currency) =
			(EXCLUDED.kind, EXCLUDED.book, EXCLUDED.minutes, EXCLUDED.balance, EXCLUDED.forfeited, EXCLUDED.price,
			EXCLUDED.purchased_at, EXCLUDED.start_at, EXCLUDED.end_at, EXCLUDED.app, EXCLUDED.first, EXCLUDED.rank, EXCLUDED.currency)`,
		id, ids, kinds, books, minutes, balances, forfeited, prices, bought, starts, ends, apps, first, ranks, currencies)
	return nil
}

func queueMeters(b *pgx.Batch, id string, c *billing.Changes) error {
	if len(c.Meters) == 0 {
		return nil
	}
	n := len(c.Meters)
	days, services, tiers, apps := make([]int32, n), make([]string, n), make([]string, n), make([]string, n)
	latest := make([]int32, n)
	cols := make([][]int64, 11)
	for i := range cols {
		cols[i] = make([]int64, n)
	}
	for i, m := range c.Meters {
		days[i], services[i], tiers[i], apps[i], latest[i] = int32(m.Key.Day), string(m.Key.Service), string(m.Key.Tier), m.Key.App, m.Latest
		s := m.Settled
		for j, v := range []int64{m.Seconds, m.Prepaid, m.Postpaid, m.Shortfall, s.Seconds, s.Prepaid, s.Postpaid, s.Shortfall, m.Unbilled,
			m.EarlierPostpaid, m.EarlierShortfall} {
			cols[j][i] = v
		}
	}
	b.Queue(`INSERT INTO billing_meters (account, day, service, tier, app, seconds, prepaid, postpaid, shortfall,
			settled_seconds, settled_prepaid, settled_postpaid, settled_shortfall, unbilled, earlier_postpaid, earlier_shortfall, latest)
		SELECT $1, * FROM unnest($2::integer[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[],
			$9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[],
			$17::integer[])
		ON CONFLICT (account, day, service, tier, app) DO UPDATE SET
			(seconds, prepaid, postpaid, shortfall, settled_seconds, settled_prepaid, settled_postpaid, settled_shortfall, unbilled,
				earlier_postpaid, earlier_shortfall, latest) =
			(EXCLUDED.seconds, EXCLUDED.prepaid, EXCLUDED.postpaid, EXCLUDED.shortfall, EXCLUDED.settled_seconds,
			EXCLUDED.settled_prepaid, EXCLUDED.settled_postpaid, EXCLUDED.settled_shortfall, EXCLUDED.unbilled,
			EXCLUDED.earlier_postpaid, EXCLUDED.earlier_shortfall, EXCLUDED.latest)`,
		id, days, services, tiers, apps, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], cols[7], cols[8], cols[9], cols[10],
		latest)
	return nil
}

func queueUsages(b *pgx.Batch, id string, c *billing.Changes) error {
	if len(c.Usages) == 0 {
		return nil
	}
	n := len(c.Usages)
	ids, apps, services, scenarios, tiers := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	rServices, rTiers, rApps, draws := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	seconds, ats, minutes, postpaid, shortfall := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	rDays, positions := make([]int32, n), make([]int32, n)
	postpaidOn, suspended, whileSuspended, late, noBasic := make([]bool, n), make([]bool, n), make([]bool, n), make([]bool, n), make([]bool, n)
	inArrears, appDisabled := make([]bool, n), make([]bool, n)
	for i, r := range c.Usages {
		u, rc := &r.Usage, &r.Receipt
		ids[i], apps[i], services[i], scenarios[i], tiers[i] = u.ID, u.App, string(u.Service), string(u.Scenario), string(u.Tier)
		rDays[i], rServices[i], rTiers[i], rApps[i] = int32(rc.Key.Day), string(rc.Key.Service), string(rc.Key.Tier), rc.Key.App
		seconds[i], minutes[i], postpaid[i], shortfall[i] = u.Seconds, rc.Minutes, rc.Postpaid, rc.Shortfall
		postpaidOn[i], suspended[i], positions[i] = rc.PostpaidOn, rc.Suspended, int32(i)
		whileSuspended[i], late[i], noBasic[i], inArrears[i] = rc.WhileSuspended, rc.Late, rc.NoBasicService, rc.InArrears
		appDisabled[i] = rc.AppDisabled
		var err1, err2 error
		ats[i], err1 = nanos(u.At)
		draws[i], err2 = encodeDraws(rc.Draws)
		if err := firstErr(err1, err2); err != nil {
			return err
		}
	}
	b.Queue(`INSERT INTO billing_usages (account, id, app, service, scenario, tier, seconds, at, r_day, r_service, r_tier, r_app,
			minutes, postpaid, shortfall, postpaid_on, suspended, while_suspended, late, no_basic_service, in_arrears,
			app_disabled, draws, version, position)
		SELECT $1, id, app, service, scenario, tier, seconds, at, r_day, r_service, r_tier, r_app,
			minutes, postpaid, shortfall, postpaid_on, suspended, while_suspended, late, no_basic_service, in_arrears,
			app_disabled, draws::jsonb, $2, position
		FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::integer[],
			$11::text[], $12::text[], $13::text[], $14::bigint[], $15::bigint[], $16::bigint[], $17::boolean[], $18::boolean[],
			$19::boolean[], $20::boolean[], $21::boolean[], $22::boolean[], $23::boolean[], $24::text[], $25::integer[])
			AS u(id, app, service, scenario, tier, seconds, at, r_day, r_service, r_tier, r_app, minutes, postpaid, shortfall,
				postpaid_on, suspended, while_suspended, late, no_basic_service, in_arrears, app_disabled, draws, position)`,
		id, c.Account.Version, ids, apps, services, scenarios, tiers, seconds, ats, rDays, rServices, rTiers, rApps,
		minutes, postpaid, shortfall, postpaidOn, suspended, whileSuspended, late, noBasic, inArrears, appDisabled, draws, positions)
	return nil
}

func queuePurchases(b *pgx.Batch, id string, c *billing.Changes) error {
	for _, p := range c.Purchases {
		pk := &p.Receipt.Package
		bought, err1 := nanos(pk.PurchasedAt)
		start, err2 := nanos(pk.Start)
		end, err3 := nanos(pk.End)
		absorbed, err4 := encodeAbsorbed(p.Receipt.Absorbed)
		if err := firstErr(err1, err2, err3, err4); err != nil {
			return err
		}
		b.Queue(`INSERT INTO billing_purchases (account, id, kind, minutes, app, pkg_id, pkg_kind, pkg_book, pkg_minutes, pkg_balance,
				pkg_forfeited, pkg_price, pkg_purchased_at, pkg_start_at, pkg_end_at, pkg_app, pkg_first, day, absorbed, resumed, pkg_currency)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::text::numeric, $13, $14, $15, $16, $17, $18, $19::jsonb, $20, $21)`,
			id, p.Purchase.ID, p.Purchase.Kind, p.Purchase.Minutes, p.Purchase.App, pk.ID, pk.Kind, pk.Book, pk.Minutes, pk.Balance,
			pk.Forfeited, pk.Price.String(), bought, start, end, pk.App, pk.First, int32(p.Receipt.Day), absorbed, p.Receipt.Resumed,
			pk.Currency)
	}
	return nil
}

// lastSeq reads the last Seq of account $1's ledger, or 0: one probe of the
// primary key, from its end (TestLastSeqGenericPlan).
const lastSeq = `SELECT coalesce(max(seq), 0) FROM billing_entries WHERE account = $1`

// queueEntries queues the INSERT of c.Entries, whose Seqs increase from 1 up
// (queueWrites checks that). The first must also be above the ledger's last
// Seq: an entry at or below it is inserted at the last Seq itself, which the
// primary key refuses, failing the commit with ErrExists. So the check costs
// no statement of its own (a statement more per unit of work made Record 5
// to 10 % slower), and it runs after the account's lock, when only this unit
// of work can add to the ledger.
func queueEntries(b *pgx.Batch, id string, c *billing.Changes) error {
	if len(c.Entries) == 0 {
		return nil
	}
	n := len(c.Entries)
	seqs, ats, balances, minutes := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	days := make([]int32, n)
	kinds, requests, refs, packages, services, tiers := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	keyApps, apps, scenarios, amounts := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, e := range c.Entries {
		var err error
		if ats[i], err = nanos(e.At); err != nil {
			return err
		}
		seqs[i], balances[i], minutes[i], days[i] = e.Seq, e.Balance, e.Minutes, int32(e.Key.Day)
		kinds[i], requests[i], refs[i], packages[i] = string(e.Kind), string(e.Request), e.Ref, e.Package
		services[i], tiers[i], keyApps[i] = string(e.Key.Service), string(e.Key.Tier), e.Key.App
		apps[i], scenarios[i], amounts[i] = e.App, string(e.Scenario), e.Amount.String()
	}
	b.Queue(`INSERT INTO billing_entries (account, seq, at, kind, request, ref, package, balance, day, service, tier, key_app,
			minutes, app, scenario, amount)
		SELECT $1, greatest(seq, (`+lastSeq+`)), at, kind, request, ref, package, balance, day, service, tier, key_app, minutes, app,
			scenario, amount::numeric
		FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::integer[],
			$10::text[], $11::text[], $12::text[], $13::bigint[], $14::text[], $15::text[], $16::text[])
			AS e(seq, at, kind, request, ref, package, balance, day, service, tier, key_app, minutes, app, scenario, amount)`,
		id, seqs, ats, kinds, requests, refs, packages, balances, days, services, tiers, keyApps, minutes, apps, scenarios, amounts)
	return nil
}

func queueBills(b *pgx.Batch, id string, c *billing.Changes) error {
	for _, bill := range c.Bills {
		issued, err := nanos(bill.Issued)
		if err != nil {
			return err
		}
		b.Queue(`INSERT INTO billing_bills (account, day, through, currency, issued, postpaid_on, subtotal, total)
			VALUES ($1, $2, $3, $4, $5, $6, $7::text::numeric, $8::text::numeric)`,
			id, int32(bill.Day), int32(bill.Through), bill.Currency, issued, bill.PostpaidOn, bill.Subtotal.String(), bill.Total.String())
		if len(bill.Lines) == 0 {
			continue
		}
		n := len(bill.Lines)
		ns, days := make([]int32, n), make([]int32, n)
		services, tiers, apps, prices, amounts := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		adjustments := make([]bool, n)
		cols := make([][]int64, 7)
		for i := range cols {
			cols[i] = make([]int64, n)
		}
		for i, l := range bill.Lines {
			ns[i], days[i], services[i], tiers[i], apps[i] = int32(i), int32(l.Day), string(l.Service), string(l.Tier), l.App
			adjustments[i] = l.Adjustment
			prices[i], amounts[i] = l.UnitPrice.String(), l.Amount.String()
			for j, v := range []int64{l.Seconds, l.Minutes, l.Prepaid, l.Postpaid, l.Shortfall, l.Deferred, l.Billed} {
				cols[j][i] = v
			}
		}
		b.Queue(`INSERT INTO billing_bill_lines (account, bill_day, n, day, service, tier, app, adjustment, seconds, minutes,
				prepaid, postpaid, shortfall, deferred, billed, unit_price, amount)
			SELECT $1, $2, n, day, service, tier, app, adjustment, seconds, minutes, prepaid, postpaid, shortfall, deferred, billed,
				unit_price::numeric, amount::numeric
			FROM unnest($3::integer[], $4::integer[], $5::text[], $6::text[], $7::text[], $8::boolean[], $9::bigint[], $10::bigint[],
				$11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[], $16::text[], $17::text[])
				AS l(n, day, service, tier, app, adjustment, seconds, minutes, prepaid, postpaid, shortfall, deferred, billed,
					unit_price, amount)`,
			id, int32(bill.Day), ns, days, services, tiers, apps, adjustments, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5],
			cols[6], prices, amounts)
	}
	return nil
}

// queueCheckpoints queues the upsert of c.Checkpoints, whose keys
// queueWrites checked are not repeated.
func queueCheckpoints(b *pgx.Batch, id string, c *billing.Changes) error {
	if len(c.Checkpoints) == 0 {
		return nil
	}
	n := len(c.Checkpoints)
	ats, postpaidSince := make([]int64, n), make([]int64, n)
	classes := make([]int16, n)
	ids, ways, balances, meters := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	usages, apps := make([]string, n), make([]string, n)
	postpaidOn, armed := make([]bool, n), make([]bool, n)
	for i, cp := range c.Checkpoints {
		classes[i], ids[i] = int16(cp.Key.Class), cp.Key.ID
		postpaidOn[i], ways[i], armed[i] = cp.Postpaid.On, string(cp.Postpaid.Way), cp.Armed
		var err1, err2, err3, err4, err5, err6 error
		ats[i], err1 = nanos(cp.Key.At)
		postpaidSince[i], err2 = nanos(cp.Postpaid.Since)
		balances[i], err3 = encodeBalances(cp.Balances)
		meters[i], err4 = encodeMeters(cp.Meters)
		usages[i], err5 = encodeIDs(cp.Usages)
		apps[i], err6 = encodeAppStates(cp.Apps)
		if err := firstErr(err1, err2, err3, err4, err5, err6); err != nil {
			return err
		}
	}
	b.Queue(`INSERT INTO billing_checkpoints (account, at, class, id, postpaid_on, postpaid_since, postpaid_way, armed,
			balances, meters, usages, apps)
		SELECT $1, at, class, id, postpaid_on, postpaid_since, postpaid_way, armed,
			balances::jsonb, meters::jsonb, usages::jsonb, apps::jsonb
		FROM unnest($2::bigint[], $3::smallint[], $4::text[], $5::boolean[], $6::bigint[], $7::text[], $8::boolean[],
			$9::text[], $10::text[], $11::text[], $12::text[])
			AS c(at, class, id, postpaid_on, postpaid_since, postpaid_way, armed, balances, meters, usages, apps)
		ON CONFLICT (account, at, class, id) DO UPDATE SET
			(postpaid_on, postpaid_since, postpaid_way, armed, balances, meters, usages, apps) =
			(EXCLUDED.postpaid_on, EXCLUDED.postpaid_since, EXCLUDED.postpaid_way, EXCLUDED.armed,
			EXCLUDED.balances, EXCLUDED.meters, EXCLUDED.usages, EXCLUDED.apps)`,
		id, ats, classes, ids, postpaidOn, postpaidSince, ways, armed, balances, meters, usages, apps)
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
