package pgstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/rtcbill/billing"
)

// reader reads one account's records in a transaction: it is the Reader of
// View, and of Update, which then commits the Changes fn returned (see
// commit.go). Usage records and meters that Prefetch loaded, and the live
// packages read so far, are kept: a unit of work reads the state from its
// start, which its lock freezes.
type reader struct {
	ctx context.Context
	q   querier
	id  string

	account billing.Account
	exists  bool

	usages   map[string]*billing.UsageRecord // nil: known not to exist
	meters   map[billing.MeterKey]billing.Meter
	live     []billing.Package
	liveDone bool
}

var (
	_ billing.Reader     = (*reader)(nil)
	_ billing.Prefetcher = (*reader)(nil)
)

// querier is the part of a pooled connection the reads and writes use.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

const accountColumns = `version, currency, opened, postpaid_on, postpaid_since, postpaid_way, auto_postpaid_armed,
	touched, last_seq, settled_through, late::text, frontier_at, frontier_class, frontier_id, since_checkpoint, enabled_at,
	unbilled::text, arrears::text, refunds::text, apps::text, grants_through, cycle`

// begin starts the transaction with the statement begin and reads the
// account (locking its row if lock is set), in one round trip.
func (r *reader) begin(begin string, lock bool) error {
	q := `SELECT ` + accountColumns + ` FROM billing_accounts WHERE id = $1`
	if lock {
		q += ` FOR UPDATE`
	}
	var b pgx.Batch
	b.Queue(begin)
	b.Queue(q, r.id)
	br := r.q.SendBatch(r.ctx, &b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return err
	}
	if err := r.scanAccount(br.QueryRow()); err != nil {
		return err
	}
	return br.Close()
}

func (r *reader) scanAccount(row pgx.Row) error {
	a := billing.Account{ID: r.id}
	var opened, since, touched, frontier, enabled int64
	var class int16
	var late, unbilled, arrears, refunds, apps string
	err := row.Scan(&a.Version, &a.Currency, &opened, &a.Postpaid.On, &since, &a.Postpaid.Way,
		&a.AutoPostpaidArmed, &touched, &a.LastSeq, &a.SettledThrough, &late,
		&frontier, &class, &a.Frontier.ID, &a.SinceCheckpoint, &enabled, &unbilled, &arrears, &refunds, &apps, &a.GrantsThrough, &a.Cycle)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	a.Opened, a.Postpaid.Since, a.Touched = fromNanos(opened), fromNanos(since), fromNanos(touched)
	a.Frontier.At, a.Frontier.Class, a.EnabledAt = fromNanos(frontier), billing.Class(class), fromNanos(enabled)
	if a.Late, err = decodeKeys(late); err != nil {
		return fmt.Errorf("pgstore: account %q: late: %w", r.id, err)
	}
	if a.Unbilled, err = decodeKeys(unbilled); err != nil {
		return fmt.Errorf("pgstore: account %q: unbilled: %w", r.id, err)
	}
	if a.Arrears, err = decodeArrears(arrears); err != nil {
		return err
	}
	if a.Refunds, err = decodeRefunds(refunds); err != nil {
		return err
	}
	if a.Apps, err = decodeApps(apps); err != nil {
		return err
	}
	r.account, r.exists = a, true
	return nil
}

func (r *reader) Account() (billing.Account, error) {
	if !r.exists {
		return billing.Account{}, fmt.Errorf("pgstore: account %q: %w", r.id, billing.ErrNotFound)
	}
	a := r.account
	a.Late, a.Unbilled, a.Apps = slices.Clone(a.Late), slices.Clone(a.Unbilled), cloneApps(a.Apps)
	a.Arrears, a.Refunds = slices.Clone(a.Arrears), slices.Clone(a.Refunds)
	for i := range a.Arrears {
		a.Arrears[i].Refs = slices.Clone(a.Arrears[i].Refs)
	}
	return a, nil
}

const usageColumns = `id, app, service, scenario, tier, seconds::bigint, at, r_day, r_service, r_tier, r_app,
	minutes::bigint, postpaid::bigint, shortfall::bigint, postpaid_on, suspended, while_suspended, late, no_basic_service,
	in_arrears, app_disabled, draws::text`

