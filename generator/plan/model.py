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
class Rule:
    """One routing rule. `matches` is a list of alternatives (OR), each a list of header conditions
    (AND); an empty list matches every request. Rules are evaluated in order; first match wins."""

    name: str
    matches: tuple[tuple[HeaderCondition, ...], ...]
    destinations: tuple[Destination, ...]
    mirror: Mirror | None = None


@dataclass(frozen=True)
class WorkloadPlan:
    version: str
    name: str
    image: str
    replicas: int
    pod: dict = field(hash=False, compare=False)


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
    engine: ClassVar[str] = "manual"

    def service_host(self) -> str:
        return self.name
