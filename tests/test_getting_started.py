"""End-to-end: the getting-started page, command by command, in a new Git repository, with the
`rollgen` installed beside this interpreter (a subprocess, as a user's shell runs it).

The commands are read from the page itself (every `rollgen ...` and `git ...` line of its `sh`
blocks, in order; installing is what the test environment already did), so the page cannot drift
from what works.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, require

PAGE = ROOT / "docs" / "getting-started.md"
BIN = Path(sys.executable).parent
SH_BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)

pytestmark = pytest.mark.e2e


def page_commands() -> list[str]:
    commands = []
    for block in SH_BLOCK.findall(PAGE.read_text()):
        for line in block.splitlines():
            command = line.split("  #")[0].strip()
            if command.startswith(("rollgen ", "git ")) or command == "rollgen":
                commands.append(command)
    return commands


def test_the_page_walks_through_init_schema_generate_commit_and_promote():
    commands = page_commands()
    verbs = [c.split()[1] for c in commands]
    assert verbs == ["init", "schema", "generate", "plan", "add", "commit", "promote", "commit"], commands


def test_the_getting_started_page_works_in_a_new_git_repository(tmp_path: Path):
    require((BIN / "rollgen").exists(), "the rollgen console script")
    require(shutil.which("git") is not None, "git")
    repo = tmp_path / "gitops"
    repo.mkdir()
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    env.pop("CI", None)

    def run(command: str) -> str:
        proc = subprocess.run(command, shell=True, cwd=repo, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"$ {command}\n{proc.stdout}{proc.stderr}"
        return proc.stdout + proc.stderr

    run("git init -q -b main")
    outputs = {command: run(command) for command in page_commands()}

    spec_file = next((repo / "specs").glob("*.yaml"))
    first_line = spec_file.read_text().splitlines()[0]
    schema_ref = first_line.removeprefix("# yaml-language-server: $schema=")
    assert schema_ref != first_line and (spec_file.parent / schema_ref).resolve().is_file()

    spec = yaml.safe_load(spec_file.read_text())
    assert spec["spec"]["canary"]["position"] == 1          # promoted once from init's position 0
    name, namespace = spec["metadata"]["name"], spec["metadata"]["namespace"]
    service = repo / "output" / namespace / name
    assert (service / "kustomization.yaml").is_file()
    assert "weight: 10" in (service / f"virtualservice-{name}.yaml").read_text()
    assert any("10%" in text for command, text in outputs.items() if "promote" in command)

    # both commits landed and the tree is clean: the promote's output was committed with its spec
    log = run("git log --format=%s").splitlines()
    assert len(log) == 2
    assert run("git status --porcelain") == ""
    run("rollgen check")


def test_the_page_offers_every_strategy_and_mesh_rollgen_init_has():
    import click

    from conftest import cli

    init = cli.commands["init"]
    choices = {p.name: p.type.choices for p in init.params if isinstance(p.type, click.Choice)}
    page = PAGE.read_text()
    for strategy in choices["strategy"]:
        assert f"| `{strategy}`" in page, strategy
    for mesh in choices["mesh"]:
        assert f"`{mesh}`" in page, mesh
