//go:build linux

package netio

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/internal/testenv"
)

// fastBindingUpdate is an FBU-shaped Mobility Header (MH Type 8, RFC 5568
// §6.2.2; the body laid out as a Binding Update's, RFC 6275 §6.1.7).
func fastBindingUpdate(seq uint16) []byte {
	b := bindingUpdate(seq)
	b[2] = 8 // MH Type: Fast Binding Update
	return b
}

// readN reads with ReadBatch until n packets came, in calls of room
// packets, and returns them and the size of each call's batch.
func readN(t *testing.T, c BatchConn, n, room int) (ps []Packet, calls []int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	buf := make([]Packet, room)
	for len(ps) < n {
		k, err := c.ReadBatch(ctx, buf)
		if err != nil {
			t.Fatalf("ReadBatch after %d of %d packets: %v", len(ps), n, err)
		}
		if k < 1 || k > room {
			t.Fatalf("ReadBatch returned %d packets into room for %d", k, room)
		}
		ps = append(ps, buf[:k]...)
		calls = append(calls, k)
	}
	return ps, calls
}

func TestMHBatchRoundTrip(t *testing.T) {
	tb := sharedTestbed(t)
	par := listenMH(t, tb, testbed.PAR, MHConfig{})
	mn := listenMH(t, tb, testbed.MN, MHConfig{Interface: testbed.IfaceMNToPAR})
	pcoa, dst := testbed.AddrMNPrevious, testbed.AddrPAR

	// 150 packets: more than MaxBatch, runs with and without a Home
	// Address option alternating (each run is one sendmmsg on its own
	// socket), received on the protocol-135 and protocol-60 sockets.
	const n = 150
	sent := make([]Packet, n)
	for i := range sent {
		sent[i] = Packet{Src: pcoa, Dst: dst, Payload: bindingUpdate(uint16(i))}
		if i/10%2 == 1 {
			sent[i].HomeAddress = pcoa
		}
	}
	k, err := mn.WriteBatch(context.Background(), sent)
	if err != nil || k != n {
		t.Fatalf("WriteBatch = %d, %v; want %d, nil", k, err, n)
	}
	got, _ := readN(t, par, n, MaxBatch)
	seen := make(map[uint16]bool)
	lastPlain, lastHome := -1, -1
	for _, p := range got {
		seq := binary.BigEndian.Uint16(p.Payload[6:])
		if int(seq) >= n || seen[seq] {
			t.Fatalf("sequence %d unexpected or repeated", seq)
		}
		seen[seq] = true
		want := sent[seq]
		if p.Src != pcoa || p.Dst != dst || p.HomeAddress != want.HomeAddress || p.NextHeader != inet.ProtocolMobility || p.HopLimit != 64 {
			t.Fatalf("packet %d: src %v dst %v home %v nh %d hop %d", seq, p.Src, p.Dst, p.HomeAddress, p.NextHeader, p.HopLimit)
		}
		checkMHChecksum(t, p)
		// Order is kept per receiving socket.
		last := &lastPlain
		if want.HomeAddress.IsValid() {
			last = &lastHome
		}
		if int(seq) < *last {
			t.Fatalf("sequence %d after %d on the same socket", seq, *last)
		}
		*last = int(seq)
	}
	// The sender's payloads are not modified by the checksum it computes.
	for i, p := range sent {
		if binary.BigEndian.Uint16(p.Payload[4:]) != 0 {
			t.Fatalf("WriteBatch wrote into packet %d's payload", i)
		}
	}
}

