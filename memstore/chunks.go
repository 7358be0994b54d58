package memstore

import "math/bits"

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
