"""The pod fragment's values are read as the Kubernetes API server reads them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SPECS, run_cli
from generator.spec.podrules import parse_quantity, pod_value_problems, port_name_errors


@pytest.mark.parametrize("text, value", [
    ("100m", "0.1"), ("1.5Gi", str(3 * 2**29)), ("1e3", "1000"), ("+1", "1"), ("1E-1", "0.1"),
    (".5", "0.5"), ("5.", "5"), ("250000u", "0.25"), ("3n", "0.000000003"), ("2k", "2000"),
    ("1E", "1000000000000000000"), ("0.5e+9", "500000000"), ("-1", "-1"), ("128974848", "128974848"),
    ("007", "7"), ("1.G", "1000000000"), ("1e-3", "0.001"),
    # laxer than the documented grammar, exactly as ParseQuantity is: nothing before a suffix is zero
    (".", "0"), ("+", "0"), ("Gi", "0"), ("m", "0"), ("1e99999", "1e99999"),
])
def test_every_quantity_form_apimachinery_parses_has_its_value(text, value):
    assert parse_quantity(text) == Decimal(value)


@pytest.mark.parametrize("text", [
    "lots", "12 potatoes", " 1Gi", "1Gi ", "1 Gi", "1K", "1e", "1e+", "1ee3", "1.5.0", "", "1Mi3", "1-", "1iB",
    "1gi", "0x10", "1,5", "١", "1e9223372036854775808",
])
def test_text_apimachinery_refuses_is_not_a_quantity(text):
    assert parse_quantity(text) is None


@pytest.mark.parametrize("name, problems", [
    ("http", []), ("grpc-web", []), ("h2c", []), ("a" * 15, []),
    ("a" * 16, ["must be no more than 15 characters (got 16)"]),
    ("Metrics", ["must contain only lowercase letters (a-z), digits (0-9) and '-'"]),
    ("8080", ["must contain at least one letter (a-z)"]),
    ("a--b", ["must not contain consecutive '-'"]),
    ("-http", ["must not begin or end with '-'"]),
])
def test_port_names_follow_iana_svc_name(name, problems):
    assert port_name_errors(name) == problems


def test_a_request_equal_to_its_limit_in_another_notation_is_accepted():
    pod = {"containers": [{"name": "app", "image": "app:1",
                           "resources": {"requests": {"cpu": "1000m", "memory": "1Gi", "example.com/gpu": 1},
                                         "limits": {"cpu": 1, "memory": "1073741824", "example.com/gpu": "1"}}}]}
    assert pod_value_problems(pod) == []


def test_a_probe_may_name_the_port_rollgen_generates():
    pod = {"containers": [{"name": "app", "image": "app:1", "ports": [{"name": "http", "containerPort": 8080}],
                           "readinessProbe": {"httpGet": {"path": "/", "port": "http"}}}]}
    assert pod_value_problems(pod) == []


def test_a_sleep_hook_may_last_the_pods_whole_grace_period():
    pod = {"terminationGracePeriodSeconds": 90,
           "containers": [{"name": "app", "image": "app:1", "lifecycle": {"preStop": {"sleep": {"seconds": 90}}}}]}
    assert pod_value_problems(pod) == []
    pod["terminationGracePeriodSeconds"] = 60
    assert [p.message for p in pod_value_problems(pod)] == [
        "must be greater than 0 and at most terminationGracePeriodSeconds (60), got 90"]


def test_a_flagger_spec_gets_the_same_located_pod_checks(tmp_path: Path):
    text = (SPECS / "flagger-canary-istio.yaml").read_text().replace(
        "    replicas: 3\n",
        "    replicas: 3\n    pod:\n      containers:\n        - name: backend\n"
        "          resources: {requests: {cpu: lots, memory: 12 potatoes}}\n", 1)
    (tmp_path / "backend.yaml").write_text(text)
    line = text.splitlines().index("          resources: {requests: {cpu: lots, memory: 12 potatoes}}") + 1
    result = run_cli("validate", "backend.yaml", cwd=tmp_path)
    assert result.exit_code == 1
    heads = [l for l in result.stderr.splitlines() if l.startswith("backend.yaml:")]
    assert heads == [
        f'backend.yaml:{line}:39: spec.workload.pod.containers[0].resources.requests.cpu: "lots" is not a '
        "Kubernetes quantity",
        f'backend.yaml:{line}:53: spec.workload.pod.containers[0].resources.requests.memory: "12 potatoes" is not a '
        "Kubernetes quantity (quantities have no spaces)",
    ]



_WORDS = st.sampled_from(["name", "requests", "limits", "cpu", "memory", "example.com/gpu", "hugepages-2Mi",
                          "containerPort", "hostPort", "protocol", "httpGet", "tcpSocket", "grpc", "exec", "sleep",
                          "port", "seconds", "command", "scheme", "httpHeaders", "valueFrom", "value", "fieldRef",
                          "prefix", "mountPath", "subPath", "emptyDir", "sizeLimit", "preStop", "successThreshold",
                          "terminationGracePeriodSeconds", "http", "1Gi", "100m", " "]) | st.text(max_size=6)
_ANY = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | _WORDS,
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_WORDS, inner, max_size=4),
                    max_leaves=12)
_CONTAINER_KEYS = ("name", "image", "ports", "resources", "env", "envFrom", "volumeMounts", "readinessProbe",
                   "livenessProbe", "startupProbe", "lifecycle", "imagePullPolicy")


def _shaped(keys):
    return st.dictionaries(st.sampled_from(keys), _ANY, max_size=len(keys))


@settings(max_examples=300, deadline=None)
@given(containers=st.lists(_shaped(_CONTAINER_KEYS) | _ANY, max_size=3),
       pod=_shaped(("volumes", "nodeSelector", "initContainers", "terminationGracePeriodSeconds", "dnsPolicy")))
def test_a_pod_in_any_shape_gets_problems_never_an_exception(containers, pod):
    pod = {**pod, "containers": containers}
    for problem in pod_value_problems(pod):
        assert problem.path and problem.message


def test_kubernetes_schemas_are_crawled_once_not_per_validated_pod(monkeypatch):
    """Kubernetes' PodSpec schema is large: finding the resources it holds is done once, when its
    validator is made, not again for every pod fragment of every spec validated against it."""
    from referencing import Registry

    from generator.spec.pod import _k8s_validator, deploymentspec_errors, podspec_errors

    _k8s_validator.cache_clear()
    crawled = []
    crawl = Registry.crawl
    monkeypatch.setattr(Registry, "crawl", lambda self: crawled.append(1) or crawl(self))
    pod = {"containers": [{"name": "app", "image": "app:1", "ports": [{"containerPort": "http"}]}]}
    first = podspec_errors(pod)
    assert first == [(("containers", 0, "ports", 0, "containerPort"), 'expected integer, got "http"')]
    deployment = deploymentspec_errors({"replicas": "two"})
    assert (("replicas",), 'expected integer, got "two"') in deployment
    made = len(crawled)
    for _ in range(5):
        assert podspec_errors(pod) == first
        assert deploymentspec_errors({"replicas": "two"}) == deployment
    assert len(crawled) == made
