package mip6udp

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

// TestConcurrentSealOpen: goroutines sealing on one Outbound get distinct
// Sequence Numbers, and goroutines opening the same packets on one
// Inbound accept each exactly once (the window's check and update are
// one step). 64 packets: all stay inside the window whatever the order.
func TestConcurrentSealOpen(t *testing.T) {
	out, in := pair(t, fixedConfig(t, AES128CBCSHA, 8, 3))
	const workers, each = 4, 16
	pkts := make([][]byte, workers*each)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				b, err := out.Seal(nil, PacketTypeData, 41, []byte{byte(w), byte(i)})
				if err != nil {
					t.Error(err)
				}
				pkts[w*each+i] = b
			}
		})
	}
	wg.Wait()
	seen := map[uint32]bool{}
	for _, p := range pkts {
		h, err := ParsePacket(p)
		if err != nil || seen[h.SequenceNumber] || h.SequenceNumber == 0 || h.SequenceNumber > workers*each {
			t.Fatalf("Sequence Number %d (%v) twice or out of 1..%d", h.SequenceNumber, err, workers*each)
		}
		seen[h.SequenceNumber] = true
	}
	var accepted, replayed atomic.Int32
	for range workers {
		wg.Go(func() {
			for _, p := range pkts {
				_, _, err := in.Open(nil, p)
				switch {
				case err == nil:
					accepted.Add(1)
				case errors.Is(err, ErrReplayed):
					replayed.Add(1)
				default:
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if accepted.Load() != workers*each || replayed.Load() != (workers-1)*workers*each {
		t.Errorf("accepted %d, replayed %d; want %d and %d", accepted.Load(), replayed.Load(), workers*each, (workers-1)*workers*each)
	}
}
