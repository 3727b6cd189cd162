package config

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fhkey/fhkey/hokey"
)

// Defaults and bounds of the [aaa] sections (docs/aaa.md, docs/deployment.md).
const (
	// DefaultRADIUSTimeout is how long one Access-Request waits for its
	// answer before it is retransmitted (radius.ClientConfig.Timeout).
	DefaultRADIUSTimeout = time.Second
	// DefaultRADIUSTries is the transmissions to one home server before
	// the next is tried (radius.ClientConfig.Tries).
	DefaultRADIUSTries = 3
	// RADIUSIdentifiers is the Identifier space of one RADIUS socket: the
	// RADIUS client holds one socket per home server, so at most this
	// many requests per server wait at once.
	RADIUSIdentifiers = 256
	// DefaultAAAMaxPending bounds the HKReqs waiting for the HKS: one
	// socket's Identifiers.
	DefaultAAAMaxPending = RADIUSIdentifiers
	// DefaultHKSTimeout bounds one request to the HKS, retransmissions
	// and failovers included (ar.DefaultHKSTimeout).
	DefaultHKSTimeout = 10 * time.Second
	// DefaultRealm is the realm name of the home servers used for NAIs
	// of any other realm.
	DefaultRealm = "*"
)

// RADIUSServer is a home server of a realm: a RADIUS server (the HKS or a
// proxy in front of it) and the file of the secret shared with it.
type RADIUSServer struct {
	Address    netip.AddrPort
	SecretFile string
}

// AAARealm routes the HKReqs of MNs whose NAI has realm Name (the part
// after the last '@', without regard to case; DefaultRealm: every other
// realm) to Servers, tried in order.
type AAARealm struct {
	Name    string
	Servers []RADIUSServer
}

// ARAAA is the [aaa] section of ar.toml: the shared-key mode of
// draft-vidya-mipshop-handover-keys-aaa-04 (docs/aaa.md, The access
// router), the router a RADIUS client of the Handover Key Servers.
type ARAAA struct {
	Realms []AAARealm
	// Timeout and Tries are the RADIUS retransmission timer and count per
	// home server.
	Timeout time.Duration
	Tries   int
	// MaxPending bounds the HKReqs waiting for the HKS (ar.AAAConfig and
	// radius.ClientConfig), at most RADIUSIdentifiers per home server.
	MaxPending int
	// HKSTimeout bounds one request to the HKS, every retransmission and
	// failover included.
	HKSTimeout time.Duration
	// Prefixes are the on-link prefixes a Key Care-of Address must be in
	// (the CoA check, §6.3); default the router's prefixes.
	Prefixes []netip.Prefix
	// NASIdentifier, when set, is sent as NAS-Identifier instead of the
	// router's address as NAS-IPv6-Address (RFC 2865 §4.1).
	NASIdentifier string
}

// Servers returns every distinct home server of a.
func (a *ARAAA) Servers() []RADIUSServer {
	var out []RADIUSServer
	for _, r := range a.Realms {
		for _, s := range r.Servers {
			if !slices.ContainsFunc(out, func(o RADIUSServer) bool { return o.Address == s.Address }) {
				out = append(out, s)
			}
		}
	}
	return out
}

type rawARAAA struct {
	Realms []struct {
		Name    string `toml:"name"`
		Servers []struct {
			Address    string `toml:"address"`
			SecretFile string `toml:"secret_file"`
		} `toml:"servers"`
	} `toml:"realms"`
	Timeout       string   `toml:"timeout"`
	Tries         *int     `toml:"tries"`
	MaxPending    *int     `toml:"max_pending"`
	HKSTimeout    string   `toml:"hks_timeout"`
	Prefixes      []string `toml:"prefixes"`
	NASIdentifier string   `toml:"nas_identifier"`
}

