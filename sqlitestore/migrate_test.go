package sqlitestore_test

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/sqlitestore"
)

// usagesV1 is the usages table of schema version 1, keyed by account, then id.
const usagesV1 = `
CREATE TABLE usages_v1 (
	account  TEXT    NOT NULL,
	id       TEXT    NOT NULL,
	at       INTEGER NOT NULL,
	version  INTEGER NOT NULL,
	position INTEGER NOT NULL,
	record   BLOB    NOT NULL,
	PRIMARY KEY (account, id)
) STRICT, WITHOUT ROWID;
INSERT INTO usages_v1 SELECT account, id, at, version, position, record FROM usages;
DROP TABLE usages;
ALTER TABLE usages_v1 RENAME TO usages;
CREATE INDEX usages_at ON usages (account, at, id);
PRAGMA user_version = 1;`

// TestMigrateFromVersion1 writes usages of two accounts (one id in both),
// turns the file back into version 1 (the usages keyed by account, then
// id), and opens it: Open migrates it to version 2 (keyed by id, then
// account) and every usage reads back as it was written, by id and in time
// order; a repeated id is still refused in its account, and still free in
// another.
func TestMigrateFromVersion1(t *testing.T) {
	file := filepath.Join(t.TempDir(), "billing.db")
	s, err := sqlitestore.Open(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	usages := map[string][]billing.UsageRecord{}
	for _, a := range []string{"a", "b"} {
		create(t, s, a)
		for i := range 5 {
			usages[a] = append(usages[a], billing.UsageRecord{Usage: billing.Usage{ID: fmt.Sprintf("u%d", 4-i), Account: a,
				Seconds: int64(i + 1), At: at.Add(time.Duration(i) * time.Minute)}}) // ids in the reverse order of times
		}
		write(t, s, a, usages[a]...)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	rawExec(t, file, usagesV1)
	if got, want := usagesKey(t, file), "PRIMARY KEY (account, id)"; !strings.Contains(got, want) {
		t.Fatalf("the version 1 file's usages: %s, want %s", got, want)
	}

	if s, err = sqlitestore.Open(file, nil); err != nil {
		t.Fatalf("Open of a version 1 file: %v", err)
	}
	defer s.Close()
	if got, want := usagesKey(t, file), "PRIMARY KEY (id, account)"; !strings.Contains(got, want) {
		t.Errorf("the migrated usages: %s, want %s", got, want)
	}
	var version int64
	if err := rawDB(t, file).QueryRow(`PRAGMA user_version`).Scan(&version); err != nil || version != sqlitestore.SchemaVersion {
		t.Errorf("user_version %d, %v; want %d", version, err, sqlitestore.SchemaVersion)
	}
	for _, a := range []string{"a", "b"} {
		var byID, byTime []billing.UsageRecord
		err := s.View(ctx, a, func(r billing.Reader) error {
			for _, u := range usages[a] {
				got, err := r.Usage(u.Usage.ID)
				if err != nil {
					return err
				}
				byID = append(byID, got)
			}
			return r.Usages(time.Time{}, time.Time{}, func(u billing.UsageRecord) bool { byTime = append(byTime, u); return true })
		})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(usages[a], byID); diff != "" {
			t.Errorf("account %s: Usage by id (-want +got):\n%s", a, diff)
		}
		if diff := cmp.Diff(usages[a], byTime); diff != "" {
			t.Errorf("account %s: Usages in time order (-want +got):\n%s", a, diff)
		}
	}
	again := billing.UsageRecord{Usage: billing.Usage{ID: "u0", Account: "a", At: at}}
	if err := s.Update(ctx, "a", func(r billing.Reader) (billing.Changes, error) {
		c, err := next(r)
		c.Usages = []billing.UsageRecord{again}
		return c, err
	}); !errors.Is(err, billing.ErrExists) {
		t.Errorf("usage u0 again in account a: %v, want ErrExists", err)
	}
	create(t, s, "c")
	again.Usage.Account = "c"
	write(t, s, "c", again)
}

// write writes usages to account id in one unit of work.
func write(t *testing.T, s billing.Store, id string, us ...billing.UsageRecord) {
	t.Helper()
	err := s.Update(ctx, id, func(r billing.Reader) (billing.Changes, error) {
		c, err := next(r)
		c.Usages = us
		return c, err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// usagesKey returns the SQL that made file's usages table.
func usagesKey(t *testing.T, file string) string {
	t.Helper()
	var q string
	if err := rawDB(t, file).QueryRow(`SELECT sql FROM sqlite_schema WHERE name = 'usages'`).Scan(&q); err != nil {
		t.Fatal(err)
	}
	return q
}

// rawDB opens file with plain SQL, closed when the test ends.
func rawDB(t *testing.T, file string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+file)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
