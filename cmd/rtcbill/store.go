package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/pgstore"
)

// openStore opens the Store the global flags name: PostgreSQL if --dsn is
// given (its tables created or upgraded first), else the SQLite file of
// --db. It returns the function that closes it.
func openStore(ctx context.Context, g globals) (billing.Store, func() error, error) {
	if g.dsn != "" {
		pool, err := pgxpool.New(ctx, g.dsn)
		if err != nil {
			return nil, nil, fmt.Errorf("--dsn: %w", err)
		}
		if err := pgstore.Migrate(ctx, pool); err != nil {
			pool.Close()
			return nil, nil, err
		}
		return pgstore.New(pool), func() error { pool.Close(); return nil }, nil
	}
	return openSQLite(g.db, g.noSync)
}

// open opens the Store and the Engine (c.engine) the global flags
// describe; the caller closes the Store with the returned function.
func (c *cli) open(ctx context.Context) (func(), error) {
	opts, err := c.g.options()
	if err != nil {
		return nil, err
	}
	store, closeStore, err := openStore(ctx, c.g)
	if err != nil {
		return nil, err
	}
	e, err := billing.New(store, opts)
	if err != nil {
		closeStore()
		return nil, err
	}
	c.engine = e
	return func() {
		if err := closeStore(); err != nil {
			fmt.Fprintf(c.stderr, "rtcbill: closing the store: %v\n", err)
		}
	}, nil
}

// options returns the Engine's options of the global flags.
func (g globals) options() (*billing.Options, error) {
	opts := &billing.Options{}
	switch g.books {
	case "era1":
		opts.PriceBooks = []billing.PriceBook{billing.Era1USD(), billing.Era1CNY()}
	case "all":
		opts.PriceBooks = billing.AllEras()
	default:
		return nil, usageErrorf("--books: want era1 or all, not %q", g.books)
	}
	loc, err := parseZone(g.tz)
	if err != nil {
		return nil, err
	}
	opts.Location = loc
	if g.now != "" {
		now, err := time.Parse(time.RFC3339, g.now)
		if err != nil {
			return nil, usageErrorf("--now: want an RFC 3339 time (2021-04-01T12:00:00+08:00), not %q", g.now)
		}
		opts.Now = func() time.Time { return now }
	}
	return opts, nil
}

// clock returns the time of --now (already validated by options), or
// the current time.
func (g globals) clock() time.Time {
	if g.now != "" {
		if t, err := time.Parse(time.RFC3339, g.now); err == nil {
			return t
		}
	}
	return time.Now()
}

// parseZone parses a UTC offset, ±hh:mm, into a fixed zone.
func parseZone(s string) (*time.Location, error) {
	t, err := time.Parse("-07:00", s)
	if err != nil || (!strings.HasPrefix(s, "+") && !strings.HasPrefix(s, "-")) {
		return nil, usageErrorf("--tz: want a UTC offset such as +08:00, not %q", s)
	}
	_, offset := t.Zone()
	return time.FixedZone("UTC"+s, offset), nil
}
