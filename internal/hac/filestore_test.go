package hac

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/fhkey/fhkey/mip6tls"
)

// TestFileStoreLoad: the file is not held between loads (a second Bolt,
// as `fhkey hac subscriber add` opens it, edits it while the FileStore
// serves), Load applies the edits at once; a Load that fails — a record
// that is not valid JSON, an invalid subscriber, a path that cannot be
// opened — changes nothing; Put and Remove are refused; Close wipes the
// PSKs held.
func TestFileStoreLoad(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "subs.db")
	edit := func(fn func(b *Bolt) error) {
		t.Helper()
		b, err := OpenBolt(path, 0)
		if err != nil {
			t.Fatalf("the file is held: %v", err)
		}
		defer b.Close()
		if err := fn(b); err != nil {
			t.Fatal(err)
		}
	}
	psk := func(id, key string) Subscriber {
		return Subscriber{Identity: mip6tls.MNIdentifier(id), Methods: []mip6tls.AuthMethod{mip6tls.AuthMethodPSK}, PSK: []byte(key)}
	}
	edit(func(b *Bolt) error { return b.Put(ctx, psk("a@example.com", "key-a")) })
	f, err := OpenFileStore(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := f.Get(ctx, "a@example.com"); err != nil || string(s.PSK) != "key-a" || f.Len() != 1 || f.Path() != path {
		t.Fatalf("%v, %v, %d", s, err, f.Len())
	}
	held, _ := f.Get(ctx, "a@example.com")

	edit(func(b *Bolt) error {
		return errors.Join(b.Remove(ctx, "a@example.com"), b.Put(ctx, psk("b@example.com", "key-b")))
	})
	if _, err := f.Get(ctx, "b@example.com"); !errors.Is(err, ErrUnknownSubscriber) {
		t.Fatalf("an edit applied before Load: %v", err)
	}
	if n, err := f.Load(path, 0); err != nil || n != 1 {
		t.Fatalf("Load: %d, %v", n, err)
	}
	if _, err := f.Get(ctx, "a@example.com"); !errors.Is(err, ErrUnknownSubscriber) {
		t.Fatalf("removed subscriber still served: %v", err)
	}
	if s, err := f.Get(ctx, "b@example.com"); err != nil || string(s.PSK) != "key-b" {
		t.Fatalf("added subscriber: %v, %v", s, err)
	}
	if string(held.PSK) != "key-a" {
		t.Fatal("a Load wiped a copy a session holds")
	}

	for name, corrupt := range map[string]func(tx *bolt.Tx) error{
		"not JSON": func(tx *bolt.Tx) error { return tx.Bucket(bucketSubscribers).Put([]byte("c@example.com"), []byte("{")) },
		"psk without key": func(tx *bolt.Tx) error {
			return tx.Bucket(bucketSubscribers).Put([]byte("c@example.com"), []byte(`{"methods":["psk"]}`))
		},
	} {
		edit(func(b *Bolt) error { return b.db.Update(corrupt) })
		if _, err := f.Load(path, 0); !errors.Is(err, ErrStore) {
			t.Fatalf("%s: Load: %v", name, err)
		}
		if s, err := f.Get(ctx, "b@example.com"); err != nil || string(s.PSK) != "key-b" || f.Len() != 1 {
			t.Fatalf("%s: a failed Load changed the store: %v, %v", name, s, err)
		}
		edit(func(b *Bolt) error { return b.Remove(ctx, "c@example.com") })
	}
	if _, err := f.Load(filepath.Join(path, "not-a-dir", "x.db"), 0); !errors.Is(err, ErrStore) || f.Path() != path {
		t.Fatalf("unopenable path: %v, path %s", err, f.Path())
	}
	if err := f.Put(ctx, psk("d@example.com", "k")); !errors.Is(err, ErrReadOnly) {
		t.Fatal(err)
	}
	if err := f.Remove(ctx, "b@example.com"); !errors.Is(err, ErrReadOnly) {
		t.Fatal(err)
	}
	m := f.cur.Load()
	inner := m.subs["b@example.com"].PSK
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if string(inner) != "\x00\x00\x00\x00\x00" {
		t.Fatalf("Close left the PSK: %q", inner)
	}
}
