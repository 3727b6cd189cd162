package demo

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestFinish(t *testing.T) {
	all := Outcome{KeyProvisioned: true, GenuineFBUAccepted: true, ForgedFBURejected: true, BindingUnchanged: true}
	for _, tc := range []struct {
		name     string
		outcome  Outcome
		badSum   int
		runErr   error
		closeErr error
		ok       bool
		errText  string
	}{
		{"all reached", all, 0, nil, nil, true, ""},
		{"run failed", all, 0, errors.New("no credentials"), nil, false, "no credentials"},
		{"pcap close failed", all, 0, nil, errors.New("disk full"), false, "pcap: disk full"},
		{"bad checksum", all, 2, nil, nil, false, "2 packets with a wrong checksum"},
		{"forgery accepted", Outcome{KeyProvisioned: true, GenuineFBUAccepted: true}, 0, nil, nil, false, "did not reach its expected outcome"},
	} {
		d := New(nil, nil)
		d.sum.Outcome, d.badSum = tc.outcome, tc.badSum
		s := d.Finish(tc.runErr, "x.pcap", tc.closeErr)
		if s.OK != tc.ok || !strings.Contains(s.Error, tc.errText) || (tc.ok && s.Error != "") || s.Pcap != "x.pcap" {
			t.Errorf("%s: OK %v, Error %q", tc.name, s.OK, s.Error)
		}
	}
}

func TestFinishAAA(t *testing.T) {
	all := AAAOutcome{KeyProvisioned: true, FBUAccepted: true, ForgedRejected: true, ForgedFBURejected: true, ForgedHKReqDropped: true}
	for _, tc := range []struct {
		name    string
		outcome AAAOutcome
		runErr  error
		ok      bool
		errText string
	}{
		{"all reached", all, nil, true, ""},
		{"run failed", all, errors.New("no HKS"), false, "no HKS"},
		{"no key", AAAOutcome{FBUAccepted: true, ForgedRejected: true}, nil, false, "did not reach"},
		{"FBU refused", AAAOutcome{KeyProvisioned: true, ForgedRejected: true}, nil, false, "did not reach"},
		{"forgery accepted", AAAOutcome{KeyProvisioned: true, FBUAccepted: true}, nil, false, "did not reach"},
	} {
		d := New(nil, nil)
		d.aaa, d.radiusPackets = tc.outcome, 4
		d.counters = func() map[string]uint64 { return map[string]uint64{"hks_bad_mac": 1} }
		s := d.FinishAAA(tc.runErr, "a.pcap", nil)
		if s.OK != tc.ok || !strings.Contains(s.Error, tc.errText) || (tc.ok && s.Error != "") || s.Mode != "aaa" ||
			s.Outcome != tc.outcome || s.RADIUSPackets != 4 || s.Counters["hks_bad_mac"] != 1 || s.Pcap != "a.pcap" {
			t.Errorf("%s: %+v", tc.name, s)
		}
	}
}

func TestStepPrinting(t *testing.T) {
	var out bytes.Buffer
	d := New(&out, nil)
	d.step("FBU", 1500*time.Microsecond, true, "first line\nsecond line")
	d.step("forged FBU", 0, false, "rejected")
	want := " 1. FBU             1.5 ms ok     first line\n" + strings.Repeat(" ", 34) + "second line\n" +
		" 2. forged FBU           - FAILED rejected\n"
	if out.String() != want {
		t.Errorf("printed:\n%q\nwant:\n%q", out.String(), want)
	}
	if len(d.sum.Steps) != 2 || d.sum.Steps[0].DurationMS != 1.5 || d.sum.Steps[1].OK {
		t.Errorf("steps %+v", d.sum.Steps)
	}
	// The AAA walk-through widens the name column for "Access-Request".
	out.Reset()
	d.width = len("Access-Request")
	d.step("Access-Request", 2*time.Millisecond, true, "a\nb")
	if want := " 3. Access-Request    2.0 ms ok     a\n" + strings.Repeat(" ", 36) + "b\n"; out.String() != want {
		t.Errorf("printed:\n%q\nwant:\n%q", out.String(), want)
	}
	for d, want := range map[time.Duration]string{0: "-", 250 * time.Microsecond: "250 µs", 12345 * time.Microsecond: "12.3 ms"} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
