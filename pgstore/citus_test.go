package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/billingtest"
	"github.com/rtcbill/billing/pgstore"
)

// The tests here back docs/SCALING.md (in the repository's root): on Citus,
// pgstore's tables are distributed by account, co-located, and every
// statement pgstore sends touches one account, so that Citus routes it to
// the one shard that holds that account's rows. TestCitusStatements checks
// the statements, as pgstore sends them while the conformance suite and an
// Engine run; TestCitusSchema checks the tables; TestCitusCheck checks the
// checker.

// distribution is the distribution column of each of pgstore's tables on
// Citus, as docs/SCALING.md distributes them: the column that holds the
// account's id, which every table's primary key starts with.
var distribution = map[string]string{
	"billing_accounts":    "id",
	"billing_packages":    "account",
	"billing_meters":      "account",
	"billing_usages":      "account",
	"billing_purchases":   "account",
	"billing_entries":     "account",
	"billing_bills":       "account",
	"billing_bill_lines":  "account",
	"billing_checkpoints": "account",
}

// A token is a lexical token of a SQL statement, with the number of
// parentheses around it (a parenthesis has the depth of what is outside
// it). Identifiers and keywords are lower-cased, unless quoted.
type token struct {
	kind  byte // 'i' identifier or keyword, '$' parameter, 'l' literal, 's' symbol
	text  string
	depth int
}

func (t token) is(words ...string) bool { return t.kind == 'i' && slices.Contains(words, t.text) }

var (
	identRe  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*`)
	paramRe  = regexp.MustCompile(`^\$[0-9]+`)
	numberRe = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?`)
	quotedRe = regexp.MustCompile(`^"[^"]*"`)
	stringRe = regexp.MustCompile(`^'([^']|'')*'`)
)

// tokenize splits one statement into tokens. A statement that holds a
// second one (after a semicolon) is an error.
func tokenize(sql string) ([]token, error) {
	var ts []token
	depth := 0
	for s := sql; s != ""; {
		switch m := ""; {
		case strings.ContainsRune(" \t\r\n", rune(s[0])):
			s = s[1:]
		case strings.HasPrefix(s, "--"):
			_, s, _ = strings.Cut(s, "\n")
		case strings.HasPrefix(s, "/*"):
			if _, s, _ = strings.Cut(s, "*/"); s == "" {
				return nil, errors.New("unterminated comment")
			}
		case s[0] == ';':
			if strings.TrimSpace(s[1:]) != "" {
				return nil, errors.New("more than one statement")
			}
			s = ""
		default:
			t := token{kind: 's', depth: depth}
			if m = identRe.FindString(s); m != "" {
				t.kind, t.text = 'i', strings.ToLower(m)
			} else if m = paramRe.FindString(s); m != "" {
				t.kind, t.text = '$', m
			} else if m = quotedRe.FindString(s); m != "" {
				t.kind, t.text = 'i', m[1:len(m)-1]
			} else if m = stringRe.FindString(s); m != "" {
				t.kind, t.text = 'l', m
			} else if m = numberRe.FindString(s); m != "" {
				t.kind, t.text = 'l', m
			} else if len(s) > 1 && slices.Contains([]string{"::", "<=", ">=", "<>", "!="}, s[:2]) {
				m, t.text = s[:2], s[:2]
			} else {
				m, t.text = s[:1], s[:1]
			}
			switch t.text {
			case "(":
				depth++
			case ")":
				if depth--; depth < 0 {
					return nil, errors.New("unbalanced parentheses")
				}
				t.depth = depth
			}
			ts = append(ts, t)
			s = s[len(m):]
		}
	}
	if depth != 0 {
		return nil, errors.New("unbalanced parentheses")
	}
	return ts, nil
}

// errControl reports a statement of transaction control (BEGIN, COMMIT,
// ROLLBACK, SET), which touches no table.
var errControl = errors.New("transaction control")

// clauseEnds are the words that end a WHERE clause at its own depth.
var clauseEnds = []string{"order", "limit", "offset", "for", "group", "having", "window", "union", "intersect", "except", "returning"}

// A statement is what the check reads in the text of a statement, whatever
// its arguments.
type statement struct {
	control string   // for transaction control, its verb ("begin", "commit", "rollback", "set")
	tables  []string // the billing tables it names
	params  []int    // the n of each $n it equates an account with
	err     error    // why it may touch more than one account
}

