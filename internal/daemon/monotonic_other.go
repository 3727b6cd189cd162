//go:build !linux

package daemon

// monotonicUsec is unknown outside Linux; systemd is Linux-only anyway.
func monotonicUsec() int64 { return 0 }
