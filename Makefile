# lifetop build: `make` builds, `make run` starts the UI, `make test` runs every test.
# Each step runs only when its inputs changed; nothing prints when nothing did.
SHELL := /bin/bash
.DEFAULT_GOAL := all
.SUFFIXES:
MAKEFLAGS += --no-print-directory

DEBIAN_PKGS := clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool cmake pkg-config tmux python3-uvicorn
ADDON := build/Release/lifetop.node
TS_OUT := dist/cli.js
TS_SRC := $(shell find src -name '*.ts')
NATIVE_SRC := CMakeLists.txt $(wildcard bpf/*.c bpf/*.h native/*.cc native/*.h)

.PHONY: all deps run test test-unit test-kernel test-tui bench clean

all: deps $(ADDON) $(TS_OUT)
	@:

# Install what is missing (Debian packages as root, npm packages from the lock file).
deps: node_modules/.installed
	@missing=$$(dpkg-query -W -f='$${db:Status-Abbrev} $${Package}\n' $(DEBIAN_PKGS) 2>/dev/null \
	  | awk '$$1 == "ii" { print $$2 }' | sort | comm -13 - <(tr ' ' '\n' <<< "$(DEBIAN_PKGS)" | sort)); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "lifetop: missing Debian packages: $$missing (run make as root, or apt-get install them)"; exit 1; fi; \
	  echo "Installing Debian packages: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

node_modules/.installed: package.json package-lock.json
	@echo "Installing npm packages"
	@npm ci --no-audit --no-fund --loglevel=error 2>&1 | grep -v 'Unknown user config' || true
	@test -d node_modules/blessed
	@touch $@

$(ADDON): $(NATIVE_SRC) | deps
	@echo "Building BPF programs and native addon"
	@node_modules/.bin/cmake-js build --log-level error >build.log 2>&1 || { cat build.log; exit 1; }
	@touch $@

$(TS_OUT): $(TS_SRC) tsconfig.json node_modules/.installed
	@echo "Compiling TypeScript"
	@rm -rf dist && node_modules/.bin/tsc -p tsconfig.json
	@touch $@

run: all
	@./bin/lifetop $(ARGS)

test: all
	@node_modules/.bin/tsc -p tsconfig.test.json  # the tests type-check too: vitest only strips types
	@node_modules/.bin/vitest run

test-unit: all
	@node_modules/.bin/vitest run test/unit

test-kernel: all
	@node_modules/.bin/vitest run test/kernel

test-tui: all
	@node_modules/.bin/vitest run test/tui

bench: all
	@bench/overhead.sh
	@node bench/table.js
	@node bench/chart.js

clean:
	rm -rf build dist build.log
