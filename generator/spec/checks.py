"""Meaning: the cross-field rules of a rollout spec. Pure functions over the model.

Each rule yields `Finding`s with a path into the spec; the loader turns paths into lines and columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from .. import conventions as c
from .v1alpha1 import HeaderMatch, Rollout

# An image reference: [registry[:port]/]path[:tag][@digest]
_IMAGE = re.compile(
    r"^(?:(?P<registry>[a-zA-Z0-9.-]+(?::[0-9]+)?)/)?"
    r"(?P<path>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}))?$"
)


@dataclass(frozen=True)
class Finding:
    path: tuple
    message: str
    hint: str = ""
    severity: str = "error"
    key: bool = False  # point at the key rather than the value


def parse_image(ref: str) -> re.Match | None:
    return _IMAGE.match(ref)


def re2_error(pattern: str) -> str | None:
    """None when RE2 (Envoy's regex engine) accepts the pattern, else its complaint."""
    import re2

    options = re2.Options()
    options.log_errors = False
    try:
        re2.compile(pattern, options)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else ""
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        return str(detail) or "invalid regular expression"
    return None


def check_header_match(match: HeaderMatch, path: tuple) -> Iterator[Finding]:
    given = [k for k in ("exact", "prefix", "regex") if getattr(match, k) is not None]
    if len(given) != 1:
        what = "none" if not given else " and ".join(given)
        yield Finding(path, f"needs exactly one of exact, prefix or regex (got {what})",
                      "e.g. `{header: x-canary-user, exact: \"true\"}`")
        return
    for kind in ("exact", "prefix"):
        value = getattr(match, kind)
        bad = next((ch for ch in value or "" if (ord(ch) < 0x20 and ch != "\t") or ord(ch) == 0x7F), None)
        if bad is not None:
            yield Finding(path + (kind,), f"contains the control character {bad!r}; an HTTP header value never does, "
                          "so this would match no request", "write the value as plain text")
        elif value == "":
            yield Finding(path + (kind,), "must not be empty", "to match any value of the header, use `regex: \".*\"`")
    if match.regex is not None:
        problem = re2_error(match.regex)
        if problem:
            yield Finding(path + ("regex",), f"not a valid RE2 regular expression: {problem} ({match.regex!r})",
                          "Envoy uses RE2: no back-references or look-around")
    if match.header in ("host", ":authority", ":path", ":method"):
        yield Finding(path + ("header",), f"{match.header!r} is not a header to route on here",
                      "route on a request header such as `x-canary-user`")


def check_images(rollout: Rollout) -> Iterator[Finding]:
    spec = rollout.spec
    base = spec.workload.image
    needs_base = any(v.image is None for v in spec.versions)
    m = parse_image(base)
    if not m:
        yield Finding(("spec", "workload", "image"), f"not a valid image reference: {base!r}",
                      "e.g. `registry.example.com/team/backend`")
    elif needs_base and (m.group("tag") or m.group("digest")):
        yield Finding(("spec", "workload", "image"),
                      f"must be an image repository without tag or digest, got {base!r}",
                      "each version's tag is its name (`<image>:<version>`); set `versions[].image` for a full reference")
    for i, version in enumerate(spec.versions):
        if version.image is not None and not parse_image(version.image):
            yield Finding(("spec", "versions", i, "image"), f"not a valid image reference: {version.image!r}")
        elif version.image is None and m and not m.group("tag") and not re.match(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", version.name):
            yield Finding(("spec", "versions", i, "name"), f"{version.name!r} cannot be an image tag",
                          "set `image` on this version")


def check_versions(rollout: Rollout) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for i, version in enumerate(rollout.spec.versions):
        if version.name in seen:
            yield Finding(("spec", "versions", i, "name"),
                          f"duplicate version {version.name!r} (also versions[{seen[version.name]}])",
                          "each version runs as its own Deployment; give each a unique name")
            continue
        seen[version.name] = i
        full = c.deployment_name(rollout.metadata.name, version.name)
        if len(full) > c.MAX_LABEL:
            yield Finding(("spec", "versions", i, "name"),
                          f"the object name {full!r} would be {len(full)} characters; Kubernetes allows {c.MAX_LABEL}",
                          "shorten the version or the service name")


def _version_ref(rollout: Rollout, name: str, path: tuple) -> Iterator[Finding]:
    names = [v.name for v in rollout.spec.versions]
    if name not in names:
        import difflib

        close = difflib.get_close_matches(name, names, n=1)
        yield Finding(path, f"{name!r} is not one of the spec's versions ({', '.join(dict.fromkeys(names))})",
                      f"did you mean {close[0]!r}?" if close else "add it under spec.versions")


def check_canary(rollout: Rollout) -> Iterator[Finding]:
    canary = rollout.spec.canary
    if canary is None:
        return
    base = ("spec", "canary")
    yield from _version_ref(rollout, canary.stable, base + ("stable",))
    yield from _version_ref(rollout, canary.canary, base + ("canary",))
    if canary.stable == canary.canary:
        yield Finding(base + ("canary",), f"stable and canary are both {canary.stable!r}",
                      "a canary shifts traffic between two different versions")
    steps = canary.steps
    for i in range(1, len(steps)):
        if steps[i] <= steps[i - 1]:
            yield Finding(base + ("steps", i),
                          f"must be greater than the step before it (got {steps[i]} after {steps[i - 1]})",
                          "steps are the canary's traffic share at each step, strictly increasing")
    if steps and steps[-1] != 100 and all(1 <= s <= 100 for s in steps):
        yield Finding(base + ("steps", len(steps) - 1),
                      f"the last step must be 100 (got {steps[-1]}): the final position shifts all traffic",
                      f"append 100: {steps + [100]}")
    if canary.position > len(steps):
        yield Finding(base + ("position",),
                      f"must be between 0 and {len(steps)} (the number of steps), got {canary.position}",
                      "0 = all traffic on stable; each step you promote adds 1")
    if canary.testers is not None:
        yield from check_header_match(canary.testers, base + ("testers",))


def check_traffic(rollout: Rollout) -> Iterator[Finding]:
    spec = rollout.spec
    if spec.canary is None and len(spec.versions) > 1:
        yield Finding(("spec", "versions"),
                      f"{len(spec.versions)} versions but no strategy says which one serves traffic",
                      "add a `canary` block, or keep one version for a service in steady state")
    names = {v.name for v in spec.versions}
    if spec.canary is not None and {spec.canary.stable, spec.canary.canary} <= names \
            and spec.canary.stable != spec.canary.canary:
        used = {spec.canary.stable, spec.canary.canary}
        for i, version in enumerate(spec.versions):
            if version.name not in used:
                yield Finding(("spec", "versions", i, "name"),
                              f"version {version.name!r} runs but receives no traffic", "remove it once it is retired",
                              severity="warning")


def check_labels(rollout: Rollout) -> Iterator[Finding]:
    for key in rollout.metadata.labels:
        if key in (c.APP_LABEL, c.VERSION_LABEL):
            yield Finding(("metadata", "labels", key), f"the label {key!r} is set by rollgen on every pod",
                          "its value is the service or version name; choose another label key", key=True)


def check_pod(rollout: Rollout) -> Iterator[Finding]:
    from ..pod import merge_pod, podspec_errors

    fragment = rollout.spec.workload.pod
    if fragment is None:
        return
    base = ("spec", "workload", "pod")
    name = rollout.spec.workload.container or rollout.metadata.name
    containers = fragment.get("containers") if isinstance(fragment.get("containers"), list) else None
    if containers is not None:
        for i, item in enumerate(containers):
            if isinstance(item, dict) and item.get("name") == name and "image" in item:
                yield Finding(base + ("containers", i, "image"),
                              "the application container's image comes from the spec, not the pod fragment",
                              "set `workload.image` or `versions[].image`")
    generated = {"name": name, "image": "registry.invalid/placeholder:check",
                 "ports": [{"name": "http", "containerPort": 1}]}
    pod, index = merge_pod(fragment, generated)
    inserted = containers is None or not any(isinstance(x, dict) and x.get("name") == name for x in containers)
    for path, message in podspec_errors(pod):
        if len(path) >= 2 and path[0] == "containers" and isinstance(path[1], int) and inserted:
            if path[1] == index:
                continue  # the generated container itself
            path = ("containers", path[1] - 1) + path[2:]
        yield Finding(base + path, message, "this fragment is a Kubernetes PodSpec (kubectl explain pod.spec)")


RULES = (check_labels, check_versions, check_images, check_canary, check_traffic, check_pod)


def check_rollout(rollout: Rollout) -> list[Finding]:
    out: list[Finding] = []
    for rule in RULES:
        out.extend(rule(rollout))
    return out
