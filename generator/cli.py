"""The `rollgen` command line: options in, one call into the pipeline, diagnostics out, exit code."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import click

from . import __version__
from .diagnostics import EXIT_INTERNAL, EXIT_INVALID, InvalidInput, Report

DEFAULT_SPECS = Path("specs")
DEFAULT_OUTPUT = Path("output")

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _targets(values: tuple[str, ...]) -> list[Path]:
    return [Path(v) for v in values] or [DEFAULT_SPECS]


def _print_report(report: Report) -> None:
    if report.diagnostics:
        click.echo(report.render_text(), err=True)


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
      rollgen promote specs/backend.yaml     # next step: edit the spec, regenerate
      rollgen rollback specs/backend.yaml    # back to stable: edit the spec, regenerate

    Exit codes: 0 ok, 1 invalid input, 2 usage error, 3 internal error.
    """
    ctx.obj = {"debug": debug}


@cli.command(context_settings=CONTEXT)
@click.argument("targets", nargs=-1, type=click.Path())
@click.option("-o", "--output", "outdir", type=click.Path(file_okay=False), default=str(DEFAULT_OUTPUT),
              show_default=True, help="Output directory.")
def generate(targets: tuple[str, ...], outdir: str) -> None:
    """Compile specs (files or directories; default specs/) into manifests.

    Writes OUTPUT/<namespace>/<name>/<kind>-<object>.yaml, one document per file. Files rollgen
    generated earlier that a spec no longer produces are removed; files it did not generate are never
    touched. Nothing is written when any spec is invalid.

    \b
    Examples:
      rollgen generate
      rollgen generate specs/backend.yaml -o deploy/
    """
    from .pipeline import generate as run

    result = run(_targets(targets), Path(outdir), Path.cwd(), on_wait=lambda message: click.echo(message, err=True))
    _print_report(result.report)
    if result.report.errors:
        click.echo(_summary(result.report, "generate failed") + "; nothing was written", err=True)
        sys.exit(EXIT_INVALID)
    c = result.change
    click.echo(f"{outdir}: {len(c.written)} written, {len(c.unchanged)} unchanged, {len(c.removed)} removed", err=True)
    for rel in c.kept:
        click.echo(f"{outdir}/{rel}: warning: no longer generated but edited since rollgen wrote it; left in place", err=True)


@cli.command(context_settings=CONTEXT)
@click.argument("targets", nargs=-1, type=click.Path())
def validate(targets: tuple[str, ...]) -> None:
    """Check specs (files or directories; default specs/) and report every problem.

    \b
    Examples:
      rollgen validate
      rollgen validate specs/backend.yaml specs/frontend.yaml
    """
    from .pipeline import load_targets

    loaded = load_targets(_targets(targets), Path.cwd())
    _print_report(loaded.report)
    if loaded.report.errors:
        click.echo(_summary(loaded.report, "invalid"), err=True)
        sys.exit(EXIT_INVALID)
    click.echo(f"{len(loaded.specs)} spec{'s' if len(loaded.specs) != 1 else ''} valid", err=True)


@cli.command(context_settings=CONTEXT)
@click.argument("spec", type=click.Path(dir_okay=False))
def plan(spec: str) -> None:
    """Show a rollout's positions with their weights and routing, marking the live one.

    \b
    Example:
      rollgen plan specs/backend.yaml
    """
    from .describe import plan_table
    from .load import read_spec

    loaded = read_spec(Path(spec), Path.cwd())
    _print_report(Report(list(loaded.warnings)))
    click.echo(plan_table(loaded.rollout, loaded.source), nl=False)


def _move(spec: str, outdir: str, dry_run: bool, step) -> None:
    """Shared by promote and rollback: edit the spec, show the diff, regenerate its output."""
    from .edit import load_for_edit, write_spec
    from .pipeline import generate as run

    path = Path(spec)
    loaded, text = load_for_edit(path, Path.cwd())
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
    result = run([path], Path(outdir), Path.cwd())
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
@click.option("-o", "--output", "outdir", type=click.Path(file_okay=False), default=str(DEFAULT_OUTPUT),
              show_default=True, help="Output directory to regenerate.")
def promote(spec: str, finalize: bool, dry_run: bool, outdir: str) -> None:
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
    from .edit import promote as step

    _move(spec, outdir, dry_run, lambda loaded, text: step(loaded, text, finalize))


@cli.command(context_settings=CONTEXT)
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Show the diff only; change nothing.")
@click.option("--emergency", is_flag=True,
              help="Print routing objects with all traffic on the stable/active version to stdout; write nothing.")
@click.option("-o", "--output", "outdir", type=click.Path(file_okay=False), default=str(DEFAULT_OUTPUT),
              show_default=True, help="Output directory to regenerate.")
def rollback(spec: str, dry_run: bool, emergency: bool, outdir: str) -> None:
    """Move a rollout back: edit SPEC in place and regenerate its output.

    A canary goes back to position 0 (all traffic on stable); a blue/green switches back to the
    version kept running as preview. With --emergency nothing is edited or written: the live routing
    objects, with every request on the stable/active version (an A/B test: its first variant; header
    routes: the default), go to stdout for kubectl. Follow it with a GitOps rollback.

    \b
    Examples:
      rollgen rollback specs/backend.yaml
      rollgen rollback specs/backend.yaml --emergency | kubectl apply -f -
    """
    if emergency:
        from .emergency import emergency_manifests
        from .load import read_spec

        loaded = read_spec(Path(spec), Path.cwd())
        _print_report(Report(list(loaded.warnings)))
        click.echo(emergency_manifests(loaded), nl=False)
        return
    from .edit import rollback as step

    _move(spec, outdir, dry_run, step)


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
    from .analysis import queries_text
    from .load import read_spec

    loaded = read_spec(Path(spec), Path.cwd())
    _print_report(Report(list(loaded.warnings)))
    click.echo(queries_text(loaded.rollout, loaded.source), nl=False)


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="rollgen")
