package billing_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
)

// createApp creates application id on account "a" at now.
func (h *harness) createApp(now time.Time, id string, postpaid bool) {
	h.t.Helper()
	h.clock.Set(now)
	if _, err := h.e.CreateApp(h.ctx, "a", billing.AppSpec{ID: id, Postpaid: postpaid}); err != nil {
		h.t.Fatalf("CreateApp(%s): %v", id, err)
	}
}

// record records usage of account "a" of application app at t, with the
// clock at now (t if zero), and returns its receipt.
func (h *harness) record(id, app string, tier billing.Tier, seconds int64, t, now time.Time) billing.Receipt {
	h.t.Helper()
	if now.IsZero() {
		now = t
	}
	h.clock.Set(now)
	u := usage(id, tier, seconds, t)
	u.App = app
	r, err := h.e.Record(h.ctx, *u)
	if err != nil {
		h.t.Fatalf("Record(%s): %v", id, err)
	}
	return r
}

// admit returns the reason Admit gives for a basic session of account
// "a"'s application app at instant at (nil if admitted).
func (h *harness) admit(app string, at time.Time) error {
	h.t.Helper()
	adm, err := h.e.Admit(h.ctx, "a", app, billing.ServiceBasic, at)
	if err != nil {
		h.t.Fatalf("Admit(%s, %v): %v", app, at, err)
	}
	if adm.Admitted != (adm.Reason == nil) {
		h.t.Fatalf("Admit(%s, %v) = %+v: admitted with a reason, or refused without", app, at, adm)
	}
	return adm.Reason
}

// TestAppsOwnSwitches: on a trial-only account, app1 (postpaid off) and
// app2 (postpaid chosen at its creation) share the trial; once it is used
// up, app1's uncovered minutes are shortfall and suspend app1 alone, while
// app2 keeps running on postpaid. Minutes are rounded per account, day and
// tier, whatever the application.
func TestAppsOwnSwitches(t *testing.T) {
	h := newHarness(t)
	h.do(open(at(15, 8, 0, 0), false))
	h.createApp(at(15, 8, 0, 0), "app2", true)

	// u0: 600,000 s of SD = 10,000 minutes, the whole trial (ratio 1).
	got := []billing.Receipt{
		h.record("u0", "app1", sd, 600_000, at(15, 9, 0, 0), time.Time{}),
		// u1: 30,000 s of HD = 500 minutes, nothing covers them: app2 is postpaid.
		h.record("u1", "app2", hd, 30_000, at(15, 10, 0, 0), time.Time{}),
		// u2: 90 s of audio = 2 minutes, nothing covers them: app1 is suspended.
		h.record("u2", "app1", audio, 90, at(15, 10, 30, 0), time.Time{}),
		// u3: 90 s more of audio: the meter goes from 90 s (2 minutes) to
		// 180 s (3 minutes), 1 minute more, app2's: postpaid.
		h.record("u3", "app2", audio, 90, at(15, 11, 0, 0), time.Time{}),
	}
	want := []billing.Receipt{
		{Key: basic(march(15), sd), Minutes: 10_000, Draws: []billing.Draw{{Package: billing.TrialID, Minutes: 10_000, Deducted: 10_000}}},
		{Key: basic(march(15), hd), Minutes: 500, Postpaid: 500},
		{Key: basic(march(15), audio), Minutes: 2, Shortfall: 2, Suspended: true},
		{Key: basic(march(15), audio), Minutes: 1, Postpaid: 1},
	}
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("receipts (-want +got):\n%s", diff)
	}
	wantApps := []billing.App{
		{ID: "app1", Created: at(15, 8, 0, 0),
			Status: billing.Status{Suspended: true, Since: at(15, 10, 30, 0), Reason: billing.ReasonUncovered}},
		{ID: "app2", Created: at(15, 8, 0, 0),
			Postpaid: billing.Postpaid{On: true, Since: at(15, 8, 0, 0), Way: billing.PostpaidAtCreation}},
	}
	a := h.account("a")
	if diff := cmp.Diff(wantApps, a.Apps, cmpOpts); diff != "" {
		t.Errorf("applications (-want +got):\n%s", diff)
	}
	if a.Postpaid.On {
		t.Errorf("the account's switch is on: %+v", a.Postpaid)
	}
	if why := h.admit("app1", at(15, 12, 0, 0)); !errors.Is(why, billing.ErrSuspended) {
		t.Errorf("Admit(app1) reason %v, want ErrSuspended", why)
	}
	if why := h.admit("app2", at(15, 12, 0, 0)); why != nil {
		t.Errorf("Admit(app2) reason %v, want admitted", why)
	}

	// The bill: app2's switch is on, so the account's shortfall is billed
	// too. Audio: 1 postpaid + 2 shortfall = 3 × 0.00099 = 0.00297; SD:
	// prepaid; HD: 500 × 0.00399 = 1.995. Subtotal 1.99797, total 2.00.
	h.clock.Set(at(16, 10, 0, 0))
	bill, err := h.e.Settle(h.ctx, "a", march(15))
	if err != nil {
		t.Fatal(err)
	}
	wantBill := billing.Bill{Account: "a", Day: march(15), Through: march(15), Currency: "USD", Issued: at(16, 10, 0, 0), PostpaidOn: true,
		Lines: []billing.Line{
			{Day: march(15), Service: billing.ServiceBasic, Tier: audio, Seconds: 180, Minutes: 3, Postpaid: 1, Shortfall: 2,
				Billed: 3, UnitPrice: dec("0.00099"), Amount: dec("0.00297")},
			{Day: march(15), Service: billing.ServiceBasic, Tier: sd, Seconds: 600_000, Minutes: 10_000, Prepaid: 10_000,
				UnitPrice: dec("0.00199"), Amount: dec("0")},
			{Day: march(15), Service: billing.ServiceBasic, Tier: hd, Seconds: 30_000, Minutes: 500, Postpaid: 500,
				Billed: 500, UnitPrice: dec("0.00399"), Amount: dec("1.995")},
		},
		Subtotal: dec("1.99797"), Total: dec("2")}
	if diff := cmp.Diff(wantBill, bill, cmpOpts); diff != "" {
		t.Errorf("bill (-want +got):\n%s", diff)
	}
}

