// Package pgstore is a [billing.Store] on PostgreSQL, for services that run
// billing Engines on many machines against one durable database. It is
// tested on PostgreSQL 15, with pgx's extended and simple protocols (the
// latter as behind PgBouncer in transaction mode), and uses only row locks,
// ON CONFLICT, unnest and, in Migrate, a transaction-level advisory lock.
// Distributed SQL engines that speak PostgreSQL's protocol may run it if they
// provide those (some lack the advisory lock, which Migrate needs to be safe
// from many processes at once); they are not tested here.
//
// Call [Migrate] once (at deployment, or at start-up: it is safe from many
// processes at once) to create or upgrade the tables in the pool's
// search_path, then [New]:
//
//	pool, err := pgxpool.New(ctx, "postgres://billing@db/billing")
//	...
//	if err := pgstore.Migrate(ctx, pool); err != nil { ... }
//	engine, err := billing.New(pgstore.New(pool), nil)
//
// # Units of work
//
// Update is one transaction at READ COMMITTED that first locks the account's
// row (SELECT ... FOR UPDATE), so units of work on one account run one after
// another across all processes, while other accounts go on in parallel. fn
// reads after the lock, and the [billing.Changes] it returns are sent in one
// round trip with COMMIT: set-based statements (INSERT ... SELECT FROM
// unnest), one per table for packages, meters, usages, ledger entries and
// checkpoints whatever their number, and one or two per purchase and bill.
// Empty Changes send COMMIT alone. Before anything is sent, the Changes are
// checked: they hold the account record, at the stored Version plus one
// (else billing.ErrConflict), each package ID, meter key and checkpoint key
// at most once, and ledger entries in increasing order of Seq (else
// billing.ErrExists). Usage and purchase ids, ledger sequence numbers and
// bill days are primary keys: a duplicate, already stored or repeated in the
// Changes, fails the commit with billing.ErrExists, and so does a Seq at or
// below the last stored; a lost race to create an account fails it with
// billing.ErrConflict. The Engine retries both. View is one READ ONLY
// REPEATABLE READ transaction.
//
// The Reader that Update hands to fn implements [billing.Prefetcher]: a
// batch of usages ([billing.Engine.RecordBatch]) reads all its usage records
// and meters in one round trip, so recording a batch costs a handful of
// round trips in all.
//
// # Exactness
//
// Money is NUMERIC, written and read as decimal text; minutes and seconds
// are NUMERIC(20, 0); times are int64 nanoseconds (timestamptz would keep
// only microseconds), so times outside the years 1678 to 2262 cannot be
// stored. Nothing is rounded on the way in or out.
//
// # Performance
//
// Measured on a 2-core machine (AMD EPYC, Go 1.26, PostgreSQL 15 on
// 127.0.0.1, client and server sharing the cores) on 2026-12-06, three runs
// in each column, usage of HD video into accounts with postpaid on and three
// packages (.ci/pgtest -run XXX -bench 'Record$|RecordBatch$' -benchtime
// 30000x, and -bench HotAccount -benchtime 1x):
//
//	                                      fsync off             durable (fsync on, synchronous_commit on)
//	Record, 1 goroutine                   1,000-1,400 usages/s  1,000-1,100 usages/s  (about 3 round trips each)
//	Record, 16 goroutines                 1,700-2,300/s         1,750-1,900/s
//	RecordBatch, 1,000 usages per batch:
//	8 goroutines on 8 accounts            60,000-78,000/s       61,000-70,000/s
//	1 goroutine on 8 accounts             42,000-46,000/s
//	1 goroutine on 1 account, 10⁶ usages  39,000-42,000/s       33,000-36,000/s
//	  its first 10 % of batches           37,000-41,000/s       35,000-38,000/s
//	  its last 10 % of batches            38,000-45,000/s       34,000-37,000/s (once 25,000/s)
//
// The machine ran slower that day than when these figures were last taken
// (Record 2,000/s, RecordBatch 103,000-126,000/s on 8 accounts): in
// interleaved runs that day, the code before the fix for busy accounts
// (below) measured the same as after it on Record and RecordBatch. So did,
// later that day (fsync off, three interleaved runs each), the code before
// and after units of work returned their writes as billing.Changes: Record
// on 1 goroutine 1,100-1,260 usages/s before, 1,160-1,340/s after; on 16,
// 1,890-2,400/s and 1,900-2,000/s; RecordBatch on 8 accounts from 8
// goroutines 67,000-77,000/s and 54,000-73,000/s, from 1 goroutine
// 24,000-44,000/s and 38,000-46,000/s.
//
// With the reference order (schema 4: the account's key columns, a
// checkpoint every 64 operations), the same benchmarks, fsync off, one run
// on the same busy machine: Record 1,137 usages/s from 1 goroutine and
// 1,635/s from 16; RecordBatch 57,506/s from 8 goroutines and 31,088/s from
// 1. A late usage, replayed with the usages after it, costs 2.0 ms on a day
// of 1,000 usages and 4.9 ms on a day of 100,000 (BenchmarkLateUsage, 5
// minutes late; docs/PERFORMANCE.md in the root module).
//
// Since schema 6, Reader.Usages and Reader.Checkpoints read a page at a
// time (64 rows, then twice the last, up to 4,096): a replay that stops at
// the first checkpoint after its usage (see the root package's docs)
// reads only the rows it uses. A usage 3 hours late then costs 3.5 ms on a
// day of 1,000 usages, 14.5 ms on a day of 100,000 (36.6 ms before) and
// 72.7 ms on a day of 1,000,000 (621 ms before), most of it reading and
// writing again the checkpoints after it; 5 minutes late, 1.8 ms to 5.8 ms
// on any of those days.
//
// A busy account costs no more per batch than a new one (the last three
// rows, BenchmarkRecordBatchHotAccount): Prefetch probes the primary key
// once per usage id and meter key, however large the account, in the plans
// PostgreSQL caches too (see prefetchUsages in reader.go). Before, the first
// 10 % of that run went at 2,700-3,000 usages/s, each batch slower than
// the one before, until autovacuum analyzed the table. One stream of
// batches goes as fast on one account as on many (the row above it); 8
// streams on 8 accounts go faster because their client and server work
// share the two cores, while one account's units of work run one after
// another (its row lock), so client and server take turns.
//
// A host that ingests usage in bulk should batch it by account with
// RecordBatch: one unit of work commits a whole batch.
package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rtcbill/billing"
)

