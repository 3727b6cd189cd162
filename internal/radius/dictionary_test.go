package radius

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"layeh.com/radius/dictionary"
)

// TestDictionaryMatches parses examples/dictionary.fhkey (FreeRADIUS
// format) with layeh's parser and compares it with the Go constants:
// vendor, names, numbers, types, encryption. The interop tests load the
// same file into FreeRADIUS and radclient.
func TestDictionaryMatches(t *testing.T) {
	p := dictionary.Parser{Opener: &dictionary.FileSystemOpener{}}
	d, err := p.ParseFile("../../examples/dictionary.fhkey")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Vendors) != 1 || d.Vendors[0].Name != VendorName || d.Vendors[0].Number != VendorID {
		t.Fatalf("vendors %#v, want %s %d", d.Vendors, VendorName, VendorID)
	}
	v := d.Vendors[0]
	if len(d.Attributes) != 0 || len(v.Attributes) != len(Dictionary) {
		t.Fatalf("%d standard and %d vendor attributes, want 0 and %d", len(d.Attributes), len(v.Attributes), len(Dictionary))
	}
	for i, want := range Dictionary {
		got := v.Attributes[i]
		enc := 0
		if got.FlagEncrypt.Valid {
			enc = got.FlagEncrypt.Int
		}
		if got.Name != want.Name || !got.OID.Equals(dictionary.OID{int(want.Type)}) || got.Type.String() != want.Kind || enc != want.Encrypt {
			t.Errorf("attribute %d: %s %v %s encrypt=%d, want %s %d %s encrypt=%d", i, got.Name, got.OID, got.Type, enc, want.Name, want.Type, want.Kind, want.Encrypt)
		}
		if want.Type.String() != want.Name {
			t.Errorf("%d.String() = %s, want %s", want.Type, want.Type, want.Name)
		}
	}
}

// TestFreeRADIUSDictionary: the generated dictionary parses (layeh's
// FreeRADIUS parser) to the same vendor and attributes as
// examples/dictionary.fhkey.
func TestFreeRADIUSDictionary(t *testing.T) {
	p := dictionary.Parser{Opener: &dictionary.FileSystemOpener{}}
	example, err := p.ParseFile("../../examples/dictionary.fhkey")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "dictionary.fhkey")
	if err := os.WriteFile(file, []byte(FreeRADIUSDictionary()), 0o600); err != nil {
		t.Fatal(err)
	}
	generated, err := p.ParseFile(file)
	if err != nil {
		t.Fatalf("%v\n%s", err, FreeRADIUSDictionary())
	}
	if !reflect.DeepEqual(generated, example) {
		t.Errorf("generated dictionary %+v\nexamples/dictionary.fhkey %+v", generated, example)
	}
}