// usageByID reads one usage record of account $1 by id.
const usageByID = `SELECT ` + usageColumns + ` FROM billing_usages WHERE account = $1 AND id = $2`

func (r *reader) scanUsage(row pgx.Row) (billing.UsageRecord, error) {
	u := billing.UsageRecord{Usage: billing.Usage{Account: r.id}}
	var at int64
	var draws string
	rc := &u.Receipt
	err := row.Scan(&u.Usage.ID, &u.Usage.App, &u.Usage.Service, &u.Usage.Scenario, &u.Usage.Tier, &u.Usage.Seconds, &at,
		&rc.Key.Day, &rc.Key.Service, &rc.Key.Tier, &rc.Key.App, &rc.Minutes, &rc.Postpaid, &rc.Shortfall, &rc.PostpaidOn, &rc.Suspended,
		&rc.WhileSuspended, &rc.Late, &rc.NoBasicService, &rc.InArrears, &rc.AppDisabled, &draws)
	if err != nil {
		return u, err
	}
	u.Usage.At = fromNanos(at)
	rc.Draws, err = decodeDraws(draws)
	return u, err
}

func (r *reader) Usage(id string) (billing.UsageRecord, error) {
	if u, ok := r.usages[id]; ok {
		if u == nil {
			return billing.UsageRecord{}, billing.ErrNotFound
		}
		c := *u
		c.Receipt.Draws = slices.Clone(c.Receipt.Draws)
		return c, nil
	}
	u, err := r.scanUsage(r.q.QueryRow(r.ctx, usageByID, r.id, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return billing.UsageRecord{}, fmt.Errorf("pgstore: usage %q: %w", id, billing.ErrNotFound)
	}
	return u, err
}

const purchaseColumns = `id, kind, minutes::bigint, app, pkg_id, pkg_kind, pkg_book, pkg_minutes::bigint, pkg_balance::bigint,
	pkg_forfeited::bigint, pkg_price::text, pkg_purchased_at, pkg_start_at, pkg_end_at, pkg_app, pkg_first, day, absorbed::text, resumed,
	pkg_currency`

func (r *reader) Purchase(id string) (billing.PurchaseRecord, error) {
	p := billing.PurchaseRecord{Purchase: billing.Purchase{Account: r.id}}
	pk := &p.Receipt.Package
	var price, absorbed string
	var bought, start, end int64
	err := r.q.QueryRow(r.ctx, `SELECT `+purchaseColumns+` FROM billing_purchases WHERE account = $1 AND id = $2`, r.id, id).Scan(
		&p.Purchase.ID, &p.Purchase.Kind, &p.Purchase.Minutes, &p.Purchase.App, &pk.ID, &pk.Kind, &pk.Book, &pk.Minutes, &pk.Balance,
		&pk.Forfeited, &price, &bought, &start, &end, &pk.App, &pk.First, &p.Receipt.Day, &absorbed, &p.Receipt.Resumed, &pk.Currency)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("pgstore: purchase %q: %w", id, billing.ErrNotFound)
	}
	if err != nil {
		return p, err
	}
	pk.PurchasedAt, pk.Start, pk.End = fromNanos(bought), fromNanos(start), fromNanos(end)
	if pk.Price, err = dec(price); err != nil {
		return p, err
	}
	p.Receipt.Absorbed, err = decodeAbsorbed(absorbed)
	return p, err
}

const meterColumns = `day, service, tier, app, seconds::bigint, prepaid::bigint, postpaid::bigint, shortfall::bigint,
	settled_seconds::bigint, settled_prepaid::bigint, settled_postpaid::bigint, settled_shortfall::bigint, unbilled::bigint,
	latest, earlier_postpaid::bigint, earlier_shortfall::bigint`

// meterByKey reads one meter of account $1 by key.
const meterByKey = `SELECT ` + meterColumns + ` FROM billing_meters
	WHERE account = $1 AND day = $2 AND service = $3 AND tier = $4 AND app = $5`

