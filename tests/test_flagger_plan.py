"""The Flagger plan: strategy fields as Flagger reads them, builtin metrics vs MetricTemplates,
webhook runners, Gateway API parents, and Flagger's own status alert."""

from __future__ import annotations

from dataclasses import replace

import pytest

from generator.plan.flagger import (AlertInput, AppSelector, FlaggerInputs, WebhookInput, analysis_steps,
                                    build_flagger_plan, flagger_match, latency_query, plan_webhook,
                                    status_commands, success_rate_query)
from generator.plan.model import HeaderCondition, WorkloadPlan

WORKLOAD = WorkloadPlan("", "backend", "backend:v2", 3, {})
BASE = FlaggerInputs(source="s.yaml", name="backend", namespace="production", labels={}, mesh="istio",
                     provider="istio", port=8080, target_port=8080, workload=WORKLOAD, strategy="canary",
                     interval="1m", threshold=5, step_weight=10, max_weight=50, success_min=99, latency_max_ms=500)


def test_a_canary_on_istio_uses_flaggers_builtin_metrics_like_the_reference():
    plan = build_flagger_plan(BASE)
    a = plan.analysis
    assert (a.step_weight, a.max_weight, a.step_weights, a.iterations) == (10, 50, (), None)
    assert [(m.name, m.min, m.max, m.template, m.interval) for m in a.metrics] == [
        ("request-success-rate", 99, None, None, "1m"), ("request-duration", None, 500, None, "1m")]
    assert plan.templates == ()
    assert plan.gateway_refs == ()
    assert analysis_steps(plan) == [10, 20, 30, 40, 50]


def test_steps_become_step_weights_and_leave_no_step_or_max_weight():
    plan = build_flagger_plan(replace(BASE, step_weight=None, max_weight=None, step_weights=(5, 10, 25, 50)))
    a = plan.analysis
    assert (a.step_weight, a.max_weight, a.step_weights) == (None, None, (5, 10, 25, 50))
    assert analysis_steps(plan) == [5, 10, 25, 50]


def test_blue_green_has_iterations_and_no_weights():
    plan = build_flagger_plan(replace(BASE, strategy="blueGreen", iterations=2))
    a = plan.analysis
    assert (a.iterations, a.step_weight, a.max_weight, a.match) == (2, None, None, ())


def test_ab_test_has_iterations_and_the_match_in_istio_form():
    match = ((HeaderCondition("x-user-type", "exact", "beta"),),)
    plan = build_flagger_plan(replace(BASE, strategy="abTest", iterations=10, match=match))
    assert plan.analysis.iterations == 10
    assert plan.analysis.match == ({"headers": {"x-user-type": {"exact": "beta"}}},)


@pytest.mark.parametrize("kind,value,istio,gateway", [
    ("exact", "beta", {"exact": "beta"}, {"exact": "beta"}),
    ("prefix", "be.ta", {"prefix": "be.ta"}, {"regex": r"^be\.ta.*$"}),
    ("regex", "beta|gamma", {"regex": "beta|gamma"}, {"regex": "^(?:beta|gamma)$"}),
])
def test_match_conditions_are_translated_where_flaggers_gateway_api_router_lacks_them(kind, value, istio, gateway):
    alternatives = ((HeaderCondition("x-group", kind, value),),)
    assert flagger_match(alternatives, "istio") == ({"headers": {"x-group": istio}},)
    assert flagger_match(alternatives, "gatewayapi:v1") == ({"headers": {"x-group": gateway}},)


def test_alternatives_are_separate_match_entries_and_conditions_within_one_are_anded():
    alternatives = ((HeaderCondition("a", "exact", "1"), HeaderCondition("b", "exact", "2")),
                    (HeaderCondition("cookie", "regex", "^(.*?;)?(canary=always)(;.*)?$"),))
    assert flagger_match(alternatives, "istio") == (
        {"headers": {"a": {"exact": "1"}, "b": {"exact": "2"}}},
        {"headers": {"cookie": {"regex": "^(.*?;)?(canary=always)(;.*)?$"}}})


def test_the_gateway_api_provider_attaches_to_the_service_itself_and_uses_metric_templates():
    plan = build_flagger_plan(replace(BASE, mesh="linkerd", provider="gatewayapi:v1"))
    assert plan.gateway_refs == ({"name": "backend", "namespace": "production", "group": "",
                                  "kind": "Service", "port": 8080},)
    assert [(m.name, m.template) for m in plan.analysis.metrics] == [
        ("success-rate", "backend-success-rate"), ("latency", "backend-latency")]
    success = plan.templates[0].query
    assert "response_total" in success and 'deployment="{{ target }}"' in success
    assert 'classification!="failure"' in success and "[{{ interval }}]" in success
    assert plan.templates[0].address == "http://prometheus:9090"


