"""How Flagger v1.44 reads a Canary's analysis, written from its scheduler (controller/scheduler.go)
independently of the generator: the strategy it runs and the canary weights it steps through."""

from __future__ import annotations


def strategy(analysis: dict, provider: str) -> str:
    """`match` + `iterations` → A/B testing; `iterations` → blue/green; otherwise a canary. The
    `kubernetes` provider always runs blue/green (it warns and ignores weights and matches)."""
    if provider == "kubernetes":
        return "blueGreen"
    if analysis.get("match") and analysis.get("iterations", 0) > 0:
        return "abTest"
    if analysis.get("iterations", 0) > 0:
        return "blueGreen"
    return "canary"


def canary_weights(analysis: dict) -> list[int]:
    """The weights of each analysis step until promotion (runCanary/nextStepWeight/maxWeight)."""
    steps = analysis.get("stepWeights") or []
    step = analysis.get("stepWeight", 0)
    top = min(100, steps[-1]) if steps else analysis.get("maxWeight") or 100
    weight, out = 0, []
    while weight < top:
        if step > 0 or not steps:
            increment = step
        elif weight == 0:
            increment = min(100 - weight, steps[0])
        else:
            increment = next((min(100 - weight, steps[i + 1] - weight) for i in range(len(steps) - 1)
                              if steps[i] == weight), 100 - weight)
        if increment <= 0:
            break  # Flagger never advances: the canary is stuck at this weight
        weight = min(weight + increment, 100)
        out.append(weight)
    return out


# --- which queries Flagger runs for a Canary's metrics --------------------------------------------
# Written from pkg/controller/scheduler_metrics.go (runBuiltinMetricChecks, runMetricChecks) and
# pkg/metrics/observers/factory.go (Factory.Observer) of Flagger v1.44.0.

BUILTIN_METRICS = ("request-success-rate", "request-duration")

# The series each builtin observer reads (pkg/metrics/observers/{istio,linkerd,http}.go: the
# `request-success-rate` and `request-duration` queries).
OBSERVER_SERIES = {
    "istio": {"request-success-rate": "istio_requests_total",
              "request-duration": "istio_request_duration_milliseconds_bucket"},
    "linkerd": {"request-success-rate": "response_total", "request-duration": "response_latency_ms_bucket"},
    "http": {"request-success-rate": "http_request_duration_seconds_count",
             "request-duration": "http_request_duration_seconds_bucket"},
}
# The Istio observer's fixed scoping (istio.go): server-side reports of the target workload.
ISTIO_BUILTIN_REPORTER = "destination"


def metrics_provider(canary_provider: str, mesh_provider: str, target_kind: str = "Deployment") -> str:
    """runBuiltinMetricChecks: the controller's meshProvider, overridden by the Canary's provider,
    which is overridden again by `linkerd` whenever the controller's meshProvider contains linkerd."""
    provider = "crossover" if "crossover" in mesh_provider else mesh_provider
    if canary_provider:
        provider = canary_provider
        if "linkerd" in mesh_provider:
            provider = "linkerd"
    if target_kind == "Service":
        provider += ":service"
    return provider


def observer(provider: str) -> str:
    """Factory.Observer: the observer a metrics provider selects (Istio's when none matches)."""
    exact = {"linkerd": "linkerd", "istio": "istio", "contour": "contour", "nginx": "nginx", "skipper": "skipper",
             "traefik": "traefik", "osm": "osm", "kuma": "kuma", "apisix": "apisix", "knative": "knative",
             "kubernetes": "http"}
    if provider.startswith("appmesh"):
        return "appmesh"
    if provider in exact:
        return exact[provider]
    if provider.startswith("gloo"):
        return "gloo"
    if provider.startswith("gatewayapi"):
        return "http"
    return "istio"


def series(query: str) -> list[str]:
    """Metric names a PromQL query selects (a name directly followed by its label matchers)."""
    import re

    return sorted(set(re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{", query)))


def checks_run(canary: dict, templates: dict[str, dict], mesh_provider: str) -> dict[str, list[tuple]]:
    """For each entry of `analysis.metrics`, the queries Flagger runs at every analysis, in order:
    ("builtin", observer, series) from runBuiltinMetricChecks, which goes by the metric's name alone,
    then ("template", MetricTemplate name, series of its query) from runMetricChecks. `templates`
    maps a MetricTemplate's name to the object."""
    spec = canary["spec"]
    obs = observer(metrics_provider(spec.get("provider", ""), mesh_provider, spec["targetRef"]["kind"]))
    out: dict[str, list[tuple]] = {}
    for metric in spec["analysis"].get("metrics", []):
        runs = out.setdefault(metric["name"], [])
        if metric["name"] in BUILTIN_METRICS:
            runs.append(("builtin", obs, [OBSERVER_SERIES.get(obs, {}).get(metric["name"], "?")]))
        if metric.get("query"):
            runs.append(("inline", None, series(metric["query"])))
        if metric.get("templateRef"):
            name = metric["templateRef"]["name"]
            runs.append(("template", name, series(templates[name]["spec"]["query"])))
    return out
