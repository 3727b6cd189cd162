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
