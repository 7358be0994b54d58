package billing

// SetCheckpointEvery makes e take a checkpoint every n operations instead
// of every CheckpointEvery, so that small tests replay from many.
func SetCheckpointEvery(e *Engine, n int64) { e.every = n }

// Stops returns how many replays of e stopped at a checkpoint (see converge).
func Stops(e *Engine) int64 { return e.stops.Load() }

// Period returns the settlement period of day d of account a (see period).
func Period(e *Engine, a *Account, d Day) (first, last Day) { return e.period(a, d) }
