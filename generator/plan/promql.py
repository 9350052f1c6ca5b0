"""Small, pure PromQL building blocks: durations, string literals, label matchers, numbers.

Every value that reaches a query goes through `string_literal`, so nothing a spec holds can end a
string early or inject an expression, whatever the model's patterns already guarantee.
"""

from __future__ import annotations

import re
from decimal import Decimal

# Prometheus' duration syntax (model.ParseDuration): units largest first, each at most once.
_DURATION = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
_UNIT_MS = (365 * 86400_000, 7 * 86400_000, 86400_000, 3600_000, 60_000, 1000, 1)
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def parse_duration(text: str) -> int | None:
    """Milliseconds in a Prometheus duration (`1h30m`, `500ms`), or None when it is not one."""
    m = _DURATION.match(text or "")
    if not text or not m:
        return None
    return sum(int(g) * unit for g, unit in zip(m.groups(), _UNIT_MS) if g)


def format_duration(ms: int) -> str:
    """Milliseconds as a short human duration: `26m 26s`, `2h 5m`, `1.5s`, `3d 4h`."""
    if ms < 1000:
        return f"{ms}ms"
    seconds = -(-ms // 1000)  # round up: a step held for this long is long enough
    if seconds < 60:
        return f"{seconds}s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts[:2])


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
