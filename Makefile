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

# Every `go build` of the toolchain is one step (go_step below): its prerequisites are its
# wrapper module's go.mod/go.sum (and versions.txt), so make rebuilds only what changed.
# Before any of them, one step ("modules", after the go_step calls) downloads what every
# step will build, and meanwhile compiles the standard library every build needs.
MODULES_STAMP := $(BUILD_DIR)/stamps/modules

# go_step: one `go build` of one wrapper module, run by toolchain/steps.py.
#   $(1) step name (its log: build/logs/$(1).log)   $(2) wrapper directory under toolchain/
#   $(3) output files: one, or one per package (named as go build names them)
#   $(4) packages to build, all in one go build   $(5) expected time, empty Go caches, 2 cores
# Optional, set before the call: $(1).what (for people), $(1).ldflags (besides -s -w),
# $(1).deps (more prerequisites). Adding a binary to a wrapper: its output and its package.
define go_step
$(3) &: toolchain/$(2)/go.mod toolchain/$(2)/go.sum $$(VERSIONS_FILE) $$($(1).deps) | $$(MODULES_STAMP) $(sort $(patsubst %/,%,$(dir $(3))))
	@$$(STEP) $(1) --expect $(5) --what "$$(or $$($(1).what),$(notdir $(3)))" -C toolchain/$(2) -- \
		$$(GO_BUILD) -o $(if $(word 2,$(3)),$(dir $(firstword $(3))),$(3)) -ldflags "-s -w $$($(1).ldflags)" $(4)
	@touch $(3)
$(1).wrapper  := $(2)
$(1).packages := $(4)
TOOLCHAIN_STEPS += $(1)
endef

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
	@$(STEPS) table --title "make toolchain"
	@echo "toolchain ready: $$(pulumi version) at $$(command -v pulumi); plugins in $(PULUMI_HOME)/plugins; local cluster binaries in $(CLUSTER_BIN)"

$(BIN_DIR) $(PLUGIN_DIR) $(STATE_DIR) $(BUILD_DIR)/stamps:
	@mkdir -p $@

# The CLI and our Python language host (toolchain/README.md): one module, one go build,
# version-stamped like a release build. A pulumi of the pinned version already on PATH
# (outside bin/) is linked instead, and its distribution's language host when it ships one.
PULUMI_STAMP := -X $(PULUMI_SDK_MOD)/go/common/version.Version=v$(PULUMI_VERSION)
ifneq ($(SYSTEM_PULUMI),)
$(BIN_DIR)/pulumi: | $(BIN_DIR)
	ln -sfn $(SYSTEM_PULUMI) $@
endif
ifneq ($(SYSTEM_LANGHOST),)
$(BIN_DIR)/pulumi-language-python: | $(BIN_DIR)
	ln -sfn $(SYSTEM_LANGHOST) $@
