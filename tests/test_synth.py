"""cdk8s synthesis of a batch: one chart shared by the batch's specs, an ApiObject per document, and a
fixed number of bridge calls to Node.js per batch."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from generator.plan.checks import parse_spec
from generator.app import compile_specs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from specs import spec_text  # noqa: E402


def count_bridge_calls(monkeypatch) -> list:
    """Every request rollgen sends to the jsii kernel (Node.js), from now on."""
    from jsii._kernel.providers import process

    from generator.constructs.runtime import cdk8s

    cdk8s()
    calls = []
    send = process._NodeProcess.send

    def counted(self, request, response_type):
        calls.append(type(request).__name__)
        return send(self, request, response_type)

    monkeypatch.setattr(process._NodeProcess, "send", counted)
    return calls


def test_a_batch_costs_three_bridge_calls_however_many_objects_it_has(monkeypatch):
    import generator.output.workers as workers

    specs = [parse_spec(spec_text(i).encode(), f"specs/svc{i:04d}.yaml") for i in range(30)]
    monkeypatch.setattr(workers, "MAX_BATCH", 10)
    calls = count_bridge_calls(monkeypatch)
    compiled = compile_specs(specs)
    assert sum(len(files) for files in compiled.values()) > 150
    # per batch of 10 specs: its App, its Chart, and one call that creates and synthesizes the objects
    assert calls == ["CreateRequest", "CreateRequest", "StaticInvokeRequest"] * 3


def test_every_document_is_synthesized_from_its_own_cdk8s_api_object():
    from generator.constructs.runtime import Synth, cdk8s
    from generator.plan.engines import build_plan
    from generator.constructs.charts import build_chart

    k = cdk8s()
    specs = [parse_spec(spec_text(i).encode(), f"specs/svc{i:04d}.yaml") for i in range(6)]
    synth = Synth("unused")
    charts = [build_chart(synth, build_plan(spec.document, spec.source)) for spec in specs]
    documents = [doc for chart in charts for doc in chart.to_json()]
    objects = synth.chart_scope.node.children
    assert len(objects) == len(documents) > 30
    assert all(k.ApiObject.is_api_object(obj) for obj in objects)
    assert [(o.kind, o.name) for o in objects] == [(d["kind"], d["metadata"]["name"]) for d in documents]


def test_specs_sharing_a_batch_keep_their_own_objects_and_namespaces():
    text = spec_text(0)
    specs = [parse_spec(text.replace("namespace: team0", f"namespace: {ns}").encode(), f"specs/{ns}.yaml")
             for ns in ("alpha", "beta")]
    compiled = compile_specs(specs)
    for ns in ("alpha", "beta"):
        files = compiled[f"specs/{ns}.yaml"]
        assert files and all(f.path.startswith(f"{ns}/svc0000/") for f in files)
        documents = [yaml.safe_load(f.text) for f in files]
        assert {d["metadata"]["namespace"] for d in documents} == {ns}
        assert {d["metadata"]["name"] for d in documents} >= {"svc0000"}
    # the same spec in another namespace: the same files, but for the namespace (and the spec's name)
    assert [f.text.replace("alpha", "beta") for f in compiled["specs/alpha.yaml"]] == \
        [f.text for f in compiled["specs/beta.yaml"]]
