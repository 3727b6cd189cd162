package peer

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// FreeRADIUSClient is a RADIUS client FreeRADIUS answers (clients.conf).
type FreeRADIUSClient struct {
	Name   string
	Prefix netip.Prefix
	Secret string
	// RequireMessageAuthenticator drops its requests without a valid
	// Message-Authenticator (require_message_authenticator = yes).
	RequireMessageAuthenticator bool
}

// FreeRADIUS is a FreeRADIUS 3.2 server run from a private directory:
// its own radiusd.conf, clients.conf, proxy.conf and dictionary, never
// the system's configuration. Requests for a realm of Proxy are proxied;
// otherwise a User-Name of PAPUsers is authenticated by PAP (the pap
// module against the Cleartext-Password given here); anything else gets
// no answer.
type FreeRADIUS struct {
	// Dir is the configuration directory (it must exist), also its log,
	// run and state directory.
	Dir string
	// Listen is the authentication address (127.0.0.1:PORT).
	Listen  netip.AddrPort
	Clients []FreeRADIUSClient
	// Proxy is proxy.conf's content (home servers, pools, realms; e.g.
	// examples/freeradius/proxy.conf or ProxyConf); empty: no realm.
	Proxy string
	// PAPUsers maps a User-Name to its password.
	PAPUsers map[string]string
	// SignedPAPUsers are users of PAPUsers whose Access-Accept carries a
	// Message-Authenticator, as FreeRADIUS 3.2.5 and later put in every
	// Access-Accept (its BlastRADIUS mitigation, src/lib/radius.c
	// code2ma); 3.2.1 sends one only when the reply asks for it.
	SignedPAPUsers []string
	// Dictionaries are dictionary files' contents (FreeRADIUS format,
	// e.g. radius.FreeRADIUSDictionary), read after the system's.
	Dictionaries []string
	// Debug runs `freeradius -X`: one thread, every request logged (what
	// tests read); otherwise `-f` with a thread pool and only errors and
	// start-up logged (what a benchmark wants).
	Debug bool
	// Command prefixes the freeradius command line, for instance
	// ip netns exec NAMESPACE; nil runs it directly.
	Command []string
	// EAPTLS, when set, makes the server an EAP-TLS server (RFC 5216,
	// RFC 9190) instead of a proxy / PAP server: the eap module with tls
	// only, no session cache.
	EAPTLS *EAPTLSServer
}

// EAPTLSServer is the EAP-TLS side of a FreeRADIUS: PEM of the CA the
// peers' certificates chain to, the server's certificate and its key, and
// tls_max_version ("1.2" or "1.3"; default "1.3").
type EAPTLSServer struct {
	CA, Certificate, Key []byte
	MaxVersion           string
}

// Write writes the configuration files into f.Dir.
func (f *FreeRADIUS) Write() error {
	if !f.Listen.IsValid() {
		return fmt.Errorf("%w: freeradius: no listen address", ErrServer)
	}
	if err := DictionaryDir(f.Dir, f.Dictionaries...); err != nil {
		return err
	}
	var clients strings.Builder
	for _, c := range f.Clients {
		fmt.Fprintf(&clients, "client %s {\n\tipaddr = %s\n\tsecret = %s\n\trequire_message_authenticator = %s\n}\n",
			c.Name, c.Prefix, quote(c.Secret), yesNo(c.RequireMessageAuthenticator))
	}
	proxy := f.Proxy
	if proxy == "" {
		proxy = "proxy server {\n\tdefault_fallback = no\n}\n"
	}
	files := map[string]string{
		"radiusd.conf": f.radiusdConf(),
		"clients.conf": clients.String(),
		"proxy.conf":   proxy,
	}
	if t := f.EAPTLS; t != nil {
		files["ca.pem"], files["server.pem"], files["server.key"] = string(t.CA), string(t.Certificate), string(t.Key)
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(f.Dir, name), []byte(text), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// Start writes the configuration and starts `freeradius` on it, ready
// once it says "Ready to process requests", at most until ctx ends.
func (f *FreeRADIUS) Start(ctx context.Context) (*Server, error) {
	if err := f.Write(); err != nil {
		return nil, err
	}
	mode := "-f"
	if f.Debug {
		mode = "-X"
	}
	argv := append(slices.Clone(f.Command), "freeradius", mode, "-d", f.Dir)
	return StartServer(ctx, "freeradius", f.Dir, OutputContains("Ready to process requests"), argv...)
}

// DictionaryDir writes dir/dictionary for FreeRADIUS or `radclient -d
// dir`: the system dictionary is read from its own directory, then this
// one, which includes dictionaries (written as dictionary.1, ...).
func DictionaryDir(dir string, dictionaries ...string) error {
	var main strings.Builder
	main.WriteString("# written by internal/peer\n")
	for i, d := range dictionaries {
		name := "dictionary." + strconv.Itoa(i+1)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(d), 0o600); err != nil {
			return err
		}
		fmt.Fprintf(&main, "$INCLUDE %s\n", filepath.Join(dir, name))
	}
	return os.WriteFile(filepath.Join(dir, "dictionary"), []byte(main.String()), 0o600)
}

// ProxyConf is a proxy.conf that sends the requests of realm (the NAI's
// suffix after '@', kept whole: nostrip) to the RADIUS server at home
// with secret, as examples/freeradius/proxy.conf does: a fail-over pool
// of one home server checked with Status-Server.
func ProxyConf(realm string, home netip.AddrPort, secret string) string {
	return fmt.Sprintf(`proxy server {
	default_fallback = no
}
home_server home {
	type = auth
	ipaddr = %s
	port = %d
	secret = %s
	response_window = 2
	zombie_period = 10
	revive_interval = 30
	status_check = status-server
	check_interval = 10
	check_timeout = 4
	num_answers_to_alive = 3
}
home_server_pool home {
	type = fail-over
	home_server = home
}
realm %s {
	auth_pool = home
	nostrip
}
`, home.Addr(), home.Port(), quote(secret), realm)
}

func (f *FreeRADIUS) radiusdConf() string {
	threads := "start_servers = 5\n\tmax_servers = 32\n\tmin_spare_servers = 3\n\tmax_spare_servers = 10"
	if f.Debug {
		threads = "start_servers = 1\n\tmax_servers = 4\n\tmin_spare_servers = 1\n\tmax_spare_servers = 4"
	}
	// Inside `if (!&control:Proxy-To-Realm)`: a PAP user's password, or
	// no answer.
	users := make([]string, 0, len(f.PAPUsers))
	for u := range f.PAPUsers {
		users = append(users, u)
	}
	slices.Sort(users)
	noAnswer := "update control {\n\t&Response-Packet-Type := Do-Not-Respond\n}\nhandled\n"
	var pap strings.Builder
	for i, u := range users {
		kw := "elsif"
		if i == 0 {
			kw = "if"
		}
		sign := ""
		if slices.Contains(f.SignedPAPUsers, u) {
			sign = "\tupdate reply {\n\t\t&Message-Authenticator := 0x00\n\t}\n"
		}
		fmt.Fprintf(&pap, "%s (&User-Name == %s) {\n\tupdate control {\n\t\t&Cleartext-Password := %s\n\t}\n%s\tpap\n}\n",
			kw, quote(u), quote(f.PAPUsers[u]), sign)
	}
	if len(users) > 0 {
		pap.WriteString("else {\n" + indent(noAnswer, "\t") + "}\n")
	} else {
		pap.WriteString(noAnswer)
	}
	body, maxVersion := proxyPAPConf, ""
	if f.EAPTLS != nil {
		body, maxVersion = eapTLSConf, f.EAPTLS.MaxVersion
		if maxVersion == "" {
			maxVersion = "1.3"
		}
	}
	return strings.NewReplacer("{{DIR}}", f.Dir, "{{ADDR}}", f.Listen.Addr().String(), "{{PORT}}", strconv.Itoa(int(f.Listen.Port())),
		"{{AUTHLOG}}", yesNo(f.Debug), "{{THREADS}}", threads, "{{PAP}}", indent(pap.String(), "\t\t\t"),
		"{{MAXVERSION}}", maxVersion).Replace(radiusdHeader + body)
}

// indent prefixes every line of s with prefix.
func indent(s, prefix string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		b.WriteString(prefix + line)
	}
	return b.String()
}

