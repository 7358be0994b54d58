package memstore

import (
	"math/bits"
	"slices"
)

// chunks is an append-only list whose elements never move: it grows by
// chunks of 4, 8, 16, 32, then 64 elements, so appending never copies what
// it holds, and a short list stays small.
type chunks[T any] struct {
	c [][]T
	n int
}

// place returns the chunk of element i, and its index there.
func place(i int) (chunk, j int) {
	if i < 60 {
		chunk = bits.Len(uint(i+4)) - 3
		return chunk, i - (4<<chunk - 4)
	}
	return 4 + (i-60)/64, (i - 60) % 64
}

// add appends a copy of *v, and returns where it is.
func (l *chunks[T]) add(v *T) *T {
	c, j := place(l.n)
	if j == 0 {
		size := 64
		if c < 4 {
			size = 4 << c
		}
		l.c = append(l.c, make([]T, 0, size))
	}
	l.c[c] = append(l.c[c], *v)
	l.n++
	return &l.c[c][j]
}

func (l *chunks[T]) at(i int) *T {
	c, j := place(i)
	return &l.c[c][j]
}

func (l *chunks[T]) len() int { return l.n }

// slab keeps short slices of T in shared arrays that grow from 4 to 64
// elements: a record's slice kept there is not an allocation of its own
// (one per usage record for its receipt's draws, about 3 % of Record).
type slab[T any] struct{ free []T }

// keep returns a copy of s, in the slab unless s is empty. Appending to
// the copy reallocates it: its capacity is its length.
func (b *slab[T]) keep(s []T) []T {
	if len(s) == 0 {
		return slices.Clone(s)
	}
	if cap(b.free)-len(b.free) < len(s) {
		b.free = make([]T, 0, max(len(s), min(64, 2*cap(b.free)), 4))
	}
	at := len(b.free)
	b.free = append(b.free, s...)
	return b.free[at:len(b.free):len(b.free)]
}
