package keystore

import (
	"fmt"
	"hash/maphash"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// memoryShards is the number of independently locked parts of a Memory
// store: enough that readers on a many-core router rarely share a lock's
// cache line, few enough that Expire and Len stay cheap.
const memoryShards = 32

// expireChunk bounds how many records Expire removes under one lock hold,
// so a mass expiry does not stall Get for long.
const expireChunk = 4096

// Memory is an in-memory Store. Records live in per-shard slabs of compact
// 96-octet entries, found through a map keyed by the 32-octet (AR, MN) pair,
// and each shard keeps a min-heap of slab indices ordered by expiry, so
// Expire pops expired records without scanning the rest. Heap use is about
// 205 octets per key at one million keys (TestMemoryBytesPerKey enforces
// at most 256).
//
// Key octets are wiped from the slab on Delete, replace, expiry and Close,
// and the old slab is wiped when it grows; see docs/keystore.md for what
// that does not cover.
type Memory struct {
	now    func() time.Time
	seed   maphash.Seed
	closed atomic.Bool
	shards [memoryShards]memoryShard
}

type memoryShard struct {
	mu    sync.RWMutex
	index map[pairKey]uint32
	slab  []entry  // records; free slots have keyLen 0
	free  []uint32 // free slab slots
	heap  []uint32 // slab indices, a min-heap by entry.expires
	_     [24]byte // 128 octets a shard: locks on separate cache lines
}

// entry is one record in a slab: 96 octets.
type entry struct {
	pair    pairKey
	created int64 // Unix nanoseconds
	expires int64 // Unix nanoseconds
	spi     uint32
	heapIdx uint32
	at      uint8
	keyLen  uint8
	key     Key
}

// NewMemory returns an empty Memory store. Options: WithClock.
func NewMemory(opts ...Option) *Memory {
	o := buildOptions(opts)
	m := &Memory{now: o.now, seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].index = make(map[pairKey]uint32)
	}
	return m
}

func (m *Memory) shard(k *pairKey) *memoryShard {
	return &m.shards[maphash.Bytes(m.seed, k[:])%memoryShards]
}

// Put implements Store.
func (m *Memory) Put(r *Record) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if m.closed.Load() {
		return ErrClosed
	}
	k := makePairKey(r.AR, r.MN)
	s := m.shard(&k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.closed.Load() {
		return ErrClosed
	}
	i, ok := s.index[k]
	if !ok {
		i = s.alloc()
		s.index[k] = i
	}
	e := &s.slab[i]
	old := e.expires
	e.pair = k
	e.created = r.Created.UnixNano()
	e.expires = r.Expires.UnixNano()
	e.spi = r.SPI
	e.at = r.AT
	e.keyLen = r.KeyLen
	clear(e.key[:])
	copy(e.key[:], r.KeyBytes())
	if !ok {
		e.heapIdx = uint32(len(s.heap))
		s.heap = append(s.heap, i)
		s.up(int(e.heapIdx))
	} else if e.expires < old {
		s.up(int(e.heapIdx))
	} else if e.expires > old {
		s.down(int(e.heapIdx))
	}
	return nil
}

// alloc returns a free slab slot, growing the slab when none is free. The
// old backing array is wiped after the copy so no key stays behind in it.
func (s *memoryShard) alloc() uint32 {
	if n := len(s.free); n > 0 {
		i := s.free[n-1]
		s.free = s.free[:n-1]
		return i
	}
	if len(s.slab) == cap(s.slab) {
		old := s.slab
		s.slab = append(s.slab[:len(s.slab):len(s.slab)], entry{})
		clear(old)
		return uint32(len(s.slab) - 1)
	}
	s.slab = append(s.slab, entry{})
	return uint32(len(s.slab) - 1)
}

// Get implements Store.
func (m *Memory) Get(ar, mn netip.Addr) (Record, error) {
	if !validPair(ar, mn) {
		return Record{}, fmt.Errorf("%w: %w: AR %v, MN %v", ErrNotFound, ErrInvalid, ar, mn)
	}
	k := makePairKey(ar, mn)
	s := m.shard(&k)
	var r Record
	s.mu.RLock()
	if m.closed.Load() {
		s.mu.RUnlock()
		return Record{}, ErrClosed
	}
	i, ok := s.index[k]
	if ok {
		s.slab[i].toRecord(&r)
	}
	s.mu.RUnlock()
	if !ok {
		return Record{}, fmt.Errorf("%w: AR %v, MN %v", ErrNotFound, ar, mn)
	}
	if r.ExpiredAt(m.now()) {
		r.Zero()
		return Record{}, fmt.Errorf("%w: %w: AR %v, MN %v", ErrNotFound, ErrExpired, ar, mn)
	}
	return r, nil
}

