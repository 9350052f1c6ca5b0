"""Finding spec files and naming them as the user sees them. Deliberately light (no pydantic, no
YAML): the fast path of `check` and `generate` runs on this module alone."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from generator.diagnostics import Diagnostic
from generator.output.store import STATE_FILE, read_state

SPEC_SUFFIXES = (".yaml", ".yml")


def _glob_regex(pattern: str) -> re.Pattern:
    """A glob as in .gitignore: `*` and `?` stay inside one path segment, `**/` is any number of
    directories, a trailing `/**` everything below."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:[^/]+/)*", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + "(?:/.*)?")


@dataclass(frozen=True)
class Excludes:
    """Files that are not specs although they lie among them (a Helm `values.yml`, a Kustomize file).

    Patterns are globs relative to `root` (the directory of the project file that names them); one
    without a `/` matches a file or directory name at any depth, like a .gitignore line. They apply
    when directories are searched; a file named on its own is always read."""

    root: Path
    patterns: tuple[str, ...] = ()

    def __call__(self, path: Path) -> bool:
        if not self.patterns:
            return False
        try:
            rel = path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return False
        for pattern in self.patterns:
            pattern = pattern.strip("/") if pattern != "/" else pattern
            if "/" in pattern:
                if _glob_regex(pattern).fullmatch(rel):
                    return True
            elif any(_glob_regex(pattern).fullmatch(part) for part in rel.split("/")):
                return True
        return False


NO_EXCLUDES = Excludes(Path("/"))


def find_specs(targets: list[Path], exclude: Excludes = NO_EXCLUDES) -> tuple[list[Path], list[Diagnostic]]:
    """Expand files and directories into spec files, sorted, without duplicates; files below a directory
    that `exclude` matches are left out."""
    found: list[Path] = []
    problems: list[Diagnostic] = []
    for target in targets:
        if target.is_dir():
            found.extend(p for p in _specs_under(target, problems) if not exclude(p))
        elif target.is_file():
            found.append(target)
        elif target.exists():
            problems.append(Diagnostic(target.as_posix(), 0, 0, "", "not a regular file (a spec is a YAML file)"))
        else:
            problems.append(Diagnostic(target.as_posix(), 0, 0, "", "no such file or directory"))
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return [Path(p) for p in unique], problems


def _unreadable(problems: list[Diagnostic]):
    """A directory that cannot be listed is an error, never silently skipped: its specs' output would
    otherwise look like that of removed specs, and be removed."""
    def report(exc: OSError) -> None:
        problems.append(Diagnostic(Path(exc.filename or "").as_posix(), 0, 0, "",
                                   f"cannot read the directory: {exc.strerror or exc}",
                                   "rollgen needs read access to every directory of specs"))
    return report


def _specs_under(target: Path, problems: list[Diagnostic]) -> list[Path]:
    """The spec files below a directory, sorted; hidden entries are skipped, and so is rollgen's own output
    when it lies inside (`rollgen generate specs -o specs/generated`): a directory below the target with a
    record is skipped whole, and in the target itself the files its record lists are."""
    out = []
    generated = set(read_state(target).owned())
    for root, dirs, files in os.walk(target, onerror=_unreadable(problems)):
        here = Path(root)
        dirs[:] = [d for d in dirs if not d.startswith(".") and not (here / d / STATE_FILE).is_file()]
        for name in files:
            p = here / name
            if (p.suffix in SPEC_SUFFIXES and not name.startswith(".") and p.is_file()
                    and p.relative_to(target).as_posix() not in generated):
                out.append(p)
    return sorted(out)
