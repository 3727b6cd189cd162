package cli

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/hex"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/fhkey/fhkey/certpath"
)

const pkiUsage = `Usage: fhkey pki SUBCOMMAND [flags]

Create and check a SEND lab PKI: a trust anchor and Router Authorization
Certificates with the RFC 3779 IP address extension and the id-kp-sendRouter
extended key usage (RFC 3971 §6, RFC 6494). See docs/send-pki.md.

Subcommands:
  init     create a trust anchor (self-signed CA): DIR/ta.pem and DIR/ta.key
  router   issue a router certificate signed by the anchor in DIR:
           DIR/router-NAME.pem and DIR/router-NAME.key
  verify   validate a router certificate path against the anchor, as a SEND
           host does (exit 0 when valid, 1 with the reason otherwise)

Run 'fhkey pki SUBCOMMAND --help' for the flags of a subcommand.
`

func runPKI(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, pkiUsage)
		return fmt.Errorf("%w: missing subcommand", errUsage)
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(env.Stdout, pkiUsage)
		return flag.ErrHelp
	case "init":
		return runPKIInit(env, args[1:])
	case "router":
		return runPKIRouter(env, args[1:])
	case "verify":
		return runPKIVerify(env, args[1:])
	}
	return fmt.Errorf("%w: unknown subcommand %q (run 'fhkey pki --help')", errUsage, args[0])
}

// pkiPrefixList is a repeatable --prefix flag of IPv6 prefixes.
type pkiPrefixList []netip.Prefix

func (p *pkiPrefixList) String() string {
	s := make([]string, len(*p))
	for i, x := range *p {
		s[i] = x.String()
	}
	return strings.Join(s, ",")
}

func (p *pkiPrefixList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		x, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			return err
		}
		if !x.Addr().Is6() || x.Addr().Is4In6() {
			return fmt.Errorf("%s is not an IPv6 prefix", x)
		}
		if x != x.Masked() {
			return fmt.Errorf("%s has host bits set (did you mean %s?)", x, x.Masked())
		}
		*p = append(*p, x)
	}
	return nil
}

// pkiPathList is a repeatable flag of file names.
type pkiPathList []string

func (p *pkiPathList) String() string     { return strings.Join(*p, ",") }
func (p *pkiPathList) Set(v string) error { *p = append(*p, v); return nil }

func runPKIInit(env *Env, args []string) error {
	fs := newFlagSet(env, "pki init", "--dir DIR [--prefix P ...] [flags]", `
Create a SEND trust anchor: a self-signed CA certificate whose RFC 3779 IP
address extension (critical, RFC 6494 §4) holds the given IPv6 prefixes, or
::/0 (RFC 6494 §6) when none is given. Writes DIR/ta.pem (certificate) and
DIR/ta.key (PKCS #8 private key, mode 0600); refuses to overwrite them
unless --force. Prints the anchor's identifiers for the Trust Anchor option.`)
	dir := fs.String("dir", "", "output directory (created, mode 0700, if missing)")
	var prefixes pkiPrefixList
	fs.Var(&prefixes, "prefix", "IPv6 prefix the anchor certifies (repeatable; default ::/0)")
	bits := fs.Int("bits", 2048, "RSA key size in bits (1024-4096)")
	days := fs.Int("days", 3650, "validity in days")
	name := fs.String("name", "fhkey SEND trust anchor", "subject common name")
	fqdn := fs.String("fqdn", "", "DNS name in subjectAltName, for the FQDN Name Type (optional)")
	force := fs.Bool("force", false, "overwrite existing files")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if *dir == "" || fs.NArg() > 0 {
		return fmt.Errorf("%w: --dir is required and no arguments are accepted", errUsage)
	}
	if *bits < 1024 || *bits > 4096 || *days < 1 {
		return fmt.Errorf("%w: --bits must be 1024-4096 and --days positive", errUsage)
	}
	if len(prefixes) == 0 {
		prefixes = pkiPrefixList{netip.MustParsePrefix("::/0")}
	}
	certFile, keyFile := filepath.Join(*dir, "ta.pem"), filepath.Join(*dir, "ta.key")
	if err := pkiCheckAbsent(*force, certFile, keyFile); err != nil {
		return err
	}
	resources, err := certpath.NewIPv6Blocks(prefixes...)
	if err != nil {
		return err
	}
	key, err := rsa.GenerateKey(rand.Reader, *bits)
	if err != nil {
		return err
	}
	tmpl := &certpath.CertificateTemplate{CommonName: *name, IsCA: true, Resources: resources}
	if *fqdn != "" {
		if _, err := certpath.FQDNWire(*fqdn); err != nil {
			return fmt.Errorf("%w: --fqdn: %v", errUsage, err)
		}
		tmpl.DNSNames = []string{*fqdn}
	}
	tmpl.NotBefore, tmpl.NotAfter = pkiValidity(*days)
	der, err := certpath.CreateCertificate(rand.Reader, tmpl, &key.PublicKey, nil, key)
	if err != nil {
		return err
	}
	ta, err := certpath.NewTrustAnchor(der)
	if err != nil {
		return fmt.Errorf("created trust anchor rejected: %w", err)
	}
	keyPEM, err := pkiPrivateKeyPEM(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	if err := pkiWriteFiles(*force, []pkiOutFile{{certFile, pkiCertPEM(der), 0o644}, {keyFile, keyPEM, 0o600}}); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "trust anchor %q\n  certificate %s\n  private key %s (0600)\n  resources   %s\n  valid until %s\n",
		*name, certFile, keyFile, ta.Resources.IPv6(), ta.Certificate.NotAfter.UTC().Format(time.RFC3339))
	for _, nt := range []struct {
		t    certpath.NameType
		name string
	}{{certpath.NameTypeSHA1SKI, "SHA-1 SKI (Name Type 3)"}, {certpath.NameTypeSHA256SKI, "SHA-256 SKI (Name Type 5)"}} {
		v, _ := ta.Name(nt.t)
		fmt.Fprintf(env.Stdout, "  %-26s %s\n", nt.name, hex.EncodeToString(v))
	}
	return nil
}