// Store is a billing.Store on a PostgreSQL connection pool.
type Store struct {
	pool *pgxpool.Pool
}

var _ billing.Store = (*Store)(nil)

// New returns a Store on pool, whose search_path holds the tables [Migrate]
// creates. The Store does not own the pool: closing it is the caller's.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Update implements billing.Store. A unit of work costs three round trips
// when it reads through Prefetch: BEGIN with the account's lock, the reads,
// and the Changes with COMMIT.
func (s *Store) Update(ctx context.Context, id string, fn func(billing.Reader) (billing.Changes, error)) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return storeErr(err)
	}
	defer conn.Release()
	r := &reader{ctx: ctx, q: conn, id: id}
	err = r.begin(`BEGIN ISOLATION LEVEL READ COMMITTED`, true)
	if err == nil {
		var c billing.Changes
		if c, err = fn(r); err != nil {
			rollback(ctx, conn)
			return err
		}
		err = r.commit(&c)
	}
	if err != nil {
		rollback(ctx, conn)
	}
	return storeErr(err)
}

// rollback ends the connection's transaction after an error, so that the
// pool can reuse it. If that fails too, the pool closes the connection (it
// does with any connection released inside a transaction), which ends the
// transaction anyway: the error has nothing to add.
func rollback(ctx context.Context, conn *pgxpool.Conn) {
	if conn.Conn().PgConn().TxStatus() != 'I' {
		_, _ = conn.Exec(ctx, `ROLLBACK`)
	}
}

// View implements billing.Store.
func (s *Store) View(ctx context.Context, id string, fn func(billing.Reader) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return storeErr(err)
	}
	defer conn.Release()
	r := &reader{ctx: ctx, q: conn, id: id}
	err = r.begin(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`, false)
	if err == nil {
		if err = fn(r); err != nil {
			rollback(ctx, conn)
			return err
		}
		_, err = conn.Exec(ctx, `COMMIT`)
	}
	if err != nil {
		rollback(ctx, conn)
	}
	return storeErr(err)
}

// storeErr maps PostgreSQL's errors to the Store contract's: a unique key
// already taken is ErrExists, a serialization failure or deadlock ErrConflict.
func storeErr(err error) error {
	var pe *pgconn.PgError
	if err == nil || !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case "23505": // unique_violation
		if pe.TableName == "billing_accounts" {
			return fmt.Errorf("pgstore: account created concurrently: %w", billing.ErrConflict)
		}
		return fmt.Errorf("pgstore: %s: %w", pe.ConstraintName, billing.ErrExists)
	case "40001", "40P01": // serialization_failure, deadlock_detected
		return fmt.Errorf("pgstore: %s: %w", pe.Message, billing.ErrConflict)
	}
	return err
}
