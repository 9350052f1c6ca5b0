"""One chart per plan, built by the chart builder of the plan's delivery engine (CHARTS)."""

from __future__ import annotations

from typing import Callable

from generator.constructs import argo, core, flagger, flux, istio, prometheus, routes
from generator.mesh import MESHES


def platform_chart(synth, plan):
    """A platform install: its namespace if it creates it, the chart repository, then one HelmRelease per
    release."""
    chart = synth.chart(plan.namespace)
    if plan.namespace_object is not None:
        ns = plan.namespace_object
        core.Namespace(chart, ns.name, {**plan.labels, **ns.labels}, ns.annotations)
    flux.HelmRepository(chart, plan)
    for release in plan.releases:
        flux.HelmRelease(chart, plan, release)
    return chart


def flagger_chart(synth, plan):
    """A rollout Flagger delivers: its target Deployment and what Flagger reads, nothing Flagger owns."""
    chart = synth.chart(plan.namespace)
    core.Deployment(chart, plan, plan.workload)
    if plan.autoscaler is not None:
        core.HorizontalPodAutoscaler(chart, plan, plan.workload.name, plan.autoscaler)
    flagger.Canary(chart, plan)
    for template in plan.templates:
        flagger.MetricTemplate(chart, plan, template)
    for provider in plan.alert_providers:
        flagger.AlertProvider(chart, plan, provider)
    if plan.alerts is not None:
        prometheus.alerts(chart, plan)
    return chart


def _istio_routes(chart, plan) -> None:
    if plan.subsets:
        istio.DestinationRule(chart, plan)
    for name, hosts, gateways, port in istio.virtual_services(plan):
        istio.VirtualService(chart, plan, name, hosts, gateways, port)


def _http_route(chart, plan) -> None:
    if plan.edge is None or plan.edge.mesh:
        routes.HTTPRoute(chart, plan)
    if plan.edge is not None:
        routes.HTTPRoute(chart, plan, edge=True)


# the routing objects of a routed plan, by the kind of route its mesh takes (mesh.RouteAPI.kind)
ROUTERS: dict[str, Callable] = {"VirtualService": _istio_routes, "HTTPRoute": _http_route}


def routed_chart(synth, plan):
    """A rollout rollgen routes itself: workloads, Services, the mesh's routing objects, alerts."""
    chart = synth.chart(plan.namespace)
    for workload in plan.workloads:
        core.Deployment(chart, plan, workload)
        if plan.autoscaler is not None:
            core.HorizontalPodAutoscaler(chart, plan, workload.name, plan.autoscaler)
    core.Service(chart, plan)
    for version in plan.version_services:
        core.Service(chart, plan, version)
    ROUTERS[MESHES[plan.mesh].route.kind](chart, plan)
    if plan.alerts is not None:
        prometheus.alerts(chart, plan)
    return chart


def argo_chart(synth, plan):
    """A rollout Argo Rollouts delivers: the Rollout, its AnalysisTemplate, the Services it steers, the
    routing objects (the Istio and Gateway API constructs over the plan's routing rules), alerts."""
    chart = synth.chart(plan.namespace)
    argo.Rollout(chart, plan)
    if plan.autoscaler is not None:
        argo.HorizontalPodAutoscaler(chart, plan)
    if plan.analysis is not None:
        argo.AnalysisTemplate(chart, plan)
    for service in plan.services:
        argo.Service(chart, plan, service.name)
    if plan.route_kind == "VirtualService":
        if plan.routing.subsets:
            argo.DestinationRule(chart, plan)
        for name, hosts, gateways, port in istio.virtual_services(plan.routing):
            istio.VirtualService(chart, plan.routing, name, hosts, gateways, port)
    else:
        _http_route(chart, plan.routing)
    if plan.alerts is not None:
        prometheus.alerts(chart, plan)
    return chart


CHARTS: dict[str, Callable] = {"manual": routed_chart, "flagger": flagger_chart, "platform": platform_chart,
                               "argo-rollouts": argo_chart}


def build_chart(synth, plan):
    """All objects of one plan in one chart, in a fixed order."""
    return CHARTS[plan.engine](synth, plan)
