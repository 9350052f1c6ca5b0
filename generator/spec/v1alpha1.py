"""The rollout spec language, rollgen/v1alpha1: the public contract users write.

Field descriptions are the user documentation: they become the JSON Schema's descriptions, which is
what an editor shows on hover. Shape lives here and in the generated schema; meaning (cross-field
rules) lives in `generator.spec.checks`.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import ConfigDict, Field

import generator.names as c
from generator.spec.base import NAME_PATTERN, Model
from generator.spec.flagger import URL_PATTERN, FlaggerSettings, Webhook

HEADER_PATTERN = c.HEADER_PATTERN
LABEL_KEY_PATTERN = c.LABEL_KEY_PATTERN
LABEL_VALUE_PATTERN = c.LABEL_VALUE_PATTERN
COOKIE_NAME_PATTERN = c.COOKIE_NAME_PATTERN
COOKIE_VALUE_PATTERN = c.COOKIE_VALUE_PATTERN
HOST_PATTERN = c.HOST_PATTERN
# Prometheus durations (units largest first, each at most once): `30s`, `5m`, `1h30m`, `500ms`.
DURATION_PATTERN = r"^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$"
# Prometheus label names; names starting with `__` are reserved for Prometheus itself.
PROM_LABEL_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]*$"


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


class Retries(Model):
    attempts: int = Field(description="Retries of a failed request (Istio's `attempts`).", ge=1, le=1000)
    perTryTimeout: Optional[str] = Field(
        None, description="Timeout of each attempt, a duration such as `1s` or `500ms`.", pattern=DURATION_PATTERN,
        min_length=1)
    on: Optional[str] = Field(
        None, description="When to retry: Istio's `retryOn`, comma-separated Envoy conditions such as "
        "`5xx,reset,connect-failure` or HTTP status codes. Quote the key (`\"on\": ...`): YAML 1.1 readers take a "
        "bare `on` for true.", pattern=r"^[a-z0-9-]+(,[a-z0-9-]+)*$")


PORT_NAME_PATTERN = c.PORT_NAME_PATTERN


class ServicePort(Model):
    name: str = Field(description="Port name, an IANA service name (at most 15 lowercase letters, digits and "
                      "'-', at least one letter), unique among the Service's ports (`http` is the rollout's own).",
                      pattern=PORT_NAME_PATTERN, min_length=1, max_length=15)
    port: int = Field(description="Port the Service exposes.", ge=1, le=65535)
    targetPort: Optional[int] = Field(
        None, description="Container port the Service forwards to. Default: `port`.", ge=1, le=65535)
    protocol: Literal["TCP", "UDP", "SCTP"] = Field("TCP", description="`TCP`, `UDP` or `SCTP`. Default: `TCP`.")
    appProtocol: Optional[str] = Field(
        None, description="The application protocol (`http`, `grpc`, `tcp`, `kubernetes.io/h2c`, ...), which "
        "meshes use to pick the protocol of the port.", pattern=r"^([a-z0-9.-]+/)?[a-zA-Z0-9._-]+$", max_length=253)


class Service(Model):
    port: int = Field(description="Port the Service exposes.", ge=1, le=65535)
    targetPort: Optional[int] = Field(
        None, description="Container port the Service forwards to. Default: `port`.", ge=1, le=65535)
    additionalPorts: list[ServicePort] = Field(
        default_factory=list,
        description="More ports of every Service of the rollout (the app-wide one and each version's), and of the "
        "application container, e.g. `[{name: metrics, port: 9090}]`. Routing stays on `port`: the routes "
        "name it, so traffic to these ports is not routed by the rollout.")
    timeout: Optional[str] = Field(
        None, description="Request timeout of every route rule, a duration such as `5s`: Istio's `timeout`, "
        "the HTTPRoute's `timeouts.request` (gateway-api; Linkerd's policy.linkerd.io/v1beta3 HTTPRoute). With "
        "`delivery: flagger`, the Canary's `service.timeout`.", pattern=DURATION_PATTERN, min_length=1)
    retries: Optional[Retries] = Field(
        None, description="Retry policy of every route rule (`{attempts: 3, perTryTimeout: 1s, on: \"5xx,reset\"}`"
        "): Istio's `retries`; the HTTPRoute CRDs rollgen writes have no retries. With `delivery: flagger`, the "
        "Canary's `service.retries` (Istio provider).")


# An Istio Gateway or a Gateway API Gateway: NAMESPACE/NAME, with a listener (section) name on the Gateway API.
GATEWAY_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[a-z0-9]([-a-z0-9]*[a-z0-9])?)?$"


class Ingress(Model):
    gateways: list[str] = Field(
        description="Gateways whose traffic the rollout's routing also applies to: `NAMESPACE/NAME` (an Istio "
        "Gateway, or a Gateway API Gateway), `NAMESPACE/NAME:SECTION` for one listener of a Gateway API Gateway.",
        min_length=1, json_schema_extra={"items": {"type": "string", "pattern": GATEWAY_PATTERN, "maxLength": 253}})
    hosts: list[str] = Field(
        default_factory=list, description="Hostnames served at those gateways (e.g. `[shop.example.com]`).",
        json_schema_extra={"items": {"type": "string", "pattern": c.HOST_PATTERN, "maxLength": 253}})
    mesh: bool = Field(True, description="Keep routing mesh-internal callers as well. Default: true.")


class PodMetadata(Model):
    labels: dict[str, str] = Field(
        default_factory=dict, description="Labels of every version's pods (`app` and `version` are rollgen's).",
        json_schema_extra={
            "propertyNames": {"pattern": LABEL_KEY_PATTERN, "maxLength": 253},
            "additionalProperties": {"type": "string", "pattern": LABEL_VALUE_PATTERN, "maxLength": 63},
        })
    annotations: dict[str, str] = Field(
        default_factory=dict, description="Annotations of every version's pods (e.g. `{prometheus.io/scrape: "
        "\"true\"}`).", json_schema_extra={"propertyNames": {"pattern": LABEL_KEY_PATTERN, "maxLength": 253}})


class Autoscaling(Model):
    min: int = Field(1, description="Fewest replicas (the HorizontalPodAutoscaler's minReplicas). Default: 1.",
                     ge=1, le=c.MAX_REPLICAS)
    max: int = Field(description="Most replicas (maxReplicas).", ge=1, le=c.MAX_REPLICAS)
    cpu: int = Field(
        80, description="Target average CPU use of the application container, in percent of its CPU request "
        "(which `workload.pod` must set). Default: 80.", ge=1, le=1000)


class Workload(Model):
    image: str = Field(
        description="Image repository, e.g. `registry.example.com/backend`. A version's image is "
        "`<image>:<version name>` unless the version sets `image`.",
        min_length=1,
    )
    replicas: int = Field(1, description="Replicas of every version's Deployment. Default: 1. With `delivery: "
                          "flagger`, held by a HorizontalPodAutoscaler (min = max), which Flagger copies to the primary.",
                          ge=0, le=c.MAX_REPLICAS)
    autoscaling: Optional[Autoscaling] = Field(
        None, description="A HorizontalPodAutoscaler between `min` and `max` replicas on the application "
        "container's CPU (`{min: 2, max: 4, cpu: 80}`), instead of the fixed `replicas`: one per version's "
        "Deployment (named like it), each scaling on its own share of the traffic; with `delivery: flagger`, "
        "one for `<name>`, of which Flagger gives `<name>-primary` a copy.")
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
    deployment: Optional[dict[str, Any]] = Field(
        None,
        description="Kubernetes DeploymentSpec fields of every version's Deployment other than `selector`, "
        "`template` and `replicas` (`minReadySeconds`, `revisionHistoryLimit`, `progressDeadlineSeconds`, "
        "`strategy`, `paused`), validated against Kubernetes' own schema.",
    )
    podMetadata: Optional[PodMetadata] = Field(
        None, description="Labels and annotations of every version's pods (the pod template's metadata).")


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
    pod: Optional[dict[str, Any]] = Field(
        None, description="A PodSpec fragment for this version only, merged over `workload.pod` (maps key by key, "
        "containers by name, other lists replaced), e.g. `{containers: [{name: shop, args: [--response-text=v1]}]}`.")


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


class Shadow(Model):
    percent: float = Field(
        description="Percent of the live requests copied to the canary, e.g. `10` (at most 4 decimals: `0.5`). "
        "The copy's response is discarded; the user gets the answer of the version that served them. Istio "
        "sends the copy with `-shadow` appended to its Host (authority). Every method is copied, writes "
        "(POST, PUT, DELETE) included: mirror only what the canary may safely do twice.",
        gt=0, le=100)


class Sticky(Model):
    cookie: str = Field(description="Cookie that records which version a user reached (e.g. `canary-user`).",
                        pattern=COOKIE_NAME_PATTERN, min_length=1, max_length=256)
    maxAge: Optional[int] = Field(
        None, description="Seconds a user keeps their version (`Max-Age`). Default: a session cookie (with "
        "`delivery: flagger`, Flagger's default of a day).", ge=1)


class Canary(Model):
    # stable, canary and steps are required with manual delivery (the schema says so conditionally);
    # with `delivery: flagger` Flagger runs the versions and stepWeight/maxWeight may replace steps.
    stable: Optional[str] = Field(None, description="The version serving production traffic now (manual delivery).")
    canary: Optional[str] = Field(None, description="The new version receiving a growing share of traffic "
                                  "(manual delivery).")
    steps: Optional[list[int]] = Field(
        None,
        description="Percent of traffic on the canary at each step, strictly increasing, 1..100; the last "
        "step is 100 (fully shifted). With `delivery: flagger`: Flagger's `stepWeights`, the last one being "
        "the highest weight before promotion.",
        min_length=1, json_schema_extra={"items": {"type": "integer", "minimum": 1, "maximum": 100}},
    )
    stepWeight: Optional[int] = Field(
        None, description="`delivery: flagger` only: the canary's weight grows by this much every analysis "
        "interval (Flagger's stepWeight), up to `maxWeight`.", ge=1, le=100)
    maxWeight: Optional[int] = Field(
        None, description="`delivery: flagger` only: the highest canary weight before Flagger promotes "
        "(Flagger's maxWeight). Default: 100.", ge=1, le=100)
    position: int = Field(
        0, description="How many steps are live: 0 = all traffic on `stable`, `len(steps)` = fully shifted.",
        ge=0,
    )
    testers: Optional[HeaderMatch] = Field(
        None, description="Requests matching this header always reach the canary (internal testers).")
    shadow: Optional[Shadow] = Field(
        None, description="Traffic mirroring (`{percent: 10}`): while the canary serves no live traffic (position 0, "
        "before the first step) copies of `percent` % of the requests go to it and its responses are discarded. "
        "From position 1 on the canary answers real users and nothing is mirrored; `rollback` to 0 mirrors again. "
        "Istio and gateway-api (a RequestMirror filter, an Extended feature of the Gateway API: check that your mesh "
        "implements it, and `fraction` for a share that is not whole); not linkerd. With `delivery: flagger`: the Canary's "
        "`analysis.mirror` and `mirrorWeight` (one mirrored iteration before the first step), Istio provider only.")
    sticky: Optional[Sticky] = Field(
        None, description="Keep each user on the version they reached (`{cookie: canary-user, maxAge: 3600}`): a user "
        "who reached the canary keeps reaching it at every later position; a user on stable is kept there for the "
        "current position only, and each step moves just enough stable users to the canary for its share of users "
        "to match the step's weight. Istio and gateway-api; not linkerd. With `delivery: flagger`: the Canary's "
        "`analysis.sessionAffinity`.")
    stepDuration: Optional[str] = Field(
        None,
        description="How long each step is held before promoting to the next (a Prometheus duration such as "
        "`15m` or `1h`). With `analysis.expectedRate`, `rollgen validate` warns when a step is too short for "
        "the canary to receive enough requests to tell its success rate from `analysis.successRate.min`, and "
        "`rollgen plan` shows the time each step needs.",
        pattern=DURATION_PATTERN, min_length=1,
    )


class SuccessRate(Model):
    min: float = Field(
        description="Lowest acceptable percent of non-5xx responses on the version under test, e.g. `99` "
        "(alerts when the error ratio exceeds `1 - min/100`, here 0.01).", gt=0, le=100)
    window: Optional[str] = Field(
        None, description="`delivery: flagger` only: the range of this check (its `interval` in the Canary), "
        "in seconds or minutes, e.g. `30s`. Default: `analysis.window`.", pattern=DURATION_PATTERN, min_length=1)


class Latency(Model):
    percentile: float = Field(95, description="Latency percentile to watch, e.g. `95` (P95). Default: 95.",
                              gt=0, lt=100)
    max: str = Field(description="Highest acceptable latency at that percentile, a Prometheus duration such as "
                     "`500ms` or `1s` (converted to the unit of the metrics source's histogram).",
                     pattern=DURATION_PATTERN, min_length=1)
    window: Optional[str] = Field(
        None, description="`delivery: flagger` only: the range of this check (its `interval` in the Canary), "
        "in seconds or minutes, e.g. `30s`. Default: `analysis.window`.", pattern=DURATION_PATTERN, min_length=1)


class RequestRate(Model):
    min: float = Field(description="Requests per second the version under test must receive while it has a "
                       "share of traffic; less fires a no-traffic alert (no traffic is not success).", gt=0)
    window: Optional[str] = Field(
        None, description="`delivery: flagger` only: the range of this check (its `interval` in the Canary), "
        "in seconds or minutes, e.g. `30s`. Default: `analysis.window`.", pattern=DURATION_PATTERN, min_length=1)


class MetricsSelector(Model):
    service: str = Field("app", description="Label holding the service name (`metadata.name`). Default: `app`, "
                         "the pod label rollgen sets, as a ServiceMonitor/PodMonitor `podTargetLabels` entry copies it.",
                         pattern=PROM_LABEL_PATTERN)
    namespace: str = Field("namespace", description="Label holding the namespace. Default: `namespace` "
                           "(set by Prometheus Operator and kubernetes_sd relabelling).", pattern=PROM_LABEL_PATTERN)
    version: str = Field("version", description="Label holding the version (the pods' `version` label). "
                         "Default: `version`.", pattern=PROM_LABEL_PATTERN)
    code: str = Field("code", description="Label holding the HTTP status code. Default: `code` (Prometheus "
                      "client libraries' convention).", pattern=PROM_LABEL_PATTERN)


class Evidence(Model):
    confidence: float = Field(95, description="Confidence (1 - significance level, one-sided) in percent. "
                              "Default: 95.", gt=50, lt=100)
    power: float = Field(80, description="Statistical power in percent: the chance to notice a version that is "
                         "worse by `margin`. Default: 80.", gt=50, lt=100)
    margin: Optional[float] = Field(
        None, description="Percentage points below `successRate.min` that must be told apart, e.g. `1` to tell "
        "99% from 98%. Default: `100 - successRate.min` (an error rate twice the allowed one).", gt=0, lt=100)


class Analysis(Model):
    metrics: Optional[Literal["app", "istio", "linkerd"]] = Field(
        None,
        description="Metrics source: `app` (the application's `http_requests_total` and "
        "`http_request_duration_seconds_bucket`, labels named by `selector`), `istio` (`istio_requests_total`, "
        "`istio_request_duration_milliseconds_bucket`) or `linkerd` (proxy `response_total`, "
        "`response_latency_ms_bucket`). Default: `istio` on mesh istio, `linkerd` on mesh linkerd, `app` on "
        "gateway-api.",
    )
    reporter: Literal["destination", "source", "waypoint"] = Field(
        "destination",
        description="`metrics: istio` only: which proxy's reports every Istio query counts. `destination` (the "
        "server's sidecar; default, as Flagger's builtins), `source` (the client's proxy: for traffic entering "
        "through an ingress gateway into a namespace without sidecars only the gateway reports it), `waypoint` "
        "(Istio ambient mode: L7 metrics come from the waypoint proxy; ztunnel reports no requests). With "
        "`delivery: flagger` anything but `destination` makes the checks MetricTemplates, since Flagger's "
        "builtins count destination reports only.",
    )
    window: str = Field("5m", description="Range of every `rate()`, a Prometheus duration. Default: `5m`. With "
                        "`delivery: flagger` also the range of Flagger's metric checks (there the default is `1m`), "
                        "in seconds or minutes; a check's own `window` overrides it.",
                        pattern=DURATION_PATTERN, min_length=1)
    for_: str = Field("2m", alias="for", description="How long a condition must hold before its alert fires. "
                      "Default: `2m`.", pattern=DURATION_PATTERN, min_length=1)
    interval: str = Field("30s", description="Evaluation interval of the rule group. Default: `30s`. With "
                          "`delivery: flagger` also Flagger's analysis interval (there the default is `1m`), in "
                          "seconds or minutes.", pattern=DURATION_PATTERN, min_length=1)
    successRate: Optional[SuccessRate] = Field(None, description="Alert when the version under test answers "
                                               "fewer non-5xx responses than this.")
    latency: Optional[Latency] = Field(None, description="Alert when the version under test is slower than this.")
    requestRate: Optional[RequestRate] = Field(None, description="Alert when the version under test receives "
                                               "less traffic than this while it should receive some.")
    threshold: int = Field(
        5, description="`delivery: flagger` only: failed checks (metrics or webhooks) after which Flagger rolls "
        "back. Default: 5.", ge=1)
    alerts: Literal["prometheusRule", "configMap", "none"] = Field(
        "prometheusRule",
        description="How alert rules are delivered: `prometheusRule` (a monitoring.coreos.com/v1 PrometheusRule "
        "`<name>-canary-alerts` for the Prometheus Operator), `configMap` (ConfigMap `<name>-canary-alerts` "
        "with a Prometheus rules file under the key `alerts.yaml`, to mount into Prometheus) or `none`. "
        "Default: `prometheusRule`.",
    )
    labels: dict[str, str] = Field(
        default_factory=dict,
        description="Labels added to every alert, for Alertmanager routing (e.g. `{severity: critical}`). "
        "`service`, `namespace` and `version` are always set by rollgen.",
        json_schema_extra={"propertyNames": {"pattern": PROM_LABEL_PATTERN},
                           "additionalProperties": {"type": "string"}},
    )
    ruleLabels: dict[str, str] = Field(
        default_factory=dict,
        description="Kubernetes labels on the PrometheusRule or ConfigMap object only, e.g. the label your "
        "Prometheus' `ruleSelector` selects (`{release: kube-prometheus-stack}`).",
        json_schema_extra={
            "propertyNames": {"pattern": LABEL_KEY_PATTERN, "maxLength": 253},
            "additionalProperties": {"type": "string", "pattern": LABEL_VALUE_PATTERN, "maxLength": 63},
        },
    )
    selector: Optional[MetricsSelector] = Field(
        None, description="Label names of the `app` metrics source (defaults: service `app`, namespace "
        "`namespace`, version `version`, status code `code`). Every query is scoped to this service and namespace.")
    prometheus: Optional[str] = Field(
        None, description="`delivery: argo-rollouts` only: the Prometheus the AnalysisTemplate's metrics query, as "
        "the Argo Rollouts controller reaches it from its own namespace (e.g. "
        "`http://prometheus-operated.monitoring:9090`). Default: `http://prometheus.istio-system:9090` for istio "
        "metrics, `http://prometheus.linkerd-viz:9090` for linkerd, `http://prometheus:9090` for app.",
        pattern=URL_PATTERN)
    expectedRate: Optional[float] = Field(
        None, description="Requests per second the service receives in total. `rollgen plan` then shows, for each "
        "step, the requests the version under test gets per window and how long the step must last to tell "
        "its success rate apart statistically (see `evidence`); with `delivery: flagger`, for each canary weight, the "
        "requests one of Flagger's checks sees over `window`, and `validate` warns when they are too few.", gt=0)
    evidence: Evidence = Field(default_factory=Evidence,
                               description="What \"enough evidence\" means for `plan` and `validate`.")


class BlueGreen(Model):
    iterations: Optional[int] = Field(
        None, description="`delivery: flagger` only: analysis runs on the new version (with no live traffic) "
        "before Flagger switches all traffic to it.", ge=1)
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


class Significance(Model):
    baseline: float = Field(description="Conversion rate of the control (the first variant), a proportion, e.g. "
                            "`0.05` for 5%.", gt=0, lt=1)
    minDetectableEffect: float = Field(
        description="Smallest absolute change of the conversion rate worth detecting, e.g. `0.01` (5% → 6%).",
        gt=-1, lt=1)
    confidence: float = Field(95, description="Confidence in percent (two-sided test). Default: 95.", gt=50, lt=100)
    power: float = Field(80, description="Statistical power in percent. Default: 80.", gt=50, lt=100)


class ABTest(Model):
    iterations: Optional[int] = Field(
        None, description="`delivery: flagger` only: analysis runs while matched requests reach the new "
        "version, before Flagger promotes it.", ge=1)
    match: Optional[list[HeaderMatch]] = Field(
        None, description="`delivery: flagger` only: requests matching any of these headers reach the new "
        "version during the test (e.g. `[{header: x-user-type, exact: beta}]`).", min_length=1)
    cookie: Optional[Cookie] = Field(
        None, description="The sticky assignment: requests carrying `<name>=<value>` reach that value's "
        "variant; new users are split by weight and get the cookie with the response.")
    variants: Optional[list[Variant]] = Field(
        None, description="The variants, at least two, each a version with a cookie value and a weight.")
    significance: Optional[Significance] = Field(
        None, description="What the test must be able to detect: `rollgen plan` shows the users each variant needs "
        "(two-proportion sample size) and, with `analysis.expectedRate`, how long that takes.")


class Abort(Model):
    httpStatus: int = Field(description="HTTP status answered instead of forwarding the request, e.g. `500`.",
                            ge=200, le=599)
    percent: float = Field(100, description="Percent of the matched requests aborted. Default: 100.", ge=0, le=100)


class Delay(Model):
    fixed: str = Field(description="Delay added before forwarding, a duration such as `7s` or `500ms`.",
                       pattern=DURATION_PATTERN, min_length=1)
    percent: float = Field(100, description="Percent of the matched requests delayed. Default: 100.", ge=0, le=100)


class Fault(Model):
    abort: Optional[Abort] = Field(None, description="Answer some requests with an error (Istio's `fault.abort`).")
    delay: Optional[Delay] = Field(None, description="Delay some requests (Istio's `fault.delay`).")


class Route(Model):
    match: HeaderMatch = Field(description="The request header this route matches.")
    version: Optional[str] = Field(None, description="Send matching requests to this version of the service.")
    host: Optional[str] = Field(
        None, description="... or to another host, e.g. `api-eu-west.production.svc.cluster.local` (on "
        "linkerd and gateway-api: a Service of the cluster).",
        pattern=HOST_PATTERN, min_length=1, max_length=253)
    port: Optional[int] = Field(None, description="Port on `host` (required on linkerd and gateway-api).",
                                ge=1, le=65535)
    fault: Optional[Fault] = Field(
        None, description="Fault injection for the matching requests, to test how callers cope: `{abort: "
        "{httpStatus: 500, percent: 100}}` or `{delay: {fixed: 7s, percent: 10}}` (Istio only: neither HTTPRoute "
        "has fault injection).")


class RolloutSpec(Model):
    model_config = ConfigDict(json_schema_extra={
        # Manual delivery names the versions and the canary's steps; Flagger runs one Deployment itself.
        "if": {"properties": {"delivery": {"const": "flagger"}}, "required": ["delivery"]},
        "else": {"required": ["versions"],
                 "properties": {
                     "versions": {"description": "The versions that run side by side; needed unless `delivery: flagger`."},
                     "canary": {"required": ["stable", "canary", "steps"], "properties": {
                         "stable": {"description": "The version serving production traffic now."},
                         "canary": {"description": "The new version receiving a growing share of traffic."},
                         "steps": {"description": "Percent of traffic on the canary at each step."}}}}},
    })

    delivery: Literal["manual", "flagger", "argo-rollouts"] = Field(
        "manual",
        description="Who moves the traffic: `manual` (rollgen writes the weights of each position; you promote "
        "by commit), `flagger` (rollgen writes the Deployment `<name>` and a Flagger Canary; Flagger shifts "
        "traffic, analyses and promotes or rolls back by itself) or `argo-rollouts` (rollgen writes an Argo "
        "Rollouts Rollout `<name>` running the canary's (or blue/green preview's) version, its AnalysisTemplates "
        "and the routing objects; the Argo Rollouts controller steps through `canary.steps`). Default: `manual`.",
    )
    mesh: Literal["istio", "linkerd", "gateway-api"] = Field(
        description="Traffic layer: `istio` (VirtualService + DestinationRule), `linkerd` "
        "(policy.linkerd.io HTTPRoute) or `gateway-api` (gateway.networking.k8s.io HTTPRoute, GAMMA)."
    )
    service: Service = Field(description="The Service in front of every version.")
    workload: Workload = Field(description="What every version's Deployment runs.")
    versions: Optional[list[Version]] = Field(
        None,
        description="The versions that run side by side; each becomes Deployment `<name>-<version>` with "
        "pods labelled `app: <name>`, `version: <version>`. Required with manual delivery; with "
        "`delivery: flagger` there are none (Flagger runs `<name>` and `<name>-primary`).",
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
    ingress: Optional[Ingress] = Field(
        None, description="The rollout's routing also applies at these gateways (an edge rollout behind an ingress "
        "gateway): Istio lists them in the VirtualService, the Gateway API attaches the HTTPRoute to them; with "
        "`delivery: flagger`, the Canary's gateways (or gatewayRefs) and hosts. Not on linkerd.")
    analysis: Optional[Analysis] = Field(
        None, description="Monitoring of the version under test: PromQL queries, alert rules that gate and roll "
        "back the rollout, and the evidence each step needs.")
    webhooks: Optional[list[Webhook]] = Field(
        None, description="`delivery: flagger` only: the Canary's webhooks (tests, load tests, gates), written "
        "to `spec.analysis.webhooks` where Flagger reads them.")
    flagger: Optional[FlaggerSettings] = Field(
        None, description="`delivery: flagger` only: provider, load tester, metrics server and chat alerts.")


class Rollout(Model):
    apiVersion: Literal[c.API_VERSION] = Field(description="Spec language version: `rollgen/v1alpha1`.")
    kind: Literal["Rollout"] = Field(description="`Rollout`: one service's progressive delivery.")
    metadata: Metadata
    spec: RolloutSpec
