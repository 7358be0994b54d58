package billing

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Account is an account's root record: its currency, its applications with
// their postpaid switches and statuses, and the counters the Engine keeps.
// Packages, meters, usage and the ledger are records of their own.
type Account struct {
	ID       string    `json:"id"`
	Currency string    `json:"currency"`
	Opened   time.Time `json:"opened"`
	// Postpaid is the account's postpaid switch: on, the switch of every
	// application is on, present and future. It goes on at opening
	// (AccountSpec.Postpaid), by EnablePostpaid naming no application, or
	// automatically. Once On, it stays on.
	Postpaid Postpaid `json:"postpaid"`
	// Apps are the account's applications, in the order they were created.
	Apps []App `json:"apps"`
	// AutoPostpaidArmed reports whether the account has bought a package whose
	// kind arms the automatic postpaid switch (the universal package).
	AutoPostpaidArmed bool `json:"auto_postpaid_armed"`
	// Version counts the units of work committed on the account.
	Version int64 `json:"version"`
	// Touched is the Engine time of the last unit of work. The Engine's time
	// for an account never goes backwards: an operation whose clock reads
	// earlier is stamped at Touched.
	Touched time.Time `json:"touched"`
	// LastSeq is the Seq of the account's last ledger entry.
	LastSeq int64 `json:"last_seq"`
	// GrantsThrough is the last billing day whose recurring grants
	// (PriceBook.Monthly) the account has had.
	GrantsThrough Day `json:"grants_through"`
	// Cycle is the account's billing cycle, fixed with its cohort (see
	// [Cycle]).
	Cycle Cycle `json:"cycle"`
	// SettledThrough is the last closed billing day: every day up to it was
	// settled, or closed without a bill because it had nothing to bill.
	// Usage of a closed day is late: it is billed as an adjustment.
	SettledThrough Day `json:"settled_through"`
	// Late lists the meters of closed days that late usage changed since
	// their last bill, in the order it arrived; the next bill carries them
	// as adjustment lines.
	Late []MeterKey `json:"late"`
	// Unbilled lists the meters whose shortfall was settled while postpaid
	// was off (Meter.Unbilled), in the order they were settled: the first
	// bill settled with postpaid on bills it.
	Unbilled []MeterKey `json:"unbilled"`
	// Frontier is the key of the account's last operation in the reference
	// order: an operation with an earlier key is late, and is applied by
	// replaying the operations after it (see [OpKey]).
	Frontier OpKey `json:"frontier"`
	// SinceCheckpoint counts the operations applied since the account's
	// last checkpoint.
	SinceCheckpoint int64 `json:"since_checkpoint"`
	// EnabledAt is the Engine time of the account's first EnablePostpaid
	// call naming no application (zero if none). It stays when a late
	// report finds the switch went on earlier, automatically: the call
	// still turned its day's shortfall into postpaid.
	EnabledAt time.Time `json:"enabled_at"`
	// Arrears are the times the account was overdue, in order: only the
	// last can be unpaid (see [Engine.ReportOverdue]).
	Arrears []Arrears `json:"arrears"`
	// Refunds are the account's refunds, in order (see [Engine.Refund]).
	Refunds []PackageRefund `json:"refunds"`
}

// AccountSpec is what OpenAccount needs to open an account.
type AccountSpec struct {
	// ID is the caller's account id, also the idempotency key of the opening.
	ID string `json:"id"`
	// Currency of the account; "" means Options.Currency.
	Currency string `json:"currency"`
	// Postpaid chooses, at opening, to keep the service of every
	// application running on postpaid at list price once the trial runs out
	// ("do not suspend the service"): it turns the account's switch on.
	// Without it, an application of a trial-only account is suspended when
	// the trial runs out, unless its own switch is on.
	Postpaid bool `json:"postpaid"`
	// App, if not empty, is the id of the account's first application,
	// created with the account (see [Engine.CreateApp]).
	App string `json:"app"`
}

