package cli

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// keygen limits: RSA 1024 to 4096 bits. The lower bound is what crypto/rsa
// accepts; the upper one is cga.MaxKeyBits.
const (
	keygenMinBits = 1024
	keygenMaxBits = 4096
)

func runKeygen(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "keygen", "--out FILE [--bits N] [--format pkcs8|pkcs1] [--force]", `
Generate an RSA key pair for CGAs and SEND (RFC 3972 §3, RFC 3971 §5.2) and
write the private key as PEM: "PRIVATE KEY" (PKCS#8, the default) or
"RSA PRIVATE KEY" (PKCS#1). The file is created with mode 0600; an existing
file is only replaced with --force. 'fhkey cga gen --key FILE' reads it.`)
	bits := fs.Int("bits", 2048, "RSA modulus size in bits, 1024 to 4096")
	out := fs.String("out", "", "write the private key to `FILE` (required)")
	format := fs.String("format", "pkcs8", "PEM format: pkcs8 or pkcs1")
	force := fs.Bool("force", false, "replace FILE if it exists")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *out == "" {
		return fmt.Errorf("%w: --out FILE is required", errUsage)
	}
	if *bits < keygenMinBits || *bits > keygenMaxBits {
		return fmt.Errorf("%w: --bits %d: must be %d to %d", errUsage, *bits, keygenMinBits, keygenMaxBits)
	}
	if *format != "pkcs8" && *format != "pkcs1" {
		return fmt.Errorf("%w: --format %q: must be pkcs8 or pkcs1", errUsage, *format)
	}
	if !*force {
		// Fail before the slow key generation; the O_EXCL create below
		// still guards against a race.
		if _, err := os.Lstat(*out); err == nil {
			return fmt.Errorf("%s exists (use --force to replace it)", *out)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	key, err := rsa.GenerateKey(rand.Reader, *bits)
	if err != nil {
		return fmt.Errorf("generate RSA key: %w", err)
	}
	var blk pem.Block
	if *format == "pkcs1" {
		blk = pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}
	} else {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return fmt.Errorf("encode key: %w", err)
		}
		blk = pem.Block{Type: "PRIVATE KEY", Bytes: der}
	}
	if err := writePrivateFile(*out, pem.EncodeToMemory(&blk), *force); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %d-bit RSA private key (%s) to %s\n", *bits, *format, *out)
	return nil
}

// writePrivateFile writes data to name with mode 0600. Without force it
// refuses to replace an existing file (O_EXCL); with force it writes a
// temporary file in the same directory and renames it over name, so the
// result has mode 0600 whatever the old file had.
func writePrivateFile(name string, data []byte, force bool) error {
	if !force {
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s exists (use --force to replace it)", name)
		}
		if err != nil {
			return err
		}
		_, err = f.Write(data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(name)
		}
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(name), ".fhkey-keygen-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if err = f.Chmod(0o600); err == nil {
		_, err = f.Write(data)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
