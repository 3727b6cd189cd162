package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"

	"github.com/fhkey/fhkey/internal/demo"
	"github.com/fhkey/fhkey/internal/scenario"
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
		handoverOutcomeLine("key provisioned", oc.KeyProvisioned, oc.HandoverOutcome, sum.Packets.Redirected, "forged FBU rejected", oc.ForgedFBURejected))
}

// handoverOutcomeLine is the outcome of the send, aaa and msk testbed
// demos: the key (named key), the FBU, the stream (redirected: received
// of sent), the forgeries (named forged) and the attacker.
func handoverOutcomeLine(key string, keyOK bool, oc demo.HandoverOutcome, redirected scenario.StreamStats, forged string, forgedOK bool) string {
	return fmt.Sprintf("%s: %s   FBU accepted: %s   stream redirected: %s (%d/%d)\n%s: %s   attacker received nothing: %s",
		key, yesNo[keyOK], yesNo[oc.FBUAccepted], yesNo[oc.StreamRedirected], redirected.Received, redirected.Sent,
		forged, yesNo[forgedOK], yesNo[oc.AttackerGotNothing])
}

// needFreeRADIUS fails (one line, how to install it) unless the
// freeradius binary is found; mode and role say what it is for.
func needFreeRADIUS(mode, role string) error {
	if _, err := lookPath("freeradius"); err != nil {
		return fmt.Errorf("freeradius not found: %s runs FreeRADIUS 3.2 as %s (apt-get install freeradius)", mode, role)
	}
	return nil
}

// runDemoAAANetns runs `fhkey demo --mode aaa --netns` and prints its
// outcome: root and the freeradius binary are needed.
func runDemoAAANetns(ctx context.Context, env *Env, jsonOut bool, o demo.NetnsOptions) error {
	if err := checkDemoNetns(o); err != nil {
		return err
	}
	if err := needFreeRADIUS("--mode aaa --netns", "the realm proxy"); err != nil {
		return err
	}
	sum, _ := demo.New(demoOut(env, jsonOut), nil).RunAAANetns(ctx, o)
	oc := sum.Outcome
	return printDemoNetns(env, jsonOut, o, &sum, sum.OK, sum.Error,
		handoverOutcomeLine("key provisioned", oc.KeyProvisioned, oc.HandoverOutcome, sum.Packets.Redirected, "forged FBU and HKReq rejected", oc.ForgedRejected))
}

// runDemoMSKNetns runs `fhkey demo --mode msk` and prints its outcome:
// root and the freeradius binary are needed (the fhkey mn daemon is the
// supplicant: wpa_supplicant is not).
func runDemoMSKNetns(ctx context.Context, env *Env, jsonOut bool, o demo.NetnsOptions, files demo.MSKNetnsFiles) error {
	if err := checkDemoNetns(o); err != nil {
		return err
	}
	if err := needFreeRADIUS("--mode msk", "the EAP-TLS server"); err != nil {
		return err
	}
	sum, _ := demo.New(demoOut(env, jsonOut), nil).RunMSKNetns(ctx, o, files)
	oc := sum.Outcome
	outcome := handoverOutcomeLine("key provisioned (MSK)", oc.KeyProvisioned, oc.HandoverOutcome, sum.Packets.Redirected,
		"forged FBUs (guessed MSK, unknown NAI) rejected", oc.ForgedRejected)
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
		if err := printDemoJSON(env, sum); err != nil {
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
