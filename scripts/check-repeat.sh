#!/bin/sh
# check-repeat.sh — run the whole suite N times, each on a fresh clone of
# the committed HEAD, as CI does (CI=true make check), and print each run's
# result and wall time. With LOAD=cpu a stress-ng CPU load (LOAD_WORKERS
# workers, default 2, at LOAD_PERCENT %, default 50) runs for the whole
# time; with LOAD=build a loop of 'go build -a ./...' in another clone does.
# Exit status 0 only if every run passed. Logs stay in $OUT (printed).
set -eu
N=${N:-5}
LOAD=${LOAD:-}
repo=$(git rev-parse --show-toplevel)
head=$(git -C "$repo" rev-parse --short HEAD)
OUT=${OUT:-$(mktemp -d /tmp/fhkey-check-repeat.XXXXXX)}
loadpid=
cleanup() {
	if [ -n "$loadpid" ]; then kill -- -"$loadpid" 2>/dev/null || kill "$loadpid" 2>/dev/null || true; fi
}
trap cleanup EXIT INT TERM
case "$LOAD" in
"") ;;
cpu)
	command -v stress-ng >/dev/null || { echo "check-repeat: LOAD=cpu needs stress-ng (apt-get install stress-ng)" >&2; exit 2; }
	setsid stress-ng --cpu "${LOAD_WORKERS:-2}" --cpu-load "${LOAD_PERCENT:-50}" --quiet >/dev/null 2>&1 &
	loadpid=$!
	;;
build)
	git clone -q "$repo" "$OUT/load"
	setsid sh -c "cd '$OUT/load' && while :; do go build -a -o /dev/null ./... >/dev/null 2>&1; done" &
	loadpid=$!
	;;
*) echo "check-repeat: LOAD=$LOAD: want cpu, build or nothing" >&2; exit 2 ;;
esac
echo "check-repeat: $N runs of 'CI=true make check' on fresh clones of $head${LOAD:+ under LOAD=$LOAD}; logs in $OUT"
fails=0
i=1
while [ "$i" -le "$N" ]; do
	dir="$OUT/run$i"
	git clone -q "$repo" "$dir"
	start=$(date +%s)
	if (cd "$dir" && CI=true make check) >"$OUT/run$i.log" 2>&1; then
		result=pass
	else
		result=FAIL
		fails=$((fails + 1))
	fi
	end=$(date +%s)
	secs=$((end - start))
	printf 'run %d: %s in %dm%02ds (log %s)\n' "$i" "$result" $((secs / 60)) $((secs % 60)) "$OUT/run$i.log"
	[ "$result" = pass ] || grep -E -- '^(--- FAIL|FAIL|panic:)' "$OUT/run$i.log" | head -20 | sed 's/^/    /'
	rm -rf "$dir"
	i=$((i + 1))
done
echo "check-repeat: $((N - fails))/$N passed"
[ "$fails" -eq 0 ]
