package daemon

import (
	"fmt"
	"net"
	"os"
	"strings"
)

// Notifier sends systemd service manager notifications (sd_notify(3)):
// "READY=1", "RELOADING=1", "STOPPING=1", "STATUS=...".
type Notifier func(state string) error

// SystemdNotifier returns a Notifier writing to the socket named by
// $NOTIFY_SOCKET (a path, or an abstract socket when it starts with '@'),
// or nil when the variable is unset: the daemon was not started by systemd
// with Type=notify.
func SystemdNotifier() Notifier {
	name := os.Getenv("NOTIFY_SOCKET")
	if name == "" {
		return nil
	}
	return socketNotifier(name)
}

func socketNotifier(name string) Notifier {
	if strings.HasPrefix(name, "@") {
		name = "\x00" + name[1:]
	}
	return func(state string) error {
		c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
		if err != nil {
			return fmt.Errorf("daemon: sd_notify: %w", err)
		}
		defer c.Close()
		if _, err := c.Write([]byte(state)); err != nil {
			return fmt.Errorf("daemon: sd_notify: %w", err)
		}
		return nil
	}
}
