"""Every invalid spec gets its exact, located message — and never a traceback or a write."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import FIXTURES, run_cli

INVALID = FIXTURES / "invalid"
CASES = sorted(p.stem for p in INVALID.glob("*.yaml"))


@pytest.mark.parametrize("case", CASES)
def test_invalid_spec_reports_exact_message(case):
    result = run_cli("validate", f"{case}.yaml", cwd=INVALID)
    assert result.exit_code == 1
    expected = (INVALID / f"{case}.expected").read_text()
    assert result.stderr == expected


@pytest.mark.parametrize("case", CASES)
def test_invalid_spec_leaves_output_untouched(case, tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.yaml").write_text("kept: true\n")
    result = run_cli("generate", str(INVALID / f"{case}.yaml"), "-o", str(out))
    assert result.exit_code == 1
    assert "nothing was written" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["keep.yaml"]


def test_all_errors_in_all_files_are_reported_sorted():
    result = run_cli("validate", "steps-out-of-range.yaml", "duplicate-key.yaml", "wrong-type.yaml", cwd=INVALID)
    assert result.exit_code == 1
    heads = [l for l in result.stderr.splitlines() if not l.startswith(("  ", "invalid"))]
    assert heads == sorted(heads, key=lambda l: (l.split(":")[0], int(l.split(":")[1])))
    assert len(heads) == 4
