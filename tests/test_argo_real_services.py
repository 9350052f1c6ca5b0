"""`delivery: argo-rollouts` honours the fields of real services (ingress, further ports, timeout,
retries, fault injection, Deployment options, pod metadata, per-version pods, autoscaling): each is
written where the Rollout, its Services and routing objects carry it, or refused with the reason."""

from __future__ import annotations

import pytest

from argo_reading import istio_set_weight, plugin_config, plugin_weighted_rules, validate_rollout
from conftest import compile_spec_text
from generator.diagnostics import InvalidInput
from generator.plan.checks import parse_spec

HEAD = """\
apiVersion: rollgen/v1alpha1
kind: Rollout
metadata: {name: shop, namespace: shop}
spec:
  delivery: argo-rollouts
  mesh: MESH
"""
CANARY = """\
  workload: {image: shop, replicas: 2}
  versions: [{name: v1}, {name: v2}]
  canary: {stable: v1, canary: v2, steps: [10, 100], testers: {header: x-canary-user, exact: "true"}}
"""
PORTS = "    additionalPorts: [{name: metrics, port: 9090, appProtocol: http}]\n"


def spec(mesh: str, body: str, tail: str = CANARY) -> str:
    return HEAD.replace("MESH", mesh) + body + tail


def compiled(text: str) -> list[dict]:
    return list(compile_spec_text(text, "shop.yaml").values())


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def named(docs: list[dict], kind: str, name: str) -> dict:
    (found,) = [d for d in of_kind(docs, kind) if d["metadata"]["name"] == name]
    return found


def rollout_of(docs: list[dict]) -> dict:
    (found,) = of_kind(docs, "Rollout")
    return found


def accepted(docs: list[dict]) -> list[str]:
    return validate_rollout(rollout_of(docs), of_kind(docs, "Service"), of_kind(docs, "VirtualService"),
                            of_kind(docs, "DestinationRule"), of_kind(docs, "HTTPRoute"))


def refusals(text: str) -> list[tuple[str, str]]:
    try:
        parse_spec(text.encode(), "shop.yaml")
    except InvalidInput as exc:
        return [(d.path, d.message) for d in exc.diagnostics if d.severity == "error"]
    return []


def split(vs: dict) -> dict:
    (route,) = [r for r in vs["spec"]["http"] if r["name"] == "split"]
    return route


# --- timeout and retries -------------------------------------------------------------------------------


def test_istio_timeout_and_retries_are_on_the_split_route_and_survive_the_controllers_weights():
    docs = compiled(spec("istio", "  service:\n    port: 8080\n    timeout: 5s\n"
                                  "    retries: {attempts: 3, perTryTimeout: 1s, on: '5xx,reset'}\n"))
    vs = named(docs, "VirtualService", "shop")
    assert split(vs)["timeout"] == "5s"
    assert split(vs)["retries"] == {"attempts": 3, "perTryTimeout": "1s", "retryOn": "5xx,reset"}
    moved = split(istio_set_weight(rollout_of(docs), vs, 40))
    assert [d["weight"] for d in moved["route"]] == [60, 40]
    assert moved["timeout"] == "5s" and moved["retries"]["attempts"] == 3
    assert accepted(docs) == []


def test_gateway_api_timeout_is_the_request_timeout_of_the_weighted_rule_and_retries_are_refused():
    docs = compiled(spec("gateway-api", "  service:\n    port: 8080\n    timeout: 5s\n"))
    route = named(docs, "HTTPRoute", "shop")
    (weighted,) = [route["spec"]["rules"][i] for i in plugin_weighted_rules(rollout_of(docs), route)]
    assert weighted["timeouts"] == {"request": "5s"}
    refused = refusals(spec("gateway-api", "  service:\n    port: 8080\n    retries: {attempts: 3}\n"))
    assert [p for p, _ in refused] == ["spec.service.retries"]
    assert "no retry policy" in refused[0][1]


def test_linkerd_under_argo_reads_the_gateway_api_route_with_its_timeout_and_linkerds_retry_annotations():
    """Linkerd reads `retry.linkerd.io/*` on gateway.networking.k8s.io HTTPRoutes as on its own
    (policy-controller/k8s/index/src/outbound/index/http.rs convert_route: GatewayHttp → parse_http_retry),
    and the plugin only patches weights and its own rules, so the annotations stay."""
    docs = compiled(spec("linkerd", '  service:\n    port: 8080\n    timeout: 2s\n'
                                    '    retries: {attempts: 3, perTryTimeout: 1s, "on": 5xx}\n'))
    route = named(docs, "HTTPRoute", "shop")
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert {"request": "2s"} in [r.get("timeouts") for r in route["spec"]["rules"]]
    assert route["metadata"]["annotations"] == {"retry.linkerd.io/http": "5xx", "retry.linkerd.io/limit": "3",
                                                "retry.linkerd.io/timeout": "1s"}
    assert accepted(docs) == []
    refused = refusals(spec("linkerd", "  service:\n    port: 8080\n    retries: {attempts: 3}\n"))
    assert [p for p, _ in refused] == ["spec.service.retries"]  # Linkerd retries only the statuses `on` names
    assert "retry.linkerd.io/http" in refused[0][1]


