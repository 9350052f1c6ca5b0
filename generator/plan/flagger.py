"""The plan of a rollout delivered by Flagger (`delivery: flagger`): pure data and pure functions.

Flagger owns the traffic objects (VirtualService, DestinationRule, HTTPRoute, TrafficSplit) and the
Services `<name>`, `<name>-primary`, `<name>-canary`; rollgen emits only what Flagger reads: the
Deployment it targets, the Canary, MetricTemplates, AlertProviders and a PrometheusRule on Flagger's
own status metric. Facts about Flagger (v1.44) this module encodes, each checked against its source:

- Strategy (controller/scheduler.go): `match` + `iterations` → A/B testing; `iterations` alone →
  blue/green; otherwise a canary stepping by `stepWeight` up to `maxWeight`, or through `stepWeights`
  (whose last entry is then the max weight: `maxWeight` is ignored).
- The Canary CRD's analysis is a oneOf of {interval, threshold} with exactly one of `iterations`,
  `stepWeight`, `stepWeights`: the API server rejects two of them together.
- Builtin metrics: `request-success-rate` (percent of non-5xx) and `request-duration` (P99 in
  milliseconds). Flagger runs them for any metric of those names, even one with a `templateRef`
  (controller/scheduler_metrics.go, runBuiltinMetricChecks), so templated checks get names of their
  own (`success-rate`, `latency`, `request-rate`). The builtin queries come from the observer of the
  Canary's provider (metrics/observers/factory.go), replaced by Linkerd's whenever the controller's
  meshProvider is linkerd: Istio's for `istio` (`reporter="destination"`, by workload), Linkerd's for
  `linkerd`, and the HTTP observer (`http_request_duration_seconds_*`) for `gatewayapi:v1` and
  `kubernetes`. A Gateway API Canary's builtins thus depend on the controller and read neither
  mesh's metrics under most of them: rollgen writes MetricTemplates there instead.
- MetricTemplate queries are Go templates with `{{ namespace }}`, `{{ target }}` (the Deployment),
  `{{ service }}`, `{{ interval }}` and `{{ variables.* }}`.
- The load tester runs `metadata.type: bash` commands blocking (a non-zero exit fails the check) and
  `cmd` commands in the background (the webhook returns at once).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import ClassVar

import generator.names as c
from generator.mesh import default_metrics
from generator.plan.model import AutoscalerPlan, HeaderCondition, WorkloadPlan
from generator.spec.facts import parse_duration
from generator.spec.facts import canary_step_weights
from generator.plan.patterns import header_regex
from generator.plan.pods import container_ports, pod_metadata
from generator.plan.queries import AlertsPlan, rules_file
from generator.spec.facts import only_strategy
from generator.spec.flagger_checks import provider_of
from generator.spec.pod import merge_pod

CANARY_API = "flagger.app/v1beta1"

# Metrics source whose queries a provider's builtin metrics run under the controller of that mesh
# (None: it depends on the controller, see the module docstring, so rollgen uses templates).
BUILTIN_SOURCE = {"istio": "istio", "linkerd": "linkerd", "gatewayapi:v1": None}
BUILTIN_PERCENTILE = 99
ISTIO_BUILTIN_REPORTER = "destination"  # metrics/observers/istio.go
# The names Flagger's scheduler answers with its builtin observer (controller/scheduler_metrics.go).
BUILTIN_SUCCESS_RATE, BUILTIN_DURATION = "request-success-rate", "request-duration"

# Load tester webhook runners: bash blocks and fails on a non-zero exit; cmd runs in the background.
BLOCKING, BACKGROUND = "bash", "cmd"
GATE_PATHS = {"confirm-rollout": "gate/check", "confirm-promotion": "gate/check",
              "confirm-traffic-increase": "gate/check", "rollback": "rollback/check"}


@dataclass(frozen=True)
class WebhookInput:
    name: str
    type: str
    timeout: str | None = None
    cmd: str | None = None
    url: str | None = None
    runner: str | None = None  # bash | cmd; None: by type


@dataclass(frozen=True)
class AlertInput:
    name: str
    type: str | None  # slack | msteams | discord | rocket | gchat; None: `provider_ref` names an existing one
    severity: str = "error"
    channel: str | None = None
    username: str | None = None
    secret: str | None = None  # Secret holding the hook URL under `address`
    address: str | None = None
    proxy: str | None = None
    provider_ref: tuple[str, str | None] | None = None  # (name, namespace) of an existing AlertProvider


@dataclass(frozen=True)
class AppSelector:
    """Label names of the app's own metrics (analysis metrics source `app`)."""
    namespace: str = "namespace"
    workload: str = "app"
    code: str = "code"


