// Package sqlitestore is a [billing.Store] on one SQLite file: the store to
// use for one process that must not lose data, with no server to run. It
// is pure Go (modernc.org/sqlite, SQLite transpiled to Go: no cgo), and
// lives in a module of its own so that the root module keeps its one
// dependency.
//
//	s, err := sqlitestore.Open("billing.db", nil)
//	...
//	defer s.Close()
//	engine, err := billing.New(s, nil)
//
// [Open] creates the file if it does not exist and brings its schema to
// [SchemaVersion] (tables STRICT and WITHOUT ROWID; see schema.go),
// migrating a file of an earlier version in one transaction (version 2 keys
// the usages by id first; TestMigrateFromVersion1). It refuses a file that
// holds another application's tables, or a newer schema.
//
// # Durability
//
// The file's journal is WAL. By default every unit of work that writes is
// one transaction committed with synchronous=FULL: when Update returns
// nil, its Changes are on disk, and a crash of the process, of the
// operating system or of the power loses none of them. [Options.NoSync]
// trades that for speed (synchronous=OFF): a crash of the process alone
// still loses nothing, but one of the machine may lose the last units of
// work, never half of one. Either way a process killed in the middle of a
// stream of usage loses nothing and doubles nothing: a unit of work is
// committed whole or not at all, and its usage ids are primary keys
// (TestKilledProcess kills a worker inside a unit of work and at any
// point, records the stream again and compares the result with memstore's).
//
// # Units of work
//
// Update first takes the account's lock in the process (waiting for it
// honours ctx), so that one account's units of work run one after another
// there, and never conflict with each other. fn then runs in a read
// transaction, on one of the reader connections ([Options.Readers]): its
// snapshot is the file as it was at fn's first read, and fn's reads do not
// wait for other accounts' units of work, nor they for it. Then the
// Changes are checked (the account record at the version read plus one,
// else billing.ErrConflict; each package ID, meter key and checkpoint key
// at most once; ledger Seqs increasing, else billing.ErrExists) and written
// in one write transaction on the one writer connection (BEGIN IMMEDIATE),
// which first checks that the account's stored version is still the one
// fn read, else billing.ErrConflict, and that the first Seq is above the
// last stored, else billing.ErrExists. A usage id, a purchase id or a
// bill's day already stored or repeated fails the INSERT on its primary key:
// billing.ErrExists. The Engine retries both. Commits are one at a time
// (SQLite has one writer), each with prepared statements: a row per
// record, and one for all the ledger entries of the unit of work (a run,
// see the schema), so a batch of 1,000 usages commits about 1,000 rows in
// one transaction, its usage rows 64 to a statement (then 8, then 1: 15
// statements for 1,000 rows). A usage record's row binds six values: its account, id
// and time (the keys of the table and of its index usages_at), the
// account's version and its place in the unit of work, and one BLOB of
// the rest, receipt included, in a compact binary encoding (codec.go's
// encodeUsage), as a run holds its entries. View is one read transaction.
//
// Reads are lazy where the contract asks: Usages and Checkpoints step one
// statement over an index in the order asked, LivePackages reads pages of
// 16 live packages from a partial index in deduction order (and keeps them
// for the unit of work, whose snapshot does not change), so their cost
// grows with the records fn is shown. Entries reads the account's ledger
// runs in Seq order, only those whose times are not all outside the
// period, decoding one run at a time and skipping its entries outside the
// period (a run is what one unit of work appended). The Reader that
// Update hands to fn implements [billing.Prefetcher]: a batch reads the
// usage records of its ids and the meters of its keys in two statements
// (a JSON array of the ids or keys, one probe of the primary key each)
// instead of a statement per usage. The Store implements
// [billing.AccountLister].
//
// # Several processes
//
// Several processes may open one file, and their Engines may record the
// same usage at once, safely: SQLite's file locks let one commit at a
// time (a commit waits for another process's for up to
// [Options.BusyTimeout], then fails with billing.ErrConflict), and a unit
// of work whose account another process changed after fn read it fails its
// version check with billing.ErrConflict; the Engine retries both, reading
// the account again (TestManyProcesses: four processes record one stream
// and a quarter of it twice, each in its own order, and the result is
// exactly a serial run's on memstore). Units of work of one account in two
// processes then conflict and are retried, where within a process they wait
// for each other: a service that records usage from several processes
// goes faster with each account's usage sent to one of them. The file must
// be on a local file system: WAL needs shared memory between the
// processes, which network file systems do not give (Open fails if the
// journal cannot be WAL).
//
// # Exactness
//
// Money is decimal text (decimal.Decimal's String, read back with
// NewFromString): nothing is rounded on the way in or out. Minutes and
// seconds are INTEGER; times are int64 nanoseconds, so times outside the
// years 1678 to 2262 cannot be stored (Update returns an error, writing
// nothing). Ids and labels are TEXT compared byte by byte (the BINARY
// collation), as the Store contract orders them; inside the BLOBs of a
// ledger run or a usage record, integers are varints and strings their
// bytes exactly, any bytes, not only UTF-8.
//
// # Driver
//
// modernc.org/sqlite (v1.62.0, through database/sql) was compared with
// zombiezen.com/go/sqlite (v1.4.2, its own API over modernc's SQLite) in
// a throwaway module, writing the same 19-column usage rows with one
// statement prepared once, into a WAL file of the same schema (a table
// WITHOUT ROWID keyed by account and id), two runs each on the machine of
// the Performance section, 2026-12-07:
//
//	                                    modernc.org/sqlite  zombiezen.com/go/sqlite
//	1 row per commit, synchronous=FULL  3,100-3,700 rows/s  3,400-3,500 rows/s
//	1 row per commit, synchronous=OFF   17,700-17,800/s     26,800-30,800/s
//	1,000 rows per commit, FULL         71,800-78,800/s     104,800-106,000/s
//	1,000 rows per commit, OFF          89,500-106,000/s    133,000-152,000/s
//
// zombiezen's API is faster per statement (no database/sql argument
// conversion, no pool), by 1.4 to 1.6 times; a durable commit costs the
// same fsync with either. This package uses modernc.org/sqlite all the
// same: zombiezen.com/go/sqlite is built on it (the same SQLite, so the
// same B-trees and disk writes, and one module more, not one fewer), its
// v1.4.2 is not a release approved for this project, and database/sql
// gives the connection pools and the cancellation (a done context
// interrupts a statement) this package would otherwise write itself. Were
// it approved, it is where RecordBatch's remaining speed is: most of a
// batch's time is in the statements that write its rows.
//
// The module says go 1.26.0 because modernc.org/sqlite does from v1.61.0
// on. Its v1.38.2 needs only Go 1.23, as the root module does, but is
// slower: the same RecordBatch benchmark ran at 10,900-12,500 usages/s
// with it against 17,000-18,700/s with v1.62.0 that hour, and the
// set-based raw batch at 1,500/s (a multi-row INSERT of thousands of
// parameters is slow there), so this module takes the newest release.
//
// # Performance
//
// Measured on a 2-core machine (AMD EPYC, Go 1.26, a local disk) on
// 2026-12-07 at 05:30-05:36 UTC, the machine quiet (load average 0.9 to
// 1.4), usage of HD video into accounts with postpaid on and three
// packages, each usage a usage record and a ledger entry, and a
// checkpoint every 64 (go test -run XXX -bench 'Record$' -benchtime 2000x
// durable, 10000x nosync; -bench 'RecordBatch|RawBatch' -benchtime
// 50000x). Each range is over runs interleaved with the same benchmarks
// built from the previous layout of the usages table (a column per field,
// 19 values bound per row): two runs for Record and RawBatch's rows per
// statement, four for RawBatch set-based, six for RecordBatch.
//
//	                                   durable (FULL)        NoSync (OFF)
//	Record, 1 goroutine, 100 accounts  600-700 usages/s      1,800-1,850/s
//	Record, 16 goroutines              590-720/s             2,100-2,360/s
//	RecordBatch, 1,000 per batch       32,000-41,500/s       39,500-48,100/s
//	RawBatch, the same rows, set-based 59,000-68,400/s       85,700-120,900/s
//	RawBatch, a statement per row      52,700-65,200/s       67,800-103,300/s
//	RecordBatch's time / RawBatch's    1.59-1.84             1.90-2.66
//
// With the previous layout, in the same interleaved runs: RecordBatch
// 25,600-31,300 usages/s durable and 32,100-40,100/s with NoSync, at
// 33-40 µs of CPU per usage (25-32 µs now); the set-based RawBatch
// 37,300-49,800/s and 42,400-48,700/s, RecordBatch's time 1.19-1.70 and
// 1.21-1.28 times its; Record as now, within the noise of its fsyncs
// (440-850/s durable, 1,530-1,880/s with NoSync, one goroutine). Earlier
// that day, under load (load average 3 to 4.5, 05:00-05:10 UTC), that
// layout had given RecordBatch 17,600-25,000/s durable and
// 23,300-23,400/s with NoSync, and the set-based RawBatch
// 38,000-42,400/s and 33,900-50,600/s; quiet, a little later,
// 27,900-30,000/s and 25,900-32,600/s, against 33,900-36,100/s and
// 41,400-46,000/s.
//
// BenchmarkRawBatch is RecordBatch's floor: the rows one RecordBatch
// writes (read back from a file the Store wrote), written with plain SQL
// in one transaction, one multi-row INSERT per table (set-based), or one
// prepared INSERT per row (as the Store writes them), with no Engine, no
// reads and no encoding. A batch's writes go mostly to SQLite's B-trees,
// through database/sql: an insert per usage into the usages table and
// one into its index usages_at, and one row for the batch's ledger
// entries, their run. The ledger was first a row per entry, twice the
// rows (12,600-17,100 usages/s durable under load, 38-44 µs of CPU per
// usage). A usage row was then 19 values, each bound through
// database/sql and stored as a column. With its fields that no query
// filters on in one BLOB, six values, RecordBatch went 31 % faster
// durable and 23 % with NoSync (the means of the runs above), and the
// rows alone (RawBatch) 1.6 and 2.1 times as fast; RecordBatch, which
// has the Engine besides, now takes 1.6 to 2.7 times RawBatch's time. In
// a CPU profile of RecordBatch, the usage rows' inserts still take 43 %
// (52 % before), the two statements of Prefetch (one probe of a primary
// key per usage and per meter) 16 %, and the Engine, the encoding and the
// other rows the rest. The index usages_at is as narrow as it can be (account,
// time and id, which Usages' order needs); keying the table by it
// instead, with a unique index on the id, made RecordBatch slower
// (19,800-23,800/s), Prefetch's probes going through both. Prefetch's
// ids read with a join instead of an IN list gained 5 % at most, within
// the noise; earlier, a larger page cache (cache_size of 64 MiB instead
// of 2) had made no difference. On this machine, RecordBatch did not
// reach 50,000 usages/s durable (with NoSync it came close, 48,100/s),
// nor come within 1.5 times RawBatch's time. The machine ran slowly that
// day: the contract floor of the repository's ../shared/bench (an
// in-memory Record, plain) took 1,190-2,230 ns per usage (median 1,390)
// at 05:00-05:10, twice its 660 ns of 2026-12-05. The benchmarks also
// report the process's CPU time per usage (cpu-µs/usage), which varies
// less than the wall time on a loaded machine.
//
// A Record is a read transaction and a write transaction, about 0.6 to
// 1 ms of CPU, most of it in SQLite (its statements, and the commit's
// pages written to the WAL), and a durable one waits for its fsync too
// (most of the spread of the durable figures above); with NoSync, 16
// goroutines go faster, their reads running while another commits. A
// host that ingests usage in bulk should batch it by account with
// RecordBatch: one unit of work commits a whole batch.
package sqlitestore
