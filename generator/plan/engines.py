"""The one dispatch from a checked document to the plan of its delivery engine."""

from __future__ import annotations

from typing import Callable

from generator.plan.argo import plan_argo
from generator.plan.flagger import plan_flagger
from generator.plan.platform import build_platform_plan
from generator.plan.routed import build_routed_plan
from generator.spec.kinds import engine_of

# engine → (document, source) -> its plan
PLANNERS: dict[str, Callable] = {
    "manual": build_routed_plan,
    "flagger": plan_flagger,
    "platform": build_platform_plan,
    "argo-rollouts": plan_argo,
}


def build_plan(document, source: str):
    """The plan of one checked document, whatever its engine."""
    return PLANNERS[engine_of(document)](document, source)
