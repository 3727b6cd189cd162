package mip6tls

import "testing"

// TestMessageAllocs bounds the allocations of the largest PSK message
// (message 4: full SA and bootstrapping data) so that the parse and
// marshal paths stay lean (docs/tls.md, "Performance"): values are parsed
// from the container's bytes in place (no string per TV-header), one box
// per typed parameter, hex decoded in place; values are appended to one
// buffer for the whole signed container. They were 81 and 82, then 26, 33
// and 47 (17, 24 and 30 since the in-place parsers; the dates are read from a string copy).
func TestMessageAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	sa := exampleSA(t)
	bs := exampleBootstrap
	wire, err := PSKDoneResponse(2, exampleMNRand, exampleHACRand, StatusOK, &sa, &bs, examplePSK, exampleCB)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		limit float64
		f     func()
	}{
		{"ParseMessage", 18, func() { _, err = ParseMessage(wire) }},
		{"VerifyMessage", 25, func() { _, err = VerifyMessage(wire, examplePSK, SenderHAC, exampleCB) }},
		{"PSKDoneResponse", 33, func() {
			_, err = PSKDoneResponse(2, exampleMNRand, exampleHACRand, StatusOK, &sa, &bs, examplePSK, exampleCB)
		}},
	} {
		n := testing.AllocsPerRun(50, c.f)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if n > c.limit {
			t.Errorf("%s: %.0f allocations, limit %.0f", c.name, n, c.limit)
		}
		t.Logf("%s: %.0f allocations", c.name, n)
	}
}
