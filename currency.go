package billing

// CurrencyDecimals returns the number of decimals amounts in the currency
// with ISO 4217 code code are rounded to: its minor unit in ISO 4217 (0 for
// JPY and KRW, 3 for KWD, 2 for USD, CNY and EUR). Codes the table does not
// list, ISO's or not, have 2. A PriceBook's Decimals must be its currency's.
func CurrencyDecimals(code string) int32 {
	switch code {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	case "CLF", "UYW":
		return 4
	}
	return 2
}
