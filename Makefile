# Two commands do everything on a fresh machine: `make demo` and `make test`.
# Both create .venv if it is absent and install the package, every extra and the dev tools into it.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.stronglth-installed
JOBS ?= 2

.PHONY: setup demo test test-thorough lint typecheck check format bench docs clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, pinned: a bare range would pull a multi-GB CUDA build where no torch is present.
	$(PY) -m pip show torch >/dev/null 2>&1 || $(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[all,dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/stronglth demo

test: $(STAMP)
	$(PY) -m pytest -q -n $(JOBS)

test-thorough: $(STAMP)
	HYPOTHESIS_PROFILE=thorough $(PY) -m pytest -q -n $(JOBS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

check: lint typecheck test

docs: $(STAMP)
	$(PY) -m pdoc $$(cat docs/modules.txt) -o docs/api
	@echo "API reference: docs/api/index.html; guide: docs/guide.md; theory: docs/theory.md"

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis .mypy_cache .ruff_cache
