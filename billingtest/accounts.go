package billingtest

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
)

// testAccountsListed checks billing.AccountLister, for a Store that
// implements it: ids in byte order, after the given one, pages of limit,
// only accounts that exist (an Update whose fn fails creates none), and
// cancellation.
func testAccountsListed(t *testing.T, newStore NewStore) {
	s := newStore(t)
	l, ok := s.(billing.AccountLister)
	if !ok {
		t.Skip("the Store does not implement billing.AccountLister")
	}
	// Created out of order; "B" < "a" < "a!" < "ab" < "é" in bytes.
	ids := []string{"ab", "é", "a", "B", "a!"}
	for _, id := range ids {
		create(t, s, id)
	}
	if err := s.Update(ctx, "never", func(billing.Reader) (billing.Changes, error) {
		return billing.Changes{}, errors.New("no")
	}); err == nil {
		t.Fatal("an Update whose fn failed returned nil")
	}
	want := []string{"B", "a", "a!", "ab", "é"}
	for _, tt := range []struct {
		after string
		limit int
		want  []string
	}{
		{"", 10, want},
		{"", 2, want[:2]},
		{"a", 2, want[2:4]},
		{"a!", 10, want[3:]},
		{"aa", 10, want[3:]}, // not an account: the ids after it
		{"é", 10, nil},
		{"\U0010FFFF", 1, nil}, // the greatest code point
		{"a", math.MaxInt, want[2:]},
	} {
		got, err := l.Accounts(ctx, tt.after, tt.limit)
		if err != nil {
			t.Fatalf("Accounts(%q, %d): %v", tt.after, tt.limit, err)
		}
		if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b []string) bool { return slices.Equal(a, b) })); diff != "" {
			t.Errorf("Accounts(%q, %d) (-want +got):\n%s", tt.after, tt.limit, diff)
		}
	}
	// Paging through all of them one by one, as Engine.SettleDue does.
	var all []string
	for after := ""; len(all) <= len(want); { // a page that repeats an id would loop for ever
		page, err := l.Accounts(ctx, after, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		all, after = append(all, page...), page[len(page)-1]
	}
	if !slices.Equal(all, want) {
		t.Errorf("paged one by one: %q, want %q", all, want)
	}
	if _, err := l.Accounts(ctx, "", 0); err == nil {
		t.Error("Accounts with limit 0 returned no error")
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.Accounts(done, "", 10); !errors.Is(err, context.Canceled) {
		t.Errorf("Accounts with a cancelled context: %v, want an error wrapping %v", err, context.Canceled)
	}
}
