"""The routing evaluator: each upstream matching rule on small hand-written objects, then every example's
generated output, then the routing case files and their runner."""

from __future__ import annotations

import copy
import json
import re
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from conftest import ARGO_EXAMPLES, MANUAL_EXAMPLES, OUTPUT, ROOT, SPECS
from generator.app import compile_at, rollout_positions
from generator.diagnostics import InvalidInput
from generator.plan.checks import read_spec
from generator.views.routecases import cases_path, load_cases, read_cases, render_failures, run_cases, spec_path, unevaluated
from generator.views.routing import (NO_ENDPOINTS, Request, RoutingError, evaluate, explain, route_request, to_json)
from routing import route

ROUTES = SPECS


# --- small objects -------------------------------------------------------------------------------

def meta(kind: str, name: str, namespace: str = "shop", api: str = "v1", **extra) -> dict:
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": namespace, **extra}}


def service(name: str, selector: dict, namespace: str = "shop") -> dict:
    return {**meta("Service", name, namespace), "spec": {"selector": selector, "ports": [{"port": 80}]}}


def deployment(name: str, labels: dict, replicas: int = 1, namespace: str = "shop") -> dict:
    return {**meta("Deployment", name, namespace, "apps/v1"),
            "spec": {"replicas": replicas, "template": {"metadata": {"labels": labels}}}}


CLUSTER = [
    service("web", {"app": "web"}),
    service("web-v1", {"app": "web", "version": "v1"}),
    service("web-v2", {"app": "web", "version": "v2"}),
    deployment("web-v1", {"app": "web", "version": "v1"}, replicas=3),
    deployment("web-v2", {"app": "web", "version": "v2"}, replicas=1),
    {**meta("DestinationRule", "web", api="networking.istio.io/v1"),
     "spec": {"host": "web", "subsets": [{"name": "v1", "labels": {"version": "v1"}},
                                          {"name": "v2", "labels": {"version": "v2"}}]}},
]


def vs(http: list[dict], hosts=("web",), gateways=None, name="web") -> dict:
    spec = {"hosts": list(hosts), "http": http}
    if gateways is not None:
        spec["gateways"] = gateways
    return {**meta("VirtualService", name, api="networking.istio.io/v1"), "spec": spec}


def to(subset: str, weight: int | None = None, **extra) -> dict:
    out = {"destination": {"host": "web", "subset": subset}, **extra}
    if weight is not None:
        out["weight"] = weight
    return out


def httproute(rules: list[dict], parents=None, hostnames=None, name="web", api="gateway.networking.k8s.io/v1",
              **metadata) -> dict:
    spec = {"parentRefs": parents or [{"group": "", "kind": "Service", "name": "web", "port": 80}], "rules": rules}
    if hostnames is not None:
        spec["hostnames"] = hostnames
    return {**meta("HTTPRoute", name, api=api, **metadata), "spec": spec}


def ref(name: str, weight: int | None = None, **extra) -> dict:
    out = {"group": "", "kind": "Service", "name": name, "port": 80, **extra}
    if weight is not None:
        out["weight"] = weight
    return out


def go(docs, **request):
    return route_request([*docs, *CLUSTER], Request(**request))


# --- Istio -----------------------------------------------------------------------------------------

def test_istio_takes_the_first_matching_route_even_when_a_later_one_matches_more():
    doc = vs([{"name": "header", "match": [{"headers": {"x-user": {"exact": "a"}}}], "route": [to("v2")]},
              {"name": "both", "match": [{"headers": {"x-user": {"exact": "a"}, "x-b": {"exact": "1"}}}],
               "route": [to("v1")]}])
    result = go([doc], headers={"X-User": "a", "x-b": "1"})
    assert (result.rule, result.rule_path, result.versions()) == ("header", "spec.http[0]", {"v2": 1})


