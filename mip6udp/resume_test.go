package mip6udp

import (
	"errors"
	"testing"
)

// TestResume: a resumed Outbound continues after the persisted number and
// never goes back; a resumed Inbound refuses everything up to its mark.
func TestResume(t *testing.T) {
	ek := make([]byte, 16)
	ik := make([]byte, 20)
	c := Config{SPI: 9, Suite: AES128CBCSHA, EncryptionKey: ek, IntegrityKey: ik}
	out, err := NewOutbound(c)
	if err != nil {
		t.Fatal(err)
	}
	in, err := NewInbound(c)
	if err != nil {
		t.Fatal(err)
	}
	out.ResumeAt(1000)
	out.ResumeAt(5) // never back
	if out.Sequence() != 1000 {
		t.Fatalf("Sequence %d, want 1000", out.Sequence())
	}
	old, _ := out.Seal(nil, PacketTypeData, 41, []byte{1})
	in.ResumeAt(1001)
	if in.Highest() != 1001 {
		t.Fatalf("Highest %d, want 1001", in.Highest())
	}
	if _, _, err := in.Open(nil, old); !errors.Is(err, ErrReplayed) {
		t.Errorf("Sequence Number 1001 after ResumeAt(1001): %v, want ErrReplayed", err)
	}
	next, _ := out.Seal(nil, PacketTypeData, 41, []byte{2})
	if m, _, err := in.Open(nil, next); err != nil || m.SequenceNumber != 1002 {
		t.Errorf("Open after resume: %v seq %d, want 1002", err, m.SequenceNumber)
	}
}

// TestSetLimit: a verified packet beyond the limit is refused with
// ErrBeyondLimit and leaves the window unchanged (it is accepted once the
// limit moves); a forged one is still ErrICV; up to the limit is accepted.
func TestSetLimit(t *testing.T) {
	out, in := pair(t, Config{SPI: 9, Suite: AES128CBCSHA, EncryptionKey: make([]byte, 16), IntegrityKey: make([]byte, 20)})
	in.SetLimit(2)
	var pkts [][]byte
	for range 3 {
		p, _ := out.Seal(nil, PacketTypeData, 41, []byte{1})
		pkts = append(pkts, p)
	}
	for i, p := range pkts[:2] {
		if _, _, err := in.Open(nil, p); err != nil {
			t.Fatalf("Sequence Number %d within the limit: %v", i+1, err)
		}
	}
	forged := append([]byte(nil), pkts[2]...)
	forged[len(forged)-1] ^= 1
	if _, _, err := in.Open(nil, forged); !errors.Is(err, ErrICV) {
		t.Errorf("forged packet beyond the limit: %v, want ErrICV", err)
	}
	if _, _, err := in.Open(nil, pkts[2]); !errors.Is(err, ErrBeyondLimit) || !errors.Is(err, ErrAuth) {
		t.Errorf("Sequence Number 3 beyond limit 2: %v, want ErrBeyondLimit", err)
	}
	if in.Highest() != 2 {
		t.Errorf("Highest %d after the refusal, want 2", in.Highest())
	}
	in.SetLimit(3)
	if m, _, err := in.Open(nil, pkts[2]); err != nil || m.SequenceNumber != 3 {
		t.Errorf("after SetLimit(3): %v seq %d", err, m.SequenceNumber)
	}
}
