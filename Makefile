# Shortcuts for the README's two commands, scripts/run.sh and scripts/test.sh, which need no make.
SWIFT ?= swift
PRESET ?= default

PREFIX ?= /usr/local

.PHONY: setup build release run test bench clean install

setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release --product sideman

# The program, the presets with their models, the systemd units and completions under PREFIX
# (same as scripts/install.sh; DESTDIR stages it).
install:
	bash scripts/install.sh $(PREFIX)

# Starts the daemon on the default preset (same as scripts/run.sh).
run:
	bash scripts/run.sh $(PRESET)

# Unit, property, fuzz and integration tests (real jackd, real external clients); same as scripts/test.sh.
test:
	bash scripts/test.sh

clean:
	rm -rf .build
