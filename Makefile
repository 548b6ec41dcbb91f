# Build, test and lint targets for kenv. The end-to-end tests need a container
# engine and the test image: `make engine` prepares both (see scripts/engine-up).

GO ?= go
# Engine that `make testimage` builds the test image in: docker or podman.
ENGINE ?= docker
# Engine that the end-to-end tests drive. `make e2e` builds the test image there.
KENV_E2E_ENGINE ?= $(ENGINE)
# Duration of each fuzz target's run, in go test's -fuzztime format.
FUZZTIME ?= 5s
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
# File that `make bench` writes its markdown report to, besides stdout.
BENCH_OUT ?= bin/bench-results.md

.PHONY: build test e2e testimage engine lint fuzz demo golden bench bench-smoke clean

build:
	$(GO) build -o bin/kenv ./cmd/kenv
ifneq ($(wildcard fakedocker/*.go),)
	$(GO) build -o bin/fakedocker ./fakedocker
endif

# The end-to-end tests in ./... run only with KENV_DOCKER_E2E=1 and skip otherwise.
test:
	$(GO) test -count=1 ./...

# -p 1 runs one package at a time: the adapter's load test and the CLI's tests
# on one 2-core machine would otherwise slow each other past their timeouts.
# The := expands KENV_E2E_ENGINE now, in the global scope, so that the testimage
# prerequisite builds the image in the engine that the tests drive.
e2e: ENGINE := $(KENV_E2E_ENGINE)
e2e: testimage
	KENV_DOCKER_E2E=1 KENV_E2E_ENGINE=$(KENV_E2E_ENGINE) $(GO) test -count=1 -p 1 -run 'E2E' ./...

testimage:
	scripts/testimage $(ENGINE)

engine:
	scripts/engine-up

lint:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# Runs each Fuzz function of ./parse for FUZZTIME, one at a time, because go test
# fuzzes only one target per run.
fuzz:
	@set -eu; \
	listing=$$($(GO) test -list '^Fuzz' ./parse); \
	targets=$$(printf '%s\n' "$$listing" | grep '^Fuzz' || true); \
	if [ -z "$$targets" ]; then \
		echo "make fuzz: no Fuzz functions found in ./parse" >&2; \
		exit 1; \
	fi; \
	for target in $$targets; do \
		echo "$(GO) test ./parse -run '^\$$' -fuzz '^$$target\$$' -fuzztime $(FUZZTIME)"; \
		$(GO) test ./parse -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME); \
	done

demo: engine build
	scripts/demo

golden:
	KENV_GOLDEN_RECORD=1 KENV_GOLDEN_ENGINE='$(ENGINE)' KENV_GOLDEN_NAME='$(GOLDEN)' \
		$(GO) test -count=1 -timeout 10m -v -run '^TestRecordGolden$$' ./adapter

# Measures kenv against the bare engine client in ENGINE, in a few minutes, and
# prints a markdown report that is also written to BENCH_OUT (see BENCHMARKS.md).
# The run creates containers, volumes and images labeled kenv-bench.run=<id> and
# removes them before it exits.
bench: testimage
	$(GO) build -o bin/kenv-bench ./cmd/kenv-bench
	bin/kenv-bench -engine $(ENGINE) -go $(GO) -o $(BENCH_OUT)

# A short run of the same suite for CI, so that it keeps working: 3 runs per
# operation, a fan-out of 4, 16 MiB instead of 1 GiB, and no targets judged. It
# fails only when a measurement or the cleanup fails.
bench-smoke: testimage
	$(GO) build -o bin/kenv-bench ./cmd/kenv-bench
	bin/kenv-bench -smoke -engine $(ENGINE) -go $(GO)

clean:
	rm -rf bin
