//go:build !linux

package netio

import "context"

// WatchLinks returns ErrUnsupportedPlatform outside Linux: callers poll.
func WatchLinks(ctx context.Context) (<-chan struct{}, error) { return nil, ErrUnsupportedPlatform }
