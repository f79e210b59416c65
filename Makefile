# Two commands set everything up on a fresh Debian machine:
#   make run    installs Lua if missing, builds, runs the canary recipe in the simulator
#   make test   installs Lua, curl, openssl, Chromium, Selenium and PostgreSQL if missing,
#               runs the whole test suite against a throw-away PostgreSQL server
SWIFT ?= swift
LUA_PACKAGE := liblua5.4-dev

.PHONY: run test test-suite demo test-tools browser-tools postgres-tools build lua benchmarks load-admin http-load fleet-harness dashboard-idle screenshots decision-matrix clean fuzz fuzz-parsers fuzz-scripthost chaos tsan format lint calibration

# `apt-get update` once, however many of the targets below install something
# (CI's fresh machine needs Lua, the test tools, Chromium and PostgreSQL): a
# stamp marks an update of the last two hours.
APT_STAMP := /var/lib/apt/lists/.sentinel-apt-update
APT_UPDATE = { [ -n "$$(find $(APT_STAMP) -mmin -120 2>/dev/null)" ] || { apt-get update && touch $(APT_STAMP); }; }

lua:
	@if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists lua5.4; then :; \
	elif [ "$$(id -u)" = "0" ]; then \
		echo "Lua 5.4 is missing: installing $(LUA_PACKAGE)"; \
		$(APT_UPDATE) && apt-get install -y $(LUA_PACKAGE) pkg-config; \
	else \
		echo "Lua 5.4 is missing. Install it with:"; \
		echo "  sudo apt-get update && sudo apt-get install -y $(LUA_PACKAGE) pkg-config"; \
		exit 1; \
	fi

# What the end-to-end scripts of `make test` drive the server with.
TEST_TOOLS := curl openssl
test-tools:
	@missing=""; for tool in $(TEST_TOOLS); do command -v $$tool >/dev/null 2>&1 || missing="$$missing $$tool"; done; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = "0" ]; then \
		echo "installing$$missing"; $(APT_UPDATE) && apt-get install -y $$missing; \
	else \
		echo "missing for the tests:$$missing. Install with:"; \
		echo "  sudo apt-get update && sudo apt-get install -y$$missing"; \
		exit 1; \
	fi

# What the browser tests drive: Debian's Chromium and its driver, and Selenium
# (Debian's python3-selenium, else from PyPI); no driver manager, no browser download.
# The Python that has Selenium: Debian's (python3-selenium) if it has it, else the one on PATH.
BROWSER_PYTHON = $(shell if /usr/bin/python3 -c 'import selenium' >/dev/null 2>&1; then echo /usr/bin/python3; else echo python3; fi)
browser-tools:
	@missing=""; [ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -x /usr/bin/chromedriver ] || missing="$$missing chromium-driver"; \
	has_selenium() { /usr/bin/python3 -c 'import selenium' >/dev/null 2>&1 || python3 -c 'import selenium' >/dev/null 2>&1; }; \
	has_selenium || missing="$$missing python3-selenium"; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = "0" ]; then \
		echo "installing$$missing"; $(APT_UPDATE) || exit 1; \
		packages=$$(echo "$$missing" | sed 's/ python3-selenium//'); \
		[ -z "$$packages" ] || apt-get install -y $$packages || exit 1; \
		has_selenium || apt-get install -y python3-selenium || true; \
		has_selenium || python3 -m pip install selenium || exit 1; \
	else \
		echo "missing for the browser tests:$$missing. Install with:"; \
		echo "  sudo apt-get update && sudo apt-get install -y$$missing   (or: python3 -m pip install selenium)"; \
		exit 1; \
	fi

# The server the tests run against (Tests/fleet/with-postgres.sh starts a
# throw-away one): Debian's, found as Tests/fleet/postgres-server.sh finds it.
# The package's own cluster, if its install starts one, stays on 5432: ours
# takes a free port.
postgres-tools:
	@if Tests/fleet/postgres-server.sh bindir >/dev/null 2>&1 && command -v psql >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ]; then \
		echo "PostgreSQL is missing: installing postgresql"; \
		$(APT_UPDATE) && apt-get install -y postgresql; \
	else \
		echo "PostgreSQL is missing. Install it with:"; \
		echo "  sudo apt-get update && sudo apt-get install -y postgresql"; \
		exit 1; \
	fi

build: lua
	$(SWIFT) build