func scanMeter(row pgx.Row) (billing.Meter, error) {
	var m billing.Meter
	s := &m.Settled
	err := row.Scan(&m.Key.Day, &m.Key.Service, &m.Key.Tier, &m.Key.App, &m.Seconds, &m.Prepaid, &m.Postpaid, &m.Shortfall,
		&s.Seconds, &s.Prepaid, &s.Postpaid, &s.Shortfall, &m.Unbilled, &m.Latest, &m.EarlierPostpaid, &m.EarlierShortfall)
	return m, err
}

func (r *reader) Meter(k billing.MeterKey) (billing.Meter, error) {
	if m, ok := r.meters[k]; ok {
		return m, nil
	}
	m, err := scanMeter(r.q.QueryRow(r.ctx, meterByKey, r.id, int32(k.Day), k.Service, k.Tier, k.App))
	if errors.Is(err, pgx.ErrNoRows) {
		return billing.Meter{Key: k}, nil
	}
	return m, err
}

func (r *reader) Meters(d billing.Day, fn func(billing.Meter) bool) error {
	rows, err := r.q.Query(r.ctx, `SELECT `+meterColumns+` FROM billing_meters WHERE account = $1 AND day = $2
		ORDER BY service, tier, app`, r.id, int32(d))
	if err != nil {
		return err
	}
	return each(rows, scanMeter, fn)
}

// The two lookups of Prefetch, by usage id and by meter key, are written
// as one index probe per id or key: for each element of the array, a
// LATERAL subquery looks up one row by its whole primary key.
//
// Do not write them the obvious way (WHERE account = $1 AND id = ANY($2),
// or (day, service, tier, app) IN (SELECT * FROM unnest(...))), nor as a plain
// join with unnest. pgx prepares its statements, and after five runs of a
// prepared statement PostgreSQL may switch to a generic plan: a plan made
// without looking at the parameters' values, and kept until the table is
// next analyzed or vacuumed. Such a plan guesses that the array holds 10
// elements, and that "account = $1" matches as many rows as an average
// account has (before the table is first analyzed, half a percent of the
// table). When that comes to a handful of rows, the cheapest plan reads
// all of the account's rows through the primary key and tests each one
// against the array: for each of the account's usages, a linear search of
// the batch's 1,000 ids; for each of its meters, unnest run again. The
// plain join is little better: a hash join over all of the account's rows.
// On a busy account, each batch then costs more than the one before: at
// 80,000 usages, the id lookup took 1.5 s per batch instead of 2 ms.
//
// PostgreSQL cannot merge a subquery that has a LIMIT into the join, so
// it must run the subquery once per element. With every column of the
// primary key given, the cheapest way to run it is an index probe,
// whatever the size of the account. The one exception is a table of a few
// pages (about 200 usages in all), where scanning the whole table is
// cheaper. A generic plan made at that size keeps scanning as the table
// grows, until autovacuum next analyzes it, which it does once the table
// has grown by a tenth. LIMIT 1 changes nothing else: the primary key
// allows one row at most. TestPrefetchGenericPlan checks these plans.
const (
	prefetchUsages = `SELECT ` + usageColumns + ` FROM unnest($2::text[]) AS k(want)
		CROSS JOIN LATERAL (SELECT * FROM billing_usages WHERE account = $1 AND id = k.want LIMIT 1) u`
	prefetchMeters = `SELECT ` + meterColumns + ` FROM unnest($2::integer[], $3::text[], $4::text[], $5::text[]) AS k(d, s, t, a)
		CROSS JOIN LATERAL (SELECT * FROM billing_meters
			WHERE account = $1 AND day = k.d AND service = k.s AND tier = k.t AND app = k.a LIMIT 1) m`
)

