"""A small model of how a mesh routes one request through generated routing objects.

Given the VirtualService or HTTPRoute rollgen generated and a request's headers, `route()` says
where the request goes: a distribution {backend: weight}. It follows the upstream semantics:
Istio evaluates `http` routes in order, first match wins; Gateway API (and Linkerd's HTTPRoute)
picks the rule with the most header matches, ties broken by rule order. Header regexes are RE2 and
match the whole value (Envoy's behaviour).

`hits()` also says which response headers each destination sets (Istio `headers.response`, HTTPRoute
ResponseHeaderModifier filters on the rule or the backendRef), e.g. the sticky cookie of an A/B test.
Backends are named `host/subset` or `host` (Istio) and `name` or `namespace/name` (HTTPRoute).

`serving()` follows a request on to the pods: given every object a cluster runs (including the
Deployments a sync without pruning left behind), which versions' pods answer it, and in what share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import re2


@dataclass(frozen=True)
class Hit:
    """One place a request may go, with its share and the response headers set on the way back."""

    backend: str
    weight: int
    response_headers: dict = field(default_factory=dict, compare=False)


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


def _header_ops(ops: dict) -> dict:
    out = dict(ops.get("set", {}))
    for k, v in ops.get("add", {}).items():
        out[k] = out[k] + ", " + v if k in out else v
    return out


def hits_istio(vs: dict, headers: dict[str, str]) -> list[Hit]:
    headers = {k.lower(): v for k, v in headers.items()}
    for http in vs["spec"]["http"]:
        matches = http.get("match")
        if matches and not any(all(_string_match(m, headers.get(h)) for h, m in alt.get("headers", {}).items())
                               for alt in matches):
            continue
        routes = http["route"]
        rule_headers = _header_ops(http.get("headers", {}).get("response", {}))
        single = len(routes) == 1 and "weight" not in routes[0]
        return [Hit(_istio_backend(r), 100 if single else r.get("weight", 0),
                    {**rule_headers, **_header_ops(r.get("headers", {}).get("response", {}))}) for r in routes]
    return []


def route_istio(vs: dict, headers: dict[str, str]) -> dict[str, int]:
    return {h.backend: h.weight for h in hits_istio(vs, headers)}


def _gateway_header_match(m: dict, headers: dict[str, str]) -> bool:
    value = headers.get(m["name"].lower())
    if value is None:
        return False
    if m.get("type", "Exact") == "Exact":
        return value == m["value"]
    return re2.search(m["value"], value) is not None  # anchored by the generator


def _filter_headers(filters: list) -> dict:
    out: dict = {}
    for f in filters or []:
        if f["type"] == "ResponseHeaderModifier":
            mod = f["responseHeaderModifier"]
            out.update(_header_ops({"set": {h["name"]: h["value"] for h in mod.get("set", [])},
                                    "add": {h["name"]: h["value"] for h in mod.get("add", [])}}))
    return out


def _ref_name(ref: dict, namespace: str | None) -> str:
    ns = ref.get("namespace")
    return f"{ns}/{ref['name']}" if ns and ns != namespace else ref["name"]


def hits_httproute(route: dict, headers: dict[str, str]) -> list[Hit]:
    headers = {k.lower(): v for k, v in headers.items()}
    candidates = []
    for index, rule in enumerate(route["spec"]["rules"]):
        alternatives = rule.get("matches") or [{}]
        for alt in alternatives:
            if all(_gateway_header_match(m, headers) for m in alt.get("headers", [])):
                candidates.append((-len(alt.get("headers", [])), index, rule))
    if not candidates:
        return []
    rule = sorted(candidates, key=lambda c: (c[0], c[1]))[0][2]
    refs = rule["backendRefs"]
    namespace = route["metadata"].get("namespace")
    rule_headers = _filter_headers(rule.get("filters"))
    return [Hit(_ref_name(r, namespace), 100 if len(refs) == 1 else r.get("weight", 1),
                {**rule_headers, **_filter_headers(r.get("filters"))}) for r in refs]


def route_httproute(route: dict, headers: dict[str, str]) -> dict[str, int]:
    return {h.backend: h.weight for h in hits_httproute(route, headers)}


def hits(documents, headers: dict[str, str] | None = None) -> list[Hit]:
    """Every destination a request with `headers` may reach, given the generated documents."""
    headers = headers or {}
    for doc in documents:
        if doc["kind"] == "VirtualService":
            return hits_istio(doc, headers)
        if doc["kind"] == "HTTPRoute":
            return hits_httproute(doc, headers)
    raise AssertionError("no routing object among the documents")


def route(documents, headers: dict[str, str] | None = None) -> dict[str, int]:
    """Where a request with `headers` goes, given the generated documents (any iterable of dicts)."""
    return {h.backend: h.weight for h in hits(documents, headers)}


def set_cookies(documents, headers: dict[str, str] | None = None) -> dict[str, str | None]:
    """{backend: the Set-Cookie its response carries, or None} for a request with `headers`."""
    return {h.backend: h.response_headers.get("Set-Cookie") for h in hits(documents, headers)}


# --- the cluster behind the routing objects --------------------------------------------------------
#
# A backend is a Service (Istio: a host, optionally narrowed to a DestinationRule subset); its
# endpoints are the pods, in the Service's namespace, whose labels match the Service's selector (and
# the subset's labels). Pods are whatever Deployments run, which is not only what Git holds: a GitOps
# tool that does not prune leaves a removed version's Deployment, and its pods, running.

NO_ENDPOINTS = "<no endpoints>"


def _selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _service_ref(backend: str, namespace: str, istio: bool) -> tuple[str, str, str | None]:
    """(namespace, Service name, subset) of a backend as `hits()` names it."""
    subset = None
    if istio:
        host, _, subset = backend.partition("/")
        parts = host.split(".")
        if len(parts) == 1:
            return namespace, host, subset or None
        if len(parts) >= 3 and parts[2] == "svc":
            return parts[1], parts[0], subset or None
        raise AssertionError(f"{host!r} is not a Service of the cluster")
    ns, _, name = backend.rpartition("/")
    return ns or namespace, name, None


def _subset_labels(cluster: list[dict], namespace: str, service: str, subset: str) -> dict | None:
    for doc in cluster:
        if doc["kind"] != "DestinationRule" or doc["metadata"].get("namespace") != namespace:
            continue
        if _service_ref(doc["spec"]["host"], namespace, istio=True)[:2] != (namespace, service):
            continue
        for entry in doc["spec"].get("subsets", []):
            if entry["name"] == subset:
                return entry.get("labels", {})
    return None  # Envoy has no cluster for the subset: the request fails


def endpoints(cluster, backend: str, namespace: str, istio: bool) -> dict[str, int]:
    """{version: ready pods} behind one backend: the running pods its Service (and subset) select."""
    cluster = list(cluster)
    ns, name, subset = _service_ref(backend, namespace, istio)
    services = [d for d in cluster if d["kind"] == "Service" and d["metadata"]["name"] == name
                and d["metadata"].get("namespace") == ns]
    if not services:
        return {}
    selector = dict(services[0]["spec"].get("selector") or {})
    if subset is not None:
        labels = _subset_labels(cluster, ns, name, subset)
        if labels is None:
            return {}
        selector.update(labels)
    out: dict[str, int] = {}
    for doc in cluster:
        if doc["kind"] != "Deployment" or doc["metadata"].get("namespace") != ns:
            continue
        labels = doc["spec"]["template"]["metadata"]["labels"]
        if _selects(selector, labels):
            version = labels.get("version", doc["metadata"]["name"])
            out[version] = out.get(version, 0) + doc["spec"].get("replicas", 1)
    return out


def serving(cluster, headers: dict[str, str] | None = None) -> dict[str, Fraction]:
    """{version: share of requests} for a request with `headers`, given every object the cluster
    runs (routing objects, Services and Deployments, including any left behind). A backend is
    shared among its endpoint pods evenly (per pod, as kube-proxy and the meshes balance by default);
    a backend with a weight but no endpoints shows up as NO_ENDPOINTS."""
    cluster = list(cluster)
    routing = next(d for d in cluster if d["kind"] in ("VirtualService", "HTTPRoute"))
    istio = routing["kind"] == "VirtualService"
    namespace = routing["metadata"].get("namespace")
    found = hits([routing], headers)
    total = sum(h.weight for h in found)
    out: dict[str, Fraction] = {}
    for hit in found:
        if not hit.weight:
            continue
        share = Fraction(hit.weight, total)
        pods = endpoints(cluster, hit.backend, namespace, istio)
        if not pods:
            out[NO_ENDPOINTS] = out.get(NO_ENDPOINTS, 0) + share
            continue
        count = sum(pods.values())
        for version, n in pods.items():
            out[version] = out.get(version, 0) + share * Fraction(n, count)
    return out
