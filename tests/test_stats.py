"""Sample sizes against published values and against the power they promise."""

from __future__ import annotations

import math
from statistics import NormalDist

import pytest

from generator.plan.stats import ab_sample_size, step_evidence, success_rate_sample_size, z

PHI = NormalDist().cdf


def test_normal_quantiles_are_the_textbook_ones():
    assert round(z(0.95), 4) == 1.6449
    assert round(z(0.975), 4) == 1.9600
    assert round(z(0.80), 4) == 0.8416


def test_two_proportion_sample_size_matches_fleiss():
    # Fleiss, Levin & Paik (2003), p1 = 0.05 vs p2 = 0.10, two-sided α = 0.05, power 0.80:
    # 435 per group without continuity correction (474 with Fleiss' correction, their Table A.4).
    assert ab_sample_size(0.05, 0.05) == 435
    assert ab_sample_size(0.05, 0.05, continuity_correction=True) == 474


def test_ab_sample_size_for_a_5_percent_baseline_and_1_point_effect():
    assert ab_sample_size(0.05, 0.01) == 8158


def _one_sample_power(n: int, p0: float, p1: float, confidence: float) -> float:
    """Power of the one-sided test of p0 when the truth is p1 < p0 (normal approximation)."""
    critical = p0 - z(confidence) * math.sqrt(p0 * (1 - p0) / n)
    return PHI((critical - p1) / math.sqrt(p1 * (1 - p1) / n))


@pytest.mark.parametrize("required, margin", [(0.99, 0.01), (0.995, 0.005), (0.999, 0.001), (0.95, 0.02)])
def test_success_rate_sample_size_is_the_smallest_n_with_the_promised_power(required, margin):
    n = success_rate_sample_size(required, margin)
    assert _one_sample_power(n, required, required - margin, 0.95) >= 0.80
    assert _one_sample_power(n - 1, required, required - margin, 0.95) < 0.80


def test_telling_99_from_98_percent_needs_793_requests():
    # (1.6449·√(0.99·0.01) + 0.8416·√(0.98·0.02))² / 0.01² = 28.149² = 792.4
    assert success_rate_sample_size(0.99, 0.01) == 793
    assert success_rate_sample_size(0.99, 0.01, confidence=0.975) == 979


def test_impossible_targets_are_refused():
    with pytest.raises(ValueError):
        success_rate_sample_size(0.99, 0.99)
    with pytest.raises(ValueError):
        ab_sample_size(0.99, 0.02)


def test_step_evidence_scales_with_the_share():
    row = step_evidence(1, 10, 40, 300, 793)
    assert (row.rate, row.per_window) == (4, 1200)
    assert row.seconds_needed == pytest.approx(198.25)
    assert step_evidence(1, 0, 40, 300, 793).seconds_needed is None


@pytest.mark.parametrize("baseline, effect", [(0.05, 0.01), (0.10, 0.02), (0.20, -0.05), (0.5, 0.1)])
def test_ab_sample_size_is_the_smallest_n_with_the_promised_power(baseline, effect):
    p1, p2 = baseline, baseline + effect
    mean = (p1 + p2) / 2

    def power(n: int) -> float:
        return PHI((abs(effect) * math.sqrt(n) - z(0.975) * math.sqrt(2 * mean * (1 - mean)))
                   / math.sqrt(p1 * (1 - p1) + p2 * (1 - p2)))

    n = ab_sample_size(baseline, effect)
    assert power(n) >= 0.80 > power(n - 1)
