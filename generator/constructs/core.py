"""Core Kubernetes kinds: Deployment and Service."""

from __future__ import annotations

import generator.names as c
from generator.plan.model import Plan, WorkloadPlan
from generator.constructs.runtime import emit


class Deployment:
    """One version's Deployment: pods labelled app + version, the merged pod template."""

    def __init__(self, chart, plan: Plan, workload: WorkloadPlan):
        # A Flagger target has no version: its pods are selected by `app` alone, the label Flagger
        # rewrites to `<name>-primary` on the primary Deployment it creates.
        selector = c.pod_labels(plan.name, workload.version) if workload.version else {c.APP_LABEL: plan.name}
        template_labels = dict(sorted({**workload.pod_labels, **plan.labels, **selector}.items()))
        spec = {"replicas": workload.replicas} if workload.replicas is not None else {}
        # workload.deployment: DeploymentSpec fields other than replicas, selector and template (checked)
        spec.update(sorted(workload.deployment.items()))
        spec["selector"] = {"matchLabels": selector}
        metadata: dict = {"labels": template_labels}
        if workload.pod_annotations:
            metadata["annotations"] = dict(sorted(workload.pod_annotations.items()))
        spec["template"] = {"metadata": metadata, "spec": workload.pod}
        self.obj = emit(chart, "apps/v1", "Deployment", workload.name, {**plan.labels, **selector}, {"spec": spec})


def autoscaler_metric(scaler) -> dict:
    """The HPA's one metric. Scaling: the application container's CPU utilisation (its request is needed).
    A pinned count (min = max): the pods' average CPU as an absolute value, which the HPA controller
    computes without any request (GetRawResourceReplicas), so pods without CPU requests (a Linkerd
    proxy has none) raise no FailedGetResourceMetric; the value never changes the count."""
    if scaler.cpu is None:
        return {"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "AverageValue", "averageValue": PINNED_CPU_VALUE}}}
    return {"type": "ContainerResource", "containerResource": {
        "name": "cpu", "container": scaler.container,
        "target": {"type": "Utilization", "averageUtilization": scaler.cpu}}}


PINNED_CPU_VALUE = "1"  # one core per pod: any value holds, min = max decides


class HorizontalPodAutoscaler:
    """Holds a Deployment between `min` and `max` pods (min = max pins the count). A Flagger target gets
    one instead of `spec.replicas` (see flagger_plan.autoscaler_plan); the metric is always written: the
    API server defaults an HPA without metrics to the whole pod's CPU utilisation, which warns on every
    sync when any container lacks a CPU request."""

    def __init__(self, chart, plan, name: str, scaler):
        self.obj = emit(chart, "autoscaling/v2", "HorizontalPodAutoscaler", name, plan.labels, {
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                "minReplicas": scaler.min,
                "maxReplicas": scaler.max,
                "metrics": [autoscaler_metric(scaler)],
            }
        })


class Service:
    """A Service on the rollout's port: the app-wide one (every version, or the only one), or with
    `version` the version's own Service."""

    def __init__(self, chart, plan: Plan, version: str | None = None):
        name = plan.name if version is None else c.version_service_name(plan.name, version)
        selected = version or plan.only_version
        selector = {c.APP_LABEL: plan.name} if selected is None else c.pod_labels(plan.name, selected)
        self.obj = emit(chart, "v1", "Service", name, plan.labels, {"spec": {"selector": selector,
                                                                             "ports": service_ports(plan)}})


def service_ports(plan: Plan) -> list[dict]:
    """Every port of a Service of the rollout: `http` on `port`, then `service.additionalPorts`."""
    ports = [{"name": "http", "port": plan.port, "targetPort": plan.target_port, "protocol": "TCP"}]
    for extra in plan.ports:
        port = {"name": extra.name, "port": extra.port, "targetPort": extra.target_port, "protocol": extra.protocol}
        if extra.app_protocol is not None:
            port["appProtocol"] = extra.app_protocol
        ports.append(port)
    return ports


class Namespace:
    """A namespace a platform creates, marked for its mesh's sidecar injection. Cluster-scoped: the
    chart's namespace is not written into it."""

    def __init__(self, chart, name: str, labels: dict, annotations: dict):
        self.obj = emit(chart, "v1", "Namespace", name, labels, {}, annotations=annotations or None, namespaced=False)
