// Package freeradius starts FreeRADIUS 3.2 (peer.FreeRADIUS) as a realm proxy between
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

	"github.com/fhkey/fhkey/internal/peer"
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

// Start writes the configuration (peer.FreeRADIUS with proxy.conf from
// examples/freeradius, one AR client with Message-Authenticator required,
// examples/dictionary.fhkey) and starts `freeradius -X -d DIR`, ready when
// it says "Ready to process requests". Stop it with the returned Server's
// Stop (by its PID).
func Start(ctx context.Context, cfg Config) (*peer.Server, error) {
	proxy, err := ProxyConf(filepath.Join(cfg.Examples, "freeradius", "proxy.conf"), cfg.HKS, cfg.HKSSecret, cfg.HomeServer)
	if err != nil {
		return nil, err
	}
	dict, err := os.ReadFile(filepath.Join(cfg.Examples, "dictionary.fhkey"))
	if err != nil {
		return nil, err
	}
	fr := &peer.FreeRADIUS{
		Dir: cfg.Dir, Listen: cfg.Listen, Proxy: proxy, Dictionaries: []string{string(dict)}, Debug: true, Command: cfg.Command,
		Clients: []peer.FreeRADIUSClient{{Name: "ar", Prefix: netip.PrefixFrom(cfg.Client, cfg.Client.BitLen()),
			Secret: string(cfg.ClientSecret), RequireMessageAuthenticator: true}},
	}
	return fr.Start(ctx)
}

// DictionaryDir writes a dictionary directory for FreeRADIUS or radclient
// -d that reads the system dictionary, then examples/dictionary.fhkey.
func DictionaryDir(dir, examples string) error {
	dict, err := os.ReadFile(filepath.Join(examples, "dictionary.fhkey"))
	if err != nil {
		return err
	}
	return peer.DictionaryDir(dir, string(dict))
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
