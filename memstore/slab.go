package memstore

// slab is an append-only sequence of values in chunks of fixed size:
// appending never moves what is stored, so indexes and sub-slices of it stay
// valid, and a long history costs no copying.
type slab[T any] struct {
	chunks [][]T
	n      int
}

const chunkSize = 1024

// at returns the i-th value.
func (s *slab[T]) at(i int) *T { return &s.chunks[i/chunkSize][i%chunkSize] }

// add appends v and returns its index.
func (s *slab[T]) add(v T) int {
	if s.n%chunkSize == 0 {
		s.chunks = append(s.chunks, make([]T, 0, chunkSize))
	}
	c := &s.chunks[len(s.chunks)-1]
	*c = append(*c, v)
	s.n++
	return s.n - 1
}

// copyIn returns a copy of vs that lives in the slab (or, if longer than a
// chunk, on its own), with its capacity limited to its length. The values
// are not reachable by index.
func (s *slab[T]) copyIn(vs []T) []T {
	if len(vs) == 0 {
		return nil
	}
	if len(vs) > chunkSize {
		return append([]T(nil), vs...)
	}
	c := len(s.chunks) - 1
	if c < 0 || len(s.chunks[c])+len(vs) > chunkSize {
		s.chunks = append(s.chunks, make([]T, 0, chunkSize))
		c++
	}
	start := len(s.chunks[c])
	s.chunks[c] = append(s.chunks[c], vs...)
	s.n += len(vs)
	return s.chunks[c][start : start+len(vs) : start+len(vs)]
}
