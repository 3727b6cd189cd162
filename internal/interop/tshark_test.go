package interop

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/samples"
	"github.com/fhkey/fhkey/internal/testenv"
	"github.com/fhkey/fhkey/mh"
	"github.com/fhkey/fhkey/ndp"
)

// Fault is a known fault of tshark 4.0.17 that the test tolerates. Issue 2
// lists them; each is matched exactly, and nothing else is tolerated.
type Fault struct {
	ID          string
	Description string
}

// Faults lists every tolerated tshark 4.0.17 fault.
var Faults = []Fault{
	{"hk-padding", `Handover Key Request/Reply options (ND 27/28): expert "Unknown Data (not interpreted)" (icmpv6.unknown_data.expert, malformed group) over Pad Length-1 octets when Pad Length >= 2: the dissector advances by 1 instead of Pad Length after the padding`},
	{"rfc5271-padding", `Handover Assist Information and Mobile Node Identifier options (ND 29/30): expert "Unknown Data (not interpreted)" (icmpv6.unknown_data.expert): the dissector computes the padding as option length minus the absolute packet offset, so it fires for any padding (issue 2 names option 30 with padding >= 2; 4.0.17 also does it for 29 and for smaller padding)`},
	{"auth-2-short", "BADF (mip6.badff.auth) and RFC 4285 (mip6.auth.auth_data) authenticators are shown 2 octets short"},
	{"rfc4285-epoch", "RFC 4285 replay protection timestamp (mip6.mseg_id.timestamp) is shown as if the NTP seconds counted from 1970: 2208988800 s (70 years) late"},
	{"mh-checksum", "tshark does not verify Mobility Header checksums: the test verifies them itself and checks that tshark shows the same mip6.csum"},
}

// unknownData is the expert message of the rfc5271-padding and hk-padding
// faults.
const (
	unknownDataField   = "icmpv6.unknown_data.expert"
	unknownDataMessage = "Unknown Data (not interpreted)"
	ntpToUnix          = 2208988800 * time.Second // RFC 4285 §6 timestamps are NTP (1900 epoch)
)

// commonFields are shown for every item of their kind.
var commonFields = map[string]bool{
	"icmpv6.opt.type": true, "icmpv6.opt.length": true,
	"mip6.proto": true, "mip6.hlen": true, "mip6.mhtype": true, "mip6.csum": true, "mip6.mobility_opt.len": true,
}

// tally counts what was compared, per item type.
type tally struct{ items, fields int }

var (
	summaryMu sync.Mutex
	summary   = map[string]*tally{}
	faultHits = map[string]int{}
)

func count(key string, fields int) {
	summaryMu.Lock()
	defer summaryMu.Unlock()
	if summary[key] == nil {
		summary[key] = &tally{}
	}
	summary[key].items++
	summary[key].fields += fields
}

func hit(id string) {
	summaryMu.Lock()
	faultHits[id]++
	summaryMu.Unlock()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if len(summary) > 0 {
		printSummary(os.Stdout)
	}
	os.Exit(code)
}

func printSummary(w *os.File) {
	keys := make([]string, 0, len(summary))
	for k := range summary {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return sortKey(keys[i]) < sortKey(keys[j]) })
	fmt.Fprintf(w, "\ntshark interop: message and option types compared against tshark %s\n", tsharkVersion)
	fmt.Fprintf(w, "%-52s %9s %7s\n", "type", "instances", "fields")
	total := 0
	for _, k := range keys {
		fmt.Fprintf(w, "%-52s %9d %7d\n", k, summary[k].items, summary[k].fields)
		total += summary[k].fields
	}
	fmt.Fprintf(w, "%d types, %d field comparisons; tolerated tshark faults:", len(keys), total)
	for _, f := range Faults {
		fmt.Fprintf(w, " %s×%d", f.ID, faultHits[f.ID])
	}
	fmt.Fprintln(w)
}