// Prefetch implements billing.Prefetcher: it loads the usage records and
// meters in one round trip. Each id or key is one index probe (see
// prefetchUsages), so a key repeated in keys (a batch's usages mostly share
// theirs) is sent once; an id repeated in ids, which is rare, is looked up
// twice, to the same effect. A single id or key is read with the query of
// Usage or Meter instead: for one element, PostgreSQL estimates the
// LATERAL query's custom plan cheaper than its generic plan (which assumes
// 10 elements), so it would plan the query anew at every Record.
func (r *reader) Prefetch(ids []string, keys []billing.MeterKey) error {
	var days []int32
	var services, tiers, apps []string
	seen := make(map[billing.MeterKey]bool, min(len(keys), 16))
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			days, services, tiers = append(days, int32(k.Day)), append(services, string(k.Service)), append(tiers, string(k.Tier))
			apps = append(apps, k.App)
		}
	}
	var b pgx.Batch
	if len(ids) == 1 {
		b.Queue(usageByID, r.id, ids[0])
	} else {
		b.Queue(prefetchUsages, r.id, ids)
	}
	if len(days) == 1 {
		b.Queue(meterByKey, r.id, days[0], services[0], tiers[0], apps[0])
	} else {
		b.Queue(prefetchMeters, r.id, days, services, tiers, apps)
	}
	fetchLive := len(r.live) == 0 && !r.liveDone
	if fetchLive {
		q, args := r.liveQuery()
		b.Queue(q, args...)
	}
	br := r.q.SendBatch(r.ctx, &b)
	defer br.Close()
	if r.usages == nil {
		r.usages, r.meters = map[string]*billing.UsageRecord{}, map[billing.MeterKey]billing.Meter{}
	}
	for _, id := range ids {
		r.usages[id] = nil
	}
	for _, k := range keys {
		r.meters[k] = billing.Meter{Key: k}
	}
	rows, err := br.Query()
	if err != nil {
		return err
	}
	err = each(rows, r.scanUsage, func(u billing.UsageRecord) bool { r.usages[u.Usage.ID] = &u; return true })
	if err != nil {
		return err
	}
	if rows, err = br.Query(); err != nil {
		return err
	}
	if err := each(rows, scanMeter, func(m billing.Meter) bool { r.meters[m.Key] = m; return true }); err != nil {
		return err
	}
	if fetchLive {
		if rows, err = br.Query(); err != nil {
			return err
		}
		if err := r.readLive(rows); err != nil {
			return err
		}
	}
	return br.Close()
}

const packageColumns = `id, kind, book, minutes::bigint, balance::bigint, forfeited::bigint, price::text, purchased_at, start_at, end_at,
	app, first, currency`

// packageOrder is the deduction order of billing.ComparePackages: the rank
// (see rank), then soonest end, earliest purchase, id (COLLATE "C").
const packageOrder = `rank, end_at, purchased_at, id`

func scanPackage(row pgx.Row) (billing.Package, error) {
	var p billing.Package
	var price string
	var bought, start, end int64
	err := row.Scan(&p.ID, &p.Kind, &p.Book, &p.Minutes, &p.Balance, &p.Forfeited, &price, &bought, &start, &end, &p.App, &p.First,
		&p.Currency)
	if err != nil {
		return p, err
	}
	p.PurchasedAt, p.Start, p.End = fromNanos(bought), fromNanos(start), fromNanos(end)
	p.Price, err = dec(price)
	return p, err
}

// livePage is how many live packages a read fetches at a time.
const livePage = 16

func (r *reader) LivePackages(fn func(billing.Package) bool) error {
	for i := 0; ; i++ {
		if i == len(r.live) {
			if r.liveDone {
				return nil
			}
			if err := r.fetchLive(); err != nil {
				return err
			}
			if i == len(r.live) {
				return nil
			}
		}
		if !fn(r.live[i]) {
			return nil
		}
	}
}

// fetchLive reads the next page of live packages, in deduction order.
func (r *reader) fetchLive() error {
	q, args := r.liveQuery()
	rows, err := r.q.Query(r.ctx, q, args...)
	if err != nil {
		return err
	}
	return r.readLive(rows)
}

// liveQuery returns the query of the page of live packages after those
// read: after the last one's place in the deduction order, which the
// index billing_packages_live (account, rank, end_at, purchased_at, id)
// holds in that order.
func (r *reader) liveQuery() (string, []any) {
	q := `SELECT ` + packageColumns + ` FROM billing_packages WHERE account = $1 AND balance > 0`
	args := []any{r.id}
	if n := len(r.live); n > 0 {
		last := &r.live[n-1]
		end, _ := nanos(last.End)
		bought, _ := nanos(last.PurchasedAt)
		q += ` AND (` + packageOrder + `) > ($2, $3, $4, $5)`
		args = append(args, int16(last.Rank()), end, bought, last.ID)
	}
	return q + fmt.Sprintf(` ORDER BY `+packageOrder+` LIMIT %d`, livePage), args
}