var pkiRouterName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func runPKIRouter(env *Env, args []string) error {
	fs := newFlagSet(env, "pki router", "--dir DIR --prefix P [--prefix P ...] [flags]", `
Issue a Router Authorization Certificate signed by the trust anchor in DIR
(DIR/ta.pem, DIR/ta.key): an end-entity certificate whose RFC 3779 IP
address extension (critical) authorizes the given IPv6 prefixes, which must
lie within the anchor's, with the id-kp-sendRouter extended key usage
(RFC 6494 §7). Writes DIR/router-NAME.pem and, unless --key names an
existing key, a new DIR/router-NAME.key (mode 0600); refuses to overwrite
unless --force. --key may hold a private key (PKCS #8 or PKCS #1 PEM, such
as the router's CGA key) or only its public key. The result is checked as
a SEND host would check it before it is written.`)
	dir := fs.String("dir", "", "PKI directory holding ta.pem and ta.key")
	var prefixes pkiPrefixList
	fs.Var(&prefixes, "prefix", "IPv6 prefix the router may advertise (repeatable, required)")
	name := fs.String("name", "default", "router name used in the file names")
	keyIn := fs.String("key", "", "existing router key (PEM private or public key); default: generate one")
	bits := fs.Int("bits", 2048, "RSA key size when generating (1024-4096)")
	days := fs.Int("days", 365, "validity in days")
	force := fs.Bool("force", false, "overwrite existing files")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	switch {
	case *dir == "" || len(prefixes) == 0 || fs.NArg() > 0:
		return fmt.Errorf("%w: --dir and at least one --prefix are required, no arguments are accepted", errUsage)
	case !pkiRouterName.MatchString(*name):
		return fmt.Errorf("%w: --name %q: use letters, digits, '.', '_' and '-'", errUsage, *name)
	case *bits < 1024 || *bits > 4096 || *days < 1:
		return fmt.Errorf("%w: --bits must be 1024-4096 and --days positive", errUsage)
	}
	certFile, keyFile := filepath.Join(*dir, "router-"+*name+".pem"), filepath.Join(*dir, "router-"+*name+".key")
	outputs := []string{certFile}
	if *keyIn == "" {
		outputs = append(outputs, keyFile)
	}
	if err := pkiCheckAbsent(*force, outputs...); err != nil {
		return err
	}
	taDER, err := pkiReadCertificates(filepath.Join(*dir, "ta.pem"))
	if err != nil {
		return err
	}
	ta, err := certpath.NewTrustAnchor(taDER[0])
	if err != nil {
		return err
	}
	_, taKey, err := pkiReadKey(filepath.Join(*dir, "ta.key"))
	if err != nil {
		return err
	}
	if taKey == nil {
		return fmt.Errorf("%s: no private key", filepath.Join(*dir, "ta.key"))
	}
	for _, p := range prefixes {
		if !ta.Resources.IPv6().ContainsPrefix(p) {
			return fmt.Errorf("--prefix %s: %w: anchor certifies %s", p, certpath.ErrResourcesNotContained, ta.Resources.IPv6())
		}
	}
	var pub crypto.PublicKey
	var newKey *rsa.PrivateKey
	if *keyIn != "" {
		if pub, _, err = pkiReadKey(*keyIn); err != nil {
			return err
		}
	} else {
		if newKey, err = rsa.GenerateKey(rand.Reader, *bits); err != nil {
			return err
		}
		pub = &newKey.PublicKey
	}
	resources, err := certpath.NewIPv6Blocks(prefixes...)
	if err != nil {
		return err
	}
	tmpl := &certpath.CertificateTemplate{
		CommonName:  *name,
		Resources:   resources,
		ExtKeyUsage: []asn1.ObjectIdentifier{certpath.OIDSendRouter},
	}
	tmpl.NotBefore, tmpl.NotAfter = pkiValidity(*days)
	if tmpl.NotAfter.After(ta.Certificate.NotAfter) {
		tmpl.NotAfter = ta.Certificate.NotAfter // a longer life would be refused as expired anchor anyway
	}
	der, err := certpath.CreateCertificate(rand.Reader, tmpl, pub, ta.Certificate, taKey)
	if err != nil {
		return err
	}
	auth, err := certpath.VerifyRouter([][]byte{der}, []*certpath.TrustAnchor{ta}, prefixes, time.Now())
	if err != nil {
		return fmt.Errorf("issued certificate does not verify: %w", err)
	}
	files := []pkiOutFile{{certFile, pkiCertPEM(der), 0o644}}
	if newKey != nil {
		keyPEM, err := pkiPrivateKeyPEM(newKey)
		if err != nil {
			return err
		}
		files = append(files, pkiOutFile{keyFile, keyPEM, 0o600})
	}
	if err := pkiWriteFiles(*force, files); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "router %q\n  certificate %s\n", *name, certFile)
	if newKey != nil {
		fmt.Fprintf(env.Stdout, "  private key %s (0600)\n", keyFile)
	} else {
		fmt.Fprintf(env.Stdout, "  key         %s (not copied)\n", *keyIn)
	}
	fmt.Fprintf(env.Stdout, "  resources   %s\n  key hash    %s\n  valid until %s\n",
		auth.Resources.IPv6(), hex.EncodeToString(auth.KeyHash[:]), auth.NotAfter.UTC().Format(time.RFC3339))
	return nil
}

