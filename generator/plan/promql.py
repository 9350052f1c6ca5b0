"""Small, pure PromQL building blocks: durations, string literals, label matchers, numbers.

Every value that reaches a query goes through `string_literal`, so nothing a spec holds can end a
string early or inject an expression, whatever the model's patterns already guarantee.
"""

from __future__ import annotations

import re
from decimal import Decimal

_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def string_literal(value: str) -> str:
    """A PromQL double-quoted string holding exactly `value` (Go string-literal escapes)."""
    out = []
    for ch in value:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def regex_alternatives(values: list[str]) -> str:
    """An RE2 alternation that matches exactly one of the literal values (Prometheus anchors it)."""
    return "|".join(re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", v) for v in values)


def matcher(label: str, op: str, value: str) -> str:
    if not _LABEL_NAME.match(label):
        raise ValueError(f"not a Prometheus label name: {label!r}")
    if op not in ("=", "!=", "=~", "!~"):
        raise ValueError(f"not a label matcher operator: {op!r}")
    return f"{label}{op}{string_literal(value)}"


def selector(metric: str, matchers: list[str]) -> str:
    return f"{metric}{{{', '.join(matchers)}}}"


def number(value: Decimal) -> str:
    """A decimal as PromQL writes it: no exponent, no trailing zeros (`0.01`, `500`, `0.5`)."""
    text = format(value.normalize(), "f")
    return text
