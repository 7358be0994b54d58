package billing

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// Errors returned by the Engine and by Store implementations. Test for them
// with [errors.Is]; the text may change. Every error an [Engine] method returns
// is an [*Error] that wraps one of these (or a context error).
//
// Their texts do not name the package: an error wraps them, and it is the
// outermost error, an [*Error] or the error of one of the package's
// functions, that starts its message with "billing: ", once. A Store
// wraps them with its own words, as in `memstore: purchase "p1": not found`.
var (
	// ErrNotFound: the account (or, from a Store, the record) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists: a Store was asked to insert a usage, purchase or ledger entry
	// whose key is already stored. The Engine retries the operation on it.
	ErrExists = errors.New("already exists")
	// ErrConflict: a Store detected a concurrent change to the account (a stale
	// Version). The Engine retries the operation on it.
	ErrConflict = errors.New("concurrent update")
	// ErrIdempotencyConflict: an id (account, usage or purchase id) was reused
	// with a request that differs from the first one.
	ErrIdempotencyConflict = errors.New("id reused with a different request")
	// ErrCorrupt: a Store handed back state that breaks an invariant the Engine
	// never breaks (postpaid switch fields that disagree, a negative balance,
	// a meter whose parts do not add up; under GuardSwitch, a switch gone from
	// on to off). The Engine refuses to act on it.
	ErrCorrupt = errors.New("store returned corrupt state")

	// ErrInvalidID: an account, usage, purchase or application id is empty,
	// longer than MaxIDLength bytes, not UTF-8, contains a control character,
	// or is reserved.
	ErrInvalidID = errors.New("invalid id")
	// ErrInvalidSeconds: a usage's seconds are not in 1..MaxUsageSeconds, or
	// would overflow its meter.
	ErrInvalidSeconds = errors.New("invalid seconds")
	// ErrInvalidTime: a usage has the zero time, a month is not 1..12, or a
	// date, a usage's time, an instant asked about or the Engine's clock
	// falls on a day outside MinDay..MaxDay (the years 1 to 9999).
	ErrInvalidTime = errors.New("invalid time")
	// ErrFutureUsage: a usage's time is after the Engine's clock.
	ErrFutureUsage = errors.New("usage time is in the future")
	// ErrBeforeOpened: a usage's time is before the account was opened, or
	// before its application was created.
	ErrBeforeOpened = errors.New("before the account was opened or its application created")
	// ErrUnknownApp: the usage (or the call) names an application the
	// account has not created.
	ErrUnknownApp = errors.New("unknown application")
	// ErrTooManyApps: the account has MaxApps applications already.
	ErrTooManyApps = errors.New("too many applications")
	// ErrAppDisabled: an Admission's reason: the host disabled the
	// application (see [Engine.DisableApp]). Usage reported for that time
	// is still recorded and billed.
	ErrAppDisabled = errors.New("application disabled")
	// ErrUnknownScenario: the price book of the usage's day has no such scenario.
	ErrUnknownScenario = errors.New("unknown scenario")
	// ErrUnknownService: the price book of the usage's day does not price that service.
	ErrUnknownService = errors.New("unknown service")
	// ErrNoBasicService: an Admission's reason: a new session cannot start,
	// as nothing could pay for basic usage of its application then (no
	// package valid then has minutes left now, the application's postpaid
	// is off, and no universal package was bought); for a value-added
	// service, also when the application is suspended or disabled, or the
	// account is in arrears.
	ErrNoBasicService = errors.New("no basic service")
	// ErrDayNotEnded: Settle was asked for a day that has not ended yet in the
	// billing time zone.
	ErrDayNotEnded = errors.New("day has not ended")
	// ErrDayClosed: Settle was asked for a day that was closed without a bill
	// (it had nothing to bill when a later day was settled), or that is
	// before the account was opened.
	ErrDayClosed = errors.New("day closed without a bill")
	// ErrSettleOrder: Settle was asked for a day while an earlier day with
	// usage is not settled yet; days are settled in order.
	ErrSettleOrder = errors.New("an earlier day is not settled")
	// ErrUnknownTier: the price book of the usage's day has no such tier.
	ErrUnknownTier = errors.New("unknown tier")
	// ErrTierNotInScenario: a video tier was used in an audio scenario.
	ErrTierNotInScenario = errors.New("tier not allowed in scenario")
	// ErrNoPriceBook: no price book of the account's currency prices the
	// billing day (or no book has that currency), or a package's book is not
	// among the Engine's books.
	ErrNoPriceBook = errors.New("no price book in force")
	// ErrUnknownKind: the price book has no purchasable package kind of that name.
	ErrUnknownKind = errors.New("unknown package kind")
	// ErrInvalidMinutes: a package size is not a positive multiple of its
	// kind's unit, or exceeds MaxPackageMinutes.
	ErrInvalidMinutes = errors.New("invalid package size")
	// ErrNotStackable: a package of a kind that does not stack
	// (PackageKind.NoStacking) is still in its validity for the same
	// application, so the purchase is refused.
	ErrNotStackable = errors.New("package does not stack")
	// ErrSuspended: an Admission's reason: the application is suspended
	// (trial or packages ran out with its postpaid switch off) from then
	// until a package is bought or granted or postpaid is enabled, or the account is
	// suspended for arrears, and no new session may start. Usage
	// reported for that time is still recorded.
	ErrSuspended = errors.New("suspended")
	// ErrInArrears: an Admission's reason, with ErrSuspended: the account is
	// suspended for arrears (see [Engine.ReportOverdue]) until they are
	// reported paid. Usage reported for that time is still recorded and
	// billed.
	ErrInArrears = errors.New("account in arrears")
	// ErrNotRefundable: Refund was asked for a package that cannot be
	// refunded (granted, of a kind that is not Refundable, not settled since
	// its purchase, ended, used up or refunded).
	ErrNotRefundable = errors.New("package not refundable")
	// ErrNotYetRefundable: Refund was asked for a package that can be
	// refunded once a day more is settled (its purchase day, or, on an
	// account recorded before operations had keys, any day).
	ErrNotYetRefundable = errors.New("package not refundable yet")
	// ErrInvalidDiscount: a refund's discount is not in (0, 1] with up to 8
	// decimals.
	ErrInvalidDiscount = errors.New("invalid discount")
	// ErrInvalidResolution: a width or height is not in 1..MaxDimension, or no
	// stream was given.
	ErrInvalidResolution = errors.New("invalid resolution")
	// ErrInvalidPriceBook: a price book is incomplete or inconsistent.
	ErrInvalidPriceBook = errors.New("invalid price book")
	// ErrInvalidOptions: New was given a nil Store or unusable Options.
	ErrInvalidOptions = errors.New("invalid options")
)

