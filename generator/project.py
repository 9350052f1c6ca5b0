"""The project file: where a repository keeps its specs and its output, read by every command.

`rollgen.toml`, or a `[tool.rollgen]` table in a `pyproject.toml` the repository already has, found
in the working directory or the nearest directory above it that has one:

    specs = ["deploy/specs"]          # files or directories (searched with their subfolders)
    output = "deploy/output"
    exclude = ["values.yml", "deploy/specs/legacy/**"]
    output-format = "helm"            # manifests (the default) or helm
    chart-name = "fleet"              # with helm; default: the output directory's name

Paths are relative to the directory of the file. Options given on the command line win over it.
Light on purpose (tomllib only): every command reads it before its fast path.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from generator.diagnostics import Diagnostic, InvalidInput
from generator.output.helm import valid_chart_name
from generator.output.sources import NO_EXCLUDES, Excludes

PROJECT_FILE = "rollgen.toml"
PYPROJECT = "pyproject.toml"
OUTPUT_FORMATS = ("manifests", "helm")
DEFAULT_SPECS = "specs"
DEFAULT_OUTPUT = "output"

# key -> what it holds, for messages
KEYS = {
    "specs": "a list of spec files or directories",
    "output": "the output directory",
    "exclude": "a list of globs of files that are not specs",
    "output-format": "manifests or helm",
    "chart-name": "the chart name with output-format helm",
}


@dataclass(frozen=True)
class Project:
    """What the project file says, its paths made absolute; `file` is None when there is none."""

    root: Path
    file: Path | None = None
    specs: tuple[Path, ...] = ()
    output: Path | None = None
    exclude: tuple[str, ...] = ()
    output_format: str | None = None
    chart_name: str | None = None
    shown: str = ""  # the file as messages name it: `rollgen.toml` or `pyproject.toml [tool.rollgen]`

    @property
    def excludes(self) -> Excludes:
        return Excludes(self.root, self.exclude) if self.exclude else NO_EXCLUDES


@dataclass(frozen=True)
class Where:
    """Where a command finds specs and writes output: its options, else the project file, else the
    defaults (specs/ and output/). Paths are as the user would type them where the command runs;
    `cwd` is the directory paths in messages and records are relative to: the project file's, so that
    a run from a subfolder writes the same record."""

    targets: list[Path]
    outdir: Path
    cwd: Path
    exclude: Excludes
    looked: str  # where the specs were looked for, for the message when there are none
    named: bool  # the specs were named on the command line
    output_format: str | None = None
    chart_name: str | None = None

    @property
    def shown_output(self) -> str:
        return self.outdir.as_posix()

    @property
    def spec_folder(self) -> Path:
        """Where a new spec goes: the first folder the specs are looked for in (specs/ by default)."""
        return next((t for t in self.targets if t.suffix not in (".yaml", ".yml")), Path(DEFAULT_SPECS))


def _shown(path: Path, cwd: Path) -> Path:
    """A path as the user would type it from `cwd`."""
    return Path(os.path.relpath(path, cwd)) if path.is_absolute() else path


def where_to_work(project: Project, targets: list[Path], outdir: Path | None, cwd: Path) -> Where:
    """The command line's spec paths and output directory when given, else the project file's, else the
    defaults; paths of the project file are shown from `cwd`, where the command runs."""
    origin = f" (from {_shown(project.file, cwd).as_posix()})" if project.file else ""
    named = bool(targets)
    if targets:
        looked = ", ".join(t.as_posix() for t in targets)
    elif project.specs:
        targets = [_shown(t, cwd) for t in project.specs]
        looked = ", ".join(t.as_posix() for t in targets) + origin
    elif project.file:
        targets = [_shown(project.root / DEFAULT_SPECS, cwd)]
        looked = f"{targets[0].as_posix()}/ (the default; `specs` in {_shown(project.file, cwd).as_posix()} names others)"
    else:
        targets = [Path(DEFAULT_SPECS)]
        looked = f"{DEFAULT_SPECS}/ (the default; name files or directories as arguments, or in a {PROJECT_FILE})"
    if outdir is None:
        outdir = _shown(project.output or project.root / DEFAULT_OUTPUT, cwd) if project.file else Path(DEFAULT_OUTPUT)
    return Where(targets, outdir, project.root if project.file else cwd, project.excludes, looked, named,
                 project.output_format, project.chart_name)


@dataclass
class _Text:
    """A project file's text, to locate a key for a message."""

    path: str
    text: str
    table: str | None = None  # "tool.rollgen" in a pyproject.toml
    lines: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.lines = self.text.splitlines()

    def position(self, key: str | None) -> tuple[int, int]:
        """Line and column of `key = ...` (in the table, for a pyproject.toml), else of the table's header."""
        start, header = 0, 0
        if self.table:
            header_re = re.compile(r"\s*\[\s*" + r"\s*\.\s*".join(map(re.escape, self.table.split("."))) + r"\s*\]\s*(#.*)?")
            for i, line in enumerate(self.lines):
                if header_re.fullmatch(line):
                    start, header = i + 1, i + 1
                    break
        for i in range(start, len(self.lines)):
            line = self.lines[i]
            if i > start and self.table and re.match(r"\s*\[", line):
                break
            if key is not None:
                match = re.match(rf"(\s*)[\"']?{re.escape(key)}[\"']?\s*=", line)
                if match:
                    return i + 1, len(match.group(1)) + 1
        return (header, 1) if header else (1, 1)

    def error(self, key: str | None, message: str, hint: str = "") -> Diagnostic:
        line, col = self.position(key)
        where = f"tool.rollgen.{key}" if self.table and key else (key or "")
        return Diagnostic(self.path, line, col, where, message, hint)