func runPKIVerify(env *Env, args []string) error {
	fs := newFlagSet(env, "pki verify", "--cert FILE [--dir DIR | --anchor FILE ...] [--prefix P ...]", `
Validate a router certification path as a SEND host does (RFC 3971 §6.3.1,
RFC 6494 §9): FILE holds the certificates in Certification Path
Advertisement order (the one after the anchor first, the router's last).
The trust anchors are DIR/ta.pem or the --anchor files. Each --prefix must
be authorized by the router certificate. Exit status 0 when valid, 1 with
the reason otherwise.`)
	dir := fs.String("dir", "", "PKI directory whose ta.pem is the trust anchor")
	var anchorFiles pkiPathList
	fs.Var(&anchorFiles, "anchor", "trust anchor certificate PEM (repeatable)")
	certFile := fs.String("cert", "", "router certificate path PEM")
	var prefixes pkiPrefixList
	fs.Var(&prefixes, "prefix", "advertised IPv6 prefix to check (repeatable)")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if *dir != "" {
		anchorFiles = append(anchorFiles, filepath.Join(*dir, "ta.pem"))
	}
	if *certFile == "" || len(anchorFiles) == 0 || fs.NArg() > 0 {
		return fmt.Errorf("%w: --cert and --dir or --anchor are required", errUsage)
	}
	var anchors []*certpath.TrustAnchor
	for _, f := range anchorFiles {
		ders, err := pkiReadCertificates(f)
		if err != nil {
			return err
		}
		for _, d := range ders {
			ta, err := certpath.NewTrustAnchor(d)
			if err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			anchors = append(anchors, ta)
		}
	}
	path, err := pkiReadCertificates(*certFile)
	if err != nil {
		return err
	}
	auth, err := certpath.VerifyRouter(path, anchors, prefixes, time.Now())
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	fmt.Fprintf(env.Stdout, "valid: router %q under anchor %q\n  resources   %s\n  key hash    %s\n  valid until %s\n",
		auth.Certificate.Subject.CommonName, auth.Anchor.Certificate.Subject.CommonName, auth.Resources.IPv6(),
		hex.EncodeToString(auth.KeyHash[:]), auth.NotAfter.UTC().Format(time.RFC3339))
	return nil
}
