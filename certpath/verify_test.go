package certpath

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"net/netip"
	"reflect"
	"sync"
	"testing"
	"time"
)

// now is the validation time of the path tests.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testKeys are generated once per test binary: 1024-bit RSA keeps the
// tests fast (key size is not what they test).
var testKeys = sync.OnceValue(func() (k struct {
	ta, ta2, ca, router *rsa.PrivateKey
	ec                  *ecdsa.PrivateKey
}) {
	gen := func() *rsa.PrivateKey {
		key, err := rsa.GenerateKey(rand.Reader, 1024)
		if err != nil {
			panic(err)
		}
		return key
	}
	k.ta, k.ta2, k.ca, k.router = gen(), gen(), gen(), gen()
	var err error
	if k.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		panic(err)
	}
	return k
})

func blocks(t testing.TB, prefixes ...string) IPAddrBlocks {
	t.Helper()
	var ps []netip.Prefix
	for _, s := range prefixes {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	b, err := NewIPv6Blocks(ps...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func inherit() IPAddrBlocks { return IPAddrBlocks{{AFI: AFIIPv6, Inherit: true}} }

func mustParse(t testing.TB, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// issue creates a certificate; issuer nil means self-signed by key.
func issue(t testing.TB, tmpl CertificateTemplate, pub crypto.PublicKey, issuer []byte, key crypto.Signer) []byte {
	t.Helper()
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Hour), now.Add(24*time.Hour)
	}
	var ic *x509.Certificate
	if issuer != nil {
		ic = mustParse(t, issuer)
	}
	der, err := CreateCertificate(rand.Reader, &tmpl, pub, ic, key)
	if err != nil {
		t.Fatalf("CreateCertificate(%s): %v", tmpl.CommonName, err)
	}
	return der
}

func anchor(t testing.TB, der []byte) *TrustAnchor {
	t.Helper()
	ta, err := NewTrustAnchor(der)
	if err != nil {
		t.Fatalf("NewTrustAnchor: %v", err)
	}
	return ta
}

// lab is the PKI of the path tests: anchor 2001:db8::/32, intermediate CA
// 2001:db8:1::/48, routers below both.
type lab struct {
	taDER, ta2DER, caDER []byte
	ta, ta2              *TrustAnchor
}

func newLab(t testing.TB) *lab {
	k := testKeys()
	l := &lab{}
	l.taDER = issue(t, CertificateTemplate{CommonName: "SEND TA", IsCA: true, Resources: blocks(t, "2001:db8::/32"), DNSNames: []string{"ta.example.net"}}, &k.ta.PublicKey, nil, k.ta)
	l.ta2DER = issue(t, CertificateTemplate{CommonName: "Other TA", IsCA: true, Resources: blocks(t, "::/0")}, &k.ta2.PublicKey, nil, k.ta2)
	l.caDER = issue(t, CertificateTemplate{CommonName: "ISP CA", IsCA: true, Resources: blocks(t, "2001:db8:1::/48")}, &k.ca.PublicKey, l.taDER, k.ta)
	l.ta, l.ta2 = anchor(t, l.taDER), anchor(t, l.ta2DER)
	return l
}

func routerTemplate(t testing.TB, prefixes ...string) CertificateTemplate {
	return CertificateTemplate{CommonName: "router", Resources: blocks(t, prefixes...), ExtKeyUsage: []asn1.ObjectIdentifier{OIDSendRouter}}
}

// rawCert builds a certificate with crypto/x509 directly, for profiles
// CreateCertificate refuses to make.
func rawCert(t testing.TB, tmpl *x509.Certificate, pub crypto.PublicKey, issuer []byte, key crypto.Signer) []byte {
	t.Helper()
	tmpl.SerialNumber = big.NewInt(7)
	tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Hour), now.Add(24*time.Hour)
	if tmpl.Subject.CommonName == "" {
		tmpl.Subject = pkix.Name{CommonName: "raw router"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, mustParse(t, issuer), pub, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func ext(t testing.TB, b IPAddrBlocks, critical bool) pkix.Extension {
	e, err := b.Extension(critical)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestVerifyRouterValid(t *testing.T) {
	l := newLab(t)
	k := testKeys()
	router := issue(t, routerTemplate(t, "2001:db8:1::/48"), &k.router.PublicKey, l.taDER, k.ta)
	inheritCA := issue(t, CertificateTemplate{CommonName: "inheriting CA", IsCA: true, Resources: inherit()}, &k.ca.PublicKey, l.taDER, k.ta)
	tests := []struct {
		name     string
		path     [][]byte
		anchors  []*TrustAnchor
		prefixes []string
		wantRes  string
	}{
		{"router under anchor", [][]byte{router}, []*TrustAnchor{l.ta}, []string{"2001:db8:1::/64"}, "2001:db8:1::/48"},
		{"anchor sent at the head of the path", [][]byte{l.taDER, router}, []*TrustAnchor{l.ta}, []string{"2001:db8:1:2::/64"}, "2001:db8:1::/48"},
		{"second of two anchors", [][]byte{router}, []*TrustAnchor{l.ta2, l.ta}, []string{"2001:db8:1::/48"}, "2001:db8:1::/48"},
		{"no prefixes checked", [][]byte{router}, []*TrustAnchor{l.ta}, nil, "2001:db8:1::/48"},
		{"intermediate CA narrowing", [][]byte{l.caDER, issue(t, routerTemplate(t, "2001:db8:1:1::/64"), &k.router.PublicKey, l.caDER, k.ca)},
			[]*TrustAnchor{l.ta}, []string{"2001:db8:1:1::/64"}, "2001:db8:1:1::/64"},
		{"inherit resolved through CA to anchor", [][]byte{
			inheritCA,
			issue(t, CertificateTemplate{CommonName: "router", Resources: inherit(), ExtKeyUsage: []asn1.ObjectIdentifier{OIDSendRouter}}, &k.router.PublicKey, inheritCA, k.ca),
		}, []*TrustAnchor{l.ta}, []string{"2001:db8:ffff::/48"}, "2001:db8::/32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ps []netip.Prefix
			for _, s := range tt.prefixes {
				ps = append(ps, netip.MustParsePrefix(s))
			}
			auth, err := VerifyRouter(tt.path, tt.anchors, ps, now)
			if err != nil {
				t.Fatalf("VerifyRouter: %v", err)
			}
			if !auth.PublicKey.Equal(&k.router.PublicKey) {
				t.Error("PublicKey is not the router's key")
			}
			spki, _ := x509.MarshalPKIXPublicKey(&k.router.PublicKey)
			if auth.KeyHash != KeyHashOf(spki) {
				t.Error("KeyHash is not the router key's")
			}
			if auth.Anchor != l.ta {
				t.Error("Anchor is not the anchor that issued the path")
			}
			if got := auth.Resources.IPv6().AddressesOrRanges; len(got) != 1 || got[0] != pr(tt.wantRes) {
				t.Errorf("Resources = %v, want %s", got, tt.wantRes)
			}
			if auth.Authorizes(netip.MustParsePrefix("2001:db9::/64")) {
				t.Error("Authorizes a prefix outside the anchor")
			}
		})
	}
}

func TestVerifyRouterErrors(t *testing.T) {
	l := newLab(t)
	k := testKeys()
	tmpl := routerTemplate(t, "2001:db8:1::/48")
	router := issue(t, tmpl, &k.router.PublicKey, l.taDER, k.ta)
	withTime := func(nb, na time.Time) CertificateTemplate {
		c := tmpl
		c.NotBefore, c.NotAfter = nb, na
		return c
	}
	withEKU := func(ids ...asn1.ObjectIdentifier) CertificateTemplate {
		c := tmpl
		c.ExtKeyUsage = ids
		return c
	}
	tampered := append([]byte(nil), router...)
	tampered[len(tampered)-1] ^= 1 // last octet of the signature
	caRouter := issue(t, routerTemplate(t, "2001:db8:1:1::/64"), &k.router.PublicKey, l.caDER, k.ca)
	expiredTA := issue(t, CertificateTemplate{CommonName: "SEND TA", IsCA: true, Resources: blocks(t, "2001:db8::/32"),
		NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-time.Hour)}, &k.ta.PublicKey, nil, k.ta)
	eeOID := asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 1} // id-kp-serverAuth

	tests := []struct {
		name     string
		path     [][]byte
		anchors  []*TrustAnchor
		prefixes []string
		want     []error
	}{
		{"expired", [][]byte{issue(t, withTime(now.Add(-48*time.Hour), now.Add(-time.Second)), &k.router.PublicKey, l.taDER, k.ta)},
			[]*TrustAnchor{l.ta}, nil, []error{ErrExpired}},
		{"not yet valid", [][]byte{issue(t, withTime(now.Add(time.Second), now.Add(48*time.Hour)), &k.router.PublicKey, l.taDER, k.ta)},
			[]*TrustAnchor{l.ta}, nil, []error{ErrNotYetValid}},
		{"anchor expired", [][]byte{router}, []*TrustAnchor{anchor(t, expiredTA)}, nil, []error{ErrExpired}},
		{"untrusted anchor", [][]byte{router}, []*TrustAnchor{l.ta2}, nil, []error{ErrUntrustedAnchor}},
		{"no anchors", [][]byte{router}, nil, nil, []error{ErrUntrustedAnchor}},
		{"impostor anchor with the same name", [][]byte{router}, []*TrustAnchor{anchor(t, issue(t, CertificateTemplate{CommonName: "SEND TA", IsCA: true,
			Resources: blocks(t, "::/0")}, &k.ta2.PublicKey, nil, k.ta2))}, nil, []error{ErrUntrustedAnchor}},
		{"prefix not authorized", [][]byte{router}, []*TrustAnchor{l.ta}, []string{"2001:db8:2::/64"}, []error{ErrPrefixNotAuthorized}},
		{"one of two prefixes not authorized", [][]byte{router}, []*TrustAnchor{l.ta}, []string{"2001:db8:1::/64", "2001:db8:2::/64"}, []error{ErrPrefixNotAuthorized}},
		{"prefix wider than the certificate", [][]byte{router}, []*TrustAnchor{l.ta}, []string{"2001:db8::/47"}, []error{ErrPrefixNotAuthorized}},
		{"router beyond intermediate CA", [][]byte{l.caDER, issue(t, routerTemplate(t, "2001:db8:2::/64"), &k.router.PublicKey, l.caDER, k.ca)},
			[]*TrustAnchor{l.ta}, nil, []error{ErrPathInvalid, ErrResourcesNotContained}},
		{"intermediate CA beyond anchor", [][]byte{issue(t, CertificateTemplate{CommonName: "greedy CA", IsCA: true, Resources: blocks(t, "2001:db8::/31")}, &k.ca.PublicKey, l.taDER, k.ta)},
			[]*TrustAnchor{l.ta}, nil, []error{ErrPathInvalid, ErrResourcesNotContained}},
		{"family the issuer lacks", [][]byte{issue(t, CertificateTemplate{CommonName: "router", ExtKeyUsage: tmpl.ExtKeyUsage, Resources: IPAddrBlocks{
			{AFI: AFIIPv4, AddressesOrRanges: []IPAddressOrRange{pr("10.0.0.0/8")}}, {AFI: AFIIPv6, AddressesOrRanges: []IPAddressOrRange{pr("2001:db8:1::/48")}},
		}}, &k.router.PublicKey, l.taDER, k.ta)}, []*TrustAnchor{l.ta}, nil, []error{ErrPathInvalid, ErrResourcesNotContained}},
		{"missing extension", [][]byte{rawCert(t, &x509.Certificate{UnknownExtKeyUsage: tmpl.ExtKeyUsage, KeyUsage: x509.KeyUsageDigitalSignature}, &k.router.PublicKey, l.taDER, k.ta)},
			[]*TrustAnchor{l.ta}, nil, []error{ErrPathInvalid, ErrMissingExtension}},
		{"IPv4 only", [][]byte{rawCert(t, &x509.Certificate{UnknownExtKeyUsage: tmpl.ExtKeyUsage, ExtraExtensions: []pkix.Extension{
			ext(t, IPAddrBlocks{{AFI: AFIIPv4, Inherit: true}}, true)}}, &k.router.PublicKey, l.taDER, k.ta)},
			[]*TrustAnchor{l.ta}, nil, []error{ErrPathInvalid, ErrMissingExtension}},
		{"extension not critical", [][]byte{rawCert(t, &x509.Certificate{UnknownExtKeyUsage: tmpl.ExtKeyUsage, ExtraExtensions: []pkix.Extension{
			ext(t, blocks(t, "2001:db8:1::/48"), false)}}, &k.router.PublicKey, l.taDER, k.ta)},
			[]*TrustAnchor{l.ta}, nil, []error{ErrPathInvalid}},
		{"malformed extension", [][]byte{rawCert(t, &x509.Certificate{UnknownExtKeyUsage: tmpl.ExtKeyUsage, ExtraExtensions: []pkix.Extension{
			{Id: OIDIPAddrBlocks, Critical: true, Value: []byte{0x30, 0x03, 0x30, 0x01}}}}, &k.router.PublicKey, l.taDER, k.ta)},
			[]*TrustAnchor{l.ta}, nil, []error{ErrPathInvalid, ErrParse}},
		{"another unhandled critical extension", [][]byte{rawCert(t, &x509.Certificate{UnknownExtKeyUsage: tmpl.ExtKeyUsage, ExtraExtensions: []pkix.Extension{
			ext(t, blocks(t, "2001:db8:1::/48"), true), {Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Critical: true, Value: []byte{5, 0}}}}, &k.router.PublicKey, l.taDER, k.ta)},
			[]*TrustAnchor{l.ta}, nil, []error{ErrPathInvalid}},
		{"owner EKU only", [][]byte{issue(t, withEKU(OIDSendOwner), &k.router.PublicKey, l.taDER, k.ta)}, []*TrustAnchor{l.ta}, nil, []error{ErrPathInvalid, ErrExtendedKeyUsage}},
		{"proxied router EKU only", [][]byte{issue(t, withEKU(OIDSendProxiedRouter), &k.router.PublicKey, l.taDER, k.ta)}, []*TrustAnchor{l.ta}, nil, []error{ErrPathInvalid, ErrExtendedKeyUsage}},
		{"anyExtendedKeyUsage only", [][]byte{rawCert(t, &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}, ExtraExtensions: []pkix.Extension{
			ext(t, blocks(t, "2001:db8:1::/48"), true)}}, &k.router.PublicKey, l.taDER, k.ta)},
			[]*TrustAnchor{l.ta}, nil, []error{ErrPathInvalid, ErrExtendedKeyUsage}},
		{"EKU extension absent", [][]byte{rawCert(t, &x509.Certificate{ExtraExtensions: []pkix.Extension{
			ext(t, blocks(t, "2001:db8:1::/48"), true)}}, &k.router.PublicKey, l.taDER, k.ta)},
			[]*TrustAnchor{l.ta}, nil, []error{ErrPathInvalid, ErrExtendedKeyUsage}},
		{"serverAuth EKU", [][]byte{issue(t, withEKU(eeOID), &k.router.PublicKey, l.taDER, k.ta)}, []*TrustAnchor{l.ta}, nil, []error{ErrPathInvalid, ErrExtendedKeyUsage}},
		{"ECDSA router key", [][]byte{issue(t, tmpl, &k.ec.PublicKey, l.taDER, k.ta)}, []*TrustAnchor{l.ta}, nil, []error{ErrPathInvalid, ErrNotRSA}},
		{"bad signature on the first certificate", [][]byte{tampered}, []*TrustAnchor{l.ta}, nil, []error{ErrUntrustedAnchor}},
		{"bad signature further down", [][]byte{l.caDER, func() []byte {
			b := append([]byte(nil), caRouter...)
			b[len(b)-1] ^= 1
			return b
		}()}, []*TrustAnchor{l.ta}, nil, []error{ErrPathInvalid}},
		{"path in reverse order", [][]byte{caRouter, l.caDER}, []*TrustAnchor{l.ta}, nil, []error{ErrUntrustedAnchor}},
		{"intermediate missing", [][]byte{caRouter}, []*TrustAnchor{l.ta}, nil, []error{ErrUntrustedAnchor}},
		{"end-entity used as a CA", [][]byte{router, issue(t, routerTemplate(t, "2001:db8:1:1::/64"), &k.ca.PublicKey, router, k.router)},
			[]*TrustAnchor{l.ta}, nil, []error{ErrPathInvalid}},
		{"path ends at a CA", [][]byte{l.caDER}, []*TrustAnchor{l.ta}, nil, []error{ErrPathInvalid, ErrExtendedKeyUsage}},
		{"not DER", [][]byte{{0x30, 0x03, 0x02, 0x01, 0x00}}, []*TrustAnchor{l.ta}, nil, []error{ErrPathInvalid}},
		{"empty path", nil, []*TrustAnchor{l.ta}, nil, []error{ErrPathInvalid}},
		{"only the anchor", [][]byte{l.taDER}, []*TrustAnchor{l.ta}, nil, []error{ErrPathInvalid}},
		{"too long", func() [][]byte {
			p := make([][]byte, MaxPathLength+1)
			for i := range p {
				p[i] = router
			}
			return p
		}(), []*TrustAnchor{l.ta}, nil, []error{ErrPathInvalid}},
	}
	all := []error{ErrPathInvalid, ErrExpired, ErrNotYetValid, ErrUntrustedAnchor, ErrPrefixNotAuthorized}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ps []netip.Prefix
			for _, s := range tt.prefixes {
				ps = append(ps, netip.MustParsePrefix(s))
			}
			auth, err := VerifyRouter(tt.path, tt.anchors, ps, now)
			if err == nil {
				t.Fatalf("VerifyRouter = %v, want an error", auth)
			}
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("error %v does not wrap %v", err, w)
				}
			}
			n := 0
			for _, e := range all {
				if errors.Is(err, e) {
					n++
				}
			}
			if n != 1 {
				t.Errorf("error %v wraps %d of the outcome sentinels, want exactly 1", err, n)
			}
		})
	}
}

