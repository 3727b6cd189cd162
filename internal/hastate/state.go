// Package hastate persists the home agent's security associations and
// binding cache (internal/ha.Store) in one bbolt file, so that a restart of
// `fhkey ha` keeps the bindings that are still valid (RFC 6275 §10.3.1:
// a home agent that "stores the Binding Cache entry in nonvolatile
// storage"). The file holds the SA keys: it is created, and narrowed, to
// mode 0600, as keystore/'s bolt file is (docs/ha.md, "Persistence").
package hastate

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/fhkey/fhkey/internal/ha"
	"github.com/fhkey/fhkey/mip6tls"
	"github.com/fhkey/fhkey/mip6udp"
)

var (
	bucketSAs      = []byte("sas")
	bucketBindings = []byte("bindings")
)

// ErrCorrupt is wrapped when a stored record cannot be decoded.
var ErrCorrupt = errors.New("hastate: corrupt record")

// Bolt is an ha.Store in a bbolt file.
type Bolt struct{ db *bolt.DB }

var _ ha.Store = (*Bolt)(nil)

// Open opens or creates the state file at path with mode 0600.
func Open(path string) (*Bolt, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("hastate: %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		db.Close()
		return nil, fmt.Errorf("hastate: narrowing %s to 0600: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketSAs, bucketBindings} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("hastate: %s: %w", path, err)
	}
	return &Bolt{db: db}, nil
}

// Close closes the file.
func (s *Bolt) Close() error { return s.db.Close() }

// saRecord is the stored form of ha.SARecord.
type saRecord struct {
	SPI                                uint32
	Suite                              uint16
	Scope                              uint8
	ValidityEnd                        time.Time
	MNToHAI, HAToMNI, MNToHAE, HAToMNE []byte
	HomeAgent6, HomeAddress6           netip.Addr
	HomeAgent4, HomeAddress4           netip.Addr
	HomePrefix6, HomePrefix4           netip.Prefix
	Port                               uint16
	OutReserved, InHighest             uint32
	InLease                            uint32 `json:",omitempty"`
}

func spiKey(spi mip6udp.SPI) []byte { return binary.BigEndian.AppendUint32(nil, uint32(spi)) }

// PutSA stores r, keys included.
func (s *Bolt) PutSA(r ha.SARecord) error {
	v := saRecord{SPI: uint32(r.SA.SPI), Suite: uint16(r.SA.CipherSuite), Scope: uint8(r.SA.Scope), ValidityEnd: r.SA.ValidityEnd,
		MNToHAI: r.SA.MNToHAIntegrity.Bytes(), HAToMNI: r.SA.HAToMNIntegrity.Bytes(),
		MNToHAE: r.SA.MNToHAEncryption.Bytes(), HAToMNE: r.SA.HAToMNEncryption.Bytes(),
		HomeAgent6: r.Bootstrap.HomeAgent6, HomeAddress6: r.Bootstrap.HomeAddress6,
		HomeAgent4: r.Bootstrap.HomeAgent4, HomeAddress4: r.Bootstrap.HomeAddress4,
		HomePrefix6: r.Bootstrap.HomePrefix6, HomePrefix4: r.Bootstrap.HomePrefix4, Port: uint16(r.Bootstrap.Port),
		OutReserved: r.OutReserved, InHighest: r.InHighest, InLease: r.InLease}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("hastate: SA %d: %w", r.SA.SPI, err)
	}
	defer clear(b)
	return s.put(bucketSAs, spiKey(mip6udp.SPI(r.SA.SPI)), b)
}

