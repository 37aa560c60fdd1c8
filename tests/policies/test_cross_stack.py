"""The cross-stack check sees what no single-stack policy can: sharing between stack files."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from support import ROOT

from secrets_platform.policies import cross_stack

STACKS = sorted(ROOT.glob("Pulumi.*.yaml"))


def copy_stacks(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for path in STACKS:
        if path.name == "Pulumi.yaml":
            continue
        target = tmp_path / path.name
        shutil.copy(path, target)
        out[path.name.split(".")[1]] = target
    return out


def edit(path: Path, change) -> None:
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc))


def test_committed_stacks_share_nothing(capsys):
    assert cross_stack.main([]) == 0
    out = capsys.readouterr().out
    assert "4 stacks, 0 shared objects" in out


def test_two_environments_on_one_kms_key_are_reported(tmp_path, capsys):
    """One key per environment: a prd stack encrypted with the dev key would share its secrets' protection."""
    files = copy_stacks(tmp_path)
    dev_key = yaml.safe_load(files["dev"].read_text())["secretsprovider"]
    edit(files["prd"], lambda d: d.update(secretsprovider=dev_key))
    assert cross_stack.main([str(p) for p in files.values()]) == 1
    out = capsys.readouterr().out
    assert f"✗ secrets provider {dev_key} is shared by stacks dev, prd" in out


def test_shared_claims_name_every_owner():
    found = cross_stack.shared({"dev": {("namespace", "x"), ("secret", "a")}, "prd": {("namespace", "x")}, "stg": {("namespace", "x")}})
    assert found == {("namespace", "x"): ["dev", "prd", "stg"]}


def test_claims_cover_namespaces_accounts_remote_keys_and_imports():
    from secrets_platform import settings

    s = settings.from_stack_file(ROOT / "Pulumi.prd.yaml")
    held = cross_stack.claims(s, "gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k")
    kinds = {kind for kind, _ in held}
    assert {"namespace", "service account", "secret", "import target", "secrets provider"} <= kinds
    assert ("namespace", "dagster-prd") in held
    assert ("service account", "dagster-prd/job-runner") in held
    assert ("import target", "dagster-prd") in held
    if s.config.external_secrets.enabled:
        assert any(kind == "remote key" for kind, _ in held)


def test_a_stack_file_for_the_wrong_environment_is_invalid(tmp_path, capsys):
    files = copy_stacks(tmp_path)
    edit(files["stg"], lambda d: d["config"].update({"secrets-platform:environment": "prd"}))
    assert cross_stack.main([str(files["stg"]), str(files["prd"])]) == 2
    assert "Pulumi.stg.yaml" in capsys.readouterr().out


def test_missing_stack_file(tmp_path, capsys):
    assert cross_stack.main([str(tmp_path / "Pulumi.nope.yaml")]) == 2
    assert "no such stack file" in capsys.readouterr().err


# --------------------------------------------------------------------------- issue 10: bad input is exit 2, never a traceback


def test_alias_bomb_stack_file_is_exit_2(tmp_path, capsys):
    files = copy_stacks(tmp_path)
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
    )
    files["dev"].write_text(files["dev"].read_text() + bomb)
    assert cross_stack.main([str(files["dev"]), str(files["prd"])]) == 2
    assert "alias bomb" in capsys.readouterr().out


def test_an_invalid_name_is_exit_2_not_a_traceback(tmp_path, capsys):
    """It exits 1 only for sharing; a name the settings can't build is an invalid stack file."""
    files = copy_stacks(tmp_path)
    edit(files["dev"], lambda d: d["config"].update({"secrets-platform:imports": {"namespace": "Dagster"}}))
    assert cross_stack.main([str(files["dev"])]) == 2
    assert "imports.namespace" in capsys.readouterr().out


def test_a_stack_file_that_is_a_list_is_exit_2(tmp_path, capsys):
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text("- a\n- b\n")
    assert cross_stack.main([str(path)]) == 2
    assert "not a mapping" in capsys.readouterr().out


# --------------------------------------------------------------------------- issue 15.3: one cluster, one environment


