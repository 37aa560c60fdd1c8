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
GO_ENV   := GOTOOLCHAIN=local GOFLAGS=-trimpath
GO_BUILD := $(GO_ENV) $(GO) build -p 2

# Module paths used by the build recipes.
PULUMI_PKG_MOD    := github.com/pulumi/pulumi/pkg/v3
PULUMI_SDK_MOD    := github.com/pulumi/pulumi/sdk/v3
KUBERNETES_MOD    := github.com/pulumi/pulumi-kubernetes/provider/v4
ESO_MOD           := github.com/external-secrets/external-secrets
# Only what the build says matters: the module downloads are hidden (sed keeps exit codes).
QUIET_DOWNLOADS   := 2>&1 | sed -u '/^go: downloading /d'

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
toolchain: $(ENGINE_BINS) $(INSTALLED_PLUGINS) cluster-toolchain | $(STATE_DIR) ## Build the engine, the provider plugins and the local cluster's binaries
	@echo "toolchain ready: $$(pulumi version) at $$(command -v pulumi); plugins in $(PULUMI_HOME)/plugins; local cluster binaries in $(CLUSTER_BIN)"

$(BIN_DIR) $(PLUGIN_DIR) $(STATE_DIR):
	mkdir -p $@

# The CLI, version-stamped like a release build.
$(BIN_DIR)/pulumi: toolchain/pulumi/go.mod toolchain/pulumi/go.sum $(VERSIONS_FILE) | $(BIN_DIR)
ifneq ($(SYSTEM_PULUMI),)
	ln -sfn $(SYSTEM_PULUMI) $@
else
	@echo "toolchain: building the pulumi CLI v$(PULUMI_VERSION) from Go modules (first time: about 12 minutes on 2 cores)"
	cd toolchain/pulumi && $(GO_BUILD) -o $@ \
		-ldflags "-s -w -X $(PULUMI_SDK_MOD)/go/common/version.Version=v$(PULUMI_VERSION)" \
		$(PULUMI_PKG_MOD)/cmd/pulumi $(QUIET_DOWNLOADS)
endif

