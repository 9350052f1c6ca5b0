"""The `rollgen` command line: options in, one call into the pipeline, diagnostics out, exit code."""

from __future__ import annotations

import gc
import os
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from generator import __version__
from generator.diagnostics import EXIT_INTERNAL, EXIT_INVALID, Diagnostic, InvalidInput, KernelError, Report
from generator.output.store import STATE_FILE
from generator.spec.scaffold import STRATEGIES

if TYPE_CHECKING:
    from generator.project import Where


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _where(values: tuple[str, ...], outdir: str | None) -> Where:
    from generator.project import read_project, where_to_work

    return where_to_work(read_project(Path.cwd()), [Path(v) for v in values], Path(outdir) if outdir else None,
                         Path.cwd())


def _no_specs(where: Where, found: int, missing: list[Diagnostic], command: str) -> None:
    """Stop when no spec file was found: say where rollgen looked and how to start."""
    if found:
        return
    _print_report(Report(list(missing)))
    searched = "; subfolders are searched too" if any(t.is_dir() for t in where.targets) or not where.named else ""
    click.echo(f"rollgen {command}: no spec files (*.yaml, *.yml) found in {where.looked}{searched}", err=True)
    if not where.named:
        click.echo(f"  hint: `rollgen init NAME` writes a first spec to {where.spec_folder / 'NAME.yaml'}", err=True)
    sys.exit(EXIT_INVALID)


def _print_report(report: Report) -> None:
    if report.diagnostics:
        click.echo(report.render_text(), err=True)


def _emit_json(report: Report, **extra) -> None:
    """Machine-readable results (CI annotations): one JSON document on stdout."""
    click.echo(report.render_json(**extra))


JSON_OR_TEXT = click.Choice(["text", "json"])
PROGRESS_MIN = 10  # specs; fewer finish before a bar is worth drawing


def _progress():
    """A progress bar on stderr for long runs, on a terminal only: never in CI logs or pipes."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        return None

    @contextmanager
    def progress(label: str, total: int):
        if total < PROGRESS_MIN:
            yield lambda n=1: None
            return
        with click.progressbar(length=total, label=f"{label:<10}", file=sys.stderr, width=30) as bar:
            yield bar.update

    return progress


def _output_format(kind: str | None, outdir: str, chart_name: str | None):
    """(format name, factory): the name is all the fast path needs; the factory loads the format.

    Without an explicit format, an output directory keeps the format its record says it holds (a chart
    stays a chart under `rollgen generate -o charts/fleet`); a new one gets manifests."""
    if kind is None:
        from generator.output.store import read_state

        recorded = read_state(Path(outdir)).output_format
        kind = "helm" if recorded.startswith("helm:") else "manifests"
        if kind == "helm" and not chart_name:
            chart_name = recorded.removeprefix("helm:")
    if kind == "helm":
        import generator.output.helm as helm

        name = helm.chart_name_for(Path(outdir), chart_name)
        if not helm.valid_chart_name(name):
            raise click.BadParameter(f"{name!r} is not a chart name: use lowercase letters, digits and '-'",
                                     param_hint="--chart-name")
        return helm.format_name(name), lambda: helm.Helm(name)

    def manifests():
        from generator.output.formats import manifests as make

        return make()

    return "manifests", manifests


def _write_file(path: Path, text: str) -> None:
    """Write a file the user named (a schema, a new spec); a failure is their environment, not a bug."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput([Diagnostic(path.as_posix(), 0, 0, "", f"cannot write: {exc.strerror or exc}",
                                       "choose a path in a directory you can write to")]) from None


def _summary(report: Report, what: str) -> str:
    e, w = len(report.errors), len(report.warnings)
    return f"{what}: {e} error{'s' if e != 1 else ''}, {w} warning{'s' if w != 1 else ''}"


