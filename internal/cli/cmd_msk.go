package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"text/tabwriter"

	"github.com/fhkey/fhkey/hokey"
)

const mskUsage = `Usage: fhkey msk derive [flags]

The fast handover key derived from the EAP MSK (issue 12,
draft-li-mipshop-fbu-sec-00; docs/msk.md).

  derive  compute the FHK from an MSK with prf+ (RFC 7296 §2.13, HMAC-SHA256)

Run 'fhkey msk derive --help' for the flags.
`

func runMSK(_ context.Context, env *Env, args []string) error {
	return runSubcommand(env, mskUsage, args, map[string]func([]string) error{
		"derive": func(args []string) error { return runMSKDerive(env, args) },
	})
}

// mskDeriveOutput is the --json object of 'fhkey msk derive': exactly the
// key, lowercase hex.
type mskDeriveOutput struct {
	FHK string `json:"fhk"`
}

func runMSKDerive(env *Env, args []string) error {
	fs := newFlagSet(env, "msk derive", "--msk HEX --nai NAI --par ADDR --at N [--json]", `
Derive the fast handover key (FHK) that the mobile node and its previous
access router share after EAP access authentication, and that
authenticates the FBU and the FBack in an RFC 4285 Mobility Message
Authentication option (docs/msk.md):

  FHK = prf+(MSK, "FMIPv6 FBU Key" | 0x00 | NAI | PAR address | L)
  T1 = HMAC-SHA256(MSK, S | 0x01), Tn = HMAC-SHA256(MSK, Tn-1 | S | n)

the RFC 5295 §3.2 form with the 64-octet MSK in place of the EMSK. NAI is
the NAI's octets, PAR address the 16 octets of the address the FBU is
sent to, L two octets big-endian: the key length of the AT (0: 20 octets,
HMAC-SHA1-96; 1: 32 octets, HMAC-SHA256-128); the FHK is the first L
octets. The option's SPI names the AT: 0x46480000 + AT.

The output holds a secret key: it is the only place fhkey prints it.`)
	mskHex := fs.String("msk", "", "the Master Session Key, `HEX`, exactly 64 octets (required)")
	nai := fs.String("nai", "", "the mobile node's `NAI` as in its MN-NAI option, e.g. mn@example.com (required)")
	parFlag := fs.String("par", "", "the previous access router's global IPv6 `ADDR`, the FBU's destination (required)")
	atFlag := fs.String("at", "", "the fhkey algorithm type `N`: 0 HMAC-SHA1-96, 1 HMAC-SHA256-128 (required)")
	asJSON := fs.Bool("json", false, `print {"fhk":"…"} (lowercase hex)`)
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	msk, par, at, err := mskDeriveInputs(*mskHex, *nai, *parFlag, *atFlag)
	if err != nil {
		return err
	}
	defer clear(msk)
	fhk, err := hokey.DeriveFHK(msk, *nai, par, at)
	if err != nil {
		return err
	}
	defer fhk.Zero()
	if *asJSON {
		return json.NewEncoder(env.Stdout).Encode(mskDeriveOutput{FHK: hex.EncodeToString(fhk.Bytes())})
	}
	s, err := hokey.FHKInput(*nai, par, at)
	if err != nil {
		return err
	}
	blocks := (at.KeyLen() + 31) / 32
	t, err := hokey.PRFPlus(msk, s, blocks*32)
	if err != nil {
		return err
	}
	defer clear(t)
	spi, _ := hokey.FHKSPI(at)
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "MSK\t%s\n", hex.EncodeToString(msk))
	fmt.Fprintf(tw, "NAI\t%s (%d octets)\n", *nai, len(*nai))
	fmt.Fprintf(tw, "PAR address\t%s\n", par)
	fmt.Fprintf(tw, "AT\t%d (%s): L = %d octets, authenticator %d octets, SPI 0x%08x\n", at, at, at.KeyLen(), at.AuthenticatorLen(), spi)
	fmt.Fprintf(tw, "S\t%s\n", hex.EncodeToString(s))
	for i := 0; i < blocks; i++ {
		fmt.Fprintf(tw, "T%d\t%s\n", i+1, hex.EncodeToString(t[i*32:(i+1)*32]))
	}
	fmt.Fprintf(tw, "FHK\t%s\n", hex.EncodeToString(fhk.Bytes()))
	return tw.Flush()
}

// mskDeriveInputs checks every flag and returns a usage error naming the
// first one at fault.
func mskDeriveInputs(mskHex, nai, par, at string) ([]byte, netip.Addr, hokey.AlgorithmType, error) {
	msk, err := hexFlag("msk", mskHex, hokey.MSKLen, hokey.MSKLen)
	if err != nil {
		return nil, netip.Addr{}, 0, err
	}
	if nai == "" || len(nai) > hokey.MaxNAILen {
		return nil, netip.Addr{}, 0, fmt.Errorf("%w: --nai: 1 to %d octets required, have %d", errUsage, hokey.MaxNAILen, len(nai))
	}
	if par == "" {
		return nil, netip.Addr{}, 0, fmt.Errorf("%w: --par ADDR is required", errUsage)
	}
	a, err := netip.ParseAddr(par)
	if err != nil {
		return nil, netip.Addr{}, 0, fmt.Errorf("%w: --par: %v", errUsage, err)
	}
	if err := hokey.CheckPARAddress(a); err != nil {
		return nil, netip.Addr{}, 0, fmt.Errorf("%w: --par: %v", errUsage, err)
	}
	if at == "" {
		return nil, netip.Addr{}, 0, fmt.Errorf("%w: --at N is required", errUsage)
	}
	n, err := strconv.ParseUint(at, 10, 8)
	if err != nil || !hokey.AlgorithmType(n).Valid() {
		return nil, netip.Addr{}, 0, fmt.Errorf("%w: --at %q: 0 (HMAC-SHA1-96) or 1 (HMAC-SHA256-128)", errUsage, at)
	}
	return msk, a, hokey.AlgorithmType(n), nil
}
