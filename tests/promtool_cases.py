"""Builds `promtool test rules` files for a spec's generated alert rules.

The synthetic series come from the *meaning* of each metrics source (which labels a request of
version v of service s in namespace n carries), written here independently of the generator's
query code; the expectations (which alert fires when) come from the spec's thresholds. The rule
file under test is the one rollgen generated, so the test proves the shipped rules mean what they say.

Scenarios for each version under test (a canary, a preview, every A/B variant), while the other
versions under test are healthy and next to decoys that must not count (the stable version
failing, another service's version of the same name, the same service in another namespace, and
for Istio the client-side report of the same requests):
  healthy  — traffic, no errors, fast: nothing fires
  erroring — 10 % 5xx: the error-rate alert fires, but only after `for`
  slow     — every request far above the latency limit: the latency alert fires
  idle     — series present but no requests: only the no-traffic alert fires (when the version has a
             share of traffic and requestRate is set)
  absent   — no series at all (never deployed or never scraped): same as idle
"""

from __future__ import annotations

import zlib
from decimal import Decimal

from generator.plan.queries import ALERT_ERRORS, ALERT_LATENCY, ALERT_NO_TRAFFIC, _percentile, alert_labels, latency_threshold, versions_under_test
from generator.spec.facts import metrics_source
from generator.spec.facts import parse_duration
from generator.spec.v1alpha1 import Rollout
from generator.spec.kinds import engine_of

SCRAPE = 15  # seconds between synthetic samples
RPS = 40  # requests/s the version under test receives in the scenarios with traffic


def _series_name(labels: dict[str, str], metric: str) -> str:
    inner = ", ".join(f'{k}="{v}"' for k, v in labels.items())
    return f"{metric}{{{inner}}}"


def request_labels(rollout: Rollout, version: str, code: int, *, service: str | None = None,
                   namespace: str | None = None, client_side: bool = False) -> tuple[str, dict[str, str]]:
    """(counter metric, labels) of requests answered with `code` as the metrics source records them."""
    source = metrics_source(rollout)
    name = service or rollout.metadata.name
    ns = namespace or rollout.metadata.namespace
    # With Flagger a version under test is a workload (`<name>` or `<name>-primary`), as Flagger names them.
    flagger = engine_of(rollout) == "flagger"
    workload = (service or version) if flagger else f"{name}-{version}"
    if engine_of(rollout) == "argo-rollouts" and source != "app":
        # Pods of a Rollout's ReplicaSet: Istio names the workload after the ReplicaSet (`<name>-<hash>`,
        # the same for no other version) and reports the pod's app and version labels; Linkerd labels no
        # `deployment`, and linkerd-viz's Prometheus copies every pod label.
        replica_set = f"{name}-{zlib.crc32(version.encode()):08x}"
        if source == "istio":
            counted = rollout.spec.analysis.reporter
            return "istio_requests_total", {
                "reporter": ("source" if counted != "source" else "destination") if client_side else counted,
                "source_workload": "unknown", "destination_workload": replica_set,
                "destination_workload_namespace": ns, "destination_app": name, "destination_service_name": "unknown",
                "destination_service_namespace": ns, "destination_version": version, "response_code": str(code)}
        return "response_total", {
            "direction": "inbound", "namespace": ns, "app": name, "version": version, "pod": f"{replica_set}-abc",
            "status_code": str(code), "classification": "failure" if code >= 500 else "success"}
    if source == "istio":
        counted = rollout.spec.analysis.reporter  # the proxy whose reports the queries count
        # The requests come from outside the mesh (an ingress gateway or an unmeshed client): the server's
        # sidecar labels them `destination_service_name="unknown"` (its host-header fallback is off on
        # inbound), so a query must find the version by its workload and namespace alone.
        return "istio_requests_total", {
            "reporter": ("source" if counted != "source" else "destination") if client_side else counted,
            "source_workload": "unknown", "destination_workload": workload,
            "destination_workload_namespace": ns, "destination_service_name": "unknown",
            "destination_service_namespace": ns, "destination_version": version, "response_code": str(code)}
    if source == "linkerd":
        return "response_total", {
            "direction": "inbound", "namespace": ns, "deployment": workload, "pod": f"{workload}-abc",
            "status_code": str(code), "classification": "failure" if code >= 500 else "success"}
    sel = rollout.spec.analysis.selector
    labels = {"service": "app", "namespace": "namespace", "version": "version", "code": "code"}
    if sel is not None:
        labels = {"service": sel.service, "namespace": sel.namespace, "version": sel.version, "code": sel.code}
    if flagger:  # Flagger's pods carry `app: <workload>` and no version label
        return "http_requests_total", {labels["namespace"]: ns, labels["service"]: workload,
                                       labels["code"]: str(code), "job": "scrape", "pod": f"{workload}-abc"}
    return "http_requests_total", {labels["namespace"]: ns, labels["service"]: name, labels["version"]: version,
                                   labels["code"]: str(code), "job": "scrape", "pod": f"{name}-{version}-abc"}


