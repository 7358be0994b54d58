//go:build race

package sqlitestore_test

// streamSize is the usages of the stream of TestSameAsMemstore and the
// multi-process tests: fewer under the race detector, which makes them
// ten times slower.
const streamSize = 300
