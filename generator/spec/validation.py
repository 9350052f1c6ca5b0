"""JSON Schema validation: two engines, one answer.

jsonschema-rs (a compiled validator) decides whether a document is valid: for a rollout spec and its
pod template that takes a few microseconds, against about half a millisecond for jsonschema, the
reference implementation, at every spec of a run. Only a document it does not accept is walked by
jsonschema, whose errors (each with its keyword, its piece of the schema and its path) rollgen turns
into located diagnostics: the verdict on a valid document comes from the fast engine, every message
a user reads from the one rollgen's diagnostics are written for.

The two could disagree in small ways (regular expression dialects, which formats are checked). The
explanation decides: a document the fast engine refuses and jsonschema accepts is valid, so the fast
engine may only ever be stricter, never more lenient; tests/test_validation.py holds every example,
every invalid example and generated documents to that.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator


class Validator:
    """A schema's verdict (jsonschema-rs) and, for a document it refuses, jsonschema's errors."""

    def __init__(self, schema: dict, explainer: Callable[[], Any], resources: dict[str, dict] | None = None):
        """`explainer()` makes the jsonschema validator (only when a document needs explaining);
        `resources` are other schemas, by absolute URI, that `$ref`s point into. Formats are not
        checked (as jsonschema checks none unless told)."""
        import jsonschema_rs

        registry = jsonschema_rs.Registry(sorted(resources.items())) if resources else None
        self._fast = jsonschema_rs.validator_for(schema, registry=registry, validate_formats=False)
        self._explainer = explainer
        self._explain: Any = None

    def accepts(self, instance: Any) -> bool:
        """The fast verdict alone (False for values JSON has no type for, like a YAML date)."""
        try:
            return self._fast.is_valid(instance)
        except (ValueError, TypeError, OverflowError):
            return False

    def reference(self) -> Any:
        """jsonschema's validator for the schema (made on first use)."""
        if self._explain is None:
            self._explain = self._explainer()
        return self._explain

    def iter_errors(self, instance: Any) -> Iterator[Any]:
        """jsonschema's ValidationErrors for `instance`: none when the fast engine accepts it."""
        if self.accepts(instance):
            return iter(())
        return self.reference().iter_errors(instance)
