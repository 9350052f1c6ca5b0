"""Meaning of `spec.analysis` (and of `canary.stepDuration`): cross-field rules, pure functions."""

from __future__ import annotations

from typing import Iterator

from generator.spec.checks import Finding
from generator.spec.v1alpha1 import Rollout
from generator.spec.kinds import engine_of
from generator.spec.facts import metrics_source, parse_duration

RESERVED_ALERT_LABELS = ("service", "namespace", "version")


def _durations(rollout: Rollout) -> Iterator[tuple[tuple, str, bool]]:
    """(path, value, may be zero) of every duration in the spec."""
    spec = rollout.spec
    if spec.canary is not None and spec.canary.stepDuration is not None:
        yield ("spec", "canary", "stepDuration"), spec.canary.stepDuration, False
    a = spec.analysis
    if a is not None:
        yield ("spec", "analysis", "window"), a.window, False
        yield ("spec", "analysis", "for"), a.for_, True
        if engine_of(rollout) != "flagger":  # Flagger's own rule holds its interval to 10s or more
            yield ("spec", "analysis", "interval"), a.interval, False
        if a.latency is not None:
            yield ("spec", "analysis", "latency", "max"), a.latency.max, False
        for name in ("successRate", "latency", "requestRate"):
            check = getattr(a, name)
            if check is not None and check.window is not None:
                yield ("spec", "analysis", name, "window"), check.window, False


def check_durations(rollout: Rollout) -> Iterator[Finding]:
    for path, value, zero_ok in _durations(rollout):
        ms = parse_duration(value)
        if ms is None:
            yield Finding(path, f"not a Prometheus duration: {value!r}",
                          "e.g. 30s, 5m, 1h30m, 500ms (units y w d h m s ms, largest first)")
        elif ms == 0 and not zero_ok:
            yield Finding(path, f"must be longer than zero (got {value!r})", "e.g. 30s, 5m")


def check_analysis(rollout: Rollout) -> Iterator[Finding]:

    spec = rollout.spec
    flagger = engine_of(rollout) == "flagger"
    a = spec.analysis
    if a is None:
        return
    base = ("spec", "analysis")
    source = metrics_source(rollout)
    wrong_mesh = {"istio": "linkerd", "linkerd": "istio"}.get(source)
    if a.metrics is not None and spec.mesh == wrong_mesh:
        yield Finding(base + ("metrics",), f"{source} metrics do not exist on mesh {spec.mesh}",
                      f"use `metrics: {spec.mesh}` or `metrics: app` (the application's own metrics)")
    if "reporter" in a.model_fields_set and source != "istio":
        yield Finding(base + ("reporter",), f"reporter selects which Istio proxy's reports count; {source} "
                      f"metrics have none (got {a.reporter!r})",
                      "remove it, or use `metrics: istio`", key=True)
    if a.selector is not None and source != "app":
        yield Finding(base + ("selector",), f"selector only applies to `metrics: app`; {source} metrics "
                      "have fixed label names", "remove it", severity="warning")
    window = parse_duration(a.window)
    if window is not None and 0 < window < 60_000:
        yield Finding(base + ("window",), f"a {a.window} rate() window holds fewer than two samples at common "
                      "scrape intervals (30s, 1m), so the queries return nothing and no alert can fire",
                      "use at least four scrape intervals, e.g. `window: 2m`", severity="warning")
    if a.successRate is None and a.latency is None and a.requestRate is None and not flagger:
        # (Flagger may promote on webhooks alone: its own rule warns instead.)
        yield Finding(base, "nothing to watch: set at least one of successRate, latency or requestRate",
                      "e.g. `successRate: {min: 99}` and `latency: {percentile: 95, max: 500ms}`")
    for key, value in a.labels.items():
        path = base + ("labels", key)
        if key in RESERVED_ALERT_LABELS:
            yield Finding(path, f"label {key!r} is set by rollgen on every alert (the {key} under test)",
                          "choose another label name", key=True)
        elif key.startswith("__"):
            yield Finding(path, f"label names starting with '__' are reserved for Prometheus (got {key!r})",
                          key=True)
        if "{{" in value or "}}" in value:
            yield Finding(path, f"alert label values are expanded as Prometheus templates; {value!r} would be "
                          "rewritten", "write the value without '{{' or '}}'")
    if a.evidence.margin is not None and a.successRate is not None and a.evidence.margin >= a.successRate.min:
        yield Finding(base + ("evidence", "margin"),
                      f"must be less than successRate.min ({a.successRate.min:g}), got {a.evidence.margin:g}",
                      "the margin is how far below the required success rate a worse version lies")


def check_significance(rollout: Rollout) -> Iterator[Finding]:
    ab_test = rollout.spec.abTest
    sig = ab_test.significance if ab_test is not None else None
    if sig is None:
        return
    path = ("spec", "abTest", "significance", "minDetectableEffect")
    target = sig.baseline + sig.minDetectableEffect
    if sig.minDetectableEffect == 0:
        yield Finding(path, "must not be 0: no sample is large enough to detect no change",
                      "e.g. `0.01` to detect 5% → 6%")
    elif not 0 < target < 1:
        yield Finding(path, f"baseline + minDetectableEffect must be a conversion rate between 0 and 1 "
                      f"(got {sig.baseline:g} + {sig.minDetectableEffect:g} = {target:g})",
                      "both are proportions: 0.05 is 5%")


RULES = (check_durations, check_analysis, check_significance)
