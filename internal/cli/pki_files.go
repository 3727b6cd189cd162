package cli

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// pkiValidity starts an hour back to absorb clock skew between lab hosts.
func pkiValidity(days int) (time.Time, time.Time) {
	now := time.Now().Truncate(time.Second)
	return now.Add(-time.Hour), now.AddDate(0, 0, days)
}

func pkiCertPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func pkiPrivateKeyPEM(k *rsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// pkiReadCertificates returns the DER of every CERTIFICATE block of a PEM file.
func pkiReadCertificates(name string) ([][]byte, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			out = append(out, b.Bytes)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no PEM CERTIFICATE block", name)
	}
	return out, nil
}

// pkiReadKey reads a PEM RSA key: a private key (PKCS #8 "PRIVATE KEY" or
// PKCS #1 "RSA PRIVATE KEY") or a public key ("PUBLIC KEY"). priv is nil
// for a public key.
func pkiReadKey(name string) (pub crypto.PublicKey, priv crypto.Signer, err error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, nil, err
	}
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, nil, fmt.Errorf("%s: no PEM private or public key block", name)
		}
		var k any
		switch b.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "PUBLIC KEY":
			k, err = x509.ParsePKIXPublicKey(b.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		switch k := k.(type) {
		case *rsa.PrivateKey:
			return &k.PublicKey, k, nil
		case *rsa.PublicKey:
			return k, nil, nil
		}
		return nil, nil, fmt.Errorf("%s: %T is not an RSA key (RFC 3971 §6.3.1: SEND router keys are RSA)", name, k)
	}
}

type pkiOutFile struct {
	name string
	data []byte
	perm fs.FileMode
}

// pkiCheckAbsent fails when any of names exists, unless force.
func pkiCheckAbsent(force bool, names ...string) error {
	if force {
		return nil
	}
	for _, n := range names {
		if _, err := os.Lstat(n); err == nil {
			return fmt.Errorf("%s exists (use --force to overwrite)", n)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// pkiWriteFiles writes each file through a temporary file in its directory,
// created with mode 0600 and set to perm before it is linked (no force: the
// link fails if the name exists) or renamed (force) into place, so that a
// key is never readable by others, not even for an instant.
func pkiWriteFiles(force bool, files []pkiOutFile) error {
	for _, f := range files {
		tmp, err := os.CreateTemp(filepath.Dir(f.name), ".fhkey-pki-*")
		if err != nil {
			return err
		}
		_, werr := tmp.Write(f.data)
		if werr == nil {
			werr = tmp.Chmod(f.perm)
		}
		if werr == nil {
			werr = tmp.Sync()
		}
		if cerr := tmp.Close(); werr == nil {
			werr = cerr
		}
		if werr == nil {
			if force {
				werr = os.Rename(tmp.Name(), f.name)
			} else if werr = os.Link(tmp.Name(), f.name); werr != nil && errors.Is(werr, fs.ErrExist) {
				werr = fmt.Errorf("%s exists (use --force to overwrite)", f.name)
			}
		}
		if !force || werr != nil {
			os.Remove(tmp.Name())
		}
		if werr != nil {
			return werr
		}
	}
	return nil
}
