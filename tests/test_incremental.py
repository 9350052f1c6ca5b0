"""Incremental generate and `check`: unchanged specs are not compiled, and check never writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, SPECS, run_cli

EXAMPLES = sorted(f"specs/{p.name}" for p in SPECS.glob("*.yaml"))


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def stamps(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in sorted(root.rglob("*"))}


@pytest.fixture
def compiled(monkeypatch) -> list[str]:
    """The sources handed to the compiler during a test, in order."""
    import generator.pipeline as pipeline

    seen: list[str] = []
    real = pipeline.compile_specs

    def recording(specs):
        seen.extend(s.source for s in specs)
        return real(specs)

    monkeypatch.setattr(pipeline, "compile_specs", recording)
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
    assert "cdk8s" in proc.stdout.strip().splitlines()[-1]


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
    state = generated / "output" / ".rollgen-state"
    doc = json.loads(state.read_text())
    doc["generator"] = "rollgen 0.0.1 (0000000000000000)"
    state.write_text(json.dumps(doc, indent=1) + "\n")
    result = run_cli("generate", cwd=generated)
    assert result.exit_code == 0
    assert sorted(compiled) == EXAMPLES
    assert json.loads(state.read_text())["generator"].startswith("rollgen ")


def test_the_generator_id_covers_rollgen_s_own_code():
    from generator import __version__
    from generator.incremental import generator_id

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


def test_check_shows_a_diff_per_changed_new_and_stale_file_and_exits_1(generated: Path):
    out = generated / "output"
    touch_spec(generated, "backend.yaml", "position: 1", "position: 2")
    (out / "production/orders/service-orders.yaml").unlink()
    (generated / "specs" / "catalog.yaml").unlink()
    before = stamps(out)
    result = run_cli("check", cwd=generated)
    assert result.exit_code == 1
    assert stamps(out) == before  # nothing written, the record included
    diff = result.stdout
    assert "--- output/production/backend/virtualservice-backend.yaml\n" in diff
    assert "-      weight: 90\n" in diff and "+      weight: 75\n" in diff
    assert "--- /dev/null\n+++ output/production/orders/service-orders.yaml\n" in diff
    assert "--- output/production/catalog/service-catalog.yaml\n+++ /dev/null\n" in diff
    assert "-- catalog\n" in diff  # the namespace's kustomization no longer lists it
    assert "output/.rollgen-state" in diff
    assert "differ from what `rollgen generate` writes" in result.stderr
    assert "hint: run `rollgen generate` and commit output" in result.stderr
    # and generate makes check pass again
    assert run_cli("generate", cwd=generated).exit_code == 0
    assert run_cli("check", cwd=generated).exit_code == 0


def test_check_finds_a_hand_edited_file_on_the_fast_path(generated: Path):
    target = generated / "output/production/backend/deployment-backend-v1.yaml"
    target.write_text(target.read_text().replace("replicas: 3", "replicas: 30"))
    result = run_cli("check", cwd=generated)
    assert result.exit_code == 1
    assert "-  replicas: 30\n+  replicas: 3\n" in result.stdout
    assert "1 file differs" in result.stderr


def test_check_reports_a_stale_record_when_only_a_comment_changed(generated: Path):
    spec = generated / "specs" / "catalog.yaml"
    spec.write_text(spec.read_text() + "# a comment\n")
    result = run_cli("check", cwd=generated)
    assert result.exit_code == 1
    assert "output/.rollgen-state" in result.stdout
    assert "(0 new, 1 changed, 0 stale)" in result.stderr


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

    from generator.incremental import generator_id

    site = tmp_path / "site"
    shutil.copytree(ROOT / "generator", site / "generator", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "schemas", site / "generator" / "schemas")
    proc = subprocess.run([sys.executable, "-c", "from generator.incremental import generator_id; print(generator_id())"],
                          cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(site)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == generator_id()
