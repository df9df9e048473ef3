# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.14
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo demo-cli serve test lint typecheck unit card fuzz bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

# A real Home Assistant with a simulated home, planned by the service (demo/run.py).
demo: $(STAMP)
	$(BIN)/python demo/run.py

# The optimizer alone: the plan for a JSON problem, summarised.
demo-cli: $(STAMP)
	$(BIN)/flexems-optimizer schedule examples/home-battery.json --summary

serve: $(STAMP)
	$(BIN)/flexems-optimizer serve --port 8099 --data-dir data

lint: $(STAMP)
	$(BIN)/ruff check addon custom_components tests bench demo conftest.py
	$(BIN)/ruff format --check addon custom_components tests bench demo conftest.py

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest --hypothesis-profile=repeatable \
		--cov=custom_components/flexems --cov-report=term --cov-fail-under=95

# Fresh random examples: the optimizer's property tests, and schemathesis against the real
# server (300 requests per operation; run it a few times after a change).
fuzz: $(STAMP)
	$(BIN)/pytest --hypothesis-profile=fuzz tests/optimizer -k "properties or garbage"
	FLEXEMS_FUZZ_EXAMPLES=300 $(BIN)/pytest --no-cov tests/api/test_fuzz_api.py

# The plan card's logic, in Node (the machine's node; no packages needed).
card:
	node --experimental-detect-module --test tests/card/

test: lint typecheck unit card

bench: $(STAMP)
	$(BIN)/python bench/optimizer.py
	$(BIN)/python bench/service.py
	$(BIN)/python bench/replan_latency.py
	$(BIN)/python bench/hard_homes.py
	$(BIN)/python bench/s2_reception.py
	$(BIN)/python bench/s2_instructions.py
	$(BIN)/python bench/community.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
