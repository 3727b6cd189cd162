package mip6tls

import (
	"net/netip"
	"strings"
)

// Message is one request or response (RFC 6618 §5.1-§5.3): the container's
// Identifier and the content's parameters in wire order.
type Message struct {
	Identifier uint8
	Parameters []Parameter
}

// parsers maps a lower-case TV-header name to the parser of its value.
var parsers = map[string]func(string) (Parameter, error){
	"mn-id":       func(v string) (Parameter, error) { return MNIdentifier(v), checkNAI(v) },
	"auth-method": parseAuthMethods,
	"eap-payload": func(v string) (Parameter, error) { b, err := parseHex(v); return EAPPayload(b), err },
	"status-code": parseStatusCode,
	"auth": func(v string) (Parameter, error) {
		var a MessageAuthenticator
		return a, parseFixedHex(a[:], v)
	},
	"retry-after": func(v string) (Parameter, error) { t, err := parseRFC1123(v); return RetryAfter{t}, err },
	"mn-rand": func(v string) (Parameter, error) {
		var r MNRand
		err := parseFixedHex(r[:], v)
		return r, err
	},
	"hac-rand": func(v string) (Parameter, error) {
		var r HACRand
		err := parseFixedHex(r[:], v)
		return r, err
	},
	"mip6-spi":             parseSPI,
	"mip6-mn-to-ha-ikey":   keyParser(MNToHA, IntegrityKey),
	"mip6-ha-to-mn-ikey":   keyParser(HAToMN, IntegrityKey),
	"mip6-mn-to-ha-ekey":   keyParser(MNToHA, EncryptionKey),
	"mip6-ha-to-mn-ekey":   keyParser(HAToMN, EncryptionKey),
	"mip6-sa-validity-end": func(v string) (Parameter, error) { t, err := parseRFC1123(v); return SAValidityEnd{t}, err },
	"mip6-sas":             parseSAScope,
	"mip6-ciphersuite":     parseCipherSuite,
	"mip6-suitelist":       parseCipherSuiteList,
	"mip6-haa-ip6":         addrParser(true, func(a netip.Addr) Parameter { return HomeAgentAddress{a} }),
	"mip6-haa-ip4":         addrParser(false, func(a netip.Addr) Parameter { return HomeAgentAddress{a} }),
	"mip6-port":            parseServicePort,
	"mip6-ip6-hoa":         addrParser(true, func(a netip.Addr) Parameter { return HomeAddress{a} }),
	"mip6-ip4-hoa":         addrParser(false, func(a netip.Addr) Parameter { return HomeAddress{a} }),
	"mip6-ip6-hnp":         prefixParser(true),
	"mip6-ip4-hnp":         prefixParser(false),
	"dns-ip6":              addrParser(true, func(a netip.Addr) Parameter { return DNSServer{a} }),
	"dns-ip4":              addrParser(false, func(a netip.Addr) Parameter { return DNSServer{a} }),
}

func addrParser(ip6 bool, wrap func(netip.Addr) Parameter) func(string) (Parameter, error) {
	return func(v string) (Parameter, error) {
		a, err := parseAddr(v, ip6)
		if err != nil {
			return nil, err
		}
		return wrap(a), nil
	}
}

func prefixParser(ip6 bool) func(string) (Parameter, error) {
	return func(v string) (Parameter, error) {
		p, err := parsePrefix(v, ip6)
		return HomeNetworkPrefix{p}, err
	}
}

// ParseMessage decodes one whole container (ParseContainer) and its
// TV-headers into typed parameters. Parameter names compare
// case-insensitively (RFC 2616 §2.1); a name this package knows may appear
// only once; "auth" must be last (§5.5.5). Unknown names parse to Unknown.
func ParseMessage(b []byte) (Message, error) {
	m, _, err := parseMessage(b)
	return m, err
}

// parseMessage is ParseMessage that also returns the msg-octets when the
// message carries auth (nil otherwise), aliasing b.
func parseMessage(b []byte) (Message, []byte, error) {
	c, err := ParseContainer(b)
	if err != nil {
		return Message{}, nil, err
	}
	hs, offsets, err := parseTVHeaders(c.Content)
	if err != nil {
		return Message{}, nil, err
	}
	m := Message{Identifier: c.Identifier, Parameters: make([]Parameter, 0, len(hs))}
	var msgOctets []byte
	seen := make(map[string]bool, len(hs))
	for i, h := range hs {
		name := strings.ToLower(h.Name)
		parse, known := parsers[name]
		if !known {
			m.Parameters = append(m.Parameters, Unknown{h})
			continue
		}
		if seen[name] {
			return Message{}, nil, parseErr(ErrDuplicate, "TV-header %d: %s", i+1, name)
		}
		seen[name] = true
		if name == "auth" {
			if i != len(hs)-1 {
				return Message{}, nil, parseErr(ErrAuthNotLast, "TV-header %d of %d", i+1, len(hs))
			}
			msgOctets = c.Content[:offsets[i]]
		}
		p, err := parse(h.Value)
		if err != nil {
			return Message{}, nil, parseErr(err, "TV-header %d: %s", i+1, name)
		}
		m.Parameters = append(m.Parameters, p)
	}
	return m, msgOctets, nil
}

// MarshalMessage encodes m as a container. It refuses a message that
// ParseMessage would refuse: a repeated parameter, "auth" not last, an
// Unknown that shadows a known name, a value outside its grammar, content
// over MaxContentLen octets.
func MarshalMessage(m Message) ([]byte, error) {
	content, err := marshalContent(m.Parameters)
	if err != nil {
		return nil, err
	}
	return MarshalContainer(Container{Identifier: m.Identifier, Content: content})
}

func marshalContent(ps []Parameter) ([]byte, error) {
	hs := make([]TVHeader, len(ps))
	seen := make(map[string]bool, len(ps))
	for i, p := range ps {
		if p == nil {
			return nil, marshalErr(ErrValue, "parameter %d is nil", i+1)
		}
		name := strings.ToLower(p.Name())
		_, known := parsers[name]
		if u, ok := p.(Unknown); ok && known {
			return nil, marshalErr(ErrValue, "parameter %d: Unknown named %q, a known parameter", i+1, u.Header.Name)
		}
		if known && seen[name] {
			return nil, marshalErr(ErrDuplicate, "parameter %d: %s", i+1, name)
		}
		seen[name] = true
		if name == "auth" && i != len(ps)-1 {
			return nil, marshalErr(ErrAuthNotLast, "parameter %d of %d", i+1, len(ps))
		}
		v, err := p.value()
		if err != nil {
			return nil, marshalErr(err, "parameter %d: %s", i+1, name)
		}
		hs[i] = TVHeader{Name: p.Name(), Value: v}
	}
	return MarshalTVHeaders(hs)
}

// Find returns the first parameter of type T in m.
func Find[T Parameter](m Message) (T, bool) {
	for _, p := range m.Parameters {
		if t, ok := p.(T); ok {
			return t, true
		}
	}
	var zero T
	return zero, false
}