@pytest.mark.parametrize("match,headers,hit", [
    ({"exact": "beta"}, {"x-g": "beta"}, True),
    ({"exact": "beta"}, {"x-g": "beta-1"}, False),
    ({"prefix": "beta-"}, {"x-g": "beta-1"}, True),
    ({"prefix": "beta-"}, {"x-g": "xbeta-1"}, False),
    ({"regex": "beta-[0-9]"}, {"x-g": "beta-1"}, True),
    ({"regex": "beta-[0-9]"}, {"x-g": "xbeta-1"}, False),    # RE2 matches the whole value (Envoy)
    ({"regex": "beta-[0-9]"}, {"x-g": "beta-12"}, False),
    ({"exact": "beta"}, {}, False),                           # an absent header matches nothing
])
def test_istio_header_matches_are_exact_prefix_or_whole_value_re2(match, headers, hit):
    doc = vs([{"name": "m", "match": [{"headers": {"x-g": match}}], "route": [to("v2")]},
              {"name": "rest", "route": [to("v1")]}])
    assert go([doc], headers=headers).rule == ("m" if hit else "rest")


def test_istio_match_alternatives_are_ored_and_fields_anded():
    doc = vs([{"name": "m", "match": [{"uri": {"prefix": "/api"}, "method": {"exact": "POST"}},
                                      {"headers": {"x-debug": {"exact": "1"}}}], "route": [to("v2")]},
              {"name": "rest", "route": [to("v1")]}])
    assert go([doc], path="/api/x", method="POST").rule == "m"
    assert go([doc], path="/api/x", method="GET").rule == "rest"
    assert go([doc], path="/other", headers={"x-debug": "1"}).rule == "m"


def test_istio_without_headers_and_ignore_uri_case():
    doc = vs([{"name": "m", "match": [{"uri": {"prefix": "/API"}, "ignoreUriCase": True,
                                       "withoutHeaders": {"x-internal": {}}}], "route": [to("v2")]},
              {"name": "rest", "route": [to("v1")]}])
    assert go([doc], path="/api/items").rule == "m"
    assert go([doc], path="/api/items", headers={"x-internal": "yes"}).rule == "rest"


def test_istio_weights_split_and_follow_subsets_to_the_versions_pods():
    doc = vs([{"name": "split", "route": [to("v1", 90), to("v2", 10)]}])
    result = go([doc])
    assert [(d.backend, d.weight, d.share) for d in result.destinations] == [
        ("web/v1", 90, Fraction(9, 10)), ("web/v2", 10, Fraction(1, 10))]
    assert result.versions() == {"v1": Fraction(9, 10), "v2": Fraction(1, 10)}


def test_istio_a_host_without_subset_balances_across_every_pod_by_replicas():
    doc = vs([{"route": [{"destination": {"host": "web.shop.svc.cluster.local"}}]}])
    result = go([doc])
    assert result.rule == "rule 1" and not result.rule_named
    assert result.versions() == {"v1": Fraction(3, 4), "v2": Fraction(1, 4)}


def test_istio_an_undefined_subset_has_no_endpoints():
    doc = vs([{"route": [to("v3")]}])
    assert go([doc]).versions() == {NO_ENDPOINTS: 1}


def test_istio_mirrors_are_reported_with_their_percentage():
    doc = vs([{"name": "live", "route": [to("v1")], "mirror": {"host": "web", "subset": "v2"},
               "mirrorPercentage": {"value": 12.5}}])
    (mirror,) = go([doc]).mirrors
    assert (mirror.backend, mirror.percent, mirror.versions) == ("web/v2", Fraction(25, 2), {"v2": 1})
    doc = vs([{"route": [to("v1")], "mirrors": [{"destination": {"host": "web", "subset": "v2"},
                                                 "percentage": {"value": 10}},
                                                {"destination": {"host": "audit.tools.svc.cluster.local"}}]}])
    assert [(m.backend, m.percent) for m in go([doc]).mirrors] == [
        ("web/v2", 10), ("audit.tools.svc.cluster.local", 100)]
    assert "mirrored: a copy of 10% of these requests goes to web/v2 (version v2)" in explain(go([doc]))


