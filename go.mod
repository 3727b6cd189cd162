module github.com/fhkey/fhkey

go 1.26.0

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/vishvananda/netlink v1.3.1
	go.etcd.io/bbolt v1.5.0
	golang.org/x/sys v0.50.0
)

require github.com/vishvananda/netns v0.0.5 // indirect