@dataclass(frozen=True)
class FlaggerInputs:
    """Everything the Flagger plan needs, mapped once from the spec (see `flagger_inputs`)."""
    source: str
    name: str
    namespace: str
    labels: dict = field(hash=False)
    mesh: str
    provider: str
    port: int
    target_port: int
    workload: WorkloadPlan
    strategy: str  # canary | blueGreen | abTest
    interval: str
    threshold: int
    step_weight: int | None = None
    max_weight: int | None = None
    step_weights: tuple[int, ...] = ()
    iterations: int | None = None
    match: tuple[tuple[HeaderCondition, ...], ...] = ()
    mirror_weight: int | None = None
    session_affinity: tuple[str, int | None] | None = None
    metric_interval: str | None = None  # default: interval
    # The range of one check, when it differs from metric_interval (Flagger's metric `interval`).
    success_interval: str | None = None
    latency_interval: str | None = None
    request_rate_interval: str | None = None
    reporter: str = "destination"  # the Istio proxy whose reports the queries count
    success_min: float | None = None
    latency_max_ms: float | None = None
    latency_percentile: float = BUILTIN_PERCENTILE
    request_rate_min: float | None = None
    metrics_source: str | None = None  # app | istio | linkerd; None: the provider's own
    app_selector: AppSelector = AppSelector()
    metrics_server: str = c.DEFAULT_PROMETHEUS
    loadtester: str = "http://flagger-loadtester/"  # flagger_inputs names the rollout's namespace
    webhooks: tuple[WebhookInput, ...] = ()
    alerts: tuple[AlertInput, ...] = ()
    replicas: int | None = None
    autoscaler: AutoscalerPlan | None = None
    gateways: tuple[str, ...] = ()  # spec.ingress: NAMESPACE/NAME[:SECTION]
    hosts: tuple[str, ...] = ()
    mesh_routing: bool = True  # keep routing mesh-internal callers (ingress.mesh)
    timeout: str | None = None
    retries: dict | None = field(default=None, hash=False)
    traffic_policy: dict | None = field(default=None, hash=False)
    port_discovery: bool | None = None
    progress_deadline: int | None = None
    status_alert: bool = True
    alert_labels: dict = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class MetricPlan:
    """One entry of `analysis.metrics`: a builtin (template None) or a MetricTemplate reference."""
    name: str
    interval: str
    min: float | None = None
    max: float | None = None
    template: str | None = None


@dataclass(frozen=True)
class MetricTemplatePlan:
    name: str
    address: str
    query: str


@dataclass(frozen=True)
class WebhookPlan:
    name: str
    type: str
    url: str
    timeout: str | None
    metadata: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class AlertProviderPlan:
    name: str
    type: str
    channel: str | None
    username: str | None
    secret: str | None
    address: str | None
    proxy: str | None


@dataclass(frozen=True)
class CanaryAlertPlan:
    name: str
    severity: str
    provider: str
    provider_namespace: str | None = None  # an AlertProvider shared from elsewhere


