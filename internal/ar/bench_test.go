package ar

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"net/netip"
	"testing"
	"time"

	"github.com/fhkey/fhkey/cga"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/send"
)

// benchWorld is a world with RSA-2048 credentials, no rate limits and a
// verifier without the replay cache, so that a pool of solicitations can be
// replayed (the replay check is one map lookup; RSA dominates).
func benchWorld(b *testing.B) *world {
	w := newWorld(b, 2048, &Limits{})
	v := &send.Verifier{Method: send.AuthorizeCGA, Keys: send.NewKeyCache(64), Now: w.clock.Now}
	s := *w.par.set.Load()
	s.verifier = v
	w.par.baseVerifier = v
	w.par.set.Store(&s)
	return w
}

// BenchmarkProvisioning measures the AR's handling of an RtSolPr with a
// Handover Key Request (SEND verification, key lookup, RSA encryption,
// PrRtAdv signing) against the pure cryptographic cost of one provisioning,
// RSA verify + RSA encrypt + RSA sign + CGA verify, measured in the same run.
// overhead-% is the share of the AR's time spent outside those primitives.
func BenchmarkProvisioning(b *testing.B) {
	w := benchWorld(b)
	pool := make([]netio.Packet, 32)
	for i := range pool {
		pool[i] = w.solicit()
	}
	ctx := context.Background()
	if out := w.par.HandlePacket(ctx, pool[0]); len(out) != 1 || !hasKeyReply(b, out[0]) {
		b.Fatal("no key provisioned")
	}
	// The primitives on the same inputs.
	sd, err := send.SignedData(pool[0].Payload, pool[0].Src, pool[0].Dst)
	if err != nil {
		b.Fatal(err)
	}
	digest := sha1.Sum(sd)
	mnSig, err := rsa.SignPKCS1v15(nil, w.creds.MN.Key, crypto.SHA1, digest[:])
	if err != nil {
		b.Fatal(err)
	}
	params, _ := w.pcoa.Parameters.Marshal()
	hkepk := &w.creds.NAR.Key.PublicKey // any RSA-2048 public key
	key := make([]byte, 32)
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if out := w.par.HandlePacket(ctx, pool[i%len(pool)]); len(out) != 1 {
			b.Fatal("no answer")
		}
	}
	prov := time.Since(start)
	start = time.Now()
	for range b.N {
		if _, err := cga.Verify(w.pcoa.Address, params); err != nil {
			b.Fatal(err)
		}
		if err := rsa.VerifyPKCS1v15(&w.creds.MN.Key.PublicKey, crypto.SHA1, digest[:], mnSig); err != nil {
			b.Fatal(err)
		}
		if _, err := rsa.EncryptPKCS1v15(rand.Reader, hkepk, key); err != nil {
			b.Fatal(err)
		}
		if _, err := rsa.SignPKCS1v15(nil, w.creds.PAR.Key, crypto.SHA1, digest[:]); err != nil {
			b.Fatal(err)
		}
	}
	pure := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/prov.Seconds(), "provisionings/s")
	b.ReportMetric(float64(b.N)/pure.Seconds(), "crypto-only/s")
	b.ReportMetric(100*(prov.Seconds()-pure.Seconds())/prov.Seconds(), "overhead-%")
	if s := w.par.Stats(); s.RtSolPrSENDFailed != 0 || s.KeysReused+s.KeysCreated != uint64(b.N)+1 {
		b.Fatalf("stats %+v", s)
	}
}

// fbuWorld returns a world with a provisioned key and an FBU for it.
func fbuWorld(b *testing.B) (*world, netio.Packet) {
	w := newWorld(b, 1024, &Limits{})
	w.provision()
	p, err := w.mn.FastBindingUpdate(w.parAdr, w.pcoa.Address, w.ncoa.Address, false)
	if err != nil {
		b.Fatal(err)
	}
	return w, p
}

// BenchmarkFBUVerify is the PAR's check of one FBU: checksum, parse, key
// lookup by the PCoA, BADF location and HMAC (RFC 5269 §3.5). Target:
// 500,000/s per core.
func BenchmarkFBUVerify(b *testing.B) {
	w, p := fbuWorld(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		v, _, _, _, key, _ := w.par.checkFastBindingUpdate(p)
		if v != fbuAccepted {
			b.Fatal("FBU rejected")
		}
		key.Zero()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "fbu/s")
}

// BenchmarkFBUVerifyParallel runs BenchmarkFBUVerify on every core.
func BenchmarkFBUVerifyParallel(b *testing.B) {
	w, p := fbuWorld(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			v, _, _, _, key, _ := w.par.checkFastBindingUpdate(p)
			if v != fbuAccepted {
				panic("FBU rejected")
			}
			key.Zero()
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "fbu/s")
}

// nopBindings accepts every binding and remembers none, so that the same FBU
// can be handled repeatedly.
type nopBindings struct{}

func (nopBindings) Bind(Binding) error                { return nil }
func (nopBindings) Lookup(netip.Addr) (Binding, bool) { return Binding{}, false }

// BenchmarkFBUHandle is the whole FBU path: verification, binding and the
// authenticated FBack.
func BenchmarkFBUHandle(b *testing.B) {
	w, p := fbuWorld(b)
	w.par.bindings = nopBindings{}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if out := w.par.HandlePacket(ctx, p); len(out) != 1 {
			b.Fatal("no FBack")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "fbu/s")
}
