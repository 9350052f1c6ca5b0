"""How Argo Rollouts v1.9.1 and its Gateway API plugin v0.15.0 read what rollgen emits, written from
their Go source independently of the generator, over plain dicts (the manifests as in output/).

Every check names the Go it reproduces as `file:line` at those tags (argoproj/argo-rollouts v1.9.1,
argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi v0.15.0).

- `validate_rollout(...)` → the messages the controller would put on the Rollout's InvalidSpec
  condition (pkg/apis/rollouts/validation/validation.go, validation_references.go) plus the
  preconditions the Istio reconciler and the Gateway API plugin need to route traffic at all.
- `validate_analysis_template(...)` → utils/analysis/factory.go ValidateMetrics and the per-use rules
  of validation_references.go.
- `analysis_outcome(metric, result)` → the phase of one measurement (utils/evaluate/evaluate.go
  EvaluateResult over metricproviders/prometheus/prometheus.go processResponse).
- `metric_phase(metric, measurements)` → the phase of a metric after a run of measurements
  (analysis/analysis.go assessMetricStatus).
- `plugin_weighted_rules(...)` / `istio_set_weight(...)` → what the controller rewrites: these are the
  product's model (generator.views.argo_routing, the one model `rollgen route` and `rollgen test` use
  under Argo Rollouts), re-exported here and checked against upstream cases by tests/test_argo_reading.py.

The condition evaluator understands the subset of expr (github.com/antonmedv/expr v1.15.5, the
version go.mod pins) that rollgen emits; see `Expr` for the grammar. Anything outside it raises
`ExprUnsupported` rather than guessing.
"""

from __future__ import annotations

import math
import re
from typing import Any, Iterable

from generator.views.argo_routing import (istio_http_route_indexes, istio_set_weight, plugin_config,  # noqa: F401
                                          plugin_managed_rule, plugin_weighted_rules)

ROLLOUT_HASH_LABEL = "rollouts-pod-template-hash"  # pkg/apis/rollouts/v1alpha1/types.go:150
MANAGED_BY_ANNOTATION = "argo-rollouts.argoproj.io/managed-by-rollouts"  # types.go:155
GATEWAY_PLUGIN = "argoproj-labs/gatewayAPI"  # plugin pkg/plugin/plugin.go:22
GATEWAY_IN_PROGRESS_LABEL = "rollouts.argoproj.io/gatewayapi-canary"  # plugin internal/defaults/defaults.go
DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4  # utils/defaults/defaults.go:37
DEFAULT_PROGRESS_DEADLINE_SECONDS = 600  # utils/defaults/defaults.go:28
DEFAULT_REVISION_HISTORY_LIMIT = 10  # utils/defaults/defaults.go:18


def _canary(rollout: dict) -> dict | None:
    return ((rollout.get("spec") or {}).get("strategy") or {}).get("canary")


def _blue_green(rollout: dict) -> dict | None:
    return ((rollout.get("spec") or {}).get("strategy") or {}).get("blueGreen")


def _tr(rollout: dict) -> dict | None:
    canary = _canary(rollout)
    return canary.get("trafficRouting") if canary else None


def _int_or_percent(value: Any, default: int) -> int:
    """validation.go:469-486 getIntOrPercentValue (a percent string is its number)."""
    if value is None:
        return default
    if isinstance(value, str):
        return int(value[:-1]) if value.endswith("%") else int(value)
    return int(value)


_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")


def pause_seconds(pause: dict) -> int | None:
    """RolloutPause.DurationSeconds (types.go): an int is seconds, a string a Go duration; `{}` is
    an indefinite pause (None). An unparsable string is -1, which validation.go:327 rejects."""
    duration = pause.get("duration")
    if duration is None:
        return None
    if isinstance(duration, int):
        return duration
    if re.fullmatch(r"-?\d+", duration):
        return int(duration)
    if not _DURATION.match(duration):
        return -1
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
    total = sum(float(n) * units[u] for n, _, u in re.findall(r"(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h)", duration))
    return int(total)


# --- validation.go ----------------------------------------------------------------------------------

def validate_rollout_spec(rollout: dict) -> list[str]:
    """ValidateRolloutSpec + ValidateRolloutStrategy (validation.go:108-426), for the fields rollgen
    emits. Each message is `<field path>: <Go message>`."""
    spec = rollout.get("spec") or {}
    errs: list[str] = []
    template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if spec.get("workloadRef") is None:  # validation.go:115-125
        selector = spec.get("selector")
        if selector is None:
            errs.append("spec.selector: Rollout has missing field '.spec.selector'")
        elif not (selector.get("matchLabels") or selector.get("matchExpressions")):
            errs.append("spec.selector: empty selector is invalid for deployment")
        else:
            # validation.go:164 ValidatePodTemplateSpecForReplicaSet: the selector must match the
            # template's labels (k8s apps validation, "`selector` does not match template `labels`").
            for key, value in (selector.get("matchLabels") or {}).items():
                if template_labels.get(key) != value:
                    errs.append("spec.template.metadata.labels: Invalid value: `selector` does not match "
                                f"template `labels` ({key}={value})")
    elif spec.get("template"):  # validation.go:127-132
        errs.append("spec.template: template must be empty for workload reference rollout")
    if (spec.get("replicas") or 0) < 0:  # validation.go:112-113
        errs.append("spec.replicas: must be greater than or equal to 0")
    min_ready = spec.get("minReadySeconds") or 0
    deadline = spec.get("progressDeadlineSeconds", DEFAULT_PROGRESS_DEADLINE_SECONDS)
    if deadline <= min_ready:  # validation.go:174-176
        errs.append("spec.progressDeadlineSeconds: must be greater than minReadySeconds")

    strategy = spec.get("strategy") or {}
    blue_green, canary = strategy.get("blueGreen"), strategy.get("canary")
    if blue_green is None and canary is None:  # validation.go:203-205
        errs.append("spec.strategy: Rollout has missing field '.spec.strategy.canary or .spec.strategy.blueGreen'")
    elif blue_green is not None and canary is not None:  # validation.go:206-208
        errs.append("spec.strategy: Multiple Strategies can not be listed")
    elif blue_green is not None:
        errs += _validate_blue_green(rollout, blue_green)
    else:
        errs += _validate_canary(rollout, canary)
    return errs


