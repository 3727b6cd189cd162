package ndp_test

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
)

// Fixed test fixtures (see testdata/README.md).
var (
	// testSPKI is a DER SubjectPublicKeyInfo of an RSA 2048 key (294 octets).
	testSPKI = mustRead("rsa2048-spki.der")
	// testCert is a self-signed X.509v3 certificate (806 octets).
	testCert = mustRead("cert.der")
	// testKey is the private key matching testSPKI.
	testKey = func() *rsa.PrivateKey {
		k, err := x509.ParsePKCS8PrivateKey(mustRead("rsa2048-pkcs8.der"))
		if err != nil {
			panic(err)
		}
		return k.(*rsa.PrivateKey)
	}()
)

func mustRead(name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		panic(err)
	}
	return b
}

// wire concatenates one wire field per argument: an int is one octet, a
// []byte is copied as is.
func wire(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case int:
			if v < 0 || v > 255 {
				panic(fmt.Sprintf("wire: octet %d out of range", v))
			}
			b = append(b, byte(v))
		case rune: // character literals such as 'a'
			b = append(b, byte(v))
		case []byte:
			b = append(b, v...)
		default:
			panic(fmt.Sprintf("wire: unsupported %T", p))
		}
	}
	return b
}

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// zeros returns n zero octets.
func zeros(n int) []byte { return make([]byte, n) }

// seq returns n octets counting up from start.
func seq(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

// ip returns the 16 octets of an IPv6 address.
func ip(s string) []byte {
	a := netip.MustParseAddr(s).As16()
	return a[:]
}