// arAAASection validates [aaa] of ar.toml; prefixes are the router's.
func (c *collector) arAAASection(r *rawARAAA, dir string, prefixes []netip.Prefix) *ARAAA {
	if r == nil {
		return nil
	}
	a := &ARAAA{}
	if len(r.Realms) == 0 {
		c.addf("aaa.realms", ErrMissing, "at least one realm (name = \"example.com\" or \"*\") with its servers required")
	}
	servers := map[netip.AddrPort]string{} // address → secret file
	for i, rr := range r.Realms {
		k := fmt.Sprintf("aaa.realms[%d]", i)
		realm := AAARealm{Name: strings.ToLower(rr.Name)}
		switch {
		case rr.Name == "":
			c.addf(k+".name", ErrMissing, "required: an NAI realm such as \"example.com\", or \"*\" for every other realm")
		case strings.ContainsAny(rr.Name, "@ \t") || len(rr.Name) > 253:
			c.addf(k+".name", ErrInvalid, "%q: want the realm of an NAI (after its '@', RFC 7542 §2.2) or \"*\"", rr.Name)
		case slices.ContainsFunc(a.Realms, func(o AAARealm) bool { return o.Name == realm.Name }):
			c.addf(k+".name", ErrInvalid, "realm %q listed twice", rr.Name)
		}
		if len(rr.Servers) == 0 {
			c.addf(k+".servers", ErrMissing, "at least one server { address = \"IP:PORT\", secret_file = \"...\" } required")
		}
		for j, rs := range rr.Servers {
			sk := fmt.Sprintf("%s.servers[%d]", k, j)
			s := RADIUSServer{Address: c.radiusAddress(sk+".address", rs.Address)}
			c.required(sk+".secret_file", rs.SecretFile)
			s.SecretFile = resolve(dir, rs.SecretFile)
			if prev, ok := servers[s.Address]; ok && s.Address.IsValid() && prev != s.SecretFile {
				c.addf(sk+".secret_file", ErrInvalid, "server %s listed with another secret file (%s): one server, one secret", s.Address, prev)
			}
			if s.Address.IsValid() {
				servers[s.Address] = s.SecretFile
			}
			realm.Servers = append(realm.Servers, s)
		}
		a.Realms = append(a.Realms, realm)
	}
	a.Timeout = c.duration("aaa.timeout", r.Timeout, DefaultRADIUSTimeout, 10*time.Millisecond, time.Minute)
	a.Tries = c.intRange("aaa.tries", r.Tries, DefaultRADIUSTries, 1, 10)
	// The RADIUS client has one socket per home server, each with 256
	// Identifiers: more pending requests than that would be refused by
	// the client (radius.ErrTooManyPending) after the router let them in.
	limit := RADIUSIdentifiers * max(1, len(servers))
	a.MaxPending = c.intRange("aaa.max_pending", r.MaxPending, min(DefaultAAAMaxPending, limit), 1, limit)
	a.HKSTimeout = c.duration("aaa.hks_timeout", r.HKSTimeout, DefaultHKSTimeout, time.Second, 5*time.Minute)
	if r.Prefixes == nil {
		a.Prefixes = slices.Clone(prefixes)
	}
	for i, s := range r.Prefixes {
		if p := c.prefix(fmt.Sprintf("aaa.prefixes[%d]", i), s); p.IsValid() {
			a.Prefixes = append(a.Prefixes, p)
		}
	}
	if r.Prefixes != nil && len(r.Prefixes) == 0 {
		c.addf("aaa.prefixes", ErrMissing, "at least one on-link prefix required (leave it out to use prefixes)")
	}
	if len(r.NASIdentifier) > 253 {
		c.addf("aaa.nas_identifier", ErrInvalid, "%d octets, at most 253", len(r.NASIdentifier))
	}
	a.NASIdentifier = r.NASIdentifier
	return a
}

// MNAAA is the [aaa] section of mn.toml: the node shares a Handover
// Master Key with a Handover Key Server and asks access routers for
// handover keys with HKReqs (docs/aaa.md, The mobile node).
type MNAAA struct {
	// NAI is the MN ID (RFC 4282), 1 to 254 octets.
	NAI string
	// HMKFile holds the Handover Master Key (LoadHMK).
	HMKFile string
	// PRF and MAC are the algorithms requested (§5.1.1, §5.2.2).
	PRF hokey.PRF
	MAC hokey.MACAlgorithm
	// Routers are the access routers asked for keys on the node's link,
	// by the address the HKReq goes to, which is the AR ID of the key
	// (§6.1.2); default access_routers. NewRouters are those of the
	// [handover] link (default handover.access_routers; may be empty).
	Routers, NewRouters []netip.Addr
}