# --- fault injection -------------------------------------------------------------------------------------


def test_an_istio_route_to_another_host_keeps_its_fault():
    routes = ("  routes:\n    - match: {header: end-user, exact: jason}\n      host: ratings-test.shop.svc.cluster.local\n"
              "      fault: {abort: {httpStatus: 500, percent: 100}}\n")
    docs = compiled(spec("istio", "  service: {port: 8080}\n", CANARY + routes))
    vs = named(docs, "VirtualService", "shop")
    (faulty,) = [r for r in vs["spec"]["http"] if "fault" in r]
    assert faulty["fault"] == {"abort": {"httpStatus": 500, "percentage": {"value": 100}}}
    assert "fault" not in split(vs)
    assert accepted(docs) == []


@pytest.mark.parametrize("mesh", ["gateway-api", "linkerd"])
def test_fault_injection_is_refused_on_httproute_meshes(mesh):
    routes = ("  routes:\n    - match: {header: end-user, exact: jason}\n      host: ratings-test.shop.svc.cluster.local\n"
              "      port: 9080\n      fault: {delay: {fixed: 7s, percent: 10}}\n")
    assert "spec.routes[0].fault" in [p for p, _ in refusals(spec(mesh, "  service: {port: 8080}\n", CANARY + routes))]


# --- additional ports --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mesh", ["istio", "gateway-api", "linkerd"])
def test_every_service_the_rollout_uses_and_its_container_carry_the_additional_ports(mesh):
    docs = compiled(spec(mesh, "  service:\n    port: 8080\n" + PORTS))
    services = of_kind(docs, "Service")
    assert len(services) == (1 if mesh == "istio" else 3)
    for service in services:
        assert [p["name"] for p in service["spec"]["ports"]] == ["http", "metrics"]
        assert service["spec"]["ports"][1] == {"name": "metrics", "port": 9090, "targetPort": 9090,
                                               "protocol": "TCP", "appProtocol": "http"}
    (container,) = rollout_of(docs)["spec"]["template"]["spec"]["containers"]
    assert [(p["name"], p["containerPort"]) for p in container["ports"]] == [("http", 8080), ("metrics", 9090)]
    assert accepted(docs) == []


def test_blue_green_services_carry_the_additional_ports():
    tail = "  workload: {image: shop}\n  versions: [{name: blue}, {name: green}]\n  blueGreen: {active: blue, preview: green}\n"
    docs = compiled(spec("istio", "  service:\n    port: 8080\n" + PORTS, tail))
    assert {s["metadata"]["name"] for s in of_kind(docs, "Service")} == {"shop", "shop-active", "shop-preview"}
    for service in of_kind(docs, "Service"):
        assert [p["port"] for p in service["spec"]["ports"]] == [8080, 9090]


# --- ingress -------------------------------------------------------------------------------------------------

INGRESS = "  ingress: {gateways: [istio-system/public-gateway], hosts: [shop.example.com]}\n"


def test_istio_ingress_lists_the_gateways_mesh_and_hosts_on_the_one_virtual_service_the_rollout_names():
    docs = compiled(spec("istio", "  service: {port: 8080}\n" + INGRESS))
    (vs,) = of_kind(docs, "VirtualService")
    assert vs["spec"]["gateways"] == ["istio-system/public-gateway", "mesh"]
    assert vs["spec"]["hosts"] == ["shop", "shop.example.com"]
    # a request entering at the gateway names no port: the destinations name the Service's
    assert {d["destination"]["port"]["number"] for d in split(vs)["route"]} == {8080}
    istio = rollout_of(docs)["spec"]["strategy"]["canary"]["trafficRouting"]["istio"]
    assert istio["virtualService"] == {"name": "shop", "routes": ["split"]}
    assert accepted(docs) == []


