"""The views of a rollout Argo Rollouts delivers: `plan` as text, JSON and Mermaid, and `status-commands`
(the kubectl plugin's commands, and the Argo CD Application fields that keep Argo CD and the controller
from fighting over the same fields)."""

from __future__ import annotations

import generator.names as c
from generator.plan.argo import ArgoPlan, argocd_ignore_differences, plan_argo
from generator.spec.yamlio import dump_document
from generator.plan.model import Destination, Rule
from generator.views.argo_routing import plan_positions
from generator.views.text import describe_condition


def _target(plan: ArgoPlan, d: Destination) -> str:
    """A destination of the routing in Git: another host, an Istio subset, or a Service the controller steers."""
    if d.host is not None:
        target = d.host + (f":{d.port}" if d.port else "")
    elif plan.route_kind == "VirtualService" and not d.version_service:
        target = f"subset {d.version}"
    else:
        target = c.argo_service_name(plan.name, d.version)
    return target if d.weight is None else f"{target} {d.weight}%"


def _describe_rule(plan: ArgoPlan, rule: Rule) -> str:
    where = ", ".join(_target(plan, d) for d in rule.destinations)
    if not rule.matches:
        return f"all other requests → {where}"
    return " or ".join(" and ".join(describe_condition(x) for x in alt) for alt in rule.matches) + f" → {where}"


def _steps_text(plan: ArgoPlan) -> list[str]:
    out = []
    for step in plan.steps:
        if "setWeight" in step:
            out.append(f"weight {step['setWeight']}%")
        elif "pause" in step:
            duration = step["pause"].get("duration")
            out.append(f"hold {duration}" if duration else "pause until promoted")
        elif "setCanaryScale" in step:
            scale = step["setCanaryScale"]
            out.append(f"scale the canary to {scale['replicas']}" if "replicas" in scale
                       else "the canary's pods follow its weight")
        elif "setHeaderRoute" in step:
            out.append(f"header route {step['setHeaderRoute']['name']}")
        elif "setMirrorRoute" in step:
            mirror = step["setMirrorRoute"]
            out.append(f"mirror {mirror['percentage']}% to the canary" if "match" in mirror
                       else f"stop mirroring ({mirror['name']})")
    return out


def _managed_route_text(plan: ArgoPlan, route: str) -> str:
    """What a managed route does, from the step that sets it."""
    header = next((s["setHeaderRoute"] for s in plan.steps if s.get("setHeaderRoute", {}).get("name") == route), None)
    if header is not None:
        return (f"{header['match'][0]['headerName']} → canary, added by the controller, removed when the "
                "rollout ends")
    mirror = next(s["setMirrorRoute"] for s in plan.steps if s.get("setMirrorRoute", {}).get("name") == route)
    return (f"copies of {mirror['percentage']}% of the requests → canary (responses discarded; Istio appends "
            "-shadow to the copy's Host; writes are copied too), added by the controller while the canary "
            "serves nobody, removed before the first weight")


def kubectl_commands(plan: ArgoPlan) -> list[tuple[str, str]]:
    """(what, command) with the kubectl argo rollouts plugin."""
    ns, name = plan.namespace, plan.name
    return [
        ("watch the rollout (steps, ReplicaSets, analysis)", f"kubectl argo rollouts get rollout {name} -n {ns} --watch"),
        ("wait until it is Healthy or Degraded", f"kubectl argo rollouts status {name} -n {ns} --timeout 10m"),
        ("resume a pause (the next step; an Inconclusive analysis too)", f"kubectl argo rollouts promote {name} -n {ns}"),
        ("stop now: every request back on the stable version, no Git change",
         f"kubectl argo rollouts abort {name} -n {ns}"),
        ("analysis runs of the namespace, newest last", f"kubectl -n {ns} get analysisruns --sort-by=.metadata.creationTimestamp"),
    ]


