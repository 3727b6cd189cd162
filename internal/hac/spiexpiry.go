package hac

import (
	"container/heap"
	"time"

	"github.com/fhkey/fhkey/mip6tls"
)

// spiExpiry is a min-heap of (validity end, SPI), the order in which
// spiTable's SPIs expire. An entry whose SPI was released, or reserved
// again with another end, is dropped when it reaches the top.
type spiExpiry []spiEntry

type spiEntry struct {
	end time.Time
	spi mip6tls.SPI
}

func (q spiExpiry) Len() int           { return len(q) }
func (q spiExpiry) Less(i, j int) bool { return q[i].end.Before(q[j].end) }
func (q spiExpiry) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *spiExpiry) Push(x any)        { *q = append(*q, x.(spiEntry)) }
func (q *spiExpiry) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

func (q *spiExpiry) add(spi mip6tls.SPI, end time.Time) { heap.Push(q, spiEntry{end: end, spi: spi}) }

// expire removes from used every SPI whose validity ended at or before
// now.
func (q *spiExpiry) expire(used map[mip6tls.SPI]time.Time, now time.Time) {
	for q.Len() > 0 && !(*q)[0].end.After(now) {
		e := heap.Pop(q).(spiEntry)
		if end, ok := used[e.spi]; ok && end.Equal(e.end) {
			delete(used, e.spi)
		}
	}
}