def test_istio_ingress_with_further_ports_has_the_controller_move_both_virtual_services():
    docs = compiled(spec("istio", "  service:\n    port: 8080\n" + PORTS + INGRESS))
    mesh, edge = named(docs, "VirtualService", "shop"), named(docs, "VirtualService", "shop-edge")
    assert "gateways" not in mesh["spec"] and edge["spec"]["gateways"] == ["istio-system/public-gateway"]
    assert edge["spec"]["hosts"] == ["shop.example.com"]
    rollout = rollout_of(docs)
    istio = rollout["spec"]["strategy"]["canary"]["trafficRouting"]["istio"]
    assert "virtualService" not in istio
    assert istio["virtualServices"] == [{"name": "shop", "routes": ["split"]}, {"name": "shop-edge", "routes": ["split"]}]
    for vs in (mesh, edge):
        assert [d["weight"] for d in split(istio_set_weight(rollout, vs, 30))["route"]] == [70, 30]
    assert accepted(docs) == []


def test_istio_ingress_without_the_mesh_routes_only_at_the_gateway():
    docs = compiled(spec("istio", "  service: {port: 8080}\n  ingress: {gateways: [istio-system/public-gateway], "
                                  "hosts: [shop.example.com], mesh: false}\n"))
    (vs,) = of_kind(docs, "VirtualService")
    assert vs["spec"]["gateways"] == ["istio-system/public-gateway"] and vs["spec"]["hosts"] == ["shop.example.com"]
    assert accepted(docs) == []


def test_gateway_api_ingress_adds_the_edge_route_and_the_plugin_moves_and_header_routes_both():
    text = spec("gateway-api", "  service: {port: 8080}\n  ingress: {gateways: ['infra/public:https'], "
                               "hosts: [shop.example.com]}\n")
    docs = compiled(text)
    edge = named(docs, "HTTPRoute", "shop-edge")
    assert edge["spec"]["parentRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "Gateway",
                                           "namespace": "infra", "name": "public", "sectionName": "https"}]
    assert edge["spec"]["hostnames"] == ["shop.example.com"]
    rollout = rollout_of(docs)
    config = plugin_config(rollout)
    assert config["httpRoutes"] == [{"name": "shop", "useHeaderRoutes": True}, {"name": "shop-edge", "useHeaderRoutes": True}]
    for route in of_kind(docs, "HTTPRoute"):
        assert len(plugin_weighted_rules(rollout, route)) == 1
    assert accepted(docs) == []
    warnings = parse_spec(text.encode(), "shop.yaml").warnings
    assert [(w.path, w.severity) for w in warnings] == [("spec.ingress.gateways[0]", "warning")]
    assert "allowedRoutes" in warnings[0].message


def test_gateway_api_ingress_without_the_mesh_is_the_edge_route_alone():
    docs = compiled(spec("gateway-api", "  service: {port: 8080}\n  ingress: {gateways: [shop/public], "
                                        "hosts: [shop.example.com], mesh: false}\n"))
    assert [r["metadata"]["name"] for r in of_kind(docs, "HTTPRoute")] == ["shop-edge"]
    assert plugin_config(rollout_of(docs))["httpRoutes"] == [{"name": "shop-edge", "useHeaderRoutes": True}]
    assert accepted(docs) == []


def test_linkerd_ingress_is_refused_as_with_manual_delivery():
    refused = refusals(spec("linkerd", "  service: {port: 8080}\n  ingress: {gateways: [shop/public], hosts: [a.b]}\n"))
    assert [p for p, _ in refused] == ["spec.ingress"]
    assert "mesh: gateway-api" in refused[0][1] or "gateway-api" in refused[0][1]


def test_the_argocd_rules_name_every_routing_object_the_controller_rewrites():
    from generator.plan.argo import argocd_ignore_differences, plan_argo

    loaded = parse_spec(spec("istio", "  service:\n    port: 8080\n" + PORTS + INGRESS).encode(), "shop.yaml")
    entries = argocd_ignore_differences(plan_argo(loaded.document, "shop.yaml"))["ignoreDifferences"]
    assert [(e["kind"], e["name"]) for e in entries] == [("VirtualService", "shop"), ("VirtualService", "shop-edge"),
                                                         ("DestinationRule", "shop")]
    loaded = parse_spec(spec("gateway-api", "  service: {port: 8080}\n  ingress: {gateways: [shop/public], "
                                            "hosts: [a.example.com]}\n").encode(), "shop.yaml")
    entries = argocd_ignore_differences(plan_argo(loaded.document, "shop.yaml"))["ignoreDifferences"]
    assert [(e["kind"], e["name"]) for e in entries] == [("HTTPRoute", "shop"), ("HTTPRoute", "shop-edge")]


# --- the workload --------------------------------------------------------------------------------------------


def test_deployment_options_the_rollout_has_are_written_on_the_rollout():
    text = spec("istio", "  service: {port: 8080}\n", CANARY.replace(
        "  workload: {image: shop, replicas: 2}\n",
        "  workload:\n    image: shop\n    replicas: 2\n    deployment: {minReadySeconds: 5, revisionHistoryLimit: 3, "
        "progressDeadlineSeconds: 60}\n"))
    rollout_spec = rollout_of(compiled(text))["spec"]
    assert (rollout_spec["minReadySeconds"], rollout_spec["revisionHistoryLimit"],
            rollout_spec["progressDeadlineSeconds"]) == (5, 3, 60)


