package billing_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
)

// TestUsages records three usages out of the order of their times and
// lists them in the reference order (time, then id), each with the receipt
// it got when it was recorded.
func TestUsages(t *testing.T) {
	h := newHarness(t)
	h.do(open(at(15, 8, 0, 0), true))
	h.clock.Set(at(15, 11, 0, 0))
	u2, u1, u0 := usage("u2", hd, 61, at(15, 10, 0, 0)), usage("u1", hd, 30, at(15, 9, 0, 0)), usage("u0", audio, 60, at(15, 9, 0, 0))
	for _, u := range []*billing.Usage{u2, u1, u0} {
		if _, err := h.e.Record(h.ctx, *u); err != nil {
			t.Fatal(err)
		}
	}
	// Each receipt is what the usage got at its place in the reference
	// order when it was recorded. u2 first: HD ceil(61/60) = 2 minutes
	// from the trial (ratio 1). Then u1, late, before u2: ceil(30/60) = 1
	// HD minute (and u2's minutes become ceil(91/60) − 1 = 1). Then u0,
	// late, before u1: 1 audio minute.
	r2 := billing.UsageRecord{Usage: *u2, Receipt: billing.Receipt{Key: basic(march(15), hd), Minutes: 2,
		Draws: []billing.Draw{{Package: billing.TrialID, Minutes: 2, Deducted: 2}}}}
	r1 := billing.UsageRecord{Usage: *u1, Receipt: billing.Receipt{Key: basic(march(15), hd), Minutes: 1, Late: true,
		Draws: []billing.Draw{{Package: billing.TrialID, Minutes: 1, Deducted: 1}}}}
	r0 := billing.UsageRecord{Usage: *u0, Receipt: billing.Receipt{Key: basic(march(15), audio), Minutes: 1, Late: true,
		Draws: []billing.Draw{{Package: billing.TrialID, Minutes: 1, Deducted: 1}}}}
	// Recorded usage names its service: "" is basic.
	r0.Usage.Service, r1.Usage.Service, r2.Usage.Service = billing.ServiceBasic, billing.ServiceBasic, billing.ServiceBasic
	tests := []struct {
		from, to time.Time
		want     []billing.UsageRecord
	}{
		{time.Time{}, time.Time{}, []billing.UsageRecord{r0, r1, r2}}, // 09:00 u0, 09:00 u1, 10:00 u2
		{at(15, 9, 30, 0), time.Time{}, []billing.UsageRecord{r2}},
		{at(15, 9, 0, 0), at(15, 10, 0, 0), []billing.UsageRecord{r0, r1}},
	}
	for _, tt := range tests {
		got, err := h.e.Usages(h.ctx, "a", tt.from, tt.to)
		if diff := cmp.Diff(tt.want, got, cmpOpts, cmp.Comparer(func(x, y time.Time) bool { return x.Equal(y) })); err != nil || diff != "" {
			t.Errorf("Usages(%v, %v) error %v (-want +got):\n%s", tt.from, tt.to, err, diff)
		}
	}
}
