# Two commands set everything up on a fresh Debian machine:
#   make run    installs Lua if missing, builds, runs the canary recipe in the simulator
#   make test   installs Lua if missing, runs the whole test suite
SWIFT ?= swift
LUA_PACKAGE := liblua5.4-dev

.PHONY: run test build lua benchmarks fuzz-scripthost clean

lua:
	@if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists lua5.4; then :; \
	elif [ "$$(id -u)" = "0" ]; then \
		echo "Lua 5.4 is missing: installing $(LUA_PACKAGE)"; \
		apt-get update && apt-get install -y $(LUA_PACKAGE) pkg-config; \
	else \
		echo "Lua 5.4 is missing. Install it with:"; \
		echo "  sudo apt-get update && sudo apt-get install -y $(LUA_PACKAGE) pkg-config"; \
		exit 1; \
	fi

build: lua
	$(SWIFT) build

run: lua
	$(SWIFT) build --product sentinel
	"$$($(SWIFT) build --show-bin-path)/sentinel" simulate examples/recipes/canary/healthy.yaml

test: lua
	$(SWIFT) test
	$(SWIFT) build --product sentinel
	Tests/cli/sentinel-cli.sh "$$($(SWIFT) build --show-bin-path)/sentinel"

benchmarks: lua
	cd Benchmarks && $(SWIFT) package --allow-writing-to-package-directory benchmark

# The bounded Lua libraries against the stock ones, with many more generated
# cases per function than the test suite runs (SENTINEL_DIFFERENTIAL_CASES;
# pick another generator seed with SENTINEL_DIFFERENTIAL_SEED=N).
FUZZ_CASES ?= 100000
fuzz-scripthost: lua
	SENTINEL_DIFFERENTIAL_CASES=$(FUZZ_CASES) $(SWIFT) test --filter "ScriptHostTests.(Pattern|Library)DifferentialTests"

clean:
	rm -rf .build
