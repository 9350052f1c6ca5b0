"""`kind: Platform`: the Flagger install as Flux objects (the reference's `helm install flagger`)."""

from __future__ import annotations

import pytest

from conftest import PLATFORM_EXAMPLES, SPECS, compile_spec_text, documents_by_kind, run_cli
from generator.plan.checks import parse_spec
from generator.plan.flagger import plan_flagger
from generator.plan.platform import build_platform_plan, merge_values

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


def test_istio_example_installs_flagger_and_the_loadtesters_with_helm_values_from_the_reference():
    docs = documents_by_kind(compile_spec_text((SPECS / "flagger-istio.yaml").read_text(), "specs/flagger-istio.yaml"))
    namespaces = ["payments", "shop", "staging", "web"]
    assert set(docs) == ({("HelmRepository", "flagger")}
                         | {("HelmRelease", f"flagger-{ns}") for ns in namespaces}
                         | {("HelmRelease", f"flagger-loadtester-{ns}") for ns in namespaces})
    repo = docs[("HelmRepository", "flagger")]
    assert repo["apiVersion"] == "source.toolkit.fluxcd.io/v1"
    assert repo["spec"]["url"] == "https://flagger.app"
    release = docs[("HelmRelease", "flagger-payments")]
    assert release["apiVersion"] == "helm.toolkit.fluxcd.io/v2"
    assert release["metadata"]["namespace"] == "istio-system"
    assert release["spec"]["releaseName"] == "flagger-payments"
    assert release["spec"]["values"] == {
        "fullnameOverride": "flagger-payments", "meshProvider": "istio", "metricsServer": "http://prometheus.istio-system:9090",
        "namespace": "payments",
        "podMonitor": {"additionalLabels": {"release": "kube-prometheus-stack"}, "enabled": True},
        "serviceAccount": {"create": True, "name": "flagger"}}
    # one ServiceAccount for every release of the platform, created once
    assert docs[("HelmRelease", "flagger-web")]["spec"]["values"]["serviceAccount"] == {"create": False, "name": "flagger"}
    assert release["spec"]["chart"]["spec"]["sourceRef"] == {"kind": "HelmRepository", "name": "flagger"}
    assert release["spec"]["chart"]["spec"]["chart"] == "flagger"
    assert release["spec"]["install"] == {"crds": "CreateReplace"}
    tester = docs[("HelmRelease", "flagger-loadtester-payments")]
    assert tester["metadata"]["namespace"] == "istio-system"
    assert tester["spec"]["chart"]["spec"]["chart"] == "loadtester"
    assert tester["spec"]["releaseName"] == "flagger-loadtester"
    assert tester["spec"]["targetNamespace"] == "payments"


def test_extra_values_merge_under_the_generated_ones_and_the_loadtester_can_live_elsewhere():
    docs = documents_by_kind(compile_spec_text(PLATFORM))
    values = docs[("HelmRelease", "flagger")]["spec"]["values"]
    assert values["linkerdAuthPolicy"] == {"create": True, "namespace": "linkerd-viz"}
    assert values["slack"] == {"channel": "deploys", "user": "flagger"}
    assert values["meshProvider"] == "linkerd" and "namespace" not in values  # every namespace
    tester = docs[("HelmRelease", "flagger-loadtester")]
    assert tester["spec"]["targetNamespace"] == "test"
    assert tester["spec"]["values"] == {"cmd": {"timeout": "1h"}, "podAnnotations": {"linkerd.io/inject": "enabled"}}
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
    plan = build_platform_plan(parse_spec(PLATFORM.encode(), "p.yaml").document, "p.yaml")
    assert plan.namespace == "linkerd" and plan.name == "flagger"
    assert [r.name for r in plan.releases] == ["flagger", "flagger-loadtester"]


@pytest.mark.parametrize("command", ["validate", "generate"])
def test_platform_specs_go_through_the_normal_commands(command, workdir):
    result = run_cli(command, "specs/flagger-istio.yaml", cwd=workdir)
    assert result.exit_code == 0, result.output


# --- Flagger as the meshes need it ------------------------------------------------------------------

from conftest import FLAGGER_EXAMPLES  # noqa: E402
import yaml  # noqa: E402


def example(name: str) -> dict[tuple[str, str], dict]:
    return documents_by_kind(compile_spec_text((SPECS / name).read_text(), f"specs/{name}"))


