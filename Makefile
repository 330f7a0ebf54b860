# The two commands a fresh machine needs (see README):
#   make run    install into .venv and start the daemon with the default settings
#   make test   install into .venv (with test extras) and run the whole test suite
# Installs come from requirements.lock: exact versions, every file checked by hash.

PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install bench train lock clean

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/newsmon run

test: $(STAMP)
	$(BIN)/python -m pytest

# Retrain the stance classifier (extractors/model/stances) from the annotated corpus;
# needs ../shared for the texts (or pass SHARED=path), about a minute on 2 cores.
SHARED ?= ../shared
train: $(STAMP)
	$(BIN)/python -m extractors.train_stances --shared $(SHARED)
	$(BIN)/python extractors/corpus/calibrate.py --shared $(SHARED)

bench: $(STAMP)
	for b in tests/bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

# Regenerate the lock after changing dependencies in pyproject.toml.
lock:
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra test --generate-hashes \
		--python-version 3.11 --no-header -o requirements.lock

clean:
	rm -rf $(VENV)
