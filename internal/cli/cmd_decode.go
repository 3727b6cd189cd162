package cli

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"

	"github.com/fhkey/fhkey/internal/decode"
	"github.com/fhkey/fhkey/internal/pcapread"
)

// maxHexInput bounds the hex read from stdin: one IPv6 packet, in hex with
// separators, fits well within it.
const maxHexInput = 1 << 20

const decodeDescription = `Decode packets and print every message and option with its field names.

FILE is a pcap or pcapng capture (tcpdump, tshark, editcap, 'fhkey samples',
'fhkey demo --pcap'). Link types: Ethernet (with 802.1Q and QinQ tags),
Linux cooked SLL and SLL2 ('tcpdump -i any'), raw IP (101, 12, 14), IPv6
(229) and BSD loopback (0, 108). IPv6 extension headers are walked:
Hop-by-Hop, Routing (type 2), Destination Options, whose Home Address option
is the checksum pseudo-header source (RFC 6275 §6.1.1, §6.3); a fragment is
reported as such and not decoded.

'-' or no FILE reads standard input. If it starts with a pcap or pcapng magic
number it is a capture (tcpdump -U -w - | fhkey decode -); otherwise it is
one packet in hex (whitespace, ':' and a 0x prefix are ignored): a whole
IPv6 packet by default, or a bare ICMPv6 or Mobility Header message with
--proto icmpv6 or --proto mh.

ICMPv6 ND, SEND and FMIPv6 messages (types 133-137, 148, 149, 154) are
decoded with package ndp, Mobility Header messages with package mh (the
draft HKReq/HKResp at their default codepoints). Every other packet (IPv4,
ARP, UDP, ICMPv6 echo, IPv6-in-IPv6, ...) is skipped and counted; a last
'summary:' line ({"summary": {...}} with --json) gives the counts of packets
decoded, skipped (by reason), fragments, malformed and failing verification.

--verify checks, per packet (offline: no timestamp or nonce freshness):
  cga          the CGA option against the source address (RFC 3972 §5)
  signature    the RSA Signature option over the received bytes with the
               key of the packet's own CGA option (RFC 3971 §5.2.2);
               without a CGA option the key is unknown: invalid
  mh_checksum  the Mobility Header checksum (good or bad)
  badf         the BADF authenticator of FBU and FBack (RFC 5568 §6.4.5)
               with the handover key of (AR, previous CoA) from --keys FILE
               ('no-key' without one); an FBack is checked with the key of
               the FBU it answers, or else every key of its AR
  mn_ha        the RFC 4285 MN-HA authentication option of an MSK-mode FBU
               and FBack (docs/msk.md) with the FHK derived from the MSK of
               (MN-NAI option's NAI, PAR) in --keys FILE: care-of the NCoA,
               home the PCoA ('no-key' without one, or for an FBack whose
               FBU is not in the capture)
Each is valid, invalid or absent (nothing to check); each failure has its
reason ("reasons" in --json). --keys implies --verify; the keys file is a
JSON array of handover keys {"ar", "mn", "at", "spi", "key" (hex),
"expires"}, as 'fhkey demo --show-keys FILE' writes, and/or MSKs {"msk"
(hex), "nai", "par", "at", "expires"}, as 'fhkey demo --mode msk
--show-keys FILE' writes (docs/decode.md).

Exit status: 0 if every packet decoded (or was skipped) and nothing failed
verification; 1 if a packet was malformed (reported in place, decoding goes
on), a check failed, or the input could not be read (a one-line error on
stderr); 2 for a usage error.`

