package hacclient

import (
	"bytes"
	"crypto/tls"
	"errors"
	"testing"
)

// TestTLSConfig: the MN's TLS configuration is refused below TLS 1.2,
// without verification or without a server name; it gets TLS 1.2 as the
// floor, no renegotiation and the key log, on a copy, and is used as it
// is when it needs none of them.
func TestTLSConfig(t *testing.T) {
	for _, c := range []struct {
		name string
		tls  *tls.Config
	}{
		{"none", nil},
		{"no server name", &tls.Config{MinVersion: tls.VersionTLS13}},
		{"TLS 1.1", &tls.Config{ServerName: "hac", MinVersion: tls.VersionTLS11}},
		{"no verification", &tls.Config{ServerName: "hac", InsecureSkipVerify: true}},
	} {
		if _, err := (&Config{TLS: c.tls}).tlsConfig(); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", c.name, err)
		}
	}

	ready := &tls.Config{ServerName: "hac", MinVersion: tls.VersionTLS13}
	if got, err := (&Config{TLS: ready}).tlsConfig(); err != nil || got != ready {
		t.Errorf("a configuration that needs no change: %p, %v; want the caller's %p", got, err, ready)
	}

	var keyLog bytes.Buffer
	for _, c := range []struct {
		name   string
		cfg    Config
		min    uint16
		keyLog bool
	}{
		{"no MinVersion", Config{TLS: &tls.Config{ServerName: "hac"}}, tls.VersionTLS12, false},
		{"renegotiation", Config{TLS: &tls.Config{ServerName: "hac", MinVersion: tls.VersionTLS13,
			Renegotiation: tls.RenegotiateFreelyAsClient}}, tls.VersionTLS13, false},
		{"key log", Config{TLS: ready, KeyLog: &keyLog}, tls.VersionTLS13, true},
	} {
		min, reneg := c.cfg.TLS.MinVersion, c.cfg.TLS.Renegotiation
		got, err := c.cfg.tlsConfig()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got == c.cfg.TLS {
			t.Errorf("%s: the caller's configuration was returned, want a copy", c.name)
		}
		if got.MinVersion != c.min || got.Renegotiation != tls.RenegotiateNever || (got.KeyLogWriter != nil) != c.keyLog {
			t.Errorf("%s: MinVersion %#x, Renegotiation %d, key log %v", c.name, got.MinVersion, got.Renegotiation, got.KeyLogWriter != nil)
		}
		if c.cfg.TLS.MinVersion != min || c.cfg.TLS.Renegotiation != reneg || c.cfg.TLS.KeyLogWriter != nil {
			t.Errorf("%s: the caller's configuration was changed", c.name)
		}
	}
}
