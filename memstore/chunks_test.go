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

// TestSlab checks that slices kept in a slab are copies that stay as they
// were kept: a later keep, a change to the original, or an append to a
// kept slice touches no other. An empty slice is kept as slices.Clone
// keeps it (nil stays nil).
func TestSlab(t *testing.T) {
	var b slab[int]
	var kept [][]int
	for i := range 100 {
		s := make([]int, i%3+1) // 1, 2, 3 elements: 200 in all
		for j := range s {
			s[j] = 10*i + j
		}
		k := b.keep(s)
		s[0] = -1
		if len(k) != cap(k) {
			t.Fatalf("kept slice %d: length %d, capacity %d", i, len(k), cap(k))
		}
		kept = append(kept, k)
	}
	_ = append(kept[0], -2) // must reallocate, not write into kept[1]
	for i, k := range kept {
		for j, v := range k {
			if v != 10*i+j {
				t.Fatalf("kept slice %d element %d is %d, want %d", i, j, v, 10*i+j)
			}
		}
	}
	if got := b.keep(nil); got != nil {
		t.Errorf("keep(nil) = %#v, want nil", got)
	}
	if got := b.keep([]int{}); got == nil || len(got) != 0 {
		t.Errorf("keep([]int{}) = %#v, want an empty slice that is not nil", got)
	}
}
