package decode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/fhkey/fhkey/internal/capture"
)

// Writer prints packets and the summary as text or, with JSON, one JSON
// object per line.
type Writer struct {
	W    io.Writer
	JSON bool
}

// Packet prints p.
func (o *Writer) Packet(p *Packet) error {
	if o.JSON {
		return o.line(p.jsonObject())
	}
	var buf bytes.Buffer
	if p.Number > 0 {
		fmt.Fprintf(&buf, "packet %d  %s\n", p.Number, p.Time.Format(time.RFC3339Nano))
	}
	if p.Err != nil {
		fmt.Fprintf(&buf, "  malformed: %v\n\n", p.Err)
		_, err := o.W.Write(buf.Bytes())
		return err
	}
	if p.Link != nil {
		fmt.Fprintf(&buf, "  %s\n", p.Link)
	}
	ind := ""
	if ip := p.IPv6; ip != nil {
		fmt.Fprintf(&buf, "  IPv6 %s -> %s  hop limit %d  traffic class %d  flow label %#x\n", ip.Source, ip.Destination, ip.HopLimit, ip.TrafficClass, ip.FlowLabel)
		for _, h := range ip.ExtensionHeaders {
			fmt.Fprintf(&buf, "  %s\n", describeExtension(h))
		}
		ind = "  "
	}
	if f := p.Fragment; f != nil {
		fmt.Fprintf(&buf, "  Fragment header: next header %d, offset %d, more fragments %v, identification %#x (fragment: not decoded)\n\n",
			f.NextHeader, f.Offset*8, f.MoreFragments, f.Identification)
		_, err := o.W.Write(buf.Bytes())
		return err
	}
	fmt.Fprintf(&buf, "%s%s", ind, p.Protocol)
	if p.Checksum != "" {
		fmt.Fprintf(&buf, "  checksum %s", p.Checksum)
	}
	buf.WriteString("\n")
	if p.Message != nil {
		writeValue(&buf, ind+"  ", "", reflect.ValueOf(p.Message))
	}
	if v := p.Verify; v != nil {
		fmt.Fprintf(&buf, "%sverify: cga %s, signature %s, mh_checksum %s, badf %s, mn_ha %s\n", ind, v.CGA, v.Signature, v.MHChecksum, v.BADF, v.MNHA)
		for _, k := range sortedKeys(v.Reasons) {
			fmt.Fprintf(&buf, "%s  %s: %s\n", ind, k, v.Reasons[k])
		}
	}
	buf.WriteString("\n")
	_, err := o.W.Write(buf.Bytes())
	return err
}

// Summary prints the counts: a "summary:" line, or {"summary": {...}}.
func (o *Writer) Summary(s *Summary) error {
	if o.JSON {
		return o.line(map[string]any{"summary": s})
	}
	var reasons []string
	for _, k := range sortedKeys(s.SkippedBy) {
		reasons = append(reasons, fmt.Sprintf("%d %s", s.SkippedBy[k], k))
	}
	skipped := ""
	if len(reasons) > 0 {
		skipped = " (" + strings.Join(reasons, ", ") + ")"
	}
	_, err := fmt.Fprintf(o.W, "summary: %d packets: %d decoded, %d skipped%s, %d fragments, %d malformed, %d failing verification\n",
		s.Packets, s.Decoded, s.Skipped, skipped, s.Fragments, s.Malformed, s.Invalid)
	return err
}

func (o *Writer) line(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(o.W, "%s\n", b)
	return err
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// jsonObject is p as a JSON object.
func (p *Packet) jsonObject() map[string]any {
	obj := map[string]any{}
	if p.Number > 0 {
		obj["packet"] = p.Number
		obj["time"] = p.Time.Format(time.RFC3339Nano)
	}
	if p.Err != nil {
		obj["error"] = p.Err.Error()
		return obj
	}
	obj["protocol"] = p.Protocol
	if p.Link != nil {
		obj["link"] = map[string]any{"type": int(p.Link.Type), "description": p.Link.String()}
	}
	if p.IPv6 != nil {
		ip := *p.IPv6
		ip.Payload = nil
		j := toJSON(reflect.ValueOf(ip)).(map[string]any)
		delete(j, "Payload") // decoded as "message"
		obj["ipv6"] = j
	}
	if f := p.Fragment; f != nil {
		obj["protocol"] = "fragment"
		obj["fragment"] = map[string]any{"next_header": f.NextHeader, "offset": int(f.Offset) * 8, "more_fragments": f.MoreFragments, "identification": f.Identification}
	}
	if p.Checksum != "" {
		obj["checksum"] = p.Checksum
	}
	if p.Message != nil {
		obj["message"] = toJSON(reflect.ValueOf(p.Message))
	}
	if p.Verify != nil {
		obj["verify"] = p.Verify
	}
	return obj
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
