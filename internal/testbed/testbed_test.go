package testbed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/testenv"
)

// testPrefix is unique per test process so parallel runs do not collide.
func testPrefix(tag string) string { return fmt.Sprintf("fhk-%s%d-", tag, os.Getpid()) }

func requireTestbed(t *testing.T) {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
}

func namespaces(t *testing.T, prefix string) []string {
	t.Helper()
	out, err := runIP(context.Background(), "netns", "list")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(f[0], prefix) {
			got = append(got, f[0])
		}
	}
	return got
}

func TestPrefixValidation(t *testing.T) {
	for _, p := range []string{"x-", "fhk", "fhk-a", "fhk-A-", "fhk-a-b-", "fhk-../", "other-fhk-"} {
		if _, err := Up(context.Background(), Config{Prefix: p}); !errors.Is(err, ErrPrefix) {
			t.Errorf("Up(%q): %v, want ErrPrefix", p, err)
		}
		if err := Down(context.Background(), p); !errors.Is(err, ErrPrefix) {
			t.Errorf("Down(%q): %v, want ErrPrefix", p, err)
		}
	}
	for _, p := range []string{"", "fhk-", "fhk-t12-"} {
		if _, err := (Config{Prefix: p}).prefix(); err != nil {
			t.Errorf("prefix %q rejected: %v", p, err)
		}
	}
}

func TestUpDownIdempotent(t *testing.T) {
	requireTestbed(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	prefix := testPrefix("u")
	t.Cleanup(func() { Down(context.Background(), prefix) })

	// A stale run: one namespace left behind, with a link in it.
	if _, err := runIP(ctx, "netns", "add", prefix+"par"); err != nil {
		t.Fatal(err)
	}
	tb, err := Up(ctx, Config{Prefix: prefix, Attacker: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{prefix + "atk", prefix + "cn", prefix + "mn", prefix + "nar", prefix + "par"}
	if got := namespaces(t, prefix); len(got) != len(want) {
		t.Fatalf("namespaces %v, want %v", got, want)
	}
	// Up again over a running testbed rebuilds it.
	if tb, err = Up(ctx, Config{Prefix: prefix, Attacker: true}); err != nil {
		t.Fatal(err)
	}
	// The topology: routers forward, DAD is off, addresses are in place.
	if err := tb.Do(PAR, func() error {
		for path, want := range map[string]string{
			"net/ipv6/conf/all/forwarding":                 "1",
			"net/ipv6/conf/" + IfaceAccess + "/accept_dad": "0",
		} {
			b, err := os.ReadFile("/proc/sys/" + path)
			if err != nil {
				return err
			}
			if strings.TrimSpace(string(b)) != want {
				return fmt.Errorf("%s = %q, want %s", path, b, want)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	out, err := tb.IP(ctx, MN, "-6", "-o", "addr", "show", "dev", IfaceMNToPAR)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, AddrMNPrevious.String()+"/64") || strings.Contains(out, "tentative") {
		t.Fatalf("MN address on %s: %s", IfaceMNToPAR, out)
	}
	// Open finds it from scratch.
	o, err := Open(ctx, Config{Prefix: prefix, Attacker: true})
	if err != nil || o.AttachedTo() != PAR {
		t.Fatalf("Open: %v attached %v", err, o)
	}
	if err := tb.Down(ctx); err != nil {
		t.Fatal(err)
	}
	if got := namespaces(t, prefix); len(got) != 0 {
		t.Fatalf("after Down: %v", got)
	}
	if err := tb.Down(ctx); err != nil {
		t.Fatalf("second Down: %v", err)
	}
	if _, err := Open(ctx, Config{Prefix: prefix}); !errors.Is(err, ErrNotUp) {
		t.Fatalf("Open after Down: %v, want ErrNotUp", err)
	}
}

func TestDoEntersNamespace(t *testing.T) {
	requireTestbed(t)
	ctx := context.Background()
	prefix := testPrefix("d")
	t.Cleanup(func() { Down(context.Background(), prefix) })
	tb, err := Up(ctx, Config{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	host, err := os.Readlink("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	var inside string
	if err := tb.Do(CN, func() error {
		inside, err = os.Readlink("/proc/thread-self/ns/net")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if inside == host {
		t.Fatalf("Do ran in the host namespace %s", host)
	}
	// The error of fn is returned as is.
	sentinel := errors.New("x")
	if err := tb.Do(CN, func() error { return sentinel }); !errors.Is(err, sentinel) {
		t.Fatalf("Do error %v", err)
	}
	if err := Do("fhk-no-such-namespace", func() error { return nil }); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Do on a missing namespace: %v", err)
	}
	// A failing ip command reports its stderr.
	_, err = tb.IP(ctx, MN, "link", "set", "no-such-if0", "up")
	var ce *CommandError
	if !errors.As(err, &ce) || ce.Stderr == "" {
		t.Fatalf("ip error %v, want a CommandError with stderr", err)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("ip error %v does not wrap the exit status", err)
	}
	if err := tb.Attach(ctx, CN); err == nil {
		t.Fatal("Attach(CN) succeeded")
	}
	// Move flips the MN's interfaces.
	if err := tb.Move(ctx); err != nil {
		t.Fatal(err)
	}
	out, err := tb.IP(ctx, MN, "-o", "link", "show", "up")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, IfaceMNToNAR+"@") || strings.Contains(out, IfaceMNToPAR+"@") || tb.AttachedTo() != NAR {
		t.Fatalf("after Move, up links: %s", out)
	}
	o, err := Open(ctx, Config{Prefix: prefix})
	if err != nil || o.AttachedTo() != NAR {
		t.Fatalf("Open after Move: %v", err)
	}
}