@dataclass(frozen=True)
class AnalysisPlan:
    strategy: str
    interval: str
    threshold: int
    step_weight: int | None
    max_weight: int | None
    step_weights: tuple[int, ...]
    iterations: int | None
    match: tuple[dict, ...] = field(hash=False)
    metrics: tuple[MetricPlan, ...]
    webhooks: tuple[WebhookPlan, ...]
    alerts: tuple[CanaryAlertPlan, ...]
    mirror_weight: int | None = None  # `mirror: true` with this `mirrorWeight`: one mirrored iteration at weight 0
    session_affinity: tuple[str, int | None] | None = None  # (cookieName, maxAge)


@dataclass(frozen=True)
class StatusRulePlan:
    """A PrometheusRule on Flagger's flagger_canary_status: 2 = the analysis failed and rolled back."""
    alert: str
    expr: str
    for_: str
    labels: dict = field(hash=False)
    annotations: dict = field(hash=False)


@dataclass(frozen=True)
class FlaggerPlan:
    source: str
    name: str
    namespace: str
    labels: dict = field(hash=False)
    provider: str
    port: int
    target_port: int
    gateway_refs: tuple[dict, ...] = field(hash=False)
    service_options: dict = field(hash=False)  # the Canary's other `service` fields (gateways, hosts, timeout, ...)
    workload: WorkloadPlan
    analysis: AnalysisPlan
    templates: tuple[MetricTemplatePlan, ...]
    alert_providers: tuple[AlertProviderPlan, ...]
    status_rule: StatusRulePlan | None
    replicas: int | None = None  # a pinned count (None: autoscaled between autoscaler.min and .max)
    autoscaler: AutoscalerPlan | None = None  # the HPA the Canary references
    progress_deadline: int | None = None
    alerts: object = None  # analysis.AlertsPlan: the status rule beside the analysis alerts, when wanted
    engine: ClassVar[str] = "flagger"


# --- match conditions -------------------------------------------------------------------------


def flagger_match(alternatives: tuple[tuple[HeaderCondition, ...], ...], provider: str) -> tuple[dict, ...]:
    """`analysis.match` (Istio HTTPMatchRequest form, which every provider reads): one entry per
    alternative (OR), its headers ANDed. Flagger's Gateway API router only maps exact and regex, so a
    prefix becomes the anchored regex that means the same."""

    out = []
    for alternative in alternatives:
        headers = {}
        for cond in alternative:
            if provider.startswith("gatewayapi") and cond.kind != "exact":
                headers[cond.header] = {"regex": header_regex(cond)}
            else:
                headers[cond.header] = {cond.kind: cond.value}
        out.append({"headers": headers})
    return tuple(out)


# --- metrics ----------------------------------------------------------------------------------


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _selector(inputs: FlaggerInputs, source: str, *extra: str) -> str:
    """Label matchers selecting the canary workload's series (Flagger's target, not the primary)."""
    if source == "istio":
        base = [f'reporter="{inputs.reporter}"', 'destination_workload_namespace="{{ namespace }}"',
                'destination_workload="{{ target }}"']
    elif source == "linkerd":
        base = ['namespace="{{ namespace }}"', 'deployment="{{ target }}"', 'direction="inbound"']
    else:
        sel = inputs.app_selector
        base = [f'{sel.namespace}="{{{{ namespace }}}}"', f'{sel.workload}="{{{{ target }}}}"']
    return "{" + ", ".join(base + list(extra)) + "}"


def success_rate_query(inputs: FlaggerInputs, source: str) -> str:
    """Percent of requests that did not fail (5xx), as Flagger's builtin computes it (0-100). A canary
    whose every request fails has no series of good requests: `or vector(0)` makes that 0 % (a failed
    check that says so) rather than "no values found"; with no requests at all the total is empty or
    0, the ratio empty or NaN, which Flagger reports as no values: no traffic never passes."""
    metric, failed = {
        "istio": ("istio_requests_total", 'response_code!~"5.."'),
        "linkerd": ("response_total", 'classification!="failure"'),
        "app": ("http_requests_total", f'{inputs.app_selector.code}!~"5.."'),
    }[source]
    good = _selector(inputs, source, failed)
    total = _selector(inputs, source)
    return (f"(\n  sum(rate({metric}{good}[{{{{ interval }}}}]))\n  or vector(0)\n)\n"
            f"/\nsum(rate({metric}{total}[{{{{ interval }}}}]))\n* 100\n")


