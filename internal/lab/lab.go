package lab

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/fhkey/fhkey/certpath"
	"github.com/fhkey/fhkey/cga"
)

// The demonstration network (RFC 3849 documentation prefixes).
var (
	// PARPrefix is the subnet prefix of the previous access router's link.
	PARPrefix = netip.MustParsePrefix("2001:db8:1::/64")
	// NARPrefix is the subnet prefix of the new access router's link.
	NARPrefix = netip.MustParsePrefix("2001:db8:2::/64")
	// AnchorPrefix is what the trust anchor certifies: both links.
	AnchorPrefix = netip.MustParsePrefix("2001:db8::/32")
)

// Defaults of Options.
const (
	DefaultBits = 2048
	DefaultSec  = 1
	// DefaultValidity is the lifetime of the generated certificates.
	DefaultValidity = 365 * 24 * time.Hour
	// RenewBefore: a cache whose certificates expire sooner is regenerated.
	RenewBefore = 24 * time.Hour
)

// manifestVersion changes whenever the cache layout changes.
const manifestVersion = 1

// ErrInvalid is wrapped when a cached credential set does not verify; Load
// regenerates in that case, so callers only see it from Verify.
var ErrInvalid = errors.New("lab: invalid cached credentials")

// Options select the credentials. The zero value means DefaultBits, DefaultSec
// and time.Now.
type Options struct {
	// Bits is the RSA modulus size of every key (1024 to 4096).
	Bits int
	// Sec is the CGA security parameter (RFC 3972 §2), 1 to 7; zero means
	// DefaultSec. Sec 1 costs about 2^16 hashes per address.
	Sec uint8
	// Now is the clock used to check and issue certificates.
	Now func() time.Time
}

func (o *Options) normalize() Options {
	var v Options
	if o != nil {
		v = *o
	}
	if v.Bits == 0 {
		v.Bits = DefaultBits
	}
	if v.Now == nil {
		v.Now = time.Now
	}
	if v.Sec == 0 {
		v.Sec = DefaultSec
	}
	return v
}

// CGA is one cryptographically generated address with its CGA Parameters.
type CGA struct {
	Address    netip.Addr
	Parameters *cga.Parameters
	Sec        uint8
}

// Router holds an access router's credentials.
type Router struct {
	Name string
	Key  *rsa.PrivateKey
	// CGA is the router's address on its link, generated from Key.
	CGA    CGA
	Prefix netip.Prefix
	// Path is the certification path in Certification Path Advertisement
	// order (RFC 3971 §6.4.2): here the router certificate alone, issued
	// directly by the anchor.
	Path [][]byte
	// Authorization is the verified Path.
	Authorization *certpath.Authorization
}

// MobileNode holds the mobile node's credentials: one RSA key and a CGA on
// each link, the second generated with the modifier of the first (RFC 3972
// §4: "the old modifier value MAY be reused").
type MobileNode struct {
	Key *rsa.PrivateKey
	// PCoA is the care-of CGA on the previous access router's link, NCoA
	// the one on the new access router's link.
	PCoA, NCoA CGA
}

// Credentials are the demo's keys, addresses and certificates.
type Credentials struct {
	Dir       string
	AnchorDER []byte
	Anchor    *certpath.TrustAnchor
	PAR, NAR  Router
	MN        MobileNode
	// Generated reports that Load created the set during this call
	// instead of reading it from the cache.
	Generated bool
	// Bits and Sec are those of Options.
	Bits int
	Sec  uint8

	taKey *rsa.PrivateKey // set when generated: written to the cache
}

// Anchors returns the trust anchor as a slice, as certpath wants it.
func (c *Credentials) Anchors() []*certpath.TrustAnchor { return []*certpath.TrustAnchor{c.Anchor} }

// DefaultDir is os.UserCacheDir()/fhkey/demo.
func DefaultDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("lab: no user cache directory (use an explicit directory): %w", err)
	}
	return filepath.Join(d, "fhkey", "demo"), nil
}

