package pgstore

// The queries of Prefetch, the read of the ledger's last Seq and the pages
// of usages and checkpoints, for TestPrefetchGenericPlan,
// TestLastSeqGenericPlan, TestUsagesPlan and TestCheckpointsPlan; the
// sizes of the pages, for TestUsagesPages and TestCheckpointsPages.
const (
	PrefetchUsages   = prefetchUsages
	PrefetchMeters   = prefetchMeters
	LastSeq          = lastSeq
	CheckpointsFrom  = checkpointsFrom
	CheckpointsAfter = checkpointsAfter
	FirstPage        = firstPage
	MaxPage          = maxPage
)

var UsagesPage = usagesPage
