package billing

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// App is an application (SDKAppID) of an account: usage names one. The
// postpaid switch and the service status belong to it; packages belong to
// the account and cover the usage of all its applications, but for those
// bound to one (PackageKind.AppBound; see the package documentation,
// "Applications" and "Applications' own meters and packages").
type App struct {
	// ID is the SDKAppID, unique within the account.
	ID string `json:"id"`
	// Created is the Engine time the application was created.
	Created time.Time `json:"created"`
	// Postpaid is the application's postpaid switch. Once On, it stays on.
	// It goes on at creation (AppSpec.Postpaid), by EnablePostpaid naming
	// the application, or with the account's switch (Account.Postpaid:
	// the choice made at opening, EnablePostpaid naming no application,
	// the automatic way), then at the later of the account switch's
	// instant and the application's creation, with the account switch's Way.
	Postpaid Postpaid `json:"postpaid"`
	// Status is active or suspended.
	Status Status `json:"status"`
	// Suspensions are the application's ended suspensions, in order (the
	// current one is Status). A late report can add one, or move one,
	// after the fact.
	Suspensions []Interval `json:"suspensions"`
	// EnabledAt is the Engine time of the first EnablePostpaid call naming
	// the application (zero if none).
	EnabledAt time.Time `json:"enabled_at"`
	// Disabled lists the times the host disabled the application
	// ([Engine.DisableApp]), in order; only the last can be open (a zero
	// Until: disabled now).
	Disabled []Interval `json:"disabled"`
}

// LegacyApp is the id of the application of an account recorded before
// applications existed (a Store migrates such an account to one
// application with this id, holding the account's switch and status as
// they were). It stands for every application id the account had not
// created at a usage's time: usage naming one is that application's, as it
// was before, so such an account never refuses usage with ErrUnknownApp.
// It is not one of the MaxApps, and as its id is not valid in a call, its
// switch goes on with the account's (EnablePostpaid naming no
// application), and it cannot be disabled.
const LegacyApp = ""

// MaxApps is the most applications an account can have (TRTC's limit of
// 100 per Tencent Cloud account).
const MaxApps = 100

// AppSpec is what CreateApp needs to create an application.
type AppSpec struct {
	// ID is the SDKAppID, also the idempotency key of the creation.
	ID string `json:"id"`
	// Postpaid chooses, at creation, to keep the application's service
	// running on postpaid at list price once no package covers its usage
	// ("do not suspend the service").
	Postpaid bool `json:"postpaid"`
}

// CreateApp creates an application on the account at the Engine's time.
// Its switch is on from then if spec.Postpaid chose it (way
// PostpaidAtCreation) or if the account's switch is on (its way). Usage of
// the application before its creation is refused (ErrBeforeOpened).
// Creating an existing application with the same spec returns the account
// unchanged; with another spec it fails.
//
// Errors wrap ErrInvalidID, ErrNotFound, ErrTooManyApps,
// ErrIdempotencyConflict, ErrInvalidTime (the clock), ErrCorrupt, or a
// Store or context error.
func (e *Engine) CreateApp(ctx context.Context, account string, spec AppSpec) (Account, error) {
	fail := func(err error) (Account, error) {
		return Account{}, &Error{Op: "CreateApp", Account: account, ID: spec.ID, Err: err}
	}
	switch {
	case !validID(account):
		return fail(invalidID("account id", account))
	case !validID(spec.ID):
		return fail(invalidID("app id", spec.ID))
	}
	a, _, err := e.update(ctx, RequestCreateApp, spec.ID, account, func(u *unit) error {
		first := len(u.a.Apps) == 0
		if err := u.createApp(spec); err != nil || !first {
			return err
		}
		return e.activate(u)
	})
	if err != nil {
		return fail(err)
	}
	return a, nil
}

// createApp creates the application of spec on the account of u, or
// checks that the one created is spec's.
func (u *unit) createApp(spec AppSpec) error {
	if i := u.a.created(spec.ID); i >= 0 {
		if u.a.Apps[i].Postpaid.Way == PostpaidAtCreation != spec.Postpaid {
			return fmt.Errorf("%w: application %q was created with Postpaid %t", ErrIdempotencyConflict, spec.ID, !spec.Postpaid)
		}
		return nil
	}
	if u.a.created(LegacyApp) < 0 && len(u.a.Apps) >= MaxApps || len(u.a.Apps) > MaxApps {
		return fmt.Errorf("%w: the account has %d, the most it may have", ErrTooManyApps, MaxApps)
	}
	u.a.Apps = append(u.a.Apps, App{ID: spec.ID, Created: u.now})
	u.dirty = true
	i := len(u.a.Apps) - 1
	if i == 0 { // the account's cohort, and so its cycle
		u.a.Cycle = u.e.cycleOf(u.a.Currency, u.now)
	}
	switch {
	case spec.Postpaid:
		u.turnAppOn(i, PostpaidAtCreation, u.now)
	case u.a.Postpaid.On:
		u.turnAppOn(i, u.a.Postpaid.Way, u.now)
	}
	return nil
}

