"""Human-readable views of a plan (the `plan` command)."""

from __future__ import annotations

import math

from generator.plan.promql import number
from generator.plan.queries import (_decimal, _percentile, _window, ab_evidence, all_queries, canary_evidence,
                                    evidence_target, flagger_check_evidence, flagger_check_window, source_for)
from generator.spec.facts import format_duration, parse_duration
from generator.plan.routed import build_routed_plan, positions
from generator.plan.model import Destination, HeaderCondition, Plan, Rule
from generator.spec.v1alpha1 import Rollout
from generator.mesh import MESHES
from generator.plan.patterns import shadow_percent
from generator.views.routing import share_text
from generator.diagnostics import Diagnostic, InvalidInput
from generator.plan.flagger import analysis_steps, plan_flagger, status_commands
from generator.plan.platform import build_platform_plan, install_commands


def describe_condition(cond: HeaderCondition) -> str:
    if cond.meaning:
        return cond.meaning
    verb = {"exact": "=", "prefix": "starts with", "regex": "matches"}[cond.kind]
    return f"{cond.header} {verb} {cond.value!r}"


def describe_destination(plan: Plan, d: Destination) -> str:
    if d.host is not None:
        target = d.host + (f":{d.port}" if d.port else "")
    elif d.version is not None:
        target = d.version
    else:
        target = plan.name
    if d.weight is not None:
        target = f"{target} {d.weight}%"
    cookies = [v for k, v in d.response_headers if k.lower() == "set-cookie"]
    return target + (f" (sets cookie {cookies[0].split(';')[0]})" if cookies else "")


