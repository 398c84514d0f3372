# The two commands of the README. Both do all setup first (scripts/setup.sh, idempotent).
VENV    := .venv
PYTEST_ARGS ?=
export SOAPY_SDR_PLUGIN_PATH := $(CURDIR)/build/loopback

.PHONY: setup test demo bench lint clean

setup:
	@bash scripts/setup.sh $(SETUP_ARGS)

test: setup
	@mkdir -p build/soapy-root
	SOAPY_SDR_ROOT=$(CURDIR)/build/soapy-root $(VENV)/bin/python -m pytest $(PYTEST_ARGS)

demo: setup
	$(VENV)/bin/sdrcast demo --out demo-output

bench: setup
	$(VENV)/bin/python benchmarks/kernels.py
	$(VENV)/bin/python benchmarks/fec.py --quick

lint: setup
	$(VENV)/bin/ruff check sdrcast tests benchmarks examples

clean:
	rm -rf build demo-output .pytest_cache
