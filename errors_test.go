package billing_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/memstore"
)

// TestErrorCutsIDsAtRuneBoundaries checks that an error message shortens
// a long id after at most 64 bytes, between two characters, never inside
// one: the message stays valid UTF-8 and shows no byte escapes.
func TestErrorCutsIDsAtRuneBoundaries(t *testing.T) {
	tests := []struct {
		name string
		id   string
		want string // the id as the message quotes it
	}{
		{"ASCII", strings.Repeat("a", 70), `"` + strings.Repeat("a", 64) + `…"`},
		// 63 bytes of ASCII, then 日 (3 bytes: 63..65): cut before it.
		{"a 3-byte character across byte 64", strings.Repeat("a", 63) + "日本", `"` + strings.Repeat("a", 63) + `…"`},
		// 62 bytes of ASCII, then é (2 bytes: 62..63), then 日: cut after é.
		{"a 2-byte character ending at byte 64", strings.Repeat("a", 62) + "é日", `"` + strings.Repeat("a", 62) + `é…"`},
		{"64 bytes exactly", strings.Repeat("a", 61) + "日", `"` + strings.Repeat("a", 61) + `日"`},
	}
	e, err := billing.New(memstore.New(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Overview(context.Background(), tt.id)
			msg := err.Error()
			if !utf8.ValidString(msg) || strings.Contains(msg, `\x`) {
				t.Errorf("message %q is not valid UTF-8 or escapes a byte", msg)
			}
			if !strings.Contains(msg, "account "+tt.want+":") {
				t.Errorf("message %q does not quote the id as %s", msg, tt.want)
			}
		})
	}
}

// TestErrorCarriesTheCause checks that the Err of a refused usage's
// *Error is the sentinel itself, from Record and from RecordBatch.
func TestErrorCarriesTheCause(t *testing.T) {
	h := newHarness(t)
	h.do(open(at(15, 8, 0, 0), true))
	h.clock.Set(at(15, 9, 0, 0))
	future := *usage("u1", hd, 60, at(15, 10, 0, 0))
	_, err := h.e.Record(h.ctx, future)
	batch := h.e.RecordBatch(h.ctx, []billing.Usage{future, *usage("u2", hd, 60, at(15, 8, 30, 0))})
	for what, err := range map[string]error{"Record": err, "RecordBatch": batch[0].Err} {
		var be *billing.Error
		if !errors.As(err, &be) || be.Err != billing.ErrFutureUsage {
			t.Errorf("%s: error %#v, want an *Error whose Err is ErrFutureUsage", what, err)
		}
	}
	if batch[1].Err != nil {
		t.Errorf("RecordBatch: the second usage: %v, want it recorded", batch[1].Err)
	}
}
