"""Human-readable views of a plan (the `plan` command)."""

from __future__ import annotations

from .analysis import describe_evidence
from .plan import Destination, HeaderCondition, Plan, Rule, build_plan, positions
from .spec.v1alpha1 import Rollout


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
            reach = f"reached by {describe_condition(HeaderCondition.of(bg.test))}" if bg.test else \
                "running, reached by no request until the cutover"
            out.append(f"  preview  {bg.preview.ljust(width)}  {reach}")
            out.append(f"  promote  → active {bg.preview}, {bg.active} kept running as preview")
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


def describe_rule(plan: Plan, rule: Rule) -> str:
    where = ", ".join(describe_destination(plan, d) for d in rule.destinations)
    if not rule.matches:
        return f"all other requests → {where}"
    cond = " or ".join(" and ".join(describe_condition(c) for c in alt) for alt in rule.matches)
    return f"{cond} → {where}"


def plan_table(rollout: Rollout, source: str) -> str:
    """Each position of the rollout with its weights and routing; the live one is marked."""
    live = build_plan(rollout, source)
    spec = rollout.spec
    lines = [f"{live.name} in {live.namespace} ({spec.mesh}, {live.stage}) from {source}"]
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
        p = build_plan(rollout, source, pos)
        split = next(r for r in p.rules if not r.matches)
        weights = {d.version: d.weight for d in split.destinations}
        routing = "; ".join(describe_rule(p, r) for r in p.rules if r.matches) or "weights only"
        mark = "▶" if pos == canary.position else ""
        rows.append([mark, str(pos), f"{weights[canary.stable]}%", f"{weights[canary.canary]}%", routing])
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines.append("")
    for row in rows:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    lines.append("")
    lines.append(f"live position: {canary.position} of {len(canary.steps)} (▶)")
    lines.extend(describe_evidence(rollout))
    return "\n".join(lines) + "\n"
