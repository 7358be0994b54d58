package memstore

import "math/bits"

// slab is an append-only sequence of values in chunks: appending never moves
// what is stored, so pointers to its values stay valid, and a long history
// costs no copying. The chunks double from firstChunk to maxChunk
// values and then stay at maxChunk, so that an account with little history
// holds little memory and one with much history holds no more than one
// partly filled chunk of spare room.
type slab[T any] struct {
	chunks [][]T
	n      int
}

const (
	firstChunkLog = 4
	firstChunk    = 1 << firstChunkLog // values in the first chunk
	maxChunkLog   = 10
	maxChunk      = 1 << maxChunkLog // values in every chunk from the growing ones on
	// growing is the number of values in the chunks that double, of
	// firstChunk, 2×firstChunk, ..., maxChunk values.
	growing = 2*maxChunk - firstChunk
	// grown is the number of chunks that double.
	grown = maxChunkLog - firstChunkLog + 1
)

// locate returns the chunk of the i-th value and its place in it.
func locate(i int) (chunk, off int) {
	if i < growing {
		chunk = bits.Len(uint(i>>firstChunkLog+1)) - 1
		return chunk, i - (1<<chunk-1)<<firstChunkLog
	}
	i -= growing
	return grown + i>>maxChunkLog, i & (maxChunk - 1)
}

// chunkSize returns the capacity of chunk c.
func chunkSize(c int) int {
	if c < grown {
		return firstChunk << c
	}
	return maxChunk
}

// at returns the i-th value.
func (s *slab[T]) at(i int) *T {
	c, off := locate(i)
	return &s.chunks[c][off]
}

// add appends v and returns its index.
func (s *slab[T]) add(v T) int {
	c := len(s.chunks) - 1
	if c < 0 || len(s.chunks[c]) == cap(s.chunks[c]) {
		s.chunks = append(s.chunks, make([]T, 0, chunkSize(c+1)))
		c++
	}
	s.chunks[c] = append(s.chunks[c], v)
	s.n++
	return s.n - 1
}