def histogram_metric(rollout: Rollout) -> tuple[str, str]:
    source = metrics_source(rollout)
    return {"istio": ("istio_request_duration_milliseconds_bucket", "ms"),
            "linkerd": ("response_latency_ms_bucket", "ms")}.get(source, ("http_request_duration_seconds_bucket", "s"))


def _counter(per_sample: float, samples: int) -> str:
    return f"0+{per_sample:g}x{samples}"


def traffic(rollout: Rollout, version: str, rps: float, error_share: float, slow: bool, samples: int,
            **where) -> list[dict]:
    """Input series for `rps` requests/s to one version: counters by status code and a histogram."""
    out = []
    per_sample = rps * SCRAPE
    errors = per_sample * error_share
    for code, count in ((200, per_sample - errors), (500, errors)):
        if count or code == 200:
            metric, labels = request_labels(rollout, version, code, **where)
            out.append({"series": _series_name(labels, metric), "values": _counter(count, samples)})
    metric, unit = histogram_metric(rollout)
    limit = latency_threshold(rollout.spec.analysis.latency.max, unit) if rollout.spec.analysis.latency else \
        Decimal(1)
    bounds = [limit / 2, limit, limit * 2, limit * 4]
    # fast: every request in the lowest bucket; slow: every request between 2× and 4× the limit
    first_full = 3 if slow else 0
    _, base = request_labels(rollout, version, 200, **where)
    for code_key in ("response_code", "status_code", "classification"):
        base.pop(code_key, None)
    sel = rollout.spec.analysis.selector
    base.pop(sel.code if sel is not None else "code", None)
    for i, bound in enumerate(bounds + ["+Inf"]):
        le = bound if isinstance(bound, str) else format(bound.normalize(), "f")
        count = per_sample if (i >= first_full or bound == "+Inf") else 0
        out.append({"series": _series_name({**base, "le": le}, metric), "values": _counter(count, samples)})
    return out


def decoys(rollout: Rollout, tested: str, baseline: str | None, samples: int) -> list[dict]:
    """Failing, slow traffic that is not the version under test's and must not move its alerts:
    the baseline version (when it is not itself under test), another service's version of the same
    name, the same service in another namespace, and Istio's client-side report."""
    out = traffic(rollout, baseline, RPS, 0.5, True, samples) if baseline else []
    out += traffic(rollout, tested, RPS, 0.5, True, samples, service="other")
    out += traffic(rollout, tested, RPS, 0.5, True, samples, namespace="elsewhere")
    if metrics_source(rollout) == "istio":
        metric, labels = request_labels(rollout, tested, 503, client_side=True)
        out.append({"series": _series_name(labels, metric), "values": _counter(RPS * SCRAPE, samples)})
    return out


def _expected(rule: dict, rollout: Rollout, tested, rendered: dict[str, str]) -> dict:
    annotations = {}
    for key, text in rule["annotations"].items():
        for template, value in rendered.items():
            text = text.replace(template, value)
        annotations[key] = text
    return {"exp_labels": alert_labels(rollout, tested), "exp_annotations": annotations}