type manifest struct {
	Version int   `json:"version"`
	Bits    int   `json:"bits"`
	Sec     uint8 `json:"sec"`
}

// file names in the cache directory
const (
	fileManifest = "lab.json"
	fileAnchor   = "ta.pem"
	fileAnchorK  = "ta.key"
)

// Load returns the credentials cached in dir, generating and caching them
// when dir holds none, holds a set made with other Options, or holds one that
// does not verify or expires within RenewBefore.
func Load(ctx context.Context, dir string, opts *Options) (*Credentials, error) {
	o := opts.normalize()
	if o.Bits < 1024 || o.Bits > 4096 || o.Sec > 7 {
		return nil, fmt.Errorf("lab: Bits %d must be 1024-4096 and Sec %d at most 7", o.Bits, o.Sec)
	}
	if dir == "" {
		return nil, errors.New("lab: empty cache directory")
	}
	if c, err := read(dir, o); err == nil {
		return c, nil
	}
	c, err := generate(ctx, o)
	if err != nil {
		return nil, err
	}
	c.Dir = dir
	if err := write(dir, c); err != nil {
		return nil, err
	}
	return c, nil
}

// read loads and verifies a cached set.
func read(dir string, o Options) (*Credentials, error) {
	raw, err := os.ReadFile(filepath.Join(dir, fileManifest))
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, fileManifest, err)
	}
	if m.Version != manifestVersion || m.Bits != o.Bits || m.Sec != o.Sec {
		return nil, fmt.Errorf("%w: made with other options", ErrInvalid)
	}
	c := &Credentials{Dir: dir, Bits: o.Bits, Sec: o.Sec}
	if c.AnchorDER, err = readCert(filepath.Join(dir, fileAnchor)); err != nil {
		return nil, err
	}
	if c.Anchor, err = certpath.NewTrustAnchor(c.AnchorDER); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	mnKey, err := readKey(filepath.Join(dir, "mn.key"))
	if err != nil {
		return nil, err
	}
	c.MN.Key = mnKey
	if c.MN.PCoA, err = readCGA(filepath.Join(dir, "mn-par.cga"), o.Sec); err != nil {
		return nil, err
	}
	if c.MN.NCoA, err = readCGA(filepath.Join(dir, "mn-nar.cga"), o.Sec); err != nil {
		return nil, err
	}
	for _, r := range []struct {
		dst    *Router
		name   string
		prefix netip.Prefix
	}{{&c.PAR, "par", PARPrefix}, {&c.NAR, "nar", NARPrefix}} {
		r.dst.Name, r.dst.Prefix = r.name, r.prefix
		if r.dst.Key, err = readKey(filepath.Join(dir, r.name+".key")); err != nil {
			return nil, err
		}
		if r.dst.CGA, err = readCGA(filepath.Join(dir, r.name+".cga"), o.Sec); err != nil {
			return nil, err
		}
		der, err := readCert(filepath.Join(dir, r.name+".pem"))
		if err != nil {
			return nil, err
		}
		r.dst.Path = [][]byte{der}
	}
	if err := c.verify(o.Now()); err != nil {
		return nil, err
	}
	return c, nil
}