// TestCriticalExtensionHandled shows why the extension must be stripped:
// crypto/x509 alone refuses the certificate that VerifyRouter accepts.
func TestCriticalExtensionHandled(t *testing.T) {
	l := newLab(t)
	k := testKeys()
	router := issue(t, routerTemplate(t, "2001:db8:1::/48"), &k.router.PublicKey, l.taDER, k.ta)
	leaf := mustParse(t, router)
	if len(leaf.UnhandledCriticalExtensions) != 1 || !leaf.UnhandledCriticalExtensions[0].Equal(OIDIPAddrBlocks) {
		t.Fatalf("UnhandledCriticalExtensions = %v, want [%v]", leaf.UnhandledCriticalExtensions, OIDIPAddrBlocks)
	}
	roots := x509.NewCertPool()
	roots.AddCert(mustParse(t, l.taDER))
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	var uce x509.UnhandledCriticalExtension
	if !errors.As(err, &uce) {
		t.Fatalf("crypto/x509 Verify = %v, want UnhandledCriticalExtension", err)
	}
	auth, err := VerifyRouter([][]byte{router}, []*TrustAnchor{l.ta}, nil, now)
	if err != nil {
		t.Fatalf("VerifyRouter: %v", err)
	}
	if len(auth.Certificate.UnhandledCriticalExtensions) != 0 {
		t.Errorf("UnhandledCriticalExtensions after VerifyRouter = %v", auth.Certificate.UnhandledCriticalExtensions)
	}
}