def _decode_error(path: str, exc: tomllib.TOMLDecodeError) -> Diagnostic:
    message = str(exc)
    match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    line, col = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    message = message[: match.start()] if match else message
    return Diagnostic(path, line, col, "", f"not valid TOML: {message[:1].lower() + message[1:]}",
                      "see https://toml.io for the syntax")


def _find(start: Path) -> tuple[Path, dict, _Text] | None:
    """The nearest project file at or above `start`: (path, its rollgen table, its text)."""
    for directory in (start, *start.parents):
        for name in (PROJECT_FILE, PYPROJECT):
            path = directory / name
            if not path.is_file():
                continue
            shown = Path(os.path.relpath(path, start)).as_posix()
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise InvalidInput([Diagnostic(shown, 0, 0, "", f"cannot read the project file: {exc}")]) from None
            if name == PYPROJECT and not re.search(r"^\s*\[\s*tool\s*\.\s*rollgen\s*\]", text, re.MULTILINE):
                continue  # a pyproject.toml without rollgen's table is another tool's business
            try:
                data = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                raise InvalidInput([_decode_error(shown, exc)]) from None
            if name == PYPROJECT:
                table = data.get("tool", {}).get("rollgen") if isinstance(data.get("tool"), dict) else None
                if table is None:
                    continue
                return path, table, _Text(shown, text, "tool.rollgen")
            return path, data, _Text(shown, text)
    return None


def _strings(value, key: str, text: _Text, problems: list[Diagnostic]) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        problems.append(text.error(key, f"must be {KEYS[key]} (strings), got {value!r}",
                                   f'e.g. {key} = ["{DEFAULT_SPECS if key == "specs" else "values.yml"}"]'))
        return ()
    return tuple(value)


def _string(value, key: str, text: _Text, problems: list[Diagnostic]) -> str | None:
    if not isinstance(value, str) or not value:
        problems.append(text.error(key, f"must be {KEYS[key]} (a string), got {value!r}"))
        return None
    return value


def read_project(cwd: Path) -> Project:
    """The project file nearest to `cwd`, checked; a Project rooted at `cwd` with nothing set when there
    is none. Raises InvalidInput with every problem in it, located."""
    found = _find(cwd.absolute())
    if found is None:
        return Project(cwd)
    path, table, text = found
    root = path.parent
    shown = f"{PYPROJECT} [tool.rollgen]" if text.table else PROJECT_FILE
    if not isinstance(table, dict):
        raise InvalidInput([text.error(None, "[tool.rollgen] must be a table")])
    problems: list[Diagnostic] = []
    for key in table:
        if key not in KEYS:
            close = difflib.get_close_matches(key, list(KEYS), n=1, cutoff=0.6)
            hint = (f"did you mean {close[0]!r}? " if close else "") + "known keys: " + ", ".join(KEYS)
            problems.append(text.error(key, f"unknown key {key!r}", hint))
    specs = _strings(table["specs"], "specs", text, problems) if "specs" in table else ()
    output = _string(table["output"], "output", text, problems) if "output" in table else None
    exclude = _strings(table["exclude"], "exclude", text, problems) if "exclude" in table else ()
    fmt = _string(table["output-format"], "output-format", text, problems) if "output-format" in table else None
    if fmt is not None and fmt not in OUTPUT_FORMATS:
        problems.append(text.error("output-format", f"must be one of {', '.join(OUTPUT_FORMATS)}, got {fmt!r}"))
    chart = _string(table["chart-name"], "chart-name", text, problems) if "chart-name" in table else None
    if chart is not None and not valid_chart_name(chart):
        problems.append(text.error("chart-name", f"{chart!r} is not a chart name",
                                   "use lowercase letters, digits and '-'"))
    for key, value in (("specs", specs), ("output", (output,) if output else ())):
        for entry in value:
            if Path(entry).is_absolute() or ".." in Path(entry).parts:
                problems.append(text.error(key, f"{entry!r} is outside the project",
                                           f"name paths relative to the directory of {path.name}, inside it"))
    if problems:
        raise InvalidInput(problems)
    return Project(root, path, tuple(root / s for s in specs), root / output if output else None, exclude,
                   fmt, chart, shown)
