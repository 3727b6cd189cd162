// Package tlspeer is an EAP-TLS peer (RFC 5216; TLS 1.3 as RFC 9190
// says) over crypto/tls, driven by the caller: EAP Requests in, EAP
// Responses out, no socket and no clock. The EAP-TLS records flow through
// an in-memory net.Conn to a tls.Client; after each complete TLS message
// from the server the peer waits until the TLS client needs more input
// (or has finished) and sends what it wrote, fragmented (RFC 5216 §3.1).
//
// The server is verified by crypto/tls against Config.TLS.RootCAs and
// Config.TLS.ServerName; the peer presents Config.TLS.Certificates.
// Keys (RFC 5216 §2.3, RFC 9190 §2.3) come from the TLS exporter:
//
//	TLS 1.2: Key_Material = TLS-Exporter("client EAP encryption", no context, 128)
//	TLS 1.3: Key_Material = TLS-Exporter("EXPORTER_EAP_TLS_Key_Material", 0x0D, 128)
//	MSK = Key_Material[0..63], EMSK = Key_Material[64..127]
//
// crypto/tls exports TLS 1.2 keying material only from a session with the
// extended master secret (RFC 7627), which Go always offers; a TLS 1.2
// server without it fails the method (ErrKeys) unless the process runs
// with GODEBUG=tlsunsafeekm=1. With TLS 1.3 the method completes only
// after the server's commitment message (RFC 9190 §2.1.1: one octet 0x00
// of application data). Retransmission timers are the caller's: Handle
// answers a repeated Request with the Response sent before.
package tlspeer
