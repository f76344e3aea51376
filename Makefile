# The README's interface. Every target installs what it needs first.
SHELL := /bin/bash
STACK := deploy/local/stack.sh
VENV := .venv/bin

.PHONY: install run up down status test lint bench clean client

install:  ## Debian packages, the locked virtualenv, Neo4j's jars
	@bash deploy/local/install.sh

run: install  ## everything in the foreground; Ctrl-C stops it all
	@RAPPORT_STACK=dev bash $(STACK) run

up: install  ## everything in the background, returns once all is ready
	@RAPPORT_STACK=dev bash $(STACK) up

down:  ## stop what `make up` or `make run` started
	@RAPPORT_STACK=dev bash $(STACK) down

status:
	@RAPPORT_STACK=dev bash $(STACK) status

# The test stack has its own ports and data (.local/test), so tests never touch
# the dev data. It is stopped afterwards unless KEEP_STACK=1.
TEST_STACK ?= test
test: install
	@RAPPORT_STACK=$(TEST_STACK) bash $(STACK) up --infra
	@status=0; RAPPORT_STACK=$(TEST_STACK) bash $(STACK) exec $(VENV)/pytest $(PYTEST_ARGS) || status=$$?; \
	 if [ "$(KEEP_STACK)" != 1 ]; then RAPPORT_STACK=$(TEST_STACK) bash $(STACK) down; fi; exit $$status

# Benchmarks (bench/README.md): a bench stack of their own (.local/bench, ports shifted by
# 30000, a bigger Neo4j), stopped afterwards unless KEEP_STACK=1; its graph is scratch
# data, loaded again by every run. SCALE=10k for a quick run, SCALE=1m for the scale
# curve's top (a page cache that holds its 3.5 GB store: bench/config.py).
SCALE ?= 100k
BENCH_NEO4J := NEO4J_HEAP=4g NEO4J_PAGECACHE_MB=$(if $(filter 1m,$(SCALE)),4096,3072)
bench: install
	@RAPPORT_STACK=bench $(BENCH_NEO4J) bash $(STACK) up --infra
	@status=0; RAPPORT_STACK=bench $(BENCH_NEO4J) bash $(STACK) exec $(VENV)/python -m bench --scale $(SCALE) || status=$$?; \
	 if [ "$(KEEP_STACK)" != 1 ]; then RAPPORT_STACK=bench bash $(STACK) down && rm -rf .local/bench/neo4j; fi; \
	 exit $$status

lint: install  ## ruff, ruff format --check, mypy --strict, import contracts, deploy files
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy
	$(VENV)/lint-imports --no-cache
	$(VENV)/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
	@bash deploy/kubernetes/validate.sh

# The TypeScript types of the API (clients/typescript/rapport.d.ts), from the OpenAPI
# document create_app() serves, by the pinned openapi-typescript; then the example
# client typed by them is compiled with tsc --strict. Commit the file with the change.
client: install
	$(VENV)/python clients/typescript/generate.py
	cd clients/typescript && node_modules/.bin/tsc --strict --noEmit -p .

clean: down
	rm -rf .local .venv deploy/local/neo4j/target