def test_istio_response_headers_set_cookies_and_faults_are_reported():
    doc = vs([{"name": "assign", "headers": {"response": {"set": {"x-served-by": "mesh"}}},
               "fault": {"abort": {"httpStatus": 503, "percentage": {"value": 1}}},
               "route": [to("v1", 50, headers={"response": {"add": {"Set-Cookie": "exp=a"}}}),
                         to("v2", 50, headers={"response": {"add": {"Set-Cookie": "exp=b"}}})]}])
    result = go([doc])
    assert result.set_cookies() == {"web/v1": "exp=a", "web/v2": "exp=b"}
    assert result.destinations[0].response_headers == {"x-served-by": "mesh", "Set-Cookie": "exp=a"}
    assert result.fault == {"abort": {"httpStatus": 503, "percentage": {"value": 1}}}
    text = explain(result)
    assert "from web/v1: Set-Cookie: exp=a" in text and "fault injected" in text


def test_istio_no_matching_route_reaches_nothing():
    doc = vs([{"match": [{"headers": {"x-a": {"exact": "1"}}}], "route": [to("v2")]}])
    result = go([doc])
    assert not result.routed and result.rule is None
    assert explain(result).startswith("reaches nothing (VirtualService shop/web): no route")


EDGE = vs([{"name": "edge-only", "match": [{"gateways": ["istio-system/public"]}], "route": [to("v2")]},
           {"name": "everyone", "route": [to("v1")]}],
          hosts=["shop.example.com", "web"], gateways=["istio-system/public", "mesh"], name="edge")


def test_istio_gateways_and_hosts_select_the_virtual_service():
    gateway_only = vs([{"name": "gw", "route": [to("v2")]}], hosts=["shop.example.com"],
                      gateways=["istio-system/public"], name="gw")
    mesh_only = vs([{"name": "mesh", "route": [to("v1")]}])
    docs = [gateway_only, mesh_only]
    assert go(docs).rule == "mesh"
    assert go(docs, host="web.shop.svc.cluster.local").rule == "mesh"
    assert go(docs, host="shop.example.com", gateway="istio-system/public").rule == "gw"
    assert not go(docs, host="other.example.com", gateway="istio-system/public").routed
    assert not go(docs, host="shop.example.com", gateway="istio-system/private").routed


def test_istio_gateways_inside_a_match_narrow_a_route_to_one_entry():
    assert go([EDGE], host="shop.example.com", gateway="istio-system/public:https").rule == "edge-only"
    assert go([EDGE], host="web").rule == "everyone"


def test_a_mesh_request_to_an_unrouted_service_reaches_its_pods():
    result = go([], host="web-v2")
    assert result.router is None and result.versions() == {"v2": 1}
    assert "the Service balances across its pods" in result.why[-1]


def test_a_request_without_a_host_needs_exactly_one_routed_service():
    with pytest.raises(RoutingError, match="route 2 hosts"):
        go([vs([{"route": [to("v1")]}]), vs([{"route": [to("v1")]}], hosts=["api"], name="api")])
    with pytest.raises(RoutingError, match="NAMESPACE/NAME"):
        go([EDGE], gateway="public")


# --- Gateway API -----------------------------------------------------------------------------------

def test_gateway_api_weights_default_to_one_and_versions_follow_the_service_selector():
    doc = httproute([{"backendRefs": [ref("web-v1"), ref("web-v2", 3)]}])
    result = go([doc])
    assert [(d.backend, d.weight, d.share) for d in result.destinations] == [
        ("web-v1", None, Fraction(1, 4)), ("web-v2", 3, Fraction(3, 4))]
    assert result.versions() == {"v1": Fraction(1, 4), "v2": Fraction(3, 4)}
    assert (result.rule, result.rule_path) == ("rule 1", "spec.rules[0]")


