// Package freeradius starts FreeRADIUS 3.2 as a realm proxy between
// fhkey's RADIUS client (the access router) and a Handover Key Server,
// from a private configuration directory built on
// examples/freeradius/proxy.conf and examples/dictionary.fhkey
// (docs/aaa.md, "FreeRADIUS in between"). The interop tests of
// internal/radius and the testbed runs of internal/e2e use it.
package freeradius

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/fhkey/fhkey/internal/testenv"
)

// Config is one FreeRADIUS proxy.
type Config struct {
	// Dir is the private configuration directory (it must exist); its
	// files are written there.
	Dir string
	// Examples is the repository's examples directory (proxy.conf and
	// dictionary.fhkey are read from it).
	Examples string
	// Listen is the proxy's authentication address (IPv4).
	Listen netip.AddrPort
	// Client is the access routers' source address and ClientSecret the
	// secret they share with the proxy (Message-Authenticator required).
	Client       netip.Addr
	ClientSecret []byte
	// HKS is the home server of realm example.com and HKSSecret its
	// secret: proxy.conf's ipaddr, port and secret are replaced.
	HKS       netip.AddrPort
	HKSSecret []byte
	// HomeServer replaces other settings of proxy.conf's home_server
	// (for instance "response_window" = "1"); each must be there once.
	HomeServer map[string]string
	// Command prefixes the freeradius command line, for instance
	// ip netns exec NAMESPACE; nil runs it directly.
	Command []string
}

// Start writes the configuration and starts `freeradius -f -X -d DIR`,
// ready when it says "Ready to process requests". Stop it with the
// returned Server's Stop (by its PID).
func Start(ctx context.Context, cfg Config) (*testenv.Server, error) {
	proxy, err := ProxyConf(filepath.Join(cfg.Examples, "freeradius", "proxy.conf"), cfg.HKS, cfg.HKSSecret, cfg.HomeServer)
	if err != nil {
		return nil, err
	}
	files := map[string]string{
		"radiusd.conf": strings.NewReplacer("{{DIR}}", cfg.Dir, "{{ADDR}}", cfg.Listen.Addr().String(), "{{PORT}}", fmt.Sprint(cfg.Listen.Port())).Replace(radiusdConf),
		"clients.conf": strings.NewReplacer("{{CLIENT}}", cfg.Client.String(), "{{SECRET}}", string(cfg.ClientSecret)).Replace(clientsConf),
		"proxy.conf":   proxy,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(cfg.Dir, name), []byte(text), 0o600); err != nil {
			return nil, err
		}
	}
	if err := DictionaryDir(cfg.Dir, cfg.Examples); err != nil {
		return nil, err
	}
	argv := append(slices.Clone(cfg.Command), "freeradius", "-f", "-X", "-d", cfg.Dir)
	return testenv.StartServer(ctx, "freeradius", cfg.Dir, testenv.OutputContains("Ready to process requests"), argv...)
}

// DictionaryDir writes a dictionary directory for FreeRADIUS or radclient
// -d: the system dictionary is read from its own directory, then this
// one's "dictionary", which includes examples/dictionary.fhkey.
func DictionaryDir(dir, examples string) error {
	abs, err := filepath.Abs(filepath.Join(examples, "dictionary.fhkey"))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "dictionary"), []byte("$INCLUDE "+abs+"\n"), 0o600)
}

// ProxyConf is the proxy.conf file with the home server's ipaddr, port and
// secret replaced by hks's, and the other settings of set.
func ProxyConf(file string, hks netip.AddrPort, secret []byte, set map[string]string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	s := string(b)
	repl := map[string]string{"ipaddr": hks.Addr().String(), "port": fmt.Sprint(hks.Port()), "secret": string(secret)}
	for k, v := range set {
		repl[k] = v
	}
	for key, value := range repl {
		re := regexp.MustCompile(`(?m)^(\s*` + regexp.QuoteMeta(key) + `\s*=\s*)\S+$`)
		if n := len(re.FindAllStringIndex(s, -1)); n != 1 {
			return "", fmt.Errorf("freeradius: proxy.conf: %d lines %q, want 1", n, key)
		}
		s = re.ReplaceAllString(s, "${1}"+value)
	}
	return s, nil
}

// radiusdHeader is the start of every radiusd.conf written here: paths
// into the private directory, log to stdout.
const radiusdHeader = `prefix = /usr
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
max_requests = 1024
hostname_lookups = no
log {
	destination = stdout
	colourise = no
	auth = yes
}
security {
	allow_core_dumps = no
	max_attributes = 200
	reject_delay = 0
	status_server = yes
}
`

const radiusdConf = `# written by internal/radius/freeradius
` + radiusdHeader + `proxy_requests = yes
$INCLUDE proxy.conf
$INCLUDE clients.conf
thread pool {
	start_servers = 1
	max_servers = 4
	min_spare_servers = 1
	max_spare_servers = 4
	max_requests_per_server = 0
}
modules {
	realm suffix {
		format = suffix
		delimiter = "@"
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
	# A realm proxy.conf does not list is not served: no answer.
	authorize {
		suffix
		if (!&control:Proxy-To-Realm) {
			update control {
				&Response-Packet-Type := Do-Not-Respond
			}
			handled
		}
	}
	authenticate {
	}
	post-proxy {
	}
}
`

const clientsConf = `client ar {
	ipaddr = {{CLIENT}}
	secret = {{SECRET}}
	require_message_authenticator = yes
}
`
