package memstore

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/rtcbill/billing"
	"pgregory.net/rapid"
)

// indexTest is a usageIndex with the log its places point into.
type indexTest struct {
	l   log
	s   symtab
	x   usageIndex
	ids []string // every id added to l
}

// add adds a usage record with id to the log and returns its place.
func (it *indexTest) add(id string) pos {
	it.ids = append(it.ids, id)
	return it.l.add(it.s.encodeUsage(nil, &billing.UsageRecord{Usage: billing.Usage{ID: id}}, nil, "acct"))
}

// check fails t unless the index's shape holds: a directory of 1<<depth
// tables, each table at most 7/8 full (one more right after a split),
// counting its slots right, with every hash under the directory entry of
// its top bits and reachable by probing from its home slot.
func (it *indexTest) check(t interface {
	Helper()
	Fatalf(string, ...any)
}) {
	t.Helper()
	x := &it.x
	if len(x.dir) != 1<<x.depth {
		t.Fatalf("directory of %d tables at depth %d", len(x.dir), x.depth)
	}
	for d, tb := range x.dir {
		if d > 0 && tb == x.dir[d-1] {
			continue
		}
		used := 0
		for i, s := range tb.slots {
			if s.h == 0 {
				continue
			}
			used++
			if got := x.dir[s.h>>(64-x.depth)]; got != tb {
				t.Fatalf("hash %#x in a table the directory does not give for it", s.h)
			}
			if j, ok := tb.probe(s.h); !ok || j != i {
				t.Fatalf("hash %#x at slot %d, probe finds slot %d, %v", s.h, i, j, ok)
			}
		}
		if used != tb.used || 8*(used-1) > 7*len(tb.slots) {
			t.Fatalf("table of %d slots has %d used, counts %d", len(tb.slots), used, tb.used)
		}
	}
}

// TestUsageIndex checks ids whose hashes collide: each is found at its own
// place, a second put of either is refused, and remove undoes put.
func TestUsageIndex(t *testing.T) {
	for _, h := range []uint64{42, 0, 1} { // 0 is kept as 1
		var it indexTest
		x := &it.x
		pa, pb := it.add("a"), it.add("b")
		if !x.put(&it.l, "a", h, pa) || !x.put(&it.l, "b", h, pb) {
			t.Fatal("put of new ids refused")
		}
		if x.put(&it.l, "a", h, pa) || x.put(&it.l, "b", h, pb) {
			t.Fatal("put of mapped ids accepted")
		}
		for _, c := range []struct {
			id   string
			want pos
		}{{"a", pa}, {"b", pb}} {
			if p, ok := x.find(&it.l, c.id, h); !ok || p != c.want {
				t.Errorf("hash %d: find(%q) = %#x, %v; want %#x, true", h, c.id, p, ok, c.want)
			}
		}
		if _, ok := x.find(&it.l, "c", h); ok {
			t.Errorf(`hash %d: find("c") found an id never put`, h)
		}
		x.remove("b", h, pb)
		x.remove("a", h, pa)
		if _, ok := x.find(&it.l, "a", h); ok {
			t.Errorf(`hash %d: find("a") after remove found it`, h)
		}
		if _, ok := x.find(&it.l, "b", h); ok {
			t.Errorf(`hash %d: find("b") after remove found it`, h)
		}
	}
}

