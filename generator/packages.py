"""Installed packages' own files (assemblies, schemas, programs), found without importing the packages:
importing one runs its code and imports what it needs (kubernetes-validate imports jsonschema, jsii
its whole Python runtime), which rollgen does not."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path


def package_folder(package: str) -> Path | None:
    """Where an installed package's files are, or None when it is not installed."""
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))
