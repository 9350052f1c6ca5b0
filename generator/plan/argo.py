"""The plan of a rollout the Argo Rollouts controller delivers (`delivery: argo-rollouts`): pure data.

rollgen writes the Rollout `<name>` (the pod template of the version under test, the strategy, the
traffic routing), its AnalysisTemplate, the Services and routing objects the controller steers, and
the alert rules. The controller then owns the weights, the header routes and the Services' pod hash.
Facts about Argo Rollouts v1.9.1 and its Gateway API plugin v0.15.0 this module encodes, from their Go
source (validation.go, trafficrouting/istio, the plugin's httproute.go):

- Istio uses subset-level splitting: a DestinationRule with subsets `stable` and `canary` (the controller
  adds `rollouts-pod-template-hash` to their labels) and a VirtualService route named `split` holding both,
  stable 100 / canary 0 in Git. No canary/stable Services are needed there.
- Gateway API and Linkerd use the Gateway API plugin over a gateway.networking.k8s.io HTTPRoute attached
  to the Service `<name>` (GAMMA): the rule `split` sends to `<name>-stable` 100 / `<name>-canary` 0;
  the plugin rewrites the weights of every rule naming those Services, so `routes` never name them.
- `testers` is a managed header route (`setHeaderRoute`) the controller inserts; it is not in Git. At
  weight 0 the canary has no pods and managed routes are dropped, so a `setCanaryScale` step comes first.
- `shadow` (Istio only: the plugin ignores `setMirrorRoute`) is a managed mirror route set before the first
  weight and removed (a `setMirrorRoute` without match) just before it, as manual delivery mirrors at
  position 0 only.
- blueGreen has no traffic routing: the controller switches the Services' selectors (`<name>-active`,
  `<name>-preview`); the routing object sends `test` matches to the preview Service, the rest to the
  active one. `<name>` itself (the host clients call) always selects every pod of the service.
- `ingress`: the routing objects are manual delivery's (an edge VirtualService / HTTPRoute `<name>-edge` beside
  the mesh's when both are needed); the Rollout lists every one (`istio.virtualServices`, the plugin's
  `httpRoutes` with `useHeaderRoutes`), so the controller moves each weight and sets each header route. It
  rewrites only the weights of `split` (istio.go processRoutes patches `weight` in place; the plugin updates
  backendRef weights), so the route's timeout and retries stay; the header routes it inserts carry neither.
- `workload.autoscaling`: a HorizontalPodAutoscaler on the Rollout's scale subresource; the Rollout has no
  `replicas` (the autoscaler writes them) and the controller splits the count by weight.
- Analysis conditions guard against an empty or NaN result (`len(result) == 1 && !isNaN(...)`): no data
  satisfies neither condition and is Inconclusive (the Rollout pauses), never Successful.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import generator.names as c
from generator.mesh import MESHES
from generator.plan.flagger import retries_dict
from generator.plan.model import AutoscalerPlan, Destination, HeaderCondition, Plan, Rule, WorkloadPlan
from generator.plan.patterns import header_regex, route_rules
from generator.plan.pods import container_ports, plan_ports, pod_metadata
from generator.plan.promql import number
from generator.plan.queries import (AlertsPlan, _decimal, _percentile, error_threshold, latency_threshold,
                                    plan_alerts, source_for, version_queries)
from generator.plan.routed import object_labels, plan_edge, route_annotations
from generator.spec.facts import parse_duration
from generator.spec.pod import merge_pod, overlay_pod
from generator.spec.v1alpha1 import Rollout

ROLLOUT_API = "argoproj.io/v1alpha1"
VERSION_ARG = "version"  # the AnalysisTemplate's one argument: the version label of the pods under test


@dataclass(frozen=True)
class MetricPlan:
    """One AnalysisTemplate metric: a Prometheus query with `{{args.version}}`, and its conditions."""
    name: str
    query: str
    success: str
    failure: str
    bound: str  # the threshold, for people: `<= 0.01`, `>= 1`


@dataclass(frozen=True)
class AnalysisPlan:
    template: str
    use: str  # background | prePromotion
    interval: str  # Go duration
    count: int | None  # None: measure until the rollout ends (background)
    failure_limit: int
    inconclusive_limit: int
    version: str  # the value of the `version` argument
    starting_step: int | None
    address: str  # the Prometheus the controller queries
    metrics: tuple[MetricPlan, ...]


@dataclass(frozen=True)
class ServicePlan:
    name: str
    role: str  # apex | stable | canary | active | preview


@dataclass(frozen=True)
class ArgoPlan:
    source: str
    name: str
    namespace: str
    labels: dict = field(hash=False)
    mesh: str
    port: int
    target_port: int
    strategy: str  # canary | blueGreen
    workload: WorkloadPlan  # the Rollout's pod template: the version under test
    stable_version: str | None  # the version the controller returns to (canary stable, blue/green active)
    services: tuple[ServicePlan, ...]
    route_kind: str  # VirtualService | HTTPRoute
    routing: Plan = field(hash=False)  # the routing objects, built by the Istio / Gateway API constructs
    # the names of the routing objects whose `split` the controller moves, in the order they are listed
    routing_objects: tuple[str, ...]
    steps: tuple = field(hash=False)  # the Rollout's canary steps, as Argo Rollouts reads them
    managed_routes: tuple[str, ...]
    analysis: AnalysisPlan | None
    alerts: AlertsPlan | None = field(default=None, hash=False, compare=False)
    autoscaler: AutoscalerPlan | None = None  # a HorizontalPodAutoscaler on the Rollout (workload.autoscaling)
    engine: ClassVar[str] = "argo-rollouts"


def go_duration(text: str) -> str:
    """A Prometheus duration (`5m`, `1d`, `500ms`) as a Go duration Argo Rollouts parses (`300s`)."""
    ms = parse_duration(text)
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


def template_version(rollout: Rollout) -> str:
    """The version the Rollout's pod template runs: the canary, the blue/green preview (else active),
    the default, or the only version."""
    spec = rollout.spec
    if spec.canary is not None:
        return spec.canary.canary
    if spec.blueGreen is not None:
        return spec.blueGreen.preview or spec.blueGreen.active
    return spec.default or spec.versions[0].name


def stable_version(rollout: Rollout) -> str | None:
    spec = rollout.spec
    if spec.canary is not None:
        return spec.canary.stable
    if spec.blueGreen is not None and spec.blueGreen.preview:
        return spec.blueGreen.active
    return None


# workload.deployment fields the Rollout has too (RolloutSpec, argoproj.io_rollouts.yaml), written as they are
ROLLOUT_DEPLOYMENT_FIELDS = ("minReadySeconds", "progressDeadlineSeconds", "revisionHistoryLimit")


def plan_workload(rollout: Rollout) -> WorkloadPlan:
    """The Rollout's pod template: the version under test's image, its `pod` merged over `workload.pod`,
    every port of the rollout, `workload.podMetadata`; with `workload.autoscaling` no replica count (the
    HorizontalPodAutoscaler writes `spec.replicas` through the Rollout's scale subresource)."""
    spec, name = rollout.spec, rollout.metadata.name
    version = next(v for v in spec.versions if v.name == template_version(rollout))
    image = version.image or f"{spec.workload.image}:{version.name}"
    container = {"name": spec.workload.container or name, "image": image, "ports": container_ports(rollout)}
    pod, _ = merge_pod(overlay_pod(spec.workload.pod, version.pod), container)
    replicas = version.replicas if version.replicas is not None else spec.workload.replicas
    if spec.workload.autoscaling is not None:
        replicas = None
    deployment = {k: v for k, v in (spec.workload.deployment or {}).items() if k in ROLLOUT_DEPLOYMENT_FIELDS}
    labels, annotations = pod_metadata(rollout)
    return WorkloadPlan(version.name, name, image, replicas, pod, deployment, labels, annotations)


def plan_autoscaler(rollout: Rollout) -> AutoscalerPlan | None:
    scaling = rollout.spec.workload.autoscaling
    if scaling is None:
        return None
    return AutoscalerPlan(scaling.min, scaling.max, scaling.cpu, rollout.spec.workload.container or rollout.metadata.name)


def canary_scale(rollout: Rollout) -> int:
    """The canary's pods while only managed routes reach it: its replicas, or the autoscaler's minimum."""
    scaling = rollout.spec.workload.autoscaling
    if scaling is not None:
        return scaling.min
    return plan_workload(rollout).replicas or 1


def header_route(cond: HeaderCondition, route_kind: str) -> dict:
    """A `setHeaderRoute` match. The plugin turns a prefix into the unescaped regex `<prefix>.*`
    (httproute.go:245-248), so on an HTTPRoute a prefix is written as an escaped, anchored regex."""
    if route_kind == "HTTPRoute" and cond.kind == "prefix":
        value = {"regex": header_regex(cond)}
    else:
        value = {cond.kind: cond.value}
    return {"headerName": cond.header, "headerValue": value}


def pause(rollout: Rollout) -> dict:
    """A step's hold: `canary.stepDuration`, or an indefinite pause (the manual gate: promote resumes)."""
    duration = rollout.spec.canary.stepDuration
    return {"pause": {"duration": go_duration(duration)} if duration else {}}


def canary_steps(rollout: Rollout, route_kind: str) -> tuple[tuple, int]:
    """The canary's steps and the index of the first setWeight (where the analysis starts)."""
    canary, steps = rollout.spec.canary, []
    if canary is None:
        return (), 0
    if canary.testers is not None or canary.shadow is not None:
        # The canary has no pod at weight 0 and managed routes need one (trafficrouting.go:222-233).
        steps.append({"setCanaryScale": {"replicas": canary_scale(rollout)}})
    if canary.testers is not None:
        steps.append({"setHeaderRoute": {"name": c.ARGO_TESTERS_ROUTE,
                                         "match": [header_route(HeaderCondition.of(canary.testers), route_kind)]}})
    if canary.shadow is not None:
        # Copies while the canary serves nobody, as with manual delivery: a managed route with the weighted
        # route's destinations and a mirror to the canary subset (istio.go createMirrorRoute); a match is
        # required (none removes the route), so every path.
        steps.append({"setMirrorRoute": {"name": c.ARGO_SHADOW_ROUTE, "percentage": int(canary.shadow.percent),
                                         "match": [{"path": {"prefix": "/"}}]}})
    if steps:
        steps.append(pause(rollout))
    if canary.shadow is not None:
        steps.append({"setMirrorRoute": {"name": c.ARGO_SHADOW_ROUTE}})  # no match: the route is removed
    if steps and rollout.spec.workload.autoscaling is not None and canary.steps:
        # A fixed canary scale holds for the rest of the rollout (the autoscaler would then size only the
        # stable ReplicaSet): from the first weight on, the canary's share of the autoscaled replicas.
        steps.append({"setCanaryScale": {"matchTrafficWeight": True}})
    first = len(steps)
    for weight in canary.steps:
        steps += [{"setWeight": weight}, pause(rollout)]
    return tuple(steps), first


def _condition(op: str, threshold: str) -> str:
    guard = "len(result) == 1 && !isNaN(result[0]) && !isInf(result[0])"
    return f"{guard} && result[0] {op} {threshold}"


def analysis_metrics(rollout: Rollout, with_request_rate: bool) -> tuple[MetricPlan, ...]:
    """The alert rules' checks as metrics: the same scoped queries and thresholds, the version an arg."""
    analysis = rollout.spec.analysis
    src = source_for(rollout)
    q = version_queries(rollout, "{{args.%s}}" % VERSION_ARG, "canary")
    out = []

    def metric(name: str, query: str, lower_is_better: bool, limit: str) -> MetricPlan:
        ok, bad = ("<=", ">") if lower_is_better else (">=", "<")
        return MetricPlan(name, query, _condition(ok, limit), _condition(bad, limit), f"{ok} {limit}")

    if analysis.successRate is not None:
        out.append(metric("error-ratio", q.error_ratio, True, number(error_threshold(analysis.successRate.min))))
    if analysis.latency is not None:
        name = f"latency-p{number(_decimal(_percentile(rollout)))}".replace(".", "-")
        out.append(metric(name, q.latency, True, number(latency_threshold(analysis.latency.max, src.unit))))
    if analysis.requestRate is not None and with_request_rate:
        out.append(metric("request-rate", q.request_rate, False, number(_decimal(analysis.requestRate.min))))
    return tuple(out)


def plan_analysis(rollout: Rollout, starting_step: int) -> AnalysisPlan | None:
    spec = rollout.spec
    analysis = spec.analysis
    canary = spec.canary is not None
    if analysis is None or stable_version(rollout) is None:
        return None  # nothing under test
    metrics = analysis_metrics(rollout, with_request_rate=canary)
    if not metrics:
        return None
    interval_ms = parse_duration(analysis.interval)
    # The alert's `for` in measurements: a condition must hold that long before it fails the run.
    failure_limit = math.ceil(parse_duration(analysis.for_) / interval_ms)
    # Pre-promotion analysis must end (validation_references.go:170-184): a window's worth of measurements
    # beyond the tolerated failures.
    count = None if canary else failure_limit + max(1, math.ceil(parse_duration(analysis.window) / interval_ms))
    address = analysis.prometheus or c.MESH_PROMETHEUS.get(source_for(rollout).name, c.DEFAULT_PROMETHEUS)
    return AnalysisPlan(c.analysis_template_name(rollout.metadata.name), "background" if canary else "prePromotion",
                        go_duration(analysis.interval), count, failure_limit, failure_limit,
                        template_version(rollout), starting_step if canary else None, address, metrics)


def plan_services(rollout: Rollout, route_kind: str) -> tuple[ServicePlan, ...]:
    name = rollout.metadata.name
    if rollout.spec.blueGreen is not None:
        return (ServicePlan(name, "apex"), ServicePlan(c.argo_service_name(name, c.ARGO_ACTIVE), "active"),
                ServicePlan(c.argo_service_name(name, c.ARGO_PREVIEW), "preview"))
    if route_kind == "HTTPRoute":
        return (ServicePlan(name, "apex"), ServicePlan(c.argo_service_name(name, c.ARGO_STABLE), "stable"),
                ServicePlan(c.argo_service_name(name, c.ARGO_CANARY), "canary"))
    return (ServicePlan(name, "apex"),)


def routing_rules(rollout: Rollout) -> tuple[Rule, ...]:
    """The routing object's rules in Git: the spec's routes (unmanaged), then the blue/green's test
    match and active route, or the canary's weighted route at stable 100 / canary 0."""
    rules = list(route_rules(rollout))
    bg = rollout.spec.blueGreen
    if bg is not None:
        if bg.preview and bg.test is not None:
            rules.append(Rule("test", ((HeaderCondition.of(bg.test),),),
                              (Destination(c.ARGO_PREVIEW, version_service=True),)))
        rules.append(Rule("active", (), (Destination(c.ARGO_ACTIVE, version_service=True),)))
    else:
        rules.append(Rule(c.ARGO_WEIGHTED_ROUTE, (), (Destination(c.ARGO_STABLE, weight=100),
                                                      Destination(c.ARGO_CANARY, weight=0))))
    return tuple(rules)


def managed_routes(rollout: Rollout) -> tuple[str, ...]:
    """The routes the controller inserts, in the order it puts them first in the VirtualService / HTTPRoute
    (orderRoutes): the testers' header route before the catch-all mirror route."""
    canary = rollout.spec.canary
    if canary is None:
        return ()
    return tuple(name for name, used in ((c.ARGO_TESTERS_ROUTE, canary.testers), (c.ARGO_SHADOW_ROUTE, canary.shadow))
                 if used is not None)


def plan_argo(rollout: Rollout, source: str) -> ArgoPlan:
    spec = rollout.spec
    route_kind = MESHES[spec.mesh].route.kind
    labels = object_labels(rollout)
    steps, first_weight = canary_steps(rollout, route_kind)
    workload = plan_workload(rollout)
    blue_green = spec.blueGreen is not None
    routing = Plan(source=source, name=rollout.metadata.name, namespace=rollout.metadata.namespace,
                   labels=labels, mesh=MESHES[spec.mesh].argo_router, port=spec.service.port,
                   target_port=spec.service.targetPort or spec.service.port, stage="argo-rollouts",
                   workloads=(), subsets=() if blue_green else (c.ARGO_STABLE, c.ARGO_CANARY),
                   version_services=(), only_version=None, rules=routing_rules(rollout),
                   ports=plan_ports(rollout), edge=plan_edge(rollout), timeout=spec.service.timeout,
                   retries=retries_dict(spec.service.retries), route_annotations=route_annotations(rollout))
    return ArgoPlan(
        source=source, name=rollout.metadata.name, namespace=rollout.metadata.namespace, labels=labels,
        mesh=spec.mesh, port=spec.service.port, target_port=spec.service.targetPort or spec.service.port,
        strategy="blueGreen" if blue_green else "canary", workload=workload,
        stable_version=stable_version(rollout), services=plan_services(rollout, route_kind),
        route_kind=route_kind, routing=routing, routing_objects=routing_objects(routing, route_kind),
        steps=steps, managed_routes=managed_routes(rollout),
        analysis=plan_analysis(rollout, first_weight), alerts=plan_alerts(rollout, labels),
        autoscaler=plan_autoscaler(rollout))


def routing_objects(routing: Plan, route_kind: str) -> tuple[str, ...]:
    """The VirtualServices / HTTPRoutes written for the rollout, as manual delivery writes them for the same
    `ingress` and ports: `<name>` for the mesh, `<name>-edge` for the gateways when the mesh keeps its own
    object; each holds the weighted route, so the controller moves the weights of every one."""
    edge, name = routing.edge, c.routing_name(routing.name)
    if edge is None:
        return (name,)
    if route_kind == "VirtualService":
        # one VirtualService for gateways and mesh, unless further ports keep the mesh's apart (istio.virtual_services)
        return (name, c.edge_routing_name(routing.name)) if edge.mesh and routing.ports else (name,)
    return ((name,) if edge.mesh else ()) + (c.edge_routing_name(routing.name),)


def argocd_ignore_differences(plan: ArgoPlan) -> dict:
    """The Argo CD Application fields for this rollout: ignore exactly what the controller rewrites
    (by object name, with expressions that read the same on the live and the desired object), and
    the sync options that make a sync respect it."""
    ns = plan.namespace
    entries = []
    if plan.strategy == "canary":
        managed = list(plan.managed_routes)
        if plan.route_kind == "VirtualService":
            paths = [f'.spec.http[] | select(.name == "{c.ARGO_WEIGHTED_ROUTE}") | .route[].weight']
            paths += [f'.spec.http[] | select(.name == "{m}")' for m in managed]
            for name in plan.routing_objects:
                entries.append({"group": "networking.istio.io", "kind": "VirtualService", "name": name,
                                "namespace": ns, "jqPathExpressions": list(paths)})
            entries.append({"group": "networking.istio.io", "kind": "DestinationRule", "name": plan.name,
                            "namespace": ns, "jqPathExpressions": [
                                '.spec.subsets[].labels["rollouts-pod-template-hash"]',
                                '.metadata.annotations["argo-rollouts.argoproj.io/managed-by-rollouts"]']})
        else:
            stable = c.argo_service_name(plan.name, c.ARGO_STABLE)
            canary = c.argo_service_name(plan.name, c.ARGO_CANARY)
            paths = [f'.spec.rules[].backendRefs[] | select(.name == "{stable}" or .name == "{canary}") | .weight']
            paths += [f'.spec.rules[] | select(.name == "{m}" or ((.name // "") | test("^{m}-[0-9]+$")))'
                      for m in managed]
            for name in plan.routing_objects:
                entries.append({"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": name,
                                "namespace": ns, "jqPathExpressions": list(paths)})
    return {"ignoreDifferences": entries,
            "syncPolicy": {"syncOptions": ["RespectIgnoreDifferences=true", "ApplyOutOfSyncOnly=true"]}}
