"""The JSON Schema of the spec language: generated from the model, committed in `schemas/`, checked first.

The schema is both the first validation step (shape: types, required and unknown fields, ranges) and
the editor schema users point yaml-language-server at.
"""

from __future__ import annotations

import difflib
import json
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from generator.diagnostics import Diagnostic, first_sentence, format_path
from generator.names import (API_VERSION, COOKIE_NAME_PATTERN, COOKIE_VALUE_PATTERN, DNS1035_LABEL, DNS1123_LABEL,
                          HEADER_PATTERN, HOST_PATTERN, LABEL_KEY_PATTERN, LABEL_VALUE_PATTERN, PORT_NAME_PATTERN)
from generator.spec.yamlio import Located
from generator.spec.validation import Validator

SCHEMA_FILE = "rollout.v1alpha1.json"

# Every spec kind rollgen reads: its committed schema file and what it is, for messages.
KINDS = {
    "Rollout": ("rollout.v1alpha1.json", "one service's progressive delivery"),
    "Platform": ("platform.v1alpha1.json", "the cluster-wide Flagger install"),
}
DEFAULT_KIND = "Rollout"


def kind_model(kind: str):
    """The pydantic model of a spec kind."""
    if kind == "Platform":
        from generator.spec.platform import Platform

        return Platform
    from generator.spec.v1alpha1 import Rollout

    return Rollout


