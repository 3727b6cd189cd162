//go:build !linux

package netio

import "time"

// FrameCapture captures frames; on this platform it cannot be opened.
type FrameCapture struct{}

// CaptureFrames returns ErrUnsupportedPlatform outside Linux.
func CaptureFrames(ifname string) (*FrameCapture, error) { return nil, ErrUnsupportedPlatform }

// ReadFrame returns ErrUnsupportedPlatform.
func (c *FrameCapture) ReadFrame(b []byte) (int, bool, time.Time, error) {
	return 0, false, time.Time{}, ErrUnsupportedPlatform
}

// Close does nothing.
func (c *FrameCapture) Close() error { return nil }