# The Python language host (our own; see toolchain/README.md), unless the
# pinned pulumi found on PATH ships one.
$(BIN_DIR)/pulumi-language-python: toolchain/pulumi/go.mod toolchain/pulumi/go.sum \
		$(wildcard toolchain/pulumi/cmd/pulumi-language-python/*.go toolchain/pulumi/cmd/pulumi-language-python/*.py) $(VERSIONS_FILE) | $(BIN_DIR)
ifneq ($(SYSTEM_LANGHOST),)
	ln -sfn $(SYSTEM_LANGHOST) $@
else
	@echo "toolchain: building our Python language host (first time: about 1 minute after the CLI)"
	cd toolchain/pulumi && $(GO_BUILD) -o $@ \
		-ldflags "-s -w -X $(PULUMI_SDK_MOD)/go/common/version.Version=v$(PULUMI_VERSION)" \
		./cmd/pulumi-language-python $(QUIET_DOWNLOADS)
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
	@echo "toolchain: building the kubernetes provider $(PULUMI_KUBERNETES_VERSION) (first time: about 15 minutes on 2 cores)"
	cd toolchain/kubernetes \
	&& $(GO_ENV) $(GO) mod download $(KUBERNETES_MOD) \
	&& src=$$($(GO_ENV) $(GO) list -m -f '{{.Dir}}' $(KUBERNETES_MOD))/cmd/pulumi-resource-kubernetes \
	&& $(PYTHON) ../embed_schema.py --version $(PULUMI_KUBERNETES_VERSION) \
		--schema "$$src/schema.json" --schema-out schema-embed.json \
		--mapping "$$src/terraform-mapping.json" --mapping-out terraform-mapping-embed.json \
	&& $(GO_BUILD) -o $@ \
		-ldflags "-s -w -X $(KUBERNETES_MOD)/pkg/version.Version=$(PULUMI_KUBERNETES_VERSION)" . $(QUIET_DOWNLOADS)

$(PULUMI_HOME_DIR)/plugins/resource-kubernetes-v$(PULUMI_KUBERNETES_VERSION)/pulumi-resource-kubernetes: \
		$(PLUGIN_DIR)/pulumi-resource-kubernetes $(BIN_DIR)/pulumi
	pulumi plugin install resource kubernetes $(PULUMI_KUBERNETES_VERSION) --file $< --reinstall
	touch $@

# random: our own plugin (toolchain/random/README.md), stamped with the
# pulumi_random version it serves.
$(PLUGIN_DIR)/pulumi-resource-random: toolchain/random/go.mod toolchain/random/go.sum \
		$(filter-out %_test.go,$(wildcard toolchain/random/*.go)) $(VERSIONS_FILE) | $(PLUGIN_DIR)
	@echo "toolchain: building the random provider $(PULUMI_RANDOM_VERSION) (first time: about 3 minutes on 2 cores)"
	cd toolchain/random && $(GO_BUILD) -o $@ \
		-ldflags "-s -w -X main.providerVersion=$(PULUMI_RANDOM_VERSION)" . $(QUIET_DOWNLOADS)

$(PULUMI_HOME_DIR)/plugins/resource-random-v$(PULUMI_RANDOM_VERSION)/pulumi-resource-random: \
		$(PLUGIN_DIR)/pulumi-resource-random $(BIN_DIR)/pulumi
	pulumi plugin install resource random $(PULUMI_RANDOM_VERSION) --file $< --reinstall
	touch $@

# The local cluster's binaries (localcluster/): the control plane, the kubelet and kubectl
# from k8s.io/kubernetes, etcd, the External Secrets CRDs of the pinned module, and the
# node's two images (localcluster/node/images.py, from the machine's gcc and busybox-static).
KUBE_MINOR  := $(word 2,$(subst ., ,$(KUBE_VERSION)))
KUBE_STAMP  := $(foreach pkg,k8s.io/component-base/version k8s.io/client-go/pkg/version,\
	-X $(pkg).gitVersion=$(KUBE_VERSION) -X $(pkg).gitMajor=1 -X $(pkg).gitMinor=$(KUBE_MINOR) -X $(pkg).gitTreeState=clean)
KUBE_BINS    := $(CLUSTER_BIN)/kube-apiserver $(CLUSTER_BIN)/kube-controller-manager $(CLUSTER_BIN)/kube-scheduler \
	$(CLUSTER_BIN)/kubelet $(CLUSTER_BIN)/kubectl
NODE_IMAGES  := $(CLUSTER_BIN)/pause-image.tar $(CLUSTER_BIN)/busybox-image.tar
CLUSTER_BINS := $(CLUSTER_BIN)/etcd $(KUBE_BINS) $(CLUSTER_BIN)/external-secrets $(BIN_DIR)/kubectl $(NODE_IMAGES)
ESO_CRDS     := $(CLUSTER_BIN)/external-secrets-crds.yaml

.PHONY: cluster-toolchain
cluster-toolchain: $(CLUSTER_BINS) $(ESO_CRDS)

$(CLUSTER_BIN):
	mkdir -p $@

$(CLUSTER_BIN)/etcd: toolchain/etcd/go.mod toolchain/etcd/go.sum $(VERSIONS_FILE) | $(CLUSTER_BIN)
	@echo "toolchain: building etcd $(ETCD_VERSION) for the local cluster (first time: about 2 minutes on 2 cores)"
	cd toolchain/etcd && $(GO_BUILD) -o $@ -ldflags "-s -w" go.etcd.io/etcd/server/v3 $(QUIET_DOWNLOADS)

# One go build for the five: they share most packages, so all but the first are cheap.
$(KUBE_BINS) &: toolchain/kube/go.mod toolchain/kube/go.sum $(VERSIONS_FILE) | $(CLUSTER_BIN)
	@echo "toolchain: building kube-apiserver, kube-controller-manager, kube-scheduler, kubelet and kubectl $(KUBE_VERSION) for the local cluster (first time: about 14 minutes on 2 cores)"
	cd toolchain/kube && $(GO_BUILD) -o $(CLUSTER_BIN)/ -ldflags "-s -w $(KUBE_STAMP)" \
		k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
		k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kubectl $(QUIET_DOWNLOADS)
	touch $(KUBE_BINS)

# The node's sandbox and workload images: docker-archive tarballs, imported into containerd at each start.
$(NODE_IMAGES) &: localcluster/node/images.py localcluster/node/pause.c | $(CLUSTER_BIN)
	$(PYTHON) localcluster/node/images.py --out $(CLUSTER_BIN)

# The External Secrets controller: the module's root package.
$(CLUSTER_BIN)/external-secrets: toolchain/eso/go.mod toolchain/eso/go.sum $(VERSIONS_FILE) | $(CLUSTER_BIN)
	@echo "toolchain: building the External Secrets controller $(ESO_VERSION) for the local cluster (first time: about 8 minutes on 2 cores)"
	cd toolchain/eso && $(GO_BUILD) -o $@ -ldflags "-s -w" $(ESO_MOD) $(QUIET_DOWNLOADS)

# kubectl of the control plane's version, first on every recipe's PATH.
$(BIN_DIR)/kubectl: $(CLUSTER_BIN)/kubectl | $(BIN_DIR)
	ln -sfn $< $@

# The CRDs ship in the module zip (deploy/crds/bundle.yaml): downloaded, never committed.
$(ESO_CRDS): toolchain/eso/go.mod toolchain/eso/go.sum $(VERSIONS_FILE) | $(CLUSTER_BIN)
	@echo "toolchain: fetching the External Secrets $(ESO_VERSION) module for its CRDs (first time: under a minute)"
	cd toolchain/eso && $(GO_ENV) $(GO) mod download $(ESO_MOD) \
	&& install -m 0644 "$$($(GO_ENV) $(GO) list -m -f '{{.Dir}}' $(ESO_MOD))/deploy/crds/bundle.yaml" $@

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
# Lint: ruff (check and format) and mypy, pinned in requirements-dev.lock and
# configured in pyproject.toml. Run by `make test`.

.PHONY: lint
lint: venv ## ruff check, ruff format --check and mypy (versions pinned in requirements-dev.lock)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# ---------------------------------------------------------------------------
# The local stack: the embedded default. `make up` starts the local cluster
# (localcluster/: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and a
# node (kubelet, containerd) on 127.0.0.1, data in .cluster/) and applies the local stack to it. Its passphrase protects
# nothing real. `make render` keeps the old render-only mode (no cluster).

LOCAL_PASSPHRASE := local-only-passphrase
RENDER_DIR       := $(CURDIR)/rendered/local
RENDER_STATE     := $(CURDIR)/.state-render
# No ambient kubeconfig: the local stack reaches only the local cluster, through the
# kubeconfig its settings name (.cluster/kubeconfig by default).
LOCAL_PULUMI     := env -u KUBECONFIG PULUMI_CONFIG_PASSPHRASE=$(LOCAL_PASSPHRASE) pulumi
CLUSTER          := $(VENV_PYTHON) -m localcluster --dir $(CLUSTER_DIR) --bin $(CLUSTER_BIN)
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
up-locked: local-stack cluster-up
	$(CLUSTER) recover --state $(STATE_DIR)
	$(LOCAL_PULUMI) up -s local --yes --refresh --policy-pack policies
	# Vault's side, the operator path (pulumi-vault's provider can't be built offline): the stack's vault output
	# applied to the local OpenBao (localcluster/vault.py). The outputs file holds no secret.
	$(LOCAL_PULUMI) stack output -s local --json > $(CLUSTER_DIR)/stack-outputs.json
	$(VENV_PYTHON) -m localcluster.vault --dir $(CLUSTER_DIR) --bin $(CLUSTER_BIN) apply --stack-outputs $(CLUSTER_DIR)/stack-outputs.json
	@echo
	@echo "The local stack is applied to the local cluster: KUBECONFIG=$$(make -s kubeconfig) kubectl get secrets -A"
	@echo "make down stops the cluster (keeps its data); make destroy removes the stack and the cluster."

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
	$(VENV_PYTHON) -m policies.cross_stack
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
help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | column -t -s "$$(printf '\t')"
