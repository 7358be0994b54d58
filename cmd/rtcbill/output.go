package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rtcbill/billing"
	"github.com/shopspring/decimal"
)

// table is rows of text under a header, printed aligned or as CSV.
type table struct {
	header []string
	rows   [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// writeText prints the table aligned in columns, its header in capitals.
func (t *table) writeText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(t.header, "\t")))
	for _, r := range t.rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// writeCSV prints the table as CSV, its header first.
func (t *table) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.header); err != nil {
		return err
	}
	if err := cw.WriteAll(t.rows); err != nil {
		return err
	}
	return cw.Error()
}

// write prints the tables in the format of --format ("table" or "csv"),
// each after its title in a table, separated by an empty line.
func (c *cli) write(titles []string, tables ...*table) error {
	for i, t := range tables {
		if i > 0 {
			fmt.Fprintln(c.stdout)
		}
		var err error
		if c.format == "csv" {
			err = t.writeCSV(c.stdout)
		} else {
			if titles[i] != "" {
				fmt.Fprintln(c.stdout, titles[i])
			}
			err = t.writeText(c.stdout)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// money formats an amount to the currency's decimals.
func money(d decimal.Decimal, currency string) string {
	return d.StringFixed(billing.CurrencyDecimals(currency))
}

// period formats a bill's period: its day, or its first and last days.
func period(b billing.Bill) string {
	if b.Through == b.Day {
		return b.Day.String()
	}
	return b.Day.String() + ".." + b.Through.String()
}

// writeStatement prints a statement: its rows and total as a table
// (Statement.WriteText), its rows with exact amounts as CSV
// (Statement.WriteCSV), or all of it, bills and lines too, as JSON.
func (c *cli) writeStatement(s billing.Statement) error {
	switch c.format {
	case "json":
		return writeJSON(c.stdout, s)
	case "csv":
		return s.WriteCSV(c.stdout)
	}
	return s.WriteText(c.stdout)
}

// writeBills prints the bills a settlement issued.
func (c *cli) writeBills(bills []billing.Bill) error {
	if c.format == "json" {
		if bills == nil {
			bills = []billing.Bill{}
		}
		return writeJSON(c.stdout, bills)
	}
	t := &table{header: []string{"account", "bill", "issued", "lines", "postpaid_on", "subtotal", "total", "currency"}}
	for _, b := range bills {
		t.add(b.Account, period(b), timeString(b.Issued, c.engine.Location()), itoa(int64(len(b.Lines))), boolString(b.PostpaidOn),
			b.Subtotal.String(), money(b.Total, b.Currency), b.Currency)
	}
	return c.write([]string{fmt.Sprintf("Settled %d bills", len(bills))}, t)
}

// appsTable lists an account's applications.
func appsTable(a billing.Account, loc *time.Location) *table {
	t := &table{header: []string{"app", "created", "postpaid", "postpaid_since", "postpaid_way", "suspended", "suspended_since", "reason", "disabled"}}
	for _, app := range a.Apps {
		disabled := false
		if n := len(app.Disabled); n > 0 && app.Disabled[n-1].Until.IsZero() {
			disabled = true
		}
		t.add(app.ID, timeString(app.Created, loc), boolString(app.Postpaid.On), timeString(app.Postpaid.Since, loc), string(app.Postpaid.Way),
			boolString(app.Status.Suspended), timeString(app.Status.Since, loc), app.Status.Reason, boolString(disabled))
	}
	return t
}

// accountTitle is a line about an account: currency, opening, cycle, switch.
func accountTitle(a billing.Account, loc *time.Location) string {
	postpaid := "off"
	if a.Postpaid.On {
		postpaid = fmt.Sprintf("on since %s (%s)", timeString(a.Postpaid.Since, loc), a.Postpaid.Way)
	}
	return fmt.Sprintf("Account %s (%s, %s cycle), opened %s, account postpaid %s", a.ID, a.Currency, a.Cycle, timeString(a.Opened, loc), postpaid)
}

// writeAccount prints an account and its applications, times in loc.
func writeAccount(w io.Writer, a billing.Account, loc *time.Location) error {
	fmt.Fprintln(w, accountTitle(a, loc))
	return appsTable(a, loc).writeText(w)
}

// writePurchase prints what a purchase did, times in loc.
func writePurchase(w io.Writer, r billing.PurchaseReceipt, loc *time.Location) error {
	p := r.Package
	fmt.Fprintf(w, "Package %s (%s): %d minutes, balance %d, price %s, valid from %s until %s\n",
		p.ID, p.Kind, p.Minutes, p.Balance, money(p.Price, p.Currency), timeString(p.Start, loc), timeString(p.End, loc))
	for _, a := range r.Absorbed {
		fmt.Fprintf(w, "Absorbed %s: %d shortfall and %d postpaid minutes of %s, %d package minutes\n", a.Tier, a.Shortfall, a.Postpaid, r.Day, a.Deducted)
	}
	if r.Resumed {
		fmt.Fprintln(w, "Resumed: the suspension is lifted")
	}
	return nil
}

// packagesTable lists packages.
func packagesTable(pkgs []billing.Package, loc *time.Location) *table {
	t := &table{header: []string{"package", "kind", "book", "minutes", "balance", "forfeited", "price", "purchased", "start", "end", "app"}}
	for _, p := range pkgs {
		t.add(p.ID, p.Kind, p.Book, itoa(p.Minutes), itoa(p.Balance), itoa(p.Forfeited), money(p.Price, p.Currency),
			timeString(p.PurchasedAt, loc), timeString(p.Start, loc), timeString(p.End, loc), p.App)
	}
	return t
}

// metersTable lists meters.
func metersTable(ms []billing.Meter) *table {
	t := &table{header: []string{"day", "service", "tier", "app", "seconds", "minutes", "prepaid", "postpaid", "shortfall"}}
	for _, m := range ms {
		t.add(m.Key.Day.String(), string(m.Key.Service), string(m.Key.Tier), m.Key.App,
			itoa(m.Seconds), itoa(m.Minutes()), itoa(m.Prepaid), itoa(m.Postpaid), itoa(m.Shortfall))
	}
	return t
}

func (c *cli) writeOverview(o billing.Overview) error {
	if c.format == "json" {
		return writeJSON(c.stdout, o)
	}
	loc := c.engine.Location()
	return c.write([]string{
		accountTitle(o.Account, loc),
		"Packages, in deduction order",
		"Meters of today, " + o.Today.String(),
	}, appsTable(o.Account, loc), packagesTable(o.Packages, loc), metersTable(o.Meters))
}

func (c *cli) writeLedger(entries []billing.Entry) error {
	if c.format == "json" {
		if entries == nil {
			entries = []billing.Entry{}
		}
		return writeJSON(c.stdout, entries)
	}
	loc := c.engine.Location()
	t := &table{header: []string{"seq", "at", "kind", "request", "ref", "package", "balance", "day", "service", "tier", "minutes", "app", "scenario", "amount"}}
	for _, e := range entries {
		day, balance, minutes, amount := "", "", "", ""
		if e.Key != (billing.MeterKey{}) {
			day = e.Key.Day.String()
		}
		if e.Package != "" {
			balance = itoa(e.Balance)
		}
		if e.Key != (billing.MeterKey{}) {
			minutes = itoa(e.Minutes)
		}
		if !e.Amount.IsZero() {
			amount = e.Amount.String()
		}
		t.add(itoa(e.Seq), timeString(e.At, loc), string(e.Kind), string(e.Request), e.Ref, e.Package, balance,
			day, string(e.Key.Service), string(e.Key.Tier), minutes, e.App, string(e.Scenario), amount)
	}
	return c.write([]string{fmt.Sprintf("Ledger: %d entries", len(entries))}, t)
}
