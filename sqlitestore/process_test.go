package sqlitestore_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/memstore"
	"github.com/rtcbill/billing/sqlitestore"
)

var (
	cst   = time.FixedZone("UTC+8", 8*3600)
	setAt = time.Date(2021, 3, 15, 8, 0, 0, 0, cst)  // the clock while accounts are set up
	runAt = time.Date(2021, 3, 15, 20, 0, 0, 0, cst) // the clock while usage is recorded
	day   = billing.Day(18701)                       // 2021-03-15
)

var streamAccounts = []string{"trial", "armed", "postpaid", "busy"}

// sdkApp is the application the tests' accounts are opened with, which
// their usage names.
const sdkApp = "1400000001"

// stream returns the usage stream of the multi-process tests: n usages of
// the accounts above, some of them at runAt itself (after an account's
// suspension, if it comes), basic and value-added.
func stream(n int) []billing.Usage {
	rng := rand.New(rand.NewPCG(42, 7))
	tiers := []billing.Tier{billing.TierAudio, billing.TierSD, billing.TierHD, billing.TierFHD}
	us := make([]billing.Usage, n)
	for i := range us {
		u := billing.Usage{ID: fmt.Sprintf("u%d", i), Account: streamAccounts[rng.IntN(len(streamAccounts))], App: sdkApp,
			Tier: tiers[rng.IntN(len(tiers))], Seconds: 1 + rng.Int64N(3000), At: setAt.Add(time.Duration(rng.Int64N(int64(12 * time.Hour))))}
		if i%10 == 0 {
			u.At = runAt
		}
		switch {
		case i%7 == 0:
			u.Service = billing.ServiceRecording
		case u.Tier == billing.TierAudio:
			u.Scenario = billing.AudioCall
		default:
			u.Scenario = billing.VideoCall
		}
		us[i] = u
	}
	return us
}