// sortKey orders ICMPv6 messages, ND options, MH messages, MH options by number.
func sortKey(k string) string {
	var kind, num string
	f := strings.Fields(k)
	switch {
	case strings.HasPrefix(k, "ICMPv6"):
		kind, num = "0", f[1]
	case strings.HasPrefix(k, "ND option"):
		kind, num = "1", f[2]
	case strings.HasPrefix(k, "MH option"):
		kind, num = "3", f[2]
	default:
		kind, num = "2", f[1]
	}
	return fmt.Sprintf("%s%8s", kind, num)
}

var tsharkVersion = "?"

// format renders an expected value as tshark's JSON output shows it.
func format(v any) string {
	switch v := v.(type) {
	case uint64:
		return fmt.Sprint(v)
	case int:
		return fmt.Sprint(v)
	case bool:
		if v {
			return "1"
		}
		return "0"
	case string:
		return v
	case []byte:
		s := make([]string, len(v))
		for i, b := range v {
			s[i] = fmt.Sprintf("%02x", b)
		}
		return strings.Join(s, ":")
	case netip.Addr:
		return v.String()
	case time.Time:
		return v.UTC().Format("Jan _2, 2006 15:04:05.000000000 UTC")
	}
	panic(fmt.Sprintf("format: unexpected %T", v))
}

func TestTsharkSamples(t *testing.T) {
	tshark := testenv.RequireTool(t, "tshark")
	if out, err := exec.Command(tshark, "--version").Output(); err == nil {
		tsharkVersion = strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	}
	files, err := samples.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		t.Run(f.Name, func(t *testing.T) {
			cmd := exec.Command(tshark, "-r", f.Path, "-T", "json")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("tshark: %v: %s", err, stderr.String())
			}
			layers, err := ParseJSON(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			if len(layers) != len(f.Packets) {
				t.Fatalf("tshark shows %d packets, the file has %d", len(layers), len(f.Packets))
			}
			for i, p := range f.Packets {
				t.Run(fmt.Sprintf("%d %s", i+1, p.Description), func(t *testing.T) {
					checkOurDecoder(t, p)
					if !p.Dissected {
						for _, it := range p.Items {
							seen[it.Key()] = true
						}
						return
					}
					checkExperts(t, layers[i])
					compare(t, p, layers[i])
					for _, it := range p.Items {
						seen[it.Key()] = true
					}
				})
			}
		})
	}
	for k := range Fields {
		if !seen[k] {
			t.Errorf("%s: no sample packet carries it", k)
		}
	}
}

// checkOurDecoder parses the upper-layer bytes with package ndp or mh and
// checks the checksum and that they re-marshal to the same octets. For the
// draft messages, which tshark cannot check, the parsed message must equal
// the one that was marshalled (padding options aside).
func checkOurDecoder(t *testing.T, p samples.Packet) {
	t.Helper()
	pkt := p.Packet
	if err := pkt.VerifyChecksum(); err != nil {
		t.Errorf("checksum: %v", err)
	}
	src, dst := pkt.PseudoHeaderAddresses()
	switch pkt.Protocol {
	case inet.ProtocolICMPv6:
		if err := ndp.VerifyChecksum(src, dst, pkt.Payload); err != nil {
			t.Errorf("ndp.VerifyChecksum: %v", err)
		}
		m, err := ndp.ParseMessage(pkt.Payload)
		if err != nil {
			t.Fatalf("ndp.ParseMessage: %v", err)
		}
		b, err := ndp.MarshalMessage(m)
		if err != nil || !bytes.Equal(b, pkt.Payload) {
			t.Errorf("ndp re-marshal differs (%v):\n got %x\nwant %x", err, b, pkt.Payload)
		}
	case inet.ProtocolMobility:
		if err := mh.VerifyChecksum(pkt.Payload, src, dst); err != nil {
			t.Errorf("mh.VerifyChecksum: %v", err)
		}
		m, err := mh.ParseMessage(pkt.Payload)
		if err != nil {
			t.Fatalf("mh.ParseMessage: %v", err)
		}
		// MarshalMessage leaves the Checksum zero (mh.SetChecksum fills it).
		want := append([]byte(nil), pkt.Payload...)
		want[4], want[5] = 0, 0
		b, err := mh.MarshalMessage(m)
		if err != nil || !bytes.Equal(b, want) {
			t.Errorf("mh re-marshal differs (%v):\n got %x\nwant %x", err, b, want)
		}
		if !p.Dissected {
			if got := withoutPadding(m); !reflect.DeepEqual(got, p.Message) {
				t.Errorf("mh.ParseMessage:\n got %#v\nwant %#v", got, p.Message)
			}
			for _, it := range p.Items {
				count(it.Key()+" (fhkey decoder only)", 0)
			}
		}
	default:
		t.Fatalf("unexpected protocol %d", pkt.Protocol)
	}
}

