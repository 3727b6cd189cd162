package demo

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/decode"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/keystore"
)

// MSKKeyEntry is the --show-keys entry of the MSK demo: what a reader
// needs to check the FBU's RFC 4285 authenticator by hand (docs/msk.md:
// FHK = prf+(MSK, "FMIPv6 FBU Key" | 0x00 | NAI | PAR | L), `fhkey msk
// derive`) and what `fhkey decode --verify --keys` reads. Lab keys only.
type MSKKeyEntry = decode.MSKKeyEntry

// ShownMSK is what MSKNetnsSummary carries at its top level when
// --show-keys is given (issue 12: "--show-keys adding msk, nai, par,
// at"): the fields of the file's MSKKeyEntry but its informational
// expiry, with the same names and values. Lab keys only.
type ShownMSK struct {
	MSK string     `json:"msk"`
	NAI string     `json:"nai"`
	PAR netip.Addr `json:"par"`
	AT  uint8      `json:"at"`
}

// writeMSKKeys reads the MSK the stopped PAR kept in its bbolt file for
// the lab NAI and writes it, as a one-entry JSON array, to name (mode
// 0600), and returns it for the summary.
func (d *Demo) writeMSKKeys(name string, r *mskNetnsRun) (*ShownMSK, error) {
	start := time.Now()
	b, err := keystore.OpenBolt(r.files.PARKeyStore)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	msks, err := b.MSKs()
	if err != nil {
		return nil, err
	}
	msk, expires, ok := msks.LookupMSK([]byte(lab.EAPNAI))
	defer msk.Zero()
	if !ok {
		return nil, fmt.Errorf("demo: the PAR's key store holds no MSK for %s", lab.EAPNAI)
	}
	shown := &ShownMSK{MSK: hex.EncodeToString(msk[:]), NAI: lab.EAPNAI, PAR: r.parAddr, AT: uint8(hokey.HMACSHA256Trunc128)}
	out, err := decode.MarshalMSKKeys([]MSKKeyEntry{{MSK: shown.MSK, NAI: shown.NAI, PAR: shown.PAR, AT: shown.AT, Expires: expires.UTC()}})
	if err != nil {
		return nil, err
	}
	defer clear(out)
	err = errors.Join(os.WriteFile(name, out, 0o600), os.Chmod(name, 0o600))
	d.step("keys", time.Since(start), err == nil, "%s (mode 0600): the MSK of %s read from the PAR's bbolt file, PAR %s, AT 1\n(fhkey msk derive --msk … --nai %[2]s --par %[3]s --at 1 gives the FHK of the FBU)", name, lab.EAPNAI, r.parAddr)
	if err != nil {
		return nil, err
	}
	return shown, nil
}
