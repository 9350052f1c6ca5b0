"""Finding spec files and naming them as the user sees them. Deliberately light (no pydantic, no
YAML): the fast path of `check` and `generate` runs on this module alone."""

from __future__ import annotations

from pathlib import Path

from .diagnostics import Diagnostic

SPEC_SUFFIXES = (".yaml", ".yml")


def display_path(path: Path, cwd: Path) -> str:
    """Paths relative to the working directory where possible: stable across machines."""
    try:
        return path.resolve().relative_to(cwd.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def find_specs(targets: list[Path]) -> tuple[list[Path], list[Diagnostic]]:
    """Expand files and directories into spec files, sorted, without duplicates."""
    found: list[Path] = []
    problems: list[Diagnostic] = []
    for target in targets:
        if target.is_dir():
            found.extend(sorted(p for p in target.rglob("*") if p.suffix in SPEC_SUFFIXES and p.is_file()
                                and not any(part.startswith(".") for part in p.relative_to(target).parts)))
        elif target.is_file():
            found.append(target)
        elif target.exists():
            problems.append(Diagnostic(target.as_posix(), 0, 0, "", "not a regular file (a spec is a YAML file)"))
        else:
            problems.append(Diagnostic(target.as_posix(), 0, 0, "", "no such file or directory"))
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return [Path(p) for p in unique], problems