def test_two_stacks_on_one_kubeconfig_context_are_reported(tmp_path, capsys):
    files = copy_stacks(tmp_path)
    edit(files["stg"], lambda d: d["config"].update({"secrets-platform:kubernetes": {"context": "shared-ctx"}}))
    edit(files["prd"], lambda d: d["config"].update({"secrets-platform:kubernetes": {"context": "shared-ctx"}}))
    assert cross_stack.main([str(p) for p in files.values()]) == 1
    assert "✗ cluster kubeconfig context shared-ctx is shared by stacks prd, stg" in capsys.readouterr().out


def test_a_gke_context_and_the_gcp_keys_name_the_same_cluster(tmp_path, capsys):
    """stg names the dev cluster through gcp.* only; prd's context spells the same GKE cluster."""
    files = copy_stacks(tmp_path)

    def stg(d):
        d["config"]["secrets-platform:kubernetes"] = {"context": "my-own-alias"}
        d["config"]["secrets-platform:gcp"].update(region="europe-west1", clusterName="data-dev")

    edit(files["stg"], stg)
    assert cross_stack.main([str(files["dev"]), str(files["stg"])]) == 1
    assert "✗ cluster GKE cluster example-data-platform/europe-west1/data-dev is shared by stacks dev, stg" in capsys.readouterr().out


def test_a_remote_stack_must_name_its_cluster(tmp_path, capsys):
    files = copy_stacks(tmp_path)

    def ambient(d):
        # gcp.project/region/clusterName alone name a cluster, but the provider would use the ambient kubeconfig
        d["config"]["secrets-platform:kubernetes"] = {}

    edit(files["prd"], ambient)
    assert cross_stack.main([str(files["prd"])]) == 2
    out = capsys.readouterr().out
    assert "secrets-platform:kubernetes.context: is required for prd" in out and "ambient kubeconfig" in out


def test_local_needs_no_context_and_no_kms_key():
    from secrets_platform import settings

    s = settings.from_stack_file(ROOT / "Pulumi.local.yaml")
    assert cross_stack.stack_problems(s, None) == []


# --------------------------------------------------------------------------- issue 15.5: identities, not strings


def test_kms_key_urls_are_compared_as_identities(tmp_path, capsys):
    files = copy_stacks(tmp_path)
    dev_key = yaml.safe_load(files["dev"].read_text())["secretsprovider"]
    respelled = dev_key.replace("projects/example-data-platform", "projects/EXAMPLE-data-platform") + "/cryptoKeyVersions/3/"
    edit(files["prd"], lambda d: d.update(secretsprovider=respelled))
    assert cross_stack.main([str(files["dev"]), str(files["prd"])]) == 1
    assert "✗ secrets provider gcpkms://projects/example-data-platform/" in capsys.readouterr().out


def test_kms_identity_normalisation():
    base = "gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k"
    for spelling in (
        base,
        base + "/",
        base.upper(),
        base + "/cryptoKeyVersions/1",
        " " + base + "?x=1",
        base + "/.",
        "gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/%6B",
        "gcpkms://projects/p/locations/global//keyRings/r/./cryptoKeys/k",
        "gcpkms://projects/p/locations/global/keyRings/x/../r/cryptoKeys/k",
    ):
        assert cross_stack.kms_key_identity(spelling) == base


def test_vault_addresses_are_compared_as_identities():
    same = [
        "https://vault.example.internal",
        "HTTPS://Vault.Example.Internal:443/",
        "https://vault.example.internal:8200",
        "http://vault.example.internal/",
    ]
    assert {cross_stack.vault_identity(a) for a in same} == {"vault.example.internal"}
    assert cross_stack.vault_identity("https://vault.example.internal:9200") == "vault.example.internal:9200"
    # dot segments, a trailing dot, percent-encoding and IPv6 spellings are the same Vault
    assert {
        cross_stack.vault_identity(a)
        for a in ("https://vault.example.internal/.", "https://vault.example.internal./", "https://vault%2Eexample.internal")
    } == {"vault.example.internal"}
    assert cross_stack.vault_identity("https://[0:0:0:0:0:0:0:1]:8200") == cross_stack.vault_identity("https://[::1]") == "[::1]"
    assert cross_stack.vault_identity("https://[::ffff:10.0.0.1]") == "10.0.0.1"


