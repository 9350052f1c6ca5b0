"""How much evidence a rollout step needs: sample sizes for proportions. Pure functions, stdlib only.

Both formulas are the standard normal-approximation sample sizes for binomial proportions:

- `success_rate_sample_size` — one-sample test of a proportion against a reference value, one-sided:
      n = ( z(1-α)·√(p0·(1-p0)) + z(1-β)·√(p1·(1-p1)) )² / (p0 - p1)²
  (Chow, Shao & Wang, *Sample Size Calculations in Clinical Research*, 2nd ed. 2008, §4.1;
  Fleiss, Levin & Paik, *Statistical Methods for Rates and Proportions*, 3rd ed. 2003, §2.5).
  p0 is the success rate the rollout requires, p1 a success rate worse by the margin: with n
  requests, a version at p1 is told apart from p0 with confidence 1-α and power 1-β.

- `ab_sample_size` — two independent proportions, two-sided, equal group sizes, per group:
      n = ( z(1-α/2)·√(2·p̄·(1-p̄)) + z(1-β)·√(p1·(1-p1) + p2·(1-p2)) )² / (p2 - p1)²,  p̄ = (p1+p2)/2
  (Fleiss, Levin & Paik 2003, eq. 4.14, without continuity correction; the formula behind common
  A/B-test calculators).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

_Z = NormalDist()


def z(p: float) -> float:
    """The standard normal quantile: z(0.95) ≈ 1.6449."""
    return _Z.inv_cdf(p)


def success_rate_sample_size(required: float, margin: float, confidence: float = 0.95,
                             power: float = 0.80) -> int:
    """Requests needed to tell a success rate `required - margin` from `required` (proportions, 0..1)."""
    p0, p1 = required, required - margin
    if not (0 < p1 < p0 < 1):
        raise ValueError(f"need 0 < required - margin < required < 1 (got {required}, {margin})")
    root = z(confidence) * math.sqrt(p0 * (1 - p0)) + z(power) * math.sqrt(p1 * (1 - p1))
    return math.ceil(root * root / (margin * margin) - 1e-9)


def ab_sample_size(baseline: float, min_detectable_effect: float, confidence: float = 0.95,
                   power: float = 0.80, continuity_correction: bool = False) -> int:
    """Users (or requests) per variant to detect an absolute change `min_detectable_effect` of a
    `baseline` conversion rate with a two-sided test. `continuity_correction` applies Fleiss'
    correction n' = n/4·(1 + √(1 + 4/(n·|δ|)))², as in the published tables."""
    p1, p2 = baseline, baseline + min_detectable_effect
    if not (0 < p1 < 1 and 0 < p2 < 1) or min_detectable_effect == 0:
        raise ValueError(f"need 0 < baseline, baseline + effect < 1 and a non-zero effect "
                         f"(got {baseline}, {min_detectable_effect})")
    alpha = 1 - confidence
    mean = (p1 + p2) / 2
    root = (z(1 - alpha / 2) * math.sqrt(2 * mean * (1 - mean))
            + z(power) * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2)))
    n = root * root / (min_detectable_effect ** 2)
    if continuity_correction:
        n = n / 4 * (1 + math.sqrt(1 + 4 / (n * abs(min_detectable_effect)))) ** 2
    return math.ceil(n - 1e-9)


@dataclass(frozen=True)
class StepEvidence:
    """What one canary step gives the version under test, and what it needs."""

    step: int  # 1-based position
    share: int  # percent of traffic on the version under test
    rate: float  # requests/s it receives
    per_window: float  # requests it receives per analysis window
    needed: int  # requests needed (success_rate_sample_size)
    seconds_needed: float | None  # time to collect them at `rate` (None when rate is 0)


def step_evidence(step: int, share: int, expected_rate: float, window_seconds: float,
                  needed: int) -> StepEvidence:
    rate = expected_rate * share / 100
    seconds = needed / rate if rate > 0 else None
    return StepEvidence(step, share, rate, rate * window_seconds, needed, seconds)


@dataclass(frozen=True)
class VariantEvidence:
    """What one A/B variant needs: users (requests) and, at its share of `expected_rate`, time."""

    version: str
    weight: int
    needed: int
    seconds_needed: float | None


def variant_evidence(variants: list[tuple[str, int]], baseline: float, min_detectable_effect: float,
                     expected_rate: float | None, confidence: float = 0.95,
                     power: float = 0.80) -> list[VariantEvidence]:
    """Per variant (version, weight in percent): the sample size of `ab_sample_size` and the time it
    takes at the variant's share of `expected_rate` (None without a rate or with weight 0)."""
    needed = ab_sample_size(baseline, min_detectable_effect, confidence, power)
    out = []
    for version, weight in variants:
        rate = expected_rate * weight / 100 if expected_rate else 0
        out.append(VariantEvidence(version, weight, needed, needed / rate if rate > 0 else None))
    return out
