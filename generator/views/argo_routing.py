"""The routing objects as the Argo Rollouts controller leaves them at each step of a Rollout: pure data.

With `delivery: argo-rollouts` the routing objects in Git are the controller's starting point. At each
step it rewrites the weights of the weighted route, inserts and deletes its managed routes
(`setHeaderRoute`, `setMirrorRoute`), labels the DestinationRule's subsets and the Services it steers with
the ReplicaSets' pod-template hash, and scales the two ReplicaSets. `controller_documents` replays the
Rollout's steps over the generated documents and returns them as the controller leaves them at one
position (see `positions`), with a ReplicaSet per running version, so that `generator.views.routing`
evaluates a request against what the cluster holds at that moment.

Written from the Go source of Argo Rollouts v1.9.1 (`AR`) and its Gateway API plugin v0.15.0 (`GW`),
cited as file:line at those tags:
- the reconcile order (`AR rollout/trafficrouting.go:177-319`): when the canary ReplicaSet has no
  available pod, managed routes are removed and no weight goes to it (:222-233); the current step's
  `setHeaderRoute` / `setMirrorRoute` is applied (:276-290, from revision 2 on: the first install never
  sets them), then `UpdateHash`, then `SetWeight` with the last `setWeight` at or before the current
  step (`AR utils/replicaset/canary.go:546-565` GetCurrentSetWeight); once fully promoted the managed
  routes are removed (:199-204) and both hashes are the new ReplicaSet's;
- the canary ReplicaSet's size: the last `setCanaryScale` at or before the step (`matchTrafficWeight`
  ends it), else ceil(weight × replicas / 100); the stable one keeps `spec.replicas`
  (`AR utils/replicaset/canary.go:371-419, 496-511, 567-597`);
- Istio (`AR rollout/trafficrouting/istio/istio.go`): see `istio_set_weight`, `istio_set_header_route`,
  `istio_set_mirror_route`, `istio_order_routes`, `istio_update_hash`;
- the Gateway API plugin (`GW pkg/plugin/httproute.go`, `plugin.go`): see `plugin_set_weight`,
  `plugin_set_header_route`, `plugin_remove_managed_routes`;
- Services (`AR rollout/service.go:27-75, 295-310`): the selectors of `canaryService`/`stableService`
  (canary) and `activeService`/`previewService` (blue/green) get the hash of the ReplicaSet they front.

The pod-template hash the controller computes from the template is stood for by the version name (the
value of the pods' `version` label), which tells the two ReplicaSets apart the same way.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, Iterable

from generator.names import VERSION_LABEL

ROLLOUT_API = "argoproj.io/v1alpha1"
HASH_LABEL = "rollouts-pod-template-hash"  # AR pkg/apis/rollouts/v1alpha1/types.go:150
MANAGED_BY = "argo-rollouts.argoproj.io/managed-by-rollouts"  # AR types.go:155
GATEWAY_PLUGIN = "argoproj-labs/gatewayAPI"  # GW pkg/plugin/plugin.go:22
IN_PROGRESS_LABEL = "rollouts.argoproj.io/gatewayapi-canary"  # GW internal/defaults/defaults.go
ROUTING_STEPS = ("setWeight", "setHeaderRoute", "setMirrorRoute")


class ControllerModelError(ValueError):
    """The controller could not apply a step to these documents (the Go returns an error there)."""


# --- the Rollout and its positions ---------------------------------------------------------------

def rollout_of(documents: Iterable[dict]) -> dict | None:
    """The Argo Rollouts Rollout among the documents, or None."""
    for doc in documents:
        if doc.get("kind") == "Rollout" and str(doc.get("apiVersion", "")).startswith("argoproj.io/"):
            return doc
    return None


def _strategy(rollout: dict) -> dict:
    return (rollout.get("spec") or {}).get("strategy") or {}


def _canary(rollout: dict) -> dict | None:
    return _strategy(rollout).get("canary")


def _blue_green(rollout: dict) -> dict | None:
    return _strategy(rollout).get("blueGreen")


def _traffic(rollout: dict) -> dict:
    return (_canary(rollout) or {}).get("trafficRouting") or {}


def _steps(rollout: dict) -> list[dict]:
    return list((_canary(rollout) or {}).get("steps") or [])


def _managed_names(rollout: dict) -> list[str]:
    return [r.get("name") for r in _traffic(rollout).get("managedRoutes") or []]


def _replicas(rollout: dict) -> int:
    value = (rollout.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)  # AR utils/defaults/defaults.go GetReplicasOrDefault


def step_text(step: dict) -> str:
    """A Rollout step as its field reads: `setWeight 10`, `setHeaderRoute testers`, `pause 600s`."""
    if "setWeight" in step:
        return f"setWeight {step['setWeight']}"
    for key in ("setHeaderRoute", "setMirrorRoute"):
        if key in step:
            return f"{key} {step[key].get('name')}" + ("" if step[key].get("match") else " (removed)")
    if "pause" in step:
        duration = (step["pause"] or {}).get("duration")
        return f"pause {duration}" if duration else "pause (until promoted)"
    if "setCanaryScale" in step:
        scale = step["setCanaryScale"]
        what = next((f"{k} {v}" for k, v in scale.items()), "")
        return f"setCanaryScale {what}".rstrip()
    return next(iter(step), "step")


@dataclass(frozen=True)
class Position:
    """One moment of a rollout the controller delivers. `number` is what `rollgen route --position` and
    a case file's `positions:` name; `step` the Rollout's step the controller is at
    (`status.currentStepIndex`, 0-based) or None before the first step and after promotion; `steps` how
    many steps the Rollout has; `promoted` the moment the rollout is fully promoted (blue/green: the
    active Service switched)."""

    number: int | None
    what: str
    step: int | None = None
    steps: int = 0
    promoted: bool = False

    def describe(self) -> str:
        if self.step is None:
            return self.what
        return f"step {self.step + 1} of {self.steps} of the Rollout: {self.what}"


def positions(rollout: dict) -> list[Position]:
    """The positions of a Rollout, numbered from 0:

    - canary with steps: 0 = as installed (the routing objects as Git holds them, every request on the
      stable ReplicaSet), then one position after each step that changes routing (`setWeight`,
      `setHeaderRoute`, `setMirrorRoute`, in step order; the pauses and scale steps after it hold the
      same routing), and last `promoted` (every step done: the new ReplicaSet is the stable one, the
      managed routes are gone, the weights back as in Git);
    - blue/green: 0 = before promotion (active: the old ReplicaSet, preview: the new), 1 = promoted;
    - no steps (steady state, or an argo canary without steps): one position, None.
    """
    if _blue_green(rollout) is not None:
        return [Position(0, "before promotion: the active Service on the running version, the preview "
                            "Service on the new one"),
                Position(1, "promoted: the active Service switched to the new version", promoted=True)]
    steps = _steps(rollout)
    routing = [i for i, s in enumerate(steps) if any(k in s for k in ROUTING_STEPS)]
    if _canary(rollout) is None or not routing:
        return [Position(None, "steady: one ReplicaSet, the routing objects as Git holds them")]
    out = [Position(0, "as installed: the routing objects as Git holds them, before the first step")]
    for n, i in enumerate(routing, 1):
        out.append(Position(n, step_text(steps[i]), step=i, steps=len(steps)))
    out.append(Position(len(routing) + 1, "promoted: every step done, the new version is the stable one and "
                                          "the controller's managed routes are removed", promoted=True))
    return out


def position_of(rollout: dict, number: int | None) -> Position:
    for p in positions(rollout):
        if p.number == number:
            return p
    raise ControllerModelError(f"the Rollout has no position {number}")


# --- Istio (AR rollout/trafficrouting/istio/istio.go) ---------------------------------------------

def _istio(rollout: dict) -> dict:
    return _traffic(rollout).get("istio") or {}


def _istio_vs_refs(rollout: dict) -> list[dict]:
    """`trafficRouting.istio.virtualService`, or each of `virtualServices`: the controller's every call
    (SetWeight, SetHeaderRoute, SetMirrorRoute, RemoveManagedRoutes) goes over all of them
    (istio.go getVirtualServices), each with its own `routes`."""
    istio = _istio(rollout)
    return [istio["virtualService"]] if istio.get("virtualService") else list(istio.get("virtualServices") or [])


def _istio_vs_ref(rollout: dict) -> dict:
    return (_istio_vs_refs(rollout) or [{}])[0]


def _routes_of(rollout: dict, routes: list[str] | None) -> list[str]:
    """The weighted routes' names of one VirtualService entry (default: the first entry's)."""
    return (_istio_vs_ref(rollout).get("routes") or []) if routes is None else routes


def istio_host(destination_host: str) -> str:
    """istio.go:256-264 getHost: the part before the first dot (`svc.ns.svc.cluster.local` → `svc`)."""
    idx = destination_host.find(".")
    if idx > 0:
        return destination_host[:idx]
    return destination_host if idx < 0 else ""


def istio_http_route_indexes(route_names: list[str], http: list[dict]) -> list[int]:
    """istio.go:955-981 getHttpRouteIndexesToPatch: the routes named in `virtualService.routes`; with
    none named, the only route, else the first unnamed one. A named route missing is an error."""
    if not route_names:
        if len(http) == 1:
            return [0]
        for i, route in enumerate(http):
            if not route.get("name"):
                return [i]
    out = []
    for name in route_names:
        idx = next((i for i, r in enumerate(http) if r.get("name") == name), -1)
        if idx < 0:
            raise ControllerModelError(f"HTTP Route '{name}' is not found in the defined Virtual Service.")
        out.append(idx)
    return out


def istio_set_weight(rollout: dict, vs: dict, weight: int, routes: list[str] | None = None) -> dict:
    """The VirtualService after SetWeight(weight), no experiment (istio.go:202-254 processRoutes, applied
    by :87-133 patchVirtualService, SetWeight :720-760): in each weighted route, a destination that is the
    canary (its host's first label is `canaryService`, or its subset `canarySubsetName`) gets `weight`,
    the stable one 100 - weight, any other destination is deleted. Other routes are untouched; the
    managed routes are then moved first (:743 orderRoutes)."""
    out = copy.deepcopy(vs)
    canary = _canary(rollout) or {}
    rule = _istio(rollout).get("destinationRule") or {}
    http = out["spec"].get("http") or []
    for idx in istio_http_route_indexes(_routes_of(rollout, routes), http):
        kept = []
        for d in http[idx].get("route") or []:
            dest = d.get("destination") or {}
            host, subset = istio_host(dest.get("host", "")), dest.get("subset")
            if not host:
                continue
            if host == canary.get("canaryService") or (subset and subset == rule.get("canarySubsetName")):
                kept.append({**d, "weight": weight})
            elif host == canary.get("stableService") or (subset and subset == rule.get("stableSubsetName")):
                kept.append({**d, "weight": 100 - weight})
        http[idx]["route"] = kept
    return istio_order_routes(rollout, out)


def istio_order_routes(rollout: dict, vs: dict) -> dict:
    """istio.go:1429-1527 orderRoutes: the routes named in `managedRoutes` first, in that order, then
    every other route in its order. Without `managedRoutes` nothing moves."""
    names = _managed_names(rollout)
    if not _traffic(rollout).get("managedRoutes"):
        return vs
    out = copy.deepcopy(vs)
    http = out["spec"].get("http") or []
    managed = [r for name in names for r in http if r.get("name") == name]
    out["spec"]["http"] = managed + [r for r in http if r.get("name") not in names]
    return out


def istio_remove_route(vs: dict, name: str) -> dict:
    """istio.go:1396-1427 removeRoute: every http route named `name` is deleted."""
    out = copy.deepcopy(vs)
    out["spec"]["http"] = [r for r in out["spec"].get("http") or [] if r.get("name") != name]
    return out


def _istio_canary_target(rollout: dict, destination_rule: dict | None) -> tuple[str, str | None]:
    """The host and subset of a managed route's canary destination (istio.go:782-795, :1259-1267): the
    DestinationRule's `spec.host` when one is configured (getDestinationRuleHost :862-873), else
    `canaryService`; the subset `canarySubsetName`."""
    rule = _istio(rollout).get("destinationRule")
    host = (_canary(rollout) or {}).get("canaryService") or ""
    if rule is not None and destination_rule is not None:
        host = (destination_rule.get("spec") or {}).get("host") or host
    return host, (rule or {}).get("canarySubsetName") or None


def _canary_destination(rollout: dict, destination_rule: dict | None, port: Any) -> dict:
    """A managed route's canary destination (routeDestination istio.go:936-951 and the mirror of
    createMirrorRoute :1353-1360): host, the canary subset when one is configured, the port when set."""
    host, subset = _istio_canary_target(rollout, destination_rule)
    dest: dict[str, Any] = {"host": host}
    if port:
        dest["port"] = {"number": int(port)}
    if subset:
        dest["subset"] = subset
    return dest


def _weighted_route(rollout: dict, vs: dict, routes: list[str] | None = None) -> list[dict]:
    """istio.go:1380-1393 getVirtualServiceSetWeightRoute: the destinations of the first weighted route."""
    http = vs["spec"].get("http") or []
    indexes = istio_http_route_indexes(_routes_of(rollout, routes), http)
    return copy.deepcopy(http[indexes[0]].get("route") or []) if indexes else []


def istio_set_header_route(rollout: dict, vs: dict, header_route: dict, destination_rule: dict | None = None,
                           routes: list[str] | None = None) -> dict:
    """SetHeaderRoute (istio.go:782-825, :827-860): without `match` the route named `header_route.name`
    is removed; otherwise it is replaced by `{name, match: [{headers: {<headerName>: {exact|regex|prefix:
    v}}}] (one per match entry, :918-928), route: [{destination: {host, subset, port: {number}}, weight:
    100}]}` (createHeaderRoute :896-916, routeDestination :936-951), the port being the first
    destination's of the weighted route (:1533-1552), written only when set. Then orderRoutes."""
    name = header_route.get("name")
    out = istio_remove_route(vs, name)
    if not header_route.get("match"):
        return out
    matches = []
    for m in header_route["match"]:
        value = {k: v for k, v in (m.get("headerValue") or {}).items() if k in ("exact", "regex", "prefix") and v}
        matches.append({"headers": {m.get("headerName"): value}})
    weighted = _weighted_route(rollout, vs, routes)
    port = ((weighted[0].get("destination") or {}).get("port") or {}).get("number") if weighted else None
    dest = _canary_destination(rollout, destination_rule, port)
    out["spec"]["http"] = list(out["spec"].get("http") or []) + [
        {"name": name, "match": matches, "route": [{"weight": 100, "destination": dest}]}]
    return istio_order_routes(rollout, out)


