// Package daemon is the runtime shared by the fhkey daemons ('fhkey ar',
// 'fhkey mn'; issue 5): it loads the configuration, builds the log/slog
// logger it asks for, runs the daemon's work as tasks in a Group with
// context cancellation, serves /metrics and /status over HTTP when enabled,
// and handles signals:
//
//   - SIGINT, SIGTERM: cancel every task, wait for them up to
//     Options.StopTimeout, return;
//   - SIGHUP: load and validate the configuration again; a configuration
//     that fails, or that the Reload hook refuses, is logged and the running
//     one kept; otherwise Reload has applied it and the log level follows.
//
// Signals arrive on a channel (Options.Signals) so tests feed them without
// a real process. The daemon speaks the systemd notify protocol (READY=1,
// RELOADING=1, STOPPING=1) when NOTIFY_SOCKET is set, for Type=notify units.
// The protocol roles themselves live in internal/ar and internal/mn; this
// package knows nothing of them.
package daemon
