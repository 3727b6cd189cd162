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
# The counts below were sized to about 10 s per target on the 2-core build
# machine (execs reached by -fuzztime=10s on 2026-12-04 with other work running, rounded down; a run takes 1 to 17 s per target, ≈ 3 min in all); a
# target missing from the table runs DEFAULT_COUNT executions and is named,
# so that its count gets added. FUZZSCALE multiplies every count.
set -eu
go=${GO:-go}
FUZZSCALE=${FUZZSCALE:-1}
DEFAULT_COUNT=50000
counts='
./certpath FuzzParseIPAddrBlocks 400000
./certpath FuzzVerifyRouter 300000
./cga FuzzParseParameters 400000
./cga FuzzVerify 250000
./hokey FuzzVerifyFHK 250000
./hokey FuzzVerifyMAC 300000
./internal/ar FuzzHandleKeyRequest 150000
./internal/ar FuzzHandlePacket 200000
./internal/capture FuzzParse 600000
./internal/certdisc FuzzHandleCPA 400000
./internal/config FuzzParseAR 50000
./internal/config FuzzParseMN 10000
./internal/decode FuzzBytes 25000
./internal/decode FuzzReadKeys 60000
./internal/eap FuzzParse 700000
./internal/eap FuzzParseEAPOL 700000
./internal/eap FuzzReassemble 150000
./internal/eap/supplicant FuzzHandleFrame 200000
./internal/eap/tlspeer FuzzHandle 60000
./internal/forward FuzzDecapsulate 500000
./internal/forward FuzzDecapsulatorPayload 500000
./internal/ha FuzzHandleUDP 100000
./internal/hac FuzzServe 150000
./internal/hac/hachannel FuzzParseRequest 300000
./internal/hks FuzzRequestKey 100000
./internal/mip6mn FuzzHandlePacket 50000
./internal/mn FuzzHandleKeyResponse 120000
./internal/mn FuzzHandlePacket 100000
./internal/netio FuzzParseDestinationOptions 200000
./internal/pae FuzzHandle 200000
./internal/pcapread FuzzDecode 200000
./internal/pcapread FuzzReadDecode 250000
./internal/radius FuzzDecodeRequest 200000
./internal/radius FuzzDecodeEAPReply 300000
./internal/radius FuzzDecodeResponse 100000
./keystore FuzzDecodeRecord 25000
./keystore FuzzParseMSKRecord 500000
./mh FuzzParseMessage 300000
./mh FuzzParseOptions 100000
./mip6tls FuzzParseContainer 400000
./mip6tls FuzzParseMessage 400000
./mip6tls FuzzParseTVHeaders 400000
./mip6udp FuzzOpen 500000
./mip6udp FuzzParsePacket 550000
./ndp FuzzParseMessage 200000
./ndp FuzzParseOptions 350000
./send FuzzSignedData 300000
./send FuzzVerify 300000
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