type rawMNAAA struct {
	NAI        string   `toml:"nai"`
	HMKFile    string   `toml:"hmk_file"`
	PRF        string   `toml:"prf"`
	MAC        *int     `toml:"mac"`
	Routers    []string `toml:"routers"`
	NewRouters []string `toml:"new_routers"`
}

// mnAAASection validates [aaa] of mn.toml; routers and newRouters are
// access_routers and handover.access_routers.
func (c *collector) mnAAASection(r *rawMNAAA, dir string, routers, newRouters []netip.Addr) *MNAAA {
	if r == nil {
		return nil
	}
	a := &MNAAA{NAI: r.NAI, PRF: hokey.PRFHMACSHA256, MAC: hokey.MACHMACSHA256}
	switch {
	case r.NAI == "":
		c.addf("aaa.nai", ErrMissing, "required: the node's NAI, such as \"mn@example.com\"")
	case len(r.NAI) > hokey.MaxNAILen:
		c.addf("aaa.nai", ErrInvalid, "%d octets, at most %d (RFC 4283)", len(r.NAI), hokey.MaxNAILen)
	}
	c.required("aaa.hmk_file", r.HMKFile)
	a.HMKFile = resolve(dir, r.HMKFile)
	if r.PRF != "" {
		a.PRF = 0
		for v := hokey.PRF(1); v < 16; v++ {
			if v.Valid() && (strings.EqualFold(r.PRF, v.String()) || r.PRF == strconv.Itoa(int(v))) {
				a.PRF = v
			}
		}
		if a.PRF == 0 {
			a.PRF = hokey.PRFHMACSHA256
			c.addf("aaa.prf", ErrInvalid, "%q: want \"HMAC-SHA256\" (2) or \"HMAC-SHA1\" (1)", r.PRF)
		}
	}
	if r.MAC != nil {
		if m := hokey.MACAlgorithm(*r.MAC); *r.MAC >= 0 && *r.MAC < 16 && m.Valid() {
			a.MAC = m
		} else {
			c.addf("aaa.mac", ErrInvalid, "%d: want 2 (HMAC-SHA256) or 1 (HMAC-SHA1)", *r.MAC)
		}
	}
	a.Routers = routers
	if r.Routers != nil {
		a.Routers = c.routerList("aaa.routers", r.Routers)
	}
	if len(a.Routers) == 0 {
		c.addf("aaa.routers", ErrMissing, "at least one access router address required (or access_routers): an HKReq goes to a unicast address, the AR ID of the key (§6.1.2)")
	}
	a.NewRouters = newRouters
	if r.NewRouters != nil {
		a.NewRouters = c.routerList("aaa.new_routers", r.NewRouters)
	}
	return a
}

// hasTable reports whether the document sets table or a key in it.
func (c *collector) hasTable(table string) bool {
	for k := range c.lines {
		if k == table || strings.HasPrefix(k, table+".") {
			return true
		}
	}
	return false
}

// loadRADIUSSecrets reads the secret file of every home server of a
// (LoadSecret: mode 0600 or stricter), once per server.
func (c *collector) loadRADIUSSecrets(a *ARAAA) map[netip.AddrPort][]byte {
	if a == nil {
		return nil
	}
	out := map[netip.AddrPort][]byte{}
	for i, r := range a.Realms {
		for j, s := range r.Servers {
			if _, done := out[s.Address]; done || s.SecretFile == "" {
				continue
			}
			b, err := LoadSecret(s.SecretFile)
			if err != nil {
				c.add(fmt.Sprintf("aaa.realms[%d].servers[%d].secret_file", i, j), err)
				continue
			}
			out[s.Address] = b
		}
	}
	return out
}
