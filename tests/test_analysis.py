"""Analysis: exact PromQL per metrics source, exact thresholds, alert objects, and alerts that mean
what they say (proven with `promtool test rules` on synthetic series)."""

from __future__ import annotations

import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from conftest import ARGO_EXAMPLES, FLAGGER_EXAMPLES, MANUAL_EXAMPLES, SPECS, compile_spec_text, documents_by_kind, run_cli
from generator.plan.queries import (error_threshold, latency_threshold, rules_file, version_queries,
                                versions_under_test)
from generator.plan.checks import parse_spec
from generator.plan.promql import string_literal
from generator.spec.facts import format_duration, parse_duration
from promtool_cases import rules_test

ANALYSED = sorted(p.name for p in SPECS.glob("*.yaml") if "\n  analysis:" in p.read_text())


def load(name: str):
    return parse_spec((SPECS / name).read_bytes(), f"specs/{name}")


def with_analysis(analysis: str, mesh: str = "istio", canary: str = "steps: [10, 50, 100]\n    position: 1",
                  name: str = "backend") -> str:
    return f"""apiVersion: rollgen/v1alpha1
kind: Rollout
metadata: {{name: {name}, namespace: production}}
spec:
  mesh: {mesh}
  service: {{port: 8080}}
  workload: {{image: backend}}
  versions: [{{name: v1}}, {{name: v2}}]
  canary:
    stable: v1
    canary: v2
    {canary}
  analysis:
{analysis}"""