// quote is a FreeRADIUS double-quoted string.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// radiusdHeader is the start of every radiusd.conf written here: paths
// into the private directory, log to stdout, no core dumps.
const radiusdHeader = `# written by internal/peer
prefix = /usr
exec_prefix = /usr
sysconfdir = {{DIR}}
localstatedir = {{DIR}}
sbindir = /usr/sbin
logdir = {{DIR}}
raddbdir = {{DIR}}
radacctdir = {{DIR}}
name = freeradius
confdir = {{DIR}}
modconfdir = {{DIR}}
certdir = {{DIR}}
cadir = {{DIR}}
run_dir = {{DIR}}
db_dir = {{DIR}}
libdir = /usr/lib/freeradius
pidfile = {{DIR}}/radiusd.pid
max_request_time = 10
cleanup_delay = 2
max_requests = 16384
hostname_lookups = no
log {
	destination = stdout
	colourise = no
	auth = {{AUTHLOG}}
}
security {
	allow_core_dumps = no
	max_attributes = 200
	reject_delay = 0
	status_server = yes
}
`

// proxyPAPConf is the rest of a proxy / PAP server's radiusd.conf.
const proxyPAPConf = `proxy_requests = yes
$INCLUDE proxy.conf
$INCLUDE clients.conf
thread pool {
	{{THREADS}}
	max_requests_per_server = 0
}
modules {
	realm suffix {
		format = suffix
		delimiter = "@"
	}
	pap {
		normalise = yes
	}
	always handled {
		rcode = handled
	}
}
server default {
	listen {
		type = auth
		ipaddr = {{ADDR}}
		port = {{PORT}}
	}
	# A realm of proxy.conf is proxied; a PAP user is authenticated;
	# anything else is not served: no answer.
	authorize {
		suffix
		if (!&control:Proxy-To-Realm) {
{{PAP}}		}
	}
	authenticate {
		Auth-Type PAP {
			pap
		}
	}
	post-proxy {
	}
}
`

// eapTLSConf is the rest of an EAP-TLS server's radiusd.conf.
const eapTLSConf = `proxy_requests = no
$INCLUDE clients.conf
thread pool {
	{{THREADS}}
	max_requests_per_server = 0
}
modules {
	eap {
		default_eap_type = tls
		timer_expire = 60
		ignore_unknown_eap_types = no
		max_sessions = 64
		tls-config tls-common {
			private_key_file = {{DIR}}/server.key
			certificate_file = {{DIR}}/server.pem
			ca_file = {{DIR}}/ca.pem
			cipher_list = "DEFAULT"
			ecdh_curve = "prime256v1"
			tls_min_version = "1.2"
			tls_max_version = "{{MAXVERSION}}"
			fragment_size = 1024
			include_length = yes
			cache {
				enable = no
			}
			verify {
			}
		}
		tls {
			tls = tls-common
		}
	}
}
server default {
	listen {
		type = auth
		ipaddr = {{ADDR}}
		port = {{PORT}}
	}
	authorize {
		eap {
			ok = return
		}
	}
	authenticate {
		eap
	}
	post-auth {
		Post-Auth-Type REJECT {
			eap
		}
	}
}
`
