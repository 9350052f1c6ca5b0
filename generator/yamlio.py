"""All YAML in and out: specs are read with the position of every node; manifests are dumped here."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import yaml

from .diagnostics import Diagnostic, InvalidInput

try:  # libyaml when present: several times faster for both directions
    _Loader = yaml.CSafeLoader
    _Dumper = yaml.CSafeDumper
except AttributeError:  # pragma: no cover - pure-Python fallback
    _Loader = yaml.SafeLoader
    _Dumper = yaml.SafeDumper

# Hostile-input limits: a rollout spec is a few hundred lines; these are far above any real one.
MAX_SPEC_BYTES = 1024 * 1024
MAX_NODES = 100_000  # counted after alias expansion (a "billion laughs" document stops here)
MAX_DEPTH = 64


@dataclass
class Located:
    """A parsed document plus where each value and each mapping key sits in the file."""

    data: Any
    values: dict[tuple, tuple[int, int]] = field(default_factory=dict)
    keys: dict[tuple, tuple[int, int]] = field(default_factory=dict)
    texts: dict[tuple, str] = field(default_factory=dict)  # unquoted scalars as written (`yes`, `1.10`)

    def position(self, path: tuple, key: bool = False) -> tuple[int, int]:
        """Line and column (1-based) of the node at `path`, or of its nearest existing parent."""
        path = tuple(path)
        table = self.keys if key else self.values
        if path in table:
            return table[path]
        if not key and path in self.keys:
            return self.keys[path]
        while path:
            path = path[:-1]
            if path in self.values:
                return self.values[path]
        return (1, 1)

    def text(self, path: tuple, default: str) -> str:
        """The source text of the unquoted scalar at `path` (what the user wrote), else `default`."""
        return self.texts.get(tuple(path), default)


class _Builder:
    def __init__(self, filename: str):
        self.filename = filename
        self.count = 0
        self.scalars = yaml.SafeLoader("")
        self.located = Located(None)
        self.errors: list[Diagnostic] = []

    def error(self, node: yaml.Node, path: tuple, message: str, hint: str = "") -> None:
        from .diagnostics import format_path

        self.errors.append(
            Diagnostic(self.filename, node.start_mark.line + 1, node.start_mark.column + 1,
                       format_path(path), message, hint)
        )

    def build(self, node: yaml.Node, path: tuple, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooBig(node, f"the document expands to more than {MAX_NODES} nodes",
                          "a rollout spec is small; YAML aliases that expand exponentially are refused")
        if depth > MAX_DEPTH:
            raise _TooBig(node, f"the document is nested more than {MAX_DEPTH} levels deep", "")
        self.located.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self.error(key_node, path, "YAML merge keys (<<) are not supported",
                               "write the fields out; merge keys hide which value wins")
                    continue
                if not isinstance(key_node, yaml.ScalarNode):
                    self.error(key_node, path, "a mapping key must be a plain string")
                    continue
                key = self.scalars.construct_object(key_node)
                if not isinstance(key, str):
                    key = key_node.value  # `on:`, `1:` ... are names here, not booleans or numbers
                child = path + (key,)
                if key in out:
                    first = self.located.keys[child]
                    self.error(key_node, child, f"duplicate key {key!r} (first defined at line {first[0]})",
                               "remove one of the two; YAML keeps only the last and silently drops the other")
                    continue
                self.located.keys[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                out[key] = self.build(value_node, child, depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        if not node.style:  # plain (libyaml says "", the Python parser None)
            self.located.texts[path] = node.value
        return self.scalars.construct_object(node)


class _TooBig(Exception):
    def __init__(self, node, message, hint):
        self.node, self.message, self.hint = node, message, hint


def _decode(raw: bytes, filename: str) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidInput([Diagnostic(filename, 1, 1, "", "the file is UTF-16 encoded",
                                       "save it as UTF-8")])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise InvalidInput([Diagnostic(filename, line, column, "",
                                       f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                                       "save the spec as UTF-8 text")]) from None


def too_big(size: int, filename: str) -> InvalidInput:
    return InvalidInput([Diagnostic(filename, 1, 1, "", f"the file is {size} bytes; a spec may be at most {MAX_SPEC_BYTES}",
                                    "a rollout spec describes one service; split very large files")])


def read_limited(fh, filename: str) -> bytes:
    """Read a spec from an open binary file, never more than the limit (a huge file is not read)."""
    raw = fh.read(MAX_SPEC_BYTES + 1)
    if len(raw) > MAX_SPEC_BYTES:
        try:
            size = os.fstat(fh.fileno()).st_size
        except (OSError, AttributeError, ValueError):
            size = len(raw)
        raise too_big(max(size, len(raw)), filename)
    return raw


def load_yaml(raw: bytes, filename: str) -> Located:
    """Parse one YAML document, keeping positions. Raises InvalidInput with located diagnostics."""
    if len(raw) > MAX_SPEC_BYTES:
        raise too_big(len(raw), filename)
    if b"\x00" in raw and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidInput([Diagnostic(filename, 1, 1, "", "the file is binary (it contains NUL bytes)",
                                       "a spec is a YAML text file (UTF-8)")])
    text = _decode(raw, filename)
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        line, column = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        raise InvalidInput([Diagnostic(filename, line, column, "",
                                       f"malformed YAML: the control character U+{ord(char):04X} is not allowed",
                                       "remove it: YAML text holds no control characters besides tabs and line breaks")]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "malformed YAML"
        hint = ""
        at_tab = mark is not None and 0 <= mark.index < len(text) and text[mark.index] == "\t"
        if "\t" in problem or "tab" in problem or at_tab:
            hint = "YAML indentation must use spaces, not tabs"
        if at_tab and "cannot start any token" in problem:
            problem = "a tab character cannot indent YAML"
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise InvalidInput([Diagnostic(filename, line, column, "", f"malformed YAML: {problem}", hint)]) from None
    except yaml.YAMLError as exc:
        raise InvalidInput([Diagnostic(filename, 1, 1, "", f"malformed YAML: {exc}")]) from None
    except RecursionError:
        raise InvalidInput([Diagnostic(filename, 1, 1, "", "the document is nested too deeply")]) from None
    # `---` with nothing after it is an empty document, not a second spec
    nodes = [n for n in nodes if n is not None
             and not (isinstance(n, yaml.ScalarNode) and n.tag == "tag:yaml.org,2002:null" and n.value == "")]
    if not nodes:
        raise InvalidInput([Diagnostic(filename, 1, 1, "", "the file is empty",
                                       "start from `rollgen init NAME` or an example in specs/")])
    if len(nodes) > 1:
        second = nodes[1].start_mark
        raise InvalidInput([Diagnostic(filename, second.line + 1, second.column + 1, "",
                                       f"the file holds {len(nodes)} YAML documents; a spec file holds exactly one",
                                       "put each rollout in its own file")])
    builder = _Builder(filename)
    try:
        builder.located.data = builder.build(nodes[0], (), 0)
    except _TooBig as exc:
        mark = exc.node.start_mark
        raise InvalidInput([Diagnostic(filename, mark.line + 1, mark.column + 1, "", exc.message, exc.hint)]) from None
    except RecursionError:
        raise InvalidInput([Diagnostic(filename, 1, 1, "", "the document is nested too deeply")]) from None
    if builder.errors:
        raise InvalidInput(builder.errors)
    return builder.located


class _ManifestDumper(_Dumper):
    pass


def _str_representer(dumper, value: str):
    # Multi-line strings (rule files, PromQL) as literal blocks: reviewable diffs.
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_ManifestDumper.add_representer(str, _str_representer)


def dump_document(doc: Any) -> str:
    """One manifest as YAML: insertion order kept, block style, LF, final newline."""
    return yaml.dump(doc, Dumper=_ManifestDumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=4096)

