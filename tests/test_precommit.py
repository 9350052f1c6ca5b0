"""The pre-commit hooks, run by the real `pre-commit` tool on commits in a scratch git repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, SPECS, require
from docs_reading import precommit_snippet

BIN = Path(sys.executable).parent
PRE_COMMIT = BIN / "pre-commit"


@pytest.fixture(autouse=True)
def tools() -> None:
    require(PRE_COMMIT.exists(), "pre-commit (a test dependency)")
    require(shutil.which("git") is not None, "git")


def _local_language() -> str:
    """pre-commit 4.4 renamed `system` (run a command already on PATH) to `unsupported`."""
    try:
        from pre_commit.all_languages import languages
    except ImportError:
        return "system"
    return "unsupported" if "unsupported" in languages else "system"


LOCAL_LANGUAGE = _local_language()


def hooks() -> list[dict]:
    return yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())


def git(repo: Path, *args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env or {}), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "PRE_COMMIT_HOME": str(repo.parent / "cache"),
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    env.pop("CI", None)
    env = {key: value for key, value in env.items() if value is not None}  # None: unset it
    # git hooks write to stderr: one stream, in order, as a person sees it
    proc = subprocess.run(["git", *args], cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if check:
        assert proc.returncode == 0, proc.stdout
    return proc


def local_config(hook_ids: list[str]) -> str:
    """The hooks exactly as .pre-commit-hooks.yaml declares them (entry, files, pass_filenames, ...),
    as `repo: local` hooks running the rollgen installed beside this interpreter instead of one that
    pre-commit would install into a fresh environment."""
    chosen = []
    for hook in hooks():
        if hook["id"] in hook_ids:
            local = dict(hook)
            local["language"] = LOCAL_LANGUAGE
            local["entry"] = str(BIN / hook["entry"].split()[0]) + hook["entry"][len(hook["entry"].split()[0]):]
            chosen.append(local)
    return yaml.safe_dump({"repos": [{"repo": "local", "hooks": chosen}]}, sort_keys=False)


def scratch_repo(tmp_path: Path, config: str, specs: Path = SPECS) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    shutil.copytree(specs, repo / "specs")
    (repo / ".pre-commit-config.yaml").write_text(config)
    proc = subprocess.run([str(BIN / "rollgen"), "generate"], cwd=repo, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "specs and their output")
    proc = subprocess.run([str(PRE_COMMIT), "install"], cwd=repo, capture_output=True, text=True,
                          env={**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")})
    assert proc.returncode == 0, proc.stderr
    return repo


def edit(repo: Path, name: str, old: str, new: str) -> None:
    spec = repo / "specs" / name
    spec.write_text(spec.read_text().replace(old, new))


def test_the_hooks_file_declares_both_hooks_on_spec_paths_without_filenames():
    by_id = {h["id"]: h for h in hooks()}
    assert set(by_id) == {"rollgen-check", "rollgen-generate"}
    for hook in by_id.values():
        assert hook["language"] == "python" and hook["pass_filenames"] is False
        assert hook["entry"].startswith("rollgen ")
    assert by_id["rollgen-check"]["entry"] == "rollgen check"


def test_check_hook_fails_a_commit_with_stale_output_and_passes_a_fresh_one(tmp_path: Path):
    repo = scratch_repo(tmp_path, local_config(["rollgen-check"]))
    edit(repo, "backend.yaml", "position: 1", "position: 2")
    git(repo, "add", "specs/backend.yaml")
    proc = git(repo, "commit", "-m", "promote backend", check=False)
    assert proc.returncode != 0
    assert "rollgen check" in proc.stdout and "Failed" in proc.stdout
    assert "+      weight: 75" in proc.stdout and "hint: run `rollgen generate`" in proc.stdout
    subprocess.run([str(BIN / "rollgen"), "generate"], cwd=repo, check=True, capture_output=True)
    git(repo, "add", "-A")
    proc = git(repo, "commit", "-m", "promote backend")
    assert "Passed" in proc.stdout


def test_check_hook_looks_at_every_spec_even_when_one_unrelated_spec_is_staged(tmp_path: Path):
    repo = scratch_repo(tmp_path, local_config(["rollgen-check"]))
    (repo / "output/production/orders/httproute-orders.yaml").write_text("hand edited\n")
    git(repo, "add", "output/")
    git(repo, "commit", "-q", "--no-verify", "-m", "someone skipped the hook")
    edit(repo, "catalog.yaml", "replicas: 2", "replicas: 2  # enough")
    subprocess.run([str(BIN / "rollgen"), "generate", "specs/catalog.yaml"], cwd=repo, check=True, capture_output=True)
    git(repo, "add", "-A")
    proc = git(repo, "commit", "-m", "comment", check=False)
    assert proc.returncode != 0
    assert "output/production/orders/httproute-orders.yaml" in proc.stdout


def test_check_hook_is_skipped_when_no_spec_or_output_is_staged(tmp_path: Path):
    repo = scratch_repo(tmp_path, local_config(["rollgen-check"]))
    (repo / "README.md").write_text("notes\n")
    git(repo, "add", "README.md")
    proc = git(repo, "commit", "-m", "notes")
    assert "Skipped" in proc.stdout


def test_generate_hook_regenerates_and_stops_the_commit_until_the_result_is_staged(tmp_path: Path):
    repo = scratch_repo(tmp_path, local_config(["rollgen-generate"]))
    edit(repo, "orders.yaml", "position: 1", "position: 3")
    git(repo, "add", "specs/orders.yaml")
    proc = git(repo, "commit", "-m", "promote orders", check=False)
    assert proc.returncode != 0 and "files were modified by this hook" in proc.stdout
    assert "weight: 50" in (repo / "output/production/orders/httproute-orders.yaml").read_text()
    git(repo, "add", "-A")
    proc = git(repo, "commit", "-m", "promote orders")
    assert "Passed" in proc.stdout


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="try-repo needs this checkout to be a git repository")
def test_try_repo_installs_the_hooks_as_published_and_fails_on_stale_output(tmp_path: Path):
    """The hooks file as users consume it (`language: python`: pre-commit builds a fresh environment
    with `pip install` of this repository), run once; slower, so only the failing case."""
    repo = scratch_repo(tmp_path, "repos: []\n")
    edit(repo, "checkout.yaml", "position: 2", "position: 3")
    git(repo, "add", "-A")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "PRE_COMMIT_HOME": str(tmp_path / "cache"),
           "PIP_NO_COMPILE": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}  # the environment is used once
    env.pop("CI", None)
    proc = subprocess.run([str(PRE_COMMIT), "try-repo", str(ROOT), "rollgen-check"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "rollgen check" in proc.stdout and "Failed" in proc.stdout
    assert "+++ output/shop/checkout/httproute-checkout.yaml" in proc.stdout


@pytest.mark.e2e
@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="cloning needs this checkout to be a git repository")
def test_the_documented_snippet_works_as_written_against_its_release_tag(tmp_path: Path):
    """The .pre-commit-config.yaml from the docs, unchanged but for `repo:` (a clone of this repository
    instead of its public URL), at the tag it names: pre-commit clones that tag and installs the
    hooks from it (`language: python`), and the hook fails a commit with stale output. The tag is
    made in the clone when this commit is not released yet."""
    snippet = precommit_snippet()
    (entry,) = snippet["repos"]
    clone = tmp_path / "rollgen"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, capture_output=True)
    if not git(clone, "tag", "--list", entry["rev"]).stdout.strip():
        git(clone, "tag", entry["rev"])
    entry["repo"] = str(clone)
    # the specs of that release: examples written since may use fields the released rollgen does not know
    shutil.rmtree(clone / "specs")
    git(clone, "checkout", "-q", entry["rev"], "--", "specs")
    repo = scratch_repo(tmp_path, yaml.safe_dump(snippet, sort_keys=False), clone / "specs")
    edit(repo, "backend.yaml", "position: 1", "position: 2")
    git(repo, "add", "specs/backend.yaml")
    # the environment is used once; the hook must run the rollgen installed from the tag, not this checkout
    env = {"PIP_NO_COMPILE": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONPATH": None}
    proc = git(repo, "commit", "-m", "promote backend", check=False, env=env)
    assert proc.returncode != 0, proc.stdout
    assert "rollgen check" in proc.stdout and "Failed" in proc.stdout
    assert "+++ output/production/backend/" in proc.stdout
