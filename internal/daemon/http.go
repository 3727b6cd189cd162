package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhkey/fhkey/internal/config"
)

// HTTP server limits: the endpoint serves two small documents, so
// anything slow or large is a misbehaving client.
const (
	httpReadHeaderTimeout = 5 * time.Second
	httpReadTimeout       = 10 * time.Second
	httpWriteTimeout      = 10 * time.Second
	httpIdleTimeout       = 60 * time.Second
	httpMaxHeaderBytes    = 8 << 10
	httpShutdownTimeout   = 2 * time.Second
)

// Listen opens the TCP listener of the [http] section, refusing an address
// that is not loopback unless AllowNonLoopback is set (the error wraps
// config.ErrInvalid). It must not be called when h is not Enabled.
func Listen(h config.HTTP) (net.Listener, error) {
	if err := config.CheckListen(h.Listen, h.AllowNonLoopback); err != nil {
		return nil, err
	}
	return net.Listen("tcp", h.Listen.String())
}

// Handler serves GET and HEAD on three paths:
//
//   - /status: the JSON encoding of status(), 200 when it reports the
//     daemon ready, 503 otherwise (the document then says what the daemon
//     is doing, {"ready":false,"phase":"starting",...}); always a whole
//     JSON document;
//   - /readyz: 200 "ready" or 503 with the phase, for health checks;
//   - /metrics: what reg gathers, through promhttp, while the daemon is
//     ready: the Prometheus text format 0.0.4 by default, OpenMetrics when
//     the scraper's Accept asks for application/openmetrics-text; 503
//     before, so that a scrape never sees a registry the role has not
//     filled yet.
//
// Every other path is 404, every other method 405. phase reports
// readiness and what the daemon is doing.
func Handler(reg prometheus.Gatherer, status func() (any, bool), phase func() (bool, string)) http.Handler {
	metrics := metricsHandler(reg)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" && r.URL.Path != "/status" && r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		var body bytes.Buffer
		ctype, code := "text/plain; charset=utf-8", http.StatusOK
		switch r.URL.Path {
		case "/metrics":
			if ready, what := phase(); !ready {
				code = http.StatusServiceUnavailable
				body.WriteString(what + "\n")
				break
			}
			setCommonHeaders(w.Header())
			metrics.ServeHTTP(w, r) // HEAD: net/http drops the body
			return
		case "/readyz":
			ready, what := phase()
			if !ready {
				code = http.StatusServiceUnavailable
			}
			body.WriteString(what + "\n")
		default:
			ctype = "application/json"
			doc, ready := status()
			if !ready {
				code = http.StatusServiceUnavailable
			}
			enc := json.NewEncoder(&body)
			enc.SetIndent("", "  ")
			if err := enc.Encode(doc); err != nil {
				http.Error(w, "status: "+err.Error(), http.StatusInternalServerError)
				return
			}
		}
		h := w.Header()
		h.Set("Content-Type", ctype)
		setCommonHeaders(h)
		if code == http.StatusServiceUnavailable {
			h.Set("Retry-After", "1")
		}
		w.WriteHeader(code)
		if r.Method != http.MethodHead {
			w.Write(body.Bytes())
		}
	})
}

// setCommonHeaders sets the headers every answer carries.
func setCommonHeaders(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

// serveHTTP serves handler on ln until ctx ends, then shuts down
// gracefully.
func serveHTTP(ctx context.Context, ln net.Listener, handler http.Handler, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: httpReadHeaderTimeout,
		ReadTimeout:       httpReadTimeout,
		WriteTimeout:      httpWriteTimeout,
		IdleTimeout:       httpIdleTimeout,
		MaxHeaderBytes:    httpMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), httpShutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
		}
		<-errc
		return nil
	}
}
