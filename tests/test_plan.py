"""Weights at every position, and the `plan` view."""

from __future__ import annotations

import pytest

from conftest import SPECS, run_cli
from generator.plan.checks import parse_spec
from generator.plan.routed import build_routed_plan, positions
from generator.spec.facts import canary_weights


@pytest.mark.parametrize("steps,position,expected", [
    ([10, 25, 50, 75, 100], 0, (100, 0)),
    ([10, 25, 50, 75, 100], 1, (90, 10)),
    ([10, 25, 50, 75, 100], 3, (50, 50)),
    ([10, 25, 50, 75, 100], 5, (0, 100)),
    ([1, 100], 1, (99, 1)),
])
def test_canary_weights_are_integers_that_sum_to_100(steps, position, expected):
    assert canary_weights(steps, position) == expected


@pytest.mark.parametrize("name", ["backend.yaml", "orders.yaml", "checkout.yaml"])
def test_every_position_keeps_object_names_and_only_moves_weights(name):
    spec = parse_spec((SPECS / name).read_bytes(), name)
    canary = spec.document.spec.canary
    seen = []
    for pos in positions(spec.document):
        plan = build_routed_plan(spec.document, name, pos)
        split = plan.rules[-1]
        weights = {d.version: d.weight for d in split.destinations}
        assert weights[canary.stable] + weights[canary.canary] == 100
        assert weights[canary.canary] == ([0] + canary.steps)[pos]
        seen.append((plan.version_services, [w.name for w in plan.workloads], [r.name for r in plan.rules]))
    assert all(s == seen[0] for s in seen)


def test_plan_command_prints_every_position_and_marks_the_live_one():
    result = run_cli("plan", "specs/backend.yaml", cwd=SPECS.parent)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "backend in production (istio, canary) from specs/backend.yaml"
    rows = [l for l in lines if l.strip() and l.split()[0] in {"▶", "0", "1", "2", "3", "4", "5"}]
    assert len(rows) == 6
    live = [r for r in rows if r.startswith("▶")]
    assert len(live) == 1 and live[0].split()[1:4] == ["1", "90%", "10%"]
    assert "x-canary-user = 'true' → v2" in live[0]
    assert "live position: 1 of 5" in result.output


def test_plan_of_a_steady_service_shows_its_single_route():
    result = run_cli("plan", "specs/catalog.yaml", cwd=SPECS.parent)
    assert result.exit_code == 0
    assert "all other requests → v2" in result.output


def test_plan_of_a_blue_green_shows_both_versions_and_the_cutover():
    result = run_cli("plan", "specs/billing.yaml", cwd=SPECS.parent)
    assert result.exit_code == 0
    out = result.output
    assert out.splitlines()[0] == "billing in production (istio, blue-green) from specs/billing.yaml"
    assert "  active   blue   serves production traffic" in out
    assert "  preview  green  reached by x-version = 'green'" in out
    assert "  1. x-version = 'green' → green\n  2. all other requests → blue\n" in out


def test_plan_of_an_ab_test_shows_variants_cookies_and_weights():
    result = run_cli("plan", "specs/frontend.yaml", cwd=SPECS.parent)
    assert result.exit_code == 0
    out = result.output
    assert "  variant-a  ab-test=a  50%" in out and "  variant-b  ab-test=b  50%" in out
    assert "  1. cookie ab-test=a → variant-a" in out
    assert "  3. all other requests → variant-a 50% (sets cookie ab-test=a), variant-b 50% (sets cookie ab-test=b)" in out


def test_plan_of_header_routes_lists_them_in_order_with_the_default_last():
    result = run_cli("plan", "specs/profile.yaml", cwd=SPECS.parent)
    assert result.exit_code == 0
    assert ("  1. x-user-region = 'us-east' → profile-us-east.production.svc.cluster.local\n"
            "  2. x-user-region = 'eu-west' → profile-eu-west.production.svc.cluster.local\n"
            "  3. all other requests → v1\n") in result.output
