package mip6tls

import (
	"encoding/binary"
	"net/netip"
	"strings"
)

// Message is one request or response (RFC 6618 §5.1-§5.3): the container's
// Identifier and the content's parameters in wire order.
type Message struct {
	Identifier uint8
	Parameters []Parameter
}

// parsers are the TV-headers this package knows: the lower-case name and
// the parser of the value, which reads the received octets in place.
var parsers = [...]struct {
	name  string
	parse func([]byte) (Parameter, error)
}{
	{"mn-id", func(v []byte) (Parameter, error) { s := string(v); return MNIdentifier(s), checkNAI(s) }},
	{"auth-method", parseAuthMethods},
	{"eap-payload", func(v []byte) (Parameter, error) { b, err := parseHex(v); return EAPPayload(b), err }},
	{"status-code", parseStatusCode},
	{"auth", func(v []byte) (Parameter, error) {
		var a MessageAuthenticator
		return a, parseFixedHex(a[:], v)
	}},
	{"retry-after", func(v []byte) (Parameter, error) { t, err := parseRFC1123(v); return RetryAfter{t}, err }},
	{"mn-rand", func(v []byte) (Parameter, error) {
		var r MNRand
		err := parseFixedHex(r[:], v)
		return r, err
	}},
	{"hac-rand", func(v []byte) (Parameter, error) {
		var r HACRand
		err := parseFixedHex(r[:], v)
		return r, err
	}},
	{"mip6-spi", parseSPI},
	{"mip6-mn-to-ha-ikey", keyParser(MNToHA, IntegrityKey)},
	{"mip6-ha-to-mn-ikey", keyParser(HAToMN, IntegrityKey)},
	{"mip6-mn-to-ha-ekey", keyParser(MNToHA, EncryptionKey)},
	{"mip6-ha-to-mn-ekey", keyParser(HAToMN, EncryptionKey)},
	{"mip6-sa-validity-end", func(v []byte) (Parameter, error) { t, err := parseRFC1123(v); return SAValidityEnd{t}, err }},
	{"mip6-sas", parseSAScope},
	{"mip6-ciphersuite", parseCipherSuite},
	{"mip6-suitelist", parseCipherSuiteList},
	{"mip6-haa-ip6", addrParser(true, func(a netip.Addr) Parameter { return HomeAgentAddress{a} })},
	{"mip6-haa-ip4", addrParser(false, func(a netip.Addr) Parameter { return HomeAgentAddress{a} })},
	{"mip6-port", parseServicePort},
	{"mip6-ip6-hoa", addrParser(true, func(a netip.Addr) Parameter { return HomeAddress{a} })},
	{"mip6-ip4-hoa", addrParser(false, func(a netip.Addr) Parameter { return HomeAddress{a} })},
	{"mip6-ip6-hnp", prefixParser(true)},
	{"mip6-ip4-hnp", prefixParser(false)},
	{"dns-ip6", addrParser(true, func(a netip.Addr) Parameter { return DNSServer{a} })},
	{"dns-ip4", addrParser(false, func(a netip.Addr) Parameter { return DNSServer{a} })},
}

// parserIndex maps a name of parsers to its index; authIndex is "auth"'s.
var parserIndex, authIndex = func() (map[string]int, int) {
	m := make(map[string]int, len(parsers))
	for i, p := range parsers {
		m[p.name] = i
	}
	return m, m["auth"]
}()

// seenNames is a set of indexes of parsers, one bit each.
type seenNames uint32

// The set must have a bit for every known name.
var _ = [32 - len(parsers)]struct{}{}

// add records index i and reports whether it was new.
func (s *seenNames) add(i int) bool {
	bit := seenNames(1) << i
	if *s&bit != 0 {
		return false
	}
	*s |= bit
	return true
}

