package pgstore

// The queries of Prefetch, for TestPrefetchGenericPlan.
const (
	PrefetchUsages = prefetchUsages
	PrefetchMeters = prefetchMeters
)
