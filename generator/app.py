"""The pipeline the CLI calls: find specs → load and check → plan → synthesize → write.

Everything here takes its directories and options as arguments; only the CLI reads the environment.
"""

from __future__ import annotations

import tempfile
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, ContextManager

import yaml

from generator.plan.claims import clashes, platform_clashes, record_claims, spec_claims, spec_clashes
from generator.diagnostics import Diagnostic, InvalidInput, KernelError, Report, display_path
from generator.output.formats import OutputFormat, manifests
from generator.output.incremental import SHARED_SOURCE, Survey, survey
from generator.output.sources import NO_EXCLUDES, Excludes, find_route_cases, find_specs
from generator.spec.load import LoadedSpec, require_rollout
from generator.plan.routed import at_position, positions
from generator.views.routecases import read_cases, run_cases, spec_path, unevaluated
from generator.views.argo_routing import (Position as ControllerPosition, controller_documents, plan_positions,
                                          rewritten, rollout_of)
from generator.plan.argo import plan_argo
from generator.plan.checks import read_spec
from generator.output.store import (DEFAULT_OUTPUT_FORMAT, Change, State, Verified, apply_changes, entry_digest, final_state,
                                    locked, plan_changes, read_regular, read_state, sha, write_verified)
from generator.plan.engines import build_plan
from generator.output.render import RenderedFile, synthesize
from generator.output.workers import in_this_process
from generator.constructs.runtime import start as start_runtime
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
    if surveyed.stale and in_this_process(len(surveyed.stale)):
        # specs to compile in this process: Node.js starts and loads cdk8s while they are checked
        try:
            start_runtime()
        except KernelError:
            pass  # said when cdk8s is needed, after what is wrong with the specs
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


# --- where requests go: `rollgen route` and `rollgen test` ---------------------------------------

IN_MEMORY = "compiled in memory"


@dataclass(frozen=True)
class RoutingDocuments:
    """The documents of one spec at one position, and where they come from: the committed output
    directory (the live position, when the output was generated from the spec as it is now) or
    compiled in memory (any other position, or an output that is missing or stale). Under Argo
    Rollouts, `controller` describes the position (the Rollout's step) and `rewritten` names the
    objects the controller changed from what Git holds."""

    position: int | None
    documents: list[dict]
    origin: str
    controller: str | None = None
    rewritten: tuple[str, ...] = ()


def is_argo(loaded: LoadedSpec) -> bool:
    return engine_of(loaded.document) == "argo-rollouts"


def argo_positions(loaded: LoadedSpec) -> list[ControllerPosition]:
    """The positions of a rollout Argo Rollouts delivers (see generator.views.argo_routing.positions),
    read from its plan: the Rollout's steps, or blue/green; [None] when nothing is replaced."""
    return plan_positions(plan_argo(loaded.document, loaded.source))


def rollout_positions(loaded: LoadedSpec) -> list[int | None]:
    """The positions a spec's routing is evaluated at: every canary position of a manual rollout, every
    step of an Argo Rollouts Rollout that changes routing (with as installed and promoted), else the
    one routing there is (None)."""
    doc = loaded.document
    if is_argo(loaded):
        return [p.number for p in argo_positions(loaded)]
    if engine_of(doc) != "manual" or doc.spec.canary is None:
        return [None]
    return list(positions(doc))


def live_position(loaded: LoadedSpec) -> int | None:
    """The position evaluated when none is asked for: a manual rollout's `canary.position`; under Argo
    Rollouts position 0, the routing objects as Git holds them (as installed: the stable version
    takes every request)."""
    doc = loaded.document
    if rollout_positions(loaded) == [None]:
        return None
    return 0 if is_argo(loaded) else doc.spec.canary.position


def committed_documents(loaded: LoadedSpec, outdir: Path, state: State) -> list[dict] | None:
    """The documents the output directory holds for a spec, when its record (`state`, read once by the
    caller) says they were generated (as plain manifests) from the spec's bytes as they are now; None
    otherwise. Hand edits of those files are read as they are: they are what a sync would apply."""
    rec = state.specs.get(loaded.source)
    if state.output_format != DEFAULT_OUTPUT_FORMAT or rec is None or rec.digest != loaded.digest:
        return None
    out: list[dict] = []
    for rel in sorted(rec.files):
        raw = read_regular(outdir / rel)
        if raw is None:
            return None
        try:
            out.extend(d for d in yaml.safe_load_all(raw.decode("utf-8")) if isinstance(d, dict))
        except (yaml.YAMLError, UnicodeDecodeError):
            return None
    return out


def compile_at(wanted: list[tuple[LoadedSpec, int | None]]) -> list[list[dict]]:
    """The documents of each (spec, position), compiled in memory in one batch; nothing is written.
    A position is what `promote`/`rollback` would set `canary.position` to (None: the spec as it is)."""
    if not wanted:
        return []
    plans = [build_plan(at_position(sp.document, pos) if pos is not None else sp.document, sp.source)
             for sp, pos in wanted]
    with tempfile.TemporaryDirectory(prefix="rollgen-cdk8s-") as scratch:
        rendered = synthesize(plans, scratch)
    return [[d for f in files for d in yaml.safe_load_all(f.text) if isinstance(d, dict)] for files in rendered]


