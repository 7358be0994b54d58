package memstore

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLocate(t *testing.T) {
	// Chunks of 16, 32, 64, 128, 256, 512, 1024 values start at 0, 16, 48,
	// 112, 240, 496, 1008; the growing chunks end at 2032, and chunks of
	// 1024 follow: chunk 7 at 2032, chunk 8 at 3056.
	for _, c := range []struct{ i, chunk, off int }{
		{0, 0, 0}, {15, 0, 15},
		{16, 1, 0}, {47, 1, 31},
		{48, 2, 0}, {111, 2, 63},
		{112, 3, 0}, {240, 4, 0}, {496, 5, 0},
		{1008, 6, 0}, {2031, 6, 1023},
		{2032, 7, 0}, {3055, 7, 1023}, {3056, 8, 0},
		{2032 + 1024*1000 + 5, 1007, 5},
	} {
		chunk, off := locate(c.i)
		if diff := cmp.Diff([2]int{c.chunk, c.off}, [2]int{chunk, off}); diff != "" {
			t.Errorf("locate(%d) (-want +got):\n%s", c.i, diff)
		}
	}
}

// TestSlab checks that every value added is found at its index, at the same
// address however many values follow it, and that chunk capacities are
// 16, 32, ..., 1024, then 1024.
func TestSlab(t *testing.T) {
	var s slab[int]
	const n = 5000
	addrs := make([]*int, n)
	for i := range n {
		if got := s.add(i * 3); got != i {
			t.Fatalf("add returned index %d, want %d", got, i)
		}
		addrs[i] = s.at(i)
	}
	for i := range n {
		if p := s.at(i); p != addrs[i] || *p != i*3 {
			t.Fatalf("at(%d) = %p holding %d, want %p holding %d", i, p, *p, addrs[i], i*3)
		}
	}
	var caps []int
	for _, c := range s.chunks {
		caps = append(caps, cap(c))
	}
	// 5000 values: 2032 in the growing chunks, then 1024 + 1024 + 920.
	want := []int{16, 32, 64, 128, 256, 512, 1024, 1024, 1024, 1024}
	if diff := cmp.Diff(want, caps); diff != "" {
		t.Errorf("chunk capacities (-want +got):\n%s", diff)
	}
}
