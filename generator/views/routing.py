"""Where does one request go? Evaluates generated routing objects, as the mesh would, for one request.

The input is plain documents (dicts, as in `output/`): Istio VirtualServices and DestinationRules,
Gateway API HTTPRoutes (`gateway.networking.k8s.io`) and Linkerd's (`policy.linkerd.io`), Services and
Deployments (or ReplicaSets). The request names a host, the way it enters (a Gateway, or the mesh: a sidecar caller of
the Service, the default), a path, a method, headers and cookies. The result says which rule matched,
the destinations with their shares, the version (pod label `version`) each reaches, the copies a mirror
sends, the response headers set on the way back (e.g. `Set-Cookie`), any fault, and why.

Semantics follow upstream, each cited where it is implemented:
- Istio: https://istio.io/latest/docs/reference/config/networking/virtual-service/
  (host and gateway selection, routes in order with the first match winning, HTTPMatchRequest,
  HTTPRouteDestination weights, mirrors, headers, fault), and
  https://istio.io/latest/docs/reference/config/networking/destination-rule/ (subsets).
  Regexes are RE2 and match the whole value (Envoy's `safe_regex`).
- Gateway API: https://gateway-api.sigs.k8s.io/reference/spec/#httprouterule and #httproutespec
  (parentRefs, hostnames, match precedence across every rule of every route, backendRef weights,
  filters), and GAMMA https://gateway-api.sigs.k8s.io/mesh/ (a Service parent routes mesh traffic).
- Linkerd: https://linkerd.io/2-edge/reference/httproute/ (`policy.linkerd.io` HTTPRoute, the same
  matching as the Gateway API's).

Pure: no file or network I/O; stdlib, google-re2 and the names rollgen writes (generator.names).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Iterable, Mapping

import re2

from generator.names import DEFAULT_CLUSTER_DOMAIN, VERSION_LABEL, service_fqdn

CLUSTER_DOMAIN = f"svc.{DEFAULT_CLUSTER_DOMAIN}"
MESH = "mesh"
NO_ENDPOINTS = "<no endpoints>"

ISTIO = "istio"
GATEWAY_API = "gateway-api"
LINKERD = "linkerd"

_GATEWAY_GROUP = "gateway.networking.k8s.io"
_LINKERD_GROUP = "policy.linkerd.io"


class RoutingError(ValueError):
    """The request cannot be evaluated against these documents (e.g. it names no routed Service)."""


# --- the request ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Request:
    """One HTTP request. `gateway` is `NAMESPACE/NAME[:SECTION]` for a request entering through a
    Gateway; None means the mesh (a sidecar caller of the Service). `host` None means the Service the
    documents route (there must be one). `namespace` is the caller's, for short host names."""

    host: str | None = None
    gateway: str | None = None
    path: str = "/"
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    cookies: Mapping[str, str] = field(default_factory=dict)
    port: int | None = None
    namespace: str | None = None

    def header_map(self) -> dict[str, str]:
        """Headers by lower-case name, with `cookies` appended to the `cookie` header as a browser sends them."""
        out = {k.lower(): v for k, v in self.headers.items()}
        if self.cookies:
            pairs = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            out["cookie"] = f"{out['cookie']}; {pairs}" if out.get("cookie") else pairs
        if self.host is not None:
            out.setdefault(":authority", self.host)
        return out

    @property
    def query(self) -> dict[str, str]:
        _, _, qs = self.path.partition("?")
        out: dict[str, str] = {}
        for pair in filter(None, qs.split("&")):
            k, _, v = pair.partition("=")
            out.setdefault(k, v)  # the first value of a repeated parameter, as Envoy matches it
        return out

    @property
    def bare_path(self) -> str:
        return self.path.partition("?")[0] or "/"

    def gateway_ref(self) -> tuple[str, str, str | None] | None:
        """(namespace, name, section) of the Gateway the request enters through, or None for the mesh."""
        if self.gateway is None or self.gateway == MESH:
            return None
        ref, _, section = self.gateway.partition(":")
        namespace, slash, name = ref.partition("/")
        if not slash or not namespace or not name:
            raise RoutingError(f"gateway {self.gateway!r} is not NAMESPACE/NAME[:SECTION]")
        return namespace, name, section or None


# --- the result ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Destination:
    """One backend the matched rule sends to: its name as the routing object writes it (`host/subset`
    or `host` for Istio, `name` or `namespace/name` for an HTTPRoute), its weight as written (None when
    not written), its share of the requests, the versions its pods run ({version: share of this
    backend's requests}, by ready pod; empty when it is no Service of these documents), and the response
    headers set on its responses."""

    backend: str
    weight: int | None
    share: Fraction
    service: tuple[str, str] | None = None
    subset: str | None = None
    versions: Mapping[str, Fraction] = field(default_factory=dict)
    response_headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def host(self) -> str:
        """The backend's host: the Service's cluster name, or the host written in the routing object."""
        if self.service is not None:
            return service_host(self.service[1], self.service[0])
        return self.backend.partition("/")[0]


@dataclass(frozen=True)
class Mirror:
    """A copy of the request sent to `backend` for `percent` % of the requests; its response is discarded."""

    backend: str
    percent: Fraction
    service: tuple[str, str] | None = None
    subset: str | None = None
    versions: Mapping[str, Fraction] = field(default_factory=dict)


