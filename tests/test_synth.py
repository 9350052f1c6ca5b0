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
    from generator.constructs.runtime import Kernel, start

    start().ready()
    calls = []
    send = Kernel._send

    def counted(self, request, what):
        calls.append(request["api"])
        return send(self, request, what)

    monkeypatch.setattr(Kernel, "_send", counted)
    return calls


def test_a_batch_costs_one_bridge_call_however_many_objects_it_has(monkeypatch):
    import generator.output.workers as workers

    specs = [parse_spec(spec_text(i).encode(), f"specs/svc{i:04d}.yaml") for i in range(30)]
    monkeypatch.setattr(workers, "MAX_BATCH", 10)
    calls = count_bridge_calls(monkeypatch)
    compiled = compile_specs(specs)
    assert sum(len(files) for files in compiled.values()) > 150
    # per batch of 10 specs: one call that creates the App, the Chart and the objects and synthesizes them
    assert calls == ["sinvoke"] * 3


CDK8S_PYTHON_API = """
import json, sys
import cdk8s
app = cdk8s.App(outdir="unused")
chart = cdk8s.Chart(app, "batch", disable_resource_name_hashes=True)
for o in json.load(sys.stdin):
    obj = cdk8s.ApiObject(chart, o["id"], api_version=o["apiVersion"], kind=o["kind"], metadata=o["metadata"])
    obj.add_json_patch(*[cdk8s.JsonPatch.add("/" + key, value) for key, value in o["body"].items()])
assert all(cdk8s.ApiObject.is_api_object(c) for c in chart.node.children)
sys.stdout.write(json.dumps(chart.to_json()))
"""


def test_every_document_is_what_the_cdk8s_python_api_synthesizes_for_its_own_api_object():
    """The same objects built with cdk8s's own Python binding (jsii's Python runtime, an ApiObject and
    a JSON patch per object, `Chart.to_json()`) give the same documents, in the same order."""
    import json
    import subprocess

    from generator.constructs.charts import build_chart
    from generator.constructs.runtime import Synth
    from generator.plan.engines import build_plan

    specs = [parse_spec(spec_text(i).encode(), f"specs/svc{i:04d}.yaml") for i in range(6)]
    synth = Synth("unused")
    charts = [build_chart(synth, build_plan(spec.document, spec.source)) for spec in specs]
    objects = json.loads(json.dumps(synth._pending))
    documents = [doc for chart in charts for doc in chart.to_json()]
    assert len(documents) == len(objects) > 30

    # in another process, so that this one runs no jsii runtime but rollgen's
    proc = subprocess.run([sys.executable, "-c", CDK8S_PYTHON_API], input=json.dumps(objects),
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == json.dumps(documents)


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