def argo_table(document, source: str) -> str:
    """`plan` for an Argo Rollouts rollout: what the controller will do."""
    plan = plan_argo(document, source)
    w = plan.workload
    lines = [f"{plan.name} in {plan.namespace} (Argo Rollouts, {plan.mesh}, {plan.strategy}) from {source}", "",
             f"Rollout {plan.name}: {w.version} ({w.image}), " + (
                 f"{w.replicas} replica{'s' if w.replicas != 1 else ''}" if w.replicas is not None
                 else "replicas from its autoscaler")]
    if plan.strategy == "canary":
        if plan.stable_version is not None:
            lines.append(f"canary: from {plan.stable_version} to {w.version}, the controller steps through: "
                         + " → ".join(_steps_text(plan)) + ", then promotes")
        else:
            lines.append("steady: a new pod template is rolled out at once (no steps)")
        objects = ", ".join(plan.routing_objects)
        router = (f"Istio VirtualService {objects}, route split (subsets stable/canary)"
                  if plan.route_kind == "VirtualService" else f"Gateway API plugin, HTTPRoute {objects}, rule split")
        lines.append(f"traffic: {router}")
        for route in plan.managed_routes:
            lines.append(f"managed route {route}: {_managed_route_text(plan, route)}")
    else:
        services = {s.role: s.name for s in plan.services}
        lines.append(f"blue/green: {services['active']} serves {plan.stable_version or w.version}; "
                     f"{services['preview']} serves {w.version}; promote switches them (autoPromotionEnabled: false)")
    lines += _service_lines(plan)
    a = plan.analysis
    if a is not None:
        when = (f"from step {a.starting_step}, every {a.interval} until promoted" if a.use == "background"
                else f"{a.count} measurements every {a.interval} before promotion")
        lines.append(f"analysis ({a.use}, AnalysisTemplate {a.template}): {when}; fails after "
                     f"{a.failure_limit + 1} failed measurements, pauses after {a.inconclusive_limit + 1} without data")
        lines += [f"check: {m.name} {m.bound}" for m in a.metrics]
    lines.append("")
    lines.append("routing in Git (first match wins):")
    lines += [f"  {i}. {_describe_rule(plan, r)}" for i, r in enumerate(plan.routing.rules, 1)]
    where = plan_positions(plan)
    if where[0].number is not None:
        lines += ["", "positions (rollgen route --position, rollgen test), the routing as the controller leaves it:"]
        lines += [f"  {p.number}. {p.describe()}" for p in where]
    return "\n".join(lines) + "\n"


def _service_lines(plan: ArgoPlan) -> list[str]:
    """What the spec's service and workload options become: the edge, ports, timeouts, autoscaler."""
    out, routing = [], plan.routing
    if routing.edge is not None:
        out.append(f"edge: gateways {', '.join(routing.edge.gateways)}, hosts {', '.join(routing.edge.hosts) or '-'}"
                   + ("" if routing.edge.mesh else "; mesh-internal callers are not routed"))
    if routing.ports:
        out.append("further ports on every Service and the container: "
                   + ", ".join(f"{p.name} {p.port}" for p in routing.ports))
    if routing.timeout is not None or routing.retries is not None:
        parts = ([f"timeout {routing.timeout}"] if routing.timeout else []) + \
                ([f"{routing.retries['attempts']} attempts"] if routing.retries else [])
        out.append(f"routes: {', '.join(parts)} (not on the managed header routes, which the controller writes)")
    if plan.autoscaler is not None:
        out.append(f"autoscaled: HorizontalPodAutoscaler {plan.name} on the Rollout, {plan.autoscaler.min} to "
                   f"{plan.autoscaler.max} pods")
    return out


def argo_document(document, source: str) -> dict:
    """`plan --format json` for an Argo Rollouts rollout."""
    plan = plan_argo(document, source)
    a = plan.analysis
    return {
        "source": source, "kind": "Rollout", "delivery": "argo-rollouts", "name": plan.name,
        "namespace": plan.namespace, "mesh": plan.mesh, "strategy": plan.strategy,
        "rollout": {"version": plan.workload.version, "image": plan.workload.image,
                    "replicas": plan.workload.replicas, "stable": plan.stable_version},
        "services": {s.role: s.name for s in plan.services},
        "routing": plan.route_kind, "routingObjects": list(plan.routing_objects),
        "managedRoutes": list(plan.managed_routes),
        "edge": None if plan.routing.edge is None else {
            "gateways": list(plan.routing.edge.gateways), "hosts": list(plan.routing.edge.hosts),
            "mesh": plan.routing.edge.mesh},
        "ports": [{"name": p.name, "port": p.port} for p in plan.routing.ports],
        "timeout": plan.routing.timeout, "retries": plan.routing.retries,
        "autoscaling": None if plan.autoscaler is None else {"min": plan.autoscaler.min, "max": plan.autoscaler.max},
        "steps": [dict(s) for s in plan.steps],
        "positions": [{"position": p.number, "step": p.step, "what": p.describe()} for p in plan_positions(plan)
                      if p.number is not None],
        "analysis": None if a is None else {
            "template": a.template, "use": a.use, "interval": a.interval, "count": a.count,
            "failureLimit": a.failure_limit, "inconclusiveLimit": a.inconclusive_limit,
            "metrics": [{"name": m.name, "query": m.query, "successCondition": m.success,
                         "failureCondition": m.failure} for m in a.metrics]},
        "argocd": argocd_ignore_differences(plan),
    }


