"""Reading specs: file → YAML with positions → schema check → model → meaning checks."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from pydantic import ValidationError

from generator.diagnostics import display_path, Diagnostic, InvalidInput, format_path
from generator.spec.schema import check_schema, kind_model, spec_kind
from generator.spec.rules import check_document
from generator.spec.platform import Platform
from generator.spec.v1alpha1 import Rollout
from generator.spec.yamlio import Located, load_yaml, read_limited


@dataclass
class LoadedSpec:
    """A valid spec, with where it came from and what was said about it."""

    source: str  # the path as shown to the user and written into generated headers
    document: Rollout | Platform  # a Rollout, or a Platform for `kind: Platform`
    digest: str
    located: Located
    warnings: list[Diagnostic] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.document.kind


def _located_findings(located: Located, filename: str, findings) -> list[Diagnostic]:
    out = []
    for f in findings:
        line, col = located.position(f.path, key=f.key)
        out.append(Diagnostic(filename, line, col, format_path(f.path), f.message, f.hint, f.severity))
    return out


def require_rollout(spec: LoadedSpec, command: str) -> None:
    """Commands about a service's traffic refuse a Platform spec with a located error."""
    if spec.kind != "Rollout":
        line, col = spec.located.position(("kind",))
        raise InvalidInput([Diagnostic(spec.source, line, col, "kind",
                                       f"`rollgen {command}` works on a Rollout; this is a {spec.kind} spec",
                                       "a Platform spec installs Flagger; try `rollgen plan` or `rollgen "
                                       "status-commands` on it")])


NOT_A_SPEC_HINT = ("a spec starts with `apiVersion: rollgen/v1alpha1` and `kind:`; if this file is something else "
                   "(Helm values, a Kustomize file), exclude it in rollgen.toml or [tool.rollgen] of pyproject.toml: "
                   'exclude = ["{source}"]')


def parse_spec(raw: bytes, source: str, rules: Callable = check_document) -> LoadedSpec:
    """Validate one spec's bytes with the meaning `rules` (a document's findings). Raises InvalidInput
    with every error found."""
    located = load_yaml(raw, source)
    if not isinstance(located.data, dict):
        raise InvalidInput([Diagnostic(source, 1, 1, "", "a spec is a mapping with apiVersion, kind, metadata and spec",
                                       "start from an example in specs/")])
    if "apiVersion" not in located.data and "kind" not in located.data:
        raise InvalidInput([Diagnostic(source, 1, 1, "", "not a rollgen spec: it has neither apiVersion nor kind",
                                       NOT_A_SPEC_HINT.format(source=source))])
    problems = check_schema(located, source)
    if problems:
        raise InvalidInput(problems)
    kind = spec_kind(located.data)
    try:
        rollout = kind_model(kind).model_validate(located.data)
    except ValidationError as exc:  # the schema should have caught these; report them all the same
        out = []
        for err in exc.errors():
            path = tuple(p for p in err["loc"])
            line, col = located.position(path)
            out.append(Diagnostic(source, line, col, format_path(path), err["msg"].lower()))
        raise InvalidInput(out) from None
    diagnostics = _located_findings(located, source, rules(rollout))
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise InvalidInput(diagnostics)
    return LoadedSpec(source, rollout, hashlib.sha256(raw).hexdigest(), located,
                      [d for d in diagnostics if d.severity != "error"])


def _shown(name: str) -> str:
    """A file name with what a terminal or a YAML comment cannot carry escaped: control and format
    characters, line separators, and bytes that are not UTF-8 (`\\xff`)."""
    out = ""
    for c in name:
        if c.isprintable():
            out += c
        elif 0xDC80 <= ord(c) <= 0xDCFF:  # an undecodable byte, as Python keeps it in a file name
            out += f"\\x{ord(c) - 0xDC00:02x}"
        else:
            out += c.encode("unicode_escape").decode("ascii")
    return out


def read_spec(path: Path, cwd: Path, rules: Callable = check_document) -> LoadedSpec:
    source = display_path(path, cwd)
    if not source.isprintable():  # it is written into every generated file's header comment
        raise InvalidInput([Diagnostic(_shown(source), 0, 0, "", "the file name has a control or formatting character, or bytes "
                                       "that are not UTF-8, and rollgen writes it into the header of every generated file",
                                       "rename the spec file")])
    try:
        with path.open("rb") as fh:
            raw = read_limited(fh, source)
    except OSError as exc:
        raise InvalidInput([Diagnostic(source, 0, 0, "", f"cannot read the file: {exc.strerror}")]) from None
    return parse_spec(raw, source, rules)