@dataclass(frozen=True)
class Result:
    """Where a request goes. `router` is `Kind namespace/name` of the routing object that decided (None
    when none applies), `rule` the matched rule's name in that object (or `rule N`, 1-based),
    `rule_path` its place in the object (`spec.http[0]`, `spec.rules[1]`)."""

    request: Request
    mesh: str | None = None
    router: str | None = None
    rule: str | None = None
    rule_path: str | None = None
    rule_named: bool = False
    destinations: tuple[Destination, ...] = ()
    mirrors: tuple[Mirror, ...] = ()
    response_headers: Mapping[str, str] = field(default_factory=dict)
    fault: Mapping[str, Any] | None = None
    direct: Mapping[str, Any] | None = None  # a redirect or direct response instead of a backend
    why: tuple[str, ...] = ()

    @property
    def routed(self) -> bool:
        return bool(self.destinations) and any(d.share for d in self.destinations)

    def versions(self) -> dict[str, Fraction]:
        """{version: share of requests} over every destination: NO_ENDPOINTS for a cluster Service with no
        pods among the documents (the documents are taken to be what the cluster runs), the host for a
        backend outside the cluster (`hosts()` names every backend by host)."""
        out: dict[str, Fraction] = {}
        for dest in self.destinations:
            if not dest.share:
                continue
            if dest.service is None:
                out[dest.host] = out.get(dest.host, 0) + dest.share
            elif not dest.versions:
                out[NO_ENDPOINTS] = out.get(NO_ENDPOINTS, 0) + dest.share
            for version, part in dest.versions.items():
                out[version] = out.get(version, 0) + dest.share * part
        return out

    def hosts(self) -> dict[str, Fraction]:
        """{host: share of requests}: where the requests leave the routing object to."""
        out: dict[str, Fraction] = {}
        for dest in self.destinations:
            if dest.share:
                out[dest.host] = out.get(dest.host, 0) + dest.share
        return out

    def set_cookies(self) -> dict[str, str | None]:
        """{backend: the Set-Cookie its responses carry, or None}."""
        return {d.backend: _get(d.response_headers, "set-cookie") for d in self.destinations}


def _get(headers: Mapping[str, str], name: str) -> str | None:
    for k, v in headers.items():
        if k.lower() == name:
            return v
    return None


# --- names and the cluster behind them -----------------------------------------------------------

def _kind(doc: dict) -> str:
    return doc.get("kind", "")


def _ns(doc: dict, default: str | None = None) -> str | None:
    return (doc.get("metadata") or {}).get("namespace") or default


def _name(doc: dict) -> str:
    return (doc.get("metadata") or {}).get("name", "")


def mesh_of(doc: dict) -> str | None:
    """Which routing family a document belongs to: ISTIO, GATEWAY_API, LINKERD, or None."""
    api = doc.get("apiVersion", "")
    if _kind(doc) == "VirtualService" and api.startswith("networking.istio.io/"):
        return ISTIO
    if _kind(doc) == "HTTPRoute":
        if api.startswith(_GATEWAY_GROUP + "/"):
            return GATEWAY_API
        if api.startswith(_LINKERD_GROUP + "/"):
            return LINKERD
    return None


def service_host(name: str, namespace: str) -> str:
    return service_fqdn(name, namespace)


def canonical_host(host: str, namespace: str | None, namespaces: set[str] = frozenset()) -> str:
    """A host as the mesh's DNS resolves it: a short name is a Service of `namespace` (Istio resolves
    the short hosts of a VirtualService in the VirtualService's namespace); `name.ns` and `name.ns.svc`
    are Services of `ns` when `ns` is a namespace of these documents; anything else stays as written."""
    host = host.lower().rstrip(".")
    parts = host.split(".")
    if host.startswith("*"):
        return host
    if len(parts) == 1 and namespace:
        return service_host(host, namespace)
    if len(parts) == 2 and parts[1] in namespaces:
        return service_host(parts[0], parts[1])
    if len(parts) == 3 and parts[2] == "svc":
        return f"{host}.{DEFAULT_CLUSTER_DOMAIN}"
    return host


def _service_of_host(host: str) -> tuple[str, str] | None:
    """(namespace, name) of a cluster-local host, or None."""
    suffix = "." + CLUSTER_DOMAIN
    if host.endswith(suffix):
        parts = host[: -len(suffix)].split(".")
        if len(parts) == 2:
            return parts[1], parts[0]
    return None


def _host_matches(pattern: str, host: str) -> bool:
    """Istio hosts and Gateway API hostnames: `*.example.com` matches any host below example.com (one or
    more labels), `*` matches everything, otherwise equality (case-insensitive)."""
    pattern, host = pattern.lower(), host.lower()
    if pattern == "*":
        return True
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return pattern == host


