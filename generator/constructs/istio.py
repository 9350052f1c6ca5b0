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


def _destination(plan: Plan, d: Destination) -> dict:
    if d.host is not None:
        dest = {"host": d.host}
        if d.port is not None:
            dest["port"] = {"number": d.port}
    elif d.version_service:
        # Blue/green: the version's own Service, by its fully qualified name (as the reference does).
        dest = {"host": c.service_fqdn(c.version_service_name(plan.name, d.version), plan.namespace)}
    else:
        dest = {"host": plan.service_host()}
        if d.version is not None:
            dest["subset"] = d.version
    out = {"destination": dest}
    if d.weight is not None:
        out["weight"] = d.weight
    if d.response_headers:
        # `add`, not `set`: Envoy appends Set-Cookie as one more header line, while `set` would drop the
        # Set-Cookie headers of the application's own response (a login on the first request, say).
        out["headers"] = {"response": {"add": dict(d.response_headers)}}
    return out


def http_route(plan: Plan, rule: Rule) -> dict:
    route: dict = {"name": rule.name}
    if rule.matches:
        route["match"] = [{"headers": {h.header: {h.kind: h.value} for h in alt}} for alt in rule.matches]
    route["route"] = [_destination(plan, d) for d in rule.destinations]
    if rule.mirror is not None:
        route["mirror"] = _destination(plan, rule.mirror.destination)["destination"]
        pct = rule.mirror.percent
        route["mirrorPercentage"] = {"value": int(pct) if pct.denominator == 1 else float(pct)}
    return route


class VirtualService:
    def __init__(self, chart, plan: Plan):
        self.obj = emit(chart, API, "VirtualService", c.routing_name(plan.name), plan.labels, {
            "spec": {
                "hosts": [plan.service_host()],
                "http": [http_route(plan, rule) for rule in plan.rules],
            }
        })
