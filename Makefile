# Two commands do all the set-up on a fresh machine (see README.md):
#   make book   build the HTML book into _build/html
#   make test   lint and format checks (ruff), then the whole test suite
#   make bench  measure speed (chapters, slider frames, twins, batched trials, the suite);
#               writes _build/bench/results.json and fails when a target is missed
# All create .venv when it is missing and install requirements.txt and the package.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: book test bench clean

$(STAMP): requirements.txt code/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e code
	touch $(STAMP)

# The chapters' kernels draw with matplotlib's inline backend, whatever MPLBACKEND the caller
# has (with Agg, plt.show() displays nothing and the figures would be missing from the book).
book: $(STAMP)
	NNTRAIN_QUIET=1 NNTRAIN_STATIC=1 MPLBACKEND=module://matplotlib_inline.backend_inline $(VENV)/bin/jupyter-book build . --warningiserror --keep-going
	@echo "The book is at file://$(CURDIR)/_build/html/index.html"

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf _build
