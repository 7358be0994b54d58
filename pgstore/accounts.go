package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/rtcbill/billing"
)

var _ billing.AccountLister = (*Store)(nil)

// Accounts implements billing.AccountLister: one statement, an index range
// scan of the accounts' primary key.
func (s *Store) Accounts(ctx context.Context, after string, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("pgstore: accounts: limit %d is not positive", limit)
	}
	rows, err := s.pool.Query(ctx, `SELECT id FROM billing_accounts WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("pgstore: accounts: %w", storeErr(err))
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("pgstore: accounts: %w", storeErr(err))
	}
	return ids, nil
}