def test_a_latency_percentile_other_than_p99_needs_a_template():
    plan = build_flagger_plan(replace(BASE, latency_percentile=95))
    names = [(m.name, m.template) for m in plan.analysis.metrics]
    assert names == [("request-success-rate", None), ("latency-p95", "backend-latency-p95")]
    assert plan.templates[0].query.startswith("histogram_quantile(0.95,")
    assert "istio_request_duration_milliseconds_bucket" in plan.templates[0].query


def test_app_metrics_on_istio_are_templated_and_converted_to_milliseconds():
    inputs = replace(BASE, metrics_source="app", app_selector=AppSelector(workload="app", code="status"),
                     request_rate_min=1)
    plan = build_flagger_plan(inputs)
    assert [m.template for m in plan.analysis.metrics] == [
        "backend-success-rate", "backend-latency", "backend-request-rate"]
    assert 'status!~"5.."' in success_rate_query(inputs, "app")
    assert latency_query(inputs, "app", 99).rstrip().endswith("* 1000")
    assert plan.analysis.metrics[2].min == 1


def test_queries_select_the_canary_workload_only_never_the_primary():
    for source in ("istio", "linkerd", "app"):
        query = success_rate_query(BASE, source)
        assert '"{{ target }}"' in query and "=~" not in query.replace('!~"5.."', "")


@pytest.mark.parametrize("hook,metadata,url", [
    (WebhookInput("smoke", "pre-rollout", "15s", "curl -sf http://backend-canary.production:8080/healthz"),
     (("type", "bash"), ("cmd", "curl -sf http://backend-canary.production:8080/healthz")), "http://flagger-loadtester/"),
    (WebhookInput("load", "rollout", "5s", "hey -z 1m http://backend-canary.production:8080/"),
     (("cmd", "hey -z 1m http://backend-canary.production:8080/"),), "http://flagger-loadtester/"),
    (WebhookInput("load", "rollout", "5s", "./k6.sh", runner="bash"),
     (("type", "bash"), ("cmd", "./k6.sh")), "http://flagger-loadtester/"),
    (WebhookInput("gate", "confirm-promotion"), (), "http://flagger-loadtester/gate/check"),
    (WebhookInput("stop", "rollback"), (), "http://flagger-loadtester/rollback/check"),
    (WebhookInput("events", "event", url="http://events.ops/"), (), "http://events.ops/"),
])
def test_webhooks_run_checks_blocking_and_load_in_the_background(hook, metadata, url):
    planned = plan_webhook(hook, "http://flagger-loadtester")
    assert planned.metadata == metadata
    assert planned.url == url


def test_alert_providers_are_named_after_the_service_and_referenced_by_the_canary():
    plan = build_flagger_plan(replace(BASE, alerts=(AlertInput("on-call", "slack", "error", channel="#ops",
                                                               secret="slack-url"),)))
    (provider,) = plan.alert_providers
    assert (provider.name, provider.type, provider.secret) == ("backend-on-call", "slack", "slack-url")
    (alert,) = plan.analysis.alerts
    assert (alert.name, alert.severity, alert.provider) == ("on-call", "error", "backend-on-call")


def test_the_status_rule_fires_on_a_failed_canary_whatever_the_namespace_label_is_called():
    rule = build_flagger_plan(replace(BASE, alert_labels={"team": "payments"})).status_rule
    assert 'flagger_canary_status{name="backend", namespace="production"}) > 1' in rule.expr
    assert 'exported_namespace="production"' in rule.expr
    assert rule.labels["team"] == "payments" and rule.labels["service"] == "backend"
    assert build_flagger_plan(replace(BASE, status_alert=False)).status_rule is None


def test_status_commands_are_the_references_monitoring_commands_for_this_rollout():
    commands = [cmd for _, cmd in status_commands(build_flagger_plan(BASE))]
    assert "kubectl -n production get canaries --watch" in commands
    assert "kubectl -n production describe canary backend" in commands
    assert "kubectl -n production get events --sort-by='.lastTimestamp'" in commands


