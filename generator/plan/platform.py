"""The plan of a `kind: Platform` spec: pure data about the Flagger install's GitOps objects.

No cdk8s, no files. `constructs/flux.py` turns it into a Flux HelmRepository and HelmReleases (and
`constructs/core.py` the Namespace, when the platform creates it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import urlparse

import generator.names as c
from generator.spec.platform import Platform


@dataclass(frozen=True)
class MeshInstall:
    """What joining one mesh means for the install: decided here, asked everywhere else."""

    metrics_server: str  # the mesh's Prometheus, fully qualified (Flagger may run anywhere)
    namespace_labels: dict = field(hash=False)  # marks a namespace for sidecar injection
    namespace_annotations: dict = field(hash=False)
    loadtester_values: dict = field(hash=False)  # meshes the load tester wherever it runs
    authorize_prometheus: bool  # linkerd-viz's Prometheus admits only authorized clients


MESHES = {
    "istio": MeshInstall(
        metrics_server=c.MESH_PROMETHEUS["istio"],
        namespace_labels={"istio-injection": "enabled"},
        namespace_annotations={},
        # Flagger in istio-system has no sidecar: the load tester's own port (8080) bypasses its sidecar so
        # Flagger's plaintext webhook calls pass strict mTLS, while its calls to the canary go through it.
        loadtester_values={"podLabels": {"sidecar.istio.io/inject": "true"},
                           "podAnnotations": {"traffic.sidecar.istio.io/excludeInboundPorts": "8080"}},
        authorize_prometheus=False,
    ),
    "linkerd": MeshInstall(
        metrics_server=c.MESH_PROMETHEUS["linkerd"],
        namespace_labels={},
        namespace_annotations={"linkerd.io/inject": "enabled"},
        loadtester_values={"podAnnotations": {"linkerd.io/inject": "enabled"}},
        authorize_prometheus=True,
    ),
}

PROVIDER_MESH = {"istio": "istio", "linkerd": "linkerd"}  # gatewayapi:v1 serves either: spec.mesh says


@dataclass(frozen=True)
class HelmReleasePlan:
    name: str
    chart: str
    version: str
    values: dict = field(hash=False)
    target_namespace: str | None = None  # None: the release's own namespace
    storage_namespace: str | None = None  # None: the HelmRelease's namespace keeps Helm's release record
    manage_crds: bool = False  # the chart ships CRDs that must follow chart upgrades
    release_name: str | None = None  # Helm's name for the release; None: the HelmRelease's name
    watches: str | None = None  # flagger releases: the one namespace it reconciles, "" for every namespace


@dataclass(frozen=True)
class NamespacePlan:
    name: str
    labels: dict = field(hash=False)
    annotations: dict = field(hash=False)


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
    mesh: str = "istio"
    namespace_object: NamespacePlan | None = None
    engine: ClassVar[str] = "platform"

    @property
    def flagger_releases(self) -> tuple[HelmReleasePlan, ...]:
        return tuple(r for r in self.releases if r.chart == c.FLAGGER_CHART)

    @property
    def loadtester_namespaces(self) -> tuple[str, ...]:
        return tuple(r.target_namespace or self.namespace for r in self.releases if r.chart == c.LOADTESTER_CHART)


def merge_values(base: dict, extra: dict) -> dict:
    """Helm-style deep merge: `extra` wins, mappings merge key by key; keys sorted for stable output."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_values(out[key], value)
        else:
            out[key] = value
    return dict(sorted(out.items()))


def platform_mesh(platform: Platform) -> str:
    return platform.spec.mesh or PROVIDER_MESH[platform.spec.flagger.meshProvider]


def _viz_namespace(metrics_server: str) -> str:
    """linkerd-viz's namespace, read from the metrics server's host (`prometheus.<namespace>`)."""
    parts = (urlparse(metrics_server).hostname or "").split(".")
    return parts[1] if len(parts) > 1 else "linkerd-viz"


