package scenario

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync/atomic"
	"time"
)

// eapolTestSide is the bench's direct side: cfg.Parallel eapol_test
// slots at once, each running cfg.PerSupplicant eapol_test processes in
// a row, one EAP-TLS authentication to FreeRADIUS each. Not eapol_test
// -r (re-authentications in one process): it pauses 100 ms after each
// success before the next (eapol_test.c, eapol_sm_cb), which would make
// the direct side wait rather than work. So this side pays a process
// start, OpenSSL's initialisation and the reading of the certificates
// per authentication (ClientCPUSeconds shows it); without a TLS session
// cache at the server, every authentication is a full handshake.
type eapolTestSide struct {
	bin, conf string
	args      []string
	cfg       EAPBenchConfig
}

// eapolPhase1 is wpa_supplicant's phase1 pinning the TLS version.
var eapolPhase1 = map[uint16]string{
	tls.VersionTLS12: "tls_disable_tlsv1_3=1",
	tls.VersionTLS13: "tls_disable_tlsv1_0=1 tls_disable_tlsv1_1=1 tls_disable_tlsv1_2=1 tls_disable_tlsv1_3=0",
}

func newEapolTestSide(cfg EAPBenchConfig, bin string, pki *benchPKI, server netip.AddrPort, secret string) (*eapolTestSide, error) {
	dir := filepath.Join(cfg.Dir, "eapol_test")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	for name, b := range map[string][]byte{"ca.pem": pki.ca.certPEM, "client.pem": pki.client.certPEM, "client.key": pki.client.keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return nil, err
		}
	}
	conf := filepath.Join(dir, "eapol.conf")
	text := fmt.Sprintf(`network={
	key_mgmt=IEEE8021X
	eap=TLS
	identity="mn@example.com"
	ca_cert="%[1]s/ca.pem"
	domain_match="%[2]s"
	client_cert="%[1]s/client.pem"
	private_key="%[1]s/client.key"
	phase1="%[3]s"
	eapol_flags=0
}
`, dir, benchServerName, eapolPhase1[cfg.TLSVersion])
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return nil, err
	}
	return &eapolTestSide{bin: bin, conf: conf, cfg: cfg,
		args: []string{"-c", conf, "-a", server.Addr().String(), "-p", strconv.Itoa(int(server.Port())), "-s", secret,
			"-t", "30"}}, nil
}

// mppeOK is eapol_test's summary: how many authentications gave the MSK
// the Access-Accept's MS-MPPE keys carry.
var mppeOK = regexp.MustCompile(`MPPE keys OK: (\d+)\s+mismatch: (\d+)`)

// run runs the processes and returns the authentications they counted
// ("MPPE keys OK: 1", no mismatch) and their CPU time.
func (s *eapolTestSide) run(ctx context.Context) (int, time.Duration, error) {
	var cpu atomic.Int64
	n, _, err := runSupplicants(s.cfg, func(i int) error {
		used, err := s.once(ctx, i)
		cpu.Add(int64(used))
		return err
	})
	return n, time.Duration(cpu.Load()), err
}

// once runs one eapol_test process (slot i), which must authenticate
// with the right MSK, and returns its CPU time.
func (s *eapolTestSide) once(ctx context.Context, i int) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, s.bin, s.args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var cpu time.Duration
	if ps := cmd.ProcessState; ps != nil {
		cpu = ps.UserTime() + ps.SystemTime()
	}
	m := mppeOK.FindSubmatch(out.Bytes())
	if err != nil || m == nil || string(m[1]) != "1" || string(m[2]) != "0" {
		return cpu, fmt.Errorf("%w: eapol_test (slot %d): %v:\n%s", errEAPBench, i, err, tailOf(out.String()))
	}
	return cpu, nil
}
