package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/rtcbill/billing"
)

// reader reads one account's records in a read transaction: the Reader of
// View, and of Update, whose Changes commit.go then applies. The
// transaction is its snapshot: every read sees the file as it was at the
// first, the account's row. Usage records and meters that Prefetch loaded
// are kept for the unit of work.
type reader struct {
	ctx context.Context
	tx  *sql.Tx
	st  *statements
	id  string

	account billing.Account
	exists  bool

	usages map[string]*billing.UsageRecord // prefetched; nil: known not to exist
	meters map[billing.MeterKey]billing.Meter

	live     []billing.Package // the live packages read so far, in deduction order
	liveDone bool              // all of them
}

var (
	_ billing.Reader     = (*reader)(nil)
	_ billing.Prefetcher = (*reader)(nil)
)

// scanner is a row: *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// begin starts a read transaction and reads account id in it.
func (s *Store) begin(ctx context.Context, id string) (*reader, error) {
	tx, err := s.readers.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, ctxErr(ctx, err)
	}
	r := &reader{ctx: ctx, tx: tx, st: s.stmts, id: id}
	if err := r.readAccount(); err != nil {
		r.end()
		return nil, ctxErr(ctx, err)
	}
	return r, nil
}

// end ends the read transaction. It only read: rolling back loses nothing.
func (r *reader) end() { _ = r.tx.Rollback() }

// stmt returns the prepared statement q, in the reader's transaction.
func (r *reader) stmt(q string) *sql.Stmt {
	return r.tx.StmtContext(r.ctx, r.st.read[q])
}

// query runs the prepared query q with args.
func (r *reader) query(q string, args ...any) (*sql.Rows, error) {
	rows, err := r.stmt(q).QueryContext(r.ctx, args...)
	return rows, ctxErr(r.ctx, err)
}

const readAccount = `SELECT version, currency, opened, postpaid_on, postpaid_since, postpaid_way, auto_postpaid_armed, touched,
	last_seq, grants_through, cycle, settled_through, late, unbilled, frontier_at, frontier_class, frontier_id, since_checkpoint,
	enabled_at, apps, arrears, refunds FROM accounts WHERE id = ?`

func (r *reader) readAccount() error {
	a := billing.Account{ID: r.id}
	var opened, since, touched, frontier, enabled int64
	var late, unbilled, apps, arrears, refunds string
	err := r.stmt(readAccount).QueryRowContext(r.ctx, r.id).Scan(&a.Version, &a.Currency, &opened, &a.Postpaid.On, &since,
		&a.Postpaid.Way, &a.AutoPostpaidArmed, &touched, &a.LastSeq, &a.GrantsThrough, &a.Cycle, &a.SettledThrough, &late,
		&unbilled, &frontier, &a.Frontier.Class, &a.Frontier.ID, &a.SinceCheckpoint, &enabled, &apps, &arrears, &refunds)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	a.Opened, a.Postpaid.Since, a.Touched = fromNanos(opened), fromNanos(since), fromNanos(touched)
	a.Frontier.At, a.EnabledAt = fromNanos(frontier), fromNanos(enabled)
	var errs [5]error
	a.Late, errs[0] = decodeKeys(late)
	a.Unbilled, errs[1] = decodeKeys(unbilled)
	a.Apps, errs[2] = decodeApps(apps)
	a.Arrears, errs[3] = decodeArrears(arrears)
	a.Refunds, errs[4] = decodeRefunds(refunds)
	if err := firstErr(errs[:]...); err != nil {
		return fmt.Errorf("sqlitestore: account %q: %w", r.id, err)
	}
	r.account, r.exists = a, true
	return nil
}

func (r *reader) Account() (billing.Account, error) {
	if !r.exists {
		return billing.Account{}, fmt.Errorf("sqlitestore: account %q: %w", r.id, billing.ErrNotFound)
	}
	a := r.account
	a.Late, a.Unbilled, a.Apps = slices.Clone(a.Late), slices.Clone(a.Unbilled), cloneApps(a.Apps)
	a.Arrears, a.Refunds = slices.Clone(a.Arrears), slices.Clone(a.Refunds)
	for i := range a.Arrears {
		a.Arrears[i].Refs = slices.Clone(a.Arrears[i].Refs)
	}
	return a, nil
}