def istio_set_mirror_route(rollout: dict, vs: dict, mirror_route: dict, destination_rule: dict | None = None,
                           routes: list[str] | None = None) -> dict:
    """SetMirrorRoute (istio.go:1222-1313): without `match` the route is removed; otherwise it is
    replaced by `{name, match: [{method, uri: <path>, headers}], route: <the weighted route's
    destinations as they are now>, mirror: {host, subset, port}, mirrorPercentage: {value: <percentage,
    default 100>}}` (createMirrorRoute :1329-1378), inserted first, then orderRoutes. The copied
    destinations keep the weights of that moment (a weight of 0 is left out, `weight,omitempty`): later
    SetWeight calls rewrite only the routes named in `virtualService.routes`."""
    name = mirror_route.get("name")
    out = istio_remove_route(vs, name)
    if not mirror_route.get("match"):
        return out
    matches = []
    for m in mirror_route["match"]:
        entry = {}
        if m.get("method"):
            entry["method"] = dict(m["method"])
        if m.get("path"):
            entry["uri"] = dict(m["path"])
        if m.get("headers"):
            entry["headers"] = {k: dict(v) for k, v in m["headers"].items()}
        matches.append(entry)
    route = []
    for d in _weighted_route(rollout, out, routes):
        copied = {"destination": {k: v for k, v in (d.get("destination") or {}).items() if v}}
        if d.get("weight"):
            copied["weight"] = d["weight"]
        route.append(copied)
    port = ((route[0]["destination"].get("port") or {}).get("number")) if route else None
    mirror = _canary_destination(rollout, destination_rule, port)
    percentage = mirror_route.get("percentage")
    entry = {"name": name, "match": matches, "route": route, "mirror": mirror,
             "mirrorPercentage": {"value": 100 if percentage is None else percentage}}
    out["spec"]["http"] = [entry] + list(out["spec"].get("http") or [])
    return istio_order_routes(rollout, out)


