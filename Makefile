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
.DEFAULT_GOAL := help

# ---------------------------------------------------------------------------
# Pinned versions: toolchain/versions.txt maps each pinned Python package to
# the Go module version that provides its engine piece (checked against
# requirements.lock and the wrapper go.mod files by tests/toolchain/).

VERSIONS_FILE := toolchain/versions.txt
version_of     = $(shell awk '$$1 == "$(1)" { print $$2 }' $(VERSIONS_FILE))
go_version_of  = $(shell awk '$$1 == "$(1)" { print $$4 }' $(VERSIONS_FILE))

PULUMI_VERSION            := $(call version_of,pulumi)
PULUMI_KUBERNETES_VERSION := $(call version_of,pulumi-kubernetes)
PULUMI_RANDOM_VERSION     := $(call version_of,pulumi-random)
KUBE_VERSION              := $(call go_version_of,kube-control-plane)
ETCD_VERSION              := $(call go_version_of,etcd)
ESO_VERSION               := $(call go_version_of,external-secrets)
VAULT_K8S_VERSION         := $(call go_version_of,vault-injector)
RELOADER_VERSION          := $(call go_version_of,reloader)

# ---------------------------------------------------------------------------
# Paths

BIN_DIR         := $(CURDIR)/bin
BUILD_DIR       := $(CURDIR)/build
PLUGIN_DIR      := $(BUILD_DIR)/plugins
PULUMI_HOME_DIR := $(CURDIR)/.pulumi-home
STATE_DIR       := $(CURDIR)/.state
CLUSTER_BIN     := $(BUILD_DIR)/cluster
CLUSTER_DIR     := $(CURDIR)/.cluster

# ---------------------------------------------------------------------------
# Tools

GO       ?= go
PYTHON   ?= python3
# -gcflags=all=-dwarf=false: the compiler writes no debug information, which the links' -s -w
# (go_step below) would throw away anyway; the same machine code, about 7 % less compile CPU
# (docs/PERFORMANCE.md, "The cold first run"). In GOFLAGS, so `go test` shares the builds' cache.
GO_ENV   := env GOTOOLCHAIN=local GOFLAGS="-trimpath -gcflags=all=-dwarf=false"
# GO_JOBS: parallel compiles per go build (default: Go's own, one per CPU; GO_JOBS=1 when
# memory is short). GO_BUILD_FLAGS: more go build flags (bench/cold_build.py passes -x).
GO_JOBS        ?=
GO_BUILD_FLAGS ?=
GO_BUILD := $(GO_ENV) $(GO) build $(if $(GO_JOBS),-p $(GO_JOBS)) $(GO_BUILD_FLAGS)

# Module paths used by the build recipes.
PULUMI_PKG_MOD    := github.com/pulumi/pulumi/pkg/v3
PULUMI_SDK_MOD    := github.com/pulumi/pulumi/sdk/v3
KUBERNETES_MOD    := github.com/pulumi/pulumi-kubernetes/provider/v4
ESO_MOD           := github.com/external-secrets/external-secrets

# Progress: every long step runs through toolchain/steps.py, which prints what it builds,
# the expected time and, when done, the actual time; the build's own output goes to
# build/logs/<step>.log. STEPS_RUN names one top-level make (sub-makes inherit it), so
# `steps.py table` lists this run's steps and prints nothing when none ran.
ifndef STEPS_RUN
STEPS_RUN := $(shell date +%s.%N)
endif
export STEPS_RUN
export STEPS_LOGS := $(BUILD_DIR)/logs
STEPS := $(PYTHON) $(CURDIR)/toolchain/steps.py
STEP  := $(STEPS) run

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

# Every build rule is in toolchain/toolchain.mk (go_step, the binaries, the plugins, the
# local cluster's binaries); this file keeps the targets people run.
include $(dir $(lastword $(MAKEFILE_LIST)))toolchain/toolchain.mk

