//go:build race

package billingtest_test

const raceEnabled = true
