"""The delivery engine of a document, decided here and nowhere else.

Every later layer keeps one table keyed by these names (spec rules, plan builders, charts, views) and
asks `engine_of(document)` which entry applies. A new engine is its own modules plus one entry per table;
tests/test_engines.py fails while a table misses it.
"""

from __future__ import annotations

ENGINE_NAMES = ("manual", "flagger", "platform", "argo-rollouts")


def engine_of(document) -> str:
    """`platform` for a Platform; for a Rollout its `spec.delivery` (`manual` unless it says otherwise)."""
    if document.kind == "Platform":
        return "platform"
    return document.spec.delivery
