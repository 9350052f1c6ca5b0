"""Every example spec compiles to the manifests of its reference pattern."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import MANUAL_EXAMPLES, OUTPUT, ROOT, SPEC_FILES, SPECS, compile_spec_text, documents_by_kind
from output_snapshot import OutputTreeExtension
from routing import route

EXAMPLES = [p.name for p in SPEC_FILES]
# Rollouts whose Deployments and Services rollgen generates (Flagger makes its own Services).
ROLLOUTS = MANUAL_EXAMPLES


def compiled(name: str) -> dict[tuple[str, str], dict]:
    return documents_by_kind(compile_spec_text((SPECS / name).read_text(), f"specs/{name}"))


@pytest.fixture(scope="session")
def generated(tmp_path_factory) -> tuple[Path, dict]:
    """Every example generated once, in process, into an empty directory: (the output, its record)."""
    from generator.app import generate

    out = tmp_path_factory.mktemp("examples") / "output"
    result = generate([SPECS], out, ROOT)
    assert not result.report.errors, result.report.errors
    return out, json.loads((out / ".rollgen-state").read_text())["specs"]


@pytest.fixture
def output_snapshot(snapshot):
    return snapshot.use_extension(OutputTreeExtension)


@pytest.mark.parametrize("source", [f"specs/{name}" for name in EXAMPLES] + ["(shared)"])
def test_generated_output_matches_the_committed_snapshot(source, generated, output_snapshot):
    """The golden output is the committed output/ tree (tests/output_snapshot.py); every file a spec
    generates is compared with it once (the test below checks that output/ holds nothing else)."""
    out, specs = generated
    files = sorted(specs[source]["files"])
    assert files
    for rel in files:
        assert (out / rel).read_bytes().decode("utf-8") == output_snapshot(name=rel)


@pytest.mark.parametrize("name", ROLLOUTS)
def test_every_workload_selector_matches_its_pod_labels_and_the_service_selects_them(name):
    docs = compiled(name)
    deployments = [d for (kind, _), d in docs.items() if kind == "Deployment"]
    assert deployments
    for dep in deployments:
        selector = dep["spec"]["selector"]["matchLabels"]
        labels = dep["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items()
        assert set(selector) == {"app", "version"}
    for (kind, svc_name), svc in docs.items():
        if kind != "Service":
            continue
        chosen = [d for d in deployments
                  if svc["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()]
        assert chosen, f"Service {svc_name} selects no pods"
        port = svc["spec"]["ports"][0]["targetPort"]
        for dep in chosen:
            ports = [p["containerPort"] for c in dep["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])]
            assert port in ports


def test_istio_canary_splits_90_10_and_sends_testers_to_the_canary():
    docs = compiled("backend.yaml")
    dr = docs[("DestinationRule", "backend")]
    assert [(s["name"], s["labels"]) for s in dr["spec"]["subsets"]] == [
        ("v1", {"version": "v1"}), ("v2", {"version": "v2"})]
    assert dr["spec"]["host"] == "backend"
    vs = docs[("VirtualService", "backend")]
    assert vs["spec"]["hosts"] == ["backend"]
    assert vs["metadata"]["namespace"] == "production"
    assert route(docs.values()) == {"backend/v1": 90, "backend/v2": 10}
    assert route(docs.values(), {"x-canary-user": "true"}) == {"backend/v2": 100}
    assert route(docs.values(), {"x-canary-user": "false"}) == {"backend/v1": 90, "backend/v2": 10}
    assert vs["spec"]["http"][0]["match"] == [{"headers": {"x-canary-user": {"exact": "true"}}}]


def test_istio_canary_merges_the_pod_fragment_into_every_version():
    docs = compiled("backend.yaml")
    for version in ("v1", "v2"):
        dep = docs[("Deployment", f"backend-{version}")]
        pod = dep["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == "backend"
        (container,) = pod["containers"]
        assert container["name"] == "backend"
        assert container["image"] == f"backend:{version}"
        assert container["resources"] == {"requests": {"cpu": "100m", "memory": "128Mi"}}
        assert container["ports"][0]["containerPort"] == 8080
        assert dep["spec"]["replicas"] == 3
        assert dep["metadata"]["labels"]["team"] == "payments"


def test_linkerd_canary_attaches_to_the_service_with_explicit_group_and_kind():
    docs = compiled("orders.yaml")
    route_doc = docs[("HTTPRoute", "orders")]
    assert route_doc["apiVersion"] == "policy.linkerd.io/v1beta2"
    assert route_doc["spec"]["parentRefs"] == [{"group": "core", "kind": "Service", "name": "orders", "port": 8080}]
    assert route(docs.values()) == {"orders-v1": 90, "orders-v2": 10}
    for version in ("v1", "v2"):
        svc = docs[("Service", f"orders-{version}")]
        assert svc["spec"]["selector"] == {"app": "orders", "version": version}
    v2 = docs[("Deployment", "orders-v2")]
    assert v2["spec"]["replicas"] == 2
    assert v2["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example.com/shop/orders:2.0.1"
    assert docs[("Deployment", "orders-v1")]["spec"]["template"]["spec"]["containers"][0]["image"] == \
        "registry.example.com/shop/orders:v1"


def test_gateway_api_canary_uses_a_gamma_parent_and_prefix_testers():
    docs = compiled("checkout.yaml")
    route_doc = docs[("HTTPRoute", "checkout")]
    assert route_doc["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert route_doc["spec"]["parentRefs"] == [{"group": "", "kind": "Service", "name": "checkout", "port": 80}]
    assert route(docs.values()) == {"checkout-v1": 75, "checkout-v2": 25}
    assert route(docs.values(), {"x-user-group": "beta-eu"}) == {"checkout-v2": 100}
    assert route(docs.values(), {"x-user-group": "xbeta-eu"}) == {"checkout-v1": 75, "checkout-v2": 25}
    svc = docs[("Service", "checkout")]
    assert svc["spec"]["ports"][0]["port"] == 80 and svc["spec"]["ports"][0]["targetPort"] == 8080
    container = docs[("Deployment", "checkout-v1")]["spec"]["template"]["spec"]["containers"][0]
    assert container["name"] == "app" and container["ports"][0]["containerPort"] == 8080


def test_steady_state_routes_everything_to_its_one_version_and_the_service_selects_only_it():
    docs = compiled("catalog.yaml")
    assert route(docs.values()) == {"catalog/v2": 100}
    assert docs[("DestinationRule", "catalog")]["spec"]["subsets"] == [{"name": "v2", "labels": {"version": "v2"}}]
    assert docs[("Service", "catalog")]["spec"]["selector"] == {"app": "catalog", "version": "v2"}
    assert [k for k in docs if k[0] == "Deployment"] == [("Deployment", "catalog-v2")]


def test_the_committed_output_holds_exactly_the_generated_files_and_record(generated):
    """What syrupy cannot see: a committed file no example generates any more, and the record."""
    out, _ = generated

    def paths(root: Path) -> set[str]:
        return {p.relative_to(root).as_posix() for p in root.rglob("*")
                if p.is_file() and p.relative_to(root).parts[0] != ".rollgen-cache"}

    assert paths(OUTPUT) == paths(out)
    assert (OUTPUT / ".rollgen-state").read_text() == (out / ".rollgen-state").read_text()


def test_the_local_cache_in_output_is_no_snapshot(tmp_path, monkeypatch):
    """output/.rollgen-cache/ is the machine's own knowledge (ignored by git): the golden must not see it,
    or syrupy reports it as an unused snapshot (failing the run) and --snapshot-update deletes it."""
    import output_snapshot

    out = tmp_path / "output"
    (out / "prod" / "svc").mkdir(parents=True)
    (out / "prod" / "svc" / "deployment-svc.yaml").write_text("kind: Deployment\n")
    (out / ".rollgen-cache").mkdir()
    (out / ".rollgen-cache" / "verified").write_text("{}")
    monkeypatch.setattr(output_snapshot, "OUTPUT", out)
    found = OutputTreeExtension().discover_snapshots(test_location=None)
    assert sorted(Path(c.location).relative_to(out).as_posix() for c in found) == ["prod/svc/deployment-svc.yaml"]
