package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The bundled sample: a month of usage of account acme, and room events of
// account globex (see README.md for its bill, computed by hand).
var (
	//go:embed testdata/sample.csv
	sampleCSV []byte
	//go:embed testdata/events.csv
	eventsCSV []byte
)

// demoSteps is the billing flow the demo runs, each step a command line
// with its own clock; {dir} is where the sample files are.
var demoSteps = [][]string{
	{"--now", "2021-03-01T09:00:00+08:00", "open", "acme", "--app", "1400000001"},
	{"--now", "2021-03-01T09:05:00+08:00", "app", "create", "acme", "1400000002"},
	{"--now", "2021-03-01T09:10:00+08:00", "buy", "acme", "order-1", "--kind", "universal", "--minutes", "25000"},
	{"--now", "2021-03-01T09:00:00+08:00", "open", "globex", "--app", "1400000003"},
	{"--now", "2021-04-01T12:00:00+08:00", "import", "usage", "{dir}/sample.csv"},
	{"--now", "2021-04-01T12:00:00+08:00", "import", "usage", "{dir}/sample.csv"},
	{"--now", "2021-04-01T12:00:00+08:00", "import", "events", "{dir}/events.csv"},
	{"--now", "2021-04-01T12:00:00+08:00", "settle"},
	{"--now", "2021-04-01T12:00:00+08:00", "statement", "acme", "2021-03"},
	{"--now", "2021-04-01T12:00:00+08:00", "statement", "globex", "2021-03"},
	{"--now", "2021-04-01T12:00:00+08:00", "overview", "acme"},
}

func demoCommand() command {
	return command{
		name:    "demo",
		summary: "run the whole billing flow on the bundled sample, printing each command and its output",
		help: "It opens two accounts, creates an application, buys a package, imports a month of\n" +
			"usage (twice: nothing is recorded twice) and a room's events, settles the due days\n" +
			"and prints the statements and an overview. Without --db or --dsn it uses a\n" +
			"temporary SQLite file, removed afterwards.\n",
		run: func(ctx context.Context, c *cli, args []string) error {
			if err := wantArgs(args, 0, 0); err != nil {
				return err
			}
			dir, err := os.MkdirTemp("", "rtcbill-demo-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			for name, data := range map[string][]byte{"sample.csv": sampleCSV, "events.csv": eventsCSV} {
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
					return err
				}
			}
			global := []string{"--books", c.g.books, "--tz", c.g.tz}
			switch {
			case c.g.dsn != "":
				global = append(global, "--dsn", c.g.dsn)
			case c.g.dbSet:
				global = append(global, "--db", c.g.db)
			default:
				global = append(global, "--db", filepath.Join(dir, "demo.db"))
			}
			for _, step := range demoSteps {
				args := make([]string, len(step))
				for i, a := range step {
					args[i] = strings.ReplaceAll(a, "{dir}", dir)
				}
				fmt.Fprintf(c.stdout, "$ rtcbill %s\n", strings.ReplaceAll(strings.Join(step, " "), "{dir}", "testdata"))
				sub := &cli{stdout: c.stdout, stderr: c.stderr}
				if code := sub.main(ctx, append(global[:len(global):len(global)], args...)); code != exitOK {
					return fmt.Errorf("step %q exited with status %d", strings.Join(step, " "), code)
				}
				fmt.Fprintln(c.stdout)
			}
			return nil
		},
	}
}

// markSet records in g which global flags the command line set.
func (g *globals) markSet(fs *flag.FlagSet) {
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "db" {
			g.dbSet = true
		}
	})
}
