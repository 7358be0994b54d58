package main

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/session"
)

// reasons are the sentinel errors a refused line is grouped by, tested
// with errors.Is in this order.
var reasons = []error{
	billing.ErrInvalidID,
	billing.ErrInvalidSeconds,
	billing.ErrInvalidTime,
	billing.ErrFutureUsage,
	billing.ErrBeforeOpened,
	billing.ErrNotFound,
	billing.ErrUnknownApp,
	billing.ErrUnknownService,
	billing.ErrUnknownScenario,
	billing.ErrUnknownTier,
	billing.ErrTierNotInScenario,
	billing.ErrNoPriceBook,
	billing.ErrIdempotencyConflict,
	billing.ErrCorrupt,
	session.ErrInvalidEvent,
	session.ErrLate,
}

// maxExamples is how many line numbers (or usage ids) a summary names per
// reason.
const maxExamples = 5

// refusals counts refused lines by reason.
type refusals struct {
	order  []string // reasons, in the order first met
	byName map[string]*refusal
	total  int
}

type refusal struct {
	count    int
	examples []string // the first line numbers or usage ids
	sample   string   // the first error in full
}

// otherReason is the group of an error that is neither a malformed row
// nor one of reasons: a Store or context error.
const otherReason = "other error"

// reason returns the group of err: the text of its sentinel, the text of
// a malformed row, or otherReason.
func reason(err error) string {
	var me malformedError
	if errors.As(err, &me) {
		return me.group()
	}
	for _, r := range reasons {
		if errors.Is(err, r) {
			return r.Error()
		}
	}
	return otherReason
}

// add counts a refusal of what (a line number or a usage id) for err.
func (r *refusals) add(what string, err error) {
	name := reason(err)
	if r.byName == nil {
		r.byName = make(map[string]*refusal)
	}
	g, ok := r.byName[name]
	if !ok {
		g = &refusal{sample: err.Error()}
		r.byName[name] = g
		r.order = append(r.order, name)
	}
	g.count++
	r.total++
	if len(g.examples) < maxExamples {
		g.examples = append(g.examples, what)
	}
}

// write prints the refusals grouped by reason: the count, the first line
// numbers or ids, and the first error in full.
func (r *refusals) write(w io.Writer) error {
	if r.total == 0 {
		return nil
	}
	t := &table{header: []string{"refused", "reason", "first", "first error"}}
	for _, name := range r.order {
		g := r.byName[name]
		first := strings.Join(g.examples, ", ")
		if g.count > len(g.examples) {
			first += ", ..."
		}
		t.add(itoa(int64(g.count)), name, first, g.sample)
	}
	return t.writeText(w)
}

// isFatal reports whether a recording error ends an import: the context
// is done, or the Store failed (every usage of the account got it).
func isFatal(ctx context.Context, err error) bool {
	return ctx.Err() != nil || reason(err) == otherReason
}
