"""Meaning: the cross-field rules of a platform spec. Pure functions over the model."""

from __future__ import annotations

from typing import Iterator

from generator.spec.checks import Finding
from generator.spec.platform import Platform

# Values the platform sets from its own fields: a second source for them would silently win or lose.
OWNED_VALUES = {"meshProvider": "spec.flagger.meshProvider", "metricsServer": "spec.flagger.metricsServer",
                "namespace": "spec.flagger.namespaces", "podMonitor": "spec.flagger.podMonitor",
                "fullnameOverride": "metadata.name"}

# Helm refuses release names longer than 53 characters.
MAX_RELEASE = 53


def check_owned_values(platform: Platform) -> Iterator[Finding]:
    for key, field in OWNED_VALUES.items():
        if key in platform.spec.flagger.values:
            yield Finding(("spec", "flagger", "values", key), f"{key!r} is set by `{field}`",
                          f"set `{field}` and remove it from values", key=True)


def check_mesh_known(platform: Platform) -> Iterator[Finding]:
    if platform.spec.mesh is None and platform.spec.flagger.meshProvider == "gatewayapi:v1":
        yield Finding(("spec", "flagger", "meshProvider"),
                      "'gatewayapi:v1' does not say which mesh the applications run on",
                      "set `spec.mesh: linkerd` or `spec.mesh: istio`")


def check_namespace_lists(platform: Platform) -> Iterator[Finding]:
    for section in ("flagger", "loadtester"):
        seen: set[str] = set()
        for i, ns in enumerate(getattr(platform.spec, section).namespaces):
            if ns in seen:
                yield Finding(("spec", section, "namespaces", i), f"namespace {ns!r} is listed twice",
                              "list each namespace once")
            seen.add(ns)
    for i, ns in enumerate(platform.spec.flagger.namespaces):
        if ns in platform.spec.flagger.namespaces[:i]:
            continue  # reported above
        release = f"{platform.metadata.name}-{ns}"
        if len(release) > MAX_RELEASE:
            yield Finding(("spec", "flagger", "namespaces", i),
                          f"the Flagger release {release!r} would be {len(release)} characters long; Helm "
                          f"allows {MAX_RELEASE}", "shorten `metadata.name`")
    tester = platform.spec.loadtester
    if tester.namespace is not None and tester.namespaces:
        yield Finding(("spec", "loadtester", "namespace"), "set together with `spec.loadtester.namespaces`",
                      "list every namespace under `namespaces` and remove `namespace`", key=True)


RULES = (check_owned_values, check_mesh_known, check_namespace_lists)