// accountOf returns the one account that the statement sql, run with args,
// touches (see analyze and statement.account). It returns errControl for
// transaction control, and an error for anything else, including a
// statement it cannot read.
func accountOf(sql string, args []any) (string, error) {
	st := analyze(sql)
	switch {
	case st.err != nil:
		return "", st.err
	case st.control != "":
		return "", errControl
	}
	return st.account(args)
}

// analyze reads sql. Every billing table it names must be read or updated
// under a WHERE clause with a conjunct "<column> = $n" (the table's
// distribution column, bare or qualified by the table's name or alias, and
// no OR at the clause's top level), or inserted into with $n as that
// column's value in every row; and no UPDATE (nor ON CONFLICT DO UPDATE)
// may set that column.
func analyze(sql string) statement {
	ts, err := tokenize(sql)
	if err != nil {
		return statement{err: err}
	}
	if len(ts) > 0 && ts[0].depth == 0 && ts[0].is("begin", "commit", "rollback", "set") {
		return statement{control: ts[0].text}
	}
	var st statement
	for i, t := range ts {
		if t.kind != 'i' || !strings.HasPrefix(t.text, "billing_") {
			continue
		}
		col, ok := distribution[t.text]
		if !ok {
			return statement{err: fmt.Errorf("%s is not a table distributed by account", t.text)}
		}
		var ns []int
		switch {
		case i > 0 && ts[i-1].is("from", "join", "update"):
			ns, err = whereParams(ts, i, col)
		case i > 0 && ts[i-1].is("into"):
			ns, err = insertParams(ts, i, col)
		default:
			err = fmt.Errorf("%s is named where the check cannot tell which of its rows are touched", t.text)
		}
		if err != nil {
			return statement{err: err}
		}
		st.tables, st.params = append(st.tables, t.text), append(st.params, ns...)
	}
	if len(st.params) == 0 {
		return statement{err: errors.New("names no billing table")}
	}
	return st
}

// account returns the string that all of st's params are bound to in args.
func (st statement) account(args []any) (string, error) {
	var account string
	for i, n := range st.params {
		if n < 1 || n > len(args) {
			return "", fmt.Errorf("$%d is not bound (%d arguments)", n, len(args))
		}
		a, ok := args[n-1].(string)
		switch {
		case !ok:
			return "", fmt.Errorf("$%d, compared with an account, is a %T", n, args[n-1])
		case i == 0:
			account = a
		case a != account:
			return "", fmt.Errorf("touches accounts %q and %q", account, a)
		}
	}
	return account, nil
}

// whereParams returns the parameters that the WHERE clause of the query
// that reads or updates table ts[i] equates its column col to.
func whereParams(ts []token, i int, col string) ([]int, error) {
	d, table := ts[i].depth, ts[i].text
	names := []string{col, table + "." + col}
	j := i + 1
	if j < len(ts) && ts[j].is("as") {
		j++
	}
	if j < len(ts) && ts[j].depth == d && ts[j].kind == 'i' && !ts[j].is("where", "set", "join", "cross", "left", "inner", "on") &&
		!ts[j].is(clauseEnds...) {
		names = append(names, ts[j].text+"."+col)
	}
	for ; j < len(ts) && ts[j].depth >= d; j++ {
		if ts[j].depth == d && ts[j].is(clauseEnds...) {
			break
		}
		if ts[j].depth == d && ts[j].is("set") && i > 0 && ts[i-1].is("update") && sets(ts, j, col) {
			return nil, fmt.Errorf("the UPDATE of %s sets %s: it moves a row to another account", table, col)
		}
		if ts[j].depth == d && ts[j].is("where") {
			return conjunctParams(ts[j+1:], d, table, names)
		}
	}
	return nil, fmt.Errorf("%s is read or written without a WHERE clause", table)
}