// TestAppsAutomaticSwitch: once the bought package is used up, the first
// uncovered minute, whichever application's, turns the account's switch
// on automatically, and with it every application's: those created
// before from that instant, one created later from its creation. A late
// usage that finds nothing to pay earlier moves every instant earlier,
// but never before an application's creation.
func TestAppsAutomaticSwitch(t *testing.T) {
	h := newHarness(t, noTrial())
	h.do(open(at(15, 8, 0, 0), false))
	h.createApp(at(15, 8, 0, 0), "app2", false)
	h.do(buy(at(15, 8, 10, 0), "p1", uni, 1000))
	// u0: 60,000 s of audio = 1,000 minutes: p1 is used up.
	h.record("u0", "app1", audio, 60_000, at(15, 9, 0, 0), time.Time{})
	h.createApp(at(15, 9, 30, 0), "app3", false)
	// u1, app2's: nothing covers it, the switch goes on at 10:00.
	if r := h.record("u1", "app2", audio, 60, at(15, 10, 0, 0), time.Time{}); !r.PostpaidOn || r.Postpaid != 1 {
		t.Errorf("u1 receipt %+v, want 1 minute postpaid as the switch goes on", r)
	}
	h.createApp(at(15, 11, 0, 0), "app4", false)
	on := func(since time.Time) billing.Postpaid {
		return billing.Postpaid{On: true, Since: since, Way: billing.PostpaidAutomatic}
	}
	wantApps := []billing.App{
		{ID: "app1", Created: at(15, 8, 0, 0), Postpaid: on(at(15, 10, 0, 0))},
		{ID: "app2", Created: at(15, 8, 0, 0), Postpaid: on(at(15, 10, 0, 0))},
		{ID: "app3", Created: at(15, 9, 30, 0), Postpaid: on(at(15, 10, 0, 0))},
		{ID: "app4", Created: at(15, 11, 0, 0), Postpaid: on(at(15, 11, 0, 0))},
	}
	a := h.account("a")
	if diff := cmp.Diff(wantApps, a.Apps, cmpOpts); diff != "" {
		t.Errorf("applications (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(on(at(15, 10, 0, 0)), a.Postpaid); diff != "" {
		t.Errorf("the account's switch (-want +got):\n%s", diff)
	}

	// u2, app1's, at 09:45, reported at 12:00: p1 was used up at 09:00, so
	// the switch went on at 09:45; app3 (created at 09:30) with it, app4
	// still from its creation.
	r := h.record("u2", "app1", audio, 60, at(15, 9, 45, 0), at(15, 12, 0, 0))
	if want := (billing.Receipt{Key: basic(march(15), audio), Minutes: 1, Postpaid: 1, PostpaidOn: true, Late: true}); !cmp.Equal(want, r, cmpOpts) {
		t.Errorf("u2 receipt %+v, want %+v", r, want)
	}
	wantApps[0].Postpaid, wantApps[1].Postpaid, wantApps[2].Postpaid = on(at(15, 9, 45, 0)), on(at(15, 9, 45, 0)), on(at(15, 9, 45, 0))
	a = h.account("a")
	if diff := cmp.Diff(wantApps, a.Apps, cmpOpts); diff != "" {
		t.Errorf("applications after the late usage (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(on(at(15, 9, 45, 0)), a.Postpaid); diff != "" {
		t.Errorf("the account's switch after the late usage (-want +got):\n%s", diff)
	}
}

// TestAppsEnablePostpaid: EnablePostpaid naming an application turns on
// its switch alone and lifts its suspension alone; the day's shortfall
// (the account's, whichever application's usage left it) becomes postpaid.
func TestAppsEnablePostpaid(t *testing.T) {
	h := newHarness(t)
	h.do(open(at(15, 8, 0, 0), false))
	h.createApp(at(15, 8, 0, 0), "app2", false)
	h.record("u0", "app1", sd, 600_000, at(15, 9, 0, 0), time.Time{}) // the whole trial
	h.record("u1", "app1", audio, 60, at(15, 10, 0, 0), time.Time{})  // 1 minute of shortfall: app1 suspended
	h.record("u2", "app2", audio, 60, at(15, 10, 30, 0), time.Time{}) // 120 s: 1 more: app2 suspended

	h.clock.Set(at(15, 11, 0, 0))
	a, err := h.e.EnablePostpaid(h.ctx, "a", "app2")
	if err != nil {
		t.Fatal(err)
	}
	suspended := func(since time.Time) billing.Status {
		return billing.Status{Suspended: true, Since: since, Reason: billing.ReasonUncovered}
	}
	wantApps := []billing.App{
		{ID: "app1", Created: at(15, 8, 0, 0), Status: suspended(at(15, 10, 0, 0))},
		{ID: "app2", Created: at(15, 8, 0, 0), Postpaid: billing.Postpaid{On: true, Since: at(15, 11, 0, 0), Way: billing.PostpaidEnabled},
			Suspensions: []billing.Interval{{Since: at(15, 10, 30, 0), Until: at(15, 11, 0, 0)}}, EnabledAt: at(15, 11, 0, 0)},
	}
	if diff := cmp.Diff(wantApps, a.Apps, cmpOpts); diff != "" {
		t.Errorf("applications after EnablePostpaid(app2) (-want +got):\n%s", diff)
	}
	if a.Postpaid.On || !a.EnabledAt.IsZero() {
		t.Errorf("the account's switch %+v, EnabledAt %v: want off and zero", a.Postpaid, a.EnabledAt)
	}
	// The day's 2 audio minutes of shortfall are postpaid now.
	if m := h.meter("a", basic(march(15), audio)); m.Postpaid != 2 || m.Shortfall != 0 {
		t.Errorf("audio meter %+v, want 2 postpaid and no shortfall", m)
	}
	if why := h.admit("app1", at(15, 11, 0, 0)); !errors.Is(why, billing.ErrSuspended) {
		t.Errorf("Admit(app1) reason %v, want ErrSuspended", why)
	}
	if why := h.admit("app2", at(15, 11, 0, 0)); why != nil {
		t.Errorf("Admit(app2) reason %v, want admitted", why)
	}
	// app1 is still off: 60 s more (180 s, 3 minutes) is 1 minute of shortfall.
	if r := h.record("u3", "app1", audio, 60, at(15, 11, 30, 0), time.Time{}); r.Shortfall != 1 || !r.WhileSuspended {
		t.Errorf("u3 receipt %+v, want 1 minute of shortfall while suspended", r)
	}
	// A second call for app2 changes nothing.
	h.clock.Set(at(15, 11, 45, 0))
	if again, err := h.e.EnablePostpaid(h.ctx, "a", "app2"); err != nil || again.Version != h.account("a").Version {
		t.Errorf("EnablePostpaid(app2) again = version %d, %v; want nothing written", again.Version, err)
	}
	h.clock.Set(at(15, 12, 0, 0))
	a, err = h.e.EnablePostpaid(h.ctx, "a", "app1")
	if err != nil {
		t.Fatal(err)
	}
	wantApps[0].Postpaid = billing.Postpaid{On: true, Since: at(15, 12, 0, 0), Way: billing.PostpaidEnabled}
	wantApps[0].Status, wantApps[0].EnabledAt = billing.Status{}, at(15, 12, 0, 0)
	wantApps[0].Suspensions = []billing.Interval{{Since: at(15, 10, 0, 0), Until: at(15, 12, 0, 0)}}
	if diff := cmp.Diff(wantApps, a.Apps, cmpOpts); diff != "" {
		t.Errorf("applications after EnablePostpaid(app1) (-want +got):\n%s", diff)
	}
	if m := h.meter("a", basic(march(15), audio)); m.Postpaid != 3 || m.Shortfall != 0 {
		t.Errorf("audio meter %+v, want 3 postpaid and no shortfall", m)
	}
	var got []string
	for _, en := range ledger(h, "a") {
		if en.Kind == billing.EntryPostpaidOn || en.Kind == billing.EntrySuspended || en.Kind == billing.EntryResumed {
			got = append(got, fmt.Sprintf("%s %s %s", en.At.Format("15:04"), en.Kind, en.App))
		}
	}
	wantLedger := []string{"10:00 suspended app1", "10:30 suspended app2", "11:00 postpaid-on app2", "11:00 resumed app2",
		"12:00 postpaid-on app1", "12:00 resumed app1"}
	if diff := cmp.Diff(wantLedger, got); diff != "" {
		t.Errorf("switch and status entries (-want +got):\n%s", diff)
	}
}

// TestAppsDisabled: usage of a disabled application is recorded and
// billed, flagged, also when reported late; Admit refuses its sessions for
// the instants it was disabled.
func TestAppsDisabled(t *testing.T) {
	h := newHarness(t)
	h.do(open(at(15, 8, 0, 0), true))
	h.clock.Set(at(15, 12, 0, 0))
	if _, err := h.e.DisableApp(h.ctx, "a", "app1"); err != nil {
		t.Fatal(err)
	}
	h.clock.Set(at(15, 12, 10, 0))
	if _, err := h.e.DisableApp(h.ctx, "a", "app1"); err != nil { // again: nothing changes
		t.Fatal(err)
	}
	r1 := h.record("u1", "app1", audio, 60, at(15, 12, 30, 0), time.Time{})
	h.clock.Set(at(15, 13, 0, 0))
	a, err := h.e.EnableApp(h.ctx, "a", "app1")
	if err != nil {
		t.Fatal(err)
	}
	r2 := h.record("u2", "app1", audio, 60, at(15, 13, 30, 0), time.Time{})
	r3 := h.record("u3", "app1", audio, 60, at(15, 12, 45, 0), at(15, 14, 0, 0)) // late, while it was disabled
	// The trial covers every minute; the flag is the only difference.
	trial := []billing.Draw{{Package: billing.TrialID, Minutes: 1, Deducted: 1}}
	want := []billing.Receipt{
		{Key: basic(march(15), audio), Minutes: 1, Draws: trial, AppDisabled: true},
		{Key: basic(march(15), audio), Minutes: 1, Draws: trial},
		{Key: basic(march(15), audio), Minutes: 1, Draws: trial, AppDisabled: true, Late: true},
	}
	if diff := cmp.Diff(want, []billing.Receipt{r1, r2, r3}, cmpOpts); diff != "" {
		t.Errorf("receipts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]billing.Interval{{Since: at(15, 12, 0, 0), Until: at(15, 13, 0, 0)}}, a.Apps[0].Disabled); diff != "" {
		t.Errorf("Disabled (-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		at   time.Time
		want error
	}{
		{at(15, 11, 59, 59), nil},
		{at(15, 12, 0, 0), billing.ErrAppDisabled},
		{at(15, 12, 59, 59), billing.ErrAppDisabled},
		{at(15, 13, 0, 0), nil},
	} {
		if why := h.admit("app1", tt.at); !errors.Is(why, tt.want) || (tt.want == nil) != (why == nil) {
			t.Errorf("Admit(%v) reason %v, want %v", tt.at, why, tt.want)
		}
	}
	var got []string
	for _, en := range ledger(h, "a") {
		if en.Kind == billing.EntryAppDisabled || en.Kind == billing.EntryAppEnabled {
			got = append(got, fmt.Sprintf("%s %s %s %s", en.At.Format("15:04"), en.Kind, en.Request, en.App))
		}
	}
	if diff := cmp.Diff([]string{"12:00 app-disabled disable-app app1", "13:00 app-enabled enable-app app1"}, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}

// TestAppsInput: what the application calls refuse, and usage naming an
// application that does not exist (or not yet): nothing is recorded.
func TestAppsInput(t *testing.T) {
	h := newHarness(t)
	h.do(open(at(15, 8, 0, 0), false))
	h.createApp(at(15, 10, 0, 0), "app2", true)
	h.clock.Set(at(15, 11, 0, 0))
	for _, tt := range []struct {
		name string
		do   func() error
		want error
	}{
		{"usage of an unknown application", func() error {
			u := usage("x1", audio, 60, at(15, 10, 30, 0))
			u.App = "nope"
			_, err := h.e.Record(h.ctx, *u)
			return err
		}, billing.ErrUnknownApp},
		{"usage before its application's creation", func() error {
			u := usage("x2", audio, 60, at(15, 9, 59, 59))
			u.App = "app2"
			_, err := h.e.Record(h.ctx, *u)
			return err
		}, billing.ErrBeforeOpened},
		{"creating it again with another choice", func() error {
			_, err := h.e.CreateApp(h.ctx, "a", billing.AppSpec{ID: "app2"})
			return err
		}, billing.ErrIdempotencyConflict},
		{"an invalid application id", func() error {
			_, err := h.e.CreateApp(h.ctx, "a", billing.AppSpec{ID: "bad\x00id"})
			return err
		}, billing.ErrInvalidID},
		{"an application of no account", func() error {
			_, err := h.e.CreateApp(h.ctx, "nobody", billing.AppSpec{ID: "app3"})
			return err
		}, billing.ErrNotFound},
		{"enabling postpaid on an unknown application", func() error {
			_, err := h.e.EnablePostpaid(h.ctx, "a", "nope")
			return err
		}, billing.ErrUnknownApp},
		{"disabling an unknown application", func() error {
			_, err := h.e.DisableApp(h.ctx, "a", "nope")
			return err
		}, billing.ErrUnknownApp},
		{"admitting an unknown application", func() error {
			_, err := h.e.Admit(h.ctx, "a", "nope", "", at(15, 10, 30, 0))
			return err
		}, billing.ErrUnknownApp},
		{"admitting before the application's creation", func() error {
			_, err := h.e.Admit(h.ctx, "a", "app2", "", at(15, 9, 0, 0))
			return err
		}, billing.ErrBeforeOpened},
	} {
		if err := tt.do(); !errors.Is(err, tt.want) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.want)
		}
	}
	if us, err := h.e.Usages(h.ctx, "a", time.Time{}, time.Time{}); err != nil || len(us) != 0 {
		t.Errorf("Usages = %v, %v; want none recorded", us, err)
	}
	if a, err := h.e.CreateApp(h.ctx, "a", billing.AppSpec{ID: "app2", Postpaid: true}); err != nil || len(a.Apps) != 2 {
		t.Errorf("CreateApp(app2, same spec) = %+v, %v; want the account unchanged", a.Apps, err)
	}
	for i := 3; i <= billing.MaxApps; i++ {
		h.createApp(at(15, 11, 0, 0), fmt.Sprintf("app%d", i), false)
	}
	if _, err := h.e.CreateApp(h.ctx, "a", billing.AppSpec{ID: "one-too-many"}); !errors.Is(err, billing.ErrTooManyApps) {
		t.Errorf("CreateApp(app %d) error %v, want ErrTooManyApps", billing.MaxApps+1, err)
	}
}

// TestLegacyApp: an account recorded before applications, migrated to one
// application LegacyApp holding its switch and status, keeps billing usage
// of any application id as before; an application created later takes the
// usage naming it from its creation.
func TestLegacyApp(t *testing.T) {
	h := newHarness(t)
	h.do(op{now: at(15, 8, 0, 0), open: &billing.AccountSpec{ID: "a", App: "x"}}) // its trial, as accounts had then
	// What a Store's migration leaves: the legacy application, created at
	// the opening, in the place of "x".
	err := h.store.Update(context.Background(), "a", func(r billing.Reader) (billing.Changes, error) {
		a, err := r.Account()
		a.Version++
		a.Apps = []billing.App{{ID: billing.LegacyApp, Created: a.Opened}}
		return billing.Changes{Account: &a}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	h.record("u0", "1400000001", sd, 600_000, at(15, 9, 0, 0), time.Time{}) // the whole trial
	// An application never created, and one created at 10:00 used before it:
	// both the legacy application's, which the first suspends.
	if r := h.record("u1", "1400000002", audio, 60, at(15, 9, 30, 0), time.Time{}); !r.Suspended {
		t.Errorf("u1 receipt %+v, want the legacy application suspended", r)
	}
	h.createApp(at(15, 10, 0, 0), "app2", true)
	if r := h.record("u2", "app2", audio, 60, at(15, 9, 45, 0), at(15, 10, 30, 0)); r.Shortfall != 1 || !r.WhileSuspended {
		t.Errorf("u2 receipt %+v, want 1 minute of the legacy application's shortfall", r)
	}
	// From its creation, app2's own: postpaid.
	if r := h.record("u3", "app2", audio, 60, at(15, 11, 0, 0), time.Time{}); r.Postpaid != 1 || r.WhileSuspended {
		t.Errorf("u3 receipt %+v, want 1 minute postpaid", r)
	}
	if why := h.admit("anything", at(15, 12, 0, 0)); !errors.Is(why, billing.ErrSuspended) {
		t.Errorf("Admit(legacy) reason %v, want ErrSuspended", why)
	}
	if why := h.admit("app2", at(15, 12, 0, 0)); why != nil {
		t.Errorf("Admit(app2) reason %v, want admitted", why)
	}
	want := []billing.App{
		{ID: billing.LegacyApp, Created: at(15, 8, 0, 0),
			Status: billing.Status{Suspended: true, Since: at(15, 9, 30, 0), Reason: billing.ReasonUncovered}},
		{ID: "app2", Created: at(15, 10, 0, 0), Postpaid: billing.Postpaid{On: true, Since: at(15, 10, 0, 0), Way: billing.PostpaidAtCreation}},
	}
	if diff := cmp.Diff(want, h.account("a").Apps, cmpOpts); diff != "" {
		t.Errorf("applications (-want +got):\n%s", diff)
	}
	// The legacy application is not one of the MaxApps: app2 and 99 more.
	for i := 3; i <= billing.MaxApps+1; i++ {
		h.createApp(at(15, 12, 0, 0), fmt.Sprintf("app%d", i), false)
	}
	if _, err := h.e.CreateApp(h.ctx, "a", billing.AppSpec{ID: "one-too-many"}); !errors.Is(err, billing.ErrTooManyApps) {
		t.Errorf("CreateApp(one more than MaxApps) error %v, want ErrTooManyApps", err)
	}
}

// TestAppsPurchaseResumesAll: a package belongs to the account, so buying
// one lifts the suspension of every application, each from the purchase.
func TestAppsPurchaseResumesAll(t *testing.T) {
	h := newHarness(t)
	h.do(open(at(15, 8, 0, 0), false))
	h.createApp(at(15, 8, 0, 0), "app2", false)
	h.createApp(at(15, 8, 0, 0), "app3", false)
	h.record("u0", "app1", sd, 600_000, at(15, 9, 0, 0), time.Time{}) // the whole trial
	h.record("u1", "app1", audio, 60, at(15, 10, 0, 0), time.Time{})  // app1 suspended
	h.record("u2", "app2", audio, 60, at(15, 10, 30, 0), time.Time{}) // app2 suspended
	h.clock.Set(at(15, 11, 0, 0))
	r, err := h.e.Buy(h.ctx, billing.Purchase{ID: "p1", Account: "a", Kind: uni, Minutes: 25_000})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Resumed {
		t.Errorf("purchase receipt %+v, want Resumed", r)
	}
	// The universal package absorbs the day's 2 audio minutes of shortfall
	// (ratio 1), and arms the automatic switch; app3 was never suspended.
	wantApps := []billing.App{
		{ID: "app1", Created: at(15, 8, 0, 0), Suspensions: []billing.Interval{{Since: at(15, 10, 0, 0), Until: at(15, 11, 0, 0)}}},
		{ID: "app2", Created: at(15, 8, 0, 0), Suspensions: []billing.Interval{{Since: at(15, 10, 30, 0), Until: at(15, 11, 0, 0)}}},
		{ID: "app3", Created: at(15, 8, 0, 0)},
	}
	if diff := cmp.Diff(wantApps, h.account("a").Apps, cmpOpts); diff != "" {
		t.Errorf("applications (-want +got):\n%s", diff)
	}
	if m := h.meter("a", basic(march(15), audio)); m.Prepaid != 2 || m.Shortfall != 0 {
		t.Errorf("audio meter %+v, want the 2 minutes prepaid", m)
	}
}

// TestAppsAutomaticSwitchAfterReplay: every application's own switch is
// on and the account's is off but armed. A late usage that adds no minute
// replays the operations after it, among them the one whose minute turned
// the account's switch on automatically; a replay that stopped early, as
// if every later minute were paid the same way, would lose that switch
// (and app2, created later, would stay off). Checkpoints after every
// operation, so that the replay could stop at one.
func TestAppsAutomaticSwitchAfterReplay(t *testing.T) {
	for _, late := range []bool{false, true} {
		t.Run(fmt.Sprintf("u2 late %v", late), func(t *testing.T) {
			h := newHarness(t, noTrial())
			billing.SetCheckpointEvery(h.e, 1)
			h.do(open(at(15, 8, 0, 0), false))
			h.clock.Set(at(15, 8, 30, 0))
			if _, err := h.e.EnablePostpaid(h.ctx, "a", "app1"); err != nil {
				t.Fatal(err)
			}
			h.do(buy(at(15, 9, 0, 0), "p1", uni, 1000))
			// u1: 59,970 s, ceil = 1,000 minutes: p1 is used up, nothing uncovered.
			h.record("u1", "app1", audio, 59_970, at(15, 10, 0, 0), time.Time{})
			if !late {
				h.record("u2", "app1", audio, 20, at(15, 11, 0, 0), time.Time{}) // 59,990 s: still 1,000
			}
			// u3: 60,010 s, 1,001 minutes: the first uncovered minute, at 12:00.
			h.record("u3", "app1", audio, 20, at(15, 12, 0, 0), time.Time{})
			h.record("u4", "app1", audio, 1, at(15, 12, 30, 0), time.Time{}) // 60,011 s: still 1,001
			if late {
				h.record("u2", "app1", audio, 20, at(15, 11, 0, 0), at(15, 13, 0, 0))
			}
			h.createApp(at(15, 14, 0, 0), "app2", false)
			a := h.account("a")
			auto := func(since time.Time) billing.Postpaid {
				return billing.Postpaid{On: true, Since: since, Way: billing.PostpaidAutomatic}
			}
			want := []billing.Postpaid{auto(at(15, 12, 0, 0)),
				{On: true, Since: at(15, 8, 30, 0), Way: billing.PostpaidEnabled}, auto(at(15, 14, 0, 0))}
			got := []billing.Postpaid{a.Postpaid, a.Apps[0].Postpaid, a.Apps[1].Postpaid}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("switches of the account, app1 and app2 (-want +got):\n%s", diff)
			}
			if m := h.meter("a", basic(march(15), audio)); m.Seconds != 60_011 || m.Prepaid != 1000 || m.Postpaid != 1 {
				t.Errorf("audio meter %+v, want 60,011 s: 1,000 minutes prepaid, 1 postpaid", m)
			}
		})
	}
}
