package sqlitestore_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/sqlitestore"
)

// benchEngine returns an Engine on a new file with accounts acct-0 ..
// acct-(n-1), each with the application sdkApp, postpaid on, the trial
// and two universal packages, and the file's path.
func benchEngine(b *testing.B, n int, opts *sqlitestore.Options) (*billing.Engine, []string, string) {
	b.Helper()
	file := filepath.Join(b.TempDir(), "billing.db")
	s, err := sqlitestore.Open(file, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	now := setAt
	e := engineAt(b, s, &now)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("acct-%d", i)
		if _, err := e.OpenAccount(context.Background(), billing.AccountSpec{ID: ids[i], Postpaid: true, App: sdkApp}); err != nil {
			b.Fatal(err)
		}
		for j := range 2 {
			p := billing.Purchase{ID: fmt.Sprintf("p%d", j), Account: ids[i], Kind: billing.KindUniversal, Minutes: 3_000_000}
			if _, err := e.Buy(context.Background(), p); err != nil {
				b.Fatal(err)
			}
		}
	}
	now = runAt
	return e, ids, file
}

// usageOf returns the i-th benchmark usage of account a: HD video, 61 s, at
// 40 ms after the one before (so in the order of their times).
func usageOf(a string, i int64) billing.Usage {
	return billing.Usage{ID: fmt.Sprintf("u%d", i), Account: a, App: sdkApp, Scenario: billing.VideoCall,
		Tier: billing.TierHD, Seconds: 61, At: setAt.Add(time.Duration(i) * 40 * time.Millisecond)}
}

// perUsage reports, for usages written since b's timer was last reset,
// usages/s and the process's CPU time per usage (if known), which start,
// taken with cpuTime at the reset, began.
func perUsage(b *testing.B, usages int, start time.Duration) {
	b.ReportMetric(float64(usages)/b.Elapsed().Seconds(), "usages/s")
	if now, ok := cpuTime(); ok {
		b.ReportMetric(float64((now-start).Microseconds())/float64(usages), "cpu-µs/usage")
	}
}

// durability names the two settings of Options.NoSync.
var durability = []struct {
	name string
	opts *sqlitestore.Options
}{{"durable", nil}, {"nosync", &sqlitestore.Options{NoSync: true}}}

// BenchmarkRecord records one usage per unit of work (one commit), from
// one goroutine and from 16, into 100 accounts.
func BenchmarkRecord(b *testing.B) {
	for _, d := range durability {
		for _, goroutines := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/goroutines=%d", d.name, goroutines), func(b *testing.B) {
				e, ids, _ := benchEngine(b, 100, d.opts)
				var next atomic.Int64
				b.ReportAllocs()
				start, _ := cpuTime()
				b.ResetTimer()
				var wg sync.WaitGroup
				for range goroutines {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
							if _, err := e.Record(context.Background(), usageOf(ids[i%int64(len(ids))], i)); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				perUsage(b, b.N, start)
			})
		}
	}
}

// batchSize is the usages of a batch in the batch benchmarks.
const batchSize = 1000

// BenchmarkRecordBatch records batches of 1,000 usages of one account from
// one goroutine, each batch one unit of work (one commit), and reports
// usages/s; BenchmarkRawBatch writes the same rows with plain SQL.
func BenchmarkRecordBatch(b *testing.B) {
	for _, d := range durability {
		b.Run(d.name, func(b *testing.B) {
			e, ids, _ := benchEngine(b, 1, d.opts)
			us := make([]billing.Usage, batchSize)
			b.ReportAllocs()
			start, _ := cpuTime()
			b.ResetTimer()
			for k := 0; k*batchSize < b.N; k++ {
				for j := range us {
					us[j] = usageOf(ids[0], int64(k*batchSize+j))
				}
				for _, r := range e.RecordBatch(context.Background(), us) {
					if r.Err != nil {
						b.Fatal(r.Err)
					}
				}
			}
			perUsage(b, (b.N+batchSize-1)/batchSize*batchSize, start)
		})
	}
}

