package cli

import (
	"context"
	"fmt"

	"github.com/fhkey/fhkey/internal/demo"
	"github.com/fhkey/fhkey/internal/scenario"
)

// runDemoTLSNetns runs `fhkey demo --mode tls --netns` and prints its
// outcome: root is needed; freeradius only for the EAP step, which is
// skipped (and said so) without it.
func runDemoTLSNetns(ctx context.Context, env *Env, jsonOut bool, o demo.NetnsOptions, files demo.TLSNetnsFiles) error {
	if err := checkDemoNetns(o); err != nil {
		return err
	}
	if o.Count < 1 {
		return fmt.Errorf("%w: --count must be positive", errUsage)
	}
	_, lerr := lookPath("freeradius")
	if lerr != nil {
		fmt.Fprintln(env.Stderr, "fhkey demo: freeradius not found: the EAP step is skipped (apt-get install freeradius)")
	}
	sum, _ := demo.New(demoOut(env, jsonOut), nil).RunTLSNetns(ctx, o, lerr == nil, files)
	oc := sum.Outcome
	eap := "skipped (no freeradius)"
	if oc.EAPBootstrapped != nil {
		eap = yesNo[*oc.EAPBootstrapped]
	}
	outcome := fmt.Sprintf("bootstrapped: %s   BU acknowledged: %s   data through the HA: %s   tampered rejected: %s   replay rejected: %s\nre-registered after the move: %s   HA restart kept the binding: %s   EAP bootstrap: %s",
		yesNo[oc.Bootstrapped], yesNo[oc.BindingAcknowledged], yesNo[oc.DataThroughHA], yesNo[oc.TamperedRejected], yesNo[oc.ReplayRejected],
		yesNo[oc.Reregistered], yesNo[oc.HARestartKeptBinding], eap)
	if sum.Pcap != "" {
		outcome += fmt.Sprintf("\n%d frames (TLS to the HAC, UDP at the HA) written to %s (tshark -r %s -d tcp.port==%d,tls", sum.PcapFrames, sum.Pcap, sum.Pcap, scenario.TLSHACPort)
		if sum.KeyLog != "" {
			outcome += " -o tls.keylog_file:" + sum.KeyLog
		}
		outcome += ")"
	}
	return printDemoNetns(env, jsonOut, o, &sum, sum.OK, sum.Error, outcome)
}
