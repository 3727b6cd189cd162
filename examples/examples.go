// Package examples embeds the sample files a running fhkey needs without
// the source tree: FreeRADIUS's realm proxy configuration and the RADIUS
// dictionary of fhkey's attributes (`fhkey demo --mode aaa --netns`
// starts FreeRADIUS from them).
package examples

import (
	"embed"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed freeradius/proxy.conf dictionary.fhkey
var freeRADIUS embed.FS

// WriteFreeRADIUS writes freeradius/proxy.conf and dictionary.fhkey under
// dir, the layout internal/radius/freeradius reads as its examples
// directory.
func WriteFreeRADIUS(dir string) error {
	return fs.WalkDir(freeRADIUS, ".", func(name string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		if e.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		b, err := freeRADIUS.ReadFile(name)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o600)
	})
}
