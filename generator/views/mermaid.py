"""`plan --format mermaid`: where requests go, one flowchart function per delivery engine.

The routed flowchart is driven by the plan's rules (ordered, first match wins, weighted destinations),
so every strategy the planner knows is drawn without code of its own here.
"""

from __future__ import annotations

import generator.names as c
from generator.plan.flagger import analysis_steps, plan_flagger
from generator.views.text import describe_condition
from generator.plan.routed import build_routed_plan
from generator.plan.model import Destination, Plan, Rule
from generator.spec.v1alpha1 import Rollout


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
                scaler = self.plan.autoscaler
                count = (f"{scaler.min}-{scaler.max} replicas (autoscaled)" if w.replicas is None
                         else f"{w.replicas} replica{'s' if w.replicas != 1 else ''}")
                text = [d.version, w.image, count]
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


def routed_flowchart(rollout: Rollout, source: str) -> str:
    """Where requests go at the live position: rules in order (first match wins), weights on edges."""
    plan = build_routed_plan(rollout, source)
    chart = _Flowchart(plan)
    where = f"{plan.name}.{plan.namespace}:{plan.port}"
    entry = [f"requests to {where}"] if plan.edge is None or plan.edge.mesh else []
    if plan.edge is not None:
        entry.append(f"requests to {', '.join(plan.edge.hosts) or 'the listeners'} at {', '.join(plan.edge.gateways)}")
    options = [f"timeout {plan.timeout}"] if plan.timeout else []
    if plan.retries:
        options.append(f"{plan.retries['attempts']} retries")
    chart.lines.append(f"  requests([{_label(*entry, ', '.join([f'{plan.mesh}, {plan.stage}'] + options))}])")
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
        fault = "".join(f" · {f.kind} {f.value} for {f.percent:g}%" for f in rule.faults)
        chart.lines.append(f"  {node}{{{_label(f'{i}. {rule.name}: {test}?' + fault)}}}")
        chart.lines.append(f"  {previous} -->" + (f"|{_label(edge)}|" if edge else "") + f" {node}")
        chart.send(node, rule, "yes")
        previous, edge = node, "no"
    if previous:  # every rule has a condition: what matches none of them is not routed by the mesh
        chart.lines.append(f"  unrouted[{_label('no route (404)')}]")
        chart.lines.append(f"  {previous} -->|{_label(edge)}| unrouted")
    return "\n".join(chart.lines) + "\n"


def flagger_flowchart(document, source: str) -> str:
    """`plan --format mermaid` for a Flagger rollout: requests to the apex Service, split by Flagger
    between the primary and the canary as the strategy says."""
    plan = plan_flagger(document, source)
    a = plan.analysis
    primary = c.flagger_primary_name(plan.name)
    if a.strategy == "canary":
        canary_edge = "weight " + " → ".join(f"{w}%" for w in analysis_steps(plan)) + ", then promoted"
        primary_edge = "the rest"
    elif a.strategy == "abTest":
        canary_edge = " or ".join(" and ".join(f"{h} {next(iter(v))} {next(iter(v.values()))}"
                                               for h, v in m["headers"].items()) for m in a.match)
        canary_edge += f" ({a.iterations} runs)"
        primary_edge = "everyone else"
    else:
        canary_edge = f"no live traffic for {a.iterations} runs, then all"
        primary_edge = "all until the switch"

    def label(*lines: str) -> str:
        return '"' + "<br/>".join(line.replace('"', "#quot;") for line in lines) + '"'

    lines = ["flowchart LR",
             f"  requests([{label(f'requests to {plan.name}.{plan.namespace}:{plan.port}', f'Flagger, {plan.provider}')}])",
             f"  canary[{label(f'{plan.name}-canary', plan.workload.image)}]",
             f"  primary[{label(f'{primary}', 'the released version')}]",
             f"  requests -->|{label(canary_edge)}| canary",
             f"  requests -->|{label(primary_edge)}| primary"]
    return "\n".join(lines) + "\n"
