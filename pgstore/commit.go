package pgstore

import (
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/rtcbill/billing"
)

// tx is a unit of work: a reader whose writes are buffered until commit.
// Packages and meters written twice are written once, as last written.
type tx struct {
	reader
	put       *billing.Account
	packages  []billing.Package
	meters    []billing.Meter
	usages    []billing.UsageRecord
	purchases []billing.PurchaseRecord
	entries   []billing.Entry
	bills     []billing.Bill
}

var _ billing.Tx = (*tx)(nil)
var _ billing.Prefetcher = (*tx)(nil)

func (t *tx) PutAccount(a billing.Account) {
	a.Late = slices.Clone(a.Late)
	t.put = &a
}

func (t *tx) PutPackage(p billing.Package) {
	if i := slices.IndexFunc(t.packages, func(q billing.Package) bool { return q.ID == p.ID }); i >= 0 {
		t.packages[i] = p
		return
	}
	t.packages = append(t.packages, p)
}

func (t *tx) PutMeter(m billing.Meter) {
	if i := slices.IndexFunc(t.meters, func(n billing.Meter) bool { return n.Key == m.Key }); i >= 0 {
		t.meters[i] = m
		return
	}
	t.meters = append(t.meters, m)
}

func (t *tx) PutUsage(u billing.UsageRecord) {
	u.Receipt.Draws = slices.Clone(u.Receipt.Draws)
	t.usages = append(t.usages, u)
}

func (t *tx) PutPurchase(p billing.PurchaseRecord) {
	p.Receipt.Absorbed = slices.Clone(p.Receipt.Absorbed)
	t.purchases = append(t.purchases, p)
}

func (t *tx) AppendEntry(e billing.Entry) { t.entries = append(t.entries, e) }

func (t *tx) PutBill(b billing.Bill) {
	b.Lines = slices.Clone(b.Lines)
	t.bills = append(t.bills, b)
}

// commit sends the buffered writes and COMMIT in one round trip: one
// statement per table, set-based.
func (t *tx) commit() error {
	var b pgx.Batch
	if err := t.queueWrites(&b); err != nil {
		return err
	}
	b.Queue(`COMMIT`)
	br := t.q.SendBatch(t.ctx, &b)
	defer br.Close()
	for range b.Len() {
		tag, err := br.Exec()
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 && tag.Update() {
			return fmt.Errorf("pgstore: account %q changed concurrently: %w", t.id, billing.ErrConflict)
		}
	}
	return br.Close()
}

