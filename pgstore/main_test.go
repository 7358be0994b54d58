package pgstore_test

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// skipped notes the tests that newPoolConfig skipped for want of a
// database, so that TestMain can say how many there were.
var skipped skipLog

// skipLog is a set of test names, safe for concurrent use.
type skipLog struct {
	mu    sync.Mutex
	names map[string]bool
}

func (l *skipLog) add(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.names == nil {
		l.names = map[string]bool{}
	}
	l.names[name] = true
}

// message returns what TestMain prints after the tests: nothing if no test
// was skipped, else how many were and how to run them. A subtest counts as
// a test; a top-level test counts once however many of its subtests were
// skipped.
func (l *skipLog) message() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.names) == 0 {
		return ""
	}
	top := map[string]bool{}
	for name := range l.names {
		top[strings.SplitN(name, "/", 2)[0]] = true
	}
	return fmt.Sprintf(`
################################################################################
pgstore: %d TESTS SKIPPED (counting subtests; %d top-level tests): they need
PostgreSQL, and PGSTORE_TEST_DSN is not set. Run them against a throwaway
server, from the repository's root (arguments go to go test):

	.ci/pgtest

or against a database of yours, where each test creates a schema of its own
and drops it at the end:

	PGSTORE_TEST_DSN='postgres://user@host:5432/db?sslmode=disable' go test ./...
################################################################################
`, len(l.names), len(top))
}

// TestMain runs the tests, then says loudly how many were skipped for want
// of a database: on stderr, and, since go test shows a passing package's
// output only with -v when it is given packages (go test ./...), on the
// terminal too.
func TestMain(m *testing.M) {
	code := m.Run()
	if msg := skipped.message(); msg != "" {
		fmt.Fprint(os.Stderr, msg)
		toTerminal(msg)
	}
	os.Exit(code)
}

// toTerminal writes msg to the controlling terminal, if there is one,
// unless the output reaches it already: stderr is a terminal (go test run
// without packages streams the test's output), or -v (and -json) shows
// the output. Without a terminal (in CI, say) it writes nothing.
func toTerminal(msg string) {
	if testing.Verbose() {
		return
	}
	if fi, err := os.Stderr.Stat(); err != nil || fi.Mode()&os.ModeCharDevice != 0 {
		return
	}
	tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	if err != nil {
		return
	}
	defer tty.Close()
	fmt.Fprint(tty, msg)
}
