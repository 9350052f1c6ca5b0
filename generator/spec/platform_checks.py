"""Meaning: the cross-field rules of a platform spec. Pure functions over the model."""

from __future__ import annotations

from typing import Iterator

from .checks import Finding
from .platform import Platform

# Values the platform sets from its own fields: a second source for them would silently win or lose.
OWNED_VALUES = {"meshProvider": "spec.flagger.meshProvider", "metricsServer": "spec.flagger.metricsServer"}


def check_owned_values(platform: Platform) -> Iterator[Finding]:
    for key, field in OWNED_VALUES.items():
        if key in platform.spec.flagger.values:
            yield Finding(("spec", "flagger", "values", key), f"{key!r} is set by `{field}`",
                          f"set `{field}` and remove it from values", key=True)


RULES = (check_owned_values,)


def check_platform(platform: Platform) -> list[Finding]:
    out: list[Finding] = []
    for rule in RULES:
        out.extend(rule(platform))
    return out
