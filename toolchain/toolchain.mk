# The toolchain's build rules, included by the Makefile (which keeps the `toolchain`,
# `toolchain-env` and `toolchain-clean` targets): see toolchain/README.md.

# Every `go build` of the toolchain is one step (go_step below): its prerequisites are its
# wrapper module's go.mod/go.sum (and versions.txt), so make rebuilds only what changed.
# Before any of them, one step ("modules", after the go_step calls) downloads what every
# step will build, and meanwhile compiles the standard library every build needs.
MODULES_STAMP := $(BUILD_DIR)/stamps/modules

# go_step: one `go build` of one wrapper module, run by toolchain/steps.py.
#   $(1) step name (its log: build/logs/$(1).log)   $(2) wrapper directory under toolchain/
#   $(3) output files: one, or one per package (named as go build names them)
#   $(4) packages to build, all in one go build   $(5) expected time: empty Go caches, 2 cores, a quiet machine
#   (the slower of the last two quiet cold runs, rounded up; docs/PERFORMANCE.md, "The cold first run")
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
$(eval $(call go_step,pulumi,pulumi,$(ENGINE_OUT),$(ENGINE_PKGS),$(if $(SYSTEM_PULUMI),1m,5m)))
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
$(eval $(call go_step,kubernetes-provider,kubernetes,$(PLUGIN_DIR)/pulumi-resource-kubernetes,.,8m))

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
$(eval $(call go_step,etcd,etcd,$(CLUSTER_BIN)/etcd,go.etcd.io/etcd/server/v3,1m))

# One go build, two links: the four servers are one binary (toolchain/kube/cmd/kube, which runs as the
# name it is started as: each name is a link to it), kubectl its own (it runs often; no server's start-up).
KUBE_SERVERS := kube-apiserver kube-controller-manager kube-scheduler kubelet
KUBE_BINS    := $(addprefix $(CLUSTER_BIN)/,$(KUBE_SERVERS) kubectl)
kube-control-plane.what    := kube-apiserver, kube-controller-manager, kube-scheduler, kubelet (one binary) and kubectl $(KUBE_VERSION) for the local cluster
kube-control-plane.ldflags := $(KUBE_STAMP)
kube-control-plane.deps    := toolchain/kube/cmd/kube/main.go
$(eval $(call go_step,kube-control-plane,kube,$(CLUSTER_BIN)/kube $(CLUSTER_BIN)/kubectl,./cmd/kube k8s.io/kubernetes/cmd/kubectl,5m))
$(addprefix $(CLUSTER_BIN)/,$(KUBE_SERVERS)): $(CLUSTER_BIN)/kube
	@ln -sfn kube $@

# The External Secrets controller: the module's root package.
external-secrets.what := the External Secrets controller $(ESO_VERSION) for the local cluster
$(eval $(call go_step,external-secrets,eso,$(CLUSTER_BIN)/external-secrets,$(ESO_MOD),4m))

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
	@$(STEP) modules --expect 3m --what "the Go modules every step needs, and the standard library" -- \
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