def flagger_releases(docs) -> list[dict]:
    return [d for (kind, _), d in sorted(docs.items())
            if kind == "HelmRelease" and d["spec"]["chart"]["spec"]["chart"] == "flagger"]


def loadtester_releases(docs) -> list[dict]:
    return [d for (kind, _), d in sorted(docs.items())
            if kind == "HelmRelease" and d["spec"]["chart"]["spec"]["chart"] == "loadtester"]


def test_the_linkerd_example_runs_flagger_meshed_in_its_own_namespace_and_reads_linkerd_viz():
    docs = example("flagger-linkerd.yaml")
    namespace = docs[("Namespace", "flagger-system")]
    # the `linkerd` namespace disables Linkerd's admission webhooks: Flagger there is never meshed
    assert namespace["metadata"]["annotations"] == {"linkerd.io/inject": "enabled"}
    assert "namespace" not in namespace["metadata"]
    release = flagger_releases(docs)[0]
    assert release["metadata"]["namespace"] == "flagger-system"
    values = release["spec"]["values"]
    assert values["metricsServer"] == "http://prometheus.linkerd-viz:9090"
    # linkerd-viz's Prometheus admits only authorized clients: the chart's AuthorizationPolicy for Flagger
    assert values["linkerdAuthPolicy"] == {"create": True, "namespace": "linkerd-viz"}


def test_a_linkerd_platform_defaults_to_linkerd_viz_prometheus():
    text = PLATFORM.replace("    metricsServer: http://prometheus.linkerd-viz:9090\n", "")
    values = flagger_releases(documents_by_kind(compile_spec_text(text)))[0]["spec"]["values"]
    assert values["metricsServer"] == "http://prometheus.linkerd-viz:9090"


def cluster_role_names(docs) -> set[str]:
    """The chart names its ClusterRole and ClusterRoleBinding after its fullname (templates/rbac.yaml)."""
    names = set()
    for release in flagger_releases(docs):
        values = release["spec"].get("values", {})
        names.add(values.get("fullnameOverride") or release["spec"]["releaseName"])
    return names


def watched(docs) -> list[str]:
    return [r["spec"]["values"].get("namespace", "") for r in flagger_releases(docs)]


def test_the_two_example_platforms_coexist_with_their_own_rbac_and_disjoint_namespaces():
    istio, linkerd = example("flagger-istio.yaml"), example("flagger-linkerd.yaml")
    assert not cluster_role_names(istio) & cluster_role_names(linkerd)
    istio_ns, linkerd_ns = watched(istio), watched(linkerd)
    assert "" not in istio_ns + linkerd_ns  # neither watches every namespace
    assert not set(istio_ns) & set(linkerd_ns)
    # every Flagger rollout of the examples is reconciled by exactly the Platform of its mesh
    for name in FLAGGER_EXAMPLES:
        spec = yaml.safe_load((SPECS / name).read_text())
        ns, mesh = spec["metadata"]["namespace"], spec["spec"]["mesh"]
        assert ns in (istio_ns if mesh == "istio" else linkerd_ns), name


def test_flagger_metrics_are_scraped_by_a_default_kube_prometheus_stack():
    for name in ("flagger-istio.yaml", "flagger-linkerd.yaml"):
        for release in flagger_releases(example(name)):
            assert release["spec"]["values"]["podMonitor"] == {
                "enabled": True, "additionalLabels": {"release": "kube-prometheus-stack"}}


def test_the_pod_monitor_can_be_labelled_for_another_prometheus_or_turned_off():
    text = PLATFORM.replace("    metricsServer:", "    podMonitor: {labels: {prometheus: main}}\n    metricsServer:")
    values = flagger_releases(documents_by_kind(compile_spec_text(text)))[0]["spec"]["values"]
    assert values["podMonitor"] == {"enabled": True, "additionalLabels": {"prometheus": "main"}}
    text = PLATFORM.replace("    metricsServer:", "    podMonitor: {enabled: false}\n    metricsServer:")
    values = flagger_releases(documents_by_kind(compile_spec_text(text)))[0]["spec"]["values"]
    assert values["podMonitor"] == {"enabled": False}