// readLive appends a page of live packages.
func (r *reader) readLive(rows pgx.Rows) error {
	n := len(r.live)
	if err := each(rows, scanPackage, func(p billing.Package) bool { r.live = append(r.live, p); return true }); err != nil {
		return err
	}
	r.liveDone = len(r.live)-n < livePage
	return nil
}

func (r *reader) Packages(fn func(billing.Package) bool) error {
	rows, err := r.q.Query(r.ctx, `SELECT `+packageColumns+` FROM billing_packages WHERE account = $1
		ORDER BY `+packageOrder, r.id)
	if err != nil {
		return err
	}
	return each(rows, scanPackage, fn)
}

const entryColumns = `seq, at, kind, request, ref, package, balance::bigint, day, service, tier, key_app, minutes::bigint, app, scenario,
	amount::text`

func scanEntry(row pgx.Row) (billing.Entry, error) {
	var e billing.Entry
	var at int64
	var amount string
	err := row.Scan(&e.Seq, &at, &e.Kind, &e.Request, &e.Ref, &e.Package, &e.Balance, &e.Key.Day, &e.Key.Service, &e.Key.Tier,
		&e.Key.App, &e.Minutes, &e.App, &e.Scenario, &amount)
	if err != nil {
		return e, err
	}
	e.At = fromNanos(at)
	e.Amount, err = dec(amount)
	return e, err
}

// during returns q, a query of the account ($1), with the condition
// from <= at < to (a zero to: no upper bound), and its arguments.
func (r *reader) during(q string, from, to time.Time) (string, []any) {
	q += ` WHERE account = $1 AND at >= $2`
	args := []any{r.id, bound(from)}
	if !to.IsZero() {
		q += ` AND at < $3`
		args = append(args, bound(to))
	}
	return q, args
}

func (r *reader) Entries(from, to time.Time, fn func(billing.Entry) bool) error {
	q, args := r.during(`SELECT `+entryColumns+` FROM billing_entries`, from, to)
	rows, err := r.q.Query(r.ctx, q+` ORDER BY seq`, args...)
	if err != nil {
		return err
	}
	return each(rows, scanEntry, fn)
}

// Usages and Checkpoints read lazily, as the contract asks: a page at a
// time, each page one query in the reader's transaction, from the index
// that orders the rows (billing_usages_at, the checkpoints' primary key),
// continuing after the key of the last row read. One query for all the
// rows would not do: PostgreSQL computes and sends them all, and pgx reads
// them all, even when fn stops at the first (a late usage's replay mostly
// stops after a few dozen). The first page is small, and each next one
// twice the last, up to maxPage: a long read costs a few round trips more
// than one query, a short one no more than firstPage rows.
//
// The pages read one state: in View, the transaction's snapshot (REPEATABLE
// READ); in Update, where each statement sees what was committed when it
// began (READ COMMITTED), the state the account's lock freezes, as for the
// pages of live packages.
const (
	firstPage = 64
	maxPage   = 4096
)

// paged calls fn for the rows of the pages that page returns (the query of
// the next page of n rows, and its arguments), until fn returns false or a
// page comes back short. fn notes where the next page starts.
func paged[T any](r *reader, page func(n int) (string, []any), scan func(pgx.Row) (T, error), fn func(T) bool) error {
	for n := firstPage; ; n = min(2*n, maxPage) {
		q, args := page(n)
		rows, err := r.q.Query(r.ctx, q, args...)
		if err != nil {
			return err
		}
		read, more := 0, true
		if err := each(rows, scan, func(v T) bool { read++; more = fn(v); return more }); err != nil || !more || read < n {
			return err
		}
	}
}

// usagesAfter reads a page of $4 of account $1's usages, in key order,
// from the key ($2, $3) of (at, id) on (op >=: the first page, $3 the
// empty id, the least, so from the time $2 on) or after it (op >: the
// next ones, after the last usage read), and before the time $5 if to is
// not zero. The row comparison bounds the scan of billing_usages_at
// (account, at, id), which stops after $4 rows.
const usagesAfter = `SELECT ` + usageColumns + ` FROM billing_usages WHERE account = $1 AND (at, id) %s ($2, $3)`

