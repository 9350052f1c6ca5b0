"""Machine-readable and diagrammatic views of a plan: `plan --format json` and `--format mermaid`.

Both are driven by the plan's rules (ordered, first match wins, weighted destinations), so every
strategy the planner knows is drawn without code of its own here.
"""

from __future__ import annotations

from dataclasses import asdict

from generator.views.text import describe_condition
from generator.plan.routed import build_routed_plan, positions
from generator.plan.model import Destination, Plan, Rule
from generator.spec.v1alpha1 import Rollout


def _rule_json(rule: Rule) -> dict:
    return asdict(rule)


def plan_document(rollout: Rollout, source: str) -> dict:
    """The live plan and the routing at every position, as plain JSON data."""
    if rollout.kind == "Platform" or rollout.spec.delivery == "flagger":
        from generator.views.text import other_document

        return other_document(rollout, source)
    live = build_routed_plan(rollout, source)
    canary = rollout.spec.canary
    live_position = canary.position if canary is not None else 0
    return {
        "source": source,
        "name": live.name,
        "namespace": live.namespace,
        "mesh": live.mesh,
        "stage": live.stage,
        "position": live_position,
        "workloads": [{"version": w.version, "name": w.name, "image": w.image, "replicas": w.replicas}
                      for w in live.workloads],
        "rules": [_rule_json(r) for r in live.rules],
        "positions": [{"position": p, "live": p == live_position,
                       "rules": [_rule_json(r) for r in build_routed_plan(rollout, source, p).rules]}
                      for p in positions(rollout)],
    }


def _escape(text: str) -> str:
    """User text inside a Mermaid label: `"` would end it, `#...;` is an entity, `<...>` HTML."""
    for raw, entity in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(raw, entity)
    return text


def _label(*lines: str) -> str:
    """A quoted Mermaid label of one or more lines."""
    return '"' + "<br/>".join(_escape(line) for line in lines) + '"'


class _Flowchart:
    def __init__(self, plan: Plan):
        self.plan = plan
        self.lines = ["flowchart LR"]
        self.targets: dict[tuple, str] = {}
        self.workloads = {w.version: w for w in plan.workloads}

    def target(self, d: Destination) -> str:
        key = (d.version, d.host, d.port)
        if key not in self.targets:
            node = f"t{len(self.targets) + 1}"
            self.targets[key] = node
            if d.host is not None:
                text = [d.host + (f":{d.port}" if d.port else "")]
            elif d.version is not None and d.version in self.workloads:
                w = self.workloads[d.version]
                text = [d.version, w.image, f"{w.replicas} replica{'s' if w.replicas != 1 else ''}"]
            elif d.version is not None:
                text = [d.version]
            else:
                text = [f"{self.plan.name} (every version)"]
            self.lines.append(f"  {node}[{_label(*text)}]")
        return self.targets[key]

    def send(self, source: str, rule: Rule, via: str = "") -> None:
        """Edges from `source` to the rule's destinations, labelled with their weights."""
        for d in rule.destinations:
            weight = "100%" if d.weight is None else f"{d.weight}%"
            text = f"{via} · {weight}" if via else weight
            for header, value in d.response_headers:  # e.g. the cookie that pins an A/B variant
                text += f" · sets {value.split(';')[0]}" if header.lower() == "set-cookie" else f" · {header}: {value}"
            arrow = "-.->" if d.weight == 0 else "-->"
            self.lines.append(f"  {source} {arrow}|{_label(text)}| {self.target(d)}")


def mermaid_flowchart(rollout: Rollout, source: str) -> str:
    """Where requests go at the live position: rules in order (first match wins), weights on edges."""
    if rollout.spec.delivery == "flagger":  # Platform specs are refused by the command (nothing to draw)
        from generator.views.text import other_flowchart

        return other_flowchart(rollout, source)
    plan = build_routed_plan(rollout, source)
    chart = _Flowchart(plan)
    where = f"{plan.name}.{plan.namespace}:{plan.port}"
    chart.lines.append(f"  requests([{_label(f'requests to {where}', f'{plan.mesh}, {plan.stage}')}])")
    previous, edge = "requests", ""
    for i, rule in enumerate(plan.rules, start=1):
        if not rule.matches:
            if len(rule.destinations) > 1:
                node = f"r{i}"
                chart.lines.append(f"  {node}{{{{{_label(f'{i}. {rule.name}: weighted split')}}}}}")
                chart.lines.append(f"  {previous} -->" + (f"|{_label(edge)}|" if edge else "") + f" {node}")
                chart.send(node, rule)
            else:
                chart.send(previous, rule, edge or f"{i}. {rule.name}")
            previous = ""
            break
        node = f"r{i}"
        test = " or ".join(" and ".join(describe_condition(c) for c in alt) for alt in rule.matches)
        chart.lines.append(f"  {node}{{{_label(f'{i}. {rule.name}: {test}?')}}}")
        chart.lines.append(f"  {previous} -->" + (f"|{_label(edge)}|" if edge else "") + f" {node}")
        chart.send(node, rule, "yes")
        previous, edge = node, "no"
    if previous:  # every rule has a condition: what matches none of them is not routed by the mesh
        chart.lines.append(f"  unrouted[{_label('no route (404)')}]")
        chart.lines.append(f"  {previous} -->|{_label(edge)}| unrouted")
    return "\n".join(chart.lines) + "\n"
