# ucwa-eventd — build, test, demo and benchmark on a bare Debian 12 machine with Swift.
# Every target first makes sure the system packages it needs are installed (apt-get update
# only when something is missing).

SWIFT        ?= swift
APT_PACKAGES := libcurl4-openssl-dev libsystemd-dev pkg-config openssl nghttp2-server groff-base systemd-container
SHARED       ?= $(abspath ../shared)
FUZZ_SECONDS ?= 60
export SWIFT_BACKTRACE ?= enable=no

# Release builds compile StreamingJSON and UCWA with -cross-module-optimization: their generic
# code is specialised inside the modules that use it. An incremental build does not always
# recompile those client modules when only a function body changes in StreamingJSON (seen with
# the fuzz targets: a fixed bug still fired), so release-mode targets touch the client modules'
# sources first, which makes the build recompile them. Fresh clones (CI) are not affected.
CLIENT_SOURCES := Sources/UCWA Sources/UCWACorpus Sources/ucwa-eventd Benchmarks Fuzz
fresh-clients = find $(CLIENT_SOURCES) -name '*.swift' -exec touch {} +

.PHONY: all deps build release release-static test demo replay-samples install install-files install-sim install-sim-files uninstall deb deb-try deb-lint pkg-deps version sanitize bench bench-harness bench-deps fuzz format lint clean

all: build

# apt-ensure: a recipe line that installs those of the Debian packages $(1) that are missing
# (apt-get update only then; sudo when not root). Idempotent.
define apt-ensure
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
endef

## deps: install the Debian packages the build links against (idempotent).
deps:
	$(call apt-ensure,$(APT_PACKAGES))

build: deps
	$(SWIFT) build

## release: the daemon and ucwa-sim, which `demo` starts (it looks beside its own executable).
release: deps
	$(fresh-clients)
	$(SWIFT) build -c release --product ucwa-eventd
	$(SWIFT) build -c release --product ucwa-sim

## test: `make lint` (the sources as `make format` leaves them), the package (make deb), then the whole suite (unit, conformance, property, sample data,
## client and simulator, daemon, journald, systemd units, the package installed and run under a
## real systemd in a container, crash, hostile input), then a 60-second smoke run of each fuzz
## target (FUZZ_SMOKE_SECONDS=0 skips it).
FUZZ_SMOKE_SECONDS ?= 60
test: deps lint deb
	UCWA_SHARED=$(SHARED) $(SWIFT) build --build-tests
	UCWA_SHARED=$(SHARED) UCWA_DEB=$(CURDIR)/dist/ucwa-eventd_$(VERSION)_$$(dpkg --print-architecture).deb \
	  $(SWIFT) test --skip-build --parallel
	@if [ "$(FUZZ_SMOKE_SECONDS)" != 0 ]; then $(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS); fi

## demo: the UCWA simulator (ucwa-sim) on loopback and the daemon against it (records on stdout,
## a summary line at the end); `make replay-samples` decodes the sample batches in samples/.
demo: release
	.build/release/ucwa-eventd demo --invitations 36 --faults

