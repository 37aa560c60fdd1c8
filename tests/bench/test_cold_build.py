"""bench/cold_build.py's counting and reading, on fake logs and graphs (the cold build itself is a benchmark, never run here)."""

from __future__ import annotations

import shutil

import pytest

from bench import cold_build

X_LOG = """\
# step etcd: etcd for the local cluster
$ env GOTOOLCHAIN=local GOFLAGS=-trimpath go build -x -o build/cluster/etcd -ldflags "-s -w " go.etcd.io/etcd/server/v3
WORK=/tmp/go-build123
mkdir -p $WORK/b002/
cat >/tmp/go-build123/b002/importcfg << 'EOF' # internal
packagefile go.uber.org/zap=/root/.cache/go-build/aa/aa-d
EOF
/usr/local/go/pkg/tool/linux_amd64/compile -o $WORK/b002/_pkg_.a -trimpath "$WORK/b002=>" -p go.etcd.io/etcd/server/v3/embed -lang=go1.24 -complete -buildid x/x -c=2 -nolocalimports -importcfg $WORK/b002/importcfg -pack ./config.go
/usr/local/go/pkg/tool/linux_amd64/compile -o $WORK/b003/_pkg_.a -trimpath "$WORK/b003=>" -p go.uber.org/zap -lang=go1.19 -complete -buildid y/y -c=2 ./zap.go
/usr/local/go/pkg/tool/linux_amd64/asm -p go.uber.org/zap -trimpath "$WORK/b003=>" -o $WORK/b003/x.o ./x.s
/usr/local/go/pkg/tool/linux_amd64/compile -o $WORK/b001/_pkg_.a -trimpath "$WORK/b001=>" -p main -lang=go1.24 -complete ./main.go
/usr/local/go/pkg/tool/linux_amd64/link -o $WORK/b001/exe/a.out -importcfg $WORK/b001/importcfg.link -buildmode=exe
# exit 0 after 12.0 s
"""


def test_compile_commands_of_a_go_build_x_log_are_counted(tmp_path):
    log = tmp_path / "etcd.log"
    log.write_text(X_LOG)
    assert cold_build.compiled(log) == {"compiles": 3, "compiled_packages": 3, "links": 1}


def test_a_package_is_shared_only_when_it_and_all_its_dependencies_match():
    """The build cache's sharing, modelled: same path and module version, and the same for every dependency."""
    a = {
        "example.com/app": ("github.com/secrets-platform/toolchain/a@", ["google.golang.org/grpc", "fmt"]),
        "google.golang.org/grpc": ("google.golang.org/grpc@v1.83.2", ["google.golang.org/protobuf/proto", "fmt"]),
        "google.golang.org/protobuf/proto": ("google.golang.org/protobuf@v1.36.12", ["fmt"]),
        "fmt": ("std", []),
    }
    b = dict(a)
    b["example.com/app"] = ("github.com/secrets-platform/toolchain/b@", a["example.com/app"][1])
    ka, kb = cold_build.package_keys(a, "a"), cold_build.package_keys(b, "b")
    assert ka["fmt"] == kb["fmt"] and ka["google.golang.org/grpc"] == kb["google.golang.org/grpc"]
    assert ka["example.com/app"] != kb["example.com/app"]  # each wrapper's own package is its own
    # protobuf one patch apart: protobuf differs, and so does grpc, which imports it
    c = dict(a, **{"google.golang.org/protobuf/proto": ("google.golang.org/protobuf@v1.36.11", ["fmt"])})
    kc = cold_build.package_keys(c, "a")
    assert kc["fmt"] == ka["fmt"]
    assert kc["google.golang.org/protobuf/proto"] != ka["google.golang.org/protobuf/proto"]
    assert kc["google.golang.org/grpc"] != ka["google.golang.org/grpc"]


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_the_steps_are_read_from_the_makefile_in_order():
    steps = cold_build.make_steps(cold_build.ROOT)
    assert [s["step"] for s in steps] == [
        "pulumi",
        "kubernetes-provider",
        "random-provider",
        "etcd",
        "kube-control-plane",
        "external-secrets",
        "vault-injector",
        "reloader",
    ]
    kube = steps[4]
    assert kube["wrapper"] == "toolchain/kube" and "k8s.io/kubernetes/cmd/kubectl" in kube["packages"]
    assert steps[0]["packages"] == ["github.com/pulumi/pulumi/pkg/v3/cmd/pulumi", "./cmd/pulumi-language-python"]


def test_the_table_has_a_row_per_step_and_the_total():
    result = {
        "steps": [
            {"step": "modules", "start_offset_s": 0.2, "wall_s": 100.0, "cpu_s": 60.0, "max_rss_mib": 300, "compiled_packages": 280},
            {
                "step": "etcd",
                "start_offset_s": 100.5,
                "wall_s": 90.0,
                "cpu_s": 170.0,
                "max_rss_mib": 900,
                "compiled_packages": 400,
                "graph_packages": 700,
            },
        ],
        "wall_s": 191.0,
        "cpu_s": 231.0,
        "max_rss_mib": 900,
        "modules_downloaded": 120,
        "gomodcache_bytes": 4e8,
        "gocache_bytes": 9e8,
        "loadavg_start": [3.0, 2.0, 1.0],
        "loadavg_end": [4.0, 2.0, 1.0],
        "environment": {"cpus": 2},
    }
    out = cold_build.table(result)
    rows = out.splitlines()
    assert rows[2].split()[:2] == ["modules", "0:00"] and rows[3].split()[-2:] == ["400", "700"]
    assert rows[5].startswith("make toolchain") and rows[5].split()[-1] == "680"
    assert "modules downloaded: 120" in out and "load average 3.0 at the start" in out


def test_a_replacement_by_the_same_version_is_the_same_cache_key_and_by_another_is_not():
    plain = "k8s.io/api@v0.34.4 go1.24.0"
    assert cold_build.cache_module("k8s.io/api@v0.34.4=>k8s.io/api@v0.34.4 go1.24.0") == plain
    assert cold_build.cache_module(plain) == plain
    # the selected version is in the key, whatever the replacement's source: never shared with plain v0.34.4
    assert cold_build.cache_module("k8s.io/kubectl@v0.0.0=>k8s.io/kubectl@v0.34.4 go1.24.0") != "k8s.io/kubectl@v0.34.4 go1.24.0"
    assert (
        cold_build.cache_module("github.com/davecgh/go-spew@v1.1.2=>github.com/davecgh/go-spew@v1.1.1 go")
        != "github.com/davecgh/go-spew@v1.1.2 go"
    )
    local = "github.com/stakater/Reloader@v1.4.22=>/work/build/reloader/src@ go1.26.8"
    assert cold_build.cache_module(local) == local
