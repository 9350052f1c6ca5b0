"""HTTPRoutes attached to the service (GAMMA): Linkerd's policy.linkerd.io and Gateway API's own."""

from __future__ import annotations

import generator.names as c
from generator.mesh import MESHES
from generator.plan.patterns import precedence_keeps_order
from generator.spec.facts import cluster_service
from generator.plan.model import Destination, HeaderCondition, Mirror, Plan, Rule
from generator.constructs.runtime import emit
from generator.plan.patterns import header_regex


def header_match(cond: HeaderCondition) -> dict:
    if cond.kind == "exact":
        return {"type": "Exact", "name": cond.header, "value": cond.value}
    return {"type": "RegularExpression", "name": cond.header, "value": header_regex(cond)}


def backend_ref(plan: Plan, d: Destination, group: str) -> dict:
    if d.host is not None:
        target = cluster_service(d.host, plan.namespace)
        if target is None or d.port is None:
            raise ValueError(f"HTTPRoute backend {d.host!r} is not a Service with a port; checks run before planning")
        ref = {"group": group, "kind": "Service", "name": target.name}
        if target.namespace != plan.namespace:
            ref["namespace"] = target.namespace
        ref["port"] = d.port
    else:
        name = plan.name if d.version is None else c.version_service_name(plan.name, d.version)
        ref = {"group": group, "kind": "Service", "name": name, "port": plan.port}
    if d.weight is not None:
        ref["weight"] = d.weight
    if d.response_headers:
        # Per-backend filter: the header depends on which backend the split picked. `add` keeps the
        # application's own Set-Cookie headers (see the Istio construct).
        ref["filters"] = [{"type": "ResponseHeaderModifier", "responseHeaderModifier": {
            "add": [{"name": k, "value": v} for k, v in d.response_headers]}}]
    return ref


def route_rule(plan: Plan, rule: Rule, group: str) -> dict:
    out: dict = {}
    if rule.matches:
        out["matches"] = [{"headers": [header_match(h) for h in alt]} for alt in rule.matches]
    if rule.mirror is not None:
        out["filters"] = [request_mirror(plan, rule.mirror, group)]
    out["backendRefs"] = [backend_ref(plan, d, group) for d in rule.destinations]
    return out


def request_mirror(plan: Plan, mirror: Mirror, group: str) -> dict:
    """A RequestMirror filter: `percent` when the share is whole, else `fraction` (both in the v1 CRD)."""
    if MESHES[plan.mesh].mirroring != "request-mirror-filter":
        raise ValueError(f"mesh {plan.mesh} cannot mirror requests; checks run before planning")
    ref = backend_ref(plan, Destination(mirror.destination.version, mirror.destination.host, mirror.destination.port),
                      group)
    out: dict = {"backendRef": ref}
    share = mirror.percent / 100
    if mirror.percent.denominator == 1:
        out["percent"] = int(mirror.percent)
    else:
        out["fraction"] = {"numerator": share.numerator, "denominator": share.denominator}
    return {"type": "RequestMirror", "requestMirror": out}


class HTTPRoute:
    def __init__(self, chart, plan: Plan):
        route = MESHES[plan.mesh].route
        api_version, parent_group, group = route.api_version, route.parent_group, route.backend_group
        if not precedence_keeps_order(plan.rules):
            raise ValueError("these rules would not keep their order under HTTPRoute precedence")
        self.obj = emit(chart, api_version, "HTTPRoute", c.routing_name(plan.name), plan.labels, {
            "spec": {
                "parentRefs": [{"group": parent_group, "kind": "Service", "name": plan.name, "port": plan.port}],
                "rules": [route_rule(plan, rule, group) for rule in plan.rules],
            }
        })
