package main

import (
	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/sqlitestore"
)

// openSQLite opens the SQLite file path, creating it if missing. Every
// unit of work is on disk when it returns, unless noSync.
func openSQLite(path string, noSync bool) (billing.Store, func() error, error) {
	s, err := sqlitestore.Open(path, &sqlitestore.Options{NoSync: noSync})
	if err != nil {
		return nil, nil, err
	}
	return s, s.Close, nil
}
