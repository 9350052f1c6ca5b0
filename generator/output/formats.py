"""Output formats: how a spec's rendered manifests become files, and which files all specs share.

`manifests` (the default) writes `<ns>/<name>/<kind>-<object>.yaml` plus kustomizations; `helm`
writes a chart (see `helm.py`). A format's `name` is recorded in the state record: output written in
one format is never taken as up to date for another.
"""

from __future__ import annotations

from typing import Protocol

import generator.output.kustomize as kustomize
from generator.output.render import RenderedFile, header


class OutputFormat(Protocol):
    name: str
    needs_every_spec: bool  # shared files describe every spec, so all of them are read when one changes

    def spec_files(self, spec, files: list[RenderedFile]) -> dict[str, str]: ...

    def shared_files(self, records: dict[str, list[str]], specs: dict) -> dict[str, str]: ...


class Manifests:
    name = "manifests"
    needs_every_spec = False

    def spec_files(self, spec, files: list[RenderedFile]) -> dict[str, str]:
        return kustomize.with_service_kustomization({f.path: f.text for f in files}, header(spec.source))

    def shared_files(self, records: dict[str, list[str]], specs: dict) -> dict[str, str]:
        return kustomize.index_files([rel for files in records.values() for rel in files])


def manifests() -> Manifests:
    return Manifests()
