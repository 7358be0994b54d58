package billing_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/rtcbill/billing"
	"github.com/shopspring/decimal"
)

// tamperStore hands back records changed by its hooks, as a broken or
// malicious Store would.
type tamperStore struct {
	billing.Store
	account func(*billing.Account)
	pkg     func(*billing.Package)
	meter   func(*billing.Meter)
}

func (s *tamperStore) Update(ctx context.Context, id string, fn func(billing.Reader) (billing.Changes, error)) error {
	return s.Store.Update(ctx, id, func(r billing.Reader) (billing.Changes, error) { return fn(tamperReader{r, s}) })
}

type tamperReader struct {
	billing.Reader
	s *tamperStore
}

func (r tamperReader) Account() (billing.Account, error) {
	a, err := r.Reader.Account()
	if err == nil && r.s.account != nil {
		r.s.account(&a)
	}
	return a, err
}

func (r tamperReader) Meter(k billing.MeterKey) (billing.Meter, error) {
	m, err := r.Reader.Meter(k)
	if err == nil && r.s.meter != nil {
		r.s.meter(&m)
	}
	return m, err
}

func (r tamperReader) LivePackages(fn func(billing.Package) bool) error {
	return r.Reader.LivePackages(func(p billing.Package) bool {
		if r.s.pkg != nil {
			r.s.pkg(&p)
		}
		return fn(p)
	})
}

// TestCorruptStore checks that the Engine refuses to act on state it never
// writes, and changes nothing.
func TestCorruptStore(t *testing.T) {
	tests := []struct {
		name  string
		store tamperStore
	}{
		{"another account's record", tamperStore{account: func(a *billing.Account) { a.ID = "b" }}},
		{"a version below 1", tamperStore{account: func(a *billing.Account) { a.Version = 0 }}},
		{"a cycle that does not exist", tamperStore{account: func(a *billing.Account) { a.Cycle = 2 }}},
		{"suspended without a reason", tamperStore{account: func(a *billing.Account) { a.Apps[0].Status.Suspended = true }}},
		{"suspended with the switch on", tamperStore{account: func(a *billing.Account) {
			a.Apps[0].Postpaid = billing.Postpaid{On: true, Since: a.Opened, Way: billing.PostpaidEnabled}
			a.Apps[0].Status = billing.Status{Suspended: true, Since: a.Opened, Reason: billing.ReasonUncovered}
		}}},
		{"an application's switch off under the account's", tamperStore{account: func(a *billing.Account) {
			a.Postpaid = billing.Postpaid{On: true, Since: a.Opened, Way: billing.PostpaidEnabled}
		}}},
		{"two applications with one id", tamperStore{account: func(a *billing.Account) { a.Apps = append(a.Apps, a.Apps[0]) }}},
		{"an application created before the opening", tamperStore{account: func(a *billing.Account) {
			a.Apps[0].Created = a.Opened.Add(-time.Second)
		}}},
		{"a disabling still open before another", tamperStore{account: func(a *billing.Account) {
			a.Apps[0].Disabled = []billing.Interval{{Since: a.Opened}, {Since: a.Opened.Add(time.Hour)}}
		}}},
		{"a disabling that ends before it begins", tamperStore{account: func(a *billing.Account) {
			a.Apps[0].Disabled = []billing.Interval{{Since: a.Opened.Add(time.Hour), Until: a.Opened}}
		}}},
		{"more applications than MaxApps", tamperStore{account: func(a *billing.Account) {
			for i := range billing.MaxApps {
				a.Apps = append(a.Apps, billing.App{ID: fmt.Sprint("x", i), Created: a.Opened})
			}
		}}},
		{"a switch way that does not exist", tamperStore{account: func(a *billing.Account) {
			a.Postpaid = billing.Postpaid{On: true, Since: a.Opened, Way: "by-magic"}
		}}},
		{"arrears without a reference", tamperStore{account: func(a *billing.Account) {
			a.Arrears = []billing.Arrears{{Since: a.Opened, Reclaim: a.Opened.AddDate(0, 0, 62)}}
		}}},
		{"arrears paid before they began", tamperStore{account: func(a *billing.Account) {
			a.Arrears = []billing.Arrears{{Refs: []string{"r"}, Since: a.Opened, Paid: a.Opened.Add(-time.Second), Reclaim: a.Opened.AddDate(0, 0, 62)}}
		}}},
		{"two arrears unpaid", tamperStore{account: func(a *billing.Account) {
			a.Arrears = []billing.Arrears{{Refs: []string{"r"}, Since: a.Opened, Reclaim: a.Opened.AddDate(0, 0, 62)},
				{Refs: []string{"s"}, Since: a.Opened, Reclaim: a.Opened.AddDate(0, 0, 62)}}
		}}},
		{"packages reclaimed before 60 days of suspension", tamperStore{account: func(a *billing.Account) {
			a.Arrears = []billing.Arrears{{Refs: []string{"r"}, Since: a.Opened, Reclaim: a.Opened.AddDate(0, 0, 60)}}
		}}},
		{"a refund of a negative amount", tamperStore{account: func(a *billing.Account) {
			a.Refunds = []billing.PackageRefund{{ID: "r", Package: "p", Discount: decimal.NewFromInt(1), Amount: decimal.NewFromInt(-1)}}
		}}},
		{"two refunds of one package", tamperStore{account: func(a *billing.Account) {
			r := billing.PackageRefund{ID: "r", Package: "p", Discount: decimal.NewFromInt(1)}
			a.Refunds = []billing.PackageRefund{r, r}
		}}},
		{"a negative package balance", tamperStore{pkg: func(p *billing.Package) { p.Balance = -4 }}},
		{"a balance above the package's size", tamperStore{pkg: func(p *billing.Package) { p.Balance = p.Minutes + 1 }}},
		{"a meter whose parts do not add up", tamperStore{meter: func(m *billing.Meter) { m.Seconds, m.Postpaid = 600, 3 }}},
		{"a meter under another key", tamperStore{meter: func(m *billing.Meter) { m.Key.Tier = billing.TierFHD }}},
		{"a meter with more earlier postpaid minutes than postpaid", tamperStore{meter: func(m *billing.Meter) { m.EarlierPostpaid = m.Postpaid + 1 }}},
		{"a meter with more earlier shortfall than shortfall", tamperStore{meter: func(m *billing.Meter) { m.EarlierShortfall = m.Shortfall + 1 }}},
		{"a meter whose latest day is before its window", tamperStore{meter: func(m *billing.Meter) { m.Latest = -1 }}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.do(open(at(15, 8, 0, 0), false), use("u1", hd, 60, at(15, 9, 0, 0)))
			before := h.state("a", march(15))
			s := tt.store
			s.Store = h.store
			e, err := billing.New(&s, &billing.Options{Now: h.clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			h.clock.Set(at(15, 10, 0, 0))
			if _, err := e.Record(h.ctx, *usage("u2", hd, 60, at(15, 10, 0, 0))); !errors.Is(err, billing.ErrCorrupt) {
				t.Errorf("Record() error = %v, want ErrCorrupt", err)
			}
			after := h.state("a", march(15))
			if after.Overview.Account.Version != before.Overview.Account.Version || len(after.Ledger) != len(before.Ledger) {
				t.Errorf("the Engine acted on corrupt state: version %d → %d, ledger %d → %d entries",
					before.Overview.Account.Version, after.Overview.Account.Version, len(before.Ledger), len(after.Ledger))
			}
		})
	}
}