func TestMHBatchPartial(t *testing.T) {
	tb := sharedTestbed(t)
	par := listenMH(t, tb, testbed.PAR, MHConfig{})
	mn := listenMH(t, tb, testbed.MN, MHConfig{Interface: testbed.IfaceMNToPAR})
	dst := testbed.AddrPAR

	t.Run("a refused packet stops the batch", func(t *testing.T) {
		ps := []Packet{
			{Dst: dst, Payload: bindingUpdate(1)},
			{Dst: dst, HomeAddress: testbed.AddrMNPrevious, Payload: bindingUpdate(2)},
			{Dst: dst, HomeAddress: netip.MustParseAddr("ff02::1"), Payload: bindingUpdate(3)}, // multicast home address
			{Dst: dst, Payload: bindingUpdate(4)},
		}
		k, err := mn.WriteBatch(context.Background(), ps)
		if k != 2 || err == nil {
			t.Fatalf("WriteBatch = %d, %v; want 2 and the error of packet 2", k, err)
		}
		// The caller goes on after the refused packet.
		if k, err := mn.WriteBatch(context.Background(), ps[3:]); k != 1 || err != nil {
			t.Fatalf("WriteBatch of the rest = %d, %v", k, err)
		}
		got, _ := readN(t, par, 3, MaxBatch)
		var seqs []uint16
		for _, p := range got {
			seqs = append(seqs, binary.BigEndian.Uint16(p.Payload[6:]))
		}
		for _, s := range seqs {
			if s == 3 {
				t.Fatalf("the refused packet arrived: %v", seqs)
			}
		}
	})
	t.Run("reads take what is queued, in the room given", func(t *testing.T) {
		ps := make([]Packet, 7)
		for i := range ps {
			ps[i] = Packet{Dst: dst, Payload: bindingUpdate(uint16(10 + i))}
		}
		if k, err := mn.WriteBatch(context.Background(), ps); k != 7 || err != nil {
			t.Fatalf("WriteBatch = %d, %v", k, err)
		}
		// All seven in par's queue before the first read, so that the
		// reads are limited by their room only.
		testenv.Eventually(t, 5*time.Second, "seven packets queued", func() (bool, string) {
			n := par.queue.len()
			return n == 7, fmt.Sprintf("%d queued", n)
		})
		got, calls := readN(t, par, 7, 3)
		if len(calls) != 3 || calls[0] != 3 || calls[1] != 3 || calls[2] != 1 {
			t.Fatalf("batches of %v, want [3 3 1]", calls)
		}
		for i, p := range got {
			if s := binary.BigEndian.Uint16(p.Payload[6:]); s != uint16(10+i) {
				t.Fatalf("packet %d has sequence %d", i, s)
			}
		}
	})
	t.Run("empty batches", func(t *testing.T) {
		if k, err := mn.WriteBatch(context.Background(), nil); k != 0 || err != nil {
			t.Fatalf("WriteBatch(nil) = %d, %v", k, err)
		}
		if k, err := par.ReadBatch(context.Background(), nil); k != 0 || err != nil {
			t.Fatalf("ReadBatch(nil) = %d, %v", k, err)
		}
	})
}

func TestMHBatchCancelAndClose(t *testing.T) {
	tb := sharedTestbed(t)
	par := listenMH(t, tb, testbed.PAR, MHConfig{})
	ps := make([]Packet, 4)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if k, err := par.ReadBatch(ctx, ps); k != 0 || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadBatch with nothing to read = %d, %v; want the context's error", k, err)
	}
	canceled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	out := []Packet{{Dst: testbed.AddrMNPrevious, Payload: bindingUpdate(1)}}
	if k, err := par.WriteBatch(canceled, out); k != 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("WriteBatch with a canceled context = %d, %v", k, err)
	}

	errc := make(chan error, 1)
	go func() {
		_, err := par.ReadBatch(context.Background(), ps)
		errc <- err
	}()
	waitBlocked(t, par.queue)
	par.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("ReadBatch on close: %v, want ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("ReadBatch still blocked after Close")
	}
	if k, err := par.WriteBatch(context.Background(), out); k != 0 || !errors.Is(err, ErrClosed) {
		t.Fatalf("WriteBatch after Close = %d, %v", k, err)
	}
}

