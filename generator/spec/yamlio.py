"""All YAML in and out: specs are read with the position of every node; manifests are dumped here."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import yaml

from generator.diagnostics import Diagnostic, InvalidInput, format_path

try:  # libyaml when present: several times faster for both directions
    _Loader = yaml.CSafeLoader
    _Dumper = yaml.CSafeDumper
except AttributeError:  # pragma: no cover - pure-Python fallback
    _Loader = yaml.SafeLoader
    _Dumper = yaml.SafeDumper

class _RememberingResolver:
    """PyYAML's resolver, its answers remembered. The parser asks it for the tag of every scalar it
    reads and the emitter twice for every scalar it writes, over and over for the same few hundred
    strings; without path resolvers (none are added here) the answer depends on the kind of node, the
    text and `implicit` alone."""

    def resolve(self, kind, value, implicit):
        if kind is not yaml.ScalarNode:
            return super().resolve(kind, value, implicit)
        key = (value, implicit)
        tag = _RESOLVED.get(key)
        if tag is None:
            if len(_RESOLVED) > 100_000:
                _RESOLVED.clear()
            tag = _RESOLVED[key] = super().resolve(kind, value, implicit)
        return tag


_RESOLVED: dict[tuple, str] = {}


class _SpecLoader(_RememberingResolver, _Loader):
    pass


_STR_TAG = "tag:yaml.org,2002:str"

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
                key = self.scalar(key_node)
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
        return self.scalar(node)

    def scalar(self, node: yaml.ScalarNode) -> Any:
        """What PyYAML's safe constructor makes of a scalar: a string is its text, as constructed."""
        if node.tag == _STR_TAG and isinstance(node, yaml.ScalarNode):
            return node.value
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


def _spaces(n: int) -> str:
    return "no spaces" if n == 0 else "1 space" if n == 1 else f"{n} spaces"


class _Lines:
    """The text's lines, for saying in plain words where YAML's structure went wrong."""
    def __init__(self, text: str):
        self.lines = text.split("\n")

    def indent(self, i: int) -> int:
        return len(self.lines[i]) - len(self.lines[i].lstrip(" "))

    def content(self, i: int) -> str:
        return self.lines[i].strip()

    def meaningful(self, i: int) -> bool:
        return 0 <= i < len(self.lines) and self.content(i) != "" and not self.content(i).startswith("#")

    def previous(self, i: int) -> int | None:
        """The nearest line above `i` that holds more than blanks or a comment."""
        i -= 1
        while i >= 0 and not self.meaningful(i):
            i -= 1
        return i if i >= 0 else None

    def label(self, i: int) -> str:
        """How to name a line: its key (`name:`, `- name:`), else its text."""
        text = self.content(i)
        item = text.startswith("- ")
        body = text[2:].lstrip() if item else text
        key, colon, _ = body.partition(":")
        shown = (key.strip() + ":") if colon and key.strip() else body
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        return ("- " if item else "") + shown

    def enclosing(self, i: int) -> list[int]:
        """The lines above `i` whose indentation each is less than the one below it: the keys and
        items a line could belong to, nearest first."""
        out: list[int] = []
        j = self.previous(i)
        while j is not None:
            if not out or self.indent(j) < self.indent(out[-1]):
                out.append(j)
            j = self.previous(j)
        return out


def _is_key_line(text: str) -> bool:
    body = text[2:].lstrip() if text.startswith("- ") else text
    return body.endswith(":") or ": " in body or body.startswith(("{", "[", "\"", "'"))


def _missing_colon(lines: _Lines, i: int) -> tuple[int, int, str, str]:
    text = lines.content(i)
    key, _, value = text.partition(" ")
    hint = f"write `{key}: {value.strip()}`" if value.strip() else f"add `:` after `{key}` and give it a value"
    return i + 1, lines.indent(i) + 1, f"`{text}` has no `:` after its key", hint


def _misindented(lines: _Lines, i: int) -> tuple[int, int, str, str]:
    """A line whose indentation matches no mapping or list above it."""
    n = lines.indent(i)
    where = lines.label(i)
    above = lines.enclosing(i)
    same = [j for j in above if lines.indent(j) == n]
    deeper = [j for j in above if lines.indent(j) > n]
    shallower = [j for j in above if lines.indent(j) < n]
    container = "list" if deeper and lines.content(deeper[-1]).startswith("- ") else "mapping"
    if same:
        j = same[0]
        what = "a list item" if lines.content(i).startswith("- ") else "it"
        message = f"`{where}` lines up with `{lines.label(j)}` on line {j + 1}, but {what} is not a key of that mapping"
        if deeper:
            k = deeper[-1]
            return i + 1, n + 1, message, (f"indent it like `{lines.label(k)}` on line {k + 1} "
                                           f"({_spaces(lines.indent(k))}) to keep it in that {container}")
        return i + 1, n + 1, message, "indent it under the key it belongs to"
    message = f"`{where}` is indented by {_spaces(n)}, which lines it up with no key above it"
    options = []
    if deeper:
        k = deeper[-1]
        options.append(f"like `{lines.label(k)}` on line {k + 1} ({_spaces(lines.indent(k))}) to keep it in that {container}")
    if shallower:
        k = shallower[0]
        options.append(f"like `{lines.label(k)}` on line {k + 1} ({_spaces(lines.indent(k))})")
    return i + 1, n + 1, message, ("indent it " + ", or ".join(options)) if options else ""


