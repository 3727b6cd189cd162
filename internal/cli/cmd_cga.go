package cli

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/fhkey/fhkey/cga"
)

const cgaUsage = `Usage: fhkey cga gen|verify [flags]

Cryptographically Generated Addresses (RFC 3972).

  gen     generate a CGA for a /64 prefix and a public key (§4)
  verify  verify an address against CGA Parameters (§5)

Run 'fhkey cga gen --help' or 'fhkey cga verify --help' for the flags.
`

func runCGA(ctx context.Context, env *Env, args []string) error {
	return runSubcommand(env, cgaUsage, args, map[string]func([]string) error{
		"gen":    func(args []string) error { return runCGAGen(ctx, env, args) },
		"verify": func(args []string) error { return runCGAVerify(ctx, env, args) },
	})
}

// cgaGenOutput is the --json object of 'fhkey cga gen'.
type cgaGenOutput struct {
	Address        string  `json:"address"`
	Sec            uint8   `json:"sec"`
	Params         string  `json:"params"`
	Modifier       string  `json:"modifier"`
	CollisionCount uint8   `json:"collision_count"`
	Prefix         string  `json:"prefix"`
	Attempts       uint64  `json:"attempts"`
	Elapsed        float64 `json:"elapsed"`
}

func runCGAGen(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "cga gen", "--prefix P --key FILE [--sec N] [--json]", `
Generate a Cryptographically Generated Address (RFC 3972 §4) for the /64
prefix P and the public key in FILE (PEM: PRIVATE KEY, RSA PRIVATE KEY,
PUBLIC KEY or RSA PUBLIC KEY; RSA only, see 'fhkey keygen'). The modifier
search is spread over all cores; it needs about 2^(16*Sec) SHA-1 hashes:
Sec 1 takes milliseconds, Sec 2 minutes, Sec 3 and above are out of reach.
When stderr is a terminal a progress line shows the rate and the expected
time; Ctrl-C stops the search.

Output: the address and the CGA Parameters in hex, or with --json an object
with address, sec, params (hex), modifier (hex), collision_count, prefix,
attempts (Hash2 computations) and elapsed (seconds).`)
	prefixFlag := fs.String("prefix", "", "subnet prefix `P`, e.g. 2001:db8:1:2::/64 or fe80:: (a /64; required)")
	keyFile := fs.String("key", "", "PEM key `FILE` (required)")
	sec := fs.Uint("sec", 1, "security parameter Sec, 0 to 7")
	jsonOut := fs.Bool("json", false, "print a JSON object on stdout")
	modifierHex := fs.String("modifier", "", "initial modifier, 32 hex digits (default random); reuse a modifier found earlier for the same key to skip the search")
	workers := fs.Int("workers", 0, "search goroutines (default GOMAXPROCS)")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *prefixFlag == "" || *keyFile == "" {
		return fmt.Errorf("%w: --prefix and --key are required", errUsage)
	}
	prefix, err := parseSubnetPrefix(*prefixFlag)
	if err != nil {
		return fmt.Errorf("%w: --prefix: %v", errUsage, err)
	}
	if *sec > cga.MaxSec {
		return fmt.Errorf("%w: --sec %d: must be 0 to %d", errUsage, *sec, cga.MaxSec)
	}
	opts := &cga.GenerateOptions{Workers: *workers}
	if *modifierHex != "" {
		m, err := hex.DecodeString(*modifierHex)
		if err != nil || len(m) != 16 {
			return fmt.Errorf("%w: --modifier: want 32 hex digits", errUsage)
		}
		opts.Modifier = (*[16]byte)(m)
	}
	pub, err := readPublicKey(*keyFile)
	if err != nil {
		return err
	}
	showProgress := isTerminal(env.Stderr) && *sec > 0
	if showProgress {
		opts.Progress = func(p cga.Progress) { fmt.Fprintf(env.Stderr, "\r\033[K%s", progressLine(p)) }
	}
	g, err := cga.Generate(ctx, prefix, pub, uint8(*sec), opts)
	if showProgress {
		fmt.Fprint(env.Stderr, "\r\033[K")
	}
	if err != nil {
		return err
	}
	params, err := g.Parameters.Marshal()
	if err != nil {
		return err
	}
	out := cgaGenOutput{
		Address:        g.Address.String(),
		Sec:            g.Sec,
		Params:         hex.EncodeToString(params),
		Modifier:       hex.EncodeToString(g.Parameters.Modifier[:]),
		CollisionCount: g.Parameters.CollisionCount,
		Prefix:         prefix.String(),
		Attempts:       g.Attempts,
		Elapsed:        g.Elapsed.Seconds(),
	}
	if *jsonOut {
		e := json.NewEncoder(env.Stdout)
		e.SetIndent("", "  ")
		return e.Encode(out)
	}
	fmt.Fprintf(env.Stdout, "address          %s\nsec              %d\nmodifier         %s\ncollision_count  %d\nparams           %s\n",
		out.Address, out.Sec, out.Modifier, out.CollisionCount, out.Params)
	fmt.Fprintf(env.Stdout, "search           %d attempts in %v\n", g.Attempts, g.Elapsed.Round(time.Microsecond))
	return nil
}