def istio_remove_managed_routes(rollout: dict, vs: dict) -> dict:
    """istio.go:1557-1620 RemoveManagedRoutes: every route named in `managedRoutes` is deleted."""
    out = copy.deepcopy(vs)
    names = set(_managed_names(rollout))
    out["spec"]["http"] = [r for r in out["spec"].get("http") or [] if r.get("name") not in names]
    return out


def istio_update_hash(rollout: dict, destination_rule: dict, canary_hash: str | None, stable_hash: str | None) -> dict:
    """UpdateHash (istio.go:379-454): the canary and stable subsets get `rollouts-pod-template-hash`,
    every other subset is dropped (:432-433), and the DestinationRule the managed-by annotation."""
    rule = _istio(rollout).get("destinationRule")
    if rule is None:
        return destination_rule
    out = copy.deepcopy(destination_rule)
    out.setdefault("metadata", {}).setdefault("annotations", {})[MANAGED_BY] = rollout["metadata"]["name"]
    kept = []
    for subset in out["spec"].get("subsets") or []:
        hashed = {rule.get("canarySubsetName"): canary_hash, rule.get("stableSubsetName"): stable_hash}
        if subset.get("name") not in hashed:
            continue
        labels = dict(subset.get("labels") or {})
        value = hashed[subset["name"]]
        if value:
            labels[HASH_LABEL] = value
        else:
            labels.pop(HASH_LABEL, None)
        kept.append({**subset, "labels": labels})
    out["spec"]["subsets"] = kept
    return out


