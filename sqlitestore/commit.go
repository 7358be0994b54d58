package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/rtcbill/billing"
)

// commit applies c, which fn returned from what r read, in one write
// transaction (BEGIN IMMEDIATE: the file's one writer, waiting under the
// busy timeout for another process's). It first checks that the account's
// stored version is still the one r read, then inserts or replaces each
// record with a prepared statement, and commits: with synchronous=FULL,
// durably. Nothing of c is kept.
func (s *Store) commit(ctx context.Context, r *reader, c *billing.Changes) (err error) {
	if err := check(r, c); err != nil {
		return err
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return ctxErr(ctx, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	w := &writer{ctx: ctx, tx: tx, st: s.stmts, id: r.id, version: c.Account.Version}
	var stored int64
	err = w.stmt(storedVersion).QueryRowContext(ctx, r.id).Scan(&stored)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return ctxErr(ctx, err)
	}
	if stored != r.account.Version {
		return fmt.Errorf("sqlitestore: account %q is at version %d, not %d: changed by another process: %w",
			r.id, stored, r.account.Version, billing.ErrConflict)
	}
	if len(c.Entries) > 0 {
		var last int64
		if err := w.stmt(lastSeq).QueryRowContext(ctx, r.id).Scan(&last); err != nil {
			return ctxErr(ctx, err)
		}
		if first := c.Entries[0].Seq; first <= last {
			return fmt.Errorf("sqlitestore: ledger entry %d of account %q not after %d: %w", first, r.id, last, billing.ErrExists)
		}
	}
	for _, write := range []func(*billing.Changes) error{
		w.account, w.packages, w.meters, w.usages, w.purchases, w.entries, w.bills, w.checkpoints,
	} {
		if err := write(c); err != nil {
			return ctxErr(ctx, err)
		}
	}
	return ctxErr(ctx, tx.Commit())
}

// check checks c against the account r read: it holds the account record,
// at the version r read plus one (else ErrConflict), each package ID, meter
// key and checkpoint key at most once, and ledger entries in increasing
// order of Seq (else ErrExists). The primary keys refuse a usage id, a
// purchase id or a bill's day already stored or repeated (ErrExists).
func check(r *reader, c *billing.Changes) error {
	a := c.Account
	switch {
	case a == nil:
		return fmt.Errorf("sqlitestore: records written for account %q without its account record", r.id)
	case a.ID != r.id:
		return fmt.Errorf("sqlitestore: account record %q written under id %q", a.ID, r.id)
	case a.Version != r.account.Version+1:
		return fmt.Errorf("sqlitestore: account %q version %d after %d: %w", r.id, a.Version, r.account.Version, billing.ErrConflict)
	}
	prev := int64(0) // Seqs start at 1
	for _, e := range c.Entries {
		if e.Seq <= prev {
			return fmt.Errorf("sqlitestore: ledger entry %d of account %q not after %d: %w", e.Seq, r.id, prev, billing.ErrExists)
		}
		prev = e.Seq
	}
	if id, ok := repeated(c.Packages, func(p *billing.Package) string { return p.ID }); ok {
		return fmt.Errorf("sqlitestore: package %q written twice to account %q", id, r.id)
	}
	if k, ok := repeated(c.Meters, func(m *billing.Meter) billing.MeterKey { return m.Key }); ok {
		return fmt.Errorf("sqlitestore: meter %v written twice to account %q", k, r.id)
	}
	if k, ok := repeated(c.Checkpoints, func(cp *billing.Checkpoint) billing.OpKey { k := cp.Key; k.At = k.At.UTC(); return k }); ok {
		return fmt.Errorf("sqlitestore: checkpoint %v written twice to account %q", k, r.id)
	}
	return nil
}

// repeated returns a key that two of xs share, if any.
func repeated[T any, K comparable](xs []T, key func(*T) K) (K, bool) {
	var none K
	if len(xs) < 2 {
		return none, false
	}
	seen := make(map[K]bool, len(xs))
	for i := range xs {
		k := key(&xs[i])
		if seen[k] {
			return k, true
		}
		seen[k] = true
	}
	return none, false
}

// writer writes one unit of work's Changes in the write transaction.
type writer struct {
	ctx     context.Context
	tx      *sql.Tx
	st      *statements
	id      string
	version int64 // the account's new version
}

// stmt returns the prepared statement q, in the writer's transaction.
func (w *writer) stmt(q string) *sql.Stmt {
	return w.tx.StmtContext(w.ctx, w.st.write[q])
}

const (
	storedVersion = `SELECT version FROM accounts WHERE id = ?`
	// lastSeq reads the last stored Seq: that of the last run, one
	// backward probe of the primary key.
	lastSeq    = `SELECT coalesce((SELECT last_seq FROM entry_runs WHERE account = ? ORDER BY first_seq DESC LIMIT 1), 0)`
	putAccount = `INSERT OR REPLACE INTO accounts (id, version, currency, opened, postpaid_on, postpaid_since, postpaid_way,
		auto_postpaid_armed, touched, last_seq, grants_through, cycle, settled_through, late, unbilled, frontier_at, frontier_class,
		frontier_id, since_checkpoint, enabled_at, apps, arrears, refunds)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	putPackage = `INSERT OR REPLACE INTO packages (account, id, kind, book, currency, minutes, balance, forfeited, price,
		purchased_at, start_at, end_at, app, first, rank) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	putMeter = `INSERT OR REPLACE INTO meters (account, day, service, tier, app, seconds, prepaid, postpaid, shortfall,
		settled_seconds, settled_prepaid, settled_postpaid, settled_shortfall, unbilled, latest, earlier_postpaid, earlier_shortfall)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	addPurchase = `INSERT INTO purchases (account, id, kind, minutes, app, pkg_id, pkg_kind, pkg_book, pkg_currency, pkg_minutes,
		pkg_balance, pkg_forfeited, pkg_price, pkg_purchased_at, pkg_start_at, pkg_end_at, pkg_app, pkg_first, day, absorbed, resumed)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	addRun  = `INSERT INTO entry_runs (account, first_seq, last_seq, min_at, max_at, entries) VALUES (?, ?, ?, ?, ?, ?)`
	addBill = `INSERT INTO bills (account, day, through, currency, issued, postpaid_on, subtotal, total, lines)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	putCheckpoint = `INSERT OR REPLACE INTO checkpoints (account, at, class, id, postpaid_on, postpaid_since, postpaid_way, armed,
		apps, balances, meters, usages) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

func (w *writer) account(c *billing.Changes) error {
	a := c.Account
	var errs [10]error
	var opened, since, touched, frontier, enabled int64
	var late, unbilled, apps, arrears, refunds string
	opened, errs[0] = nanos(a.Opened)
	since, errs[1] = nanos(a.Postpaid.Since)
	touched, errs[2] = nanos(a.Touched)
	frontier, errs[3] = nanos(a.Frontier.At)
	enabled, errs[4] = nanos(a.EnabledAt)
	late, errs[5] = encodeKeys(a.Late)
	unbilled, errs[6] = encodeKeys(a.Unbilled)
	apps, errs[7] = encodeApps(a.Apps)
	arrears, errs[8] = encodeArrears(a.Arrears)
	refunds, errs[9] = encodeRefunds(a.Refunds)
	if err := firstErr(errs[:]...); err != nil {
		return err
	}
	_, err := w.stmt(putAccount).ExecContext(w.ctx, a.ID, a.Version, a.Currency, opened, a.Postpaid.On, since, string(a.Postpaid.Way),
		a.AutoPostpaidArmed, touched, a.LastSeq, int32(a.GrantsThrough), int64(a.Cycle), int32(a.SettledThrough), late, unbilled,
		frontier, int64(a.Frontier.Class), a.Frontier.ID, a.SinceCheckpoint, enabled, apps, arrears, refunds)
	return err
}

func (w *writer) packages(c *billing.Changes) error {
	if len(c.Packages) == 0 {
		return nil
	}
	st := w.stmt(putPackage)
	for i := range c.Packages {
		p := &c.Packages[i]
		bought, err1 := nanos(p.PurchasedAt)
		start, err2 := nanos(p.Start)
		end, err3 := nanos(p.End)
		if err := firstErr(err1, err2, err3); err != nil {
			return err
		}
		if _, err := st.ExecContext(w.ctx, w.id, p.ID, p.Kind, p.Book, p.Currency, p.Minutes, p.Balance, p.Forfeited, p.Price.String(),
			bought, start, end, p.App, p.First, p.Rank()); err != nil {
			return err
		}
	}
	return nil
}

func (w *writer) meters(c *billing.Changes) error {
	if len(c.Meters) == 0 {
		return nil
	}
	st := w.stmt(putMeter)
	for i := range c.Meters {
		m := &c.Meters[i]
		s := &m.Settled
		if _, err := st.ExecContext(w.ctx, w.id, int32(m.Key.Day), string(m.Key.Service), string(m.Key.Tier), m.Key.App, m.Seconds,
			m.Prepaid, m.Postpaid, m.Shortfall, s.Seconds, s.Prepaid, s.Postpaid, s.Shortfall, m.Unbilled, m.Latest,
			m.EarlierPostpaid, m.EarlierShortfall); err != nil {
			return err
		}
	}
	return nil
}

// chunkSizes are the sizes of the statements that add usage rows, largest
// first: a batch's rows go in statements of 64 rows, then 8, then one, so
// that 1,000 rows pay 20 statements' overhead (15 of 64 rows, 5 of 8:
// binding, stepping and resetting, database/sql's locking) and not 1,000.
var chunkSizes = [...]int{64, 8, 1}

// addUsages holds the statements that add chunkSizes[k] usage rows.
var addUsages = func() (qs [len(chunkSizes)]string) {
	for k, n := range chunkSizes {
		qs[k] = `INSERT INTO usages (account, id, at, version, position, record) VALUES ` +
			strings.Repeat(`(?, ?, ?, ?, ?, ?), `, n-1) + `(?, ?, ?, ?, ?, ?)`
	}
	return qs
}()

func (w *writer) usages(c *billing.Changes) error {
	us := c.Usages
	args := make([]any, 0, 6*min(len(us), chunkSizes[0]))
	records := make([]byte, 0, 64*chunkSizes[0])  // a chunk's records, end to end (about 50 bytes each)
	account, version := any(w.id), any(w.version) // boxed once, not once a row
	for from, k := 0, 0; from < len(us); from += chunkSizes[k] {
		for chunkSizes[k] > len(us)-from { // the largest chunk that fits
			k++
		}
		to := from + chunkSizes[k]
		args, records = args[:0], records[:0] // ExecContext is done with the last chunk's
		for j := from; j < to; j++ {
			u, rc := &us[j].Usage, &us[j].Receipt
			at, err := nanos(u.At)
			if err != nil {
				return err
			}
			start := len(records)
			records = encodeUsage(records, u, rc)
			args = append(args, account, u.ID, at, version, j, records[start:len(records):len(records)])
		}
		if _, err := w.stmt(addUsages[k]).ExecContext(w.ctx, args...); err != nil {
			if to-from == 1 {
				return fmt.Errorf("usage %q: %w", us[from].Usage.ID, err)
			}
			return fmt.Errorf("usages %q to %q: %w", us[from].Usage.ID, us[to-1].Usage.ID, err)
		}
	}
	return nil
}

func (w *writer) purchases(c *billing.Changes) error {
	for i := range c.Purchases {
		p := &c.Purchases[i]
		pk := &p.Receipt.Package
		bought, err1 := nanos(pk.PurchasedAt)
		start, err2 := nanos(pk.Start)
		end, err3 := nanos(pk.End)
		absorbed, err4 := encodeAbsorbed(p.Receipt.Absorbed)
		if err := firstErr(err1, err2, err3, err4); err != nil {
			return err
		}
		if _, err := w.stmt(addPurchase).ExecContext(w.ctx, w.id, p.Purchase.ID, p.Purchase.Kind, p.Purchase.Minutes, p.Purchase.App,
			pk.ID, pk.Kind, pk.Book, pk.Currency, pk.Minutes, pk.Balance, pk.Forfeited, pk.Price.String(), bought, start, end, pk.App,
			pk.First, int32(p.Receipt.Day), absorbed, p.Receipt.Resumed); err != nil {
			return fmt.Errorf("purchase %q: %w", p.Purchase.ID, err)
		}
	}
	return nil
}

// entries writes c's ledger entries as one run (check made sure their
// Seqs increase).
func (w *writer) entries(c *billing.Changes) error {
	es := c.Entries
	if len(es) == 0 {
		return nil
	}
	run, minAt, maxAt, err := encodeRun(es)
	if err != nil {
		return err
	}
	_, err = w.stmt(addRun).ExecContext(w.ctx, w.id, es[0].Seq, es[len(es)-1].Seq, minAt, maxAt, run)
	return err
}

func (w *writer) bills(c *billing.Changes) error {
	for i := range c.Bills {
		b := &c.Bills[i]
		issued, err1 := nanos(b.Issued)
		lines, err2 := encodeLines(b.Lines)
		if err := firstErr(err1, err2); err != nil {
			return err
		}
		if _, err := w.stmt(addBill).ExecContext(w.ctx, w.id, int32(b.Day), int32(b.Through), b.Currency, issued, b.PostpaidOn,
			b.Subtotal.String(), b.Total.String(), lines); err != nil {
			return fmt.Errorf("bill of %s: %w", b.Day, err)
		}
	}
	return nil
}

func (w *writer) checkpoints(c *billing.Changes) error {
	if len(c.Checkpoints) == 0 {
		return nil
	}
	st := w.stmt(putCheckpoint)
	for i := range c.Checkpoints {
		cp := &c.Checkpoints[i]
		var errs [6]error
		var at, since int64
		var apps, balances, meters, usages string
		at, errs[0] = nanos(cp.Key.At)
		since, errs[1] = nanos(cp.Postpaid.Since)
		apps, errs[2] = encodeAppStates(cp.Apps)
		balances, errs[3] = encodeBalances(cp.Balances)
		meters, errs[4] = encodeMeters(cp.Meters)
		usages, errs[5] = encode(cp.Usages)
		if err := firstErr(errs[:]...); err != nil {
			return err
		}
		if _, err := st.ExecContext(w.ctx, w.id, at, int64(cp.Key.Class), cp.Key.ID, cp.Postpaid.On, since, string(cp.Postpaid.Way),
			cp.Armed, apps, balances, meters, usages); err != nil {
			return err
		}
	}
	return nil
}

// statements are the prepared statements, by their text: the reads on the
// readers, the writes on the writer. database/sql prepares each once on
// each connection that runs it.
type statements struct {
	read, write map[string]*sql.Stmt
}

var (
	reads = []string{readAccount, usageByID, usagesByID, purchaseByID, meterByKey, metersByKey, metersOfDay, livePackages,
		allPackages, entriesFrom, entriesDuring, usagesFrom, usagesDuring, daysBetween, checkpointAtOrBefore, checkpointsFrom,
		billsBetween}
	writes = append([]string{storedVersion, lastSeq, putAccount, putPackage, putMeter, addPurchase, addRun, addBill,
		putCheckpoint}, addUsages[:]...)
)

// prepare prepares the statements.
func prepare(ctx context.Context, writer, readers *sql.DB) (*statements, error) {
	st := &statements{read: map[string]*sql.Stmt{}, write: map[string]*sql.Stmt{}}
	for _, set := range []struct {
		db *sql.DB
		qs []string
		m  map[string]*sql.Stmt
	}{{readers, reads, st.read}, {writer, writes, st.write}} {
		for _, q := range set.qs {
			s, err := set.db.PrepareContext(ctx, q)
			if err != nil {
				_ = st.close()
				return nil, fmt.Errorf("sqlitestore: prepare %q: %w", q, err)
			}
			set.m[q] = s
		}
	}
	return st, nil
}

// close closes the statements.
func (st *statements) close() error {
	var errs []error
	for _, m := range []map[string]*sql.Stmt{st.read, st.write} {
		for _, s := range m {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}