const usageColumns = `id, at, record`

const (
	usageByID = `SELECT ` + usageColumns + ` FROM usages WHERE account = ? AND id = ?`
	// usagesByID reads the usages of the ids of a JSON array.
	usagesByID = `SELECT ` + usageColumns + ` FROM usages WHERE account = ? AND id IN (SELECT value FROM json_each(?))`
)

func (r *reader) scanUsage(row scanner) (billing.UsageRecord, error) {
	u := billing.UsageRecord{Usage: billing.Usage{Account: r.id}}
	var at int64
	var record []byte
	if err := row.Scan(&u.Usage.ID, &at, &record); err != nil {
		return u, err
	}
	u.Usage.At = fromNanos(at)
	return u, decodeUsage(record, &u.Usage, &u.Receipt)
}

func (r *reader) Usage(id string) (billing.UsageRecord, error) {
	if u, ok := r.usages[id]; ok {
		if u == nil {
			return billing.UsageRecord{}, billing.ErrNotFound // mostly a new usage of a batch: no message to make
		}
		c := *u
		c.Receipt.Draws = slices.Clone(c.Receipt.Draws)
		return c, nil
	}
	u, err := r.scanUsage(r.stmt(usageByID).QueryRowContext(r.ctx, r.id, id))
	if errors.Is(err, sql.ErrNoRows) {
		return billing.UsageRecord{}, fmt.Errorf("sqlitestore: usage %q: %w", id, billing.ErrNotFound)
	}
	return u, ctxErr(r.ctx, err)
}

const purchaseByID = `SELECT kind, minutes, app, pkg_id, pkg_kind, pkg_book, pkg_currency, pkg_minutes, pkg_balance, pkg_forfeited,
	pkg_price, pkg_purchased_at, pkg_start_at, pkg_end_at, pkg_app, pkg_first, day, absorbed, resumed
	FROM purchases WHERE account = ? AND id = ?`

func (r *reader) Purchase(id string) (billing.PurchaseRecord, error) {
	p := billing.PurchaseRecord{Purchase: billing.Purchase{ID: id, Account: r.id}}
	pk := &p.Receipt.Package
	var price, absorbed string
	var bought, start, end int64
	err := r.stmt(purchaseByID).QueryRowContext(r.ctx, r.id, id).Scan(&p.Purchase.Kind, &p.Purchase.Minutes, &p.Purchase.App,
		&pk.ID, &pk.Kind, &pk.Book, &pk.Currency, &pk.Minutes, &pk.Balance, &pk.Forfeited, &price, &bought, &start, &end, &pk.App,
		&pk.First, &p.Receipt.Day, &absorbed, &p.Receipt.Resumed)
	if errors.Is(err, sql.ErrNoRows) {
		return billing.PurchaseRecord{}, fmt.Errorf("sqlitestore: purchase %q: %w", id, billing.ErrNotFound)
	}
	if err != nil {
		return billing.PurchaseRecord{}, ctxErr(r.ctx, err)
	}
	pk.PurchasedAt, pk.Start, pk.End = fromNanos(bought), fromNanos(start), fromNanos(end)
	if pk.Price, err = dec(price); err != nil {
		return billing.PurchaseRecord{}, err
	}
	p.Receipt.Absorbed, err = decodeAbsorbed(absorbed)
	return p, err
}

const meterColumns = `day, service, tier, app, seconds, prepaid, postpaid, shortfall, settled_seconds, settled_prepaid,
	settled_postpaid, settled_shortfall, unbilled, latest, earlier_postpaid, earlier_shortfall`

const (
	meterByKey = `SELECT ` + meterColumns + ` FROM meters WHERE account = ? AND day = ? AND service = ? AND tier = ? AND app = ?`
	// metersByKey reads the meters of the keys of a JSON array of
	// [day, service, tier, app] arrays: one probe of the primary key each.
	// (Written as a join with json_each, SQLite scans the account's meters
	// once per key instead.)
	metersByKey = `SELECT ` + meterColumns + ` FROM meters WHERE account = ? AND (day, service, tier, app) IN
		(SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?))`
	metersOfDay = `SELECT ` + meterColumns + ` FROM meters WHERE account = ? AND day = ? ORDER BY service, tier, app`
)