def _validate_blue_green(rollout: dict, bg: dict) -> list[str]:
    errs = []
    if bg.get("activeService") == bg.get("previewService"):  # validation.go:220-222
        errs.append("spec.strategy.blueGreen.activeService: This rollout uses the same service for the active "
                    "and preview services, but two different services are required.")
    limit = (rollout.get("spec") or {}).get("revisionHistoryLimit", DEFAULT_REVISION_HISTORY_LIMIT)
    if bg.get("scaleDownDelayRevisionLimit") is not None and limit < bg["scaleDownDelayRevisionLimit"]:
        errs.append("spec.strategy.blueGreen.scaleDownDelayRevisionLimit: This rollout's revision history limit "
                    "can not be smaller than the rollout's scale down limit")  # validation.go:224-226
    return errs


def require_canary_stable_services(canary: dict) -> bool:
    """validation.go:238-258: Istio without a DestinationRule (host-level split) needs both services;
    Istio subset-level split and `plugins` do not (the Gateway API plugin needs them anyway, see
    plugin_preconditions)."""
    tr = canary.get("trafficRouting")
    if tr is None:
        return False
    istio = tr.get("istio")
    return bool((istio is not None and istio.get("destinationRule") is None and canary.get("pingPong") is None)
                or any(tr.get(k) is not None for k in ("smi", "apisix", "ambassador", "nginx", "appMesh", "traefik"))
                or (tr.get("alb") is not None and canary.get("pingPong") is None))


def _string_match_errors(match: dict | None, path: str) -> list[str]:
    """validation.go:522-551 hasMultipleMatchValues: exactly one of exact/regex/prefix."""
    if match is None:
        return [f"{path}: StringMatch value missed, match value must have one of the following: exact, regex, prefix"]
    present = [k for k in ("exact", "regex", "prefix") if match.get(k)]
    if len(present) > 1:
        return [f"{path}: StringMatch match value must have exactly one of the following: exact, regex, prefix"]
    if not present:
        return [f"{path}: StringMatch value missed, match value must have one of the following: exact, regex, prefix"]
    return []


