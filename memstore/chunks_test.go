package memstore

import "testing"

// TestChunks checks that a chunked list keeps every element where it was
// put: the chunks hold 4, 8, 16, 32, then 64 elements.
func TestChunks(t *testing.T) {
	var l chunks[int]
	const n = 5000
	for i := range n {
		l.add(&i)
		if got := len(l.c); got != chunksFor(i+1) {
			t.Fatalf("after %d elements: %d chunks, want %d", i+1, got, chunksFor(i+1))
		}
	}
	for i := range n {
		if got := *l.at(i); got != i {
			t.Fatalf("element %d is %d", i, got)
		}
	}
	// 4 + 8 + 16 + 32 = 60; then chunks of 64: ceil(4,940 / 64) = 78.
	if got, want := len(l.c), 4+78; got != want || l.len() != n {
		t.Errorf("%d elements in %d chunks, want %d in %d", l.len(), got, n, want)
	}
}

// chunksFor returns the chunks n elements take, counted by hand.
func chunksFor(n int) int {
	c, held := 0, 0
	for size := 4; held < n; c++ {
		held += size
		size = min(2*size, 64)
	}
	return c
}