def test_load_testers_run_meshed_in_every_application_namespace():
    for name, marks in (("flagger-istio.yaml", {"podLabels": {"sidecar.istio.io/inject": "true"}}),
                        ("flagger-linkerd.yaml", {"podAnnotations": {"linkerd.io/inject": "enabled"}})):
        docs = example(name)
        testers = loadtester_releases(docs)
        assert sorted(t["spec"]["targetNamespace"] for t in testers) == sorted(watched(docs)), name
        for tester in testers:
            # one Helm release per namespace, each stored where it runs (the same release name everywhere)
            assert tester["spec"]["storageNamespace"] == tester["spec"]["targetNamespace"]
            assert tester["spec"]["releaseName"] == "flagger-loadtester"
            for key, value in marks.items():
                assert tester["spec"]["values"][key].items() >= value.items(), name


def test_istio_load_testers_accept_flaggers_plaintext_calls_under_strict_mtls():
    # Flagger in istio-system has no sidecar; the load tester's inbound port bypasses its own sidecar
    # while its outbound calls to the canary go through it (mTLS)
    for tester in loadtester_releases(example("flagger-istio.yaml")):
        annotations = tester["spec"]["values"]["podAnnotations"]
        assert annotations["traffic.sidecar.istio.io/excludeInboundPorts"] == "8080"


def test_every_flagger_rollouts_default_webhook_url_names_the_load_tester_of_its_namespace():
    # Flagger POSTs webhooks from its own pod (pkg/controller/webhook.go), so a bare
    # http://flagger-loadtester/ would resolve in Flagger's namespace, not the rollout's
    from generator.plan.flagger import plan_flagger

    installed = {t["spec"]["targetNamespace"] for name in ("flagger-istio.yaml", "flagger-linkerd.yaml")
                 for t in loadtester_releases(example(name))}
    for name in FLAGGER_EXAMPLES:
        spec = parse_spec((SPECS / name).read_bytes(), name)
        plan = plan_flagger(spec.document, name)
        for hook in plan.analysis.webhooks:
            assert hook.url.startswith(f"http://flagger-loadtester.{plan.namespace}/"), (name, hook.url)
            assert plan.namespace in installed


TWO = """\
apiVersion: rollgen/v1alpha1
kind: Platform
metadata:
  name: NAME
  namespace: NS
spec:
  flagger:
    meshProvider: MESH
    namespaces: WATCH
"""


def platform(path, name="flagger", ns="istio-system", mesh="istio", watch="[]"):
    path.parent.mkdir(exist_ok=True)
    path.write_text(TWO.replace("NAME", name).replace("NS", ns).replace("MESH", mesh).replace("WATCH", watch))


def test_two_platforms_reconciling_the_same_canaries_are_refused_at_both_names(tmp_path):
    platform(tmp_path / "specs" / "a.yaml")
    platform(tmp_path / "specs" / "b.yaml", name="flagger-linkerd", ns="flagger-system", mesh="linkerd",
             watch="[billing]")
    result = run_cli("generate", "specs", cwd=tmp_path)
    assert result.exit_code == 1
    assert ("specs/a.yaml:4:9: metadata.name: Flagger flagger reconciles every namespace's Canaries and Flagger "
            "flagger-linkerd-billing of specs/b.yaml those of billing: both would run them" in result.stderr)
    assert "specs/b.yaml:4:9: metadata.name:" in result.stderr
    assert "hint: give both Platforms `spec.flagger.namespaces` that do not overlap" in result.stderr
    assert not (tmp_path / "output").exists()


def test_two_platforms_with_the_same_release_names_are_refused(tmp_path):
    platform(tmp_path / "specs" / "a.yaml", watch="[payments]")
    platform(tmp_path / "specs" / "b.yaml", ns="flagger-system", mesh="linkerd", watch="[payments]")
    result = run_cli("generate", "specs", cwd=tmp_path)
    assert result.exit_code == 1
    assert ("ClusterRole flagger-payments is written by Flagger of this spec and of specs/b.yaml"
            in result.stderr), result.stderr


def test_platforms_watching_distinct_namespaces_coexist(tmp_path):
    platform(tmp_path / "specs" / "a.yaml", watch="[payments, web]")
    platform(tmp_path / "specs" / "b.yaml", name="flagger-linkerd", ns="flagger-system", mesh="linkerd",
             watch="[billing]")
    result = run_cli("generate", "specs", cwd=tmp_path)
    assert result.exit_code == 0, result.output