@pytest.mark.parametrize("step,top,expected", [
    (10, 50, [10, 20, 30, 40, 50]),
    (30, None, [30, 60, 90, 100]),  # Flagger caps at 100, not at a multiple
    (25, 100, [25, 50, 75, 100]),
])
def test_analysis_steps_follow_flaggers_scheduler(step, top, expected):
    assert analysis_steps(build_flagger_plan(replace(BASE, step_weight=step, max_weight=top))) == expected


# --- the MetricTemplate queries, evaluated by promtool on synthetic series ----------------------------

def _request_series(source: str, workload: str, code: int, rps: float) -> dict:
    """A request counter of `workload` in production as each metrics source labels it (15s samples)."""
    labels = {
        "istio": {"reporter": "destination", "destination_workload": workload,
                  "destination_workload_namespace": "production", "response_code": str(code)},
        "linkerd": {"direction": "inbound", "namespace": "production", "deployment": workload,
                    "status_code": str(code), "classification": "failure" if code >= 500 else "success"},
        "app": {"namespace": "production", "app": workload, "code": str(code)},
    }[source]
    metric = {"istio": "istio_requests_total", "linkerd": "response_total", "app": "http_requests_total"}[source]
    inner = ", ".join(f'{k}="{v}"' for k, v in labels.items())
    return {"series": f"{metric}{{{inner}}}", "values": f"0+{rps * 15:g}x40"}


def _rendered(query: str) -> str:
    # What Flagger's RenderQuery substitutes for this canary, with the metric's interval.
    return (query.replace("{{ namespace }}", "production").replace("{{ target }}", "backend")
            .replace("{{ interval }}", "1m"))


@pytest.mark.parametrize("source", ["istio", "linkerd", "app"])
def test_metric_template_queries_read_the_canary_as_flagger_judges_it(source, tmp_path):
    """Healthy → 100 %, 10 % errors → 90 %, every request failing → 0 % (a failed check, not "no values"),
    no requests → no value (Flagger fails the check: no traffic is not success); the primary, failing
    beside it, never counts."""
    import subprocess

    import yaml

    from generator.plan.flagger import request_rate_query

    from test_analysis import promtool as find_promtool

    promtool = find_promtool()
    success, rate = _rendered(success_rate_query(BASE, source)), _rendered(request_rate_query(BASE, source))
    primary = [_request_series(source, "backend-primary", 500, 40)]

    def case(series: list[dict], success_value, rate_value) -> dict:
        def samples(value):
            return [] if value is None else [{"labels": "{}", "value": value}]
        return {"interval": "15s", "input_series": primary + series, "promql_expr_test": [
            {"expr": success, "eval_time": "5m", "exp_samples": samples(success_value)},
            {"expr": rate, "eval_time": "5m", "exp_samples": samples(rate_value)}]}

    tests = [
        case([_request_series(source, "backend", 200, 40)], 100, 40),
        case([_request_series(source, "backend", 200, 36), _request_series(source, "backend", 500, 4)], 90, 40),
        case([_request_series(source, "backend", 500, 40)], 0, 40),
        case([], None, None),
    ]
    (tmp_path / "rules.yaml").write_text("groups: []\n")
    (tmp_path / "test.yaml").write_text(yaml.safe_dump({"rule_files": ["rules.yaml"], "tests": tests}))
    result = subprocess.run([promtool, "test", "rules", "test.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_check_window_of_its_own_becomes_that_metrics_interval():
    plan = build_flagger_plan(replace(BASE, metric_interval="1m", latency_interval="30s"))
    assert [(m.name, m.interval) for m in plan.analysis.metrics] == [
        ("request-success-rate", "1m"), ("request-duration", "30s")]
    plan = build_flagger_plan(replace(BASE, mesh="linkerd", provider="gatewayapi:v1", metric_interval="2m",
                                      success_interval="1m", request_rate_min=1, request_rate_interval="90s"))
    assert [(m.name, m.interval) for m in plan.analysis.metrics] == [
        ("success-rate", "1m"), ("latency", "2m"), ("request-rate", "90s")]


@pytest.mark.parametrize("reporter", ["source", "waypoint"])
def test_an_istio_reporter_other_than_destination_needs_templates_flaggers_builtins_cannot_count(reporter):
    plan = build_flagger_plan(replace(BASE, reporter=reporter, request_rate_min=1))
    assert [(m.name, m.template) for m in plan.analysis.metrics] == [
        ("success-rate", "backend-success-rate"), ("latency", "backend-latency"),
        ("request-rate", "backend-request-rate")]
    for template in plan.templates:
        assert f'reporter="{reporter}", destination_workload_namespace="{{{{ namespace }}}}", ' \
               'destination_workload="{{ target }}"' in template.query
