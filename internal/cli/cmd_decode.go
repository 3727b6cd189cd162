package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"time"
	"unicode"

	"github.com/fhkey/fhkey/internal/capture"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/mh"
	"github.com/fhkey/fhkey/ndp"
)

// maxHexInput bounds the hex read from stdin: one IPv6 packet, in hex with
// separators, fits well within it.
const maxHexInput = 1 << 20

func runDecode(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "decode", "[--json] [--proto ipv6|icmpv6|mh] [FILE.pcap | -]", `Decode packets and print every message and option with its field names.

FILE.pcap is a classic pcap file of raw IPv6 packets (link type RAW or
IPV6, as 'fhkey samples' writes). With no FILE or with '-', one packet is
read from stdin as hex (whitespace, ':' and a 0x prefix are ignored): a
whole IPv6 packet by default, or a bare ICMPv6 or Mobility Header message
with --proto icmpv6 or --proto mh.

ICMPv6 messages are decoded with package ndp, Mobility Header messages with
package mh (the draft HKReq/HKResp at their default codepoints); checksums
are verified with the pseudo-header, using the Home Address option as the
source (RFC 6275 §6.1.1). Malformed input exits with status 1 and a
one-line error naming the offset at fault.`)
	asJSON := fs.Bool("json", false, "print JSON (one object per packet, one per line) instead of text")
	proto := fs.String("proto", "ipv6", "what the hex on stdin holds: ipv6, icmpv6 or mh")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return fmt.Errorf("%w: at most one FILE", errUsage)
	}
	switch *proto {
	case "ipv6", "icmpv6", "mh":
	default:
		return fmt.Errorf("%w: --proto %q: want ipv6, icmpv6 or mh", errUsage, *proto)
	}
	out := &decodeOutput{w: env.Stdout, json: *asJSON}
	file := fs.Arg(0)
	if file == "" || file == "-" {
		data, err := readHex(env.Stdin)
		if err != nil {
			return err
		}
		d, err := decodeBytes(*proto, data)
		if err != nil {
			return err
		}
		return out.print(d)
	}
	if *proto != "ipv6" {
		return fmt.Errorf("%w: --proto applies to hex on stdin only", errUsage)
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := capture.NewReader(bufio.NewReader(f))
	if err != nil {
		return err
	}
	for i := 1; ; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("packet %d: %w", i, err)
		}
		d, err := decodeBytes("ipv6", rec.Data)
		if err != nil {
			return fmt.Errorf("packet %d: %w", i, err)
		}
		d.Number, d.Time = i, rec.Time
		if err := out.print(d); err != nil {
			return err
		}
	}
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

// decoded is one decoded packet or message.
type decoded struct {
	Number   int                       `json:"packet,omitempty"`
	Time     time.Time                 `json:"time,omitzero"`
	IPv6     *capture.Packet           `json:"-"`
	Ext      []capture.ExtensionHeader `json:"-"`
	Protocol string                    `json:"protocol"`
	Checksum string                    `json:"checksum,omitempty"`
	Message  any                       `json:"-"`
	Raw      []byte                    `json:"-"`
}

// decodeBytes decodes b as an IPv6 packet or a bare message. Errors name
// the offset within b.
func decodeBytes(proto string, b []byte) (*decoded, error) {
	d := &decoded{}
	payload, nh := b, uint8(0)
	switch proto {
	case "icmpv6":
		nh = inet.ProtocolICMPv6
	case "mh":
		nh = inet.ProtocolMobility
	default:
		p, err := capture.Parse(b)
		if err != nil {
			return nil, err
		}
		d.IPv6, d.Ext = p, p.ExtensionHeaders
		payload, nh = p.Payload, p.Protocol
		if got, want, err := p.Checksum(); err == nil {
			if got == want {
				d.Checksum = fmt.Sprintf("0x%04x good", got)
			} else {
				d.Checksum = fmt.Sprintf("0x%04x BAD, want 0x%04x", got, want)
			}
		}
	}
	base := len(b) - len(payload) // offset of the upper layer in b
	switch nh {
	case inet.ProtocolICMPv6:
		d.Protocol = "ICMPv6"
		m, err := ndp.ParseMessage(payload)
		if err != nil {
			return nil, fmt.Errorf("ICMPv6 message at offset %d: %w", base, err)
		}
		d.Message = m
	case inet.ProtocolMobility:
		d.Protocol = "Mobility Header"
		m, err := mh.ParseMessage(payload)
		if err != nil {
			return nil, fmt.Errorf("Mobility Header at offset %d: %w", base, err)
		}
		d.Message = m
	default:
		d.Protocol = fmt.Sprintf("protocol %d (not decoded)", nh)
		d.Raw = payload
	}
	return d, nil
}