def generate_schema(kind: str = DEFAULT_KIND) -> dict:
    """Build the JSON Schema from the pydantic model (the single source of the spec's shape)."""
    from pydantic.json_schema import GenerateJsonSchema

    model = kind_model(kind)
    schema_file = KINDS[kind][0]

    class _Generator(GenerateJsonSchema):
        # Optional fields are "may be omitted", not "may be null": a YAML `image:` with no value is a mistake.
        def nullable_schema(self, schema):
            return self.generate_inner(schema["schema"])

        def default_schema(self, schema):
            out = super().default_schema(schema)
            if out.get("default", 0) is None:
                out.pop("default")
            return out

        def field_title_should_be_set(self, schema) -> bool:
            return False

    schema = model.model_json_schema(schema_generator=_Generator)
    for definition in schema.get("$defs", {}).values():
        definition.pop("title", None)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://rollgen.dev/schemas/{schema_file}",
        "title": f"rollgen {kind} ({API_VERSION})",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def render_schema(kind: str = DEFAULT_KIND) -> str:
    return json.dumps(generate_schema(kind), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def load_schema_text(kind: str = DEFAULT_KIND) -> str:
    """A kind's committed schema text, shipped inside the package (falls back to the source tree)."""
    schema_file = KINDS[kind][0]
    try:
        return resources.files("generator.schemas").joinpath(schema_file).read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return (Path(__file__).resolve().parents[2] / "schemas" / schema_file).read_text("utf-8")


@lru_cache(maxsize=None)
def load_schema(kind: str = DEFAULT_KIND) -> dict:
    """A kind's committed schema, parsed."""
    return json.loads(load_schema_text(kind))


def spec_kind(data: Any) -> str | None:
    """The kind a document declares when rollgen knows it; the default kind when it declares none
    (its schema then reports the missing field); None for a kind rollgen does not know."""
    kind = data.get("kind", DEFAULT_KIND) if isinstance(data, dict) else DEFAULT_KIND
    if not isinstance(kind, str):
        return DEFAULT_KIND  # the default kind's schema reports the wrong type
    return kind if kind in KINDS else None


def unknown_kind(located: Located, filename: str) -> Diagnostic:
    kind = located.data.get("kind")
    line, col = located.position(("kind",))
    known = ", ".join(f"{k} ({about})" for k, (_, about) in KINDS.items())
    close = difflib.get_close_matches(kind, list(KINDS), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return Diagnostic(filename, line, col, "kind", f"unknown kind {_show(kind)}",
                      hint + f"rollgen specs are one of: {known}")


_PATTERNS = {
    COOKIE_NAME_PATTERN: ("must be a cookie name (an RFC 6265 token)",
                          "use letters, digits and !#$%&'*+-.^_`|~; no spaces, quotes, ';', ',' or '='"),
    COOKIE_VALUE_PATTERN: ("must be a cookie value (RFC 6265 cookie-octets)",
                           "no spaces, quotes, ',', ';' or backslashes, e.g. `a` or `variant-b`"),
    HOST_PATTERN: ("must be a host name",
                   "lowercase DNS labels separated by dots, e.g. `api-eu-west.production.svc.cluster.local`"),
    LABEL_KEY_PATTERN: (
        "is not a valid label key",
        "a label key is an optional DNS prefix and `/`, then a name of letters, digits, '-', '_', '.'",
    ),
    LABEL_VALUE_PATTERN: (
        "must be a valid label value",
        "at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
    ),
    DNS1035_LABEL: (
        "must be a DNS-1035 label (it names the Service)",
        "use lowercase letters, digits and '-', starting with a letter and ending with a letter or digit",
    ),
    PORT_NAME_PATTERN: (
        "must be an IANA service name (a port name)",
        "at most 15 lowercase letters, digits and '-', with a letter, '-' neither first nor last, e.g. `metrics`",
    ),
    DNS1123_LABEL: (
        "must be a DNS-1123 label",
        "use lowercase letters, digits and '-', starting and ending with a letter or digit",
    ),
    r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$": (
        "must be a duration",
        "write a number with a unit, e.g. `30s`, `10m`, `1h` or `1h30m`",
    ),
    r"^(https?|oci)://[^\s]+$": ("must be an http(s):// or oci:// URL", ""),
    r"^https?://[^\s]+$": ("must be an http(s):// URL", "e.g. `http://prometheus.monitoring:9090`"),
    HEADER_PATTERN: (
        "must be a lowercase HTTP header name",
        "header names are matched lowercase by Envoy and HTTP/2; write e.g. `x-canary-user`",
    ),
    r"^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$": (
        "must be a Prometheus duration",
        "e.g. 30s, 5m, 1h30m, 500ms: whole numbers with units y w d h m s ms, largest first",
    ),
    r"^[a-zA-Z_][a-zA-Z0-9_]*$": (
        "must be a Prometheus label name",
        "letters, digits and '_', not starting with a digit",
    ),
}


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__


def _show(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return _type_name(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def _expected(schema: dict) -> str:
    t = schema.get("type")
    names = {"object": "a mapping", "array": "a list", "string": "a string", "integer": "an integer",
             "number": "a number", "boolean": "true or false"}
    if isinstance(t, list):
        return " or ".join(names.get(x, x) for x in t)
    return names.get(t, str(t))


def _diagnose(error, located: Located, filename: str) -> list[Diagnostic]:
    path = tuple(error.absolute_path)
    where = format_path(path)
    line, col = located.position(path)
    v, value, sch = error.validator, error.instance, error.schema
    hint = ""
    if v == "additionalProperties" and isinstance(value, dict):
        known = sorted(sch.get("properties", {}))
        out = []
        for key in sorted(k for k in value if k not in known):
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            kl, kc = located.position(path + (key,), key=True)
            hint = f"did you mean {close[0]!r}?" if close else ("known fields: " + ", ".join(known))
            out.append(Diagnostic(filename, kl, kc, format_path(path + (key,)), f"unknown field {key!r}", hint))
        return out
    if v == "required":
        missing = error.validator_value
        names = [m for m in missing if isinstance(value, dict) and m not in value]
        out = []
        for m in names:
            about = first_sentence(sch.get("properties", {}).get(m, {}).get("description", ""))
            hint = f"add `{m}:`" + (f" ({about[0].lower() + about[1:]})" if about else "")
            out.append(Diagnostic(filename, line, col, where, f"missing required field {m!r}", hint))
        return out
    if v == "type":
        message = f"expected {_expected(sch)}, got {_type_name(value)} {_show(value)}".rstrip()
        if isinstance(value, (dict, list)):
            message = f"expected {_expected(sch)}, got a {_type_name(value)}"
        elif value is None:
            # `key:` with nothing after it (or `~`) is null in YAML
            message = f"expected {_expected(sch)}, got nothing (null)"
            hint = f"give `{path[-1]}` a value, or remove the key" if path and isinstance(path[-1], str) \
                else "give it a value, or remove the item"
        if sch.get("type") == "string" and isinstance(value, (bool, int, float)) and value is not None:
            # what the user wrote: `yes` quoted is "yes" (not "true"), `1.10` is "1.10" (not "1.1")
            quoted = located.text(path, str(value).lower() if isinstance(value, bool) else str(value))
            hint = f'quote it: "{quoted}"'
            if isinstance(value, bool):
                hint += " (YAML reads yes/no/on/off/true/false unquoted as booleans)"
            pattern = sch.get("pattern")
            if pattern and not re.search(pattern, str(quoted)):
                # quoting alone would not make it valid (e.g. `window: 5`): say what the value must be
                what, pattern_hint = _PATTERNS.get(pattern, (f"must match {pattern}", ""))
                hint = f"it {what}" + (f": {pattern_hint}" if pattern_hint else "")
        return [Diagnostic(filename, line, col, where, message, hint)]
    if v == "const":
        return [Diagnostic(filename, line, col, where, f"must be {_show(sch['const'])}, got {_show(value)}")]
    if v == "enum":
        options = ", ".join(_show(o) for o in sch["enum"])
        close = difflib.get_close_matches(str(value), [str(o) for o in sch["enum"]], n=1)
        return [Diagnostic(filename, line, col, where, f"must be one of {options}; got {_show(value)}",
                           f"did you mean {close[0]!r}?" if close else "")]
    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "greater than",
                 "exclusiveMaximum": "less than"}
        return [Diagnostic(filename, line, col, where, f"must be {words[v]} {error.validator_value}, got {_show(value)}")]
    if "propertyNames" in error.schema_path and isinstance(value, str):
        kl, kc = located.position(path + (value,), key=True)
        what, hint = _PATTERNS.get(error.validator_value, (error.message, "")) if v == "pattern" else (error.message, "")
        return [Diagnostic(filename, kl, kc, format_path(path + (value,)), f"key {_show(value)} {what}", hint)]
    if v == "pattern":
        what, hint = _PATTERNS.get(error.validator_value, (f"must match {error.validator_value}", ""))
        return [Diagnostic(filename, line, col, where, f"{what}, got {_show(value)}", hint)]
    if v in ("minLength", "maxLength"):
        word = "at least" if v == "minLength" else "at most"
        unit = "character" if error.validator_value == 1 else "characters"
        return [Diagnostic(filename, line, col, where,
                           f"must be {word} {error.validator_value} {unit} long, got {len(value)}: {_show(value)}"
                           if value else f"must not be empty")]
    if v in ("minItems", "maxItems"):
        if v == "minItems" and error.validator_value == 1:
            return [Diagnostic(filename, line, col, where, "must not be empty")]
        word = "at least" if v == "minItems" else "at most"
        return [Diagnostic(filename, line, col, where, f"must have {word} {error.validator_value} items, got {len(value)}")]
    if v == "propertyNames":
        return [Diagnostic(filename, line, col, where, f"invalid key: {error.message}")]
    if v in ("anyOf", "oneOf") and error.context:
        from jsonschema.exceptions import best_match

        return _diagnose(best_match(error.context), located, filename)
    return [Diagnostic(filename, line, col, where, error.message)]


@lru_cache(maxsize=None)
def _validator(kind: str = DEFAULT_KIND):
    """The kind's schema: jsonschema-rs's verdict, jsonschema's errors (see generator.spec.validation)."""
    def explainer():
        from jsonschema import Draft202012Validator

        return Draft202012Validator(load_schema(kind))

    return Validator(load_schema(kind), explainer)


def check_schema(located: Located, filename: str) -> list[Diagnostic]:
    """Every shape problem in the document, each at its line and column, against its kind's schema."""
    kind = spec_kind(located.data)
    if kind is None:
        return [unknown_kind(located, filename)]
    out: list[Diagnostic] = []
    errors = list(_validator(kind).iter_errors(located.data))
    # A value of the wrong type gets one message, not also every range check it then fails.
    mistyped = {tuple(e.absolute_path) for e in errors if e.validator == "type"}
    for error in errors:
        if error.validator in ("minimum", "maximum") and tuple(error.absolute_path) in mistyped:
            continue
        out.extend(_diagnose(error, located, filename))
    # jsonschema reports a `required` keyword once per missing field and each report names them all.
    return list(dict.fromkeys(out))
