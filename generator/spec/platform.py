"""The platform spec language, rollgen/v1alpha1 `kind: Platform`: the cluster-wide install that rollouts
with `delivery: flagger` rely on — Flagger and its load tester — as GitOps objects (Flux HelmRepository
and HelmReleases), so the whole setup lives in the repository next to the rollouts it serves.

Like the Rollout model, field descriptions are the user documentation and become the JSON Schema
(`schemas/platform.v1alpha1.json`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from pydantic import Field

import generator.names as c
from generator.spec.v1alpha1 import NAME_PATTERN, Metadata, Model

# Flux durations (metav1.Duration as the Flux CRDs accept them: 30s, 10m, 1h, 1h30m, ...).
FLUX_DURATION_PATTERN = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"


class PlatformMetadata(Metadata):
    # `labels` as in a Rollout; name and namespace mean the install here.
    name: str = Field(
        description="Name of this platform install, e.g. `flagger`: the output directory "
        "`<namespace>/<name>/` of its objects.",
        pattern=NAME_PATTERN, min_length=1, max_length=c.MAX_LABEL,
    )
    namespace: str = Field(
        description="Namespace Flagger runs in and where its HelmRepository and HelmReleases live, "
        "e.g. `istio-system` (Istio) or `flagger-system` (Linkerd: Flagger must be meshed to reach "
        "linkerd-viz's Prometheus, and the `linkerd` namespace is never meshed). It must exist, or set "
        "`spec.createNamespace`.",
        pattern=NAME_PATTERN, min_length=1, max_length=c.MAX_LABEL,
    )


class ChartRepository(Model):
    url: str = Field(
        "https://flagger.app",
        description="Helm repository of the flagger and loadtester charts (`helm repo add flagger "
        "https://flagger.app`), or `oci://ghcr.io/fluxcd/charts`. Default: `https://flagger.app`.",
        pattern=r"^(https?|oci)://[^\s]+$",
    )
    interval: str = Field("1h", description="How often Flux refreshes the repository index. Default: `1h`.",
                          pattern=FLUX_DURATION_PATTERN)


NamespaceName = Annotated[str, Field(pattern=NAME_PATTERN, min_length=1, max_length=c.MAX_LABEL)]


class PodMonitorInstall(Model):
    enabled: bool = Field(True, description="Install the chart's PodMonitor (monitoring.coreos.com/v1; the "
                          "cluster needs the Prometheus Operator's CRDs). Default: true.")
    labels: dict[str, str] = Field(
        default_factory=lambda: {"release": "kube-prometheus-stack"},
        description="Labels on the PodMonitor, which your Prometheus' `podMonitorSelector` must select. "
        "Default: `{release: kube-prometheus-stack}`, what kube-prometheus-stack installed under that "
        "release name selects; use your release's name otherwise.",
        json_schema_extra={"additionalProperties": {"type": "string"}},
    )


class FlaggerInstall(Model):
    meshProvider: Literal["istio", "linkerd", "gatewayapi:v1"] = Field(
        description="Flagger's default traffic provider (`--set meshProvider=`): `istio`, `linkerd` (SMI "
        "TrafficSplit; needs the linkerd-smi extension) or `gatewayapi:v1` (HTTPRoute, what Flagger's "
        "Linkerd guide uses now). Every Canary rollgen generates also sets its provider explicitly."
    )
    metricsServer: Optional[str] = Field(
        None,
        description="Prometheus Flagger queries for its builtin metrics (`--set metricsServer=`), resolved "
        "from Flagger's namespace. Default: the mesh's Prometheus, `http://prometheus.istio-system:9090` "
        "(Istio) or `http://prometheus.linkerd-viz:9090` (Linkerd-viz, as Flagger's Linkerd guide).",
        pattern=r"^https?://[^\s]+$",
    )
    namespaces: list[NamespaceName] = Field(
        default_factory=list,
        description="Namespaces whose Canaries this Flagger reconciles. Flagger watches one namespace or "
        "all (the chart's `namespace` value), so each listed namespace gets its own Flagger release "
        "`<metadata.name>-<namespace>` restricted to it. Default: none listed, one release "
        "`<metadata.name>` that reconciles the Canaries of every namespace. List them when two Platforms "
        "share a cluster (e.g. one per mesh): two Flaggers must never reconcile the same Canary.",
    )
    podMonitor: PodMonitorInstall = Field(
        default_factory=lambda: PodMonitorInstall(),
        description="The chart's PodMonitor, through which the Prometheus Operator scrapes Flagger's own "
        "metrics (`flagger_canary_status`, which the rollouts' `CanaryRolledBack` alert reads). On by default.",
    )
    version: str = Field(
        "1.x",
        description="Chart version or semver range of the flagger chart. Default: `1.x` (newest 1.x, as in "
        "Flagger's Flux guide); pin an exact version such as `1.44.0` for reproducible installs.",
        min_length=1,
    )
    values: dict[str, Any] = Field(
        default_factory=dict,
        description="Further Helm values of the flagger chart (e.g. `slack`, `linkerdAuthPolicy`). "
        "`meshProvider`, `metricsServer`, `namespace`, `podMonitor` and `fullnameOverride` are set from "
        "the fields above.",
    )


class LoadtesterInstall(Model):
    enabled: bool = Field(True, description="Install flagger-loadtester, the webhook runner rollouts' "
                          "`webhooks` call. Default: true.")
    namespace: Optional[str] = Field(
        None,
        description="One namespace the load tester runs in (a single release `flagger-loadtester`). "
        "Prefer `namespaces`.",
        pattern=NAME_PATTERN, min_length=1, max_length=c.MAX_LABEL,
    )
    namespaces: list[NamespaceName] = Field(
        default_factory=list,
        description="Namespaces of the applications: one load tester each (HelmRelease "
        "`flagger-loadtester-<namespace>`, Service `flagger-loadtester`), meshed like the applications "
        "so that its calls to them pass strict mTLS, and reached by the rollouts' default webhook URL "
        "`http://flagger-loadtester.<namespace>/`. Default: `spec.flagger.namespaces`, else the "
        "platform's namespace.",
    )
    version: str = Field("0.x", description="Chart version or semver range of the loadtester chart. "
                         "Default: `0.x`; pin an exact version for reproducible installs.", min_length=1)
    values: dict[str, Any] = Field(default_factory=dict,
                                   description="Further Helm values of the loadtester chart (e.g. `cmd.timeout`).")


class PlatformSpec(Model):
    mesh: Optional[Literal["istio", "linkerd"]] = Field(
        None,
        description="The service mesh the applications run on: decides how Flagger and the load testers "
        "join it and the default metrics server. Default: `meshProvider`'s mesh; required with "
        "`meshProvider: gatewayapi:v1`.",
    )
    createNamespace: bool = Field(
        False,
        description="Write the Namespace `metadata.namespace`, marked for the mesh's sidecar injection "
        "(`linkerd.io/inject: enabled`, or the label `istio-injection: enabled`). Default: false (the "
        "namespace exists).",
    )
    repository: ChartRepository = Field(default_factory=ChartRepository,
                                        description="Where Flux fetches the charts from.")
    interval: str = Field("1h", description="How often Flux reconciles the Helm releases. Default: `1h`.",
                          pattern=FLUX_DURATION_PATTERN)
    flagger: FlaggerInstall = Field(description="The Flagger controller (`helm install flagger flagger/flagger`).")
    loadtester: LoadtesterInstall = Field(default_factory=LoadtesterInstall,
                                          description="Flagger's load tester (`flagger/loadtester`).")


class Platform(Model):
    apiVersion: Literal[c.API_VERSION] = Field(description="Spec language version: `rollgen/v1alpha1`.")
    kind: Literal["Platform"] = Field(description="`Platform`: the cluster-wide Flagger install.")
    metadata: PlatformMetadata
    spec: PlatformSpec
