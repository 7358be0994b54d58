package billing

import (
	"encoding/json"

	"github.com/shopspring/decimal"
)

// money is, in JSON, an amount the Engine rounded to the decimals of its
// currency: a string with exactly those decimals ("4.06", "0.00"). An
// amount with more decimals than that (none the Engine writes) is written
// with all its digits, never rounded.
type money struct {
	amount decimal.Decimal
	places int32
}

// MarshalJSON implements [json.Marshaler].
func (m money) MarshalJSON() ([]byte, error) {
	return json.Marshal(atLeast(m.amount, m.places))
}

// atLeast formats amount exactly, with at least places decimals: "4.06"
// and "0.00" for places 2, and "0.06778" too.
func atLeast(amount decimal.Decimal, places int32) string {
	if amount.Equal(amount.Round(places)) {
		return amount.StringFixed(places)
	}
	return amount.String()
}

// MarshalJSON implements [json.Marshaler]: the fields as their tags name
// them, Total with exactly the decimals of the bill's currency (see
// [CurrencyDecimals]) and the exact amounts (Subtotal, the lines' UnitPrice
// and Amount) with all their digits and at least as many ("0.00", "4.50",
// "0.00399"). [json.Unmarshal] reads it back.
func (b Bill) MarshalJSON() ([]byte, error) {
	type bill Bill // Bill's fields, without this method
	type line Line
	type lineJSON struct {
		line
		UnitPrice money `json:"unit_price"`
		Amount    money `json:"amount"`
	}
	places := CurrencyDecimals(b.Currency)
	var lines []lineJSON
	if b.Lines != nil {
		lines = make([]lineJSON, len(b.Lines))
		for i, l := range b.Lines {
			lines[i] = lineJSON{line(l), money{l.UnitPrice, places}, money{l.Amount, places}}
		}
	}
	return json.Marshal(struct {
		bill
		Lines    []lineJSON `json:"lines"`
		Subtotal money      `json:"subtotal"`
		Total    money      `json:"total"`
	}{bill(b), lines, money{b.Subtotal, places}, money{b.Total, places}})
}

// MarshalJSON implements [json.Marshaler]: the fields as their tags name
// them, Price with exactly the decimals of the package's currency (see
// [CurrencyDecimals]). [json.Unmarshal] reads it back.
func (p Package) MarshalJSON() ([]byte, error) {
	type pkg Package // Package's fields, without this method
	return json.Marshal(struct {
		pkg
		Price money `json:"price"`
	}{pkg(p), money{p.Price, CurrencyDecimals(p.Currency)}})
}

// MarshalJSON implements [json.Marshaler]: the fields as their tags name
// them, and in each of its Refunds, Used and Amount with exactly the
// decimals of the account's currency (see [CurrencyDecimals]); UnitPrice
// and Discount with all their digits. A PackageRefund marshaled on its own
// does not know its currency: all its amounts have all their digits.
// [json.Unmarshal] reads it back.
func (a Account) MarshalJSON() ([]byte, error) {
	type account Account      // Account's fields, without this method
	type refund PackageRefund // PackageRefund's fields
	type refundJSON struct {
		refund
		Used   money `json:"used"`
		Amount money `json:"amount"`
	}
	var refunds []refundJSON
	if a.Refunds != nil {
		places := CurrencyDecimals(a.Currency)
		refunds = make([]refundJSON, len(a.Refunds))
		for i, r := range a.Refunds {
			refunds[i] = refundJSON{refund(r), money{r.Used, places}, money{r.Amount, places}}
		}
	}
	return json.Marshal(struct {
		account
		Refunds []refundJSON `json:"refunds"`
	}{account(a), refunds})
}