def _structure_error(text: str, exc: yaml.MarkedYAMLError) -> tuple[int, int, str, str]:
    """(line, column, problem, hint) of a YAML syntax error, in plain words, at the line where the
    structure went wrong when that can be told (libyaml often notices a line or more later)."""
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "the text is not YAML"
    context = exc.context or ""
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    at_tab = mark is not None and 0 <= mark.index < len(text) and text[mark.index] == "\t"
    if "\t" in problem or "tab" in problem or at_tab:
        if at_tab or "indentation" in problem:
            problem = "a tab character cannot indent YAML"
        return line, column, problem, "YAML indentation must use spaces, not tabs"
    lines = _Lines(text)
    opened = exc.context_mark
    if opened is not None and "quoted scalar" in context and "unexpected end" in problem:
        quote = text[opened.index] if 0 <= opened.index < len(text) else '"'
        return (opened.line + 1, opened.column + 1, "the quoted value that starts here is never closed",
                f"end it with `{quote}` on this line")
    if opened is not None and context in ("while parsing a flow sequence", "while parsing a flow mapping"):
        if context.endswith("sequence"):
            return (opened.line + 1, opened.column + 1, "the list opened with `[` here is never closed",
                    "close it with `]` on this line; items are separated by `,`")
        return (opened.line + 1, opened.column + 1, "the mapping opened with `{` here is never closed",
                "close it with `}` on this line; entries are separated by `,`")
    if opened is not None and "simple key" in context and "':'" in problem and lines.meaningful(opened.line):
        return _missing_colon(lines, opened.line)
    if mark is None or not lines.meaningful(mark.line):
        return line, column, problem, ""
    i = mark.line
    if problem == "mapping values are not allowed in this context":
        before = lines.previous(i)
        if before is not None and not _is_key_line(lines.content(before)) and lines.indent(before) <= lines.indent(i):
            return _missing_colon(lines, before)
        if before is not None and lines.indent(i) > lines.indent(before) and _is_key_line(lines.content(before)):
            parent = lines.label(before)
            return (i + 1, lines.indent(i) + 1,
                    f"`{lines.label(i)}` is indented more than `{parent}` on line {before + 1}, so YAML reads "
                    "it as part of that value", f"indent it like `{parent}` ({_spaces(lines.indent(before))})")
        return line, column, "a `: ` here would start a mapping inside a value", \
            "quote the value if `: ` belongs to it, e.g. `\"a: b\"`"
    if problem in ("did not find expected key", "did not find expected '-' indicator"):
        return _misindented(lines, i)
    if problem == "found character that cannot start any token" and 0 <= mark.index < len(text):
        return line, column, f"a value cannot start with `{text[mark.index]}`", "quote the value"
    return line, column, problem, ""


def load_yaml(raw: bytes, filename: str) -> Located:
    """Parse one YAML document, keeping positions. Raises InvalidInput with located diagnostics."""
    if len(raw) > MAX_SPEC_BYTES:
        raise too_big(len(raw), filename)
    if b"\x00" in raw and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidInput([Diagnostic(filename, 1, 1, "", "the file is binary (it contains NUL bytes)",
                                       "a spec is a YAML text file (UTF-8)")])
    text = _decode(raw, filename)
    try:
        nodes = list(yaml.compose_all(text, Loader=_SpecLoader))
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        line, column = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        raise InvalidInput([Diagnostic(filename, line, column, "",
                                       f"malformed YAML: the control character U+{ord(char):04X} is not allowed",
                                       "remove it: YAML text holds no control characters besides tabs and line breaks")]) from None
    except yaml.MarkedYAMLError as exc:
        line, column, problem, hint = _structure_error(text, exc)
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


class _ManifestDumper(_RememberingResolver, _Dumper):
    pass


def _str_representer(dumper, value: str):
    # Multi-line strings (rule files, PromQL) as literal blocks: reviewable diffs.
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_ManifestDumper.add_representer(str, _str_representer)

_TAG = "tag:yaml.org,2002:"


class _NotPlain(Exception):
    """A value the node builder leaves to PyYAML's representer (a float, a shared object, a subclass)."""


def _node(data: Any, seen: set[int]) -> yaml.Node:
    """The YAML node graph _ManifestDumper's representer builds for `data`, built directly for the
    JSON-like values manifests hold (exact dict, list, str, int, bool, None; nothing shared)."""
    kind = type(data)
    if kind is str:
        return yaml.ScalarNode(_TAG + "str", data, style="|" if "\n" in data else None)
    if kind is dict or kind is list:
        if id(data) in seen:  # PyYAML writes an anchor and an alias for a repeated object
            raise _NotPlain
        seen.add(id(data))
        if kind is dict:
            return yaml.MappingNode(_TAG + "map", [(_node(k, seen), _node(v, seen)) for k, v in data.items()],
                                    flow_style=False)
        return yaml.SequenceNode(_TAG + "seq", [_node(v, seen) for v in data], flow_style=False)
    if kind is bool:
        return yaml.ScalarNode(_TAG + "bool", "true" if data else "false")
    if kind is int:
        return yaml.ScalarNode(_TAG + "int", str(data))
    if data is None:
        return yaml.ScalarNode(_TAG + "null", "null")
    raise _NotPlain


def dump_document(doc: Any) -> str:
    """One manifest as YAML: insertion order kept, block style, LF, final newline.

    The text is what `yaml.dump` with _ManifestDumper writes. For JSON-like documents (every
    manifest) the node graph its representer would build is built directly (PyYAML's representer
    spends most of a dump dispatching on types and tracking aliases) and handed to the same emitter."""
    try:
        node = _node(doc, set())
    except _NotPlain:
        return yaml.dump(doc, Dumper=_ManifestDumper, sort_keys=False, default_flow_style=False,
                         allow_unicode=True, width=4096)
    return yaml.serialize(node, Dumper=_ManifestDumper, allow_unicode=True, width=4096)
