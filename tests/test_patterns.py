"""Blue/green, cookie A/B tests and header routes: which request reaches which backend, on every mesh."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import re2
import yaml

from conftest import CONFORM, MANUAL_EXAMPLES, ORACLE, SPECS, compile_spec_text, documents_by_kind, require
from generator.plan.patterns import cookie_regex, precedence_keeps_order, set_cookie
from generator.spec.facts import cluster_service
from generator.plan.model import HeaderCondition, Rule
from routing import route, set_cookies


def compiled(name: str) -> dict[tuple[str, str], dict]:
    return documents_by_kind(compile_spec_text((SPECS / name).read_text(), f"specs/{name}"))


# --- the sticky cookie -------------------------------------------------------------------------

@pytest.mark.parametrize("cookie_header,matches", [
    ("ab-test=a", True),
    ("other=1; ab-test=a", True),       # what browsers send: "; " between cookies
    ("other=1;ab-test=a", True),
    ("ab-test=a; x=1", True),
    ("ab-test=a;x=1", True),
    ("x=1; ab-test=a; y=2", True),
    ("xab-test=a", False),              # another cookie whose name ends like ours
    ("x=1; xab-test=a", False),
    ("ab-test=ab", False),              # a longer value
    ("ab-test=a1", False),
    ("ab-test=b", False),
    ("ab-test=", False),
    ("x=ab-test=a", False),             # our pair inside another cookie's value
    ("", False),
])
def test_cookie_regex_matches_exactly_the_cookie_pair_wherever_it_sits(cookie_header, matches):
    assert (re2.fullmatch(cookie_regex("ab-test", "a"), cookie_header) is not None) is matches


@pytest.mark.parametrize("name,value,header,matches", [
    ("ab.test", "a", "ab.test=a", True),
    ("ab.test", "a", "abXtest=a", False),     # '.' is escaped, not "any character"
    ("exp", "v+1", "exp=v+1", True),
    ("exp", "v+1", "exp=vv1", False),
    ("exp", "(a|b)", "exp=(a|b)", True),
    ("exp", "(a|b)", "exp=a", False),
    ("exp", "a*", "exp=aaa", False),
    ("$x", "[1]", "$x=[1]", True),
])
def test_cookie_name_and_value_are_escaped_for_re2(name, value, header, matches):
    pattern = cookie_regex(name, value)
    assert re2.compile(pattern)
    assert (re2.fullmatch(pattern, header) is not None) is matches


def test_set_cookie_carries_max_age_and_a_site_wide_path():
    assert set_cookie("ab-test", "a", 86400) == "ab-test=a; Max-Age=86400; Path=/"
    assert set_cookie("ab-test", "b", None) == "ab-test=b; Path=/"


# --- the examples, request by request ----------------------------------------------------------

EXAMPLE_TABLES = {
    "billing.yaml": [
        ({}, {"billing-blue.production.svc.cluster.local": 100}),
        ({"x-version": "green"}, {"billing-green.production.svc.cluster.local": 100}),
        ({"x-version": "blue"}, {"billing-blue.production.svc.cluster.local": 100}),
        ({"x-version": "greenish"}, {"billing-blue.production.svc.cluster.local": 100}),
    ],
    "inventory.yaml": [
        ({}, {"inventory-blue": 100}),
        ({"x-version": "green"}, {"inventory-green": 100}),
        ({"x-version": "Green"}, {"inventory-blue": 100}),
    ],
    "frontend.yaml": [
        ({}, {"frontend/variant-a": 50, "frontend/variant-b": 50}),
        ({"cookie": "ab-test=a"}, {"frontend/variant-a": 100}),
        ({"cookie": "session=xyz; ab-test=b"}, {"frontend/variant-b": 100}),
        ({"cookie": "session=xyz;ab-test=a"}, {"frontend/variant-a": 100}),
        ({"cookie": "ab-test=b; theme=dark"}, {"frontend/variant-b": 100}),
        ({"cookie": "xab-test=a"}, {"frontend/variant-a": 50, "frontend/variant-b": 50}),
        ({"cookie": "ab-test=ab"}, {"frontend/variant-a": 50, "frontend/variant-b": 50}),
    ],
    "api.yaml": [
        ({"user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"},
         {"api/mobile-optimized": 100}),
        ({"user-agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8)"}, {"api/mobile-optimized": 100}),
        ({"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"}, {"api/desktop": 100}),
        ({}, {"api/desktop": 100}),
    ],
    "profile.yaml": [
        ({"x-user-region": "us-east"}, {"profile-us-east.production.svc.cluster.local": 100}),
        ({"x-user-region": "eu-west"}, {"profile-eu-west.production.svc.cluster.local": 100}),
        ({"x-user-region": "ap-south"}, {"profile/v1": 100}),
        ({}, {"profile/v1": 100}),
    ],
    "backend.yaml": [
        ({}, {"backend/v1": 90, "backend/v2": 10}),
        ({"x-canary-user": "true"}, {"backend/v2": 100}),
    ],
    "orders.yaml": [({}, {"orders-v1": 90, "orders-v2": 10})],
    "checkout.yaml": [
        ({}, {"checkout-v1": 75, "checkout-v2": 25}),
        ({"x-user-group": "beta-1"}, {"checkout-v2": 100}),
    ],
    "catalog.yaml": [({}, {"catalog/v2": 100})],
    "payments.yaml": [({}, {"payments/v1": 90, "payments/v2": 10})],
    "ledger.yaml": [({}, {"ledger-v1": 90, "ledger-v2": 10})],
    "search.yaml": [({}, {"search-v1": 75, "search-v2": 25})],
    "storefront.yaml": [
        ({}, {"storefront/variant-a": 50, "storefront/variant-b": 50}),
        ({"cookie": "ab-test=b"}, {"storefront/variant-b": 100}),
    ],
    "details.yaml": [({}, {"details/v1": 100, "details/v2": 0})],
    "recommendations.yaml": [({}, {"recommendations-v1": 100, "recommendations-v2": 0})],
    "accounts.yaml": [
        ({}, {"accounts/v1": 75, "accounts/v2": 25}),
        ({"cookie": "session=1; canary-user=v2.1"}, {"accounts/v2": 100}),
        ({"cookie": "canary-user=v1.2"}, {"accounts/v1": 100}),
        ({"cookie": "canary-user=v1.1"}, {"accounts/v1": 83, "accounts/v2": 17}),
        ({"cookie": "xcanary-user=v2.1"}, {"accounts/v1": 75, "accounts/v2": 25}),
    ],
    "reviews.yaml": [
        ({}, {"reviews/v1": 50, "reviews/v3": 50}),
        ({"end-user": "jason"}, {"reviews/v2": 100}),
    ],
    "ratings.yaml": [({"end-user": "jason"}, {"ratings/v1": 100}), ({}, {"ratings/v1": 100})],
    "shop.yaml": [
        ({}, {"shop/v1": 90, "shop/v2": 10}),
        ({"x-canary-user": "true"}, {"shop/v2": 100}),
    ],
    "cart.yaml": [({}, {"cart-v1": 80, "cart-v2": 20})],
}


def test_every_example_has_a_routing_table():
    assert sorted(EXAMPLE_TABLES) == MANUAL_EXAMPLES


@pytest.mark.parametrize("name,headers,expected",
                         [(n, h, e) for n, rows in EXAMPLE_TABLES.items() for h, e in rows])
def test_example_routes_each_request_to_the_expected_backend(name, headers, expected):
    assert route(compiled(name).values(), headers) == expected


def test_ab_split_sets_each_variants_cookie_and_returning_users_get_none():
    docs = compiled("frontend.yaml").values()
    assert set_cookies(docs) == {"frontend/variant-a": "ab-test=a; Max-Age=86400; Path=/",
                                 "frontend/variant-b": "ab-test=b; Max-Age=86400; Path=/"}
    assert set_cookies(docs, {"cookie": "ab-test=b"}) == {"frontend/variant-b": None}


def test_a_new_user_keeps_the_variant_the_split_assigned():
    docs = compiled("frontend.yaml").values()
    for backend, cookie in set_cookies(docs).items():
        pair = cookie.split(";")[0]
        assert route(docs, {"cookie": f"other=1; {pair}"}) == {backend: 100}


def test_blue_green_has_per_version_services_and_no_subsets():
    docs = compiled("billing.yaml")
    assert ("DestinationRule", "billing") not in docs
    for version in ("blue", "green"):
        svc = docs[("Service", f"billing-{version}")]
        assert svc["spec"]["selector"] == {"app": "billing", "version": version}
        assert docs[("Deployment", f"billing-{version}")]["spec"]["replicas"] == 3
    assert docs[("VirtualService", "billing")]["spec"]["hosts"] == ["billing"]


def test_linkerd_blue_green_names_the_parents_group_and_kind():
    docs = compiled("inventory.yaml")
    route_doc = docs[("HTTPRoute", "inventory")]
    assert route_doc["spec"]["parentRefs"] == [{"group": "core", "kind": "Service", "name": "inventory", "port": 8080}]
    assert [r.get("matches") is not None for r in route_doc["spec"]["rules"]] == [True, False]


# --- the same patterns on the Gateway API and Linkerd ------------------------------------------

SPEC_HEAD = """\
apiVersion: rollgen/v1alpha1
kind: Rollout
metadata: {name: shop, namespace: web}
spec:
  mesh: MESH
  service: {port: 80, targetPort: 8080}
  workload: {image: registry.example.com/shop}