# --- the Gateway API plugin (GW pkg/plugin/httproute.go, plugin.go) --------------------------------

def plugin_config(rollout: dict) -> dict:
    """plugin.go:221-238: the plugin's configuration, the namespace defaulting to the Rollout's;
    `httpRoute: X` becomes `httpRoutes: [{name: X, useHeaderRoutes: true}]` (plugin.go:350-356)."""
    raw = dict((_traffic(rollout).get("plugins") or {}).get(GATEWAY_PLUGIN) or {})
    raw.setdefault("namespace", (rollout.get("metadata") or {}).get("namespace", ""))
    routes = [dict(r) for r in raw.get("httpRoutes") or []]
    if raw.get("httpRoute"):
        routes.append({"name": raw["httpRoute"], "useHeaderRoutes": True})
    raw["httpRoutes"] = routes
    return raw


def plugin_managed_rule_name(name: str, managed: Iterable[str]) -> bool:
    """plugin.go:381-394 isManagedRuleName: `<managed>` or `<managed>-<int>`."""
    managed = set(managed)
    if name in managed:
        return True
    for base in managed:
        rest = name[len(base) + 1:] if name.startswith(base + "-") else None
        if rest and rest.lstrip("-").isdigit():
            return True
    return False


def plugin_managed_rule(rule: dict, canary_service: str | None, managed: Iterable[str]) -> bool:
    """httproute.go:38 and :196-214 isHTTPManagedRule: a rule named like a managed route, or any rule whose
    only backendRef is the canary Service, is taken for a rule the plugin injected."""
    refs = rule.get("backendRefs") or []
    return (bool(rule.get("name")) and plugin_managed_rule_name(rule["name"], managed)) or (
        len(refs) == 1 and refs[0].get("name") == canary_service)


