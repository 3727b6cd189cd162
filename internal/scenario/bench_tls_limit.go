package scenario

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"fmt"
	"hash"
	"time"

	"github.com/fhkey/fhkey/internal/mip6sa"
	"github.com/fhkey/fhkey/mip6udp"
)

// cbcIV is what crypto/cipher's CBC modes implement to reuse one mode.
type cbcIV interface {
	cipher.BlockMode
	SetIV([]byte)
}

// sealOpenLimit is the machine's limit for one AES_128_CBC_SHA packet
// (RFC 6618 §6.4, RFC 4303 with the §5.6.5 suite): the standard library's
// AES-128-CBC encryption and HMAC-SHA1 of the sender, HMAC-SHA1 and
// AES-128-CBC decryption of the receiver, over the octets of a sealed
// packet, nothing else (no header, padding, replay window or checks).
type sealOpenLimit struct {
	enc, dec   cbcIV
	macS, macR hash.Hash
	iv, buf    []byte
	ct         []byte
	sum        []byte
}

// newSealOpenLimit sizes the limit after a sealed packet of suite s.
func newSealOpenLimit(sealed []byte, s mip6udp.Suite) (*sealOpenLimit, error) {
	block, err := aes.NewCipher(make([]byte, 16))
	if err != nil {
		return nil, err
	}
	covered := len(sealed) - s.ICVLen
	ctLen := covered - mip6udp.HeaderLen - s.IVLen
	if ctLen <= 0 || ctLen%aes.BlockSize != 0 {
		return nil, fmt.Errorf("scenario: bench tls: sealed packet of %d octets has no CBC ciphertext", len(sealed))
	}
	iv := make([]byte, aes.BlockSize)
	l := &sealOpenLimit{
		enc: cipher.NewCBCEncrypter(block, iv).(cbcIV), dec: cipher.NewCBCDecrypter(block, iv).(cbcIV),
		macS: hmac.New(sha1.New, make([]byte, 20)), macR: hmac.New(sha1.New, make([]byte, 20)),
		iv: iv, buf: make([]byte, covered), sum: make([]byte, 0, sha1.Size),
	}
	l.ct = l.buf[mip6udp.HeaderLen+s.IVLen:]
	return l, nil
}

func (l *sealOpenLimit) run() {
	l.enc.SetIV(l.iv)
	l.enc.CryptBlocks(l.ct, l.ct)
	for _, m := range [2]hash.Hash{l.macS, l.macR} { // the sender's ICV, then the receiver's
		m.Reset()
		m.Write(l.buf)
		l.sum = m.Sum(l.sum[:0])
	}
	l.dec.SetIV(l.iv)
	l.dec.CryptBlocks(l.ct, l.ct)
}

// perPacket times the per-packet cost of the protected data plane, the
// MN's Seal and the HA's Open of an inner packet under an SA the HAC
// bootstrapped (mip6sa pairs, as the mip6mn and ha roles hold), against
// sealOpenLimit, in alternating batches; the median per-batch ratio is
// per_packet_ratio_to_limit.
func (b *tlsBench) perPacket(ctx context.Context, res *TLSBenchResult) error {
	r, err := b.bootstrap(ctx)
	if err != nil {
		return err
	}
	defer r.SA.Zero()
	mn, err := mip6sa.New(mip6sa.MobileNode, &r.SA, &r.Bootstrap)
	if err != nil {
		return err
	}
	ha, err := mip6sa.New(mip6sa.HomeAgent, &r.SA, &r.Bootstrap)
	if err != nil {
		return err
	}
	payload := innerPacket(b.cfg.PacketSize)
	pkt := make([]byte, 0, b.cfg.PacketSize+256)
	dst := make([]byte, 0, b.cfg.PacketSize+256)
	if pkt, err = mn.Out.Seal(pkt[:0], mip6udp.PacketTypeData, 41, payload); err != nil {
		return err
	}
	if _, dst, err = ha.In.Open(dst[:0], pkt); err != nil {
		return err
	}
	limit, err := newSealOpenLimit(pkt, mn.Suite)
	if err != nil {
		return err
	}
	ours := func() error {
		var err error
		if pkt, err = mn.Out.Seal(pkt[:0], mip6udp.PacketTypeData, 41, payload); err != nil {
			return err
		}
		_, dst, err = ha.In.Open(dst[:0], pkt)
		return err
	}
	const batch = 64
	var tOurs, tLimit time.Duration
	var ratios []float64
	for range b.cfg.DataBatches * 20 {
		start := time.Now()
		for range batch {
			if err := ours(); err != nil {
				return err
			}
		}
		mid := time.Now()
		for range batch {
			limit.run()
		}
		end := time.Now()
		tOurs, tLimit = tOurs+mid.Sub(start), tLimit+end.Sub(mid)
		ratios = append(ratios, mid.Sub(start).Seconds()/end.Sub(mid).Seconds())
	}
	n := float64(b.cfg.DataBatches * 20 * batch)
	res.SealOpenNSPerPacket = float64(tOurs.Nanoseconds()) / n
	res.LimitNSPerPacket = float64(tLimit.Nanoseconds()) / n
	res.PerPacketRatioToLimit = median(ratios)
	return nil
}
