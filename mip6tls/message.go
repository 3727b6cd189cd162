package mip6tls

import (
	"encoding/binary"
	"net/netip"
	"slices"
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
	var seen knownNames
	for i, h := range hs {
		name := strings.ToLower(h.Name)
		parse, known := parsers[name]
		if !known {
			m.Parameters = append(m.Parameters, Unknown{h})
			continue
		}
		if !seen.add(name) {
			return Message{}, nil, parseErr(ErrDuplicate, "TV-header %d: %s", i+1, name)
		}
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

// knownNames are the known parameter names a message has carried so far:
// at most one each, so never more than len(parsers), kept on the stack.
type knownNames struct {
	buf   [32]string
	names []string
}

// add records name and reports whether it was new.
func (k *knownNames) add(name string) bool {
	if slices.Contains(k.names, name) {
		return false
	}
	if k.names == nil {
		k.names = k.buf[:0]
	}
	k.names = append(k.names, name)
	return true
}

// MarshalMessage encodes m as a container. It refuses a message that
// ParseMessage would refuse: a repeated parameter, "auth" not last, an
// Unknown that shadows a known name, a value outside its grammar, content
// over MaxContentLen octets.
func MarshalMessage(m Message) ([]byte, error) {
	b, err := appendContent(make([]byte, ContainerHeaderLen, 512), m.Parameters)
	if err != nil {
		return nil, err
	}
	return finishContainer(b, m.Identifier)
}

// finishContainer fills in the header of b, a container whose content
// follows ContainerHeaderLen reserved octets, with the checks of
// MarshalContainer.
func finishContainer(b []byte, identifier uint8) ([]byte, error) {
	if identifier == 0 {
		return nil, marshalErr(ErrIdentifier, "container Identifier")
	}
	n := len(b) - ContainerHeaderLen
	if n == 0 || n > MaxContentLen {
		return nil, marshalErr(ErrLength, "content portion of %d octets (1..%d)", n, MaxContentLen)
	}
	b[0] = Version << 5
	b[1] = identifier
	binary.BigEndian.PutUint16(b[2:4], uint16(n))
	return b, nil
}

// appendContent appends the TV-headers of ps and end-of-message to b.
func appendContent(b []byte, ps []Parameter) ([]byte, error) {
	var seen knownNames
	for i, p := range ps {
		if p == nil {
			return nil, marshalErr(ErrValue, "parameter %d is nil", i+1)
		}
		name := strings.ToLower(p.Name())
		_, known := parsers[name]
		if u, ok := p.(Unknown); ok && known {
			return nil, marshalErr(ErrValue, "parameter %d: Unknown named %q, a known parameter", i+1, u.Header.Name)
		}
		if known && !seen.add(name) {
			return nil, marshalErr(ErrDuplicate, "parameter %d: %s", i+1, name)
		}
		if name == "auth" && i != len(ps)-1 {
			return nil, marshalErr(ErrAuthNotLast, "parameter %d of %d", i+1, len(ps))
		}
		v, err := p.value()
		if err != nil {
			return nil, marshalErr(err, "parameter %d: %s", i+1, name)
		}
		if b, err = appendTVHeader(b, TVHeader{Name: p.Name(), Value: v}); err != nil {
			return nil, marshalErr(err, "TV-header %d", i+1)
		}
	}
	return append(b, EndOfMessage...), nil
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
