"""What each service mesh can do, in one table: how routes are written, whether every version gets its
own Service, which metrics it exports, and which Flagger providers run on it. Checks, plans and
constructs ask here instead of testing the mesh's name."""

from __future__ import annotations

from dataclasses import dataclass

MAX_HTTPROUTE_RULES = 16  # maxItems of spec.rules in both HTTPRoute CRDs


@dataclass(frozen=True)
class RouteAPI:
    """The routing object rollgen writes: an Istio VirtualService (with a DestinationRule of subsets),
    or a GAMMA HTTPRoute attached to the Service (apiVersion, parentRef group, backendRef group)."""

    kind: str  # "VirtualService" | "HTTPRoute"
    api_version: str
    parent_group: str = ""
    backend_group: str = ""
    rule_limit: int | None = None  # rules one object holds (the HTTPRoute CRD's maxItems), None: no limit
    registry_hosts: bool = False  # routes only to hosts the mesh's registry knows (Istio: a ServiceEntry for others)
    # The apiVersion that has per-rule `timeouts` when `api_version` has none ("" when it has them or none has)
    timeouts_api_version: str = ""


@dataclass(frozen=True)
class Mesh:
    route: RouteAPI
    per_version_services: bool  # versions are told apart by Services `<name>-<version>` (not subsets)
    metrics: str  # the metrics source when a spec names none: the mesh's own, or the app's
    providers: tuple[str, ...]  # Flagger providers that run beside this mesh
    default_provider: str
    scaffold_note: str  # what `rollgen init` says the mesh gets
    # How an A/B test's or a sticky canary's cookie is set: "route" (the route sets it), "backend-filters"
    # (a ResponseHeaderModifier on each backendRef: the header depends on the backend the split chose)
    sticky_cookie: str = "route"
    # The mesh itself applies backendRef filters (Linkerd: its policy controller hands them to the proxy,
    # policy-controller/k8s/index/src/outbound/index/http.rs convert_gateway_backend_filter); for the
    # Gateway API in general they are implementation-specific, and a spec relying on them is warned.
    backend_filters_applied: bool = False
    # How the route copies requests to another backend (shadow traffic): "route-mirror" (an Istio http
    # route's mirror + mirrorPercentage), "request-mirror-filter" (the Gateway API's RequestMirror rule
    # filter, percent or fraction), None (the route cannot mirror)
    mirroring: str | None = None
    # What the mesh's routing object can write for `spec.ingress`, `service.timeout`/`retries` and
    # `routes[].fault`: None when it can, else the reason it cannot (shown in the refusal).
    ingress: str | None = None
    timeouts: str | None = None
    retries: str | None = None
    fault_injection: str | None = None
    # Where retries are written: "rule" (the route rule's retry policy), "annotations" (Linkerd: the
    # `retry.linkerd.io/*` annotations of the route, read by its policy controller's parse_http_retry in
    # policy-controller/k8s/index/src/outbound/index/http.rs; statuses only, as `retry.linkerd.io/http`)
    retries_as: str = "rule"
    # The mesh whose routing object Argo Rollouts' traffic router reads here: Istio's own VirtualService,
    # else the Gateway API plugin's gateway.networking.k8s.io HTTPRoute (Linkerd serves those too).
    argo_router: str = "gateway-api"


NO_FAULTS = ("the {api} HTTPRoute has no fault injection (no filter delays or aborts a request); inject faults "
             "with `mesh: istio`")


# `kubernetes` routes nothing (Flagger switches the Service's selector), so it runs beside any mesh.
# Linkerd's default provider is the Gateway API, as in Flagger's Linkerd guide: the `linkerd` provider
# writes an SMI TrafficSplit, which Linkerd 2.12+ honours only with the linkerd-smi extension.
# Linkerd's CRD defaults an omitted parentRef group to policy.linkerd.io (and kind to Server): the route
# would then attach to nothing, so group and kind are always written out, as Linkerd's own documentation
# writes them (`group: core`).
MESHES: dict[str, Mesh] = {
    "istio": Mesh(
        route=RouteAPI("VirtualService", "networking.istio.io/v1", registry_hosts=True),
        per_version_services=False, metrics="istio",
        providers=("istio", "gatewayapi:v1", "kubernetes"), default_provider="istio",
        scaffold_note="Istio: a DestinationRule (one subset per version) and a VirtualService",
        mirroring="route-mirror", argo_router="istio"),
    "linkerd": Mesh(
        route=RouteAPI("HTTPRoute", "policy.linkerd.io/v1beta2", parent_group="core", rule_limit=MAX_HTTPROUTE_RULES,
                       timeouts_api_version="policy.linkerd.io/v1beta3"),
        per_version_services=True, metrics="linkerd",
        providers=("linkerd", "gatewayapi:v1", "kubernetes"), default_provider="gatewayapi:v1",
        scaffold_note="Linkerd: per-version Services and a policy.linkerd.io HTTPRoute",
        sticky_cookie="backend-filters", backend_filters_applied=True,
        # v1beta3 (the CRD's storage version) adds per-rule `timeouts`; v1beta2 is kept without them
        ingress="Linkerd has no ingress gateway of its own: it meshes whichever ingress controller runs in front "
                "of it; route the edge with a Gateway API Gateway and `mesh: gateway-api` (Linkerd reads "
                "gateway.networking.k8s.io HTTPRoutes too)",
        retries_as="annotations",
        fault_injection=NO_FAULTS.format(api="policy.linkerd.io")),
    "gateway-api": Mesh(
        route=RouteAPI("HTTPRoute", "gateway.networking.k8s.io/v1", rule_limit=MAX_HTTPROUTE_RULES),
        per_version_services=True, metrics="app",
        providers=("gatewayapi:v1", "kubernetes"), default_provider="gatewayapi:v1",
        scaffold_note="Gateway API (GAMMA): per-version Services and a gateway.networking.k8s.io HTTPRoute",
        sticky_cookie="backend-filters", mirroring="request-mirror-filter",
        retries="the gateway.networking.k8s.io/v1 HTTPRoute (standard channel, v1.6) has no retry policy: only "
                "the experimental channel's has",
        fault_injection=NO_FAULTS.format(api="gateway.networking.k8s.io")),
}


def default_metrics(mesh: str) -> str:
    """The metrics source of a spec on `mesh` that names none."""
    return MESHES[mesh].metrics
