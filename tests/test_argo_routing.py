"""`rollgen route` / `rollgen test` under Argo Rollouts: the routing objects are evaluated as the
controller leaves them at each step. The model (generator.views.argo_routing) is checked against
objects written by hand from the Go source of Argo Rollouts v1.9.1 (rollout/trafficrouting/istio/
istio.go, its istio_test.go cases) and the Gateway API plugin v0.15.0 (pkg/plugin/httproute.go)."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import ARGO_EXAMPLES, OUTPUT, ROOT, SPECS, run_cli
from generator.app import routing_documents, rollout_positions
from generator.plan.checks import read_spec
from generator.views.argo_routing import (ControllerModelError, controller_documents, istio_remove_managed_routes,
                                          istio_set_header_route, istio_set_mirror_route, istio_set_weight,
                                          plugin_remove_managed_routes, plugin_set_header_route, plugin_set_weight,
                                          positions)
from generator.views.routing import Request, route_request


def _rollout(canary: dict) -> dict:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web", "version": "v2"}}},
                     "strategy": {"canary": canary}}}


# The rollout and objects of istio_test.go TestHttpReconcileHeaderRouteSubsetBased / ...MirrorRouteSubset
SUBSET_ROLLOUT = _rollout({"trafficRouting": {
    "managedRoutes": [{"name": "test-mirror-1"}, {"name": "test-header-route"}],
    "istio": {"virtualService": {"name": "vsvc"},
              "destinationRule": {"name": "istio-destrule", "stableSubsetName": "stable-subset",
                                  "canarySubsetName": "canary-subset"}}}})
SUBSET_DR = {"apiVersion": "networking.istio.io/v1alpha3", "kind": "DestinationRule",
             "metadata": {"name": "istio-destrule", "namespace": "default"},
             "spec": {"host": "rollout-service", "subsets": [{"name": "stable-subset"}, {"name": "canary-subset"}]}}
SINGLE_ROUTE_SUBSET_VS = {  # istio_test.go:551-570 singleRouteSubsetVsvc
    "apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService",
    "metadata": {"name": "vsvc", "namespace": "default"},
    "spec": {"gateways": ["istio-rollout-gateway"], "hosts": ["istio-rollout.dev.argoproj.io"], "http": [
        {"route": [{"destination": {"host": "rollout-service", "subset": "stable-subset"}, "weight": 100},
                   {"destination": {"host": "rollout-service", "subset": "canary-subset"}, "weight": 0}]}]}}


def test_istio_header_route_goes_to_the_destination_rule_host_and_canary_subset():
    """istio.go:782-825, createHeaderRoute :896-916, routeDestination :936-951 (TestHttpReconcileHeaderRouteSubsetBased)."""
    step = {"name": "test-header-route", "match": [{"headerName": "agent", "headerValue": {"regex": "firefox"}}]}
    after = istio_set_header_route(SUBSET_ROLLOUT, SINGLE_ROUTE_SUBSET_VS, step, SUBSET_DR)
    assert after["spec"]["http"] == [
        {"name": "test-header-route", "match": [{"headers": {"agent": {"regex": "firefox"}}}],
         "route": [{"weight": 100, "destination": {"host": "rollout-service", "subset": "canary-subset"}}]},
        SINGLE_ROUTE_SUBSET_VS["spec"]["http"][0]]
    assert SINGLE_ROUTE_SUBSET_VS["spec"]["http"][0]["route"][0]["weight"] == 100  # the input is not mutated
    # without match the route is removed (istio.go:797-804); so does RemoveManagedRoutes (:1557-1620)
    assert istio_set_header_route(SUBSET_ROLLOUT, after, {"name": "test-header-route"}, SUBSET_DR) == SINGLE_ROUTE_SUBSET_VS
    assert istio_remove_managed_routes(SUBSET_ROLLOUT, after) == SINGLE_ROUTE_SUBSET_VS


def test_istio_header_route_copies_the_port_of_the_weighted_routes_first_destination():
    """getVirtualServiceCanaryPort istio.go:1533-1552; with canaryService and no DestinationRule the host is the Service."""
    rollout = _rollout({"canaryService": "canary", "stableService": "stable", "trafficRouting": {
        "managedRoutes": [{"name": "h"}], "istio": {"virtualService": {"name": "vsvc", "routes": ["primary"]}}}})
    vs = {"kind": "VirtualService", "metadata": {"name": "vsvc"}, "spec": {"http": [
        {"name": "primary", "route": [{"destination": {"host": "stable", "port": {"number": 8080}}, "weight": 100},
                                      {"destination": {"host": "canary", "port": {"number": 8080}}, "weight": 0}]}]}}
    step = {"name": "h", "match": [{"headerName": "x-beta", "headerValue": {"prefix": "yes"}}]}
    assert istio_set_header_route(rollout, vs, step)["spec"]["http"][0] == {
        "name": "h", "match": [{"headers": {"x-beta": {"prefix": "yes"}}}],
        "route": [{"weight": 100, "destination": {"host": "canary", "port": {"number": 8080}}}]}


def test_istio_mirror_route_copies_the_weighted_route_and_mirrors_to_the_canary_subset():
    """createMirrorRoute istio.go:1329-1378 (TestHttpReconcileMirrorRouteSubset): the weighted route's
    destinations as they are (a 0 weight left out: `weight,omitempty`), the mirror to the canary subset,
    mirrorPercentage 100 by default; inserted first."""
    step = {"name": "test-mirror-1", "match": [{"method": {"exact": "GET"}}]}
    after = istio_set_mirror_route(SUBSET_ROLLOUT, SINGLE_ROUTE_SUBSET_VS, step, SUBSET_DR)
    assert after["spec"]["http"] == [
        {"name": "test-mirror-1", "match": [{"method": {"exact": "GET"}}],
         "route": [{"destination": {"host": "rollout-service", "subset": "stable-subset"}, "weight": 100},
                   {"destination": {"host": "rollout-service", "subset": "canary-subset"}}],
         "mirror": {"host": "rollout-service", "subset": "canary-subset"}, "mirrorPercentage": {"value": 100}},
        SINGLE_ROUTE_SUBSET_VS["spec"]["http"][0]]
    assert istio_remove_managed_routes(SUBSET_ROLLOUT, after) == SINGLE_ROUTE_SUBSET_VS


def test_istio_managed_routes_come_first_in_managed_routes_order():
    """orderRoutes istio.go:1429-1527: a header route set after the mirror route still follows it,
    because managedRoutes lists the mirror first; unmanaged routes keep their order after them."""
    vs = copy.deepcopy(SINGLE_ROUTE_SUBSET_VS)
    vs["spec"]["http"].insert(0, {"name": "region", "match": [{"headers": {"x-region": {"exact": "eu"}}}],
                                  "route": [{"destination": {"host": "web-eu"}}]})
    vs["spec"]["http"][1]["name"] = "split"
    rollout = copy.deepcopy(SUBSET_ROLLOUT)
    rollout["spec"]["strategy"]["canary"]["trafficRouting"]["istio"]["virtualService"]["routes"] = ["split"]
    header = {"name": "test-header-route", "match": [{"headerName": "x-canary", "headerValue": {"exact": "1"}}]}
    mirror = {"name": "test-mirror-1", "match": [{"path": {"prefix": "/"}}], "percentage": 10}
    after = istio_set_header_route(rollout, istio_set_mirror_route(rollout, vs, mirror, SUBSET_DR), header, SUBSET_DR)
    assert [r.get("name") for r in after["spec"]["http"]] == ["test-mirror-1", "test-header-route", "region", "split"]
    assert after["spec"]["http"][0]["match"] == [{"uri": {"prefix": "/"}}]
    assert after["spec"]["http"][0]["mirrorPercentage"] == {"value": 10}
    weighted = istio_set_weight(rollout, after, 30)
    assert [d["weight"] for d in weighted["spec"]["http"][3]["route"]] == [70, 30]
    # SetWeight rewrites only the routes named in virtualService.routes: the mirror route keeps its copy
    assert weighted["spec"]["http"][0]["route"] == after["spec"]["http"][0]["route"]


PLUGIN_ROLLOUT = _rollout({"canaryService": "web-canary", "stableService": "web-stable", "trafficRouting": {
    "managedRoutes": [{"name": "testers"}],
    "plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "web", "namespace": "default"}}}})
HTTPROUTE = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
             "metadata": {"name": "web", "namespace": "default"},
             "spec": {"parentRefs": [{"group": "", "kind": "Service", "name": "web", "port": 80}], "rules": [
                 {"matches": [{"headers": [{"name": "x-region", "value": "eu"}]}],
                  "backendRefs": [{"name": "web-eu", "port": 80}]},
                 {"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}],
                  "filters": [{"type": "RequestHeaderModifier", "requestHeaderModifier": {"set": [{"name": "x-api", "value": "1"}]}}],
                  "backendRefs": [{"name": "web-stable", "port": 80, "weight": 100}, {"name": "web-canary", "port": 80, "weight": 0}]},
                 {"backendRefs": [{"name": "web-stable", "port": 80, "weight": 100}, {"name": "web-canary", "port": 80, "weight": 0}]}]}}


def test_plugin_header_route_adds_one_rule_per_weighted_rule():
    """setHTTPHeaderRoute httproute.go:75-194: rules `testers`, `testers-1` with the source rule's
    matches plus the header (prefix → RegularExpression `<prefix>.*`, :234-261), its filters, one
    backendRef {group "", kind Service, canaryService, port}; appended after the existing rules."""
    step = {"name": "testers", "match": [{"headerName": "x-canary", "headerValue": {"prefix": "internal-"}}]}
    after = plugin_set_header_route(PLUGIN_ROLLOUT, HTTPROUTE, step)
    header = {"name": "x-canary", "type": "RegularExpression", "value": "internal-.*"}
    canary = {"group": "", "kind": "Service", "name": "web-canary", "port": 80}
    assert after["spec"]["rules"][3:] == [
        {"name": "testers", "matches": [{"path": {"type": "PathPrefix", "value": "/api"}, "headers": [header]}],
         "filters": HTTPROUTE["spec"]["rules"][1]["filters"], "backendRefs": [canary]},
        {"name": "testers-1", "matches": [{"headers": [header]}], "backendRefs": [canary]}]
    assert after["spec"]["rules"][:3] == HTTPROUTE["spec"]["rules"]
    assert plugin_set_header_route(PLUGIN_ROLLOUT, after, step) == after  # upsert, not a second copy
    assert plugin_remove_managed_routes(PLUGIN_ROLLOUT, after) == HTTPROUTE
    assert plugin_set_header_route(PLUGIN_ROLLOUT, after, {"name": "testers"}) == HTTPROUTE  # :76-78


def test_plugin_weights_every_rule_naming_the_services_and_skips_its_own_rules():
    """setHTTPRouteWeight httproute.go:15-73; an error when no rule holds both Services (:52-54)."""
    step = {"name": "testers", "match": [{"headerName": "x-canary", "headerValue": {"exact": "1"}}]}
    after = plugin_set_weight(PLUGIN_ROLLOUT, plugin_set_header_route(PLUGIN_ROLLOUT, HTTPROUTE, step), 30)
    assert [[r.get("weight") for r in rule["backendRefs"]] for rule in after["spec"]["rules"]] == [
        [None], [70, 30], [70, 30], [None], [None]]
    assert after["metadata"]["labels"]["rollouts.argoproj.io/gatewayapi-canary"] == "in-progress"
    with pytest.raises(ControllerModelError, match="backendRef was not found"):
        plugin_set_weight(PLUGIN_ROLLOUT, {"metadata": {"name": "web"}, "spec": {"rules": [HTTPROUTE["spec"]["rules"][0]]}}, 10)


# --- the replay over the generated examples ---------------------------------------------------------------

def output_of(name: str) -> list[dict]:
    spec = read_spec(SPECS / name, ROOT).document
    folder = OUTPUT / spec.metadata.namespace / spec.metadata.name
    return [d for p in sorted(folder.glob("*.yaml")) if p.name != "kustomization.yaml"
            for d in yaml.safe_load_all(p.read_text()) if d]


def _get(docs: list[dict], kind: str, name: str | None = None) -> list[dict]:
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def test_the_positions_of_a_canary_are_as_installed_each_routing_step_and_promoted():
    rollout = _get(output_of("argo-canary-istio.yaml"), "Rollout")[0]
    assert [(p.number, p.step, p.describe()) for p in positions(rollout)] == [
        (0, None, "as installed: the routing objects as Git holds them, before the first step"),
        (1, 1, "step 2 of 11 of the Rollout: setHeaderRoute testers"),
        (2, 3, "step 4 of 11 of the Rollout: setWeight 10"),
        (3, 5, "step 6 of 11 of the Rollout: setWeight 25"),
        (4, 7, "step 8 of 11 of the Rollout: setWeight 50"),
        (5, 9, "step 10 of 11 of the Rollout: setWeight 100"),
        (6, None, "promoted: every step done, the new version is the stable one and the controller's managed routes are removed")]
    assert rollout_positions(read_spec(SPECS / "argo-canary-istio.yaml", ROOT)) == [0, 1, 2, 3, 4, 5, 6]
    assert rollout_positions(read_spec(SPECS / "argo-blue-green.yaml", ROOT)) == [0, 1]


def test_the_istio_example_at_the_first_weight_is_what_the_controller_writes():
    git = output_of("argo-canary-istio.yaml")
    live = controller_documents(git, 2, "v1")
    (vs,) = _get(live, "VirtualService")
    assert vs["spec"]["http"] == [
        {"name": "testers", "match": [{"headers": {"x-canary-user": {"exact": "true"}}}],
         "route": [{"weight": 100, "destination": {"host": "argo-checkout", "subset": "canary"}}]},
        _get(git, "VirtualService")[0]["spec"]["http"][0],
        {"name": "split", "route": [{"destination": {"host": "argo-checkout", "subset": "stable"}, "weight": 90},
                                    {"destination": {"host": "argo-checkout", "subset": "canary"}, "weight": 10}]}]
    (dr,) = _get(live, "DestinationRule")
    assert dr["spec"]["subsets"] == [{"name": "stable", "labels": {"app": "argo-checkout", "rollouts-pod-template-hash": "v1"}},
                                     {"name": "canary", "labels": {"app": "argo-checkout", "rollouts-pod-template-hash": "v2"}}]
    assert dr["metadata"]["annotations"] == {"argo-rollouts.argoproj.io/managed-by-rollouts": "argo-checkout"}
    # the stable ReplicaSet keeps spec.replicas; the canary the setCanaryScale replicas (3)
    assert {rs["spec"]["template"]["metadata"]["labels"]["version"]: rs["spec"]["replicas"]
            for rs in _get(live, "ReplicaSet")} == {"v1": 3, "v2": 3}
    assert _get(git, "ReplicaSet") == [] and git == output_of("argo-canary-istio.yaml")  # nothing mutated


def test_the_plugin_example_at_a_weight_rewrites_the_rule_and_points_the_services():
    live = controller_documents(output_of("argo-canary-gateway-api.yaml"), 1, "v1")
    (route,) = _get(live, "HTTPRoute")
    assert [(r["name"], r["weight"]) for r in route["spec"]["rules"][0]["backendRefs"]] == [
        ("argo-cart-stable", 80), ("argo-cart-canary", 20)]
    assert "labels" not in route["metadata"] or "rollouts.argoproj.io/gatewayapi-canary" not in route["metadata"]["labels"]
    assert _get(live, "Service", "argo-cart-stable")[0]["spec"]["selector"]["rollouts-pod-template-hash"] == "v1"
    assert _get(live, "Service", "argo-cart-canary")[0]["spec"]["selector"]["rollouts-pod-template-hash"] == "v2"
    assert "rollouts-pod-template-hash" not in _get(live, "Service", "argo-cart")[0]["spec"]["selector"]
    # the stable ReplicaSet keeps spec.replicas (2), the canary gets ceil(20 × 2 / 100)
    assert {rs["spec"]["template"]["metadata"]["labels"]["version"]: rs["spec"]["replicas"]
            for rs in _get(live, "ReplicaSet")} == {"v1": 2, "v2": 1}


def test_a_header_route_without_canary_pods_is_dropped_by_the_controller():
    """trafficrouting.go:222-233: with no available canary pod the controller removes managed routes;
    a setHeaderRoute step before any weight and without setCanaryScale leaves testers on stable."""
    docs = output_of("argo-canary-istio.yaml")
    rollout = _get(docs, "Rollout")[0]
    steps = rollout["spec"]["strategy"]["canary"]["steps"]
    assert "setCanaryScale" in steps[0]
    del steps[0]
    testers = Request(headers={"x-canary-user": "true"})
    assert route_request(controller_documents(docs, 1, "v1"), testers).versions() == {"v1": 1}
    # with a weight the canary has pods, and the route the step set stays until it is removed
    assert route_request(controller_documents(docs, 2, "v1"), testers).rule == "split"


def test_a_mirror_route_keeps_the_weights_of_the_moment_it_was_set():
    """SetWeight rewrites only the routes named in virtualService.routes (istio.go:955-981), so a
    catch-all mirror route set at weight 0 keeps sending every live request to stable after later
    setWeight steps, until it is removed."""
    docs = output_of("argo-canary-istio.yaml")
    rollout = _get(docs, "Rollout")[0]
    canary = rollout["spec"]["strategy"]["canary"]
    canary["trafficRouting"]["managedRoutes"].insert(0, {"name": "shadow"})
    canary["steps"].insert(0, {"setMirrorRoute": {"name": "shadow", "match": [{"path": {"prefix": "/"}}], "percentage": 10}})
    live = controller_documents(docs, 3, "v1")  # setWeight 10
    result = route_request(live, Request())
    assert (result.rule, result.versions()) == ("shadow", {"v1": 1})
    assert [(m.percent, dict(m.versions)) for m in result.mirrors] == [(10, {"v2": 1})]
    canary["steps"].insert(6, {"setMirrorRoute": {"name": "shadow"}})  # removed before setWeight 25
    result = route_request(controller_documents(docs, 5, "v1"), Request())
    assert result.rule == "split" and result.versions() == {"v1": 0.75, "v2": 0.25}


def test_blue_green_switches_the_active_service_at_promotion():
    git = output_of("argo-blue-green.yaml")
    before, after = controller_documents(git, 0, "blue"), controller_documents(git, 1, "blue")
    assert route_request(before, Request()).versions() == {"blue": 1}
    assert route_request(after, Request()).versions() == {"green": 1}
    preview = Request(headers={"x-version": "green"})
    assert route_request(before, preview).versions() == route_request(after, preview).versions() == {"green": 1}


@pytest.mark.parametrize("name", ARGO_EXAMPLES)
def test_every_position_of_the_argo_examples_routes_every_mesh_request(name):
    loaded = read_spec(SPECS / name, ROOT)
    docs = routing_documents([(loaded, rollout_positions(loaded))], OUTPUT)[0]
    for position, found in docs.items():
        assert found.origin == OUTPUT.as_posix() + "/" and found.controller
        result = route_request(found.documents, Request())
        assert result.routed and sum(result.versions().values()) == 1, (name, position, result.why)


# --- the commands -------------------------------------------------------------------------------------------

def test_route_says_testers_reach_the_canary_from_their_step_on():
    result = run_cli("route", "specs/argo-canary-istio.yaml", "--header", "x-canary-user=true", "--position", "2", cwd=ROOT)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "specs/argo-canary-istio.yaml, position 2 of 6 (output/)",
        "the Argo Rollouts controller owns these objects; position 2: step 4 of 11 of the Rollout: setWeight 10",
        "  evaluated as the controller leaves them: DestinationRule argo-checkout, VirtualService argo-checkout "
        "rewritten from Git",
        "reaches version v2 through argo-checkout/canary (VirtualService shop/argo-checkout, rule 'testers' (spec.http[0]))"]


def test_route_without_a_position_evaluates_the_objects_as_installed():
    result = run_cli("route", "specs/argo-canary-istio.yaml", "--header", "x-canary-user=true", "--format", "json", cwd=ROOT)
    doc = json.loads(result.stdout)
    assert (doc["position"], doc["rule"], doc["versions"]) == (0, "split", {"v1": {"share": "1", "percent": 100.0}})
    assert doc["controller"]["position"] == "as installed: the routing objects as Git holds them, before the first step"


def test_route_help_explains_the_argo_positions():
    out = run_cli("route", "--help", cwd=ROOT).stdout
    assert "Position 0 is as installed" in " ".join(out.split())


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(SPECS, tmp_path / "specs")
    shutil.copytree(OUTPUT, tmp_path / "output")
    return tmp_path


def test_rollgen_test_names_the_broken_case_when_the_weighted_route_is_moved_first_by_hand(project: Path):
    path = project / "output/shop/argo-checkout/virtualservice-argo-checkout.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["spec"]["http"].reverse()
    path.write_text(path.read_text().splitlines(keepends=True)[0] + yaml.safe_dump(doc, sort_keys=False))
    result = run_cli("test", "specs/argo-canary-istio.yaml", cwd=project)
    assert result.exit_code == 1
    assert ("specs/argo-canary-istio.routes.yaml:41:5: case 'the region route stays unmanaged at every position' "
            "at position 0: expected host checkout-eu-west.shop.svc.cluster.local for every request through rule "
            "'route-0', got versions v1 100% through rule 'split' (VirtualService shop/argo-checkout)") \
        in result.stdout.splitlines()


def test_rollgen_test_refuses_a_position_the_rollout_does_not_have(project: Path):
    path = project / "specs/argo-blue-green.routes.yaml"
    path.write_text(path.read_text().replace("positions: [1]", "positions: [2]"))
    result = run_cli("test", "specs/argo-blue-green.yaml", cwd=project)
    assert result.exit_code == 1
    assert ("case 'promoted, the active Service runs the new version' names position 2, which "
            "specs/argo-blue-green.yaml does not have") in result.stderr
    assert ("hint: its positions are 0 to 1 (the Rollout's steps that change routing: "
            "`rollgen plan specs/argo-blue-green.yaml` lists them)") in result.stderr


def test_plan_lists_the_positions_route_and_test_use():
    text = run_cli("plan", "specs/argo-canary-istio.yaml", cwd=ROOT).stdout.splitlines()
    start = text.index("positions (rollgen route --position, rollgen test), the routing as the controller leaves it:")
    assert text[start + 1:start + 3] == [
        "  0. as installed: the routing objects as Git holds them, before the first step",
        "  1. step 2 of 11 of the Rollout: setHeaderRoute testers"]
    doc = json.loads(run_cli("plan", "specs/argo-blue-green.yaml", "--format", "json", cwd=ROOT).stdout)
    assert [(p["position"], p["step"]) for p in doc["plan"]["positions"]] == [(0, None), (1, None)]
