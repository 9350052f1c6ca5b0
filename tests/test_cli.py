"""The command line contract: help, exit codes, messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SPECS, run_cli
from generator.cli import cli


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_help_with_examples(command):
    result = run_cli(command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.output


def test_validate_accepts_the_examples():
    result = run_cli("validate", cwd=SPECS.parent)
    assert result.exit_code == 0
    assert f"{len(list(SPECS.glob('*.yaml')))} specs valid" in result.stderr


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