@pytest.mark.parametrize("request_kwargs,winner", [
    ({"path": "/cart"}, "exact"),                  # an Exact path beats every prefix
    ({"path": "/cart/items"}, "long-prefix"),      # then the longest prefix
    ({"path": "/cartography"}, "catch-all"),       # /cart is no prefix of it (element-wise), a regex ranks last
    ({"path": "/x", "method": "POST"}, "method"),  # a method match beats header matches
    ({"path": "/x", "headers": {"a": "1", "b": "2"}}, "two-headers"),
    ({"path": "/x?q=1", "headers": {"a": "1"}}, "header-and-query"),  # same headers: more query matches
    ({"path": "/x", "headers": {"a": "1"}}, "one-header"),             # ties: the rule first in order
])
def test_gateway_api_precedence_across_rules(request_kwargs, winner):
    rules = [
        {"name": "catch-all", "backendRefs": [ref("web-v1")]},
        {"name": "one-header", "matches": [{"headers": [{"name": "a", "value": "1"}]}], "backendRefs": [ref("web-v1")]},
        {"name": "one-header-too", "matches": [{"headers": [{"name": "a", "value": "1"}]}], "backendRefs": [ref("web-v1")]},
        {"name": "header-and-query", "matches": [{"headers": [{"name": "a", "value": "1"}],
                                                   "queryParams": [{"name": "q", "value": "1"}]}],
         "backendRefs": [ref("web-v1")]},
        {"name": "two-headers", "matches": [{"headers": [{"name": "a", "value": "1"}, {"name": "B", "value": "2"}]}],
         "backendRefs": [ref("web-v1")]},
        {"name": "method", "matches": [{"method": "POST"}, {"path": {"type": "RegularExpression", "value": "/cart.+"}}],
         "backendRefs": [ref("web-v2")]},
        {"name": "long-prefix", "matches": [{"path": {"type": "PathPrefix", "value": "/cart/"}}], "backendRefs": [ref("web-v2")]},
        {"name": "short-prefix", "matches": [{"path": {"type": "PathPrefix", "value": "/cart"}}], "backendRefs": [ref("web-v2")]},
        {"name": "exact", "matches": [{"path": {"type": "Exact", "value": "/cart"}}], "backendRefs": [ref("web-v2")]},
    ]
    assert go([httproute(rules)], **request_kwargs).rule == winner


def test_gateway_api_ties_between_routes_go_to_the_oldest():
    young = httproute([{"name": "young", "backendRefs": [ref("web-v2")]}], name="a-young",
                      creationTimestamp="2026-02-01T00:00:00Z")
    old = httproute([{"name": "old", "backendRefs": [ref("web-v1")]}], name="b-old",
                    creationTimestamp="2026-01-01T00:00:00Z")
    assert go([young, old]).rule == "old"


def test_gateway_api_regex_header_match_is_whole_value_re2():
    doc = httproute([{"name": "beta", "matches": [{"headers": [{"type": "RegularExpression", "name": "x-g",
                                                               "value": "beta-.*"}]}], "backendRefs": [ref("web-v2")]},
                     {"name": "rest", "backendRefs": [ref("web-v1")]}])
    assert go([doc], headers={"x-g": "beta-1"}).rule == "beta"
    assert go([doc], headers={"x-g": "xbeta-1"}).rule == "rest"


GATEWAY_PARENT = [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": "infra", "name": "public",
                   "sectionName": "https"}]


def test_gateway_api_parents_and_hostnames_select_the_route():
    edge = httproute([{"name": "edge", "backendRefs": [ref("web-v2")]}], parents=GATEWAY_PARENT,
                     hostnames=["*.example.com"], name="edge")
    mesh = httproute([{"name": "mesh", "backendRefs": [ref("web-v1")]}])
    docs = [edge, mesh]
    assert go(docs).rule == "mesh"
    assert go(docs, host="shop.example.com", gateway="infra/public:https").rule == "edge"
    assert go(docs, host="shop.example.com", gateway="infra/public").rule == "edge"
    assert not go(docs, host="shop.example.com", gateway="infra/public:http").routed   # another listener
    assert not go(docs, host="example.com", gateway="infra/public").routed             # * needs a label
    assert not go(docs, host="shop.example.org", gateway="infra/public").routed


def test_gateway_api_an_exact_hostname_takes_precedence_over_a_wildcard():
    wildcard = httproute([{"name": "wildcard", "backendRefs": [ref("web-v1")]}], parents=GATEWAY_PARENT,
                         hostnames=["*.example.com"], name="a-wildcard")
    exact = httproute([{"name": "exact", "backendRefs": [ref("web-v2")]}], parents=GATEWAY_PARENT,
                      hostnames=["shop.example.com"], name="b-exact")
    assert go([wildcard, exact], host="shop.example.com", gateway="infra/public").rule == "exact"
    assert go([wildcard, exact], host="cart.example.com", gateway="infra/public").rule == "wildcard"


