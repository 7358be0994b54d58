package pgstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrations embed.FS

// SchemaVersion is the schema version this package reads and writes.
const SchemaVersion = 13

// migrateLock is the advisory lock that serializes Migrate calls on one
// database, whatever process makes them.
const migrateLock = 0x7274_6362_696c_6c // "rtcbill"

// Migrate brings the schema in the pool's search_path (its first schema) up
// to SchemaVersion, applying the embedded migrations that it lacks, in one
// transaction with the versions they reach. It is safe to call from many
// processes at once, and again: a schema already at SchemaVersion is left
// alone. It returns an error if the schema is newer than this package.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	// READ COMMITTED: the version is read after the lock is granted.
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	defer tx.Rollback(ctx) // after Commit, a no-op
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS billing_schema (version integer PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	var current int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM billing_schema`).Scan(&current); err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	if current > SchemaVersion {
		return fmt.Errorf("pgstore: schema version %d is newer than this package's %d", current, SchemaVersion)
	}
	for _, f := range files {
		version, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(f, "migrations/"), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("pgstore: migration %s: no version number", f)
		}
		if version <= current {
			continue
		}
		sql, err := migrations.ReadFile(f)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, string(sql)); err != nil {
			return fmt.Errorf("pgstore: migration %s: %w", f, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO billing_schema (version) VALUES ($1)`, version); err != nil {
			return fmt.Errorf("pgstore: migration %s: %w", f, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	return nil
}