@pytest.mark.parametrize("field,value,word", [
    ("strategy", "{rollingUpdate: {maxUnavailable: 1}}", "canary"),
    ("paused", "true", "kubectl argo rollouts"),
])
def test_deployment_options_the_rollout_does_not_have_or_the_controller_owns_are_refused(field, value, word):
    text = spec("istio", "  service: {port: 8080}\n", CANARY.replace(
        "  workload: {image: shop, replicas: 2}\n",
        f"  workload:\n    image: shop\n    deployment: {{{field}: {value}}}\n"))
    refused = refusals(text)
    assert [p for p, _ in refused] == [f"spec.workload.deployment.{field}"]
    assert word in refused[0][1]


def test_a_progress_deadline_within_min_ready_is_refused_as_the_controller_would():
    text = spec("istio", "  service: {port: 8080}\n", CANARY.replace(
        "  workload: {image: shop, replicas: 2}\n",
        "  workload:\n    image: shop\n    deployment: {minReadySeconds: 700}\n"))
    refused = refusals(text)
    assert [p for p, _ in refused] == ["spec.workload.deployment.minReadySeconds"]
    assert "600" in refused[0][1]


def test_pod_metadata_and_the_canary_versions_pod_make_the_rollouts_pod_template():
    tail = ("  workload:\n    image: shop\n    pod: {containers: [{name: shop, args: ['--base']}]}\n"
            "    podMetadata: {annotations: {prometheus.io/scrape: 'true'}, labels: {tier: web}}\n"
            "  versions:\n    - name: v1\n      pod: {containers: [{name: shop, args: ['--v1']}]}\n"
            "    - name: v2\n      pod: {containers: [{name: shop, args: ['--v2']}]}\n"
            "  canary: {stable: v1, canary: v2, steps: [50, 100]}\n")
    docs = compiled(spec("istio", "  service: {port: 8080}\n", tail))
    template = rollout_of(docs)["spec"]["template"]
    assert template["metadata"]["labels"]["tier"] == "web"
    assert template["metadata"]["labels"]["version"] == "v2" and template["metadata"]["labels"]["app"] == "shop"
    assert template["metadata"]["annotations"] == {"prometheus.io/scrape": "true"}
    (container,) = template["spec"]["containers"]
    assert container["args"] == ["--v2"]
    assert accepted(docs) == []


def test_pod_metadata_cannot_set_the_labels_the_services_and_queries_select_on():
    tail = CANARY.replace("  workload: {image: shop, replicas: 2}\n",
                          "  workload:\n    image: shop\n    podMetadata: {labels: {version: x}}\n")
    assert [p for p, _ in refusals(spec("istio", "  service: {port: 8080}\n", tail))] == \
        ["spec.workload.podMetadata.labels.version"]


def test_autoscaling_targets_the_rollout_which_then_leaves_its_replicas_to_the_autoscaler():
    tail = CANARY.replace("  workload: {image: shop, replicas: 2}\n",
                          "  workload:\n    image: shop\n    autoscaling: {min: 2, max: 6, cpu: 70}\n"
                          "    pod: {containers: [{name: shop, resources: {requests: {cpu: 100m}}}]}\n")
    docs = compiled(spec("istio", "  service: {port: 8080}\n", tail))
    (hpa,) = of_kind(docs, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "shop"}
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 6)
    rollout = rollout_of(docs)
    assert "replicas" not in rollout["spec"]
    steps = rollout["spec"]["strategy"]["canary"]["steps"]
    scales = [s["setCanaryScale"] for s in steps if "setCanaryScale" in s]
    # the testers' canary runs the autoscaler's minimum; from the first weight on it follows the weight
    assert scales == [{"replicas": 2}, {"matchTrafficWeight": True}]
    first_weight = next(i for i, s in enumerate(steps) if "setWeight" in s)
    assert steps[first_weight - 1] == {"setCanaryScale": {"matchTrafficWeight": True}}
    assert accepted(docs) == []


def test_autoscaling_and_a_versions_replicas_are_refused_together():
    tail = ("  workload:\n    image: shop\n    autoscaling: {min: 2, max: 6, cpu: 70}\n"
            "  versions: [{name: v1}, {name: v2, replicas: 3}]\n  canary: {stable: v1, canary: v2, steps: [50, 100]}\n")
    assert "spec.versions[1].replicas" in [p for p, _ in refusals(spec("istio", "  service: {port: 8080}\n", tail))]