def test_gateway_api_service_parent_port_must_match_when_both_name_one():
    doc = httproute([{"backendRefs": [ref("web-v2")]}])
    assert go([doc], port=80).versions() == {"v2": 1}
    assert go([doc], port=8080).versions() == {"v1": Fraction(3, 4), "v2": Fraction(1, 4)}  # the bare Service


def test_gateway_api_request_mirror_percent_and_fraction_and_response_headers():
    doc = httproute([{"name": "live", "filters": [
        {"type": "RequestMirror", "requestMirror": {"backendRef": ref("web-v2"), "percent": 10}},
        {"type": "RequestMirror", "requestMirror": {"backendRef": ref("web-v2"),
                                                    "fraction": {"numerator": 1, "denominator": 3}}},
        {"type": "ResponseHeaderModifier", "responseHeaderModifier": {"add": [{"name": "Set-Cookie", "value": "c=1"}]}}],
        "backendRefs": [ref("web-v1")]}])
    result = go([doc])
    assert [(m.backend, m.percent) for m in result.mirrors] == [("web-v2", 10), ("web-v2", Fraction(100, 3))]
    assert result.set_cookies() == {"web-v1": "c=1"}
    assert result.versions() == {"v1": 1}


def test_gateway_api_rule_without_backends_answers_500():
    doc = httproute([{"name": "off", "backendRefs": [ref("web-v1", 0)]}])
    result = go([doc])
    assert not result.routed and "500" in result.why[-1]


def test_linkerd_httproute_matches_like_the_gateway_api():
    rules = [{"matches": [{"headers": [{"name": "x-v", "value": "2"}]}], "backendRefs": [ref("web-v2")]},
             {"backendRefs": [ref("web-v1")]}]
    doc = httproute(rules, parents=[{"group": "core", "kind": "Service", "name": "web", "port": 80}],
                    api="policy.linkerd.io/v1beta2")
    result = go([doc], headers={"x-v": "2"})
    assert (result.mesh, result.rule, result.versions()) == ("linkerd", "rule 1", {"v2": 1})
    assert go([doc]).rule == "rule 2"


def test_evaluate_refuses_what_is_not_a_routing_object():
    with pytest.raises(RoutingError, match="not a routing object"):
        evaluate(CLUSTER[0])


# --- rendering -------------------------------------------------------------------------------------

def test_explain_names_the_version_the_rule_and_the_split():
    doc = vs([{"name": "split", "route": [to("v1", 90), to("v2", 10)]}])
    assert explain(go([doc])) == (
        "reaches versions v1 (90%), v2 (10%) (VirtualService shop/web, rule 'split' (spec.http[0]))\n"
        "  split: web/v1 90% (weight 90) -> version v1, web/v2 10% (weight 10) -> version v2")
    doc = httproute([{"backendRefs": [ref("web-v2")]}])
    assert explain(go([doc])) == "reaches version v2 through web-v2 (HTTPRoute shop/web, rule 1 (spec.rules[0]))"


def test_explain_names_a_host_outside_the_rollout():
    doc = vs([{"name": "eu", "route": [{"destination": {"host": "web.eu.svc.cluster.local"}}]}])
    assert explain(go([doc])) == "reaches host web.eu.svc.cluster.local (VirtualService shop/web, rule 'eu' (spec.http[0]))"
    assert go([doc]).hosts() == {"web.eu.svc.cluster.local": 1}


def test_json_form_is_json_with_exact_shares():
    doc = vs([{"name": "split", "route": [to("v1", 2), to("v2", 1)]}])
    data = json.loads(json.dumps(to_json(go([doc], cookies={"a": "1"}))))
    assert data["rule"] == "split" and data["versions"]["v2"]["share"] == "1/3"
    assert data["request"]["cookies"] == {"a": "1"} and data["why"]


# --- every example's generated output --------------------------------------------------------------

