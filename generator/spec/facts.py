"""Facts of a spec that its checks and its plan both read: the strategy, the versions it routes to,
the Service a host names, durations, the canary's weights. Pure functions of the model, no decisions
of an engine or a mesh."""

from __future__ import annotations

import re
from dataclasses import dataclass

import generator.names as c
from generator.mesh import default_metrics
from generator.spec.v1alpha1 import Rollout


@dataclass(frozen=True)
class ClusterService:
    name: str
    namespace: str


_SVC_HOST = re.compile(r"^(?P<name>[a-z0-9]([-a-z0-9]*[a-z0-9])?)\.(?P<ns>[a-z0-9]([-a-z0-9]*[a-z0-9])?)"
                       r"\.svc(?:\." + re.escape(c.DEFAULT_CLUSTER_DOMAIN) + r")?$")


_LABEL = re.compile(c.DNS1123_LABEL)


def cluster_service(host: str, namespace: str) -> ClusterService | None:
    """The Service a host names (`name`, `name.ns.svc`, `name.ns.svc.cluster.local`), else None.

    Two-label names (`name.ns`) are refused on purpose: outside the cluster's search path they are
    ordinary DNS names, so they cannot be told apart from an external host."""
    if _LABEL.match(host) and len(host) <= c.MAX_LABEL:
        return ClusterService(host, namespace)
    m = _SVC_HOST.match(host)
    if m and len(m.group("name")) <= c.MAX_LABEL:
        return ClusterService(m.group("name"), m.group("ns"))
    return None


def strategy_of(rollout: Rollout) -> str | None:
    """`canary`, `blueGreen`, `abTest` or None (the first one set, when a spec sets several)."""
    spec = rollout.spec
    for name in ("canary", "blueGreen", "abTest"):
        if getattr(spec, name) is not None:
            return name
    return None


def only_strategy(rollout: Rollout) -> str | None:
    """The strategy when exactly one is set, else None (the checks refuse two)."""
    spec = rollout.spec
    given = [name for name in ("canary", "blueGreen", "abTest") if getattr(spec, name, None) is not None]
    return given[0] if len(given) == 1 else None


def routed_versions(rollout: Rollout) -> list[str]:
    """Versions a spec sends traffic to (or keeps ready for a cutover), in spec order."""
    spec = rollout.spec
    used: list[str] = []
    if spec.canary is not None:
        used += [spec.canary.stable, spec.canary.canary]
    if spec.blueGreen is not None:
        used += [v for v in (spec.blueGreen.active, spec.blueGreen.preview) if v]
    if spec.abTest is not None:
        used += [v.version for v in spec.abTest.variants or ()]
    used += [r.version for r in spec.routes or () if r.version]
    if spec.default:
        used.append(spec.default)
    return list(dict.fromkeys(used))


def after_cutover(bg) -> bool:
    """Whether a blue/green's preview is the version that was live before the cutover: `promote`
    swaps active and preview and removes `test`, so a preview without a test match has been live
    (this is what `rollback` switches back to); with a test match it has never served production."""
    return bg.preview is not None and bg.test is None


# Prometheus' duration syntax (model.ParseDuration): units largest first, each at most once.
_DURATION = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")


_UNIT_MS = (365 * 86400_000, 7 * 86400_000, 86400_000, 3600_000, 60_000, 1000, 1)


def parse_duration(text: str) -> int | None:
    """Milliseconds in a Prometheus duration (`1h30m`, `500ms`), or None when it is not one."""
    m = _DURATION.match(text or "")
    if not text or not m:
        return None
    return sum(int(g) * unit for g, unit in zip(m.groups(), _UNIT_MS) if g)


def format_duration(ms: int) -> str:
    """Milliseconds as a short human duration: `26m 26s`, `2h 5m`, `1.5s`, `3d 4h`."""
    if ms < 1000:
        return f"{ms}ms"
    seconds = -(-ms // 1000)  # round up: a step held for this long is long enough
    if seconds < 60:
        return f"{seconds}s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts[:2])


def canary_step_weights(step_weight: int | None, max_weight: int | None, step_weights: tuple[int, ...]) -> list[int]:
    """The canary weights Flagger walks through (nextStepWeight): `stepWeights` as given, or
    `stepWeight` added while below `maxWeight` (default 100), capping only at 100 (scheduler.go)."""
    if step_weights:
        return list(step_weights)
    if not step_weight:
        return []
    top, weight, out = max_weight or 100, 0, []
    while weight < top:
        weight = min(weight + step_weight, 100)
        out.append(weight)
    return out


def canary_weights(steps: list[int], position: int) -> tuple[int, int]:
    """(stable, canary) percentages at a position: integers that sum to 100."""
    share = steps[position - 1] if position > 0 else 0
    return 100 - share, share


def metrics_source(rollout: Rollout) -> str:
    """The analysis' metrics source, defaulting from the mesh."""
    analysis = rollout.spec.analysis
    if analysis is not None and analysis.metrics is not None:
        return analysis.metrics
    return default_metrics(rollout.spec.mesh)