func scanMeter(row scanner) (billing.Meter, error) {
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
	m, err := scanMeter(r.stmt(meterByKey).QueryRowContext(r.ctx, r.id, int32(k.Day), string(k.Service), string(k.Tier), k.App))
	if errors.Is(err, sql.ErrNoRows) {
		return billing.Meter{Key: k}, nil
	}
	return m, ctxErr(r.ctx, err)
}

func (r *reader) Meters(d billing.Day, fn func(billing.Meter) bool) error {
	rows, err := r.query(metersOfDay, r.id, int32(d))
	if err != nil {
		return err
	}
	return each(r.ctx, rows, scanMeter, fn)
}

// Prefetch implements billing.Prefetcher: it reads the usage records of
// ids and the meters of keys in two statements, each id and key one probe
// of a primary key. Without it a batch would run a statement per usage for
// each. One id and one key (a Record) it leaves to Usage and Meter, whose
// statements are simpler, and as many.
func (r *reader) Prefetch(ids []string, keys []billing.MeterKey) error {
	if len(ids) <= 1 && len(keys) <= 1 {
		return nil
	}
	if r.usages == nil {
		r.usages, r.meters = map[string]*billing.UsageRecord{}, map[billing.MeterKey]billing.Meter{}
	}
	// JSON holds valid UTF-8 only: other ids and keys are left to Usage
	// and Meter (the Engine's ids are valid UTF-8).
	ids = slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return !utf8.ValidString(id) })
	idList, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	var keyList [][4]any
	for _, k := range keys {
		if _, ok := r.meters[k]; !ok && utf8.ValidString(string(k.Service)+string(k.Tier)+k.App) {
			r.meters[k] = billing.Meter{Key: k}
			keyList = append(keyList, [4]any{int32(k.Day), string(k.Service), string(k.Tier), k.App})
		}
	}
	for _, id := range ids {
		r.usages[id] = nil
	}
	rows, err := r.query(usagesByID, r.id, string(idList))
	if err != nil {
		return err
	}
	if err := each(r.ctx, rows, r.scanUsage, func(u billing.UsageRecord) bool { r.usages[u.Usage.ID] = &u; return true }); err != nil {
		return err
	}
	if len(keyList) == 0 {
		return nil
	}
	keyJSON, err := json.Marshal(keyList)
	if err != nil {
		return err
	}
	if rows, err = r.query(metersByKey, r.id, string(keyJSON)); err != nil {
		return err
	}
	return each(r.ctx, rows, scanMeter, func(m billing.Meter) bool { r.meters[m.Key] = m; return true })
}

const packageColumns = `id, kind, book, currency, minutes, balance, forfeited, price, purchased_at, start_at, end_at, app, first`

const (
	// livePackages reads a page of live packages after a place in the
	// deduction order (rank, end_at, purchased_at, id), from the partial
	// index packages_live, which holds them in that order.
	livePackages = `SELECT ` + packageColumns + ` FROM packages WHERE account = ? AND balance > 0
		AND (rank, end_at, purchased_at, id) > (?, ?, ?, ?) ORDER BY rank, end_at, purchased_at, id LIMIT ?`
	allPackages = `SELECT ` + packageColumns + ` FROM packages WHERE account = ? ORDER BY rank, end_at, purchased_at, id`
)

func scanPackage(row scanner) (billing.Package, error) {
	var p billing.Package
	var price string
	var bought, start, end int64
	err := row.Scan(&p.ID, &p.Kind, &p.Book, &p.Currency, &p.Minutes, &p.Balance, &p.Forfeited, &price, &bought, &start, &end,
		&p.App, &p.First)
	if err != nil {
		return p, err
	}
	p.PurchasedAt, p.Start, p.End = fromNanos(bought), fromNanos(start), fromNanos(end)
	p.Price, err = dec(price)
	return p, err
}

