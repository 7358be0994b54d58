package pgstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rtcbill/billing/pgstore"
)

// TestPrefetchGenericPlan checks that Prefetch's lookups probe the primary
// key once per id or meter key even in a generic plan, on a busy account
// that the statistics do not know about: the table holds many small
// accounts, has been analyzed, and then one account grows large. A plan
// that reads the account's rows and tests each against the array (the
// generic plan of WHERE account = $1 AND id = ANY($2) there) fails it.
//
// PostgreSQL chooses between a generic and a custom plan by comparing
// estimates after five runs of a prepared statement; the test forces the
// generic plan (plan_cache_mode), the one that could go wrong, and measures
// what it reads with EXPLAIN ANALYZE rather than matching plan shapes.
func TestPrefetchGenericPlan(t *testing.T) {
	ctx := context.Background()
	conn := acquire(t)
	const small, hotUsages = 2000, 20_000
	for _, q := range []string{
		// No ANALYZE but ours: the statistics must describe the small accounts only.
		`ALTER TABLE billing_usages SET (autovacuum_enabled = off)`,
		`ALTER TABLE billing_meters SET (autovacuum_enabled = off)`,
		fmt.Sprintf(`INSERT INTO billing_usages SELECT 'acct-' || g %% %d, 'u' || g, '1400000001', 'basic', 'video', 'hd', 61, 0,
			18701, 'basic', 'hd', 2, 0, 0, true, false, '[]', 1, 0 FROM generate_series(1, %d) g`, small, 3*small),
		fmt.Sprintf(`INSERT INTO billing_meters SELECT 'acct-' || g, 18701, 'basic', 'hd', 61, 2, 0, 0, 0, 0, 0, 0
			FROM generate_series(1, %d) g`, small),
		`ANALYZE billing_usages, billing_meters`,
		fmt.Sprintf(`INSERT INTO billing_usages SELECT 'hot', 'u' || g, '1400000001', 'basic', 'video', 'hd', 61, 0,
			18701, 'basic', 'hd', 2, 0, 0, true, false, '[]', 1, 0 FROM generate_series(1, %d) g`, hotUsages),
		`INSERT INTO billing_meters SELECT 'hot', d, s, t, 61, 2, 0, 0, 0, 0, 0, 0
			FROM generate_series(18000, 18999) d, unnest(ARRAY['basic', 'recording']) s, unnest(ARRAY['sd', 'hd']) t`,
		`SET plan_cache_mode = force_generic_plan`,
		`PREPARE prefetch_usages (text, text[]) AS ` + pgstore.PrefetchUsages,
		`PREPARE prefetch_meters (text, integer[], text[], text[], text[]) AS ` + pgstore.PrefetchMeters,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	defer conn.Exec(ctx, `DEALLOCATE prefetch_usages; DEALLOCATE prefetch_meters; RESET plan_cache_mode`)

	// 1,000 ids, the first 500 of them recorded.
	var ids []string
	for i := hotUsages - 499; i <= hotUsages+500; i++ {
		ids = append(ids, fmt.Sprintf("u%d", i))
	}
	checkReads(t, conn, "billing_usages", 500, len(ids), `EXECUTE prefetch_usages('hot', $1)`, ids)

	// 10 keys, 5 of them with a meter; the account has 4,000.
	days := []int32{18990, 18991, 18992, 18993, 18994, 19000, 19001, 19002, 19003, 19004}
	services := []string{"basic", "basic", "recording", "recording", "basic", "basic", "basic", "basic", "basic", "basic"}
	tiers := []string{"sd", "hd", "sd", "hd", "hd", "sd", "hd", "sd", "hd", "sd"}
	apps := make([]string, len(days))
	checkReads(t, conn, "billing_meters", 5, len(days), `EXECUTE prefetch_meters('hot', $1, $2, $3, $4)`, days, services, tiers, apps)
}

// checkReads runs EXPLAIN ANALYZE of query and fails the test unless it
// returns want rows and the plan reads at most limit rows of table (rows
// returned or filtered out, by every scan of the table or of its indexes).
func checkReads(t *testing.T, conn *pgxpool.Conn, table string, want, limit int, query string, args ...any) {
	t.Helper()
	var out []byte
	args = append([]any{pgx.QueryExecModeSimpleProtocol}, args...)
	if err := conn.QueryRow(context.Background(), `EXPLAIN (ANALYZE, FORMAT JSON) `+query, args...).Scan(&out); err != nil {
		t.Fatal(err)
	}
	var explained []struct{ Plan map[string]any }
	if err := json.Unmarshal(out, &explained); err != nil || len(explained) != 1 {
		t.Fatalf("EXPLAIN output %s: %v", out, err)
	}
	top := explained[0].Plan
	num := func(n map[string]any, key string) float64 { v, _ := n[key].(float64); return v }
	read := 0.0
	var walk func(n map[string]any)
	walk = func(n map[string]any) {
		if n["Relation Name"] == table || n["Index Name"] == table+"_pkey" {
			read += (num(n, "Actual Rows") + num(n, "Rows Removed by Filter") + num(n, "Rows Removed by Index Recheck")) * num(n, "Actual Loops")
		}
		children, _ := n["Plans"].([]any)
		for _, c := range children {
			if c, ok := c.(map[string]any); ok {
				walk(c)
			}
		}
	}
	walk(top)
	if got := num(top, "Actual Rows"); got != float64(want) || read > float64(limit) {
		t.Errorf("%s: %v rows, want %d; the plan reads %v rows of %s, want at most %d (one probe per element):\n%s",
			query, got, want, read, table, limit, out)
	}
}

// TestLastSeqGenericPlan checks that the read of the ledger's last Seq (in
// the INSERT of ledger entries) probes the primary key once, from its end,
// even in a generic plan on a busy account that the statistics do not know
// about (as TestPrefetchGenericPlan does for Prefetch).
func TestLastSeqGenericPlan(t *testing.T) {
	ctx := context.Background()
	conn := acquire(t)
	const small, hotEntries = 2000, 20_000
	entries := func(account string, n int, modulo string) string {
		return fmt.Sprintf(`INSERT INTO billing_entries SELECT %s, g, 0, 'deduction', 'record', 'u' || g, 'p1', -2,
			18701, 'basic', 'hd', 2, '1400000001', 'video', 0 FROM generate_series(1, %d) g`, account+modulo, n)
	}
	for _, q := range []string{
		`ALTER TABLE billing_entries SET (autovacuum_enabled = off)`,
		entries("'acct-' || g", 3*small, fmt.Sprintf(" %% %d", small)),
		`ANALYZE billing_entries`,
		entries("'hot'", hotEntries, ""),
		`SET plan_cache_mode = force_generic_plan`,
		`PREPARE last_seq (text) AS ` + pgstore.LastSeq,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	defer conn.Exec(ctx, `DEALLOCATE last_seq; RESET plan_cache_mode`)
	checkReads(t, conn, "billing_entries", 1, 1, `EXECUTE last_seq('hot')`)
}

// TestCheckpointsPlan checks that Reader.Checkpoints reads, from the
// primary key, the checkpoints of its pages and no others (and the one
// probe that finds where the first starts), on a busy account that the
// statistics do not know about, in a generic plan and in a custom one.
func TestCheckpointsPlan(t *testing.T) {
	ctx := context.Background()
	conn := acquire(t)
	const small, hotCheckpoints = 2000, 20_000
	checkpoints := func(account string, n int, modulo string) string {
		return fmt.Sprintf(`INSERT INTO billing_checkpoints SELECT %s, g * 1000, -1, '', false, -9223372036854775808, '',
			false, '[{"p": "trial", "b": 10000}]', '[]' FROM generate_series(1, %d) g`,
			account+modulo, n)
	}
	for _, q := range []string{
		`ALTER TABLE billing_checkpoints SET (autovacuum_enabled = off)`,
		checkpoints("'acct-' || g", 3*small, fmt.Sprintf(" %% %d", small)),
		`ANALYZE billing_checkpoints`,
		checkpoints("'hot'", hotCheckpoints, ""),
		`PREPARE checkpoints_from (text, bigint, smallint, text, bigint) AS ` + pgstore.CheckpointsFrom,
		`PREPARE checkpoints_after (text, bigint, smallint, text, bigint) AS ` + pgstore.CheckpointsAfter,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	defer conn.Exec(ctx, `DEALLOCATE checkpoints_from; DEALLOCATE checkpoints_after; RESET plan_cache_mode`)
	for _, mode := range []string{"force_generic_plan", "force_custom_plan"} {
		if _, err := conn.Exec(ctx, `SET plan_cache_mode = `+mode); err != nil {
			t.Fatal(err)
		}
		// The checkpoint at 19,990,000 (before the usage at 19,990,500) and the 10 after it.
		checkReads(t, conn, "billing_checkpoints", 11, 12, `EXECUTE checkpoints_from('hot', 19990500, 0, 'u1', 64)`)
		// From the one at 10,000,000, a page of 64 of the 10,001 there.
		checkReads(t, conn, "billing_checkpoints", 64, 65, `EXECUTE checkpoints_from('hot', 10000500, 0, 'u1', 64)`)
		// None at or before 500: all three of the small account's, from the first (the
		// statistics may choose a bitmap scan of the index, whose rows checkReads counts
		// twice: in the index and in the table).
		checkReads(t, conn, "billing_checkpoints", 3, 2*3+1, `EXECUTE checkpoints_from('acct-1', 500, 0, 'u1', 64)`)
		// At 20,000,000 exactly: that one.
		checkReads(t, conn, "billing_checkpoints", 1, 2, `EXECUTE checkpoints_from('hot', 20000000, -1, '', 64)`)
		// The next page after the one at 10,000,000: 128 of the 10,000 after it.
		checkReads(t, conn, "billing_checkpoints", 128, 128, `EXECUTE checkpoints_after('hot', 10000000, -1, '', 128)`)
		// After the last: none.
		checkReads(t, conn, "billing_checkpoints", 0, 0, `EXECUTE checkpoints_after('hot', 20000000, -1, '', 4096)`)
	}
}

// TestUsagesPlan checks that a page of Reader.Usages reads, from the index
// billing_usages_at, the usages of the page and no others, on a busy
// account that the statistics do not know about, in a generic plan and in
// a custom one: not all the account's usages after the page's start.
func TestUsagesPlan(t *testing.T) {
	ctx := context.Background()
	conn := acquire(t)
	const small, hotUsages = 2000, 20_000
	usages := func(account string, n int, modulo string) string {
		return fmt.Sprintf(`INSERT INTO billing_usages SELECT %s, 'u' || g, '1400000001', 'basic', 'video', 'hd', 61, g * 1000,
			18701, 'basic', 'hd', 2, 0, 0, true, false, '[]', 1, 0 FROM generate_series(1, %d) g`, account+modulo, n)
	}
	for _, q := range []string{
		`ALTER TABLE billing_usages SET (autovacuum_enabled = off)`,
		usages("'acct-' || g", 3*small, fmt.Sprintf(" %% %d", small)),
		`ANALYZE billing_usages`,
		usages("'hot'", hotUsages, ""),
		// Usages at the same time as u10000, whose ids sort before and after it.
		`INSERT INTO billing_usages SELECT 'hot', id, '1400000001', 'basic', 'video', 'hd', 61, 10000000,
			18701, 'basic', 'hd', 2, 0, 0, true, false, '[]', 1, 0 FROM unnest(ARRAY['T1', 'u0', 'u10000a']) id`,
		`PREPARE usages_from (text, bigint, text, bigint) AS ` + pgstore.UsagesPage(">=", false),
		`PREPARE usages_after (text, bigint, text, bigint) AS ` + pgstore.UsagesPage(">", false),
		`PREPARE usages_until (text, bigint, text, bigint, bigint) AS ` + pgstore.UsagesPage(">", true),
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	defer conn.Exec(ctx, `DEALLOCATE usages_from; DEALLOCATE usages_after; DEALLOCATE usages_until; RESET plan_cache_mode`)
	for _, mode := range []string{"force_generic_plan", "force_custom_plan"} {
		if _, err := conn.Exec(ctx, `SET plan_cache_mode = `+mode); err != nil {
			t.Fatal(err)
		}
		// A first page of 64 of the 10,004 at or after 10,000,000.
		checkReads(t, conn, "billing_usages", 64, 64, `EXECUTE usages_from('hot', 10000000, '', 64)`)
		// A next page of 128, after the second usage at 10,000,000 (T1, u0, u10000, u10000a).
		checkReads(t, conn, "billing_usages", 128, 128, `EXECUTE usages_after('hot', 10000000, 'u0', 128)`)
		// The page before 10,003,000 after u10000: u10000a, u10001, u10002.
		checkReads(t, conn, "billing_usages", 3, 3, `EXECUTE usages_until('hot', 10000000, 'u10000', 4096, 10003000)`)
		// All three of a small account's (the statistics may choose a bitmap scan of
		// the index, whose rows checkReads counts twice).
		checkReads(t, conn, "billing_usages", 3, 2*3+1, `EXECUTE usages_from('acct-1', 0, '', 64)`)
	}
}

// acquire returns a connection to a fresh schema, released at the test's end.
func acquire(t *testing.T) *pgxpool.Conn {
	t.Helper()
	conn, err := newPool(t).Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Release)
	return conn
}
