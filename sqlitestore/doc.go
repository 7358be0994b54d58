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
// [SchemaVersion] (tables STRICT and WITHOUT ROWID; see schema.go). It
// refuses a file that holds another application's tables, or a newer
// schema.
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
// one transaction, its usage rows 64 to a statement (then 8, then 1: 20
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
// 2026-12-07 at 07:49-07:51 UTC (load average about 1), usage of HD video
// into accounts with postpaid on and three packages, each usage a usage
// record and a ledger entry, and a checkpoint every 64 (go test -run XXX
// -bench 'RecordBatch|RawBatch' -benchtime 50000x; -bench 'Record$'
// -benchtime 1000x durable, 5000x nosync, two runs at 07:52). Sixteen runs
// of the batch benchmarks, six of them interleaved with the same
// benchmarks built from the previous release (a statement per usage row),
// "before" below; a ratio is RecordBatch's time over RawBatch's in the
// same run:
//
//	                                   durable (FULL)        NoSync (OFF)
//	RecordBatch, 1,000 per batch       59,600-96,900/s       71,200-124,800/s
//	  median                           63,800/s              82,000/s
//	  CPU per usage                    9.5-16.3 µs           9.0-15.7 µs
//	RawBatch, the same rows, set-based 68,200-117,800/s      105,500-158,300/s
//	ratio (median)                     1.10-1.81 (1.29)      1.23-1.86 (1.42)
//	before: RecordBatch                49,800-63,100/s       59,200-80,400/s
//	before: ratio (median)             1.62-2.21 (1.97)      1.77-2.31 (2.13)
//	RecordBatchSpread (below)          29,800-40,400/s       38,100-49,000/s
//	Record, 1 goroutine, 100 accounts  1,390-1,440 usages/s  2,540-2,890/s
//	Record, 16 goroutines              1,800-1,910/s         3,290-3,800/s
//
// The ratio was at most 1.5 in 11 of the 16 durable runs (9 of 16 with
// NoSync). The machine's speed drifts by a factor of two within a day:
// earlier that morning, slower, RecordBatch ran at 41,500-48,900 durable
// usages/s, and RawBatch at 59,000-74,000/s; the contract floor of the
// repository's ../shared/bench took 660 ns per usage on 2026-12-05 and
// 1,310 ns on 2026-12-07 in the afternoon. Compare interleaved runs, and
// the CPU per usage (cpu-µs/usage), which varies less than the wall time.
//
// BenchmarkRawBatch is RecordBatch's floor: the rows one RecordBatch
// writes (read back from a file the Store wrote), written with plain SQL
// in one transaction, one multi-row INSERT per table (set-based), or one
// prepared INSERT per row, with no Engine, no reads and no encoding. A
// batch's writes go mostly to SQLite's B-trees: an insert per usage into
// the usages table and one into its index usages_at, and one row for the
// batch's ledger entries, their run. BenchmarkRecordBatch's ids come in
// order into one account; BenchmarkRecordBatchSpread's are random (as the
// session meter's hashed ids are), in batches of one of 50 accounts in
// turn, into a file holding 200,000 such usages, so each batch's rows land
// all over its account's part of the table and of the index. What brought
// RecordBatch from 12,600 durable usages/s (the first layout, under load)
// to the figures above, each step measured against the one before in
// interleaved runs:
//
//   - The ledger entries of a unit of work in one row (a run), not a row
//     each: half the rows.
//   - A usage row as its keys and one compact record (6 values bound, not
//     19): 31 % faster durable.
//   - Usage rows written 64 to an INSERT (then 8, then 1), not one per
//     statement: 18-25 % faster, 21 to 12 allocations per usage.
//   - The Engine's batch allocating its operations and the unit's records
//     once (on memstore 2,223 to 1,543 B per usage).
//
// Tried and not kept: keying the usages by id, then account. SQLite
// compares a key's first column on a fast path, and BenchmarkRecordBatch
// went 8 % faster; but one account's rows then spread over the whole
// table, and BenchmarkRecordBatchSpread went 3.4 times slower
// (16,200-16,900 usages/s with NoSync, against 44,400-57,100/s). Within
// the noise or slower: a larger page cache (64 MiB) or page size (16 KiB),
// mmap for the readers, temp_store in memory, the time index as the
// table's key (19,800-23,800/s), statements of 256 rows instead of 64, and
// Prefetch's ids as IN lists of 64 parameters instead of one JSON array
// (16,000 instructions per usage in callgrind against 13,000: SQLite
// builds an index of each list). Holding the write transaction while fn
// runs, so that its reads use the writer's page cache, breaks the Store
// contract (a unit of work of another account would wait for fn). In a
// CPU profile of RecordBatch with NoSync, the usage rows' inserts take
// 33 %, Prefetch (one probe of the usages' key per usage; the reader's
// page cache starts empty in every unit of work, as SQLite drops it when
// another connection wrote) 15 %, the commit (the WAL's writes) 9 %, the
// garbage collector 9 % and the Engine 9 %.
//
// A Record is a read transaction and a write transaction, about 0.4 to
// 1 ms of CPU, most of it in SQLite (its statements, and the commit's
// pages written to the WAL), and a durable one waits for its fsync too
// (most of the spread of the durable figures above); with NoSync, 16
// goroutines go faster, their reads running while another commits. A
// host that ingests usage in bulk should batch it by account with
// RecordBatch: one unit of work commits a whole batch.
package sqlitestore
