package billing_test

import (
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
)

// TestReplayStops checks the replays that stop at a checkpoint once the
// rest is a shift of the late usage's meter (converge in the package), and
// those that must not: each case records its usages in the order given
// (the last one late), with a checkpoint before every operation, on the
// 500-minute trial (1:1 for every tier) unless it says otherwise. The
// wanted figures are those of the usages applied in order of time.
func TestReplayStops(t *testing.T) {
	type want struct {
		Meters    map[billing.Day][]billing.Meter
		Balance   int64 // the trial's
		Mini      int64 // P1's, if bought
		Suspended time.Time
		Stops     int64
	}
	key := func(d int, tier billing.Tier) billing.MeterKey {
		return billing.MeterKey{Day: march(d), Service: billing.ServiceBasic, Tier: tier}
	}
	sd15, hd15, hd16, hd17 := key(15, sd), key(15, hd), key(16, hd), key(17, hd)
	audio30, sd31, hd31, hd32 := key(30, audio), key(31, sd), key(31, hd), key(32, hd)
	cases := []struct {
		name     string
		postpaid bool // at opening, on the book without a trial
		// postpaidTrial: postpaid at opening, with the trial
		postpaidTrial bool
		// mini: a "mini" package P1 of 100 minutes bought on March 1
		mini   bool
		usages []op
		want   want
	}{{
		// In order: u1 30 s (1 minute), L 50 s (80 s: 2 minutes), u2 20 s
		// (100 s: 2), u3 1 HD minute: 3 minutes of the trial, 497 left.
		// The replay stops at u2: the stored state there has 30 s and 1
		// minute, the replay's 80 s and 2, and the trial pays the rest.
		name: "stops where the trial pays the rest",
		usages: []op{use("u1", sd, 30, at(15, 10, 0, 0)), use("u2", sd, 20, at(15, 10, 30, 0)),
			use("u3", hd, 60, at(15, 10, 40, 0)), late("L", sd, 50, at(15, 10, 5, 0), at(15, 11, 0, 0))},
		want: want{Meters: map[billing.Day][]billing.Meter{march(15): {
			{Key: sd15, Seconds: 100, Prepaid: 2}, {Key: hd15, Seconds: 60, Prepaid: 1}}}, Balance: 497, Stops: 1},
	}, {
		// The same, postpaid: every minute postpaid, 2 SD and 1 HD.
		name: "stops where postpaid pays the rest", postpaid: true,
		usages: []op{use("u1", sd, 30, at(15, 10, 0, 0)), use("u2", sd, 20, at(15, 10, 30, 0)),
			use("u3", hd, 60, at(15, 10, 40, 0)), late("L", sd, 50, at(15, 10, 5, 0), at(15, 11, 0, 0))},
		want: want{Meters: map[billing.Day][]billing.Meter{march(15): {
			{Key: sd15, Seconds: 100, Postpaid: 2}, {Key: hd15, Seconds: 60, Postpaid: 1}}}, Stops: 1},
	}, {
		// L (23:50, 40 s) brings the 15th's SD to 70 s, 2 minutes; the
		// replay stops at the 16th's first usage, where only the trial
		// differs (by 1), and lowers it by 1 from there: 500 - 2 - 2 = 496.
		name: "stops on the next day",
		usages: []op{use("u1", sd, 30, at(15, 23, 40, 0)), use("u2", hd, 60, at(16, 0, 10, 0)),
			use("u3", hd, 60, at(16, 0, 20, 0)), late("L", sd, 40, at(15, 23, 50, 0), at(16, 1, 0, 0))},
		want: want{Meters: map[billing.Day][]billing.Meter{
			march(15): {{Key: sd15, Seconds: 70, Prepaid: 2}},
			march(16): {{Key: hd16, Seconds: 120, Prepaid: 2}}}, Balance: 496, Stops: 1},
	}, {
		// In order: u1 1 minute (499 left), L 30 s (60 s, no new minute),
		// B 498 HD minutes (1 left), u2 20 s (80 s: the 2nd minute takes
		// the last), h 1 HD minute: shortfall, suspended at 10:40. Stored,
		// u2 added no minute and h took the last: no shift of the SD meter
		// gets this, as the trial cannot pay the minute the shift adds.
		name: "the shift's minute finds the trial empty",
		usages: []op{use("u1", sd, 30, at(15, 10, 0, 0)), use("B", hd, 498*60, at(15, 10, 20, 0)),
			use("u2", sd, 20, at(15, 10, 30, 0)), use("h", hd, 60, at(15, 10, 40, 0)),
			late("L", sd, 30, at(15, 10, 5, 0), at(15, 11, 0, 0))},
		want: want{Meters: map[billing.Day][]billing.Meter{march(15): {
			{Key: sd15, Seconds: 80, Prepaid: 2}, {Key: hd15, Seconds: 499 * 60, Prepaid: 498, Shortfall: 1}}},
			Suspended: at(15, 10, 40, 0)},
	}, {
		// In order: u1 1 minute, L 30 s (60 s), B 499 HD minutes (the
		// trial empty), u2 20 s (80 s: a 2nd minute, shortfall: suspended
		// at 10:30). Stored, nothing was uncovered: the shift's minute
		// suspends the account, which no shift can say.
		name: "the shift's minute suspends",
		usages: []op{use("u1", sd, 30, at(15, 10, 0, 0)), use("B", hd, 499*60, at(15, 10, 20, 0)),
			use("u2", sd, 20, at(15, 10, 30, 0)), late("L", sd, 30, at(15, 10, 5, 0), at(15, 11, 0, 0))},
		want: want{Meters: map[billing.Day][]billing.Meter{march(15): {
			{Key: sd15, Seconds: 80, Prepaid: 1, Shortfall: 1}, {Key: hd15, Seconds: 499 * 60, Prepaid: 499}}},
			Suspended: at(15, 10, 30, 0)},
	}, {
		// In order: B takes 499 minutes of the trial, L (the 15th, SD)
		// the last one, u (the 16th) and v (the 17th) are postpaid. Stored,
		// u took the last minute: at v the trial is empty in both, but u's
		// meter differs, so the replay runs on.
		name: "a later day's draw changes", postpaidTrial: true,
		usages: []op{use("B", hd, 499*60, at(15, 10, 0, 0)), use("u", hd, 60, at(16, 10, 0, 0)),
			use("v", hd, 60, at(17, 10, 0, 0)), late("L", sd, 30, at(15, 11, 0, 0), at(17, 11, 0, 0))},
		want: want{Meters: map[billing.Day][]billing.Meter{
			march(15): {{Key: sd15, Seconds: 30, Prepaid: 1}, {Key: hd15, Seconds: 499 * 60, Prepaid: 499}},
			march(16): {{Key: hd16, Seconds: 60, Postpaid: 1}},
			march(17): {{Key: hd17, Seconds: 60, Postpaid: 1}}}},
	}, {
		// The 15th settled with u1 (30 s, 1 minute), L (the 15th, 40 s)
		// arrives on the 16th: 70 s, 2 minutes, the 2nd from the trial.
		// It is applied at the start of the 16th; the replay stops at
		// b's checkpoint, where only the trial differs, by 1: 500 - 1 -
		// 1 - 2 = 496.
		name: "stops after a usage of a settled day",
		usages: []op{use("u1", sd, 30, at(15, 10, 0, 0)), {now: at(16, 10, 0, 0), settle: march(15)},
			use("a", hd, 60, at(16, 11, 0, 0)), use("b", hd, 60, at(16, 11, 10, 0)),
			late("L", sd, 40, at(15, 12, 0, 0), at(16, 12, 0, 0))},
		want: want{Meters: map[billing.Day][]billing.Meter{
			march(15): {{Key: sd15, Seconds: 70, Prepaid: 2, Settled: billing.Tally{Seconds: 30, Prepaid: 1}}},
			march(16): {{Key: hd16, Seconds: 120, Prepaid: 2}}}, Balance: 496, Stops: 1},
	}, {
		// P1 (mini: SD 3, HD 5 package minutes a minute) ends at the
		// start of April 1. In order: "drain" leaves P1 5, L (March 31,
		// SD) takes 3 (2 left), U (HD) cannot (2 < 5): the trial pays it,
		// and V (April 1) too: 498 left. Stored, U took P1's last 5; at
		// V's checkpoint only the trial differs (by U's minute, as much as
		// L's would have taken), and P1, valid no more, is not listed
		// there: the replay must see that P1 differs, and run on.
		name: "a package that ended before the checkpoint differs", mini: true,
		usages: []op{use("drain", audio, 95*60, at(30, 10, 0, 0)), use("U", hd, 60, at(31, 11, 0, 0)),
			use("V", hd, 60, at(32, 1, 0, 0)), late("L", sd, 60, at(31, 10, 0, 0), at(32, 2, 0, 0))},
		want: want{Meters: map[billing.Day][]billing.Meter{
			march(30): {{Key: audio30, Seconds: 95 * 60, Prepaid: 95}},
			march(31): {{Key: sd31, Seconds: 60, Prepaid: 1}, {Key: hd31, Seconds: 60, Prepaid: 1}},
			march(32): {{Key: hd32, Seconds: 60, Prepaid: 1}}}, Balance: 498, Mini: 2},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, orderBook())
			if c.postpaid {
				h = newHarness(t, noTrial())
			}
			billing.SetCheckpointEvery(h.e, 1)
			h.do(open(at(1, 8, 0, 0), c.postpaid || c.postpaidTrial))
			if c.mini {
				h.do(buy(at(1, 9, 0, 0), "P1", refCustomKind, 100))
			}
			h.do(c.usages...)
			s := h.state("a", march(15), march(16), march(17), march(30), march(31), march(32))
			got := want{Meters: map[billing.Day][]billing.Meter{}, Balance: h.balances("a")[billing.TrialID], Mini: h.balances("a")["P1"],
				Suspended: s.Overview.Account.Apps[0].Status.Since, Stops: billing.Stops(h.e)}
			for d, ms := range s.Meters {
				if len(ms) > 0 {
					got.Meters[d] = ms
				}
			}
			if diff := gocmp.Diff(c.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// late is a use op whose usage at t arrives at arrives.
func late(id string, tier billing.Tier, seconds int64, t, arrives time.Time) op {
	return op{now: arrives, use: usage(id, tier, seconds, t)}
}
