package mip6tls

import (
	"encoding/json"
	"testing"
)

func TestShowKeysJSON(t *testing.T) {
	sa := exampleSA(t)
	bs := exampleBootstrap
	out, err := json.Marshal(map[string]any{"sa": sa.ShowKeys(&bs)})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"sa":{"spi":19088743,"ciphersuite":"AES_128_CBC_SHA256","port":7000,` +
		`"mn":"2001:db8:1::100","ha":"2001:db8:1::1",` +
		`"mn_to_ha_ikey":"11111111111111111111111111111111","mn_to_ha_ekey":"33333333333333333333333333333333",` +
		`"ha_to_mn_ikey":"22222222222222222222222222222222","ha_to_mn_ekey":"44444444444444444444444444444444"}}`
	if string(out) != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
	// Without a port, the IANA port; without IPv6, the IPv4 addresses.
	bs = Bootstrap{HomeAgent4: exampleBootstrap.HomeAgent4}
	if s := sa.ShowKeys(&bs); s.Port != DefaultServicePort || s.HA != bs.HomeAgent4 || s.MN.IsValid() {
		t.Fatalf("%+v", s)
	}
}