// usagesPage returns usagesAfter with op, bounded by $5 if upper is set.
func usagesPage(op string, upper bool) string {
	q := fmt.Sprintf(usagesAfter, op)
	if upper {
		q += ` AND at < $5`
	}
	return q + ` ORDER BY at, id LIMIT $4`
}

func (r *reader) Usages(from, to time.Time, fn func(billing.UsageRecord) bool) error {
	op, at, id := ">=", bound(from), ""
	var upper []any
	if !to.IsZero() {
		upper = []any{bound(to)}
	}
	return paged(r, func(n int) (string, []any) {
		return usagesPage(op, upper != nil), append([]any{r.id, at, id, n}, upper...)
	}, r.scanUsage, func(u billing.UsageRecord) bool {
		op, at, id = ">", bound(u.Usage.At), u.Usage.ID
		return fn(u)
	})
}

func (r *reader) Days(from, to billing.Day, fn func(billing.Day) bool) error {
	rows, err := r.q.Query(r.ctx, `SELECT DISTINCT day FROM billing_meters WHERE account = $1 AND day BETWEEN $2 AND $3
		ORDER BY day`, r.id, int32(from), int32(to))
	if err != nil {
		return err
	}
	return each(rows, func(row pgx.Row) (billing.Day, error) {
		var d billing.Day
		return d, row.Scan(&d)
	}, fn)
}

const checkpointColumns = `at, class, id, postpaid_on, postpaid_since, postpaid_way, armed, balances::text, meters::text,
	usages::text, apps::text`

// checkpointsFrom reads the first page, of $5, of account $1's checkpoints
// from the latest whose key is at or before ($2, $3, $4), in key order.
// The subquery finds that key (one backward probe of the primary key), or,
// if there is none, the key ($2, $3, $4) itself, before which there is
// then no checkpoint; the row comparison with its one row bounds the scan
// of the primary key. checkpointsAfter reads the next pages: $5 after the
// key ($2, $3, $4) of the last checkpoint read.
const (
	checkpointsFrom = `SELECT ` + checkpointColumns + ` FROM billing_checkpoints
	WHERE account = $1 AND (at, class, id) >= (
		SELECT coalesce(k.at, $2), coalesce(k.class, $3), coalesce(k.id, $4)
		FROM (SELECT) AS one LEFT JOIN LATERAL (
			SELECT at, class, id FROM billing_checkpoints WHERE account = $1 AND (at, class, id) <= ($2, $3, $4)
			ORDER BY at DESC, class DESC, id DESC LIMIT 1) AS k ON true)
	ORDER BY at, class, id LIMIT $5`
	checkpointsAfter = `SELECT ` + checkpointColumns + ` FROM billing_checkpoints
	WHERE account = $1 AND (at, class, id) > ($2, $3, $4) ORDER BY at, class, id LIMIT $5`
)

func scanCheckpoint(row pgx.Row) (billing.Checkpoint, error) {
	var c billing.Checkpoint
	var at, postpaidSince int64
	var class int16
	var balances, meters, usages, apps string
	err := row.Scan(&at, &class, &c.Key.ID, &c.Postpaid.On, &postpaidSince, &c.Postpaid.Way, &c.Armed, &balances, &meters,
		&usages, &apps)
	if err != nil {
		return c, err
	}
	c.Key.At, c.Key.Class, c.Postpaid.Since = fromNanos(at), billing.Class(class), fromNanos(postpaidSince)
	if c.Balances, err = decodeBalances(balances); err != nil {
		return c, err
	}
	if c.Meters, err = decodeMeters(meters); err != nil {
		return c, err
	}
	if c.Usages, err = decodeIDs(usages); err != nil {
		return c, err
	}
	c.Apps, err = decodeAppStates(apps)
	return c, err
}