.PHONY: toolchain
toolchain: $(ENGINE_BINS) $(INSTALLED_PLUGINS) cluster-toolchain | $(STATE_DIR) ## Build the engine, the provider plugins and the local cluster's binaries
	@$(STEPS) table --title "make toolchain"
	@echo "toolchain ready: $$(pulumi version) at $$(command -v pulumi); plugins in $(PULUMI_HOME)/plugins; local cluster binaries in $(CLUSTER_BIN)"

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
	rm -rf $(CLUSTER_BIN)
	rm -rf $(PULUMI_HOME_DIR)/plugins
	rm -f toolchain/*/*-embed.json
	rm -rf $(BUILD_DIR)/stamps

# ---------------------------------------------------------------------------
# Python environment: .venv from the lock, plus the project itself (editable)
# so the `secrets-platform` CLI entry point exists.

SYSTEM_PYTHON ?= python3.11
VENV          := $(CURDIR)/.venv
VENV_PYTHON   := $(VENV)/bin/python
VENV_STAMP    := $(VENV)/.installed

.PHONY: venv
venv: $(VENV_STAMP) ## Create .venv from the hashed locks (runtime, test and lint tools, the local stack's servers)

# Every lock carries hashes and is installed with --require-hashes: a download that
# differs from what was locked is refused. The project itself is installed editable
# (no dependencies: the locks hold them), so its packages import from this checkout.
PIP_INSTALL := $(VENV_PYTHON) -m pip install --quiet --disable-pip-version-check
$(VENV_STAMP): requirements.lock requirements-dev.lock requirements-local.lock pyproject.toml
	test -x $(VENV_PYTHON) || $(SYSTEM_PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --require-hashes -r requirements.lock
	$(PIP_INSTALL) --require-hashes -r requirements-dev.lock
	$(PIP_INSTALL) --require-hashes -r requirements-local.lock
	$(PIP_INSTALL) --no-deps -e .
	touch $@

# The consumer tier's venv (tests/consumers): the data tools themselves, dbt-postgres, flytekit and dagster,
# from their own hashed lock, wheels only, apart from the program's .venv (their pins conflict with nothing
# of ours only because they never share a venv). `make test` installs it before the consumer tier.
CONSUMERS_VENV  := $(CURDIR)/.venv-consumers
CONSUMERS_STAMP := $(CONSUMERS_VENV)/.installed

.PHONY: consumers-venv
consumers-venv: $(CONSUMERS_STAMP) ## Create .venv-consumers (dbt-postgres, flytekit, dagster) from requirements-consumers.lock

$(CONSUMERS_STAMP): requirements-consumers.lock
	@echo "consumers: installing dbt-postgres, flytekit and dagster into $(CONSUMERS_VENV) (first time: about 3-4 minutes, ~540 MB)"
	test -x $(CONSUMERS_VENV)/bin/python || $(SYSTEM_PYTHON) -m venv $(CONSUMERS_VENV)
	$(CONSUMERS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --only-binary :all: --require-hashes -r requirements-consumers.lock
	touch $@

# The locks are generated by uv (pinned here) from the pins in pyproject.toml:
# requirements.lock the runtime set; requirements-dev.lock the test and lint tools
# (extras `test` and `lint`), resolved within the runtime lock; requirements-local.lock
# the local stack's servers (extra `local`, no dependencies of their own).
# The secret scanner's view of the tree (tests/test_secret_scan.py reads the same pattern from here).
DETECT_SECRETS_EXCLUDE := --exclude-files '^((\.venv[^/]*|bin|build|\.pulumi-home|\.cluster|\.state[^/]*|rendered)/|\.secrets\.baseline$$)'

UV_VERSION := 0.13.8
LOCK_VENV  := $(BUILD_DIR)/lock-venv
UV_COMPILE := $(LOCK_VENV)/bin/uv pip compile --quiet --python-version 3.11 --generate-hashes --custom-compile-command "make lock"

.PHONY: lock
lock: ## Re-resolve the hashed locks (requirements*.lock) from the pins in pyproject.toml
	rm -rf $(LOCK_VENV)
	$(SYSTEM_PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV_COMPILE) pyproject.toml -o requirements.lock
	$(UV_COMPILE) pyproject.toml --extra test --extra lint -c requirements.lock -o requirements-dev.lock
	$(SYSTEM_PYTHON) -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["local"], sep="\n")' \
		| $(UV_COMPILE) - --no-deps -o requirements-local.lock
	$(SYSTEM_PYTHON) -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["consumers"], sep="\n")' \
		| $(UV_COMPILE) - -o requirements-consumers.lock

# ---------------------------------------------------------------------------
# Lint: ruff (check and format) and mypy, configured in pyproject.toml; the secret scanner (detect-secrets against
# .secrets.baseline, compared by file and hashed string as tests/test_secret_scan.py does); shellcheck on the shell
# scripts; actionlint on the GitHub Actions workflows (it runs shellcheck on their run: scripts). The Python tools
# and shellcheck are pinned in requirements-dev.lock; actionlint, served only as a Go module, in toolchain/lint/go.mod,
# built into build/lint/. The same set as the pre-commit hooks (.pre-commit-config.yaml). Run by `make test`.

ACTIONLINT := $(BUILD_DIR)/lint/actionlint
$(ACTIONLINT): toolchain/lint/go.mod toolchain/lint/go.sum
	cd toolchain/lint && $(GO_BUILD) -ldflags "-s -w" -o $@ github.com/rhysd/actionlint/cmd/actionlint

.PHONY: lint
lint: venv $(ACTIONLINT) ## ruff check, ruff format --check, mypy, the secret scanner, shellcheck and actionlint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV_PYTHON) -m pytest -q --no-header -p no:cacheprovider tests/test_secret_scan.py
	$(VENV)/bin/shellcheck .ci/run $$(git ls-files '*.sh')
	$(ACTIONLINT) -shellcheck $(VENV)/bin/shellcheck -pyflakes=

# ---------------------------------------------------------------------------
# The local stack: the embedded default. `make up` starts the local cluster
# (secrets_platform/localcluster/: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and a
# node (kubelet, containerd) on 127.0.0.1, data in .cluster/) and applies the local stack to it. Its passphrase protects
# nothing real. `make render` keeps the old render-only mode (no cluster).

LOCAL_PASSPHRASE := local-only-passphrase
RENDER_DIR       := $(CURDIR)/rendered/local
RENDER_STATE     := $(CURDIR)/.state-render
# No ambient kubeconfig: the local stack reaches only the local cluster, through the
# kubeconfig its settings name (.cluster/kubeconfig by default).
LOCAL_PULUMI     := env -u KUBECONFIG PULUMI_CONFIG_PASSPHRASE=$(LOCAL_PASSPHRASE) pulumi
CLUSTER          := $(VENV_PYTHON) -m secrets_platform.localcluster --dir $(CLUSTER_DIR) --bin $(CLUSTER_BIN)
# One `make up` (or destroy) at a time: a second one is refused with the reason.
UP_LOCK          := $(BUILD_DIR)/make-up.lock
define one_at_a_time
	mkdir -p $(BUILD_DIR)
	flock -n -E 75 $(UP_LOCK) $(MAKE) --no-print-directory $(1) || { rc=$$?; \
		if [ $$rc -eq 75 ]; then echo "make $(1:-locked=): another make up, down or destroy is running in $(CURDIR); wait for it to finish, then run this again" >&2; exit 2; fi; exit $$rc; }
endef

.PHONY: local-stack
local-stack: toolchain venv
	$(LOCAL_PULUMI) stack select --create local --non-interactive >/dev/null

.PHONY: cluster-up
cluster-up: cluster-toolchain venv ## Start the local cluster (if not running) and wait until it is ready
	$(CLUSTER) up

.PHONY: up
up: ## Start the local cluster if needed, then `pulumi up -s local` against it with the policy pack
	$(call one_at_a_time,up-locked)

.PHONY: up-locked
# The toolchain's table of steps waits for the end of make up (steps.py table --final).
up-locked: export STEPS_TABLE := defer
up-locked: local-stack cluster-up
	$(CLUSTER) recover --state $(STATE_DIR)
	$(LOCAL_PULUMI) up -s local --yes --refresh --policy-pack policies
	# Vault's side, the operator path (pulumi-vault's provider can't be built offline): the stack's vault output
	# applied to the local OpenBao (secrets_platform/localcluster/vault/). The outputs file holds no secret.
	$(LOCAL_PULUMI) stack output -s local --json > $(CLUSTER_DIR)/stack-outputs.json
	$(VENV_PYTHON) -m secrets_platform.localcluster.vault --dir $(CLUSTER_DIR) --bin $(CLUSTER_BIN) apply --stack-outputs $(CLUSTER_DIR)/stack-outputs.json
	@echo
	@echo "The local stack is applied to the local cluster: KUBECONFIG=$$(make -s kubeconfig) kubectl get secrets -A"
	@echo "make down stops the cluster (keeps its data); make destroy removes the stack and the cluster."
	@$(STEPS) table --final --title "make up"

.PHONY: preview
preview: local-stack cluster-up ## `pulumi preview -s local` against the local cluster, with the policy pack
	$(LOCAL_PULUMI) preview -s local --policy-pack policies

.PHONY: down
down: ## Stop the local cluster; its data and the local stack stay (make up starts it again)
	$(call one_at_a_time,down-locked)

.PHONY: down-locked
down-locked: venv
	$(CLUSTER) down

.PHONY: destroy
destroy: ## Destroy the local stack, stop the local cluster and remove its data (keeps Pulumi.local.yaml)
	$(call one_at_a_time,destroy-locked)

.PHONY: destroy-locked
destroy-locked: local-stack
	if [ -f $(CLUSTER_DIR)/cluster.json ]; then \
		$(CLUSTER) up && $(LOCAL_PULUMI) destroy -s local --yes; \
	else \
		echo "no local cluster data: removing the local stack's state only"; \
	fi
	$(LOCAL_PULUMI) stack rm local --yes --force --preserve-config
	$(CLUSTER) destroy

.PHONY: kubeconfig
kubeconfig: ## Print the local cluster's kubeconfig path (KUBECONFIG=$$(make -s kubeconfig) kubectl get ns)
	@if [ -f $(CLUSTER_DIR)/kubeconfig ]; then echo $(CLUSTER_DIR)/kubeconfig; \
	else echo "no local cluster yet: make up creates it ($(CLUSTER_DIR)/kubeconfig)" >&2; exit 2; fi

.PHONY: cluster-status
cluster-status: venv ## What of the local cluster runs, where it listens, where its logs are
	$(CLUSTER) status

# Render only: the manifests the local stack would apply, written to rendered/local/
# (plain-text Secrets, git-ignored) by the provider's render mode; no cluster. Its own
# state (.state-render/) and a copy of Pulumi.local.yaml with kubernetes.renderDir set.
RENDER_CONFIG := $(BUILD_DIR)/render/Pulumi.local.yaml

.PHONY: render
render: toolchain venv ## Render the local stack's manifests into rendered/local/ without a cluster
	mkdir -p $(RENDER_STATE) $(dir $(RENDER_CONFIG))
	$(VENV_PYTHON) -c 'import sys, yaml; d = yaml.safe_load(open("Pulumi.local.yaml")); \
		d["config"].setdefault("secrets-platform:kubernetes", {})["renderDir"] = "rendered/local"; \
		yaml.safe_dump(d, open(sys.argv[1], "w"), sort_keys=False)' $(RENDER_CONFIG)
	PULUMI_BACKEND_URL=file://$(RENDER_STATE) $(LOCAL_PULUMI) stack select --create local --non-interactive >/dev/null
	PULUMI_BACKEND_URL=file://$(RENDER_STATE) $(LOCAL_PULUMI) up -s local --yes --policy-pack policies --config-file $(RENDER_CONFIG)
	@echo "Rendered manifests (plain-text Secrets, git-ignored): $(RENDER_DIR)"

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
test: venv lint ## Every test: lint, unit, policy pack, cross-stack check, engine end-to-end, data tools, toolchain, bench smoke
	$(VENV_PYTHON) -m secrets_platform.policies.cross_stack
	$(PYTEST) -m "not e2e"
	$(MAKE) --no-print-directory toolchain
	$(call pytest_tier,-m "e2e and not consumers")
	$(MAKE) --no-print-directory consumers-venv
	$(call pytest_tier,-m consumers)
	cd toolchain/random && $(GO_ENV) $(GO) test ./...
	cd toolchain/pulumi && $(GO_ENV) $(GO) test ./cmd/...
	$(VENV_PYTHON) bench/run.py --quick

.PHONY: test-unit
test-unit: venv ## The fast tiers only (mocks and the policy pack; no engine)
	$(PYTEST) -m "not e2e"

.PHONY: bench
bench: venv toolchain ## Full benchmarks (docs/PERFORMANCE.md); `.venv/bin/python bench/run.py --quick` for a short run
	$(VENV_PYTHON) -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	$(VENV_PYTHON) bench/run.py

.PHONY: pin-urns
pin-urns: venv ## Re-pin tests/components/prd_urns.json after a deliberate change of prd URNs
	$(VENV_PYTHON) -c "import sys; sys.path[:0] = ['.', 'tests']; import tests.components.test_platform as t; t.write_pinned_urns()"

.PHONY: help
.PHONY: hooks secrets-baseline
hooks: venv $(ACTIONLINT) ## Install the git hooks of .pre-commit-config.yaml (the same set as make lint) into this clone
	$(VENV)/bin/pre-commit install

secrets-baseline: venv ## Re-record .secrets.baseline after auditing what the scanner reports (tests/test_secret_scan.py)
	$(VENV)/bin/detect-secrets scan $(DETECT_SECRETS_EXCLUDE) > .secrets.baseline

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | column -t -s "$$(printf '\t')"
