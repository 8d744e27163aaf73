# lifetop build: `make` builds, `make run` starts the UI, `make test` runs every test,
# `make install` / `make uninstall` (PREFIX, DESTDIR) put it on the machine or take it away.
# Each step runs only when its inputs changed; nothing prints when nothing did.
SHELL := /bin/bash
.DEFAULT_GOAL := all
.SUFFIXES:
MAKEFLAGS += --no-print-directory

DEBIAN_PKGS := clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool cmake pkg-config tmux python3-uvicorn \
  man-db libcap2-bin util-linux
# Installed without their recommendations (prometheus would bring node-exporter, another service).
# Tests start their own prometheus server; the packaged service is stopped and disabled at install.
DEBIAN_PKGS_BARE := prometheus
DEBIAN_SERVICES_OFF := prometheus
ADDON := build/Release/lifetop.node
TS_OUT := dist/cli.js
TS_SRC := $(shell find src -name '*.ts')
NATIVE_SRC := CMakeLists.txt $(wildcard bpf/*.c bpf/*.h native/*.cc native/*.h)
DOCS := build/doc/lifetop.1 build/doc/lifetop.bash

PREFIX ?= /usr/local
DESTDIR ?=
LIBDIR := $(PREFIX)/lib/lifetop

.PHONY: all deps run test test-unit test-kernel test-tui bench bench-deps soak clean install uninstall

all: deps $(ADDON) $(TS_OUT) $(DOCS)
	@:

# Install what is missing (Debian packages as root, npm packages from the lock file).
deps: node_modules/.installed
	@missing() { dpkg-query -W -f='$${db:Status-Abbrev} $${Package}\n' $$* 2>/dev/null \
	  | awk '$$1 == "ii" { print $$2 }' | sort | comm -13 - <(tr ' ' '\n' <<< "$$*" | sort); }; \
	full=$$(missing $(DEBIAN_PKGS)); bare=$$(missing $(DEBIAN_PKGS_BARE)); \
	if [ -n "$$full$$bare" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "lifetop: missing Debian packages: $$full $$bare (run make as root, or apt-get install them)"; exit 1; fi; \
	  echo "Installing Debian packages:" $$full $$bare; \
	  apt-get update -qq || exit 1; \
	  if [ -n "$$full" ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$full >/dev/null || exit 1; fi; \
	  if [ -n "$$bare" ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$bare >/dev/null || exit 1; fi; \
	  for svc in $(DEBIAN_SERVICES_OFF); do \
	    if [ -d /run/systemd/system ]; then systemctl disable --now -q $$svc 2>/dev/null; \
	    else invoke-rc.d $$svc stop >/dev/null 2>&1; update-rc.d $$svc disable >/dev/null 2>&1; fi; \
	  done; true; \
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

# The man page and bash completion come from the same option text as --help (src/doc/manpage.ts).
$(DOCS) &: $(TS_OUT) package.json
	@node dist/doc/manpage.js build/doc

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

# The tools lifetop is compared with (bench/overhead.sh skips any that is missing).
BENCH_PKGS := libbpf-tools bpftrace forkstat

bench-deps:
	@missing=$$(for p in $(BENCH_PKGS); do dpkg-query -W -f='$${db:Status-Abbrev}' $$p 2>/dev/null | grep -q '^ii' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "lifetop: missing bench packages:" $$missing "(run make as root)"; exit 1; fi; \
	  echo "Installing Debian packages:" $$missing; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# One table for the run (bench/overhead.sh: the storm alone and under each tracer, the table pane's
# frame cost), then the chart's frame cost. `make soak` (SECONDS, default 600): RSS and CPU every 30 s.
bench: all bench-deps
	@bench/overhead.sh
	@node bench/chart.js

soak: all
	@bench/soak.sh $(SECONDS)

# $(PREFIX)/lib/lifetop holds the launcher, the compiled JS, the addon (the BPF object is inside it,
# as its skeleton) and the production npm packages; $(PREFIX)/bin/lifetop links to the launcher.
install: all
	@rm -rf $(DESTDIR)$(LIBDIR)
	@install -d $(DESTDIR)$(LIBDIR)/bin $(DESTDIR)$(LIBDIR)/build/Release $(DESTDIR)$(LIBDIR)/node_modules \
	  $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	  $(DESTDIR)$(PREFIX)/share/doc/lifetop
	@install -m 755 bin/lifetop $(DESTDIR)$(LIBDIR)/bin/lifetop
	@install -m 644 package.json $(DESTDIR)$(LIBDIR)/package.json
	@install -m 755 $(ADDON) $(DESTDIR)$(LIBDIR)/$(ADDON)
	@cp -R dist $(DESTDIR)$(LIBDIR)/dist
	@npm ls --omit=dev --all --parseable 2>/dev/null | sed -n 's#^$(CURDIR)/node_modules/##p' \
	  | while read -r pkg; do mkdir -p "$(DESTDIR)$(LIBDIR)/node_modules/$$(dirname "$$pkg")"; \
	    cp -R "node_modules/$$pkg" "$(DESTDIR)$(LIBDIR)/node_modules/$$pkg"; done
	@test -d $(DESTDIR)$(LIBDIR)/node_modules/prom-client -a -d $(DESTDIR)$(LIBDIR)/node_modules/blessed
	@chmod -R u=rwX,go=rX $(DESTDIR)$(LIBDIR)
	@ln -sfn ../lib/lifetop/bin/lifetop $(DESTDIR)$(PREFIX)/bin/lifetop
	@install -m 644 build/doc/lifetop.1 $(DESTDIR)$(PREFIX)/share/man/man1/lifetop.1
	@install -m 644 build/doc/lifetop.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/lifetop
	@sed 's#/usr/local/bin/lifetop#$(PREFIX)/bin/lifetop#g' contrib/lifetop.service > $(DESTDIR)$(PREFIX)/share/doc/lifetop/lifetop.service
	@install -m 644 contrib/prometheus.yml contrib/alerts.yml $(DESTDIR)$(PREFIX)/share/doc/lifetop/
	@echo "Installed lifetop in $(DESTDIR)$(PREFIX)"

uninstall:
	@rm -rf $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PREFIX)/share/doc/lifetop
	@rm -f $(DESTDIR)$(PREFIX)/bin/lifetop $(DESTDIR)$(PREFIX)/share/man/man1/lifetop.1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/lifetop

clean:
	rm -rf build dist build.log
