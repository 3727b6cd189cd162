package netio

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"
)

func TestMemoryNetworkDelivery(t *testing.T) {
	n := NewNetwork()
	a := netip.MustParseAddr("2001:db8::a")
	b := netip.MustParseAddr("2001:db8::b")
	all := netip.MustParseAddr("ff02::1")
	var tapped []Packet
	n.AddTap(func(p Packet) { tapped = append(tapped, p) })
	ca := n.Attach([]netip.Addr{a}, nil, 4)
	cb := n.Attach([]netip.Addr{b}, []netip.Addr{all}, 4)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()

	payload := []byte{154, 2, 0, 0}
	if err := ca.WritePacket(ctx, Packet{Src: a, Dst: b, HopLimit: 255, NextHeader: 58, Payload: payload}); err != nil {
		t.Fatal(err)
	}
	payload[0] = 0 // the network must have copied it
	got, err := cb.ReadPacket(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Src != a || got.Payload[0] != 154 || got.HopLimit != 255 {
		t.Fatalf("got %+v", got)
	}
	if err := ca.WritePacket(ctx, Packet{Src: a, Dst: all, NextHeader: 58, Payload: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	if got, err := cb.ReadPacket(ctx); err != nil || got.Dst != all {
		t.Fatalf("multicast: %+v %v", got, err)
	}
	if len(tapped) != 2 {
		t.Fatalf("tap saw %d packets, want 2", len(tapped))
	}
	// Nothing for a: a short read must time out.
	short, cancel2 := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel2()
	if _, err := ca.ReadPacket(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a received something: %v", err)
	}
	// Moving b: its old address no longer reaches it.
	cb.SetAddrs([]netip.Addr{netip.MustParseAddr("2001:db8:2::b")})
	_ = ca.WritePacket(ctx, Packet{Src: a, Dst: b, NextHeader: 58, Payload: []byte{1}})
	short3, cancel3 := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel3()
	if _, err := cb.ReadPacket(short3); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("moved node still reached: %v", err)
	}
	cb.Close()
	if _, err := cb.ReadPacket(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	if err := cb.WritePacket(ctx, Packet{Src: b, Dst: a, Payload: []byte{1}}); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
}

func TestMemoryQueueFullDrops(t *testing.T) {
	n := NewNetwork()
	a := netip.MustParseAddr("2001:db8::a")
	b := netip.MustParseAddr("2001:db8::b")
	ca := n.Attach([]netip.Addr{a}, nil, 1)
	cb := n.Attach([]netip.Addr{b}, nil, 1)
	for range 3 {
		_ = ca.WritePacket(context.Background(), Packet{Src: a, Dst: b, Payload: []byte{1}})
	}
	if d := cb.Dropped(); d != 2 {
		t.Fatalf("dropped %d, want 2", d)
	}
}