type decodeOutput struct {
	w    io.Writer
	json bool
}

func (o *decodeOutput) print(d *decoded) error {
	if o.json {
		obj := map[string]any{"protocol": d.Protocol}
		if d.Number > 0 {
			obj["packet"] = d.Number
			obj["time"] = d.Time.Format(time.RFC3339Nano)
		}
		if d.IPv6 != nil {
			ip := *d.IPv6
			ip.Payload = nil
			j := toJSON(reflect.ValueOf(ip)).(map[string]any)
			delete(j, "Payload") // decoded as "message"
			obj["ipv6"] = j
		}
		if d.Checksum != "" {
			obj["checksum"] = d.Checksum
		}
		if d.Message != nil {
			obj["message"] = toJSON(reflect.ValueOf(d.Message))
		}
		if d.Raw != nil {
			obj["data"] = hex.EncodeToString(d.Raw)
		}
		b, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(o.w, "%s\n", b)
		return err
	}
	var buf bytes.Buffer
	if d.Number > 0 {
		fmt.Fprintf(&buf, "packet %d  %s\n", d.Number, d.Time.Format(time.RFC3339Nano))
	}
	ind := ""
	if p := d.IPv6; p != nil {
		fmt.Fprintf(&buf, "  IPv6 %s -> %s  hop limit %d  traffic class %d  flow label %#x\n", p.Source, p.Destination, p.HopLimit, p.TrafficClass, p.FlowLabel)
		for _, h := range p.ExtensionHeaders {
			fmt.Fprintf(&buf, "  %s\n", describeExtension(h))
		}
		ind = "  "
	}
	fmt.Fprintf(&buf, "%s%s", ind, d.Protocol)
	if d.Checksum != "" {
		fmt.Fprintf(&buf, "  checksum %s", d.Checksum)
	}
	buf.WriteString("\n")
	if d.Message != nil {
		writeValue(&buf, ind+"  ", "", reflect.ValueOf(d.Message))
	}
	if d.Raw != nil {
		fmt.Fprintf(&buf, "%s  data: %x\n", ind, d.Raw)
	}
	buf.WriteString("\n")
	_, err := o.w.Write(buf.Bytes())
	return err
}

func describeExtension(h capture.ExtensionHeader) string {
	switch h.Protocol {
	case capture.ProtocolHopByHop, capture.ProtocolDestinationOptions:
		name := "Destination Options"
		if h.Protocol == capture.ProtocolHopByHop {
			name = "Hop-by-Hop Options"
		}
		opts, err := capture.ParseOptions(h.Data)
		if err != nil {
			return fmt.Sprintf("%s header: %x", name, h.Data)
		}
		var parts []string
		for _, o := range opts {
			switch {
			case o.Type == capture.OptionTypeHomeAddress && len(o.Data) == 16:
				parts = append(parts, "Home Address "+netip.AddrFrom16([16]byte(o.Data)).String())
			case o.Type == capture.OptionTypePad1:
				parts = append(parts, "Pad1")
			case o.Type == capture.OptionTypePadN:
				parts = append(parts, fmt.Sprintf("PadN(%d)", len(o.Data)+2))
			default:
				parts = append(parts, fmt.Sprintf("option %d: %x", o.Type, o.Data))
			}
		}
		return fmt.Sprintf("%s header: %s", name, strings.Join(parts, ", "))
	case capture.ProtocolRouting:
		if len(h.Data) == 22 && h.Data[0] == 2 {
			return fmt.Sprintf("Routing header type 2: segments left %d, home address %s", h.Data[1], netip.AddrFrom16([16]byte(h.Data[6:])))
		}
		return fmt.Sprintf("Routing header: %x", h.Data)
	}
	return fmt.Sprintf("extension header %d: %x", h.Protocol, h.Data)
}

