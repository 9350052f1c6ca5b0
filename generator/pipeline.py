"""The pipeline the CLI calls: find specs → load and check → plan → synthesize → write.

Everything here takes its directories and options as arguments; only the CLI reads the environment.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import __version__
from .diagnostics import Diagnostic, InvalidInput, Report
from .load import LoadedSpec, display_path, find_specs, read_spec
from .output import Change, apply_changes, locked, plan_changes, read_state
from .plan import build_plan
from .render import RenderedFile, synthesize

GENERATOR_ID = f"rollgen {__version__}"


@dataclass
class Loaded:
    specs: list[LoadedSpec] = field(default_factory=list)
    report: Report = field(default_factory=Report)
    dirs: list[str] = field(default_factory=list)  # directory targets, as display paths


def load_targets(targets: list[Path], cwd: Path) -> Loaded:
    """Read and check every spec under the targets; collect every diagnostic."""
    result = Loaded()
    paths, missing = find_specs(targets)
    result.report.extend(missing)
    result.dirs = [display_path(t, cwd) for t in targets if t.is_dir()]
    if not paths and not missing:
        shown = ", ".join(t.as_posix() for t in targets)
        result.report.extend([Diagnostic(shown, 0, 0, "", "no spec files (*.yaml, *.yml) found")])
    for path in paths:
        try:
            spec = read_spec(path, cwd)
        except InvalidInput as exc:
            result.report.extend(exc.diagnostics)
            continue
        result.specs.append(spec)
        result.report.extend(spec.warnings)
    return result


def compile_specs(specs: list[LoadedSpec], advance: Callable[[int], None] | None = None
                  ) -> dict[str, list[RenderedFile]]:
    """Every spec's files, keyed by its source. Starts cdk8s only when there is something to build.
    Call it once for all specs (large runs are batched and spread over the cores inside); `advance(n)`
    is told as each batch of n specs is done, for a progress bar."""
    if not specs:
        return {}
    plans = [build_plan(s.rollout, s.source) for s in specs]
    with tempfile.TemporaryDirectory(prefix="rollgen-cdk8s-") as scratch:
        rendered = synthesize(plans, scratch, advance)
    return {s.source: files for s, files in zip(specs, rendered)}


def _dropped(state_sources, dirs: list[str], found: set[str]) -> set[str]:
    """Recorded specs inside a directory we were asked to compile that are no longer there."""
    out = set()
    for source in state_sources:
        if source in found:
            continue
        for d in dirs:
            if d in ("", ".") or source.startswith(d.rstrip("/") + "/"):
                out.add(source)
    return out


@dataclass
class GenerateResult:
    report: Report
    change: Change | None = None


def generate(targets: list[Path], outdir: Path, cwd: Path,
             on_wait: Callable[[str], None] | None = None) -> GenerateResult:
    """Compile the targets into `outdir`, holding its lock: concurrent runs write one after the other."""
    with locked(outdir, on_wait):
        return _generate(targets, outdir, cwd)


def _generate(targets: list[Path], outdir: Path, cwd: Path) -> GenerateResult:
    loaded = load_targets(targets, cwd)
    if loaded.report.errors:
        return GenerateResult(loaded.report)
    compiled = compile_specs(loaded.specs)
    new = {source: {f.path: f.text for f in files} for source, files in compiled.items()}
    digests = {s.source: s.digest for s in loaded.specs}
    state = read_state(outdir)
    dropped = _dropped(state.specs, loaded.dirs, set(new))
    to_write, stale, problems = plan_changes(outdir, state, new, dropped)
    if problems:
        loaded.report.extend(problems)
        return GenerateResult(loaded.report)
    change = apply_changes(outdir, state, GENERATOR_ID, new, digests, dropped, to_write, stale)
    return GenerateResult(loaded.report, change)
