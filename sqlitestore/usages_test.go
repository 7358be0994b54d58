package sqlitestore_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
)

// TestUsageRecords writes usage records with every field set (bytes that
// are not UTF-8 too, every flag, several draws) and with none but the
// keys, and reads them back whole, by id and by period: the fields that
// are not columns of their own are one BLOB per row (see encodeUsage).
func TestUsageRecords(t *testing.T) {
	at := time.Date(2026, 12, 7, 5, 0, 0, 1, time.UTC)
	full := billing.UsageRecord{
		Usage: billing.Usage{ID: "u\xff1", Account: "a", App: "app\xfe", Service: billing.ServiceRecording, Scenario: "sc\xff",
			Tier: billing.TierHD, Seconds: 3601, At: at},
		Receipt: billing.Receipt{Key: billing.MeterKey{Day: 20794, Service: billing.ServiceRecording, Tier: billing.TierHD, App: "app\xfe"},
			Minutes: 61, Draws: []billing.Draw{{Package: "p\xff1", Minutes: 40, Deducted: 80}, {Package: "p2", Minutes: 1, Deducted: 2}},
			Postpaid: 15, Shortfall: 5, // 40 + 1 + 15 + 5 = 61
			PostpaidOn: true, Suspended: true, WhileSuspended: true, Late: true, AppDisabled: true, NoBasicService: true, InArrears: true},
	}
	bare := billing.UsageRecord{Usage: billing.Usage{ID: "u2", Account: "a", At: at.Add(-time.Hour)}} // no draws: nil
	s := open(t, nil)
	create(t, s, "a")
	err := s.Update(ctx, "a", func(r billing.Reader) (billing.Changes, error) {
		c, err := next(r)
		c.Usages = []billing.UsageRecord{full, bare}
		return c, err
	})
	if err != nil {
		t.Fatal(err)
	}
	var byID, byPeriod []billing.UsageRecord
	err = s.View(ctx, "a", func(r billing.Reader) error {
		for _, id := range []string{full.Usage.ID, bare.Usage.ID} {
			u, err := r.Usage(id)
			if err != nil {
				return err
			}
			byID = append(byID, u)
		}
		return r.Usages(time.Time{}, time.Time{}, func(u billing.UsageRecord) bool { byPeriod = append(byPeriod, u); return true })
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]billing.UsageRecord{full, bare}, byID); diff != "" {
		t.Errorf("Usage by id (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]billing.UsageRecord{bare, full}, byPeriod); diff != "" { // bare is an hour earlier
		t.Errorf("Usages in time order (-want +got):\n%s", diff)
	}
}

// TestUsageStatements writes units of work of n usages, for sizes about
// those of the multi-row INSERTs (64, 8 and 1 rows a statement), and reads
// every usage back in time order; a unit whose last usage repeats an id
// already stored writes nothing and fails with ErrExists.
func TestUsageStatements(t *testing.T) {
	at := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	for _, n := range []int{1, 7, 8, 9, 63, 64, 65, 72, 73, 128, 137, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s := open(t, nil)
			create(t, s, "a")
			usages := func(first, n int) []billing.UsageRecord {
				us := make([]billing.UsageRecord, n)
				for i := range us {
					us[i].Usage = billing.Usage{ID: fmt.Sprintf("u%04d", first+i), Account: "a", Seconds: int64(first + i),
						At: at.Add(time.Duration(first+i) * time.Second)}
				}
				return us
			}
			write := func(us []billing.UsageRecord) error {
				return s.Update(ctx, "a", func(r billing.Reader) (billing.Changes, error) {
					c, err := next(r)
					c.Usages = us
					return c, err
				})
			}
			want := usages(0, n)
			if err := write(want); err != nil {
				t.Fatal(err)
			}
			again := usages(n, n)
			again[n-1] = want[0]
			if err := write(again); !errors.Is(err, billing.ErrExists) {
				t.Errorf("a unit of work repeating usage %q: %v, want ErrExists", want[0].Usage.ID, err)
			}
			var got []billing.UsageRecord
			err := s.View(ctx, "a", func(r billing.Reader) error {
				return r.Usages(time.Time{}, time.Time{}, func(u billing.UsageRecord) bool { got = append(got, u); return true })
			})
			if diff := cmp.Diff(want, got); err != nil || diff != "" {
				t.Errorf("Usages: %v (-want +got):\n%s", err, diff)
			}
			if v := version(t, s, "a"); v != 2 {
				t.Errorf("version %d, want 2: the refused unit of work wrote the account", v)
			}
		})
	}
}
