package interop

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Node is one member of tshark's "-T json" output. tshark repeats keys
// inside an object (one "icmpv6.opt" per option), which encoding/json
// would collapse, so the output is read token by token into a tree that
// keeps every member in order.
type Node struct {
	Key      string
	Value    string // for strings and numbers
	Children []*Node
	Parent   *Node
}

// ParseJSON reads tshark's JSON output: an array of packets. It returns
// the "_source"."layers" node of each packet.
func ParseJSON(r io.Reader) ([]*Node, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	root := &Node{Key: "root"}
	if err := parseValue(dec, root); err != nil {
		return nil, err
	}
	var layers []*Node
	for _, pkt := range root.Children {
		src := pkt.Child("_source")
		if src == nil || src.Child("layers") == nil {
			return nil, fmt.Errorf("tshark json: packet without _source.layers")
		}
		layers = append(layers, src.Child("layers"))
	}
	return layers, nil
}

func parseValue(dec *json.Decoder, n *Node) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				k, ok := kt.(string)
				if !ok {
					return fmt.Errorf("tshark json: object key %v", kt)
				}
				c := &Node{Key: k, Parent: n}
				n.Children = append(n.Children, c)
				if err := parseValue(dec, c); err != nil {
					return err
				}
			}
		case '[':
			// An array (--no-duplicate-keys style): elements become
			// children with the array's key.
			for dec.More() {
				c := &Node{Key: n.Key, Parent: n}
				n.Children = append(n.Children, c)
				if err := parseValue(dec, c); err != nil {
					return err
				}
			}
		}
		_, err := dec.Token() // closing delimiter
		return err
	case string:
		n.Value = t
	case json.Number:
		n.Value = t.String()
	case bool:
		n.Value = fmt.Sprint(t)
	case nil:
	}
	return nil
}

// Child returns the first child named key.
func (n *Node) Child(key string) *Node {
	for _, c := range n.Children {
		if c.Key == key {
			return c
		}
	}
	return nil
}

// Find returns the first node named key in n's subtree (depth first).
func (n *Node) Find(key string) *Node {
	for _, c := range n.Children {
		if c.Key == key {
			return c
		}
		if f := c.Find(key); f != nil {
			return f
		}
	}
	return nil
}

// Values returns the values of every node named key in n's subtree, in
// depth-first order, not descending into children for which skip is true.
func (n *Node) Values(key string, skip func(*Node) bool) []string {
	var out []string
	for _, c := range n.Children {
		if skip != nil && skip(c) {
			continue
		}
		if c.Key == key {
			out = append(out, c.Value)
		}
		out = append(out, c.Values(key, skip)...)
	}
	return out
}

// Walk calls f for every node of n's subtree.
func (n *Node) Walk(f func(*Node)) {
	for _, c := range n.Children {
		f(c)
		c.Walk(f)
	}
}

// Path returns the keys from the root to n, for messages.
func (n *Node) Path() string {
	var p []string
	for x := n; x != nil && x.Key != "layers"; x = x.Parent {
		p = append([]string{x.Key}, p...)
	}
	return strings.Join(p, " > ")
}