def latency_query(inputs: FlaggerInputs, source: str, percentile: float) -> str:
    """The latency percentile of the canary in milliseconds."""
    metric, scale = {
        "istio": ("istio_request_duration_milliseconds_bucket", ""),
        "linkerd": ("response_latency_ms_bucket", ""),
        "app": ("http_request_duration_seconds_bucket", "\n* 1000"),
    }[source]
    q = _number(percentile / 100)
    return (f"histogram_quantile({q},\n  sum by (le) (rate({metric}{_selector(inputs, source)}"
            f"[{{{{ interval }}}}]))\n){scale}\n")


def request_rate_query(inputs: FlaggerInputs, source: str) -> str:
    """Requests per second the canary receives."""
    metric = {"istio": "istio_requests_total", "linkerd": "response_total", "app": "http_requests_total"}[source]
    return f"sum(rate({metric}{_selector(inputs, source)}[{{{{ interval }}}}]))\n"


def templates_source(inputs: FlaggerInputs) -> str:
    """Which metrics the MetricTemplates query: the spec's choice, else what the mesh exports."""
    if inputs.metrics_source:
        return inputs.metrics_source
    return default_metrics(inputs.mesh)


def builtins_usable(inputs: FlaggerInputs) -> bool:
    """Flagger's builtin metrics query the provider's own telemetry: usable when that is what the spec
    measures, the way the spec measures it (Istio's builtin counts `reporter="destination"` only)."""
    builtin = BUILTIN_SOURCE.get(inputs.provider)
    if builtin == "istio" and inputs.reporter != ISTIO_BUILTIN_REPORTER:
        return False
    return builtin is not None and templates_source(inputs) == builtin


def plan_metrics(inputs: FlaggerInputs) -> tuple[tuple[MetricPlan, ...], tuple[MetricTemplatePlan, ...]]:
    interval = inputs.metric_interval or inputs.interval
    source = templates_source(inputs)
    builtin = builtins_usable(inputs)
    metrics: list[MetricPlan] = []
    templates: list[MetricTemplatePlan] = []

    def templated(metric: str, query: str, every: str | None, **threshold) -> None:
        name = c.metric_template_name(inputs.name, metric)
        templates.append(MetricTemplatePlan(name, inputs.metrics_server, query))
        metrics.append(MetricPlan(metric, every or interval, template=name, **threshold))

    # Flagger runs its builtin observer for a metric named `request-success-rate` or `request-duration`
    # whatever else the entry says (runBuiltinMetricChecks): a templated check must never carry those names.
    if inputs.success_min is not None:
        if builtin:
            metrics.append(MetricPlan(BUILTIN_SUCCESS_RATE, inputs.success_interval or interval,
                                      min=_number(inputs.success_min)))
        else:
            templated("success-rate", success_rate_query(inputs, source), inputs.success_interval,
                      min=_number(inputs.success_min))
    if inputs.latency_max_ms is not None:
        if builtin and inputs.latency_percentile == BUILTIN_PERCENTILE:
            metrics.append(MetricPlan(BUILTIN_DURATION, inputs.latency_interval or interval,
                                      max=_number(inputs.latency_max_ms)))
        else:
            p = _number(inputs.latency_percentile)
            templated("latency" if p == BUILTIN_PERCENTILE else f"latency-p{str(p).replace('.', '-')}",
                      latency_query(inputs, source, inputs.latency_percentile), inputs.latency_interval,
                      max=_number(inputs.latency_max_ms))
    if inputs.request_rate_min is not None:
        templated("request-rate", request_rate_query(inputs, source), inputs.request_rate_interval,
                  min=_number(inputs.request_rate_min))
    return tuple(metrics), tuple(templates)


