package pgstore

// The queries of Prefetch and the read of the ledger's last Seq, for
// TestPrefetchGenericPlan and TestLastSeqGenericPlan.
const (
	PrefetchUsages = prefetchUsages
	PrefetchMeters = prefetchMeters
	LastSeq        = lastSeq
)
