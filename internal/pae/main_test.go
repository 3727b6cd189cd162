package pae_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/fhkey/fhkey/internal/testenv"
)

// One FreeRADIUS EAP-TLS server per test binary (TestMain), on loopback,
// from a private directory, with the test PKI's certificates.
var freeRADIUS = testenv.NewEAPTLSServer([]byte("pae-interop-secret"))

func TestMain(m *testing.M) {
	code := m.Run()
	if err := freeRADIUS.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}