// BenchmarkRecordBatchSpread records batches of 1,000 usages, each of one
// of 50 accounts in turn, with random ids (as the session meter's hashed
// ids are), into a file that already holds 200,000 such usages: the rows
// of a batch land all over its account's part of the table and of the
// index, where BenchmarkRecordBatch's ids, in order, append to one
// account's.
func BenchmarkRecordBatchSpread(b *testing.B) {
	for _, d := range durability {
		b.Run(d.name, func(b *testing.B) {
			e, ids, _ := benchEngine(b, 50, d.opts)
			rng := rand.New(rand.NewPCG(1, 2))
			us := make([]billing.Usage, batchSize)
			next := make([]int64, len(ids)) // each account's next usage
			batch := func(k int) {
				a := k % len(ids)
				for j := range us {
					us[j] = usageOf(ids[a], next[a])
					us[j].ID = fmt.Sprintf("%016x", rng.Uint64())
					next[a]++
				}
				for _, r := range e.RecordBatch(context.Background(), us) {
					if r.Err != nil {
						b.Fatal(r.Err)
					}
				}
			}
			const history = 200
			for k := range history {
				batch(k)
			}
			b.ReportAllocs()
			start, _ := cpuTime()
			b.ResetTimer()
			for k := 0; k*batchSize < b.N; k++ {
				batch(history + k)
			}
			perUsage(b, (b.N+batchSize-1)/batchSize*batchSize, start)
		})
	}
}

// BenchmarkRawBatch is BenchmarkRecordBatch's floor: it writes the rows
// that one RecordBatch of 1,000 usages writes, with plain SQL in one
// transaction on a file of the same schema, with no Engine, no reads and
// no encoding (the rows' values are read back from a file the Store
// wrote): set-based (set=true: one multi-row INSERT per table, as many
// rows as SQLite's limit of 32,766 parameters allows), or one prepared
// INSERT per row, as the Store writes them (set=false). Each batch's usage
// ids, times and ledger Seqs are those the same batch of
// BenchmarkRecordBatch has (see shift), so that it inserts where
// RecordBatch does; the other rows replace themselves.
func BenchmarkRawBatch(b *testing.B) {
	for _, d := range durability {
		for _, set := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/set=%v", d.name, set), func(b *testing.B) {
				tables := batchRows(b, d.opts)
				_, _, file := benchEngine(b, 1, d.opts)
				sync := "FULL"
				if d.opts != nil && d.opts.NoSync {
					sync = "OFF"
				}
				db, err := sql.Open("sqlite", "file:"+file+"?_txlock=immediate&_pragma=synchronous("+sync+")&_pragma=temp_store(memory)")
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				db.SetMaxOpenConns(1)
				ctx := context.Background()
				b.ReportAllocs()
				start, _ := cpuTime()
				b.ResetTimer()
				for k := 0; k*batchSize < b.N; k++ {
					tx, err := db.BeginTx(ctx, nil)
					if err != nil {
						b.Fatal(err)
					}
					for _, t := range tables {
						if err := t.insert(ctx, tx, k, set); err != nil {
							b.Fatal(err)
						}
					}
					if err := tx.Commit(); err != nil {
						b.Fatal(err)
					}
				}
				perUsage(b, (b.N+batchSize-1)/batchSize*batchSize, start)
			})
		}
	}
}

// rawTable is the rows one unit of work wrote to a table.
type rawTable struct {
	name    string
	columns []string
	rows    [][]any
}