// Usages and Checkpoints read lazily, as the contract asks: SQLite steps a
// statement one row at a time, from an index in the order asked, so a
// read that fn stops early reads only the rows it was shown.
//
// LivePackages reads a page at a time, and keeps the pages it read: the
// Engine reads the live packages once per usage, mostly only the first,
// and the reader's snapshot does not change.

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

// fetchLive reads the next page of live packages, after the last read
// (or from the first: rank -1 precedes them all).
func (r *reader) fetchLive() error {
	rank, end, bought, id := int64(-1), int64(0), int64(0), ""
	if n := len(r.live); n > 0 {
		last := &r.live[n-1]
		rank, end, bought, id = int64(last.Rank()), bound(last.End), bound(last.PurchasedAt), last.ID
	}
	rows, err := r.query(livePackages, r.id, rank, end, bought, id, livePage)
	if err != nil {
		return err
	}
	n := len(r.live)
	if err := each(r.ctx, rows, scanPackage, func(p billing.Package) bool { r.live = append(r.live, p); return true }); err != nil {
		return err
	}
	r.liveDone = len(r.live)-n < livePage
	return nil
}

func (r *reader) Packages(fn func(billing.Package) bool) error {
	rows, err := r.query(allPackages, r.id)
	if err != nil {
		return err
	}
	return each(r.ctx, rows, scanPackage, fn)
}

const (
	// entriesFrom and entriesDuring read, in Seq order, the ledger runs
	// that may hold entries of the period: those whose times are not all
	// before it (nor, for entriesDuring, all after it).
	entriesFrom   = `SELECT entries FROM entry_runs WHERE account = ? AND max_at >= ? ORDER BY first_seq`
	entriesDuring = `SELECT entries FROM entry_runs WHERE account = ? AND max_at >= ? AND min_at < ? ORDER BY first_seq`
)

func scanRun(row scanner) ([]billing.Entry, error) {
	var run []byte
	if err := row.Scan(&run); err != nil {
		return nil, err
	}
	return decodeRun(run)
}

// during returns the query of the rows from <= at < to (a zero to: no
// upper bound), q1 or q2, and its arguments.
func (r *reader) during(from, to time.Time, q1, q2 string) (*sql.Rows, error) {
	if to.IsZero() {
		return r.query(q1, r.id, bound(from))
	}
	return r.query(q2, r.id, bound(from), bound(to))
}

// Entries reads the runs that may hold entries of the period one at a
// time, and shows fn those of each run that are in it (compared as the
// statements compare times: encoded, with the period's bounds clamped).
func (r *reader) Entries(from, to time.Time, fn func(billing.Entry) bool) error {
	rows, err := r.during(from, to, entriesFrom, entriesDuring)
	if err != nil {
		return err
	}
	lo, hi := bound(from), bound(to)
	return each(r.ctx, rows, scanRun, func(run []billing.Entry) bool {
		for _, e := range run {
			if at := bound(e.At); at >= lo && (to.IsZero() || at < hi) && !fn(e) {
				return false
			}
		}
		return true
	})
}

const (
	// usagesFrom and usagesDuring read the index usages_at in its order.
	usagesFrom   = `SELECT ` + usageColumns + ` FROM usages WHERE account = ? AND at >= ? ORDER BY at, id`
	usagesDuring = `SELECT ` + usageColumns + ` FROM usages WHERE account = ? AND at >= ? AND at < ? ORDER BY at, id`
)

func (r *reader) Usages(from, to time.Time, fn func(billing.UsageRecord) bool) error {
	rows, err := r.during(from, to, usagesFrom, usagesDuring)
	if err != nil {
		return err
	}
	return each(r.ctx, rows, r.scanUsage, fn)
}

const daysBetween = `SELECT DISTINCT day FROM meters WHERE account = ? AND day BETWEEN ? AND ? ORDER BY day`

func (r *reader) Days(from, to billing.Day, fn func(billing.Day) bool) error {
	rows, err := r.query(daysBetween, r.id, int32(from), int32(to))
	if err != nil {
		return err
	}
	return each(r.ctx, rows, func(row scanner) (billing.Day, error) {
		var d billing.Day
		return d, row.Scan(&d)
	}, fn)
}

