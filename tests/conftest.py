"""Shared helpers: paths, running the CLI in-process, compiling specs to documents."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from generator.cli import cli

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
OUTPUT = ROOT / "output"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CONFORM = ROOT.parent / "shared" / "tools" / "conform"
ORACLE = "the conformance oracle (../shared/tools/conform)"


def require(available: bool, what: str) -> None:
    """Tests that run a real tool (kubectl, pre-commit, Helm, the oracle) are skipped on a machine
    without it, but fail in CI (the environment variable CI is set): there `.ci/run` installs every
    tool, and a skip would let a feature go untested."""
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI: a skip there would leave a feature untested",
                    pytrace=False)
    pytest.skip(f"{what} is not installed", allow_module_level=True)


def _example_kind(path: Path) -> str:
    document = yaml.safe_load(path.read_text())
    if document.get("kind") == "Platform":
        return "platform"
    return document["spec"].get("delivery", "manual")


# Examples by what they are: rollouts routed by rollgen (manual delivery), rollouts Flagger delivers
# (Flagger owns their routing), Platform specs (the Flagger install), and rollouts Argo Rollouts delivers.
# The specs; their routing case files (`NAME.routes.yaml`) sit beside them.
SPEC_FILES = sorted(p for p in SPECS.glob("*.yaml") if not p.name.endswith(".routes.yaml"))
MANUAL_EXAMPLES = sorted(p.name for p in SPEC_FILES if _example_kind(p) == "manual")
FLAGGER_EXAMPLES = sorted(p.name for p in SPEC_FILES if _example_kind(p) == "flagger")
PLATFORM_EXAMPLES = sorted(p.name for p in SPEC_FILES if _example_kind(p) == "platform")
# rollouts the Argo Rollouts controller delivers (it owns the weights and header routes)
ARGO_EXAMPLES = sorted(p.name for p in SPEC_FILES if _example_kind(p) == "argo-rollouts")


def run_cli(*args: str, cwd: Path | None = None, input: str | None = None):
    """Run `rollgen ARGS` in-process (optionally in another directory); returns click's Result."""
    runner = CliRunner()
    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)
    finally:
        os.chdir(old)


def compile_spec_text(text: str, name: str = "spec.yaml") -> dict[str, dict]:
    """Compile one spec (given as text) and return {relative path: document}."""
    from generator.plan.checks import parse_spec
    from generator.app import compile_specs

    spec = parse_spec(text.encode(), name)
    files = compile_specs([spec])[name]
    return {f.path: yaml.safe_load(f.text) for f in files}


def documents_by_kind(docs: dict[str, dict]) -> dict[tuple[str, str], dict]:
    return {(d["kind"], d["metadata"]["name"]): d for d in docs.values()}


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A scratch project: a copy of specs/ in a temporary directory."""
    shutil.copytree(SPECS, tmp_path / "specs")
    return tmp_path
