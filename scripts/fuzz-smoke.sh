#!/bin/sh
# fuzz-smoke.sh — run every native fuzz target (func FuzzXxx) for a fixed
# number of executions (-fuzztime=Nx), not for a duration.
#
# Why a count: Go 1.26's fuzzing coordinator can fail a timed run at its
# -fuzztime deadline with "context deadline exceeded" and no failing input
# when the machine is loaded (go.dev/issue/75804, fixed in Go 1.27). With a
# count there is no deadline to race; a real finding still fails the run
# and go test writes its reproducer under the package's testdata/fuzz/.
#
# The counts below were first sized to about 10 s per target (execs reached
# by -fuzztime=10s on 2026-12-04 with other work running, rounded down) and
# halved on 2026-12-05: with 48 targets that came to 506 s on a warm cache
# and 570 s on a fresh machine's cold one (make check 1,138 s there, too
# close to its 20-minute budget). Now ≈ 2-8 s per target, ≈ 5 min in all,
# of which ≈ 2 s per target is building and starting it. A target missing
# from the table runs DEFAULT_COUNT executions and is named, so that its
# count gets added. FUZZSCALE multiplies every count (`make fuzz-smoke
# FUZZSCALE=10` for a longer look).
set -eu
go=${GO:-go}
FUZZSCALE=${FUZZSCALE:-1}
DEFAULT_COUNT=50000
counts='
./certpath FuzzParseIPAddrBlocks 200000
./certpath FuzzVerifyRouter 150000
./cga FuzzParseParameters 200000
./cga FuzzVerify 125000
./hokey FuzzVerifyFHK 125000
./hokey FuzzVerifyMAC 150000
./internal/ar FuzzHandleKeyRequest 75000
./internal/ar FuzzHandlePacket 100000
./internal/capture FuzzParse 300000
./internal/certdisc FuzzHandleCPA 200000
./internal/config FuzzParseAR 25000
./internal/config FuzzParseMN 5000
./internal/decode FuzzBytes 12500
./internal/decode FuzzReadKeys 30000
./internal/eap FuzzParse 350000
./internal/eap FuzzParseEAPOL 350000
./internal/eap FuzzReassemble 75000
./internal/eap/supplicant FuzzHandleFrame 100000
./internal/eap/tlspeer FuzzHandle 30000
./internal/forward FuzzDecapsulate 250000
./internal/forward FuzzDecapsulatorPayload 250000
./internal/ha FuzzHandleUDP 50000
./internal/hac FuzzServe 75000
./internal/hac/hachannel FuzzParseRequest 150000
./internal/hks FuzzRequestKey 50000
./internal/mip6mn FuzzHandlePacket 25000
./internal/mn FuzzHandleKeyResponse 60000
./internal/mn FuzzHandlePacket 50000
./internal/netio FuzzParseDestinationOptions 100000
./internal/pae FuzzHandle 100000
./internal/pcapread FuzzDecode 100000
./internal/pcapread FuzzReadDecode 125000
./internal/radius FuzzDecodeRequest 100000
./internal/radius FuzzDecodeEAPReply 150000
./internal/radius FuzzDecodeResponse 50000
./keystore FuzzDecodeRecord 12500
./keystore FuzzParseMSKRecord 250000
./mh FuzzParseMessage 150000
./mh FuzzParseOptions 50000
./mip6tls FuzzParseContainer 200000
./mip6tls FuzzParseMessage 200000
./mip6tls FuzzParseTVHeaders 200000
./mip6tls FuzzValueGrammars 100000
./mip6udp FuzzOpen 250000
./mip6udp FuzzParsePacket 275000
./ndp FuzzParseMessage 100000
./ndp FuzzParseOptions 175000
./send FuzzSignedData 150000
./send FuzzVerify 150000
'
log=$(mktemp /tmp/fuzz-smoke.XXXXXX)
trap 'rm -f "$log"' EXIT
total=0
for file in $(grep -rl --include='*_test.go' '^func Fuzz' . | sort); do
	dir=$(dirname "$file")
	for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file"); do
		n=$(printf '%s\n' "$counts" | awk -v d="$dir" -v t="$target" '$1 == d && $2 == t { print $3 }')
		if [ -z "$n" ]; then
			echo "fuzz: $dir $target has no count in scripts/fuzz-smoke.sh: using $DEFAULT_COUNT"
			n=$DEFAULT_COUNT
		fi
		n=$((n * FUZZSCALE))
		start=$(date +%s)
		if ! $go test -run='^$' -fuzz="^${target}\$" -fuzztime="${n}x" -timeout=10m "$dir" >"$log" 2>&1; then
			cat "$log"
			echo "fuzz: $dir $target FAILED after $(($(date +%s) - start)) s (a finding's reproducer is under $dir/testdata/fuzz/$target/)"
			exit 1
		fi
		secs=$(($(date +%s) - start))
		total=$((total + secs))
		echo "fuzz: $dir $target: $n executions in $secs s"
	done
done
echo "fuzz: all targets passed in $total s"