def routing_documents(wanted: list[tuple[LoadedSpec, list[int | None]]], outdir: Path
                      ) -> list[dict[int | None, RoutingDocuments]]:
    """For each spec, its documents at each of the positions asked for: the live position from the
    output directory when that is current for the spec, everything else compiled in memory (in one
    batch for every spec)."""
    out: list[dict[int | None, RoutingDocuments]] = []
    to_compile: list[tuple[int, LoadedSpec, int | None]] = []
    argo: list[tuple[int, LoadedSpec, list[int | None]]] = []
    state = read_state(outdir)
    for i, (loaded, wanted_positions) in enumerate(wanted):
        out.append({})
        if is_argo(loaded):
            # Git holds one set of objects; the controller's rewrite at each position is modelled on them.
            committed = committed_documents(loaded, outdir, state)
            if committed is not None:
                out[i][ARGO_BASE] = RoutingDocuments(None, committed, outdir.as_posix() + "/")
            else:
                to_compile.append((i, loaded, ARGO_BASE))
            argo.append((i, loaded, wanted_positions))
            continue
        live = live_position(loaded)
        for pos in wanted_positions:
            committed = committed_documents(loaded, outdir, state) if pos == live else None
            if committed is not None:
                out[i][pos] = RoutingDocuments(pos, committed, outdir.as_posix() + "/")
            else:
                to_compile.append((i, loaded, pos))
    compiled = compile_at([(sp, None if pos in (ARGO_BASE, live_position(sp)) else pos) for _, sp, pos in to_compile])
    for (i, _, pos), docs in zip(to_compile, compiled):
        out[i][pos] = RoutingDocuments(None if pos == ARGO_BASE else pos, docs, IN_MEMORY)
    for i, loaded, wanted_positions in argo:
        base = out[i].pop(ARGO_BASE)
        plan = plan_argo(loaded.document, loaded.source)  # once per spec, not once per position
        steps = plan_positions(plan)
        out[i].update({pos: controller_view(plan, steps, base, pos) for pos in wanted_positions})
    return [dict(sorted(d.items(), key=lambda kv: -1 if kv[0] is None else kv[0])) for d in out]


ARGO_BASE = "git"  # the key of an Argo Rollouts spec's documents as Git holds them


def controller_view(plan, steps: list[ControllerPosition], base: RoutingDocuments,
                    position: int | None) -> RoutingDocuments:
    """The documents of an Argo Rollouts rollout (`plan`, its positions `steps`) at `position`, as the
    controller leaves them (modelled on the documents Git holds, committed or compiled)."""
    docs = controller_documents(base.documents, position, plan.stable_version)
    rollout = rollout_of(base.documents)
    where = next((p for p in steps if p.number == position), None) if rollout is not None else None
    return RoutingDocuments(position, docs, base.origin, where.describe() if where is not None else None,
                            tuple(rewritten(base.documents, docs)))


@dataclass
class RouteTestRun:
    """What `rollgen test` found: problems with the case files or specs, every case's outcome at every
    position it ran at, and where each spec's documents came from."""

    report: Report = field(default_factory=Report)
    outcomes: list = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    origins: dict[str, dict[int | None, str]] = field(default_factory=dict)
    live_in_memory: list[str] = field(default_factory=list)  # specs whose output is missing or not current


def run_route_tests(targets: list[Path], outdir: Path, cwd: Path, exclude: Excludes = NO_EXCLUDES) -> RouteTestRun:
    """Load the routing case files of the targets and the specs beside them, and run every case at
    every position it names (see `routing_documents` for which documents are evaluated); files below
    a directory that `exclude` matches are left out."""
    run = RouteTestRun()
    paths, problems = find_route_cases(targets, exclude)
    run.report.extend(problems)
    if not paths and not problems:
        shown = ", ".join(t.as_posix() for t in targets)
        run.report.extend([Diagnostic(shown, 0, 0, "", "no routing case files (*.routes.yaml) found",
                                      "write NAME.routes.yaml beside NAME.yaml (see `rollgen test --help`)",
                                      severity="warning")])
    loaded_cases = []
    for path in paths:
        shown = display_path(path, cwd)
        try:
            cases = read_cases(path, shown)
        except InvalidInput as exc:
            run.report.extend(exc.diagnostics)
            continue
        spec = spec_path(path)
        if not spec.is_file():
            run.report.extend([Diagnostic(shown, 1, 1, "", f"no spec beside this case file: "
                                          f"{display_path(spec, cwd)} does not exist",
                                          "a case file NAME.routes.yaml tests the spec NAME.yaml in the same directory")])
            continue
        try:
            loaded = read_spec(spec, cwd)
            require_rollout(loaded, "test")
        except InvalidInput as exc:
            run.report.extend(exc.diagnostics)
            continue
        run.report.extend(loaded.warnings)
        positions = rollout_positions(loaded)
        for case, missing in unevaluated(cases, positions):
            where = ", ".join(str(p) for p in missing)
            have = "it has no positions (no canary)" if positions == [None] else \
                f"its positions are 0 to {positions[-1]}" + (
                    f" (the Rollout's steps that change routing: `rollgen plan {loaded.source}` lists them)"
                    if is_argo(loaded) else "")
            run.report.extend([Diagnostic(case.file, case.line, case.column, "positions",
                                          f"case {case.name!r} names position {where}, which {loaded.source} does not have",
                                          have)])
        run.files.append(shown)
        loaded_cases.append((cases, loaded, positions))
    if run.report.errors:
        return run
    docs = routing_documents([(loaded, positions) for _, loaded, positions in loaded_cases], outdir)
    for (cases, loaded, positions), by_position in zip(loaded_cases, docs):
        run.origins[loaded.source] = {p: d.origin for p, d in by_position.items()}
        if by_position[live_position(loaded)].origin == IN_MEMORY:
            run.live_in_memory.append(loaded.source)
        run.outcomes.extend(run_cases(cases, {p: d.documents for p, d in by_position.items()}, positions,
                                      namespace=loaded.document.metadata.namespace))
    return run
