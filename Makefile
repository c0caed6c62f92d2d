# ucwa-eventd — build, test, demo and benchmark on a bare Debian 12 machine with Swift.
# Every target first makes sure the system packages it needs are installed (apt-get update
# only when something is missing).

SWIFT        ?= swift
APT_PACKAGES := libcurl4-openssl-dev libsystemd-dev pkg-config openssl nghttp2-server
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

.PHONY: all deps build release test demo replay-samples install sanitize bench bench-harness bench-deps fuzz clean

all: build

## deps: install the Debian packages the build links against (idempotent).
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(fresh-clients)
	$(SWIFT) build -c release --product ucwa-eventd

## test: the whole suite (unit, conformance, property, sample data, client and simulator,
## daemon, journald, systemd units, crash, hostile input), then a 60-second smoke run of each
## fuzz target (FUZZ_SMOKE_SECONDS=0 skips it).
FUZZ_SMOKE_SECONDS ?= 60
test: deps
	UCWA_SHARED=$(SHARED) $(SWIFT) build --build-tests
	UCWA_SHARED=$(SHARED) $(SWIFT) test --skip-build --parallel
	@if [ "$(FUZZ_SMOKE_SECONDS)" != 0 ]; then $(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS); fi

## demo: the built-in UCWA simulator on loopback and the daemon against it (records on stdout,
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

## install: the binary, both units, the journald catalog and an example configuration.
PREFIX ?= /usr/local
install: release
	install -D -m 0755 .build/release/ucwa-eventd $(DESTDIR)$(PREFIX)/bin/ucwa-eventd
	install -D -m 0644 systemd/ucwa-eventd.service $(DESTDIR)/etc/systemd/system/ucwa-eventd.service
	install -D -m 0644 systemd/ucwa-eventd@.service $(DESTDIR)/etc/systemd/system/ucwa-eventd@.service
	install -D -m 0644 systemd/ucwa-eventd.catalog $(DESTDIR)/usr/lib/systemd/catalog/ucwa-eventd.catalog
	install -D -m 0640 config/ucwa-eventd.conf $(DESTDIR)/etc/ucwa-eventd/ucwa-eventd.conf.example
	@if [ -z "$(DESTDIR)" ]; then journalctl --update-catalog || true; \
	  if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; fi

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

clean:
	rm -rf .build .build-bench .build-fuzz .build-asan .build-tsan fuzz-artifacts bench-data
