package config

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"

	"github.com/fhkey/fhkey/certpath"
	"github.com/fhkey/fhkey/cga"
)

// fileKind selects the permission rule of ReadFile.
type fileKind uint8

const (
	// secretFile: a private key. No permission bit for group or others
	// (mode & 0o077 == 0).
	secretFile fileKind = iota
	// trustedFile: certificates, trust anchors, CGA parameters: public,
	// but whoever can replace them can impersonate the router or choose
	// whom the node trusts, so no write bit for group or others
	// (mode & 0o022 == 0).
	trustedFile
)

// readFile opens name, checks that it is a regular file owned by the
// running user or root with the permissions of kind, and reads it (at most
// MaxFileSize octets). The checks run on the opened file (fstat), so the
// file checked is the file read.
func readFile(name string, kind fileKind) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFile, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFile, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrFile, name)
	}
	if err := checkPermissions(name, fi, kind); err != nil {
		return nil, err
	}
	return readLimited(f, name)
}

// checkPermissions applies the mode and owner rules of kind to fi.
func checkPermissions(name string, fi fs.FileInfo, kind fileKind) error {
	perm := fi.Mode().Perm()
	switch kind {
	case secretFile:
		if perm&0o077 != 0 {
			return fmt.Errorf("%w: secret file %s has mode %04o: it must not be accessible by group or others (chmod 600 %s)", ErrInsecureFile, name, perm, name)
		}
	case trustedFile:
		if perm&0o022 != 0 {
			return fmt.Errorf("%w: %s has mode %04o: it must not be writable by group or others (chmod go-w %s)", ErrInsecureFile, name, perm, name)
		}
	}
	if uid, ok := fileOwner(fi); ok && uid != 0 && uid != os.Getuid() {
		return fmt.Errorf("%w: %s is owned by uid %d: it must belong to the daemon's user (uid %d) or root", ErrInsecureFile, name, uid, os.Getuid())
	}
	return nil
}

func readLimited(r io.Reader, name string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrFile, name, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%w: %s is larger than %d octets", ErrFile, name, MaxFileSize)
	}
	return data, nil
}

// LoadPrivateKey reads an RSA private key from a PEM file ("PRIVATE KEY",
// PKCS #8, as 'fhkey keygen' writes it, or "RSA PRIVATE KEY", PKCS #1),
// refusing a file readable by group or others or owned by another user.
func LoadPrivateKey(name string) (*rsa.PrivateKey, error) {
	data, err := readFile(name, secretFile)
	if err != nil {
		return nil, err
	}
	for len(data) > 0 {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		switch b.Type {
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrFile, name, err)
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("%w: %s: %T is not an RSA key (CGA and SEND use RSA, RFC 3972 §3)", ErrFile, name, k)
			}
			return rk, nil
		case "RSA PRIVATE KEY":
			k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrFile, name, err)
			}
			return k, nil
		}
	}
	return nil, fmt.Errorf("%w: %s: no PEM \"PRIVATE KEY\" or \"RSA PRIVATE KEY\" block", ErrFile, name)
}

// CGA is an address with its CGA Parameters (RFC 3972 §3), verified.
type CGA struct {
	Address    netip.Addr
	Parameters *cga.Parameters
}

// cgaFile is the part of the 'fhkey cga gen --json' object that is used.
type cgaFile struct {
	Address string `json:"address"`
	Params  string `json:"params"`
}

// LoadCGA reads the output of 'fhkey cga gen --json' (an object with
// "address" and "params", the CGA Parameters in hex), verifies the address
// against the parameters (RFC 3972 §5) and checks that the parameters'
// public key is key's.
func LoadCGA(name string, key *rsa.PrivateKey) (*CGA, error) {
	data, err := readFile(name, trustedFile)
	if err != nil {
		return nil, err
	}
	var f cgaFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %s: not the JSON of 'fhkey cga gen --json': %w", ErrFile, name, err)
	}
	addr, err := netip.ParseAddr(f.Address)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: address: %w", ErrFile, name, err)
	}
	raw, err := hex.DecodeString(f.Params)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: params: %w", ErrFile, name, err)
	}
	params, err := cga.ParseParameters(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: params: %w", ErrFile, name, err)
	}
	pub, err := cga.Verify(addr, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %s is not a CGA of these parameters: %w", ErrFile, name, addr, err)
	}
	if key != nil && !key.PublicKey.Equal(pub) {
		return nil, fmt.Errorf("%w: %s: the CGA was generated from another key than the configured private key", ErrFile, name)
	}
	return &CGA{Address: addr, Parameters: params}, nil
}

// LoadCertificates reads PEM "CERTIFICATE" blocks and returns their DER,
// in file order.
func LoadCertificates(name string) ([][]byte, error) {
	data, err := readFile(name, trustedFile)
	if err != nil {
		return nil, err
	}
	var ders [][]byte
	for len(data) > 0 {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			ders = append(ders, b.Bytes)
		}
	}
	if len(ders) == 0 {
		return nil, fmt.Errorf("%w: %s: no PEM CERTIFICATE block", ErrFile, name)
	}
	if len(ders) > certpath.MaxPathLength {
		return nil, fmt.Errorf("%w: %s: %d certificates, at most %d", ErrFile, name, len(ders), certpath.MaxPathLength)
	}
	return ders, nil
}

// LoadTrustAnchors reads every certificate of the PEM file name as a SEND
// trust anchor (RFC 3971 §6.5, RFC 6494 §6).
func LoadTrustAnchors(name string) ([]*certpath.TrustAnchor, error) {
	ders, err := LoadCertificates(name)
	if err != nil {
		return nil, err
	}
	tas := make([]*certpath.TrustAnchor, 0, len(ders))
	for i, der := range ders {
		ta, err := certpath.NewTrustAnchor(der)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: certificate %d: %w", ErrFile, name, i+1, err)
		}
		tas = append(tas, ta)
	}
	return tas, nil
}
