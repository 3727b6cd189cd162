package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/fhkey/fhkey/hokey"
)

const aaaUsage = `Usage: fhkey aaa derive [flags]

Shared-key (AAA) handover keys, draft-vidya-mipshop-handover-keys-aaa-04
(docs/aaa.md).

  derive  compute the HIK and the HK from an HMK with gprf+ (§6.1)

Run 'fhkey aaa derive --help' for the flags.
`

func runAAA(_ context.Context, env *Env, args []string) error {
	return runSubcommand(env, aaaUsage, args, map[string]func([]string) error{
		"derive": func(args []string) error { return runAAADerive(env, args) },
	})
}

// aaaDeriveOutput is the --json object of 'fhkey aaa derive': exactly the
// two keys, lowercase hex.
type aaaDeriveOutput struct {
	HIK string `json:"hik"`
	HK  string `json:"hk"`
}

func runAAADerive(env *Env, args []string) error {
	fs := newFlagSet(env, "aaa derive", "--hmk HEX --message-id N --mn-nonce HEX --hks-nonce HEX --nai NAI --ar ADDR [--prf 1|2] [--mac 1|2] [--json]", `
Derive the Handover Integrity Key and the Handover Key of
draft-vidya-mipshop-handover-keys-aaa-04 §6.1 as the mobile node and the
Handover Key Server do (docs/aaa.md):

  HIK = gprf+(HMK, "Handover Integrity Key")                            Y = Message ID
  HK  = gprf+(HMK, MN-Nonce | HKS-Nonce | MN ID | AR ID | "Handover Key")  Y = 0x0000
  T1 = PRF(HMK, S | Y), Tn = PRF(HMK, Tn-1 | S | Y+n-1), Y two octets big-endian

MN ID is the NAI's octets; AR ID the 16 octets of the AR's IPv6 address
as the MN sees it. Each key is as long as the MAC algorithm that uses it
needs (--mac 1: 20 octets, 2: 32); the HK then authenticates the FBU's
BADF with AT 0 (HMAC-SHA1-96) or AT 1 (HMAC-SHA256-128).

The output holds secret keys: it is the only place fhkey prints them.`)
	prf := fs.Uint("prf", uint(hokey.PRFHMACSHA1), "PRF field: 1 HMAC-SHA1 (the draft's), 2 HMAC-SHA256 (fhkey extension)")
	mac := fs.Uint("mac", uint(hokey.MACHMACSHA1), "MAC option Algorithm Type: 1 HMAC-SHA1 (the draft's), 2 HMAC-SHA256 (fhkey extension)")
	hmkHex := fs.String("hmk", "", "the Handover Master Key, `HEX`, at least 64 octets (required)")
	messageID := fs.String("message-id", "", "the HKReq's Message ID, `N` = 0 to 255, decimal or 0x hex (required)")
	mnNonceHex := fs.String("mn-nonce", "", "the MN-Nonce, `HEX`, 1 to 253 octets (required)")
	hksNonceHex := fs.String("hks-nonce", "", "the HKS-Nonce, `HEX`, 1 to 253 octets (required)")
	nai := fs.String("nai", "", "the MN ID: the mobile node's `NAI`, e.g. mn@example.com (required)")
	arFlag := fs.String("ar", "", "the AR ID: the access router's global IPv6 `ADDR` as the MN sees it (required)")
	asJSON := fs.Bool("json", false, `print {"hik":"…","hk":"…"} (lowercase hex)`)
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	in, err := aaaDeriveInputs(*prf, *mac, *hmkHex, *messageID, *mnNonceHex, *hksNonceHex, *nai, *arFlag)
	if err != nil {
		return err
	}
	defer clear(in.hmk)
	hik, err := hokey.DeriveHIK(in.prf, in.hmk, in.messageID, in.mac)
	if err != nil {
		return err
	}
	defer hik.Zero()
	hk, err := hokey.DeriveHK(in.prf, in.hmk, in.mnNonce, in.hksNonce, *nai, in.ar, in.mac)
	if err != nil {
		return err
	}
	defer hk.Zero()
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		return enc.Encode(aaaDeriveOutput{HIK: hex.EncodeToString(hik.Bytes()), HK: hex.EncodeToString(hk.Bytes())})
	}
	at, err := in.mac.BADFAlgorithm()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "PRF\t%d (%s)\n", in.prf, in.prf)
	fmt.Fprintf(tw, "MAC\t%d (%s): %d-octet keys; the HK signs the FBU's BADF with AT %d (%s)\n", in.mac, in.mac, in.mac.KeyLen(), at, at)
	fmt.Fprintf(tw, "Message ID\t%d (HIK Y = 0x%04x; HK Y = 0x0000)\n", in.messageID, in.messageID)
	fmt.Fprintf(tw, "MN ID (NAI)\t%s\n", *nai)
	fmt.Fprintf(tw, "AR ID\t%s\n", in.ar)
	fmt.Fprintf(tw, "HIK\t%s\n", hex.EncodeToString(hik.Bytes()))
	printBlocks(tw, "HIK", hik.Bytes(), in.prf.Size())
	fmt.Fprintf(tw, "HK\t%s\n", hex.EncodeToString(hk.Bytes()))
	printBlocks(tw, "HK", hk.Bytes(), in.prf.Size())
	return tw.Flush()
}