def _validate_canary(rollout: dict, canary: dict) -> list[str]:
    errs = []
    path = "spec.strategy.canary"
    if _int_or_percent(canary.get("maxSurge"), 25) == 0 and _int_or_percent(canary.get("maxUnavailable"), 25) == 0:
        errs.append(f"{path}.maxSurge: MaxSurge and MaxUnavailable both can not be zero")  # validation.go:457-467
    if canary.get("canaryService") and canary.get("canaryService") == canary.get("stableService"):
        errs.append(f"{path}.stableService: This rollout uses the same service for the stable and canary services, "
                    "but two different services are required.")  # validation.go:264-266
    if require_canary_stable_services(canary):  # validation.go:284-291
        for key in ("stableService", "canaryService"):
            if not canary.get(key):
                errs.append(f"{path}.{key}: Canary service and Stable service must to be set to use Traffic Routing")
    tr = canary.get("trafficRouting")
    if tr is None:  # validation.go:293-299
        if canary.get("scaleDownDelaySeconds") is not None:
            errs.append(f"{path}.scaleDownDelaySeconds: Canary scaleDownDelaySeconds can only be used with traffic routing")
        if canary.get("dynamicStableScale"):
            errs.append(f"{path}.dynamicStableScale: Canary dynamicStableScale can only be used with traffic routing")
    else:
        if canary.get("scaleDownDelaySeconds") is not None and canary.get("dynamicStableScale"):
            errs.append(f"{path}.dynamicStableScale: Canary dynamicStableScale cannot be used with "
                        "scaleDownDelaySeconds")  # validation.go:301-303
        if tr.get("maxTrafficWeight") is not None and tr.get("nginx") is None and not tr.get("plugins"):
            errs.append(f"{path}.trafficRouting.maxTrafficWeight: Canary maxTrafficWeight in traffic routing only "
                        "supported in Nginx and Plugins")  # validation.go:305-309
    max_weight = (tr or {}).get("maxTrafficWeight") or 100  # utils/weightutil MaxTrafficWeight
    managed = (tr or {}).get("managedRoutes")
    managed_names = {r.get("name") for r in managed or []}
    kinds = ("experiment", "pause", "setWeight", "analysis", "setCanaryScale", "setHeaderRoute", "setMirrorRoute", "plugin")
    for i, step in enumerate(canary.get("steps") or []):
        sp = f"{path}.steps[{i}]"
        # validation.go:488-507: only setWeight/pause/experiment/analysis are counted as exclusive.
        if sum(1 for k in ("setWeight", "pause", "experiment", "analysis") if step.get(k) is not None) > 1:
            errs.append(f"{sp}: Step must have one of the following set: experiment, setWeight, setCanaryScale, plugin or pause")
        if not any(step.get(k) is not None for k in kinds):  # validation.go:315-320
            errs.append(f"{sp}: Step must have one of the following set: experiment, setWeight, setCanaryScale, plugin or pause")
        weight = step.get("setWeight")
        if weight is not None and not 0 <= weight <= max_weight:  # validation.go:324-326
            errs.append(f"{sp}.setWeight: SetWeight needs to be between 0 and {max_weight}")
        if step.get("pause") is not None:
            seconds = pause_seconds(step["pause"])
            if seconds is not None and seconds < 0:  # validation.go:327-329
                errs.append(f"{sp}.pause.duration: Duration needs to be greater than 0")
        if step.get("setCanaryScale") is not None and tr is None:  # validation.go:330-332
            errs.append(f"{path}.trafficRouting: SetCanaryScale requires TrafficRouting to be set")
        header = step.get("setHeaderRoute")
        if header is not None:  # validation.go:334-349
            if tr is None or not (tr.get("istio") is not None or tr.get("alb") is not None
                                  or tr.get("apisix") is not None or tr.get("plugins")):
                errs.append(f"{sp}.setHeaderRoute: SetHeaderRoute requires TrafficRouting, supports Istio and ALB and Apisix")
            else:
                for j, match in enumerate(header.get("match") or []):
                    errs += _string_match_errors(match.get("headerValue"), f"{sp}.setHeaderRoute.match[{j}]")
        mirror = step.get("setMirrorRoute")
        if mirror is not None:  # validation.go:351-370
            if tr is None or tr.get("istio") is None:
                errs.append(f"{sp}.setMirrorRoute: SetMirrorRoute requires TrafficRouting, supports Istio only")
            for j, match in enumerate(mirror.get("match") or []):
                for key in ("method", "path"):
                    if match.get(key) is not None:
                        errs += _string_match_errors(match[key], f"{sp}.setMirrorRoute.match[{j}]")
        if tr is not None and (header is not None or mirror is not None) and managed is None:
            errs.append(f"{path}.trafficRouting.managedRoutes: Rollout has missing field "
                        "'spec.strategy.canary.trafficRouting.managedRoutes'")  # validation.go:372-379
        if tr is not None and managed is not None:  # validation.go:380-387, 428-440
            for key, step_route in (("setHeaderRoute", header), ("setMirrorRoute", mirror)):
                if step_route is not None and step_route.get("name") not in managed_names:
                    errs.append(f"{sp}.{key}: Steps define a route that does not exist in "
                                "spec.strategy.canary.trafficRouting.managedRoutes")
        analysis = step.get("analysis")
        for arg in (analysis or {}).get("args") or []:  # validation.go:406-421
            field_path = ((arg.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath", "")
            if field_path.startswith("metadata") and not _downward_api_path(field_path):
                errs.append(f"{sp}.analyses: Analyses arguments must refer to valid object metadata supported by downwardAPI")
    return errs


def _downward_api_path(path: str) -> bool:
    """k8s fieldpath.ExtractFieldPathAsString (validation.go:415): the metadata paths it accepts."""
    return bool(path in ("metadata.name", "metadata.namespace", "metadata.uid")
                or re.fullmatch(r"metadata\.(labels|annotations)\['[^']+'\]", path)
                or path in ("metadata.labels", "metadata.annotations"))


# --- validation_references.go + the Istio reconciler -----------------------------------------------

def _name(obj: dict) -> str:
    return (obj.get("metadata") or {}).get("name", "")


def _host(destination_host: str) -> str:
    """istio.go:256-264 getHost: the part before the first dot (`svc.ns.svc.cluster.local` → `svc`)."""
    idx = destination_host.find(".")
    if idx > 0:
        return destination_host[:idx]
    return destination_host if idx < 0 else ""


def validate_services(rollout: dict, services: Iterable[dict]) -> list[str]:
    """rollout/controller.go:806-819 (a named Service must exist) and validation_references.go:94-120
    ValidateService (its selector ⊆ the Rollout's template labels, except the hash label; no other
    Rollout's managed-by annotation)."""
    by_name = {_name(s): s for s in services}
    template_labels = ((((rollout.get("spec") or {}).get("template") or {}).get("metadata") or {})
                       .get("labels") or {})
    refs = []
    if (bg := _blue_green(rollout)) is not None:
        refs += [("spec.strategy.blueGreen.activeService", bg.get("activeService")),
                 ("spec.strategy.blueGreen.previewService", bg.get("previewService"))]
    if (canary := _canary(rollout)) is not None:
        refs += [("spec.strategy.canary.stableService", canary.get("stableService")),
                 ("spec.strategy.canary.canaryService", canary.get("canaryService"))]
    errs = []
    for path, name in refs:
        if not name:
            continue
        svc = by_name.get(name)
        if svc is None:
            errs.append(f'{path}: services "{name}" not found')
            continue
        for key, value in sorted(((svc.get("spec") or {}).get("selector") or {}).items()):
            if key != ROLLOUT_HASH_LABEL and template_labels.get(key) != value:
                errs.append(f'{path}: Service "{name}" has unmatch label "{key}" in rollout')
        owner = ((svc.get("metadata") or {}).get("annotations") or {}).get(MANAGED_BY_ANNOTATION)
        if owner is not None and owner != _name(rollout):
            errs.append(f"{path}: Service {name} is managed by another Rollout")
    return errs


def validate_virtual_service(rollout: dict, vs: dict) -> list[str]:
    """validation_references.go:370-454 ValidateVirtualService → istio.go:1097-1131 ValidateHTTPRoutes
    and :1176-1220 validateVirtualServiceRouteDestinations (HTTP routes; rollgen emits no tls/tcp)."""
    canary = _canary(rollout) or {}
    istio = (canary.get("trafficRouting") or {}).get("istio") or {}
    refs = istio.get("virtualServices") or ([istio["virtualService"]] if istio.get("virtualService") else [])
    path = ("spec.strategy.canary.trafficRouting.istio.virtualServices.name" if istio.get("virtualServices")
            else "spec.strategy.canary.trafficRouting.istio.virtualService.name")
    errs = []
    for ref in refs:
        if ref.get("name", "").split(".")[0] != _name(vs):  # istioutil.GetVirtualServiceNamespaceName
            continue
        http = (vs.get("spec") or {}).get("http")
        if http is None:
            if (vs.get("spec") or {}).get("tls") is None and (vs.get("spec") or {}).get("tcp") is None:
                errs.append(f"{path}: Unable to get any of the HTTP, TCP or TLS routes for the Istio VirtualService")
            continue
        try:
            indexes = istio_http_route_indexes(ref.get("routes") or [], http)
        except ValueError as exc:
            errs.append(f"{path}: Istio VirtualService has invalid HTTP routes. Error: {exc}")
            continue
        rule = istio.get("destinationRule")
        for idx in indexes:
            problem = _route_destinations_problem(http[idx].get("route") or [], canary, rule)
            if problem:
                errs.append(f"{path}: Istio VirtualService has invalid HTTP routes. Error: {problem}")
                break
        else:
            managed = {r.get("name") for r in (canary.get("trafficRouting") or {}).get("managedRoutes") or []}
            unmanaged = [r for r in http if (r.get("name") or "") not in managed]  # istio.go:1465-1495
            if not ref.get("routes") and len(unmanaged) > 1:  # istio.go:1127-1129
                errs.append(f"{path}: Istio VirtualService has invalid HTTP routes. Error: spec.http[] should be set in "
                            "VirtualService and it must have exactly one route when omitting "
                            "spec.strategy.canary.trafficRouting.istio.virtualService.routes")
    return errs


def _route_destinations_problem(destinations: list[dict], canary: dict, rule: dict | None) -> str | None:
    """istio.go:1176-1220: the patched route holds the canary and the stable destination — by subset
    name when a DestinationRule is configured, by Service host otherwise."""
    stable_svc, canary_svc = canary.get("stableService", ""), canary.get("canaryService", "")
    hosts = {_host((d.get("destination") or {}).get("host", "")) for d in destinations}
    subsets = {(d.get("destination") or {}).get("subset") for d in destinations}
    if rule is not None:
        if not rule.get("canarySubsetName") or rule["canarySubsetName"] not in subsets:
            return f"Canary DestinationRule subset '{rule.get('canarySubsetName', '')}' not found in route"
        if not rule.get("stableSubsetName") or rule["stableSubsetName"] not in subsets:
            return f"Stable DestinationRule subset '{rule.get('stableSubsetName', '')}' not found in route"
        return None
    if not canary_svc or canary_svc not in hosts:
        return f"Canary Service '{canary_svc}' not found in route"
    if not stable_svc or stable_svc not in hosts:
        return f"Stable Service '{stable_svc}' not found in route"
    return None


def istio_preconditions(rollout: dict, virtual_services: list[dict], destination_rules: list[dict]) -> list[str]:
    """What the Istio reconciler needs beyond validation (rollout/trafficrouting/istio/istio.go):
    - exactly one of virtualService/virtualServices (validation_references.go:349-368);
    - the VirtualService exists (istio.go:765-780, a VirtualServiceNotFound event and a requeue);
    - the DestinationRule exists (istio.go:875-894) and holds both named subsets: UpdateHash
      (istio.go:405-437) only relabels subsets it finds — a missing one is silently not created, so
      the VirtualService would route to a subset Istio does not know;
    - no other subsets: UpdateHash drops every subset that is neither stable, canary nor an
      experiment's (istio.go:432-433 `continue` skips the append), so extra subsets in Git are
      deleted live and show as drift;
    - the patched route has no destination besides stable and canary: processRoutes marks any other
      host for deletion (istio.go:242-243, applied at :110-111) — "exactly the two destinations";
    - the header route's destination host is the DestinationRule's `spec.host` (istio.go:783-791), so
      that host must be the one the routes use."""
    canary = _canary(rollout) or {}
    istio = (canary.get("trafficRouting") or {}).get("istio")
    if istio is None:
        return []
    errs = []
    if bool(istio.get("virtualService")) == bool(istio.get("virtualServices")):
        errs.append("spec.strategy.canary.trafficRouting.istio: either VirtualService or VirtualServices must be configured")
    refs = istio.get("virtualServices") or ([istio["virtualService"]] if istio.get("virtualService") else [])
    vs_by_name = {_name(v): v for v in virtual_services}
    rule_ref = istio.get("destinationRule")
    dr = None
    if rule_ref is not None:
        dr = next((d for d in destination_rules if _name(d) == rule_ref.get("name")), None)
        if dr is None:
            errs.append(f"DestinationRule `{rule_ref.get('name')}` not found")
        else:
            names = [s.get("name") for s in (dr.get("spec") or {}).get("subsets") or []]
            for key in ("stableSubsetName", "canarySubsetName"):
                if rule_ref.get(key) not in names:
                    errs.append(f"DestinationRule {_name(dr)} has no subset '{rule_ref.get(key)}' ({key})")
            extra = [n for n in names if n not in (rule_ref.get("stableSubsetName"), rule_ref.get("canarySubsetName"))]
            if extra:
                errs.append(f"DestinationRule {_name(dr)} subsets {extra} are removed by the controller on its first update")
    for ref in refs:
        vs = vs_by_name.get(ref.get("name", "").split(".")[0])
        if vs is None:
            errs.append(f"VirtualService `{ref.get('name')}` not found")
            continue
        errs += validate_virtual_service(rollout, vs)
        http = (vs.get("spec") or {}).get("http") or []
        try:
            indexes = istio_http_route_indexes(ref.get("routes") or [], http)
        except ValueError:
            continue
        for idx in indexes:
            for d in http[idx].get("route") or []:
                dest = d.get("destination") or {}
                if rule_ref is not None:
                    keep = dest.get("subset") in (rule_ref.get("stableSubsetName"), rule_ref.get("canarySubsetName"))
                    if dr is not None and _host(dest.get("host", "")) != _host((dr.get("spec") or {}).get("host", "")):
                        errs.append(f"VirtualService {_name(vs)} route '{http[idx].get('name', '')}' host "
                                    f"{dest.get('host')} is not the DestinationRule host {dr['spec'].get('host')}")
                else:
                    keep = _host(dest.get("host", "")) in (canary.get("stableService"), canary.get("canaryService"))
                if not keep:
                    errs.append(f"VirtualService {_name(vs)} route '{http[idx].get('name', '')}' destination "
                                f"{dest.get('host')}/{dest.get('subset')} is deleted by the controller at setWeight")
    return errs


# --- Gateway API plugin v0.15.0 ----------------------------------------------------------------------

def plugin_preconditions(rollout: dict, httproutes: list[dict]) -> list[str]:
    """What the Gateway API plugin needs (pkg/plugin/*.go at v0.15.0):
    - at least one route configured (plugin.go:73-77, errors.go GatewayAPIManifestError);
    - canaryService and stableService set: the plugin reads them directly (httproute.go:19-20) even
      though validation.go does not require them for plugins (validation.go:238-258);
    - each HTTPRoute exists in the configured namespace (httproute.go:26) and some non-managed rule
      references both Services (httproute.go:52-54 BackendRefWasNotFoundInHTTPRouteError);
    - with header routes: a rule holds both backends (httproute.go:100, plugin.go:429-461 getAllRouteRules);
    - no user rule is mistaken for a plugin rule (httproute.go:196-214, plugin.go:381-394): a rule
      whose only backendRef is the canary Service, or named `<managedRoute>` / `<managedRoute>-<n>`,
      is skipped at setWeight and deleted when the managed routes are removed."""
    canary = _canary(rollout) or {}
    tr = _tr(rollout) or {}
    if GATEWAY_PLUGIN not in (tr.get("plugins") or {}):
        return []
    cfg = plugin_config(rollout)
    errs = []
    if not cfg["httpRoutes"] and not any(cfg.get(k) for k in ("grpcRoutes", "tcpRoutes", "tlsRoutes", "grpcRoute",
                                                             "tcpRoute", "tlsRoute", "httpRouteSelector")):
        errs.append("No routes configured. At least one of 'httpRoutes', 'grpcRoutes', 'tcpRoutes', 'tlsRoutes', "
                    "'httpRoute', 'grpcRoute', 'tcpRoute' or 'tlsRoute' must be set")
    for key in ("canaryService", "stableService"):
        if not canary.get(key):
            errs.append(f"spec.strategy.canary.{key}: required by the Gateway API plugin")
    managed = {r.get("name") for r in tr.get("managedRoutes") or []}
    uses_headers = any(s.get("setHeaderRoute") for s in canary.get("steps") or [])
    by_key = {(((r.get("metadata") or {}).get("namespace") or cfg["namespace"]), _name(r)): r for r in httproutes}
    for ref in cfg["httpRoutes"]:
        route = by_key.get((cfg["namespace"], ref.get("name")))
        if route is None:
            errs.append(f'httproutes.gateway.networking.k8s.io "{ref.get("name")}" not found in namespace '
                        f'"{cfg["namespace"]}"')
            continue
        rules = (route.get("spec") or {}).get("rules") or []
        names_in = lambda rule: {b.get("name") for b in rule.get("backendRefs") or []}  # noqa: E731
        weighted = [rules[i] for i in plugin_weighted_rules(rollout, route)]
        if not any(canary.get("canaryService") in names_in(r) for r in weighted) or not any(
                canary.get("stableService") in names_in(r) for r in weighted):
            errs.append(f"HTTPRoute {_name(route)}: backendRef was not found in httpRoute")
        if uses_headers and ref.get("useHeaderRoutes") and not any(
                {canary.get("canaryService"), canary.get("stableService")} <= names_in(r) for r in rules):
            errs.append(f"HTTPRoute {_name(route)}: no rule holds both {canary.get('stableService')} and "
                        f"{canary.get('canaryService')}, which a header route is built from")
        for i, rule in enumerate(rules):
            if plugin_managed_rule(rule, canary.get("canaryService"), managed):
                errs.append(f"HTTPRoute {_name(route)} rule {i} ({rule.get('name', 'unnamed')}) is taken for a "
                            "plugin-managed header rule: skipped at setWeight, deleted at the end of the rollout")
    return errs


def validate_rollout(rollout: dict, services: Iterable[dict] = (), virtual_services: Iterable[dict] = (),
                     destination_rules: Iterable[dict] = (), httproutes: Iterable[dict] = ()) -> list[str]:
    """Everything above that applies to `rollout`: [] means Argo Rollouts accepts it and can route."""
    errs = validate_rollout_spec(rollout)
    errs += validate_services(rollout, list(services))
    errs += istio_preconditions(rollout, list(virtual_services), list(destination_rules))
    errs += plugin_preconditions(rollout, list(httproutes))
    return errs


# --- AnalysisTemplate ---------------------------------------------------------------------------------

def effective_count(metric: dict) -> int | None:
    """analysis_types.go:159-169 EffectiveCount: no count and no interval → 1; an interval without a
    count → runs until the run is terminated (None)."""
    count = metric.get("count")
    if count in (None, 0, "0"):
        return 1 if not metric.get("interval") else None
    return int(count)


def validate_metric(metric: dict) -> list[str]:
    """utils/analysis/factory.go:149-208 ValidateMetric (the provider-count check is left out: rollgen
    only emits `prometheus`)."""
    count = int(metric.get("count") or 0)
    failure_limit = int(metric.get("failureLimit") or 0)
    success_limit = int(metric.get("consecutiveSuccessLimit") or 0)
    inconclusive_limit = int(metric.get("inconclusiveLimit") or 0)
    if success_limit < 0:
        return ["consecutiveSuccessLimit must be >= 0"]
    if failure_limit < -1:
        return ["failureLimit must be >= 0, or -1 to be disabled"]
    if success_limit == 0 and failure_limit == -1:
        return ["failureLimit and consecutiveSuccessLimit cannot both be disabled"]
    if inconclusive_limit < 0:
        return ["inconclusiveLimit must be >= 0"]
    if metric.get("consecutiveErrorLimit") is not None and int(metric["consecutiveErrorLimit"]) < 0:
        return ["consecutiveErrorLimit must be >= 0"]
    if count > 0:
        if failure_limit >= 0 and count < failure_limit + success_limit:
            return [f"count ({count}) must be >= failureLimit + consecutiveSuccessLimit "
                    f"({failure_limit} + {success_limit}) if both >= 0"]
        if failure_limit < 0 and count < success_limit:
            return ["count must be >= consecutiveSuccessLimit"]
        if count < inconclusive_limit:
            return ["count must be >= inconclusiveLimit"]
    if count > 1 and not metric.get("interval"):
        return ["interval must be specified when count > 1"]
    if metric.get("interval") and not _DURATION.match(str(metric["interval"])):
        return [f"invalid interval string: {metric['interval']}"]
    return []


def validate_analysis_template(template: dict, use: str = "background", rollout_args: list[dict] | None = None) -> list[str]:
    """factory.go:131-146 ValidateMetrics (non-empty, unique names, each metric valid) plus, by use:
    - `prePromotion` (and any non-background use): every metric must end — a metric with an interval
      and no count "runs indefinitely" and is refused (validation_references.go:170-184);
    - `background`: every template arg without a value must be supplied by the Rollout's
      `analysis.args` (validation_references.go:185-205).
    Unresolved `{{args.X}}` placeholders make the run fail to build (utils/analysis/factory.go:112-128)."""
    spec = template.get("spec") or {}
    metrics = spec.get("metrics") or []
    errs = []
    if not metrics:
        return ["no metrics specified"]
    seen = set()
    for i, metric in enumerate(metrics):
        if metric.get("name") in seen:
            errs.append(f"metrics[{i}]: duplicate name '{metric.get('name')}'")
        seen.add(metric.get("name"))
        errs += [f"metrics[{i}]: {e}" for e in validate_metric(metric)]
        if use != "background" and effective_count(metric) is None:
            errs.append(f"AnalysisTemplate {_name(template)} has metric {metric.get('name')} which runs "
                        f"indefinitely. Invalid value for count: {metric.get('count')}")
    declared = {a.get("name") for a in spec.get("args") or []}
    supplied = {a.get("name") for a in rollout_args or []}
    for arg in spec.get("args") or []:
        if "value" in arg or "valueFrom" in arg:
            continue
        if use == "background" and arg.get("name") not in supplied:
            errs.append(f"{_name(template)}: missing analysis argument {arg.get('name')} in rollout spec")
    for metric in metrics:
        for used in re.findall(r"\{\{\s*args\.([A-Za-z0-9_.-]+)\s*\}\}", str(metric)):
            if used not in declared:
                errs.append(f"metric {metric.get('name')}: args.{used} was not resolved")
    return errs


# --- the condition evaluator (a subset of expr) -------------------------------------------------------

class ExprUnsupported(Exception):
    """The expression uses expr syntax outside the subset this model evaluates."""


class ExprError(Exception):
    """expr would fail to compile or run this expression (evaluate.go:114-122 → AnalysisPhaseError)."""


_TOKEN = re.compile(r"\s*(?:(\d+\.\d*|\.\d+|\d+)|([A-Za-z_][A-Za-z0-9_]*)|(&&|\|\||==|!=|<=|>=|[<>!+\-*/()\[\],]))")


class Expr:
    """Grammar (expr semantics, precedence low→high):
        or    := and (('||' | 'or') and)*
        and   := not (('&&' | 'and') not)*
        not   := ('!' | 'not') not | cmp
        cmp   := sum (('<'|'<='|'>'|'>='|'=='|'!=') sum)?
        sum   := term (('+'|'-') term)*
        term  := unary (('*'|'/') unary)*
        unary := '-' unary | post
        post  := atom ('[' or ']')*
        atom  := number | 'true' | 'false' | 'nil' | 'result' | func '(' or ')' | '(' or ')'
        func  := len | isNaN | isInf | asFloat | asInt | isNil
    `&&`/`||` short-circuit as expr's do; `/` is float division (division by zero gives ±Inf/NaN, as
    Go floats do); a slice index out of range and a type mismatch are errors."""

    FUNCS = ("len", "isNaN", "isInf", "asFloat", "asInt", "isNil")

    def __init__(self, source: str):
        self.tokens = self._lex(source)
        self.pos = 0
        self.ast = self._or()
        if self.pos != len(self.tokens):
            raise ExprUnsupported(f"unexpected token {self.tokens[self.pos]!r} in {source!r}")

    @staticmethod
    def _lex(source: str) -> list[str]:
        out, i = [], 0
        while i < len(source):
            if source[i:].strip() == "":
                break
            m = _TOKEN.match(source, i)
            if not m or m.end() == i:
                raise ExprUnsupported(f"cannot read {source[i:]!r}")
            out.append(m.group(m.lastindex))
            i = m.end()
        return out

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> str:
        tok = self._peek()
        if tok is None or (expected is not None and tok != expected):
            raise ExprUnsupported(f"expected {expected!r}, got {tok!r}")
        self.pos += 1
        return tok

    def _or(self):
        node = self._and()
        while self._peek() in ("||", "or"):
            self._take()
            node = ("or", node, self._and())
        return node

    def _and(self):
        node = self._not()
        while self._peek() in ("&&", "and"):
            self._take()
            node = ("and", node, self._not())
        return node

    def _not(self):
        if self._peek() in ("!", "not"):
            self._take()
            return ("not", self._not())
        return self._cmp()

    def _cmp(self):
        node = self._sum()
        if self._peek() in ("<", "<=", ">", ">=", "==", "!="):
            op = self._take()
            node = ("cmp", op, node, self._sum())
        return node

    def _sum(self):
        node = self._term()
        while self._peek() in ("+", "-"):
            op = self._take()
            node = ("arith", op, node, self._term())
        return node

    def _term(self):
        node = self._unary()
        while self._peek() in ("*", "/"):
            op = self._take()
            node = ("arith", op, node, self._unary())
        return node

    def _unary(self):
        if self._peek() == "-":
            self._take()
            return ("neg", self._unary())
        return self._post()

    def _post(self):
        node = self._atom()
        while self._peek() == "[":
            self._take()
            index = self._or()
            self._take("]")
            node = ("index", node, index)
        return node

    def _atom(self):
        tok = self._take()
        if tok == "(":
            node = self._or()
            self._take(")")
            return node
        if re.fullmatch(r"\d+", tok):
            return ("lit", int(tok))
        if re.fullmatch(r"\d+\.\d*|\.\d+", tok):
            return ("lit", float(tok))
        if tok in ("true", "false"):
            return ("lit", tok == "true")
        if tok == "nil":
            return ("lit", None)
        if tok == "result":
            return ("result",)
        if tok in self.FUNCS:
            self._take("(")
            arg = self._or()
            self._take(")")
            return ("call", tok, arg)
        if re.fullmatch(r"[A-Za-z_]\w*", tok):
            raise ExprError(f"unknown name {tok}")  # expr.Compile with expr.Env(env) refuses it
        raise ExprUnsupported(f"unsupported token {tok!r}")

    def run(self, result: Any) -> Any:
        return self._eval(self.ast, result)

    def _eval(self, node, result):
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "result":
            return result
        if kind == "or":
            left = self._bool(self._eval(node[1], result))
            return True if left else self._bool(self._eval(node[2], result))
        if kind == "and":
            left = self._bool(self._eval(node[1], result))
            return self._bool(self._eval(node[2], result)) if left else False
        if kind == "not":
            return not self._bool(self._eval(node[1], result))
        if kind == "neg":
            return -self._num(self._eval(node[1], result))
        if kind == "index":
            seq, idx = self._eval(node[1], result), self._eval(node[2], result)
            if not isinstance(seq, list) or not isinstance(idx, int) or isinstance(idx, bool):
                raise ExprError("invalid operation: index of a non-array")
            if idx < 0:
                idx += len(seq)  # expr allows negative indexes
            if not 0 <= idx < len(seq):
                raise ExprError(f"runtime error: index out of range [{node[2][1] if node[2][0] == 'lit' else idx}] "
                                f"with length {len(seq)}")
            return seq[idx]
        if kind == "call":
            return self._call(node[1], self._eval(node[2], result))
        if kind == "arith":
            a, b = self._num(self._eval(node[2], result)), self._num(self._eval(node[3], result))
            op = node[1]
            if op == "+":
                return a + b
            if op == "-":
                return a - b
            if op == "*":
                return a * b
            a, b = float(a), float(b)
            if b == 0:
                return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a)
            return a / b
        if kind == "cmp":
            op, a, b = node[1], self._eval(node[2], result), self._eval(node[3], result)
            if op in ("==", "!="):
                equal = a == b if not (isinstance(a, list) or isinstance(b, list)) else a == b
                return equal if op == "==" else not equal
            a, b = self._num(a), self._num(b)
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        raise ExprUnsupported(kind)

    @staticmethod
    def _bool(value):
        if not isinstance(value, bool):
            raise ExprError(f"invalid operation: non-bool {value!r} in a logical expression")
        return value

    @staticmethod
    def _num(value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ExprError(f"invalid operation: {value!r} is not a number")
        return value

    @staticmethod
    def _call(name, value):
        if name == "len":
            if not isinstance(value, list):
                raise ExprError(f"invalid argument for len (type {type(value).__name__})")
            return len(value)
        if name in ("isNaN", "isInf"):  # evaluate.go:101-102, 132-134: math.IsNaN / math.IsInf(f, 0)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ExprError(f"{name}() takes a float64")
            return math.isnan(value) if name == "isNaN" else math.isinf(value)
        if name == "asFloat":  # evaluate.go:172-206
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
            if isinstance(value, str):
                try:
                    return float(value)
                except ValueError as exc:
                    raise ExprError(str(exc)) from exc
            raise ExprError(f"asFloat() not supported on {value!r}")
        if name == "asInt":  # evaluate.go:136-170
            if isinstance(value, float):
                return int(value)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value):
                return int(value)
            raise ExprError(f"asInt() not supported on {value!r}")
        if name == "isNil":  # evaluate.go:234-253: a nil slice/pointer; Prometheus never yields one
            return value is None
        raise ExprUnsupported(name)


def evaluate_condition(condition: str, result: Any) -> bool:
    """evaluate.go:94-130 EvalCondition: must yield a bool, else an error."""
    value = Expr(condition).run(result)
    if not isinstance(value, bool):
        raise ExprError(f"expected bool, but got {type(value).__name__}")
    return value


def prometheus_result(response: Any) -> Any:
    """metricproviders/prometheus/prometheus.go:155-188 processResponse: a vector becomes a []float64
    of its samples' values (an empty vector → an empty, non-nil slice), a scalar a float64."""
    if isinstance(response, (int, float)) and not isinstance(response, bool):
        return float(response)
    return [float(v) for v in response]


def analysis_outcome(metric: dict, response: Any) -> str:
    """The phase of one Prometheus measurement: `response` is a list of sample values (an instant
    vector; [] when it is empty) or a bare number (a scalar). evaluate.go:18-58 EvaluateResult:
    no conditions → Successful; only a success condition → Failed when it is false; only a failure
    condition → Successful when it is false; both false → Inconclusive; an evaluation error → Error."""
    result = prometheus_result(response)
    success_cond, failure_cond = metric.get("successCondition", ""), metric.get("failureCondition", "")
    try:
        success = evaluate_condition(success_cond, result) if success_cond else False
        failure = evaluate_condition(failure_cond, result) if failure_cond else False
    except ExprError:
        return "Error"
    if not success_cond and not failure_cond:
        return "Successful"
    if success_cond and not failure_cond:
        failure = not success
    elif failure_cond and not success_cond:
        success = not failure
    if failure:
        return "Failed"
    if not success:
        return "Inconclusive"
    return "Successful"


def metric_phase(metric: dict, measurements: list[str], terminating: bool = False) -> str:
    """analysis/analysis.go:579-687 assessMetricStatus, replayed after each measurement phase in
    `measurements` (Successful/Failed/Inconclusive/Error). Failed > failureLimit (default 0, -1 off)
    → Failed; Inconclusive > inconclusiveLimit (default 0) → Inconclusive; consecutive errors >
    consecutiveErrorLimit (default 4) → Error; the count reached (errors do not count) → Successful.
    An Inconclusive run pauses the Rollout (rollout/analysis.go:374-375); Failed and Error abort it
    (rollout/analysis.go:376-380)."""
    failed = inconclusive = consecutive_errors = count = consecutive_success = 0
    failure_limit = int(metric.get("failureLimit") or 0)
    inconclusive_limit = int(metric.get("inconclusiveLimit") or 0)
    error_limit = int(metric.get("consecutiveErrorLimit", DEFAULT_CONSECUTIVE_ERROR_LIMIT))
    success_limit = int(metric.get("consecutiveSuccessLimit") or 0)
    target = effective_count(metric)
    for phase in measurements:
        if phase == "Error":
            consecutive_errors += 1
        else:
            consecutive_errors = 0
            count += 1
            failed += phase == "Failed"
            inconclusive += phase == "Inconclusive"
            consecutive_success = consecutive_success + 1 if phase == "Successful" else 0
        verdict = ""
        if failure_limit >= 0 and failed > failure_limit:
            verdict = "Failed"
        if inconclusive > inconclusive_limit:
            verdict = "Inconclusive"
        if consecutive_errors > error_limit:
            verdict = "Error"
        if verdict:
            return verdict
        if success_limit > 0 and consecutive_success >= success_limit:
            return "Successful"
        if target is not None and count >= target:
            if success_limit > 0:
                return "Inconclusive" if failure_limit >= 0 else "Failed"
            return "Successful"
    if not measurements:
        return "Successful" if terminating else "Pending"
    return "Successful" if terminating else "Running"