func (r *reader) Checkpoints(at billing.OpKey, fn func(billing.Checkpoint) bool) error {
	q := checkpointsFrom
	n, class, id := keyBound(at)
	return paged(r, func(limit int) (string, []any) {
		return q, []any{r.id, n, class, id, limit}
	}, scanCheckpoint, func(c billing.Checkpoint) bool {
		q, n, class, id = checkpointsAfter, bound(c.Key.At), int16(c.Key.Class), c.Key.ID
		return fn(c)
	})
}

const (
	billColumns = `day, through, currency, issued, postpaid_on, subtotal::text, total::text`
	lineColumns = `bill_day, day, service, tier, app, adjustment, seconds::bigint, minutes::bigint, prepaid::bigint,
	postpaid::bigint, shortfall::bigint, deferred::bigint, billed::bigint, unit_price::text, amount::text`
)

func (r *reader) Bill(d billing.Day) (billing.Bill, error) {
	var bills []billing.Bill
	if err := r.bills(d, d, func(b billing.Bill) bool { bills = append(bills, b); return true }); err != nil {
		return billing.Bill{}, err
	}
	if len(bills) == 0 {
		return billing.Bill{}, fmt.Errorf("pgstore: bill of %s: %w", d, billing.ErrNotFound)
	}
	return bills[0], nil
}

func (r *reader) Bills(from, to billing.Day, fn func(billing.Bill) bool) error {
	return r.bills(from, to, fn)
}

// bills reads the bills of days from..to and their lines, in two queries.
func (r *reader) bills(from, to billing.Day, fn func(billing.Bill) bool) error {
	var b pgx.Batch
	b.Queue(`SELECT `+billColumns+` FROM billing_bills WHERE account = $1 AND day BETWEEN $2 AND $3 ORDER BY day`, r.id, int32(from), int32(to))
	b.Queue(`SELECT `+lineColumns+` FROM billing_bill_lines WHERE account = $1 AND bill_day BETWEEN $2 AND $3
		ORDER BY bill_day, n`, r.id, int32(from), int32(to))
	br := r.q.SendBatch(r.ctx, &b)
	defer br.Close()
	var bills []billing.Bill
	rows, err := br.Query()
	if err != nil {
		return err
	}
	err = each(rows, func(row pgx.Row) (billing.Bill, error) {
		b := billing.Bill{Account: r.id}
		var issued int64
		var subtotal, total string
		if err := row.Scan(&b.Day, &b.Through, &b.Currency, &issued, &b.PostpaidOn, &subtotal, &total); err != nil {
			return b, err
		}
		b.Issued = fromNanos(issued)
		var err error
		if b.Subtotal, err = dec(subtotal); err != nil {
			return b, err
		}
		b.Total, err = dec(total)
		return b, err
	}, func(b billing.Bill) bool { bills = append(bills, b); return true })
	if err != nil {
		return err
	}
	if rows, err = br.Query(); err != nil {
		return err
	}
	i := 0
	err = each(rows, func(row pgx.Row) (billing.Line, error) {
		var l billing.Line
		var billDay billing.Day
		var price, amount string
		err := row.Scan(&billDay, &l.Day, &l.Service, &l.Tier, &l.App, &l.Adjustment, &l.Seconds, &l.Minutes, &l.Prepaid,
			&l.Postpaid, &l.Shortfall, &l.Deferred, &l.Billed, &price, &amount)
		if err != nil {
			return l, err
		}
		for i < len(bills) && bills[i].Day != billDay {
			i++
		}
		if i == len(bills) {
			return l, fmt.Errorf("pgstore: bill line of %s without its bill", billDay)
		}
		if l.UnitPrice, err = dec(price); err != nil {
			return l, err
		}
		l.Amount, err = dec(amount)
		bills[i].Lines = append(bills[i].Lines, l)
		return l, err
	}, func(billing.Line) bool { return true })
	if err != nil {
		return err
	}
	if err := br.Close(); err != nil {
		return err
	}
	for _, b := range bills {
		if !fn(b) {
			break
		}
	}
	return nil
}

// each scans every row with scan and calls fn until it returns false.
func each[T any](rows pgx.Rows, scan func(pgx.Row) (T, error), fn func(T) bool) error {
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return err
		}
		if !fn(v) {
			return nil
		}
	}
	return rows.Err()
}