func TestNewTrustAnchorErrors(t *testing.T) {
	k := testKeys()
	self := func(tmpl *x509.Certificate) []byte {
		tmpl.SerialNumber = big.NewInt(1)
		tmpl.Subject = pkix.Name{CommonName: "bad TA"}
		tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Hour), now.Add(time.Hour)
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.ta.PublicKey, k.ta)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	tests := []struct {
		name string
		der  []byte
		want error
	}{
		{"not a certificate", []byte{1, 2, 3}, nil},
		{"no extension", self(&x509.Certificate{}), ErrMissingExtension},
		{"inherit", self(&x509.Certificate{ExtraExtensions: []pkix.Extension{ext(t, inherit(), true)}}), ErrPathInvalid},
		{"not critical", self(&x509.Certificate{ExtraExtensions: []pkix.Extension{ext(t, blocks(t, "::/0"), false)}}), ErrPathInvalid},
		{"IPv4 only", self(&x509.Certificate{ExtraExtensions: []pkix.Extension{ext(t, IPAddrBlocks{{AFI: AFIIPv4, AddressesOrRanges: []IPAddressOrRange{pr("0.0.0.0/0")}}}, true)}}), ErrMissingExtension},
		{"malformed extension", self(&x509.Certificate{ExtraExtensions: []pkix.Extension{{Id: OIDIPAddrBlocks, Critical: true, Value: []byte{0x30}}}}), ErrParse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ta, err := NewTrustAnchor(tt.der)
			if err == nil {
				t.Fatalf("NewTrustAnchor = %v, want an error", ta)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v does not wrap %v", err, tt.want)
			}
		})
	}
}

