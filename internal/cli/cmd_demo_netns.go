package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"

	"github.com/fhkey/fhkey/internal/demo"
	"github.com/fhkey/fhkey/internal/testbed"
)

// lookPath finds an executable (a variable for the tests).
var lookPath = exec.LookPath

var yesNo = map[bool]string{true: "yes", false: "NO"}

// runDemoNetns runs `fhkey demo --netns` and prints its outcome.
func runDemoNetns(ctx context.Context, env *Env, jsonOut bool, o demo.NetnsOptions) error {
	if err := checkDemoNetns(o); err != nil {
		return err
	}
	sum, _ := demo.New(demoOut(env, jsonOut), nil).RunNetns(ctx, o)
	oc := sum.Outcome
	return printDemoNetns(env, jsonOut, o, &sum, sum.OK, sum.Error,
		fmt.Sprintf("key provisioned: %s   FBU accepted: %s   stream redirected: %s (%d/%d)\nforged FBU rejected: %s   attacker received nothing: %s",
			yesNo[oc.KeyProvisioned], yesNo[oc.FBUAccepted], yesNo[oc.StreamRedirected], sum.Packets.Redirected.Received, sum.Packets.Redirected.Sent,
			yesNo[oc.ForgedFBURejected], yesNo[oc.AttackerGotNothing]))
}

// runDemoAAANetns runs `fhkey demo --mode aaa --netns` and prints its
// outcome: root and the freeradius binary are needed.
func runDemoAAANetns(ctx context.Context, env *Env, jsonOut bool, o demo.NetnsOptions) error {
	if err := checkDemoNetns(o); err != nil {
		return err
	}
	if _, err := lookPath("freeradius"); err != nil {
		return errors.New("freeradius not found: --mode aaa --netns runs FreeRADIUS 3.2 as the realm proxy (apt-get install freeradius)")
	}
	sum, _ := demo.New(demoOut(env, jsonOut), nil).RunAAANetns(ctx, o)
	oc := sum.Outcome
	return printDemoNetns(env, jsonOut, o, &sum, sum.OK, sum.Error,
		fmt.Sprintf("key provisioned: %s   FBU accepted: %s   stream redirected: %s (%d/%d)\nforged FBU and HKReq rejected: %s   attacker received nothing: %s",
			yesNo[oc.KeyProvisioned], yesNo[oc.FBUAccepted], yesNo[oc.StreamRedirected], sum.Packets.Redirected.Received, sum.Packets.Redirected.Sent,
			yesNo[oc.ForgedRejected], yesNo[oc.AttackerGotNothing]))
}

// runDemoMSKNetns runs `fhkey demo --mode msk` and prints its outcome:
// root and the freeradius binary are needed (the fhkey mn daemon is the
// supplicant: wpa_supplicant is not).
func runDemoMSKNetns(ctx context.Context, env *Env, jsonOut bool, o demo.NetnsOptions, files demo.MSKNetnsFiles) error {
	if err := checkDemoNetns(o); err != nil {
		return err
	}
	if _, err := lookPath("freeradius"); err != nil {
		return errors.New("freeradius not found: --mode msk runs FreeRADIUS 3.2 as the EAP-TLS server (apt-get install freeradius)")
	}
	sum, _ := demo.New(demoOut(env, jsonOut), nil).RunMSKNetns(ctx, o, files)
	oc := sum.Outcome
	outcome := fmt.Sprintf("key provisioned (MSK): %s   FBU accepted: %s   stream redirected: %s (%d/%d)\nforged FBUs (guessed MSK, unknown NAI) rejected: %s   attacker received nothing: %s",
		yesNo[oc.KeyProvisioned], yesNo[oc.FBUAccepted], yesNo[oc.StreamRedirected], sum.Packets.Redirected.Received, sum.Packets.Redirected.Sent,
		yesNo[oc.ForgedRejected], yesNo[oc.AttackerGotNothing])
	if sum.Pcap != "" {
		outcome += fmt.Sprintf("\n%d frames (EAPOL, RADIUS, Mobility Header) written to %s (tshark -r %s -V)", sum.PcapFrames, sum.Pcap, sum.Pcap)
	}
	return printDemoNetns(env, jsonOut, o, &sum, sum.OK, sum.Error, outcome)
}

// checkDemoNetns refuses a testbed demo without root or with a bad prefix.
func checkDemoNetns(o demo.NetnsOptions) error {
	if err := requireRoot(); err != nil {
		return err
	}
	if !testbedPrefix.MatchString(o.Prefix) {
		return fmt.Errorf("%w: --prefix: %v: %q", errUsage, testbed.ErrPrefix, o.Prefix)
	}
	return nil
}

// demoOut is where the steps are printed: nowhere with --json.
func demoOut(env *Env, jsonOut bool) io.Writer {
	if jsonOut {
		return nil
	}
	return env.Stdout
}

// printDemoNetns prints a testbed demo's summary (--json) or its outcome
// line, and fails with exit 1 (errText) unless ok.
func printDemoNetns(env *Env, jsonOut bool, o demo.NetnsOptions, sum any, ok bool, errText, outcome string) error {
	if jsonOut {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(sum); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(env.Stdout, "\n%s\n", outcome)
		if o.Keep {
			fmt.Fprintf(env.Stdout, "testbed %s kept: 'fhkey testbed status --prefix %s', 'fhkey testbed down --prefix %s'\n", o.Prefix, o.Prefix, o.Prefix)
		}
	}
	if !ok {
		return &exitError{code: 1, err: errors.New(errText)}
	}
	return nil
}