// Error is the error type of every Engine method: the operation, the account
// and the request id it failed on, and the cause, which wraps one of the
// package's sentinel errors or a context error.
type Error struct {
	Op      string // the Engine method: "OpenAccount", "Buy", "Record", ...
	Account string // the account id
	ID      string // the usage or purchase id, if the operation has one
	Err     error
}

// Error returns the operation, the account and the id (those that are not
// empty), then the cause, as in
// `billing: Record account "acme" id "u2": unknown tier "8k" in book "era1-usd"`.
func (e *Error) Error() string { return "billing: " + e.text() }

// text is e's message without the package's name.
func (e *Error) text() string {
	s := e.Op
	if e.Account != "" {
		s += " account " + quote(e.Account)
	}
	if e.ID != "" {
		s += " id " + quote(e.ID)
	}
	return s + ": " + bare(e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// prefixed is the error of one of the package's functions that are not
// Engine methods (New, DayOf, a PriceBook's tiers) and of an Admission's
// reason: its message is the package's name, then the cause's.
type prefixed struct{ error }

// Error returns the package's name, then the cause's message.
func (p prefixed) Error() string { return "billing: " + bare(p.error) }

// Unwrap returns the cause.
func (p prefixed) Unwrap() error { return p.error }

// public returns err, unless nil, as the error of one of the package's
// functions: prefixed once, however often it is called on the way out.
func public(err error) error {
	switch err.(type) {
	case nil, prefixed, *Error:
		return err
	}
	return prefixed{err}
}

// bare returns the message of err, the cause of an [*Error] or of a
// prefixed error, without the package's name, which the outer error gives:
// an Engine method may fail on an error of one of the package's functions,
// or of another method.
func bare(err error) string {
	switch e := err.(type) {
	case prefixed:
		return bare(e.error)
	case *Error:
		return e.text()
	}
	return err.Error()
}

// refusal is an error that refuses one request (one usage of a batch) and
// writes nothing, as opposed to one that fails the whole unit of work (a
// Store error, corrupt state). The Engine marks refusals where they arise.
type refusal struct{ error }

func (r refusal) Unwrap() error { return r.error }

// refuse marks err as a refusal.
func refuse(err error) error { return refusal{err} }

// refused reports whether err is a refusal.
func refused(err error) bool { return err != nil && errors.As(err, new(refusal)) }

// cause returns err without its refusal mark, for an [*Error].
func cause(err error) error {
	if r, ok := err.(refusal); ok {
		return r.error
	}
	return err
}

// quote quotes s for an error message, cutting it after 64 bytes, at a
// rune boundary (an invalid id may have none near: then at 64 bytes).
func quote(s string) string {
	const max = 64
	if len(s) > max {
		cut := max
		for i := max; i > max-utf8.UTFMax; i-- {
			if utf8.RuneStart(s[i]) {
				cut = i
				break
			}
		}
		s = s[:cut] + "…"
	}
	return strconv.Quote(s)
}
