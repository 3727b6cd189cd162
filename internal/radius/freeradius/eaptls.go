package freeradius

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/fhkey/fhkey/internal/testenv"
)

// EAPTLSConfig is one FreeRADIUS EAP-TLS server (RFC 5216, RFC 9190).
type EAPTLSConfig struct {
	// Dir is the private configuration directory (it must exist).
	Dir string
	// Listen is the authentication address (IPv4 loopback in tests).
	Listen netip.AddrPort
	// Client is the authenticators' source address and ClientSecret the
	// secret they share with the server (Message-Authenticator required).
	Client       netip.Addr
	ClientSecret []byte
	// CA, Certificate and Key are PEM: the CA peers' certificates must
	// chain to, the server's certificate and its private key.
	CA, Certificate, Key []byte
	// MaxVersion is tls_max_version ("1.2" or "1.3"; default "1.3").
	MaxVersion string
}

// StartEAPTLS writes the configuration (the eap module with tls only, no
// session cache) and starts `freeradius -f -X -d DIR`, ready when it says
// "Ready to process requests". Stop it with the returned Server's Stop.
func StartEAPTLS(ctx context.Context, cfg EAPTLSConfig) (*testenv.Server, error) {
	if cfg.MaxVersion == "" {
		cfg.MaxVersion = "1.3"
	}
	repl := strings.NewReplacer("{{DIR}}", cfg.Dir, "{{ADDR}}", cfg.Listen.Addr().String(),
		"{{PORT}}", fmt.Sprint(cfg.Listen.Port()), "{{MAXVERSION}}", cfg.MaxVersion)
	files := map[string][]byte{
		"radiusd.conf": []byte(repl.Replace(eapTLSConf)),
		"clients.conf": []byte(strings.NewReplacer("{{CLIENT}}", cfg.Client.String(), "{{SECRET}}", string(cfg.ClientSecret)).Replace(clientsConf)),
		"dictionary":   []byte("# the system dictionary only\n"),
		"ca.pem":       cfg.CA,
		"server.pem":   cfg.Certificate,
		"server.key":   cfg.Key,
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(cfg.Dir, name), b, 0o600); err != nil {
			return nil, err
		}
	}
	return testenv.StartServer(ctx, "freeradius", cfg.Dir, testenv.OutputContains("Ready to process requests"),
		"freeradius", "-f", "-X", "-d", cfg.Dir)
}

const eapTLSConf = `# written by internal/radius/freeradius (EAP-TLS server)
` + radiusdHeader + `proxy_requests = no
$INCLUDE clients.conf
thread pool {
	start_servers = 1
	max_servers = 4
	min_spare_servers = 1
	max_spare_servers = 4
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