# --- webhooks and alerts -----------------------------------------------------------------------


def default_runner(hook_type: str) -> str:
    """Load tests run in the background during the analysis; every other command is a check that
    must finish and succeed."""
    return BACKGROUND if hook_type == "rollout" else BLOCKING


def plan_webhook(hook: WebhookInput, loadtester: str) -> WebhookPlan:
    base = loadtester if loadtester.endswith("/") else loadtester + "/"
    metadata: tuple[tuple[str, str], ...] = ()
    if hook.cmd is not None:
        runner = hook.runner or default_runner(hook.type)
        # `cmd` is the load tester's default type: written only when it differs, as Flagger's docs do.
        metadata = ((("type", runner),) if runner != BACKGROUND else ()) + (("cmd", hook.cmd),)
        url = hook.url or base
    else:
        url = hook.url or base + GATE_PATHS.get(hook.type, "")
    return WebhookPlan(hook.name, hook.type, url, hook.timeout, metadata)


def plan_alert_providers(inputs: FlaggerInputs) -> tuple[tuple[AlertProviderPlan, ...], tuple[CanaryAlertPlan, ...]]:
    providers, alerts = [], []
    for alert in inputs.alerts:
        if alert.provider_ref is not None:
            alerts.append(CanaryAlertPlan(alert.name, alert.severity, *alert.provider_ref))
            continue
        name = c.alert_provider_name(inputs.name, alert.name)
        providers.append(AlertProviderPlan(name, alert.type, alert.channel, alert.username, alert.secret,
                                           alert.address, alert.proxy))
        alerts.append(CanaryAlertPlan(alert.name, alert.severity, name))
    return tuple(providers), tuple(alerts)


def status_rule(inputs: FlaggerInputs) -> StatusRulePlan:
    """Flagger exports flagger_canary_status{name, namespace} (0 progressing, 1 done, 2 failed). When
    Prometheus scrapes Flagger with its own `namespace` target label, the metric's label is renamed
    `exported_namespace`; the expression accepts either."""
    name, ns = inputs.name, inputs.namespace
    expr = (f'max(flagger_canary_status{{name="{name}", namespace="{ns}"}}) > 1\n'
            f'or\nmax(flagger_canary_status{{name="{name}", exported_namespace="{ns}"}}) > 1\n')
    return StatusRulePlan(
        alert="CanaryRolledBack",
        expr=expr,
        for_="1m",
        labels={**inputs.alert_labels, "service": name, "namespace": ns},
        annotations={
            "summary": f"Flagger rolled back {name} in {ns}",
            "description": f"Flagger's analysis of {name} in {ns} failed and the new version was rolled "
                           f"back; the primary ({c.flagger_primary_name(name)}) still serves traffic. "
                           f"See `kubectl -n {ns} describe canary {name}`.",
        },
    )


# --- the plan ---------------------------------------------------------------------------------


def gateway_refs(inputs: FlaggerInputs) -> tuple[dict, ...]:
    """The Gateway API provider attaches its HTTPRoute to these parents; for mesh (east-west) traffic
    the parent is the Service itself (GAMMA): the core group, kind Service, its port. Gateway API spells
    the core group as the empty string (Istio refuses `core` as a parent group, Linkerd takes both); it is
    written out because the Canary CRD defaults an absent group to `gateway.networking.k8s.io`, and
    Flagger copies the refs into the HTTPRoute's parentRefs unchanged (router/gateway_api.go)."""
    if not inputs.provider.startswith("gatewayapi"):
        return ()
    refs = []
    for gateway in inputs.gateways:
        namespace, rest = gateway.split("/", 1)
        name, _, section = rest.partition(":")
        refs.append({"name": name, "namespace": namespace, "group": "gateway.networking.k8s.io", "kind": "Gateway",
                     **({"sectionName": section} if section else {})})
    if inputs.mesh_routing or not inputs.gateways:
        refs.append({"name": inputs.name, "namespace": inputs.namespace, "group": "", "kind": "Service",
                     "port": inputs.port})
    return tuple(refs)


