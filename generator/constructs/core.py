"""Core Kubernetes kinds: Deployment and Service."""

from __future__ import annotations

from .. import conventions as c
from ..plan import Plan, WorkloadPlan
from .runtime import emit


class Deployment:
    """One version's Deployment: pods labelled app + version, the merged pod template."""

    def __init__(self, chart, plan: Plan, workload: WorkloadPlan):
        # A Flagger target has no version: its pods are selected by `app` alone, the label Flagger
        # rewrites to `<name>-primary` on the primary Deployment it creates.
        selector = c.pod_labels(plan.name, workload.version) if workload.version else {c.APP_LABEL: plan.name}
        template_labels = dict(sorted({**plan.labels, **selector}.items()))
        spec = {"replicas": workload.replicas} if workload.replicas is not None else {}
        spec["selector"] = {"matchLabels": selector}
        spec["template"] = {"metadata": {"labels": template_labels}, "spec": workload.pod}
        self.obj = emit(chart, "apps/v1", "Deployment", workload.name, {**plan.labels, **selector}, {"spec": spec})


class HorizontalPodAutoscaler:
    """Holds a Deployment between `min` and `max` pods (min = max pins the count) on the average CPU use
    of one container. A Flagger target gets one instead of `spec.replicas` (see
    flagger_plan.autoscaler_plan); the metric is always written: the API server defaults an HPA without
    metrics to the whole pod's CPU, which warns on every sync when any container lacks a CPU request."""

    def __init__(self, chart, plan, name: str, scaler):
        self.obj = emit(chart, "autoscaling/v2", "HorizontalPodAutoscaler", name, plan.labels, {
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                "minReplicas": scaler.min,
                "maxReplicas": scaler.max,
                "metrics": [{"type": "ContainerResource", "containerResource": {
                    "name": "cpu", "container": scaler.container,
                    "target": {"type": "Utilization", "averageUtilization": scaler.cpu}}}],
            }
        })


class Service:
    """A Service on the rollout's port; `version` narrows the selector to one version's pods."""

    def __init__(self, chart, plan: Plan, version: str | None = None):
        selector = {c.APP_LABEL: plan.name} if version is None else c.pod_labels(plan.name, version)
        name = plan.name if version is None else c.version_service_name(plan.name, version)
        self.obj = emit(chart, "v1", "Service", name, plan.labels, {
            "spec": {
                "selector": selector,
                "ports": [{"name": "http", "port": plan.port, "targetPort": plan.target_port, "protocol": "TCP"}],
            }
        })