def rules_test(rollout: Rollout, rules: dict, rule_file: str) -> dict:
    """A `promtool test rules` document for the generated `rules` (a `groups:` mapping): every
    scenario for each version under test, while the other versions under test are healthy."""
    analysis = rollout.spec.analysis
    all_tested = versions_under_test(rollout)
    names = {v.version for v in all_tested}
    group = rules["groups"][0]
    by_name = {(r["alert"], r["labels"]["version"]): r for r in group["rules"] if "version" in r["labels"]}
    alerts = {alert for alert, _ in by_name}
    for_s = parse_duration(analysis.for_) // 1000
    window_s = parse_duration(analysis.window) // 1000
    late = for_s + window_s + 120  # the condition has held for `for` and the window is full
    early = max(for_s // 2, 1)  # true already, but not yet for `for`
    samples = late // SCRAPE + 2
    _, unit = histogram_metric(rollout)
    slow_value = None
    if analysis.latency is not None:
        q = Decimal(repr(_percentile(rollout))) / 100
        limit = latency_threshold(analysis.latency.max, unit)
        slow_value = limit * 2 + limit * 2 * q

    def render_latency(value: Decimal) -> str:
        if unit == "ms":
            return f"{value:.0f}ms"
        ms = value * 1000
        return (f"{ms.normalize():f}ms" if ms < 1000 else f"{value.normalize():f}s")

    tests = []
    for tested in all_tested:
        others = [o for o in all_tested if o is not tested]
        background = decoys(rollout, tested.version, None if tested.baseline in names else tested.baseline,
                            samples)
        for other in others:
            background += traffic(rollout, other.version, RPS, 0, False, samples)

        def fired(alert: str, rendered: dict[str, str]) -> list[dict]:
            return [_expected(by_name[(alert, tested.version)], rollout, tested, rendered)]

        def case(name: str, series: list[dict], expectations: dict[str, list | None]) -> dict:
            checks = []
            for alert, exp in expectations.items():
                if alert not in alerts:
                    continue
                if exp is None:
                    checks.append({"eval_time": f"{early}s", "alertname": alert, "exp_alerts": []})
                else:
                    checks.append({"eval_time": f"{late}s", "alertname": alert, "exp_alerts": exp})
            return {"name": f"{rollout.metadata.name} {tested.role} {tested.version}: {name}",
                    "interval": f"{SCRAPE}s", "input_series": background + series, "alert_rule_test": checks}

        nothing = {ALERT_ERRORS: [], ALERT_LATENCY: []}
        starved = (fired(ALERT_NO_TRAFFIC, {'{{ $value | printf "%.2f" }}': "0.00"})
                   if (ALERT_NO_TRAFFIC, tested.version) in by_name else [])
        erroring = traffic(rollout, tested.version, RPS, 0.1, False, samples)
        tests += [
            case("a healthy version fires nothing", traffic(rollout, tested.version, RPS, 0, False, samples),
                 {**nothing, ALERT_NO_TRAFFIC: []}),
            case("an erroring version does not fire before `for`", erroring, {ALERT_ERRORS: None}),
            case("an erroring version fires the error-rate alert", erroring,
                 {ALERT_ERRORS: fired(ALERT_ERRORS, {"{{ $value | humanizePercentage }}": "10%"}),
                  ALERT_LATENCY: [], ALERT_NO_TRAFFIC: []}),
            case("an idle version fires only the no-traffic alert",
                 traffic(rollout, tested.version, 0, 0, False, samples), {**nothing, ALERT_NO_TRAFFIC: starved}),
            case("a version without any series fires only the no-traffic alert", [],
                 {**nothing, ALERT_NO_TRAFFIC: starved}),
        ]
        if slow_value is not None:
            rendered = {'{{ $value | printf "%.0f" }}ms': render_latency(slow_value),
                        "{{ $value | humanizeDuration }}": render_latency(slow_value)}
            slow = traffic(rollout, tested.version, RPS, 0, True, samples)
            tests += [
                case("a slow version fires the latency alert", slow,
                     {ALERT_LATENCY: fired(ALERT_LATENCY, rendered), ALERT_ERRORS: [], ALERT_NO_TRAFFIC: []}),
                case("a slow version does not fire before `for`", slow, {ALERT_LATENCY: None}),
            ]
    tests += flagger_status_tests(rollout, group)
    interval = parse_duration(group.get("interval", "1m")) // 1000
    return {"rule_files": [rule_file], "evaluation_interval": f"{interval}s", "tests": tests}


def flagger_status_tests(rollout: Rollout, group: dict) -> list[dict]:
    """Flagger's flagger_canary_status (0 progressing, 1 succeeded, 2 failed): the rollback alert fires
    on 2 only, under either namespace label, and never for another canary."""
    rules = [r for r in group["rules"] if r["alert"] == "CanaryRolledBack"]
    if not rules:
        return []
    (rule,) = rules
    name, ns = rollout.metadata.name, rollout.metadata.namespace

    def status(value: int, label: str = "namespace", canary: str = name) -> dict:
        return {"series": f'flagger_canary_status{{name="{canary}", {label}="{ns}", job="flagger"}}',
                "values": f"{value}x20"}

    expected = [{"exp_labels": dict(rule["labels"]), "exp_annotations": dict(rule["annotations"])}]

    def case(title: str, series: list[dict], exp: list) -> dict:
        return {"name": f"{name} Flagger status: {title}", "interval": f"{SCRAPE}s", "input_series": series,
                "alert_rule_test": [{"eval_time": "3m", "alertname": "CanaryRolledBack", "exp_alerts": exp}]}

    return [
        case("a failed canary fires", [status(2)], expected),
        case("a failed canary fires under exported_namespace", [status(2, "exported_namespace")], expected),
        case("a progressing or promoted canary does not fire", [status(0), status(1, canary=f"{name}x")], []),
        case("another canary's failure does not fire", [status(1), status(2, canary="other")], []),
    ]