// printBlocks shows key as the gprf+ blocks T1, T2, ... it was taken from.
func printBlocks(tw *tabwriter.Writer, name string, key []byte, size int) {
	for i := 0; i < len(key); i += size {
		b := key[i:min(i+size, len(key))]
		note := ""
		if len(b) < size {
			note = fmt.Sprintf(" (first %d of %d octets)", len(b), size)
		}
		fmt.Fprintf(tw, "  %s T%d\t%s%s\n", name, i/size+1, hex.EncodeToString(b), note)
	}
}

type aaaInputs struct {
	prf               hokey.PRF
	mac               hokey.MACAlgorithm
	hmk               []byte
	messageID         uint8
	mnNonce, hksNonce []byte
	ar                netip.Addr
}

// aaaDeriveInputs checks every flag and returns a usage error naming the
// first one at fault.
func aaaDeriveInputs(prf, mac uint, hmkHex, messageID, mnNonceHex, hksNonceHex, nai, ar string) (aaaInputs, error) {
	var in aaaInputs
	var err error
	if prf > 7 {
		return in, fmt.Errorf("%w: --prf %d: the PRF field has 3 bits", errUsage, prf)
	}
	if in.prf, err = hokey.ParsePRF(uint8(prf)); err != nil {
		return in, fmt.Errorf("%w: --prf: %v", errUsage, err)
	}
	if mac > 15 {
		return in, fmt.Errorf("%w: --mac %d: the Algorithm Type has 4 bits", errUsage, mac)
	}
	if in.mac, err = hokey.ParseMACAlgorithm(uint8(mac)); err != nil {
		return in, fmt.Errorf("%w: --mac: %v", errUsage, err)
	}
	if in.hmk, err = hexFlag("hmk", hmkHex, hokey.MinHMKLen, 1<<16); err != nil {
		return in, err
	}
	if messageID == "" {
		return in, fmt.Errorf("%w: --message-id N is required", errUsage)
	}
	id, err := strconv.ParseUint(messageID, 0, 8)
	if err != nil {
		return in, fmt.Errorf("%w: --message-id %q: a number from 0 to 255", errUsage, messageID)
	}
	in.messageID = uint8(id)
	if in.mnNonce, err = hexFlag("mn-nonce", mnNonceHex, 1, hokey.MaxNonceLen); err != nil {
		return in, err
	}
	if in.hksNonce, err = hexFlag("hks-nonce", hksNonceHex, 1, hokey.MaxNonceLen); err != nil {
		return in, err
	}
	if nai == "" || len(nai) > hokey.MaxNAILen {
		return in, fmt.Errorf("%w: --nai: 1 to %d octets required, have %d", errUsage, hokey.MaxNAILen, len(nai))
	}
	if ar == "" {
		return in, fmt.Errorf("%w: --ar ADDR is required", errUsage)
	}
	if in.ar, err = netip.ParseAddr(ar); err != nil {
		return in, fmt.Errorf("%w: --ar: %v", errUsage, err)
	}
	if err := hokey.CheckARID(in.ar); err != nil {
		return in, fmt.Errorf("%w: --ar: %v", errUsage, err)
	}
	return in, nil
}

// hexFlag decodes the hex value of --name, of min to max octets.
func hexFlag(name, v string, lo, hi int) ([]byte, error) {
	if v == "" {
		return nil, fmt.Errorf("%w: --%s HEX is required", errUsage, name)
	}
	b, err := hex.DecodeString(strings.TrimPrefix(v, "0x"))
	if err != nil {
		return nil, fmt.Errorf("%w: --%s: not hex: %v", errUsage, name, err)
	}
	if len(b) < lo || len(b) > hi {
		return nil, fmt.Errorf("%w: --%s: %d octets, must be %d to %d", errUsage, name, len(b), lo, hi)
	}
	return b, nil
}
