"""`plan --format json`: a plan as plain JSON data, one function per delivery engine."""

from __future__ import annotations

from dataclasses import asdict

import generator.names as c
from generator.plan.flagger import analysis_steps, plan_flagger
from generator.plan.model import Rule
from generator.plan.platform import build_platform_plan
from generator.plan.routed import build_routed_plan, positions
from generator.spec.v1alpha1 import Rollout


def _rule_json(rule: Rule) -> dict:
    out = asdict(rule)
    if rule.mirror is None:
        del out["mirror"]  # the documents of rules that mirror nothing stay as they were
    else:
        pct = rule.mirror.percent
        out["mirror"]["percent"] = int(pct) if pct.denominator == 1 else float(pct)
    return out


def routed_document(rollout: Rollout, source: str) -> dict:
    """The live plan and the routing at every position, as plain JSON data."""
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
        "autoscaling": None if live.autoscaler is None else {
            "min": live.autoscaler.min, "max": live.autoscaler.max, "cpu": live.autoscaler.cpu},
        "ingress": None if live.edge is None else asdict(live.edge),
        "ports": [asdict(p) for p in live.ports],
        "timeout": live.timeout,
        "retries": live.retries,
        "rules": [_rule_json(r) for r in live.rules],
        "positions": [{"position": p, "live": p == live_position,
                       "rules": [_rule_json(r) for r in build_routed_plan(rollout, source, p).rules]}
                      for p in positions(rollout)],
    }


def platform_document(document, source: str) -> dict:
    """`plan --format json` for a Platform: its releases."""
    plan = build_platform_plan(document, source)
    return {"source": source, "kind": "Platform", "name": plan.name, "namespace": plan.namespace,
            "repository": {"name": plan.repository, "url": plan.repository_url, "type": plan.repository_type},
            "mesh": plan.mesh,
            "releases": [{"name": r.name, "chart": r.chart, "version": r.version,
                          "namespace": r.target_namespace or plan.namespace, "values": r.values,
                          **({"watches": r.watches} if r.watches is not None else {})}
                         for r in plan.releases]}


def flagger_document(document, source: str) -> dict:
    """`plan --format json` for a Flagger rollout: what Flagger will do."""
    plan = plan_flagger(document, source)
    a = plan.analysis
    return {
        "source": source, "kind": "Rollout", "delivery": "flagger", "name": plan.name,
        "namespace": plan.namespace, "provider": plan.provider, "strategy": a.strategy,
        "target": {"deployment": plan.workload.name, "image": plan.workload.image, "replicas": plan.replicas,
                   **({"autoscaling": {"min": plan.autoscaler.min, "max": plan.autoscaler.max,
                                       "cpu": plan.autoscaler.cpu}} if plan.replicas is None else {}),
                   "primary": c.flagger_primary_name(plan.name)},
        "interval": a.interval, "threshold": a.threshold,
        "weights": analysis_steps(plan), "iterations": a.iterations, "match": [dict(m) for m in a.match],
        "metrics": [{"name": m.name, "interval": m.interval, "min": m.min, "max": m.max, "template": m.template}
                    for m in a.metrics],
        "webhooks": [{"name": h.name, "type": h.type, "url": h.url} for h in a.webhooks],
    }