endif
ENGINE_OUT  := $(strip $(if $(SYSTEM_PULUMI),,$(BIN_DIR)/pulumi) $(if $(SYSTEM_LANGHOST),,$(BIN_DIR)/pulumi-language-python))
ENGINE_PKGS := $(if $(SYSTEM_PULUMI),,$(PULUMI_PKG_MOD)/cmd/pulumi) $(if $(SYSTEM_LANGHOST),,./cmd/pulumi-language-python)
pulumi.what    := $(if $(SYSTEM_PULUMI),,the pulumi CLI v$(PULUMI_VERSION) and )our Python language host
pulumi.ldflags := $(PULUMI_STAMP)
pulumi.deps    := $(wildcard toolchain/pulumi/cmd/pulumi-language-python/*.go toolchain/pulumi/cmd/pulumi-language-python/*.py)
ifneq ($(ENGINE_OUT),)
$(eval $(call go_step,pulumi,pulumi,$(ENGINE_OUT),$(ENGINE_PKGS),$(if $(SYSTEM_PULUMI),1m,4m)))
endif

# Python scripts the host and the engine expect beside the binaries; they
# ship in the sdk/v3 module (read-only in the module cache, so copy + chmod).
SDK_DIR = $$(cd toolchain/pulumi && $(GO_ENV) $(GO) mod download $(PULUMI_SDK_MOD) && $(GO_ENV) $(GO) list -m -f '{{.Dir}}' $(PULUMI_SDK_MOD))
$(BIN_DIR)/pulumi-language-python-exec: toolchain/pulumi/go.sum | $(BIN_DIR) $(MODULES_STAMP)
	@install -m 0755 "$(SDK_DIR)/python/cmd/pulumi-language-python-exec" $@

$(BIN_DIR)/pulumi-resource-pulumi-python: toolchain/pulumi/go.sum | $(BIN_DIR) $(MODULES_STAMP)
	@install -m 0755 "$(SDK_DIR)/python/dist/pulumi-resource-pulumi-python" $@

# Provider plugins are built outside PATH (so the engine never mistakes them for ambient
# plugins) and installed into the plugin cache. The kubernetes provider's main package
# embeds a schema and a mapping that its module zip ships in another form (embed_schema.py).
KUBERNETES_SRC   = $$(cd toolchain/kubernetes && $(GO_ENV) $(GO) list -m -f '{{.Dir}}' $(KUBERNETES_MOD))/cmd/pulumi-resource-kubernetes
KUBERNETES_EMBED := toolchain/kubernetes/schema-embed.json toolchain/kubernetes/terraform-mapping-embed.json
$(KUBERNETES_EMBED) &: toolchain/kubernetes/go.mod toolchain/kubernetes/go.sum toolchain/embed_schema.py $(VERSIONS_FILE) | $(MODULES_STAMP)
	@src="$(KUBERNETES_SRC)" && cd toolchain/kubernetes && $(PYTHON) ../embed_schema.py --version $(PULUMI_KUBERNETES_VERSION) \
		--schema "$$src/schema.json" --schema-out schema-embed.json \
		--mapping "$$src/terraform-mapping.json" --mapping-out terraform-mapping-embed.json
	@touch $(KUBERNETES_EMBED)

kubernetes-provider.what    := the kubernetes provider $(PULUMI_KUBERNETES_VERSION)
kubernetes-provider.ldflags := -X $(KUBERNETES_MOD)/pkg/version.Version=$(PULUMI_KUBERNETES_VERSION)
kubernetes-provider.deps    := toolchain/kubernetes/main.go $(KUBERNETES_EMBED)
$(eval $(call go_step,kubernetes-provider,kubernetes,$(PLUGIN_DIR)/pulumi-resource-kubernetes,.,15m))

# random: our own plugin (toolchain/random/README.md), stamped with the pulumi_random version it serves.
random-provider.what    := the random provider $(PULUMI_RANDOM_VERSION) (ours)
random-provider.ldflags := -X main.providerVersion=$(PULUMI_RANDOM_VERSION)
random-provider.deps    := $(filter-out %_test.go,$(wildcard toolchain/random/*.go))
$(eval $(call go_step,random-provider,random,$(PLUGIN_DIR)/pulumi-resource-random,.,1m))

# `pulumi plugin install` copies a built plugin into the plugin cache; its output goes to a log.
define install_plugin
$(PULUMI_HOME_DIR)/plugins/resource-$(1)-v$(2)/pulumi-resource-$(1): $(PLUGIN_DIR)/pulumi-resource-$(1) $(BIN_DIR)/pulumi
	@$$(STEP) --quiet install-$(1) --what "the $(1) plugin into the plugin cache" -- \
		pulumi plugin install resource $(1) $(2) --file $$< --reinstall
	@touch $$@
endef
$(eval $(call install_plugin,kubernetes,$(PULUMI_KUBERNETES_VERSION)))
$(eval $(call install_plugin,random,$(PULUMI_RANDOM_VERSION)))

# The local cluster's binaries (secrets_platform/localcluster/): the control plane, the node (kubelet, kube-scheduler)
# and kubectl from k8s.io/kubernetes, etcd, the External Secrets controller and the CRDs of its
# module, and the node's two images (secrets_platform/localcluster/node/images.py, from the machine's gcc and busybox-static).
KUBE_MINOR  := $(word 2,$(subst ., ,$(KUBE_VERSION)))
KUBE_STAMP  := $(foreach pkg,k8s.io/component-base/version k8s.io/client-go/pkg/version,\
	-X $(pkg).gitVersion=$(KUBE_VERSION) -X $(pkg).gitMajor=1 -X $(pkg).gitMinor=$(KUBE_MINOR) -X $(pkg).gitTreeState=clean)

etcd.what := etcd $(ETCD_VERSION) for the local cluster
$(eval $(call go_step,etcd,etcd,$(CLUSTER_BIN)/etcd,go.etcd.io/etcd/server/v3,2m))

# One go build, two links: the four servers are one binary (toolchain/kube/cmd/kube, which runs as the
# name it is started as: each name is a link to it), kubectl its own (it runs often; no server's start-up).
KUBE_SERVERS := kube-apiserver kube-controller-manager kube-scheduler kubelet
KUBE_BINS    := $(addprefix $(CLUSTER_BIN)/,$(KUBE_SERVERS) kubectl)
kube-control-plane.what    := kube-apiserver, kube-controller-manager, kube-scheduler, kubelet (one binary) and kubectl $(KUBE_VERSION) for the local cluster
kube-control-plane.ldflags := $(KUBE_STAMP)
kube-control-plane.deps    := toolchain/kube/cmd/kube/main.go
$(eval $(call go_step,kube-control-plane,kube,$(CLUSTER_BIN)/kube $(CLUSTER_BIN)/kubectl,./cmd/kube k8s.io/kubernetes/cmd/kubectl,11m))
$(addprefix $(CLUSTER_BIN)/,$(KUBE_SERVERS)): $(CLUSTER_BIN)/kube
	@ln -sfn kube $@

# The External Secrets controller: the module's root package.
external-secrets.what := the External Secrets controller $(ESO_VERSION) for the local cluster
$(eval $(call go_step,external-secrets,eso,$(CLUSTER_BIN)/external-secrets,$(ESO_MOD),6m))

# The Vault agent injector (secrets_platform/localcluster/injector.py): our main around vault-k8s's admission handler, in the
# control plane's module graph (toolchain/kube), so only its own packages are compiled.
vault-injector.what := the Vault agent injector (vault-k8s $(VAULT_K8S_VERSION)) for the local cluster
vault-injector.deps := toolchain/kube/vault-injector/main.go
$(eval $(call go_step,vault-injector,kube,$(CLUSTER_BIN)/vault-injector,./vault-injector,1m))

# Reloader: its own module (its k8s.io v0.35.3 fits neither toolchain/kube's nor toolchain/eso's graph), built
# in a Go workspace whose copy of Reloader listens on 127.0.0.1 only (toolchain/reloader_patch.py, under build/).
RELOADER_WORK := $(BUILD_DIR)/reloader/go.work
$(RELOADER_WORK): toolchain/reloader_patch.py toolchain/reloader/go.mod toolchain/reloader/go.sum | $(MODULES_STAMP)
	@$(PYTHON) toolchain/reloader_patch.py --wrapper toolchain/reloader --out $(dir $@) \
		--module-dir "$$(cd toolchain/reloader && $(GO_ENV) $(GO) list -m -f '{{.Dir}}' github.com/stakater/Reloader)"
reloader.what := Reloader $(RELOADER_VERSION) for the local cluster (its listener on 127.0.0.1)
reloader.deps := $(RELOADER_WORK)
$(CLUSTER_BIN)/reloader: private GO_BUILD := env GOWORK=$(RELOADER_WORK) $(GO_BUILD)
$(eval $(call go_step,reloader,reloader,$(CLUSTER_BIN)/reloader,github.com/stakater/Reloader,2m))

NODE_IMAGES  := $(CLUSTER_BIN)/pause-image.tar $(CLUSTER_BIN)/busybox-image.tar
CLUSTER_BINS := $(CLUSTER_BIN)/etcd $(KUBE_BINS) $(CLUSTER_BIN)/external-secrets $(CLUSTER_BIN)/vault-injector $(CLUSTER_BIN)/reloader $(BIN_DIR)/kubectl $(NODE_IMAGES)
ESO_CRDS     := $(CLUSTER_BIN)/external-secrets-crds.yaml

.PHONY: cluster-toolchain
cluster-toolchain: $(CLUSTER_BINS) $(ESO_CRDS)

# The modules step: `go list -deps` of each step's packages downloads exactly the modules its
# go build will need (no more: `go mod download` would also fetch other platforms' and tests'
# modules). Downloads are network-bound and Go fetches GOMAXPROCS modules at a time (2 on 2
# cores), so this raises it and lists the wrappers side by side; meanwhile the standard
# library is compiled (the CPU is otherwise idle; the builds then find it in the build cache).
# A download error shows in build/logs/modules.log and again in the failing step's log.
MODULE_FETCHES := 8
STEP_GO_MODS   := $(sort $(foreach s,$(TOOLCHAIN_STEPS),toolchain/$($(s).wrapper)/go.mod toolchain/$($(s).wrapper)/go.sum))
$(MODULES_STAMP): $(STEP_GO_MODS) | $(BUILD_DIR)/stamps
	@$(STEP) modules --expect 2m --what "the Go modules every step needs, and the standard library" -- \
		bash -c 'rc=0; $(foreach s,$(TOOLCHAIN_STEPS),GOMAXPROCS=$(MODULE_FETCHES) $(GO_ENV) $(GO) -C toolchain/$($(s).wrapper) list -e -deps $($(s).packages) >/dev/null & ) \
			$(GO_BUILD) std || rc=1; for job in $$(jobs -p); do wait $$job || rc=1; done; exit $$rc'
	@touch $@

$(CLUSTER_BIN):
	@mkdir -p $@

# The node's sandbox and workload images: docker-archive tarballs, imported into containerd at each start.
$(NODE_IMAGES) &: secrets_platform/localcluster/node/images.py secrets_platform/localcluster/node/pause.c | $(CLUSTER_BIN)
	@$(STEP) --quiet node-images --what "the local node's sandbox and busybox images" -- \
		$(PYTHON) secrets_platform/localcluster/node/images.py --out $(CLUSTER_BIN)

# kubectl of the control plane's version, first on every recipe's PATH.
$(BIN_DIR)/kubectl: $(CLUSTER_BIN)/kubectl | $(BIN_DIR)
	@ln -sfn $< $@

# The CRDs ship in the module zip (deploy/crds/bundle.yaml): downloaded, never committed.
$(ESO_CRDS): toolchain/eso/go.mod toolchain/eso/go.sum $(VERSIONS_FILE) | $(CLUSTER_BIN) $(MODULES_STAMP)
	@install -m 0644 "$$(cd toolchain/eso && $(GO_ENV) $(GO) list -m -f '{{.Dir}}' $(ESO_MOD))/deploy/crds/bundle.yaml" $@

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
# Lint: ruff (check and format) and mypy, pinned in requirements-dev.lock and
# configured in pyproject.toml. Run by `make test`.

.PHONY: lint
lint: venv ## ruff check, ruff format --check and mypy (versions pinned in requirements-dev.lock)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

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
hooks: venv ## Install the git hooks of .pre-commit-config.yaml (secret scanner, ruff, mypy) into this clone
	$(VENV)/bin/pre-commit install

secrets-baseline: venv ## Re-record .secrets.baseline after auditing what the scanner reports (tests/test_secret_scan.py)
	$(VENV)/bin/detect-secrets scan $(DETECT_SECRETS_EXCLUDE) > .secrets.baseline

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | column -t -s "$$(printf '\t')"
