# secrets-platform
#
# Every target runs with the project's Pulumi environment (see "Environment"
# below): a plugin cache and workspace inside the repository, a file state
# backend inside the repository, no update checks, no plugin downloads, and
# bin/ first on PATH. `make toolchain` builds the engine into bin/ and the
# provider plugins into the plugin cache; see toolchain/README.md.

SHELL       := bash
.SHELLFLAGS := -e -o pipefail -c
MAKEFLAGS   += --no-builtin-rules

# ---------------------------------------------------------------------------
# Pinned versions: toolchain/versions.txt maps each pinned Python package to
# the Go module version that provides its engine piece (checked against
# requirements.lock and the wrapper go.mod files by tests/toolchain/).

VERSIONS_FILE := toolchain/versions.txt
version_of     = $(shell awk '$$1 == "$(1)" { print $$2 }' $(VERSIONS_FILE))

PULUMI_VERSION            := $(call version_of,pulumi)
PULUMI_KUBERNETES_VERSION := $(call version_of,pulumi-kubernetes)
PULUMI_RANDOM_VERSION     := $(call version_of,pulumi-random)

# ---------------------------------------------------------------------------
# Paths

BIN_DIR         := $(CURDIR)/bin
BUILD_DIR       := $(CURDIR)/build
PLUGIN_DIR      := $(BUILD_DIR)/plugins
PULUMI_HOME_DIR := $(CURDIR)/.pulumi-home
STATE_DIR       := $(CURDIR)/.state

# ---------------------------------------------------------------------------
# Tools

GO       ?= go
PYTHON   ?= python3
GO_ENV   := GOTOOLCHAIN=local GOFLAGS=-trimpath
GO_BUILD := $(GO_ENV) $(GO) build -p 2

# Module paths used by the build recipes.
PULUMI_PKG_MOD    := github.com/pulumi/pulumi/pkg/v3
PULUMI_SDK_MOD    := github.com/pulumi/pulumi/sdk/v3
KUBERNETES_MOD    := github.com/pulumi/pulumi-kubernetes/provider/v4

# A pulumi of the pinned version already on PATH (outside bin/) is used
# instead of building one. Evaluated once, before PATH is changed below.
SYSTEM_PULUMI := $(shell \
	p=$$(PATH="$$(tr ':' '\n' <<<"$$PATH" | grep -vxF '$(BIN_DIR)' | paste -sd:)" command -v pulumi 2>/dev/null) \
	&& p=$$(readlink -f "$$p") \
	&& [ "$$(PULUMI_SKIP_UPDATE_CHECK=true "$$p" version 2>/dev/null)" = "v$(PULUMI_VERSION)" ] \
	&& echo "$$p" || true)
# Its distribution's own language host, when it ships one beside it.
SYSTEM_LANGHOST := $(if $(SYSTEM_PULUMI),$(wildcard $(dir $(SYSTEM_PULUMI))pulumi-language-python))

# ---------------------------------------------------------------------------
# Environment exported to every recipe (and to anything they run).

export PULUMI_HOME                                 := $(PULUMI_HOME_DIR)
export PULUMI_BACKEND_URL                          := file://$(STATE_DIR)
export PULUMI_SKIP_UPDATE_CHECK                    := true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION := true
export PATH                                        := $(BIN_DIR):$(PATH)

# ---------------------------------------------------------------------------
# Toolchain

ENGINE_BINS := \
	$(BIN_DIR)/pulumi \
	$(BIN_DIR)/pulumi-language-python \
	$(BIN_DIR)/pulumi-language-python-exec \
	$(BIN_DIR)/pulumi-resource-pulumi-python

# Installed plugins, as the files `pulumi plugin install` puts in the cache.
INSTALLED_PLUGINS := \
	$(PULUMI_HOME_DIR)/plugins/resource-kubernetes-v$(PULUMI_KUBERNETES_VERSION)/pulumi-resource-kubernetes \
	$(PULUMI_HOME_DIR)/plugins/resource-random-v$(PULUMI_RANDOM_VERSION)/pulumi-resource-random

.PHONY: toolchain
toolchain: $(ENGINE_BINS) $(INSTALLED_PLUGINS) | $(STATE_DIR) ## Build the engine into bin/ and install the provider plugins
	@echo "toolchain ready: $$(pulumi version) at $$(command -v pulumi); plugins in $(PULUMI_HOME)/plugins"

$(BIN_DIR) $(PLUGIN_DIR) $(STATE_DIR):
	mkdir -p $@

# The CLI, version-stamped like a release build.
$(BIN_DIR)/pulumi: toolchain/pulumi/go.mod toolchain/pulumi/go.sum $(VERSIONS_FILE) | $(BIN_DIR)
ifneq ($(SYSTEM_PULUMI),)
	ln -sfn $(SYSTEM_PULUMI) $@