def service_options(inputs: FlaggerInputs) -> dict:
    """The Canary's `service` fields besides ports and gatewayRefs, as Flagger's routers read them: Istio's
    VirtualService takes `gateways` (where `mesh` keeps in-mesh callers: an explicit list replaces Flagger's
    default `[mesh]`) and `hosts` (Flagger adds the Service's own name), `timeout`, `retries` and the
    DestinationRules' `trafficPolicy`; the Gateway API HTTPRoute takes `hosts` and `timeout`."""
    out: dict = {}
    if inputs.port_discovery is not None:
        out["portDiscovery"] = inputs.port_discovery
    if inputs.timeout is not None:
        out["timeout"] = inputs.timeout
    if inputs.provider == "istio" and inputs.gateways:
        out["gateways"] = list(inputs.gateways) + (["mesh"] if inputs.mesh_routing else [])
    if inputs.hosts:
        out["hosts"] = list(inputs.hosts)
    if inputs.retries is not None:
        out["retries"] = dict(inputs.retries)
    if inputs.traffic_policy is not None:
        out["trafficPolicy"] = inputs.traffic_policy
    return out


def build_flagger_plan(inputs: FlaggerInputs) -> FlaggerPlan:
    metrics, templates = plan_metrics(inputs)
    providers, alerts = plan_alert_providers(inputs)
    canary = inputs.strategy == "canary"
    analysis = AnalysisPlan(
        strategy=inputs.strategy,
        interval=inputs.interval,
        threshold=inputs.threshold,
        step_weight=inputs.step_weight if canary and not inputs.step_weights else None,
        max_weight=inputs.max_weight if canary and not inputs.step_weights else None,
        step_weights=inputs.step_weights if canary else (),
        iterations=None if canary else inputs.iterations,
        match=flagger_match(inputs.match, inputs.provider) if inputs.strategy == "abTest" else (),
        metrics=metrics,
        webhooks=tuple(plan_webhook(h, inputs.loadtester) for h in inputs.webhooks),
        alerts=alerts,
        mirror_weight=inputs.mirror_weight if canary else None,
        session_affinity=inputs.session_affinity if canary else None,
    )
    return FlaggerPlan(
        source=inputs.source,
        name=inputs.name,
        namespace=inputs.namespace,
        labels=inputs.labels,
        provider=inputs.provider,
        port=inputs.port,
        target_port=inputs.target_port,
        gateway_refs=gateway_refs(inputs),
        service_options=service_options(inputs),
        workload=inputs.workload,
        analysis=analysis,
        templates=templates,
        alert_providers=providers,
        status_rule=status_rule(inputs) if inputs.status_alert else None,
        replicas=inputs.replicas,
        autoscaler=inputs.autoscaler,
        progress_deadline=inputs.progress_deadline,
    )


def analysis_steps(plan: FlaggerPlan) -> list[int]:
    """The canary weights Flagger walks through, for `plan` and the docs."""
    a = plan.analysis
    return canary_step_weights(a.step_weight, a.max_weight, a.step_weights)


def status_commands(plan: FlaggerPlan) -> list[tuple[str, str]]:
    """The reference's monitoring commands for this rollout: (what, command)."""
    ns, name = plan.namespace, plan.name
    return [
        ("watch canary progress", f"kubectl -n {ns} get canaries --watch"),
        ("describe canary status", f"kubectl -n {ns} describe canary {name}"),
        ("view Flagger events", f"kubectl -n {ns} get events --sort-by='.lastTimestamp'"),
        ("only this canary's events", f"kubectl -n {ns} get events --sort-by='.lastTimestamp' "
                                      f"--field-selector involvedObject.kind=Canary,involvedObject.name={name}"),
        ("primary and canary workloads", f"kubectl -n {ns} get deployment {name} {c.flagger_primary_name(name)}"),
    ]


