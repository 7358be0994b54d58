package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/rtcbill/billing"
)

// formatFlag registers --format with the formats a command prints.
func formatFlag(c *cli, fs *flag.FlagSet, formats string) {
	fs.StringVar(&c.format, "format", "table", "the output `format`: "+formats)
}

// checkFormat refuses a --format the command does not print.
func (c *cli) checkFormat(formats ...string) error {
	for _, f := range formats {
		if c.format == f {
			return nil
		}
	}
	return usageErrorf("--format: want one of %v, not %q", formats, c.format)
}

func openCommand() command {
	return command{
		name:    "open",
		args:    "ACCOUNT",
		summary: "open an account, with its first application (--app), which brings the trial",
		flags: func(c *cli, fs *flag.FlagSet) {
			fs.StringVar(&c.app, "app", "", "the `id` of the account's first application (SDKAppID)")
			fs.StringVar(&c.currency, "currency", "", "the account's `currency` (USD or CNY); default USD")
			fs.BoolVar(&c.postpaid, "postpaid", false, "keep every application running on postpaid at list price once the trial runs out")
			formatFlag(c, fs, "table or json")
		},
		run: func(ctx context.Context, c *cli, args []string) error {
			if err := wantArgs(args, 1, 1); err != nil {
				return err
			}
			return c.accountCommand(ctx, func() (billing.Account, error) {
				return c.engine.OpenAccount(ctx, billing.AccountSpec{ID: args[0], Currency: c.currency, Postpaid: c.postpaid, App: c.app})
			})
		},
	}
}

// appCommands are the subcommands of "app".
func appCommands() []command {
	type op func(ctx context.Context, e *billing.Engine, account, app string, postpaid bool) (billing.Account, error)
	mk := func(name, args, summary string, withPostpaid bool, minArgs int, f op) command {
		return command{
			name:    "app " + name,
			args:    args,
			summary: summary,
			flags: func(c *cli, fs *flag.FlagSet) {
				if withPostpaid {
					fs.BoolVar(&c.postpaid, "postpaid", false, "keep the application running on postpaid at list price once no package covers its usage")
				}
				formatFlag(c, fs, "table or json")
			},
			run: func(ctx context.Context, c *cli, args []string) error {
				if err := wantArgs(args, minArgs, 2); err != nil {
					return err
				}
				app := ""
				if len(args) == 2 {
					app = args[1]
				}
				return c.accountCommand(ctx, func() (billing.Account, error) {
					return f(ctx, c.engine, args[0], app, c.postpaid)
				})
			},
		}
	}
	return []command{
		mk("create", "ACCOUNT APP", "create an application (SDKAppID) of an account", true, 2,
			func(ctx context.Context, e *billing.Engine, account, app string, postpaid bool) (billing.Account, error) {
				return e.CreateApp(ctx, account, billing.AppSpec{ID: app, Postpaid: postpaid})
			}),
		mk("disable", "ACCOUNT APP", "disable an application: no new session may start; usage is still billed", false, 2,
			func(ctx context.Context, e *billing.Engine, account, app string, _ bool) (billing.Account, error) {
				return e.DisableApp(ctx, account, app)
			}),
		mk("enable", "ACCOUNT APP", "enable an application disabled before", false, 2,
			func(ctx context.Context, e *billing.Engine, account, app string, _ bool) (billing.Account, error) {
				return e.EnableApp(ctx, account, app)
			}),
		mk("postpaid", "ACCOUNT [APP]", "turn an application's postpaid switch on, or every application's if none is named; it never goes off", false, 1,
			func(ctx context.Context, e *billing.Engine, account, app string, _ bool) (billing.Account, error) {
				return e.EnablePostpaid(ctx, account, app)
			}),
	}
}

// accountCommand runs a command that changes an account and prints it.
func (c *cli) accountCommand(ctx context.Context, f func() (billing.Account, error)) error {
	if err := c.checkFormat("table", "json"); err != nil {
		return err
	}
	done, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer done()
	a, err := f()
	if err != nil {
		return err
	}
	if c.format == "json" {
		return writeJSON(c.stdout, a)
	}
	return writeAccount(c.stdout, a, c.engine.Location())
}

func buyCommand() command {
	return command{
		name:    "buy",
		args:    "ACCOUNT PURCHASE-ID",
		summary: "buy a package; PURCHASE-ID is the idempotency key and the package's id",
		flags: func(c *cli, fs *flag.FlagSet) {
			fs.StringVar(&c.kind, "kind", billing.KindUniversal, "the package `kind`")
			fs.Int64Var(&c.minutes, "minutes", 0, "the package's size in `minutes` (a multiple of the kind's unit: 1000 for universal)")
			fs.StringVar(&c.app, "app", "", "the `application` a package of a kind bound to one is bought for")
			formatFlag(c, fs, "table or json")
		},
		run: func(ctx context.Context, c *cli, args []string) error {
			if err := wantArgs(args, 2, 2); err != nil {
				return err
			}
			if err := c.checkFormat("table", "json"); err != nil {
				return err
			}
			done, err := c.open(ctx)
			if err != nil {
				return err
			}
			defer done()
			r, err := c.engine.Buy(ctx, billing.Purchase{ID: args[1], Account: args[0], Kind: c.kind, Minutes: c.minutes, App: c.app})
			if err != nil {
				return err
			}
			if c.format == "json" {
				return writeJSON(c.stdout, r)
			}
			return writePurchase(c.stdout, r, c.engine.Location())
		},
	}
}

