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

test: venv
	$(BIN)/ruff check ftensor tests benchmarks
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) data runs exports predictions