def output_documents(spec: str) -> list[dict]:
    """The documents of one example in output/, found by the spec named in their headers."""
    out = []
    for path in sorted(OUTPUT.rglob("*.yaml")):
        text = path.read_text()
        if f"from specs/{spec}." in text.splitlines()[0]:
            out.extend(d for d in yaml.safe_load_all(text) if d)
    return out


def current_position(spec: str) -> int | None:
    found = re.search(r"^\s+position: (\d+)", (SPECS / spec).read_text(), re.M)
    return int(found.group(1)) if found else None


MESH_REQUESTS = [{}, {"x-canary-user": "true"}, {"x-user-group": "beta-1"}, {"cookie": "ab-test=b"},
                 {"x-version": "green"}, {"x-user-region": "us-east"}, {"user-agent": "iPhone"}]


@pytest.mark.parametrize("spec", MANUAL_EXAMPLES)
def test_every_example_routes_mesh_requests_and_the_tests_routing_table_agrees(spec):
    docs = output_documents(spec)
    for headers in MESH_REQUESTS:
        result = route_request(docs, Request(headers=headers))
        assert result.routed, (spec, headers, result.why)
        assert result.router and result.rule
        assert {d.backend: d.share for d in result.destinations if d.share} == {
            b: Fraction(w, sum(route(docs, headers).values())) for b, w in route(docs, headers).items() if w}
        assert sum(result.versions().values()) == 1


@pytest.mark.parametrize("spec", MANUAL_EXAMPLES)
def test_every_example_case_file_holds_against_the_committed_output(spec):
    cases = read_cases(ROUTES / spec.replace(".yaml", ".routes.yaml"), f"specs/{spec.replace('.yaml', '.routes.yaml')}")
    position = current_position(spec)
    outcomes = run_cases(cases, {position: output_documents(spec)})
    assert outcomes and all(o.passed for o in outcomes), render_failures(outcomes)


@pytest.mark.parametrize("spec", [s for s in MANUAL_EXAMPLES if current_position(s) is not None])
def test_every_canary_example_case_file_holds_at_every_position(spec):
    loaded = read_spec(SPECS / spec, ROOT)
    positions = rollout_positions(loaded)
    cases = read_cases(ROUTES / spec.replace(".yaml", ".routes.yaml"))
    outcomes = run_cases(cases, dict(zip(positions, compile_at([(loaded, p) for p in positions]))), positions)
    assert all(o.passed for o in outcomes), render_failures(outcomes)
    assert not unevaluated(cases, positions)
    assert {o.position for o in outcomes} == set(positions)


def test_edge_requests_reach_nothing_where_the_gateway_routing_is_flaggers():
    # The ingress example is delivered by Flagger: it writes the VirtualService for shop.example.com at
    # runtime, so the generated output holds no routing object for an edge request.
    docs = output_documents("flagger-canary-istio-ingress")
    assert any(d["kind"] == "Canary" for d in docs)
    result = route_request(docs, Request(host="shop.example.com", gateway="istio-system/public-gateway"))
    assert not result.routed and result.why[-1] == "no routing object applies to the request"


def ingress_of(spec: str) -> tuple[list[str], list[str]] | None:
    """(gateways, hosts) of an example's `ingress`, None without one."""
    ingress = yaml.safe_load((SPECS / spec).read_text())["spec"].get("ingress")
    return None if ingress is None else (ingress["gateways"], ingress.get("hosts") or [])


INGRESS_EXAMPLES = [s for s in MANUAL_EXAMPLES if ingress_of(s) is not None]


def test_the_ingress_examples_cover_istio_and_the_gateway_api():
    meshes = {yaml.safe_load((SPECS / s).read_text())["spec"]["mesh"] for s in INGRESS_EXAMPLES}
    assert meshes == {"istio", "gateway-api"}


@pytest.mark.parametrize("spec", [s for s in MANUAL_EXAMPLES if s not in INGRESS_EXAMPLES])
def test_no_example_without_ingress_is_reachable_through_a_gateway(spec):
    result = route_request(output_documents(spec), Request(host="shop.example.com", gateway="istio-system/public-gateway"))
    assert not result.routed


