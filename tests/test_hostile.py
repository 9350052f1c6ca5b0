"""Hostile input: malformed, huge or malicious specs, and a hostile output directory.

Every fixture in fixtures/hostile/ is run through `validate` (exact expected stderr beside it) and
through `generate` (no traceback, the output directory untouched). The huge inputs are generated at
test time. Output-directory cases (links, permissions, disk full, concurrent runs) run the real CLI.
"""

from __future__ import annotations

import fcntl
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import FIXTURES, SPECS, run_cli

HOSTILE = FIXTURES / "hostile"
CASES = sorted(p.stem for p in HOSTILE.glob("*.yaml"))
CATALOG = (SPECS / "catalog.yaml").read_text()


def tree(root: Path) -> dict[str, bytes]:
    """The files of an output directory as committed: without the local cache (.rollgen-cache/)."""
    if not root.exists():
        return {}
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.relative_to(root).parts[0] != ".rollgen-cache"}


def rollgen(*args: str, cwd: Path, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "generator", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def finished(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str]:
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A scratch project with the example specs, generated once, and a file outside the output."""
    shutil.copytree(SPECS, tmp_path / "specs")
    assert run_cli("generate", cwd=tmp_path).exit_code == 0
    (tmp_path / "outside.txt").write_text("precious\n")
    return tmp_path


@pytest.mark.parametrize("case", CASES)
def test_hostile_spec_gets_the_expected_message(case: str):
    result = run_cli("validate", f"{case}.yaml", cwd=HOSTILE)
    expected = (HOSTILE / f"{case}.expected").read_text()
    assert result.stderr == expected
    assert result.exit_code == (0 if expected.endswith("spec valid\n") else 1)


@pytest.mark.parametrize("case", [c for c in CASES if not c.endswith("-valid")])
def test_hostile_spec_never_changes_the_output(project: Path, case: str):
    shutil.copy(HOSTILE / f"{case}.yaml", project / "specs" / "hostile.yaml")
    before = tree(project)
    result = run_cli("generate", cwd=project)
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert "specs/hostile.yaml:" in result.stderr
    assert tree(project) == before


def test_a_utf8_bom_spec_generates_the_same_manifests_as_without_it(project: Path):
    before = tree(project / "output")
    (project / "specs" / "catalog.yaml").write_bytes(b"\xef\xbb\xbf" + CATALOG.encode())
    result = run_cli("generate", cwd=project)
    assert result.exit_code == 0, result.stderr
    after = tree(project / "output")
    assert {k: v for k, v in after.items() if k != ".rollgen-state"} == \
        {k: v for k, v in before.items() if k != ".rollgen-state"}


def generated(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_a_50_mb_spec_is_refused_without_reading_it(tmp_path: Path):
    path = tmp_path / "huge.yaml"
    with path.open("w") as fh:
        fh.write(CATALOG)
        line = "# " + "x" * 1022 + "\n"
        for _ in range(50 * 1024):
            fh.write(line)
    assert path.stat().st_size > 50 * 1024 * 1024
    started = time.perf_counter()
    result = run_cli("validate", "huge.yaml", cwd=tmp_path)
    assert time.perf_counter() - started < 5
    assert result.exit_code == 1
    assert result.stderr.startswith(f"huge.yaml:1:1: the file is {path.stat().st_size} bytes; a spec may be at most")


@pytest.mark.parametrize("shape", ["flow-sequences", "flow-mappings", "block-mappings", "block-sequences"])
def test_deeply_nested_documents_are_refused_cleanly(tmp_path: Path, shape: str):
    depth = 100_000
    content = {
        "flow-sequences": b"[" * depth + b"]" * depth,
        "flow-mappings": b"{a: " * depth + b"1" + b"}" * depth,
        "block-mappings": "".join(" " * i + "a:\n" for i in range(1400)).encode(),
        "block-sequences": "".join(" " * i + "-\n" for i in range(1400)).encode(),
    }[shape][: 1024 * 1024]
    generated(tmp_path, "deep.yaml", content)
    result = run_cli("validate", "deep.yaml", cwd=tmp_path)
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith("deep.yaml:") and "nest" in first, first


def test_deep_nesting_is_refused_by_the_pure_python_parser_too(tmp_path: Path, monkeypatch):
    import yaml

    import generator.spec.yamlio as yamlio

    monkeypatch.setattr(yamlio, "_SpecLoader", type("PureLoader", (yamlio._RememberingResolver, yaml.SafeLoader), {}))
    generated(tmp_path, "deep.yaml", b"[" * 50_000 + b"]" * 50_000)
    result = run_cli("validate", "deep.yaml", cwd=tmp_path)
    assert result.exit_code == 1 and "nested" in result.stderr


def test_a_spec_with_a_million_keys_stops_at_the_node_limit(tmp_path: Path):
    generated(tmp_path, "wide.yaml", b"".join(b"k%d: 1\n" % i for i in range(120_000))[: 1024 * 1024])
    result = run_cli("validate", "wide.yaml", cwd=tmp_path)
    assert result.exit_code == 1 and "more than 100000 nodes" in result.stderr


def test_a_one_megabyte_line_is_a_clean_error(tmp_path: Path):
    generated(tmp_path, "long.yaml", CATALOG.replace("name: catalog", "name: " + "a" * 900_000).encode())
    result = run_cli("validate", "long.yaml", cwd=tmp_path)
    assert result.exit_code == 1 and "long.yaml:7:9: metadata.name: must be at most 55 characters long, got 900000" in result.stderr


def test_a_fifo_among_the_specs_does_not_hang(project: Path):
    os.mkfifo(project / "specs" / "pipe.yaml")
    result = run_cli("validate", cwd=project)
    assert result.exit_code == 0, result.stderr
    result = run_cli("validate", "specs/pipe.yaml", cwd=project)
    assert result.exit_code == 1 and "not a regular file" in result.stderr


# --- the output directory ----------------------------------------------------------------------------


def test_a_symlinked_output_root_is_followed(project: Path, tmp_path_factory):
    real = tmp_path_factory.mktemp("real-output")
    (project / "linked").symlink_to(real, target_is_directory=True)
    result = run_cli("generate", "-o", "linked", cwd=project)
    assert result.exit_code == 0, result.stderr
    assert tree(real) == tree(project / "output")
    assert (project / "linked").is_symlink()


def test_a_symlink_inside_the_output_is_never_followed(project: Path, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    out = project / "output"
    shutil.rmtree(out / "production")
    (out / "production").symlink_to(elsewhere, target_is_directory=True)
    before = tree(project)
    result = run_cli("generate", cwd=project)
    assert result.exit_code == 1
    assert ("specs/backend.yaml: cannot write output/production/backend/deployment-backend-v1.yaml: "
            "output/production is a symbolic link, and rollgen does not follow links inside the output directory"
            ) in result.stderr
    assert list(elsewhere.iterdir()) == []
    assert tree(project) == before


@pytest.mark.parametrize("command", ["check", "generate"])
def test_output_moved_behind_a_link_is_never_taken_as_up_to_date(project: Path, tmp_path_factory, command: str):
    """The same files, but behind a link rollgen would not write through: neither check nor the fast
    path of generate may call them up to date (a later change could not be written)."""
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "shop"
    out = project / "output"
    shutil.move(out / "shop", elsewhere)
    (out / "shop").symlink_to(elsewhere, target_is_directory=True)
    before = tree(elsewhere)
    result = run_cli(command, cwd=project)
    assert result.exit_code == 1, result.stderr
    assert "output/shop is a symbolic link, and rollgen does not follow links inside the output directory" \
        in result.stderr
    assert "up to date" not in result.stderr and "unchanged" not in result.stderr
    assert tree(elsewhere) == before


def test_a_symlinked_file_where_a_manifest_goes_is_left_alone(project: Path):
    target = project / "output/production/catalog/service-catalog.yaml"
    target.unlink()
    target.symlink_to(project / "outside.txt")
    result = run_cli("generate", cwd=project)
    assert result.exit_code == 1
    assert "is a symbolic link" in result.stderr
    assert (project / "outside.txt").read_text() == "precious\n" and target.is_symlink()


def test_a_damaged_state_record_cannot_make_rollgen_delete_outside_the_output(project: Path):
    state_path = project / "output/.rollgen-state"
    state = json.loads(state_path.read_text())
    state["specs"]["specs/catalog.yaml"]["files"]["../outside.txt"] = "0" * 64
    state["specs"]["specs/catalog.yaml"]["files"]["/etc/hostname"] = "0" * 64
    state_path.write_text(json.dumps(state))
    result = run_cli("generate", cwd=project)
    assert result.exit_code == 1
    assert ("output/.rollgen-state: records '../outside.txt' as generated, which rollgen will not remove: "
            "it is not a plain relative path inside the output directory") in result.stderr
    assert "records '/etc/hostname' as generated" in result.stderr
    assert (project / "outside.txt").read_text() == "precious\n"


def test_a_no_longer_generated_file_that_was_edited_is_kept(project: Path):
    edited = project / "output/production/orders/httproute-orders.yaml"
    edited.write_text("# mine now\n")
    (project / "specs/orders.yaml").unlink()
    result = run_cli("generate", cwd=project)
    assert result.exit_code == 0, result.stderr
    assert edited.read_text() == "# mine now\n"
    assert "httproute-orders.yaml: warning: no longer generated but edited since rollgen wrote it; left in place" \
        in result.stderr
    assert not (project / "output/production/orders/deployment-orders-v1.yaml").exists()
    # it is not rollgen's any more: a later run leaves it alone too
    assert run_cli("generate", cwd=project).exit_code == 0 and edited.exists()


def test_a_read_only_output_directory_is_a_clean_error(project: Path, monkeypatch):
    spec = project / "specs/catalog.yaml"
    spec.write_text(spec.read_text().replace("replicas: 2", "replicas: 4"))
    before = tree(project / "output")
    if os.geteuid() == 0:  # root ignores permission bits: make every file creation fail as it would
        real_open = os.open

        def refuse(path, flags, *args, **kwargs):
            if flags & os.O_CREAT and "output" in Path(os.fsdecode(path)).parts:
                raise PermissionError(13, "Permission denied", path)
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", refuse)
        result = run_cli("generate", cwd=project)
    else:
        os.chmod(project / "output", 0o555)
        try:
            result = run_cli("generate", cwd=project)
        finally:
            os.chmod(project / "output", 0o755)
    assert result.exit_code == 1
    assert "output/.rollgen-lock: cannot write: Permission denied; the previous output is unchanged" in result.stderr
    assert "hint: rollgen needs write access to the output directory" in result.stderr
    assert "Traceback" not in result.stderr
    assert tree(project / "output") == before


# Starts rollgen's runtime first (it unpacks files of its own), then limits the size of any file the
# process writes: a write past the limit fails with EFBIG (SIGXFSZ ignored), as a full disk fails.
LIMITED = """
import resource, signal, sys
from generator.constructs.runtime import start
start().ready()
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), resource.RLIM_INFINITY))
from generator.cli import main
main(sys.argv[2:])
"""


def test_a_write_that_fails_midway_leaves_the_previous_output_intact(project: Path):
    """A real failure from the OS in the middle of the write, in a real process."""
    for name in ("backend", "orders", "checkout"):
        spec = project / "specs" / f"{name}.yaml"
        spec.write_text(spec.read_text().replace("position: 1", "position: 3").replace("position: 2", "position: 3"))
    before = tree(project)
    proc = subprocess.Popen([sys.executable, "-c", LIMITED, "1200", "generate"], cwd=project,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    code, err = finished(proc)
    assert code == 1, err
    assert "cannot write: File too large; the previous output is unchanged" in err
    assert "Traceback" not in err
    assert tree(project) == before
    assert not list((project / "output").rglob(".rollgen-*.tmp"))
    code, err = finished(rollgen("generate", cwd=project))
    assert code == 0, err


def test_a_second_run_waits_for_the_lock_held_on_the_output(project: Path):
    spec = project / "specs/catalog.yaml"
    spec.write_text(spec.read_text().replace("replicas: 2", "replicas: 5"))
    lock = project / "output/.rollgen-lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        proc = rollgen("generate", cwd=project)
        time.sleep(3)
        assert proc.poll() is None, "generate must wait while another run holds the output"
        assert "replicas: 2" in (project / "output/production/catalog/deployment-catalog-v2.yaml").read_text()
    finally:
        os.unlink(lock)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    code, err = finished(proc)
    assert code == 0, err
    assert "waiting for another rollgen run writing output" in err
    assert "replicas: 5" in (project / "output/production/catalog/deployment-catalog-v2.yaml").read_text()
    assert not lock.exists()


def test_two_generate_runs_at_once_both_succeed_and_leave_a_consistent_output(project: Path, tmp_path_factory):
    reference = tmp_path_factory.mktemp("reference")
    shutil.copytree(project / "specs", reference / "specs")
    for name in ("backend", "orders"):
        for root in (project, reference):
            spec = root / "specs" / f"{name}.yaml"
            spec.write_text(spec.read_text().replace("position: 1", "position: 4"))
    assert run_cli("generate", cwd=reference).exit_code == 0
    shutil.rmtree(project / "output")
    procs = [rollgen("generate", cwd=project) for _ in range(3)]
    results = [finished(p) for p in procs]
    assert [code for code, _ in results] == [0, 0, 0], results
    assert tree(project / "output") == tree(reference / "output")
    assert sorted(p.name for p in (project / "output").rglob(".rollgen-*")) == [".rollgen-cache", ".rollgen-state"]


def test_nothing_is_ever_written_outside_the_output_directory(project: Path):
    def outside() -> dict:
        return {p: p.read_bytes() for p in project.parent.rglob("*") if p.is_file()
                and (project / "output") not in p.parents and p.name != "hostile.yaml"}

    before = outside()
    for case in CASES:
        shutil.copy(HOSTILE / f"{case}.yaml", project / "specs" / "hostile.yaml")
        run_cli("generate", cwd=project)
    (project / "specs" / "hostile.yaml").unlink()
    assert run_cli("generate", cwd=project).exit_code == 0
    assert outside() == before


def test_a_fifo_or_device_planted_in_the_output_never_hangs_a_run(project: Path):
    generated_file = project / "output/production/catalog/service-catalog.yaml"
    generated_file.unlink()
    os.mkfifo(generated_file)
    stale = project / "output/production/orders/httproute-orders.yaml"
    stale.unlink()
    stale.symlink_to("/dev/zero")
    (project / "specs/orders.yaml").unlink()
    for command in (["check"], ["generate"]):
        code, err = finished(rollgen(*command, cwd=project), timeout=60)
        assert code == 1, err
        assert "Traceback" not in err
    code, err = finished(rollgen("generate", cwd=project), timeout=60)
    assert "service-catalog.yaml exists and was not generated by rollgen" in err
    assert generated_file.is_fifo() and stale.is_symlink()


@pytest.mark.parametrize("name, shown", [
    ("a\nkind: Secret #.yaml", "specs/a\\nkind: Secret #.yaml"),
    (os.fsdecode(b"latin-\xe9.yaml"), "specs/latin-\\xe9.yaml"),
    ("evil\u202eyaml.yaml", "specs/evil\\u202eyaml.yaml"),
])
def test_a_spec_file_name_that_cannot_go_into_a_header_is_refused(project: Path, name: str, shown: str):
    """Every generated file's header names its spec: a newline there would turn the rest of the name
    into YAML, and bytes that are not UTF-8 cannot be written at all."""
    shutil.copy(project / "specs/catalog.yaml", project / "specs" / name)
    before = tree(project / "output")
    for command in ("validate", "check", "generate"):
        result = run_cli(command, cwd=project)
        assert result.exit_code == 1, (command, result.stderr)
        assert result.stderr.startswith(f"{shown}: the file name has a control or formatting character, or bytes "
                                        "that are not UTF-8"), (command, result.stderr)
        assert "hint: rename the spec file" in result.stderr
    assert tree(project / "output") == before


def test_a_spec_directory_that_cannot_be_read_is_an_error_and_its_output_is_kept(project: Path, monkeypatch):
    """Skipping it silently would make its specs look removed, and generate would remove their output."""
    team = project / "specs/team"
    team.mkdir()
    shutil.move(project / "specs/catalog.yaml", team / "catalog.yaml")
    assert run_cli("generate", cwd=project).exit_code == 0
    before = tree(project / "output")
    real_scandir = os.scandir

    def refuse(path=".", *args):
        if Path(os.fsdecode(path)).name == "team":
            raise PermissionError(13, "Permission denied", os.fsdecode(path))
        return real_scandir(path, *args)

    monkeypatch.setattr(os, "scandir", refuse)
    for command in ("validate", "check", "generate"):
        result = run_cli(command, cwd=project)
        assert result.exit_code == 1, (command, result.stderr)
        assert "specs/team: cannot read the directory: Permission denied" in result.stderr, result.stderr
        assert "hint: rollgen needs read access to every directory of specs" in result.stderr
    assert tree(project / "output") == before
