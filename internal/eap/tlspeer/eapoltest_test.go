package tlspeer_test

import (
	"context"
	"encoding/hex"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/eap"
	"github.com/fhkey/fhkey/internal/eap/eaptest"
	"github.com/fhkey/fhkey/internal/radius"
	"github.com/fhkey/fhkey/internal/testenv"
)

// recorder is a UDP relay between eapol_test and FreeRADIUS that keeps
// each Access-Request's Authenticator and the last Access-Accept, so that
// fhkey's decoder can take the MSK out of eapol_test's own session.
type recorder struct {
	conn  *net.UDPConn
	mu    sync.Mutex
	auths map[byte][16]byte
	reqID byte
	reply []byte
}

func startRecorder(t *testing.T, server *net.UDPAddr) *recorder {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	up, err := net.DialUDP("udp", nil, server)
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{conn: conn, auths: map[byte][16]byte{}}
	var client net.Addr
	var cmu sync.Mutex
	go func() {
		buf := make([]byte, 4096)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			if n >= 20 {
				var a [16]byte
				copy(a[:], buf[4:20])
				r.mu.Lock()
				r.auths[buf[1]] = a
				r.mu.Unlock()
			}
			cmu.Lock()
			client = from
			cmu.Unlock()
			up.Write(buf[:n])
		}
	}()
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := up.Read(buf)
			if err != nil {
				return
			}
			if n >= 20 && buf[0] == 2 { // Access-Accept
				r.mu.Lock()
				r.reply, r.reqID = append([]byte(nil), buf[:n]...), buf[1]
				r.mu.Unlock()
			}
			cmu.Lock()
			to := client
			cmu.Unlock()
			conn.WriteTo(buf[:n], to)
		}
	}()
	t.Cleanup(func() { conn.Close(); up.Close() })
	return r
}

var mppeRe = regexp.MustCompile(`MS-MPPE-(Send|Recv)-Key \([a-z]+\) - hexdump\(len=32\): ([0-9a-f ]+)`)

// TestEapolTest: wpa_supplicant's eapol_test authenticates with EAP-TLS
// (TLS 1.2 and 1.3) against the same FreeRADIUS; its MSK equals the
// MS-MPPE keys ("MPPE keys OK"), and fhkey's decoder, given the
// Access-Accept of eapol_test's session, takes out the same MSK.
func TestEapolTest(t *testing.T) {
	requireFreeRADIUS(t)
	bin := testenv.RequireTool(t, "eapol_test")
	dir := t.TempDir()
	for _, tc := range []struct{ name, phase1 string }{
		{"TLS 1.2", eaptest.PhaseTLS12},
		{"TLS 1.3", eaptest.PhaseTLS13},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := freeRADIUS.PKI.WriteEAPTLSConfig(t, dir, "eapol.conf", freeRADIUS.PKI.Client, "", tc.phase1, "")
			rec := startRecorder(t, net.UDPAddrFromAddrPort(freeRADIUS.Addr))
			port := rec.conn.LocalAddr().(*net.UDPAddr).Port
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, bin, "-c", conf, "-a", "127.0.0.1", "-p", itoa(port),
				"-s", string(freeRADIUS.Secret), "-t", "20").CombinedOutput()
			text := string(out)
			if err != nil || !strings.Contains(text, "SUCCESS") || !strings.Contains(text, "MPPE keys OK: 1  mismatch: 0") {
				t.Fatalf("eapol_test: %v\n%s", err, tail(text, 60))
			}
			wantVersion := map[string]string{"TLS 1.2": "TLSv1.2", "TLS 1.3": "TLSv1.3"}[tc.name]
			if !strings.Contains(text, wantVersion) {
				t.Errorf("eapol_test output does not name %s", wantVersion)
			}
			// The keys eapol_test printed (MS-MPPE-Recv-Key ‖ MS-MPPE-Send-Key,
			// which it found equal to its own MSK).
			var printed eap.MSK
			found := 0
			for _, m := range mppeRe.FindAllStringSubmatch(text, -1) {
				k, err := hex.DecodeString(strings.ReplaceAll(m[2], " ", ""))
				if err != nil {
					t.Fatal(err)
				}
				if m[1] == "Recv" {
					copy(printed[:32], k)
				} else {
					copy(printed[32:], k)
				}
				found++
			}
			rec.mu.Lock()
			reply, id, auth := rec.reply, rec.reqID, rec.auths[rec.reqID]
			rec.mu.Unlock()
			if reply == nil {
				t.Fatal("no Access-Accept seen")
			}
			res, _, err := radius.DecodeEAPReply(reply, auth, freeRADIUS.Secret, id)
			if err != nil || !res.HaveMSK {
				t.Fatalf("fhkey's decoder on the Access-Accept: %v (MSK %v)", err, res.HaveMSK)
			}
			if found != 2 {
				t.Fatalf("eapol_test printed %d MS-MPPE keys, want 2\n%s", found, tail(text, 60))
			}
			if !res.MSK.Equal(&printed) {
				t.Fatal("the MSK fhkey decrypts from the Access-Accept differs from eapol_test's")
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
