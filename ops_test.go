package billing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/memstore"
)

// plainStore hides the AccountLister of the Store it wraps, and can make
// Update fail: for one account (failFor), or with ErrConflict before it runs
// the first n units of work (conflicts).
type plainStore struct {
	billing.Store
	failFor   string
	conflicts atomic.Int32
}

func (s *plainStore) Update(ctx context.Context, id string, fn func(billing.Reader) (billing.Changes, error)) error {
	if id == s.failFor {
		return errInjected
	}
	if s.conflicts.Add(-1) >= 0 {
		return billing.ErrConflict
	}
	return s.Store.Update(ctx, id, fn)
}

// listing is plainStore with the AccountLister of the memstore it wraps.
type listing struct {
	*plainStore
	m *memstore.Store
}

func (s listing) Accounts(ctx context.Context, after string, limit int) ([]string, error) {
	return s.m.Accounts(ctx, after, limit)
}

// onePerPage is a memstore whose pages of accounts hold one id at most.
type onePerPage struct{ *memstore.Store }

func (s onePerPage) Accounts(ctx context.Context, after string, limit int) ([]string, error) {
	return s.Store.Accounts(ctx, after, 1)
}

// settleFixture opens accounts a, b and c (no trial, postpaid on) on
// 2021-03-01 and records HD video calls: a 125 s on 03-01 and 600 s on 03-02,
// b 60 s on 03-01, c nothing.
func settleFixture(t *testing.T, s billing.Store) *harness {
	t.Helper()
	h := newHarnessOn(t, s, noTrial())
	for _, id := range []string{"c", "a", "b"} {
		if _, err := h.e.OpenAccount(h.ctx, billing.AccountSpec{ID: id, App: "app", Postpaid: true}); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []billing.Usage{
		{ID: "a1", Account: "a", Seconds: 125, At: at(1, 12, 0, 0)},
		{ID: "a2", Account: "a", Seconds: 600, At: at(2, 12, 0, 0)},
		{ID: "b1", Account: "b", Seconds: 60, At: at(1, 12, 0, 0)},
	} {
		u.App, u.Scenario, u.Tier = "app", billing.VideoCall, billing.TierHD
		h.clock.Set(u.At)
		if _, err := h.e.Record(h.ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	h.clock.Set(at(3, 12, 0, 0))
	return h
}

// settled is what a SettleDue run did, account by account.
type settled struct {
	Summary billing.SettleSummary
	Bills   map[string][]string // account → "day total" per bill
	Done    []int
	Failed  []string
}

func settleDue(t *testing.T, h *harness, opts billing.SettleOptions) (settled, error) {
	t.Helper()
	got := settled{Bills: map[string][]string{}}
	opts.Progress = func(p billing.SettleProgress) {
		got.Done = append(got.Done, p.Done)
		if p.Err != nil {
			got.Failed = append(got.Failed, p.Account)
		}
		for _, b := range p.Bills {
			got.Bills[p.Account] = append(got.Bills[p.Account], b.Day.String()+" "+b.Total.StringFixed(2))
		}
	}
	var err error
	got.Summary, err = h.e.SettleDue(h.ctx, h.clock.Now(), &opts)
	return got, err
}

func TestSettleDue(t *testing.T) {
	// At 2021-03-03 12:00 UTC+8, 03-01 and 03-02 are due (each from 10:00
	// the next day). Era 1 HD is 0.00399 a minute:
	//   a 03-01: 125 s = 3 min × 0.00399 = 0.01197 → 0.01
	//   a 03-02: 600 s = 10 min × 0.00399 = 0.0399 → 0.04
	//   b 03-01: 60 s = 1 min × 0.00399 = 0.00399 → 0.00
	all := map[string][]string{"a": {"2021-03-01 0.01", "2021-03-02 0.04"}, "b": {"2021-03-01 0.00"}}
	for _, workers := range []int{0, 1, 8} {
		h := settleFixture(t, memstore.New())
		got, err := settleDue(t, h, billing.SettleOptions{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		want := settled{Summary: billing.SettleSummary{Accounts: 3, Bills: 3, Through: "c"}, Bills: all, Done: []int{1, 2, 3}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("workers %d (-want +got):\n%s", workers, diff)
		}
		// Again: nothing is due any more.
		got, err = settleDue(t, h, billing.SettleOptions{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		want = settled{Summary: billing.SettleSummary{Accounts: 3, Through: "c"}, Bills: map[string][]string{}, Done: []int{1, 2, 3}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("workers %d, run again (-want +got):\n%s", workers, diff)
		}
	}

	t.Run("resumed", func(t *testing.T) {
		h := settleFixture(t, memstore.New())
		got, err := settleDue(t, h, billing.SettleOptions{After: "a"})
		if err != nil {
			t.Fatal(err)
		}
		want := settled{Summary: billing.SettleSummary{Accounts: 2, Bills: 1, Through: "c"},
			Bills: map[string][]string{"b": all["b"]}, Done: []int{1, 2}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("after a (-want +got):\n%s", diff)
		}
		got, err = settleDue(t, h, billing.SettleOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want = settled{Summary: billing.SettleSummary{Accounts: 3, Bills: 2, Through: "c"},
			Bills: map[string][]string{"a": all["a"]}, Done: []int{1, 2, 3}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("then all (-want +got):\n%s", diff)
		}
	})

	t.Run("an account fails", func(t *testing.T) {
		m := memstore.New()
		h := settleFixture(t, m)
		s := listing{&plainStore{Store: m, failFor: "b"}, m}
		e, err := billing.New(s, &billing.Options{Now: h.clock.Now, PriceBooks: []billing.PriceBook{noTrial()}})
		if err != nil {
			t.Fatal(err)
		}
		h.e = e
		got, err := settleDue(t, h, billing.SettleOptions{Workers: 1})
		if !errors.Is(err, errInjected) {
			t.Fatalf("SettleDue: %v, want an error wrapping %v", err, errInjected)
		}
		// b fails, so Through stays at a although c is done.
		want := settled{Summary: billing.SettleSummary{Accounts: 3, Bills: 2, Failed: 1, Through: "a"},
			Bills: map[string][]string{"a": all["a"]}, Done: []int{1, 2, 3}, Failed: []string{"b"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if want := `billing: SettleDue: 1 of 3 accounts failed; the first to fail, account "b" in Settle: day 2021-03-01: injected fault`; err.Error() != want {
			t.Errorf("error %q, want %q", err, want)
		}
	})

	t.Run("a Store whose pages hold one account", func(t *testing.T) {
		h := settleFixture(t, onePerPage{memstore.New()})
		got, err := settleDue(t, h, billing.SettleOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := settled{Summary: billing.SettleSummary{Accounts: 3, Bills: 3, Through: "c"}, Bills: all, Done: []int{1, 2, 3}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})

	t.Run("a Store that cannot list", func(t *testing.T) {
		h := settleFixture(t, &plainStore{Store: memstore.New()})
		if _, err := settleDue(t, h, billing.SettleOptions{}); !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("SettleDue: %v, want an error wrapping errors.ErrUnsupported", err)
		}
		if _, err := h.e.Accounts(h.ctx, "", 10); !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("Accounts: %v, want an error wrapping errors.ErrUnsupported", err)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		h := settleFixture(t, memstore.New())
		ctx, cancel := context.WithCancel(h.ctx)
		cancel()
		if _, err := h.e.SettleDue(ctx, h.clock.Now(), nil); !errors.Is(err, context.Canceled) {
			t.Errorf("SettleDue: %v, want an error wrapping context.Canceled", err)
		}
	})
}

func TestEngineAccounts(t *testing.T) {
	h := settleFixture(t, memstore.New())
	for _, tt := range []struct {
		after string
		limit int
		want  []string
	}{
		{"", 10, []string{"a", "b", "c"}},
		{"a", 1, []string{"b"}},
		{"c", 10, nil},
	} {
		got, err := h.e.Accounts(h.ctx, tt.after, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			got = nil
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Accounts(%q, %d) (-want +got):\n%s", tt.after, tt.limit, diff)
		}
	}
	if _, err := h.e.Accounts(h.ctx, "", 0); !errors.Is(err, billing.ErrInvalidOptions) {
		t.Errorf("Accounts with limit 0: %v, want an error wrapping ErrInvalidOptions", err)
	}
}

// logRecord is one line of the Logger's JSON output, the attributes the
// test looks at.
type logRecord struct {
	Level, Msg, Account, App, Request, Way, Day, Total string
	Attempt                                            int
}

func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	s := &plainStore{Store: memstore.New()}
	h := newHarnessOn(t, s, noTrial())
	h.e, _ = billing.New(s, &billing.Options{Now: h.clock.Now, PriceBooks: []billing.PriceBook{noTrial()},
		Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	h.clock.Set(at(1, 9, 0, 0))
	if _, err := h.e.OpenAccount(h.ctx, billing.AccountSpec{ID: "acme", App: "a1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.CreateApp(h.ctx, "acme", billing.AppSpec{ID: "a2", Postpaid: true}); err != nil {
		t.Fatal(err)
	}
	h.clock.Set(at(1, 10, 0, 0))
	s.conflicts.Store(1) // the next unit of work conflicts once
	// No trial, no package: a1's usage is shortfall and suspends it.
	if _, err := h.e.Record(h.ctx, billing.Usage{ID: "u1", Account: "acme", App: "a1", Scenario: billing.VideoCall,
		Tier: billing.TierHD, Seconds: 60, At: at(1, 10, 0, 0)}); err != nil {
		t.Fatal(err)
	}
	h.clock.Set(at(1, 11, 0, 0))
	if _, err := h.e.Buy(h.ctx, billing.Purchase{ID: "p1", Account: "acme", Kind: billing.KindUniversal, Minutes: 1000}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.EnablePostpaid(h.ctx, "acme", "a1"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.Record(h.ctx, billing.Usage{ID: "u1", Account: "acme", App: "nope", Seconds: 1, At: at(1, 10, 0, 0)}); err == nil {
		t.Fatal("a refused usage was recorded")
	}
	h.clock.Set(at(2, 12, 0, 0))
	if _, err := h.e.Settle(h.ctx, "acme", march(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.Settle(h.ctx, "acme", march(1)); err != nil { // issued before: not logged again
		t.Fatal(err)
	}
	var got []logRecord
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var r struct {
			logRecord
			Reason, Since, Through, Currency, ID string
			Lines                                int
		}
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		got = append(got, r.logRecord)
	}
	// a2 is created with postpaid on; the conflict is retried; u1 suspends
	// a1; p1 resumes it (1 min of HD is 4 package minutes, absorbed);
	// EnablePostpaid turns a1's switch on; the refusal is not logged; the
	// bill of 03-01 bills nothing (0 postpaid minutes): total 0.
	want := []logRecord{
		{Level: "INFO", Msg: "billing: postpaid switched on", Account: "acme", App: "a2", Request: "create-app", Way: "at-creation"},
		{Level: "DEBUG", Msg: "billing: unit of work retried", Account: "acme", Request: "record", Attempt: 1},
		{Level: "INFO", Msg: "billing: application suspended", Account: "acme", App: "a1", Request: "record"},
		{Level: "INFO", Msg: "billing: application resumed", Account: "acme", App: "a1", Request: "buy"},
		{Level: "INFO", Msg: "billing: postpaid switched on", Account: "acme", App: "a1", Request: "enable-postpaid", Way: "enabled"},
		{Level: "INFO", Msg: "billing: bill issued", Account: "acme", Day: "2021-03-01", Total: "0.00"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log (-want +got):\n%s\n%s", diff, buf.String())
	}
}

// observations records what an Observer is told.
type observations struct {
	mu  sync.Mutex
	got []billing.Observation
}

func (o *observations) Observe(_ context.Context, ob billing.Observation) {
	o.mu.Lock()
	defer o.mu.Unlock()
	ob.Duration = 0 // wall time: not comparable
	o.got = append(o.got, ob)
}

func TestObserver(t *testing.T) {
	obs := &observations{}
	s := &plainStore{Store: memstore.New()}
	h := newHarnessOn(t, s, noTrial())
	h.e, _ = billing.New(s, &billing.Options{Now: h.clock.Now, PriceBooks: []billing.PriceBook{noTrial()}, Observer: obs})
	if _, err := h.e.OpenAccount(h.ctx, billing.AccountSpec{ID: "acme", App: "a1", Postpaid: true}); err != nil {
		t.Fatal(err)
	}
	s.conflicts.Store(2)
	if _, err := h.e.Record(h.ctx, billing.Usage{ID: "u1", Account: "acme", App: "a1", Scenario: billing.VideoCall,
		Tier: billing.TierHD, Seconds: 60, At: at(1, 8, 0, 0)}); err != nil {
		t.Fatal(err)
	}
	_, refused := h.e.Record(h.ctx, billing.Usage{ID: "u2", Account: "acme", App: "nope", Scenario: billing.VideoCall,
		Tier: billing.TierHD, Seconds: 60, At: at(1, 8, 0, 0)})
	if _, err := h.e.DueDays(h.ctx, "acme", at(3, 0, 0, 0)); err != nil {
		t.Fatal(err)
	}
	want := []billing.Observation{
		{Op: "open", Account: "acme", Attempts: 1},
		{Op: "record", Account: "acme", Attempts: 3}, // two conflicts, then applied
		{Op: "record", Account: "acme", Attempts: 1, Err: errors.Unwrap(refused)},
		{Op: "due-days", Account: "acme", Attempts: 1},
	}
	if diff := cmp.Diff(want, obs.got, cmp.Comparer(func(a, b error) bool { return errors.Is(a, b) || errors.Is(b, a) })); diff != "" {
		t.Errorf("observations (-want +got):\n%s", diff)
	}
}