# --- from the spec ----------------------------------------------------------------------------

def flagger_workload(rollout) -> WorkloadPlan:
    """Flagger's target: one Deployment `<name>` running `workload.image` (a full reference)."""
    spec, name = rollout.spec, rollout.metadata.name
    container = {"name": spec.workload.container or name, "image": spec.workload.image,
                 "ports": container_ports(rollout)}
    pod, _ = merge_pod(spec.workload.pod, container)
    labels, annotations = pod_metadata(rollout)
    # No replica count on Flagger's target: an autoscaler holds it (see constructs.core.HorizontalPodAutoscaler).
    return WorkloadPlan("", name, spec.workload.image, None, pod, dict(spec.workload.deployment or {}),
                        labels, annotations)


# The utilisation target of a pinned count: with min = max the HPA never changes the count, and the
# API server's own default (80) keeps the object as users know it.


def autoscaler_plan(rollout) -> AutoscalerPlan:
    """Flagger's target carries no replica count (Flagger scales it to zero between releases, and a count
    in Git would make the GitOps sync scale it back up: fluxcd/flagger#1121). An HPA holds the count
    instead: Flagger scales the target up from zero to the HPA's minReplicas, gives the primary a copy
    of the HPA, and the HPA controller leaves a target at zero replicas alone. Its metric is always
    written: an HPA without metrics is defaulted to the whole pod's CPU utilisation, which needs a request
    on every container, sidecars included. A pinned count (min = max) gets a metric that needs no request;
    real autoscaling targets the application container's CPU utilisation."""
    workload = rollout.spec.workload
    container = workload.container or rollout.metadata.name
    scaling = workload.autoscaling
    if scaling is not None:
        return AutoscalerPlan(scaling.min, scaling.max, scaling.cpu, container)
    return AutoscalerPlan(workload.replicas, workload.replicas, None, container)


def retries_dict(retries) -> dict | None:
    """Istio's HTTPRetry, the Canary's `service.retries`."""
    if retries is None:
        return None
    out: dict = {"attempts": retries.attempts}
    if retries.perTryTimeout is not None:
        out["perTryTimeout"] = retries.perTryTimeout
    if retries.on is not None:
        out["retryOn"] = retries.on
    return out


