//go:build !race

package billingtest_test

const raceEnabled = false