def test_a_kms_key_respelled_with_percent_encoding_is_the_same_key(tmp_path, capsys):
    files = copy_stacks(tmp_path)
    dev_key = yaml.safe_load(files["dev"].read_text())["secretsprovider"]
    respelled = dev_key.replace("secrets-platform-dev", "secrets%2Dplatform%2Ddev") + "/."
    edit(files["prd"], lambda d: d.update(secretsprovider=respelled))
    assert cross_stack.main([str(files["dev"]), str(files["prd"])]) == 1
    assert "✗ secrets provider " in capsys.readouterr().out


def test_vault_kubernetes_host_belongs_to_one_environment(tmp_path, capsys):
    """Vault's Kubernetes auth of dev may not verify tokens with prd's API server, however it is spelled."""
    files = copy_stacks(tmp_path)
    edit(files["prd"], lambda d: d["config"]["secrets-platform:vault"].update(kubernetesHost="https://10.0.0.1:443"))
    edit(files["dev"], lambda d: d["config"]["secrets-platform:vault"].update(kubernetesHost="https://[::ffff:10.0.0.1]/."))
    assert cross_stack.main([str(files["dev"]), str(files["prd"])]) == 1
    assert "✗ kubernetes API server https://10.0.0.1 is shared by stacks dev, prd" in capsys.readouterr().out


def test_in_cluster_kubernetes_host_is_each_stacks_own_cluster(tmp_path):
    files = copy_stacks(tmp_path)
    for env in ("dev", "prd"):
        edit(
            files[env],
            lambda d: d["config"]["secrets-platform:vault"].update(kubernetesHost="https://kubernetes.default.svc.cluster.local"),
        )
    assert cross_stack.main([str(files["dev"]), str(files["prd"])]) == 0


def test_vault_policy_paths_are_read_by_vaults_parser():
    import json

    hcl = 'path"floe/data/prd/a"{capabilities=["read"]} "path" "floe/data/prd/b" { capabilities = ["deny"] }'
    assert cross_stack.vault_policy_paths(hcl) == {"floe/data/prd/a"}
    as_json = json.dumps({"path": {"floe/data/prd/c": {"capabilities": ["read"]}}})
    assert cross_stack.vault_policy_paths(as_json) == {"floe/data/prd/c"}


def test_two_stacks_on_one_vault_respelled_are_reported(tmp_path, capsys):
    files = copy_stacks(tmp_path)
    edit(
        files["stg"],
        lambda d: d["config"]["secrets-platform:vault"].update(address="https://vault.example.internal:8200", authPath="kubernetes"),
    )
    edit(
        files["prd"],
        lambda d: d["config"]["secrets-platform:vault"].update(address="https://VAULT.example.internal/", authPath="kubernetes"),
    )
    assert cross_stack.main([str(files["stg"]), str(files["prd"])]) == 1
    assert "✗ vault auth path vault.example.internal/kubernetes is shared by stacks prd, stg" in capsys.readouterr().out


def test_a_remote_stack_without_a_kms_key_of_its_own_is_an_error(tmp_path, capsys):
    files = copy_stacks(tmp_path)
    edit(files["stg"], lambda d: d.update(secretsprovider="passphrase"))
    edit(files["prd"], lambda d: d.pop("secretsprovider"))
    assert cross_stack.main([str(files["stg"]), str(files["prd"])]) == 2
    out = capsys.readouterr().out
    assert "stg has no gcpkms:// secrets provider (got 'passphrase')" in out and "prd has no gcpkms:// secrets provider (got 'none')" in out


