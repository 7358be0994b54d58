// Command rtcbill runs the billing flow of package billing from a shell: it
// opens accounts and applications, buys packages, imports usage and room
// events from CSV or JSON Lines files, settles due days and prints
// statements, overviews and ledgers as a table, CSV or JSON.
//
// Usage:
//
//	rtcbill [global flags] command [flags] [arguments]
//
// Run "rtcbill help" for the commands, "rtcbill help command" for one of
// them, and see README.md for the columns of the files it imports.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/rtcbill/billing"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK     = 0 // done
	exitFailed = 1 // the command failed, or an import refused lines
	exitUsage  = 2 // the command line is wrong
)

// usageHeader is the first line of the help.
const usageHeader = "usage: rtcbill [global flags] command [flags] [arguments]"

// errUsage marks an error in the command line: run prints the command's
// help with it and exits with exitUsage.
var errUsage = errors.New("usage")

// errRefused is returned by an import that recorded what it could and
// refused some lines: run exits with exitFailed.
var errRefused = errors.New("some lines were refused")

// command is one subcommand.
type command struct {
	name    string
	args    string // the positional arguments, for the help
	summary string
	help    string // more help, printed by "rtcbill help name"
	// flags registers the command's own flags on fs.
	flags func(c *cli, fs *flag.FlagSet)
	// run runs the command with its positional arguments.
	run func(ctx context.Context, c *cli, args []string) error
}

// commands lists the subcommands in the order of the help.
func commands() []command {
	cmds := []command{openCommand()}
	cmds = append(cmds, appCommands()...)
	cmds = append(cmds, buyCommand(), importUsageCommand(), importEventsCommand())
	return append(cmds,
		settleCommand(),
		statementCommand(),
		overviewCommand(),
		ledgerCommand(),
		demoCommand(),
	)
}

// run runs the command line args (without the program name), writing the
// command's output to stdout and messages to stderr, and returns the exit
// status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &cli{stdout: stdout, stderr: stderr}
	return c.main(ctx, args)
}

// cli holds the global flags and the state of one run.
type cli struct {
	stdout, stderr io.Writer
	// progressTerminal reports whether stderr is a terminal, where the
	// progress of an import is shown without --progress.
	progressTerminal bool

	g globals
	// Flags of the command being run, registered by its flags function.
	format     string
	progress   bool
	batchSize  int
	fileFormat string
	app        string
	currency   string
	postpaid   bool
	kind       string
	minutes    int64
	from, to   string
	book       string
	lateness   time.Duration
	timeout    time.Duration
	workers    int
	after      string

	engine *billing.Engine
}

// globals are the flags every command takes.
type globals struct {
	db     string // SQLite file
	dsn    string // PostgreSQL DSN; wins over db
	books  string // "era1" or "all"
	now    string // the clock, RFC 3339; empty: the current time
	tz     string // the billing time zone, as ±hh:mm
	noSync bool   // SQLite commits not flushed to disk
	dbSet  bool   // --db was given
}

// defaultGlobals are the global flags' defaults.
func defaultGlobals() globals {
	return globals{db: "rtcbill.db", books: "era1", tz: "+08:00"}
}

// register registers the global flags on fs, their current values as
// defaults (so a command's flag set keeps what the global flags set).
func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.db, "db", g.db, "the SQLite `file` to keep the accounts in (created if missing)")
	fs.StringVar(&g.dsn, "dsn", g.dsn, "a PostgreSQL `DSN` (postgres://user@host/db) to keep the accounts in, instead of --db")
	fs.StringVar(&g.books, "books", g.books, "the price `books`: era1 (Era 1, USD and CNY, for every account) or all (each account by its cohort's era); the same on every run against one database")
	fs.StringVar(&g.now, "now", g.now, "the engine's clock, RFC 3339 `time` (2021-04-01T12:00:00+08:00); default the current time")
	fs.StringVar(&g.tz, "tz", g.tz, "the billing time `zone`, a UTC offset; the same on every run against one database")
	fs.BoolVar(&g.noSync, "nosync", g.noSync, "SQLite: do not flush commits to disk (faster; a power failure may lose the last ones, never half of one: import the file again)")
}