// OpenAccount opens an account, with its first application if spec names
// one, and then grants it the trial of the price book of the day (Era 1:
// 10,000 minutes, ratio 1 for every tier, valid to the last day of the
// same month next year). An account opened without an application gets
// its trial with its first one ([Engine.CreateApp]), from the book of that
// application's day: the first application's creation is the account's
// cohort ([Account.Cohort]). Opening an existing account with the same spec (the same
// currency and choice, and an App the account has, if any) returns it
// unchanged; with another spec it fails.
//
// Errors wrap ErrInvalidID, ErrNoPriceBook (no book of the currency prices
// the day for an account of the day's cohort), ErrIdempotencyConflict, ErrInvalidTime (the clock reads a day
// outside MinDay..MaxDay), ErrCorrupt, or a Store or context error.
func (e *Engine) OpenAccount(ctx context.Context, spec AccountSpec) (Account, error) {
	if spec.Currency == "" {
		spec.Currency = e.currency
	}
	fail := func(err error) (Account, error) {
		return Account{}, &Error{Op: "OpenAccount", Account: spec.ID, Err: err}
	}
	switch {
	case !validID(spec.ID):
		return fail(invalidID("account id", spec.ID))
	case spec.App != "" && !validID(spec.App):
		return fail(invalidID("app id", spec.App))
	}
	var conflict bool
	a, _, err := e.update(ctx, RequestOpen, spec.ID, spec.ID, func(u *unit) error {
		if u.a.Version > 0 { // opened before: the same spec returns it
			conflict = u.a.Currency != spec.Currency || (u.a.Postpaid.Way == PostpaidAtOpening) != spec.Postpaid ||
				spec.App != "" && u.a.created(spec.App) < 0
			return nil
		}
		today := e.cal.day(u.now)
		book, err := e.bookOf(spec.Currency, u.now, today) // its cohort: the opening, its first application's creation
		if err != nil {
			return err
		}
		u.a = Account{ID: spec.ID, Currency: spec.Currency, Opened: u.now, SettledThrough: today - 1,
			Frontier: OpKey{At: u.now, Class: ClassOpening}, Cycle: e.cycleOf(spec.Currency, u.now)}
		cp := Checkpoint{Key: OpKey{At: u.now, Class: ClassCheckpoint}}
		// The trial and the day's recurring grant come with the first
		// application: here, if it is created with the account.
		if spec.App != "" {
			for _, p := range e.activation(&u.a, book, u.now) {
				u.append(Entry{Kind: EntryGrant, Package: p.ID, Balance: p.Balance})
				u.putPackage(p)
			}
		} else {
			// Else activate places them at their keys, the trial's at (its
			// creation, ClassOpening, "trial"): at the opening's instant, a
			// checkpoint at the Frontier comes before them, so a replay
			// re-applies them.
			cp.Key = u.a.Frontier
		}
		u.a.GrantsThrough = today
		slices.SortFunc(u.ch.Packages, ComparePackages)
		for _, p := range u.ch.Packages {
			cp.Balances = append(cp.Balances, Balance{Package: p.ID, Balance: p.Balance})
		}
		if spec.Postpaid {
			u.turnPostpaidOn(PostpaidAtOpening, u.now)
		}
		if spec.App != "" {
			if err := u.createApp(AppSpec{ID: spec.App}); err != nil {
				return err
			}
		}
		cp.Postpaid, cp.Apps = u.a.Postpaid, appStates(&u.a)
		u.ch.Checkpoints = append(u.ch.Checkpoints, cp)
		return nil
	})
	switch {
	case err != nil:
		return fail(err)
	case conflict:
		return fail(fmt.Errorf("%w: the account was opened with another Currency, Postpaid or App", ErrIdempotencyConflict))
	}
	return a, nil
}