def flagger_inputs(rollout, source: str) -> FlaggerInputs:
    """The one mapping from a `delivery: flagger` spec to the plan's inputs (the spec was checked)."""
    spec, meta = rollout.spec, rollout.metadata
    strategy = only_strategy(rollout)
    block = getattr(spec, strategy)
    analysis = spec.analysis
    settings = spec.flagger
    fields = analysis.model_fields_set
    workload = flagger_workload(rollout)
    latency = analysis.latency
    selector = analysis.selector
    scaling = spec.workload.autoscaling
    ingress = spec.ingress
    return FlaggerInputs(
        source=source,
        name=meta.name,
        namespace=meta.namespace,
        labels={**meta.labels, **c.MANAGED_BY},
        mesh=spec.mesh,
        provider=provider_of(rollout),
        port=spec.service.port,
        target_port=spec.service.targetPort or spec.service.port,
        workload=workload,
        strategy=strategy,
        # Flagger's own default interval (1m) when the spec leaves it: the rule-group default is for alerts.
        interval=analysis.interval if "interval" in fields else "1m",
        threshold=analysis.threshold,
        step_weight=getattr(block, "stepWeight", None),
        max_weight=getattr(block, "maxWeight", None),
        step_weights=tuple(getattr(block, "steps", None) or ()) if strategy == "canary" else (),
        iterations=getattr(block, "iterations", None),
        match=tuple((HeaderCondition.of(m),) for m in (getattr(block, "match", None) or [])),
        mirror_weight=int(block.shadow.percent) if getattr(block, "shadow", None) is not None else None,
        session_affinity=((block.sticky.cookie, block.sticky.maxAge) if getattr(block, "sticky", None) is not None
                          else None),
        # The range of each check's query: the spec's window, else Flagger's own default (1m), which
        # holds enough scrapes even when the analysis runs more often.
        metric_interval=analysis.window if "window" in fields else "1m",
        success_min=analysis.successRate.min if analysis.successRate else None,
        latency_max_ms=parse_duration(latency.max) if latency else None,
        # Flagger's builtin request-duration is P99: used unless the spec names another percentile.
        latency_percentile=(latency.percentile if latency and "percentile" in latency.model_fields_set
                            else BUILTIN_PERCENTILE),
        request_rate_min=analysis.requestRate.min if analysis.requestRate else None,
        success_interval=analysis.successRate.window if analysis.successRate else None,
        latency_interval=latency.window if latency else None,
        request_rate_interval=analysis.requestRate.window if analysis.requestRate else None,
        reporter=analysis.reporter,
        metrics_source=analysis.metrics,
        app_selector=AppSelector(selector.namespace, selector.service, selector.code) if selector else AppSelector(),
        metrics_server=(settings.metricsServer if settings and settings.metricsServer
                        else c.MESH_PROMETHEUS.get(spec.mesh, c.DEFAULT_PROMETHEUS)),
        loadtester=(settings.loadtester if settings else None) or c.loadtester_url(meta.namespace),
        webhooks=tuple(WebhookInput(h.name, h.type, h.timeout, h.cmd, h.url, h.runner) for h in spec.webhooks or []),
        alerts=tuple(AlertInput(a.name, a.type, a.severity, a.channel, a.username, a.secretRef, a.address, a.proxy,
                                (a.providerRef.name, a.providerRef.namespace) if a.providerRef else None)
                     for a in (settings.alerts if settings else [])),
        replicas=None if scaling else spec.workload.replicas,
        autoscaler=autoscaler_plan(rollout),
        gateways=tuple(ingress.gateways) if ingress else (),
        hosts=tuple(ingress.hosts) if ingress else (),
        mesh_routing=ingress.mesh if ingress else True,
        timeout=spec.service.timeout,
        retries=retries_dict(spec.service.retries),
        traffic_policy=settings.trafficPolicy if settings else None,
        # `service.additionalPorts` reach Flagger's Services through port discovery of the container's ports
        port_discovery=(settings.portDiscovery if settings and settings.portDiscovery is not None
                        else (True if spec.service.additionalPorts else None)),
        progress_deadline=settings.progressDeadlineSeconds if settings else None,
        status_alert=analysis.alerts != "none",
        alert_labels=dict(analysis.labels),
    )


def status_rule_dict(rule: StatusRulePlan) -> dict:
    return {"alert": rule.alert, "expr": rule.expr, "for": rule.for_, "labels": dict(rule.labels),
            "annotations": dict(rule.annotations)}


def plan_flagger_alerts(rollout, plan: FlaggerPlan):
    """The analysis alerts of the canary workload plus the rule on Flagger's status, delivered as the
    analysis says (PrometheusRule or ConfigMap, `<name>-canary-alerts`)."""

    analysis = rollout.spec.analysis
    if plan.status_rule is None:
        return None
    rules = rules_file(rollout) or {"groups": [{
        "name": c.alert_group_name(plan.name, plan.namespace), "interval": analysis.interval, "rules": []}]}
    rules["groups"][0]["rules"].append(status_rule_dict(plan.status_rule))
    labels = {**plan.labels, **analysis.ruleLabels, **c.MANAGED_BY}
    return AlertsPlan(analysis.alerts, c.alerts_name(plan.name), labels, rules)


def plan_flagger(rollout, source: str) -> FlaggerPlan:
    plan = build_flagger_plan(flagger_inputs(rollout, source))
    return replace(plan, alerts=plan_flagger_alerts(rollout, plan))