def _label(*lines: str) -> str:
    return '"' + "<br/>".join(line.replace("#", "#35;").replace('"', "#quot;") for line in lines) + '"'


def _requests_label(plan: ArgoPlan) -> list[str]:
    edge = plan.routing.edge
    out = [] if edge is not None and not edge.mesh else [f"requests to {plan.name}.{plan.namespace}:{plan.port}"]
    if edge is not None:
        out.append(f"requests for {', '.join(edge.hosts)} at {', '.join(edge.gateways)}")
    return out + [f"Argo Rollouts, {plan.mesh}"]


def argo_flowchart(document, source: str) -> str:
    """`plan --format mermaid`: requests to the Service, split by the controller between the stable and the
    new ReplicaSet (canary), or switched between active and preview (blue/green)."""
    plan = plan_argo(document, source)
    w = plan.workload
    old = plan.stable_version or w.version
    lines = ["flowchart LR",
             f"  requests([{_label(*_requests_label(plan))}])",
             f"  stable[{_label(f'{old} (stable)' if plan.strategy == 'canary' else f'{old} (active)')}]",
             f"  new[{_label(f'{w.version}', w.image)}]"]
    if plan.strategy == "canary":
        weights = [str(s["setWeight"]) + "%" for s in plan.steps if "setWeight" in s]
        header = next((s["setHeaderRoute"] for s in plan.steps if "setHeaderRoute" in s), None)
        if header is not None:
            lines.append(f"  requests -->|{_label(header['match'][0]['headerName'] + ' (testers)')}| new")
        mirror = next((s["setMirrorRoute"] for s in plan.steps if "match" in s.get("setMirrorRoute", {})), None)
        if mirror is not None:
            copies = f"copies of {mirror['percentage']}%, before the first weight"
            lines.append(f"  requests -.->|{_label(copies)}| new")
        lines.append(f"  requests -->|{_label('weight ' + (' → '.join(weights) or '100%') + ', then promoted')}| new")
        lines.append(f"  requests -->|{_label('the rest')}| stable")
    else:
        rule = next((r for r in plan.routing.rules if r.name == "test"), None)
        if rule is not None:
            cond = " or ".join(" and ".join(describe_condition(x) for x in alt) for alt in rule.matches)
            lines.append(f"  requests -->|{_label(cond + ' (preview)')}| new")
        lines.append(f"  requests -->|{_label('all, until promoted')}| stable")
        lines.append(f"  requests -.->|{_label('all, after promote')}| new")
    return "\n".join(lines) + "\n"


def argo_commands(loaded) -> str:
    """`rollgen status-commands`: the kubectl plugin's commands and the Argo CD Application fields."""
    plan = plan_argo(loaded.document, loaded.source)
    lines = [f"{plan.name} in {plan.namespace} (Argo Rollouts, {plan.mesh}, {plan.strategy}) from {loaded.source}", ""]
    for what, command in kubectl_commands(plan):
        lines += [f"# {what}", command]
    fields = argocd_ignore_differences(plan)
    if not fields["ignoreDifferences"]:
        lines += ["", "# Argo CD: nothing to ignore. A blue/green has no traffic routing: the controller only adds",
                  "# the pod hash to the Services' selectors and its annotation, keys Git does not hold, which",
                  "# Argo CD's diff does not flag."]
        return "\n".join(lines) + "\n"
    lines += ["", "# Argo CD: add to the Application that syncs this output, so that Argo CD ignores exactly the",
              "# fields the Argo Rollouts controller rewrites (weights, its header routes, subset hashes) and",
              "# still applies every other Git edit of those objects:"]
    lines += dump_document({"spec": fields}).rstrip("\n").split("\n")
    return "\n".join(lines) + "\n"