// lookupParser finds a TV-header name in parsers, case-insensitively
// (RFC 2616 §2.1), without allocating: names as the RFC spells them are
// looked up as they are, others lowered into a stack buffer first (a name
// longer than it is no known name).
func lookupParser[T string | []byte](name T) (int, bool) {
	if i, ok := parserIndex[string(name)]; ok {
		return i, true
	}
	var buf [24]byte
	if len(name) > len(buf) {
		return 0, false
	}
	lower := buf[:len(name)]
	changed := false
	for i := range len(name) {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
			changed = true
		}
		lower[i] = c
	}
	if !changed {
		return 0, false
	}
	i, ok := parserIndex[string(lower)]
	return i, ok
}

func addrParser(ip6 bool, wrap func(netip.Addr) Parameter) func([]byte) (Parameter, error) {
	return func(v []byte) (Parameter, error) {
		a, err := parseAddr(v, ip6)
		if err != nil {
			return nil, err
		}
		return wrap(a), nil
	}
}

func prefixParser(ip6 bool) func([]byte) (Parameter, error) {
	return func(v []byte) (Parameter, error) {
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
// message carries auth (nil otherwise), aliasing b. It reads the content in
// one pass and in place: the values are decoded from b (the keys straight
// into their arrays), and only an mn-id, an Unknown header and an
// eap-payload are copied out of it.
func parseMessage(b []byte) (Message, []byte, error) {
	c, err := ParseContainer(b)
	if err != nil {
		return Message{}, nil, err
	}
	m := Message{Identifier: c.Identifier, Parameters: make([]Parameter, 0, headerCapacity(c.Content))}
	var msgOctets []byte
	var seen seenNames
	// The first error of a parameter is returned once the whole content
	// has been read: an error of the TV-header syntax, anywhere, comes
	// first.
	var first error
	authAt, total := 0, 0
	err = scanTVHeaders(c.Content, func(n, offset int, name, value []byte, last bool) error {
		total = n
		if first != nil || authAt != 0 {
			return nil
		}
		i, known := lookupParser(name)
		if !known {
			m.Parameters = append(m.Parameters, Unknown{TVHeader{Name: string(name), Value: string(value)}})
			return nil
		}
		if !seen.add(i) {
			first = parseErr(ErrDuplicate, "TV-header %d: %s", n, parsers[i].name)
			return nil
		}
		if i == authIndex {
			if !last {
				authAt = n
				return nil
			}
			msgOctets = c.Content[:offset]
		}
		p, err := parsers[i].parse(value)
		if err != nil {
			first = parseErr(err, "TV-header %d: %s", n, parsers[i].name)
			return nil
		}
		m.Parameters = append(m.Parameters, p)
		return nil
	})
	switch {
	case err != nil:
		return Message{}, nil, err
	case first != nil:
		return Message{}, nil, first
	case authAt != 0:
		return Message{}, nil, parseErr(ErrAuthNotLast, "TV-header %d of %d", authAt, total)
	}
	return m, msgOctets, nil
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
	var seen seenNames
	for i, p := range ps {
		if p == nil {
			return nil, marshalErr(ErrValue, "parameter %d is nil", i+1)
		}
		name := p.Name()
		idx, known := lookupParser(name)
		if u, ok := p.(Unknown); ok && known {
			return nil, marshalErr(ErrValue, "parameter %d: Unknown named %q, a known parameter", i+1, u.Header.Name)
		}
		if known && !seen.add(idx) {
			return nil, marshalErr(ErrDuplicate, "parameter %d: %s", i+1, parsers[idx].name)
		}
		if known && idx == authIndex && i != len(ps)-1 {
			return nil, marshalErr(ErrAuthNotLast, "parameter %d of %d", i+1, len(ps))
		}
		start := len(b)
		b = append(b, name...)
		b = append(b, ':')
		valueStart := len(b)
		var err error
		if b, err = p.appendValue(b); err != nil {
			return nil, marshalErr(err, "parameter %d: %s", i+1, strings.ToLower(name))
		}
		if err := checkTVHeaderOut(b[start:valueStart-1], b[valueStart:]); err != nil {
			return nil, marshalErr(err, "TV-header %d", i+1)
		}
		b = append(b, crlf...)
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