# The canary's report goes under .build/ (git ignores it); its path follows the timeline.
REPORT := .build/reports/canary-healthy.html
run: lua
	$(SWIFT) build --product sentinel
	@mkdir -p $(dir $(REPORT))
	"$$($(SWIFT) build --show-bin-path)/sentinel" simulate examples/recipes/canary/healthy.yaml --report $(REPORT)
	@echo "Report: $(CURDIR)/$(REPORT)"

# Suites that compare timings of the engine with and without a stalled
# receiver, and the fleet's suites (leases on the real clock, against the real
# server): they run on their own, after the rest, so that the CPU-bound suites
# running in parallel on the cooperative pool and the shared Lua thread do not
# stretch what they measure.
ALONE_SUITES := NotificationDeliveryTests|SentinelFleetTests
# One PostgreSQL server for the whole run, stopped at its end, also on a
# failure or Ctrl-C; its address is in SENTINEL_TEST_POSTGRES_URL (docs/testing.md).
test: lua test-tools browser-tools postgres-tools
	Tests/fleet/with-postgres.sh $(MAKE) --no-print-directory test-suite

# The suite itself: `make test` runs it under a server; run on its own it
# uses the server SENTINEL_TEST_POSTGRES_URL names, if any.
test-suite:
	python3 Tests/cli/layers.py
	Tests/fleet/postgres-server-check.sh
	$(SWIFT) test --skip "$(ALONE_SUITES)"
	$(SWIFT) test --skip-build --filter "$(ALONE_SUITES)"
	$(SWIFT) build --product sentinel
	Tests/cli/sentinel-cli.sh "$$($(SWIFT) build --show-bin-path)/sentinel"
	$(BROWSER_PYTHON) Tests/browser/report_test.py "$$($(SWIFT) build --show-bin-path)/sentinel"
	$(BROWSER_PYTHON) Tests/browser/dashboard_test.py "$$($(SWIFT) build --show-bin-path)/sentinel"
	Tests/cli/admin-api.sh "$$($(SWIFT) build --show-bin-path)/sentinel"
	Tests/cli/operator-cli.sh "$$($(SWIFT) build --show-bin-path)/sentinel"
	Tests/cli/approval-restart.sh "$$($(SWIFT) build --show-bin-path)/sentinel"
	Tests/cli/fleet.sh "$$($(SWIFT) build --show-bin-path)/sentinel"
	Tests/cli/kill-during-saves.sh "$$($(SWIFT) build --show-bin-path)/sentinel" 12
	$(SWIFT) build --product checkout-service
	examples/checkout-service/demo.sh --bin "$$($(SWIFT) build --show-bin-path)" --timeout 240 all

# The example service (examples/checkout-service): a healthy, a bad and a slow canary
# release on real processes on loopback, with the audit. DEMO_ARGS: see demo.sh.
DEMO_ARGS ?= all
demo: lua
	$(SWIFT) build --product sentinel
	$(SWIFT) build --product checkout-service
	examples/checkout-service/demo.sh --bin "$$($(SWIFT) build --show-bin-path)" $(DEMO_ARGS)

# The screenshots of the dashboard and of a simulation report in docs/images
# (shown in the README and docs/dashboard.md). Writes into the tree, so not in `make test`.
screenshots: lua browser-tools
	$(SWIFT) build --product sentinel
	$(BROWSER_PYTHON) Tests/browser/screenshots.py "$$($(SWIFT) build --show-bin-path)/sentinel"

# What one open dashboard costs the server at idle (docs/performance.md): requests/s and CPU.
IDLE_SECONDS ?= 120
IDLE_PAGES ?= 1
IDLE_BUILD ?= debug
dashboard-idle: lua browser-tools
	$(SWIFT) build -c $(IDLE_BUILD) --product sentinel
	$(BROWSER_PYTHON) Benchmarks/DashboardIdle/dashboard_idle.py "$$($(SWIFT) build -c $(IDLE_BUILD) --show-bin-path)/sentinel" \
		--seconds $(IDLE_SECONDS) --pages $(IDLE_PAGES)