// conjunctParams reads a WHERE clause at depth d (to the end of its level,
// or to a word that ends it) and returns the n of its top-level conjuncts
// "name = $n" or "$n = name", name one of names. An OR at the top level is
// an error, and so is finding no such conjunct.
func conjunctParams(ts []token, d int, table string, names []string) ([]int, error) {
	var ns []int
	var conj []string
	flush := func() {
		if len(conj) == 3 && conj[1] == "=" {
			for _, pair := range [][2]string{{conj[0], conj[2]}, {conj[2], conj[0]}} {
				if slices.Contains(names, pair[0]) && paramRe.MatchString(pair[1]) {
					n, _ := strconv.Atoi(pair[1][1:])
					ns = append(ns, n)
				}
			}
		}
		conj = nil
	}
	for j := 0; j < len(ts) && ts[j].depth >= d; j++ {
		t := ts[j]
		if t.depth == d {
			switch {
			case t.is(clauseEnds...):
				j = len(ts)
				continue
			case t.is("or"):
				return nil, fmt.Errorf("the WHERE clause on %s has an OR at its top level", table)
			case t.is("and"):
				flush()
				continue
			}
		}
		if n := len(conj); t.text == "." && n > 0 && j+1 < len(ts) {
			conj[n-1] += "." + ts[j+1].text // a qualified name is one word
			j++
			continue
		}
		conj = append(conj, t.text)
	}
	flush()
	if len(ns) == 0 {
		return nil, fmt.Errorf("the WHERE clause on %s has no conjunct %s = $n", table, names[0])
	}
	return ns, nil
}

// insertParams returns the parameters that the INSERT into table ts[i]
// gives as its column col in every row: it must list its columns, and
// take its rows from VALUES or a SELECT whose items up to col's are
// listed one by one.
func insertParams(ts []token, i int, col string) ([]int, error) {
	d, table := ts[i].depth, ts[i].text
	j := i + 1
	if j+1 < len(ts) && ts[j].is("as") {
		j += 2
	}
	if j >= len(ts) || ts[j].text != "(" {
		return nil, fmt.Errorf("the INSERT into %s lists no columns", table)
	}
	cols, j := items(ts, j+1, d+1)
	k := slices.IndexFunc(cols, func(c []token) bool { return len(c) == 1 && c[0].text == col })
	if k < 0 {
		return nil, fmt.Errorf("the INSERT into %s does not set %s", table, col)
	}
	j++ // the column list's ")"
	var rows [][][]token
	switch {
	case j < len(ts) && ts[j].is("values"):
		for j++; j < len(ts) && ts[j].text == "("; j++ {
			var row [][]token
			row, j = items(ts, j+1, d+1)
			rows = append(rows, row)
			if j+1 >= len(ts) || ts[j+1].text != "," {
				break
			}
			j++
		}
	case j < len(ts) && ts[j].is("select"):
		row, _ := items(ts, j+1, d)
		rows = append(rows, row)
	default:
		return nil, fmt.Errorf("the INSERT into %s takes its rows neither from VALUES nor from a SELECT", table)
	}
	for j := i + 1; j+1 < len(ts) && ts[j].depth >= d; j++ {
		if ts[j].depth == d && ts[j].is("update") && ts[j+1].is("set") && sets(ts, j+1, col) {
			return nil, fmt.Errorf("the INSERT into %s sets %s on conflict: it moves a row to another account", table, col)
		}
	}
	var ns []int
	for _, row := range rows {
		if len(row) <= k || slices.ContainsFunc(row[:k], func(it []token) bool { return len(it) == 1 && it[0].text == "*" }) {
			return nil, fmt.Errorf("the INSERT into %s: cannot tell which item is %s", table, col)
		}
		it := row[k] // $n, or $n::type
		if !(len(it) == 1 || len(it) == 3 && it[1].text == "::" && it[2].kind == 'i') || it[0].kind != '$' {
			return nil, fmt.Errorf("the INSERT into %s sets %s to something other than a parameter", table, col)
		}
		n, _ := strconv.Atoi(it[0].text[1:])
		ns = append(ns, n)
	}
	return ns, nil
}

// sets reports whether the SET clause at ts[j] assigns column col, alone
// ("col = ...", "t.col = ...") or in a list ("(a, col) = (...)").
func sets(ts []token, j int, col string) bool {
	d := ts[j].depth
	assignments, _ := items(ts, j+1, d)
	for _, a := range assignments {
		eq := slices.IndexFunc(a, func(t token) bool { return t.depth == d && t.text == "=" })
		if eq < 0 {
			return true // not an assignment the check can read: assume the worst
		}
		for _, t := range a[:eq] {
			if t.kind == 'i' && t.text == col {
				return true
			}
		}
	}
	return false
}

