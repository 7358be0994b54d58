package billing

import (
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// The value-added services of the built-in books. They are metered like
// basic services (seconds per day and output tier, rounded up to minutes,
// per day on every cycle), covered only by packages whose kind has ratios
// for them (none of Era 1's), the rest billed postpaid, and usable only
// alongside a basic service.
const (
	// ServiceRecording is on-cloud recording, by the output file's tier.
	ServiceRecording Service = "recording"
	// ServiceMixTranscoding is On-Cloud MixTranscoding, by the output stream's tier.
	ServiceMixTranscoding Service = "mixtranscoding"
	// ServiceRecordingSingle and ServiceRecordingMixed are the China site's
	// cloud recording for applications created from 2022-07-20 (Era1CNY):
	// single-stream recording (a file per stream, 单流录制) and mixed
	// recording (the streams mixed into one file, 合流录制), each input
	// stream billed by its own tier.
	ServiceRecordingSingle Service = "recording-single"
	ServiceRecordingMixed  Service = "recording-mixed"
)

// ValueAddedService is a value-added service's terms in a price book: its
// own tier table and tiering rule, and when it is billed.
type ValueAddedService struct {
	Service Service
	// Tiering is the rule that turns the video the service outputs (or
	// takes in) into its tiers (see [PriceBook.ServiceTiers]).
	Tiering Tiering
	// Tiers are the service's tier table, with its prices per minute (see
	// [TierSpec]). Usage of a tier the table lacks is refused.
	Tiers []TierSpec
	// From is when the book starts billing the service. Accounts whose
	// first application was created at or after From ([Account.Cohort])
	// pay for all their usage.
	From time.Time
	// EarlierAccountsFrom is when billing starts for accounts whose first
	// application was created before From: their usage of earlier days is
	// free (a zero unit price). Zero means the book does not price the
	// service for those accounts (their usage is refused with
	// ErrNoPriceBook).
	EarlierAccountsFrom time.Time
	// AppsFrom and AppsUntil limit the service to the usage of the
	// applications created in [AppsFrom, AppsUntil); zero means no bound.
	// Usage of another application is refused with ErrNoPriceBook. The
	// China site bills the recording of applications created from
	// 2022-07-20 by another model than that of earlier applications.
	AppsFrom, AppsUntil time.Time
}

// valueAdded returns the book's terms for service s.
func (b *PriceBook) valueAdded(s Service) (*ValueAddedService, bool) {
	for i := range b.ValueAdded {
		if b.ValueAdded[i].Service == s {
			return &b.ValueAdded[i], true
		}
	}
	return nil, false
}

// price returns the price of one minute of tier t.
func (v *ValueAddedService) price(t Tier) (decimal.Decimal, bool) {
	if spec, ok := tierOf(v.Tiers, t); ok {
		return spec.Price, true
	}
	return decimal.Decimal{}, false
}

// checkValueAdded checks that the book prices service s in tier t for an
// account of the cohort of instant cohort (see Account.Cohort) and an
// application created at created.
func (b *PriceBook) checkValueAdded(s Service, t Tier, cohort, created time.Time) error {
	v, err := b.valueAddedFor(s, cohort, created)
	if err != nil {
		return err
	}
	if _, ok := v.price(t); !ok {
		return refuse(fmt.Errorf("%w %q for %s in book %q", ErrUnknownTier, t, s, b.ID))
	}
	return nil
}

// valueAddedFor returns the book's terms for service s for an account of
// the cohort of instant cohort and an application created at created, or
// ErrUnknownService or ErrNoPriceBook.
func (b *PriceBook) valueAddedFor(s Service, cohort, created time.Time) (*ValueAddedService, error) {
	v, ok := b.valueAdded(s)
	switch {
	case !ok:
		return nil, refuse(fmt.Errorf("%w %q in book %q", ErrUnknownService, s, b.ID))
	case cohort.Before(v.From) && v.EarlierAccountsFrom.IsZero():
		return nil, refuse(fmt.Errorf("%w: book %q prices %s only for accounts whose first application was created from %s",
			ErrNoPriceBook, b.ID, s, v.From.Format(time.DateOnly)))
	case created.Before(v.AppsFrom):
		return nil, refuse(fmt.Errorf("%w: book %q prices %s only for applications created from %s",
			ErrNoPriceBook, b.ID, s, v.AppsFrom.Format(time.DateOnly)))
	case !v.AppsUntil.IsZero() && !created.Before(v.AppsUntil):
		return nil, refuse(fmt.Errorf("%w: book %q prices %s only for applications created before %s",
			ErrNoPriceBook, b.ID, s, v.AppsUntil.Format(time.DateOnly)))
	}
	return v, nil
}

// free reports whether usage of the service on a day starting at dayStart,
// by an account of the cohort of instant cohort, is free.
func (v *ValueAddedService) free(cohort, dayStart time.Time) bool {
	return cohort.Before(v.From) && dayStart.Before(v.EarlierAccountsFrom)
}

func (b *PriceBook) validateValueAdded() error {
	for i, v := range b.ValueAdded {
		switch {
		case !validID(string(v.Service)) || v.Service == ServiceBasic ||
			slices.ContainsFunc(b.ValueAdded[:i], func(o ValueAddedService) bool { return o.Service == v.Service }):
			return fmt.Errorf("value-added service %q: invalid or repeated name", v.Service)
		case v.Tiering != PerStream && v.Tiering != Aggregate:
			return fmt.Errorf("value-added service %q: unknown tiering %q", v.Service, v.Tiering)
		case len(v.Tiers) == 0:
			return fmt.Errorf("value-added service %q: no tiers", v.Service)
		case !v.EarlierAccountsFrom.IsZero() && v.EarlierAccountsFrom.Before(v.From):
			return fmt.Errorf("value-added service %q: EarlierAccountsFrom before From", v.Service)
		case !v.AppsUntil.IsZero() && !v.AppsUntil.After(v.AppsFrom):
			return fmt.Errorf("value-added service %q: AppsUntil is not after AppsFrom", v.Service)
		}
		if _, _, err := validateTiers(v.Tiers); err != nil {
			return fmt.Errorf("value-added service %q: %w", v.Service, err)
		}
	}
	return nil
}

// checkValueAdded checks value-added usage as input: the book prices the
// service and tier for this account, and the usage has no scenario.
func (e *Engine) checkValueAdded(book *PriceBook, us *Usage, cohort, created time.Time) error {
	if us.Scenario != "" {
		return refuse(fmt.Errorf("%w %q: value-added usage takes no scenario", ErrUnknownScenario, us.Scenario))
	}
	return book.checkValueAdded(us.Service, us.Tier, cohort, created)
}