# The decision matrix (docs/decisions.md, "Evaluation"): the canary recipe and a
# Flagger-default analysis over classes of canaries, traffic levels and seeds.
# Not part of `make test`: about an hour on 2 cores with the release build.
# MATRIX_SCALE=10 runs a tenth of the seeds; the results (JSON per run) go to
# .build/decision-matrix/. For other classes, rates or seeds, run matrix.py itself.
MATRIX_JOBS ?= 2
MATRIX_SCALE ?= 100
MATRIX_BUILD ?= release
decision-matrix: lua
	$(SWIFT) build -c $(MATRIX_BUILD) --product sentinel
	Benchmarks/DecisionMatrix/published.sh "$$($(SWIFT) build -c $(MATRIX_BUILD) --show-bin-path)/sentinel" \
		.build/decision-matrix $(MATRIX_JOBS) $(MATRIX_SCALE)

# Seeded mutation fuzzing of the scenario, configuration, JSON and script
# parsers, FUZZ_SECONDS per target (the suite itself replays the corpus and
# runs a few hundred inputs). A crash leaves its input in .build/fuzz/TARGET.current.
FUZZ_SECONDS ?= 120
FUZZ_SEED ?= $(shell date +%s)
fuzz: fuzz-parsers fuzz-scripthost

fuzz-parsers: lua
	mkdir -p .build/fuzz
	$(SWIFT) build --build-tests
	@echo "fuzzing with seed $(FUZZ_SEED) for $(FUZZ_SECONDS) s per target"
	SENTINEL_FUZZ_SECONDS=$(FUZZ_SECONDS) SENTINEL_FUZZ_ITERATIONS=100000000 SENTINEL_FUZZ_SEED=$(FUZZ_SEED) \
		SENTINEL_FUZZ_SAVE="$(CURDIR)/.build/fuzz" $(SWIFT) test --skip-build --filter MutationFuzzTests \
		|| { echo "inputs under test when it failed: .build/fuzz/*.current (seed $(FUZZ_SEED))"; exit 1; }

# The sequential judge's full calibration (docs/decisions.md, "The sequential
# judge"): 1,000 seeded canary steps per case, false alarms against their
# Wilson bounds, power, negative controls; prints the figures. `make test` runs
# a few hundred steps only (SequentialCalibrationTests, TwoSampleMartingaleTests).
calibration: lua
	SENTINEL_CALIBRATION=1 $(SWIFT) test --filter "ShadowEvalTests.SequentialCalibration|ShadowEvalTests.TwoSampleMartingale"

# kill -9 of `sentinel run` during state saves and audit writes, many times.
CHAOS_KILLS ?= 150
chaos: lua
	$(SWIFT) build --product sentinel
	Tests/cli/kill-during-saves.sh "$$($(SWIFT) build --show-bin-path)/sentinel" $(CHAOS_KILLS)

# The suites that exercise threads, under ThreadSanitizer, in a build folder
# of their own (a second full build: outside `make test`).
TSAN_SUITES := ConcurrentReconfigurationTests|PipelineTests|BulkheadTests|KnobTests|ShadowTests|WindowTests|AuditTests|AuditDurabilityTests|TrialWiringTests|OneDoorTests|FreezeTests|HotReloadTests|ReloadWatcherTests|ScriptEngineTests|WorkloadTests|SimulationRunTests
tsan: lua
	$(SWIFT) test --sanitize=thread --scratch-path .build-tsan --filter "$(TSAN_SUITES)"

