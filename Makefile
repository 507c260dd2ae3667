# Two commands do all the set-up on a fresh machine (see README.md):
#   make book   build the HTML book into _build/html
#   make test   lint and format checks (ruff), then the whole test suite
#   make pdf    the book as an A4 PDF, _build/pdf/nntrain.pdf, from the chapters `make book`
#               executed (run once here if there are none); needs TeX (.ci/run installs it);
#               SOLUTIONS=1 writes the teacher's edition, _build/pdf/nntrain-teacher.pdf
#   make bench  measure speed (chapters, slider frames, twins, batched trials, the suite);
#               writes _build/bench/results.json and fails when a target is missed
#   make assignments COURSE=dir               an nbgrader course folder at dir (outside the
#                                             repository): teacher and student versions;
#                                             FORCE=1 CHAPTERS='...' rewrites released ones
#   make grade COURSE=dir SUBMISSIONS=dir     grade dir/<student>/<chapter>/<chapter>.ipynb,
#                                             JOBS=N students at a time (default: the cores)
# All create .venv when it is missing and install requirements.txt and the package.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: book pdf test bench assignments grade clean

$(STAMP): requirements.txt code/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e code
	touch $(STAMP)

# The chapters' kernels draw with matplotlib's inline backend, whatever MPLBACKEND the caller
# has (with Agg, plt.show() displays nothing and the figures would be missing from the book).
# Each chapter writes its Claims checked rows to _build/claims, which book/claims.ipynb (read
# after the chapters: Sphinx reads pages in name order) gathers into the Claims ledger.
book: $(STAMP)
	rm -rf _build/claims
	NNTRAIN_CLAIMS_DIR=$(CURDIR)/_build/claims NNTRAIN_QUIET=1 NNTRAIN_STATIC=1 MPLBACKEND=module://matplotlib_inline.backend_inline $(VENV)/bin/jupyter-book build . --warningiserror --keep-going
	@echo "The book is at file://$(CURDIR)/_build/html/index.html"

# The PDF edition: book/_ext/pdf_edition.py reuses the executed chapters in _build/jupyter_execute
# that are newer than their chapter and the package, builds with Sphinx's LaTeX builder (warnings
# and LaTeX errors are errors) and copies the PDF over the site's copy when the site has one.
pdf: $(STAMP)
	$(PY) book/_ext/pdf_edition.py $(if $(SOLUTIONS),--solutions)

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m benchmarks

# Student work and grades never enter git: COURSE must be outside the repository.
assignments: $(STAMP)
	@test -n "$(COURSE)" || { echo "usage: make assignments COURSE=../my-course [CHAPTERS='00_network 04_batchnorm' [FORCE=1]]"; exit 2; }
	$(PY) -m nntrain.classroom assign "$(COURSE)" $(CHAPTERS) --book "$(CURDIR)/book" $(if $(FORCE),--force)

grade: $(STAMP)
	@test -n "$(COURSE)" -a -n "$(SUBMISSIONS)" || { echo "usage: make grade COURSE=../my-course SUBMISSIONS=../downloads [JOBS=2]"; exit 2; }
	$(PY) -m nntrain.classroom grade "$(COURSE)" "$(SUBMISSIONS)" $(if $(JOBS),--jobs $(JOBS))

clean:
	rm -rf _build
