package decode

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/hokey"
)

// MSKKeyEntry is one MSK of a keys file (`fhkey demo --mode msk
// --show-keys` writes one):
//
//	[{"msk": "…128 hex digits…", "nai": "mn@example.com",
//	  "par": "2001:db8:1::…", "at": 1, "expires": "2026-01-02T03:04:05Z"}]
//
// MSK is the EAP Master Session Key (64 octets, RFC 3748 §7.10) the PAR
// holds for the mobile node named NAI (RFC 4282, the MN-NAI option's
// identifier, RFC 4283 §3.1); PAR the access router's address; AT the
// algorithm type of the FHK (0 HMAC-SHA1-96, 1 HMAC-SHA256-128), whose SPI
// the MN-HA option carries (docs/msk.md); Expires informational. ReadKeys
// derives FHK = prf+(MSK, "FMIPv6 FBU Key" | 0x00 | NAI | PAR | L) from it
// and keeps only the FHK.
type MSKKeyEntry struct {
	MSK     string     `json:"msk"`
	NAI     string     `json:"nai"`
	PAR     netip.Addr `json:"par"`
	AT      uint8      `json:"at"`
	Expires time.Time  `json:"expires"`
}

// fhkIndex indexes an FHK by the NAI of the MN-NAI option and the PAR.
type fhkIndex struct {
	nai string
	par netip.Addr
}

// lookupFHK returns the FHK of (nai, par).
func (k *Keys) lookupFHK(nai []byte, par netip.Addr) (hokey.Key, bool) {
	if k == nil {
		return hokey.Key{}, false
	}
	f, ok := k.fhks[fhkIndex{string(nai), par.WithZone("")}]
	return f, ok
}

// mskFields are the fields only an MSKKeyEntry has.
var mskFields = []string{"msk", "nai", "par"}

// isMSKEntry reports whether the JSON object raw has a field of
// MSKKeyEntry that KeyEntry lacks.
func isMSKEntry(raw json.RawMessage) bool {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return false // addHandoverKey reports it
	}
	for _, f := range mskFields {
		if _, ok := fields[f]; ok {
			return true
		}
	}
	return false
}

// addMSK checks the MSK entry raw and keeps the FHK derived from it (RFC
// 7296 §2.13 prf+, docs/msk.md). field builds the error naming the
// entry's field.
func (k *Keys) addMSK(raw json.RawMessage, field func(name, format string, args ...any) error) error {
	var e MSKKeyEntry
	if err := strictUnmarshal(raw, &e); err != nil {
		return field("", "%v", err)
	}
	msk, err := hex.DecodeString(e.MSK)
	defer clear(msk)
	if err != nil {
		return field("msk", "not hex: %v", err)
	}
	if len(msk) != hokey.MSKLen {
		return field("msk", "%d octets, want %d (RFC 3748 §7.10)", len(msk), hokey.MSKLen)
	}
	if n := len(e.NAI); n == 0 || n > hokey.MaxNAILen {
		return field("nai", "%d octets (1 to %d, RFC 4283 §3)", n, hokey.MaxNAILen)
	}
	if err := hokey.CheckPARAddress(e.PAR); err != nil {
		return field("par", "%v", err)
	}
	at := hokey.AlgorithmType(e.AT)
	if !at.Valid() {
		return field("at", "algorithm type %d is not defined", e.AT)
	}
	idx := fhkIndex{e.NAI, e.PAR}
	if _, dup := k.fhks[idx]; dup {
		return field("par", "second MSK for (%q, %s)", e.NAI, e.PAR)
	}
	fhk, err := hokey.DeriveFHK(msk, e.NAI, e.PAR, at)
	if err != nil {
		return field("msk", "%v", err)
	}
	k.fhks[idx] = fhk
	return nil
}

// MarshalMSKKeys returns the keys file of entries, indented, with a final
// newline. It holds the MSKs in clear: write it with mode 0600.
func MarshalMSKKeys(entries []MSKKeyEntry) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(entries); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
