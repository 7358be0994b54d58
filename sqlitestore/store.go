package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/rtcbill/billing"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Options configures a Store. A nil *Options means all defaults.
type Options struct {
	// NoSync trades durability for speed: commits are not flushed to disk
	// (synchronous=OFF), so a power failure or an operating system crash
	// may lose the last units of work (never half of one: the file stays
	// consistent), while a crash of the process alone loses nothing. The
	// default (false) is synchronous=FULL: Update returns after its unit of
	// work is on disk.
	NoSync bool
	// BusyTimeout bounds how long a commit waits for another process's
	// write transaction on the same file before it fails with an error
	// wrapping billing.ErrConflict (which the Engine retries). Default 5 s.
	BusyTimeout time.Duration
	// Readers is how many connections read at once: units of work run fn,
	// and views, on them, and one beyond them waits for one (honouring its
	// context). Default: GOMAXPROCS, at least 4.
	Readers int
}

// Store is a billing.Store on one SQLite file. It is safe for concurrent
// use, and several processes may open the same file (see the package
// documentation).
type Store struct {
	writer  *sql.DB // one connection: commits, one at a time
	readers *sql.DB // read-only connections: fn's reads, views, Accounts
	stmts   *statements
	locks   accountLocks
}

var (
	_ billing.Store         = (*Store)(nil)
	_ billing.AccountLister = (*Store)(nil)
)

// Open opens the SQLite file at path, creating it if it does not exist, and
// brings its schema to SchemaVersion. It returns an error if the file is
// not a billing store (it holds other tables), if its schema is newer than
// this package's, or if its journal cannot be WAL (a file on a network file
// system, or opened read-only). The Store must be closed.
func Open(path string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 5 * time.Second
	}
	if o.Readers <= 0 {
		o.Readers = max(4, runtime.GOMAXPROCS(0))
	}
	sync := "FULL"
	if o.NoSync {
		sync = "OFF"
	}
	// Every connection: WAL (readers never wait for the writer, nor it for
	// them), the busy timeout, and foreign keys off (there are none).
	common := url.Values{"_pragma": {
		fmt.Sprintf("busy_timeout(%d)", o.BusyTimeout.Milliseconds()),
		"journal_mode(WAL)",
		"synchronous(" + sync + ")",
	}}
	w := url.Values{"_txlock": {"immediate"}}
	r := url.Values{"_query_only": {"1"}}
	for k, v := range common {
		w[k], r[k] = v, v
	}
	// The driver takes what follows a '?' as its parameters, so path
	// cannot hold one; it takes the rest as a plain file name.
	if strings.Contains(path, "?") {
		return nil, fmt.Errorf("sqlitestore: open %q: a path holding '?' is not supported", path)
	}
	writer, err := sql.Open("sqlite", path+"?"+w.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	readers, err := sql.Open("sqlite", path+"?"+r.Encode())
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	readers.SetMaxOpenConns(o.Readers)
	readers.SetMaxIdleConns(o.Readers)
	s := &Store{writer: writer, readers: readers}
	if err := s.init(path); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// init migrates the schema, checks the journal mode and prepares the
// statements.
func (s *Store) init(path string) error {
	ctx := context.Background()
	var mode string
	if err := s.writer.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	if mode != "wal" {
		return fmt.Errorf("sqlitestore: open %s: journal mode %q, not WAL", path, mode)
	}
	if err := migrate(ctx, s.writer); err != nil {
		return err
	}
	var err error
	s.stmts, err = prepare(ctx, s.writer, s.readers)
	return err
}

// Close closes the file. Units of work and views must have returned.
func (s *Store) Close() error {
	var errs []error
	if s.stmts != nil {
		errs = append(errs, s.stmts.close())
	}
	return errors.Join(append(errs, s.readers.Close(), s.writer.Close())...)
}

// Update implements billing.Store. It waits for the account's other units
// of work in this process, runs fn in a read transaction (the snapshot of
// the state before the unit of work), then commits the Changes in a write
// transaction that first checks the account's version is still the one fn
// read (another process may have committed since: ErrConflict).
func (s *Store) Update(ctx context.Context, id string, fn func(billing.Reader) (billing.Changes, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	unlock, err := s.locks.lock(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	r, err := s.begin(ctx, id)
	if err != nil {
		return err
	}
	c, err := fn(r)
	r.end()
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.Empty() {
		return nil
	}
	return storeErr(s.commit(ctx, r, &c))
}

// View implements billing.Store: fn runs in a read transaction.
func (s *Store) View(ctx context.Context, id string, fn func(billing.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r, err := s.begin(ctx, id)
	if err != nil {
		return err
	}
	defer r.end()
	if err := fn(r); err != nil {
		return err
	}
	return ctx.Err()
}

// Accounts implements billing.AccountLister: a range of the accounts'
// primary key.
func (s *Store) Accounts(ctx context.Context, after string, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("sqlitestore: accounts: limit %d is not positive", limit)
	}
	rows, err := s.readers.QueryContext(ctx, `SELECT id FROM accounts WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: accounts: %w", ctxErr(ctx, err))
	}
	var ids []string
	err = each(ctx, rows, func(row scanner) (string, error) {
		var id string
		return id, row.Scan(&id)
	}, func(id string) bool { ids = append(ids, id); return true })
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: accounts: %w", ctxErr(ctx, err))
	}
	return ids, nil
}

// ctxErr returns ctx's error, wrapped with err's text, if ctx is done (the
// driver reports an interrupted statement in its own words), else err.
func ctxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return fmt.Errorf("%v: %w", err, ctx.Err())
	}
	return err
}

// storeErr maps SQLite's errors to the Store contract's: a primary key
// already taken is ErrExists; a write transaction that could not start or
// commit because another connection held the file (after the busy timeout)
// is ErrConflict, which the Engine retries.
func storeErr(err error) error {
	var se *sqlite.Error
	if err == nil || !errors.As(err, &se) {
		return err
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return fmt.Errorf("sqlitestore: %v: %w", err, billing.ErrExists)
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_BUSY_SNAPSHOT, sqlite3.SQLITE_LOCKED:
		return fmt.Errorf("sqlitestore: %v: %w", err, billing.ErrConflict)
	}
	return err
}

// accountLocks serializes the units of work on each account within the
// process: they would otherwise conflict, and all but one be retried.
// Waiting honours the context. An account's lock lives while a unit of
// work holds or waits for it.
type accountLocks struct {
	mu    sync.Mutex
	locks map[string]*accountLock
}

type accountLock struct {
	held  chan struct{} // holds a value while the lock is held
	users int           // holding or waiting (under accountLocks.mu)
}

// lock waits for account id's lock, or for ctx to be done, and returns
// the function that releases it.
func (ls *accountLocks) lock(ctx context.Context, id string) (func(), error) {
	ls.mu.Lock()
	l := ls.locks[id]
	if l == nil {
		if ls.locks == nil {
			ls.locks = map[string]*accountLock{}
		}
		l = &accountLock{held: make(chan struct{}, 1)}
		ls.locks[id] = l
	}
	l.users++
	ls.mu.Unlock()
	leave := func() {
		ls.mu.Lock()
		if l.users--; l.users == 0 {
			delete(ls.locks, id)
		}
		ls.mu.Unlock()
	}
	select {
	case l.held <- struct{}{}:
		return func() { <-l.held; leave() }, nil
	case <-ctx.Done():
		leave()
		return nil, ctx.Err()
	}
}
