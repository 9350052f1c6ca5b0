"""Meaning of `delivery: flagger`: the combinations Flagger rejects or silently misreads, and what a
provider cannot do, as located findings that say why. Pure functions over the model.

With `delivery: manual` (the default) the Flagger-only blocks are refused; the manual rules in
`checks.py` skip Flagger rollouts, whose shape is different (one Deployment, no versions).
"""

from __future__ import annotations

import re
from typing import Iterator

import generator.names as c
from generator.mesh import MESHES, default_metrics
from generator.spec.checks import Finding, check_header_match, parse_image
from generator.spec.facts import only_strategy
from generator.spec.kinds import engine_of
from generator.spec.pod import merge_pod

STRATEGIES = {"istio": ("canary", "blueGreen", "abTest"), "linkerd": ("canary", "blueGreen"),
              "gatewayapi:v1": ("canary", "blueGreen", "abTest"), "kubernetes": ("blueGreen",)}
# What Flagger's router for each provider writes from the Canary's service options (router/istio.go,
# router/gateway_api.go; the SMI and kubernetes routers read none of them).
EDGE_OPTIONS = {"istio": ("ingress", "timeout", "retries", "trafficPolicy"), "gatewayapi:v1": ("ingress", "timeout"),
                "linkerd": (), "kubernetes": ()}
STRATEGY_WORDS = {"canary": "a canary", "blueGreen": "blue/green", "abTest": "an A/B test"}
COMMAND_HOOKS = ("pre-rollout", "rollout", "post-rollout")
GATE_HOOKS = ("confirm-rollout", "confirm-promotion", "confirm-traffic-increase", "rollback")
FLAGGER_ONLY_FIELDS = {"canary": ("stepWeight", "maxWeight"), "blueGreen": ("iterations",),
                       "abTest": ("iterations", "match"), "analysis": ("threshold",)}
CHECK_BLOCKS = ("successRate", "latency", "requestRate")  # analysis checks with a Flagger-only `window`
MIN_INTERVAL_SECONDS = 10  # Flagger runs an analysis at most every 10s (shorter intervals are raised)


def provider_of(rollout) -> str:
    settings = rollout.spec.flagger
    if settings is not None and settings.provider is not None:
        return settings.provider
    return MESHES[rollout.spec.mesh].default_provider