func settleCommand() command {
	return command{
		name:    "settle",
		args:    "[ACCOUNT...]",
		summary: "settle every due day (or month) of every account, or of the accounts named, and print the bills",
		help: "A day is due from 10:00 the next day in the billing time zone (--now sets the clock).\n" +
			"Settling is idempotent: a settled day is no longer due, so a run stopped halfway\n" +
			"and run again settles what is left. Without accounts named, it settles every\n" +
			"account of the store (Engine.SettleDue), several at once (--workers); an account\n" +
			"that fails is reported on stderr and the others go on.\n",
		flags: func(c *cli, fs *flag.FlagSet) {
			fs.IntVar(&c.workers, "workers", 4, "how many `accounts` to settle at once, without accounts named")
			fs.StringVar(&c.after, "after", "", "settle only the accounts whose `id` is after this one (to resume a run), without accounts named")
			formatFlag(c, fs, "table, csv or json")
		},
		run: func(ctx context.Context, c *cli, args []string) error {
			if err := c.checkFormat("table", "csv", "json"); err != nil {
				return err
			}
			done, err := c.open(ctx)
			if err != nil {
				return err
			}
			defer done()
			now := c.g.clock()
			var bills []billing.Bill
			if len(args) == 0 {
				_, err := c.engine.SettleDue(ctx, now, &billing.SettleOptions{
					After:   c.after,
					Workers: c.workers,
					Progress: func(p billing.SettleProgress) {
						bills = append(bills, p.Bills...)
						if p.Err != nil {
							fmt.Fprintf(c.stderr, "rtcbill settle: %v (resume with --after %q)\n", p.Err, p.Through)
						}
					},
				})
				if werr := c.writeBills(bills); err == nil {
					err = werr
				}
				return err
			}
			for _, account := range args {
				days, err := c.engine.DueDays(ctx, account, now)
				if err != nil {
					return err
				}
				for _, d := range days {
					b, err := c.engine.Settle(ctx, account, d)
					if err != nil {
						return err
					}
					bills = append(bills, b)
				}
			}
			return c.writeBills(bills)
		},
	}
}

func statementCommand() command {
	return command{
		name:    "statement",
		args:    "ACCOUNT YYYY-MM",
		summary: "print an account's month: what its bills charged per service and tier, and their total",
		flags:   func(c *cli, fs *flag.FlagSet) { formatFlag(c, fs, "table, csv or json") },
		run: func(ctx context.Context, c *cli, args []string) error {
			if err := wantArgs(args, 2, 2); err != nil {
				return err
			}
			if err := c.checkFormat("table", "csv", "json"); err != nil {
				return err
			}
			month, err := time.Parse("2006-01", args[1])
			if err != nil {
				return usageErrorf("want a month as YYYY-MM, not %q", args[1])
			}
			done, err := c.open(ctx)
			if err != nil {
				return err
			}
			defer done()
			s, err := c.engine.Statement(ctx, args[0], month.Year(), month.Month())
			if err != nil {
				return err
			}
			return c.writeStatement(s)
		},
	}
}

func overviewCommand() command {
	return command{
		name:    "overview",
		args:    "ACCOUNT",
		summary: "print an account as it stands: applications, packages, today's meters",
		flags:   func(c *cli, fs *flag.FlagSet) { formatFlag(c, fs, "table, csv or json") },
		run: func(ctx context.Context, c *cli, args []string) error {
			if err := wantArgs(args, 1, 1); err != nil {
				return err
			}
			if err := c.checkFormat("table", "csv", "json"); err != nil {
				return err
			}
			done, err := c.open(ctx)
			if err != nil {
				return err
			}
			defer done()
			o, err := c.engine.Overview(ctx, args[0])
			if err != nil {
				return err
			}
			return c.writeOverview(o)
		},
	}
}

func ledgerCommand() command {
	return command{
		name:    "ledger",
		args:    "ACCOUNT",
		summary: "print an account's ledger: every balance, switch and status change",
		flags: func(c *cli, fs *flag.FlagSet) {
			fs.StringVar(&c.from, "from", "", "the first `time` (RFC 3339) of the entries printed; default the first")
			fs.StringVar(&c.to, "to", "", "the `time` (RFC 3339) the entries printed end before; default no end")
			formatFlag(c, fs, "table, csv or json")
		},
		run: func(ctx context.Context, c *cli, args []string) error {
			if err := wantArgs(args, 1, 1); err != nil {
				return err
			}
			if err := c.checkFormat("table", "csv", "json"); err != nil {
				return err
			}
			from, err := parseOptionalTime("--from", c.from)
			if err != nil {
				return err
			}
			to, err := parseOptionalTime("--to", c.to)
			if err != nil {
				return err
			}
			done, err := c.open(ctx)
			if err != nil {
				return err
			}
			defer done()
			entries, err := c.engine.Ledger(ctx, args[0], from, to)
			if err != nil {
				return err
			}
			return c.writeLedger(entries)
		},
	}
}

// parseOptionalTime parses an RFC 3339 time; empty is the zero time.
func parseOptionalTime(flagName, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usageErrorf("%s: want an RFC 3339 time, not %q", flagName, s)
	}
	return t, nil
}

// itoa formats an int64.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// boolString formats a flag for a table: "yes" or "".
func boolString(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

// timeString formats an instant in the billing time zone, "" for zero.
func timeString(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format(time.RFC3339)
}