def plugin_weighted_rules(rollout: dict, httproute: dict) -> list[int]:
    """The indexes of the rules whose backendRef weights setHTTPRouteWeight rewrites (httproute.go:32-51):
    every rule that is not a managed rule and names the canary or the stable Service."""
    canary = _canary(rollout) or {}
    managed = _managed_names(rollout)
    out = []
    for i, rule in enumerate((httproute.get("spec") or {}).get("rules") or []):
        if plugin_managed_rule(rule, canary.get("canaryService"), managed):
            continue
        if any(r.get("name") in (canary.get("canaryService"), canary.get("stableService"))
               for r in rule.get("backendRefs") or []):
            out.append(i)
    return out


def plugin_set_weight(rollout: dict, httproute: dict, weight: int) -> dict:
    """setHTTPRouteWeight (httproute.go:15-73): in every non-managed rule, each backendRef named
    `canaryService` gets `weight`, each named `stableService` 100 - weight, others keep theirs; an error
    when no rule holds both (:52-54). The in-progress label is set while weight > 0 and removed at 0
    unless `disableInProgressLabel` (labels.go:9-42)."""
    canary = _canary(rollout) or {}
    out = copy.deepcopy(httproute)
    found = set()
    rules = out["spec"].get("rules") or []
    for i in plugin_weighted_rules(rollout, out):
        for ref in rules[i].get("backendRefs") or []:
            if ref.get("name") == canary.get("canaryService"):
                ref["weight"] = weight
                found.add("canary")
            elif ref.get("name") == canary.get("stableService"):
                ref["weight"] = 100 - weight
                found.add("stable")
    if found != {"canary", "stable"}:
        raise ControllerModelError("backendRef was not found in httpRoute")
    if not plugin_config(rollout).get("disableInProgressLabel"):
        labels = out.setdefault("metadata", {}).setdefault("labels", {})
        if weight > 0:
            labels[IN_PROGRESS_LABEL] = "in-progress"
        else:
            labels.pop(IN_PROGRESS_LABEL, None)
    return out


def _plugin_header_matches(header_route: dict) -> list[dict]:
    """httproute.go:234-261 getHTTPHeaderRouteRuleList: exact → Exact; prefix → RegularExpression
    `<prefix>.*`; regex → RegularExpression."""
    out = []
    for m in header_route.get("match") or []:
        value = m.get("headerValue") or {}
        if value.get("exact"):
            out.append({"name": m.get("headerName"), "type": "Exact", "value": value["exact"]})
        elif value.get("prefix"):
            out.append({"name": m.get("headerName"), "type": "RegularExpression", "value": value["prefix"] + ".*"})
        elif value.get("regex"):
            out.append({"name": m.get("headerName"), "type": "RegularExpression", "value": value["regex"]})
        else:
            raise ControllerModelError("invalid header match type")
    return out


def plugin_remove_managed_routes(rollout: dict, httproute: dict) -> dict:
    """removeHTTPManagedRoutes (httproute.go:263-301): every managed rule is deleted (by name, or a rule
    whose only backendRef is the canary Service). A `setHeaderRoute` without `match` does this too
    (:76-78): it removes every managed rule, not only its own."""
    canary = (_canary(rollout) or {}).get("canaryService")
    managed = _managed_names(rollout)
    out = copy.deepcopy(httproute)
    out["spec"]["rules"] = [r for r in out["spec"].get("rules") or [] if not plugin_managed_rule(r, canary, managed)]
    return out