// verify checks a credential set as a SEND host and router would: every key
// of the configured size, every CGA valid for its key and link prefix, and
// the router paths valid under the anchor for their prefixes for at least
// RenewBefore. It fills the Authorizations.
func (c *Credentials) verify(now time.Time) error {
	check := func(name string, key *rsa.PrivateKey, a CGA, prefix netip.Prefix) error {
		if key.N.BitLen() != c.Bits {
			return fmt.Errorf("%w: %s key has %d bits, want %d", ErrInvalid, name, key.N.BitLen(), c.Bits)
		}
		spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
		if err != nil {
			return fmt.Errorf("%w: %s key: %w", ErrInvalid, name, err)
		}
		if !bytes.Equal(spki, a.Parameters.PublicKey) {
			return fmt.Errorf("%w: %s CGA is not made from its key", ErrInvalid, name)
		}
		if netip.PrefixFrom(a.Address, 64).Masked() != prefix {
			return fmt.Errorf("%w: %s CGA %s is not on %s", ErrInvalid, name, a.Address, prefix)
		}
		params, err := a.Parameters.Marshal()
		if err != nil {
			return fmt.Errorf("%w: %s CGA: %w", ErrInvalid, name, err)
		}
		if _, err := cga.Verify(a.Address, params); err != nil {
			return fmt.Errorf("%w: %s CGA: %w", ErrInvalid, name, err)
		}
		return nil
	}
	if err := check("mn-par", c.MN.Key, c.MN.PCoA, PARPrefix); err != nil {
		return err
	}
	if err := check("mn-nar", c.MN.Key, c.MN.NCoA, NARPrefix); err != nil {
		return err
	}
	for _, r := range []*Router{&c.PAR, &c.NAR} {
		if err := check(r.Name, r.Key, r.CGA, r.Prefix); err != nil {
			return err
		}
		auth, err := certpath.VerifyRouter(r.Path, c.Anchors(), []netip.Prefix{r.Prefix}, now)
		if err != nil {
			return fmt.Errorf("%w: %s certificate: %w", ErrInvalid, r.Name, err)
		}
		if auth.NotAfter.Before(now.Add(RenewBefore)) {
			return fmt.Errorf("%w: %s certificate path expires at %s", ErrInvalid, r.Name, auth.NotAfter)
		}
		if !auth.PublicKey.Equal(&r.Key.PublicKey) {
			return fmt.Errorf("%w: %s certificate is not for its key", ErrInvalid, r.Name)
		}
		r.Authorization = auth
	}
	return nil
}

// generate creates a fresh set: four RSA keys (generated in parallel), the
// anchor, two router certificates and four CGAs.
func generate(ctx context.Context, o Options) (*Credentials, error) {
	keys := make([]*rsa.PrivateKey, 4)
	errs := make(chan error, len(keys))
	for i := range keys {
		go func() {
			k, err := rsa.GenerateKey(rand.Reader, o.Bits)
			keys[i] = k
			errs <- err
		}()
	}
	for range keys {
		if err := <-errs; err != nil {
			return nil, fmt.Errorf("lab: generating RSA keys: %w", err)
		}
	}
	taKey := keys[0]
	now := o.Now().Truncate(time.Second)
	notBefore, notAfter := now.Add(-time.Hour), now.Add(DefaultValidity)
	taRes, err := certpath.NewIPv6Blocks(AnchorPrefix)
	if err != nil {
		return nil, err
	}
	taDER, err := certpath.CreateCertificate(rand.Reader, &certpath.CertificateTemplate{
		CommonName: "fhkey demo trust anchor", IsCA: true, Resources: taRes,
		NotBefore: notBefore, NotAfter: notAfter,
	}, &taKey.PublicKey, nil, taKey)
	if err != nil {
		return nil, fmt.Errorf("lab: trust anchor: %w", err)
	}
	c := &Credentials{AnchorDER: taDER, Generated: true, Bits: o.Bits, Sec: o.Sec}
	if c.Anchor, err = certpath.NewTrustAnchor(taDER); err != nil {
		return nil, fmt.Errorf("lab: trust anchor: %w", err)
	}
	c.MN.Key = keys[1]
	if c.MN.PCoA, err = newCGA(ctx, keys[1], PARPrefix, o.Sec, nil); err != nil {
		return nil, err
	}
	mod := c.MN.PCoA.Parameters.Modifier
	if c.MN.NCoA, err = newCGA(ctx, keys[1], NARPrefix, o.Sec, &mod); err != nil {
		return nil, err
	}
	for i, r := range []struct {
		dst    *Router
		name   string
		prefix netip.Prefix
	}{{&c.PAR, "par", PARPrefix}, {&c.NAR, "nar", NARPrefix}} {
		key := keys[2+i]
		*r.dst = Router{Name: r.name, Key: key, Prefix: r.prefix}
		if r.dst.CGA, err = newCGA(ctx, key, r.prefix, o.Sec, nil); err != nil {
			return nil, err
		}
		res, err := certpath.NewIPv6Blocks(r.prefix)
		if err != nil {
			return nil, err
		}
		der, err := certpath.CreateCertificate(rand.Reader, &certpath.CertificateTemplate{
			CommonName: "fhkey demo " + r.name, Resources: res,
			ExtKeyUsage: []asn1.ObjectIdentifier{certpath.OIDSendRouter},
			NotBefore:   notBefore, NotAfter: notAfter,
		}, &key.PublicKey, c.Anchor.Certificate, taKey)
		if err != nil {
			return nil, fmt.Errorf("lab: %s certificate: %w", r.name, err)
		}
		r.dst.Path = [][]byte{der}
	}
	if err := c.verify(o.Now()); err != nil {
		return nil, fmt.Errorf("lab: generated credentials do not verify: %w", err)
	}
	c.taKey = taKey
	return c, nil
}

