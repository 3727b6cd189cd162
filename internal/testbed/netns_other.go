//go:build !linux

package testbed

import "errors"

// errUnsupported is returned outside Linux.
var errUnsupported = errors.New("testbed: network namespaces are only supported on Linux")

// Do returns an error outside Linux.
func Do(netns string, fn func() error) error { return errUnsupported }

func namespaceExists(name string) bool { return false }

func writeSysctl(path, v string) error { return errUnsupported }