"""


def spec_text(mesh: str, body: str) -> str:
    return SPEC_HEAD.replace("MESH", mesh) + textwrap.indent(textwrap.dedent(body), "  ")


GATEWAY_BLUE_GREEN = """\
versions: [{name: blue}, {name: green}]
blueGreen: {active: green, preview: blue, test: {header: x-version, prefix: blue}}
routes:
  - match: {header: x-debug, exact: "1"}
    version: blue
"""

GATEWAY_AB = """\
versions: [{name: a}, {name: b}]
abTest:
  cookie: {name: exp, maxAge: 3600}
  variants: [{version: a, value: control, weight: 90}, {version: b, value: new, weight: 10}]
"""

GATEWAY_GEO = """\
versions: [{name: v1}]
routes:
  - match: {header: x-user-region, exact: eu-west}
    host: shop-eu.web.svc.cluster.local
    port: 8080
  - match: {header: x-user-region, exact: us-east}
    host: shop.us-east.svc
    port: 80
default: v1
"""


def test_gateway_api_blue_green_routes_by_version_service_in_written_order():
    docs = documents_by_kind(compile_spec_text(spec_text("gateway-api", GATEWAY_BLUE_GREEN)))
    assert route(docs.values()) == {"shop-green": 100}
    assert route(docs.values(), {"x-version": "blue-2"}) == {"shop-blue": 100}
    assert route(docs.values(), {"x-debug": "1"}) == {"shop-blue": 100}
    assert route(docs.values(), {"x-debug": "1", "x-version": "zzz"}) == {"shop-blue": 100}
    refs = docs[("HTTPRoute", "shop")]["spec"]["rules"][-1]["backendRefs"]
    assert refs == [{"group": "", "kind": "Service", "name": "shop-green", "port": 80}]


def test_gateway_api_ab_test_sets_the_cookie_with_a_backend_filter():
    docs = documents_by_kind(compile_spec_text(spec_text("gateway-api", GATEWAY_AB)))
    assert route(docs.values()) == {"shop-a": 90, "shop-b": 10}
    assert set_cookies(docs.values()) == {"shop-a": "exp=control; Max-Age=3600; Path=/",
                                          "shop-b": "exp=new; Max-Age=3600; Path=/"}
    assert route(docs.values(), {"cookie": "sid=1; exp=new"}) == {"shop-b": 100}
    assert route(docs.values(), {"cookie": "exp=newer"}) == {"shop-a": 90, "shop-b": 10}


def test_linkerd_ab_test_sets_the_cookie_with_a_backend_filter_its_proxy_applies():
    """Linkerd's policy controller converts backendRef filters, ResponseHeaderModifier included, for the
    proxy (policy-controller/k8s/index/src/outbound/index/http.rs convert_gateway_backend_filter)."""
    docs = documents_by_kind(compile_spec_text(spec_text("linkerd", GATEWAY_AB)))
    assert docs[("HTTPRoute", "shop")]["apiVersion"] == "policy.linkerd.io/v1beta2"
    assert route(docs.values()) == {"shop-a": 90, "shop-b": 10}
    assert set_cookies(docs.values()) == {"shop-a": "exp=control; Max-Age=3600; Path=/",
                                          "shop-b": "exp=new; Max-Age=3600; Path=/"}
    assert route(docs.values(), {"cookie": "sid=1; exp=new"}) == {"shop-b": 100}


def test_gateway_api_routes_to_other_services_by_name_namespace_and_port():
    docs = documents_by_kind(compile_spec_text(spec_text("gateway-api", GATEWAY_GEO)))
    rules = docs[("HTTPRoute", "shop")]["spec"]["rules"]
    assert rules[0]["backendRefs"] == [{"group": "", "kind": "Service", "name": "shop-eu", "port": 8080}]
    assert rules[1]["backendRefs"] == [{"group": "", "kind": "Service", "name": "shop", "namespace": "us-east",
                                        "port": 80}]
    assert route(docs.values(), {"x-user-region": "us-east"}) == {"us-east/shop": 100}
    assert route(docs.values(), {}) == {"shop-v1": 100}


@pytest.mark.parametrize("mesh,body", [
    ("gateway-api", GATEWAY_BLUE_GREEN), ("linkerd", GATEWAY_BLUE_GREEN), ("istio", GATEWAY_BLUE_GREEN),
    ("gateway-api", GATEWAY_AB), ("istio", GATEWAY_AB),
    ("gateway-api", GATEWAY_GEO), ("linkerd", GATEWAY_GEO), ("istio", GATEWAY_GEO),
])
def test_every_pattern_on_every_mesh_passes_the_oracle(mesh, body, tmp_path: Path):
    require(CONFORM.exists(), ORACLE)
    docs = compile_spec_text(spec_text(mesh, body))
    for i, doc in enumerate(docs.values()):
        (tmp_path / f"{i}.yaml").write_text(yaml.safe_dump(doc))
    proc = subprocess.run([sys.executable, str(CONFORM), "--no-promtool", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- pure helpers ------------------------------------------------------------------------------

@pytest.mark.parametrize("host,expected", [
    ("api", ("api", "prod")),
    ("api-eu.prod.svc.cluster.local", ("api-eu", "prod")),
    ("api-eu.other.svc", ("api-eu", "other")),
    ("api.example.com", None),
    ("api-eu.prod", None),          # an ordinary DNS name outside the cluster's search path
    ("api.prod.svc.example.org", None),
])
def test_cluster_service_recognises_only_service_names(host, expected):
    found = cluster_service(host, "prod")
    assert (found and (found.name, found.namespace)) == (expected or None)


def _rule(*counts: int) -> Rule:
    return Rule("r", tuple(tuple(HeaderCondition(f"h{i}", "exact", "v") for i in range(n)) for n in counts) if any(counts) else (), ())


def test_httproute_precedence_keeps_order_only_when_header_counts_never_grow():
    assert precedence_keeps_order([_rule(1), _rule(1), _rule(0)])
    assert precedence_keeps_order([_rule(2), _rule(1), _rule(0)])
    assert not precedence_keeps_order([_rule(1), _rule(2)])
    assert not precedence_keeps_order([_rule(0), _rule(1)])
    assert not precedence_keeps_order([_rule(2, 1), _rule(2)])


def test_the_cookie_is_added_so_the_applications_own_set_cookie_survives():
    vs = compiled("frontend.yaml")[("VirtualService", "frontend")]
    split = vs["spec"]["http"][-1]["route"]
    assert [d["headers"]["response"] for d in split] == [
        {"add": {"Set-Cookie": "ab-test=a; Max-Age=86400; Path=/"}},
        {"add": {"Set-Cookie": "ab-test=b; Max-Age=86400; Path=/"}}]


def _warnings(text: str) -> list[str]:
    from generator.plan.checks import parse_spec

    return [f"{d.path}: {d.message}" for d in parse_spec(text.encode(), "spec.yaml").warnings]


def test_gateway_api_ab_test_warns_that_backend_filters_are_implementation_specific():
    (warning,) = _warnings(spec_text("gateway-api", GATEWAY_AB))
    assert warning.startswith("spec.abTest.cookie: the sticky cookie is set by a ResponseHeaderModifier filter on "
                              "each backendRef, which the Gateway API leaves implementation-specific")


def test_a_route_to_another_namespace_warns_about_the_reference_grant():
    assert _warnings(spec_text("gateway-api", GATEWAY_GEO)) == [
        "spec.routes[1].host: Service 'shop' is in namespace 'us-east': the HTTPRoute may only send requests there "
        "when a ReferenceGrant in 'us-east' allows HTTPRoutes from 'web'"]


def test_an_external_host_on_istio_warns_about_the_service_entry():
    body = GATEWAY_GEO.replace("shop.us-east.svc", "api.us-east.example.com")
    assert _warnings(spec_text("istio", body)) == [
        "spec.routes[1].host: 'api.us-east.example.com' is not a Service of the cluster: Istio routes only to hosts "
        "in its registry, so requests sent there fail unless a ServiceEntry declares it"]


def test_gateway_api_cookie_match_is_the_same_regex_as_istios_not_anchored_twice():
    gateway = documents_by_kind(compile_spec_text(spec_text("gateway-api", GATEWAY_AB)))
    istio = documents_by_kind(compile_spec_text(spec_text("istio", GATEWAY_AB)))
    ours = [h["value"] for r in gateway[("HTTPRoute", "shop")]["spec"]["rules"] for m in r.get("matches", ())
            for h in m["headers"] if h["name"] == "cookie"]
    theirs = [m["headers"]["cookie"]["regex"] for r in istio[("VirtualService", "shop")]["spec"]["http"]
              for m in r.get("match", ()) if "cookie" in m["headers"]]
    assert ours == theirs == [cookie_regex("exp", "control"), cookie_regex("exp", "new")]
