package netio

import (
	"context"
	"errors"
	"testing"
	"time"
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
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
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

	// A full queue holds the pusher back until a reader makes room.
	pushed := make(chan bool)
	go func() { pushed <- q.push(queued(1, 2, 3)) }()
	select {
	case <-pushed:
		t.Fatal("push of 3 into a queue of 2 returned before any pop")
	case <-time.After(50 * time.Millisecond):
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
	go func() {
		time.Sleep(20 * time.Millisecond)
		q.push(queued(4))
	}()
	if got, err := popSeqs(t, q, 64); err != nil || string(got) != "\x04" {
		t.Fatalf("pop after a late push = %v, %v", got, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if n, err := q.pop(ctx, make([]Packet, 4)); n != 0 || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("pop on an empty queue = %d, %v; want the context's error", n, err)
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		close(done)
	}()
	if n, err := q.pop(context.Background(), make([]Packet, 4)); n != 0 || !errors.Is(err, ErrClosed) {
		t.Fatalf("pop when closed = %d, %v; want ErrClosed", n, err)
	}
	if q.push(queued(5, 6, 7)) {
		t.Fatal("push into a full, closed queue reported success")
	}
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
