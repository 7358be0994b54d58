package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/session"
)

// usageColumns are the columns of a usage file.
var usageColumns = columns{
	all:      []string{"id", "account", "app", "service", "scenario", "tier", "seconds", "at"},
	required: []string{"id", "account", "app", "tier", "seconds", "at"},
}

// eventColumns are the columns of a room-events file.
var eventColumns = columns{
	all:      []string{"account", "app", "room", "kind", "at", "user", "scenario", "from", "stream", "width", "height", "seq"},
	required: []string{"account", "app", "room", "kind", "at"},
}

const usageHelp = `A usage file is CSV, its first line naming the columns (in any order; all but
service and scenario required), or JSON Lines, one object per line with the
columns as keys (numbers as JSON numbers or strings). The columns:

  id        the usage's id, unique within the account: the idempotency key
  account   the account
  app       the application (SDKAppID)
  service   basic (or empty), recording, mixtranscoding, ... (value-added
            usage names no scenario; its tier is the output's); optional
  scenario  audio-live, video-live, audio-call or video-call (basic usage);
            optional
  tier      audio, sd, hd, fhd, ... as the price book names them
  seconds   the duration, a whole number of seconds
  at        when it happened, RFC 3339 (2021-03-02T10:00:00+08:00)

Usages are recorded in batches (--batch) with RecordBatch. A line refused
(malformed, or refused by the engine) does not stop the others: the summary
groups the refused lines by reason, with the first line numbers of each, and
the command exits with status 1. Importing a file again records nothing twice:
a usage id already recorded with the same usage is taken as done.
`

const eventsHelp = `An events file is CSV or JSON Lines as for "import usage", with the columns:

  account, app, room  the room (a room is named by all three)
  kind                enter, leave, subscribe, unsubscribe, alive or close
  at                  when, RFC 3339, taken to the second
  user                who entered, left, receives (empty for close)
  scenario            the scenario of an enter (audio-live, video-call, ...)
  from, stream        the stream received: its publisher and its name
                      (camera, screen, audio)
  width, height       the resolution received (0 or empty: audio only)
  seq                 orders the events of one second

A CSV file's first line must name account, app, room, kind and at; the
other columns are optional.

The session meter turns the events into usages (every user billed by what
they receive), whose ids derive from the room, user, stay, day and tier, so
importing a file again records nothing twice. Events are applied in time
order once they are --lateness older than the newest event read (checked
every --batch events); an event older than that is refused (ErrLate), so a
file out of order by more than --lateness needs a larger one. At the end,
the events before the clock (--now) less --lateness are applied; stays that
have not ended (no leave, no close, no --timeout) are billed for their days
that ended. The meter keeps nothing between runs: it meters what the file
holds, so the rest of such a stay is billed when a file holding its whole
stay, with its end, is imported (the days billed before are not billed again).
`

func importUsageCommand() command {
	return command{
		name:    "import usage",
		args:    "FILE",
		summary: "record the usages of a CSV or JSON Lines file",
		help:    usageHelp,
		flags:   importFlags,
		run: func(ctx context.Context, c *cli, args []string) error {
			return c.importFile(ctx, args, usageColumns, c.importUsages)
		},
	}
}

func importEventsCommand() command {
	return command{
		name:    "import events",
		args:    "FILE",
		summary: "meter the room events of a CSV or JSON Lines file and record the usages",
		help:    eventsHelp,
		flags: func(c *cli, fs *flag.FlagSet) {
			importFlags(c, fs)
			fs.StringVar(&c.book, "book", "era1-usd", "the price `book` whose tiering rule and tiers meter the events: era1-usd, era1-cny, era2-usd or era3-usd")
			fs.DurationVar(&c.lateness, "lateness", time.Hour, "how much older than the newest event read an event may be")
			fs.DurationVar(&c.timeout, "timeout", 0, "take a user out of the room this long after the last event about them (0: never)")
		},
		run: func(ctx context.Context, c *cli, args []string) error {
			return c.importFile(ctx, args, eventColumns, c.importEvents)
		},
	}
}

func importFlags(c *cli, fs *flag.FlagSet) {
	fs.StringVar(&c.fileFormat, "format", "", "the file's `format`: csv or jsonl; default by its extension (.csv, .jsonl or .ndjson)")
	fs.IntVar(&c.batchSize, "batch", 1000, "how many `usages` to record in one RecordBatch")
	fs.BoolVar(&c.progress, "progress", false, "show the progress on stderr even if it is not a terminal")
}

// importState is an import under way.
type importState struct {
	rows     rowReader
	in       *countingReader
	bar      *progress
	lines    int // rows read
	refused  refusals
	recorded int // usages recorded (now or before)
}