replay-samples: release
	.build/release/ucwa-eventd replay samples/*.json

## sanitize: the test suite under AddressSanitizer, then under ThreadSanitizer (separate
## build folders; the fuzz smoke run is not repeated there).
sanitize: deps
	UCWA_SHARED=$(SHARED) $(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	UCWA_SHARED=$(SHARED) UCWA_SANITIZER=address LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/lsan.supp \
	  $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan
	UCWA_SHARED=$(SHARED) $(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	UCWA_SHARED=$(SHARED) UCWA_SANITIZER=thread TSAN_OPTIONS=halt_on_error=1 $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan

## release-static: ucwa-eventd and ucwa-sim with the Swift runtime linked in
## (--static-swift-stdlib), in .build-static: what `make install` and `make deb` ship. They run
## without the Swift toolchain (Benchmarks/README.md has the memory figures behind the choice).
## Quiet and a no-op when no source changed since the last build (a stamp file); the client
## modules are touched first when something did, as for `release`. The build log is shown on
## failure.
STATIC_DIR := .build-static/release
# Full RELRO (lintian's hardening-no-bindnow): every symbol resolved at start, the GOT read-only.
STATIC_LINK_FLAGS := -Xlinker -z -Xlinker relro -Xlinker -z -Xlinker now
release-static: deps
	@mkdir -p .build-static
	@if [ ! -x $(STATIC_DIR)/ucwa-eventd ] || [ ! -x $(STATIC_DIR)/ucwa-sim ] || [ ! -f .build-static/sources.stamp ] \
	    || [ -n "$$(find Package.swift Sources -newer .build-static/sources.stamp -print -quit)" ]; then \
	  $(fresh-clients); \
	  for product in ucwa-eventd ucwa-sim; do \
	    $(SWIFT) build -c release --static-swift-stdlib $(STATIC_LINK_FLAGS) --scratch-path .build-static --product $$product \
	      >.build-static/build.log 2>&1 || { cat .build-static/build.log; exit 1; }; \
	  done; \
	  touch .build-static/sources.stamp; \
	fi

## install: the same set as the package, from the static build, runnable without the Swift
## toolchain: the binary, both units (ExecStart= rewritten to $(BINDIR)), the journald catalog,
## the example configuration (0644: it holds no secret and the service's dynamic user reads the
## copies made from it), manual pages and bash/zsh/fish completions. PREFIX stays /usr/local so
## that a source install never overwrites the package's files; systemd reads units from
## /usr/local/lib/systemd/system before /lib/systemd/system, and the catalog must be in
## /usr/lib/systemd/catalog (the only place journalctl --update-catalog reads).
## `make install-sim` adds ucwa-sim and its manual page; `make uninstall` removes both sets.
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
DATADIR    ?= $(PREFIX)/share
MANDIR     ?= $(DATADIR)/man
UNITDIR    ?= $(PREFIX)/lib/systemd/system
CATALOGDIR ?= /usr/lib/systemd/catalog
SYSCONFDIR ?= /etc
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR  ?= $(DATADIR)/zsh/vendor-completions
FISHCOMPDIR ?= $(DATADIR)/fish/vendor_completions.d
# STRIP=1 strips the installed programs (the package does, as Debian policy asks).
STRIP ?= 0
UNITS := ucwa-eventd.service ucwa-eventd@.service
install: pkg-deps release-static
	@$(MAKE) --no-print-directory install-files
	@if [ -z "$(DESTDIR)" ]; then journalctl --update-catalog 2>/dev/null || true; \
	  if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; fi

install-files:
	install -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(CATALOGDIR) \
	  $(DESTDIR)$(SYSCONFDIR)/ucwa-eventd $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
	  $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 0755 $(STATIC_DIR)/ucwa-eventd $(DESTDIR)$(BINDIR)/ucwa-eventd
	@# The linker's RUNPATH $$ORIGIN is of no use with the runtime linked in (and lintian flags it).
	patchelf --remove-rpath $(DESTDIR)$(BINDIR)/ucwa-eventd
	if [ "$(STRIP)" = 1 ]; then strip --strip-unneeded --remove-section=.comment --remove-section=.note $(DESTDIR)$(BINDIR)/ucwa-eventd; fi
	for unit in $(UNITS); do \
	  sed 's|^ExecStart=/usr/bin/ucwa-eventd |ExecStart=$(BINDIR)/ucwa-eventd |' systemd/$$unit >$(DESTDIR)$(UNITDIR)/$$unit; \
	  chmod 0644 $(DESTDIR)$(UNITDIR)/$$unit; \
	done
	install -m 0644 systemd/ucwa-eventd.catalog $(DESTDIR)$(CATALOGDIR)/ucwa-eventd.catalog
	install -m 0644 config/ucwa-eventd.conf $(DESTDIR)$(SYSCONFDIR)/ucwa-eventd/ucwa-eventd.conf.example
	gzip -9n <man/ucwa-eventd.8 >$(DESTDIR)$(MANDIR)/man8/ucwa-eventd.8.gz
	gzip -9n <man/ucwa-eventd.conf.5 >$(DESTDIR)$(MANDIR)/man5/ucwa-eventd.conf.5.gz
	@# bash-completion sources the file: no #! line (lintian: bash-completion-with-hashbang).
	$(STATIC_DIR)/ucwa-eventd --generate-completion-script bash | sed '1{/^#!/d;}' >$(DESTDIR)$(BASHCOMPDIR)/ucwa-eventd
	$(STATIC_DIR)/ucwa-eventd --generate-completion-script zsh >$(DESTDIR)$(ZSHCOMPDIR)/_ucwa-eventd
	$(STATIC_DIR)/ucwa-eventd --generate-completion-script fish >$(DESTDIR)$(FISHCOMPDIR)/ucwa-eventd.fish
	chmod 0644 $(DESTDIR)$(BASHCOMPDIR)/ucwa-eventd $(DESTDIR)$(ZSHCOMPDIR)/_ucwa-eventd $(DESTDIR)$(FISHCOMPDIR)/ucwa-eventd.fish $(DESTDIR)$(MANDIR)/man*/ucwa-eventd*