def flagger_releases(platform: Platform, mesh: MeshInstall) -> list[HelmReleasePlan]:
    """One release watching every namespace, or one per listed namespace (Flagger watches one or all).
    Every release runs as the same ServiceAccount `<metadata.name>`, created by the first, so that one
    authorization covers them."""
    spec, name = platform.spec.flagger, platform.metadata.name
    server = spec.metricsServer or mesh.metrics_server
    watches = [(name, "")] if not spec.namespaces else [(f"{name}-{ns}", ns) for ns in spec.namespaces]
    monitor = ({"enabled": True, "additionalLabels": dict(spec.podMonitor.labels)} if spec.podMonitor.enabled
               else {"enabled": False})
    out = []
    for i, (release, ns) in enumerate(watches):
        defaults = {}
        if mesh.authorize_prometheus:
            defaults["linkerdAuthPolicy"] = {"create": True, "namespace": _viz_namespace(server)}
        owned = {"meshProvider": spec.meshProvider, "metricsServer": server, "fullnameOverride": release,
                 "podMonitor": monitor, "serviceAccount": {"create": i == 0, "name": name}}
        if ns:
            owned["namespace"] = ns
        if i > 0 and mesh.authorize_prometheus:
            owned["linkerdAuthPolicy"] = {"create": False}  # the chart's policy has one fixed name
        values = merge_values(merge_values(defaults, spec.values), owned)
        out.append(HelmReleasePlan(release, c.FLAGGER_CHART, spec.version, values, manage_crds=True, watches=ns))
    return out


def loadtester_releases(platform: Platform, mesh: MeshInstall) -> list[HelmReleasePlan]:
    """One load tester per application namespace, meshed; stored where it runs so that every release
    can keep the name `flagger-loadtester` (its Service, the rollouts' default webhook host)."""
    spec, home = platform.spec.loadtester, platform.metadata.namespace
    if not spec.enabled:
        return []
    values = merge_values(mesh.loadtester_values, spec.values)
    if spec.namespace is not None:  # the single-namespace form keeps its one release
        target = spec.namespace if spec.namespace != home else None
        return [HelmReleasePlan(c.LOADTESTER_RELEASE, c.LOADTESTER_CHART, spec.version, values, target_namespace=target)]
    namespaces = spec.namespaces or platform.spec.flagger.namespaces
    if not namespaces:
        return [HelmReleasePlan(c.LOADTESTER_RELEASE, c.LOADTESTER_CHART, spec.version, values)]
    return [HelmReleasePlan(f"{c.LOADTESTER_RELEASE}-{ns}", c.LOADTESTER_CHART, spec.version, values,
                            target_namespace=ns, storage_namespace=ns, release_name=c.LOADTESTER_RELEASE)
            for ns in namespaces]


def build_platform_plan(platform: Platform, source: str) -> PlatformPlan:
    spec, meta = platform.spec, platform.metadata
    mesh_name = platform_mesh(platform)
    mesh = MESHES[mesh_name]
    url = spec.repository.url
    namespace = (NamespacePlan(meta.namespace, dict(mesh.namespace_labels), dict(mesh.namespace_annotations))
                 if spec.createNamespace else None)
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
        releases=tuple(flagger_releases(platform, mesh) + loadtester_releases(platform, mesh)),
        mesh=mesh_name,
        namespace_object=namespace,
    )


def helm_sets(values: dict, prefix: str = "") -> list[str]:
    """`--set` arguments for scalar values, nested keys dotted (dots inside a key escaped, as Helm reads them)."""
    out = []
    for key, value in values.items():
        path = prefix + key.replace(".", "\\.")
        if isinstance(value, dict):
            out.extend(helm_sets(value, path + "."))
        elif not isinstance(value, list):
            shown = str(value).lower() if isinstance(value, bool) else value
            out.append(f"{path}={shown}")
    return out


def install_commands(plan: PlatformPlan) -> list[str]:
    """The imperative equivalent of the plan (the reference's `helm install`), for the README and `plan`."""
    out = []
    if plan.namespace_object is not None:
        ns = plan.namespace_object
        out.append(f"kubectl create namespace {ns.name}")
        out += [f"kubectl label namespace {ns.name} {k}={v}" for k, v in ns.labels.items()]
        out += [f"kubectl annotate namespace {ns.name} {k}={v}" for k, v in ns.annotations.items()]
    out.append(f"helm repo add {plan.repository} {plan.repository_url}")
    for release in plan.releases:
        ns = release.target_namespace or plan.namespace
        name = release.release_name or release.name
        sets = "".join(f" \\\n  --set {s}" for s in helm_sets(release.values))
        out.append(f"helm install {name} {plan.repository}/{release.chart} \\\n  --namespace {ns} "
                   f"--version '{release.version}'{sets}")
    return out
