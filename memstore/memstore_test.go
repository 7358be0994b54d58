package memstore_test

import (
	"testing"

	"github.com/rtcbill/billing"
	"github.com/rtcbill/billing/billingtest"
	"github.com/rtcbill/billing/memstore"
)

func TestStore(t *testing.T) {
	billingtest.TestStore(t, func(*testing.T) billing.Store { return memstore.New() })
}