install-sim: pkg-deps release-static
	@$(MAKE) --no-print-directory install-sim-files

install-sim-files:
	install -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(STATIC_DIR)/ucwa-sim $(DESTDIR)$(BINDIR)/ucwa-sim
	patchelf --remove-rpath $(DESTDIR)$(BINDIR)/ucwa-sim
	if [ "$(STRIP)" = 1 ]; then strip --strip-unneeded --remove-section=.comment --remove-section=.note $(DESTDIR)$(BINDIR)/ucwa-sim; fi
	gzip -9n <man/ucwa-sim.1 >$(DESTDIR)$(MANDIR)/man1/ucwa-sim.1.gz
	chmod 0644 $(DESTDIR)$(MANDIR)/man1/ucwa-sim.1.gz

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ucwa-eventd $(DESTDIR)$(BINDIR)/ucwa-sim $(DESTDIR)$(CATALOGDIR)/ucwa-eventd.catalog \
	  $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS)) $(DESTDIR)$(SYSCONFDIR)/ucwa-eventd/ucwa-eventd.conf.example \
	  $(DESTDIR)$(MANDIR)/man8/ucwa-eventd.8.gz $(DESTDIR)$(MANDIR)/man5/ucwa-eventd.conf.5.gz $(DESTDIR)$(MANDIR)/man1/ucwa-sim.1.gz \
	  $(DESTDIR)$(BASHCOMPDIR)/ucwa-eventd $(DESTDIR)$(ZSHCOMPDIR)/_ucwa-eventd $(DESTDIR)$(FISHCOMPDIR)/ucwa-eventd.fish
	@if [ -z "$(DESTDIR)" ]; then journalctl --update-catalog 2>/dev/null || true; \
	  if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; fi

## deb: dist/ucwa-eventd_<version>_amd64.deb (the daemon) and dist/ucwa-sim_<version>_amd64.deb
## (the simulator, for `ucwa-eventd demo` and tests; a package of its own so that production
## hosts do not carry a test server). The files come from `make install-files` with the
## package's paths; packaging/build-deb.sh adds the Debian metadata, the maintainer scripts
## and Depends: from dpkg-shlibdeps. The version is the one `ucwa-eventd --version` prints
## (Sources/ucwa-eventd/UCWAEventdCommand.swift). Idempotent; quiet on success.
## `make deb-lint` runs lintian on both (packaging/lintian-overrides explains each override).
PKG_APT_PACKAGES := dpkg-dev patchelf binutils
VERSION = $(shell sed -n 's/^ *version: "\([^"]*\)".*/\1/p' Sources/ucwa-eventd/UCWAEventdCommand.swift)
DEB_ROOT := .build-deb
deb: pkg-deps release-static
	@rm -rf $(DEB_ROOT)
	@$(MAKE) --no-print-directory -s install-files DESTDIR=$(CURDIR)/$(DEB_ROOT)/ucwa-eventd PREFIX=/usr UNITDIR=/lib/systemd/system STRIP=1 >/dev/null
	@$(MAKE) --no-print-directory -s install-sim-files DESTDIR=$(CURDIR)/$(DEB_ROOT)/ucwa-sim PREFIX=/usr STRIP=1 >/dev/null
	@packaging/build-deb.sh ucwa-eventd $(DEB_ROOT)/ucwa-eventd "$(VERSION)" dist
	@packaging/build-deb.sh ucwa-sim $(DEB_ROOT)/ucwa-sim "$(VERSION)" dist
	@packaging/check-deb.sh dist/ucwa-eventd_$(VERSION)_$$(dpkg --print-architecture).deb dist/ucwa-sim_$(VERSION)_$$(dpkg --print-architecture).deb

