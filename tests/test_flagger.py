"""`delivery: flagger`: the reference's four Flagger Canaries field for field (webhooks where Flagger
reads them), nothing Flagger owns, and the combinations Flagger rejects or misreads as errors."""

from __future__ import annotations

import pytest

from conftest import FLAGGER_EXAMPLES, SPECS, compile_spec_text, documents_by_kind, run_cli

FLAGGER_OWNED = {"VirtualService", "DestinationRule", "HTTPRoute", "Service", "TrafficSplit"}


def compiled(name: str) -> dict[tuple[str, str], dict]:
    return documents_by_kind(compile_spec_text((SPECS / name).read_text(), f"specs/{name}"))


def canary_of(name: str) -> dict:
    docs = compiled(name)
    (canary,) = [d for (kind, _), d in docs.items() if kind == "Canary"]
    return canary





@pytest.mark.parametrize("name", FLAGGER_EXAMPLES)
def test_nothing_flagger_owns_is_generated_and_the_target_is_the_deployment(name):
    docs = compiled(name)
    assert not {kind for kind, _ in docs} & FLAGGER_OWNED
    canary = canary_of(name)
    target = canary["spec"]["targetRef"]
    assert target == {"apiVersion": "apps/v1", "kind": "Deployment", "name": canary["metadata"]["name"]}
    deployment = docs[("Deployment", target["name"])]
    assert deployment["spec"]["selector"]["matchLabels"] == {"app": target["name"]}
    # Flagger scales its target to zero between releases: a replica count in Git would fight it, so an
    # autoscaler (copied by Flagger to `<name>-primary`) holds the replicas instead.
    assert "replicas" not in deployment["spec"]
    hpa = docs[("HorizontalPodAutoscaler", target["name"])]["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": target["name"]}
    assert hpa["minReplicas"] <= hpa["maxReplicas"] and hpa["minReplicas"] >= 1
    # An HPA without metrics is defaulted by the API server to CPU 80 % of the whole pod, and warns
    # (FailedGetResourceMetric) every sync when a container has no CPU request. A pinned count gets the
    # pods' average CPU as an absolute value, which needs no request; real autoscaling the application
    # container's CPU utilisation, whose request the spec must give.
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    (metric,) = hpa["metrics"]
    if hpa["minReplicas"] == hpa["maxReplicas"]:
        assert metric == {"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "AverageValue", "averageValue": "1"}}}
    else:
        assert container["resources"]["requests"]["cpu"]
        assert metric["type"] == "ContainerResource"
        assert metric["containerResource"]["name"] == "cpu"
        assert metric["containerResource"]["container"] == container["name"]
        assert metric["containerResource"]["target"]["type"] == "Utilization"
    assert canary["spec"]["autoscalerRef"] == {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                                               "name": target["name"]}
    # Flagger generates `<name>-primary` and `<name>-canary`: they must still be valid names.
    assert len(target["name"] + "-primary") <= 63
    assert canary["spec"]["provider"]  # always explicit, never the controller's default
    assert "webhooks" not in canary["spec"]  # pruned by the API server there: they belong in analysis


def test_istio_canary_matches_the_reference_field_for_field():
    spec = canary_of("flagger-canary-istio.yaml")["spec"]
    assert spec["provider"] == "istio"
    assert spec["service"] == {"port": 8080, "targetPort": 8080}
    analysis = spec["analysis"]
    assert {k: analysis[k] for k in ("interval", "threshold", "maxWeight", "stepWeight")} == {
        "interval": "1m", "threshold": 5, "maxWeight": 50, "stepWeight": 10}
    assert analysis["metrics"] == [
        {"name": "request-success-rate", "thresholdRange": {"min": 99}, "interval": "1m"},
        {"name": "request-duration", "thresholdRange": {"max": 500}, "interval": "1m"}]
    assert analysis["webhooks"] == [
        {"name": "pre-rollout", "type": "pre-rollout", "url": "http://flagger-loadtester.payments/", "timeout": "15s",
         "metadata": {"type": "bash", "cmd": "curl -sd 'test' http://backend-canary.payments:8080/healthz"}},
        {"name": "load-test", "type": "rollout", "url": "http://flagger-loadtester.payments/", "timeout": "5s",
         "metadata": {"cmd": "hey -z 1m -q 10 -c 2 http://backend-canary.payments:8080/"}}]
    assert set(analysis) == {"interval", "threshold", "maxWeight", "stepWeight", "metrics", "webhooks"}


def test_linkerd_canaries_default_to_the_gateway_api_provider_as_flaggers_linkerd_guide_does():
    # Flagger's linkerd provider writes an SMI TrafficSplit, which Linkerd 2.12+ honours only with the
    # linkerd-smi extension; Linkerd implements the Gateway API itself.
    spec = canary_of("flagger-canary-linkerd.yaml")["spec"]
    assert spec["provider"] == "gatewayapi:v1"
    assert spec["service"]["gatewayRefs"] == [
        {"name": "backend", "namespace": "billing", "group": "", "kind": "Service", "port": 8080}]
    # No builtins: they would not read Linkerd's proxy metrics under the gatewayapi provider.
    assert all("templateRef" in m for m in spec["analysis"]["metrics"])
    assert (spec["analysis"]["stepWeight"], spec["analysis"]["maxWeight"]) == (10, 50)


def test_an_explicit_linkerd_provider_is_kept_and_warned_about_the_smi_extension(tmp_path):
    text = (SPECS / "flagger-canary-linkerd.yaml").read_text() + "  flagger: {provider: linkerd}\n"
    spec = documents_by_kind(compile_spec_text(text, "specs/x.yaml"))[("Canary", "backend")]["spec"]
    assert spec["provider"] == "linkerd"
    assert "gatewayRefs" not in spec["service"]
    assert [m["name"] for m in spec["analysis"]["metrics"]] == ["request-success-rate", "request-duration"]
    assert all("templateRef" not in m for m in spec["analysis"]["metrics"])
    (tmp_path / "s.yaml").write_text(text)
    result = run_cli("validate", "s.yaml", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert ("warning: spec.flagger.provider: Flagger's linkerd provider writes an SMI TrafficSplit, which Linkerd "
            "2.12 and later honour only with the linkerd-smi extension installed") in result.stderr


def test_a_pinned_replica_count_is_an_autoscaler_with_min_equal_to_max():
    docs = compiled("flagger-canary-istio.yaml")
    hpa = docs[("HorizontalPodAutoscaler", "backend")]["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 3)


def test_a_pinned_count_needs_no_cpu_request_its_metric_is_an_absolute_value():
    """A pinned HPA's metric must be computable without CPU requests (a Linkerd proxy has none): the
    pods' average CPU as a value. A utilisation metric (or none, which the API server defaults to the
    pod's CPU utilisation) warns FailedGetResourceMetric on every sync for such pods."""
    spec = (SPECS / "flagger-canary-linkerd.yaml").read_text()
    assert "cpu:" not in spec
    docs = documents_by_kind(compile_spec_text(spec, "specs/x.yaml"))
    (name,) = [n for (kind, n) in docs if kind == "HorizontalPodAutoscaler"]
    hpa = docs[("HorizontalPodAutoscaler", name)]["spec"]
    assert hpa["minReplicas"] == hpa["maxReplicas"]
    assert hpa["metrics"] == [{"type": "Resource", "resource": {"name": "cpu", "target": {
        "type": "AverageValue", "averageValue": "1"}}}]


def test_workload_autoscaling_scales_on_the_application_containers_cpu():
    text = (SPECS / "flagger-canary-istio.yaml").read_text().replace(
        "    replicas: 3\n", "    autoscaling: {min: 2, max: 4, cpu: 99}\n"
        "    pod: {containers: [{name: backend, resources: {requests: {cpu: 100m}}}]}\n")
    docs = documents_by_kind(compile_spec_text(text, "specs/x.yaml"))
    hpa = docs[("HorizontalPodAutoscaler", "backend")]["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 4)
    assert hpa["metrics"] == [{"type": "ContainerResource", "containerResource": {
        "name": "cpu", "container": "backend", "target": {"type": "Utilization", "averageUtilization": 99}}}]
    assert docs[("Canary", "backend")]["spec"]["autoscalerRef"]["name"] == "backend"
    assert "replicas" not in docs[("Deployment", "backend")]["spec"]


def test_ab_test_routes_beta_users_by_header_for_ten_iterations():
    spec = canary_of("flagger-ab-test.yaml")["spec"]
    analysis = spec["analysis"]
    assert analysis["iterations"] == 10
    assert analysis["match"] == [{"headers": {"x-user-type": {"exact": "beta"}}}]
    assert not {"stepWeight", "maxWeight", "stepWeights"} & set(analysis)
    assert analysis["threshold"] == 5  # the Canary CRD requires it; the reference omits it
    assert spec["service"] == {"port": 80, "targetPort": 8080}


def test_blue_green_has_iterations_without_the_weights_flaggers_crd_rejects_beside_them():
    analysis = canary_of("flagger-blue-green.yaml")["spec"]["analysis"]
    assert (analysis["iterations"], analysis["threshold"]) == (2, 10)
    assert not {"stepWeight", "maxWeight", "stepWeights", "match"} & set(analysis)
    gate = analysis["webhooks"][-1]
    assert gate == {"name": "promotion-gate", "type": "confirm-promotion",
                    "url": "http://flagger-loadtester.staging/gate/check"}


def test_gateway_api_canary_attaches_to_the_service_and_checks_linkerd_metrics_through_templates():
    docs = compiled("flagger-canary-gateway-api.yaml")
    spec = docs[("Canary", "accounts")]["spec"]
    assert spec["provider"] == "gatewayapi:v1"
    # Gateway API's core group is the empty string: Istio refuses `core` as a parent group, and Flagger
    # copies gatewayRefs into the HTTPRoute's parentRefs as they are.
    assert spec["service"]["gatewayRefs"] == [
        {"name": "accounts", "namespace": "billing", "group": "", "kind": "Service", "port": 9898}]
    assert spec["analysis"]["stepWeights"] == [5, 10, 25, 50]
    assert not {"stepWeight", "maxWeight"} & set(spec["analysis"])
    metrics = {m["name"]: m for m in spec["analysis"]["metrics"]}
    # Names of their own: Flagger would also run its builtin observer for request-success-rate/-duration.
    assert list(metrics) == ["success-rate", "latency", "request-rate"]
    assert metrics["success-rate"]["templateRef"] == {"name": "accounts-success-rate", "namespace": "billing"}
    assert metrics["latency"]["thresholdRange"] == {"max": 500}
    assert metrics["request-rate"]["thresholdRange"] == {"min": 1}
    assert spec["analysis"]["interval"] == "30s"
    # Flagger's default query range, except where the check sets a window of its own.
    assert {n: m["interval"] for n, m in metrics.items()} == {"success-rate": "1m", "latency": "30s",
                                                              "request-rate": "1m"}
    for name in ("accounts-success-rate", "accounts-latency", "accounts-request-rate"):
        template = docs[("MetricTemplate", name)]["spec"]
        # Flagger queries from its own namespace: the mesh's Prometheus, fully qualified
        assert template["provider"] == {"type": "prometheus", "address": "http://prometheus.linkerd-viz:9090"}
        assert 'deployment="{{ target }}"' in template["query"] and "[{{ interval }}]" in template["query"]
    provider = docs[("AlertProvider", "accounts-on-call")]["spec"]
    assert provider == {"type": "slack", "channel": "billing-deploys", "secretRef": {"name": "slack-webhook"}}
    assert spec["analysis"]["alerts"] == [{"name": "on-call", "severity": "warn",
                                           "providerRef": {"name": "accounts-on-call"}}]


@pytest.mark.parametrize("name", FLAGGER_EXAMPLES)
def test_a_failed_flagger_rollout_alerts_on_flaggers_own_status_metric(name):
    docs = compiled(name)
    rules = [d for (kind, _), d in docs.items() if kind == "PrometheusRule"]
    exprs = [r["expr"] for doc in rules for g in doc["spec"]["groups"] for r in g["rules"]]
    canary = canary_of(name)["metadata"]
    assert any(f'flagger_canary_status{{name="{canary["name"]}", namespace="{canary["namespace"]}"}}' in e
               for e in exprs)


def test_status_commands_print_the_references_monitoring_commands(workdir):
    result = run_cli("status-commands", "specs/flagger-canary-istio.yaml", cwd=workdir)
    assert result.exit_code == 0, result.output
    assert "kubectl -n payments get canaries --watch" in result.stdout
    assert "kubectl -n payments describe canary backend" in result.stdout
    assert "kubectl -n payments get events --sort-by='.lastTimestamp'" in result.stdout


def test_status_commands_refuse_a_manual_rollout(workdir):
    result = run_cli("status-commands", "specs/backend.yaml", cwd=workdir)
    assert result.exit_code == 1
    assert "delivered manually" in result.stderr


def test_plan_describes_what_flagger_will_do(workdir):
    result = run_cli("plan", "specs/flagger-canary-istio.yaml", cwd=workdir)
    assert result.exit_code == 0, result.output
    assert "10% → 20% → 30% → 40% → 50%" in result.stdout
    assert "rollback: after 5 failed checks" in result.stdout


def _with_analysis(name: str, extra: str) -> dict[tuple[str, str], dict]:
    text = (SPECS / name).read_text().replace("  analysis:\n", f"  analysis:\n{extra}", 1)
    return documents_by_kind(compile_spec_text(text, f"specs/{name}"))


def _run_with_analysis(tmp_path, command: str, extra: str, name: str = "flagger-canary-istio.yaml"):
    """Run `rollgen COMMAND` on an example with `extra` lines added to its analysis block."""
    text = (SPECS / name).read_text().replace("  analysis:\n", f"  analysis:\n{extra}", 1)
    (tmp_path / "s.yaml").write_text(text)
    return run_cli(command, "s.yaml", cwd=tmp_path)


def test_alerts_as_a_configmap_carry_the_flagger_status_rule_too():
    import yaml

    docs = _with_analysis("flagger-canary-linkerd.yaml", "    alerts: configMap\n")
    assert not [k for k in docs if k[0] == "PrometheusRule"]
    rules = yaml.safe_load(docs[("ConfigMap", "backend-canary-alerts")]["data"]["alerts.yaml"])
    names = [r["alert"] for r in rules["groups"][0]["rules"]]
    assert names == ["CanaryHighErrorRate", "CanaryHighLatency", "CanaryRolledBack"]


def test_no_alerts_when_the_analysis_says_none():
    docs = _with_analysis("flagger-canary-linkerd.yaml", "    alerts: none\n")
    assert not [k for k in docs if k[0] in ("PrometheusRule", "ConfigMap")]


def test_analysis_alerts_watch_flaggers_canary_workload_at_flaggers_percentile():
    docs = compiled("flagger-canary-linkerd.yaml")
    rules = docs[("PrometheusRule", "backend-canary-alerts")]["spec"]["groups"][0]["rules"]
    latency = next(r for r in rules if r["alert"] == "CanaryHighLatency")
    assert latency["expr"].startswith("histogram_quantile(0.99,")
    assert 'deployment="backend"' in latency["expr"]


def test_a_latency_percentile_other_than_p99_becomes_a_metric_template():
    text = (SPECS / "flagger-canary-istio.yaml").read_text().replace(
        "latency: {max: 500ms}", "latency: {max: 300ms, percentile: 95}")
    docs = documents_by_kind(compile_spec_text(text, "specs/x.yaml"))
    metrics = docs[("Canary", "backend")]["spec"]["analysis"]["metrics"]
    assert metrics[1] == {"name": "latency-p95", "templateRef": {"name": "backend-latency-p95", "namespace": "payments"},
                          "thresholdRange": {"max": 300}, "interval": "1m"}
    query = docs[("MetricTemplate", "backend-latency-p95")]["spec"]["query"]
    assert query.startswith("histogram_quantile(0.95,") and "istio_request_duration_milliseconds_bucket" in query


@pytest.mark.parametrize("command", ["promote", "rollback"])
def test_promote_and_rollback_leave_flagger_rollouts_to_flagger(command, workdir):
    before = (workdir / "specs" / "flagger-canary-istio.yaml").read_text()
    result = run_cli(command, "specs/flagger-canary-istio.yaml", cwd=workdir)
    assert result.exit_code == 1
    assert "Flagger" in result.stderr and "by itself" in result.stderr
    assert (workdir / "specs" / "flagger-canary-istio.yaml").read_text() == before


def test_an_edge_canary_behind_an_istio_gateway_keeps_the_mesh_and_sets_the_route_options():
    docs = compiled("flagger-canary-istio-ingress.yaml")
    spec = docs[("Canary", "storefront")]["spec"]
    # Flagger's Istio router uses the listed gateways instead of its default [mesh]: `mesh` is kept
    # explicitly for in-mesh callers, and it adds the Service's own name to the hosts (router/istio.go).
    assert spec["service"] == {
        "port": 9898, "targetPort": 9898, "timeout": "5s",
        "gateways": ["istio-system/public-gateway", "mesh"], "hosts": ["shop.example.com"],
        "retries": {"attempts": 3, "perTryTimeout": "1s", "retryOn": "gateway-error,connect-failure,refused-stream"},
        "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}}
    assert spec["progressDeadlineSeconds"] == 60
    # A shared AlertProvider is referenced across namespaces, and none is written for this rollout.
    assert spec["analysis"]["alerts"] == [{"name": "on-call", "severity": "error",
                                           "providerRef": {"name": "on-call", "namespace": "flagger-system"}}]
    assert not [k for k in docs if k[0] == "AlertProvider"]
    hpa = docs[("HorizontalPodAutoscaler", "storefront")]["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 4)


def test_without_mesh_routing_the_istio_virtual_service_serves_only_the_gateway():
    text = (SPECS / "flagger-canary-istio-ingress.yaml").read_text().replace("    mesh: true\n", "    mesh: false\n")
    spec = documents_by_kind(compile_spec_text(text, "specs/x.yaml"))[("Canary", "storefront")]["spec"]
    assert spec["service"]["gateways"] == ["istio-system/public-gateway"]


@pytest.mark.parametrize("mesh, parents", [
    ("true", [{"name": "public", "namespace": "edge", "group": "gateway.networking.k8s.io", "kind": "Gateway",
               "sectionName": "https"},
              {"name": "accounts", "namespace": "billing", "group": "", "kind": "Service", "port": 9898}]),
    ("false", [{"name": "public", "namespace": "edge", "group": "gateway.networking.k8s.io", "kind": "Gateway",
                "sectionName": "https"}]),
])
def test_a_gateway_api_edge_canary_attaches_to_the_gateway_and_to_the_service_for_the_mesh(mesh, parents):
    text = (SPECS / "flagger-canary-gateway-api.yaml").read_text().replace(
        "  service:\n", f"  ingress: {{gateways: [edge/public:https], hosts: [accounts.example.com], mesh: {mesh}}}\n"
        "  service:\n    timeout: 10s\n", 1)
    spec = documents_by_kind(compile_spec_text(text, "specs/x.yaml"))[("Canary", "accounts")]["spec"]
    assert spec["service"]["gatewayRefs"] == parents
    assert spec["service"]["hosts"] == ["accounts.example.com"]
    assert spec["service"]["timeout"] == "10s"
    assert "gateways" not in spec["service"]  # Istio's field: the Gateway API router reads gatewayRefs


def test_the_kubernetes_provider_runs_blue_green_on_the_apps_own_metrics():
    docs = compiled("flagger-blue-green-kubernetes.yaml")
    spec = docs[("Canary", "podinfo")]["spec"]
    assert spec["provider"] == "kubernetes"
    assert spec["service"] == {"port": 9898, "targetPort": 9898, "portDiscovery": True}
    assert spec["analysis"]["iterations"] == 10
    assert not {"stepWeight", "maxWeight", "stepWeights", "match"} & set(spec["analysis"])
    # Flagger's builtins for the kubernetes provider are its HTTP observer: rollgen checks through
    # MetricTemplates on the application's metrics, which it knows exist.
    templates = [d["spec"]["query"] for (kind, _), d in docs.items() if kind == "MetricTemplate"]
    assert templates and all("http_request" in q and 'app="{{ target }}"' in q for q in templates)
    assert all("templateRef" in m for m in spec["analysis"]["metrics"])


EXPECTED_READING = {
    "flagger-canary-istio.yaml": ("canary", [10, 20, 30, 40, 50]),
    "flagger-canary-linkerd.yaml": ("canary", [10, 20, 30, 40, 50]),
    "flagger-canary-gateway-api.yaml": ("canary", [5, 10, 25, 50]),
    "flagger-ab-test.yaml": ("abTest", None),
    "flagger-blue-green.yaml": ("blueGreen", None),
    "flagger-canary-istio-ingress.yaml": ("canary", [10, 20, 30, 40, 50]),
    "flagger-blue-green-kubernetes.yaml": ("blueGreen", None),
}


def test_every_flagger_example_has_an_expected_reading():
    assert sorted(EXPECTED_READING) == FLAGGER_EXAMPLES


@pytest.mark.parametrize("name", sorted(EXPECTED_READING))
def test_flagger_reads_each_canary_as_the_spec_means_it(name):
    from flagger_reading import canary_weights, strategy

    spec = canary_of(name)["spec"]
    expected_strategy, expected_weights = EXPECTED_READING[name]
    assert strategy(spec["analysis"], spec["provider"]) == expected_strategy
    if expected_weights is not None:
        assert canary_weights(spec["analysis"]) == expected_weights


@pytest.mark.parametrize("name", sorted(EXPECTED_READING))
def test_plan_shows_the_weights_flagger_will_use(name, workdir):
    from flagger_reading import canary_weights

    spec = canary_of(name)["spec"]
    result = run_cli("plan", f"specs/{name}", cwd=workdir)
    assert result.exit_code == 0, result.output
    if spec["analysis"].get("iterations") is None:
        assert " → ".join(f"{w}%" for w in canary_weights(spec["analysis"])) in result.stdout


def test_why_a_max_weight_off_the_step_is_refused():
    from flagger_reading import canary_weights

    assert canary_weights({"stepWeight": 30, "maxWeight": 50}) == [30, 60]  # past maxWeight
    assert canary_weights({"stepWeight": 30}) == [30, 60, 90, 100]  # capped at 100: fine
    result = run_cli("validate", "flagger-max-weight-overshoot.yaml", cwd=SPECS.parent / "tests/fixtures/invalid")
    assert "would reach 60% before promoting" in result.stderr


def test_plan_as_json_describes_a_flagger_rollout_and_a_platform(workdir):
    import json

    result = run_cli("plan", "specs/flagger-canary-gateway-api.yaml", "--format", "json", cwd=workdir)
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)["plan"]
    assert (plan["delivery"], plan["provider"], plan["strategy"]) == ("flagger", "gatewayapi:v1", "canary")
    assert plan["weights"] == [5, 10, 25, 50]
    assert plan["target"] == {"deployment": "accounts", "image": "registry.example.com/billing/accounts:5.0.2",
                              "replicas": 2, "primary": "accounts-primary"}
    result = run_cli("plan", "specs/flagger-istio.yaml", "--format", "json", cwd=workdir)
    plan = json.loads(result.stdout)["plan"]
    assert [r["name"] for r in plan["releases"]] == [
        "flagger-payments", "flagger-shop", "flagger-staging", "flagger-web",
        "flagger-loadtester-payments", "flagger-loadtester-shop", "flagger-loadtester-staging",
        "flagger-loadtester-web"]
    assert plan["releases"][0]["values"]["meshProvider"] == "istio"
    assert plan["releases"][0]["watches"] == "payments" and plan["releases"][4]["namespace"] == "payments"


def test_plan_as_mermaid_draws_flaggers_split_and_refuses_a_platform(workdir):
    result = run_cli("plan", "specs/flagger-ab-test.yaml", "--format", "mermaid", cwd=workdir)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("flowchart LR\n")
    assert '-->|"x-user-type exact beta (10 runs)"| canary' in result.stdout
    result = run_cli("plan", "specs/flagger-istio.yaml", "--format", "mermaid", cwd=workdir)
    assert result.exit_code == 1
    assert "specs/flagger-istio.yaml:5:7: kind: `rollgen plan --format mermaid` works on a Rollout" in result.stderr


def test_app_metrics_under_flagger_warn_when_the_service_label_is_not_the_pods_app_label(tmp_path):
    result = _run_with_analysis(tmp_path, "validate", "    metrics: app\n    selector: {service: svc}\n")
    assert result.exit_code == 0
    assert "warning: spec.analysis.selector.service: with Flagger, the canary's series are told from the " \
           "primary's by the pods' `app` label (`backend` vs `backend-primary`); 'svc' must carry" in result.stderr


def test_a_request_rate_flaggers_first_step_cannot_reach_is_a_warning(tmp_path):
    # stepWeight 10 up to 50: Flagger's first weight is 10%, 4 requests/s of 40 — below the check's 5.
    result = _run_with_analysis(tmp_path, "validate", "    requestRate: {min: 5}\n    expectedRate: 40\n")
    assert result.exit_code == 0, result.stderr
    assert ("warning: spec.analysis.requestRate.min: at step 1 (10%) the canary can expect only 4 requests/s, "
            "below requestRate.min 5: Flagger's request-rate check fails at that weight, so every release is "
            "rolled back although the routing works\n") in result.stderr


def test_the_analysis_rules_hold_for_flagger_rollouts_too(tmp_path):
    # Alert labels, metrics source and thresholds reach the same PrometheusRule as with manual delivery.
    result = _run_with_analysis(tmp_path, "validate", "    metrics: istio\n    labels: {namespace: x}\n",
                                "flagger-canary-linkerd.yaml")
    assert result.exit_code == 1
    assert "spec.analysis.metrics: istio metrics do not exist on mesh linkerd" in result.stderr
    assert "spec.analysis.labels.namespace: label 'namespace' is set by rollgen on every alert" in result.stderr


def test_plan_shows_the_requests_each_flagger_check_sees_at_each_weight(tmp_path):
    # 99% vs 98% needs 793 requests (see test_analysis); at 40 requests/s a 10% canary sees 240 per 1m check.
    result = _run_with_analysis(tmp_path, "plan", "    expectedRate: 40\n")
    assert result.exit_code == 0, result.output
    assert ("evidence: telling 99% from 98% success at 95% confidence and 80% power needs 793 requests in one "
            "check (expected 40 requests/s in total)") in result.stdout
    rows = [line.split() for line in result.stdout.splitlines() if line.startswith("  ") and line.split()[0].isdigit()]
    assert rows == [["1", "10%", "4", "240*", "4m"], ["2", "20%", "8", "480*", "2m"], ["3", "30%", "12", "720*", "2m"],
                    ["4", "40%", "16", "960", "1m"], ["5", "50%", "20", "1200", "1m"]]
    assert "warning: spec.analysis.expectedRate: at weight 10% each 1m check sees about 240 requests of the " \
           "canary, fewer than the 793 that tell its success rate apart" in result.stderr
    assert "hint: set `analysis.window: 4m` (the checks' range)" in result.stderr


def test_a_check_window_that_holds_enough_requests_gives_no_evidence_warning(tmp_path):
    result = _run_with_analysis(tmp_path, "validate", "    expectedRate: 40\n    window: 4m\n")
    assert result.exit_code == 0, result.output
    assert "evidence" not in result.stderr and "warning" not in result.stderr
    docs = documents_by_kind(compile_spec_text((tmp_path / "s.yaml").read_text(), "specs/x.yaml"))
    assert {m["interval"] for m in docs[("Canary", "backend")]["spec"]["analysis"]["metrics"]} == {"4m"}


def test_webhook_types_are_exactly_the_command_hooks_the_gates_and_event():
    """Every webhook type the language accepts is either checked as a command hook, as a gate, or is
    Flagger's `event` notification: a type added to the model without a rule fails here."""
    from typing import get_args

    from generator.spec.flagger import Webhook
    from generator.spec.flagger_checks import COMMAND_HOOKS, GATE_HOOKS

    assert set(get_args(Webhook.model_fields["type"].annotation)) == set(COMMAND_HOOKS + GATE_HOOKS + ("event",))


def test_shadow_and_sticky_become_flaggers_mirror_step_and_session_affinity():
    text = (SPECS / "flagger-canary-istio.yaml").read_text().replace(
        "    maxWeight: 50\n", "    maxWeight: 50\n    shadow: {percent: 20}\n    sticky: {cookie: canary-user, maxAge: 3600}\n")
    canary = documents_by_kind(compile_spec_text(text, "specs/flagger-canary-istio.yaml"))["Canary", "backend"]
    analysis = canary["spec"]["analysis"]
    assert (analysis["mirror"], analysis["mirrorWeight"]) == (True, 20)
    assert analysis["sessionAffinity"] == {"cookieName": "canary-user", "maxAge": 3600}
    assert (analysis["stepWeight"], analysis["maxWeight"]) == (10, 50)


def test_without_shadow_or_sticky_the_canary_has_no_mirror_or_affinity():
    analysis = canary_of("flagger-canary-istio.yaml")["spec"]["analysis"]
    assert not {"mirror", "mirrorWeight", "sessionAffinity"} & set(analysis)