const checkpointColumns = `at, class, id, postpaid_on, postpaid_since, postpaid_way, armed, apps, balances, meters, usages`

const (
	// checkpointAtOrBefore finds the key of the latest checkpoint at or
	// before a key: one backward probe of the primary key.
	checkpointAtOrBefore = `SELECT at, class, id FROM checkpoints WHERE account = ? AND (at, class, id) <= (?, ?, ?)
		ORDER BY at DESC, class DESC, id DESC LIMIT 1`
	// checkpointsFrom reads the checkpoints from a key on, in the order
	// of the primary key.
	checkpointsFrom = `SELECT ` + checkpointColumns + ` FROM checkpoints WHERE account = ? AND (at, class, id) >= (?, ?, ?)
		ORDER BY at, class, id`
)

func scanCheckpoint(row scanner) (billing.Checkpoint, error) {
	var c billing.Checkpoint
	var at, postpaidSince int64
	var apps, balances, meters, usages string
	err := row.Scan(&at, &c.Key.Class, &c.Key.ID, &c.Postpaid.On, &postpaidSince, &c.Postpaid.Way, &c.Armed, &apps, &balances,
		&meters, &usages)
	if err != nil {
		return c, err
	}
	c.Key.At, c.Postpaid.Since = fromNanos(at), fromNanos(postpaidSince)
	var errs [4]error
	c.Apps, errs[0] = decodeAppStates(apps)
	c.Balances, errs[1] = decodeBalances(balances)
	c.Meters, errs[2] = decodeMeters(meters)
	c.Usages, errs[3] = decodeIDs(usages)
	return c, firstErr(errs[:]...)
}

func (r *reader) Checkpoints(at billing.OpKey, fn func(billing.Checkpoint) bool) error {
	n, class, id := keyBound(at)
	err := r.stmt(checkpointAtOrBefore).QueryRowContext(r.ctx, r.id, n, class, id).Scan(&n, &class, &id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return ctxErr(r.ctx, err)
	}
	rows, err := r.query(checkpointsFrom, r.id, n, class, id)
	if err != nil {
		return err
	}
	return each(r.ctx, rows, scanCheckpoint, fn)
}

const billsBetween = `SELECT day, through, currency, issued, postpaid_on, subtotal, total, lines FROM bills
	WHERE account = ? AND day BETWEEN ? AND ? ORDER BY day`

func (r *reader) scanBill(row scanner) (billing.Bill, error) {
	b := billing.Bill{Account: r.id}
	var issued int64
	var subtotal, total, lines string
	if err := row.Scan(&b.Day, &b.Through, &b.Currency, &issued, &b.PostpaidOn, &subtotal, &total, &lines); err != nil {
		return b, err
	}
	b.Issued = fromNanos(issued)
	var errs [3]error
	b.Subtotal, errs[0] = dec(subtotal)
	b.Total, errs[1] = dec(total)
	b.Lines, errs[2] = decodeLines(lines)
	return b, firstErr(errs[:]...)
}

func (r *reader) Bill(d billing.Day) (billing.Bill, error) {
	var bill *billing.Bill
	err := r.Bills(d, d, func(b billing.Bill) bool { bill = &b; return false })
	if err != nil {
		return billing.Bill{}, err
	}
	if bill == nil {
		return billing.Bill{}, fmt.Errorf("sqlitestore: bill of %s: %w", d, billing.ErrNotFound)
	}
	return *bill, nil
}

func (r *reader) Bills(from, to billing.Day, fn func(billing.Bill) bool) error {
	rows, err := r.query(billsBetween, r.id, int32(from), int32(to))
	if err != nil {
		return err
	}
	return each(r.ctx, rows, r.scanBill, fn)
}

// each scans rows with scan and calls fn for each until it returns false,
// then closes rows. Once ctx is done, the error wraps ctx.Err().
func each[T any](ctx context.Context, rows *sql.Rows, scan func(scanner) (T, error), fn func(T) bool) error {
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return ctxErr(ctx, err)
		}
		if !fn(v) {
			return nil
		}
	}
	return ctxErr(ctx, rows.Err())
}