// queueWrites queues the buffered writes.
func (t *tx) queueWrites(b *pgx.Batch) error {
	if t.put == nil && len(t.packages)+len(t.meters)+len(t.usages)+len(t.purchases)+len(t.entries)+len(t.bills) == 0 {
		return nil
	}
	version := t.account.Version
	switch {
	case t.put == nil && !t.exists:
		return fmt.Errorf("pgstore: records written for account %q, which does not exist: %w", t.id, billing.ErrNotFound)
	case t.put != nil:
		if t.put.ID != t.id {
			return fmt.Errorf("pgstore: account record %q written under id %q", t.put.ID, t.id)
		}
		if t.put.Version != t.account.Version+1 {
			return fmt.Errorf("pgstore: account %q version %d after %d: %w", t.id, t.put.Version, t.account.Version, billing.ErrConflict)
		}
		if err := t.queueAccount(b); err != nil {
			return err
		}
		version = t.put.Version
	}
	for _, queue := range []func(*pgx.Batch, int64) error{t.queuePackages, t.queueMeters, t.queueUsages, t.queuePurchases, t.queueEntries, t.queueBills} {
		if err := queue(b, version); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) queueAccount(b *pgx.Batch) error {
	a := t.put
	opened, err1 := nanos(a.Opened)
	since, err2 := nanos(a.Postpaid.Since)
	suspended, err3 := nanos(a.Status.Since)
	touched, err4 := nanos(a.Touched)
	late, err5 := encodeKeys(a.Late)
	if err := firstErr(err1, err2, err3, err4, err5); err != nil {
		return err
	}
	args := []any{a.ID, a.Version, a.Currency, opened, a.Postpaid.On, since, a.Postpaid.Way, a.Status.Suspended, suspended,
		a.Status.Reason, a.AutoPostpaidArmed, touched, a.LastSeq, int32(a.SettledThrough), late}
	if !t.exists {
		b.Queue(`INSERT INTO billing_accounts (id, `+accountColumnsNoCast+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb)`, args...)
		return nil
	}
	b.Queue(`UPDATE billing_accounts SET (`+accountColumnsNoCast+`) =
		($2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb) WHERE id = $1 AND version = $16`,
		append(args, t.account.Version)...)
	return nil
}

const accountColumnsNoCast = `version, currency, opened, postpaid_on, postpaid_since, postpaid_way, suspended, suspended_since,
	suspend_reason, auto_postpaid_armed, touched, last_seq, settled_through, late`

func (t *tx) queuePackages(b *pgx.Batch, _ int64) error {
	if len(t.packages) == 0 {
		return nil
	}
	n := len(t.packages)
	ids, kinds, books, prices := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	minutes, balances, forfeited := make([]int64, n), make([]int64, n), make([]int64, n)
	bought, starts, ends := make([]int64, n), make([]int64, n), make([]int64, n)
	for i, p := range t.packages {
		ids[i], kinds[i], books[i], prices[i] = p.ID, p.Kind, p.Book, p.Price.String()
		minutes[i], balances[i], forfeited[i] = p.Minutes, p.Balance, p.Forfeited
		var err1, err2, err3 error
		bought[i], err1 = nanos(p.PurchasedAt)
		starts[i], err2 = nanos(p.Start)
		ends[i], err3 = nanos(p.End)
		if err := firstErr(err1, err2, err3); err != nil {
			return err
		}
	}
	b.Queue(`INSERT INTO billing_packages (account, id, kind, book, minutes, balance, forfeited, price, purchased_at, start_at, end_at)
		SELECT $1, id, kind, book, minutes, balance, forfeited, price::numeric, purchased_at, start_at, end_at
		FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[], $9::bigint[], $10::bigint[], $11::bigint[])
			AS p(id, kind, book, minutes, balance, forfeited, price, purchased_at, start_at, end_at)
		ON CONFLICT (account, id) DO UPDATE SET (kind, book, minutes, balance, forfeited, price, purchased_at, start_at, end_at) =
			(EXCLUDED.kind, EXCLUDED.book, EXCLUDED.minutes, EXCLUDED.balance, EXCLUDED.forfeited, EXCLUDED.price,
			EXCLUDED.purchased_at, EXCLUDED.start_at, EXCLUDED.end_at)`,
		t.id, ids, kinds, books, minutes, balances, forfeited, prices, bought, starts, ends)
	return nil
}

func (t *tx) queueMeters(b *pgx.Batch, _ int64) error {
	if len(t.meters) == 0 {
		return nil
	}
	n := len(t.meters)
	days, services, tiers := make([]int32, n), make([]string, n), make([]string, n)
	cols := make([][]int64, 8)
	for i := range cols {
		cols[i] = make([]int64, n)
	}
	for i, m := range t.meters {
		days[i], services[i], tiers[i] = int32(m.Key.Day), string(m.Key.Service), string(m.Key.Tier)
		s := m.Settled
		for j, v := range []int64{m.Seconds, m.Prepaid, m.Postpaid, m.Shortfall, s.Seconds, s.Prepaid, s.Postpaid, s.Shortfall} {
			cols[j][i] = v
		}
	}
	b.Queue(`INSERT INTO billing_meters (account, day, service, tier, seconds, prepaid, postpaid, shortfall,
			settled_seconds, settled_prepaid, settled_postpaid, settled_shortfall)
		SELECT $1, * FROM unnest($2::integer[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[],
			$9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[])
		ON CONFLICT (account, day, service, tier) DO UPDATE SET
			(seconds, prepaid, postpaid, shortfall, settled_seconds, settled_prepaid, settled_postpaid, settled_shortfall) =
			(EXCLUDED.seconds, EXCLUDED.prepaid, EXCLUDED.postpaid, EXCLUDED.shortfall, EXCLUDED.settled_seconds,
			EXCLUDED.settled_prepaid, EXCLUDED.settled_postpaid, EXCLUDED.settled_shortfall)`,
		t.id, days, services, tiers, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], cols[7])
	return nil
}

func (t *tx) queueUsages(b *pgx.Batch, version int64) error {
	if len(t.usages) == 0 {
		return nil
	}
	n := len(t.usages)
	ids, apps, services, scenarios, tiers := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	rServices, rTiers, draws := make([]string, n), make([]string, n), make([]string, n)
	seconds, ats, minutes, postpaid, shortfall := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	rDays, positions := make([]int32, n), make([]int32, n)
	postpaidOn, suspended := make([]bool, n), make([]bool, n)
	for i, r := range t.usages {
		u, rc := &r.Usage, &r.Receipt
		ids[i], apps[i], services[i], scenarios[i], tiers[i] = u.ID, u.App, string(u.Service), string(u.Scenario), string(u.Tier)
		rDays[i], rServices[i], rTiers[i] = int32(rc.Key.Day), string(rc.Key.Service), string(rc.Key.Tier)
		seconds[i], minutes[i], postpaid[i], shortfall[i] = u.Seconds, rc.Minutes, rc.Postpaid, rc.Shortfall
		postpaidOn[i], suspended[i], positions[i] = rc.PostpaidOn, rc.Suspended, int32(i)
		var err1, err2 error
		ats[i], err1 = nanos(u.At)
		draws[i], err2 = encodeDraws(rc.Draws)
		if err := firstErr(err1, err2); err != nil {
			return err
		}
	}
	b.Queue(`INSERT INTO billing_usages (account, id, app, service, scenario, tier, seconds, at, r_day, r_service, r_tier,
			minutes, postpaid, shortfall, postpaid_on, suspended, draws, version, position)
		SELECT $1, id, app, service, scenario, tier, seconds, at, r_day, r_service, r_tier,
			minutes, postpaid, shortfall, postpaid_on, suspended, draws::jsonb, $2, position
		FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::integer[],
			$11::text[], $12::text[], $13::bigint[], $14::bigint[], $15::bigint[], $16::boolean[], $17::boolean[], $18::text[], $19::integer[])
			AS u(id, app, service, scenario, tier, seconds, at, r_day, r_service, r_tier, minutes, postpaid, shortfall,
				postpaid_on, suspended, draws, position)`,
		t.id, version, ids, apps, services, scenarios, tiers, seconds, ats, rDays, rServices, rTiers,
		minutes, postpaid, shortfall, postpaidOn, suspended, draws, positions)
	return nil
}

func (t *tx) queuePurchases(b *pgx.Batch, _ int64) error {
	for _, p := range t.purchases {
		pk := &p.Receipt.Package
		bought, err1 := nanos(pk.PurchasedAt)
		start, err2 := nanos(pk.Start)
		end, err3 := nanos(pk.End)
		absorbed, err4 := encodeAbsorbed(p.Receipt.Absorbed)
		if err := firstErr(err1, err2, err3, err4); err != nil {
			return err
		}
		b.Queue(`INSERT INTO billing_purchases (account, id, kind, minutes, pkg_id, pkg_kind, pkg_book, pkg_minutes, pkg_balance,
				pkg_forfeited, pkg_price, pkg_purchased_at, pkg_start_at, pkg_end_at, day, absorbed, resumed)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::text::numeric, $12, $13, $14, $15, $16::jsonb, $17)`,
			t.id, p.Purchase.ID, p.Purchase.Kind, p.Purchase.Minutes, pk.ID, pk.Kind, pk.Book, pk.Minutes, pk.Balance,
			pk.Forfeited, pk.Price.String(), bought, start, end, int32(p.Receipt.Day), absorbed, p.Receipt.Resumed)
	}
	return nil
}

func (t *tx) queueEntries(b *pgx.Batch, _ int64) error {
	if len(t.entries) == 0 {
		return nil
	}
	n := len(t.entries)
	seqs, ats, balances, minutes := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	days := make([]int32, n)
	kinds, requests, refs, packages, services, tiers := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	apps, scenarios, amounts := make([]string, n), make([]string, n), make([]string, n)
	for i, e := range t.entries {
		var err error
		if ats[i], err = nanos(e.At); err != nil {
			return err
		}
		seqs[i], balances[i], minutes[i], days[i] = e.Seq, e.Balance, e.Minutes, int32(e.Key.Day)
		kinds[i], requests[i], refs[i], packages[i] = string(e.Kind), string(e.Request), e.Ref, e.Package
		services[i], tiers[i], apps[i], scenarios[i], amounts[i] = string(e.Key.Service), string(e.Key.Tier), e.App, string(e.Scenario), e.Amount.String()
	}
	b.Queue(`INSERT INTO billing_entries (account, seq, at, kind, request, ref, package, balance, day, service, tier,
			minutes, app, scenario, amount)
		SELECT $1, seq, at, kind, request, ref, package, balance, day, service, tier, minutes, app, scenario, amount::numeric
		FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::integer[],
			$10::text[], $11::text[], $12::bigint[], $13::text[], $14::text[], $15::text[])
			AS e(seq, at, kind, request, ref, package, balance, day, service, tier, minutes, app, scenario, amount)`,
		t.id, seqs, ats, kinds, requests, refs, packages, balances, days, services, tiers, minutes, apps, scenarios, amounts)
	return nil
}

func (t *tx) queueBills(b *pgx.Batch, _ int64) error {
	for _, bill := range t.bills {
		issued, err := nanos(bill.Issued)
		if err != nil {
			return err
		}
		b.Queue(`INSERT INTO billing_bills (account, day, currency, issued, postpaid_on, subtotal, total)
			VALUES ($1, $2, $3, $4, $5, $6::text::numeric, $7::text::numeric)`,
			t.id, int32(bill.Day), bill.Currency, issued, bill.PostpaidOn, bill.Subtotal.String(), bill.Total.String())
		if len(bill.Lines) == 0 {
			continue
		}
		n := len(bill.Lines)
		ns, days := make([]int32, n), make([]int32, n)
		services, tiers, prices, amounts := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		adjustments := make([]bool, n)
		cols := make([][]int64, 6)
		for i := range cols {
			cols[i] = make([]int64, n)
		}
		for i, l := range bill.Lines {
			ns[i], days[i], services[i], tiers[i], adjustments[i] = int32(i), int32(l.Day), string(l.Service), string(l.Tier), l.Adjustment
			prices[i], amounts[i] = l.UnitPrice.String(), l.Amount.String()
			for j, v := range []int64{l.Seconds, l.Minutes, l.Prepaid, l.Postpaid, l.Shortfall, l.Billed} {
				cols[j][i] = v
			}
		}
		b.Queue(`INSERT INTO billing_bill_lines (account, bill_day, n, day, service, tier, adjustment, seconds, minutes,
				prepaid, postpaid, shortfall, billed, unit_price, amount)
			SELECT $1, $2, n, day, service, tier, adjustment, seconds, minutes, prepaid, postpaid, shortfall, billed,
				unit_price::numeric, amount::numeric
			FROM unnest($3::integer[], $4::integer[], $5::text[], $6::text[], $7::boolean[], $8::bigint[], $9::bigint[],
				$10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::text[], $15::text[])
				AS l(n, day, service, tier, adjustment, seconds, minutes, prepaid, postpaid, shortfall, billed, unit_price, amount)`,
			t.id, int32(bill.Day), ns, days, services, tiers, adjustments, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], prices, amounts)
	}
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
