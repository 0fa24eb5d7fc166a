# The two commands of the README: `make demo` and `make test`, on a fresh machine, as root.
# Both install what the machine lacks: Debian packages, then a virtualenv in .venv.

VENV    ?= .venv
PYTHON  := $(VENV)/bin/python
# sudo: lab tests log in as a Vagrant-like user; vagrant: `vagrant validate` in the unit tests
# (Debian's package without recommends: Ruby and gems, ~14 MB, no hypervisor).
DEBS    := iproute2 iputils-ping nftables openssh-server procps util-linux curl sudo vagrant
SANDBOX := tests/sandbox.sh

.PHONY: all deps venv lint test unit demo bench clean

all: test

deps:
	@missing=""; \
	for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	python3 -c 'import ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PYTHON) -m pip install -q -e '.[dev]'
	touch $@

venv: deps $(VENV)/.installed

lint: venv
	$(VENV)/bin/ruff check netplan providers tests bench
	$(VENV)/bin/mypy

# Every tier in one pytest run, inside a throwaway network + mount namespace.
test: lint
	$(SANDBOX) $(PYTHON) -m pytest -q

unit: venv
	$(PYTHON) -m pytest -q tests/unit

demo: venv
	$(SANDBOX) env PATH="$(CURDIR)/$(VENV)/bin:$$PATH" topologies/demo.sh

bench: venv
	$(SANDBOX) $(PYTHON) bench/apply_bench.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis *.egg-info
