"""Specs for real services: ingress gateways, timeouts and retries, fault injection, more Service ports,
Deployment options and per-version pods, as compiled for each mesh (and for Flagger where it applies)."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, compile_spec_text, documents_by_kind
from generator.diagnostics import InvalidInput
from generator.output.emergency import emergency_manifests
from generator.plan.checks import parse_spec
from generator.plan.routed import build_routed_plan
from generator.views.routing import Request, route_request

CONFORM = ROOT.parent / "shared" / "tools" / "conform"
UPSTREAM = ROOT.parent / "shared" / "upstream-examples" / "istio" / "networking"

HEAD = """\
apiVersion: rollgen/v1alpha1
kind: Rollout
metadata: {name: shop, namespace: shop}
spec:
  mesh: MESH
"""
CANARY = """\
  workload: {image: shop}
  versions: [{name: v1}, {name: v2}]
  canary: {stable: v1, canary: v2, steps: [10, 100], position: 1, testers: {header: x-canary-user, exact: "true"}}
"""


def spec(mesh: str, body: str, tail: str = CANARY) -> str:
    return HEAD.replace("MESH", mesh) + body + tail


def docs_of(text: str) -> dict[tuple[str, str], dict]:
    return documents_by_kind(compile_spec_text(text))


EDGE = """\
  ingress: {gateways: [istio-system/public-gateway], hosts: [shop.example.com]}
  service: {port: 9898, timeout: 5s, retries: {attempts: 3, perTryTimeout: 1s, "on": "5xx,reset"}}
"""


def test_istio_ingress_lists_the_gateways_and_mesh_and_the_hosts_beside_the_service_host():
    vs = docs_of(spec("istio", EDGE))[("VirtualService", "shop")]["spec"]
    assert vs["hosts"] == ["shop", "shop.example.com"]
    assert vs["gateways"] == ["istio-system/public-gateway", "mesh"]
    for rule in vs["http"]:
        assert rule["timeout"] == "5s"
        assert rule["retries"] == {"attempts": 3, "perTryTimeout": "1s", "retryOn": "5xx,reset"}
        assert all(d["destination"]["port"] == {"number": 9898} for d in rule["route"])


def test_istio_ingress_without_mesh_serves_only_the_gateways():
    body = EDGE.replace("hosts: [shop.example.com]}", "hosts: [shop.example.com], mesh: false}")
    docs = docs_of(spec("istio", body))
    vs = docs[("VirtualService", "shop")]["spec"]
    assert (vs["hosts"], vs["gateways"]) == (["shop.example.com"], ["istio-system/public-gateway"])
    edge = route_request(docs.values(), Request(host="shop.example.com", gateway="istio-system/public-gateway"))
    assert edge.versions() == {"v1": Fraction(9, 10), "v2": Fraction(1, 10)}
    mesh = route_request(docs.values(), Request(host="shop.shop.svc.cluster.local"))
    assert mesh.router is None  # sidecar callers reach the Service as if there were no VirtualService


SEVERAL_PORTS = EDGE.replace("service: {port: 9898,", "service: {port: 9898, additionalPorts: [{name: metrics, port: 9090}],")


def test_istio_ingress_on_a_service_with_several_ports_keeps_the_mesh_route_apart():
    docs = docs_of(spec("istio", SEVERAL_PORTS))
    mesh = docs[("VirtualService", "shop")]["spec"]
    edge = docs[("VirtualService", "shop-edge")]["spec"]
    assert "gateways" not in mesh and mesh["hosts"] == ["shop"]
    # a sidecar caller keeps the port it called: no destination port in the mesh's route
    assert all("port" not in d["destination"] for rule in mesh["http"] for d in rule["route"])
    assert (edge["hosts"], edge["gateways"]) == (["shop.example.com"], ["istio-system/public-gateway"])
    assert all(d["destination"]["port"] == {"number": 9898} for rule in edge["http"] for d in rule["route"])
    for request in (Request(host="shop.example.com", gateway="istio-system/public-gateway"), Request()):
        assert route_request(docs.values(), request).versions() == {"v1": Fraction(9, 10), "v2": Fraction(1, 10)}
    service = docs[("Service", "shop")]["spec"]["ports"]
    assert [(p["name"], p["port"]) for p in service] == [("http", 9898), ("metrics", 9090)]


GATEWAY_EDGE = """\
  ingress: {gateways: ["infra/public:https", shop/internal], hosts: [shop.example.com]}
  service: {port: 8080, timeout: 10s, additionalPorts: [{name: metrics, port: 9090}]}
