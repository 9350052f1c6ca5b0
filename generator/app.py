"""The pipeline the CLI calls: find specs → load and check → plan → synthesize → write.

Everything here takes its directories and options as arguments; only the CLI reads the environment.
"""

from __future__ import annotations

import tempfile
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, ContextManager

from generator.plan.claims import clashes, platform_clashes, record_claims, spec_claims, spec_clashes
from generator.diagnostics import Diagnostic, InvalidInput, Report, display_path
from generator.output.formats import OutputFormat, manifests
from generator.output.incremental import SHARED_SOURCE, Survey, survey
from generator.output.sources import NO_EXCLUDES, Excludes, find_specs
from generator.spec.load import LoadedSpec
from generator.plan.checks import read_spec
from generator.output.store import (Change, State, Verified, apply_changes, entry_digest, final_state, locked, plan_changes,
                     read_state, sha, write_verified)
from generator.plan.engines import build_plan
from generator.output.render import RenderedFile, synthesize
from generator.plan.platform import build_platform_plan
from generator.spec.kinds import engine_of

# progress(label, total) -> a context yielding advance(n); only the CLI decides whether to show one.
Progress = Callable[[str, int], ContextManager[Callable[[int], None]]]


@dataclass
class Loaded:
    specs: list[LoadedSpec] = field(default_factory=list)
    report: Report = field(default_factory=Report)
    dirs: list[str] = field(default_factory=list)  # directory targets, as display paths
    found: int = 0  # spec files found under the targets, valid or not
    missing: list[Diagnostic] = field(default_factory=list)  # targets that are not there


def load_targets(targets: list[Path], cwd: Path, exclude: Excludes = NO_EXCLUDES) -> Loaded:
    """Read and check every spec under the targets (but those `exclude` matches); collect every diagnostic."""
    result = Loaded()
    paths, missing = find_specs(targets, exclude)
    result.found, result.missing = len(paths), missing
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
    result.report.extend(spec_clashes(result.specs))
    result.report.extend(platform_clashes(platforms_of(result.specs, {}, cwd)))
    return result


def compile_specs(specs: list[LoadedSpec], advance: Callable[[int], None] | None = None
                  ) -> dict[str, list[RenderedFile]]:
    """Every spec's files, keyed by its source. Starts cdk8s only when there is something to build.
    Call it once for all specs (large runs are batched and spread over the cores inside); `advance(n)`
    is told as each batch of n specs is done, for a progress bar."""
    if not specs:
        return {}
    plans = [build_plan(s.document, s.source) for s in specs]
    with tempfile.TemporaryDirectory(prefix="rollgen-cdk8s-") as scratch:
        rendered = synthesize(plans, scratch, advance)
    return {s.source: files for s, files in zip(specs, rendered)}


@dataclass
class GenerateResult:
    report: Report
    change: Change | None = None
    compiled: int = 0  # specs compiled this run (0 on the fast path)


@dataclass
class Pending:
    """What a write would produce for the stale specs (and the shared files), not yet written."""
    report: Report
    state: State
    new: dict[str, dict[str, str]] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    dropped: set[str] = field(default_factory=set)


def _no_progress(label: str, total: int):
    return nullcontext(lambda n=1: None)


def _load(paths: list[Path], cwd: Path, report: Report, progress: Progress, label: str) -> list[LoadedSpec]:
    specs = []
    with progress(label, len(paths)) as advance:
        for path in paths:
            try:
                spec = read_spec(path, cwd)
            except InvalidInput as exc:
                report.extend(exc.diagnostics)
            else:
                specs.append(spec)
                report.extend(spec.warnings)
            advance(1)
    return specs


def _compile(specs: list[LoadedSpec], progress: Progress) -> dict[str, list[RenderedFile]]:
    if progress is _no_progress or len(specs) < 2:
        return compile_specs(specs)
    # one call: compile_specs batches and spreads the work itself, and reports each batch done
    with progress("compiling", len(specs)) as advance:
        return compile_specs(specs, advance)


def platforms_of(loaded: list[LoadedSpec], records: dict[str, list[str]], cwd: Path) -> list:
    """(plan, spec) of every Platform in the output tree: those loaded now, and those generated earlier
    (their records hold a HelmRepository), read again (a Platform spec is small)."""

    specs = [sp for sp in loaded if engine_of(sp.document) == "platform"]
    have = {sp.source for sp in loaded}
    for src, files in sorted(records.items()):
        if src in have or not any(f.rsplit("/", 1)[-1].startswith("helmrepository-") for f in files):
            continue
        path = Path(src) if Path(src).is_absolute() else cwd / src
        try:
            spec = read_spec(path, cwd)
        except (InvalidInput, OSError):
            continue  # gone or broken: the survey drops or reports it
        if engine_of(spec.document) == "platform":
            specs.append(spec)
    return [(build_platform_plan(sp.document, sp.source), sp) for sp in specs]


