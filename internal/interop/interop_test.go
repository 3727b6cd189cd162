package interop

import (
	"strings"
	"testing"
)

func TestParseJSONKeepsDuplicateKeys(t *testing.T) {
	in := `[{"_source":{"layers":{"icmpv6":{"icmpv6.type":"154",
		"icmpv6.opt":{"icmpv6.opt.type":"19"},"icmpv6.opt":{"icmpv6.opt.type":"27","n":1,"b":true,"z":null},
		"arr":["a","b"]}}}}]`
	layers, err := ParseJSON(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Fatalf("%d packets", len(layers))
	}
	icmp := layers[0].Child("icmpv6")
	if got := icmp.Values("icmpv6.opt.type", nil); strings.Join(got, ",") != "19,27" {
		t.Errorf("option types %v, want [19 27]", got)
	}
	if got := icmp.Values("icmpv6.opt.type", func(n *Node) bool { return n.Key == "icmpv6.opt" }); len(got) != 0 {
		t.Errorf("skip did not skip: %v", got)
	}
	if got := icmp.Values("arr", nil); strings.Join(got, ",") != ",a,b" {
		t.Errorf("array values %q", got)
	}
	if _, err := ParseJSON(strings.NewReader(`[{"x":1}]`)); err == nil {
		t.Error("packet without layers accepted")
	}
	if _, err := ParseJSON(strings.NewReader(`[{"_source":`)); err == nil {
		t.Error("truncated JSON accepted")
	}
}

// expertIn builds an option node of type typ with an Unknown Data expert
// item of n octets and returns the expert node.
func expertIn(typ, pad string, n int, field, msg string) *Node {
	opt := &Node{Key: "icmpv6.opt"}
	add := func(p *Node, k, v string) *Node {
		c := &Node{Key: k, Value: v, Parent: p}
		p.Children = append(p.Children, c)
		return c
	}
	add(opt, "icmpv6.opt.type", typ)
	if pad != "" {
		add(opt, "icmpv6.opt.hkr.pad_length", pad)
	}
	add(opt, "icmpv6.unknown_data", strings.TrimSuffix(strings.Repeat("00:", n), ":"))
	tree := add(opt, "icmpv6.unknown_data_tree", "")
	e := add(tree, "_ws.expert", "")
	add(e, field, "")
	add(e, "_ws.expert.message", msg)
	return e
}

func TestToleratedExpert(t *testing.T) {
	cases := []struct {
		name, typ, pad string
		n              int
		field, msg     string
		want           string
	}{
		{"HKReq pad 2", "27", "2", 1, unknownDataField, unknownDataMessage, "hk-padding"},
		{"HKRep pad 7", "28", "7", 6, unknownDataField, unknownDataMessage, "hk-padding"},
		{"HKReq pad 1", "27", "1", 0, unknownDataField, unknownDataMessage, ""},
		{"HKReq wrong length", "27", "4", 1, unknownDataField, unknownDataMessage, ""},
		{"HAI", "29", "", 8, unknownDataField, unknownDataMessage, "rfc5271-padding"},
		{"MN ID", "30", "", 8, unknownDataField, unknownDataMessage, "rfc5271-padding"},
		{"LLA", "19", "", 8, unknownDataField, unknownDataMessage, ""},
		{"CGA", "11", "", 8, unknownDataField, unknownDataMessage, ""},
		{"other expert", "30", "", 8, "icmpv6.invalid_option_length", unknownDataMessage, ""},
		{"other message", "30", "", 8, unknownDataField, "Bad checksum", ""},
	}
	for _, tc := range cases {
		e := expertIn(tc.typ, tc.pad, tc.n, tc.field, tc.msg)
		if got := toleratedExpert(tc.field, tc.msg, e); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestFormat(t *testing.T) {
	if got := format([]byte{0, 0xab}); got != "00:ab" {
		t.Error(got)
	}
	if got := format(true) + format(false) + format(uint64(7)); got != "107" {
		t.Error(got)
	}
}
