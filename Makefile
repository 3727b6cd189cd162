# fhkey — 'make check' runs every test: format, vet, unit tests with -race,
# fuzz smoke runs, and the interop tests against independent implementations.
GO      ?= go
FUZZTIME ?= 10s
# Debian packages the interop tests need (command:package).
TOOLS   := tshark:tshark openssl:openssl ip:iproute2 tcpdump:tcpdump editcap:wireshark-common

.PHONY: check deps fmt-check vet test interop-table fuzz-smoke build demo

check: deps fmt-check vet test interop-table fuzz-smoke
	@echo "make check: all passed"

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

test:
	$(GO) test -race -count=1 ./...

# The tshark comparison ran in 'test'; this shows its table of every message
# and option type compared (go test hides the output of passing packages).
interop-table:
	@$(GO) test -count=1 -v -run '^TestTsharkSamples$$' ./internal/interop | sed -n '/^tshark interop/,$$p'

fuzz-smoke:
	@FUZZTIME=$(FUZZTIME) scripts/fuzz-smoke.sh
