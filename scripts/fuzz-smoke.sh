#!/bin/sh
# fuzz-smoke.sh — run every native fuzz target (func FuzzXxx) for FUZZTIME.
set -eu
FUZZTIME=${FUZZTIME:-10s}
go=${GO:-go}
for file in $(grep -rl --include='*_test.go' '^func Fuzz' . | sort); do
	dir=$(dirname "$file")
	for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file"); do
		echo "fuzz: $dir $target ($FUZZTIME)"
		$go test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" "$dir" >/tmp/fuzz-$$.log 2>&1 || {
			cat /tmp/fuzz-$$.log; rm -f /tmp/fuzz-$$.log; exit 1; }
	done
done
rm -f /tmp/fuzz-$$.log
