# fhkey — 'make check' runs every test: format, vet, unit tests with -race,
# fuzz smoke runs, and the interop tests against independent implementations.
GO      ?= go
# The fuzz smoke runs each target for a fixed number of executions
# (-fuzztime=Nx, counts in scripts/fuzz-smoke.sh, sized to about 2-8 s each
# on the 2-core build machine), not for a duration: Go 1.26's fuzzing
# coordinator can fail a timed run at its deadline with "context deadline
# exceeded" and no reproducer when the machine is loaded (go.dev/issue/75804,
# fixed in Go 1.27). A count has no deadline, and a real finding still fails
# the run with its reproducer written under testdata/fuzz/. FUZZSCALE
# multiplies every count (FUZZSCALE=10 for a longer campaign).
FUZZSCALE ?= 1
# Debian packages the interop tests need (command:package).
TOOLS   := tshark:tshark openssl:openssl ip:iproute2 tcpdump:tcpdump editcap:wireshark-common freeradius:freeradius radclient:freeradius-utils pg_ctlcluster:postgresql eapol_test:eapoltest wpa_supplicant:wpasupplicant

.PHONY: check check-steps check-repeat deps fmt-check vet test interop-table fuzz-smoke build demo

check:
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory check-steps && \
	echo "make check: all passed in $$(( $$(date +%s) - start )) s"

check-steps: deps fmt-check vet test interop-table fuzz-smoke

build:
	$(GO) build ./...

demo:
	$(GO) run ./cmd/fhkey demo

deps:
	@scripts/deps.sh $(TOOLS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# Real peers (tshark, FreeRADIUS and radclient today; PostgreSQL, wpa_supplicant with the
# MSK and TLS modes) run inside 'test': each peer's tests live in one
# package whose TestMain starts the peer once from a private configuration
# directory on loopback or in a namespace (peer.StartServer, waited for
# on a condition, stopped by its PID) and shares it (peer.Shared), so a
# peer starts once per 'make check', in parallel with the other packages.
test:
	$(GO) test -race -count=1 ./...
	# Allocation counts (testing.AllocsPerRun) are only meaningful without the
	# race detector, under which those tests skip: run them again here.
	$(GO) test -count=1 -run 'Allocs' ./...

# The tshark comparison ran in 'test'; this shows its table of every message
# and option type compared (go test hides the output of passing packages).
interop-table:
	@$(GO) test -count=1 -v -run '^TestTsharkSamples$$' ./internal/interop | sed -n '/^tshark interop/,$$p'

fuzz-smoke:
	@FUZZSCALE=$(FUZZSCALE) scripts/fuzz-smoke.sh

# The whole suite N times, each on a fresh clone of HEAD with CI=true; each
# run's result and wall time are printed. LOAD=cpu (stress-ng) or LOAD=build
# (a 'go build -a' loop) loads the machine meanwhile.
N ?= 5
check-repeat:
	@N=$(N) LOAD=$(LOAD) scripts/check-repeat.sh
