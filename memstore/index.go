package memstore

import "strings"

// usageIndex finds usage records by id. It maps a 64-bit hash of the id to
// the record's place, in tables of slots that hold no pointers for the
// garbage collector to scan: open addressing with linear probing, so a
// lookup mostly reads one cache line. A directory picks the table by the
// hash's top bits (extendible hashing): a table grows by doubling up to
// maxSlots slots, then splits in two, so an insert moves at most one
// table's entries, never the whole index, however long the account's
// history. An id whose hash an earlier id took, about once in 2^64/n ids,
// is mapped by the id itself in spill.
type usageIndex struct {
	dir   []*hashTable // dir[h>>(64-depth)] holds hash h
	depth uint         // len(dir) is 1<<depth
	spill map[string]pos
}

// hashTable is one table of a usageIndex. Its slots' hashes share their top
// depth bits; its slots are a power of two, at most 7/8 of them used (one
// more right after a split that sent every hash to one half): a full table
// is slower to probe than a sparse one, but smaller, and what costs most is
// reading a slot that has left the cache.
type hashTable struct {
	slots []slot
	used  int
	depth uint
}

// slot maps hash h to place p; h is 0 in an empty slot (see key).
type slot struct {
	h uint64
	p pos
}

// The sizes of tables: a new index's first table has minSlots slots, and a
// table of maxSlots slots (64 KiB) splits instead of growing, unless its
// hashes share maxDepth top bits: ids hashed with the Store's random seed
// share them only past 10^8 ids or so, and the directory stays at most
// 2^maxDepth entries (512 KiB) however the hashes fall.
const (
	minSlots = 8
	maxSlots = 4096
	maxDepth = 16
)

// key returns the hash a slot holds for id hash h: 0 marks empty slots, so
// hash 0 is kept as 1 (two ids that then share a hash are told apart by
// spill, as any two whose hashes collide).
func key(h uint64) uint64 {
	if h == 0 {
		return 1
	}
	return h
}

func (x *usageIndex) table(h uint64) *hashTable {
	if x.dir == nil {
		return nil
	}
	return x.dir[h>>(64-x.depth)] // a shift by 64 is 0: the only table
}

// probe returns the index of the slot holding h, or of the empty slot where
// h would go, and whether h is there.
func (t *hashTable) probe(h uint64) (int, bool) {
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch t.slots[i].h {
		case h:
			return int(i), true
		case 0:
			return int(i), false
		}
	}
}

// find returns the place of the record with id, whose hash is h.
func (x *usageIndex) find(records *log, id string, h uint64) (pos, bool) {
	h = key(h)
	if t := x.table(h); t != nil {
		if i, ok := t.probe(h); ok {
			if p := t.slots[i].p; string(usageID(records.from(p))) == id {
				return p, true
			}
		}
	}
	if x.spill == nil {
		return 0, false
	}
	p, ok := x.spill[id]
	return p, ok
}

// put maps id, whose hash is h, to p, unless id is mapped already: then it
// changes nothing and returns false. p is where the record with id is
// already in records, or mapping id would not find it.
func (x *usageIndex) put(records *log, id string, h uint64, p pos) bool {
	h = key(h)
	if x.dir == nil {
		x.dir = []*hashTable{{slots: make([]slot, minSlots)}}
	}
	t := x.table(h)
	i, taken := t.probe(h)
	if !taken {
		if 8*(t.used+1) > 7*len(t.slots) {
			x.grow(t)
			t = x.table(h)
			i, _ = t.probe(h)
		}
		t.slots[i] = slot{h, p}
		t.used++
		return true
	}
	if string(usageID(records.from(t.slots[i].p))) == id {
		return false
	}
	if _, dup := x.spill[id]; dup {
		return false
	}
	if x.spill == nil {
		x.spill = make(map[string]pos)
	}
	x.spill[strings.Clone(id)] = p
	return true
}

// remove undoes put(records, id, h, p).
func (x *usageIndex) remove(id string, h uint64, p pos) {
	h = key(h)
	if t := x.table(h); t != nil {
		if i, ok := t.probe(h); ok && t.slots[i].p == p {
			t.delete(i)
			return
		}
	}
	delete(x.spill, id)
}

// grow makes room in t, a full table: it doubles t's slots, or splits t in
// two when it has maxSlots.
func (x *usageIndex) grow(t *hashTable) {
	if len(t.slots) < maxSlots || t.depth == maxDepth {
		old := t.slots
		t.slots, t.used = make([]slot, 2*len(old)), 0
		for _, s := range old {
			if s.h != 0 {
				t.insert(s)
			}
		}
		return
	}
	if t.depth == x.depth {
		dir := make([]*hashTable, 2*len(x.dir))
		for i, u := range x.dir {
			dir[2*i], dir[2*i+1] = u, u
		}
		x.dir, x.depth = dir, x.depth+1
	}
	// t holds the hashes whose top t.depth bits are those of its first
	// slot's; the next bit sends each to one of the halves. Both halves
	// get maxSlots: with the Store's random seed, each gets about half.
	halves := [2]*hashTable{
		{slots: make([]slot, maxSlots), depth: t.depth + 1},
		{slots: make([]slot, maxSlots), depth: t.depth + 1},
	}
	var prefix uint64
	for _, s := range t.slots {
		if s.h != 0 {
			prefix = s.h >> (64 - t.depth)
			halves[s.h>>(63-t.depth)&1].insert(s)
		}
	}
	// t takes the dir entries from prefix<<span on, 1<<span of them; each
	// half takes half of them.
	span := x.depth - t.depth
	first := prefix << span
	for i := range uint64(1) << span {
		x.dir[first+i] = halves[i>>(span-1)]
	}
}

// insert puts s, whose hash t does not hold, in t, which has room.
func (t *hashTable) insert(s slot) {
	i, _ := t.probe(s.h)
	t.slots[i] = s
	t.used++
}

// delete empties slot i and moves up the slots after it that their probes
// would no longer reach (backward-shift deletion: no tombstones).
func (t *hashTable) delete(i int) {
	mask := len(t.slots) - 1
	for j := (i + 1) & mask; t.slots[j].h != 0; j = (j + 1) & mask {
		home := int(t.slots[j].h) & mask
		if (j-home)&mask >= (j-i)&mask { // i is on the slot's probe path
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = slot{}
	t.used--
}