def test_database_urls_are_read_by_libpq():
    """The identity is libpq's reading of the URL (psycopg's conninfo_to_dict), not its spelling."""
    same = [
        "postgresql://DB.example.internal/analytics?sslmode=verify-full",
        "postgres://db.example.internal.:5432/analytics?sslmode=require",
        "postgresql://db%2Eexample%2Einternal/analytics",
        "postgresql://other.example.internal:6000/analytics?host=db.example.internal&port=5432",
    ]
    assert {cross_stack.database_identity(u) for u in same} == {"db.example.internal:5432/analytics"}
    assert cross_stack.database_identity("postgresql://db.example.internal:6432/analytics") == "db.example.internal:6432/analytics"
    # libpq keeps a trailing slash in the database name: another database
    assert cross_stack.database_identity("postgresql://db.example.internal/analytics/") == "db.example.internal:5432/analytics/"
    assert cross_stack.database_identity("postgresql://db/x?dbname=y") == "db:5432/y"
    # every host of a multi-host URL, each hostaddr, IPv6 in one spelling
    assert cross_stack.database_servers("postgresql://a.internal,b.internal:6000/x") == {"a.internal:5432", "b.internal:6000"}
    assert cross_stack.database_servers("postgresql://a.internal/x?hostaddr=10.0.0.7") == {"a.internal:5432", "10.0.0.7:5432"}
    assert cross_stack.database_servers("postgresql://[0:0::0:1]/x") == cross_stack.database_servers("postgresql://[::1]:5432/x")


DEV_SPELLINGS_OF_PRD_DATABASE = [
    "postgresql://warehouse-dev.example.internal/analytics?host=warehouse.example.internal&sslmode=require",
    "postgresql://warehouse-dev.example.internal:6543/analytics?port=5432&host=warehouse.example.internal&sslmode=require",
    "postgresql://warehouse%2Eexample%2Einternal/analytics?sslmode=require",
    "postgresql://warehouse-dev.example.internal,WAREHOUSE.example.internal./analytics?sslmode=require",
    "postgresql://warehouse-dev.example.internal/analytics?hostaddr=10.20.30.40&sslmode=require",
    "postgresql://warehouse.example.internal/dev_analytics?sslmode=require",
]


def _vault_database(files, env: str, url: str) -> None:
    def change(d):
        d["config"]["secrets-platform:credentials"].append(
            {
                "service": "warehouse",
                "backend": "vault-database",
                "namespaces": ["dagster"],
                "properties": {"WAREHOUSE_USER": "username", "WAREHOUSE_PASSWORD": "password"},
            }
        )
        d["config"]["secrets-platform:databaseConnections"] = {
            "warehouse": {"url": url, "username": "vault_admin", "password": {"secure": "v1:AAAAAAAAAAAAAAAA:BBBBBBBB"}}
        }

    edit(files[env], change)


def test_dev_reaching_prds_database_server_by_any_spelling_is_reported(tmp_path, capsys):
    """?host=, ?port=, percent-encoding, a second host, hostaddr, another database on prd's server: all reach prd."""
    import pytest

    for i, url in enumerate(DEV_SPELLINGS_OF_PRD_DATABASE):
        root = tmp_path / str(i)
        root.mkdir()
        files = copy_stacks(root)
        _vault_database(files, "prd", "postgresql://warehouse.example.internal/analytics?sslmode=verify-full&hostaddr=10.20.30.40")
        _vault_database(files, "dev", url)
        code = cross_stack.main([str(files["dev"]), str(files["prd"])])
        out = capsys.readouterr().out
        if code != 1 or "is shared by stacks dev, prd" not in out:
            pytest.fail(f"{url}: not reported as shared (exit {code}):\n{out}")


def test_two_stacks_issuing_users_in_one_database_are_reported(tmp_path, capsys):
    """Vault's users of stg and prd in the same database would read each other's data."""
    files = copy_stacks(tmp_path)
    for env, url in (
        ("stg", "postgresql://warehouse.example.internal/analytics?sslmode=verify-full"),
        ("prd", "postgresql://WAREHOUSE.example.internal:5432/analytics?sslmode=require"),
    ):

        def change(d, url=url):
            d["config"]["secrets-platform:credentials"].append(
                {
                    "service": "warehouse",
                    "backend": "vault-database",
                    "namespaces": ["dagster"],
                    "properties": {"WAREHOUSE_USER": "username", "WAREHOUSE_PASSWORD": "password"},
                }
            )
            d["config"]["secrets-platform:databaseConnections"] = {
                "warehouse": {"url": url, "username": "vault_admin", "password": {"secure": "v1:AAAAAAAAAAAAAAAA:BBBBBBBB"}}
            }

        edit(files[env], change)
    assert cross_stack.main([str(files["stg"]), str(files["prd"])]) == 1
    out = capsys.readouterr().out
    assert "✗ database server warehouse.example.internal:5432 is shared by stacks prd, stg" in out
