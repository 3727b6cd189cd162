package mip6udp

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"sync"
)

// Config is one direction of an MN-HA security association as the HAC
// provisions it (RFC 6618 §4.3, §5.6): the SPI, shared by both directions
// and all packet types, the ciphersuite, and this direction's keys
// (mip6-mn-to-ha-ekey/ikey or mip6-ha-to-mn-ekey/ikey, §5.6.2). Its
// String and Format redact the keys.
type Config struct {
	SPI           SPI
	Suite         CipherSuite
	EncryptionKey []byte // ekey; empty for NULL encryption
	IntegrityKey  []byte // ikey
	// Rand supplies the CBC IVs of an Outbound, which RFC 3602 §3 and
	// RFC 2451 §2.3 require unpredictable; nil means crypto/rand.
	// Inbound ignores it.
	Rand io.Reader
}

// String redacts the keys.
func (c Config) String() string {
	return fmt.Sprintf("mip6udp.Config{SPI: %d, Suite: %s, keys redacted}", c.SPI, c.Suite)
}

// GoString redacts the keys in %#v.
func (c Config) GoString() string { return c.String() }

// Format redacts the keys for every verb.
func (c Config) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// LogValue redacts the keys in log/slog output.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// direction holds what both directions of an SA build from a Config. The
// key bytes themselves are not kept: only the ciphers' schedules.
type direction struct {
	spi   SPI
	suite Suite
	mu    sync.Mutex // serializes mac, enc and the Inbound's window
	mac   integrity
	enc   *encryption
	icv   [12]byte // scratch for the computed ICV
}

func (d *direction) init(c Config, decrypt bool) error {
	s, err := LookupSuite(c.Suite)
	if err != nil {
		return err
	}
	if c.SPI == 0 || c.SPI > MaxSPI {
		// RFC 6618 §5.6.1: "The value 0 (zero) is reserved and MUST NOT
		// be used"; 28 bits.
		return fmt.Errorf("%w: %w: SPI %d, want 1..%d", ErrConfig, ErrSPI, c.SPI, MaxSPI)
	}
	if d.mac, err = newIntegrity(s, c.IntegrityKey); err != nil {
		return err
	}
	if d.enc, err = newEncryption(s, c.EncryptionKey, decrypt); err != nil {
		return err
	}
	d.spi, d.suite = c.SPI, s
	return nil
}

// Outbound seals the packets of one direction of an SA. It is safe for
// concurrent use (calls are serialized).
type Outbound struct {
	direction
	rand io.Reader
	seq  uint32 // the last Sequence Number sent; starts at 0 (RFC 6618 §4.3)
}

// NewOutbound builds the sending side of c.
func NewOutbound(c Config) (*Outbound, error) {
	o := &Outbound{rand: c.Rand}
	if err := o.init(c, false); err != nil {
		return nil, err
	}
	if o.rand == nil {
		o.rand = rand.Reader
	}
	return o, nil
}

// Inbound opens the packets of one direction of an SA and keeps its
// replay window. It is safe for concurrent use (calls are serialized).
type Inbound struct {
	direction
	window ReplayWindow
	// limit, when limited, is the highest Sequence Number Open accepts
	// (SetLimit).
	limit   uint32
	limited bool
}

// NewInbound builds the receiving side of c.
func NewInbound(c Config) (*Inbound, error) {
	in := &Inbound{}
	if err := in.init(c, true); err != nil {
		return nil, err
	}
	return in, nil
}

// SPI is the SA's SPI.
func (d *direction) SPI() SPI { return d.spi }

// Suite is the SA's ciphersuite.
func (d *direction) Suite() Suite { return d.suite }

// String names the SA without its keys.
func (d *direction) String() string {
	return fmt.Sprintf("mip6udp SA{SPI: %d, Suite: %s}", d.spi, d.suite.Name)
}

// Overhead is the number of octets Seal adds to a payload of n octets:
// header, IV, padding, Pad Length, Next Header and ICV.
func (o *Outbound) Overhead(n int) int {
	return HeaderLen + o.suite.IVLen + o.paddedLen(n) - n + o.suite.ICVLen
}

// paddedLen is the length of the ciphertext for an n-octet payload: the
// payload, Pad Length and Next Header, padded to the alignment with the
// fewest octets RFC 4303 §2.4 allows.
func (o *Outbound) paddedLen(n int) int {
	a := o.suite.align()
	return (n + 2 + a - 1) / a * a
}