@pytest.mark.parametrize("spec", INGRESS_EXAMPLES)
def test_every_ingress_example_routes_edge_and_mesh_requests_alike_at_every_position(spec):
    gateways, hosts = ingress_of(spec)
    loaded = read_spec(SPECS / spec, ROOT)
    positions = rollout_positions(loaded)
    for position, docs in zip(positions, compile_at([(loaded, p) for p in positions])):
        for headers in MESH_REQUESTS:
            mesh = route_request(docs, Request(headers=headers))
            assert mesh.routed, (spec, headers, mesh.why)
            for gateway in gateways:
                for host in hosts:
                    edge = route_request(docs, Request(host=host, gateway=gateway, headers=headers))
                    assert edge.routed, (spec, gateway, host, edge.why)
                    assert edge.versions() == mesh.versions() and edge.rule == mesh.rule, (spec, position, headers)
        # other hosts, and gateways the spec does not name, reach nothing
        assert not route_request(docs, Request(host="elsewhere.example.com", gateway=gateways[0])).routed
        assert not route_request(docs, Request(host=hosts[0], gateway="istio-system/other-gateway")).routed


def test_swapping_two_generated_rules_fails_the_case_that_proves_them():
    docs = copy.deepcopy(output_documents("frontend.yaml"))
    vs_doc = next(d for d in docs if d["kind"] == "VirtualService")
    http = vs_doc["spec"]["http"]
    http[0], http[2] = http[2], http[0]
    outcomes = run_cases(read_cases(ROUTES / "frontend.routes.yaml", "specs/frontend.routes.yaml"), {None: docs})
    failed = render_failures(outcomes).splitlines()
    assert any(line.startswith("specs/frontend.routes.yaml:7:5: case \"a visitor holding variant a's cookie stays "
                               "on variant a\": expected version variant-a for every request through rule "
                               "'sticky-variant-a', got versions variant-a 50%, variant-b 50% through rule 'assign'")
               for line in failed)


def test_a_case_names_the_fault_it_expects_and_a_lost_fault_fails_it():
    docs = output_documents("ratings.yaml")
    cases = read_cases(ROUTES / "ratings.routes.yaml", "specs/ratings.routes.yaml")
    assert all(o.passed for o in run_cases(cases, {None: docs})), render_failures(run_cases(cases, {None: docs}))
    vs_doc = next(d for d in copy.deepcopy(docs) if d["kind"] == "VirtualService")
    vs_doc["spec"]["http"][0]["fault"]["abort"]["percentage"] = {"value": 10}
    others = [d for d in docs if d["kind"] != "VirtualService"]
    failed = render_failures(run_cases(cases, {None: [*others, vs_doc]})).splitlines()
    assert failed[0] == ("specs/ratings.routes.yaml:6:5: case \"jason's requests go through the fault-injection "
                         "route\": expected version v1 for every request through rule 'route-0', aborting 100% with "
                         "HTTP 500, got versions v1 100% through rule 'route-0', aborting 10% with HTTP 500 "
                         "(VirtualService bookinfo/ratings)")


def test_a_fault_expectation_is_checked_like_the_spec_writes_faults():
    assert errors(HEAD + """\
  - name: one
    expect: {version: v1, fault: {abort: {httpStatus: 700}, slow: 1}}
""") == [
        "specs/x.routes.yaml:5:55: cases[0].expect.fault.abort.httpStatus: must be an HTTP status from 200 to 599, "
        "got 700",
        "specs/x.routes.yaml:5:61: cases[0].expect.fault.slow: unknown field 'slow'\n"
        "  hint: a fault expectation has: abort, delay",
    ]


# --- the case file ---------------------------------------------------------------------------------

def test_case_files_sit_beside_their_spec():
    assert cases_path(Path("specs/backend.yaml")) == Path("specs/backend.routes.yaml")
    assert spec_path(Path("specs/backend.routes.yaml")) == Path("specs/backend.yaml")


def test_case_file_for_every_manual_and_argo_example():
    assert sorted(p.name.replace(".routes", "") for p in ROUTES.glob("*.routes.yaml")) == \
        sorted(MANUAL_EXAMPLES + ARGO_EXAMPLES)


