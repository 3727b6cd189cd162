package cli

import (
	"context"
	"fmt"

	"github.com/fhkey/fhkey/internal/scenario"
)

// runBenchTLS is `fhkey bench tls`: on loopback, no testbed, no root.
func runBenchTLS(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "bench tls", "[--clients C] [--batch N] [--batches B] [--packets P] [--data-batches D] [--packet-size S] [--json]", `
Measure RFC 6618 (issue 13) in one run on loopback, in this process:

  bootstraps  MNs bootstrapping with the HAC node over TLS 1.3 + PSK, each SA
              provisioned over the mutual-TLS HAC→HA channel to a running HA
              node, against bare TLS 1.3 handshakes with the same certificate
              and key against a plain crypto/tls server; C clients at once,
              B batches of N of each, interleaved (target: bootstrap_ratio,
              the median of the per-batch ratios, >= 0.8)
  data plane  the MIP6 node tunneling S-octet packets to the HA node
              (AES_128_CBC_SHA, RFC 6618 §6.4) against plain UDP datagrams of
              S octets on the same loopback address, D batches of P packets
              of each, 32 in flight (Mbit/s of inner packets delivered)
  per packet  the MN's Seal and the HA's Open under a bootstrapped SA against
              the AES-CBC + HMAC-SHA1 limit of this machine (the standard
              library's AES-128-CBC both ways and HMAC-SHA1 twice over the
              same octets), alternating batches

Figures are medians; docs/tls.md ("Performance") records what was
measured.`)
	clients := fs.Int("clients", 8, "MNs bootstrapping at once (and bare TLS clients)")
	batch := fs.Int("batch", 100, "bootstraps, and bare handshakes, per batch")
	batches := fs.Int("batches", 45, "batches of each, interleaved")
	packets := fs.Int("packets", 2000, "data packets per batch")
	dataBatches := fs.Int("data-batches", 9, "data-plane batches of each path, interleaved")
	size := fs.Int("packet-size", 1400, "inner IPv6 packet size in octets (48..65000)")
	jsonOut := fs.Bool("json", false, `print {"hac_bootstraps_per_s":…, "tls13_handshakes_per_s":…, "bootstrap_ratio":…, "protected_mbit_s":…, "plain_mbit_s":…, "per_packet_ratio_to_limit":…, …}`)
	if err := parseFlagsOnly(env, fs, args); err != nil {
		return err
	}
	if *clients < 1 || *batch < 1 || *batches < 1 || *packets < 1 || *dataBatches < 1 || *size < 48 || *size > 65000 {
		return fmt.Errorf("%w: --clients, --batch, --batches, --packets and --data-batches must be positive, --packet-size 48..65000", errUsage)
	}
	res, err := scenario.BenchTLS(ctx, scenario.TLSBenchConfig{Clients: *clients, Batch: *batch, Batches: *batches,
		Packets: *packets, DataBatches: *dataBatches, PacketSize: *size, Log: env.Stderr})
	if err != nil {
		return err
	}
	return printBenchResult(env, *jsonOut, res)
}