def strategy_lines(rollout: Rollout) -> list[str]:
    """What a blue/green or an A/B test is doing now, and what promote and rollback would do."""
    spec = rollout.spec
    out: list[str] = []
    if spec.blueGreen is not None:
        bg = spec.blueGreen
        width = max(len(bg.active or ""), len(bg.preview or ""))
        out += ["", f"  active   {(bg.active or '').ljust(width)}  serves production traffic"]
        if bg.preview:
            swap = f"active {bg.preview}, {bg.active} kept running as preview"
            if bg.test:
                out.append(f"  preview  {bg.preview.ljust(width)}  reached by "
                           f"{describe_condition(HeaderCondition.of(bg.test))}")
                out.append(f"  promote  → {swap} (the cutover; the test match is removed)")
                out.append(f"  rollback → refused: {bg.preview} has never been live")
            else:
                out.append(f"  preview  {bg.preview.ljust(width)}  running, reached by no request (kept for an "
                           "instant switch)")
                out.append(f"  promote  → {swap}")
                out.append(f"  rollback → {swap} (the version before the cutover)")
    if spec.abTest is not None:
        ab = spec.abTest
        rows = [["variant", "cookie", "new users"]] + [[v.version, f"{ab.cookie.name}={v.value}", f"{v.weight}%"]
                                                       for v in ab.variants]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        out.append("")
        out += ["  " + "  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip() for r in rows]
        age = f"{ab.cookie.maxAge}s" if ab.cookie.maxAge else "the browser session"
        out.append(f"  a user keeps their variant for {age} (cookie {ab.cookie.name})")
    return out


def describe_fault(rule: Rule) -> str:
    """` (fault: ...)` for a rule that injects faults, else empty."""
    parts = [f"{'abort ' + str(f.value) if f.kind == 'abort' else 'delay ' + str(f.value)} for {f.percent:g}%"
             for f in rule.faults]
    return f" (fault: {', '.join(parts)})" if parts else ""


def describe_rule(plan: Plan, rule: Rule) -> str:
    where = ", ".join(describe_destination(plan, d) for d in rule.destinations) + describe_fault(rule)
    if not rule.matches:
        return f"all other requests → {where}"
    cond = " or ".join(" and ".join(describe_condition(c) for c in alt) for alt in rule.matches)
    return f"{cond} → {where}"


def entry_lines(plan: Plan) -> list[str]:
    """Where the routing applies (the mesh, ingress gateways), the request options of every rule and
    the Service's further ports: nothing for a plain mesh-only rollout on one port."""
    out = []
    edge = plan.edge
    if edge is not None:
        hosts = ", ".join(edge.hosts) if edge.hosts else "every host of the listener"
        out.append(f"  at the edge: {hosts} through {', '.join(edge.gateways)}")
        out.append(f"  in the mesh: {'callers of ' + plan.name + ':' + str(plan.port) if edge.mesh else 'not routed'}")
    options = []
    if plan.timeout is not None:
        options.append(f"timeout {plan.timeout}")
    if plan.retries is not None:
        r = plan.retries
        options.append(f"{r['attempts']} retries" + (f" of {r['perTryTimeout']} each" if "perTryTimeout" in r else "")
                       + (f" on {r['retryOn']}" if "retryOn" in r else ""))
    if options:
        out.append(f"  every request: {', '.join(options)}")
    if plan.autoscaler is not None:
        a = plan.autoscaler
        out.append(f"  replicas: {a.min}-{a.max} per version, autoscaled at {a.cpu}% of {a.container}'s CPU request")
    if plan.ports:
        extra = ", ".join(f"{p.name} {p.port}" for p in plan.ports)
        out.append(f"  ports: http {plan.port} (routed), {extra} (not routed)")
    return [""] + out if out else []


def routed_table(rollout: Rollout, source: str) -> str:
    """Each position of the rollout with its weights and routing; the live one is marked."""
    live = build_routed_plan(rollout, source)
    spec = rollout.spec
    lines = [f"{live.name} in {live.namespace} ({spec.mesh}, {live.stage}) from {source}"]
    lines.extend(entry_lines(live))
    if spec.canary is None:
        lines.extend(strategy_lines(rollout))
        lines.extend(describe_evidence(rollout))
        lines.append("")
        lines.append("routing (first match wins):" if len(live.rules) > 1 else "routing:")
        lines.extend(f"  {i}. {describe_rule(live, r)}" if len(live.rules) > 1 else f"  {describe_rule(live, r)}"
                     for i, r in enumerate(live.rules, 1))
        return "\n".join(lines) + "\n"
    canary = spec.canary
    head = ["", "position", f"{canary.stable} (stable)", f"{canary.canary} (canary)", "routing"]
    rows = [head]
    for pos in positions(rollout):
        p = build_routed_plan(rollout, source, pos)
        split = next(r for r in p.rules if not r.matches)
        weights = {d.version: d.weight for d in split.destinations}
        notes = [describe_rule(p, r) for r in p.rules if r.matches and not r.name.startswith("sticky-")]
        if any(r.name.startswith("sticky-") for r in p.rules):
            notes.append(f"users kept on their version by cookie {canary.sticky.cookie}")
        if split.mirror is not None:
            notes.append(f"{share_text(split.mirror.percent / 100)} of requests mirrored to {split.mirror.destination.version}")
        routing = "; ".join(notes) or "weights only"
        mark = "▶" if pos == canary.position else ""
        rows.append([mark, str(pos), f"{weights[canary.stable]}%", f"{weights[canary.canary]}%", routing])
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines.append("")
    for row in rows:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    lines.append("")
    lines.append(f"live position: {canary.position} of {len(canary.steps)} (▶)")
    lines.extend(canary_traffic_lines(rollout))
    lines.extend(describe_evidence(rollout))
    return "\n".join(lines) + "\n"


def canary_traffic_lines(rollout: Rollout) -> list[str]:
    """What shadow traffic and a sticky canary do, in words (`rollgen plan`)."""
    canary, out = rollout.spec.canary, []
    if canary.shadow is not None:
        pct = share_text(shadow_percent(canary.shadow) / 100)
        out += ["", f"shadow: at position 0 a copy of {pct} of the requests goes to {canary.canary}; its response is "
                    f"discarded (users are answered by {canary.stable}). From position 1 nothing is mirrored; a "
                    "rollback to 0 mirrors again.",
                "  a copy is a real request: every method is copied, writes (POST, PUT, DELETE) included, so the "
                f"canary performs them too; mirror only what {canary.canary} may safely do twice."]
        if MESHES[rollout.spec.mesh].mirroring == "route-mirror":
            name = rollout.metadata.name
            out.append("  Istio sends each copy with `-shadow` appended to its Host (authority): "
                       f"`{name}` arrives as `{name}-shadow`.")
    if canary.sticky is not None:
        age = f"{canary.sticky.maxAge}s" if canary.sticky.maxAge else "the browser session"
        out += ["", f"sticky: cookie {canary.sticky.cookie} (for {age}) keeps a user who reached {canary.canary} on it "
                    f"at every later position; a user on {canary.stable} is kept there for one position, and each "
                    f"step moves just enough of them for {canary.canary}'s share of users to match the step. A "
                    "rollback to an earlier position releases the users pinned after it."]
    return out


def _commands_text(title: str, commands) -> str:
    lines = [title, ""]
    for what, command in commands:
        lines.append(f"# {what}")
        lines.append(command)
    return "\n".join(lines) + "\n"


def platform_commands(loaded) -> str:
    """`rollgen status-commands` of a Platform: the Flux and Flagger commands that check the install."""
    plan = build_platform_plan(loaded.document, loaded.source)
    ns = plan.namespace
    commands = [("Flux releases", f"flux -n {ns} get helmreleases"),
                ("chart repository", f"flux -n {ns} get sources helm {plan.repository}"),
                *((f"Flagger's log ({r.watches or 'every namespace'})", f"kubectl -n {ns} logs deployment/{r.name} -f")
                  for r in plan.flagger_releases),
                ("every canary", "kubectl get canaries --all-namespaces")]
    return _commands_text(f"Flagger install {plan.name} in {ns} from {loaded.source}", commands)


def flagger_commands(loaded) -> str:
    """`rollgen status-commands` of a Flagger rollout: watch, describe, events."""
    plan = plan_flagger(loaded.document, loaded.source)
    title = f"{plan.name} in {plan.namespace} (Flagger, {plan.provider}, {plan.analysis.strategy}) from {loaded.source}"
    return _commands_text(title, status_commands(plan))


def manual_commands(loaded) -> str:
    """A manual rollout has no controller to monitor: a located refusal."""
    raise InvalidInput([Diagnostic(loaded.source, *loaded.located.position(("spec",)), "spec",
                                   "status-commands monitors rollouts a controller delivers (Flagger, Argo Rollouts); "
                                   "this one is delivered manually",
                                   "use `rollgen plan` to see its positions, or set `delivery: flagger` or "
                                   "`delivery: argo-rollouts`")])


def platform_table(document, source: str) -> str:
    """`plan` for a Platform: its install, imperatively."""
    plan = build_platform_plan(document, source)
    lines = [f"Flagger install {plan.name} in {plan.namespace} from {source}", "",
             "Flux installs and upgrades, from the generated HelmRepository and HelmReleases, what these "
             "commands would:", ""]
    lines += install_commands(plan)
    return "\n".join(lines) + "\n"


def flagger_table(document, source: str) -> str:
    """`plan` for a Flagger rollout: what Flagger will do."""
    plan = plan_flagger(document, source)
    a = plan.analysis
    lines = [f"{plan.name} in {plan.namespace} (Flagger, provider {plan.provider}) from {source}", ""]
    if a.strategy == "canary":
        steps = analysis_steps(plan)
        lines.append(f"canary: every {a.interval}, if the checks pass, the canary's weight steps through "
                     + " → ".join(f"{w}%" for w in steps) + ", then Flagger promotes it")
    elif a.strategy == "blueGreen":
        lines.append(f"blue/green: {a.iterations} analysis runs every {a.interval} on the canary with no live "
                     "traffic, then all traffic switches to it")
    else:
        conds = " or ".join(" and ".join(f"{h} {next(iter(v))} {next(iter(v.values()))!r}" for h, v in m["headers"].items())
                            for m in a.match)
        lines.append(f"A/B test: {a.iterations} analysis runs every {a.interval}; requests where {conds} reach the "
                     "canary, the rest the primary")
    lines.append(f"rollback: after {a.threshold} failed checks ({a.threshold} × {a.interval})")
    for m in a.metrics:
        unit = "%" if "success" in m.name else "/s" if m.name == "request-rate" else "ms"
        bound = f">= {m.min}{unit}" if m.min is not None else f"<= {m.max}{unit}"
        lines.append(f"check: {m.name} {bound} over {m.interval}" + (f" (MetricTemplate {m.template})" if m.template else " (Flagger builtin)"))
    for h in a.webhooks:
        lines.append(f"webhook: {h.name} ({h.type}) → {h.url}")
    lines.extend(describe_flagger_evidence(document))
    return "\n".join(lines) + "\n"


def describe_flagger_evidence(rollout: Rollout) -> list[str]:
    """Lines for `rollgen plan` on a Flagger canary: what one check sees at each weight."""
    rows = flagger_check_evidence(rollout)
    if not rows:
        return []
    analysis = rollout.spec.analysis
    required, worse, needed = evidence_target(rollout)
    window = flagger_check_window(rollout)
    head = (f"evidence: telling {_pct(required)} from {_pct(worse)} success at "
            f"{number(_decimal(analysis.evidence.confidence))}% confidence and "
            f"{number(_decimal(analysis.evidence.power))}% power needs {needed} requests in one check "
            f"(expected {number(_decimal(analysis.expectedRate))} requests/s in total)")
    table = [["step", "weight", "canary requests/s", f"per {window} check", "window that holds enough"]]
    for row in rows:
        short = "*" if row.per_window < needed else ""
        must = f"{math.ceil(row.seconds_needed / 60)}m" if row.seconds_needed else "never"
        table.append([str(row.step), f"{row.share}%", _num(row.rate), _num(row.per_window) + short, must])
    lines = ["", head, ""] + _table_lines(table)
    if any(row.per_window < needed for row in rows):
        lines += ["", f"* fewer than {needed} requests in a {window} check: at that weight a check cannot tell the "
                  "rates apart; lengthen `analysis.window` (the checks' range) to the window shown"]
    return lines


def describe_ab_evidence(rollout: Rollout) -> list[str]:
    rows = ab_evidence(rollout)
    if not rows:
        return []
    sig = rollout.spec.abTest.significance
    confidence, power = sig.confidence, sig.power
    head = (f"evidence: detecting {_pct(sig.baseline)} → {_pct(sig.baseline + sig.minDetectableEffect)} conversion "
            f"(two-sided, {number(_decimal(confidence))}% confidence, {number(_decimal(power))}% power) needs "
            f"{rows[0].needed} users per variant")
    table = [["variant", "weight", "users needed", "time at its share of expectedRate"]]
    for row in rows:
        when = format_duration(round(row.seconds_needed * 1000)) if row.seconds_needed else "-"
        table.append([row.version, f"{row.weight}%", str(row.needed), when])
    lines = ["", head, ""] + _table_lines(table)
    if any(row.seconds_needed for row in rows):
        lines += ["", "times count every request as a new user: real tests take longer"]
    return lines


def describe_evidence(rollout: Rollout) -> list[str]:
    """Lines for `rollgen plan`: what each step gives the canary and how long it must be held."""
    if rollout.spec.abTest is not None:
        return describe_ab_evidence(rollout)
    rows = canary_evidence(rollout)
    if not rows:
        return []
    analysis, canary = rollout.spec.analysis, rollout.spec.canary
    required, worse, needed = evidence_target(rollout)
    hold = parse_duration(canary.stepDuration) if canary.stepDuration else None
    head = (f"evidence: telling {_pct(required)} from {_pct(worse)} success at "
            f"{number(_decimal(analysis.evidence.confidence))}% confidence and "
            f"{number(_decimal(analysis.evidence.power))}% power needs {needed} requests on {canary.canary} "
            f"(expected {number(_decimal(analysis.expectedRate))} requests/s in total)")
    table = [["step", "share", f"{canary.canary} requests/s", f"per {analysis.window} window", "step must last"]]
    for row in rows:
        must = format_duration(round(row.seconds_needed * 1000)) if row.seconds_needed else "never"
        if hold is not None and row.seconds_needed and row.seconds_needed * 1000 > hold:
            must += f"  (longer than stepDuration {canary.stepDuration})"
        short = "*" if row.per_window < needed else ""
        table.append([str(row.step), f"{row.share}%", _num(row.rate), _num(row.per_window) + short, must])
    lines = ["", head, ""] + _table_lines(table)
    if any(row.per_window < needed for row in rows):
        lines += ["", f"* fewer than {needed} requests per {analysis.window} window: at that step the error-rate "
                  "alert alone cannot tell the rates apart; hold the step for the time shown"]
    if hold is not None:
        lines += [f"steps are held for {canary.stepDuration} (canary.stepDuration)"]
    return lines


def _table_lines(table: list[list[str]]) -> list[str]:
    """Rows of cells as indented, left-aligned columns."""
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    return ["  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip() for r in table]


def _pct(p: float) -> str:
    return number(_decimal(round(p * 100, 6))) + "%"


def _num(x: float) -> str:
    return f"{x:.0f}" if x >= 100 else f"{x:.3g}"


def queries_text(rollout: Rollout, source_path: str) -> str:
    """The `queries` command: ready-to-paste PromQL for each version, side by side."""
    src = source_for(rollout)
    window = _window(rollout)
    pct = number(_decimal(_percentile(rollout)))
    compared = all_queries(rollout)
    lines = [f"{rollout.metadata.name} in {rollout.metadata.namespace}: {src.name} metrics "
             f"({src.requests}, {src.duration}), window {window}, from {source_path}"]
    sections = (
        (f"error ratio ({src.error_meaning} / all responses; 0..1, NaN or empty = no traffic)", "error_ratio"),
        (f"P{pct} latency ({'seconds' if src.unit == 's' else 'milliseconds'})", "latency"),
        ("request rate (requests/s)", "request_rate"),
    )
    for title, attr in sections:
        lines += ["", f"# {title}"]
        for q in compared:
            lines.append(f"# {q.version} ({q.role})")
            lines.append(getattr(q, attr))
    return "\n".join(lines) + "\n"
