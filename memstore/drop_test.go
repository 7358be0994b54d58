package memstore

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/rtcbill/billing"
)

// TestUnknownAccountsLeaveNothing checks that units of work and views on ids
// that never become accounts (usage for an unknown account) do not grow the
// store.
func TestUnknownAccountsLeaveNothing(t *testing.T) {
	s := New()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				id := fmt.Sprintf("nobody-%d", i%10)
				_ = s.Update(context.Background(), id, func(r billing.Reader) (billing.Changes, error) {
					_, err := r.Account()
					return billing.Changes{}, err
				})
				_ = s.View(context.Background(), fmt.Sprintf("viewer-%d-%d", g, i), func(billing.Reader) error { return nil })
			}
		}()
	}
	wg.Wait()
	n := 0
	s.accounts.Range(func(any, any) bool { n++; return true })
	if n != 0 {
		t.Errorf("the store holds %d entries for accounts that do not exist", n)
	}
}
