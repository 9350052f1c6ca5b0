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
    if plan.timeout is not None:
        out["timeouts"] = {"request": plan.timeout}
    return out


def gateway_ref(gateway: str) -> dict:
    """A parentRef to a Gateway API Gateway named NAMESPACE/NAME[:SECTION]."""
    ref, _, section = gateway.partition(":")
    namespace, _, name = ref.partition("/")
    out = {"group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": namespace, "name": name}
    if section:
        out["sectionName"] = section
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
    """The GAMMA route, attached to the Service on `port` (so traffic to its other ports is not captured);
    with `edge`, the route `<name>-edge` attached to the ingress gateways, with the hostnames served there.
    Two routes rather than one with both kinds of parents: `hostnames` select requests at a Gateway, while
    for a Service parent the Service itself is the host, so one list cannot mean both; and a route mixing
    Gateway and Service parents is one the Gateway API's mesh guide (GEP-1426) leaves to implementations."""

    def __init__(self, chart, plan: Plan, edge: bool = False):
        route = MESHES[plan.mesh].route
        api_version, parent_group, group = route.api_version, route.parent_group, route.backend_group
        if plan.timeout is not None and route.timeouts_api_version:
            api_version = route.timeouts_api_version
        if not precedence_keeps_order(plan.rules):
            raise ValueError("these rules would not keep their order under HTTPRoute precedence")
        spec: dict = {}
        if edge:
            spec["parentRefs"] = [gateway_ref(g) for g in plan.edge.gateways]
            if plan.edge.hosts:
                spec["hostnames"] = list(plan.edge.hosts)
            name = c.edge_routing_name(plan.name)
        else:
            spec["parentRefs"] = [{"group": parent_group, "kind": "Service", "name": plan.name, "port": plan.port}]
            name = c.routing_name(plan.name)
        spec["rules"] = [route_rule(plan, rule, group) for rule in plan.rules]
        self.obj = emit(chart, api_version, "HTTPRoute", name, plan.labels, {"spec": spec}, plan.route_annotations)
