"""Shadow traffic: copies of a share of the requests go to the canary while it serves nobody (position 0)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, SPECS, run_cli
from generator.app import compile_at, rollout_positions
from generator.plan.checks import parse_spec, read_spec
from generator.views.routecases import mirrored
from generator.views.routing import Request, route_request


def router(docs: list[dict]) -> dict:
    (doc,) = [d for d in docs if d["kind"] in ("VirtualService", "HTTPRoute")]
    return doc


def at_every_position(name: str, text: bytes | None = None):
    loaded = parse_spec(text, f"specs/{name}") if text is not None else read_spec(SPECS / name, ROOT)
    positions = rollout_positions(loaded)
    return dict(zip(positions, compile_at([(loaded, p) for p in positions])))


def test_istio_mirrors_to_the_canarys_subset_at_position_0_only():
    docs = at_every_position("details.yaml")
    split = router(docs[0])["spec"]["http"][-1]
    assert (split["mirror"], split["mirrorPercentage"]) == ({"host": "details", "subset": "v2"}, {"value": 10})
    for position in (1, 2, 3):
        assert not any("mirror" in h or "mirrors" in h for h in router(docs[position])["spec"]["http"])
    assert mirrored(route_request(docs[0], Request(method="POST"))) == {"v2": Fraction(1, 10)}


@pytest.mark.parametrize("percent,written", [("12.5", {"fraction": {"numerator": 1, "denominator": 8}}),
                                             ("0.5", {"fraction": {"numerator": 1, "denominator": 200}}),
                                             ("20", {"percent": 20})])
def test_gateway_api_writes_a_request_mirror_filter_with_percent_or_fraction(percent, written):
    text = (SPECS / "recommendations.yaml").read_bytes().replace(b"percent: 12.5", f"percent: {percent}".encode())
    docs = at_every_position("recommendations.yaml", text)
    (rule,) = router(docs[0])["spec"]["rules"]
    assert rule["filters"] == [{"type": "RequestMirror", "requestMirror": {
        "backendRef": {"group": "", "kind": "Service", "name": "recommendations-v2", "port": 80}, **written}}]
    assert all("filters" not in r for p in (1, 2, 3) for r in router(docs[p])["spec"]["rules"])
    assert mirrored(route_request(docs[0], Request())) == {"v2": Fraction(percent) / 100}


def test_promote_stops_the_copies_and_rollback_to_0_mirrors_again(workdir: Path):
    result = run_cli("promote", "specs/details.yaml", cwd=workdir)
    assert result.exit_code == 0, result.stderr
    assert "canary position 0 → 1: 'v2' takes 10% of traffic; the shadow copies stop (the canary now answers " \
           "users)" in result.stderr
    vs = yaml.safe_load((workdir / "output/production/details/virtualservice-details.yaml").read_text())
    assert not any("mirror" in h for h in vs["spec"]["http"])
    result = run_cli("rollback", "specs/details.yaml", cwd=workdir)
    assert "10% of requests are mirrored to 'v2' again" in result.stderr
    vs = yaml.safe_load((workdir / "output/production/details/virtualservice-details.yaml").read_text())
    assert vs["spec"]["http"][-1]["mirrorPercentage"] == {"value": 10}


def test_finalize_removes_the_shadow_with_the_canary(workdir: Path):
    for _ in range(3):
        assert run_cli("promote", "specs/details.yaml", cwd=workdir).exit_code == 0
    assert run_cli("promote", "specs/details.yaml", "--finalize", cwd=workdir).exit_code == 0
    spec = yaml.safe_load((workdir / "specs/details.yaml").read_text())["spec"]
    assert "canary" not in spec and spec["versions"] == [{"name": "v2"}]


def test_plan_and_route_say_what_a_mirrored_request_does():
    plan = run_cli("plan", "specs/details.yaml", cwd=ROOT).stdout
    assert "▶  0         100%         0%           10% of requests mirrored to v2" in plan
    assert "writes (POST, PUT, DELETE) included" in plan
    assert "`details` arrives as `details-shadow`" in plan
    route = run_cli("route", "specs/details.yaml", "--method", "POST", cwd=ROOT).stdout
    assert ("  mirrored: a copy of 10% of these requests goes to details/v2 (version v2) with -shadow appended to "
            "its Host; its response is discarded") in route.splitlines()
