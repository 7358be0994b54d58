package memstore

import (
	"sort"
	"time"
)

// log holds records, each a run of bytes, back to back in chunks that are
// never moved or copied again: appending costs the same with any history,
// and a record is found by its place. The chunks hold no pointers, so the
// garbage collector never scans them. They double from firstChunk to
// maxChunk bytes, so that an account with little history holds little
// memory; a record longer than a chunk gets a chunk of its own size. A
// record never spans two chunks.
type log struct {
	chunks [][]byte
}

const (
	firstChunk = 256
	maxChunk   = 64 << 10
)

// pos is the place of a record in a log: its chunk in the high 32 bits and
// its offset in the chunk in the low 32. A log is empty from pos 0.
type pos uint64

func place(chunk, off int) pos { return pos(uint64(chunk)<<32 | uint64(off)) }

func (p pos) chunk() int { return int(p >> 32) }
func (p pos) off() int   { return int(uint32(p)) }

// end returns the place after the last record.
func (l *log) end() pos {
	c := len(l.chunks) - 1
	if c < 0 {
		return 0
	}
	return place(c, len(l.chunks[c]))
}

// add appends rec and returns its place.
func (l *log) add(rec []byte) pos {
	c := len(l.chunks) - 1
	if c < 0 || len(rec) > cap(l.chunks[c])-len(l.chunks[c]) {
		size := firstChunk
		if c >= 0 {
			size = min(2*cap(l.chunks[c]), maxChunk)
		}
		l.chunks = append(l.chunks, make([]byte, 0, max(size, len(rec))))
		c++
	}
	off := len(l.chunks[c])
	l.chunks[c] = append(l.chunks[c], rec...)
	return place(c, off)
}

// from returns the bytes from p to the end of its chunk: the record at p
// and those after it in the chunk.
func (l *log) from(p pos) []byte { return l.chunks[p.chunk()][p.off():] }

// next returns the place after the record at p, which takes size bytes.
func (l *log) next(p pos, size int) pos {
	c, off := p.chunk(), p.off()+size
	if off == len(l.chunks[c]) && c+1 < len(l.chunks) {
		return place(c+1, 0)
	}
	return place(c, off)
}

// truncate removes the records from p, a place end returned, on.
func (l *log) truncate(p pos) {
	c := p.chunk()
	if c >= len(l.chunks) {
		return
	}
	l.chunks = l.chunks[:c+1]
	l.chunks[c] = l.chunks[c][:p.off()]
}

// ledger is an account's entries in Seq order, with what the checks and
// the searches of the ledger need to know without decoding it.
type ledger struct {
	log
	n        int
	lastSeq  int64     // the last entry's Seq, or 0
	lastAt   time.Time // the last entry's At
	unsorted bool      // some entry's At is before an earlier entry's
	// marks holds the place and At of every markEvery-th entry, from the
	// first, for Entries to start near the first entry it wants.
	marks []mark
}

const markEvery = 64

type mark struct {
	at time.Time
	p  pos
}

// add appends the encoded entry rec, whose Seq is seq and At is at.
func (l *ledger) add(rec []byte, seq int64, at time.Time) {
	at = at.Round(0) // wall time, as the entry reads back: a monotonic reading would order it otherwise
	p := l.log.add(rec)
	if l.n%markEvery == 0 {
		l.marks = append(l.marks, mark{at, p})
	}
	if l.n > 0 && at.Before(l.lastAt) {
		l.unsorted = true
	}
	l.n++
	l.lastSeq, l.lastAt = seq, at
}

// seek returns the place to read from for the entries at or after from:
// in a ledger in time order, the last mark before them; else the start.
func (l *ledger) seek(from time.Time) pos {
	if l.unsorted {
		return 0
	}
	i := sort.Search(len(l.marks), func(i int) bool { return !l.marks[i].at.Before(from) })
	if i == 0 {
		return 0
	}
	return l.marks[i-1].p
}