// items splits the list that starts at ts[j], at depth d, into its
// comma-separated items, up to the end of its level or, at depth d, a
// FROM, WHERE, ON or RETURNING; it returns them, and the index where it
// stopped.
func items(ts []token, j, d int) ([][]token, int) {
	var out [][]token
	var cur []token
	for ; j < len(ts) && ts[j].depth >= d; j++ {
		t := ts[j]
		if t.depth == d && t.is("from", "where", "on", "returning") {
			break
		}
		if t.depth == d && t.text == "," {
			out, cur = append(out, cur), nil
			continue
		}
		cur = append(cur, t)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out, j
}

func TestCitusCheck(t *testing.T) {
	const usage = `SELECT id FROM billing_usages WHERE account = $1 AND id = $2`
	for _, c := range []struct {
		name, sql string
		args      []any
		want      string
		wantErr   error
	}{
		{"Begin", `BEGIN ISOLATION LEVEL READ COMMITTED`, nil, "", errControl},
		{"Commit", `COMMIT`, nil, "", errControl},
		{"ReadByKey", usage, []any{"a", "u1"}, "a", nil},
		{"QualifiedByAlias", `SELECT u.id FROM billing_usages AS u WHERE u.account = $2 AND u.id = $1`, []any{"u1", "b"}, "b", nil},
		{"LockTheAccount", `SELECT version FROM billing_accounts WHERE id = $1 FOR UPDATE`, []any{"a"}, "a", nil},
		{"UpdateTheAccount", `UPDATE billing_accounts SET (version) = ($2) WHERE id = $1 AND version = $3`, []any{"a", 2, 1}, "a", nil},
		{"InsertValues", `INSERT INTO billing_bills (account, day) VALUES ($1, $2)`, []any{"a", 1}, "a", nil},
		{"InsertSelect", `INSERT INTO billing_usages (account, id) SELECT $1, id FROM unnest($2::text[]) AS u(id)
			ON CONFLICT (account, id) DO UPDATE SET id = EXCLUDED.id`, []any{"a", []string{"u1"}}, "a", nil},
		{"InsertWithSubquery", `INSERT INTO billing_entries (account, seq) SELECT $1, greatest(seq, (SELECT max(seq) FROM billing_entries
			WHERE account = $1)) FROM unnest($2::bigint[]) AS e(seq)`, []any{"a", []int64{1}}, "a", nil},
		{"Lateral", `SELECT m.day FROM unnest($2::integer[]) AS k(d) CROSS JOIN LATERAL (SELECT * FROM billing_meters
			WHERE account = $1 AND day = k.d LIMIT 1) m`, []any{"a", []int32{1}}, "a", nil},
		{"NestedSameAccount", `SELECT id FROM billing_checkpoints WHERE account = $1 AND (at) >= (SELECT max(at)
			FROM billing_checkpoints WHERE account = $2)`, []any{"a", "a"}, "a", nil},
		// The cross-account statements below must all be refused.
		{"NoAccount", `SELECT id FROM billing_usages WHERE id = $1`, []any{"u1"}, "", cmpopts.AnyError},
		{"NoWhere", `SELECT id FROM billing_accounts`, nil, "", cmpopts.AnyError},
		{"Or", `SELECT id FROM billing_usages WHERE account = $1 OR account = $2`, []any{"a", "b"}, "", cmpopts.AnyError},
		{"OrAfterAnd", `SELECT id FROM billing_usages WHERE account = $1 AND id = $2 OR id = $3`, []any{"a", "u1", "u2"}, "", cmpopts.AnyError},
		{"AnyAccount", `UPDATE billing_meters SET seconds = 0 WHERE account = ANY($1)`, []any{[]string{"a", "b"}}, "", cmpopts.AnyError},
		{"NotEqual", `DELETE FROM billing_usages WHERE account <> $1`, []any{"a"}, "", cmpopts.AnyError},
		{"TwoAccounts", `SELECT id FROM billing_checkpoints WHERE account = $1 AND (at) >= (SELECT max(at)
			FROM billing_checkpoints WHERE account = $2)`, []any{"a", "b"}, "", cmpopts.AnyError},
		{"JoinUnconstrained", `SELECT u.id FROM billing_usages u JOIN billing_meters m ON m.day = u.r_day WHERE u.account = $1`,
			[]any{"a"}, "", cmpopts.AnyError},
		{"CommaJoin", `SELECT id FROM billing_usages, billing_meters WHERE account = $1`, []any{"a"}, "", cmpopts.AnyError},
		{"UnionSecondUnconstrained", `SELECT id FROM billing_usages UNION SELECT id FROM billing_purchases WHERE account = $1`,
			[]any{"a"}, "", cmpopts.AnyError},
		{"InsertAccountsFromArray", `INSERT INTO billing_usages (account, id) SELECT account, id FROM unnest($1::text[], $2::text[])
			AS u(account, id)`, []any{[]string{"a", "b"}, []string{"u1", "u2"}}, "", cmpopts.AnyError},
		{"InsertTwoRows", `INSERT INTO billing_bills (account, day) VALUES ($1, 1), ($2, 1)`, []any{"a", "b"}, "", cmpopts.AnyError},
		{"InsertStar", `INSERT INTO billing_meters (day, account) SELECT * FROM unnest($1::integer[], $2::text[])`,
			[]any{[]int32{1}, []string{"a"}}, "", cmpopts.AnyError},
		{"InsertAnEmptyItem", `INSERT INTO billing_bills (account, day) VALUES (, $1)`, []any{"a"}, "", cmpopts.AnyError},
		{"InsertACast", `INSERT INTO billing_bills (day, account) VALUES ($1, $2::text)`, []any{1, "a"}, "a", nil},
		{"InsertNoColumns", `INSERT INTO billing_bills VALUES ($1, 1)`, []any{"a"}, "", cmpopts.AnyError},
		{"AccountNotAString", `SELECT id FROM billing_usages WHERE account = $1`, []any{1}, "", cmpopts.AnyError},
		{"Unbound", `SELECT id FROM billing_usages WHERE account = $2`, []any{"a"}, "", cmpopts.AnyError},
		{"NoBillingTable", `SELECT 1`, nil, "", cmpopts.AnyError},
		{"NotDistributed", `SELECT version FROM billing_schema WHERE version = $1`, []any{"a"}, "", cmpopts.AnyError},
		{"SchemaQualified", `SELECT id FROM public.billing_usages WHERE account = $1`, []any{"a"}, "", cmpopts.AnyError},
		{"UpdateTheAccountColumn", `UPDATE billing_meters SET account = $2 WHERE account = $1`, []any{"a", "b"}, "", cmpopts.AnyError},
		{"UpdateTheAccountInAList", `UPDATE billing_accounts SET (version, id) = ($2, $3) WHERE id = $1`, []any{"a", 2, "b"}, "",
			cmpopts.AnyError},
		{"UpsertTheAccount", `INSERT INTO billing_usages (account, id) VALUES ($1, $2) ON CONFLICT (account, id) DO UPDATE
			SET account = $3`, []any{"a", "u1", "b"}, "", cmpopts.AnyError},
		{"ListTheAccounts", `SELECT id FROM billing_accounts WHERE id > $1 ORDER BY id LIMIT $2`, []any{"a", 10}, "", cmpopts.AnyError},
		{"TwoStatements", `SELECT id FROM billing_usages WHERE account = $1; DELETE FROM billing_usages WHERE true`, []any{"a"}, "",
			cmpopts.AnyError},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := accountOf(c.sql, c.args)
			if diff := cmp.Diff(c.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Fatalf("accountOf(%q) error (-want +got):\n%s", c.sql, diff)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("accountOf(%q) (-want +got):\n%s", c.sql, diff)
			}
		})
	}
}