func runDecode(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "decode", "[--json] [--verify] [--keys FILE] [--proto ipv6|icmpv6|mh] [FILE | -]", decodeDescription)
	asJSON := fs.Bool("json", false, "print JSON (one object per packet, one per line, then the summary) instead of text")
	proto := fs.String("proto", decode.ProtoIPv6, "what hex on stdin holds: ipv6, icmpv6 or mh")
	verify := fs.Bool("verify", false, "verify CGAs, SEND signatures, MH checksums and BADF authenticators")
	keysFile := fs.String("keys", "", "handover keys and MSKs (JSON, 'fhkey demo [--mode msk] --show-keys') for the BADF and MN-HA checks; implies --verify")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return fmt.Errorf("%w: at most one FILE", errUsage)
	}
	switch *proto {
	case decode.ProtoIPv6, decode.ProtoICMPv6, decode.ProtoMH:
	default:
		return fmt.Errorf("%w: --proto %q: want ipv6, icmpv6 or mh", errUsage, *proto)
	}
	d := &decode.Decoder{Verify: *verify || *keysFile != ""}
	if d.Verify && *proto != decode.ProtoIPv6 {
		return fmt.Errorf("%w: --verify needs whole IPv6 packets (the addresses), not --proto %s", errUsage, *proto)
	}
	if *keysFile != "" {
		f, err := os.Open(*keysFile)
		if err != nil {
			return err
		}
		d.Keys, err = decode.ReadKeys(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", *keysFile, err)
		}
	}
	out := &decode.Writer{W: env.Stdout, JSON: *asJSON}
	file := fs.Arg(0)
	if file != "" && file != "-" {
		if *proto != decode.ProtoIPv6 {
			return fmt.Errorf("%w: --proto applies to hex on stdin only", errUsage)
		}
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		return decodeCapture(ctx, d, out, bufio.NewReader(f))
	}
	in := bufio.NewReader(env.Stdin)
	if magic, _ := in.Peek(4); pcapread.Sniff(magic) != pcapread.FormatUnknown {
		if *proto != decode.ProtoIPv6 {
			return fmt.Errorf("%w: --proto applies to hex input, and stdin holds a capture", errUsage)
		}
		return decodeCapture(ctx, d, out, in)
	}
	data, err := readHex(in)
	if err != nil {
		return err
	}
	p, err := d.Bytes(*proto, data)
	if err != nil {
		return err
	}
	if p != nil {
		if err := out.Packet(p); err != nil {
			return err
		}
	}
	return finishDecode(d, out)
}

// decodeCapture prints every packet of the capture r, then the summary.
func decodeCapture(ctx context.Context, d *decode.Decoder, out *decode.Writer, r io.Reader) error {
	rd, err := pcapread.NewReader(r)
	if err != nil {
		return err
	}
	for i := 1; ; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		f, err := rd.Next()
		if err == io.EOF {
			return finishDecode(d, out)
		}
		if err != nil {
			// The file cannot be resynchronised: what was read is
			// summarised, then the error ends the run.
			if serr := out.Summary(&d.Summary); serr != nil {
				return serr
			}
			return err
		}
		if p := d.Frame(i, f); p != nil {
			if err := out.Packet(p); err != nil {
				return err
			}
		}
	}
}

// finishDecode prints the summary and turns failures into exit status 1.
func finishDecode(d *decode.Decoder, out *decode.Writer) error {
	if err := out.Summary(&d.Summary); err != nil {
		return err
	}
	if s := d.Summary; s.Failed() {
		return &exitError{code: 1, err: fmt.Errorf("%d malformed packets, %d failing verification", s.Malformed, s.Invalid)}
	}
	return nil
}

// readHex reads hex digits from r, ignoring whitespace, ':' and "0x".
func readHex(r io.Reader) ([]byte, error) {
	in, err := io.ReadAll(io.LimitReader(r, maxHexInput+1))
	if err != nil {
		return nil, err
	}
	if len(in) > maxHexInput {
		return nil, fmt.Errorf("hex input exceeds %d octets", maxHexInput)
	}
	s := strings.TrimSpace(string(in))
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	s = strings.Map(func(c rune) rune {
		if unicode.IsSpace(c) || c == ':' {
			return -1
		}
		return c
	}, s)
	b, err := hex.DecodeString(s)
	if err != nil {
		var ie hex.InvalidByteError
		if errors.As(err, &ie) {
			return nil, fmt.Errorf("hex input: invalid character %q at digit %d", rune(ie), strings.IndexRune(s, rune(ie)))
		}
		return nil, fmt.Errorf("hex input: odd number of hex digits (%d)", len(s))
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("hex input: empty")
	}
	return b, nil
}
