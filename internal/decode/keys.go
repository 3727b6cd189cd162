package decode

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/keystore"
)

// ErrKeys is wrapped by every error about a keys file.
var ErrKeys = errors.New("decode: bad keys file")

// maxKeysFile bounds the keys file read (about 10,000 keys).
const maxKeysFile = 4 << 20

// KeyEntry is one handover key of a keys file, a JSON array of objects
// (fhkey demo --show-keys writes one):
//
//	[{"ar": "2001:db8:1::…", "mn": "2001:db8:1::…", "at": 1, "spi": 0,
//	  "key": "00112233…", "expires": "2026-01-02T03:04:05Z"}]
//
// AR is the access router's address and MN the mobile node's care-of
// address the key is bound to (the index of RFC 5269 §3.5, the previous
// care-of address of an FBU); AT the algorithm type (0 HMAC-SHA1-96, 1
// HMAC-SHA256-128; docs/handover-keys.md); SPI the BADF SPI (0 for
// SEND-based keys, RFC 5568 §6.4.5); Key the key in hex, AT's key length;
// Expires informational (offline, keys are not expired).
type KeyEntry struct {
	AR      netip.Addr `json:"ar"`
	MN      netip.Addr `json:"mn"`
	AT      uint8      `json:"at"`
	SPI     uint32     `json:"spi"`
	Key     string     `json:"key"`
	Expires time.Time  `json:"expires"`
}

// keyPair indexes a key by (AR, MN).
type keyPair struct{ ar, mn netip.Addr }

// Keys holds the keys of a keys file: handover keys by (AR, MN) for the
// BADF, and FHKs by (NAI, PAR) for the MN-HA option of the MSK mode.
type Keys struct {
	m    map[keyPair]storedKey
	ars  map[netip.Addr][]netip.Addr // AR -> MNs, in file order
	fhks map[fhkIndex]hokey.Key
}

type storedKey struct {
	key hokey.Key
	spi uint32
}

// Len returns the number of keys: handover keys and MSKs.
func (k *Keys) Len() int {
	if k == nil {
		return 0
	}
	return len(k.m) + len(k.fhks)
}

// lookup returns the key of (ar, mn).
func (k *Keys) lookup(ar, mn netip.Addr) (storedKey, bool) {
	if k == nil {
		return storedKey{}, false
	}
	s, ok := k.m[keyPair{ar.WithZone(""), mn.WithZone("")}]
	return s, ok
}

// ReadKeys reads and checks a keys file: a JSON array whose entries are
// handover keys (KeyEntry) or, if they have an "msk", "nai" or "par"
// field, MSKs (MSKKeyEntry); one file may mix both. Errors wrap ErrKeys
// and name the entry and field.
func ReadKeys(r io.Reader) (*Keys, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxKeysFile+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeys, err)
	}
	if len(data) > maxKeysFile {
		return nil, fmt.Errorf("%w: larger than %d octets", ErrKeys, maxKeysFile)
	}
	var entries []json.RawMessage
	if err := strictUnmarshal(data, &entries); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeys, err)
	}
	k := &Keys{m: make(map[keyPair]storedKey, len(entries)), ars: map[netip.Addr][]netip.Addr{}, fhks: map[fhkIndex]hokey.Key{}}
	for i, raw := range entries {
		field := func(name string, format string, args ...any) error {
			if name == "" {
				return fmt.Errorf("%w: [%d]: %s", ErrKeys, i, fmt.Sprintf(format, args...))
			}
			return fmt.Errorf("%w: [%d].%s: %s", ErrKeys, i, name, fmt.Sprintf(format, args...))
		}
		var err error
		if isMSKEntry(raw) {
			err = k.addMSK(raw, field)
		} else {
			err = k.addHandoverKey(raw, field)
		}
		if err != nil {
			return nil, err
		}
	}
	return k, nil
}

// addHandoverKey adds the handover key entry raw (KeyEntry). field builds
// the error naming the entry's field.
func (k *Keys) addHandoverKey(raw json.RawMessage, field func(name, format string, args ...any) error) error {
	var e KeyEntry
	if err := strictUnmarshal(raw, &e); err != nil {
		return field("", "%v", err)
	}
	if !e.AR.Is6() || e.AR.Is4In6() {
		return field("ar", "%q is not an IPv6 address", e.AR)
	}
	if !e.MN.Is6() || e.MN.Is4In6() {
		return field("mn", "%q is not an IPv6 address", e.MN)
	}
	at := hokey.AlgorithmType(e.AT)
	if !at.Valid() {
		return field("at", "algorithm type %d is not defined", e.AT)
	}
	b, err := hex.DecodeString(e.Key)
	if err != nil {
		return field("key", "not hex: %v", err)
	}
	key, err := hokey.NewKey(at, b)
	clear(b)
	if err != nil {
		return field("key", "%v", err)
	}
	p := keyPair{e.AR.WithZone(""), e.MN.WithZone("")}
	if _, dup := k.m[p]; dup {
		return field("mn", "second key for (%s, %s)", p.ar, p.mn)
	}
	k.m[p] = storedKey{key: key, spi: e.SPI}
	k.ars[p.ar] = append(k.ars[p.ar], p.mn)
	return nil
}

// strictUnmarshal decodes one JSON value, refusing unknown fields and
// trailing data.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON array")
	}
	return nil
}

// MarshalKeys returns the keys file for records (sorted by AR, then MN),
// indented, with a final newline. It holds the keys in clear: write it
// with mode 0600.
func MarshalKeys(records []keystore.Record) ([]byte, error) {
	entries := make([]KeyEntry, 0, len(records))
	for _, r := range records {
		entries = append(entries, KeyEntry{AR: r.AR, MN: r.MN, AT: r.AT, SPI: r.SPI,
			Key: hex.EncodeToString(r.KeyBytes()), Expires: r.Expires.UTC()})
	}
	slices.SortFunc(entries, func(a, b KeyEntry) int {
		if c := a.AR.Compare(b.AR); c != 0 {
			return c
		}
		return a.MN.Compare(b.MN)
	})
	b, err := json.MarshalIndent(entries, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
