# toolgate — build and test. GNU make.
#
#   make test         deps, gofmt, go vet, staticcheck, short fuzz pass, go test -race
#                     (RACE= to drop -race; PKG=./pkg/... to narrow vet, lint and tests)
#   make bench        benchmarks; BENCH=regexp PKG=./pkg/... to narrow
#   make fuzz         every Fuzz target for FUZZTIME (60s) each; FUZZ=regexp to narrow
#   make build        bin/toolgate
#
# Fuzz targets are found by grep (`func FuzzXxx(` in *_test.go), so new ones
# join the short pass of `make test` and `make fuzz` without edits here.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test
# Steps of `make test` run in the order listed, one at a time.
.NOTPARALLEL:

GO ?= go
PKG ?= ./...
# The suite runs under the race detector while it stays fast (10s warm, 6s
# without, in Nov 2026; it needs cgo, and is left out without a C compiler).
# Set RACE empty here if the suite ever gets too slow for CI.
RACE ?= $(if $(filter 1,$(shell $(GO) env CGO_ENABLED)),-race)
BENCH ?= .
FUZZ ?= .
FUZZTIME ?= 60s
# The short pass of `make test` counts executions instead of seconds: with a
# duration, go1.26's fuzz coordinator can report a spurious "context
# deadline exceeded" when a loaded machine's worker is mid-call at the
# deadline (go.dev/issue/75804, fixed in go1.27). A count has no deadline.
SHORT_FUZZTIME ?= 10000x
# One fuzz worker in the short pass: on a loaded 2-core machine a starved
# second worker can be taken for a hung one ("fuzzing process hung or
# terminated unexpectedly"), failing the pass on an input that passes.

STATICCHECK := $(shell $(GO) env GOPATH | cut -d: -f1)/bin/staticcheck

# Databases the integration tests use; values already in the environment win.
export TOOLGATE_TEST_POSTGRES ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
export TOOLGATE_TEST_REDIS ?= redis://127.0.0.1:6379/0

# "./dir:FuzzName" for every fuzz target in the tree (none is fine). The
# patterns live in variables: make would miscount a "(" inside $(shell ...).
fuzz_grep := ^func Fuzz[[:alnum:]_]*[(]
fuzz_sed := s|^(.*)/[^/]*:func (Fuzz[[:alnum:]_]*)[(]$$|\1:\2|
FUZZ_TARGETS = $(shell grep -rEo --include='*_test.go' --exclude-dir=node_modules \
	--exclude-dir=testdata --exclude-dir=.git '$(fuzz_grep)' . 2>/dev/null | sed -E '$(fuzz_sed)' | sort -u)

# $(call fuzz_each,FUZZTIME[,FLAGS]): fuzz each target (filtered by FUZZ) in turn.
define fuzz_each
re='$(FUZZ)'; \
for t in $(FUZZ_TARGETS); do \
  dir=$${t%%:*}; name=$${t##*:}; \
  [[ $$name =~ $$re ]] || continue; \
  echo "fuzz: $$name in $$dir for $(1)"; \
  $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(1) $(2) "$$dir"; \
done
endef

TEST_STEPS := deps fmt-check vet staticcheck fuzz-short go-test

.PHONY: test $(TEST_STEPS) bench fuzz build clean

# Each step but the last reports its duration; go test reports its own, and
# its summary stays the last thing printed.
test:
	@for step in $(TEST_STEPS); do \
	  start=$$EPOCHREALTIME; \
	  $(MAKE) --no-print-directory $$step; \
	  [[ $$step == go-test ]] || awk -v s=$$start -v e=$$EPOCHREALTIME -v n=$$step \
	    'BEGIN { printf "== %s: %.1fs\n", n, e - s }'; \
	done

deps:
	@bash scripts/deps.sh

fmt-check:
	@files=$$(find . \( -name node_modules -o -name testdata -o -name .git \) -prune -o -name '*.go' -print \
	  | xargs -r gofmt -l); \
	if [[ -n $$files ]]; then echo "gofmt -l: these files need gofmt -w:"; echo "$$files"; exit 1; fi

vet:
	$(GO) vet $(PKG)

staticcheck:
	$(STATICCHECK) $(PKG)

fuzz-short:
	@$(call fuzz_each,$(SHORT_FUZZTIME),-parallel 1)

go-test:
	$(GO) test -count=1 $(RACE) $(PKG)

bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count 1 $(PKG)

fuzz:
	@$(call fuzz_each,$(FUZZTIME))

build:
	$(GO) build -o bin/toolgate ./cmd/toolgate

clean:
	rm -rf bin
