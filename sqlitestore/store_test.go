package sqlitestore_test

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/billingtest"
	"github.com/rtcbill/billing/sqlitestore"
)

// open returns a Store on a new file in the test's temporary directory,
// closed when the test ends.
func open(t testing.TB, opts *sqlitestore.Options) *sqlitestore.Store {
	t.Helper()
	s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "billing.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	billingtest.TestStore(t, func(t *testing.T) billing.Store { return open(t, nil) })
}

var ctx = context.Background()

// create writes account id's first version through s.
func create(t *testing.T, s billing.Store, id string) {
	t.Helper()
	err := s.Update(ctx, id, func(billing.Reader) (billing.Changes, error) {
		return billing.Changes{Account: &billing.Account{ID: id, Currency: "USD", Version: 1}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// version reads account id's version through s.
func version(t *testing.T, s billing.Store, id string) int64 {
	t.Helper()
	var v int64
	err := s.View(ctx, id, func(r billing.Reader) error {
		a, err := r.Account()
		v = a.Version
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// next returns the Changes of a unit of work that only moves the account
// r read to its next version.
func next(r billing.Reader) (billing.Changes, error) {
	a, err := r.Account()
	if err != nil {
		return billing.Changes{}, err
	}
	a.Version++
	return billing.Changes{Account: &a}, nil
}

// TestOpen opens files that are a store, or not: a new file gets the
// schema, a store keeps its records across Close and Open, and a file of
// another application or of a newer schema is refused.
func TestOpen(t *testing.T) {
	for _, tt := range []struct {
		name    string
		file    string                          // in the test's directory; "billing.db" if empty
		prepare func(t *testing.T, file string) // makes the file before Open
		wantErr bool
		want    int64 // the version of account "a" after Open, if no error
	}{
		{name: "new file", prepare: func(*testing.T, string) {}},
		{name: "a path holding '?'", file: "billing.db?mode=ro", prepare: func(*testing.T, string) {}, wantErr: true},
		{name: "a store, reopened", prepare: func(t *testing.T, file string) {
			s, err := sqlitestore.Open(file, nil)
			if err != nil {
				t.Fatal(err)
			}
			create(t, s, "a")
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}, want: 1},
		{name: "another application's tables", prepare: func(t *testing.T, file string) {
			rawExec(t, file, `CREATE TABLE notes (text TEXT)`)
		}, wantErr: true},
		{name: "a newer schema", prepare: func(t *testing.T, file string) {
			s, err := sqlitestore.Open(file, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			rawExec(t, file, fmt.Sprintf(`PRAGMA user_version = %d`, sqlitestore.SchemaVersion+1))
		}, wantErr: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), cmp.Or(tt.file, "billing.db"))
			tt.prepare(t, file)
			s, err := sqlitestore.Open(file, nil)
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("Open() error = %v, want an error: %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			defer s.Close()
			var got int64
			err = s.View(ctx, "a", func(r billing.Reader) error {
				a, err := r.Account()
				if errors.Is(err, billing.ErrNotFound) {
					return nil
				}
				got = a.Version
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("account a's version = %d, want %d", got, tt.want)
			}
		})
	}
}

// rawExec runs q on file with plain SQL.
func rawExec(t *testing.T, file, q string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+file)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(q); err != nil {
		t.Fatal(err)
	}
}

// TestTwoStoresOneFile checks what makes two processes on one file safe,
// with two Stores on one file in one process: a unit of work whose account
// another Store changed after it read it fails with ErrConflict, writing
// nothing, and the other's write stands.
func TestTwoStoresOneFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "billing.db")
	var stores [2]*sqlitestore.Store
	for i := range stores {
		s, err := sqlitestore.Open(file, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores[i] = s
	}
	create(t, stores[0], "a")
	err := stores[0].Update(ctx, "a", func(r billing.Reader) (billing.Changes, error) {
		if err := stores[1].Update(ctx, "a", next); err != nil { // version 2, committed while this unit of work runs
			t.Fatalf("the other Store's Update: %v", err)
		}
		return next(r) // version 2 again
	})
	if !errors.Is(err, billing.ErrConflict) {
		t.Errorf("Update() = %v, want an error wrapping ErrConflict", err)
	}
	for i, s := range stores {
		if v := version(t, s, "a"); v != 2 {
			t.Errorf("store %d reads version %d, want 2 (1 + the other Store's unit of work)", i, v)
		}
	}
}

// TestBusyFile holds the file's write lock from another connection, as
// another process's long transaction would: a commit waits for it for
// Options.BusyTimeout, then fails with an error wrapping ErrConflict,
// writing nothing; once the lock is released, it goes through.
func TestBusyFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "billing.db")
	s, err := sqlitestore.Open(file, &sqlitestore.Options{BusyTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	create(t, s, "a")
	db, err := sql.Open("sqlite", "file:"+file)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, "a", next); !errors.Is(err, billing.ErrConflict) {
		t.Errorf("Update() while another connection writes = %v, want an error wrapping ErrConflict", err)
	}
	if _, err := conn.ExecContext(ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, "a", next); err != nil {
		t.Errorf("Update() after the other connection's transaction: %v", err)
	}
	if v := version(t, s, "a"); v != 2 {
		t.Errorf("version %d, want 2 (1 + the Update after the lock was released)", v)
	}
}