def warnings_of(tmp_path: Path, text: str) -> str:
    """Validate one spec text; it must pass, and its warnings (stderr) are returned."""
    (tmp_path / "s.yaml").write_text(text)
    result = run_cli("validate", "s.yaml", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    return result.stderr


def alert_rules(docs: dict) -> dict:
    for (kind, _), doc in documents_by_kind(docs).items():
        if kind == "PrometheusRule":
            return doc["spec"]
        if kind == "ConfigMap":
            return yaml.safe_load(doc["data"]["alerts.yaml"])
    raise AssertionError("no alert rules object")


def promtool() -> str | None:
    found = shutil.which("promtool") or ("/usr/local/bin/promtool" if Path("/usr/local/bin/promtool").exists() else None)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is required in CI (.ci/run installs it)")
        pytest.skip("promtool not installed")
    return found


# --- thresholds and durations ------------------------------------------------------------------------

@pytest.mark.parametrize("success, ratio", [(99, "0.01"), (99.9, "0.001"), (99.5, "0.005"), (95, "0.05"),
                                            (100, "0"), (99.99, "0.0001")])
def test_success_rate_becomes_the_exact_error_ratio(success, ratio):
    assert error_threshold(success) == Decimal(ratio)


@pytest.mark.parametrize("duration, unit, value", [("500ms", "s", "0.5"), ("500ms", "ms", "500"), ("1s", "ms", "1000"),
                                                   ("1m30s", "s", "90"), ("250ms", "s", "0.25"), ("1ms", "s", "0.001")])
def test_latency_limit_is_converted_to_the_histogram_unit(duration, unit, value):
    assert latency_threshold(duration, unit) == Decimal(value)


@pytest.mark.parametrize("text, ms", [("5m", 300_000), ("30s", 30_000), ("500ms", 500), ("1h30m", 5_400_000),
                                      ("1d", 86_400_000), ("0s", 0), ("1w2d", 9 * 86_400_000)])
def test_prometheus_durations_parse(text, ms):
    assert parse_duration(text) == ms


@pytest.mark.parametrize("text", ["", "5", "1.5s", "30s5m", "5 m", "5M", "-1s", "1h1h"])
def test_what_prometheus_rejects_is_not_a_duration(text):
    assert parse_duration(text) is None


def test_durations_are_shown_rounded_up():
    assert format_duration(198_250) == "3m 19s"
    assert format_duration(500) == "500ms"
    assert format_duration(3_600_000 * 26 + 1) == "1d 2h"


def test_values_cannot_escape_a_promql_string():
    import promql_parser

    hostile = '"}[5m])) or vector(1) # \\ \n'
    literal = string_literal(hostile)
    expr = promql_parser.parse(f"sum(rate(m{{a={literal}}}[5m]))")
    selector = expr.expr.args[0].vector_selector
    assert [(m.name, m.value) for m in selector.matchers.matchers] == [("a", hostile)]


# --- exact queries per metrics source ----------------------------------------------------------------

def test_istio_alerts_use_server_side_reports_of_the_canary_workload_in_its_namespace():
    rules = rules_file(load("payments.yaml").document)["groups"][0]
    assert rules["name"] == "canary.production.payments" and rules["interval"] == "30s"
    errors, latency, traffic = rules["rules"]
    sel = ('reporter="destination", destination_workload_namespace="production", '
           'destination_workload="payments-v2"')
    assert errors["alert"] == "CanaryHighErrorRate" and errors["for"] == "2m"
    assert errors["expr"] == (
        "(\n"
        f'  sum(rate(istio_requests_total{{{sel}, response_code=~"5.."}}[5m]))\n'
        "  or vector(0)\n"
        ")\n/\n"
        f"sum(rate(istio_requests_total{{{sel}}}[5m]))\n"
        "> 0.01")
    assert latency["expr"] == (
        "histogram_quantile(0.95,\n"
        f"  sum by (le) (rate(istio_request_duration_milliseconds_bucket{{{sel}}}[5m]))\n"
        ")\n> 500")
    assert traffic["alert"] == "CanaryNoTraffic"
    assert traffic["expr"] == f"(\n  sum(rate(istio_requests_total{{{sel}}}[5m]))\n  or vector(0)\n)\n< 1"
    for rule in (errors, latency, traffic):
        assert rule["labels"] == {"service": "payments", "namespace": "production", "version": "v2",
                                  "severity": "critical", "team": "payments"}
        for text in rule["annotations"].values():
            assert "payments" in text and "production" in text and "v2" in text


def test_linkerd_alerts_use_inbound_proxy_metrics_of_the_canary_deployment():
    rules = rules_file(load("ledger.yaml").document)["groups"][0]["rules"]
    errors, latency, traffic = rules
    sel = 'direction="inbound", namespace="production", deployment="ledger-v2"'
    assert errors["expr"] == (
        f'(\n  sum(rate(response_total{{{sel}, classification="failure"}}[5m]))\n  or vector(0)\n)\n/\n'
        f"sum(rate(response_total{{{sel}}}[5m]))\n> 0.005")
    assert latency["expr"] == (f"histogram_quantile(0.99,\n  sum by (le) (rate(response_latency_ms_bucket{{{sel}}}[5m]))\n)"
                               "\n> 1000")
    assert traffic["expr"].endswith("< 0.5")
    assert errors["labels"]["severity"] == "page"


def test_app_alerts_use_the_configured_label_names_and_a_seconds_histogram():
    rules = rules_file(load("search.yaml").document)["groups"][0]
    assert rules["interval"] == "15s"
    errors, latency = rules["rules"]
    sel = 'namespace="shop", service="search", version="v2"'
    assert errors["for"] == "1m"
    assert errors["expr"] == (
        f'(\n  sum(rate(http_requests_total{{{sel}, status=~"5.."}}[2m]))\n  or vector(0)\n)\n/\n'
        f"sum(rate(http_requests_total{{{sel}}}[2m]))\n> 0.02")
    assert latency["expr"] == (
        f"histogram_quantile(0.9,\n  sum by (le) (rate(http_request_duration_seconds_bucket{{{sel}}}[2m]))\n)\n> 0.25")


def test_app_selector_defaults_to_the_pod_labels_rollgen_sets():
    spec = parse_spec(with_analysis("    metrics: app\n    successRate: {min: 99}", mesh="gateway-api").encode(), "s.yaml")
    q = version_queries(spec.document, "v2", "canary")
    assert 'http_requests_total{namespace="production", app="backend", version="v2", code=~"5.."}' in q.error_ratio


def test_metrics_source_defaults_from_the_mesh():
    for mesh, metric in (("istio", "istio_requests_total"), ("linkerd", "response_total"),
                         ("gateway-api", "http_requests_total")):
        spec = parse_spec(with_analysis("    successRate: {min: 99}", mesh=mesh).encode(), "s.yaml")
        assert metric + "{" in version_queries(spec.document, "v2", "canary").request_rate


# --- alert objects -----------------------------------------------------------------------------------

def test_prometheus_rule_carries_the_rule_labels_its_prometheus_selects():
    docs = documents_by_kind(compile_spec_text((SPECS / "payments.yaml").read_text(), "specs/payments.yaml"))
    rule = docs[("PrometheusRule", "payments-canary-alerts")]
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["metadata"]["namespace"] == "production"
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert "release" not in docs[("Deployment", "payments-v2")]["metadata"]["labels"]


def test_config_map_holds_a_prometheus_rules_file_named_after_the_service():
    docs = documents_by_kind(compile_spec_text((SPECS / "ledger.yaml").read_text(), "specs/ledger.yaml"))
    cm = docs[("ConfigMap", "ledger-canary-alerts")]
    assert list(cm["data"]) == ["alerts.yaml"]
    rules = yaml.safe_load(cm["data"]["alerts.yaml"])
    assert [r["alert"] for r in rules["groups"][0]["rules"]] == ["CanaryHighErrorRate", "CanaryHighLatency",
                                                                 "CanaryNoTraffic"]
    assert not any(kind == "PrometheusRule" for kind, _ in docs)


def test_two_rollouts_in_one_namespace_get_separate_alert_objects():
    a = compile_spec_text(with_analysis("    successRate: {min: 99}\n    alerts: configMap", name="alpha"), "a.yaml")
    b = compile_spec_text(with_analysis("    successRate: {min: 99}\n    alerts: configMap", name="beta"), "b.yaml")
    names = [k for k in documents_by_kind(a) | documents_by_kind(b) if k[0] == "ConfigMap"]
    assert names == [("ConfigMap", "alpha-canary-alerts"), ("ConfigMap", "beta-canary-alerts")]


def test_alerts_none_emits_no_alert_object():
    docs = documents_by_kind(compile_spec_text(with_analysis("    successRate: {min: 99}\n    alerts: none")))
    assert not [k for k in docs if k[0] in ("PrometheusRule", "ConfigMap")]


def test_at_position_zero_the_canary_is_not_expected_to_get_traffic():
    spec = parse_spec(with_analysis("    successRate: {min: 99}\n    requestRate: {min: 1}",
                                    canary="steps: [10, 100]\n    position: 0").encode(), "s.yaml")
    assert versions_under_test(spec.document)[0].share == 0
    alerts = [r["alert"] for r in rules_file(spec.document)["groups"][0]["rules"]]
    assert alerts == ["CanaryHighErrorRate"]


def test_a_steady_service_has_nothing_under_test_and_says_so(tmp_path):
    spec = (SPECS / "catalog.yaml").read_text() + "  analysis: {successRate: {min: 99}}\n"
    (tmp_path / "catalog.yaml").write_text(spec)
    result = run_cli("validate", "catalog.yaml", cwd=tmp_path)
    assert result.exit_code == 0
    assert "warning: spec.analysis: no version is under test" in result.stderr
    docs = compile_spec_text(spec)
    assert not [k for k in documents_by_kind(docs) if k[0] == "PrometheusRule"]


# --- the alerts mean what they say -------------------------------------------------------------------

@pytest.mark.parametrize("name", ANALYSED)
def test_generated_alerts_pass_promtool_unit_tests(name, tmp_path):
    binary = promtool()
    spec = load(name)
    docs = compile_spec_text((SPECS / name).read_text(), f"specs/{name}")
    rules = alert_rules(docs)
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(rules_test(spec.document, rules, "rules.yaml"), sort_keys=False))
    check = subprocess.run([binary, "check", "rules", "rules.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    run = subprocess.run([binary, "test", "rules", "test.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_promtool_cases_catch_a_rule_that_ignores_the_threshold(tmp_path):
    """The unit tests are not vacuous: a rule whose threshold is off makes them fail."""
    binary = promtool()
    spec = load("payments.yaml")
    rules = rules_file(spec.document)
    errors = rules["groups"][0]["rules"][0]
    errors["expr"] = errors["expr"].replace("> 0.01", "> 0.5")
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(rules_test(spec.document, rules, "rules.yaml"), sort_keys=False))
    run = subprocess.run([binary, "test", "rules", "test.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode != 0 and "CanaryHighErrorRate" in run.stdout + run.stderr


# --- queries and evidence on the command line ---------------------------------------------------------

def test_queries_prints_each_version_side_by_side():
    from conftest import ROOT

    result = run_cli("queries", "specs/ledger.yaml", cwd=ROOT)
    assert result.exit_code == 0
    out = result.stdout
    assert out.count('deployment="ledger-v1"') == 4 and out.count('deployment="ledger-v2"') == 4
    assert "# P99 latency (milliseconds)" in out and "# v1 (stable)" in out and "# v2 (canary)" in out


def test_plan_shows_the_requests_and_time_each_step_needs():
    from conftest import ROOT

    result = run_cli("plan", "specs/payments.yaml", cwd=ROOT)
    assert result.exit_code == 0
    assert "telling 99% from 98% success at 95% confidence and 80% power needs 793 requests on v2" in result.stdout
    rows = [l.split() for l in result.stdout.splitlines() if l.startswith("  1 ") or l.startswith("  5 ")]
    assert rows[0][:6] == ["1", "10%", "4", "1200", "3m", "19s"]
    assert rows[1] == ["5", "100%", "40", "12000", "20s"]


def test_validate_warns_when_a_step_is_held_too_short(tmp_path):
    stderr = warnings_of(tmp_path, with_analysis("    successRate: {min: 99}\n    expectedRate: 10",
                         canary="steps: [10, 50, 100]\n    position: 1\n    stepDuration: 5m"))
    assert ("s.yaml:14:19: warning: spec.canary.stepDuration: step 1 (10%) is held for 5m but the canary needs "
            "13m 13s at 1 requests/s to collect the 793 requests") in stderr
    assert "step 2" not in stderr


# --- other strategies plug into versions_under_test ---------------------------------------------------

def _fake(**strategy):
    from types import SimpleNamespace as NS

    spec = NS(**{"delivery": "manual", "canary": None, "blueGreen": None, "abTest": None, "versions": [], **strategy})
    return NS(kind="Rollout", spec=spec)


def test_a_blue_green_preview_is_under_test_against_the_active_version():
    from types import SimpleNamespace as NS

    (tested,) = versions_under_test(_fake(blueGreen=NS(active="blue", preview="green")))
    assert (tested.version, tested.role, tested.baseline, tested.share) == ("green", "preview", "blue", None)


def test_every_ab_variant_is_under_test_against_the_first():
    from types import SimpleNamespace as NS
    from generator.plan.queries import versions_compared

    variants = [NS(version="variant-a", weight=50), NS(version="variant-b", weight=50)]
    rollout = _fake(abTest=NS(variants=variants))
    tested = versions_under_test(rollout)
    assert [(t.version, t.role, t.baseline, t.share) for t in tested] == [
        ("variant-a", "variant", "variant-a", 50), ("variant-b", "variant", "variant-a", 50)]
    assert versions_compared(rollout) == [("variant-a", "variant"), ("variant-b", "variant")]


def test_ab_variant_evidence_gives_each_variant_its_sample_size_and_time():
    from generator.plan.stats import variant_evidence

    rows = variant_evidence([("a", 50), ("b", 50)], 0.05, 0.01, expected_rate=10)
    assert [(r.version, r.needed) for r in rows] == [("a", 8158), ("b", 8158)]
    assert rows[0].seconds_needed == pytest.approx(8158 / 5)
    assert variant_evidence([("a", 100), ("b", 0)], 0.05, 0.01, None)[1].seconds_needed is None


def test_a_window_too_short_for_rate_is_a_warning(tmp_path):
    stderr = warnings_of(tmp_path, with_analysis("    window: 30s\n    successRate: {min: 99}"))
    assert "s.yaml:15:13: warning: spec.analysis.window: a 30s rate() window holds fewer than two samples" in stderr


@pytest.mark.parametrize("name", MANUAL_EXAMPLES + FLAGGER_EXAMPLES + ARGO_EXAMPLES)
def test_every_printed_query_is_valid_promql(name):
    import promql_parser

    from generator.plan.queries import all_queries

    for q in all_queries(load(name).document):
        for expr in (q.error_ratio, q.latency, q.request_rate):
            promql_parser.parse(expr)


def test_any_string_survives_a_promql_literal():
    import promql_parser
    from hypothesis import given, settings, strategies as st

    @settings(max_examples=200, deadline=None)
    @given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
    def roundtrip(value):
        expr = promql_parser.parse(f"m{{a={string_literal(value)}}}")
        assert [(m.name, m.value) for m in expr.matchers.matchers] == [("a", value)]

    roundtrip()


def test_a_request_rate_the_canary_cannot_reach_is_a_warning(tmp_path):
    stderr = warnings_of(tmp_path, with_analysis("    requestRate: {min: 2}\n    expectedRate: 10",
                                                 canary="steps: [10, 50, 100]\n    position: 1"))
    assert ("warning: spec.analysis.requestRate.min: at step 1 (10%) the canary can expect only 1 requests/s, "
            "below requestRate.min 2: CanaryNoTraffic would fire although the routing works") in stderr


def test_plan_shows_the_sample_size_of_every_ab_variant():
    from types import SimpleNamespace as NS
    from generator.views.text import describe_evidence

    rollout = _fake(abTest=NS(variants=[NS(version="variant-a", weight=50), NS(version="variant-b", weight=50)],
                              significance=NS(baseline=0.05, minDetectableEffect=0.01, confidence=95, power=80)))
    rollout.spec.analysis = NS(expectedRate=10)
    lines = describe_evidence(rollout)
    assert lines[1] == ("evidence: detecting 5% → 6% conversion (two-sided, 95% confidence, 80% power) needs "
                        "8158 users per variant")
    assert lines[4].split() == ["variant-a", "50%", "8158", "27m", "12s"]


def test_a_blue_green_preview_gets_error_and_latency_alerts_but_no_traffic_expectation():
    spec = (SPECS / "billing.yaml").read_text() + (
        "  analysis:\n    successRate: {min: 99}\n    latency: {max: 1s}\n    requestRate: {min: 1}\n")
    rules = alert_rules(compile_spec_text(spec))["groups"][0]["rules"]
    assert [(r["alert"], r["labels"]["version"]) for r in rules] == [
        ("CanaryHighErrorRate", "green"), ("CanaryHighLatency", "green")]
    assert rules[0]["annotations"]["summary"] == "preview green of billing in production: error rate above 1%"
    assert rules[0]["annotations"]["description"].endswith("Do not cut over; blue keeps serving.")
    assert 'destination_workload="billing-green"' in rules[0]["expr"]
    assert "destination_service_name" not in rules[0]["expr"]


def test_every_ab_variant_gets_its_own_alerts():
    rules = rules_file(load("storefront.yaml").document)["groups"][0]["rules"]
    assert [(r["alert"], r["labels"]["version"]) for r in rules] == [
        (alert, version) for version in ("variant-a", "variant-b")
        for alert in ("CanaryHighErrorRate", "CanaryHighLatency", "CanaryNoTraffic")]
    assert all("> 0.001" in r["expr"] for r in rules if r["alert"] == "CanaryHighErrorRate")
    assert 'destination_workload="storefront-variant-b"' in rules[3]["expr"]


def test_plan_shows_ab_sample_sizes_for_the_example():
    from conftest import ROOT

    result = run_cli("plan", "specs/storefront.yaml", cwd=ROOT)
    assert "detecting 5% → 6% conversion (two-sided, 95% confidence, 80% power) needs 8158 users per variant" \
        in result.stdout
    assert "variant-b  50%     8158          9m 4s" in result.stdout


@pytest.mark.parametrize("reporter", ["source", "waypoint"])
def test_istio_alerts_count_the_reports_of_the_chosen_proxy_and_pass_promtool(reporter, tmp_path):
    """Behind an ingress gateway into an unmeshed namespace only the gateway's (source) reports exist;
    in ambient mode only the waypoint's: healthy traffic passes, failing traffic fires, no data never passes."""
    binary = promtool()
    text = (SPECS / "payments.yaml").read_text().replace(
        "    metrics: istio ", f"    reporter: {reporter}\n    metrics: istio ", 1)
    spec = parse_spec(text.encode(), "specs/payments.yaml")
    rules = rules_file(spec.document)
    assert all(f'reporter="{reporter}"' in r["expr"] for r in rules["groups"][0]["rules"])
    assert "destination_service_name" not in str(rules)
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(rules_test(spec.document, rules, "rules.yaml"), sort_keys=False))
    run = subprocess.run([binary, "test", "rules", "test.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_queries_output_uses_the_reporter_of_the_analysis():
    text = (SPECS / "payments.yaml").read_text().replace("    metrics: istio ", "    reporter: source\n    metrics: istio ", 1)
    spec = parse_spec(text.encode(), "specs/payments.yaml")
    q = version_queries(spec.document, "v2", "canary")
    assert 'reporter="source", destination_workload_namespace="production", destination_workload="payments-v2"' \
        in q.error_ratio
