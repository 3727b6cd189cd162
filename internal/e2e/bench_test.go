package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/mh"
)

// BenchmarkFBURoundTripNetns times one FBU -> FBack exchange from the MN on
// the NAR's link to the PAR over raw Mobility Header sockets, the FBU
// authenticated and verified, the binding replaced in the TUN forwarder
// (RFC 5568 §6.2.2, §6.4.5). Issue 5's target: median at most 1 ms.
func BenchmarkFBURoundTripNetns(b *testing.B) {
	bd := newBed(b, "b", false)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	par := bd.par(nil)
	m := bd.mobile()
	if ev, err := m.RequestKey(ctx, par.Address()); err != nil || ev.Kind != mn.KeyProvisioned {
		b.Fatalf("RequestKey: %v %v", ev.Kind, err)
	}
	if err := m.Move(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		ev, err := m.FastHandover(ctx, par.Address())
		if err != nil || ev.Status != mh.FastStatusAccepted {
			b.Fatalf("FastHandover: %d %v", ev.Status, err)
		}
	}
}

// BenchmarkProvisioningNetns times one RtSolPr -> PrRtAdv exchange with
// the key returned (RFC 5269 §3.2: the existing key of a known CGA): the
// MN's RSA signature, the PAR's SEND verification, RSA encryption and
// signature, the MN's verification and decryption, over raw ICMPv6 sockets.
// The PAR's per-source limit (2/s) is lifted for the measurement.
func BenchmarkProvisioningNetns(b *testing.B) {
	bd := newBed(b, "p", false)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	par := bd.par(func(c *scenarioRouterConfig) { c.Limits = unlimited() })
	m := bd.mobile()
	b.ResetTimer()
	for b.Loop() {
		if ev, err := m.RequestKey(ctx, par.Address()); err != nil || ev.Kind != mn.KeyProvisioned {
			b.Fatalf("RequestKey: %v %v", ev.Kind, err)
		}
	}
}