def flagger_seconds(text: str) -> float | None:
    """Seconds of a Flagger duration (`30s`, `1m`, `1m30s`, `500ms`), None when Flagger would not read it."""
    parts = re.findall(r"([0-9]+)(ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text or not re.match(r"^[0-9]+(m|s)", text):
        return None
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(int(n) * scale[u] for n, u in parts)


def check_manual_has_no_flagger_blocks(rollout) -> Iterator[Finding]:
    if engine_of(rollout) == "flagger":
        return
    for name in ("webhooks", "flagger"):
        value = getattr(rollout.spec, name, None)
        if value:
            yield Finding(("spec", name), f"`{name}` is only used with `delivery: flagger`",
                          "add `delivery: flagger`, or remove the block", key=True)
    # A check's own window is the range of one of Flagger's checks; the alerts use `analysis.window`.
    analysis = getattr(rollout.spec, "analysis", None)
    for name in CHECK_BLOCKS:
        check = getattr(analysis, name, None) if analysis is not None else None
        if check is not None and "window" in check.model_fields_set:
            yield Finding(("spec", "analysis", name, "window"),
                          f"`analysis.{name}.window` is only used with `delivery: flagger`",
                          "remove it: the alerts of a manual rollout use `analysis.window`", key=True)
    # Fields of the strategy blocks that only Flagger reads.
    for block, fields in FLAGGER_ONLY_FIELDS.items():
        value = getattr(rollout.spec, block, None)
        for name in fields:
            if value is not None and name in value.model_fields_set:
                yield Finding(("spec", block, name), f"`{block}.{name}` is only used with `delivery: flagger`",
                              "add `delivery: flagger`, or remove it", key=True)


def check_workload(rollout) -> Iterator[Finding]:
    if engine_of(rollout) != "flagger":
        return
    spec = rollout.spec
    if spec.versions:
        yield Finding(("spec", "versions"),
                      "Flagger manages one Deployment, not versions: it copies it to "
                      f"`{rollout.metadata.name}-primary` and rolls out every change of its pod template",
                      "remove `versions` and set the full image in `workload.image` (e.g. `backend:2.0.1`)", key=True)
    if spec.workload.replicas == 0:
        yield Finding(("spec", "workload", "replicas"), "Flagger's primary needs at least one replica, got 0",
                      "Flagger scales `<name>` to zero itself between releases; set the replicas the service runs with")
    yield from check_autoscaling_fields(rollout)
    m = parse_image(spec.workload.image)
    if m is None:
        yield Finding(("spec", "workload", "image"), f"not a valid image reference: {spec.workload.image!r}",
                      "e.g. `registry.example.com/team/backend:2.0.1`")
    elif not (m.group("tag") or m.group("digest")):
        yield Finding(("spec", "workload", "image"),
                      f"needs a tag or digest with `delivery: flagger`, got {spec.workload.image!r}",
                      "Flagger starts a rollout when the image changes; e.g. `backend:v2`")


def app_container(rollout) -> dict:
    """The application container as the Deployment will run it (the pod fragment merged in)."""
    name = rollout.spec.workload.container or rollout.metadata.name
    pod, index = merge_pod(rollout.spec.workload.pod, {"name": name})
    return pod["containers"][index]


def cpu_request(container: dict):
    """The container's CPU request as the API server sets it (a limit alone becomes the request)."""
    resources = container.get("resources") if isinstance(container.get("resources"), dict) else {}
    for kind in ("requests", "limits"):
        amounts = resources.get(kind)
        if isinstance(amounts, dict) and amounts.get("cpu") not in (None, "", 0, "0"):
            return amounts["cpu"]
    return None


def check_autoscaling_fields(rollout) -> Iterator[Finding]:
    """Flagger's target, and each version's Deployment of a manual rollout with `workload.autoscaling`, is
    held by a HorizontalPodAutoscaler (see constructs.core.HorizontalPodAutoscaler).
    Real autoscaling measures the application container's CPU utilisation: without a request the HPA
    controller cannot compute it and warns on every sync."""
    workload = rollout.spec.workload
    base = ("spec", "workload")
    scaling = workload.autoscaling
    if scaling is not None:
        if "replicas" in workload.model_fields_set:
            yield Finding(base + ("replicas",), "`replicas` and `autoscaling` together: the autoscaler decides the "
                          "count between `autoscaling.min` and `autoscaling.max`", "keep one of them", key=True)
        if scaling.min > scaling.max:
            yield Finding(base + ("autoscaling", "min"),
                          f"must not exceed autoscaling.max ({scaling.max}), got {scaling.min}",
                          "the autoscaler keeps the count between min and max")
    if scaling is None:
        return  # a pinned count's metric needs no request (see constructs.core.HorizontalPodAutoscaler)
    container = app_container(rollout)
    if cpu_request(container) is None:
        name = container["name"]
        yield Finding(base + ("autoscaling", "cpu"),
                      f"the application container {name!r} needs a CPU request: `autoscaling` scales on its CPU "
                      "use in percent of the request, which the HPA controller cannot compute without one "
                      "(it warns FailedGetContainerResourceMetric on every sync)",
                      f"e.g. `pod: {{containers: [{{name: {name}, resources: {{requests: {{cpu: 100m}}}}}}]}}`")


def check_strategy(rollout) -> Iterator[Finding]:
    if engine_of(rollout) != "flagger":
        return
    spec = rollout.spec
    strategy = only_strategy(rollout)
    given = [name for name in ("canary", "blueGreen", "abTest") if getattr(spec, name, None) is not None]
    if not given:
        yield Finding(("spec", "delivery"), "Flagger needs a strategy: `canary`, `blueGreen` or `abTest`",
                      "e.g. `canary: {stepWeight: 10, maxWeight: 50}`")
        return
    if strategy is None:
        # More than one strategy is reported for every spec; with Flagger it is also what its CRD rejects.
        if "canary" in given:
            other = next(g for g in given if g != "canary")
            yield Finding(("spec", "canary"),
                          "Flagger's Canary takes exactly one of stepWeight, stepWeights and iterations (its CRD "
                          f"rejects weights beside the iterations of `{other}`): {STRATEGY_WORDS[other]} has no weights",
                          f"remove the `canary` block; Flagger promotes after `{other}.iterations`", key=True)
        return
    provider = provider_of(rollout)
    if strategy not in STRATEGIES[provider] and provider == "kubernetes":
        yield Finding(("spec", strategy),
                      f"Flagger's kubernetes provider cannot run {STRATEGY_WORDS[strategy]}: it routes no traffic, "
                      "it only switches the Service to the new version after the checks (blue/green)",
                      "use `blueGreen: {iterations: 10}`, or a mesh provider for weights and matches", key=True)
    elif strategy not in STRATEGIES[provider]:
        hint = ("Linkerd also implements the Gateway API: remove `flagger.provider` (`gatewayapi:v1` is the "
                "default on Linkerd) or set `flagger.provider: gatewayapi:v1`" if provider == "linkerd" else "")
        yield Finding(("spec", strategy),
                      f"Flagger's {provider} provider cannot run {STRATEGY_WORDS[strategy]}: "
                      + ("its TrafficSplit only shifts weights and cannot match requests"
                         if provider == "linkerd" else "it does not support it"), hint, key=True)
    base = ("spec", strategy)
    block = getattr(spec, strategy)
    if strategy == "canary":
        yield from _check_canary(block, base)
    else:
        manual = {"blueGreen": ("active", "preview", "test"), "abTest": ("cookie", "variants")}[strategy]
        for name in manual:
            if getattr(block, name, None):
                yield Finding(base + (name,),
                              f"`{strategy}.{name}` is for manual delivery; Flagger picks the versions itself "
                              f"(the primary and the canary of `{rollout.metadata.name}`)",
                              "remove it" + ("; route testers with `abTest.match`" if strategy == "abTest" else ""),
                              key=True)
        if strategy == "abTest" and block.significance is not None:
            yield Finding(base + ("significance",), "`abTest.significance` sizes the variants of a manual cookie A/B "
                          "test; Flagger's A/B test runs `iterations` analyses on the matched requests instead",
                          "remove it", key=True)
        if getattr(block, "iterations", None) is None:
            yield Finding(base, f"Flagger's {STRATEGY_WORDS[strategy]} needs `iterations`: the number of analysis "
                          "runs before promotion", f"e.g. `{strategy}: {{iterations: 10"
                          + (", match: [{header: x-user-type, exact: beta}]}`" if strategy == "abTest" else "}`"))
        if strategy == "abTest":
            match = getattr(block, "match", None)
            if not match:
                yield Finding(base, "Flagger's A/B test needs `match`: which requests reach the canary "
                              "(without it Flagger runs blue/green)", "e.g. `match: [{header: x-user-type, exact: beta}]`")
            for i, cond in enumerate(match or []):
                yield from check_header_match(cond, base + ("match", i))


def _check_canary(canary, base: tuple) -> Iterator[Finding]:
    for name in ("stable", "canary", "testers"):
        if getattr(canary, name, None) is not None:
            yield Finding(base + (name,),
                          f"`canary.{name}` is for manual delivery: Flagger runs the new version as "
                          "`<name>` and the old one as `<name>-primary` itself", "remove it", key=True)
    if canary.stepDuration is not None:
        yield Finding(base + ("stepDuration",), "`canary.stepDuration` is for manual delivery: Flagger holds "
                      "each step for one analysis interval", "remove it and set `analysis.interval`", key=True)
    if "position" in canary.model_fields_set:
        yield Finding(base + ("position",), "`canary.position` is for manual delivery: Flagger moves the "
                      "weights itself, one step per analysis interval", "remove it", key=True)
    steps = canary.steps or []
    if canary.stepWeight is not None and steps:
        yield Finding(base + ("steps",),
                      "`steps` and `stepWeight` together: Flagger's Canary takes stepWeights or stepWeight, and "
                      "the API server rejects a Canary with both", "keep one of them", key=True)
    elif canary.stepWeight is None and not steps:
        yield Finding(base, "Flagger's canary needs `stepWeight` (with `maxWeight`) or `steps`",
                      "e.g. `canary: {stepWeight: 10, maxWeight: 50}` or `canary: {steps: [5, 10, 25, 50]}`")
    if steps and canary.maxWeight is not None:
        yield Finding(base + ("maxWeight",),
                      f"Flagger ignores `maxWeight` with `steps`: the last step ({steps[-1]}%) is the maximum weight",
                      "remove `maxWeight`", key=True)
    for i in range(1, len(steps)):
        if steps[i] <= steps[i - 1]:
            yield Finding(base + ("steps", i),
                          f"must be greater than the step before it (got {steps[i]} after {steps[i - 1]})",
                          "steps are the canary's traffic share at each step, strictly increasing")
    step, top = canary.stepWeight, canary.maxWeight
    if step is not None and top is not None and top % step and top < 100:
        # Flagger adds stepWeight while the weight is below maxWeight, capping only at 100.
        over = (top // step + 1) * step
        yield Finding(base + ("maxWeight",),
                      f"must be a multiple of stepWeight ({step}), got {top}: Flagger adds {step}% while the canary "
                      f"is below maxWeight, so it would reach {min(over, 100)}% before promoting",
                      f"use maxWeight {top - top % step or step} or {min(over, 100)}")


# Providers whose Flagger router (v1.44) copies a canary's requests and keeps its users: router/istio.go
# writes `mirror` (+ `mirrorPercentage` from `mirrorWeight`) on the one mirror iteration the scheduler runs
# at weight 0 before the first step; router/gateway_api.go mirrors only a blue/green run (`iterations`),
# all requests, and ignores `mirrorWeight`; the SMI and kubernetes routers never mirror. Session affinity
# is implemented by the istio and Gateway API routers only.
MIRROR_PROVIDERS = ("istio",)
AFFINITY_PROVIDERS = ("istio", "gatewayapi:v1")


def check_canary_traffic(rollout) -> Iterator[Finding]:
    """`canary.shadow` and `canary.sticky` with Flagger: what its router for the provider can do."""
    if engine_of(rollout) != "flagger" or only_strategy(rollout) != "canary":
        return
    canary, provider, base = rollout.spec.canary, provider_of(rollout), ("spec", "canary")
    if canary.shadow is not None:
        percent = canary.shadow.percent
        if provider not in MIRROR_PROVIDERS:
            yield Finding(base + ("shadow",),
                          f"Flagger's {provider} provider does not mirror a canary: Flagger mirrors canary traffic "
                          "(`analysis.mirror`) with its istio provider only; its Gateway API router mirrors "
                          "blue/green runs alone, every request", "remove `shadow`, or use `flagger.provider: istio` "
                          "on mesh istio", key=True)
        elif percent != int(percent):
            yield Finding(base + ("shadow", "percent"),
                          f"must be a whole percentage with `delivery: flagger`, got {percent!r}: Flagger's "
                          "`mirrorWeight` is an integer", f"use {max(1, round(percent))}")
    if canary.sticky is not None and provider not in AFFINITY_PROVIDERS:
        yield Finding(base + ("sticky",),
                      f"Flagger's {provider} provider has no session affinity: `analysis.sessionAffinity` is "
                      "implemented by its istio and Gateway API routers only",
                      "remove `sticky`, or use `flagger.provider: istio` or `gatewayapi:v1`", key=True)


def check_routing_blocks(rollout) -> Iterator[Finding]:
    if engine_of(rollout) != "flagger":
        return
    for name in ("routes", "default"):
        if getattr(rollout.spec, name, None):
            yield Finding(("spec", name), f"`{name}` is for manual delivery: with `delivery: flagger`, Flagger "
                          "generates and owns the routing", "remove it", key=True)


def check_provider(rollout) -> Iterator[Finding]:
    if engine_of(rollout) != "flagger" or rollout.spec.flagger is None or rollout.spec.flagger.provider is None:
        return
    provider, mesh = rollout.spec.flagger.provider, rollout.spec.mesh
    if provider not in MESHES[mesh].providers:
        yield Finding(("spec", "flagger", "provider"), f"mesh {mesh} cannot carry Flagger's {provider!r} provider",
                      "use one of: " + ", ".join(MESHES[mesh].providers))
    elif provider == "linkerd":
        yield Finding(("spec", "flagger", "provider"),
                      "Flagger's linkerd provider writes an SMI TrafficSplit, which Linkerd 2.12 and later honour "
                      "only with the linkerd-smi extension installed; without it the canary never receives traffic",
                      "install linkerd-smi, or remove `provider` to use `gatewayapi:v1` (the default on Linkerd)",
                      severity="warning")


def check_edge(rollout) -> Iterator[Finding]:
    """Ingress gateways, timeouts, retries and traffic policy: what the provider's router can write."""
    if engine_of(rollout) != "flagger":
        return
    spec = rollout.spec
    provider = provider_of(rollout)
    allowed = EDGE_OPTIONS.get(provider, ())
    given = {"ingress": (("spec", "ingress"), spec.ingress),
             "timeout": (("spec", "service", "timeout"), spec.service.timeout),
             "retries": (("spec", "service", "retries"), spec.service.retries),
             "trafficPolicy": (("spec", "flagger", "trafficPolicy"), spec.flagger.trafficPolicy if spec.flagger else None)}
    for option, (path, value) in given.items():
        if value is None or option in allowed:
            continue
        takers = [p for p, options in EDGE_OPTIONS.items() if option in options]
        yield Finding(path, f"Flagger's {provider} provider has no {option}: its router "
                      + ("writes no routes" if not allowed else f"writes only {', '.join(allowed)}"),
                      "remove it, or use the provider " + " or ".join(f"`{p}`" for p in takers), key=True)
    if spec.ingress is not None and provider == "istio":
        for i, gateway in enumerate(spec.ingress.gateways):
            if ":" in gateway:
                yield Finding(("spec", "ingress", "gateways", i),
                              f"an Istio Gateway is named NAMESPACE/NAME, got {gateway!r}: listener sections are "
                              "Gateway API's", f"write `{gateway.split(':')[0]}`")
    if spec.ingress is not None:
        seen: dict[str, int] = {}
        for i, gateway in enumerate(spec.ingress.gateways):
            if gateway in seen:
                yield Finding(("spec", "ingress", "gateways", i),
                              f"duplicate gateway {gateway!r} (also gateways[{seen[gateway]}])", "list it once")
            seen.setdefault(gateway, i)


def check_analysis(rollout) -> Iterator[Finding]:
    if engine_of(rollout) != "flagger":
        return
    analysis = getattr(rollout.spec, "analysis", None)
    if analysis is None:
        yield Finding(("spec", "delivery"), "Flagger needs an `analysis`: it promotes on passing checks",
                      "e.g. `analysis: {interval: 1m, threshold: 5, successRate: {min: 99}}`")
        return
    base = ("spec", "analysis")
    fields = analysis.model_fields_set
    durations = [(base + (name,), getattr(analysis, name)) for name in ("interval", "window") if name in fields]
    durations += [(base + (name, "window"), getattr(analysis, name).window) for name in CHECK_BLOCKS
                  if getattr(analysis, name) is not None and getattr(analysis, name).window is not None]
    for path, value in durations:
        seconds = flagger_seconds(value)
        if seconds is None:
            yield Finding(path, f"Flagger reads durations in seconds or minutes, got {value!r}",
                          "e.g. `30s`, `1m` or `90m`")
        elif path == base + ("interval",) and seconds < MIN_INTERVAL_SECONDS:
            yield Finding(path, f"Flagger runs an analysis at most every {MIN_INTERVAL_SECONDS}s, "
                          f"got {value!r}", f"use `{MIN_INTERVAL_SECONDS}s` or more")
    source = analysis.metrics or default_metrics(rollout.spec.mesh)
    if source == "app" and analysis.selector is not None and analysis.selector.service != "app":
        yield Finding(base + ("selector", "service"),
                      f"with Flagger, the canary's series are told from the primary's by the pods' `app` label "
                      f"(`{rollout.metadata.name}` vs `{rollout.metadata.name}-primary`); "
                      f"{analysis.selector.service!r} must carry that label's value",
                      "copy the pod label `app` into this label when scraping (e.g. podTargetLabels: [app])",
                      severity="warning")
    if analysis.successRate is None and analysis.latency is None and analysis.requestRate is None:
        yield Finding(base, "Flagger would promote without measuring anything: no successRate, latency or requestRate",
                      "add e.g. `successRate: {min: 99}`", severity="warning")


def check_webhooks(rollout) -> Iterator[Finding]:
    if engine_of(rollout) != "flagger":
        return
    spec = rollout.spec
    seen: dict[str, int] = {}
    interval = flagger_seconds(spec.analysis.interval) if getattr(spec, "analysis", None) else None
    rollout_timeouts = 0.0
    name, ns = rollout.metadata.name, rollout.metadata.namespace
    loadtester = (spec.flagger.loadtester if spec.flagger else None) or c.loadtester_url(ns)
    for i, hook in enumerate(spec.webhooks or []):
        base = ("spec", "webhooks", i)
        if hook.name in seen:
            yield Finding(base + ("name",), f"duplicate webhook {hook.name!r} (also webhooks[{seen[hook.name]}])",
                          "Flagger reports webhooks by name; give each a unique one")
        seen.setdefault(hook.name, i)
        if hook.type in GATE_HOOKS and hook.cmd is not None:
            yield Finding(base + ("cmd",), f"a {hook.type} webhook is a gate: Flagger calls its URL and waits for "
                          "a 200; it runs no command", "remove `cmd` (the default URL is the load tester's gate)",
                          key=True)
        if hook.type == "event" and hook.url is None:
            yield Finding(base, "an event webhook needs `url`: Flagger posts every event there",
                          "e.g. `url: http://event-receiver.ops/`")
        if hook.type in COMMAND_HOOKS and hook.cmd is None and hook.url is None:
            yield Finding(base, f"a {hook.type} webhook needs `cmd` (run by the load tester) or its own `url`",
                          "e.g. `cmd: \"hey -z 1m -q 10 -c 2 http://<name>-canary.<namespace>:<port>/\"`")
        if hook.runner is not None and hook.cmd is None:
            yield Finding(base + ("runner",), "`runner` says how the load tester runs `cmd`, and there is none",
                          "remove it", key=True)
        if hook.runner == "cmd" and hook.type in ("pre-rollout", "post-rollout"):
            yield Finding(base + ("runner",), f"with `runner: cmd` the load tester answers before the command "
                          f"finishes, so this {hook.type} check passes whatever the command does",
                          "use `runner: bash` (the default) for checks", severity="warning")
        if hook.type == "rollout" and hook.timeout:
            rollout_timeouts += flagger_seconds(hook.timeout) or 0
        if hook.cmd and hook.url is None and re.search(rf"(?<![\w.-]){re.escape(name)}-canary(?![\w.-])", hook.cmd) \
                and f".{ns}" not in loadtester:
            yield Finding(base + ("cmd",),
                          f"`{name}-canary` is resolved in the load tester's namespace, not in {ns!r}",
                          f"write `{name}-canary.{ns}`", severity="warning")
    if interval and rollout_timeouts >= interval:
        yield Finding(("spec", "webhooks"),
                      f"the rollout webhooks' timeouts add up to {rollout_timeouts:g}s, not less than the analysis "
                      f"interval ({interval:g}s): Flagger's analysis would overrun", "shorten the timeouts",
                      severity="warning", key=True)


def check_alert_channels(rollout) -> Iterator[Finding]:
    settings = rollout.spec.flagger if engine_of(rollout) == "flagger" else None
    if settings is None:
        return
    seen: set[str] = set()
    for i, alert in enumerate(settings.alerts):
        base = ("spec", "flagger", "alerts", i)
        if alert.name in seen:
            yield Finding(base + ("name",), f"duplicate alert channel {alert.name!r}", "give each a unique name")
        seen.add(alert.name)
        if (alert.type is None) == (alert.providerRef is None):
            yield Finding(base, "needs exactly one of `type` (an AlertProvider written for this rollout) or "
                          "`providerRef` (an existing one)",
                          "e.g. `providerRef: {name: on-call, namespace: flagger-system}`")
            continue
        if alert.providerRef is not None:
            for key in ("channel", "username", "secretRef", "address", "proxy"):
                if getattr(alert, key) is not None:
                    yield Finding(base + (key,), f"`{key}` belongs to the AlertProvider, which `providerRef` "
                                  "names: it is set there", "remove it", key=True)
            continue
        if (alert.secretRef is None) == (alert.address is None):
            yield Finding(base, "needs exactly one of `secretRef` or `address` (the AlertProvider takes one)",
                          "e.g. `secretRef: slack-url` (a Secret with the hook URL under the key `address`)")
        elif alert.address is not None:
            yield Finding(base + ("address",), "a hook URL is a credential; committed to Git anyone can post",
                          "keep it in a Secret and use `secretRef`", severity="warning")


RULES = (check_manual_has_no_flagger_blocks, check_workload, check_strategy, check_canary_traffic, check_routing_blocks,
         check_provider, check_edge,
         check_analysis,
         check_webhooks, check_alert_channels)