class RollgenGroup(click.Group):
    """Maps failures to the exit-code contract: invalid input 1, usage 2, internal error 3."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort, SystemExit):
            raise
        except InvalidInput as exc:
            _print_report(Report(exc.diagnostics))
            ctx.exit(EXIT_INVALID)
        except KeyboardInterrupt:
            ctx.exit(130)
        except Exception as exc:  # noqa: BLE001 - the contract is: never a traceback for users
            if (ctx.obj or {}).get("debug"):
                traceback.print_exc()
            if isinstance(exc, KernelError):  # the installation, not a bug: the message says what to do
                click.echo(f"rollgen: cdk8s could not run: {exc}", err=True)
                ctx.exit(EXIT_INTERNAL)
            click.echo(f"rollgen: internal error: {type(exc).__name__}: {exc}", err=True)
            click.echo("  hint: this is a bug in rollgen; rerun with --debug and report the traceback", err=True)
            ctx.exit(EXIT_INTERNAL)


@click.group(cls=RollgenGroup, context_settings=CONTEXT)
@click.version_option(__version__, prog_name="rollgen")
@click.option("--debug", is_flag=True, help="Show a traceback on internal errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """rollgen compiles rollout specs into the Kubernetes manifests of a progressive delivery.

    \b
    Examples:
      rollgen generate                       # specs/ -> output/
      rollgen validate specs/backend.yaml    # check a spec, write nothing
      rollgen plan specs/backend.yaml        # weights and routing at every position
      rollgen check                          # is output/ what generate would write?
      rollgen init backend --mesh istio      # a new spec to start from
      rollgen promote specs/backend.yaml     # next step: edit the spec, regenerate
      rollgen rollback specs/backend.yaml    # back to stable: edit the spec, regenerate

    Exit codes: 0 ok, 1 invalid input or stale output, 2 usage error, 3 internal error.
    """
    ctx.obj = {"debug": debug}


OUTPUT_OPTION = click.option("-o", "--output", "outdir", type=click.Path(file_okay=False),
                             help="Output directory. Default: `output` in the project file, else output/.")
TARGETS = click.argument("targets", nargs=-1, type=click.Path())
# The vocabulary of every command: --output-format is what OUTPUT holds (manifests or a Helm chart),
# --format is the form of what the command prints (text, json, ...).
OUTPUT_FORMATS = click.Choice(["manifests", "helm"])
OUTPUT_FORMAT_HELP = ("What OUTPUT holds: manifests (one file per object plus kustomizations) or helm (a chart "
                      "whose values override images, replicas and traffic weights). Default: `output-format` in "
                      "the project file, else what OUTPUT already holds (manifests if new).")
CHART_NAME_OPTION = click.option("--chart-name", help="Chart name with --output-format helm. Default: "
                                                      "`chart-name` in the project file, else the output directory's name.")


@cli.command(context_settings=CONTEXT)
@TARGETS
@OUTPUT_OPTION
@click.option("--output-format", "--format", "kind", type=OUTPUT_FORMATS,
              help=OUTPUT_FORMAT_HELP + " --format is the older spelling, kept as an alias on this command.")
@CHART_NAME_OPTION
@click.option("--force", is_flag=True, help="Compile every spec, even those the record says are up to date "
                                            "(files that come out the same are not rewritten).")
def generate(targets: tuple[str, ...], outdir: str | None, kind: str | None, chart_name: str | None, force: bool) -> None:
    """Compile specs (files or directories, subfolders included; default specs/) into manifests.

    Writes OUTPUT/<namespace>/<name>/<kind>-<object>.yaml, one document per file, with a
    kustomization.yaml per service, per namespace and at the root (`kubectl kustomize OUTPUT` builds
    everything). Only specs changed since the last generate are compiled; when none did, nothing is
    written (a fresh clone compiles every spec once: the cache of what this rollgen verified,
    OUTPUT/.rollgen-cache/, is never committed). Files rollgen generated earlier that a spec no
    longer produces are removed; files it did not generate are never touched. Nothing is written
    when any spec is invalid.

    Spec paths, the output directory, excluded files and the output format can be set in a project
    file, rollgen.toml or [tool.rollgen] in pyproject.toml, in this directory or one above it.

    \b
    Examples:
      rollgen generate
      rollgen generate specs/backend.yaml -o deploy/
      rollgen generate --output-format helm -o charts/fleet
      rollgen generate --force               # compile every spec again
    """
    from generator.output.incremental import survey

    where = _where(targets, outdir)
    outdir = where.shown_output
    name, factory = _output_format(kind or where.output_format, outdir, chart_name or where.chart_name)
    surveyed = survey(where.targets, where.outdir, where.cwd, name, force=force, exclude=where.exclude)
    _no_specs(where, len(surveyed.paths), surveyed.missing, "generate")
    if surveyed.up_to_date:  # the fast path: neither the model nor cdk8s is loaded
        files = len(surveyed.fresh_files()) + len(surveyed.shared_files())
        specs = len(surveyed.paths)
        click.echo(f"{outdir}: already up to date: no spec changed since the last generate ({specs} "
                   f"spec{'s' if specs != 1 else ''}, {files} files); nothing written "
                   "(--force compiles every spec again)", err=True)
        return
    from generator.app import generate as run

    _compiler_loaded()
    result = run(where.targets, where.outdir, where.cwd, factory(), _progress(), surveyed,
                 on_wait=lambda message: click.echo(message, err=True))
    _print_report(result.report)
    if result.report.errors:
        click.echo(_summary(result.report, "generate failed") + "; nothing was written", err=True)
        sys.exit(EXIT_INVALID)
    c = result.change
    if not (c.written or c.removed or c.kept or c.record_written):
        click.echo(f"{outdir}: already up to date: {result.compiled} spec{'s' if result.compiled != 1 else ''} "
                   f"compiled, all {len(c.unchanged)} files as generated; nothing changed", err=True)
        return
    click.echo(f"{outdir}: {len(c.written)} written, {len(c.unchanged)} unchanged, {len(c.removed)} removed", err=True)
    for rel in c.kept:
        click.echo(f"{outdir}/{rel}: warning: no longer generated but edited since rollgen wrote it; left in place", err=True)


@cli.command(context_settings=CONTEXT)
@TARGETS
@OUTPUT_OPTION
@click.option("--format", "fmt", type=JSON_OR_TEXT, default="text", show_default=True,
              help="text: a summary of the stale files and how to fix them on stderr (with --diff, their "
                   "diffs on stdout); json: one JSON document on stdout, diffs included.")
@click.option("--output-format", "kind", type=OUTPUT_FORMATS, help=OUTPUT_FORMAT_HELP)
@CHART_NAME_OPTION
@click.option("--diff", "show_diff", is_flag=True,
              help="Print a unified diff of every file that differs (the record of what was generated "
                   "is named, never shown).")
def check(targets: tuple[str, ...], outdir: str | None, fmt: str, kind: str | None, chart_name: str | None,
          show_diff: bool) -> None:
    """Verify that OUTPUT is exactly what `rollgen generate` would write. Writes nothing.

    Validates the specs, then compares. On drift, names the files that differ (new, changed,
    stale), the one command that fixes them, and exits 1; --diff shows what differs. Specs unchanged
    since the last generate are settled from the record in OUTPUT/.rollgen-state without compiling
    (hand-edited or deleted files are still found), when the local cache OUTPUT/.rollgen-cache/ says
    this very rollgen and its dependencies produced them; without it (a fresh clone) every spec is
    compiled.

    \b
    Examples:
      rollgen check                          # in CI or a pre-commit hook
      rollgen check --diff                   # and show what differs
      rollgen check --format json            # for CI annotations
      rollgen check specs/backend.yaml -o deploy/
    """
    from generator.check import check as run
    from generator.output.incremental import survey

    where, outdir_given = _where(targets, outdir), outdir is not None
    outdir = where.shown_output
    name, factory = _output_format(kind or where.output_format, outdir, chart_name or where.chart_name)
    surveyed = survey(where.targets, where.outdir, where.cwd, name, exclude=where.exclude)
    if fmt == "text":
        _no_specs(where, len(surveyed.paths), surveyed.missing, "check")
    result = run(where.targets, where.outdir, where.cwd, None if surveyed.up_to_date else factory(),
                 _progress(), surveyed)
    if fmt == "json":
        _emit_json(result.report, ok=result.ok, output=outdir, specs=result.specs,
                   drift=[d.to_json() for d in result.drift])
    else:
        _print_report(result.report)
        if show_diff:
            for d in result.drift:
                if d.path != STATE_FILE:  # the record's JSON says nothing a reviewer can act on
                    click.echo(d.diff, nl=False)
    if result.report.errors:
        if fmt == "text":
            click.echo(_summary(result.report, "check failed"), err=True)
        sys.exit(EXIT_INVALID)
    if result.drift:
        if fmt == "text":
            fix = " ".join(["rollgen generate", *targets, *(["-o", outdir] if outdir_given else []),
                            *(["--output-format", kind] if kind else [])])
            _drift_summary(result.drift, outdir, fix, show_diff)
        sys.exit(EXIT_INVALID)
    if fmt == "text":
        click.echo(f"{outdir}: up to date ({result.specs} spec{'s' if result.specs != 1 else ''})", err=True)


DRIFT_SHOWN = 20  # files named in the summary; the rest are counted


def _drift_summary(drift, outdir: str, fix: str, show_diff: bool) -> None:
    """Which files are stale and the one command that fixes them; the record is counted, not shown."""
    files = [d for d in drift if d.path != STATE_FILE]
    counts = {s: sum(1 for d in files if d.status == s) for s in ("new", "changed", "stale")}
    n = len(files)
    if n:
        click.echo(f"{outdir}: {n} file{'s' if n != 1 else ''} differ{'s' if n == 1 else ''} from what "
                   f"`rollgen generate` writes ({counts['new']} new, {counts['changed']} changed, "
                   f"{counts['stale']} stale):", err=True)
        for d in files[:DRIFT_SHOWN]:
            click.echo(f"  {d.status:<8} {outdir.rstrip('/')}/{d.path}", err=True)
        if n > DRIFT_SHOWN:
            click.echo(f"  ... and {n - DRIFT_SHOWN} more", err=True)
        for d in drift:
            if d.path == STATE_FILE:
                click.echo(f"  {d.status:<8} {outdir.rstrip('/')}/{STATE_FILE} (the record of what was generated)", err=True)
    else:
        click.echo(f"{outdir}: the record of what was generated ({outdir.rstrip('/')}/{STATE_FILE}) is not "
                   "what `rollgen generate` writes; every file is as generated", err=True)
    more = "" if show_diff else "; `rollgen check --diff` shows what differs"
    click.echo(f"  hint: run `{fix}` and commit {outdir}{more}", err=True)


@cli.command(context_settings=CONTEXT)
@TARGETS
@click.option("--format", "fmt", type=JSON_OR_TEXT, default="text", show_default=True,
              help="text: messages on stderr; json: one JSON document on stdout (for CI annotations).")
def validate(targets: tuple[str, ...], fmt: str) -> None:
    """Check specs (files or directories, subfolders included; default specs/, or `specs` in the
    project file) and report every problem.

    \b
    Examples:
      rollgen validate
      rollgen validate specs/backend.yaml specs/frontend.yaml
      rollgen validate --format json > diagnostics.json
    """
    from generator.app import load_targets

    where = _where(targets, None)
    loaded = load_targets(where.targets, where.cwd, where.exclude)
    if fmt == "text":
        _no_specs(where, loaded.found, loaded.missing, "validate")
    if fmt == "json":
        _emit_json(loaded.report, specs=len(loaded.specs))
    else:
        _print_report(loaded.report)
    if loaded.report.errors:
        if fmt == "text":
            click.echo(_summary(loaded.report, "invalid"), err=True)
        sys.exit(EXIT_INVALID)
    if fmt == "text":
        click.echo(f"{len(loaded.specs)} spec{'s' if len(loaded.specs) != 1 else ''} valid", err=True)


@cli.command(context_settings=CONTEXT)
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["table", "json", "mermaid"]), default="table", show_default=True,
              help="table: every position; json: diagnostics and the plan as one JSON document; mermaid: a "
                   "flowchart of the traffic at the live position (renders on GitHub in a ```mermaid block).")
def plan(spec: str, fmt: str) -> None:
    """Show a rollout's positions with their weights and routing, marking the live one.

    \b
    Examples:
      rollgen plan specs/backend.yaml
      rollgen plan specs/backend.yaml --format mermaid
      rollgen plan specs/backend.yaml --format json
    """
    from generator.plan.checks import read_spec

    if fmt == "json":
        from generator.views.engines import plan_document

        try:
            loaded = read_spec(Path(spec), Path.cwd())
        except InvalidInput as exc:
            _emit_json(Report(exc.diagnostics), plan=None)
            sys.exit(EXIT_INVALID)
        _emit_json(Report(list(loaded.warnings)), plan=plan_document(loaded.document, loaded.source))
        return
    loaded = read_spec(Path(spec), Path.cwd())
    _print_report(Report(list(loaded.warnings)))
    if fmt == "mermaid":
        from generator.spec.load import require_rollout
        from generator.views.engines import plan_flowchart

        require_rollout(loaded, "plan --format mermaid")

        click.echo(plan_flowchart(loaded.document, loaded.source), nl=False)
        return
    from generator.views.engines import plan_table

    click.echo(plan_table(loaded.document, loaded.source), nl=False)


@cli.command(context_settings=CONTEXT)
@click.option("-o", "--output", "target", type=click.Path(dir_okay=False), default="-", show_default=True,
              help="Write the schema to this file instead of stdout.")
@click.option("--kind", type=click.Choice(["Rollout", "Platform"]), default="Rollout", show_default=True,
              help="The spec kind: Rollout (a service) or Platform (the Flagger install).")
def schema(target: str, kind: str) -> None:
    """Print the JSON Schema of the spec language (for editors and other tools).

    Editors using yaml-language-server (VS Code's YAML extension, Neovim, Helix, ...) complete and
    validate specs whose first line points at it:

    \b
      # yaml-language-server: $schema=../schemas/rollout.v1alpha1.json

    \b
    Examples:
      rollgen schema
      rollgen schema -o schemas/rollout.v1alpha1.json
      rollgen schema --kind Platform -o schemas/platform.v1alpha1.json
    """
    from generator.spec.schema import load_schema_text

    text = load_schema_text(kind)
    if target == "-":
        click.echo(text, nl=False)
        return
    _write_file(Path(target), text)
    click.echo(f"wrote {target}", err=True)


@cli.command(context_settings=CONTEXT)
@click.argument("name")
@click.option("--mesh", type=click.Choice(["istio", "linkerd", "gateway-api"]), default="istio", show_default=True)
@click.option("--strategy", type=click.Choice(sorted(STRATEGIES)),
              default="canary", show_default=True, help="The delivery the spec starts with.")
@click.option("-n", "--namespace", default="default", show_default=True)
@click.option("-o", "--output", "target", type=click.Path(dir_okay=False),
              help="Where to write the spec (- for stdout). Default: specs/NAME.yaml (the first "
                   "directory of `specs` in the project file).")
@click.option("--schema", "schema_path", type=click.Path(dir_okay=False),
              default="schemas/rollout.v1alpha1.json", show_default=True,
              help="The JSON Schema file the spec's first line points editors at (`rollgen schema -o` writes it).")
def init(name: str, mesh: str, strategy: str, namespace: str, target: str | None, schema_path: str) -> None:
    """Write a new, commented spec that validates, ready to edit.

    \b
    Examples:
      rollgen init backend --mesh istio --strategy canary
      rollgen init orders --mesh linkerd --strategy steady -n shop -o -
    """
    from generator.plan.checks import parse_spec
    from generator.spec.scaffold import scaffold_spec, schema_reference

    out = Path(target) if target and target != "-" else _where((), None).spec_folder / f"{name}.yaml"
    ref = schema_reference(out, Path(schema_path), Path.cwd())
    text = scaffold_spec(name, namespace, mesh, strategy, ref)
    shown = out.as_posix() if target != "-" else "<stdout>"
    try:
        scaffolded = parse_spec(text.encode("utf-8"), shown)  # a bad NAME, or a mesh the strategy cannot use
    except InvalidInput as exc:
        # the spec was never written: its lines are nowhere to look at, so name the option instead
        _print_report(Report([_init_diagnostic(d) for d in exc.diagnostics]))
        click.echo(f"init failed: nothing written to {shown}", err=True)
        sys.exit(EXIT_INVALID)
    _print_report(Report(list(scaffolded.warnings)))
    if target == "-":
        click.echo(text, nl=False)
        return
    if out.exists():
        raise click.UsageError(f"{out.as_posix()} already exists; rollgen init never overwrites a file")
    _write_file(out, text)
    click.echo(f"wrote {out.as_posix()}: edit it, then `rollgen generate`", err=True)
    if not Path(schema_path).exists():
        click.echo(f"  hint: editors complete specs once the schema exists: rollgen schema -o {schema_path}", err=True)


INIT_OPTIONS = {"metadata.name": "NAME", "metadata.namespace": "--namespace", "spec.mesh": "--mesh"}


def _init_diagnostic(d: Diagnostic) -> Diagnostic:
    """A problem of the spec init would write, told about the argument or option that caused it."""
    return Diagnostic(d.file, 0, 0, INIT_OPTIONS.get(d.path, d.path), d.message, d.hint, d.severity)


def _move(spec: str, outdir: str | None, kind: str | None, chart_name: str | None, dry_run: bool, step) -> None:
    """Shared by promote and rollback: edit the spec, show the diff, regenerate its output."""
    from generator.spec.edit import load_for_edit, write_spec
    from generator.app import generate as run
    from generator.plan.checks import check_document

    path = Path(spec)
    where = _where((spec,), outdir)
    outdir = where.shown_output
    _, factory = _output_format(kind or where.output_format, outdir, chart_name or where.chart_name)
    loaded, text = load_for_edit(path, where.cwd, check_document)
    _print_report(Report(list(loaded.warnings)))
    edit = step(loaded, text)
    click.echo(edit.diff(), nl=False)
    click.echo(f"{edit.source}: {edit.summary}", err=True)
    if not edit.changed:
        return
    if dry_run:
        click.echo("dry run: the spec and the output are unchanged", err=True)
        return
    write_spec(path, edit.new_text)
    result = run([path], where.outdir, where.cwd, factory())
    _print_report(result.report)
    if result.report.errors:
        write_spec(path, edit.old_text)
        click.echo(_summary(result.report, "generate failed") + "; the spec was restored and nothing was written",
                   err=True)
        sys.exit(EXIT_INVALID)
    c = result.change
    click.echo(f"{outdir}: {len(c.written)} written, {len(c.unchanged)} unchanged, {len(c.removed)} removed", err=True)


@cli.command(context_settings=CONTEXT)
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--finalize", is_flag=True,
              help="After the last step: rewrite the spec to steady state on the new version.")
@click.option("--dry-run", is_flag=True, help="Show the diff only; change nothing.")
@OUTPUT_OPTION
@click.option("--output-format", "kind", type=OUTPUT_FORMATS, help=OUTPUT_FORMAT_HELP)
@CHART_NAME_OPTION
def promote(spec: str, finalize: bool, dry_run: bool, outdir: str | None, kind: str | None,
            chart_name: str | None) -> None:
    """Move a rollout one step forward: edit SPEC in place and regenerate its output.

    A canary goes to the next position; a blue/green swaps `active` and `preview` (the old version
    keeps running for an instant rollback). With --finalize, a canary at its last step (or a
    blue/green) becomes a service in steady state on the new version. Comments and formatting of the
    spec are kept; the diff is printed.

    \b
    Examples:
      rollgen promote specs/backend.yaml --dry-run
      rollgen promote specs/backend.yaml && git commit -am "backend: next canary step"
      rollgen promote specs/backend.yaml --finalize
    """
    from generator.spec.edit import promote as step

    _move(spec, outdir, kind, chart_name, dry_run, lambda loaded, text: step(loaded, text, finalize))


@cli.command(context_settings=CONTEXT)
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Show the diff only; change nothing.")
@click.option("--emergency", is_flag=True,
              help="Print routing objects with all traffic on the stable (or previous) version to stdout (with "
                   "`delivery: argo-rollouts`: the kubectl argo rollouts commands); write nothing.")
@OUTPUT_OPTION
@click.option("--output-format", "kind", type=OUTPUT_FORMATS, help=OUTPUT_FORMAT_HELP)
@CHART_NAME_OPTION
def rollback(spec: str, dry_run: bool, emergency: bool, outdir: str | None, kind: str | None,
             chart_name: str | None) -> None:
    """Move a rollout back: edit SPEC in place and regenerate its output.

    A canary goes back to position 0 (all traffic on stable); a blue/green switches back to the
    version kept running as preview. With --emergency nothing is edited or written: the live routing
    objects, with every request on the stable version (a blue/green: the version before the cutover,
    or active while a test match is set; an A/B test: its first variant; header routes: the default),
    go to stdout for kubectl. Follow it with a GitOps rollback. With `delivery: argo-rollouts` the
    controller moves the traffic: rollback makes the stable version the Rollout's again, --emergency
    prints `kubectl argo rollouts abort`, and promote only takes --finalize.

    \b
    Examples:
      rollgen rollback specs/backend.yaml
      rollgen rollback specs/backend.yaml --emergency | kubectl apply -f -
    """
    if emergency:
        from generator.output.emergency import emergency_manifests
        from generator.plan.checks import read_spec

        loaded = read_spec(Path(spec), Path.cwd())
        _print_report(Report(list(loaded.warnings)))
        click.echo(emergency_manifests(loaded), nl=False)
        return
    from generator.spec.edit import rollback as step

    _move(spec, outdir, kind, chart_name, dry_run, step)


def _pairs(ctx, param, values: tuple[str, ...]) -> dict[str, str]:
    """`NAME=VALUE` options into a mapping (usage error otherwise)."""
    out = {}
    for value in values:
        name, eq, rest = value.partition("=")
        if not eq or not name.strip():
            raise click.BadParameter(f"{value!r} is not NAME=VALUE", ctx=ctx, param=param)
        out[name.strip()] = rest
    return out


METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")


@cli.command(context_settings=CONTEXT)
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--header", "headers", multiple=True, metavar="NAME=VALUE", callback=_pairs,
              help="A request header (repeatable).")
@click.option("--cookie", "cookies", multiple=True, metavar="NAME=VALUE", callback=_pairs,
              help="A cookie the request carries (repeatable).")
@click.option("--position", type=click.IntRange(min=0),
              help="Evaluate at this canary position instead of the live one (compiled in memory). "
                   "delivery: argo-rollouts: the position in the Rollout's steps (0: as installed; default).")
@click.option("--host", help="The host the request addresses. Default: the service the spec routes.")
@click.option("--gateway", metavar="NAMESPACE/NAME[:SECTION]",
              help="The request enters through this Gateway. Default: from inside the mesh.")
@click.option("--path", "req_path", default="/", show_default=True, help="Request path (with any query).")
@click.option("--method", default="GET", show_default=True, type=click.Choice(METHODS, case_sensitive=False))
@click.option("--format", "fmt", type=JSON_OR_TEXT, default="text", show_default=True,
              help="text for people, json for machines.")
@click.option("-o", "--output", "outdir", type=click.Path(file_okay=False),
              help="Output directory holding the generated objects of the live position. "
                   "Default: `output` in the project file, else output/.")
def route(spec: str, headers: dict, cookies: dict, position: int | None, host: str | None, gateway: str | None,
          req_path: str, method: str, fmt: str, outdir: str | None) -> None:
    """Say where a request goes: the version it reaches, the rule that matched, the split.

    The generated routing objects are evaluated with the mesh's own semantics (Istio: first match;
    Gateway API: match precedence; regexes as RE2), not the spec. The live position is read from
    the output directory when it was generated from the spec as it is now; another --position (or a
    stale output) is compiled in memory. Shows the weighted shares when a split decides, the
    Set-Cookie a response carries, and the copies a mirror sends.

    With delivery: argo-rollouts the controller owns the routing objects: they are evaluated as it
    leaves them at a position of the Rollout (the weights of each setWeight, its header and mirror
    routes, the Services and subsets on the stable and the new ReplicaSet). Position 0 is as installed
    (the objects as Git holds them: the stable version takes every request; the default), then one
    position after each step that changes routing (setHeaderRoute, setMirrorRoute, setWeight, in step
    order), and last promoted (every step done: the new version is the stable one, the managed routes
    removed). Blue/green: 0 before promotion, 1 promoted. `rollgen plan` lists them.

    \b
    Examples:
      rollgen route specs/backend.yaml --header x-canary-user=true
      rollgen route specs/frontend.yaml --cookie ab-test=b
      rollgen route specs/backend.yaml --position 2 --format json
      rollgen route specs/argo-canary-istio.yaml --position 1 --header x-canary-user=true
    """
    import json as jsonlib

    from generator.app import live_position, rollout_positions, routing_documents
    from generator.plan.checks import read_spec
    from generator.spec.load import require_rollout
    from generator.views.routing import Request, RoutingError, explain, route_request, to_json

    if not req_path.startswith("/"):
        raise click.BadParameter(f"{req_path!r} must start with '/'", param_hint="--path")
    loaded = read_spec(Path(spec), Path.cwd())
    require_rollout(loaded, "route")
    _print_report(Report(list(loaded.warnings)))
    positions = rollout_positions(loaded)
    if position is not None and position not in positions:
        have = "it has no canary positions" if positions == [None] else f"its positions are 0 to {positions[-1]}"
        raise click.BadParameter(f"{loaded.source} has no position {position}: {have}", param_hint="--position")
    at = live_position(loaded) if position is None else position
    found = routing_documents([(loaded, [at])], _where((), outdir).outdir)[0][at]
    request = Request(host=host, gateway=gateway, path=req_path, method=method.upper(), headers=headers,
                      cookies=cookies)
    try:
        result = route_request(found.documents, request)
    except RoutingError as exc:
        click.echo(f"{loaded.source}: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    controller = None
    if found.controller is not None:
        controller = {"engine": "argo-rollouts", "position": found.controller, "rewritten": list(found.rewritten)}
    if fmt == "json":
        click.echo(jsonlib.dumps({"spec": loaded.source, "position": at, "documents": found.origin,
                                  **({"controller": controller} if controller else {}), **to_json(result)}, indent=2))
        return
    where = f", position {at} of {positions[-1]}" if at is not None else ""
    click.echo(f"{loaded.source}{where} ({found.origin})")
    if controller is not None:
        click.echo(f"the Argo Rollouts controller owns these objects; position {at}: {found.controller}")
        click.echo("  evaluated as the controller leaves them"
                   + (": " + ", ".join(found.rewritten) + " rewritten from Git" if found.rewritten else ": as in Git"))
    click.echo(explain(result))


@cli.command("test", context_settings=CONTEXT)
@click.argument("targets", nargs=-1, type=click.Path())
@click.option("-o", "--output", "outdir", type=click.Path(file_okay=False),
              help="Output directory holding the generated objects of the live positions. "
                   "Default: `output` in the project file, else output/.")
@click.option("--format", "fmt", type=JSON_OR_TEXT, default="text", show_default=True,
              help="text for people, json for machines (CI annotations).")
def test_routes(targets: tuple[str, ...], outdir: str | None, fmt: str) -> None:
    """Run routing cases: requests and the version they must reach, at given positions.

    A case file sits beside its spec (specs/NAME.routes.yaml tests specs/NAME.yaml). TARGETS are
    case files, specs (their case file), or directories (every case file below). Each case runs at
    every position it names (default: all): the live position evaluates the objects committed in
    the output directory (hand edits included) when it was generated from the spec as it is now;
    every other position is compiled in memory. Prints each failing case with what it expected and
    what it got; exits 1 on any failure or invalid case file.

    \b
    Examples:
      rollgen test
      rollgen test specs/backend.routes.yaml
      rollgen test specs/backend.yaml --format json
    """
    from generator.app import run_route_tests
    from generator.views.routecases import outcomes_json, render_failures

    where = _where(targets, outdir)
    out = where.outdir
    run = run_route_tests(where.targets, out, where.cwd, where.exclude)
    failed = [o for o in run.outcomes if not o.passed]
    stale = run.live_in_memory
    if fmt == "json":
        _emit_json(run.report, cases=outcomes_json(run.outcomes), failed=len(failed), inMemory=stale)
        if run.report.errors or failed:
            sys.exit(EXIT_INVALID)
        return
    _print_report(run.report)
    if run.report.errors:
        click.echo(_summary(run.report, "routing cases not run"), err=True)
        sys.exit(EXIT_INVALID)
    if failed:
        click.echo(render_failures(failed))
    for src in stale:
        click.echo(f"{src}: {out.as_posix()}/ is not what it compiles to now; its live position was compiled "
                   "in memory", err=True)
        click.echo("  hint: run `rollgen generate` to evaluate the committed objects", err=True)
    n = len(run.outcomes)
    click.echo(f"{len(run.files)} case file{'s' if len(run.files) != 1 else ''}, {n} check{'s' if n != 1 else ''}: "
               + (f"{len(failed)} failed" if failed else "all passed"), err=True)
    if failed:
        sys.exit(EXIT_INVALID)


@cli.command(context_settings=CONTEXT)
@click.argument("spec", type=click.Path(dir_okay=False))
def queries(spec: str) -> None:
    """Print PromQL for the error ratio, latency percentile and request rate of each version.

    The queries of the stable and the new version are printed one after the other, scoped to the
    service and namespace, in the spec's metrics source (analysis.metrics, default from the mesh),
    ready to paste into a dashboard or the Prometheus UI.

    \b
    Example:
      rollgen queries specs/backend.yaml
    """
    from generator.views.text import queries_text
    from generator.spec.load import require_rollout
    from generator.plan.checks import read_spec

    loaded = read_spec(Path(spec), Path.cwd())
    require_rollout(loaded, "queries")
    _print_report(Report(list(loaded.warnings)))
    click.echo(queries_text(loaded.document, loaded.source), nl=False)


@cli.command("status-commands", context_settings=CONTEXT)
@click.argument("spec", type=click.Path(dir_okay=False))
def status_commands(spec: str) -> None:
    """Print the commands that monitor a Flagger or Argo Rollouts rollout (or a Platform install).

    For a `delivery: flagger` rollout: watch its canary progress, describe its status, and view
    Flagger's events, ready to paste. For a `delivery: argo-rollouts` rollout: the kubectl argo
    rollouts commands, and the Argo CD `ignoreDifferences` and sync options for its objects. For a
    Platform spec: the Flux and Flagger commands that check the install.

    \b
    Example:
      rollgen status-commands specs/flagger-canary-istio.yaml
    """
    from generator.views.engines import status_commands_text
    from generator.plan.checks import read_spec

    loaded = read_spec(Path(spec), Path.cwd())
    _print_report(Report(list(loaded.warnings)))
    click.echo(status_commands_text(loaded), nl=False)


# rollgen runs one command per process (main). A cold generate allocates well over a million short-lived
# objects (YAML nodes, documents, file texts) beside the ~half million its imports leave, which live
# until the process ends: a larger first generation collects a tenth as often, and the objects alive
# once the compiler is imported are frozen out of the collector's scans (_compiler_loaded). With
# Python's defaults a cold generate of 200 specs spent ~0.05 s in the collector, ~0.02 s so.
_ONE_COMMAND = False


def _compiler_loaded() -> None:
    if _ONE_COMMAND:
        gc.freeze()


def main(argv: list[str] | None = None) -> None:
    global _ONE_COMMAND
    _ONE_COMMAND = True
    gc.set_threshold(10_000, 10, 10)
    cli.main(args=argv, prog_name="rollgen")
