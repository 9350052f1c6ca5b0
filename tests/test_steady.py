"""Steady state sends every request to its one version, whatever else still runs in the cluster.

A finalized rollout (and a one-version spec written by hand) deletes the old version's Deployment
from Git, but a GitOps tool that does not prune leaves its pods running. The routing table below is
evaluated on such a cluster: the objects of the new output plus every Deployment that ran before.
"""

from __future__ import annotations

import textwrap

import pytest
import yaml

from conftest import compile_spec_text
from generator.spec.edit import promote
from generator.output.emergency import emergency_manifests
from generator.plan.checks import parse_spec
from routing import serving

MESHES = ("istio", "linkerd", "gateway-api")


def spec_text(mesh: str, versions: list[str], strategy: str = "") -> str:
    listed = "".join(f"\n    - name: {v}" + ("\n      replicas: 3" if v == "v1" else "") for v in versions)
    return textwrap.dedent("""\
        apiVersion: rollgen/v1alpha1
        kind: Rollout
        metadata:
          name: shop
          namespace: web
        spec:
          mesh: {mesh}
          service:
            port: 8080
          workload:
            image: registry.example.com/shop
            replicas: 2
          versions:{versions}
        """).format(mesh=mesh, versions=listed) + textwrap.indent(textwrap.dedent(strategy), "  ")


CANARY_AT_THE_END = """\
      canary:
        stable: v1
        canary: v2
        steps: [50, 100]
        position: 2
        testers: {header: x-canary, exact: "yes"}
    """

BLUE_GREEN_AFTER_CUTOVER = """\
      blueGreen:
        active: v2
        preview: v1
    """


def objects(text: str) -> list[dict]:
    return list(compile_spec_text(text, "specs/shop.yaml").values())


def deployments(docs: list[dict]) -> list[dict]:
    return [d for d in docs if d["kind"] == "Deployment"]


def unpruned(before: list[dict], after: list[dict]) -> list[dict]:
    """The cluster after syncing `after` without pruning: its objects, and every Deployment of
    `before` that `after` no longer has is still running."""
    names = {d["metadata"]["name"] for d in deployments(after)}
    return after + [d for d in deployments(before) if d["metadata"]["name"] not in names]


def finalized(text: str) -> str:
    edit = promote(parse_spec(text.encode(), "specs/shop.yaml"), text, finalize=True)
    assert edit.changed
    return edit.new_text


REQUESTS = ({}, {"x-canary": "yes"}, {"x-version": "v1"})


@pytest.mark.parametrize("mesh", MESHES)
@pytest.mark.parametrize("strategy", [CANARY_AT_THE_END, BLUE_GREEN_AFTER_CUTOVER], ids=["canary", "blue-green"])
def test_a_finalized_rollout_sends_nothing_to_the_old_pods_a_sync_without_prune_leaves(mesh, strategy):
    text = spec_text(mesh, ["v1", "v2"], strategy)
    before = objects(text)
    for headers in REQUESTS:  # the last position already has everything on v2
        assert serving(unpruned([], before), headers) == {"v2": 1}
    after = objects(finalized(text))
    assert [d["metadata"]["name"] for d in deployments(after)] == ["shop-v2"]
    cluster = unpruned(before, after)
    assert "shop-v1" in {d["metadata"]["name"] for d in deployments(cluster)}
    for headers in REQUESTS:
        assert serving(cluster, headers) == {"v2": 1}
        assert serving(after, headers) == {"v2": 1}  # and with pruning on, the same


@pytest.mark.parametrize("mesh", MESHES)
def test_a_one_version_spec_written_by_hand_ignores_the_version_it_replaced(mesh):
    old, new = objects(spec_text(mesh, ["v1"])), objects(spec_text(mesh, ["v2"]))
    cluster = unpruned(old, new)
    assert {d["metadata"]["name"] for d in deployments(cluster)} == {"shop-v1", "shop-v2"}
    assert serving(cluster) == {"v2": 1}


@pytest.mark.parametrize("mesh", MESHES)
def test_the_service_callers_address_selects_only_the_steady_version(mesh):
    """Callers outside the mesh (and anything reading the Service's endpoints) get no old pods either."""
    cluster = unpruned(objects(spec_text(mesh, ["v1"])), objects(spec_text(mesh, ["v2"])))
    service = next(d for d in cluster if d["kind"] == "Service" and d["metadata"]["name"] == "shop")
    assert service["spec"]["selector"] == {"app": "shop", "version": "v2"}


@pytest.mark.parametrize("mesh", MESHES)
@pytest.mark.parametrize("strategy", [CANARY_AT_THE_END, BLUE_GREEN_AFTER_CUTOVER], ids=["canary", "blue-green"])
def test_finalize_keeps_the_shape_of_the_last_position(mesh, strategy):
    """The objects that reach v2 at the last position are still there after finalize, and nothing
    new appears: the GitOps diff removes v1 and narrows what routes and selects."""
    text = spec_text(mesh, ["v1", "v2"], strategy)
    names = lambda docs: {(d["kind"], d["metadata"]["name"]) for d in docs}
    before, after = names(objects(text)), names(objects(finalized(text)))
    if strategy is BLUE_GREEN_AFTER_CUTOVER and mesh == "istio":
        # Istio's blue/green reaches a version through its own Service, steady state (like a canary)
        # through a subset: the one change of shape, which Istio's pattern table documents.
        assert before - after == {("Deployment", "shop-v1"), ("Service", "shop-v1"), ("Service", "shop-v2")}
        assert after - before == {("DestinationRule", "shop")}
    else:
        assert before - after == {("Deployment", "shop-v1")} | ({("Service", "shop-v1")} if mesh != "istio" else set())
        assert after <= before


@pytest.mark.parametrize("mesh", MESHES)
def test_starting_the_next_rollout_drops_no_endpoint_of_the_service(mesh):
    steady = objects(spec_text(mesh, ["v2"]))
    canary = CANARY_AT_THE_END.replace("v2", "v3").replace("v1", "v2").replace("position: 2", "position: 0")
    rollout = objects(spec_text(mesh, ["v2", "v3"], canary))
    cluster = unpruned([], steady + deployments(rollout))  # the new pods exist before the Service changes

    def selected(docs):
        service = next(d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == "shop")
        return {d["metadata"]["name"] for d in deployments(cluster)
                if all(d["spec"]["template"]["metadata"]["labels"].get(k) == v
                       for k, v in service["spec"]["selector"].items())}

    assert selected(steady) <= selected(rollout)
    assert serving(unpruned(steady, rollout)) == {"v2": 1}


@pytest.mark.parametrize("mesh", MESHES)
def test_emergency_rollback_of_a_steady_service_stays_on_its_version(mesh):
    text = spec_text(mesh, ["v2"])
    printed = emergency_manifests(parse_spec(text.encode(), "specs/shop.yaml"))
    routing = [d for d in yaml.safe_load_all(printed) if d]
    services = [d for d in objects(text) if d["kind"] == "Service"]
    cluster = routing + services + deployments(unpruned(objects(spec_text(mesh, ["v1"])), objects(text)))
    assert serving(cluster) == {"v2": 1}
