//go:build !race

package sqlitestore_test

// streamSize is the usages of the stream of TestSameAsMemstore and the
// multi-process tests.
const streamSize = 1500
