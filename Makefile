# The two commands a newcomer needs (README): `make run` and `make test`. Both install what they need.
SWIFT ?= swift
RELEASE_BIN := .build/release/sideman
PRESET ?= default

.PHONY: setup build release run test bench clean

setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release --product sideman

# Starts the daemon on the default preset.
run: release
	bash scripts/run.sh $(RELEASE_BIN) $(PRESET)

# Unit, property, fuzz and integration tests (real jackd, real external clients).
test: setup
	bash scripts/test.sh

clean:
	rm -rf .build
