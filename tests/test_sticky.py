"""Sticky canaries, simulated: 10 000 users, each a cookie jar, make 20 requests at every position of the
rollout, against the generated routing objects as the routing engine (generator.views.routing) evaluates
them. The canary's share of users must follow the step weights (within 2 points), no user may go back
from the canary to stable while the rollout moves forward, and a stable user is pinned for one position only."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from conftest import OUTPUT, ROOT, SPECS
from generator.app import routing_documents, rollout_positions
from generator.plan.checks import parse_spec, read_spec
from generator.spec.facts import canary_weights
from generator.views.routing import Request, route_request

USERS = 10_000
REQUESTS = 20


def _pick(result, rng: random.Random):
    """One destination of the evaluated rule, drawn by its share, as the proxy would."""
    roll, acc = Fraction(rng.random()), Fraction(0)
    live = [d for d in result.destinations if d.share]
    for dest in live:
        acc += dest.share
        if roll < acc:
            return dest
    return live[-1]


def _set_cookie(jar: dict, header: str | None) -> None:
    if header:
        name, _, value = header.split(";")[0].partition("=")
        jar[name.strip()] = value.strip()


def simulate(documents: dict, positions: list[int], seed: int = 15) -> list[dict]:
    """Per position: {user: the versions their requests reached}. Users keep their cookie jars throughout."""
    rng = random.Random(seed)
    jars = [{} for _ in range(USERS)]
    out = []
    for position in positions:
        docs, cache, reached = documents[position], {}, {}
        for user, jar in enumerate(jars):
            seen = []
            for _ in range(REQUESTS):
                key = tuple(sorted(jar.items()))
                if key not in cache:
                    cache[key] = route_request(docs, Request(cookies=dict(jar)))
                dest = _pick(cache[key], rng)
                (version,) = dest.versions  # every backend of a sticky canary is one version
                seen.append(version)
                _set_cookie(jar, dict((k.lower(), v) for k, v in dest.response_headers.items()).get("set-cookie"))
            reached[user] = seen
        out.append(reached)
    return out


def check_simulation(loaded, documents: dict) -> None:
    canary = loaded.document.spec.canary
    positions = rollout_positions(loaded)
    runs = simulate(documents, positions)
    on_canary: set[int] = set()
    for position, reached in zip(positions, runs):
        weight = canary_weights(canary.steps, position)[1]
        users = {u for u, seen in reached.items() if canary.canary in seen}
        assert abs(100 * len(users) / USERS - weight) <= 2, (position, len(users), weight)
        # a user stays on one version within a position: after the first answer, the cookie decides
        flipping = [u for u, seen in reached.items() if len(set(seen[1:])) > 1]
        assert not flipping, (position, flipping[:5])
        # nobody who reached the canary goes back to stable while the rollout moves forward
        back = [u for u in on_canary if canary.stable in reached[u]]
        assert not back, (position, back[:5])
        on_canary |= users


def test_ten_thousand_users_keep_their_version_and_follow_the_step_weights_on_istio():
    loaded = read_spec(SPECS / "accounts.yaml", ROOT)
    found = routing_documents([(loaded, rollout_positions(loaded))], OUTPUT)[0]
    assert found[loaded.document.spec.canary.position].origin == f"{OUTPUT.as_posix()}/"  # the committed objects, live
    check_simulation(loaded, {p: d.documents for p, d in found.items()})


def test_ten_thousand_users_keep_their_version_and_follow_the_step_weights_on_the_gateway_api():
    text = (SPECS / "accounts.yaml").read_bytes().replace(b"mesh: istio", b"mesh: gateway-api")
    loaded = parse_spec(text, "specs/accounts.yaml")
    found = routing_documents([(loaded, rollout_positions(loaded))], OUTPUT / "nowhere")[0]
    assert {d["kind"] for p in found for d in found[p].documents} >= {"HTTPRoute"}
    check_simulation(loaded, {p: d.documents for p, d in found.items()})


def test_ten_thousand_users_keep_their_version_and_follow_the_step_weights_on_linkerd():
    """Linkerd's policy controller hands backendRef filters, ResponseHeaderModifier included, to the proxy
    (policy-controller/k8s/index/src/outbound/index/http.rs, convert_gateway_backend_filter): the split's
    backend sets the cookie."""
    text = (SPECS / "accounts.yaml").read_bytes().replace(b"mesh: istio", b"mesh: linkerd")
    loaded = parse_spec(text, "specs/accounts.yaml")
    assert not [w for w in loaded.warnings if w.path.startswith("spec.canary.sticky")]  # Linkerd applies them
    found = routing_documents([(loaded, rollout_positions(loaded))], OUTPUT / "nowhere")[0]
    routes = [d for p in found for d in found[p].documents if d["kind"] == "HTTPRoute"]
    assert routes and {r["apiVersion"] for r in routes} == {"policy.linkerd.io/v1beta2"}
    check_simulation(loaded, {p: d.documents for p, d in found.items()})


def test_a_stable_user_is_pinned_for_one_position_only():
    loaded = read_spec(SPECS / "accounts.yaml", ROOT)
    found = routing_documents([(loaded, rollout_positions(loaded))], OUTPUT)[0]
    go = lambda p, v: route_request(found[p].documents, Request(cookies={"canary-user": v}))  # noqa: E731
    assert go(1, "v1.1").rule == "sticky-stable" and go(1, "v1.1").versions() == {"v1": 1}
    assert go(2, "v1.1").rule == "sticky-move" and go(2, "v1.1").versions()["v2"] > 0
    assert go(3, "v1.1").rule == "split"  # two positions on: a user like any other


@pytest.mark.parametrize("cookie", ["v2.1", "v2.2", "v2.3"])
def test_a_canary_user_is_pinned_until_a_rollback_goes_before_their_step(cookie):
    loaded = read_spec(SPECS / "accounts.yaml", ROOT)
    found = routing_documents([(loaded, rollout_positions(loaded))], OUTPUT)[0]
    pinned_at = int(cookie.split(".")[1])
    for position in (1, 2, 3):
        result = route_request(found[position].documents, Request(cookies={"canary-user": cookie}))
        assert (result.rule == "sticky-canary") == (position >= pinned_at), (position, result.rule)


def test_the_simulation_catches_a_canary_that_does_not_keep_its_users():
    text = (SPECS / "accounts.yaml").read_bytes().replace(b"    sticky: {cookie: canary-user, maxAge: 3600}\n", b"")
    loaded = parse_spec(text, "specs/accounts.yaml")
    found = routing_documents([(loaded, rollout_positions(loaded))], OUTPUT / "nowhere")[0]
    with pytest.raises(AssertionError):
        check_simulation(loaded, {p: d.documents for p, d in found.items()})