// DisableApp disables the application at the Engine's time (the console's
// 停用应用): Admit refuses its new sessions (ErrAppDisabled) until
// [Engine.EnableApp]. Usage of its sessions is still recorded and billed
// (usage is a fact), with Receipt.AppDisabled set for a time while it was
// disabled. Disabling a disabled application changes nothing.
//
// Errors wrap ErrInvalidID, ErrNotFound, ErrUnknownApp, ErrInvalidTime (the
// clock), ErrCorrupt, or a Store or context error.
func (e *Engine) DisableApp(ctx context.Context, account, app string) (Account, error) {
	return e.toggleApp(ctx, "DisableApp", RequestDisableApp, account, app, true)
}

// EnableApp enables an application the host disabled (the console's
// 启用应用), at the Engine's time. Enabling an enabled application changes
// nothing.
//
// Errors wrap ErrInvalidID, ErrNotFound, ErrUnknownApp, ErrInvalidTime (the
// clock), ErrCorrupt, or a Store or context error.
func (e *Engine) EnableApp(ctx context.Context, account, app string) (Account, error) {
	return e.toggleApp(ctx, "EnableApp", RequestEnableApp, account, app, false)
}

// toggleApp disables or enables an application.
func (e *Engine) toggleApp(ctx context.Context, name string, req Request, account, app string, disable bool) (Account, error) {
	fail := func(err error) (Account, error) {
		return Account{}, &Error{Op: name, Account: account, ID: app, Err: err}
	}
	switch {
	case !validID(account):
		return fail(invalidID("account id", account))
	case !validID(app):
		return fail(invalidID("app id", app))
	}
	a, _, err := e.update(ctx, req, app, account, func(u *unit) error {
		i := u.a.created(app)
		if i < 0 {
			return fmt.Errorf("%w %q", ErrUnknownApp, app)
		}
		p := &u.a.Apps[i]
		open := len(p.Disabled) > 0 && p.Disabled[len(p.Disabled)-1].Until.IsZero()
		switch {
		case disable && !open:
			p.Disabled = append(p.Disabled, Interval{Since: u.now})
			u.append(Entry{Kind: EntryAppDisabled, App: app})
		case !disable && open:
			p.Disabled[len(p.Disabled)-1].Until = u.now
			u.append(Entry{Kind: EntryAppEnabled, App: app})
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	return a, nil
}

// App returns the application of the account with id, if it was created.
func (a *Account) App(id string) (App, bool) {
	if i := a.created(id); i >= 0 {
		return a.Apps[i], true
	}
	return App{}, false
}

// created returns the index in a.Apps of the application created with id,
// or -1.
func (a *Account) created(id string) int {
	for i := range a.Apps {
		if a.Apps[i].ID == id {
			return i
		}
	}
	return -1
}

// app returns the index in a.Apps of the application of usage at instant
// at naming id: the one created with it if it was created by then, else
// the legacy application if the account has one; -1 if none.
func (a *Account) app(id string, at time.Time) int {
	legacy := -1
	for i := range a.Apps {
		switch p := &a.Apps[i]; {
		case p.ID == id && !at.Before(p.Created):
			return i
		case p.ID == LegacyApp:
			legacy = i
		}
	}
	return legacy
}

// appAt returns the index in a.Apps of the application of usage (or a
// session) naming id at instant at, or the error that refuses it:
// ErrBeforeOpened before the opening or the application's creation,
// ErrUnknownApp for an application never created (see LegacyApp).
func (a *Account) appAt(id string, at time.Time, loc *time.Location) (int, error) {
	if at.Before(a.Opened) {
		return -1, fmt.Errorf("%w: %s is before the account opened, %s", ErrBeforeOpened,
			at.In(loc).Format(time.RFC3339), a.Opened.In(loc).Format(time.RFC3339))
	}
	if i := a.app(id, at); i >= 0 {
		return i, nil
	}
	if i := a.created(id); i >= 0 {
		return -1, fmt.Errorf("%w: %s is before application %q was created, %s", ErrBeforeOpened,
			at.In(loc).Format(time.RFC3339), id, a.Apps[i].Created.In(loc).Format(time.RFC3339))
	}
	return -1, fmt.Errorf("%w %q", ErrUnknownApp, id)
}

// Cohort is when the account's first application was created (its opening
// if it has none yet): Tencent's rules for an account follow that date,
// not the account's (for instance, which accounts pay for cloud recording;
// see ValueAddedService.From). A legacy account's is its opening.
func (a *Account) Cohort() time.Time {
	if len(a.Apps) == 0 {
		return a.Opened
	}
	return a.Apps[0].Created
}

// disabled reports whether the application was disabled at instant at.
func (p *App) disabled(at time.Time) bool {
	for _, d := range p.Disabled {
		if !at.Before(d.Since) && (d.Until.IsZero() || at.Before(d.Until)) {
			return true
		}
	}
	return false
}

// anyPostpaid reports whether the switch of one of a's applications, or
// the account's, is on: the account's bills then bill its shortfall.
func (a *Account) anyPostpaid() bool {
	if a.Postpaid.On {
		return true
	}
	for i := range a.Apps {
		if a.Apps[i].Postpaid.On {
			return true
		}
	}
	return false
}

// allPostpaid reports whether the switch of every application of a is on.
func (a *Account) allPostpaid() bool {
	for i := range a.Apps {
		if !a.Apps[i].Postpaid.On {
			return false
		}
	}
	return true
}

// allSuspended reports whether every application of a is suspended.
func (a *Account) allSuspended() bool {
	for i := range a.Apps {
		if !a.Apps[i].Status.Suspended {
			return false
		}
	}
	return true
}

// cloneApps returns a copy of apps that shares no memory with it.
func cloneApps(apps []App) []App {
	apps = slices.Clone(apps)
	for i := range apps {
		apps[i].Suspensions = slices.Clone(apps[i].Suspensions)
		apps[i].Disabled = slices.Clone(apps[i].Disabled)
	}
	return apps
}

// appsConsistent reports whether the applications of a are: ids unique,
// created on or after the opening, switches and statuses consistent, none
// suspended with its switch on, every switch on if the account's is,
// disablings in order with only the last open.
func appsConsistent(a *Account) bool {
	if len(a.Apps) > MaxApps && (len(a.Apps) > MaxApps+1 || a.created(LegacyApp) < 0) {
		return false
	}
	for i := range a.Apps {
		p := &a.Apps[i]
		if a.created(p.ID) != i || p.Created.Before(a.Opened) || !p.Postpaid.consistent() || !p.Status.consistent() ||
			(p.Status.Suspended && p.Postpaid.On) || (a.Postpaid.On && !p.Postpaid.On) {
			return false
		}
		for j, d := range p.Disabled {
			if d.Since.IsZero() || (d.Until.IsZero() && j < len(p.Disabled)-1) || (!d.Until.IsZero() && d.Until.Before(d.Since)) {
				return false
			}
		}
	}
	return true
}

// AppState is an application's switch and status at a checkpoint.
type AppState struct {
	Postpaid Postpaid
	Status   Status
	// Suspensions is how many of the application's Suspensions had ended
	// at the checkpoint.
	Suspensions int
}

// appStates returns the states of a's applications, in order.
func appStates(a *Account) []AppState {
	s := make([]AppState, len(a.Apps))
	for i := range a.Apps {
		p := &a.Apps[i]
		s[i] = AppState{Postpaid: p.Postpaid, Status: p.Status, Suspensions: len(p.Suspensions)}
	}
	return s
}

// restore sets the switches and statuses of the applications of a to
// those of checkpoint c; an application created after c is as it was
// created: its own choice, or the account switch of c.
func restore(a *Account, c *Checkpoint) {
	a.Apps = cloneApps(a.Apps)
	for i := range a.Apps {
		p := &a.Apps[i]
		if i < len(c.Apps) {
			s := &c.Apps[i]
			p.Postpaid, p.Status = s.Postpaid, s.Status
			p.Suspensions = p.Suspensions[:min(s.Suspensions, len(p.Suspensions))]
			continue
		}
		p.Status, p.Suspensions = Status{}, nil
		switch {
		case p.Postpaid.Way == PostpaidAtCreation:
		case c.Postpaid.On:
			p.Postpaid = Postpaid{On: true, Since: p.Created, Way: c.Postpaid.Way}
		default:
			p.Postpaid = Postpaid{}
		}
	}
}
