# aiplatform.obot — developer entry points. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .cache/venv
BIN         := $(VENV)/bin
COLLECTIONS := .cache/collections
LINK        := $(COLLECTIONS)/ansible_collections/aiplatform/obot
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/$(COLLECTIONS)
export PATH := $(CURDIR)/$(BIN):$(PATH)
export SOPS_DISABLE_VERSION_CHECK := 1
PYTEST      := PYTHONPATH=tests $(BIN)/python -m pytest
TESTBED     := PYTHONPATH=tests $(BIN)/python -m testbed

.PHONY: help setup test sanity lint units cluster-tests integration molecule reliability cluster-up cluster-down demo demo-down bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

setup: $(VENV)/.installed $(LINK) ## Create the virtualenv (Python 3.12+, ansible, test tools) and link the collection

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || "$$(hack/find-python.sh)" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

$(LINK):
	mkdir -p $(dir $(LINK))
	ln -sfn ../../../.. $(LINK)

test: setup sanity lint units cluster-tests reliability ## Run every test

# The tests that need the local control plane share one; it is stopped afterwards unless it
# was already running.
cluster-tests: setup
	@was_up=1; $(TESTBED).controlplane status >/dev/null 2>&1 || was_up=0; \
	$(TESTBED).controlplane up && $(MAKE) --no-print-directory integration molecule; status=$$?; \
	[ $$was_up = 1 ] || $(TESTBED).controlplane down; exit $$status

sanity: setup ## ansible-test sanity (offline, no ignore files)
	hack/ansible-test-sanity.sh

lint: setup ## ansible-lint, production profile
	$(BIN)/ansible-lint --profile production

units: setup ## Unit tests of filters, module_utils and modules
	$(PYTEST) tests/unit

integration: setup ## Integration tests on the local control plane, Keycloak, PostgreSQL and the RustFS fake
	$(PYTEST) tests/integration

reliability: setup ## API server and RustFS killed mid-run, concurrent converges, secret hygiene (private control plane)
	$(PYTEST) tests/reliability

molecule: setup ## Molecule scenarios on the local control plane (make cluster-up first; scenario kind needs Docker)
	$(BIN)/molecule test -s default
	$(BIN)/molecule test -s full_stack

cluster-up: setup ## Build (once, cached) and start the local Kubernetes control plane
	$(TESTBED).controlplane up

cluster-down: setup ## Stop the local Kubernetes control plane
	$(TESTBED).controlplane down

demo: setup ## Deploy the whole stack into the local control plane twice; the second run changes nothing
	hack/demo.sh

demo-down: setup ## Stop the demo's Keycloak and RustFS fake (the control plane: make cluster-down)
	$(TESTBED).demo down

bench: setup ## Benchmarks against a one-process baseline; JSON results under .cache/bench/
	$(PYTEST) tests/bench -s

clean: ## Stop local services and remove .cache (keeps the ~/.cache build cache)
	-$(TESTBED).demo down
	-$(TESTBED).controlplane down
	rm -rf .cache
