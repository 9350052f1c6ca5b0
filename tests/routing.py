"""A small model of how a mesh routes one request through generated routing objects.

Given the VirtualService or HTTPRoute rollgen generated and a request's headers, `route()` says
where the request goes: a distribution {backend: weight}. It follows the upstream semantics:
Istio evaluates `http` routes in order, first match wins; Gateway API (and Linkerd's HTTPRoute)
picks the rule with the most header matches, ties broken by rule order. Header regexes are RE2 and
match the whole value (Envoy's behaviour).
"""

from __future__ import annotations

import re2


def _string_match(spec: dict, value: str | None) -> bool:
    if value is None:
        return False
    if "exact" in spec:
        return value == spec["exact"]
    if "prefix" in spec:
        return value.startswith(spec["prefix"])
    if "regex" in spec:
        return re2.fullmatch(spec["regex"], value) is not None
    raise AssertionError(f"unknown string match {spec}")


def _istio_backend(dest: dict) -> str:
    host = dest["destination"]["host"]
    subset = dest["destination"].get("subset")
    return f"{host}/{subset}" if subset else host


def route_istio(vs: dict, headers: dict[str, str]) -> dict[str, int]:
    headers = {k.lower(): v for k, v in headers.items()}
    for http in vs["spec"]["http"]:
        matches = http.get("match")
        if matches and not any(all(_string_match(m, headers.get(h)) for h, m in alt.get("headers", {}).items())
                               for alt in matches):
            continue
        routes = http["route"]
        if len(routes) == 1 and "weight" not in routes[0]:
            return {_istio_backend(routes[0]): 100}
        return {_istio_backend(r): r.get("weight", 0) for r in routes}
    return {}


def _gateway_header_match(m: dict, headers: dict[str, str]) -> bool:
    value = headers.get(m["name"].lower())
    if value is None:
        return False
    if m.get("type", "Exact") == "Exact":
        return value == m["value"]
    return re2.search(m["value"], value) is not None  # anchored by the generator


def route_httproute(route: dict, headers: dict[str, str]) -> dict[str, int]:
    headers = {k.lower(): v for k, v in headers.items()}
    candidates = []
    for index, rule in enumerate(route["spec"]["rules"]):
        alternatives = rule.get("matches") or [{}]
        for alt in alternatives:
            if all(_gateway_header_match(m, headers) for m in alt.get("headers", [])):
                candidates.append((-len(alt.get("headers", [])), index, rule))
    if not candidates:
        return {}
    rule = sorted(candidates, key=lambda c: (c[0], c[1]))[0][2]
    refs = rule["backendRefs"]
    if len(refs) == 1:
        return {refs[0]["name"]: 100}
    return {r["name"]: r.get("weight", 1) for r in refs}


def route(documents, headers: dict[str, str] | None = None) -> dict[str, int]:
    """Where a request with `headers` goes, given the generated documents (any iterable of dicts)."""
    headers = headers or {}
    for doc in documents:
        if doc["kind"] == "VirtualService":
            return route_istio(doc, headers)
        if doc["kind"] == "HTTPRoute":
            return route_httproute(doc, headers)
    raise AssertionError("no routing object among the documents")
