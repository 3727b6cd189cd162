package rolemetrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhkey/fhkey/internal/hac"
)

// TestRegisterHAC: the sessions counter, and a bootstraps series per
// method and outcome: psk and eap from the start (0), others (none) once
// counted; the connection gauge and counters, both refusal reasons from
// the start.
func TestRegisterHAC(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	RegisterHAC(reg, func() hac.Stats {
		return hac.Stats{Sessions: 4, Bootstraps: map[string]map[string]uint64{
			"psk": {hac.OutcomeOK: 2, hac.OutcomeUnauthorized: 1}, "none": {hac.OutcomeAborted: 1}}}
	}, func() hac.ConnectionStats {
		return hac.ConnectionStats{Active: 3, HandshakeFailed: 5, Refused: map[string]uint64{hac.RefusedRate: 7, hac.RefusedPerSource: 2}}
	})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	series := 0
	for _, mf := range mfs {
		switch mf.GetName() {
		case "fhkey_hac_sessions_total":
			if v := mf.GetMetric()[0].GetCounter().GetValue(); v != 4 {
				t.Errorf("sessions %v, want 4", v)
			}
			continue
		case "fhkey_hac_connections_active":
			if v := mf.GetMetric()[0].GetGauge().GetValue(); v != 3 {
				t.Errorf("active %v, want 3", v)
			}
			continue
		case "fhkey_hac_handshake_failures_total":
			if v := mf.GetMetric()[0].GetCounter().GetValue(); v != 5 {
				t.Errorf("handshake failures %v, want 5", v)
			}
			continue
		case "fhkey_hac_connections_refused_total":
			refused := map[string]float64{}
			for _, m := range mf.GetMetric() {
				refused[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
			}
			if len(refused) != 3 || refused["rate"] != 7 || refused["max_sessions"] != 0 || refused["per_source"] != 2 {
				t.Errorf("refused %v, want rate 7, max_sessions 0, per_source 2", refused)
			}
			continue
		}
		series += len(mf.GetMetric())
		for _, m := range mf.GetMetric() {
			if l := m.GetLabel(); len(l) == 2 {
				got[l[0].GetValue()+"/"+l[1].GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	if series != 2*7+1 {
		t.Errorf("%d bootstraps series, want 15", series)
	}
	for k, v := range map[string]float64{"psk/ok": 2, "psk/unauthorized": 1, "psk/aborted": 0, "eap/ok": 0, "eap/ha_failed": 0, "none/aborted": 1} {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
}
