package hac_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/mip6tls"
)

// TestStores runs the same checks on Memory and Bolt: put, get (a copy),
// replace, list in identity order, remove, unknown identities, invalid
// records refused; the bbolt file survives a reopen and has mode 0600.
func TestStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "subs.db")
	b, err := hac.OpenBolt(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	for name, st := range map[string]hac.SubscriberStore{"memory": hac.NewMemory(), "bolt": b} {
		t.Run(name, func(t *testing.T) { storeChecks(t, st) })
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", fi.Mode().Perm(), err)
	}
	b, err = hac.OpenBolt(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if s, err := b.Get(context.Background(), "b@example.com"); err != nil || string(s.PSK) != "psk-b-2" {
		t.Fatalf("after reopen: %v, %v", s, err)
	}
}

func storeChecks(t *testing.T, st hac.SubscriberStore) {
	ctx := context.Background()
	a := hac.Subscriber{Identity: "a@example.com", Methods: []mip6tls.AuthMethod{mip6tls.AuthMethodEAP},
		HomeAddress: netip.MustParseAddr("2001:db8:1::a"), HomePrefix: netip.MustParsePrefix("2001:db8:1::/64"), DNS: netip.MustParseAddr("2001:db8::53")}
	bs := hac.Subscriber{Identity: "b@example.com", Methods: []mip6tls.AuthMethod{mip6tls.AuthMethodPSK, mip6tls.AuthMethodEAP}, PSK: []byte("psk-b")}
	for _, s := range []hac.Subscriber{bs, a} {
		if err := st.Put(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.Get(ctx, "a@example.com")
	if err != nil || got.HomeAddress != a.HomeAddress || got.HomePrefix != a.HomePrefix || got.DNS != a.DNS || !got.Allows(mip6tls.AuthMethodEAP) || got.Allows(mip6tls.AuthMethodPSK) {
		t.Fatalf("get a: %v, %v", got, err)
	}
	got, _ = st.Get(ctx, "b@example.com")
	clear(got.PSK) // a copy: the store keeps its own
	bs.PSK = []byte("psk-b-2")
	if err := st.Put(ctx, bs); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Get(ctx, "b@example.com"); string(got.PSK) != "psk-b-2" {
		t.Fatalf("replaced PSK %q", got.PSK)
	}
	list, err := st.List(ctx)
	if err != nil || len(list) != 2 || list[0].Identity != "a@example.com" || list[1].Identity != "b@example.com" {
		t.Fatalf("list %v, %v", list, err)
	}
	if _, err := st.Get(ctx, "c@example.com"); !errors.Is(err, hac.ErrUnknownSubscriber) {
		t.Fatal(err)
	}
	if err := st.Remove(ctx, "c@example.com"); !errors.Is(err, hac.ErrUnknownSubscriber) {
		t.Fatal(err)
	}
	for _, bad := range []hac.Subscriber{
		{Identity: "x@example.com"}, // no method
		{Identity: "x@example.com", Methods: []mip6tls.AuthMethod{mip6tls.AuthMethodPSK}},                   // psk without a PSK
		{Identity: "x@example.com", Methods: []mip6tls.AuthMethod{mip6tls.AuthMethodEAP}, PSK: []byte("k")}, // PSK without psk
		{Identity: "x y", Methods: []mip6tls.AuthMethod{mip6tls.AuthMethodEAP}},                             // not an NAI
		{Identity: "x@example.com", Methods: []mip6tls.AuthMethod{"ike"}},
	} {
		if err := st.Put(ctx, bad); !errors.Is(err, hac.ErrSubscriber) {
			t.Errorf("Put(%v) = %v", bad, err)
		}
	}
	if err := st.Put(ctx, hac.Subscriber{Identity: "tmp@example.com", Methods: []mip6tls.AuthMethod{mip6tls.AuthMethodEAP}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Remove(ctx, "tmp@example.com"); err != nil {
		t.Fatal(err)
	}
}

// TestSubscriberRedacted: the PSK does not appear in any fmt form.
func TestSubscriberRedacted(t *testing.T) {
	s := hac.Subscriber{Identity: "a@example.com", Methods: []mip6tls.AuthMethod{mip6tls.AuthMethodPSK}, PSK: []byte("sekrit-psk")}
	for _, f := range []string{"%v", "%+v", "%s", "%#v"} {
		if out := fmt.Sprintf(f, s); strings.Contains(out, "sekrit") || strings.Contains(out, "73656b") {
			t.Errorf("%s: %s", f, out)
		}
	}
}