def test_install_commands_show_every_release_with_its_nested_values():
    from generator.plan.platform import install_commands

    plan = build_platform_plan(parse_spec((SPECS / "flagger-linkerd.yaml").read_bytes(), "p.yaml").document, "p.yaml")
    text = "\n".join(install_commands(plan))
    assert "kubectl create namespace flagger-system" in text
    assert "kubectl annotate namespace flagger-system linkerd.io/inject=enabled" in text
    assert "--set linkerdAuthPolicy.create=true" in text
    assert "--set podMonitor.additionalLabels.release=kube-prometheus-stack" in text
    assert "helm install flagger-loadtester flagger/loadtester \\\n  --namespace billing" in text
    assert "--set podAnnotations.linkerd\\.io/inject=enabled" in text


def test_a_platform_clashes_with_one_generated_earlier(tmp_path):
    platform(tmp_path / "specs" / "a.yaml")
    assert run_cli("generate", "specs", cwd=tmp_path).exit_code == 0
    platform(tmp_path / "specs" / "b.yaml", name="flagger-linkerd", ns="flagger-system", mesh="linkerd",
             watch="[billing]")
    result = run_cli("generate", "specs", cwd=tmp_path)  # only b.yaml is compiled now
    assert result.exit_code == 1
    assert "specs/a.yaml:4:9: metadata.name: Flagger flagger reconciles every namespace's Canaries" in result.stderr
    assert ("specs/b.yaml:4:9: metadata.name: Flagger flagger-linkerd-billing reconciles the Canaries of billing "
            "and Flagger flagger of specs/a.yaml those of every namespace: both would run them") in result.stderr


def test_platforms_with_different_chart_versions_are_refused(tmp_path):
    platform(tmp_path / "specs" / "a.yaml", watch="[payments]")
    (tmp_path / "specs" / "b.yaml").write_text(
        TWO.replace("NAME", "flagger-linkerd").replace("NS", "flagger-system").replace("MESH", "linkerd")
        .replace("WATCH", "[billing]\n    version: 1.44.0"))
    result = run_cli("generate", "specs", cwd=tmp_path)
    assert result.exit_code == 1
    assert ("Flagger's CRDs come from chart version 1.x here and 1.44.0 in specs/b.yaml: each install would "
            "replace the other's") in result.stderr


def test_two_platforms_installing_a_load_tester_into_the_same_namespace_are_refused(tmp_path):
    platform(tmp_path / "specs" / "a.yaml", watch="[payments]")
    (tmp_path / "specs" / "b.yaml").write_text(
        TWO.replace("NAME", "flagger-linkerd").replace("NS", "flagger-system").replace("MESH", "linkerd")
        .replace("WATCH", "[billing]\n  loadtester: {namespaces: [billing, payments]}"))
    result = run_cli("generate", "specs", cwd=tmp_path)
    assert result.exit_code == 1
    assert "specs/a.yaml:4:9: metadata.name: the load tester of namespace payments is installed by this spec " \
           "and by specs/b.yaml" in result.stderr


def test_validate_reports_two_platforms_reconciling_the_same_canaries_as_generate_does(tmp_path):
    platform(tmp_path / "specs" / "a.yaml")
    platform(tmp_path / "specs" / "b.yaml", name="flagger-linkerd", ns="flagger-system", mesh="linkerd",
             watch="[billing]")
    result = run_cli("validate", "specs", cwd=tmp_path)
    assert result.exit_code == 1
    assert ("specs/a.yaml:4:9: metadata.name: Flagger flagger reconciles every namespace's Canaries" in result.stderr)
    assert "specs/b.yaml:4:9: metadata.name:" in result.stderr


def test_metric_templates_query_the_prometheus_the_meshs_platform_uses():
    """Flagger queries a MetricTemplate's address from its own pod, in the Platform's namespace (Linkerd:
    flagger-system): `http://prometheus:9090` resolves there to nothing. By default the templates query
    the mesh's Prometheus, the same one the Platform gives Flagger's builtins."""
    servers = {}
    for name in PLATFORM_EXAMPLES:
        plan = build_platform_plan(parse_spec((SPECS / name).read_bytes(), name).document, name)
        for release in plan.releases:
            if "metricsServer" in release.values:
                servers[plan.mesh] = release.values["metricsServer"]
    checked = 0
    for name in FLAGGER_EXAMPLES:
        spec = parse_spec((SPECS / name).read_bytes(), name)
        if spec.document.spec.flagger is not None and "metricsServer" in spec.document.spec.flagger.model_fields_set:
            continue
        if spec.document.spec.mesh not in servers:
            continue
        plan = plan_flagger(spec.document, name)
        for template in plan.templates:
            assert template.address == servers[spec.document.spec.mesh], (name, template.address)
            checked += 1
    assert checked
