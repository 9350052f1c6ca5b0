"""The routed plan's data: workloads, Services and the ordered routing rules of one rollout."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar

from generator.spec.v1alpha1 import HeaderMatch

if TYPE_CHECKING:
    from generator.plan.queries import AlertsPlan


@dataclass(frozen=True)
class HeaderCondition:
    """One request header test: kind is exact | prefix | regex (regex matches the whole value)."""

    header: str
    kind: str
    value: str
    meaning: str | None = field(default=None, compare=False)  # how to show it to people, when not obvious
    anchored: bool = False  # a regex that already spans the whole value (^...$): written as it is

    @classmethod
    def of(cls, match: HeaderMatch) -> "HeaderCondition":
        return cls(match.header, match.kind, match.value)


@dataclass(frozen=True)
class Destination:
    """Where a rule sends traffic: a version of this service, the service itself (version and host
    both None), or another host. `weight` is None when it is the rule's only destination.
    `version_service` sends a version's traffic through its own Service `<name>-<version>` (blue/green)
    rather than a subset of the service; `response_headers` are added to the responses it sends back
    (alongside the application's own headers of the same name, never replacing them)."""

    version: str | None = None
    host: str | None = None
    port: int | None = None
    weight: int | None = None
    response_headers: tuple[tuple[str, str], ...] = ()
    version_service: bool = False


@dataclass(frozen=True)
class Mirror:
    """Copies of `percent` % of a rule's requests sent to `destination`; its responses are discarded."""

    destination: Destination
    percent: Fraction


@dataclass(frozen=True)
class FaultPlan:
    """Fault injection on a rule's matched requests: `abort` answers `value` (an HTTP status), `delay`
    waits `value` (a duration) before forwarding, each for `percent` % of them."""

    kind: str  # abort | delay
    value: int | str
    percent: float


@dataclass(frozen=True)
class Rule:
    """One routing rule. `matches` is a list of alternatives (OR), each a list of header conditions
    (AND); an empty list matches every request. Rules are evaluated in order; first match wins."""

    name: str
    matches: tuple[tuple[HeaderCondition, ...], ...]
    destinations: tuple[Destination, ...]
    mirror: Mirror | None = None
    faults: tuple[FaultPlan, ...] = ()


@dataclass(frozen=True)
class PortPlan:
    """One more port of every Service of the rollout (and of the application container)."""

    name: str
    port: int
    target_port: int
    protocol: str = "TCP"
    app_protocol: str | None = None


@dataclass(frozen=True)
class EdgePlan:
    """The gateways whose traffic the rollout's routing also applies to, the hostnames served there,
    and whether mesh-internal callers keep being routed (`ingress.mesh`)."""

    gateways: tuple[str, ...]
    hosts: tuple[str, ...]
    mesh: bool = True


@dataclass(frozen=True)
class AutoscalerPlan:
    """The HorizontalPodAutoscaler holding a Deployment (Flagger's target, or each version's): `min` = `max`
    pins the count."""
    min: int
    max: int
    cpu: int | None  # target average utilisation of the container's CPU request, percent; None: pinned
    container: str


@dataclass(frozen=True)
class WorkloadPlan:
    version: str
    name: str
    image: str
    replicas: int | None  # None: an autoscaler holds the count
    pod: dict = field(hash=False, compare=False)
    deployment: dict = field(default_factory=dict, hash=False, compare=False)  # more DeploymentSpec fields
    pod_labels: dict = field(default_factory=dict, hash=False, compare=False)  # workload.podMetadata
    pod_annotations: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Plan:
    source: str
    name: str
    namespace: str
    labels: dict = field(hash=False)
    mesh: str
    port: int
    target_port: int
    stage: str  # steady | canary | blue-green | ab-test | routes | emergency
    workloads: tuple[WorkloadPlan, ...]
    subsets: tuple[str, ...]  # Istio DestinationRule subsets, one per version
    version_services: tuple[str, ...]  # versions that get their own Service `<name>-<version>`
    # The version the app-wide Service `<name>` selects when the spec runs only one; None: every version.
    only_version: str | None
    rules: tuple[Rule, ...]
    alerts: AlertsPlan | None = field(default=None, hash=False, compare=False)  # analysis alert rules
    ports: tuple[PortPlan, ...] = ()  # service.additionalPorts: routing stays on `port`
    edge: EdgePlan | None = None  # spec.ingress
    timeout: str | None = None  # request timeout of every rule
    retries: dict | None = field(default=None, hash=False)  # Istio HTTPRetry of every rule
    autoscaler: AutoscalerPlan | None = None  # every version's HPA (workload.autoscaling)
    # annotations of the routing objects the mesh reads (Linkerd's retry.linkerd.io/*), by name
    route_annotations: dict = field(default_factory=dict, hash=False, compare=False)
    engine: ClassVar[str] = "manual"

    def service_host(self) -> str:
        return self.name
