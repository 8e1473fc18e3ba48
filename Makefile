# The two commands the README promises: `make run` and `make test`.
# Both (re)build .venv first when it is missing, was made by another Python,
# or is older than requirements.txt / setup.py / the Melting Pot installer.
# `make venv VENV=/tmp/v` builds a venv elsewhere (e.g. to try a fresh one).
PYTHON ?= python3.11
VENV ?= .venv
STAMP := $(VENV)/.installed
PY := $(VENV)/bin/python
CONFIG ?= configs/catch.py
ARGS ?=
# `make test` runs the suite in this many processes (pytest-xdist), one test
# file per process at a time; 1 runs it in pytest's own process.
TEST_PROCESSES ?= 2

.PHONY: run test bench venv clean

venv: $(STAMP)

$(STAMP): requirements.txt setup.py tools/install_meltingpot.py
	@if [ -x $(PY) ] && ! $(PY) -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null; then \
	  echo "[make] $(VENV) was built by another Python: rebuilding"; rm -rf $(VENV); fi
	@[ -x $(PY) ] || { echo "[make] creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@echo "[make] installing requirements into $(VENV) (first time takes a few minutes)"
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	$(PY) tools/install_meltingpot.py  # Unpacked, not built: see the script.
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m launch.local --config=$(CONFIG) $(ARGS)

test: $(STAMP)
	$(PY) -m pytest tests $(if $(filter-out 1,$(TEST_PROCESSES)),-n $(TEST_PROCESSES) --dist loadfile) $(ARGS)

bench: $(STAMP)
	for b in bench/[a-z]*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
