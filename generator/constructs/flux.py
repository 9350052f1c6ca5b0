"""Flux: the HelmRepository the charts come from and one HelmRelease per chart (the GitOps form of
`helm repo add` + `helm install`)."""

from __future__ import annotations

from generator.plan.platform import HelmReleasePlan, PlatformPlan
from generator.constructs.runtime import emit

SOURCE_API = "source.toolkit.fluxcd.io/v1"
HELM_API = "helm.toolkit.fluxcd.io/v2"


class HelmRepository:
    def __init__(self, chart, plan: PlatformPlan):
        spec = {"interval": plan.repository_interval, "url": plan.repository_url}
        if plan.repository_type != "default":
            spec["type"] = plan.repository_type
        self.obj = emit(chart, SOURCE_API, "HelmRepository", plan.repository, plan.labels, {"spec": spec})


class HelmRelease:
    def __init__(self, chart, plan: PlatformPlan, release: HelmReleasePlan):
        spec: dict = {
            "interval": plan.interval,
            "releaseName": release.release_name or release.name,
            "chart": {"spec": {
                "chart": release.chart,
                "version": release.version,
                "sourceRef": {"kind": "HelmRepository", "name": plan.repository},
                "interval": plan.repository_interval,
            }},
        }
        if release.target_namespace:
            spec["targetNamespace"] = release.target_namespace
        if release.storage_namespace:
            spec["storageNamespace"] = release.storage_namespace
        if release.manage_crds:
            # Helm installs a chart's crds/ once and never upgrades them; Flagger's CRDs must follow the chart.
            spec["install"] = {"crds": "CreateReplace"}
            spec["upgrade"] = {"crds": "CreateReplace"}
        if release.values:
            spec["values"] = release.values
        self.obj = emit(chart, HELM_API, "HelmRelease", release.name, plan.labels, {"spec": spec})