"""


def test_gateway_api_ingress_is_an_edge_route_beside_the_gamma_route():
    docs = docs_of(spec("gateway-api", GATEWAY_EDGE))
    gamma = docs[("HTTPRoute", "shop")]["spec"]
    edge = docs[("HTTPRoute", "shop-edge")]["spec"]
    assert gamma["parentRefs"] == [{"group": "", "kind": "Service", "name": "shop", "port": 8080}]
    assert "hostnames" not in gamma
    assert edge["parentRefs"] == [
        {"group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": "infra", "name": "public",
         "sectionName": "https"},
        {"group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": "shop", "name": "internal"}]
    assert edge["hostnames"] == ["shop.example.com"]
    assert gamma["rules"] == edge["rules"]
    assert all(rule["timeouts"] == {"request": "10s"} for rule in edge["rules"])
    testers = {"x-canary-user": "true"}
    for gateway in ("infra/public:https", "shop/internal"):
        assert route_request(docs.values(), Request(host="shop.example.com", gateway=gateway,
                                                    headers=testers)).versions() == {"v2": 1}
    assert route_request(docs.values(), Request(headers=testers)).versions() == {"v2": 1}
    # the GAMMA route is the Service's on 8080 only: its metrics port is not captured
    assert route_request(docs.values(), Request(port=9090)).router is None


def test_gateway_api_ingress_without_mesh_writes_only_the_edge_route():
    docs = docs_of(spec("gateway-api", GATEWAY_EDGE.replace("hosts: [shop.example.com]}",
                                                            "hosts: [shop.example.com], mesh: false}")))
    assert [k for k in docs if k[0] == "HTTPRoute"] == [("HTTPRoute", "shop-edge")]


def test_linkerd_timeouts_need_the_v1beta3_route():
    docs = docs_of(spec("linkerd", "  service: {port: 8080, timeout: 3s}\n"))
    route = docs[("HTTPRoute", "shop")]
    assert route["apiVersion"] == "policy.linkerd.io/v1beta3"
    assert all(rule["timeouts"] == {"request": "3s"} for rule in route["spec"]["rules"])
    plain = docs_of(spec("linkerd", "  service: {port: 8080}\n"))[("HTTPRoute", "shop")]
    assert plain["apiVersion"] == "policy.linkerd.io/v1beta2" and "timeouts" not in plain["spec"]["rules"][0]


LINKERD_RETRIES = '  service: {port: 8080, retries: {attempts: 3, perTryTimeout: 1s, "on": "5xx,gateway-error,429"}}\n'


def test_linkerd_retries_are_the_route_annotations_its_policy_controller_reads():
    """policy-controller/k8s/index/src/outbound/index/http.rs parse_http_retry: `retry.linkerd.io/limit`
    (retries, like Istio's attempts), `retry.linkerd.io/timeout` (each try) and `retry.linkerd.io/http`
    (comma-separated, no spaces: `5xx`, `gateway-error`, codes)."""
    route = docs_of(spec("linkerd", LINKERD_RETRIES))[("HTTPRoute", "shop")]
    assert route["metadata"]["annotations"] == {"retry.linkerd.io/http": "5xx,gateway-error,429",
                                                "retry.linkerd.io/limit": "3", "retry.linkerd.io/timeout": "1s"}
    assert all("retries" not in rule for rule in route["spec"]["rules"])


@pytest.mark.parametrize("retries,message", [
    ("{attempts: 2}", "spec.service.retries: linkerd retries only the HTTP statuses `retry.linkerd.io/http` names"),
    ('{attempts: 2, "on": "5xx,reset"}', "spec.service.retries.on: linkerd retries on HTTP statuses only: "
                                          "'reset' is not one"),
])
def test_linkerd_retries_need_statuses_it_can_read(retries, message):
    text = spec("linkerd", "  service: {port: 8080, retries: " + retries + "}\n")
    with pytest.raises(InvalidInput) as err:
        parse_spec(text.encode(), "shop.yaml")
    assert any(message in d.render() for d in err.value.diagnostics), [d.render() for d in err.value.diagnostics]


FAULTS = """\
  service: {port: 9080}
  routes:
    - match: {header: end-user, exact: jason}
      version: v1
      fault: {abort: {httpStatus: 500, percent: 100}}
    - match: {header: end-user, exact: alice}
      version: v1
      fault: {delay: {fixed: 7s, percent: 12.5}, abort: {httpStatus: 503, percent: 1}}
"""


def test_istio_fault_injection_is_written_on_the_route_it_belongs_to():
    http = docs_of(spec("istio", FAULTS))[("VirtualService", "shop")]["spec"]["http"]
    assert http[0]["fault"] == {"abort": {"httpStatus": 500, "percentage": {"value": 100}}}
    assert http[1]["fault"] == {"delay": {"fixedDelay": "7s", "percentage": {"value": 12.5}},
                                "abort": {"httpStatus": 503, "percentage": {"value": 1}}}
    assert all("fault" not in rule for rule in http[2:])


def upstream(name: str) -> dict:
    """One of Bookinfo's VirtualServices, applied in the examples' namespace."""
    doc = yaml.safe_load((UPSTREAM / name).read_text())
    doc["metadata"]["namespace"] = "bookinfo"
    return doc


def test_ratings_fault_injection_behaves_like_bookinfos_test_abort():
    ours = compile_spec_text((ROOT / "specs" / "ratings.yaml").read_text(), "specs/ratings.yaml").values()
    theirs = [upstream("virtual-service-ratings-test-abort.yaml")]
    theirs += [d for d in ours if d["kind"] != "VirtualService"]
    for headers in ({"end-user": "jason"}, {"end-user": "alice"}, {}):
        mine, ref = route_request(ours, Request(headers=headers)), route_request(theirs, Request(headers=headers))
        assert mine.versions() == ref.versions()
        assert (mine.fault or {}).get("abort", {}).get("httpStatus") == (ref.fault or {}).get("abort", {}).get("httpStatus")
        assert float(((mine.fault or {}).get("abort") or {}).get("percentage", {}).get("value", 0)) == \
            float(((ref.fault or {}).get("abort") or {}).get("percentage", {}).get("value", 0))
    assert route_request(ours, Request(headers={"end-user": "jason"})).fault["abort"]["httpStatus"] == 500


def reviews_at(position: int) -> list[dict]:
    text = (ROOT / "specs" / "reviews.yaml").read_text().replace("position: 1", f"position: {position}")
    return list(compile_spec_text(text, "specs/reviews.yaml").values())


@pytest.mark.parametrize("position,reference", [(1, "virtual-service-reviews-50-v3.yaml"),
                                                (2, "virtual-service-reviews-jason-v2-v3.yaml")])
def test_reviews_routes_every_user_like_bookinfos_samples(position, reference):
    ours = reviews_at(position)
    theirs = [upstream(reference)] + [d for d in ours if d["kind"] != "VirtualService"]
    users = [{"end-user": "jason"}, {}] if "jason" in reference else [{}]
    for headers in users:
        assert route_request(ours, Request(headers=headers)).versions() == \
            route_request(theirs, Request(headers=headers)).versions()


DEPLOYMENT = """\
  service: {port: 8080, additionalPorts: [{name: metrics, port: 9090, targetPort: 9100, appProtocol: http}]}
  workload:
    image: shop
    deployment: {minReadySeconds: 5, strategy: {rollingUpdate: {maxUnavailable: 1}}}
    podMetadata: {labels: {tier: web}, annotations: {prometheus.io/scrape: "true"}}
    pod:
      containers: [{name: shop, args: [--base], env: [{name: A, value: "1"}]}]
      volumes: [{name: tmp, emptyDir: {}}]
  versions:
    - {name: v1, pod: {containers: [{name: shop, args: [--v1]}]}}
    - {name: v2}
  default: v1
"""


def test_deployment_options_pod_metadata_and_version_pods_reach_every_deployment():
    docs = docs_of(spec("istio", DEPLOYMENT, ""))
    v1, v2 = docs[("Deployment", "shop-v1")]["spec"], docs[("Deployment", "shop-v2")]["spec"]
    for dep in (v1, v2):
        assert dep["minReadySeconds"] == 5 and dep["strategy"] == {"rollingUpdate": {"maxUnavailable": 1}}
        assert dep["template"]["metadata"]["labels"]["tier"] == "web"
        assert dep["template"]["metadata"]["annotations"] == {"prometheus.io/scrape": "true"}
        assert set(dep["selector"]["matchLabels"]) == {"app", "version"}
        container = dep["template"]["spec"]["containers"][0]
        assert container["ports"][1] == {"name": "metrics", "containerPort": 9100, "protocol": "TCP"}
        assert container["env"] == [{"name": "A", "value": "1"}]
        assert dep["template"]["spec"]["volumes"] == [{"name": "tmp", "emptyDir": {}}]
    assert v1["template"]["spec"]["containers"][0]["args"] == ["--v1"]  # the version's, over the workload's
    assert v2["template"]["spec"]["containers"][0]["args"] == ["--base"]
    assert v1["template"]["metadata"]["labels"]["version"] == "v1"
    service = docs[("Service", "shop")]["spec"]["ports"][1]
    assert service == {"name": "metrics", "port": 9090, "targetPort": 9100, "protocol": "TCP", "appProtocol": "http"}


FLAGGER = """\
apiVersion: rollgen/v1alpha1
kind: Rollout
metadata: {name: shop, namespace: shop}
spec:
  delivery: flagger
  mesh: istio
  service: {port: 8080, additionalPorts: [{name: metrics, port: 9090}]}
  workload:
    image: shop:1.0.0
    deployment: {minReadySeconds: 5}
    podMetadata: {annotations: {prometheus.io/scrape: "true"}}
  canary: {stepWeight: 10, maxWeight: 50}
  analysis: {interval: 1m, threshold: 5, successRate: {min: 99}}
"""


def test_flagger_gets_the_deployment_options_and_discovers_the_additional_ports():
    docs = docs_of(FLAGGER)
    dep = docs[("Deployment", "shop")]["spec"]
    assert dep["minReadySeconds"] == 5
    assert dep["template"]["metadata"]["annotations"] == {"prometheus.io/scrape": "true"}
    assert [p["containerPort"] for p in dep["template"]["spec"]["containers"][0]["ports"]] == [8080, 9090]
    assert docs[("Canary", "shop")]["spec"]["service"]["portDiscovery"] is True


def test_an_emergency_rollback_of_an_edge_rollout_restores_the_edge_route_too():
    loaded = parse_spec(spec("istio", EDGE).encode(), "spec.yaml")
    plan = build_routed_plan(loaded.document, loaded.source, emergency=True)
    assert plan.edge is not None and plan.edge.gateways == ("istio-system/public-gateway",)
    assert [r.name for r in plan.rules] == ["rollback"]
    docs = [d for d in yaml.safe_load_all(emergency_manifests(loaded)) if d]
    edge = route_request(docs, Request(host="shop.example.com", gateway="istio-system/public-gateway",
                                       headers={"x-canary-user": "true"}))
    assert edge.rule == "rollback" and [d.backend for d in edge.destinations] == ["shop/v1"]


@pytest.mark.parametrize("mesh,body", [
    ("istio", EDGE), ("istio", SEVERAL_PORTS), ("istio", FAULTS), ("gateway-api", GATEWAY_EDGE),
    ("linkerd", "  service: {port: 8080, timeout: 3s, additionalPorts: [{name: metrics, port: 9090}]}\n"),
    ("linkerd", LINKERD_RETRIES),
])
def test_real_service_options_pass_the_oracle(mesh, body, tmp_path: Path):
    if not CONFORM.exists():
        pytest.skip("the conformance oracle is not installed")
    for i, doc in enumerate(compile_spec_text(spec(mesh, body)).values()):
        (tmp_path / f"{i}.yaml").write_text(yaml.safe_dump(doc))
    proc = subprocess.run([sys.executable, str(CONFORM), "--no-promtool", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


AUTOSCALED = """\
  service: {port: 8080}
  workload:
    image: shop
    autoscaling: {min: 2, max: 6, cpu: 75}
    pod: {containers: [{name: shop, resources: {requests: {cpu: 100m}}}]}
"""


def test_manual_autoscaling_gives_every_version_its_own_autoscaler():
    docs = docs_of(spec("istio", AUTOSCALED, CANARY.replace("  workload: {image: shop}\n", "")))
    for version in ("v1", "v2"):
        dep = docs[("Deployment", f"shop-{version}")]["spec"]
        assert "replicas" not in dep  # the autoscaler holds the count: a GitOps sync must not reset it
        hpa = docs[("HorizontalPodAutoscaler", f"shop-{version}")]["spec"]
        assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"shop-{version}"}
        assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 6)
        assert hpa["metrics"] == [{"type": "ContainerResource", "containerResource": {
            "name": "cpu", "container": "shop", "target": {"type": "Utilization", "averageUtilization": 75}}}]


def findings(text: str):
    from generator.spec.rules import check_document

    return check_document(parse_spec(text.encode(), "spec.yaml").document)


@pytest.mark.parametrize("text", [
    spec("gateway-api", "  ingress: {gateways: [infra/public, shop/internal]}\n  service: {port: 8080}\n"),
    FLAGGER.replace("mesh: istio", "mesh: gateway-api").replace(
        "  service:", "  ingress: {gateways: [infra/public, shop/internal]}\n  service:"),
])
def test_a_gateway_in_another_namespace_warns_about_allowed_routes(text):
    warned = [f for f in findings(text) if "allowedRoutes" in f.message]
    assert [(f.path, f.severity) for f in warned] == [(("spec", "ingress", "gateways", 0), "warning")]


def test_plan_shows_the_edge_the_request_options_the_ports_and_the_autoscaler():
    from generator.views.text import routed_table

    text = spec("gateway-api", GATEWAY_EDGE + AUTOSCALED.replace("  service: {port: 8080}\n", ""),
                CANARY.replace("  workload: {image: shop}\n", ""))
    table = routed_table(parse_spec(text.encode(), "spec.yaml").document, "spec.yaml")
    assert "  at the edge: shop.example.com through infra/public:https, shop/internal\n" in table
    assert "  in the mesh: callers of shop:8080\n" in table
    assert "  every request: timeout 10s\n" in table
    assert "  replicas: 2-6 per version, autoscaled at 75% of shop's CPU request\n" in table
    assert "  ports: http 8080 (routed), metrics 9090 (not routed)\n" in table