## deb-try: install, use, remove and purge both packages in a throw-away overlay of / with
## /opt/swift hidden (root; packaging/try-install.sh; no systemd runs there).
deb-try: deb
	@packaging/try-install.sh dist/ucwa-eventd_$(VERSION)_$$(dpkg --print-architecture).deb dist/ucwa-sim_$(VERSION)_$$(dpkg --print-architecture).deb

deb-lint: deb
	$(call apt-ensure,lintian)
	lintian --info --display-info --fail-on error,warning dist/ucwa-eventd_$(VERSION)_*.deb dist/ucwa-sim_$(VERSION)_*.deb

pkg-deps:
	$(call apt-ensure,$(PKG_APT_PACKAGES))

## version: the version the packages are named after (what `ucwa-eventd --version` prints).
version:
	@echo $(VERSION)

## bench: every benchmark side by side with its baseline, printed as one table (Benchmarks/bench.py):
## our decoder against yajl, simdjson and JSONSerialization; the daemon end to end against the
## simulator, a real journald and a plain Python client. BENCH_QUICK=1 for a small smoke run.
bench: deps bench-deps
	$(fresh-clients)
	$(SWIFT) build -c release --product ucwa-eventd
	$(SWIFT) build -c release --product ucwa-sim
	BENCHMARKS=1 $(SWIFT) build -c release --scratch-path .build-bench --product DecoderDriver
	BENCHMARKS=1 $(SWIFT) build -c release --scratch-path .build-bench --product FoundationDriver
	mkdir -p bench-data
	cc -O3 -o bench-data/yajl_driver Benchmarks/baselines/yajl_driver.c -lyajl
	c++ -O3 -std=c++17 -o bench-data/simdjson_driver Benchmarks/baselines/simdjson_driver.cpp -lsimdjson
	cc -O2 -o bench-data/get_floor Benchmarks/baselines/get_floor.c -lcurl
	python3 Benchmarks/bench.py

## bench-harness: the decoder benchmarks under ordo-one/benchmark (MB/s, ratio to
## JSONSerialization, peak RSS on the 1 GiB batch) and the kernel's peak RSS of `replay`.
bench-harness: deps
	$(fresh-clients)
	BENCHMARKS=1 $(SWIFT) package --scratch-path .build-bench benchmark --target DecoderBenchmarks --no-progress
	BENCHMARKS=1 $(SWIFT) build -c release --scratch-path .build-bench --product ucwa-eventd
	Benchmarks/peak-rss.sh .build-bench/release/ucwa-eventd

## bench-deps: the C baselines' libraries, GNU time, a C++ compiler and Python 3 (bench.py).
bench-deps:
	@missing=""; for p in libyajl-dev libsimdjson-dev time g++ python3; do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

## fuzz: run each libFuzzer target for FUZZ_SECONDS seconds (corpus seeded from the test data).
fuzz: deps
	$(fresh-clients)
	FUZZING=1 $(SWIFT) build -c release --scratch-path .build-fuzz \
	  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
	  --product FuzzTokenizer
	FUZZING=1 $(SWIFT) build -c release --scratch-path .build-fuzz \
	  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
	  --product FuzzBatchDecoder
	FUZZING=1 $(SWIFT) build -c release --scratch-path .build-fuzz \
	  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
	  --product FuzzConfiguration
	Fuzz/run.sh .build-fuzz/release $(FUZZ_SECONDS) $(SHARED)

## format: rewrite the Swift sources in place with `swift format` (in the toolchain), by the
## settings in .swift-format (swift-nio's: 4 spaces, line length 120, ordered imports, `///`).
## lint: the same check without rewriting; fails on any finding.
FORMAT_PATHS := Package.swift Sources Tests Benchmarks Fuzz
format:
	$(SWIFT) format format --in-place --parallel --recursive $(FORMAT_PATHS)

lint:
	$(SWIFT) format lint --strict --parallel --recursive $(FORMAT_PATHS)

clean:
	rm -rf .build .build-bench .build-fuzz .build-asan .build-tsan .build-static .build-deb dist fuzz-artifacts bench-data