func TestMHTypesFilter(t *testing.T) {
	tb := sharedTestbed(t)
	fbuOnly := listenMH(t, tb, testbed.PAR, MHConfig{Types: []uint8{8}})
	all := listenMH(t, tb, testbed.PAR, MHConfig{})
	mn := listenMH(t, tb, testbed.MN, MHConfig{Interface: testbed.IfaceMNToPAR})
	dst, pcoa := testbed.AddrPAR, testbed.AddrMNPrevious
	ps := []Packet{
		{Dst: dst, Payload: bindingUpdate(1)},                                 // type 5, protocol-135 socket: filtered
		{Dst: dst, HomeAddress: pcoa, Payload: bindingUpdate(2)},              // type 5, protocol-60 socket: filtered
		{Dst: dst, Payload: fastBindingUpdate(3)},                             // type 8: passed
		{Dst: dst, HomeAddress: pcoa, Payload: fastBindingUpdate(4)},          // type 8 with the option: passed
		{Dst: dst, HomeAddress: pcoa, Payload: withType(bindingUpdate(5), 9)}, // type 9 with the option: filtered
	}
	if k, err := mn.WriteBatch(context.Background(), ps); k != len(ps) || err != nil {
		t.Fatalf("WriteBatch = %d, %v", k, err)
	}
	// The unfiltered Conn sees all five, so they all arrived.
	if got, _ := readN(t, all, len(ps), MaxBatch); len(got) != len(ps) {
		t.Fatalf("unfiltered Conn read %d", len(got))
	}
	got, _ := readN(t, fbuOnly, 2, MaxBatch)
	for _, p := range got {
		if p.Payload[2] != 8 {
			t.Fatalf("MH type %d passed a filter of type 8", p.Payload[2])
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if p, err := fbuOnly.ReadPacket(ctx); err == nil {
		t.Fatalf("filtered Conn read MH type %d, sequence %d", p.Payload[2], binary.BigEndian.Uint16(p.Payload[6:]))
	}
	if _, err := ListenMH(MHConfig{Types: make([]uint8, 65)}); err == nil {
		t.Fatal("65 types accepted")
	}
}

func withType(b []byte, typ uint8) []byte {
	b[2] = typ
	return b
}

func TestICMPBatchRoundTrip(t *testing.T) {
	tb := sharedTestbed(t)
	par := listenICMP(t, tb, testbed.PAR, ICMPConfig{Interface: testbed.IfaceAccess, Types: []uint8{154}})
	mn := listenICMP(t, tb, testbed.MN, ICMPConfig{Interface: testbed.IfaceMNToPAR, Types: []uint8{154}})
	parLL := linkLocal(t, par)
	ps := make([]Packet, 70)
	for i := range ps {
		ps[i] = Packet{Dst: parLL, Payload: rtSolPr(uint16(i))}
	}
	ps[69].HomeAddress = testbed.AddrMNPrevious // refused on ICMPv6
	if k, err := mn.WriteBatch(context.Background(), ps); k != 69 || err == nil {
		t.Fatalf("WriteBatch = %d, %v; want 69 and the error of the last", k, err)
	}
	got, _ := readN(t, par, 69, MaxBatch)
	for i, p := range got {
		if id := binary.BigEndian.Uint16(p.Payload[6:]); id != uint16(i) || p.HopLimit != 255 || p.Dst != parLL {
			t.Fatalf("packet %d: identifier %d hop %d dst %v", i, id, p.HopLimit, p.Dst)
		}
		checkICMPChecksum(t, p)
	}
}

// BenchmarkMHBatchHomeAddress moves FBU-sized Mobility Headers with the
// Home Address option from the MN to the PAR, MaxBatch per call: compare
// with BenchmarkMHHomeAddressRoundTrip (one packet per system call).
func BenchmarkMHBatchHomeAddress(b *testing.B) {
	tb := sharedTestbed(b)
	par := listenMH(b, tb, testbed.PAR, MHConfig{ReceiveBuffer: 1 << 20})
	mn := listenMH(b, tb, testbed.MN, MHConfig{Interface: testbed.IfaceMNToPAR})
	ps := make([]Packet, MaxBatch)
	for i := range ps {
		ps[i] = Packet{Src: testbed.AddrMNPrevious, Dst: testbed.AddrPAR, HomeAddress: testbed.AddrMNPrevious, Payload: fastBindingUpdate(uint16(i))}
	}
	in := make([]Packet, MaxBatch)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := mn.WriteBatch(ctx, ps); err != nil {
			b.Fatal(err)
		}
		for got := 0; got < len(ps); {
			k, err := par.ReadBatch(ctx, in)
			if err != nil {
				b.Fatal(err)
			}
			got += k
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ps)), "ns/packet")
}