// withoutPadding returns m with the Pad1 and PadN options removed from its
// Options field.
func withoutPadding(m mh.Message) mh.Message {
	v := reflect.New(reflect.TypeOf(m)).Elem()
	v.Set(reflect.ValueOf(m))
	f := v.FieldByName("Options")
	if !f.IsValid() {
		return m
	}
	var kept []mh.Option
	for _, o := range f.Interface().([]mh.Option) {
		switch o.(type) {
		case mh.Pad1, mh.PadN:
			continue
		}
		kept = append(kept, o)
	}
	f.Set(reflect.ValueOf(kept))
	return v.Interface().(mh.Message)
}

// checkExperts fails on every expert item and malformed mark tshark raised,
// except the tolerated faults.
func checkExperts(t *testing.T, layers *Node) {
	t.Helper()
	allowedTrees := map[*Node]bool{}
	layers.Walk(func(n *Node) {
		if n.Key != "_ws.expert" {
			return
		}
		var field, msg string
		for _, c := range n.Children {
			if c.Key == "_ws.expert.message" {
				msg = c.Value
			} else if !strings.HasPrefix(c.Key, "_ws.expert.") && field == "" {
				field = c.Key
			}
		}
		if id := toleratedExpert(field, msg, n); id != "" {
			hit(id)
			allowedTrees[n.Parent] = true
			return
		}
		t.Errorf("tshark expert info %s %q at %s", field, msg, n.Path())
	})
	layers.Walk(func(n *Node) {
		if n.Key == "_ws.malformed" && !allowedTrees[n.Parent] {
			t.Errorf("tshark: malformed packet at %s", n.Path())
		}
	})
}

// toleratedExpert returns the Fault ID that explains the expert item n, or "".
func toleratedExpert(field, msg string, n *Node) string {
	if field != unknownDataField || msg != unknownDataMessage {
		return ""
	}
	var opt *Node
	for x := n; x != nil; x = x.Parent {
		if x.Key == "icmpv6.opt" {
			opt = x
			break
		}
	}
	if opt == nil || n.Parent == nil || n.Parent.Key != "icmpv6.unknown_data_tree" {
		return ""
	}
	typ := opt.Child("icmpv6.opt.type")
	if typ == nil {
		return ""
	}
	switch typ.Value {
	case "27", "28":
		// Pad Length - 1 octets of "unknown data", exactly.
		pad := opt.Child("icmpv6.opt.hkr.pad_length")
		data := opt.Child("icmpv6.unknown_data")
		if pad == nil || data == nil {
			return ""
		}
		var p int
		fmt.Sscan(pad.Value, &p)
		if p >= 2 && octets(data.Value) == p-1 {
			return "hk-padding"
		}
	case "29", "30":
		return "rfc5271-padding"
	}
	return ""
}

// octets returns the number of octets of a tshark hex string "aa:bb".
func octets(s string) int {
	if s == "" {
		return 0
	}
	return strings.Count(s, ":") + 1
}

