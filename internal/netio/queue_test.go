package netio

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/testenv"
)

func queued(seqs ...byte) []received {
	rs := make([]received, len(seqs))
	for i, s := range seqs {
		rs[i] = received{p: Packet{Payload: []byte{s}}}
	}
	return rs
}

func popSeqs(t *testing.T, q *packetQueue, room int) ([]byte, error) {
	t.Helper()
	ps := make([]Packet, room)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := q.pop(ctx, ps)
	var got []byte
	for _, p := range ps[:n] {
		got = append(got, p.Payload[0])
	}
	return got, err
}

func TestPacketQueueBatches(t *testing.T) {
	done := make(chan struct{})
	q := newPacketQueue(8, done)
	readerErr := errors.New("reader stopped")
	if !q.push(queued(1, 2, 3, 4, 5)) {
		t.Fatal("push refused")
	}
	q.push([]received{{err: readerErr}})
	q.push(queued(6))
	for _, tt := range []struct {
		room    int
		want    []byte
		wantErr error
	}{
		{2, []byte{1, 2}, nil},     // partial: only the room there is
		{64, []byte{3, 4, 5}, nil}, // what is queued, without waiting for more, up to the error
		{64, nil, readerErr},       // the error alone
		{64, []byte{6}, nil},       // then the packets after it
		{0, nil, nil},              // no room: nothing, at once
	} {
		got, err := popSeqs(t, q, tt.room)
		if string(got) != string(tt.want) || !errors.Is(err, tt.wantErr) {
			t.Fatalf("pop(room %d) = %v, %v; want %v, %v", tt.room, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestPacketQueueWaits(t *testing.T) {
	done := make(chan struct{})
	q := newPacketQueue(2, done)

	// A full queue holds the pusher back until a reader makes room: once
	// it has queued what fits, it can only wait.
	pushed := make(chan bool)
	go func() { pushed <- q.push(queued(1, 2, 3)) }()
	testenv.Eventually(t, 5*time.Second, "push of 3 into a queue of 2", func() (bool, string) {
		n := q.len()
		return n == 2, fmt.Sprintf("%d queued", n)
	})
	select {
	case <-pushed:
		t.Fatal("push of 3 into a queue of 2 returned before any pop")
	default:
	}
	if got, err := popSeqs(t, q, 64); err != nil || string(got) != "\x01\x02" {
		t.Fatalf("pop = %v, %v", got, err)
	}
	if !<-pushed {
		t.Fatal("push refused")
	}
	if got, err := popSeqs(t, q, 64); err != nil || string(got) != "\x03" {
		t.Fatalf("pop = %v, %v", got, err)
	}

	// An empty queue holds the reader until a push, ctx or close.
	popped := popAsync(t, q)
	waitBlocked(t, q)
	q.push(queued(4))
	if r := <-popped; r.err != nil || string(r.got) != "\x04" {
		t.Fatalf("pop after a late push = %v, %v", r.got, r.err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if n, err := q.pop(ctx, make([]Packet, 4)); n != 0 || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("pop on an empty queue = %d, %v; want the context's error", n, err)
	}
	popped = popAsync(t, q)
	waitBlocked(t, q)
	close(done)
	if r := <-popped; len(r.got) != 0 || !errors.Is(r.err, ErrClosed) {
		t.Fatalf("pop when closed = %v, %v; want ErrClosed", r.got, r.err)
	}
	if q.push(queued(5, 6, 7)) {
		t.Fatal("push into a full, closed queue reported success")
	}
}

type popResult struct {
	got []byte
	err error
}

// popAsync pops from q in a goroutine (popSeqs with room for 64).
func popAsync(t *testing.T, q *packetQueue) <-chan popResult {
	c := make(chan popResult, 1)
	go func() {
		got, err := popSeqs(t, q, 64)
		c <- popResult{got, err}
	}()
	return c
}

// waitBlocked waits until a reader waits in q.pop for a packet, so that
// what the test does next finds it waiting.
func waitBlocked(t *testing.T, q *packetQueue) {
	t.Helper()
	testenv.Eventually(t, 5*time.Second, "a reader waiting in pop", func() (bool, string) {
		n := q.blocked.Load()
		return n > 0, fmt.Sprintf("%d readers waiting", n)
	})
}

// len returns the number of entries q holds.
func (q *packetQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

func BenchmarkPacketQueue(b *testing.B) {
	done := make(chan struct{})
	defer close(done)
	q := newPacketQueue(256, done)
	batch := queued(make([]byte, 32)...)
	ps := make([]Packet, MaxBatch)
	ctx := context.Background()
	go func() {
		for q.push(batch) {
		}
	}()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		k, err := q.pop(ctx, ps)
		if err != nil {
			b.Fatal(err)
		}
		n += k
	}
	b.ReportMetric(float64(n)/float64(b.N), "packets/op")
}
