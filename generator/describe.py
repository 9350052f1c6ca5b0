"""Human-readable views of a plan (the `plan` command)."""

from __future__ import annotations

from .analysis import describe_evidence
from .plan import Destination, HeaderCondition, Plan, Rule, build_plan, positions
from .spec.v1alpha1 import Rollout


def describe_condition(cond: HeaderCondition) -> str:
    verb = {"exact": "=", "prefix": "starts with", "regex": "matches"}[cond.kind]
    return f"{cond.header} {verb} {cond.value!r}"


def describe_destination(plan: Plan, d: Destination) -> str:
    if d.host is not None:
        target = d.host + (f":{d.port}" if d.port else "")
    elif d.version is not None:
        target = d.version
    else:
        target = plan.name
    return target if d.weight is None else f"{target} {d.weight}%"


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
        lines.append("")
        lines.extend(f"  {describe_rule(live, r)}" for r in live.rules)
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
