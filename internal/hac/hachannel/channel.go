// Package hachannel is the HAC→HA channel of fhkey's RFC 6618 deployment
// (docs/tls.md, "The HAC→HA channel"): the Home Agent Controller tells the
// home agent each security association it creates, before the MN learns
// it. RFC 6618 §4.2 leaves this interface open ("out of scope").
//
// The channel is mutual TLS 1.3 (each side's certificate checked against
// the other's CA) over TCP, on a port of its own. The HAC (Client) keeps
// one connection and sends one request at a time; the HA (Server) answers
// each before the next. Messages are RFC 6618 §5.1 containers of §5.2
// TV-headers, the encoding the MN exchange already uses:
//
//	request:  mn-id, mip6-sas, mip6-spi, the four keys (two for a NULL
//	          suite), mip6-sa-validity-end, mip6-ciphersuite, then the §5.7
//	          bootstrapping parameters (home address, prefix, ...)
//	response: status-code (200: the HA holds the SA; 500: it refused)
//
// The response copies the request's Identifier; Identifiers run 1..255
// and wrap to 1 (the §5.3 limit of 255 is the MN session's, not this
// channel's). No auth TV-header: mutual TLS authenticates both ends.
package hachannel

import (
	"errors"
	"fmt"

	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/mip6tls"
)

// ErrRefused: the HA answered with a status other than 200.
var ErrRefused = errors.New("hachannel: home agent refused the SA")

// MaxMessage bounds a channel message (an SA with bootstrapping data is
// under 1 KiB).
const MaxMessage = 8192

// MarshalRequest encodes p as a channel request with Identifier id.
func MarshalRequest(id uint8, p *hac.Provisioned) ([]byte, error) {
	ps := append([]mip6tls.Parameter{p.Identity}, p.SA.Parameters()...)
	ps = append(ps, p.Bootstrap.Parameters()...)
	return mip6tls.MarshalMessage(mip6tls.Message{Identifier: id, Parameters: ps})
}

// ParseRequest decodes a channel request: the identity, a complete SA
// (mip6tls.SecurityAssociationFrom) and the bootstrapping data.
func ParseRequest(b []byte) (uint8, *hac.Provisioned, error) {
	m, err := mip6tls.ParseMessage(b)
	if err != nil {
		return 0, nil, err
	}
	id, ok := mip6tls.Find[mip6tls.MNIdentifier](m)
	if !ok {
		return m.Identifier, nil, fmt.Errorf("%w: %w: channel request without mn-id", mip6tls.ErrParse, mip6tls.ErrMissing)
	}
	sa, err := mip6tls.SecurityAssociationFrom(m)
	if err != nil {
		return m.Identifier, nil, fmt.Errorf("%w: %w", mip6tls.ErrParse, err)
	}
	return m.Identifier, &hac.Provisioned{Identity: id, SA: sa, Bootstrap: mip6tls.BootstrapFrom(m)}, nil
}

// MarshalResponse encodes the HA's answer to request id.
func MarshalResponse(id uint8, status mip6tls.StatusCode) ([]byte, error) {
	return mip6tls.MarshalMessage(mip6tls.Message{Identifier: id, Parameters: []mip6tls.Parameter{status}})
}

// ParseResponse decodes the HA's answer and checks that it answers id.
func ParseResponse(b []byte, id uint8) (mip6tls.StatusCode, error) {
	m, err := mip6tls.ParseMessage(b)
	if err != nil {
		return 0, err
	}
	status, ok := mip6tls.Find[mip6tls.StatusCode](m)
	switch {
	case m.Identifier != id:
		return 0, fmt.Errorf("%w: %w: response %d to request %d", mip6tls.ErrExchange, mip6tls.ErrOutOfStep, m.Identifier, id)
	case !ok:
		return 0, fmt.Errorf("%w: %w: response without status-code", mip6tls.ErrParse, mip6tls.ErrMissing)
	}
	return status, nil
}