// setup opens the accounts, each with the application sdkApp: "trial"
// runs out of its trial and is suspended; "armed" uses up a universal
// package and goes postpaid automatically; "postpaid" chose postpaid at
// opening; "busy" has a large package.
func setup(t testing.TB, e *billing.Engine) {
	t.Helper()
	ctx := context.Background()
	for _, a := range []billing.AccountSpec{{ID: "trial"}, {ID: "armed"}, {ID: "postpaid", Postpaid: true}, {ID: "busy"}} {
		a.App = sdkApp
		if _, err := e.OpenAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []billing.Purchase{
		{ID: "p1", Account: "armed", Kind: billing.KindUniversal, Minutes: 1000},
		{ID: "p1", Account: "busy", Kind: billing.KindUniversal, Minutes: 3_000_000},
	} {
		if _, err := e.Buy(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
}

// smallTrial is the Era 1 USD book with a 500-minute trial, so that the
// trial runs out within the stream.
func smallTrial() []billing.PriceBook {
	b := billing.Era1USD()
	b.ID, b.Trial.Minutes = "era1-usd-small-trial", 500
	return []billing.PriceBook{b}
}

func engineAt(t testing.TB, s billing.Store, now *time.Time) *billing.Engine {
	t.Helper()
	e, err := billing.New(s, &billing.Options{Now: func() time.Time { return *now }, PriceBooks: smallTrial()})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestProcessWorker is not a test: it is the worker process the
// multi-process tests start, recording its shuffle of the stream into the
// file SQLITESTORE_WORKER_FILE.
func TestProcessWorker(t *testing.T) {
	if os.Getenv("SQLITESTORE_WORKER") == "" {
		t.Skip("runs only as a worker process of the multi-process tests")
	}
	seed, _ := strconv.ParseUint(os.Getenv("SQLITESTORE_WORKER"), 10, 64)
	maxBatch, _ := strconv.Atoi(os.Getenv("SQLITESTORE_WORKER_BATCH"))
	n, _ := strconv.Atoi(os.Getenv("SQLITESTORE_WORKER_USAGES"))
	ctx := context.Background()
	s, err := sqlitestore.Open(os.Getenv("SQLITESTORE_WORKER_FILE"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := runAt
	var store billing.Store = s
	if hang, _ := strconv.Atoi(os.Getenv("SQLITESTORE_WORKER_HANG_AFTER")); hang > 0 {
		store = &hangingStore{Store: store, after: hang}
	}
	e := engineAt(t, store, &now)
	us := stream(n)
	rng := rand.New(rand.NewPCG(seed, 1))
	rng.Shuffle(len(us), func(i, j int) { us[i], us[j] = us[j], us[i] })
	us = append(us, us[:len(us)/4]...) // and a quarter of it again
	for done := 0; done < len(us); {
		k := min(1+rng.IntN(maxBatch), len(us)-done)
		for _, r := range e.RecordBatch(ctx, us[done:done+k]) {
			if r.Err != nil {
				t.Fatalf("RecordBatch: %v", r.Err)
			}
		}
		done += k
		fmt.Printf("recorded %d\n", done)
	}
}

// hangingStore runs its first units of work, then blocks the next one
// once fn has returned its Changes, before they are committed, saying so
// on stdout, until the process is killed.
type hangingStore struct {
	billing.Store
	after, done int
}

func (s *hangingStore) Update(ctx context.Context, id string, fn func(billing.Reader) (billing.Changes, error)) error {
	return s.Store.Update(ctx, id, func(r billing.Reader) (billing.Changes, error) {
		c, err := fn(r)
		if s.done++; s.done > s.after && err == nil {
			fmt.Println("in unit of work")
			select {}
		}
		return c, err
	})
}

// worker returns the command of a worker process recording the stream of n
// usages in its own order (seed), in batches of up to maxBatch, into file.
func worker(file string, seed, n, maxBatch int) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestProcessWorker$", "-test.v")
	cmd.Env = append(os.Environ(), "SQLITESTORE_WORKER="+strconv.Itoa(seed), "SQLITESTORE_WORKER_FILE="+file,
		"SQLITESTORE_WORKER_USAGES="+strconv.Itoa(n), "SQLITESTORE_WORKER_BATCH="+strconv.Itoa(maxBatch))
	return cmd
}

// newFile returns the path of a new store file, set up with the stream's
// accounts.
func newFile(t *testing.T) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "billing.db")
	s, err := sqlitestore.Open(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := setAt
	setup(t, engineAt(t, s, &now))
	return file
}

// checkSerial replays, on memstore, the units of work the file holds, in
// the order they committed: each account's usages committed together (one
// version of the account) recorded together, with RecordBatch. It checks
// that every usage of the stream was recorded, and that every account ends
// in exactly the same state, with the same ledger, the same receipts and
// the same bill.
func checkSerial(t *testing.T, file string, n int) {
	t.Helper()
	ctx := context.Background()
	s, err := sqlitestore.Open(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := setAt
	db := engineAt(t, s, &now)
	serialClock := setAt
	serial := engineAt(t, memstore.New(), &serialClock)
	setup(t, serial)
	serialClock = runAt

	byID := map[string]billing.Usage{}
	for _, u := range stream(n) {
		byID[u.Account+"/"+u.ID] = u
	}
	raw, err := sql.Open("sqlite", "file:"+file+"?_query_only=1")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.QueryContext(ctx, "SELECT account, id, version FROM usages ORDER BY account, version, position")
	if err != nil {
		t.Fatal(err)
	}
	var order []billing.Usage
	var units [][]billing.Usage // the usages of each unit of work, in the order they committed
	lastAccount, lastVersion := "", int64(0)
	for rows.Next() {
		var a, id string
		var version int64
		if err := rows.Scan(&a, &id, &version); err != nil {
			t.Fatal(err)
		}
		if len(units) == 0 || a != lastAccount || version != lastVersion {
			units, lastAccount, lastVersion = append(units, nil), a, version
		}
		u := byID[a+"/"+id]
		order, units[len(units)-1] = append(order, u), append(units[len(units)-1], u)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, us := range units {
		for i, r := range serial.RecordBatch(ctx, us) {
			if r.Err != nil {
				t.Fatalf("serial RecordBatch(%s/%s): %v", us[i].Account, us[i].ID, r.Err)
			}
		}
	}
	// Nothing lost, nothing doubled: usage is a fact, so every usage of the
	// stream is in the file once, whatever the accounts' states.
	if len(order) != n {
		t.Errorf("%d usages in the file, want the stream's %d", len(order), n)
	}
	recorded := map[string]bool{}
	for _, u := range order {
		recorded[u.Account+"/"+u.ID] = true
	}
	for _, u := range stream(n) {
		if !recorded[u.Account+"/"+u.ID] {
			t.Errorf("usage %s/%s is not in the file: it was lost", u.Account, u.ID)
		}
	}

	now = runAt.Add(24 * time.Hour)
	serialClock = now
	for _, a := range streamAccounts {
		for _, e := range []*billing.Engine{db, serial} {
			if _, err := e.Settle(ctx, a, day); err != nil {
				t.Fatalf("Settle(%s): %v", a, err)
			}
		}
		want, got := readState(t, serial, a), readState(t, db, a)
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("account %s: the processes' result differs from the serial run (-serial +processes):\n%s", a, diff)
		}
	}
	for _, u := range order {
		want, err1 := serial.Record(ctx, u)
		got, err2 := db.Record(ctx, u)
		if err1 != nil || err2 != nil || !cmp.Equal(want, got, cmpopts.EquateEmpty()) {
			t.Errorf("receipt of %s/%s: processes %+v, %v; serial %+v, %v", u.Account, u.ID, got, err2, want, err1)
		}
	}
	if a, err := db.Overview(ctx, "armed"); err != nil || !a.Account.Postpaid.On {
		t.Errorf("armed: %+v, %v; want postpaid switched on", a.Account.Postpaid, err)
	}
}

// state is what checkSerial and TestSameAsMemstore compare of an account.
type state struct {
	Overview billing.Overview
	Ledger   []billing.Entry
	Meters   []billing.Meter
	Bills    []billing.Bill
}

// readState reads account a's state through e, its meters and bill of day.
func readState(t *testing.T, e *billing.Engine, a string) state {
	t.Helper()
	ctx := context.Background()
	var s state
	var err1, err2, err3, err4 error
	s.Overview, err1 = e.Overview(ctx, a)
	s.Ledger, err2 = e.Ledger(ctx, a, time.Time{}, time.Time{})
	s.Meters, err3 = e.Meters(ctx, a, day)
	s.Bills, err4 = e.Bills(ctx, a, day, day)
	for _, err := range []error{err1, err2, err3, err4} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestSameAsMemstore records the stream of the multi-process tests (and a
// quarter of it again) in one order and in the same batches on sqlitestore
// and on memstore, and checks that every batch gets the same results and
// every account ends in the same state. Arriving out of order, much of the
// stream replays the accounts' operations from their checkpoints, and
// moves the postpaid switch and suspensions: this checks that sqlitestore
// keeps what the Engine reads back as memstore does.
func TestSameAsMemstore(t *testing.T) {
	for _, c := range []struct {
		seed     uint64
		maxBatch int
	}{{1, 40}, {2, 200}, {3, 4}} {
		t.Run(fmt.Sprintf("seed %d, batches of up to %d", c.seed, c.maxBatch), func(t *testing.T) {
			ctx := context.Background()
			now := setAt
			db := engineAt(t, open(t, &sqlitestore.Options{NoSync: true}), &now)
			mem := engineAt(t, memstore.New(), &now)
			setup(t, db)
			setup(t, mem)
			now = runAt
			us := stream(streamSize)
			rng := rand.New(rand.NewPCG(c.seed, 1))
			rng.Shuffle(len(us), func(i, j int) { us[i], us[j] = us[j], us[i] })
			us = append(us, us[:len(us)/4]...)
			for done := 0; done < len(us); {
				k := min(1+rng.IntN(c.maxBatch), len(us)-done)
				want, got := mem.RecordBatch(ctx, us[done:done+k]), db.RecordBatch(ctx, us[done:done+k])
				if diff := cmp.Diff(want, got, cmpopts.EquateEmpty(), cmpopts.EquateErrors()); diff != "" {
					t.Fatalf("the batch of usages %d to %d (-memstore +sqlitestore):\n%s", done, done+k-1, diff)
				}
				done += k
			}
			now = runAt.Add(24 * time.Hour)
			for _, a := range streamAccounts {
				for _, e := range []*billing.Engine{db, mem} {
					if _, err := e.Settle(ctx, a, day); err != nil {
						t.Fatalf("Settle(%s): %v", a, err)
					}
				}
				if diff := cmp.Diff(readState(t, mem, a), readState(t, db, a), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("account %s (-memstore +sqlitestore):\n%s", a, diff)
				}
			}
		})
	}
}

// TestManyProcesses runs several worker processes on one file, each
// recording the whole stream (and a quarter of it twice) in its own order
// and batches, at once: SQLite's file locks let one commit at a time, and
// a unit of work that read an account another process changed since
// fails its commit with ErrConflict, which the Engine retries.
func TestManyProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	file := newFile(t)
	const n, processes = streamSize, 4
	var cmds []*exec.Cmd
	for i := range processes {
		cmd := worker(file, i+1, n, 40)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("worker %d: %v", i, err)
		}
	}
	checkSerial(t, file, n)
}

// TestKilledProcess kills a worker in the middle of the stream, starts
// another that records the whole stream again, and checks that nothing was
// lost and nothing doubled. It kills one worker inside a unit of work
// (its Changes made, not committed), and one at whatever it is doing
// after it has recorded a third of the stream (most often inside a
// commit, which is where a batch spends most of its time).
func TestKilledProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	const n = streamSize * 2 / 3
	for _, c := range []struct {
		name      string
		hangAfter int // units of work; 0: kill when a third is recorded
	}{{"inside a unit of work", n / 4}, {"at any point", 0}} {
		t.Run(c.name, func(t *testing.T) {
			file := newFile(t)
			cmd := worker(file, 1, n, 3)
			if c.hangAfter > 0 {
				cmd.Env = append(cmd.Env, "SQLITESTORE_WORKER_HANG_AFTER="+strconv.Itoa(c.hangAfter)) // of about 0.42 n units of work
			}
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := bufio.NewScanner(out)
			recorded, stop := 0, false
			for !stop && lines.Scan() {
				_, _ = fmt.Sscanf(lines.Text(), "recorded %d", &recorded)
				stop = lines.Text() == "in unit of work" || c.hangAfter == 0 && recorded >= n/3
			}
			if !stop {
				t.Fatalf("the worker ended before it was killed (recorded %d)", recorded)
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait() // killed
			again := worker(file, 1, n, 3)
			again.Stderr = os.Stderr
			if err := again.Run(); err != nil {
				t.Fatalf("the restarted worker: %v", err)
			}
			t.Logf("killed after %d of %d usages, then replayed all", recorded, n*5/4)
			checkSerial(t, file, n)
		})
	}
}
