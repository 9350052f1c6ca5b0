"""The two JSON Schema engines give one answer (generator/spec/validation.py): jsonschema-rs decides
that a document is valid, and jsonschema explains a document it refuses. Skipping jsonschema for
what jsonschema-rs accepts must never accept anything jsonschema would refuse."""

from __future__ import annotations

import copy
import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT
from generator.spec.pod import _k8s_validator, merge_pod, podspec_errors
from generator.spec.schema import KINDS, _validator, spec_kind
from generator.spec.yamlio import load_yaml
from generator.diagnostics import InvalidInput
from strategies import mutated_specs, pod_fragments, valid_specs

def documents(path: Path):
    """The YAML mapping of a known kind in `path`, else None (refused before any schema is applied)."""
    try:
        data = load_yaml(path.read_bytes(), path.name).data
    except InvalidInput:
        return None
    return data if isinstance(data, dict) and spec_kind(data) else None


def verdicts(validator, document) -> tuple[bool, bool]:
    """(jsonschema-rs accepts, jsonschema finds no error)."""
    return validator.accepts(document), not any(True for _ in validator.reference().iter_errors(document))


# every example, invalid example and hostile input that reaches the schema check
FILES = [p for p in sorted(p for d in ("specs", "tests/fixtures/invalid", "tests/fixtures/hostile", "tests/fixtures/clashes")
                           for p in (ROOT / d).rglob("*.yaml") if not p.name.endswith(".routes.yaml"))
         if documents(p) is not None]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_example_and_every_invalid_example_gets_one_verdict_from_both_engines(path: Path):
    data = documents(path)
    fast, slow = verdicts(_validator(spec_kind(data)), data)
    assert fast == slow


def test_the_examples_cover_both_verdicts():
    assert len(FILES) > 150
    seen = {verdicts(_validator(spec_kind(d)), d) for d in map(documents, FILES)}
    assert seen == {(True, True), (False, False)}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(valid_specs().map(lambda d: ("valid", d)), mutated_specs()))
def test_what_jsonschema_rs_accepts_jsonschema_accepts(drawn):
    import yaml

    _, document = drawn
    try:
        data = yaml.safe_load(document) if isinstance(document, str) else document
    except yaml.YAMLError:
        return  # refused before any schema
    if not isinstance(data, dict) or not spec_kind(data):
        return
    fast, slow = verdicts(_validator(spec_kind(data)), data)
    assert slow or not fast, data
    assert fast == slow, data


# Values of every JSON type (and a few YAML has besides), put anywhere in a pod template.
ANY_VALUE = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.sampled_from([2**31, -2**31 - 1, 2**63, 1.5, 1e20]),
                      st.text(max_size=5), st.just([]), st.just({}), st.just([{"name": "x"}]),
                      st.just({"name": 1}), st.just(datetime.date(2024, 1, 1)))


def _places(doc, path=()):
    yield path
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _places(v, path + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _places(v, path + (i,))


@st.composite
def pods(draw):
    pod, _ = merge_pod(draw(pod_fragments("app")), {"name": "app", "image": "app:1",
                                                     "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]})
    places = [p for p in _places(pod) if p]
    for _ in range(draw(st.integers(0, 2))):
        path = draw(st.sampled_from(places))
        target = pod
        for part in path[:-1]:
            target = target[part]
        key = path[-1] if draw(st.booleans()) else draw(st.sampled_from(["name", "x-unknown", "port", "image"]))
        if isinstance(target, list):
            key = path[-1]
        target[key] = copy.deepcopy(draw(ANY_VALUE))  # never the strategy's own object
        places = [p for p in _places(pod) if p]
    return pod


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pods())
def test_what_jsonschema_rs_accepts_in_a_pod_template_jsonschema_accepts(pod):
    fast, slow = verdicts(_k8s_validator("podspec-v1.json"), pod)
    assert slow or not fast, pod


def test_references_into_the_kubernetes_definitions_are_followed_by_the_fast_engine():
    validator = _k8s_validator("podspec-v1.json")
    good = {"containers": [{"name": "app", "image": "a:1", "ports": [{"containerPort": 80}],
                            "livenessProbe": {"httpGet": {"port": 80, "path": "/"}}}]}
    assert validator.accepts(good)
    # a wrong type three definitions down (Container → Probe → HTTPGetAction)
    bad = {"containers": [{"name": "app", "image": "a:1", "livenessProbe": {"httpGet": {"port": 80, "path": 7}}}]}
    assert not validator.accepts(bad)
    assert podspec_errors(bad) == [(("containers", 0, "livenessProbe", "httpGet", "path"), "expected string, got 7")]


def test_integer_widths_are_checked_by_both_engines():
    validator = _k8s_validator("podspec-v1.json")
    pod = {"containers": [{"name": "app", "image": "a:1", "ports": [{"containerPort": 2**31}]}]}
    assert verdicts(validator, pod) == (False, False)
    assert podspec_errors(pod) == [(("containers", 0, "ports", 0, "containerPort"), f"must fit in a 32-bit integer (got {2**31})")]
    pod["containers"][0]["ports"][0]["containerPort"] = 2**31 - 1
    assert verdicts(validator, pod) == (True, True)


def test_a_value_json_has_no_type_for_is_explained_not_accepted():
    validator = _validator("Rollout")
    spec = load_yaml((ROOT / "specs" / "catalog.yaml").read_bytes(), "catalog.yaml").data
    spec["metadata"]["name"] = datetime.date(2024, 1, 1)
    assert verdicts(validator, spec) == (False, False)


def test_every_kind_has_a_validator():
    for kind in KINDS:
        assert _validator(kind).accepts({}) is False