else
	cd toolchain/pulumi && $(GO_BUILD) -o $@ \
		-ldflags "-s -w -X $(PULUMI_SDK_MOD)/go/common/version.Version=v$(PULUMI_VERSION)" \
		$(PULUMI_PKG_MOD)/cmd/pulumi
endif

# The Python language host (our own; see toolchain/README.md), unless the
# pinned pulumi found on PATH ships one.
$(BIN_DIR)/pulumi-language-python: toolchain/pulumi/go.mod toolchain/pulumi/go.sum \
		$(wildcard toolchain/pulumi/cmd/pulumi-language-python/*.go) $(VERSIONS_FILE) | $(BIN_DIR)
ifneq ($(SYSTEM_LANGHOST),)
	ln -sfn $(SYSTEM_LANGHOST) $@
else
	cd toolchain/pulumi && $(GO_BUILD) -o $@ \
		-ldflags "-s -w -X $(PULUMI_SDK_MOD)/go/common/version.Version=v$(PULUMI_VERSION)" \
		./cmd/pulumi-language-python
endif

# Python scripts the host and the engine expect beside the binaries; they
# ship in the sdk/v3 module (read-only in the module cache, so copy + chmod).
$(BIN_DIR)/pulumi-language-python-exec: toolchain/pulumi/go.sum | $(BIN_DIR)
	src=$$(cd toolchain/pulumi && $(GO_ENV) $(GO) mod download $(PULUMI_SDK_MOD) \
		&& $(GO_ENV) $(GO) list -m -f '{{.Dir}}' $(PULUMI_SDK_MOD)); \
	install -m 0755 "$$src/python/cmd/pulumi-language-python-exec" $@

$(BIN_DIR)/pulumi-resource-pulumi-python: toolchain/pulumi/go.sum | $(BIN_DIR)
	src=$$(cd toolchain/pulumi && $(GO_ENV) $(GO) mod download $(PULUMI_SDK_MOD) \
		&& $(GO_ENV) $(GO) list -m -f '{{.Dir}}' $(PULUMI_SDK_MOD)); \
	install -m 0755 "$$src/python/dist/pulumi-resource-pulumi-python" $@

# Provider plugins are built outside PATH (so the engine never mistakes them
# for ambient plugins) and installed into the plugin cache.
$(PLUGIN_DIR)/pulumi-resource-kubernetes: toolchain/kubernetes/go.mod toolchain/kubernetes/go.sum \
		toolchain/kubernetes/main.go toolchain/embed_schema.py $(VERSIONS_FILE) | $(PLUGIN_DIR)
	cd toolchain/kubernetes \
	&& $(GO_ENV) $(GO) mod download $(KUBERNETES_MOD) \
	&& src=$$($(GO_ENV) $(GO) list -m -f '{{.Dir}}' $(KUBERNETES_MOD))/cmd/pulumi-resource-kubernetes \
	&& $(PYTHON) ../embed_schema.py --version $(PULUMI_KUBERNETES_VERSION) \
		--schema "$$src/schema.json" --schema-out schema-embed.json \
		--mapping "$$src/terraform-mapping.json" --mapping-out terraform-mapping-embed.json \
	&& $(GO_BUILD) -o $@ \
		-ldflags "-s -w -X $(KUBERNETES_MOD)/pkg/version.Version=$(PULUMI_KUBERNETES_VERSION)" .

$(PULUMI_HOME_DIR)/plugins/resource-kubernetes-v$(PULUMI_KUBERNETES_VERSION)/pulumi-resource-kubernetes: \
		$(PLUGIN_DIR)/pulumi-resource-kubernetes $(BIN_DIR)/pulumi
	pulumi plugin install resource kubernetes $(PULUMI_KUBERNETES_VERSION) --file $< --reinstall
	touch $@

# random: our own plugin (toolchain/random/README.md), stamped with the
# pulumi_random version it serves.
$(PLUGIN_DIR)/pulumi-resource-random: toolchain/random/go.mod toolchain/random/go.sum \
		$(filter-out %_test.go,$(wildcard toolchain/random/*.go)) $(VERSIONS_FILE) | $(PLUGIN_DIR)
	cd toolchain/random && $(GO_BUILD) -o $@ \
		-ldflags "-s -w -X main.providerVersion=$(PULUMI_RANDOM_VERSION)" .

$(PULUMI_HOME_DIR)/plugins/resource-random-v$(PULUMI_RANDOM_VERSION)/pulumi-resource-random: \
		$(PLUGIN_DIR)/pulumi-resource-random $(BIN_DIR)/pulumi
	pulumi plugin install resource random $(PULUMI_RANDOM_VERSION) --file $< --reinstall
	touch $@

.PHONY: toolchain-env
toolchain-env: ## Print the toolchain environment as shell exports: eval "$(make -s toolchain-env)"
	@printf 'export %s=%q\n' \
		PULUMI_HOME "$(PULUMI_HOME)" \
		PULUMI_BACKEND_URL "$(PULUMI_BACKEND_URL)" \
		PULUMI_SKIP_UPDATE_CHECK "$(PULUMI_SKIP_UPDATE_CHECK)" \
		PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION "$(PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION)" \
		PATH "$(PATH)"

.PHONY: toolchain-clean
toolchain-clean: ## Remove built engine binaries, provider builds and installed plugins (keeps .state/ and the Go caches)
	rm -f $(ENGINE_BINS)
	rm -f $(PLUGIN_DIR)/pulumi-resource-kubernetes $(PLUGIN_DIR)/pulumi-resource-random
	rm -rf $(PULUMI_HOME_DIR)/plugins
	rm -f toolchain/*/*-embed.json

# ---------------------------------------------------------------------------
# Python environment: .venv from the lock, plus the project itself (editable)
# so the `secrets-platform` CLI entry point exists.

SYSTEM_PYTHON ?= python3.11
VENV          := $(CURDIR)/.venv
VENV_PYTHON   := $(VENV)/bin/python
VENV_STAMP    := $(VENV)/.installed

.PHONY: venv
venv: $(VENV_STAMP) ## Create .venv from requirements.lock

$(VENV_STAMP): requirements.lock pyproject.toml
	test -x $(VENV_PYTHON) || $(SYSTEM_PYTHON) -m venv $(VENV)
	$(VENV_PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(VENV_PYTHON) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

.PHONY: lock
lock: ## Re-resolve requirements.lock from the pins in pyproject.toml
	rm -rf $(BUILD_DIR)/lock-venv
	$(SYSTEM_PYTHON) -m venv $(BUILD_DIR)/lock-venv
	$(BUILD_DIR)/lock-venv/bin/pip install --quiet --disable-pip-version-check . pytest==9.2.0
	{ echo "# Locked dependency set: pip freeze of a venv built from pyproject.toml (direct pins there). Regenerate: make lock"; \
	  $(BUILD_DIR)/lock-venv/bin/pip freeze --exclude secrets-platform; } > requirements.lock

# ---------------------------------------------------------------------------
# The local stack: the embedded default (no cloud, no cluster; manifests are
# rendered into rendered/local/). Its passphrase protects nothing real.

LOCAL_PASSPHRASE := local-only-passphrase
RENDER_DIR       := $(CURDIR)/rendered/local
# No ambient kubeconfig: the local stack renders and must never reach a cluster.
LOCAL_PULUMI     := env -u KUBECONFIG PULUMI_CONFIG_PASSPHRASE=$(LOCAL_PASSPHRASE) pulumi

.PHONY: local-stack
local-stack: toolchain venv
	$(LOCAL_PULUMI) stack select --create local --non-interactive >/dev/null

.PHONY: up
up: local-stack ## Build what is missing, then `pulumi up -s local` with the policy pack
	$(LOCAL_PULUMI) up -s local --yes --policy-pack policies
	@echo
	@echo "Rendered manifests (plain-text Secrets, git-ignored): $(RENDER_DIR)"

.PHONY: preview
preview: local-stack ## `pulumi preview -s local` with the policy pack
	$(LOCAL_PULUMI) preview -s local --policy-pack policies

.PHONY: destroy
destroy: local-stack ## Remove everything the local stack created (and its rendered manifests)
	$(LOCAL_PULUMI) destroy -s local --yes
	$(LOCAL_PULUMI) stack rm local --yes --preserve-config

# ---------------------------------------------------------------------------
# Tests: the README's test command. Fast tiers first, then the engine tiers.
# pytest exits 5 when a selection holds no test: that is no failure for one
# tier, but the run as a whole must have run tests (checked by the tiers that
# always have some).

PYTEST := $(VENV_PYTHON) -m pytest
define pytest_tier
	$(PYTEST) $(1) || { rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest: no test selected by '$(1)'"; else exit $$rc; fi; }
endef

.PHONY: test
test: venv ## Every test: unit, policy pack, cross-stack check, engine end-to-end, toolchain, bench smoke
	$(VENV_PYTHON) -m policies.cross_stack
	$(PYTEST) -m "not e2e"
	$(MAKE) --no-print-directory toolchain
	$(call pytest_tier,-m e2e)
	cd toolchain/random && $(GO_ENV) $(GO) test ./...
	$(VENV_PYTHON) bench/run.py --quick

.PHONY: test-unit
test-unit: venv ## The fast tiers only (mocks and the policy pack; no engine)
	$(PYTEST) -m "not e2e"

.PHONY: bench
bench: venv toolchain ## Full benchmarks (docs/PERFORMANCE.md); `.venv/bin/python bench/run.py --quick` for a one-minute run
	$(VENV_PYTHON) -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	$(VENV_PYTHON) bench/run.py

.PHONY: pin-urns
pin-urns: venv ## Re-pin tests/components/prd_urns.json after a deliberate change of prd URNs
	$(VENV_PYTHON) -c "import sys; sys.path[:0] = ['.', 'tests']; import tests.components.test_platform as t; t.write_pinned_urns()"

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | column -t -s "$$(printf '\t')"
