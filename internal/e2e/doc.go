// Package e2e holds the end-to-end tests of fhkey on the network-namespace
// testbed (internal/testbed): the RFC 5269 flow on real raw sockets, with
// the previous care-of address's traffic redirected by an authenticated Fast
// Binding Update (RFC 5568 §4, §6.2.2) and not by a forged one, an access
// router restarted with persisted keys, malformed packets sent at an access
// router, and a router stopped in the middle of a provisioning exchange; and
// the same flow with the `fhkey ar` and `fhkey mn` daemons as processes in
// the namespaces (TestDaemonProcesses: the test binary runs itself as fhkey,
// see TestMain), the PAR killed and restarted on its key store.
//
// The tests need root (testenv.RequireRoot: skipped outside CI, failed
// under CI=true). Each uses its own testbed prefix, so they run in parallel
// with each other and with other packages' namespace tests.
package e2e
