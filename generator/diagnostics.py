"""Diagnostics: what rollgen says about a user's input, collected first and rendered later."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, asdict
from pathlib import Path
from typing import Iterable

# Exit codes (see STYLE): 0 ok, 1 invalid input or stale output, 2 usage (click exits with it), 3 internal error.
EXIT_INVALID = 1
EXIT_INTERNAL = 3


def format_path(path: Iterable) -> str:
    """`("spec", "canary", "steps", 2)` -> `spec.canary.steps[2]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


# Abbreviations that end in a full stop without ending the sentence; the second group does end it
# when a capital letter follows ("..., etc. The rest").
_NEVER_ENDS = ("e.g.", "i.e.")
_MAY_END = ("etc.", "cf.", "vs.")


def first_sentence(text: str) -> str:
    """The first sentence of a description, without its full stop (a hint quotes it whole).

    A sentence ends at a full stop followed by a space or the end; not inside `code`, nor after
    "e.g." or "i.e.", nor after "etc." unless a capital letter follows. Version numbers and URLs have
    no space after their dots, so they never end one."""
    in_code = False
    for i, char in enumerate(text):
        if char == "`":
            in_code = not in_code
        if char != "." or in_code or (i + 1 < len(text) and not text[i + 1].isspace()):
            continue
        word = text[: i + 1].rsplit(None, 1)[-1].lstrip("(").lower()
        following = text[i + 1:].lstrip()[:1]
        if word in _NEVER_ENDS or (word in _MAY_END and following and not following.isupper()):
            continue
        return text[:i]
    return text.rstrip()


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem (or warning) found in one file, at a line and column (1-based; 0 = unknown)."""

    file: str
    line: int
    column: int
    path: str
    message: str
    hint: str = ""
    severity: str = "error"  # error | warning

    def render(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        head = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        if self.severity == "warning":
            head = f"{where}: warning: " + (f"{self.path}: " if self.path else "") + self.message
        return head + (f"\n  hint: {self.hint}" if self.hint else "")

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Report:
    """Everything found in one run, in a stable order."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def extend(self, items: Iterable[Diagnostic]) -> None:
        self.diagnostics.extend(items)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    def sorted(self) -> list[Diagnostic]:
        return sorted(set(self.diagnostics))

    def render_text(self) -> str:
        return "\n".join(d.render() for d in self.sorted())

    def render_json(self, **extra) -> str:
        doc = {
            "ok": not self.errors,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "diagnostics": [d.to_json() for d in self.sorted()],
        }
        doc.update(extra)
        return json.dumps(doc, indent=2, sort_keys=False)


class InvalidInput(Exception):
    """Raised to stop a step whose input has errors; carries the diagnostics."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("\n".join(d.render() for d in diagnostics))
        self.diagnostics = diagnostics


class KernelError(RuntimeError):
    """cdk8s could not run: jsii's kernel (Node.js) would not start, refused a request or stopped. Not
    the specs' fault; the message says what happened and, where it can, what to do."""


def display_path(path: Path, cwd: Path) -> str:
    """Paths relative to the working directory where possible: stable across machines."""
    try:
        return path.resolve().relative_to(cwd.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