def plugin_set_header_route(rollout: dict, httproute: dict, header_route: dict) -> dict:
    """setHTTPHeaderRoute (httproute.go:75-194): for each rule holding both the canary and the stable
    Service (plugin.go:429-461 getAllRouteRules), a rule named `<name>` (then `<name>-1`, `-2`…) with one
    backendRef `{group: "", kind: Service, name: <canaryService>, port: <the canary ref's port>}`, the
    source rule's filters, and its matches with the header matches appended (no matches: one match with
    the headers alone). Existing rules of that route are removed first and the new ones appended."""
    if not header_route.get("match"):
        return plugin_remove_managed_routes(rollout, httproute)
    canary = _canary(rollout) or {}
    canary_svc, stable_svc = canary.get("canaryService"), canary.get("stableService")
    headers = _plugin_header_matches(header_route)
    name = header_route.get("name")
    out = copy.deepcopy(httproute)
    rules = out["spec"].get("rules") or []
    sources = [r for r in rules if r.get("backendRefs")
               and all(any(ref.get("name") == svc for ref in r["backendRefs"]) for svc in (canary_svc, stable_svc))]
    if not sources:
        raise ControllerModelError("backendRef was not found in httpRoute")
    new_rules = []
    for idx, source in enumerate(sources):
        ref = next(r for r in source["backendRefs"] if r.get("name") == canary_svc)
        backend = {"group": "", "kind": "Service", "name": canary_svc}
        if ref.get("port") is not None:
            backend["port"] = ref["port"]
        rule: dict[str, Any] = {"name": name if idx == 0 else f"{name}-{idx}"}
        if source.get("matches"):
            rule["matches"] = []
            for m in source["matches"]:
                merged = {k: copy.deepcopy(m[k]) for k in ("path", "queryParams", "method") if k in m}
                merged["headers"] = copy.deepcopy(m.get("headers") or []) + copy.deepcopy(headers)
                rule["matches"].append(merged)
        else:
            rule["matches"] = [{"headers": copy.deepcopy(headers)}]
        if source.get("filters"):
            rule["filters"] = copy.deepcopy(source["filters"])
        rule["backendRefs"] = [backend]
        new_rules.append(rule)
    header_names = {h["name"] for h in headers}

    def own(rule: dict) -> bool:
        if rule.get("name"):
            return plugin_managed_rule_name(rule["name"], [name])
        refs = rule.get("backendRefs") or []
        return len(refs) == 1 and refs[0].get("name") == canary_svc and any(
            header_names <= {h.get("name") for h in m.get("headers") or []} for m in rule.get("matches") or [])

    out["spec"]["rules"] = [r for r in rules if not own(r)] + new_rules
    return out


# --- Services, ReplicaSets ---------------------------------------------------------------------

def _set_selector_hash(service: dict, rollout_name: str, value: str) -> dict:
    """service.go:27-75 (switchServiceSelector): the selector gets the hash label, the Service the
    managed-by annotation."""
    out = copy.deepcopy(service)
    out.setdefault("spec", {}).setdefault("selector", {})[HASH_LABEL] = value
    out.setdefault("metadata", {}).setdefault("annotations", {})[MANAGED_BY] = rollout_name
    return out


def replica_set(rollout: dict, version: str, replicas: int) -> dict:
    """A ReplicaSet of the Rollout running `version`: the Rollout's pod template with the version label
    set to it and the hash label added (types.go:147-150)."""
    spec = rollout.get("spec") or {}
    template = copy.deepcopy(spec.get("template") or {})
    labels = dict((template.get("metadata") or {}).get("labels") or {})
    labels[VERSION_LABEL] = version
    labels[HASH_LABEL] = version
    template.setdefault("metadata", {})["labels"] = labels
    selector = dict(((spec.get("selector") or {}).get("matchLabels")) or {})
    selector[HASH_LABEL] = version
    meta = rollout.get("metadata") or {}
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": f"{meta.get('name')}-{version}", "namespace": meta.get("namespace"),
                         "labels": labels, "ownerReferences": [{"apiVersion": ROLLOUT_API, "kind": "Rollout",
                                                                "name": meta.get("name")}]},
            "spec": {"replicas": replicas, "selector": {"matchLabels": selector}, "template": template}}