// acrossAccounts holds the statements of pgstore that read many accounts
// by design, by their exact text, with what sends them. They are let
// through outside a transaction only: a unit of work, or a View, touches
// one account. docs/SCALING.md says how Citus runs them.
var acrossAccounts = map[string]string{
	`SELECT id FROM billing_accounts WHERE id > $1 ORDER BY id LIMIT $2`: "Store.Accounts (billing.AccountLister)",
}

// statementLog checks the statements that its tracers see: each must touch
// one account, and each transaction (BEGIN to COMMIT or ROLLBACK on one
// connection) one account too, so that Citus runs it on one shard.
type statementLog struct {
	mu       sync.Mutex
	txn      map[*pgx.Conn]*string // the account of each open transaction, nil until it touches one
	parsed   map[string]statement  // by text: a suite sends a few hundred texts many times over
	checked  int
	tables   map[string]int // statements per table
	across   map[string]int // statements of acrossAccounts, by what sends them
	failures []string
}

func newStatementLog() *statementLog {
	return &statementLog{txn: map[*pgx.Conn]*string{}, parsed: map[string]statement{}, tables: map[string]int{},
		across: map[string]int{}}
}

func (l *statementLog) record(conn *pgx.Conn, sql string, args []any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.checked++
	st, ok := l.parsed[sql]
	if !ok {
		st = analyze(sql)
		l.parsed[sql] = st
	}
	_, inTxn := l.txn[conn]
	switch across := acrossAccounts[sql]; {
	case across != "" && inTxn:
		l.failures = append(l.failures, fmt.Sprintf("%s in a transaction: %s %v", across, sql, args))
	case across != "":
		l.across[across]++
	case st.control == "begin":
		l.txn[conn] = nil
	case st.control == "commit" || st.control == "rollback":
		delete(l.txn, conn)
	case st.control != "":
	case st.err != nil:
		l.failures = append(l.failures, fmt.Sprintf("%v: %s %v", st.err, sql, args))
	default:
		account, err := st.account(args)
		if err != nil {
			l.failures = append(l.failures, fmt.Sprintf("%v: %s %v", err, sql, args))
			return
		}
		for _, t := range st.tables {
			l.tables[t]++
		}
		if prev := l.txn[conn]; inTxn && prev == nil {
			l.txn[conn] = &account
		} else if inTxn && *prev != account {
			l.failures = append(l.failures, fmt.Sprintf("a transaction touches accounts %q and %q: %s %v", *prev, account, sql, args))
		}
	}
}

