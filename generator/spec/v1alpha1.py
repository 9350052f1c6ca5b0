"""The rollout spec language, rollgen/v1alpha1: the public contract users write.

Field descriptions are the user documentation: they become the JSON Schema's descriptions, which is
what an editor shows on hover. Shape lives here and in the generated schema; meaning (cross-field
rules) lives in `generator.spec.checks`.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from .. import conventions as c

NAME_PATTERN = c.DNS1123_LABEL
# Lowercase HTTP header names (RFC 9110 token, lowercased): Envoy and HTTP/2 compare them lowercase.
HEADER_PATTERN = r"^[a-z0-9!#$%&'*+.^_`|~-]+$"
LABEL_KEY_PATTERN = c.LABEL_KEY_PATTERN
LABEL_VALUE_PATTERN = c.LABEL_VALUE_PATTERN
# RFC 6265: a cookie name is a token; a cookie value is cookie-octets (no space, quote, comma, ';' or '\\').
COOKIE_NAME_PATTERN = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"
COOKIE_VALUE_PATTERN = r"^[!#$%&'()*+./0-9:<=>?@A-Z\[\]^_`a-z{|}~-]+$"
# A host name: DNS labels separated by dots (e.g. `api-eu-west.production.svc.cluster.local`).
HOST_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Metadata(Model):
    name: str = Field(
        description="The service's name: a DNS-1035 label (lowercase letters, digits and '-', starting "
        "with a letter, as Kubernetes requires of Service names) of at most 55 characters (room is left "
        "for the `-<version>`, `-primary` and `-canary` suffixes of generated objects).",
        pattern=c.DNS1035_LABEL, min_length=1, max_length=c.MAX_SERVICE_NAME,
    )
    namespace: str = Field(
        "default", description="Namespace of every generated object. Default: `default`.",
        pattern=NAME_PATTERN, min_length=1, max_length=c.MAX_LABEL,
    )
    labels: dict[str, str] = Field(
        default_factory=dict,
        description="Labels added to every generated object (e.g. `{team: payments}`).",
        json_schema_extra={
            "propertyNames": {"pattern": LABEL_KEY_PATTERN, "maxLength": 253},
            "additionalProperties": {"type": "string", "pattern": LABEL_VALUE_PATTERN, "maxLength": 63},
        },
    )


class Service(Model):
    port: int = Field(description="Port the Service exposes.", ge=1, le=65535)
    targetPort: Optional[int] = Field(
        None, description="Container port the Service forwards to. Default: `port`.", ge=1, le=65535)


class Workload(Model):
    image: str = Field(
        description="Image repository, e.g. `registry.example.com/backend`. A version's image is "
        "`<image>:<version name>` unless the version sets `image`.",
        min_length=1,
    )
    replicas: int = Field(1, description="Replicas of every version's Deployment. Default: 1.", ge=0, le=c.MAX_REPLICAS)
    container: Optional[str] = Field(
        None, description="Name of the application container. Default: `metadata.name`.",
        pattern=NAME_PATTERN, max_length=c.MAX_LABEL,
    )
    pod: Optional[dict[str, Any]] = Field(
        None,
        description="A Kubernetes PodSpec fragment merged into every version's pod template "
        "(serviceAccountName, env, resources, probes, volumes, ...). The container named like "
        "`container` is merged with the generated one, not replaced; other containers are added.",
    )


class Version(Model):
    name: str = Field(
        description="Version name: the pods' `version` label, the Deployment `<name>-<name>` and, unless "
        "`image` is set, the image tag.",
        pattern=NAME_PATTERN, min_length=1, max_length=c.MAX_LABEL,
    )
    image: Optional[str] = Field(None, description="Full image reference for this version (overrides "
                                 "`workload.image:<version>`).", min_length=1)
    replicas: Optional[int] = Field(None, description="Replicas for this version. Default: `workload.replicas`.",
                                    ge=0, le=c.MAX_REPLICAS)


class HeaderMatch(Model):
    header: str = Field(description="Request header name, lowercase (e.g. `x-canary-user`).",
                        pattern=HEADER_PATTERN, min_length=1, max_length=256)
    exact: Optional[str] = Field(None, description="Matches when the header equals this value.")
    prefix: Optional[str] = Field(None, description="Matches when the header starts with this value.")
    regex: Optional[str] = Field(None, description="Matches when the whole header value matches this RE2 "
                                 "regular expression (Envoy's dialect).")

    @property
    def kind(self) -> str:
        return next(k for k in ("exact", "prefix", "regex") if getattr(self, k) is not None)

    @property
    def value(self) -> str:
        return getattr(self, self.kind)


class Canary(Model):
    stable: str = Field(description="The version serving production traffic now.")
    canary: str = Field(description="The new version receiving a growing share of traffic.")
    steps: list[int] = Field(
        description="Percent of traffic on the canary at each step, strictly increasing, 1..100; the last "
        "step is 100 (fully shifted).",
        min_length=1, json_schema_extra={"items": {"type": "integer", "minimum": 1, "maximum": 100}},
    )
    position: int = Field(
        0, description="How many steps are live: 0 = all traffic on `stable`, `len(steps)` = fully shifted.",
        ge=0,
    )
    testers: Optional[HeaderMatch] = Field(
        None, description="Requests matching this header always reach the canary (internal testers).")


class BlueGreen(Model):
    active: Optional[str] = Field(
        None, description="The version serving production traffic. Cutover is changing `active` "
        "(`rollgen promote` swaps `active` and `preview`); the other version keeps running for an "
        "instant rollback.")
    preview: Optional[str] = Field(
        None, description="The version deployed alongside `active` and reachable only through `test` "
        "(optional).")
    test: Optional[HeaderMatch] = Field(
        None, description="Requests matching this header reach `preview` (e.g. `{header: x-version, "
        "exact: green}`); every other request reaches `active`.")


class Cookie(Model):
    name: str = Field(description="Cookie that pins a user to a variant (e.g. `ab-test`).",
                      pattern=COOKIE_NAME_PATTERN, min_length=1, max_length=256)
    maxAge: Optional[int] = Field(
        None, description="Seconds the assignment lasts (`Max-Age`). Default: a session cookie.", ge=1)


class Variant(Model):
    version: str = Field(description="The version serving this variant.")
    value: str = Field(description="Cookie value that pins a user to this variant (e.g. `a`).",
                       pattern=COOKIE_VALUE_PATTERN, min_length=1, max_length=256)
    weight: int = Field(description="Percent of new users (without the cookie) assigned to this variant; "
                        "the variants' weights sum to 100.", ge=0, le=100)


class ABTest(Model):
    cookie: Optional[Cookie] = Field(
        None, description="The sticky assignment: requests carrying `<name>=<value>` reach that value's "
        "variant; new users are split by weight and get the cookie with the response.")
    variants: Optional[list[Variant]] = Field(
        None, description="The variants, at least two, each a version with a cookie value and a weight.")


class Route(Model):
    match: HeaderMatch = Field(description="The request header this route matches.")
    version: Optional[str] = Field(None, description="Send matching requests to this version of the service.")
    host: Optional[str] = Field(
        None, description="... or to another host, e.g. `api-eu-west.production.svc.cluster.local` (on "
        "linkerd and gateway-api: a Service of the cluster).",
        pattern=HOST_PATTERN, min_length=1, max_length=253)
    port: Optional[int] = Field(None, description="Port on `host` (required on linkerd and gateway-api).",
                                ge=1, le=65535)


class RolloutSpec(Model):
    mesh: Literal["istio", "linkerd", "gateway-api"] = Field(
        description="Traffic layer: `istio` (VirtualService + DestinationRule), `linkerd` "
        "(policy.linkerd.io HTTPRoute) or `gateway-api` (gateway.networking.k8s.io HTTPRoute, GAMMA)."
    )
    service: Service = Field(description="The Service in front of every version.")
    workload: Workload = Field(description="What every version's Deployment runs.")
    versions: list[Version] = Field(
        description="The versions that run side by side; each becomes Deployment `<name>-<version>` with "
        "pods labelled `app: <name>`, `version: <version>`.",
        min_length=1,
    )
    canary: Optional[Canary] = Field(None, description="A stepped canary between two versions.")
    blueGreen: Optional[BlueGreen] = Field(
        None, description="Blue/green: one version serves all traffic, another waits (testable by header) "
        "for an instant cutover.")
    abTest: Optional[ABTest] = Field(
        None, description="A/B test: users are split between variants by weight and kept on theirs by a cookie. "
        "Not on linkerd: a policy.linkerd.io HTTPRoute cannot set the cookie.")
    routes: Optional[list[Route]] = Field(
        None, description="Header routes, evaluated first and in order (first match wins), each to a "
        "version or another host; the strategy (or `default`) takes every other request.")
    default: Optional[str] = Field(
        None, description="The version that takes every request no route matches, when there is no "
        "strategy block (`canary`, `blueGreen`, `abTest`).")


class Rollout(Model):
    apiVersion: Literal["rollgen/v1alpha1"] = Field(description="Spec language version: `rollgen/v1alpha1`.")
    kind: Literal["Rollout"] = Field(description="`Rollout`: one service's progressive delivery.")
    metadata: Metadata
    spec: RolloutSpec
