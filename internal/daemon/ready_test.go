package daemon

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhkey/fhkey/internal/config"
)

// TestStartupWindow covers the window between the HTTP listener and the
// role (issue 9): while Start runs, /status is a whole JSON document with
// "ready": false and the phase, answered 503, /readyz and /metrics are 503;
// once Start returns, all three are 200 and /status has the role.
func TestStartupWindow(t *testing.T) {
	reg := NewRegistry()
	addrs := make(chan net.Addr, 1)
	release := make(chan struct{})
	h := start(t, baseMN+"[http]\nlisten = \"127.0.0.1:0\"\n", func(o *Options[*config.MNConfig]) {
		o.Metrics = reg
		next := o.Start
		o.Start = func(ctx context.Context, rt *Runtime[*config.MNConfig]) error {
			rt.Starting("opening sockets")
			addrs <- rt.HTTPAddr()
			<-release // the role is not built yet
			reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "fhkey_role_packets_total", Help: "Registered by the role."}))
			return next(ctx, rt)
		}
	})
	var base string
	select {
	case a := <-addrs:
		if a == nil {
			t.Fatal("Runtime.HTTPAddr is nil with [http] set")
		}
		base = "http://" + a.String()
	case err := <-h.done:
		t.Fatalf("Run returned %v", err)
	}

	// Several reads in the window: each one complete and consistent.
	for range 3 {
		resp, body := get(t, "GET", base+"/status")
		var st Status
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatalf("/status during start-up is not JSON: %v\n%q", err, body)
		}
		if resp.StatusCode != 503 || resp.Header.Get("Content-Type") != "application/json" ||
			st.Ready || st.Phase != "starting: opening sockets" || st.Daemon != "mn" || st.Role != nil {
			t.Fatalf("/status during start-up: %d %s", resp.StatusCode, body)
		}
		if !strings.Contains(body, `"ready": false`) {
			t.Errorf("/status during start-up lacks \"ready\": false: %s", body)
		}
		resp, body = get(t, "GET", base+"/readyz")
		if resp.StatusCode != 503 || body != "starting: opening sockets\n" {
			t.Errorf("/readyz during start-up: %d %q", resp.StatusCode, body)
		}
		resp, body = get(t, "GET", base+"/metrics")
		if resp.StatusCode != 503 || strings.Contains(body, "fhkey_") {
			t.Errorf("/metrics during start-up: %d %q", resp.StatusCode, body)
		}
	}

	close(release)
	select {
	case <-h.ready:
	case err := <-h.done:
		t.Fatalf("Run returned %v", err)
	}
	resp, body := get(t, "GET", base+"/status")
	var st struct {
		Ready bool           `json:"ready"`
		Phase string         `json:"phase"`
		Role  map[string]int `json:"role"`
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil || resp.StatusCode != 200 || !st.Ready || st.Phase != "serving" || st.Role["keys"] != 3 {
		t.Errorf("/status once ready: %d %v %s", resp.StatusCode, err, body)
	}
	if resp, body := get(t, "GET", base+"/readyz"); resp.StatusCode != 200 || body != "serving\n" {
		t.Errorf("/readyz once ready: %d %q", resp.StatusCode, body)
	}
	if resp, body := get(t, "GET", base+"/metrics"); resp.StatusCode != 200 || !strings.Contains(body, "fhkey_role_packets_total 0\n") {
		t.Errorf("/metrics once ready: %d %q", resp.StatusCode, body)
	}
	// Starting after the start changes nothing.
	h.runtime().Starting("late")
	if resp, _ := get(t, "GET", base+"/readyz"); resp.StatusCode != 200 {
		t.Errorf("/readyz after a late Starting: %d", resp.StatusCode)
	}
	if err := h.stop(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
}
