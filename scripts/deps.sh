#!/bin/sh
# deps.sh CMD:PKG ... — make sure each command exists. As root, missing ones
# are installed with apt; otherwise the script names them and fails.
set -eu
missing_cmds=""
missing_pkgs=""
for pair in "$@"; do
	cmd=${pair%%:*}
	pkg=${pair#*:}
	if ! command -v "$cmd" >/dev/null 2>&1; then
		missing_cmds="$missing_cmds $cmd"
		missing_pkgs="$missing_pkgs $pkg"
	fi
done
[ -z "$missing_pkgs" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing$missing_pkgs with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	# tshark asks whether non-root users may capture; answer no.
	echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
	# Servers the tests run from private directories (FreeRADIUS,
	# PostgreSQL) must not also start as system services on their default
	# ports: policy-rc.d forbids starting services during the install.
	policy=/usr/sbin/policy-rc.d
	own_policy=
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
	fi
	status=0
	apt-get install -y -qq $missing_pkgs >/dev/null || status=$?
	[ -z "$own_policy" ] || rm -f "$policy"
	exit $status
fi
echo "deps: missing commands:$missing_cmds" >&2
echo "deps: install the Debian packages:$missing_pkgs (or run 'make check' as root)" >&2
exit 1
