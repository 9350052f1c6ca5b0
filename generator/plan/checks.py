"""Meaning rules that need a plan computation (who is under test, how much evidence a step collects),
added to the spec rules of each engine: the checks every command runs on a spec."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterator

from generator.plan.queries import evidence_shortfalls, flagger_check_window, flagger_evidence_shortfall, versions_under_test
from generator.spec import load
from generator.spec.checks import Finding
from generator.spec.facts import canary_step_weights, format_duration
from generator.spec.kinds import engine_of
from generator.spec.rules import RULES as SPEC_RULES
from generator.spec.v1alpha1 import Rollout


def check_evidence(rollout: Rollout) -> Iterator[Finding]:
    """Warnings about what the analysis can tell: nothing under test, a starved canary, too few samples."""
    a = rollout.spec.analysis
    if a is None:
        return
    spec, base, flagger = rollout.spec, ("spec", "analysis"), engine_of(rollout) == "flagger"
    if not versions_under_test(rollout):
        yield Finding(base, "no version is under test (a service in steady state): no alerts are generated",
                      "`rollgen queries` still prints the service's queries", severity="warning")
    if a.expectedRate is not None and a.successRate is None:
        yield Finding(base + ("expectedRate",), "evidence is computed for successRate; none is set",
                      "add `successRate: {min: 99}`", severity="warning")
    if a.requestRate is not None and a.expectedRate is not None and spec.canary is not None:
        starved = [(i + 1, s) for i, s in enumerate(_canary_weights(rollout))
                   if a.expectedRate * s / 100 < a.requestRate.min]
        if starved:
            step, share = starved[0]
            effect = ("Flagger's request-rate check fails at that weight, so every release is rolled back "
                      "although the routing works" if flagger else "CanaryNoTraffic would fire although the routing works")
            yield Finding(base + ("requestRate", "min"),
                          f"at step {step} ({share}%) the canary can expect only "
                          f"{a.expectedRate * share / 100:g} requests/s, below requestRate.min "
                          f"{a.requestRate.min:g}: {effect}"
                          + (f" (steps {', '.join(str(s) for s, _ in starved)})" if len(starved) > 1 else ""),
                          "lower requestRate.min or give the canary a larger first step", severity="warning")
    for row, hold in evidence_shortfalls(rollout):
        yield Finding(("spec", "canary", "stepDuration"),
                      f"step {row.step} ({row.share}%) is held for {spec.canary.stepDuration} but the canary needs "
                      f"{format_duration(round(row.seconds_needed * 1000))} at {row.rate:.3g} requests/s to "
                      f"collect the {row.needed} requests that tell its success rate apart",
                      "hold the step longer, raise its share, or accept weaker evidence "
                      "(analysis.evidence); `rollgen plan` shows every step", severity="warning")
    short = flagger_evidence_shortfall(rollout)
    if short is not None:
        window = flagger_check_window(rollout)
        yield Finding(base + ("window",) if "window" in a.model_fields_set else base + ("expectedRate",),
                      f"at weight {short.share}% each {window} check sees about {short.per_window:.0f} requests of the "
                      f"canary, fewer than the {short.needed} that tell its success rate apart: Flagger would pass or "
                      "fail it on noise",
                      f"set `analysis.window: {math.ceil(short.seconds_needed / 60)}m` (the checks' range), or "
                      "start from a larger weight; "
                      "`rollgen plan` shows every step", severity="warning")


def _canary_weights(rollout: Rollout) -> list[int]:
    """The canary's share at each step: the manual steps, or the weights Flagger walks through."""
    canary = rollout.spec.canary
    if engine_of(rollout) != "flagger":
        return list(canary.steps or [])
    return canary_step_weights(canary.stepWeight, canary.maxWeight, tuple(canary.steps or ()))


RULES = {engine: rules + ((check_evidence,) if engine != "platform" else ()) for engine, rules in SPEC_RULES.items()}


def check_document(document) -> list[Finding]:
    """Every finding of the rules of the document's engine, the plan-level ones included."""
    return [finding for rule in RULES[engine_of(document)] for finding in rule(document)]


def parse_spec(raw: bytes, source: str) -> load.LoadedSpec:
    """A spec's bytes validated with every rule (see spec.load.parse_spec)."""
    return load.parse_spec(raw, source, check_document)


def read_spec(path: Path, cwd: Path) -> load.LoadedSpec:
    """A spec file validated with every rule (see spec.load.read_spec)."""
    return load.read_spec(path, cwd, check_document)
