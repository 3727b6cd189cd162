package mn

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/certpath"
)

// ErrUnauthorizedRouter is wrapped when a PrRtAdv's signer is not a router
// certified under the node's trust anchors.
var ErrUnauthorizedRouter = errors.New("mn: router key not certified")

// RouterAuthorizer decides whether the key with keyHash may sign for the
// router at routerAddr (RFC 5269 §3.3: "the MN MUST check to ensure that the
// key used to sign the PrRtAdv is the router's certified public key").
type RouterAuthorizer interface {
	Authorize(ctx context.Context, routerAddr netip.Addr, keyHash [16]byte) error
}

// CertCache is a RouterAuthorizer backed by a certpath.Cache of verified
// router paths. When a key is not cached, Fetch, if set, retrieves and
// verifies its path (RFC 5269 §3.3: "If the MN does not have the router's
// certification path cached, it MUST use the SEND CPS/CPA messages"), for
// example certdisc.Solicitor.FetchKey; its result is added to the cache.
//
// A global router address must lie in a prefix the certificate authorizes
// (its /64, RFC 3971 §6.3.1 prefix authorization); a link-local address is
// authorized by the certified key alone.
type CertCache struct {
	Cache *certpath.Cache
	Fetch func(ctx context.Context, router netip.Addr, keyHash certpath.KeyHash) (*certpath.Authorization, error)
	// Now is the clock for certificate validity (nil: time.Now).
	Now func() time.Time
}

// Authorize implements RouterAuthorizer.
func (c *CertCache) Authorize(ctx context.Context, router netip.Addr, keyHash [16]byte) error {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	a, ok := c.Cache.Get(certpath.KeyHash(keyHash), now())
	if !ok {
		if c.Fetch == nil {
			return fmt.Errorf("%w: no certification path cached for key %x", ErrUnauthorizedRouter, keyHash[:4])
		}
		var err error
		if a, err = c.Fetch(ctx, router, certpath.KeyHash(keyHash)); err != nil {
			return fmt.Errorf("%w: fetching the certification path: %w", ErrUnauthorizedRouter, err)
		}
		if a.KeyHash != certpath.KeyHash(keyHash) {
			return fmt.Errorf("%w: fetched path certifies another key", ErrUnauthorizedRouter)
		}
		c.Cache.Add(a, now())
	}
	if router.IsLinkLocalUnicast() {
		return nil
	}
	if p := netip.PrefixFrom(router.WithZone(""), 64).Masked(); !a.Authorizes(p) {
		return fmt.Errorf("%w: certificate does not authorize %s", ErrUnauthorizedRouter, p)
	}
	return nil
}
