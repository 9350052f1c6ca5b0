"""Istio: DestinationRule (one subset per version) and VirtualService (the plan's rules, in order)."""

from __future__ import annotations

import generator.names as c
from generator.plan.model import Destination, Plan, Rule
from generator.constructs.runtime import emit

API = "networking.istio.io/v1"


class DestinationRule:
    def __init__(self, chart, plan: Plan):
        self.obj = emit(chart, API, "DestinationRule", c.routing_name(plan.name), plan.labels, {
            "spec": {
                "host": plan.service_host(),
                "subsets": [{"name": v, "labels": {c.VERSION_LABEL: v}} for v in plan.subsets],
            }
        })


def _destination(plan: Plan, d: Destination, port: bool = False) -> dict:
    """`port`: name the Service's port (a gateway's VirtualService on a Service with several ports)."""
    if d.host is not None:
        dest = {"host": d.host}
        if d.port is not None:
            dest["port"] = {"number": d.port}
    elif d.version_service:
        # Blue/green: the version's own Service, by its fully qualified name (as the reference does).
        dest = {"host": c.service_fqdn(c.version_service_name(plan.name, d.version), plan.namespace)}
        if port:
            dest["port"] = {"number": plan.port}
    else:
        dest = {"host": plan.service_host()}
        if d.version is not None:
            dest["subset"] = d.version
        if port:
            dest["port"] = {"number": plan.port}
    out = {"destination": dest}
    if d.weight is not None:
        out["weight"] = d.weight
    if d.response_headers:
        # `add`, not `set`: Envoy appends Set-Cookie as one more header line, while `set` would drop the
        # Set-Cookie headers of the application's own response (a login on the first request, say).
        out["headers"] = {"response": {"add": dict(d.response_headers)}}
    return out


def _percentage(percent: float) -> dict:
    return {"value": int(percent) if float(percent).is_integer() else percent}


def fault(rule: Rule) -> dict:
    """Istio's HTTPFaultInjection of a rule: `delay.fixedDelay` and `abort.httpStatus`, each with a percentage."""
    out: dict = {}
    for f in rule.faults:
        if f.kind == "delay":
            out["delay"] = {"fixedDelay": f.value, "percentage": _percentage(f.percent)}
        else:
            out["abort"] = {"httpStatus": f.value, "percentage": _percentage(f.percent)}
    return out


def http_route(plan: Plan, rule: Rule, port: bool = False) -> dict:
    route: dict = {"name": rule.name}
    if rule.matches:
        route["match"] = [{"headers": {h.header: {h.kind: h.value} for h in alt}} for alt in rule.matches]
    route["route"] = [_destination(plan, d, port) for d in rule.destinations]
    if rule.mirror is not None:
        route["mirror"] = _destination(plan, rule.mirror.destination, port)["destination"]
        pct = rule.mirror.percent
        route["mirrorPercentage"] = {"value": int(pct) if pct.denominator == 1 else float(pct)}
    if plan.timeout is not None:
        route["timeout"] = plan.timeout
    if plan.retries is not None:
        route["retries"] = dict(plan.retries)
    if rule.faults:
        route["fault"] = fault(rule)
    return route


def virtual_services(plan: Plan) -> list[tuple[str, list[str], list[str] | None, bool]]:
    """(name, hosts, gateways, destination ports) of each VirtualService of a plan.

    Without `ingress`: one for the mesh, on the Service's host. With it, one VirtualService lists the
    gateways (and `mesh`) and the hostnames beside the Service's host, with destination ports (a request
    entering at a gateway names no port of the Service). When the Service has more ports than `port`,
    destination ports would send sidecar callers of those ports to `port`: the mesh then keeps its own
    VirtualService (no destination ports: a request keeps its port) and the gateways get `<name>-edge`."""
    edge = plan.edge
    name = c.routing_name(plan.name)
    if edge is None:
        return [(name, [plan.service_host()], None, False)]
    if not edge.mesh:
        return [(name, list(edge.hosts), list(edge.gateways), True)]
    if plan.ports:
        return [(name, [plan.service_host()], None, False),
                (c.edge_routing_name(plan.name), list(edge.hosts), list(edge.gateways), True)]
    return [(name, [plan.service_host(), *edge.hosts], [*edge.gateways, "mesh"], True)]


class VirtualService:
    def __init__(self, chart, plan: Plan, name: str | None = None, hosts: list[str] | None = None,
                 gateways: list[str] | None = None, port: bool = False):
        spec: dict = {"hosts": hosts or [plan.service_host()]}
        if gateways:
            spec["gateways"] = gateways
        spec["http"] = [http_route(plan, rule, port) for rule in plan.rules]
        self.obj = emit(chart, API, "VirtualService", name or c.routing_name(plan.name), plan.labels, {"spec": spec})
