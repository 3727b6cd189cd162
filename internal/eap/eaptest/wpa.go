package eaptest

import (
	"os"
	"path/filepath"
	"testing"
)

// TLS version choices of wpa_supplicant's and eapol_test's phase1.
const (
	PhaseTLS12 = "tls_disable_tlsv1_3=1"
	PhaseTLS13 = "tls_disable_tlsv1_0=1 tls_disable_tlsv1_1=1 tls_disable_tlsv1_2=1 tls_disable_tlsv1_3=0"
)

// WriteEAPTLSConfig writes into dir the CA, client's certificate and key
// and a wpa_supplicant (or eapol_test) configuration file, dir/name, of
// an EAP-TLS peer with identity mn@example.com that verifies the server
// as ServerName, with head before the network block, the given phase1
// and network (lines of "field=value\n", or "") added to the block; it
// returns the file's path.
func (p *PKI) WriteEAPTLSConfig(tb testing.TB, dir, name string, client *Cert, head, phase1, network string) string {
	tb.Helper()
	for file, b := range map[string][]byte{"ca.pem": p.CA.CertPEM, "client.pem": client.CertPEM, "client.key": client.KeyPEM} {
		if err := os.WriteFile(filepath.Join(dir, file), b, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	conf := filepath.Join(dir, name)
	if err := os.WriteFile(conf, []byte(head+`network={
	key_mgmt=IEEE8021X
	eap=TLS
	identity="mn@example.com"
	ca_cert="`+dir+`/ca.pem"
	domain_match="`+ServerName+`"
	client_cert="`+dir+`/client.pem"
	private_key="`+dir+`/client.key"
	phase1="`+phase1+`"
	eapol_flags=0
`+network+`}
`), 0o600); err != nil {
		tb.Fatal(err)
	}
	return conf
}