func TestCreateCertificateProfile(t *testing.T) {
	l := newLab(t)
	k := testKeys()
	c := mustParse(t, issue(t, routerTemplate(t, "2001:db8:1::/48"), &k.router.PublicKey, l.taDER, k.ta))
	if c.IsCA || c.BasicConstraintsValid {
		t.Error("router certificate has basicConstraints")
	}
	if c.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("KeyUsage = %v, want digitalSignature", c.KeyUsage)
	}
	if !reflect.DeepEqual(c.UnknownExtKeyUsage, []asn1.ObjectIdentifier{OIDSendRouter}) {
		t.Errorf("EKU = %v, want id-kp-sendRouter", c.UnknownExtKeyUsage)
	}
	if c.SignatureAlgorithm != x509.SHA256WithRSA {
		t.Errorf("SignatureAlgorithm = %v", c.SignatureAlgorithm)
	}
	ta := mustParse(t, l.taDER)
	if !reflect.DeepEqual(c.AuthorityKeyId, ta.SubjectKeyId) || len(c.SubjectKeyId) != 20 {
		t.Errorf("AKI %x / SKI %x, anchor SKI %x", c.AuthorityKeyId, c.SubjectKeyId, ta.SubjectKeyId)
	}
	for _, e := range c.Extensions {
		switch {
		case e.Id.Equal(OIDIPAddrBlocks) && !e.Critical:
			t.Error("IP Address Delegation extension not critical")
		case e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 37}) && e.Critical:
			t.Error("extended key usage critical (RFC 6494 §7: MUST be non-critical)")
		}
	}
	if _, err := CreateCertificate(rand.Reader, &CertificateTemplate{Resources: blocks(t, "::/0"), NotBefore: now, NotAfter: now.Add(time.Hour)},
		&k.router.PublicKey, ta, k.ta); !errors.Is(err, ErrExtendedKeyUsage) {
		t.Errorf("end-entity without EKU: %v, want ErrExtendedKeyUsage", err)
	}
	if _, err := CreateCertificate(rand.Reader, &CertificateTemplate{IsCA: true, NotBefore: now, NotAfter: now.Add(time.Hour)},
		&k.router.PublicKey, ta, k.ta); !errors.Is(err, ErrMissingExtension) {
		t.Errorf("no resources: %v, want ErrMissingExtension", err)
	}
}

