"""The routing table of the tests: thin views over `generator.views.routing`, the one engine that evaluates
generated routing objects (the same one `rollgen route` and `rollgen test` use).

`route()` says where a request with given headers goes, as {backend: weight}; `hits()` adds the
response headers each destination sets (e.g. the sticky cookie of an A/B test); `set_cookies()` keeps
just the `Set-Cookie`. Backends are named as the routing object writes them: `host/subset` or `host`
(Istio), `name` or `namespace/name` (HTTPRoute). A lone destination shows weight 100.

`serving()` follows a request on to the pods: given every object a cluster runs (including the
Deployments a sync without pruning left behind), which versions' pods answer it, and in what share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from generator.views.routing import NO_ENDPOINTS, Request, evaluate, mesh_of

__all__ = ["Hit", "NO_ENDPOINTS", "hits", "route", "serving", "set_cookies"]


@dataclass(frozen=True)
class Hit:
    """One place a request may go, with its weight and the response headers set on the way back."""

    backend: str
    weight: int
    response_headers: dict = field(default_factory=dict, compare=False)


def _router(documents) -> dict:
    for doc in documents:
        if mesh_of(doc):
            return doc
    raise AssertionError("no routing object among the documents")


def hits(documents, headers: dict[str, str] | None = None) -> list[Hit]:
    """Every destination a request with `headers` may reach, given the generated documents."""
    result = evaluate(_router(documents), Request(headers=headers or {}))
    dests = result.destinations
    default = 0 if result.mesh == "istio" else 1  # Istio: an unwritten weight is 0; HTTPRoute: 1
    return [Hit(d.backend, 100 if len(dests) == 1 else (default if d.weight is None else int(d.weight)),
                dict(d.response_headers)) for d in dests]


def route(documents, headers: dict[str, str] | None = None) -> dict[str, int]:
    """Where a request with `headers` goes, given the generated documents (any iterable of dicts)."""
    return {h.backend: h.weight for h in hits(documents, headers)}


def set_cookies(documents, headers: dict[str, str] | None = None) -> dict[str, str | None]:
    """{backend: the Set-Cookie its response carries, or None} for a request with `headers`."""
    return {h.backend: h.response_headers.get("Set-Cookie") for h in hits(documents, headers)}


def serving(cluster, headers: dict[str, str] | None = None) -> dict[str, Fraction]:
    """{version: share of requests} for a request with `headers`, given every object the cluster runs
    (routing objects, Services and Deployments, including any left behind). A backend is shared among
    its pods evenly (per pod, as kube-proxy and the meshes balance by default); a backend with a weight
    but no endpoints shows up as NO_ENDPOINTS."""
    cluster = list(cluster)
    return evaluate(_router(cluster), Request(headers=headers or {}), cluster).versions()