// compare checks every expected field of every item of p against tshark.
func compare(t *testing.T, p samples.Packet, layers *Node) {
	t.Helper()
	msg := p.Items[0]
	var layer *Node
	var opts []*optNode
	var skip func(*Node) bool
	switch msg.Protocol {
	case "icmpv6":
		layer = layers.Child("icmpv6")
		if layer == nil {
			t.Fatal("tshark shows no icmpv6 layer")
		}
		if st := layer.Child("icmpv6.checksum.status"); st == nil || st.Value != "1" {
			t.Errorf("tshark: ICMPv6 checksum not good")
		}
		skip = func(n *Node) bool { return n.Key == "icmpv6.opt" }
		for _, c := range layer.Children {
			if c.Key == "icmpv6.opt" {
				var typ int
				if tn := c.Child("icmpv6.opt.type"); tn != nil {
					fmt.Sscan(tn.Value, &typ)
				}
				opts = append(opts, &optNode{typ: typ, tree: c})
			}
		}
	case "mip6":
		layer = layers.Find("mipv6")
		if layer == nil {
			t.Fatal("tshark shows no mipv6 layer")
		}
		hit("mh-checksum")
		want := fmt.Sprintf("0x%02x%02x", p.Packet.Payload[4], p.Packet.Payload[5])
		if cs := layer.Child("mip6.csum"); cs == nil || cs.Value != want {
			t.Errorf("mip6.csum: tshark %v, packet %s", cs, want)
		}
		skip = func(n *Node) bool { return n.Key == "Mobility Options" }
		if mo := layer.Child("Mobility Options"); mo != nil {
			for i := 0; i < len(mo.Children); i++ {
				c := mo.Children[i]
				if strings.HasSuffix(c.Key, "_tree") {
					continue
				}
				o := &optNode{typ: -1, tree: c}
				if b, err := hex.DecodeString(strings.ReplaceAll(c.Value, ":", "")); err == nil && len(b) > 0 {
					o.typ = int(b[0])
				}
				if i+1 < len(mo.Children) && mo.Children[i+1].Key == c.Key+"_tree" {
					o.tree = mo.Children[i+1]
				}
				opts = append(opts, o)
			}
		}
	}
	n := compareFields(t, msg, layer, skip)
	count(msg.Key(), n)
	items := p.Items[1:]
	if len(items) != len(opts) {
		t.Fatalf("tshark shows %d options, %d were encoded", len(opts), len(items))
	}
	for i, it := range items {
		if opts[i].typ != int(it.Type) {
			t.Errorf("option %d: tshark type %d, encoded %d (%s)", i+1, opts[i].typ, it.Type, it.Name)
			continue
		}
		n := 1 // the type
		if msg.Protocol == "icmpv6" {
			n = 0 // icmpv6.opt.type is among the fields
		}
		count(it.Key(), n+compareFields(t, it, opts[i].tree, nil))
	}
}

type optNode struct {
	typ  int
	tree *Node
}

// compareFields compares the expected fields of it with the values under
// n and returns how many were compared.
func compareFields(t *testing.T, it samples.Item, n *Node, skip func(*Node) bool) int {
	t.Helper()
	if _, ok := Fields[it.Key()]; !ok {
		t.Errorf("%s: not in the Fields table", it.Key())
	}
	used := map[string]int{}
	compared := 0
	for _, f := range it.Fields {
		if !commonFields[f.Name] && !contains(Fields[it.Key()], f.Name) {
			t.Errorf("%s: field %s not in the Fields table", it.Key(), f.Name)
		}
		var got []string
		if n != nil {
			got = n.Values(f.Name, skip)
		}
		k := used[f.Name]
		used[f.Name]++
		if k >= len(got) {
			t.Errorf("%s: tshark shows no %s (occurrence %d)", it.Key(), f.Name, k+1)
			continue
		}
		want := format(f.Value)
		switch f.Name {
		case "mip6.badff.auth", "mip6.auth.auth_data":
			b := f.Value.([]byte)
			want = format(b[:len(b)-2])
			hit("auth-2-short")
		case "mip6.mseg_id.timestamp":
			want = format(f.Value.(time.Time).Add(ntpToUnix))
			hit("rfc4285-epoch")
		}
		if got[k] != want {
			t.Errorf("%s: %s: tshark %q, encoded %q", it.Key(), f.Name, got[k], want)
			continue
		}
		compared++
	}
	return compared
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
