package supplicant

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/fhkey/fhkey/internal/eap"
)

// Reauthenticate waits on link for an unsolicited EAP-Request/Identity
// from auth, the authenticator of the last authentication, and runs the
// authentication it starts (IEEE 802.1X-2004 §8.2.4: the authenticator's
// reAuthTimer sends it; §8.2.11: the supplicant answers an
// EAP-Request/Identity in any state but LOGOFF and DISCONNECTED), as
// Authenticate does but without EAPOL-Start and without waiting out a
// held period: the authenticator asked. Other frames are ignored while
// it waits. It returns ctx's error if ctx ends first, and otherwise what
// Authenticate would.
func (s *Supplicant) Reauthenticate(ctx context.Context, link Link, auth net.HardwareAddr) (Result, error) {
	if len(auth) != 6 {
		return Result{}, fmt.Errorf("%w: authenticator address %q", ErrConfig, auth)
	}
	first, err := waitIdentityRequest(ctx, link, auth)
	if err != nil {
		return Result{}, err
	}
	s.run.Lock()
	defer s.run.Unlock()
	return s.authenticate(ctx, link, auth, first)
}

// waitIdentityRequest reads link until auth sends an EAPOL-EAP PDU with
// an EAP-Request/Identity, and returns that PDU.
func waitIdentityRequest(ctx context.Context, link Link, auth net.HardwareAddr) ([]byte, error) {
	stop := context.AfterFunc(ctx, func() { _ = link.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := link.SetReadDeadline(time.Time{}); err != nil {
		return nil, fmt.Errorf("supplicant: %w", err)
	}
	buf := make([]byte, maxFrame)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, src, err := link.ReadFrom(buf)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			return nil, fmt.Errorf("supplicant: %w", err)
		}
		if isIdentityRequest(buf[:n]) && bytes.Equal(src, auth) {
			return bytes.Clone(buf[:n]), nil
		}
	}
}

// isIdentityRequest reports whether pdu is an EAPOL-EAP PDU carrying an
// EAP-Request/Identity (RFC 3748 §5.1).
func isIdentityRequest(pdu []byte) bool {
	e, err := eap.ParseEAPOL(pdu)
	if err != nil || e.Type != eap.EAPOLEAPPacket {
		return false
	}
	p, err := e.EAP()
	return err == nil && p.Code == eap.CodeRequest && p.Type == eap.TypeIdentity
}
