# The two commands of the README: `make demo` and `make test`, on a fresh machine, as root.
# Both install what the machine lacks: Debian packages, then a virtualenv in .venv.

VENV    ?= .venv
PYTHON  := $(VENV)/bin/python
# The interpreter the virtualenv is made from: Debian's own, built with PGO and LTO, runs
# netplan 11-24% faster than a build without them such as pyenv's default, which may come
# first on PATH (docs/benchmarks.md, "Session 25"). `make PY3=python3.12 ...` for another.
PY3     ?= $(firstword $(wildcard /usr/bin/python3) python3)
BASE    := import os, sys; print(os.path.realpath(sys._base_executable))
# sudo: lab tests log in as a Vagrant-like user; vagrant: `vagrant validate` in the unit tests
# (Debian's package without recommends: Ruby and gems, ~14 MB, no hypervisor);
# graphviz: `netplan graph --format svg|png`, and the unit tests parse its DOT with `dot`.
DEBS    := iproute2 iputils-ping nftables openssh-server procps util-linux curl sudo vagrant graphviz
SANDBOX := tests/sandbox.sh
# `make bench` only: Mininet, one of the ways compared (its LinuxBridge switch needs brctl);
# GNU time measures the peak RSS of netplan; strace counts the add's netlink writes.
BENCH_DEBS := mininet bridge-utils time strace
# e.g. make bench BENCH_ARGS="--sizes 10,100,500 --rounds 3"; "--quick" for a smoke test.
BENCH_ARGS ?=

.PHONY: all deps venv lint test unit demo bench bench-deps fuzz clean reliability

all: test

deps:
	@missing=""; \
	for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	$(PY3) -c 'import ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# Made again when pyproject.toml changes, or when it was made from another interpreter.
ifneq ($(shell $(PYTHON) -c '$(BASE)' 2>/dev/null),$(shell $(PY3) -c '$(BASE)'))
.PHONY: $(VENV)/.installed
endif
$(VENV)/.installed: pyproject.toml
	$(PY3) -m venv --clear $(VENV)
	$(PYTHON) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PYTHON) -m pip install -q -e '.[dev]'
	touch $@

venv: deps $(VENV)/.installed

lint: venv
	$(VENV)/bin/ruff check netplan providers tests bench
	$(VENV)/bin/mypy

# Every tier in one pytest run, inside a throwaway network + mount namespace; one pytest-xdist
# worker per core, each in a sandbox of its own (tests/conftest.py), a test file per worker.
test: lint
	$(SANDBOX) $(PYTHON) -m pytest -q -n auto --dist loadfile

unit: venv
	$(PYTHON) -m pytest -q tests/unit

# The fuzzers' long run (tests/fuzzing.py): random inputs, 20x as many as in `make test`,
# failures kept in .hypothesis/ and tried first next time; prints each fuzzer's outcomes.
fuzz: venv
	$(SANDBOX) env NETPLAN_FUZZ=long $(PYTHON) -m pytest -q --hypothesis-show-statistics \
		tests/unit/test_loader_fuzz.py tests/unit/test_inverse.py tests/e2e/test_fuzz_apply.py \
		tests/multihost/test_overlay_fuzz.py

# The fault-injection harnesses' long run (tests/reliability/, docs/reliability.md): 50 crash
# trials on this host and 21 on a lab of 3 hosts, 100 + 40 drift changes and each drift kind
# alone on the lab, foreign objects present; figures printed at the end
# (NETPLAN_RELIABILITY_REPORT=FILE also writes them as JSON).
reliability: venv
	$(SANDBOX) env NETPLAN_RELIABILITY=long $(PYTHON) -m pytest -q -s tests/reliability

demo: venv
	$(SANDBOX) env PATH="$(CURDIR)/$(VENV)/bin:$$PATH" topologies/demo.sh

bench-deps: deps
	@missing=""; \
	for p in $(BENCH_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages for bench:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(VENV)/.bench-installed: $(VENV)/.installed
	$(PYTHON) -m pip install -q --disable-pip-version-check -e '.[dev,bench]'
	touch $@

bench: venv bench-deps $(VENV)/.bench-installed
	$(SANDBOX) $(PYTHON) bench/apply_bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis *.egg-info