# swift-format with the repository's .swift-format: `format` rewrites, `lint` only reports (CI runs it).
FORMAT_PATHS := Sources Tests examples Benchmarks/*Benchmarks Benchmarks/HTTPLoad Package.swift Benchmarks/Package.swift
format:
	swift format format --in-place --recursive --parallel --configuration .swift-format $(FORMAT_PATHS)

lint:
	python3 Tests/cli/layers.py
	swift format lint --strict --recursive --parallel --configuration .swift-format $(FORMAT_PATHS)

benchmarks: lua
	cd Benchmarks && $(SWIFT) package --allow-writing-to-package-directory benchmark

# The admin API under load (docs/performance.md, "Admin API under load"): a release build of
# `sentinel run --admin` on loopback, LOAD_SECONDS measured (after LOAD_WARMUP) of LOAD_READS
# reads/s and LOAD_COMMANDS commands/s while scripts evaluate. Fails on any error, missed tick
# or lost event. Not part of `make test`. LOAD_BUILD=debug measures the debug build instead.
LOAD_SECONDS ?= 60
LOAD_WARMUP ?= 3
LOAD_READS ?= 1000
LOAD_COMMANDS ?= 100
LOAD_BUILD ?= release
load-admin: lua
	$(SWIFT) build -c $(LOAD_BUILD) --product sentinel
	python3 Benchmarks/AdminLoad/admin_load.py "$$($(SWIFT) build -c $(LOAD_BUILD) --show-bin-path)/sentinel" \
		--seconds $(LOAD_SECONDS) --warmup $(LOAD_WARMUP) --reads $(LOAD_READS) --commands $(LOAD_COMMANDS) \
		--report .build/admin-load.json

# The fleet on PostgreSQL under failures (docs/performance.md, "Fleet on PostgreSQL"): FLEET_INSTANCES
# `sentinel run --fleet` processes of a $(FLEET_BUILD) build on one throw-away PostgreSQL server, commands
# to random instances all along; how fast a command reaches every instance (p50/p99), FLEET_KILLS
# SIGKILLs of the leader (failover p50/p99) and FLEET_RESTARTS restarts of the server, then every
# instance's audit file: fails when a command was lost or doubled. Writes .build/fleet-harness.json.
# FLEET_ARGS adds options (--commands, --rate, --lease, --keep: see the script). Not part of `make test`:
# some 20 minutes or more at the defaults (each kill waits for the instance to be back), and 50
# debug instances alone fill 2 cores.
FLEET_INSTANCES ?= 50
FLEET_KILLS ?= 100
FLEET_RESTARTS ?= 10
FLEET_BUILD ?= release
FLEET_ARGS ?=
fleet-harness: lua postgres-tools
	$(SWIFT) build -c $(FLEET_BUILD) --product sentinel
	Tests/fleet/with-postgres.sh python3 Benchmarks/FleetHarness/fleet_harness.py \
		"$$($(SWIFT) build -c $(FLEET_BUILD) --show-bin-path)/sentinel" \
		--instances $(FLEET_INSTANCES) --kills $(FLEET_KILLS) --restarts $(FLEET_RESTARTS) \
		--json .build/fleet-harness.json $(FLEET_ARGS)

# PipelineMiddleware under wrk on loopback (docs/performance.md, "Under wrk on loopback"): one
# release HTTPLoadServer, wrk -t$(HTTP_THREADS) -c$(HTTP_CONNECTIONS) --latency against /bare and
# $(HTTP_ROUTE) in alternation, HTTP_ROUNDS rounds of HTTP_SECONDS each after HTTP_WARMUP seconds
# per route; prints the throughput ratio and p50/p99 with their spread, writes .build/http-load.json.
# HTTP_PIN=1 puts the server on CPU 0 and wrk on CPU 1. Installs wrk if missing. Not part of `make test`.
HTTP_ROUNDS ?= 7
HTTP_SECONDS ?= 10
HTTP_WARMUP ?= 5
HTTP_THREADS ?= 1
HTTP_CONNECTIONS ?= 32
HTTP_ROUTE ?= /guarded
HTTP_PIN ?= 0
http-load: lua
	@if command -v wrk >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ]; then echo "installing wrk"; $(APT_UPDATE) && apt-get install -y wrk; \
	else echo "wrk is missing. Install it with:"; echo "  sudo apt-get update && sudo apt-get install -y wrk"; exit 1; fi
	cd Benchmarks && $(SWIFT) build -c release --product HTTPLoadServer
	python3 Benchmarks/HTTPLoad/wrk_compare.py --server "$$(cd Benchmarks && $(SWIFT) build -c release --show-bin-path)/HTTPLoadServer" \
		--rounds $(HTTP_ROUNDS) --seconds $(HTTP_SECONDS) --warmup $(HTTP_WARMUP) --threads $(HTTP_THREADS) \
		--connections $(HTTP_CONNECTIONS) --route $(HTTP_ROUTE) $(if $(filter 1,$(HTTP_PIN)),--pin) \
		--json .build/http-load.json

# The bounded Lua libraries against the stock ones, with many more generated
# cases per function than the test suite runs (SENTINEL_DIFFERENTIAL_CASES;
# pick another generator seed with SENTINEL_DIFFERENTIAL_SEED=N).
FUZZ_CASES ?= 100000
fuzz-scripthost: lua
	SENTINEL_DIFFERENTIAL_CASES=$(FUZZ_CASES) $(SWIFT) test --filter "ScriptHostTests.(Pattern|Library)DifferentialTests"

clean:
	rm -rf .build
