package billing

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Errors returned by the Engine and by Store implementations. Test for them
// with [errors.Is]; the text may change. Every error an [Engine] method returns
// is an [*Error] that wraps one of these (or a context error).
var (
	// ErrNotFound: the account (or, from a Store, the record) does not exist.
	ErrNotFound = errors.New("billing: not found")
	// ErrExists: a Store was asked to insert a usage, purchase or ledger entry
	// whose key is already stored. The Engine retries the operation on it.
	ErrExists = errors.New("billing: already exists")
	// ErrConflict: a Store detected a concurrent change to the account (a stale
	// Version). The Engine retries the operation on it.
	ErrConflict = errors.New("billing: concurrent update")
	// ErrIdempotencyConflict: an id (account, usage or purchase id) was reused
	// with a request that differs from the first one.
	ErrIdempotencyConflict = errors.New("billing: id reused with a different request")
	// ErrCorrupt: a Store handed back state that breaks an invariant the Engine
	// never breaks (postpaid switch fields that disagree, a negative balance,
	// a meter whose parts do not add up; under GuardSwitch, a switch gone from
	// on to off). The Engine refuses to act on it.
	ErrCorrupt = errors.New("billing: store returned corrupt state")

	// ErrInvalidID: an account, usage, purchase or application id is empty,
	// longer than MaxIDLength bytes, not UTF-8, contains a control character,
	// or is reserved.
	ErrInvalidID = errors.New("billing: invalid id")
	// ErrInvalidSeconds: a usage's seconds are not in 1..MaxUsageSeconds, or
	// would overflow its meter.
	ErrInvalidSeconds = errors.New("billing: invalid seconds")
	// ErrInvalidTime: a usage has the zero time, a month is not 1..12, or a
	// date, a usage's time, an instant asked about or the Engine's clock
	// falls on a day outside MinDay..MaxDay (the years 1 to 9999).
	ErrInvalidTime = errors.New("billing: invalid time")
	// ErrFutureUsage: a usage's time is after the Engine's clock.
	ErrFutureUsage = errors.New("billing: usage time is in the future")
	// ErrBeforeOpened: a usage's time is before the account was opened, or
	// before its application was created.
	ErrBeforeOpened = errors.New("billing: before the account was opened or its application created")
	// ErrUnknownApp: the usage (or the call) names an application the
	// account has not created.
	ErrUnknownApp = errors.New("billing: unknown application")
	// ErrTooManyApps: the account has MaxApps applications already.
	ErrTooManyApps = errors.New("billing: too many applications")
	// ErrAppDisabled: an Admission's reason: the host disabled the
	// application (see [Engine.DisableApp]). Usage reported for that time
	// is still recorded and billed.
	ErrAppDisabled = errors.New("billing: application disabled")
	// ErrUnknownScenario: the price book of the usage's day has no such scenario.
	ErrUnknownScenario = errors.New("billing: unknown scenario")
	// ErrUnknownService: the price book of the usage's day does not price that service.
	ErrUnknownService = errors.New("billing: unknown service")
	// ErrNoBasicService: an Admission's reason: a new session cannot start,
	// as nothing could pay for basic usage of its application then (no
	// package valid then has minutes left now, the application's postpaid
	// is off, and no universal package was bought); for a value-added
	// service, also when the application is suspended or disabled, or the
	// account is in arrears.
	ErrNoBasicService = errors.New("billing: no basic service")
	// ErrDayNotEnded: Settle was asked for a day that has not ended yet in the
	// billing time zone.
	ErrDayNotEnded = errors.New("billing: day has not ended")
	// ErrDayClosed: Settle was asked for a day that was closed without a bill
	// (it had nothing to bill when a later day was settled), or that is
	// before the account was opened.
	ErrDayClosed = errors.New("billing: day closed without a bill")
	// ErrSettleOrder: Settle was asked for a day while an earlier day with
	// usage is not settled yet; days are settled in order.
	ErrSettleOrder = errors.New("billing: an earlier day is not settled")
	// ErrUnknownTier: the price book of the usage's day has no such tier.
	ErrUnknownTier = errors.New("billing: unknown tier")
	// ErrTierNotInScenario: a video tier was used in an audio scenario.
	ErrTierNotInScenario = errors.New("billing: tier not allowed in scenario")
	// ErrNoPriceBook: no price book of the account's currency prices the
	// billing day (or no book has that currency), or a package's book is not
	// among the Engine's books.
	ErrNoPriceBook = errors.New("billing: no price book in force")
	// ErrUnknownKind: the price book has no purchasable package kind of that name.
	ErrUnknownKind = errors.New("billing: unknown package kind")
	// ErrInvalidMinutes: a package size is not a positive multiple of its
	// kind's unit, or exceeds MaxPackageMinutes.
	ErrInvalidMinutes = errors.New("billing: invalid package size")
	// ErrNotStackable: a package of a kind that does not stack
	// (PackageKind.NoStacking) is still in its validity for the same
	// application, so the purchase is refused.
	ErrNotStackable = errors.New("billing: package does not stack")
	// ErrSuspended: an Admission's reason: the application is suspended
	// (trial or packages ran out with its postpaid switch off) from then
	// until a package is bought or granted or postpaid is enabled, or the account is
	// suspended for arrears, and no new session may start. Usage
	// reported for that time is still recorded.
	ErrSuspended = errors.New("billing: suspended")
	// ErrInArrears: an Admission's reason, with ErrSuspended: the account is
	// suspended for arrears (see [Engine.ReportOverdue]) until they are
	// reported paid. Usage reported for that time is still recorded and
	// billed.
	ErrInArrears = errors.New("billing: account in arrears")
	// ErrNotRefundable: Refund was asked for a package that cannot be
	// refunded (granted, of a kind that is not Refundable, not settled since
	// its purchase, ended, used up or refunded).
	ErrNotRefundable = errors.New("billing: package not refundable")
	// ErrNotYetRefundable: Refund was asked for a package that can be
	// refunded once a day more is settled (its purchase day, or, on an
	// account recorded before operations had keys, any day).
	ErrNotYetRefundable = errors.New("billing: package not refundable yet")
	// ErrInvalidDiscount: a refund's discount is not in (0, 1] with up to 8
	// decimals.
	ErrInvalidDiscount = errors.New("billing: invalid discount")
	// ErrInvalidResolution: a width or height is not in 1..MaxDimension, or no
	// stream was given.
	ErrInvalidResolution = errors.New("billing: invalid resolution")
	// ErrInvalidPriceBook: a price book is incomplete or inconsistent.
	ErrInvalidPriceBook = errors.New("billing: invalid price book")
	// ErrInvalidOptions: New was given a nil Store or unusable Options.
	ErrInvalidOptions = errors.New("billing: invalid options")
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

// Error returns the operation, account and id, then the cause, as in
// `billing: Record account "acme" id "u2": unknown tier "8k" in book "era1-usd"`.
func (e *Error) Error() string {
	s := "billing: " + e.Op + " account " + quote(e.Account)
	if e.ID != "" {
		s += " id " + quote(e.ID)
	}
	return s + ": " + strings.TrimPrefix(e.Err.Error(), "billing: ")
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

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
