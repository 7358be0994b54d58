package billingtest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/rtcbill/billing/billingtest"
)

func TestClock(t *testing.T) {
	t0 := time.Date(2021, 3, 15, 9, 0, 0, 0, time.UTC)
	c := billingtest.NewClock(t0)
	if got := c.Now(); !got.Equal(t0) {
		t.Fatalf("Now = %v, want %v", got, t0)
	}
	// 09:00 + 90 min = 10:30.
	if got, want := c.Advance(90*time.Minute), t0.Add(90*time.Minute); !got.Equal(want) || !c.Now().Equal(want) {
		t.Fatalf("Advance(90m) = %v, Now %v, want %v", got, c.Now(), want)
	}
	c.Set(t0)
	if got := c.Now(); !got.Equal(t0) {
		t.Fatalf("after Set: Now = %v, want %v", got, t0)
	}
	// 100 goroutines advancing 1 s each: 100 s in all.
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Advance(time.Second)
			c.Now()
		}()
	}
	wg.Wait()
	if got, want := c.Now(), t0.Add(100*time.Second); !got.Equal(want) {
		t.Fatalf("after 100 concurrent Advance(1s): %v, want %v", got, want)
	}
}