// batchRows records two batches of usages with RecordBatch into a file
// set up as benchEngine does, and returns the rows the second wrote (the
// first draws the trial): those of each table that were not there before
// it. Its usages go on the account's first package, as the batches of
// BenchmarkRecordBatch do: a usage record and a ledger entry each, and a
// checkpoint every 64 usages.
func batchRows(b *testing.B, opts *sqlitestore.Options) []rawTable {
	b.Helper()
	e, ids, file := benchEngine(b, 1, opts)
	db, err := sql.Open("sqlite", "file:"+file+"?_query_only=1")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	record := func(k int) {
		us := make([]billing.Usage, batchSize)
		for j := range us {
			us[j] = usageOf(ids[0], int64(k*batchSize+j))
		}
		for _, r := range e.RecordBatch(context.Background(), us) {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
	record(0)
	names := []string{"accounts", "packages", "meters", "usages", "purchases", "entry_runs", "bills", "checkpoints"}
	before := map[string]map[string]bool{}
	for _, n := range names {
		before[n] = map[string]bool{}
		for _, row := range readTable(b, db, n).rows {
			before[n][fmt.Sprint(row)] = true
		}
	}
	record(1)
	var tables []rawTable
	for _, n := range names {
		t := readTable(b, db, n)
		rows := t.rows[:0]
		for _, row := range t.rows {
			if !before[n][fmt.Sprint(row)] {
				rows = append(rows, row)
			}
		}
		if t.rows = rows; len(rows) > 0 {
			tables = append(tables, t)
		}
	}
	return tables
}

func readTable(b *testing.B, db *sql.DB, name string) rawTable {
	b.Helper()
	rows, err := db.Query("SELECT * FROM " + name)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	t := rawTable{name: name}
	if t.columns, err = rows.Columns(); err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		row := make([]any, len(t.columns))
		ptrs := make([]any, len(row))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			b.Fatal(err)
		}
		t.rows = append(t.rows, row)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return t
}

// shift returns value v of column i of t's row as batch k writes it: the
// rows are batch 1 of BenchmarkRecordBatch (usage ids u1000 to u1999); in
// batch k, as there, usage ids are u(1000k) to u(1000k+999) and times are
// 1,000 usages later for each batch (40 ms each), in the usages, the ledger
// and the checkpoints, and ledger Seqs are new.
func (t *rawTable) shift(i int, v any, k int) any {
	later := int64(k-1) * batchSize * int64(40*time.Millisecond)
	switch col := t.columns[i]; {
	case t.name == "usages" && col == "id":
		var n int
		if _, err := fmt.Sscanf(v.(string), "u%d", &n); err == nil {
			return fmt.Sprint("u", n+(k-1)*batchSize)
		}
	case t.name == "entry_runs" && (col == "first_seq" || col == "last_seq"):
		return v.(int64) + int64(k)*1_000_000
	case col == "at" && (t.name == "usages" || t.name == "checkpoints"),
		t.name == "entry_runs" && (col == "min_at" || col == "max_at"):
		return v.(int64) + later
	}
	return v
}

// insert writes t's rows in batch k, shifted. set
// writes as many rows as it can per statement; otherwise one row per
// statement, one prepared statement per table.
func (t *rawTable) insert(ctx context.Context, tx *sql.Tx, k int, set bool) error {
	per := 1
	if set {
		per = 32766 / len(t.columns)
	}
	insert := "INSERT INTO " // new records, as the Store inserts them
	switch t.name {
	case "accounts", "packages", "meters", "checkpoints":
		insert = "INSERT OR REPLACE INTO " // replaced by key, as the Store replaces them
	}
	var st *sql.Stmt
	if !set {
		one := "(" + strings.Repeat("?, ", len(t.columns)-1) + "?)"
		var err error
		st, err = tx.PrepareContext(ctx, insert+t.name+" ("+strings.Join(t.columns, ", ")+") VALUES "+one)
		if err != nil {
			return err
		}
		defer st.Close()
	}
	one := "(" + strings.Repeat("?, ", len(t.columns)-1) + "?)"
	for start := 0; start < len(t.rows); start += per {
		rows := t.rows[start:min(start+per, len(t.rows))]
		q := insert + t.name + " (" + strings.Join(t.columns, ", ") + ") VALUES " +
			strings.Repeat(one+", ", len(rows)-1) + one
		args := make([]any, 0, len(rows)*len(t.columns))
		for _, row := range rows {
			for i, v := range row {
				v = t.shift(i, v, k)
				args = append(args, v)
			}
		}
		var err error
		if set {
			_, err = tx.ExecContext(ctx, q, args...)
		} else {
			_, err = st.ExecContext(ctx, args...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
