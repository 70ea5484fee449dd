# Newsdesk: `make run` and `make test` are all a new machine needs.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(PY) -m pip
export HF_HUB_OFFLINE = 1
export TRANSFORMERS_OFFLINE = 1
export TOKENIZERS_PARALLELISM = false

.PHONY: install run test test-fast lint layout bench eval clean

install: $(VENV)/.installed

# torch is pinned and installed first: a bare requirement would pull a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[dev]'
	touch $@

run: install
	$(VENV)/bin/newsdesk start

# `make test` runs everything. `make test-fast` is the quick run: it leaves out the tests marked `slow` (the
# real embedding model, the loopback Discord, `newsdesk` in a subprocess; tests/conftest.py marks them).
test: install
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

test-fast: install
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -m "not slow"

lint: install
	$(VENV)/bin/ruff check .

# The yardstick of the layout: functions over 60 lines, classes over 250 and import circles in index/ and bot/.
layout: install
	$(PY) -m tests.layout

bench: install
	$(PIP) install -q -e '.[dev,fast]'
	$(PY) -m benchmarks.run

eval: install
	$(PY) -m benchmarks.eval_all

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
