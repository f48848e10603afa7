# The commands students, instructors and CI type. `make help` lists them.
# Everything runs inside .venv, created from the pinned requirements on first use.

# The first Python that works among 3.11 (the one CI tests), 3.12 and 3.13; override with
# make PYTHON=/path/to/python3.x. tools/check_python.py says what to install when none fits.
PYTHON ?= $(shell for p in python3.11 python3.12 python3.13 python3; do \
	$$p tools/check_python.py >/dev/null 2>&1 && { command -v $$p; break; }; done)
VENV   ?= .venv
# Linux gets PyTorch's CPU build from PyTorch's own wheel index (PyPI's Linux torch is CUDA).
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
OS     := $(shell uname -s)
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.course-installed
# The course's language for `make lab`: LANG=es opens notebooks/es with JupyterLab's menus in
# Spanish, anything else English. LANG is also the POSIX locale, so a shell with LANG=es_ES.UTF-8
# gets Spanish too; COURSE_LANG=en|es overrides it (tools/lab_language.py says how it works).
COURSE_LANG ?= $(LANG)
# Notebooks are tested at the default size on a local cluster, whatever the shell says: the shell's
# form of tools.course.committed_output_env(), which the Python tools use (a test checks they agree).
TEST_ENV := env -u DASK_SCHEDULER_ADDRESS COURSE_SIZE=small PYTHONWARNINGS=
NBVAL_ARGS := --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=300 -p no:cacheprovider \
	-p tools.system_programs -rs

.PHONY: help venv system-deps lab test lint unit nbval test-browser test-book test-cluster test-other-python test-latest notebooks images dashboard-pictures bench \
	book prepare clean-data

help: ## show this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

$(STAMP): requirements.txt requirements-torch-cpu.txt constraints.txt pyproject.toml
	@[ -n "$(PYTHON)" ] || { python3 tools/check_python.py || \
		echo "No python3 found: install Python 3.11, 3.12 or 3.13 (see the README)." >&2; exit 1; }
	@$(PYTHON) tools/check_python.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet "pip>=24"
ifeq ($(OS),Linux)
	$(BIN)/python -m pip install --retries 1 --extra-index-url $(TORCH_INDEX) \
		-r requirements-torch-cpu.txt -c constraints.txt
endif
	$(BIN)/python -m pip install -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install --no-deps -e .
	touch $@

venv: $(STAMP) ## create the course environment (.venv) if missing or outdated

system-deps: ## check graphviz, Java 17+ and Chromium; install them where it can (root + apt)
	@bash tools/system_deps.sh --browser --install

lab: venv ## open JupyterLab on the course (Dask panel); LANG=es: lessons and menus in Spanish
	@bash tools/system_deps.sh --warn-only
	$(BIN)/python -m tools.lab_language "$(COURSE_LANG)" -- $(BIN)/jupyter-lab \
		--ServerApp.ip=127.0.0.1 --ServerApp.root_dir=. $(LAB_ARGS)

test: venv system-deps lint unit test-browser test-book nbval test-cluster test-other-python ## run the whole test suite (what CI runs)

lint: venv ## ruff over helpers, tests, tools and the lessons' code
	$(BIN)/ruff check helpers tests tools images benchmarks notebooks/en

unit: venv ## helpers' unit tests and doctests, build-in-sync, language, environment files, cluster security
	$(TEST_ENV) $(BIN)/python -m pytest tests -q --ignore=tests/browser
	$(TEST_ENV) $(BIN)/python -m pytest -q --doctest-modules helpers tools -p no:cacheprovider

nbval: venv ## re-run every committed notebook (both languages) and compare outputs
	$(TEST_ENV) $(BIN)/python -m pytest $(NBVAL_ARGS) notebooks/es notebooks/en -q

test-browser: venv ## JupyterLab in headless Chromium runs lesson 00 through its UI and watches its Dask panes (screenshots)
	$(TEST_ENV) $(BIN)/python -m pytest tests/browser -q --ignore=tests/browser/test_book_pages.py

test-book: venv ## build the book and check it in headless Chromium
	$(TEST_ENV) $(BIN)/python -m pytest tests/browser/test_book_pages.py -q

test-cluster: venv ## the lessons that use a cluster (tools/course.py) on `dask scheduler` + 2 `dask worker` + S3 store, each its own netns host (root; else 127.0.0.1)
	$(TEST_ENV) COURSE_EXTERNAL_CLUSTER=1 $(BIN)/python -m pytest tests/external_cluster -v --durations=0

test-other-python: venv ## unit tests + lessons 00-02 on a second Python (3.12/3.13) if this machine has one
	$(TEST_ENV) NBVAL_ARGS="$(NBVAL_ARGS)" bash tools/other_python.sh

test-latest: venv ## not in `make test`: newest releases in a throwaway env, unit tests + every notebook -> docs/latest-report.md
	$(BIN)/python -m tools.latest --python $(PYTHON)

notebooks: venv ## rebuild and execute both languages from lessons/ (LESSONS="03 04" for some)
	$(BIN)/python -m tools.build_notebooks $(LESSONS)

book: venv ## build the course as a static bilingual HTML book in build/book/html (open build/book/html/index.html)
	$(BIN)/python -m tools.book

images: venv ## redraw the pictures in images/ from their scripts
	$(BIN)/python images/make_images.py

dashboard-pictures: venv ## retake images/dashboard_{es,en}.png: lesson 00 + Dask panes mid-computation (Chromium)
	$(TEST_ENV) $(BIN)/python -m images.dashboard_pictures

bench: venv ## execute every notebook, record time/memory/speed-ups in benchmarks/results.md
	$(BIN)/python -m benchmarks.run_benchmarks $(LESSONS)

prepare: venv ## run every lesson once before a class (caches data; COURSE_SIZE=full for big runs)
	$(BIN)/python -m tools.prepare $(LESSONS)

clean-data: ## delete generated data (it is regenerated on demand)
	rm -rf data
