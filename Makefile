# Two entry points for a fresh machine: `make demo` (the main job) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of torch; set TORCH_SPEC= to let pip choose (e.g. on a CUDA box).
TORCH_SPEC ?= torch==2.13.0
export BENTOML_DO_NOT_TRACK := True

.PHONY: venv demo test lint bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(if $(TORCH_SPEC),$(BIN)/pip install -q "$(TORCH_SPEC)")
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

demo: venv
	bash scripts/demo.sh

test: lint
	$(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff check ftensor tests benchmarks
	$(BIN)/ruff format --check ftensor tests benchmarks

# Every benchmark with its defaults (about half an hour on 2 cores); the serve, generalisation and quick-start
# benchmarks read the quick start's model or log: `make demo` first.
bench: venv
	$(BIN)/python benchmarks/bench_data.py
	$(BIN)/python benchmarks/bench_train.py
	$(BIN)/python benchmarks/bench_export.py
	$(BIN)/python benchmarks/bench_serve.py
	$(BIN)/python benchmarks/bench_generalise.py
	$(BIN)/python benchmarks/bench_quickstart.py
	$(BIN)/python benchmarks/bench_blocks.py

# What the tool writes (datasets and run folders) and the virtual environment.
clean:
	rm -rf $(VENV) data runs
