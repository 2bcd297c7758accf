# Everything a fresh machine needs: `make demo` and `make test` build .venv on their own.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check

.PHONY: demo test bench lint data text-data venv clean

# the library and its runtime dependencies
$(VENV)/.base: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -e .
	touch $@

# test tools; torch==2.13.0 (CPU wheel) is a test dependency only; ray for the sweep runner's Ray test;
# text for the summarizer's tokenizer and ROUGE
$(VENV)/.test: $(VENV)/.base
	$(PIP) install -q -e '.[test,ray,text]'
	touch $@

venv: $(VENV)/.base

# find Fashion-MNIST ($$SCRATCHNN_DATA, user cache, Debian package folder) or download it;
# with no internet on a Debian-like machine, install the dataset-fashion-mnist package
data: $(VENV)/.base
	@$(PY) -m scratchnn data fashion-mnist || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then SUDO=""; \
	  elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	  else echo "make: get Fashion-MNIST as the message above says, then run 'make demo' again" >&2; exit 1; fi; \
	  echo "make: installing the Debian package dataset-fashion-mnist"; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq dataset-fashion-mnist >/dev/null && \
	  $(PY) -m scratchnn data fashion-mnist --no-download; }

# the English descriptions of Debian packages (the text areas' corpus): parse apt's lists into the user cache
# and print the counts; where the lists lack them, fetch them with apt-get as root (or passwordless sudo)
APT_LISTS := /var/lib/apt/lists
text-data: $(VENV)/.base
	@if ! ls $(APT_LISTS)/*_i18n_Translation-en* >/dev/null 2>&1; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then SUDO=""; \
	  elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	  else echo "make: $(APT_LISTS) has no English package descriptions: run 'apt-get -o Acquire::Languages=en update' as root (on Debian or Ubuntu), then 'make text-data' again" >&2; exit 1; fi; \
	  echo "make: fetching the English package descriptions (apt-get -o Acquire::Languages=en update)"; \
	  $$SUDO apt-get -o Acquire::Languages=en update -qq || exit 1; \
	fi; \
	$(PY) -m scratchnn data debian --lists-dir $(APT_LISTS)

# the MLP (area 1, about 0.89 in under a minute) and the CNN (area 4, about 0.91 in about 4 minutes)
demo: data
	$(PY) -m scratchnn train mlp --epochs 10
	$(PY) -m scratchnn train cnn --epochs 3

test: $(VENV)/.test
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy
	$(PY) -m pytest

lint: $(VENV)/.test
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy

# benchmarks run with OpenBLAS's own kernel choice (the two variables force an older, slower one)
bench: $(VENV)/.test data
	@for b in benchmarks/bench_*.py; do echo "== $$b"; env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
