# sluice: build, run, test, benchmark, install.
#   make run    installs what is missing, builds the release binary, runs sluice on config/sluice.cfg in front
#               of two demo backends (Ctrl-C stops everything)
#   make test   installs what is missing, builds, runs unit tests, integration tests and binary checks
#   make bench  sluice vs HAProxy side by side (bench/README.md); make bench-tls runs only the TLS part
SHELL := /bin/bash
SWIFT ?= swift
PYTHON ?= python3
PREFIX ?= /usr/local
DESTDIR ?=
SLUICE_BIN ?= $(CURDIR)/.build/release/sluice
export SLUICE_BIN

.PHONY: all deps deps-bench build debug run test unit integration check-binary bench bench-tls install clean

all: build

deps:
	@scripts/install-deps.sh test

deps-bench:
	@scripts/install-deps.sh bench

build: deps
	$(SWIFT) build -c release --product sluice

debug: deps
	$(SWIFT) build

run: build
	@scripts/run-demo.sh "$(SLUICE_BIN)" config/sluice.cfg

test: build unit integration check-binary
	@echo "make test: all tests passed"

unit: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

integration: build
	$(PYTHON) -m pytest -q Tests/integration

# The daemon must not link Foundation (STYLE.md: Glibc only).
check-binary: build
	@if ldd "$(SLUICE_BIN)" | grep -i foundation; then echo "FAIL: $(SLUICE_BIN) links Foundation"; exit 1; fi
	@echo "check-binary: $(SLUICE_BIN) does not link Foundation"

bench: build deps-bench
	bench/run.sh
	bench/tls.sh

bench-tls: build deps-bench
	bench/tls.sh

# DESTDIR-aware. Never overwrites an existing /etc/sluice/sluice.cfg. Creates the `sluice` system user the unit
# runs as when installing for real (no DESTDIR) and it is missing.
install: build
	install -D -m 0755 "$(SLUICE_BIN)" "$(DESTDIR)$(PREFIX)/sbin/sluice"
	install -d "$(DESTDIR)/lib/systemd/system"
	sed 's|/usr/local/|$(PREFIX)/|g' systemd/sluice.service > "$(DESTDIR)/lib/systemd/system/sluice.service"
	chmod 0644 "$(DESTDIR)/lib/systemd/system/sluice.service"
	install -D -m 0644 README.md "$(DESTDIR)$(PREFIX)/share/doc/sluice/README.md"
	@if [ -e "$(DESTDIR)/etc/sluice/sluice.cfg" ]; then \
	  echo "keeping existing $(DESTDIR)/etc/sluice/sluice.cfg"; \
	else \
	  install -D -m 0644 config/installed.cfg "$(DESTDIR)/etc/sluice/sluice.cfg"; \
	fi
	@if [ -z "$(DESTDIR)" ] && ! id sluice >/dev/null 2>&1; then \
	  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin sluice; \
	fi

clean:
	rm -rf .build