// main runs the command line args and returns the exit status.
func (c *cli) main(ctx context.Context, args []string) int {
	if f, ok := c.stderr.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			c.progressTerminal = true
		}
	}
	c.g = defaultGlobals()
	fs := flag.NewFlagSet("rtcbill", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.g.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.mainHelp(c.stdout)
			return exitOK
		}
		fmt.Fprintf(c.stderr, "rtcbill: %v\n", err)
		c.mainHelp(c.stderr)
		return exitUsage
	}
	c.g.markSet(fs)
	rest := fs.Args()
	if len(rest) == 0 {
		c.mainHelp(c.stderr)
		return exitUsage
	}
	name, rest := rest[0], rest[1:]
	if name == "help" {
		return c.help(rest)
	}
	if name == "import" || name == "app" {
		if len(rest) == 0 {
			fmt.Fprintf(c.stderr, "rtcbill %s: missing subcommand\n", name)
			c.commandHelp(c.stderr, name)
			return exitUsage
		}
		name, rest = name+" "+rest[0], rest[1:]
	}
	cmd, ok := lookup(name)
	if !ok {
		fmt.Fprintf(c.stderr, "rtcbill: unknown command %q\n", name)
		c.mainHelp(c.stderr)
		return exitUsage
	}
	cfs := flag.NewFlagSet("rtcbill "+cmd.name, flag.ContinueOnError)
	cfs.SetOutput(io.Discard)
	c.g.register(cfs)
	if cmd.flags != nil {
		cmd.flags(c, cfs)
	}
	pos, err := parseInterleaved(cfs, rest)
	c.g.markSet(cfs)
	if errors.Is(err, flag.ErrHelp) {
		printCommandHelp(c.stdout, cmd, cfs)
		return exitOK
	}
	if err == nil {
		err = cmd.run(ctx, c, pos)
	}
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errUsage) || isFlagError(err):
		fmt.Fprintf(c.stderr, "rtcbill %s: %v\nusage: rtcbill %s [flags] %s (rtcbill help %s: the flags)\n",
			cmd.name, strings.TrimPrefix(err.Error(), errUsage.Error()+": "), cmd.name, cmd.args, cmd.name)
		return exitUsage
	case errors.Is(err, errRefused):
		return exitFailed
	default:
		fmt.Fprintf(c.stderr, "rtcbill %s: %v\n", cmd.name, err)
		return exitFailed
	}
}

// flagError is an error of flag parsing.
type flagError struct{ err error }

func (e flagError) Error() string { return e.err.Error() }

func isFlagError(err error) bool {
	var fe flagError
	return errors.As(err, &fe)
}

// parseInterleaved parses flags that may come before, between and after the
// positional arguments, which it returns. "--" ends the flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, flagError{err}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// lookup returns the command of a name.
func lookup(name string) (command, bool) {
	for _, cmd := range commands() {
		if cmd.name == name {
			return cmd, true
		}
	}
	return command{}, false
}

// help runs "rtcbill help [command]".
func (c *cli) help(args []string) int {
	if len(args) == 0 {
		c.mainHelp(c.stdout)
		return exitOK
	}
	name := strings.Join(args, " ")
	if _, ok := lookup(name); !ok && name != "import" && name != "app" {
		fmt.Fprintf(c.stderr, "rtcbill help: unknown command %q\n", name)
		return exitUsage
	}
	c.commandHelp(c.stdout, name)
	return exitOK
}

// commandHelp prints the help of the command name, or of every command
// whose name begins with name and a space ("import": both imports).
func (c *cli) commandHelp(w io.Writer, name string) {
	for _, cmd := range commands() {
		if cmd.name == name || strings.HasPrefix(cmd.name, name+" ") {
			fs := flag.NewFlagSet("rtcbill "+cmd.name, flag.ContinueOnError)
			g := defaultGlobals()
			g.register(fs)
			if cmd.flags != nil {
				cmd.flags(&cli{}, fs)
			}
			printCommandHelp(w, cmd, fs)
		}
	}
}

// printCommandHelp prints a command's help and the flags of fs.
func printCommandHelp(w io.Writer, cmd command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: rtcbill %s [flags] %s\n\n%s\n", cmd.name, cmd.args, cmd.summary)
	if cmd.help != "" {
		fmt.Fprintf(w, "\n%s", cmd.help)
	}
	fmt.Fprintln(w, "\nflags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// mainHelp prints the commands and the global flags.
func (c *cli) mainHelp(w io.Writer) {
	fmt.Fprintf(w, "%s\n\nrtcbill bills TRTC usage with package billing, keeping the accounts in a SQLite file (--db) or PostgreSQL (--dsn).\n\ncommands:\n", usageHeader)
	for _, cmd := range commands() {
		fmt.Fprintf(w, "  %-17s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprint(w, "  help [command]    this help, or a command's\n\nglobal flags (also accepted after the command):\n")
	fs := flag.NewFlagSet("rtcbill", flag.ContinueOnError)
	g := defaultGlobals()
	g.register(fs)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// usageErrorf returns an error of the command line.
func usageErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// wantArgs checks the number of positional arguments.
func wantArgs(args []string, min, max int) error {
	switch {
	case len(args) < min:
		return usageErrorf("missing arguments")
	case len(args) > max:
		return usageErrorf("unexpected arguments: %s", strings.Join(args[max:], " "))
	}
	return nil
}
