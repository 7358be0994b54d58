package billing

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"
	"unicode"
)

// Observer is told how each operation of an Engine went, for metrics:
// counts, latencies, retries and errors per operation (Options.Observer).
// It imports no metrics library; a host adapts it to its own. Observe is
// called from the goroutine that ran the operation, after it ended and
// before the Engine method returns, so it must be safe for concurrent use
// and quick.
type Observer interface {
	Observe(ctx context.Context, o Observation)
}

// Observation is one unit of work or read an Engine ran.
type Observation struct {
	// Op is the operation: a unit of work's Request ("record", "buy",
	// "settle", "grant", ...; each account's unit of work of a
	// RecordBatch is a "record"), or a read, named after its method in the
	// same style ("due-days", "bills", "statement", "ledger", "meters",
	// "usages", "admit", "overview", and "accounts", which names no
	// account). The recurring grants an operation finds due are made first,
	// in units of work of their own ("grant").
	Op string
	// Account is the account's id.
	Account string
	// Attempts is how many times the unit of work ran: 1, plus one per
	// retry after the Store reported a conflict or a duplicate key; 1 for
	// a read.
	Attempts int
	// Duration is the wall-clock time it took, retries included (measured
	// with time.Now, not Options.Now).
	Duration time.Duration
	// Err is the error it ended with, nil on success.
	Err error
}

// appWas is what the Logger is told about when it changes: an
// application's switch and status.
type appWas struct {
	id        string
	postpaid  bool
	suspended bool
}

// snapshot appends the switches and statuses of a's applications to was.
func snapshot(a *Account, was []appWas) []appWas {
	for i := range a.Apps {
		p := &a.Apps[i]
		was = append(was, appWas{p.ID, p.Postpaid.On, p.Status.Suspended})
	}
	return was
}

// report tells the Observer about unit of work u, which ran n times from
// start and returned err, and the Logger what it changed.
func (e *Engine) report(ctx context.Context, u *unit, start time.Time, n int, err error) {
	if e.observer != nil {
		e.observer.Observe(ctx, Observation{Op: string(u.req), Account: u.account, Attempts: n, Duration: time.Since(start), Err: err})
	}
	if e.log == nil {
		return
	}
	if err != nil {
		level := slog.LevelError
		switch {
		case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
			level = slog.LevelDebug // the caller's doing
		case u.failed != nil && !errors.Is(err, ErrCorrupt):
			return // a refusal or a rule's answer: the caller has the error
		}
		e.log.LogAttrs(ctx, level, "billing: unit of work failed", slog.String("request", string(u.req)),
			slog.String("account", u.account), slog.String("id", u.ref), slog.Int("attempts", n), slog.Any("error", err))
		return
	}
	for i := range u.a.Apps {
		p := &u.a.Apps[i]
		var was appWas
		if i < len(u.was) {
			was = u.was[i]
		}
		about := func(msg string, more ...slog.Attr) {
			e.log.LogAttrs(ctx, slog.LevelInfo, msg, append([]slog.Attr{slog.String("account", u.account), slog.String("app", p.ID),
				slog.String("request", string(u.req)), slog.String("id", u.ref)}, more...)...)
		}
		if p.Postpaid.On && !was.postpaid {
			about("billing: postpaid switched on", slog.String("way", string(p.Postpaid.Way)), slog.Time("since", p.Postpaid.Since))
		}
		switch {
		case p.Status.Suspended && !was.suspended:
			about("billing: application suspended", slog.String("reason", p.Status.Reason), slog.Time("since", p.Status.Since))
		case !p.Status.Suspended && was.suspended:
			about("billing: application resumed")
		}
	}
}

// started returns the time a read starts, if there is an Observer to tell.
func (e *Engine) started() time.Time {
	if e.observer == nil {
		return time.Time{}
	}
	return time.Now()
}

// observeRead tells the Observer, if there is one, about the read of
// method op that started at start and returned err.
func (e *Engine) observeRead(ctx context.Context, op, account string, start time.Time, err error) {
	if e.observer != nil {
		e.observer.Observe(ctx, Observation{Op: kebab(op), Account: account, Attempts: 1, Duration: time.Since(start), Err: err})
	}
}

// kebab turns a method's name into an Observation's Op: "DueDays" is
// "due-days".
func kebab(name string) string {
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
