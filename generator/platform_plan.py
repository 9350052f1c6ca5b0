"""The plan of a `kind: Platform` spec: pure data about the Flagger install's GitOps objects.

No cdk8s, no files. `constructs/flux.py` turns it into a Flux HelmRepository and HelmReleases.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import conventions as c
from .spec.platform import Platform


@dataclass(frozen=True)
class HelmReleasePlan:
    name: str
    chart: str
    version: str
    values: dict = field(hash=False)
    target_namespace: str | None = None  # None: the release's own namespace
    manage_crds: bool = False  # the chart ships CRDs that must follow chart upgrades


@dataclass(frozen=True)
class PlatformPlan:
    source: str
    name: str
    namespace: str
    labels: dict = field(hash=False)
    repository: str  # the HelmRepository's name
    repository_url: str
    repository_type: str  # default | oci
    repository_interval: str
    interval: str
    releases: tuple[HelmReleasePlan, ...]


def merge_values(base: dict, extra: dict) -> dict:
    """Helm-style deep merge: `extra` wins, mappings merge key by key; keys sorted for stable output."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_values(out[key], value)
        else:
            out[key] = value
    return dict(sorted(out.items()))


def build_platform_plan(platform: Platform, source: str) -> PlatformPlan:
    spec, meta = platform.spec, platform.metadata
    flagger_values = merge_values(spec.flagger.values, {"meshProvider": spec.flagger.meshProvider,
                                                        "metricsServer": spec.flagger.metricsServer})
    releases = [HelmReleasePlan(c.FLAGGER_RELEASE, c.FLAGGER_CHART, spec.flagger.version, flagger_values,
                                manage_crds=True)]
    if spec.loadtester.enabled:
        target = spec.loadtester.namespace
        releases.append(HelmReleasePlan(
            c.LOADTESTER_RELEASE, c.LOADTESTER_CHART, spec.loadtester.version,
            merge_values({}, spec.loadtester.values),
            target_namespace=target if target not in (None, meta.namespace) else None,
        ))
    url = spec.repository.url
    return PlatformPlan(
        source=source,
        name=meta.name,
        namespace=meta.namespace,
        labels={**meta.labels, **c.MANAGED_BY},
        repository=c.FLAGGER_REPOSITORY,
        repository_url=url,
        repository_type="oci" if url.startswith("oci://") else "default",
        repository_interval=spec.repository.interval,
        interval=spec.interval,
        releases=tuple(releases),
    )


def install_commands(plan: PlatformPlan) -> list[str]:
    """The imperative equivalent of the plan (the reference's `helm install`), for the README and `plan`."""
    out = [f"helm repo add {plan.repository} {plan.repository_url}"]
    for release in plan.releases:
        ns = release.target_namespace or plan.namespace
        sets = "".join(f" \\\n  --set {k}={v}" for k, v in release.values.items() if not isinstance(v, (dict, list)))
        out.append(f"helm install {release.name} {plan.repository}/{release.chart} \\\n  --namespace {ns} "
                   f"--version '{release.version}'{sets}")
    return out
