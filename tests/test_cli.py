"""The command line contract: help, exit codes, messages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SPEC_FILES, SPECS, run_cli
from generator.cli import cli


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_help_with_examples(command):
    result = run_cli(command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.output


def test_validate_accepts_the_examples():
    result = run_cli("validate", cwd=SPECS.parent)
    assert result.exit_code == 0
    assert f"{len(SPEC_FILES)} specs valid" in result.stderr


def test_spec_discovery_skips_routing_case_files_beside_the_specs(tmp_path):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "backend.yaml").write_bytes((SPECS / "backend.yaml").read_bytes())
    (tmp_path / "specs" / "backend.routes.yaml").write_bytes((SPECS / "backend.routes.yaml").read_bytes())
    (tmp_path / "specs" / "other.routes.yml").write_text("kind: RouteTests\n")
    result = run_cli("validate", "specs", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "1 spec valid" in result.stderr


def test_a_routing_case_file_named_as_a_spec_is_refused_with_where_it_belongs(tmp_path):
    (tmp_path / "backend.routes.yaml").write_bytes((SPECS / "backend.routes.yaml").read_bytes())
    result = run_cli("validate", "backend.routes.yaml", cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[:2] == [
        "backend.routes.yaml:1:1: a routing case file, not a spec",
        "  hint: run `rollgen test backend.routes.yaml`; specs are checked by validate and generate"]


def test_usage_errors_exit_2():
    proc = subprocess.run([sys.executable, "-m", "generator", "generate", "--no-such-option"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "No such option" in proc.stderr


def test_missing_spec_is_reported_not_raised(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "generator", "validate", "nope.yaml"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 1
    assert "nope.yaml: no such file or directory" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_internal_errors_exit_3_without_a_traceback(tmp_path):
    code = ("import generator.plan.routed as p\n"
            "def boom(*a, **k): raise RuntimeError('kaboom')\n"
            "p.build_routed_plan = boom\n"
            "import generator.app as q; q.build_routed_plan = boom\n"
            "from generator.cli import main; main(['generate', '-o', %r, %r])\n" % (str(tmp_path / "o"), str(SPECS)))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 3
    assert "internal error: RuntimeError: kaboom" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_installed_command_runs_and_does_not_print_jsii_banners(tmp_path):
    rollgen = Path(sys.executable).with_name("rollgen")
    proc = subprocess.run([str(rollgen), "generate", str(SPECS / "catalog.yaml"), "-o", str(tmp_path / "o")],
                          capture_output=True, text=True, cwd=SPECS.parent)
    assert proc.returncode == 0, proc.stderr
    # 4 objects, the service's kustomization, and those of its namespace and of the output root
    assert proc.stderr.strip().splitlines() == [f"{tmp_path / 'o'}: 7 written, 0 unchanged, 0 removed"]


# One vocabulary: what OUTPUT holds is --output-format, the form of what a command prints is --format.
OUTPUT_KIND = {"generate", "check", "promote", "rollback"}
PRINTED_FORM = {"check": ["text", "json"], "validate": ["text", "json"], "plan": ["table", "json", "mermaid"],
                "route": ["text", "json"], "test": ["text", "json"]}
# older spellings, kept working: (command, alias, the option it stands for)
ALIASES = [("generate", "--format", "--output-format")]


def _option(command: str, name: str):
    return next((p for p in cli.commands[command].params if name in p.opts), None)


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_names_the_output_kind_and_the_printed_form_the_same_way(command):
    kind = _option(command, "--output-format")
    if command in OUTPUT_KIND:
        assert kind is not None and list(kind.type.choices) == ["manifests", "helm"]
        assert _option(command, "--chart-name") is not None
    else:
        assert kind is None
    form = next((p for p in cli.commands[command].params if p.name == "fmt"), None)
    if command in PRINTED_FORM:
        assert form.opts == ["--format"] and list(form.type.choices) == PRINTED_FORM[command]
    else:
        assert form is None
    aliases = {(c, a) for c, a, _ in ALIASES}
    for param in cli.commands[command].params:
        for opt in param.opts + param.secondary_opts:
            assert opt not in ("--format", "--output-format") or param in (kind, form) or (command, opt) in aliases


@pytest.mark.parametrize("command, alias, option", ALIASES)
def test_an_older_spelling_is_still_accepted_and_documented_as_an_alias(command, alias, option):
    param = _option(command, alias)
    assert param is _option(command, option)
    help_text = run_cli(command, "--help").output
    assert f"{option}, {alias}" in help_text and "older spelling" in help_text


@pytest.mark.parametrize("kind", ["manifests", "helm"])
def test_generate_format_is_the_older_spelling_of_output_format(workdir: Path, kind: str):
    old = run_cli("generate", "specs/catalog.yaml", "--format", kind, "-o", "old", cwd=workdir)
    new = run_cli("generate", "specs/catalog.yaml", "--output-format", kind, "-o", "new", cwd=workdir)
    assert old.exit_code == new.exit_code == 0, old.stderr + new.stderr
    files = sorted(p.relative_to(workdir / "new") for p in (workdir / "new").rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(workdir / "old") for p in (workdir / "old").rglob("*") if p.is_file())
    assert (Path("Chart.yaml") in files) is (kind == "helm")
    assert run_cli("check", "specs/catalog.yaml", "--output-format", kind, "-o", "old", cwd=workdir).exit_code == 0


def test_a_node_js_that_cannot_start_is_a_clear_error_and_writes_nothing(tmp_path):
    """JSII_NODE names the Node.js cdk8s runs on; a missing one is said, not shown as a traceback."""
    env = {**os.environ, "JSII_NODE": str(tmp_path / "no-node-here")}
    proc = subprocess.run([sys.executable, "-m", "generator", "generate", str(SPECS / "catalog.yaml"), "-o",
                           str(tmp_path / "o")], capture_output=True, text=True, cwd=SPECS.parent, env=env)
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"rollgen: cdk8s could not run: cannot start Node.js ({tmp_path / 'no-node-here'}) for cdk8s: "
        "No such file or directory"]
    assert not (tmp_path / "o").exists()


def test_with_no_node_js_the_specs_own_errors_come_first(tmp_path):
    spec = tmp_path / "broken.yaml"
    spec.write_text((SPECS / "catalog.yaml").read_text().replace("port: 8080", "port: http-port"))
    env = {**os.environ, "JSII_NODE": str(tmp_path / "no-node-here")}
    proc = subprocess.run([sys.executable, "-m", "generator", "generate", str(spec), "-o", str(tmp_path / "o")],
                          capture_output=True, text=True, cwd=tmp_path, env=env)
    assert proc.returncode == 1, proc.stderr
    assert "broken.yaml:" in proc.stderr and "Node.js" not in proc.stderr
