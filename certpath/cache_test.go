package certpath

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func auth(i int, notAfter time.Time, ta *TrustAnchor) *Authorization {
	var k KeyHash
	copy(k[:], fmt.Sprintf("router-%09d", i))
	return &Authorization{KeyHash: k, NotAfter: notAfter, Anchor: ta}
}

func TestCache(t *testing.T) {
	l := newLab(t)
	c := NewCache(3)
	a1, a2, a3, a4 := auth(1, now.Add(time.Hour), l.ta), auth(2, now.Add(2*time.Hour), l.ta2), auth(3, now.Add(3*time.Hour), l.ta), auth(4, now.Add(4*time.Hour), l.ta)
	c.Add(a1, now)
	c.Add(a2, now)
	c.Add(a3, now)
	if got, ok := c.Get(a1.KeyHash, now); !ok || got != a1 {
		t.Fatalf("Get(a1) = %v, %v", got, ok)
	}
	c.Add(a4, now) // evicts a2, the least recently used
	if c.Len() != 3 {
		t.Errorf("Len = %d, want 3", c.Len())
	}
	if _, ok := c.Get(a2.KeyHash, now); ok {
		t.Error("least recently used entry not evicted")
	}
	for _, a := range []*Authorization{a1, a3, a4} {
		if _, ok := c.Get(a.KeyHash, now); !ok {
			t.Errorf("entry %x evicted", a.KeyHash)
		}
	}
	// Expiry at NotAfter.
	if _, ok := c.Get(a1.KeyHash, a1.NotAfter); ok {
		t.Error("entry returned at its NotAfter")
	}
	if c.Len() != 2 {
		t.Errorf("expired entry kept: Len = %d", c.Len())
	}
	name, _ := l.ta.Name(NameTypeSHA256SKI)
	if got := c.ForAnchor(NameTypeSHA256SKI, name, now); len(got) != 2 {
		t.Errorf("ForAnchor = %d entries, want 2", len(got))
	}
	if n := c.Purge(a3.NotAfter); n != 1 || c.Len() != 1 {
		t.Errorf("Purge = %d, Len = %d; want 1, 1", n, c.Len())
	}
	c.Remove(a4.KeyHash)
	if c.Len() != 0 {
		t.Errorf("Len after Remove = %d", c.Len())
	}
	c.Add(auth(5, now, l.ta), now) // already expired
	if c.Len() != 0 {
		t.Error("expired authorization added")
	}
	// Replacement keeps one entry per key.
	c.Add(a3, now)
	b3 := auth(3, now.Add(time.Hour), l.ta)
	c.Add(b3, now)
	if got, _ := c.Get(a3.KeyHash, now); got != b3 || c.Len() != 1 {
		t.Errorf("replacement: got %p, Len %d", got, c.Len())
	}
}

func TestCacheConcurrent(t *testing.T) {
	c := NewCache(64)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 1000 {
				a := auth(g*1000+i, now.Add(time.Hour), nil)
				c.Add(a, now)
				c.Get(a.KeyHash, now)
			}
		})
	}
	wg.Wait()
	if c.Len() != 64 {
		t.Errorf("Len = %d, want the bound 64", c.Len())
	}
}

func BenchmarkCacheGet(b *testing.B) {
	c := NewCache(1024)
	for i := range 1024 {
		c.Add(auth(i, now.Add(time.Hour), nil), now)
	}
	k := auth(512, now, nil).KeyHash
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := c.Get(k, now); !ok {
			b.Fatal("miss")
		}
	}
}