def _template_version(rollout: dict) -> str:
    labels = ((((rollout.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {})
    return labels.get(VERSION_LABEL) or "new"


# --- the replay --------------------------------------------------------------------------------

@dataclass
class _State:
    """The routing objects the controller writes, by kind and name, and what it knows."""

    rollout: dict
    docs: list[dict]

    def find(self, kind: str, name: str | None) -> int | None:
        ns = (self.rollout.get("metadata") or {}).get("namespace")
        for i, d in enumerate(self.docs):
            meta = d.get("metadata") or {}
            if d.get("kind") == kind and meta.get("name") == name and meta.get("namespace", ns) == ns:
                return i
        return None

    def update(self, kind: str, name: str | None, change) -> None:
        i = self.find(kind, name)
        if i is not None:
            self.docs[i] = change(self.docs[i])

    def get(self, kind: str, name: str | None) -> dict | None:
        i = self.find(kind, name)
        return None if i is None else self.docs[i]

    # -- the traffic router's calls, for Istio and the plugin alike
    def _virtual_services(self) -> list[tuple[str, list[str]]]:
        """(name, weighted routes) of every VirtualService the Rollout names."""
        return [(ref["name"].split(".", 1)[0], ref.get("routes") or [])
                for ref in _istio_vs_refs(self.rollout) if ref.get("name")]

    def _destination_rule(self) -> str | None:
        return (_istio(self.rollout).get("destinationRule") or {}).get("name")

    def _http_routes(self) -> list[str]:
        if GATEWAY_PLUGIN not in (_traffic(self.rollout).get("plugins") or {}):
            return []
        return [r["name"] for r in plugin_config(self.rollout)["httpRoutes"]]

    def _header_routes(self) -> list[str]:
        if GATEWAY_PLUGIN not in (_traffic(self.rollout).get("plugins") or {}):
            return []
        return [r["name"] for r in plugin_config(self.rollout)["httpRoutes"] if r.get("useHeaderRoutes")]

    def remove_managed_routes(self) -> None:
        for vs_name, _ in self._virtual_services():
            self.update("VirtualService", vs_name, lambda vs: istio_remove_managed_routes(self.rollout, vs))
        for name in self._header_routes():
            self.update("HTTPRoute", name, lambda r: plugin_remove_managed_routes(self.rollout, r))

    def set_header_route(self, step: dict) -> None:
        dr = self.get("DestinationRule", self._destination_rule())
        for vs_name, routes in self._virtual_services():
            self.update("VirtualService", vs_name,
                        lambda vs: istio_set_header_route(self.rollout, vs, step, dr, routes))
        for name in self._header_routes():
            self.update("HTTPRoute", name, lambda r: plugin_set_header_route(self.rollout, r, step))

    def set_mirror_route(self, step: dict) -> None:
        # The plugin's SetMirrorRoute does nothing (GW plugin.go:155-157).
        dr = self.get("DestinationRule", self._destination_rule())
        for vs_name, routes in self._virtual_services():
            self.update("VirtualService", vs_name,
                        lambda vs: istio_set_mirror_route(self.rollout, vs, step, dr, routes))

    def update_hash(self, canary_hash: str | None, stable_hash: str | None) -> None:
        if _istio(self.rollout):
            self.update("DestinationRule", self._destination_rule(),
                        lambda dr: istio_update_hash(self.rollout, dr, canary_hash, stable_hash))

    def set_weight(self, weight: int) -> None:
        for vs_name, routes in self._virtual_services():
            self.update("VirtualService", vs_name, lambda vs: istio_set_weight(self.rollout, vs, weight, routes))
        for name in self._http_routes():
            self.update("HTTPRoute", name, lambda r: plugin_set_weight(self.rollout, r, weight))

    def point_service(self, name: str | None, value: str) -> None:
        if name:
            rollout_name = self.rollout["metadata"]["name"]
            self.update("Service", name, lambda s: _set_selector_hash(s, rollout_name, value))


def _canary_replicas(rollout: dict, index: int, weight: int) -> int:
    """canary.go:371-419, 567-597: the last setCanaryScale at or before `index` (matchTrafficWeight ends
    it; `weight` is a share of spec.replicas), else ceil(weight × replicas / 100)."""
    replicas = _replicas(rollout)
    for step in reversed(_steps(rollout)[: index + 1]):
        scale = step.get("setCanaryScale")
        if scale is None:
            continue
        if scale.get("matchTrafficWeight"):
            break
        if scale.get("replicas") is not None:
            return int(scale["replicas"])
        if scale.get("weight") is not None:
            return math.ceil(int(scale["weight"]) * replicas / 100)
    return math.ceil(weight * replicas / 100)


def _current_weight(rollout: dict, index: int) -> int:
    """canary.go:546-565 GetCurrentSetWeight: the last setWeight at or before the current step, else 0."""
    for step in reversed(_steps(rollout)[: index + 1]):
        if "setWeight" in step:
            return int(step["setWeight"])
    return 0


def controller_documents(documents: Iterable[dict], position: int | None, stable_version: str | None) -> list[dict]:
    """The documents as the controller leaves them at `position` (see `positions`: the steps are replayed
    up to the one before the next routing step, where the controller waits), when the Rollout's
    pod template has just changed from `stable_version` to the version it names (None: nothing to
    replace, one ReplicaSet): the routing objects rewritten step by step, the Services and the
    DestinationRule pointed at the ReplicaSets' hashes, and a ReplicaSet per running version with its
    replicas. Documents that are not the controller's are returned as they are. Without a Rollout, the
    documents are returned unchanged."""
    docs = [copy.deepcopy(d) for d in documents if isinstance(d, dict)]
    rollout = rollout_of(docs)
    if rollout is None:
        return docs
    new = _template_version(rollout)
    old = stable_version if stable_version and stable_version != new else None
    state = _State(rollout, docs)
    where = position_of(rollout, position) if old is not None else Position(None, "steady")
    replicas = _replicas(rollout)
    bg = _blue_green(rollout)
    if bg is not None:
        if old is None or where.promoted:
            # service.go:295-310 after the switch: both Services on the new ReplicaSet; the old one
            # is scaled down after scaleDownDelaySeconds (default 30 s).
            state.point_service(bg.get("activeService"), new)
            state.point_service(bg.get("previewService"), new)
            return state.docs + [replica_set(rollout, new, replicas)]
        state.point_service(bg.get("activeService"), old)
        state.point_service(bg.get("previewService"), new)
        return state.docs + [replica_set(rollout, old, replicas), replica_set(rollout, new, replicas)]
    canary = _canary(rollout) or {}
    if old is None or where.number is None:
        # steady: one ReplicaSet, the controller's hashes on the objects it steers, weight 0
        state.update_hash(new, new)
        state.point_service(canary.get("stableService"), new)
        state.point_service(canary.get("canaryService"), new)
        if _traffic(rollout):
            state.set_weight(0)
        return state.docs + [replica_set(rollout, new, replicas)]
    steps = _steps(rollout)
    # A position holds from its routing step until the next one: replay up to the step before that
    # (the pause after a setWeight, say), which is where the controller waits.
    starts = [p.step for p in positions(rollout) if p.step is not None] + [len(steps)]
    last = (len(steps) - 1 if where.promoted else
            -1 if where.step is None else starts[starts.index(where.step) + 1] - 1)
    state.point_service(canary.get("stableService"), old)
    state.point_service(canary.get("canaryService"), new)
    canary_pods = 0
    if last < 0:  # as installed: nothing run yet, the Git weights (stable 100)
        state.update_hash(new, old)
        state.set_weight(0)
    for index in range(last + 1):
        step = steps[index]
        weight = _current_weight(rollout, index)
        canary_pods = _canary_replicas(rollout, index, weight)
        if canary_pods == 0:
            # trafficrouting.go:222-233: no available canary pod, never weight to it, no managed route
            state.remove_managed_routes()
            weight = 0
        if "setHeaderRoute" in step:
            state.set_header_route(step["setHeaderRoute"])
        if "setMirrorRoute" in step:
            state.set_mirror_route(step["setMirrorRoute"])
        state.update_hash(new, old)
        state.set_weight(weight)
    if where.promoted:
        # trafficrouting.go:199-204: fully promoted, managed routes removed; the new ReplicaSet is the
        # stable one (both hashes), weight 0; the old ReplicaSet is scaled down.
        state.remove_managed_routes()
        state.update_hash(new, new)
        state.point_service(canary.get("stableService"), new)
        state.set_weight(0)
        return state.docs + [replica_set(rollout, new, replicas)]
    return state.docs + [replica_set(rollout, old, replicas), replica_set(rollout, new, canary_pods)]


def rewritten(before: Iterable[dict], after: Iterable[dict]) -> list[str]:
    """`Kind name` of each document of `before` the controller changed in `after`."""
    index = {(d.get("kind"), (d.get("metadata") or {}).get("name")): d for d in after}
    out = []
    for d in before:
        key = (d.get("kind"), (d.get("metadata") or {}).get("name"))
        if key in index and index[key] != d:
            out.append(f"{key[0]} {key[1]}")
    return out


def rollout_shape(plan) -> dict:
    """The part of the Rollout `positions` reads, from an ArgoPlan (generator.plan.argo): its strategy
    and steps, as the generated Rollout holds them."""
    strategy = {"blueGreen": {}} if plan.strategy == "blueGreen" else {"canary": {"steps": [dict(s) for s in plan.steps]}}
    return {"apiVersion": ROLLOUT_API, "kind": "Rollout", "metadata": {"name": plan.name, "namespace": plan.namespace},
            "spec": {"strategy": strategy}}


def plan_positions(plan) -> list[Position]:
    """The positions of the rollout an ArgoPlan describes: [None] when nothing is replaced (steady)."""
    if plan.stable_version is None or plan.stable_version == plan.workload.version:
        return [Position(None, "steady: one ReplicaSet, the routing objects as Git holds them")]
    return positions(rollout_shape(plan))
