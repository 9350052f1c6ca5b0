"""How Flagger v1.44 reads a Canary's analysis, written from its scheduler (controller/scheduler.go)
independently of the generator: the strategy it runs and the canary weights it steps through."""

from __future__ import annotations


def strategy(analysis: dict, provider: str) -> str:
    """`match` + `iterations` → A/B testing; `iterations` → blue/green; otherwise a canary. The
    `kubernetes` provider always runs blue/green (it warns and ignores weights and matches)."""
    if provider == "kubernetes":
        return "blueGreen"
    if analysis.get("match") and analysis.get("iterations", 0) > 0:
        return "abTest"
    if analysis.get("iterations", 0) > 0:
        return "blueGreen"
    return "canary"


def canary_weights(analysis: dict) -> list[int]:
    """The weights of each analysis step until promotion (runCanary/nextStepWeight/maxWeight)."""
    steps = analysis.get("stepWeights") or []
    step = analysis.get("stepWeight", 0)
    top = min(100, steps[-1]) if steps else analysis.get("maxWeight") or 100
    weight, out = 0, []
    while weight < top:
        if step > 0 or not steps:
            increment = step
        elif weight == 0:
            increment = min(100 - weight, steps[0])
        else:
            increment = next((min(100 - weight, steps[i + 1] - weight) for i in range(len(steps) - 1)
                              if steps[i] == weight), 100 - weight)
        if increment <= 0:
            break  # Flagger never advances: the canary is stuck at this weight
        weight = min(weight + increment, 100)
        out.append(weight)
    return out
