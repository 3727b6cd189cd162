package send

// lru is a bounded map with least-recently-used eviction. It is not safe for
// concurrent use; its owners hold a mutex.
type lru[K comparable, V any] struct {
	m    map[K]*lruNode[K, V]
	root lruNode[K, V] // sentinel: root.next is the newest, root.prev the oldest
	max  int
}

type lruNode[K comparable, V any] struct {
	key        K
	val        V
	prev, next *lruNode[K, V]
}

func newLRU[K comparable, V any](max int) *lru[K, V] {
	if max < 1 {
		max = 1
	}
	l := &lru[K, V]{m: make(map[K]*lruNode[K, V]), max: max}
	l.root.prev, l.root.next = &l.root, &l.root
	return l
}

func (l *lru[K, V]) len() int { return len(l.m) }

func (l *lru[K, V]) unlink(n *lruNode[K, V]) {
	n.prev.next, n.next.prev = n.next, n.prev
}

func (l *lru[K, V]) pushFront(n *lruNode[K, V]) {
	n.prev, n.next = &l.root, l.root.next
	n.prev.next, n.next.prev = n, n
}

// touch marks n as the most recently used.
func (l *lru[K, V]) touch(n *lruNode[K, V]) {
	l.unlink(n)
	l.pushFront(n)
}

// put stores v under k as the most recently used entry, evicting the least
// recently used entry when the map is full. It reports whether it evicted.
func (l *lru[K, V]) put(k K, v V) bool {
	if n, ok := l.m[k]; ok {
		n.val = v
		l.touch(n)
		return false
	}
	evicted := false
	if len(l.m) >= l.max {
		l.remove(l.root.prev)
		evicted = true
	}
	n := &lruNode[K, V]{key: k, val: v}
	l.m[k] = n
	l.pushFront(n)
	return evicted
}

func (l *lru[K, V]) remove(n *lruNode[K, V]) {
	l.unlink(n)
	delete(l.m, n.key)
}
