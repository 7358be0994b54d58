package pgstore

// The queries of Prefetch, the read of the ledger's last Seq and the read
// of checkpoints, for TestPrefetchGenericPlan, TestLastSeqGenericPlan and
// TestCheckpointsPlan.
const (
	PrefetchUsages  = prefetchUsages
	PrefetchMeters  = prefetchMeters
	LastSeq         = lastSeq
	CheckpointsFrom = checkpointsFrom
)