// check fails t if a statement or a transaction touched more than one
// account (or none), or if some table was never touched: the run did not
// exercise it.
func (l *statementLog) check(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, f := range l.failures {
		if i == 10 {
			t.Errorf("... and %d more", len(l.failures)-10)
			break
		}
		t.Error(f)
	}
	for table := range distribution {
		if l.tables[table] == 0 {
			t.Errorf("no statement touched %s", table)
		}
	}
	t.Logf("%d statements checked; per table: %v; across accounts, by design: %v", l.checked, l.tables, l.across)
}

// tracer hands every statement that its connections send, from when it is
// turned on, to a statementLog: the statements of Query, Exec and QueryRow,
// every statement queued in a batch, and CopyFrom, which it refuses.
type tracer struct {
	log *statementLog
	on  atomic.Bool
}

func (tr *tracer) TraceQueryStart(ctx context.Context, conn *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if tr.on.Load() {
		tr.log.record(conn, d.SQL, d.Args)
	}
	return ctx
}

func (tr *tracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (tr *tracer) TraceBatchStart(ctx context.Context, conn *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	if tr.on.Load() {
		for _, q := range d.Batch.QueuedQueries {
			tr.log.record(conn, q.SQL, q.Arguments)
		}
	}
	return ctx
}

func (tr *tracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (tr *tracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (tr *tracer) TraceCopyFromStart(ctx context.Context, conn *pgx.Conn, d pgx.TraceCopyFromStartData) context.Context {
	if tr.on.Load() {
		tr.log.record(conn, "COPY "+d.TableName.Sanitize(), nil)
	}
	return ctx
}

func (tr *tracer) TraceCopyFromEnd(context.Context, *pgx.Conn, pgx.TraceCopyFromEndData) {}

// tracedStore returns a Store on a fresh schema whose statements, after
// Migrate's, go to log.
func tracedStore(t *testing.T, log *statementLog) *pgstore.Store {
	tr := &tracer{log: log}
	pool := newPoolConfig(t, func(cfg *pgxpool.Config) { cfg.ConnConfig.Tracer = tr })
	tr.on.Store(true)
	return pgstore.New(pool)
}

// TestCitusStatements runs the conformance suite, then an Engine (the
// multi-process tests' accounts and a stream of their usage in batches,
// again one by one, then a settlement and every read of readState), and
// checks that every statement pgstore sent touched exactly one account,
// and every transaction too. Migrate's statements are not checked: on
// Citus, the schema is created before the tables are distributed (see
// docs/SCALING.md).
func TestCitusStatements(t *testing.T) {
	needDatabase(t)
	t.Run("Store", func(t *testing.T) {
		log := newStatementLog()
		t.Run("TestStore", func(t *testing.T) {
			billingtest.TestStore(t, func(t *testing.T) billing.Store { return tracedStore(t, log) })
		})
		log.check(t)
	})
	t.Run("Engine", func(t *testing.T) {
		log := newStatementLog()
		ctx := context.Background()
		now := setAt
		e := engineAt(t, tracedStore(t, log), &now)
		setup(t, e)
		now = runAt
		us := stream(400)
		for i := 0; i < len(us); i += 50 {
			for _, r := range e.RecordBatch(ctx, us[i:i+50]) {
				if r.Err != nil {
					t.Fatal(r.Err)
				}
			}
		}
		for _, u := range us[:40] {
			if _, err := e.Record(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		now = runAt.Add(24 * time.Hour)
		for _, a := range streamAccounts {
			if _, err := e.Settle(ctx, a, day); err != nil {
				t.Fatalf("Settle(%s): %v", a, err)
			}
			readState(t, e, a)
		}
		log.check(t)
	})
}

// createDistributed matches the calls of docs/SCALING.md that distribute a
// table: the table, its column, and the table it is co-located with.
var createDistributed = regexp.MustCompile(`create_distributed_table\('(\w+)', '(\w+)'(?:, colocate_with => '(\w+)')?\)`)

// TestCitusSchema checks what distributing pgstore's tables by account
// needs, on the schema Migrate creates: every table but billing_schema is
// distributed (distribution lists them all), and its distribution column
// is text COLLATE "C" (co-located tables need one type and collation),
// the first column of its primary key, and a column of each of its unique
// indexes and foreign keys, at the same place in the key referenced. And
// the calls of docs/SCALING.md distribute those tables by those columns,
// co-located with billing_accounts.
func TestCitusSchema(t *testing.T) {
	pool := newPool(t)
	ctx := context.Background()
	rows, err := pool.Query(ctx, `SELECT c.table_name, c.column_name, c.data_type, coalesce(c.collation_name, '')
		FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.table_name <> 'billing_schema'`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{} // each table, and its distribution column if it has it
	var table, column, typ, collation string
	types := map[string]string{}
	if _, err := pgx.ForEachRow(rows, []any{&table, &column, &typ, &collation}, func() error {
		if _, ok := got[table]; !ok {
			got[table] = ""
		}
		if column == distribution[table] {
			got[table], types[table] = column, typ+" "+collation
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(distribution, got); diff != "" {
		t.Errorf("the tables and their distribution columns (-distribution +schema):\n%s", diff)
	}
	for table, typ := range types {
		if typ != "text C" {
			t.Errorf("%s.%s is %s, not text COLLATE \"C\"", table, distribution[table], typ)
		}
	}

	// Every unique index (the primary key among them) and every foreign key,
	// with its columns; the primary key's must start with the distribution
	// column, the others hold it.
	rows, err = pool.Query(ctx, `SELECT c.relname, i.indexrelid::regclass::text, i.indisprimary,
			array(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY AS k(n, o)
				JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.n ORDER BY k.o)
		FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
		WHERE c.relnamespace = current_schema()::regnamespace AND i.indisunique AND c.relname <> 'billing_schema'`)
	if err != nil {
		t.Fatal(err)
	}
	var index string
	var primary bool
	var cols []string
	primaries := map[string]bool{}
	if _, err := pgx.ForEachRow(rows, []any{&table, &index, &primary, &cols}, func() error {
		col := distribution[table]
		switch {
		case primary && (len(cols) == 0 || cols[0] != col):
			t.Errorf("the primary key of %s, %v, does not start with %s", table, cols, col)
		case !slices.Contains(cols, col):
			t.Errorf("the unique index %s on %v does not hold %s", index, cols, col)
		}
		primaries[table] = primaries[table] || primary
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for table := range distribution {
		if !primaries[table] {
			t.Errorf("%s has no primary key", table)
		}
	}
	rows, err = pool.Query(ctx, `SELECT conname::text, conrelid::regclass::text, confrelid::regclass::text,
			array(SELECT a.attname::text FROM unnest(conkey) WITH ORDINALITY AS k(n, o)
				JOIN pg_attribute a ON a.attrelid = conrelid AND a.attnum = k.n ORDER BY k.o),
			array(SELECT a.attname::text FROM unnest(confkey) WITH ORDINALITY AS k(n, o)
				JOIN pg_attribute a ON a.attrelid = confrelid AND a.attnum = k.n ORDER BY k.o)
		FROM pg_constraint WHERE contype = 'f' AND connamespace = current_schema()::regnamespace`)
	if err != nil {
		t.Fatal(err)
	}
	var name, referenced string
	var refCols []string
	if _, err := pgx.ForEachRow(rows, []any{&name, &table, &referenced, &cols, &refCols}, func() error {
		i, j := slices.Index(cols, distribution[table]), slices.Index(refCols, distribution[referenced])
		if i < 0 || i != j {
			t.Errorf("the foreign key %s of %s %v to %s %v does not join their distribution columns", name, table, cols, referenced, refCols)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	doc, err := os.ReadFile("../docs/SCALING.md")
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("docs/SCALING.md is not here: pgstore is outside its repository")
	}
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]string{}
	for _, m := range createDistributed.FindAllStringSubmatch(string(doc), -1) {
		calls[m[1]] = m[2]
		if with := m[3]; m[1] != "billing_accounts" && with != "billing_accounts" {
			t.Errorf("docs/SCALING.md distributes %s co-located with %q, not billing_accounts", m[1], with)
		}
	}
	if diff := cmp.Diff(distribution, calls); diff != "" {
		t.Errorf("docs/SCALING.md's create_distributed_table calls (-distribution +docs):\n%s", diff)
	}
}

// TestCitusTransactions checks that a statementLog refuses a transaction
// that touches two accounts, or lists accounts, and lets one account's
// statements through, one transaction after another on a connection, and
// the listing outside a transaction.
func TestCitusTransactions(t *testing.T) {
	const (
		read = `SELECT id FROM billing_usages WHERE account = $1`
		list = `SELECT id FROM billing_accounts WHERE id > $1 ORDER BY id LIMIT $2`
	)
	type stmt struct {
		sql     string
		account string
	}
	for _, c := range []struct {
		name  string
		stmts []stmt
		want  int // failures
	}{
		{"OneAccount", []stmt{{"BEGIN", ""}, {read, "a"}, {read, "a"}, {"COMMIT", ""}}, 0},
		{"OneAfterAnother", []stmt{{"BEGIN", ""}, {read, "a"}, {"COMMIT", ""}, {"BEGIN", ""}, {read, "b"}, {"ROLLBACK", ""}}, 0},
		{"OutsideATransaction", []stmt{{read, "a"}, {read, "b"}}, 0},
		{"TwoAccounts", []stmt{{"BEGIN", ""}, {read, "a"}, {read, "b"}, {"COMMIT", ""}}, 1},
		{"ListOutsideATransaction", []stmt{{list, ""}, {"BEGIN", ""}, {read, "a"}, {"COMMIT", ""}, {list, ""}}, 0},
		{"ListInATransaction", []stmt{{"BEGIN", ""}, {read, "a"}, {list, ""}, {"COMMIT", ""}}, 1},
		{"TwoAccountsAfterARollback", []stmt{{"BEGIN", ""}, {read, "a"}, {"ROLLBACK", ""}, {"BEGIN", ""}, {read, "b"},
			{read, "a"}, {"COMMIT", ""}}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			log, conn := newStatementLog(), &pgx.Conn{}
			for _, s := range c.stmts {
				var args []any
				if s.account != "" {
					args = []any{s.account}
				}
				log.record(conn, s.sql, args)
			}
			if diff := cmp.Diff(c.want, len(log.failures)); diff != "" {
				t.Errorf("failures %q (-want +got):\n%s", log.failures, diff)
			}
		})
	}
}