// importFile opens the file args[0] and the engine, runs body on its
// rows and prints the summary.
func (c *cli) importFile(ctx context.Context, args []string, cols columns, body func(ctx context.Context, st *importState) (string, error)) error {
	if err := wantArgs(args, 1, 1); err != nil {
		return err
	}
	if c.batchSize < 1 {
		return usageErrorf("--batch: want at least 1, not %d", c.batchSize)
	}
	format, err := fileFormat(args[0], c.fileFormat)
	if err != nil {
		return err
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	st := &importState{in: &countingReader{r: f}}
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	st.rows, err = newRowReader(st.in, format, cols)
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	done, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer done()
	if c.progress || c.progressTerminal {
		st.bar = newProgress(c.stderr, args[0], size, c.progressTerminal)
	}
	summary, err := body(ctx, st)
	st.bar.finish(st.in.n, st.lines, st.refused.total)
	if err != nil {
		fmt.Fprintf(c.stdout, "%s: stopped after %d lines, %d usages recorded: importing the file again records the rest, nothing twice\n",
			args[0], st.lines, st.recorded)
		return err
	}
	fmt.Fprintf(c.stdout, "%s: %d lines read, %d usages recorded (now or by an earlier import), %d refused%s\n",
		args[0], st.lines, st.recorded, st.refused.total, summary)
	if err := st.refused.write(c.stdout); err != nil {
		return err
	}
	if st.refused.total > 0 {
		return errRefused
	}
	return nil
}

// nextRow reads the next row and returns its line number and true, or
// false at the end of the file or with an error the import cannot go on
// after. It counts malformed rows as refused and skips them.
func (st *importState) nextRow() (line int, ok bool, err error) {
	for {
		line, err := st.rows.next()
		switch {
		case err == nil:
			st.lines++
			if st.lines%256 == 0 {
				st.bar.update(st.in.n, st.lines, st.refused.total)
			}
			return line, true, nil
		case errors.Is(err, io.EOF):
			return 0, false, nil
		}
		var me malformedError
		if !errors.As(err, &me) {
			return 0, false, err
		}
		st.lines++
		st.refused.add(strconv.Itoa(line), err)
	}
}

// record records usages with RecordBatch, counting each refused one under
// its ref (a line number or a usage id). It returns the error that ends
// the import: the context's, or the Store's.
func (c *cli) record(ctx context.Context, st *importState, usages []billing.Usage, refs []string) error {
	if len(usages) == 0 {
		return nil
	}
	for i, r := range c.engine.RecordBatch(ctx, usages) {
		if r.Err == nil {
			st.recorded++
			continue
		}
		if isFatal(ctx, r.Err) {
			return r.Err
		}
		st.refused.add(refs[i], r.Err)
	}
	return nil
}

// maxPending is how many batches of usages a batcher holds at most, all
// accounts together, before it records them all.
const maxPending = 16

// batcher gathers usages per account, so that one RecordBatch (one commit
// per account) records up to a batch of one account's usages even when
// the accounts' lines are interleaved.
type batcher struct {
	c       *cli
	st      *importState
	order   []string // the accounts with usages waiting, by first arrival
	pending map[string]*pendingUsages
	total   int
}

// pendingUsages are an account's usages waiting, with their refs (line
// numbers or usage ids) for the refusals.
type pendingUsages struct {
	usages []billing.Usage
	refs   []string
}

func (c *cli) newBatcher(st *importState) *batcher {
	return &batcher{c: c, st: st, pending: make(map[string]*pendingUsages)}
}

// add adds a usage, recording its account's batch once full, or every
// account's once maxPending batches wait.
func (b *batcher) add(ctx context.Context, u billing.Usage, ref string) error {
	p, ok := b.pending[u.Account]
	if !ok {
		p = &pendingUsages{}
		b.pending[u.Account] = p
		b.order = append(b.order, u.Account)
	}
	p.usages, p.refs = append(p.usages, u), append(p.refs, ref)
	b.total++
	switch {
	case b.total >= maxPending*b.c.batchSize:
		return b.flush(ctx)
	case len(p.usages) >= b.c.batchSize:
		b.total -= len(p.usages)
		err := b.c.record(ctx, b.st, p.usages, p.refs)
		p.usages, p.refs = p.usages[:0], p.refs[:0]
		return err
	}
	return nil
}

// flush records every usage waiting, account by account.
func (b *batcher) flush(ctx context.Context) error {
	for _, account := range b.order {
		p := b.pending[account]
		if err := b.c.record(ctx, b.st, p.usages, p.refs); err != nil {
			return err
		}
	}
	clear(b.pending)
	b.order, b.total = b.order[:0], 0
	return nil
}

func (c *cli) importUsages(ctx context.Context, st *importState) (string, error) {
	b := c.newBatcher(st)
	for {
		line, ok, err := st.nextRow()
		if err != nil {
			return "", err
		}
		if !ok {
			return "", b.flush(ctx)
		}
		u, err := parseUsage(st.rows)
		if err != nil {
			st.refused.add(strconv.Itoa(line), err)
			continue
		}
		if err := b.add(ctx, u, strconv.Itoa(line)); err != nil {
			return "", err
		}
	}
}

// parseUsage returns the usage of the current row.
func parseUsage(r rowReader) (billing.Usage, error) {
	seconds, err := intValue(r, "seconds", true)
	if err != nil {
		return billing.Usage{}, err
	}
	at, err := time.Parse(time.RFC3339, r.value("at"))
	if err != nil {
		return billing.Usage{}, badValue("at", r.value("at"), "not an RFC 3339 time")
	}
	return billing.Usage{
		ID: r.value("id"), Account: r.value("account"), App: r.value("app"),
		Service: billing.Service(r.value("service")), Scenario: billing.Scenario(r.value("scenario")),
		Tier: billing.Tier(r.value("tier")), Seconds: seconds, At: at,
	}, nil
}

// meterBooks are the books whose rules can meter events.
func meterBook(id string) (billing.PriceBook, bool) {
	for _, b := range []billing.PriceBook{billing.Era1USD(), billing.Era1CNY(), billing.Era2USD(), billing.Era3USD()} {
		if b.ID == id {
			return b, true
		}
	}
	return billing.PriceBook{}, false
}

func (c *cli) importEvents(ctx context.Context, st *importState) (string, error) {
	book, ok := meterBook(c.book)
	if !ok {
		return "", usageErrorf("--book: want era1-usd, era1-cny, era2-usd or era3-usd, not %q", c.book)
	}
	m, err := session.New(session.Options{Book: book, Location: c.engine.Location(), Lateness: c.lateness, Timeout: c.timeout})
	if err != nil {
		return "", err
	}
	var newest time.Time
	b := c.newBatcher(st)
	usages := 0
	add := func(us []billing.Usage) error {
		usages += len(us)
		for _, u := range us {
			if err := b.add(ctx, u, "usage "+u.ID); err != nil {
				return err
			}
		}
		return nil
	}
	taken := 0
	for {
		line, ok, err := st.nextRow()
		if err != nil {
			return "", err
		}
		if !ok {
			break
		}
		e, err := parseEvent(st.rows)
		if err == nil {
			err = m.Add(e)
		}
		if err != nil {
			st.refused.add(strconv.Itoa(line), err)
			continue
		}
		taken++
		if e.At.After(newest) {
			newest = e.At
		}
		if taken%c.batchSize == 0 {
			if err := add(m.Advance(newest)); err != nil {
				return "", err
			}
		}
	}
	if err := add(m.Advance(c.g.clock())); err != nil {
		return "", err
	}
	if err := b.flush(ctx); err != nil {
		return "", err
	}
	return fmt.Sprintf(" (%d events taken, %d usages metered, %d users still in a room)", taken, usages, m.Open()), nil
}

// parseEvent returns the event of the current row.
func parseEvent(r rowReader) (session.Event, error) {
	var kind session.Kind
	for k := session.Enter; k <= session.Close; k++ {
		if strings.EqualFold(k.String(), r.value("kind")) {
			kind = k
		}
	}
	if kind == 0 {
		return session.Event{}, badValue("kind", r.value("kind"), "not enter, leave, subscribe, unsubscribe, alive or close")
	}
	at, err := time.Parse(time.RFC3339, r.value("at"))
	if err != nil {
		return session.Event{}, badValue("at", r.value("at"), "not an RFC 3339 time")
	}
	var nums [3]int64
	for i, col := range []string{"width", "height", "seq"} {
		if nums[i], err = intValue(r, col, false); err != nil {
			return session.Event{}, err
		}
		if nums[i] < 0 || (i < 2 && nums[i] > billing.MaxDimension) {
			return session.Event{}, badValue(col, r.value(col), "out of range")
		}
	}
	return session.Event{
		Account: r.value("account"), App: r.value("app"), Room: r.value("room"),
		Kind: kind, At: at, User: r.value("user"), Scenario: billing.Scenario(r.value("scenario")),
		From: r.value("from"), Stream: r.value("stream"),
		Resolution: billing.Resolution{Width: int(nums[0]), Height: int(nums[1])},
		Seq:        uint64(nums[2]),
	}, nil
}