func newCGA(ctx context.Context, key *rsa.PrivateKey, prefix netip.Prefix, sec uint8, mod *[16]byte) (CGA, error) {
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return CGA{}, err
	}
	g, err := cga.Generate(ctx, prefix, spki, sec, &cga.GenerateOptions{Modifier: mod})
	if err != nil {
		return CGA{}, fmt.Errorf("lab: CGA on %s: %w", prefix, err)
	}
	return CGA{Address: g.Address, Parameters: g.Parameters, Sec: g.Sec}, nil
}

// write stores c in dir: each file written to a temporary name and renamed,
// the manifest last, so a reader sees either the old manifest (and then
// fails verification, regenerating) or a complete new set.
func write(dir string, c *Credentials) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	type out struct {
		name string
		data []byte
		mode os.FileMode
	}
	files := []out{{fileAnchor, certPEM(c.AnchorDER), 0o644}}
	keyFile := func(name string, k *rsa.PrivateKey) error {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return err
		}
		files = append(files, out{name, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600})
		return nil
	}
	cgaFile := func(name string, a CGA) error {
		b, err := a.Parameters.Marshal()
		if err != nil {
			return err
		}
		files = append(files, out{name, b, 0o644})
		return nil
	}
	if c.taKey != nil {
		if err := keyFile(fileAnchorK, c.taKey); err != nil {
			return err
		}
	}
	if err := errors.Join(keyFile("mn.key", c.MN.Key), cgaFile("mn-par.cga", c.MN.PCoA), cgaFile("mn-nar.cga", c.MN.NCoA)); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	for _, r := range []*Router{&c.PAR, &c.NAR} {
		if err := errors.Join(keyFile(r.Name+".key", r.Key), cgaFile(r.Name+".cga", r.CGA)); err != nil {
			return fmt.Errorf("lab: %w", err)
		}
		files = append(files, out{r.Name + ".pem", certPEM(r.Path[0]), 0o644})
	}
	m, _ := json.Marshal(manifest{Version: manifestVersion, Bits: c.Bits, Sec: c.Sec})
	files = append(files, out{fileManifest, append(m, '\n'), 0o644})
	for _, f := range files {
		if err := writeFile(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(name string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(name), ".tmp-*")
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	err = errors.Join(werr, f.Chmod(mode), f.Close())
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("lab: writing %s: %w", name, err)
	}
	return nil
}

func certPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func readCert(name string) ([]byte, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%w: %s: no PEM certificate", ErrInvalid, name)
	}
	return b.Bytes, nil
}

func readKey(name string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%w: %s: no PEM private key", ErrInvalid, name)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, name, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: %s: not an RSA key", ErrInvalid, name)
	}
	return rk, nil
}

func readCGA(name string, sec uint8) (CGA, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return CGA{}, err
	}
	p, err := cga.ParseParameters(data)
	if err != nil {
		return CGA{}, fmt.Errorf("%w: %s: %w", ErrInvalid, name, err)
	}
	a, err := p.Address(sec)
	if err != nil {
		return CGA{}, fmt.Errorf("%w: %s: %w", ErrInvalid, name, err)
	}
	return CGA{Address: a, Parameters: p, Sec: sec}, nil
}
