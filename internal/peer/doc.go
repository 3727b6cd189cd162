// Package peer starts the real programs fhkey is tested and measured
// against — FreeRADIUS, PostgreSQL, radclient's servers — each from a
// private configuration directory, on loopback, waited for on a condition
// polled with a deadline and stopped by its PID (Server). FreeRADIUS
// writes such a directory for FreeRADIUS 3.2: clients, an optional realm
// proxy, PAP users and fhkey's dictionary.
//
// It is not a test package, so that `fhkey bench hks` can run the same
// peers the interop tests run; internal/testenv re-exports Server for the
// tests.
package peer
