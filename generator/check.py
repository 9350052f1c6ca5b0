"""`rollgen check`: is the committed output exactly what `generate` would write? Writes nothing.

Unchanged specs are settled by the record and the local cache (see incremental.py); only stale specs
are compiled, and what they would produce is compared with the files on disk, the record included.
Without a cache (a fresh clone) every spec is compiled: check never trusts output it has not seen
this compiler produce.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from generator.diagnostics import Report
from generator.output.incremental import Survey, survey
from generator.output.store import STATE_FILE, DEFAULT_OUTPUT_FORMAT, read_regular


@dataclass(frozen=True)
class Drift:
    """One file that differs: `new` (generate would create it), `changed`, or `stale` (generate would
    remove it). `diff` is a unified diff from the committed file to the generated one."""

    path: str
    status: str
    diff: str

    def to_json(self) -> dict:
        return {"path": self.path, "status": self.status, "diff": self.diff}


@dataclass
class CheckResult:
    report: Report
    drift: list[Drift] = field(default_factory=list)
    specs: int = 0

    @property
    def ok(self) -> bool:
        return not self.report.errors and not self.drift


def _read(path: Path) -> str | None:
    raw = read_regular(path)
    return None if raw is None else raw.decode("utf-8", errors="replace")


def unified(shown: str, old: str | None, new: str | None) -> str:
    lines = difflib.unified_diff((old or "").splitlines(keepends=True), (new or "").splitlines(keepends=True),
                                 fromfile=shown if old is not None else "/dev/null",
                                 tofile=shown if new is not None else "/dev/null")
    out = ""
    for line in lines:
        out += line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
    return out


def compare(outdir: Path, expected: dict[str, str], removed: list[str]) -> list[Drift]:
    """Expected texts (and paths generate would remove) against what is on disk."""
    drift = []
    shown = outdir.as_posix().rstrip("/")
    for rel in sorted(expected):
        current = _read(outdir / rel)
        if current == expected[rel]:
            continue
        status = "new" if current is None else "changed"
        drift.append(Drift(rel, status, unified(f"{shown}/{rel}", current, expected[rel])))
    for rel in sorted(removed):
        current = _read(outdir / rel)
        if current is not None:
            drift.append(Drift(rel, "stale", unified(f"{shown}/{rel}", current, None)))
    # the record last: the manifests' diffs are what a reviewer reads first
    return sorted(drift, key=lambda d: (d.path == STATE_FILE, d.path))


def check(targets: list[Path], outdir: Path, cwd: Path, fmt=None, progress=None,
          surveyed: Survey | None = None) -> CheckResult:
    name = fmt.name if fmt is not None else DEFAULT_OUTPUT_FORMAT
    surveyed = surveyed or survey(targets, outdir, cwd, name)
    if surveyed.up_to_date:
        return CheckResult(Report(), specs=len(surveyed.paths))
    from generator.output.formats import manifests
    from generator.output.store import plan_changes
    from generator.app import prepare, expected_record, name_shared

    fmt = fmt or manifests()
    pending = prepare(surveyed, cwd, fmt, progress)
    result = CheckResult(pending.report, specs=len(surveyed.paths))
    if pending.report.errors:
        return result
    to_write, stale, problems = plan_changes(outdir, pending.state, pending.new, pending.dropped)
    if problems:
        pending.report.extend(name_shared(problems, outdir))
        return result
    expected = dict(to_write)
    expected[STATE_FILE] = expected_record(pending, fmt)
    result.drift = compare(outdir, expected, stale)
    return result