// TestUsageIndexModel runs random puts, finds and removes (of the ids the
// last puts added, as a refused commit does) against a map, with hashes
// drawn from a few values, so that ids collide, or from all 64 bits; and
// bulk puts of thousands of ids with spread hashes, which split tables and
// deepen the directory, then may be removed again.
func TestUsageIndexModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var it indexTest
		hashes := map[string]uint64{}
		narrow := rapid.Bool().Draw(rt, "narrow")
		hash := func(id string) uint64 {
			h, ok := hashes[id]
			if !ok {
				if narrow {
					h = rapid.Uint64Range(0, 3).Draw(rt, "hash")
				} else {
					h = rapid.Uint64().Draw(rt, "hash")
				}
				hashes[id] = h
			}
			return h
		}
		model := map[string]pos{}
		type put struct {
			id string
			p  pos
		}
		var recent []put // the puts since the last remove
		rt.Repeat(map[string]func(*rapid.T){
			"put": func(rt *rapid.T) { // a commit's usages
				for range rapid.IntRange(1, 40).Draw(rt, "usages") {
					id := fmt.Sprint(rapid.IntRange(0, 400).Draw(rt, "id"))
					p := it.add(id)
					_, had := model[id]
					if got := it.x.put(&it.l, id, hash(id), p); got == had {
						rt.Fatalf("put(%q) = %v with the id mapped: %v", id, got, had)
					}
					if !had {
						model[id] = p
						recent = append(recent, put{id, p})
					}
				}
			},
			"bulk": func(rt *rapid.T) {
				r := rand.New(rand.NewPCG(rapid.Uint64().Draw(rt, "seed"), 0))
				for range rapid.IntRange(1000, 4000).Draw(rt, "usages") {
					id := fmt.Sprint("b", len(it.ids))
					hashes[id] = r.Uint64()
					p := it.add(id)
					if !it.x.put(&it.l, id, hashes[id], p) {
						rt.Fatalf("put(%q) of a new id refused", id)
					}
					model[id] = p
					recent = append(recent, put{id, p})
				}
			},
			"remove": func(rt *rapid.T) {
				for _, r := range recent {
					it.x.remove(r.id, hash(r.id), r.p)
					delete(model, r.id)
				}
				recent = recent[:0]
			},
			"": func(rt *rapid.T) {
				for id, h := range hashes {
					p, ok := it.x.find(&it.l, id, h)
					if want, had := model[id]; ok != had || p != want {
						rt.Fatalf("find(%q) = %#x, %v; want %#x, %v", id, p, ok, want, had)
					}
				}
				if it.x.dir != nil {
					it.check(rt)
				}
			},
		})
	})
}

// TestUsageIndexGrowth fills indexes past many splits, with hashes spread
// evenly and with hashes that all share their top 40 bits (so that splits
// reach maxDepth and tables grow past maxSlots), removes a third of the
// ids, and finds each id where it was put, or not at all once removed.
func TestUsageIndexGrowth(t *testing.T) {
	for _, c := range []struct {
		name string
		hash func(r *rand.Rand, i int) uint64
	}{
		{"even", func(r *rand.Rand, i int) uint64 { return r.Uint64() }},
		{"top bits shared", func(r *rand.Rand, i int) uint64 { return uint64(i) + 1 }},
		// Half the hashes under 00, which deepens the directory while the
		// table of prefix 1 stays at depth 1; then half under 1, which
		// splits that table across many directory entries.
		{"one half first", func(r *rand.Rand, i int) uint64 {
			if i < 20_000 {
				return r.Uint64() >> 2
			}
			return r.Uint64() | 1<<63
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			const n = 40_000
			r := rand.New(rand.NewPCG(1, 2))
			var it indexTest
			hashes, places := make([]uint64, n), make([]pos, n)
			for i := range n {
				id := fmt.Sprint("u", i)
				hashes[i], places[i] = c.hash(r, i), it.add(id)
				if !it.x.put(&it.l, id, hashes[i], places[i]) {
					t.Fatalf("put(%q) refused", id)
				}
			}
			it.check(t)
			for i := 0; i < n; i += 3 {
				it.x.remove(it.ids[i], hashes[i], places[i])
			}
			it.check(t)
			for i, id := range it.ids {
				p, ok := it.x.find(&it.l, id, hashes[i])
				if removed := i%3 == 0; ok == removed || ok && p != places[i] {
					t.Fatalf("find(%q) = %#x, %v; want %#x, %v", id, p, ok, places[i], !removed)
				}
			}
			if tables := len(it.x.dir); c.name != "top bits shared" && (tables < 16 || tables > 64) {
				// 40,000 hashes fill a 4,096-slot table at 3,584, and a split
				// leaves halves of 1,792, so the directory ends with
				// 40,000/3,584 = 12 to 40,000/1,792 = 23 tables, in a
				// directory of 16 or 32 entries (64 if uneven). One half
				// first puts 20,000 hashes in a quarter of the space: 6 to
				// 12 tables there, each 1/32 or 1/64 of the space, so 32 or
				// 64 entries.
				t.Errorf("%s: %d directory entries for %d hashes", c.name, tables, n)
			}
			if c.name == "top bits shared" && it.x.depth != maxDepth {
				t.Errorf("depth %d with shared top bits; want %d", it.x.depth, maxDepth)
			}
		})
	}
}
