package lab

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLoadCachesAndRegenerates(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "demo")
	opts := &Options{Bits: 1024}
	first, err := Load(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Generated {
		t.Fatal("first Load did not generate")
	}
	if first.MN.PCoA.Address == first.MN.NCoA.Address || first.MN.PCoA.Parameters.Modifier != first.MN.NCoA.Parameters.Modifier {
		t.Error("MN CGAs: want two addresses sharing one modifier")
	}
	for name, want := range map[string]os.FileMode{"": 0o700, "mn.key": 0o600, "par.key": 0o600, "nar.key": 0o600, "ta.key": 0o600} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%q mode %o, want %o", name, got, want)
		}
	}

	second, err := Load(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if second.Generated {
		t.Error("second Load regenerated a valid cache")
	}
	if second.MN.PCoA.Address != first.MN.PCoA.Address || !second.PAR.Key.Equal(first.PAR.Key) ||
		second.NAR.CGA.Address != first.NAR.CGA.Address || second.PAR.Authorization == nil {
		t.Error("cached credentials differ from the generated ones")
	}

	// Other options: regenerated, not mixed.
	other, err := Load(ctx, dir, &Options{Bits: 1280})
	if err != nil {
		t.Fatal(err)
	}
	if !other.Generated || other.MN.Key.N.BitLen() != 1280 {
		t.Errorf("Load with 1280 bits: Generated=%v bits=%d", other.Generated, other.MN.Key.N.BitLen())
	}
}

func TestLoadRejectsBrokenCache(t *testing.T) {
	ctx := context.Background()
	opts := &Options{Bits: 1024}
	tests := []struct {
		name   string
		damage func(dir string) error
		now    time.Time
	}{
		{"corrupt CGA parameters", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "mn-par.cga"), []byte{1, 2, 3}, 0o644)
		}, time.Time{}},
		{"CGA of another key", func(dir string) error {
			b, err := os.ReadFile(filepath.Join(dir, "par.cga"))
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, "nar.cga"), b, 0o644)
		}, time.Time{}},
		{"missing certificate", func(dir string) error { return os.Remove(filepath.Join(dir, "par.pem")) }, time.Time{}},
		{"router key swapped", func(dir string) error {
			b, err := os.ReadFile(filepath.Join(dir, "mn.key"))
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, "nar.key"), b, 0o600)
		}, time.Time{}},
		{"expiring certificates", func(string) error { return nil }, time.Now().Add(DefaultValidity - time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := Load(ctx, dir, opts); err != nil {
				t.Fatal(err)
			}
			if err := tc.damage(dir); err != nil {
				t.Fatal(err)
			}
			o := *opts
			if !tc.now.IsZero() {
				o.Now = func() time.Time { return tc.now }
			}
			if _, err := read(dir, o.normalize()); err == nil {
				t.Fatal("read accepted the damaged cache")
			} else if tc.name != "missing certificate" && !errors.Is(err, ErrInvalid) {
				t.Errorf("read error %v does not wrap ErrInvalid", err)
			}
			c, err := Load(ctx, dir, &o)
			if err != nil {
				t.Fatal(err)
			}
			if !c.Generated {
				t.Error("Load did not regenerate the damaged cache")
			}
		})
	}
}

func TestLoadOptions(t *testing.T) {
	for _, o := range []*Options{{Bits: 512}, {Bits: 8192}, {Bits: 1024, Sec: 8}} {
		if _, err := Load(context.Background(), t.TempDir(), o); err == nil {
			t.Errorf("Load(%+v) accepted", *o)
		}
	}
	if _, err := Load(context.Background(), "", nil); err == nil {
		t.Error("Load with an empty directory accepted")
	}
}
