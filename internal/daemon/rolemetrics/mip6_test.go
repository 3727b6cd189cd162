package rolemetrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhkey/fhkey/internal/mip6mn"
)

func TestRegisterMIP6(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	RegisterMIP6(reg, func() mip6mn.Counters {
		return mip6mn.Counters{BindingUpdatesSent: 3, BindingUpdatesRetransmitted: 1, BindingAcknowledgementsAccepted: 2,
			DataSent: 5, Drops: mip6mn.Drops{Replayed: 4, SendFailed: 6}}
	})
	text := scrape(t, reg)
	for _, want := range []string{
		"fhkey_mip6_binding_updates_total{kind=\"sent\"} 3\n",
		"fhkey_mip6_binding_updates_total{kind=\"retransmitted\"} 1\n",
		"fhkey_mip6_binding_acknowledgements_total{result=\"accepted\"} 2\n",
		"fhkey_mip6_data_packets_total{direction=\"sent\"} 5\n",
		"fhkey_mip6_dropped_total{reason=\"replayed\"} 4\n",
		"fhkey_mip6_dropped_total{reason=\"send_failed\"} 6\n",
		"fhkey_mip6_dropped_total{reason=\"auth\"} 0\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q:\n%s", want, text)
		}
	}
}
