"""Argo Rollouts: the Rollout, its AnalysisTemplate, the Services it steers and the Istio DestinationRule
with the `stable` / `canary` subsets. The VirtualService and the HTTPRoute are the Istio and Gateway API
constructs', built from the plan's routing rules."""

from __future__ import annotations

import generator.names as c
from generator.constructs.core import autoscaler_metric, service_ports
from generator.constructs.runtime import emit
from generator.plan.argo import ROLLOUT_API, VERSION_ARG, ArgoPlan

ISTIO_API = "networking.istio.io/v1"


def _traffic_routing(plan: ArgoPlan) -> dict:
    out: dict = {}
    if plan.managed_routes:
        out["managedRoutes"] = [{"name": name} for name in plan.managed_routes]
    if plan.route_kind == "VirtualService":
        # Several VirtualServices (the mesh's and the gateways'): the controller moves the `split` of each.
        services = [{"name": name, "routes": [c.ARGO_WEIGHTED_ROUTE]} for name in plan.routing_objects]
        out["istio"] = {
            **({"virtualService": services[0]} if len(services) == 1 else {"virtualServices": services}),
            "destinationRule": {"name": c.routing_name(plan.name), "canarySubsetName": c.ARGO_CANARY,
                                "stableSubsetName": c.ARGO_STABLE},
        }
    else:
        # disableInProgressLabel: the label only serves a conditional Argo CD ignore that compares
        # differently on the live and the desired object; rollgen's ignore rules are unconditional.
        # Several HTTPRoutes: `httpRoutes` entries get the managed header routes only with `useHeaderRoutes`
        # (plugin.go:128-131), which `httpRoute` implies; the testers reach the canary on every route.
        routes = ({"httpRoute": plan.routing_objects[0]} if len(plan.routing_objects) == 1 else
                  {"httpRoutes": [{"name": name, "useHeaderRoutes": True} for name in plan.routing_objects]})
        out["plugins"] = {c.ARGO_GATEWAY_PLUGIN: {**routes, "namespace": plan.namespace,
                                                  "disableInProgressLabel": True}}
    return out


def _analysis_ref(plan: ArgoPlan) -> dict:
    a = plan.analysis
    ref = {"templates": [{"templateName": a.template}], "args": [{"name": VERSION_ARG, "value": a.version}]}
    if a.starting_step:
        ref["startingStep"] = a.starting_step
    return ref


def _strategy(plan: ArgoPlan) -> dict:
    if plan.strategy == "blueGreen":
        services = {s.role: s.name for s in plan.services}
        bg = {"activeService": services["active"], "previewService": services["preview"],
              "autoPromotionEnabled": False}
        if plan.analysis is not None:
            bg["prePromotionAnalysis"] = _analysis_ref(plan)
        return {"blueGreen": bg}
    canary: dict = {}
    services = {s.role: s.name for s in plan.services}
    if "canary" in services:
        canary["canaryService"] = services["canary"]
        canary["stableService"] = services["stable"]
    canary["trafficRouting"] = _traffic_routing(plan)
    if plan.analysis is not None:
        canary["analysis"] = _analysis_ref(plan)
    canary["steps"] = [dict(step) for step in plan.steps]
    return {"canary": canary}


class Rollout:
    """The Rollout: the version under test's pod template (labels app + version; the selector is `app`
    alone, as the template's version changes from one release to the next) and the strategy."""

    def __init__(self, chart, plan: ArgoPlan):
        w = plan.workload
        selector = {c.APP_LABEL: plan.name}
        template_labels = dict(sorted({**w.pod_labels, **plan.labels, **c.pod_labels(plan.name, w.version)}.items()))
        # no replicas with an autoscaler: it writes them through the Rollout's scale subresource
        spec: dict = {"replicas": w.replicas} if w.replicas is not None else {}
        spec.update(sorted(w.deployment.items()))  # workload.deployment: the RolloutSpec fields (checked)
        metadata: dict = {"labels": template_labels}
        if w.pod_annotations:
            metadata["annotations"] = dict(sorted(w.pod_annotations.items()))
        spec.update({"selector": {"matchLabels": selector}, "template": {"metadata": metadata, "spec": w.pod},
                     "strategy": _strategy(plan)})
        self.obj = emit(chart, ROLLOUT_API, "Rollout", plan.name, {**plan.labels, **selector}, {"spec": spec})


class AnalysisTemplate:
    """The analysis checks as Prometheus metrics; `version` is supplied by the Rollout."""

    def __init__(self, chart, plan: ArgoPlan):
        a = plan.analysis
        metrics = []
        for m in a.metrics:
            metric = {"name": m.name, "interval": a.interval}
            if a.count is not None:
                metric["count"] = a.count
            metric.update({"failureLimit": a.failure_limit, "inconclusiveLimit": a.inconclusive_limit,
                           "successCondition": m.success, "failureCondition": m.failure,
                           "provider": {"prometheus": {"address": a.address, "query": m.query}}})
            metrics.append(metric)
        self.obj = emit(chart, ROLLOUT_API, "AnalysisTemplate", a.template, plan.labels, {
            "spec": {"args": [{"name": VERSION_ARG}], "metrics": metrics}})


class Service:
    """A Service the controller points at a ReplicaSet (it adds `rollouts-pod-template-hash` to the
    selector): the selector is `app` alone, never `version`, which the next release's template changes."""

    def __init__(self, chart, plan: ArgoPlan, name: str):
        self.obj = emit(chart, "v1", "Service", name, plan.labels, {
            "spec": {"selector": {c.APP_LABEL: plan.name}, "ports": service_ports(plan.routing)}})


class DestinationRule:
    """The `stable` and `canary` subsets of subset-level splitting: both select the service's pods; the
    controller adds each ReplicaSet's hash to their labels."""

    def __init__(self, chart, plan: ArgoPlan):
        self.obj = emit(chart, ISTIO_API, "DestinationRule", c.routing_name(plan.name), plan.labels, {
            "spec": {
                "host": plan.name,
                "subsets": [{"name": s, "labels": {c.APP_LABEL: plan.name}} for s in (c.ARGO_STABLE, c.ARGO_CANARY)],
            }
        })


class HorizontalPodAutoscaler:
    """`workload.autoscaling` on the Rollout (its scale subresource): the autoscaler sizes the Rollout, and
    the controller splits that count between the stable and the canary ReplicaSet by the weight."""

    def __init__(self, chart, plan: ArgoPlan):
        self.obj = emit(chart, "autoscaling/v2", "HorizontalPodAutoscaler", plan.name, plan.labels, {
            "spec": {
                "scaleTargetRef": {"apiVersion": ROLLOUT_API, "kind": "Rollout", "name": plan.name},
                "minReplicas": plan.autoscaler.min,
                "maxReplicas": plan.autoscaler.max,
                "metrics": [autoscaler_metric(plan.autoscaler)],
            }
        })
