//go:build linux

package pae_test

import (
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fhkey/fhkey/internal/eap/eaptest"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/pae"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/internal/testenv"
)

// floodStarts sends n EAPOL-Starts to the PAE group address from the host
// end, each from another source MAC address (a raw AF_PACKET socket
// writes the Ethernet header itself).
func floodStarts(t *testing.T, pair *testbed.Pair, n int) {
	t.Helper()
	err := testbed.Do(pair.H(), func() error {
		ifi, err := net.InterfaceByName(testbed.PairIfaceH)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		to := &unix.SockaddrLinklayer{Ifindex: ifi.Index, Halen: 6}
		frame := make([]byte, 14+4)
		copy(frame, netio.PAEGroupAddress)
		binary.BigEndian.PutUint16(frame[12:], netio.EtherTypeEAPOL)
		copy(frame[14:], []byte{3, 1, 0, 0}) // EAPOL-Start
		for i := range n {
			frame[6] = 0x02 // locally administered, individual
			binary.BigEndian.PutUint32(frame[8:], uint32(i)+1)
			if err := unix.Sendto(fd, frame, 0, to); err != nil {
				return fmt.Errorf("frame %d: %w", i, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestEAPOLFlood: 20,000 EAPOL-Starts from as many MAC addresses over the
// real socket leave at most MaxSessions sessions, the excess counted
// (creation rate, eviction); then wpa_supplicant still authenticates.
func TestEAPOLFlood(t *testing.T) {
	const maxSessions = 16
	l := startLink(t, "f", pae.Config{MaxSessions: maxSessions})
	floodStarts(t, l.pair, 20000)
	testenv.Eventually(t, 10*time.Second, "flood counted", func() (bool, string) {
		s := l.auth.Stats()
		return s.RateLimited > 0 && s.Evicted > 0, fmt.Sprintf("%+v", s)
	})
	if s := l.auth.Stats(); s.Sessions > maxSessions {
		t.Fatalf("%d sessions after the flood, bound %d", s.Sessions, maxSessions)
	}
	wpa := l.wpaSupplicant(t, freeRADIUS.PKI.Client, eaptest.PhaseTLS12)
	testenv.Eventually(t, 20*time.Second, "wpa_supplicant authenticated after the flood", func() (bool, string) {
		return strings.Contains(wpa.Output(), "CTRL-EVENT-EAP-SUCCESS") && l.auth.Stats().Accepted == 1,
			fmt.Sprintf("stats %+v\n%s", l.auth.Stats(), tail(wpa.Output(), 20))
	})
	s := l.auth.Stats()
	if s.Sessions > maxSessions {
		t.Errorf("%d sessions, bound %d", s.Sessions, maxSessions)
	}
	t.Logf("after the flood and one authentication: %+v", s)
}
