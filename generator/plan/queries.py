"""Analysis: PromQL queries, alert rules and evidence for the version under test. Pure data.

One function, `versions_under_test`, says which versions a spec is testing (and against which
baseline, with what share of traffic); queries, alerts and evidence all follow from it, so a new
strategy plugs in by extending that function alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import generator.names as c
import generator.plan.stats as stats
from generator.plan.promql import matcher, number, selector
from generator.spec.v1alpha1 import Analysis, MetricsSelector, Rollout
from generator.spec.kinds import engine_of
from generator.spec.facts import canary_step_weights, canary_weights, parse_duration
from generator.spec.facts import metrics_source


@dataclass(frozen=True)
class VersionUnderTest:
    """A version being tested. `share` is its percent of ordinary traffic at the live position
    (None when the strategy gives it none by weight, only matched requests); `baseline` is the
    version it is compared with."""

    version: str
    role: str  # canary | preview | variant
    baseline: str
    share: int | None


def versions_under_test(rollout: Rollout, position: int | None = None) -> tuple[VersionUnderTest, ...]:
    """The versions a spec is testing at `position` (default: the live one): a canary's new version,
    a blue/green preview, every A/B variant (compared with the first). A steady-state service tests
    nothing. A new strategy plugs into queries, alerts and evidence by adding its case here."""

    spec = rollout.spec
    if engine_of(rollout) == "flagger":
        # Flagger runs the new version as the Deployment `<name>` and the old one as `<name>-primary`.
        name = rollout.metadata.name
        return (VersionUnderTest(name, "flagger", c.flagger_primary_name(name), None),)
    blue_green = spec.blueGreen
    if blue_green is not None and blue_green.preview:
        return (VersionUnderTest(blue_green.preview, "preview", blue_green.active, None),)
    ab_test = spec.abTest
    if ab_test is not None and ab_test.variants:
        control = ab_test.variants[0].version
        return tuple(VersionUnderTest(v.version, "variant", control, v.weight) for v in ab_test.variants)
    if spec.canary is not None:
        at = spec.canary.position if position is None else position
        # An out-of-range position is reported by the canary checks; nothing is known about its share.
        share = canary_weights(spec.canary.steps, at)[1] if 0 <= at <= len(spec.canary.steps) else None
        return (VersionUnderTest(spec.canary.canary, "canary", spec.canary.stable, share),)
    return ()


def versions_compared(rollout: Rollout) -> list[tuple[str, str]]:
    """(version, role) pairs shown side by side: each baseline, then each version under test."""
    tested = versions_under_test(rollout)
    if not tested:
        return [(v.name, "live") for v in rollout.spec.versions]
    baseline_role = {"canary": "stable", "preview": "active", "variant": "control", "flagger": "primary"}
    out = [(t.baseline, baseline_role[t.role]) for t in tested if t.baseline not in {x.version for x in tested}]
    out += [(t.version, "canary" if t.role == "flagger" else t.role) for t in tested]
    return list(dict.fromkeys(out))


def advice(tested: VersionUnderTest) -> str:
    """What to do when an alert on a version under test fires."""
    if tested.role == "preview":
        return f"Do not cut over; {tested.baseline} keeps serving."
    if tested.role == "variant":
        return f"Stop the A/B test or move variant {tested.version}'s share to another variant."
    if tested.role == "flagger":
        return f"Flagger rolls back to {tested.baseline} once its analysis reaches the failed-checks threshold."
    return f"Roll back to {tested.baseline}."


# --- metrics sources -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    """Where request counts and latencies of one version come from."""
    name: str
    requests: str  # counter of requests (or responses)
    duration: str  # histogram buckets
    unit: str  # unit of the histogram: s | ms
    error: str  # matcher selecting failed responses
    error_meaning: str

    def matchers(self, rollout: Rollout, version: str) -> list[str]:

        name, ns = rollout.metadata.name, rollout.metadata.namespace
        # With Flagger a "version" is a workload: `<name>` (the canary) or `<name>-primary`.
        flagger = engine_of(rollout) == "flagger"
        workload = version if flagger else c.deployment_name(name, version)
        if engine_of(rollout) == "argo-rollouts" and self.name != "app":
            # Argo Rollouts runs both versions as ReplicaSets of one Rollout, with no Deployment: Istio
            # names their workload after each ReplicaSet (`<name>-<hash>`) and Linkerd labels no
            # `deployment`. The pod labels `app` and `version` tell them apart: Istio reports them as
            # destination_app / destination_version, linkerd-viz's Prometheus copies every pod label.
            if self.name == "istio":
                return [matcher("reporter", "=", reporter(rollout.spec.analysis)),
                        matcher("destination_workload_namespace", "=", ns),
                        matcher("destination_app", "=", name),
                        matcher("destination_version", "=", version)]
            return [matcher("direction", "=", "inbound"), matcher("namespace", "=", ns),
                    matcher(c.APP_LABEL, "=", name), matcher(c.VERSION_LABEL, "=", version)]
        if self.name == "istio":
            # The reports of one proxy only (`analysis.reporter`; a request between two sidecars is
            # reported by both), scoped by workload and namespace as Flagger's builtin is: requests
            # from outside the mesh carry `destination_service_name="unknown"`, so the service name
            # would lose them.
            return [matcher("reporter", "=", reporter(rollout.spec.analysis)),
                    matcher("destination_workload_namespace", "=", ns),
                    matcher("destination_workload", "=", workload)]
        if self.name == "linkerd":
            return [matcher("direction", "=", "inbound"),
                    matcher("namespace", "=", ns),
                    matcher("deployment", "=", workload)]
        sel = app_selector(rollout.spec.analysis)
        if flagger:  # Flagger labels the primary's pods `app: <name>-primary`; the canary's keep `<name>`
            return [matcher(sel.namespace, "=", ns), matcher(sel.service, "=", workload)]
        return [matcher(sel.namespace, "=", ns), matcher(sel.service, "=", name),
                matcher(sel.version, "=", version)]


def reporter(analysis: Analysis | None) -> str:
    """The Istio proxy whose reports the queries count (`analysis.reporter`, default the server's)."""
    return analysis.reporter if analysis is not None else "destination"


def app_selector(analysis: Analysis | None) -> MetricsSelector:
    return (analysis.selector if analysis is not None and analysis.selector is not None else MetricsSelector())


def source_for(rollout: Rollout) -> Source:
    kind = metrics_source(rollout)
    if kind == "istio":
        return Source("istio", "istio_requests_total", "istio_request_duration_milliseconds_bucket", "ms",
                      matcher("response_code", "=~", "5.."), "5xx responses")
    if kind == "linkerd":
        # Linkerd classifies 5xx (and gRPC errors) as failures; it is what its own success rate uses.
        return Source("linkerd", "response_total", "response_latency_ms_bucket", "ms",
                      matcher("classification", "=", "failure"), "responses Linkerd classifies as failures")
    sel = app_selector(rollout.spec.analysis)
    return Source("app", "http_requests_total", "http_request_duration_seconds_bucket", "s",
                  matcher(sel.code, "=~", "5.."), "5xx responses")


# --- thresholds (exact decimal arithmetic: 99 % → 0.01, 500ms → 0.5 s or 500 ms) -------------------

def _decimal(value: float) -> Decimal:
    return Decimal(repr(value))


def error_threshold(success_min: float) -> Decimal:
    """The error ratio above which the success rate is below `success_min` percent."""
    return (Decimal(100) - _decimal(success_min)) / Decimal(100)


def latency_threshold(max_duration: str, unit: str) -> Decimal:
    ms = Decimal(parse_duration(max_duration))
    return ms if unit == "ms" else ms / Decimal(1000)


def quantile(percentile: float) -> Decimal:
    return _decimal(percentile) / Decimal(100)


# --- queries -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Queries:
    """The three PromQL queries for one version."""
    version: str
    role: str
    error_ratio: str
    latency: str
    request_rate: str


def _window(rollout: Rollout) -> str:
    analysis = rollout.spec.analysis
    return analysis.window if analysis is not None else "5m"


def _percentile(rollout: Rollout) -> float:
    analysis = rollout.spec.analysis
    if analysis is None or analysis.latency is None:
        return 95

    # Flagger's builtin request-duration is P99: alerts watch what Flagger checks unless told otherwise.
    if engine_of(rollout) == "flagger" and "percentile" not in analysis.latency.model_fields_set:
        return 99
    return analysis.latency.percentile


def version_queries(rollout: Rollout, version: str, role: str) -> Queries:
    src = source_for(rollout)
    window = _window(rollout)
    base = src.matchers(rollout, version)
    total = f"sum(rate({selector(src.requests, base)}[{window}]))"
    errors = f"sum(rate({selector(src.requests, base + [src.error])}[{window}]))"
    # `or vector(0)`: with traffic but no error series yet the ratio is 0; with no traffic the
    # denominator is 0 or absent, so the ratio is NaN or empty — never a healthy-looking 0.
    ratio = f"(\n  {errors}\n  or vector(0)\n)\n/\n{total}"
    latency = (f"histogram_quantile({number(quantile(_percentile(rollout)))},\n"
               f"  sum by (le) (rate({selector(src.duration, base)}[{window}]))\n)")
    return Queries(version, role, ratio, latency, total)


def all_queries(rollout: Rollout) -> list[Queries]:
    return [version_queries(rollout, v, role) for v, role in versions_compared(rollout)]


# --- alert rules -------------------------------------------------------------------------------------

ALERT_ERRORS = "CanaryHighErrorRate"
ALERT_LATENCY = "CanaryHighLatency"
ALERT_NO_TRAFFIC = "CanaryNoTraffic"
# How an alert's description shows the measured latency ($value is in the histogram's unit).
LATENCY_VALUE = {"s": "{{ $value | humanizeDuration }}", "ms": '{{ $value | printf "%.0f" }}ms'}


def _percent(value: Decimal) -> str:
    return number(value * 100) + "%"


def _latency_text(max_duration: str) -> str:
    ms = parse_duration(max_duration)
    return f"{ms}ms" if ms < 1000 else f"{number(Decimal(ms) / 1000)}s"


def alert_labels(rollout: Rollout, tested: VersionUnderTest) -> dict[str, str]:
    labels = {"service": rollout.metadata.name, "namespace": rollout.metadata.namespace,
              "version": tested.version}
    analysis = rollout.spec.analysis
    for key in sorted(analysis.labels):
        labels.setdefault(key, analysis.labels[key])
    return labels


def version_rules(rollout: Rollout, tested: VersionUnderTest) -> list[dict]:
    """Alert rules for one version under test."""
    analysis = rollout.spec.analysis
    src = source_for(rollout)
    q = version_queries(rollout, tested.version, tested.role)
    name, ns, v = rollout.metadata.name, rollout.metadata.namespace, tested.version
    who = f"canary {v} (Flagger)" + f" in {ns}" if tested.role == "flagger" else f"{tested.role} {v} of {name} in {ns}"
    labels = alert_labels(rollout, tested)
    rules = []

    def rule(alert: str, expr: str, summary: str, description: str) -> dict:
        return {"alert": alert, "expr": expr, "for": analysis.for_, "labels": dict(labels),
                "annotations": {"summary": summary, "description": description}}

    if analysis.successRate is not None:
        limit = error_threshold(analysis.successRate.min)
        rules.append(rule(
            ALERT_ERRORS, f"{q.error_ratio}\n> {number(limit)}",
            f"{who}: error rate above {_percent(limit)}",
            f"{{{{ $value | humanizePercentage }}}} of requests to version {v} of service {name} in namespace {ns} "
            f"were {src.error_meaning} over the last {analysis.window}; the rollout requires a success rate of "
            f"at least {number(_decimal(analysis.successRate.min))}% (errors at most {_percent(limit)}). "
            f"{advice(tested)}"))
    if analysis.latency is not None:
        limit = latency_threshold(analysis.latency.max, src.unit)
        p = number(_decimal(_percentile(rollout)))
        rules.append(rule(
            ALERT_LATENCY, f"{q.latency}\n> {number(limit)}",
            f"{who}: P{p} latency above {_latency_text(analysis.latency.max)}",
            f"The P{p} latency of version {v} of service {name} in namespace {ns} is "
            f"{LATENCY_VALUE[src.unit]} over the last {analysis.window}; the rollout allows at most "
            f"{number(limit)}{src.unit}. {advice(tested)}"))
    if analysis.requestRate is not None and tested.share:
        limit = _decimal(analysis.requestRate.min)
        rules.append(rule(
            ALERT_NO_TRAFFIC, f"(\n  {q.request_rate}\n  or vector(0)\n)\n< {number(limit)}",
            f"{who}: request rate below {number(limit)}/s",
            f"Version {v} of service {name} in namespace {ns} receives {{{{ $value | printf \"%.2f\" }}}} "
            f"requests/s over the "
            f"last {analysis.window} while it should serve {tested.share}% of traffic; the rollout needs at "
            f"least {number(limit)} requests/s to judge it. No traffic is not success: check the routing "
            f"before promoting."))
    return rules


def rules_file(rollout: Rollout) -> dict | None:
    """The Prometheus rules file (`groups:`) for a spec, or None when there is nothing to alert on."""
    analysis = rollout.spec.analysis
    if analysis is None:
        return None
    rules = [r for tested in versions_under_test(rollout) for r in version_rules(rollout, tested)]
    if not rules:
        return None
    group = {"name": c.alert_group_name(rollout.metadata.name, rollout.metadata.namespace),
             "interval": analysis.interval, "rules": rules}
    return {"groups": [group]}


@dataclass(frozen=True)
class AlertsPlan:
    """What the analysis emits: the rules file and how it is delivered."""
    delivery: str  # prometheusRule | configMap
    name: str
    labels: dict = field(hash=False)
    rules: dict = field(hash=False)


def plan_alerts(rollout: Rollout, object_labels: dict[str, str]) -> AlertsPlan | None:
    analysis = rollout.spec.analysis
    if analysis is None or analysis.alerts == "none":
        return None
    rules = rules_file(rollout)
    if rules is None:
        return None
    labels = {**object_labels, **analysis.ruleLabels, **c.MANAGED_BY}  # ownership stays rollgen's
    return AlertsPlan(analysis.alerts, c.alerts_name(rollout.metadata.name), labels, rules)


# --- evidence ----------------------------------------------------------------------------------------

def evidence_target(rollout: Rollout) -> tuple[float, float, int] | None:
    """(required success rate, rate told apart, requests needed) as proportions, or None."""
    analysis = rollout.spec.analysis
    if analysis is None or analysis.successRate is None or analysis.successRate.min >= 100:
        return None
    required = analysis.successRate.min / 100
    margin = (analysis.evidence.margin / 100 if analysis.evidence.margin is not None else 1 - required)
    if required - margin <= 0:
        return None
    needed = stats.success_rate_sample_size(required, margin, analysis.evidence.confidence / 100,
                                            analysis.evidence.power / 100)
    return required, required - margin, needed


def canary_evidence(rollout: Rollout) -> list[stats.StepEvidence]:
    """For each canary step: the traffic the canary gets and the time it needs (needs expectedRate)."""
    analysis, canary = rollout.spec.analysis, rollout.spec.canary
    target = evidence_target(rollout)
    if canary is None or target is None or analysis.expectedRate is None or engine_of(rollout) == "flagger":
        return []
    window = parse_duration(analysis.window) / 1000
    return [stats.step_evidence(i + 1, share, analysis.expectedRate, window, target[2])
            for i, share in enumerate(canary.steps)]


def flagger_check_window(rollout: Rollout) -> str:
    """The range of Flagger's metric checks: `analysis.window`, else Flagger's own default (1m)."""
    analysis = rollout.spec.analysis
    return analysis.window if "window" in analysis.model_fields_set else "1m"


def flagger_check_evidence(rollout: Rollout) -> list[stats.StepEvidence]:
    """For each weight Flagger gives a canary: the requests one metric check sees (over the check
    window) and the time those requests take. Flagger judges every check on its window alone, so a
    window that holds fewer requests than `evidence_target` needs cannot tell the rates apart."""

    analysis, canary = rollout.spec.analysis, rollout.spec.canary
    if engine_of(rollout) != "flagger" or canary is None or analysis is None or analysis.expectedRate is None:
        return []
    target = evidence_target(rollout)
    if target is None:
        return []
    window = (parse_duration(flagger_check_window(rollout)) or 0) / 1000
    weights = canary_step_weights(canary.stepWeight, canary.maxWeight, tuple(canary.steps or ()))
    return [stats.step_evidence(i + 1, w, analysis.expectedRate, window, target[2]) for i, w in enumerate(weights)]


def flagger_evidence_shortfall(rollout: Rollout) -> stats.StepEvidence | None:
    """The first weight whose checks see too few requests to tell the success rates apart."""
    needed = evidence_target(rollout)
    return next((row for row in flagger_check_evidence(rollout) if row.per_window < needed[2]), None)


def ab_evidence(rollout: Rollout) -> list[stats.VariantEvidence]:
    """Per A/B variant: users needed for `abTest.significance`, and the time at its share of
    `analysis.expectedRate` (counting requests, an upper bound on users)."""
    ab_test = rollout.spec.abTest
    significance = ab_test.significance if ab_test is not None else None
    if significance is None or not ab_test.variants:
        return []
    analysis = rollout.spec.analysis
    rate = analysis.expectedRate if analysis is not None else None
    return stats.variant_evidence([(v.version, v.weight) for v in ab_test.variants], significance.baseline,
                                  significance.minDetectableEffect, rate,
                                  significance.confidence / 100, significance.power / 100)


def evidence_shortfalls(rollout: Rollout) -> list[tuple[stats.StepEvidence, int]]:
    """Steps held for less time than their evidence needs: (step, stepDuration in ms)."""
    canary = rollout.spec.canary
    if canary is None or not canary.stepDuration:
        return []
    hold = parse_duration(canary.stepDuration)
    if hold is None:
        return []
    return [(row, hold) for row in canary_evidence(rollout)
            if row.seconds_needed is not None and row.seconds_needed * 1000 > hold]


