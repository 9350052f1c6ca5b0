"""Every generated name and label comes from here, never assembled ad hoc elsewhere."""

from __future__ import annotations

API_VERSION = "rollgen/v1alpha1"
MANAGED_BY = {"app.kubernetes.io/managed-by": "rollgen"}

# Kubernetes object names used as Service names are DNS-1123 labels: at most 63 characters.
DNS1123_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
# Service names are stricter (DNS-1035): they must start with a letter. metadata.name names the Service.
DNS1035_LABEL = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
# A port name, an IANA service name (RFC 6335 §5.1): the shape a JSON Schema can say (written apart from
# DNS1123_LABEL so that messages name it); "a letter" and "no '--'" are left to the meaning rules.
PORT_NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
MAX_LABEL = 63
LABEL_KEY_PATTERN = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
LABEL_VALUE_PATTERN = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
# RFC 6265: a cookie name is a token; a cookie value is cookie-octets (no space, quote, comma, ';' or '\\').
# Lowercase HTTP header names (RFC 9110 token, lowercased): Envoy and HTTP/2 compare them lowercase.
HEADER_PATTERN = r"^[a-z0-9!#$%&'*+.^_`|~-]+$"
COOKIE_NAME_PATTERN = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"
COOKIE_VALUE_PATTERN = r"^[!#$%&'()*+./0-9:<=>?@A-Z\[\]^_`a-z{|}~-]+$"
# A host name: DNS labels separated by dots (e.g. `api-eu-west.production.svc.cluster.local`).
HOST_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
# A rollout name leaves room for suffixes we and Flagger add (`-primary`, `-canary`, `-<version>`).
MAX_SERVICE_NAME = 55
MAX_REPLICAS = 2**31 - 1  # Deployment.spec.replicas is an int32
APP_LABEL = "app"
VERSION_LABEL = "version"
DEFAULT_CLUSTER_DOMAIN = "cluster.local"
# Routing case files sit beside the specs (`specs/backend.routes.yaml`); spec discovery skips them.
ROUTE_CASES_SUFFIXES = (".routes.yaml", ".routes.yml")


def deployment_name(service: str, version: str) -> str:
    return f"{service}-{version}"


def version_service_name(service: str, version: str) -> str:
    return f"{service}-{version}"


def routing_name(service: str) -> str:
    """VirtualService, DestinationRule and HTTPRoute share the service's name at every stage, so that
    moving between positions, strategies and steady state edits objects in place instead of creating
    a second route for the same host."""
    return service


def edge_routing_name(service: str) -> str:
    """The routing object for the ingress gateways, when the mesh's own is kept apart from it."""
    return f"{routing_name(service)}-edge"


def service_fqdn(service: str, namespace: str, cluster_domain: str = DEFAULT_CLUSTER_DOMAIN) -> str:
    return f"{service}.{namespace}.svc.{cluster_domain}"


def pod_labels(service: str, version: str) -> dict[str, str]:
    return {APP_LABEL: service, VERSION_LABEL: version}


def file_name(kind: str, name: str) -> str:
    return f"{kind.lower()}-{name}.yaml"


def alerts_name(service: str) -> str:
    """The PrometheusRule or ConfigMap holding a rollout's alert rules. Prefixed with the service so
    that two rollouts in one namespace never overwrite each other's rules (the reference's single
    `canary-alerts` would be shared by every service in the namespace)."""
    return f"{service}-canary-alerts"


def alert_group_name(service: str, namespace: str) -> str:
    """Rule group names are unique per rollout, so rule files can be merged without clashes."""
    return f"canary.{namespace}.{service}"


ALERTS_CONFIGMAP_KEY = "alerts.yaml"


# Flagger (delivery: flagger) and its install (kind: Platform).
FLAGGER_PRIMARY_SUFFIX = "-primary"
FLAGGER_CANARY_SUFFIX = "-canary"
FLAGGER_REPOSITORY = "flagger"
FLAGGER_RELEASE = "flagger"
LOADTESTER_RELEASE = "flagger-loadtester"
LOADTESTER_CHART = "loadtester"
FLAGGER_CHART = "flagger"


def loadtester_url(namespace: str) -> str:
    """The load tester a Platform installs in a rollout's namespace, as Flagger reaches it: Flagger calls
    webhooks from its own pod, so the host names the namespace."""
    return f"http://{LOADTESTER_RELEASE}.{namespace}/"


def flagger_primary_name(service: str) -> str:
    """The primary Deployment Flagger creates from the target Deployment."""
    return service + FLAGGER_PRIMARY_SUFFIX


def flagger_service_names(service: str) -> list[str]:
    """The Services Flagger creates for a Canary targeting `service` (the apex, primary and canary)."""
    return [service, service + FLAGGER_PRIMARY_SUFFIX, service + FLAGGER_CANARY_SUFFIX]


def metric_template_name(service: str, metric: str) -> str:
    return f"{service}-{metric}"


def alert_provider_name(service: str, channel: str) -> str:
    return f"{service}-{channel}"

# The Prometheus of each mesh's telemetry, fully qualified: Flagger queries it from its own namespace,
# for its builtins (the Platform's metricsServer) and for rollgen's MetricTemplates alike.
MESH_PROMETHEUS = {"istio": "http://prometheus.istio-system:9090", "linkerd": "http://prometheus.linkerd-viz:9090"}
DEFAULT_PROMETHEUS = "http://prometheus:9090"


# Argo Rollouts (delivery: argo-rollouts): the Rollout is `<name>`; its canary and stable Services for the
# Gateway API plugin, the blue/green preview Service, the Istio subsets and the managed header route.
ARGO_STABLE, ARGO_CANARY, ARGO_ACTIVE, ARGO_PREVIEW = "stable", "canary", "active", "preview"
ARGO_WEIGHTED_ROUTE = "split"  # the VirtualService route / HTTPRoute rule whose weights the controller moves
ARGO_TESTERS_ROUTE = "testers"  # the header route the controller adds for `canary.testers`
ARGO_SHADOW_ROUTE = "shadow"  # the mirror route the controller adds for `canary.shadow` (Istio)
ARGO_GATEWAY_PLUGIN = "argoproj-labs/gatewayAPI"


def argo_service_name(service: str, role: str) -> str:
    """`<name>-stable`, `<name>-canary`, `<name>-active` or `<name>-preview`: the Services Argo Rollouts
    points at a ReplicaSet by adding its `rollouts-pod-template-hash` to their selector. The Service
    `<name>` is never one of them: a selector the controller narrowed stays narrowed after the Rollout
    stops naming the Service."""
    return f"{service}-{role}"


def analysis_template_name(service: str) -> str:
    return f"{service}-analysis"
