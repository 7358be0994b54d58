package billing

import (
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// Statement is an account's bills of one calendar month (those whose Day
// is in it: on the monthly cycle, the month's bill), what they charged per
// service and tier, and their total: the statement a person reads
// ([Statement.WriteText]) or a spreadsheet opens ([Statement.WriteCSV]).
//
// Its JSON has the field names of its tags, days as "2021-03-15" and money
// as strings: Total with exactly the currency's decimals
// ([CurrencyDecimals]: "0.45"), the exact amounts (Subtotal, a row's
// Amount) with all their digits and at least as many ("0.4497", "0.30").
type Statement struct {
	Account  string     `json:"account"`
	Year     int        `json:"year"`
	Month    time.Month `json:"month"`
	Currency string     `json:"currency"`
	// Bills are the month's bills, in order of day.
	Bills []Bill `json:"bills"`
	// Rows are the bills' lines summed per service, tier and application
	// (see [StatementRow]): by service, tier in the order of the price book
	// of the last bill's day (tiers it lacks last, by name), then
	// application.
	Rows []StatementRow `json:"rows"`
	// Subtotal is the exact sum of the rows' amounts, which is the sum of
	// the bills' subtotals.
	Subtotal decimal.Decimal `json:"subtotal"`
	// Total is the sum of the bills' totals, each rounded once, half up, to
	// the currency's decimals (see [Bill]): what the account is charged. It
	// can differ from Subtotal by up to half a unit of the currency's last
	// decimal per bill (0.45 for bills of exactly 0.1499 and 0.2998, whose
	// Subtotal is 0.4497).
	Total decimal.Decimal `json:"total"`
}

// StatementRow is what one month's bills charged for one service and tier
// (and application, where the price book rounds per application: see
// [Line].App): the sums of their lines of that service, tier and
// application.
//
// Adjustment lines (late usage of a period settled before, and deferred
// shortfall billed now) are folded into the row of their service and tier,
// not shown apart: a row tells what the month's bills charged for the
// service and tier, its Deferred column already shows the one adjustment
// that is no new usage, and the rows' amounts then add up exactly to the
// bills' subtotals. Each adjustment line stays in its bill
// ([Statement].Bills), dated with its own day, and From shows how far back
// the row's lines reach.
type StatementRow struct {
	Service Service `json:"service"`
	Tier    Tier    `json:"tier"`
	// App is the application, where the book rounds per application.
	App string `json:"app"`
	// From is the earliest day of the row's lines (an adjustment's own
	// day, which may be in an earlier month), Through the last day of the
	// last bill that has one.
	From    Day `json:"from"`
	Through Day `json:"through"`
	// Seconds and Minutes are the usage and its billable minutes: the sum
	// of the lines', each line's minutes rounded up in its own window (a
	// day, or a month on the monthly cycle), so Minutes is usually more
	// than Seconds/60 rounded up once.
	Seconds int64 `json:"seconds"`
	Minutes int64 `json:"minutes"`
	// Prepaid, Postpaid and Shortfall split Minutes as the lines do: covered
	// by packages, billed at list price, and used while nothing could pay
	// (billed only by a bill settled with postpaid on).
	Prepaid   int64 `json:"prepaid"`
	Postpaid  int64 `json:"postpaid"`
	Shortfall int64 `json:"shortfall"`
	// Deferred is the shortfall of bills settled before, while postpaid was
	// off, that these bills charged (see [Line].Deferred).
	Deferred int64 `json:"deferred"`
	// Billed is the minutes charged.
	Billed int64 `json:"billed"`
	// Amount is the exact sum of the lines' amounts. A row has no unit
	// price: its days may be priced by different books.
	Amount decimal.Decimal `json:"amount"`
}

// Statement returns the account's bills of one month (those whose Day is
// in it: on the monthly cycle, the month's bill), their rows per service
// and tier, and their total (see [Statement]).
//
// Errors wrap ErrInvalidID, ErrInvalidTime (a month not 1..12, or a year
// not 1..9999), ErrNotFound, ErrCorrupt, or a Store or context error.
func (e *Engine) Statement(ctx context.Context, account string, year int, month time.Month) (Statement, error) {
	s := Statement{Account: account, Year: year, Month: month}
	fail := func(err error) (Statement, error) {
		return Statement{}, &Error{Op: "Statement", Account: account, Err: err}
	}
	if month < time.January || month > time.December {
		return fail(fmt.Errorf("%w: month %d is not 1 to 12", ErrInvalidTime, int(month)))
	}
	first, err := DateDay(year, month, 1)
	if err != nil {
		return fail(err)
	}
	last, err := DateDay(year, month+1, 0)
	if err != nil {
		return fail(err)
	}
	err = e.view(ctx, "Statement", account, func(r Reader, a *Account) error {
		s.Currency = a.Currency
		err := r.Bills(first, last, func(b Bill) bool {
			s.Bills = append(s.Bills, b)
			s.Subtotal = s.Subtotal.Add(b.Subtotal)
			s.Total = s.Total.Add(b.Total)
			return true
		})
		if err != nil || len(s.Bills) == 0 {
			return err
		}
		rank := func(Service, Tier) int { return 0 }
		if book, err := e.bookFor(a, s.Bills[len(s.Bills)-1].Day); err == nil {
			rank = book.tierRank
		}
		s.Rows = statementRows(s.Bills, rank)
		return nil
	})
	if err != nil {
		return Statement{}, err
	}
	return s, nil
}

// statementRows sums the lines of bills per service, tier and application,
// in the order of services, then tiers by rank (then name), then
// applications.
func statementRows(bills []Bill, rank func(Service, Tier) int) []StatementRow {
	type key struct {
		service Service
		tier    Tier
		app     string
	}
	var rows []StatementRow
	index := map[key]int{}
	for _, b := range bills {
		for _, l := range b.Lines {
			k := key{l.Service, l.Tier, l.App}
			i, ok := index[k]
			if !ok {
				i = len(rows)
				index[k] = i
				rows = append(rows, StatementRow{Service: l.Service, Tier: l.Tier, App: l.App, From: l.Day, Through: b.Through})
			}
			r := &rows[i]
			r.From, r.Through = min(r.From, l.Day), max(r.Through, b.Through)
			r.Seconds += l.Seconds
			r.Minutes += l.Minutes
			r.Prepaid += l.Prepaid
			r.Postpaid += l.Postpaid
			r.Shortfall += l.Shortfall
			r.Deferred += l.Deferred
			r.Billed += l.Billed
			r.Amount = r.Amount.Add(l.Amount)
		}
	}
	slices.SortFunc(rows, func(x, y StatementRow) int {
		return cmp.Or(strings.Compare(string(x.Service), string(y.Service)), cmp.Compare(rank(x.Service, x.Tier), rank(y.Service, y.Tier)),
			strings.Compare(string(x.Tier), string(y.Tier)), strings.Compare(x.App, y.App))
	})
	return rows
}

// WriteText writes the statement as a table a person reads: a heading
// naming the account, the month, the currency and the bills' days, then a
// row per [StatementRow] (an application column where the rows name
// applications), and a total line equal to Total. Amounts are shown
// rounded half up to the currency's decimals ([CurrencyDecimals]).
//
// The shown amounts of the rows can add up to other than the total: each is
// rounded on its own, and Total is the sum of the bills' totals, each bill
// rounded once. With n rows and b bills they differ by at most n/2 + b/2
// units of the last decimal (0.01 USD). The exact amounts are in
// [Statement.WriteCSV].
//
// It returns the error of w, if any.
func (s Statement) WriteText(w io.Writer) error {
	places := CurrencyDecimals(s.Currency)
	perApp := slices.ContainsFunc(s.Rows, func(r StatementRow) bool { return r.App != "" })
	head := []string{"service", "tier"}
	if perApp {
		head = append(head, "app")
	}
	words := len(head) // the columns of words, aligned left; numbers align right
	head = append(head, "seconds", "minutes", "prepaid", "postpaid", "shortfall", "deferred", "billed", "amount")
	table := [][]string{head}
	for _, r := range s.Rows {
		cells := []string{string(r.Service), string(r.Tier)}
		if perApp {
			cells = append(cells, r.App)
		}
		for _, n := range []int64{r.Seconds, r.Minutes, r.Prepaid, r.Postpaid, r.Shortfall, r.Deferred, r.Billed} {
			cells = append(cells, strconv.FormatInt(n, 10))
		}
		table = append(table, append(cells, r.Amount.StringFixed(places)))
	}
	total := make([]string, len(head))
	total[0], total[len(total)-1] = "total", s.Total.StringFixed(places)
	table = append(table, total)

	widths := make([]int, len(head))
	for _, cells := range table {
		for i, c := range cells {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Statement of %s, %s %d, %s: %s\n\n", s.Account, s.Month, s.Year, s.Currency, s.billsSpan())
	for _, cells := range table {
		var line strings.Builder
		for i, c := range cells {
			if i > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i < words {
				line.WriteString(c + pad)
			} else {
				line.WriteString(pad + c)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// billsSpan describes the statement's bills: how many, and the days from
// the first's Day to the last's Through.
func (s Statement) billsSpan() string {
	switch n := len(s.Bills); n {
	case 0:
		return "no bills"
	case 1:
		return fmt.Sprintf("1 bill, %s to %s", s.Bills[0].Day, s.Bills[0].Through)
	default:
		return fmt.Sprintf("%d bills, %s to %s", n, s.Bills[0].Day, s.Bills[n-1].Through)
	}
}

// csvHeader is the header row of [Statement.WriteCSV].
var csvHeader = []string{"account", "from", "through", "service", "tier", "app",
	"seconds", "minutes", "prepaid", "postpaid", "shortfall", "deferred", "billed", "amount", "currency"}

// WriteCSV writes the statement's rows as CSV (RFC 4180, as encoding/csv
// writes it) for a spreadsheet: a header row, then a record per
// [StatementRow] with these columns:
//
//	account, from, through, service, tier, app (empty unless the book
//	rounds per application), seconds, minutes, prepaid, postpaid,
//	shortfall, deferred, billed, amount, currency
//
// Days are written as "2021-03-15", minutes and seconds as integers, and
// amounts exactly, with at least the currency's decimals ("0.1499",
// "0.30"), so that the amounts add up to Subtotal. There is no total
// record (a spreadsheet summing the column would count it twice): Total,
// the sum of the bills' rounded totals, is in [Statement.WriteText] and in
// the JSON. Ids are written as they are: a spreadsheet may take an id
// that begins with "=", "+", "-" or "@" for a formula, so a host whose ids
// come from its users should check them before opening the file in one.
//
// It returns the error of w, if any.
func (s Statement) WriteCSV(w io.Writer) error {
	places := CurrencyDecimals(s.Currency)
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, r := range s.Rows {
		record := []string{s.Account, r.From.String(), r.Through.String(), string(r.Service), string(r.Tier), r.App}
		for _, n := range []int64{r.Seconds, r.Minutes, r.Prepaid, r.Postpaid, r.Shortfall, r.Deferred, r.Billed} {
			record = append(record, strconv.FormatInt(n, 10))
		}
		if err := cw.Write(append(record, atLeast(r.Amount, places), s.Currency)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// MarshalJSON implements [json.Marshaler]: the fields as their tags name
// them, Total with exactly the decimals of the statement's currency (see
// [CurrencyDecimals]), the exact amounts (Subtotal, the rows' Amount) with
// all their digits and at least as many, and the bills as [Bill.MarshalJSON]
// writes them. [json.Unmarshal] reads it back. It returns an error
// wrapping ErrInvalidTime for a day outside MinDay..MaxDay, which a
// Statement from [Engine.Statement] does not have.
func (s Statement) MarshalJSON() ([]byte, error) {
	type statement Statement // Statement's fields, without this method
	type row StatementRow
	type rowJSON struct {
		row
		Amount money `json:"amount"`
	}
	places := CurrencyDecimals(s.Currency)
	var rows []rowJSON
	if s.Rows != nil {
		rows = make([]rowJSON, len(s.Rows))
		for i, r := range s.Rows {
			rows[i] = rowJSON{row(r), money{r.Amount, places}}
		}
	}
	return json.Marshal(struct {
		statement
		Rows     []rowJSON `json:"rows"`
		Subtotal money     `json:"subtotal"`
		Total    money     `json:"total"`
	}{statement(s), rows, money{s.Subtotal, places}, money{s.Total, places}})
}