def prepare(surveyed: Survey, cwd: Path, fmt: OutputFormat, progress: Progress | None = None) -> Pending:
    """Load and compile the stale specs of a survey, and recompute the shared files."""
    progress = progress or _no_progress
    # Entries of specs not compiled now stay as they are: the record holds bytes, not trust (the cache
    # written after this run vouches only for what this compiler produced; see verified_after).
    state = State(dict(surveyed.state.specs), surveyed.state.output_format)
    result = Pending(Report(list(surveyed.missing)), state, dropped=set(surveyed.dropped))
    if not surveyed.paths and not surveyed.missing:
        shown = ", ".join(sorted(surveyed.dirs)) or "the targets"
        result.report.extend([Diagnostic(shown, 0, 0, "", "no spec files (*.yaml, *.yml) found")])
    loaded = _load(surveyed.stale, cwd, result.report, progress, "validating")
    context: list[LoadedSpec] = []
    if fmt.needs_every_spec:
        # A format whose shared files describe every spec (a chart's values.yaml) reads them all.
        others = [p for p in surveyed.paths if surveyed.sources[p] in surveyed.fresh]
        keep = [Path(src) if Path(src).is_absolute() else cwd / src for src in state.specs
                if src not in surveyed.dropped and src != SHARED_SOURCE and src not in surveyed.sources.values()]
        context = _load(others + keep, cwd, result.report, progress, "reading")
    if result.report.errors:
        return result
    records = {src: sorted(rec.files) for src, rec in state.specs.items()
               if src not in result.dropped and src != SHARED_SOURCE}
    # Clashes among the specs read now and those generated earlier, before anything is compiled ...
    claims = {src: record_claims(files) for src, files in records.items()}
    claims.update({sp.source: spec_claims(sp) for sp in loaded})
    located = {sp.source: sp.located for sp in loaded}
    result.report.extend(clashes(claims, located))
    if result.report.errors:
        return result
    compiled = _compile(loaded, progress)
    for spec in loaded:
        result.new[spec.source] = fmt.spec_files(spec, compiled[spec.source])
        result.digests[spec.source] = spec.digest
    records.update({src: sorted(files) for src, files in result.new.items()})
    # ... and then by every object the compiled specs generate
    for src in result.new:
        if src != SHARED_SOURCE:
            claims[src] = claims.get(src, []) + record_claims(result.new[src])
    result.report.extend(clashes(claims, located))
    result.report.extend(platform_clashes(platforms_of(loaded, records, cwd)))
    if result.report.errors:
        return result
    shared = fmt.shared_files(records, {sp.source: sp for sp in loaded + context})
    result.new[SHARED_SOURCE] = shared
    result.digests[SHARED_SOURCE] = sha(fmt.name)
    return result


def generate(targets: list[Path], outdir: Path, cwd: Path, fmt: OutputFormat | None = None,
             progress: Progress | None = None, surveyed: Survey | None = None,
             on_wait: Callable[[str], None] | None = None) -> GenerateResult:
    """Compile what changed since the last generate into `outdir`; nothing at all when nothing did.

    From the survey on, the run holds the output directory's lock: a concurrent run waits (`on_wait`
    is told), and a survey made before the lock was taken is redone if another run wrote meanwhile."""
    fmt = fmt or manifests()
    if surveyed is not None and surveyed.up_to_date:
        return GenerateResult(Report(), Change(unchanged=sorted(surveyed.fresh_files() + surveyed.shared_files())))
    with locked(outdir, on_wait):
        if surveyed is None or read_state(outdir).to_text() != surveyed.state.to_text():
            surveyed = survey(targets, outdir, cwd, fmt.name, force=surveyed.force if surveyed is not None else False,
                              exclude=surveyed.exclude if surveyed is not None else NO_EXCLUDES)
        return _generate_locked(surveyed, outdir, cwd, fmt, progress)


def _generate_locked(surveyed: Survey, outdir: Path, cwd: Path, fmt: OutputFormat, progress: Progress | None) -> GenerateResult:
    if surveyed.up_to_date:
        return GenerateResult(Report(), Change(unchanged=sorted(surveyed.fresh_files() + surveyed.shared_files())))
    pending = prepare(surveyed, cwd, fmt, progress)
    if pending.report.errors:
        return GenerateResult(pending.report)
    to_write, stale, problems = plan_changes(outdir, pending.state, pending.new, pending.dropped)
    if problems:
        pending.report.extend(name_shared(problems, outdir))
        return GenerateResult(pending.report)
    change = apply_changes(outdir, pending.state, pending.new, pending.digests, pending.dropped, to_write, stale, output_format=fmt.name)
    write_verified(outdir, verified_after(surveyed, final_state(pending.state, pending.new, pending.digests, pending.dropped, fmt.name), set(pending.new)))
    change.unchanged = sorted(change.unchanged + surveyed.fresh_files())
    return GenerateResult(pending.report, change, compiled=len(pending.new) - 1)


def name_shared(problems: list[Diagnostic], outdir: Path) -> list[Diagnostic]:
    """Problems with the files all specs share are about the output directory, not a spec."""
    return [replace(d, file=outdir.as_posix()) if d.file == SHARED_SOURCE else d for d in problems]


def expected_record(pending: Pending, fmt: OutputFormat) -> str:
    """The record text a generate would leave behind."""
    return final_state(pending.state, pending.new, pending.digests, pending.dropped, fmt.name).to_text()


def verified_after(surveyed: Survey, final: State, compiled: set[str]) -> Verified:
    """The cache after a write: the entries this compiler produced now, and those it had verified
    before that are still in the record unchanged."""
    before = surveyed.verified.specs if surveyed.same_generator else {}
    specs = {}
    for source, rec in final.specs.items():
        digest = entry_digest(rec)
        if source in compiled or before.get(source) == digest:
            specs[source] = digest
    return Verified(surveyed.generator, final.output_format, specs)