def errors(text: str) -> list[str]:
    with pytest.raises(InvalidInput) as exc:
        load_cases(text.encode(), "specs/x.routes.yaml")
    return [d.render() for d in sorted(exc.value.diagnostics)]


HEAD = "apiVersion: rollgen/v1alpha1\nkind: RouteTests\ncases:\n"


def test_case_file_errors_are_located_with_hints_and_all_reported():
    assert errors(HEAD + """\
  - name: one
    request:
      headers: {x-canary-user: true}
      methd: GET
    expect: {version: v2, share: 150}
  - name: one
    positions: [1, -1]
    expect: {versions: {v1: 90, v2: 20}}
  - name: three
    request: {path: cart, gateway: public}
    expect: {version: v1, host: x}
  - name: four
""") == [
        "specs/x.routes.yaml:6:32: cases[0].request.headers.x-canary-user: must be a string, got True\n"
        "  hint: quote it: x-canary-user: \"true\"",
        "specs/x.routes.yaml:7:7: cases[0].request.methd: unknown field 'methd'\n  hint: did you mean 'method'?",
        "specs/x.routes.yaml:8:34: cases[0].expect.share: must be a percentage from 0 to 100, got 150\n"
        "  hint: write the share of requests as a number, e.g. 10 for 10%",
        "specs/x.routes.yaml:9:11: cases[1].name: case name 'one' is already used by cases[0]\n"
        "  hint: give each case its own name: a failure is reported by name",
        "specs/x.routes.yaml:10:20: cases[1].positions[1]: must be a position (a whole number from 0), got -1",
        "specs/x.routes.yaml:11:24: cases[1].expect.versions: the percentages add up to 110%, not 100%\n"
        "  hint: list every version the requests reach, with its share",
        "specs/x.routes.yaml:13:21: cases[2].request.path: must start with '/', got 'cart'\n  hint: write /cart",
        "specs/x.routes.yaml:13:36: cases[2].request.gateway: must be NAMESPACE/NAME[:SECTION], got 'public'\n"
        "  hint: e.g. istio-system/public-gateway; leave it out for a request from inside the mesh",
        "specs/x.routes.yaml:14:13: cases[2].expect: must name exactly one of version, versions, host (got version, host)\n"
        "  hint: version: the version every request reaches (with share: for some of them); versions: the whole "
        "split; host: a backend outside the rollout",
        "specs/x.routes.yaml:15:5: cases[3]: a case needs `expect`: where its request must go\n"
        "  hint: e.g. expect: {version: v2}",
    ]


def test_case_file_must_say_what_it_is():
    assert errors("apiVersion: rollgen/v1alpha1\nkind: Rollout\ncases: []\n") == [
        "specs/x.routes.yaml:2:7: kind: must be RouteTests, got 'Rollout'\n"
        "  hint: a routing case file holds kind RouteTests; a spec is kind Rollout",
        "specs/x.routes.yaml:3:8: cases: must be a non-empty list of cases, got a list\n"
        "  hint: each case: {name, request, expect} and optionally positions",
    ]
    assert errors("cases: [\n") [0].startswith("specs/x.routes.yaml:")  # malformed YAML, located by yamlio


def test_a_loaded_case_carries_its_request_and_expectation():
    (case,) = load_cases((HEAD + """\
  - name: beta users on the edge
    request: {host: shop.example.com, gateway: "istio-system/public:https", path: /cart?x=1, method: POST,
              headers: {x-user-group: beta-1}, cookies: {sid: "42"}}
    positions: [2, 3]
    expect: {version: v2, share: 12.5, rule: testers}
""").encode(), "c.yaml").cases
    assert case.request == Request(host="shop.example.com", gateway="istio-system/public:https", path="/cart?x=1",
                                   method="POST", headers={"x-user-group": "beta-1"}, cookies={"sid": "42"})
    assert case.positions == (2, 3) and (case.line, case.column) == (4, 5)
    assert (case.expect.version, case.expect.share, case.expect.rule) == ("v2", Fraction(1, 8), "testers")