// activation returns the packages an account gets with its first
// application, created at instant at under book: the book's trial and the
// day's recurring grant. Tencent grants the trial to "accounts that create
// applications for the first time" (domain reference §2.1), and Era 2's
// free minutes to accounts that have activated TRTC.
func (e *Engine) activation(a *Account, book *PriceBook, at time.Time) []Package {
	var ps []Package
	today := e.cal.day(at)
	if g := book.Trial; g.Kind != "" {
		kind, _ := book.kind(g.Kind)
		ps = append(ps, Package{
			ID: TrialID, Kind: g.Kind, Book: book.ID, Minutes: g.Minutes, Balance: g.Minutes, Currency: a.Currency,
			PurchasedAt: at, Start: e.cal.start(today), End: kind.Validity.end(today, e.cal.loc), First: kind.First,
		})
	}
	if p, ok := e.grantOn(a, today); ok {
		ps = append(ps, p)
	}
	return ps
}

// activate gives an account opened without an application, whose first
// application u has just created, what its opening would have given it
// with one: the trial and the day's recurring grant of the book of its
// cohort, as operations at their keys (the grant's, the start of the
// day, may come before operations already applied). An account that has
// them (recorded before they came with the first application) keeps its
// own.
func (e *Engine) activate(u *unit) error {
	book, err := e.bookFor(&u.a, e.cal.day(u.now))
	if err != nil {
		return err
	}
	have := map[string]bool{}
	if err := u.r.Packages(func(p Package) bool { have[p.ID] = true; return true }); err != nil {
		return err
	}
	var ops []op
	for _, p := range e.activation(&u.a, book, u.now) {
		if !have[p.ID] {
			ops = append(ops, op{key: purchaseKey(&p), pkg: &p})
		}
	}
	slices.SortFunc(ops, func(x, y op) int { return x.key.Compare(y.key) })
	return e.place(u, ops)
}

// Overview is an account as it stands: its record (with its applications,
// their switches and statuses), its packages and the meters of the current
// billing day.
type Overview struct {
	Account Account `json:"account"`
	// Packages are all the account's packages, live or not, in deduction order.
	Packages []Package `json:"packages"`
	// Today is the current billing day.
	Today Day `json:"today"`
	// Meters are the meters today's usage goes to: the basic meters of
	// Today's rounding window (the day, or its month on the monthly cycle)
	// and Today's value-added meters, by day, service, then tier in the
	// price book's order (audio, SD, HD, FHD). On the daily cycle their
	// Uncovered minutes are the day's minutes no package covered
	// (postpaid or shortfall), which a package bought today would absorb;
	// on the monthly cycle, those of today's usage are (see Meter.Latest).
	Meters []Meter `json:"meters"`
}

// Overview returns the account as it stands. It first forfeits the balance
// of packages whose expiry is final (a unit of work of its own): ended,
// Options.ExpiryGrace passed and their last day settled (see the package
// documentation); an ended package shows its Balance until then.
//
// Errors wrap ErrInvalidID, ErrInvalidTime (the clock), ErrNotFound,
// ErrCorrupt, or a Store or context error.
func (e *Engine) Overview(ctx context.Context, account string) (Overview, error) {
	fail := func(err error) (Overview, error) {
		return Overview{}, &Error{Op: "Overview", Account: account, Err: err}
	}
	if !validID(account) {
		return fail(invalidID("account id", account))
	}
	_, now, err := e.update(ctx, RequestOverview, "", account, func(u *unit) error { return u.expire() })
	if err != nil {
		return fail(err)
	}
	o := Overview{Today: e.cal.day(now)}
	start := e.started()
	err = e.store.View(ctx, account, func(r Reader) error {
		if err = e.load(r, account, &o.Account); err != nil {
			return err
		}
		if err := r.Packages(func(p Package) bool { o.Packages = append(o.Packages, p); return true }); err != nil {
			return err
		}
		o.Meters, err = e.openMeters(r, &o.Account, o.Today)
		e.sortMeters(&o.Account, o.Meters)
		return err
	})
	e.observeRead(ctx, "Overview", account, start, err)
	if err != nil {
		return fail(err)
	}
	return o, nil
}