// BenchmarkVerifyRouter validates a two-certificate path (CA, router) with
// RSA-2048 keys: three signature checks (two by VerifyPath, the chain again
// inside crypto/x509) plus the RFC 3779 work.
func BenchmarkVerifyRouter(b *testing.B) {
	gen := func() *rsa.PrivateKey {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			b.Fatal(err)
		}
		return key
	}
	taKey, caKey, rKey := gen(), gen(), gen()
	taDER := issue(b, CertificateTemplate{CommonName: "TA", IsCA: true, Resources: blocks(b, "2001:db8::/32")}, &taKey.PublicKey, nil, taKey)
	caDER := issue(b, CertificateTemplate{CommonName: "CA", IsCA: true, Resources: blocks(b, "2001:db8:1::/48")}, &caKey.PublicKey, taDER, taKey)
	rDER := issue(b, routerTemplate(b, "2001:db8:1:1::/64"), &rKey.PublicKey, caDER, caKey)
	anchors := []*TrustAnchor{anchor(b, taDER)}
	path := [][]byte{caDER, rDER}
	prefixes := []netip.Prefix{netip.MustParsePrefix("2001:db8:1:1::/64")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := VerifyRouter(path, anchors, prefixes, now); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzVerifyRouter feeds mutated router certificates to VerifyRouter: it
// must never panic, a failure must wrap exactly one outcome sentinel, and a
// success must name a key.
func FuzzVerifyRouter(f *testing.F) {
	l := newLab(f)
	k := testKeys()
	router := issue(f, routerTemplate(f, "2001:db8:1::/48"), &k.router.PublicKey, l.taDER, k.ta)
	caRouter := issue(f, routerTemplate(f, "2001:db8:1:1::/64"), &k.router.PublicKey, l.caDER, k.ca)
	f.Add(router, false)
	f.Add(caRouter, true)
	f.Add([]byte{0x30, 0x00}, false)
	anchors := []*TrustAnchor{l.ta}
	all := []error{ErrPathInvalid, ErrExpired, ErrNotYetValid, ErrUntrustedAnchor, ErrPrefixNotAuthorized}
	f.Fuzz(func(t *testing.T, leaf []byte, viaCA bool) {
		path := [][]byte{leaf}
		if viaCA {
			path = [][]byte{l.caDER, leaf}
		}
		auth, err := VerifyRouter(path, anchors, []netip.Prefix{netip.MustParsePrefix("2001:db8:1:1::/64")}, now)
		if err == nil {
			if auth == nil || auth.PublicKey == nil || !auth.Authorizes(netip.MustParsePrefix("2001:db8:1:1::/64")) {
				t.Fatalf("success without a usable authorization: %+v", auth)
			}
			return
		}
		n := 0
		for _, e := range all {
			if errors.Is(err, e) {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("error %v wraps %d outcome sentinels", err, n)
		}
	})
}