// PutLeases sets the inbound lease of each SA in one transaction (one
// fsync however many SAs). A lease of an SA no longer stored is skipped:
// a write racing the SA's deletion does not bring it back.
func (s *Bolt) PutLeases(ls []ha.Lease) error {
	var written [][]byte // wiped once committed: bbolt needs them until then
	defer func() {
		for _, v := range written {
			clear(v)
		}
	}()
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSAs)
		for _, l := range ls {
			k := spiKey(l.SPI)
			v := b.Get(k)
			if v == nil {
				continue
			}
			var r map[string]json.RawMessage
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("%w: SA %d: %w", ErrCorrupt, l.SPI, err)
			}
			r["InLease"] = json.RawMessage(strconv.FormatUint(uint64(l.Lease), 10))
			nv, err := json.Marshal(r)
			clearRaw(r)
			if err != nil {
				return fmt.Errorf("hastate: SA %d: %w", l.SPI, err)
			}
			written = append(written, nv)
			if err := b.Put(k, nv); err != nil {
				return err
			}
		}
		return nil
	})
}

// clearRaw wipes the decoded fields of a record (they hold its keys).
func clearRaw(r map[string]json.RawMessage) {
	for _, v := range r {
		clear(v)
	}
}

// DeleteSA removes the SA.
func (s *Bolt) DeleteSA(spi mip6udp.SPI) error { return s.del(bucketSAs, spiKey(spi)) }

// PutBinding stores b by home address.
func (s *Bolt) PutBinding(b ha.Binding) error {
	v, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("hastate: binding %v: %w", b.HomeAddress, err)
	}
	k := b.HomeAddress.As16()
	return s.put(bucketBindings, k[:], v)
}

// DeleteBinding removes the binding of a home address.
func (s *Bolt) DeleteBinding(a netip.Addr) error {
	k := a.As16()
	return s.del(bucketBindings, k[:])
}

func (s *Bolt) put(bucket, k, v []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put(k, v) })
}

func (s *Bolt) del(bucket, k []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Delete(k) })
}

// Load reads every stored SA and binding, for ha.HomeAgent.Restore.
func (s *Bolt) Load() ([]ha.SARecord, []ha.Binding, error) {
	var sas []ha.SARecord
	var bindings []ha.Binding
	err := s.db.View(func(tx *bolt.Tx) error {
		err := tx.Bucket(bucketSAs).ForEach(func(k, v []byte) error {
			r, err := decodeSA(v)
			if err != nil {
				return fmt.Errorf("%w: SA %x: %w", ErrCorrupt, k, err)
			}
			sas = append(sas, r)
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketBindings).ForEach(func(k, v []byte) error {
			var b ha.Binding
			if err := json.Unmarshal(v, &b); err != nil {
				return fmt.Errorf("%w: binding %x: %w", ErrCorrupt, k, err)
			}
			bindings = append(bindings, b)
			return nil
		})
	})
	return sas, bindings, err
}

func decodeSA(v []byte) (ha.SARecord, error) {
	var r saRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return ha.SARecord{}, err
	}
	defer func() { clear(r.MNToHAI); clear(r.HAToMNI); clear(r.MNToHAE); clear(r.HAToMNE) }()
	sa := mip6tls.SecurityAssociation{SPI: mip6tls.SPI(r.SPI), CipherSuite: mip6tls.CipherSuite(r.Suite),
		Scope: mip6tls.SAScope(r.Scope), ValidityEnd: r.ValidityEnd}
	for _, k := range []struct {
		dst *mip6tls.Key
		src []byte
	}{{&sa.MNToHAIntegrity, r.MNToHAI}, {&sa.HAToMNIntegrity, r.HAToMNI}, {&sa.MNToHAEncryption, r.MNToHAE}, {&sa.HAToMNEncryption, r.HAToMNE}} {
		if len(k.src) == 0 {
			continue
		}
		key, err := mip6tls.NewKey(k.src)
		if err != nil {
			return ha.SARecord{}, err
		}
		*k.dst = key
	}
	return ha.SARecord{SA: sa, Bootstrap: mip6tls.Bootstrap{HomeAgent6: r.HomeAgent6, HomeAddress6: r.HomeAddress6,
		HomeAgent4: r.HomeAgent4, HomeAddress4: r.HomeAddress4, HomePrefix6: r.HomePrefix6, HomePrefix4: r.HomePrefix4,
		Port: mip6tls.ServicePort(r.Port)}, OutReserved: r.OutReserved, InHighest: r.InHighest, InLease: r.InLease}, nil
}
