"""`kind: Platform`: the Flagger install as Flux objects (the reference's `helm install flagger`)."""

from __future__ import annotations

import pytest

from conftest import SPECS, compile_spec_text, documents_by_kind, run_cli
from generator.load import parse_spec
from generator.platform_plan import build_platform_plan, merge_values

PLATFORM = """\
apiVersion: rollgen/v1alpha1
kind: Platform
metadata: {name: flagger, namespace: linkerd, labels: {team: platform}}
spec:
  flagger:
    meshProvider: linkerd
    metricsServer: http://prometheus.linkerd-viz:9090
    values: {slack: {user: flagger, channel: deploys}, linkerdAuthPolicy: {create: true}}
  loadtester: {namespace: test, values: {cmd: {timeout: 1h}}}
"""


def test_istio_example_installs_flagger_and_the_loadtester_with_helm_values_from_the_reference():
    docs = documents_by_kind(compile_spec_text((SPECS / "flagger-istio.yaml").read_text(), "specs/flagger-istio.yaml"))
    assert set(docs) == {("HelmRepository", "flagger"), ("HelmRelease", "flagger"),
                         ("HelmRelease", "flagger-loadtester")}
    repo = docs[("HelmRepository", "flagger")]
    assert repo["apiVersion"] == "source.toolkit.fluxcd.io/v1"
    assert repo["spec"]["url"] == "https://flagger.app"
    release = docs[("HelmRelease", "flagger")]
    assert release["apiVersion"] == "helm.toolkit.fluxcd.io/v2"
    assert release["metadata"]["namespace"] == "istio-system"
    assert release["spec"]["values"] == {"meshProvider": "istio", "metricsServer": "http://prometheus:9090"}
    assert release["spec"]["chart"]["spec"]["sourceRef"] == {"kind": "HelmRepository", "name": "flagger"}
    assert release["spec"]["chart"]["spec"]["chart"] == "flagger"
    assert release["spec"]["install"] == {"crds": "CreateReplace"}
    tester = docs[("HelmRelease", "flagger-loadtester")]
    assert tester["spec"]["chart"]["spec"]["chart"] == "loadtester"
    assert tester["spec"]["releaseName"] == "flagger-loadtester"
    assert "targetNamespace" not in tester["spec"]


def test_extra_values_merge_under_the_generated_ones_and_the_loadtester_can_live_elsewhere():
    docs = documents_by_kind(compile_spec_text(PLATFORM))
    values = docs[("HelmRelease", "flagger")]["spec"]["values"]
    assert values == {"linkerdAuthPolicy": {"create": True}, "meshProvider": "linkerd",
                      "metricsServer": "http://prometheus.linkerd-viz:9090",
                      "slack": {"channel": "deploys", "user": "flagger"}}
    tester = docs[("HelmRelease", "flagger-loadtester")]
    assert tester["spec"]["targetNamespace"] == "test"
    assert tester["spec"]["values"] == {"cmd": {"timeout": "1h"}}
    assert all(d["metadata"]["labels"]["team"] == "platform" for d in docs.values())


def test_the_loadtester_can_be_left_out_and_an_oci_repository_is_typed():
    text = PLATFORM.replace("  loadtester: {namespace: test, values: {cmd: {timeout: 1h}}}\n",
                            "  loadtester: {enabled: false}\n  repository: {url: 'oci://ghcr.io/fluxcd/charts'}\n")
    docs = documents_by_kind(compile_spec_text(text))
    assert ("HelmRelease", "flagger-loadtester") not in docs
    assert docs[("HelmRepository", "flagger")]["spec"]["type"] == "oci"


def test_merge_values_is_deep_and_sorted():
    assert merge_values({"b": {"x": 1, "y": 2}, "a": 1}, {"b": {"y": 3}}) == {"a": 1, "b": {"x": 1, "y": 3}}
    assert list(merge_values({"z": 1}, {"a": 2})) == ["a", "z"]


def test_platform_plan_keeps_the_install_in_the_platform_namespace():
    plan = build_platform_plan(parse_spec(PLATFORM.encode(), "p.yaml").rollout, "p.yaml")
    assert plan.namespace == "linkerd" and plan.name == "flagger"
    assert [r.name for r in plan.releases] == ["flagger", "flagger-loadtester"]


@pytest.mark.parametrize("command", ["validate", "generate"])
def test_platform_specs_go_through_the_normal_commands(command, workdir):
    result = run_cli(command, "specs/flagger-istio.yaml", cwd=workdir)
    assert result.exit_code == 0, result.output
