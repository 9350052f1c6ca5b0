"""Which queries Flagger runs for each check of each example Canary, read the way Flagger's scheduler
and observer factory read them (tests/flagger_reading.py), not the way rollgen meant them."""

from __future__ import annotations

import pytest
import yaml

from conftest import FLAGGER_EXAMPLES, PLATFORM_EXAMPLES, SPECS, compile_spec_text, documents_by_kind
from flagger_reading import checks_run, metrics_provider, observer

# The meshProvider of each example Platform (the Flagger controller of that mesh).
CONTROLLERS = sorted({yaml.safe_load((SPECS / p).read_text())["spec"]["flagger"]["meshProvider"]
                      for p in PLATFORM_EXAMPLES})

ISTIO_BUILTINS = {"request-success-rate": [("builtin", "istio", ["istio_requests_total"])],
                  "request-duration": [("builtin", "istio", ["istio_request_duration_milliseconds_bucket"])]}
ACCOUNTS_TEMPLATES = {"success-rate": [("template", "accounts-success-rate", ["response_total"])],
                      "latency": [("template", "accounts-latency", ["response_latency_ms_bucket"])],
                      "request-rate": [("template", "accounts-request-rate", ["response_total"])]}



def templates(name: str, requests: str, latency: str) -> dict:
    return {"success-rate": [("template", f"{name}-success-rate", [requests])],
            "latency": [("template", f"{name}-latency", [latency])]}


# example → controller meshProvider → check → the queries Flagger runs for it.
EXPECTED = {
    "flagger-canary-istio.yaml": {"istio": ISTIO_BUILTINS},
    "flagger-ab-test.yaml": {"istio": {"request-success-rate": ISTIO_BUILTINS["request-success-rate"]}},
    "flagger-blue-green.yaml": {"istio": {"request-success-rate": ISTIO_BUILTINS["request-success-rate"]}},
    # Linkerd's default provider is gatewayapi:v1 (the `linkerd` provider's SMI TrafficSplit needs
    # linkerd-smi): templates on Linkerd's metrics, whichever controller runs it.
    "flagger-canary-linkerd.yaml": {c: templates("backend", "response_total", "response_latency_ms_bucket")
                                    for c in ("istio", "linkerd")},
    # reporter: source, which Flagger's Istio builtins (reporter="destination") cannot count.
    "flagger-canary-istio-ingress.yaml": {"istio": templates("storefront", "istio_requests_total",
                                                             "istio_request_duration_milliseconds_bucket")},
    # the kubernetes provider's builtin is the HTTP observer; the spec's app metrics are templates.
    "flagger-blue-green-kubernetes.yaml": {c: templates("podinfo", "http_requests_total",
                                                        "http_request_duration_seconds_bucket")
                                           for c in ("istio", "linkerd")},
    # gatewayapi:v1 on Linkerd: the builtin would be the HTTP observer under an Istio controller and
    # Linkerd's under a Linkerd one; the checks carry names of their own, so only the templates run.
    "flagger-canary-gateway-api.yaml": {"istio": ACCOUNTS_TEMPLATES, "linkerd": ACCOUNTS_TEMPLATES},
}

SERIES_OF_SOURCE = {"istio": {"istio_requests_total", "istio_request_duration_milliseconds_bucket"},
                    "linkerd": {"response_total", "response_latency_ms_bucket"},
                    "app": {"http_requests_total", "http_request_duration_seconds_bucket"}}


def canary_and_templates(name: str) -> tuple[dict, dict[str, dict]]:
    docs = documents_by_kind(compile_spec_text((SPECS / name).read_text(), f"specs/{name}"))
    canary = next(d for (kind, _), d in docs.items() if kind == "Canary")
    templates = {n: d for (kind, n), d in docs.items() if kind == "MetricTemplate"}
    return canary, templates


def test_every_flagger_example_states_the_queries_flagger_runs():
    assert sorted(EXPECTED) == FLAGGER_EXAMPLES


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_flagger_runs_the_stated_queries_for_each_check_of_the_example(name):
    canary, templates = canary_and_templates(name)
    for mesh_provider, expected in EXPECTED[name].items():
        assert checks_run(canary, templates, mesh_provider) == expected, mesh_provider


@pytest.mark.parametrize("name", FLAGGER_EXAMPLES)
@pytest.mark.parametrize("mesh_provider", CONTROLLERS)
def test_each_check_runs_one_query_on_the_metrics_the_spec_names(name, mesh_provider):
    spec = yaml.safe_load((SPECS / name).read_text())["spec"]
    canary, templates = canary_and_templates(name)
    if canary["spec"].get("provider", spec["mesh"]) not in ("gatewayapi:v1",) and mesh_provider != spec["mesh"]:
        pytest.skip("a mesh's own provider runs under that mesh's controller")
    source = spec["analysis"].get("metrics") or {"istio": "istio", "linkerd": "linkerd"}.get(spec["mesh"], "app")
    for check, runs in checks_run(canary, templates, mesh_provider).items():
        assert len(runs) == 1, f"{check} runs {runs}"
        assert set(runs[0][2]) <= SERIES_OF_SOURCE[source], f"{check} reads {runs[0][2]}, not {source} metrics"


def test_a_gateway_api_canary_under_an_istio_controller_gets_the_http_observer():
    """factory.go: gatewayapi:* selects the HTTP observer; only a Linkerd controller swaps in Linkerd's."""
    assert observer(metrics_provider("gatewayapi:v1", "istio")) == "http"
    assert observer(metrics_provider("gatewayapi:v1", "linkerd")) == "linkerd"
    assert observer(metrics_provider("istio", "istio")) == "istio"
    assert observer(metrics_provider("linkerd", "istio")) == "linkerd"
    assert observer(metrics_provider("kubernetes", "istio")) == "http"


def test_an_istio_canary_counting_source_reports_runs_only_its_templates():
    """Flagger's Istio builtin counts destination reports: with `reporter: source` (traffic from an
    ingress gateway into an unmeshed namespace) the checks must be templates, named apart from the builtins."""
    text = (SPECS / "flagger-canary-istio.yaml").read_text().replace(
        "    interval: 1m\n", "    interval: 1m\n    reporter: source\n", 1)
    docs = documents_by_kind(compile_spec_text(text, "specs/flagger-canary-istio.yaml"))
    canary = docs[("Canary", "backend")]
    templates = {n: d for (kind, n), d in docs.items() if kind == "MetricTemplate"}
    assert checks_run(canary, templates, "istio") == {
        "success-rate": [("template", "backend-success-rate", ["istio_requests_total"])],
        "latency": [("template", "backend-latency", ["istio_request_duration_milliseconds_bucket"])]}
    assert all('reporter="source"' in t["spec"]["query"] for t in templates.values())