// scalar formats the leaf values the wire packages use; ok is false for
// structs, slices and interfaces that need walking.
func scalar(v reflect.Value) (string, bool) {
	if !v.IsValid() {
		return "<nil>", true
	}
	switch x := v.Interface().(type) {
	case netip.Addr:
		if !x.IsValid() {
			return "(none)", true
		}
		return x.String(), true
	case netip.Prefix:
		return x.String(), true
	case net.HardwareAddr:
		return x.String(), true
	case time.Duration:
		return x.String(), true
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), true
	case []byte:
		if len(x) == 0 {
			return "(empty)", true
		}
		return hex.EncodeToString(x), true
	case fmt.Stringer:
		if v.Kind() != reflect.Struct && v.Kind() != reflect.Pointer {
			return fmt.Sprintf("%s (%d)", x, v.Interface()), true
		}
	}
	switch v.Kind() {
	case reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, v.Len())
			reflect.Copy(reflect.ValueOf(b), v)
			return hex.EncodeToString(b), true
		}
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Bool, reflect.String:
		return fmt.Sprint(v.Interface()), true
	}
	return "", false
}

// writeValue prints v (a message, option or nested struct) as an indented
// list of field names and values.
func writeValue(w *bytes.Buffer, ind, label string, v reflect.Value) {
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			fmt.Fprintf(w, "%s%s<nil>\n", ind, label)
			return
		}
		v = v.Elem()
	}
	if s, ok := scalar(v); ok {
		fmt.Fprintf(w, "%s%s%s\n", ind, label, s)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		fmt.Fprintf(w, "%s%s%s\n", ind, label, v.Type().Name())
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			if !t.Field(i).IsExported() {
				continue
			}
			f := v.Field(i)
			name := t.Field(i).Name
			if s, ok := scalar(f); ok {
				if name == "Checksum" && f.Kind() == reflect.Uint16 {
					s = fmt.Sprintf("0x%04x", f.Uint())
				}
				// Wire timestamps (NTP, RFC 3971) also as a time.
				if m := f.MethodByName("Time"); m.IsValid() && m.Type().NumIn() == 0 && m.Type().NumOut() == 1 && m.Type().Out(0) == reflect.TypeOf(time.Time{}) {
					s += " (" + m.Call(nil)[0].Interface().(time.Time).UTC().Format(time.RFC3339Nano) + ")"
				}
				fmt.Fprintf(w, "%s  %s: %s\n", ind, name, s)
				continue
			}
			if (f.Kind() == reflect.Slice) && f.Len() == 0 {
				fmt.Fprintf(w, "%s  %s: (none)\n", ind, name)
				continue
			}
			fmt.Fprintf(w, "%s  %s:\n", ind, name)
			writeValue(w, ind+"    ", "", f)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			writeValue(w, ind, fmt.Sprintf("[%d] ", i), v.Index(i))
		}
	default:
		fmt.Fprintf(w, "%s%s%v\n", ind, label, v.Interface())
	}
}

// toJSON converts v to JSON-ready values: structs to objects with a "type"
// member, byte strings to hex, addresses to text.
func toJSON(v reflect.Value) any {
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch x := v.Interface().(type) {
	case netip.Addr, netip.Prefix, net.HardwareAddr, time.Duration:
		if a, ok := x.(netip.Addr); ok && !a.IsValid() {
			return nil
		}
		return fmt.Sprint(x)
	case []byte:
		return hex.EncodeToString(x)
	}
	switch v.Kind() {
	case reflect.Struct:
		obj := map[string]any{"type": v.Type().Name()}
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			if t.Field(i).IsExported() {
				obj[t.Field(i).Name] = toJSON(v.Field(i))
			}
		}
		return obj
	case reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, v.Len())
			reflect.Copy(reflect.ValueOf(b), v)
			return hex.EncodeToString(b)
		}
		fallthrough
	case reflect.Slice:
		arr := make([]any, v.Len())
		for i := range arr {
			arr[i] = toJSON(v.Index(i))
		}
		return arr
	}
	return v.Interface()
}
