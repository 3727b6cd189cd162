package pae_test

import (
	"testing"

	"github.com/fhkey/fhkey/internal/eap/eaptest"
)

// One FreeRADIUS EAP-TLS server per test binary (TestMain), on loopback,
// from a private directory, with the test PKI's certificates.
var freeRADIUS = eaptest.NewFreeRADIUS("pae-interop-secret")

func TestMain(m *testing.M) { freeRADIUS.Main(m) }