func (e *entry) toRecord(r *Record) {
	r.AR = netip.AddrFrom16([16]byte(e.pair[:16]))
	r.MN = netip.AddrFrom16([16]byte(e.pair[16:]))
	r.AT = e.at
	r.SPI = e.spi
	r.Key = e.key
	r.KeyLen = e.keyLen
	r.Created = fromUnixNano(e.created)
	r.Expires = fromUnixNano(e.expires)
}

// Delete implements Store.
func (m *Memory) Delete(ar, mn netip.Addr) error {
	if !validPair(ar, mn) {
		return fmt.Errorf("%w: %w: AR %v, MN %v", ErrNotFound, ErrInvalid, ar, mn)
	}
	k := makePairKey(ar, mn)
	s := m.shard(&k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.closed.Load() {
		return ErrClosed
	}
	i, ok := s.index[k]
	if !ok {
		return fmt.Errorf("%w: AR %v, MN %v", ErrNotFound, ar, mn)
	}
	s.removeHeap(int(s.slab[i].heapIdx))
	s.release(i)
	return nil
}

// release wipes slot i and returns it to the free list; the caller has
// already taken it out of the heap.
func (s *memoryShard) release(i uint32) {
	delete(s.index, s.slab[i].pair)
	s.slab[i] = entry{}
	s.free = append(s.free, i)
}

// Expire implements Store.
func (m *Memory) Expire(now time.Time) (int, error) {
	t := nowNano(now)
	n := 0
	for si := range m.shards {
		s := &m.shards[si]
		for {
			s.mu.Lock()
			if m.closed.Load() {
				s.mu.Unlock()
				return n, ErrClosed
			}
			c := 0
			for len(s.heap) > 0 && s.slab[s.heap[0]].expires <= t && c < expireChunk {
				i := s.heap[0]
				s.removeHeap(0)
				s.release(i)
				c++
			}
			more := c == expireChunk
			s.mu.Unlock()
			n += c
			if !more {
				break
			}
		}
	}
	return n, nil
}

// Len implements Store.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.RLock()
		n += len(s.index)
		s.mu.RUnlock()
	}
	return n
}

// rangeChunk is how many records Range copies under one lock hold.
const rangeChunk = 256

// Range implements Store. It walks each shard's slab in slot order, copying
// up to rangeChunk records under the read lock and calling fn outside it.
func (m *Memory) Range(fn func(r *Record) bool) error {
	buf := make([]Record, 0, rangeChunk)
	defer func() { clear(buf[:cap(buf)]) }()
	for si := range m.shards {
		s := &m.shards[si]
		for pos := 0; ; {
			buf = buf[:0]
			s.mu.RLock()
			if m.closed.Load() {
				s.mu.RUnlock()
				return ErrClosed
			}
			for ; pos < len(s.slab) && len(buf) < rangeChunk; pos++ {
				if s.slab[pos].keyLen != 0 {
					buf = append(buf, Record{})
					s.slab[pos].toRecord(&buf[len(buf)-1])
				}
			}
			end := pos >= len(s.slab)
			s.mu.RUnlock()
			now := m.now()
			for i := range buf {
				if !buf[i].ExpiredAt(now) && !fn(&buf[i]) {
					return nil
				}
			}
			if end {
				break
			}
		}
	}
	return nil
}

// Close implements Store: it wipes every slab and drops the indexes.
func (m *Memory) Close() error {
	if m.closed.Swap(true) {
		return nil
	}
	// Every method checks closed under the shard lock, so none touches a
	// shard after it is cleared here.
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		clear(s.slab)
		s.slab, s.free, s.heap, s.index = nil, nil, nil, nil
		s.mu.Unlock()
	}
	return nil
}

// Heap maintenance: s.heap holds slab indices ordered by expiry and each
// entry records its heap position in heapIdx.

func (s *memoryShard) less(a, b int) bool {
	return s.slab[s.heap[a]].expires < s.slab[s.heap[b]].expires
}

func (s *memoryShard) swap(a, b int) {
	h := s.heap
	h[a], h[b] = h[b], h[a]
	s.slab[h[a]].heapIdx = uint32(a)
	s.slab[h[b]].heapIdx = uint32(b)
}

func (s *memoryShard) up(j int) {
	for j > 0 {
		p := (j - 1) / 2
		if !s.less(j, p) {
			break
		}
		s.swap(j, p)
		j = p
	}
}

func (s *memoryShard) down(j int) {
	n := len(s.heap)
	for {
		c := 2*j + 1
		if c >= n {
			return
		}
		if r := c + 1; r < n && s.less(r, c) {
			c = r
		}
		if !s.less(c, j) {
			return
		}
		s.swap(j, c)
		j = c
	}
}

// removeHeap removes heap position j.
func (s *memoryShard) removeHeap(j int) {
	last := len(s.heap) - 1
	if j != last {
		s.swap(j, last)
	}
	s.heap = s.heap[:last]
	if j != last {
		s.down(j)
		s.up(j)
	}
}

var _ Store = (*Memory)(nil)