@dataclass
class _Cluster:
    """The Services, DestinationRules and workloads (Deployments, ReplicaSets) among the documents."""

    services: dict[tuple[str, str], dict]
    subsets: dict[tuple[str, str, str], dict]
    deployments: list[dict]

    @classmethod
    def of(cls, documents: list[dict]) -> "_Cluster":
        services, subsets, deployments = {}, {}, []
        for doc in documents:
            kind = _kind(doc)
            if kind == "Service":
                services.setdefault((_ns(doc, "default"), _name(doc)), doc)
            elif kind in ("Deployment", "ReplicaSet"):
                deployments.append(doc)
        for doc in documents:
            if _kind(doc) == "DestinationRule":
                ns = _ns(doc, "default")
                target = _service_of_host(canonical_host(doc["spec"].get("host", ""), ns, _namespaces(documents)))
                for entry in doc["spec"].get("subsets") or []:
                    if target is not None:
                        subsets.setdefault((*target, entry["name"]), entry.get("labels") or {})
        return cls(services, subsets, deployments)

    def versions(self, service: tuple[str, str] | None, subset: str | None) -> dict[str, Fraction]:
        """{version: share} of the ready pods behind a Service (and a DestinationRule subset): the pods,
        in the Service's namespace, whose labels match the Service's selector and the subset's labels.
        The mesh balances per pod, so each version's share is its replicas over all replicas."""
        if service is None or service not in self.services:
            return {}
        selector = dict(self.services[service]["spec"].get("selector") or {})
        if subset is not None:
            labels = self.subsets.get((*service, subset))
            if labels is None:
                return {}  # Envoy has no cluster for an undefined subset: the request fails
            selector.update(labels)
        if not selector:
            return {}
        pods: dict[str, int] = {}
        for doc in self.deployments:
            if _ns(doc, "default") != service[0]:
                continue
            labels = ((doc.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}
            if all(labels.get(k) == v for k, v in selector.items()):
                version = labels.get(VERSION_LABEL, _name(doc))
                pods[version] = pods.get(version, 0) + int(doc["spec"].get("replicas", 1))
        total = sum(pods.values())
        return {v: Fraction(n, total) for v, n in sorted(pods.items())} if total else {}


def _namespaces(documents: list[dict]) -> set[str]:
    return {_ns(d) for d in documents if _ns(d)}


# --- string matches ------------------------------------------------------------------------------

def _istio_string_match(spec: dict | None, value: str | None, ignore_case: bool = False) -> bool:
    """Istio StringMatch: `exact`, `prefix`, `regex` (RE2, whole value, as Envoy's safe_regex). An empty
    StringMatch `{}` matches any present value (header presence)."""
    if value is None:
        return False
    spec = spec or {}
    if ignore_case:
        value = value.lower()
    if "exact" in spec:
        return value == (spec["exact"].lower() if ignore_case else spec["exact"])
    if "prefix" in spec:
        return value.startswith(spec["prefix"].lower() if ignore_case else spec["prefix"])
    if "regex" in spec:
        return re2.fullmatch(spec["regex"], value) is not None
    return True


def _path_prefix_match(prefix: str, path: str) -> bool:
    """Gateway API PathPrefix: element-wise, `/foo` matches `/foo` and `/foo/bar`, not `/foobar`; a
    trailing slash in the prefix is ignored."""
    prefix = prefix.rstrip("/")
    return path == prefix or path.startswith(prefix + "/") or not prefix


# --- Istio ---------------------------------------------------------------------------------------

def _istio_gateways(vs: dict) -> list[str]:
    """A VirtualService's gateways as NAMESPACE/NAME (or `mesh`); none written means `mesh` only."""
    ns = _ns(vs, "default")
    out = []
    for g in vs["spec"].get("gateways") or [MESH]:
        out.append(g if g == MESH or "/" in g else f"{ns}/{g}")
    return out


def _istio_entry(request: Request) -> str:
    ref = request.gateway_ref()
    return MESH if ref is None else f"{ref[0]}/{ref[1]}"


def _istio_match(match: dict, request: Request, headers: dict[str, str], entry: str, vs_ns: str) -> str | None:
    """None when one HTTPMatchRequest matches the request, else why not (all its conditions must hold)."""
    ignore_case = bool(match.get("ignoreUriCase"))
    if "uri" in match and not _istio_string_match(match["uri"], request.bare_path, ignore_case):
        return f"uri {match['uri']} does not match {request.bare_path!r}"
    if "method" in match and not _istio_string_match(match["method"], request.method):
        return f"method {match['method']} does not match {request.method!r}"
    if "authority" in match and not _istio_string_match(match["authority"], headers.get(":authority")):
        return f"authority {match['authority']} does not match {headers.get(':authority')!r}"
    if "scheme" in match and not _istio_string_match(match["scheme"], "http"):
        return f"scheme {match['scheme']} does not match 'http'"
    for name, spec in (match.get("headers") or {}).items():
        if not _istio_string_match(spec, headers.get(name.lower())):
            return f"header {name} {spec or 'present'} does not match {headers.get(name.lower())!r}"
    for name, spec in (match.get("withoutHeaders") or {}).items():
        if _istio_string_match(spec, headers.get(name.lower())):
            return f"withoutHeaders {name} {spec or 'present'} matches {headers.get(name.lower())!r}"
    query = request.query
    for name, spec in (match.get("queryParams") or {}).items():
        if not _istio_string_match(spec, query.get(name)):
            return f"query parameter {name} {spec} does not match {query.get(name)!r}"
    if "port" in match and request.port is not None and int(match["port"]) != request.port:
        return f"port {match['port']} is not {request.port}"
    gateways = match.get("gateways")
    if gateways:
        written = [g if g == MESH or "/" in g else f"{vs_ns}/{g}" for g in gateways]
        if entry not in written:
            return f"gateways {gateways} do not include {entry!r}"
    for unknown in ("sourceLabels", "sourceNamespace"):
        if unknown in match:
            return f"{unknown} depends on the calling pod, which the request does not name"
    return None


def _istio_headers(ops: dict | None) -> dict[str, str]:
    """Istio HeaderOperations `set` then `add` (an added value is appended, comma-separated)."""
    out = dict((ops or {}).get("set") or {})
    for k, v in ((ops or {}).get("add") or {}).items():
        out[k] = f"{out[k]}, {v}" if k in out else v
    return out


def _istio_backend(destination: dict, vs_ns: str, namespaces: set[str]) -> tuple[str, tuple[str, str] | None, str | None]:
    host, subset = destination["host"], destination.get("subset")
    backend = f"{host}/{subset}" if subset else host
    return backend, _service_of_host(canonical_host(host, vs_ns, namespaces)), subset


def _percent(value: Any) -> Fraction:
    return Fraction(str(value)) if value is not None else Fraction(100)


def _istio_route(vs: dict, request: Request, cluster: _Cluster, namespaces: set[str], why: list[str]) -> Result:
    """Istio: `http` routes are evaluated in order and the first whose `match` holds wins (a route
    without `match` matches everything; alternatives in `match` are ORed, fields within one ANDed).
    Among its `route` destinations a lone destination takes all traffic; otherwise each takes its
    `weight` (an unwritten weight is 0) of the total. `mirror`/`mirrors` copy the request (percentage
    default 100 %), `headers.response` set headers on the response, `fault` injects delays or aborts."""
    headers = request.header_map()
    entry = _istio_entry(request)
    vs_ns = _ns(vs, "default")
    router = f"VirtualService {vs_ns}/{_name(vs)}"
    for index, http in enumerate(vs["spec"].get("http") or []):
        label = http.get("name") or f"rule {index + 1}"
        matches = http.get("match")
        if matches:
            reasons = [_istio_match(m, request, headers, entry, vs_ns) for m in matches]
            if all(reasons):
                why.append(f"{label} (spec.http[{index}]) does not match: " + "; ".join(r for r in reasons if r))
                continue
            why.append(f"{label} (spec.http[{index}]) matches (Istio takes the first matching route)")
        else:
            why.append(f"{label} (spec.http[{index}]) has no match: it takes every request that reaches it")
        rule_headers = _istio_headers((http.get("headers") or {}).get("response"))
        routes = http.get("route") or []
        dests = []
        total = sum(int(r.get("weight", 0)) for r in routes) if len(routes) > 1 else 0
        for r in routes:
            backend, service, subset = _istio_backend(r["destination"], vs_ns, namespaces)
            weight = r.get("weight")
            share = Fraction(1) if len(routes) == 1 else (Fraction(int(weight or 0), total) if total else Fraction(0))
            dests.append(Destination(backend, weight, share, service, subset, cluster.versions(service, subset),
                                     {**rule_headers, **_istio_headers((r.get("headers") or {}).get("response"))}))
        mirrors = []
        if http.get("mirror"):
            backend, service, subset = _istio_backend(http["mirror"], vs_ns, namespaces)
            pct = (http.get("mirrorPercentage") or {}).get("value", http.get("mirrorPercent"))
            mirrors.append(Mirror(backend, _percent(pct), service, subset, cluster.versions(service, subset)))
        for m in http.get("mirrors") or []:
            backend, service, subset = _istio_backend(m["destination"], vs_ns, namespaces)
            mirrors.append(Mirror(backend, _percent((m.get("percentage") or {}).get("value")), service, subset,
                                  cluster.versions(service, subset)))
        direct = None
        if http.get("redirect"):
            direct = {"redirect": http["redirect"]}
        elif http.get("directResponse"):
            direct = {"directResponse": http["directResponse"]}
        return Result(request, ISTIO, router, label, f"spec.http[{index}]", bool(http.get("name")), tuple(dests),
                      tuple(mirrors), rule_headers, http.get("fault"), direct, tuple(why))
    why.append("no route of the VirtualService matches: the mesh answers 404")
    return Result(request, ISTIO, router, why=tuple(why))


def _istio_applies(vs: dict, request: Request, host: str | None, namespaces: set[str]) -> bool:
    """A VirtualService applies when the request enters where it is bound (`gateways`; none written
    means the mesh) and its host matches one of `hosts` (short names resolved in its namespace)."""
    if _istio_entry(request) not in _istio_gateways(vs):
        return False
    if host is None:
        return True
    vs_ns = _ns(vs, "default")
    return any(_host_matches(canonical_host(h, vs_ns, namespaces), host) for h in vs["spec"].get("hosts") or [])


# --- Gateway API and Linkerd HTTPRoute -----------------------------------------------------------

def _parent_attaches(ref: dict, route_ns: str, request: Request, service: tuple[str, str] | None) -> bool:
    """A parentRef takes the request: a Gateway parent (group gateway.networking.k8s.io, kind Gateway,
    the defaults) when the request enters through it (and through its `sectionName` listener when one
    is written); a Service parent (GAMMA: group "" or core, kind Service) when the request, from the
    mesh, targets that Service (on `port`, when both name one)."""
    kind = ref.get("kind", "Gateway")
    group = ref.get("group", _GATEWAY_GROUP)
    namespace = ref.get("namespace") or route_ns
    gateway = request.gateway_ref()
    if kind == "Gateway" and group == _GATEWAY_GROUP:
        if gateway is None or (gateway[0], gateway[1]) != (namespace, ref["name"]):
            return False
        return not (ref.get("sectionName") and gateway[2] and ref["sectionName"] != gateway[2])
    if kind == "Service" and group in ("", "core"):
        if gateway is not None or service is None or service != (namespace, ref["name"]):
            return False
        return not (ref.get("port") and request.port and int(ref["port"]) != request.port)
    return False


def _gateway_string(spec: dict, value: str | None) -> bool:
    if value is None:
        return False
    if spec.get("type", "Exact") == "Exact":
        return value == spec["value"]
    return re2.fullmatch(spec["value"], value) is not None  # RegularExpression: RE2, whole value (Envoy)


@dataclass(frozen=True)
class _Candidate:
    """One (route, rule, match) that holds for the request, with its precedence key."""

    key: tuple
    route: dict
    index: int
    match: dict


def _gateway_match(match: dict, request: Request, headers: dict[str, str]) -> str | None:
    """None when one HTTPRouteMatch holds (path, headers, queryParams and method all ANDed), else why not."""
    path = match.get("path") or {"type": "PathPrefix", "value": "/"}
    kind, value = path.get("type", "PathPrefix"), path.get("value", "/")
    p = request.bare_path
    if kind == "Exact" and p != value or kind == "PathPrefix" and not _path_prefix_match(value, p) \
            or kind == "RegularExpression" and re2.fullmatch(value, p) is None:
        return f"path {kind} {value!r} does not match {p!r}"
    for h in match.get("headers") or []:
        if not _gateway_string(h, headers.get(h["name"].lower())):
            return f"header {h['name']} {h.get('type', 'Exact')} {h['value']!r} does not match {headers.get(h['name'].lower())!r}"
    query = request.query
    for q in match.get("queryParams") or []:
        if not _gateway_string(q, query.get(q["name"])):
            return f"query parameter {q['name']} {q.get('type', 'Exact')} {q['value']!r} does not match {query.get(q['name'])!r}"
    if match.get("method") and match["method"] != request.method:
        return f"method {match['method']} is not {request.method}"
    return None


def _precedence(route: dict, index: int, match: dict) -> tuple:
    """Gateway API precedence (HTTPRouteRule, "matches"): an Exact path first, then the longest
    PathPrefix, then a method match, then the most header matches, then the most query parameter
    matches; ties go to the oldest route (creationTimestamp), then the route first by namespace/name,
    then the rule first in the route. A RegularExpression path is implementation-specific: it ranks
    below every Exact and PathPrefix match here. Smaller keys win."""
    path = match.get("path") or {"type": "PathPrefix", "value": "/"}
    kind = path.get("type", "PathPrefix")
    path_rank = {"Exact": 0, "PathPrefix": 1}.get(kind, 2)
    prefix_len = len(path.get("value", "/")) if kind == "PathPrefix" else 0
    meta = route.get("metadata") or {}
    return (path_rank, -prefix_len, 0 if match.get("method") else 1, -len(match.get("headers") or []),
            -len(match.get("queryParams") or []), meta.get("creationTimestamp") or "",
            f"{_ns(route, 'default')}/{_name(route)}", index)


def _hostname_rank(route: dict, request: Request) -> tuple:
    """Through a Gateway, among routes with intersecting hostnames the rules of the route with the most
    characters in a matching non-wildcard hostname go first, then with the most characters in any
    matching hostname (HTTPRouteSpec `hostnames`); a route without hostnames matches with none. In the
    mesh hostnames are not consulted."""
    if request.gateway_ref() is None or request.host is None:
        return (0, 0)
    host = request.host.lower()
    matching = [h for h in route["spec"].get("hostnames") or [] if _host_matches(h, host)]
    exact = max((len(h) for h in matching if not h.startswith("*")), default=0)
    return (-exact, -max((len(h) for h in matching), default=0))


def _gateway_headers(filters: list | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in filters or []:
        if f.get("type") == "ResponseHeaderModifier":
            mod = f.get("responseHeaderModifier") or {}
            out.update(_istio_headers({"set": {h["name"]: h["value"] for h in mod.get("set") or []},
                                       "add": {h["name"]: h["value"] for h in mod.get("add") or []}}))
    return out


def _ref_service(ref: dict, route_ns: str) -> tuple[str, str] | None:
    if ref.get("kind", "Service") == "Service" and ref.get("group", "") in ("", "core"):
        return ref.get("namespace") or route_ns, ref["name"]
    return None


def _ref_name(ref: dict, route_ns: str) -> str:
    ns = ref.get("namespace")
    return f"{ns}/{ref['name']}" if ns and ns != route_ns else ref["name"]


def _gateway_mirrors(filters: list | None, route_ns: str, cluster: _Cluster) -> list[Mirror]:
    """RequestMirror filters: `percent`, or `fraction` (numerator/denominator, denominator 100 by
    default); neither written mirrors every request."""
    out = []
    for f in filters or []:
        if f.get("type") != "RequestMirror":
            continue
        mirror = f.get("requestMirror") or {}
        ref = mirror["backendRef"]
        if "percent" in mirror:
            pct = Fraction(mirror["percent"])
        elif "fraction" in mirror:
            frac = mirror["fraction"]
            pct = Fraction(int(frac["numerator"]) * 100, int(frac.get("denominator", 100)))
        else:
            pct = Fraction(100)
        service = _ref_service(ref, route_ns)
        out.append(Mirror(_ref_name(ref, route_ns), pct, service, None, cluster.versions(service, None)))
    return out


def _httproute_result(candidate: _Candidate, request: Request, mesh: str, cluster: _Cluster, why: list[str]) -> Result:
    """The chosen rule's backendRefs share requests by `weight` (default 1) over the total; a rule with
    no backendRefs, or whose weights are all 0, answers 500 (Gateway API). Filters on the rule and on a
    backendRef apply; RequestMirror copies the request."""
    route, index = candidate.route, candidate.index
    route_ns = _ns(route, "default")
    rule = route["spec"]["rules"][index]
    label = rule.get("name") or f"rule {index + 1}"
    refs = rule.get("backendRefs") or []
    total = sum(int(r.get("weight", 1)) for r in refs)
    rule_headers = _gateway_headers(rule.get("filters"))
    dests = []
    for r in refs:
        service = _ref_service(r, route_ns)
        share = Fraction(int(r.get("weight", 1)), total) if total else Fraction(0)
        dests.append(Destination(_ref_name(r, route_ns), r.get("weight"), share, service, None,
                                 cluster.versions(service, None), {**rule_headers, **_gateway_headers(r.get("filters"))}))
    mirrors = _gateway_mirrors(rule.get("filters"), route_ns, cluster)
    for r in refs:
        mirrors += _gateway_mirrors(r.get("filters"), route_ns, cluster)
    direct = None
    for f in rule.get("filters") or []:
        if f.get("type") == "RequestRedirect":
            direct = {"redirect": f.get("requestRedirect") or {}}
    if not total and direct is None:
        why.append("the rule has no backend with a weight: the request is answered 500")
    return Result(request, mesh, f"HTTPRoute {route_ns}/{_name(route)}", label, f"spec.rules[{index}]",
                  bool(rule.get("name")), tuple(dests), tuple(mirrors), rule_headers, None, direct, tuple(why))


def _httproute_applies(route: dict, request: Request, host: str | None, service: tuple[str, str] | None) -> bool:
    """An HTTPRoute applies when a parentRef takes the request and, for a Gateway parent, the host is
    among `hostnames` (none written: every host). For a Service parent the Service decides and
    `hostnames` are not consulted (GAMMA)."""
    route_ns = _ns(route, "default")
    refs = route["spec"].get("parentRefs") or []
    if not any(_parent_attaches(r, route_ns, request, service) for r in refs):
        return False
    hostnames = route["spec"].get("hostnames") or []
    if request.gateway_ref() is None or not hostnames or host is None:
        return True
    return any(_host_matches(h, host) for h in hostnames)


def _httproutes_route(routes: list[dict], request: Request, mesh: str, cluster: _Cluster, why: list[str]) -> Result:
    """Gateway API / Linkerd: every match of every rule of every applicable route is a candidate; the
    one with the highest precedence (see `_precedence`) wins. A rule without `matches` matches every
    request as a PathPrefix `/`."""
    headers = request.header_map()
    candidates = []
    for route in routes:
        where = f"HTTPRoute {_ns(route, 'default')}/{_name(route)}"
        for index, rule in enumerate(route["spec"].get("rules") or []):
            label = rule.get("name") or f"rule {index + 1}"
            for m in rule.get("matches") or [{}]:
                reason = _gateway_match(m, request, headers)
                if reason:
                    why.append(f"{where} {label} (spec.rules[{index}]) does not match: {reason}")
                else:
                    key = (_hostname_rank(route, request), *_precedence(route, index, m))
                    candidates.append(_Candidate(key, route, index, m))
    if not candidates:
        why.append("no rule matches: the request is answered 404")
        return Result(request, mesh, f"HTTPRoute {_ns(routes[0], 'default')}/{_name(routes[0])}", why=tuple(why))
    candidates.sort(key=lambda c: c.key)
    chosen = candidates[0]
    rule = chosen.route["spec"]["rules"][chosen.index]
    label = rule.get("name") or f"rule {chosen.index + 1}"
    others = len({(id(c.route), c.index) for c in candidates}) - 1
    why.append(f"{label} (spec.rules[{chosen.index}]) matches"
               + (f" and takes precedence over {others} other matching rule{'s' if others > 1 else ''} "
                  f"(exact path, longest prefix, method, most headers, most query parameters, then order)"
                  if others else ""))
    return _httproute_result(chosen, request, mesh, cluster, why)


# --- the entry points ----------------------------------------------------------------------------

def _target(documents: list[dict], request: Request, namespaces: set[str]) -> str | None:
    """The canonical host a request addresses: its `host`, or (none given, from the mesh) the one Service
    the mesh-bound routing objects route."""
    if request.host is not None:
        if request.gateway_ref() is not None:
            return request.host.lower()
        default_ns = request.namespace
        if default_ns is None:  # a caller beside the routed Service (or beside every Service)
            routed = {_ns(d, "default") for d in documents if mesh_of(d)} or \
                {_ns(d, "default") for d in documents if _kind(d) == "Service"}
            default_ns = next(iter(routed)) if len(routed) == 1 else None
        return canonical_host(request.host, default_ns, namespaces)
    if request.gateway_ref() is not None:
        return None
    targets = set()
    for doc in documents:
        mesh = mesh_of(doc)
        if mesh == ISTIO and MESH in _istio_gateways(doc):
            targets.update(canonical_host(h, _ns(doc, "default"), namespaces) for h in doc["spec"].get("hosts") or [])
        elif mesh in (GATEWAY_API, LINKERD):
            for ref in doc["spec"].get("parentRefs") or []:
                if ref.get("kind") == "Service":
                    targets.add(service_host(ref["name"], ref.get("namespace") or _ns(doc, "default")))
    # A mesh-bound VirtualService may also list the hostnames its gateways serve: a request without a host
    # is one to the routed Service, so a cluster Service among the hosts is the one meant.
    services = {t for t in targets if _service_of_host(t) is not None}
    if len(services) == 1:
        targets = services
    if len(targets) != 1:
        raise RoutingError("the documents route " + (f"{len(targets)} hosts ({', '.join(sorted(targets))})"
                                                     if targets else "no Service")
                           + ": name the request's host")
    return targets.pop()


def route_request(documents: Iterable[dict], request: Request | None = None) -> Result:
    """Where `request` goes, given every document a cluster runs (routing objects, DestinationRules,
    Services, Deployments). The routing objects that apply are chosen by the way the request enters
    (gateway or mesh) and its host; Istio's VirtualServices are consulted first, then HTTPRoutes. A
    mesh request to a Service no routing object routes goes to the Service's pods."""
    request = request or Request()
    documents = [d for d in documents if isinstance(d, dict)]
    namespaces = _namespaces(documents)
    cluster = _Cluster.of(documents)
    host = _target(documents, request, namespaces)
    service = _service_of_host(host) if host else None
    why = [f"the request enters through {'gateway ' + request.gateway if request.gateway_ref() else 'the mesh'}"
           + (f" for host {host}" if host else "")]
    istio = sorted((d for d in documents if mesh_of(d) == ISTIO and _istio_applies(d, request, host, namespaces)),
                   key=lambda d: ((d.get("metadata") or {}).get("creationTimestamp") or "", _ns(d, ""), _name(d)))
    if istio:
        if len(istio) > 1:
            why.append(f"{len(istio)} VirtualServices apply; Istio uses the oldest, "
                       f"VirtualService {_ns(istio[0], 'default')}/{_name(istio[0])}")
        else:
            why.append(f"VirtualService {_ns(istio[0], 'default')}/{_name(istio[0])} applies")
        return _istio_route(istio[0], request, cluster, namespaces, why)
    for mesh in (GATEWAY_API, LINKERD):
        routes = [d for d in documents if mesh_of(d) == mesh and _httproute_applies(d, request, host, service)]
        if routes:
            why.append(", ".join(f"HTTPRoute {_ns(r, 'default')}/{_name(r)}" for r in routes)
                       + (" applies" if len(routes) == 1 else " apply"))
            return _httproutes_route(routes, request, mesh, cluster, why)
    if service is not None and service in cluster.services and request.gateway_ref() is None:
        why.append(f"no routing object routes {host}: the Service balances across its pods")
        dest = Destination(service[1] if service[0] == request.namespace else f"{service[0]}/{service[1]}",
                           None, Fraction(1), service, None, cluster.versions(service, None))
        return Result(request, None, None, destinations=(dest,), why=tuple(why))
    why.append("no routing object applies to the request")
    return Result(request, why=tuple(why))


def evaluate(router: dict, request: Request | None = None, cluster: Iterable[dict] = ()) -> Result:
    """The rules of one routing object for `request`, whatever its hosts and parents say (the object is
    taken to apply): the same matching as `route_request`, for a caller that already chose the object."""
    request = request or Request()
    documents = [router, *cluster]
    namespaces = _namespaces(documents)
    mesh = mesh_of(router)
    why = [f"{_kind(router)} {_ns(router, 'default')}/{_name(router)} is evaluated"]
    if mesh == ISTIO:
        return _istio_route(router, request, _Cluster.of(documents), namespaces, why)
    if mesh in (GATEWAY_API, LINKERD):
        return _httproutes_route([router], request, mesh, _Cluster.of(documents), why)
    raise RoutingError(f"{_kind(router) or 'the document'} is not a routing object rollgen evaluates "
                       "(VirtualService, Gateway API or Linkerd HTTPRoute)")


# --- rendering -----------------------------------------------------------------------------------

def share_text(share: Fraction) -> str:
    """A share as a percentage: `10%`, `33.33%`."""
    value = share * 100
    return f"{value.numerator // value.denominator}%" if value.denominator == 1 else f"{float(value):.4g}%"


def _reach(versions: Mapping[str, Fraction], fallback: str) -> str:
    if not versions:
        return fallback
    if len(versions) == 1:
        return f"version {next(iter(versions))}" if next(iter(versions.values())) == 1 else \
            f"version {next(iter(versions))} ({share_text(next(iter(versions.values())))})"
    return "versions " + ", ".join(f"{v} ({share_text(s)})" for v, s in versions.items())


def explain(result: Result) -> str:
    """The text `rollgen route` prints: what the request reaches, through which rule, the shares when a
    split decides, the cookies it receives, the copies a mirror makes, and any fault."""
    lines = []
    if result.rule:
        rule = f"rule {result.rule!r} ({result.rule_path})" if result.rule_named else f"{result.rule} ({result.rule_path})"
        where = f" ({result.router}, {rule})"
    else:
        where = f" ({result.router})" if result.router else ""
    if result.direct:
        lines.append(f"answered without a backend: {next(iter(result.direct))}{where}")
    elif not result.routed:
        lines.append(f"reaches nothing{where}: {result.why[-1]}")
    else:
        live = [d for d in result.destinations if d.share]
        reached = result.versions()
        if len(live) == 1:
            d = live[0]
            through = "" if d.backend == d.host else f" through {d.backend}"
            lines.append(f"reaches {_reach(d.versions, 'host ' + d.host)}{through}{where}")
        else:
            lines.append(f"reaches {_reach(reached, 'nothing')}{where}")
            lines.append("  split: " + ", ".join(
                f"{d.backend} {share_text(d.share)}" + (f" (weight {d.weight})" if d.weight is not None else "")
                + (f" -> {_reach(d.versions, 'host ' + d.host)}") for d in live))
    for d in result.destinations:
        cookie = _get(d.response_headers, "set-cookie")
        if cookie and d.share:
            prefix = f"  from {d.backend}: " if len(result.destinations) > 1 else "  "
            lines.append(f"{prefix}Set-Cookie: {cookie}")
    for m in result.mirrors:
        # Envoy's request mirror policy appends "-shadow" to the copy's authority (Istio's `mirror`).
        shadow = " with -shadow appended to its Host" if result.mesh == ISTIO else ""
        lines.append(f"  mirrored: a copy of {share_text(m.percent / 100)} of these requests goes to {m.backend}"
                     + (f" ({_reach(m.versions, m.backend)})" if m.versions else "") + shadow
                     + "; its response is discarded")
    if result.fault:
        lines.append(f"  fault injected: {fault_description(result.fault)}")
    return "\n".join(lines)


def fault_parts(fault: Mapping[str, Any] | None) -> dict[str, tuple]:
    """An Istio HTTPFaultInjection as {"abort": (status, share), "delay": (duration, share)}: shares are
    fractions of the matched requests, a percentage left out meaning every request."""
    out: dict[str, tuple] = {}
    for kind, what in (("abort", "httpStatus"), ("delay", "fixedDelay")):
        if kind in (fault or {}):
            pct = (fault[kind].get("percentage") or {}).get("value", 100)
            out[kind] = (fault[kind].get(what), Fraction(str(pct)) / 100)
    return out


def fault_description(fault: Mapping[str, Any]) -> str:
    """An Istio HTTPFaultInjection in words."""
    parts = fault_parts(fault)
    said = []
    if "delay" in parts:
        said.append(f"delays {share_text(parts['delay'][1])} of these requests by {parts['delay'][0]}")
    if "abort" in parts:
        said.append(f"answers {share_text(parts['abort'][1])} of these requests with HTTP {parts['abort'][0]} "
                    "instead of forwarding them")
    return "; ".join(said) or str(dict(fault))


def _share_json(share: Fraction) -> str:
    return str(share)


def to_json(result: Result) -> dict:
    """The JSON-able form of a result (`rollgen route --format json`); shares are exact fractions as
    strings ("1/10") with a percentage beside them."""
    req = result.request
    return {
        "request": {"host": req.host, "gateway": req.gateway, "path": req.path, "method": req.method,
                    "headers": dict(req.headers), "cookies": dict(req.cookies)},
        "mesh": result.mesh,
        "router": result.router,
        "rule": result.rule,
        "rulePath": result.rule_path,
        "versions": {v: {"share": _share_json(s), "percent": float(s * 100)} for v, s in result.versions().items()},
        "destinations": [
            {"backend": d.backend, "host": d.host, "subset": d.subset, "weight": d.weight,
             "share": _share_json(d.share), "percent": float(d.share * 100),
             "versions": {v: _share_json(s) for v, s in d.versions.items()},
             "responseHeaders": dict(d.response_headers)}
            for d in result.destinations],
        "mirrors": [{"backend": m.backend, "percent": float(m.percent), "subset": m.subset,
                     "versions": {v: _share_json(s) for v, s in m.versions.items()}} for m in result.mirrors],
        "responseHeaders": dict(result.response_headers),
        "fault": dict(result.fault) if result.fault else None,
        "direct": dict(result.direct) if result.direct else None,
        "why": list(result.why),
    }