func runCGAVerify(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "cga verify", "--addr A --params HEX|@FILE", `
Verify that the IPv6 address A is a CGA for the given CGA Parameters
(RFC 3972 §5). The parameters are hex digits (spaces and colons allowed), or
@FILE to read them from a file holding hex or the raw octets (@- reads
stdin). Prints "valid" and exits 0, or exits 1 with the reason.`)
	addrFlag := fs.String("addr", "", "IPv6 address `A` (required)")
	paramsFlag := fs.String("params", "", "CGA Parameters: `HEX`, @FILE or @- (required)")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *addrFlag == "" || *paramsFlag == "" {
		return fmt.Errorf("%w: --addr and --params are required", errUsage)
	}
	addr, err := netip.ParseAddr(*addrFlag)
	if err != nil {
		return fmt.Errorf("%w: --addr: %v", errUsage, err)
	}
	params, err := readParams(env, *paramsFlag)
	if err != nil {
		return fmt.Errorf("invalid: %w", err)
	}
	if _, err := cga.Verify(addr, params); err != nil {
		return fmt.Errorf("invalid: %w", err)
	}
	fmt.Fprintln(env.Stdout, "valid")
	return nil
}

// parseSubnetPrefix accepts a /64 prefix or a bare address (taken as its
// /64); host bits are cleared.
func parseSubnetPrefix(s string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return p, err
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return p, err
		}
		p = netip.PrefixFrom(a.WithZone(""), 64)
	}
	if !p.Addr().Is6() || p.Addr().Is4In6() || p.Bits() != 64 {
		return p, fmt.Errorf("%s is not an IPv6 /64", s)
	}
	return p.Masked(), nil
}

// readPublicKey returns the DER SubjectPublicKeyInfo of the first key in
// the PEM file name.
func readPublicKey(name string) ([]byte, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	for rest := data; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			return nil, fmt.Errorf("%s: no PRIVATE KEY, RSA PRIVATE KEY, PUBLIC KEY or RSA PUBLIC KEY PEM block", name)
		}
		var pub any
		switch blk.Type {
		case "PUBLIC KEY":
			return blk.Bytes, nil // checked by cga.Generate
		case "RSA PUBLIC KEY":
			pub, err = x509.ParsePKCS1PublicKey(blk.Bytes)
		case "RSA PRIVATE KEY":
			var k *rsa.PrivateKey
			if k, err = x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
				pub = &k.PublicKey
			}
		case "PRIVATE KEY":
			var k any
			if k, err = x509.ParsePKCS8PrivateKey(blk.Bytes); err == nil {
				rk, ok := k.(*rsa.PrivateKey)
				if !ok {
					return nil, fmt.Errorf("%s: %T key: CGAs here use RSA keys", name, k)
				}
				pub = &rk.PublicKey
			}
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", name, blk.Type, err)
		}
		return x509.MarshalPKIXPublicKey(pub)
	}
}

// readParams decodes --params: hex, @FILE (hex or raw octets) or @- (stdin).
func readParams(env *Env, v string) ([]byte, error) {
	if name, ok := strings.CutPrefix(v, "@"); ok {
		var data []byte
		var err error
		if name == "-" {
			data, err = io.ReadAll(io.LimitReader(env.Stdin, 1<<20))
		} else {
			data, err = os.ReadFile(name)
		}
		if err != nil {
			return nil, err
		}
		if b, err := decodeHex(string(data)); err == nil {
			return b, nil
		}
		return data, nil // raw octets
	}
	b, err := decodeHex(v)
	if err != nil {
		return nil, fmt.Errorf("--params: %w", err)
	}
	return b, nil
}

// decodeHex decodes hex digits, ignoring white space and colons.
func decodeHex(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r', ':':
			return -1
		}
		return r
	}, s)
	return hex.DecodeString(s)
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressLine renders a search snapshot: attempts, rate, elapsed time,
// expected remaining time (the search is memoryless) and the probability
// that a search of this length has found a modifier (1 - e^(-attempts/2^(16*Sec))).
func progressLine(p cga.Progress) string {
	found := -math.Expm1(-float64(p.Attempts) / p.ExpectedAttempts)
	eta := p.ExpectedRemaining.Round(time.Second)
	if p.ExpectedRemaining <= 0 || p.ExpectedRemaining > 100*365*24*time.Hour {
		eta = -1
	}
	etaText := "over a century"
	if eta >= 0 {
		etaText = eta.String()
	}
	return fmt.Sprintf("cga gen: %.3g attempts, %.2f M/s, %v elapsed, expected remaining %s (%.0f%% of searches done by now)",
		float64(p.Attempts), p.Rate/1e6, p.Elapsed.Round(time.Second), etaText, 100*found)
}
