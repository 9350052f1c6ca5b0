"""Meaning: the cross-field rules of a rollout spec. Pure functions over the model.

Each rule yields `Finding`s with a path into the spec; the loader turns paths into lines and columns.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from dataclasses import dataclass
from typing import Iterator

import generator.names as c
from generator.mesh import MESHES
from generator.spec.v1alpha1 import HeaderMatch, Rollout
from generator.spec.facts import cluster_service, routed_versions, strategy_of
from generator.spec.kinds import engine_of
from generator.spec.pod import merge_pod, podspec_errors
from generator.spec.podrules import label_key_error, pod_value_problems

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
    yield from check_shadow(rollout)
    yield from check_sticky(rollout)


def shadow_decimals_problem(percent: float) -> str | None:
    """A shadow share is written exactly (a Gateway API fraction of int32s): at most 4 decimals."""
    exponent = Decimal(repr(percent)).as_tuple().exponent
    if isinstance(exponent, int) and exponent < -4:
        return f"must have at most 4 decimals, got {percent!r}"
    return None


def check_shadow(rollout: Rollout) -> Iterator[Finding]:
    """Shadow traffic needs a route that can copy requests (manual delivery; Flagger's rules are apart)."""
    shadow = rollout.spec.canary.shadow
    if shadow is None:
        return
    path = ("spec", "canary", "shadow")
    problem = shadow_decimals_problem(shadow.percent)
    if problem:
        yield Finding(path + ("percent",), problem, "e.g. 0.5 or 12.5")
    if MESHES[rollout.spec.mesh].mirroring is None:
        yield Finding(path, f"{rollout.spec.mesh} cannot mirror requests: a policy.linkerd.io HTTPRoute has no "
                      "RequestMirror filter (neither among its rule filters nor its backendRef filters), and Linkerd "
                      "mirrors no traffic otherwise",
                      "remove `shadow`, or use `mesh: istio` (or `mesh: gateway-api` on an implementation that "
                      "supports RequestMirror)", key=True)


def check_sticky(rollout: Rollout) -> Iterator[Finding]:
    """A sticky canary sets its cookie from the route: the mesh must be able to."""
    sticky = rollout.spec.canary.sticky
    if sticky is None:
        return
    path = ("spec", "canary", "sticky")
    mesh = MESHES[rollout.spec.mesh]
    if mesh.sticky_cookie == "backend-filters" and not mesh.backend_filters_applied:
        yield Finding(path, "the cookie is set by a ResponseHeaderModifier filter on each backendRef, which the "
                      "Gateway API leaves implementation-specific: without it users are split but not kept on "
                      "their version", "check that your mesh applies backendRef filters", severity="warning",
                      key=True)


def check_traffic(rollout: Rollout) -> Iterator[Finding]:

    spec = rollout.spec
    if (spec.blueGreen is not None and spec.blueGreen.active is None) or \
            (spec.abTest is not None and spec.abTest.variants is None):
        return  # the block itself is incomplete; its rule says so
    if strategy_of(rollout) is None and spec.default is None and spec.routes:
        return  # check_routes: unmatched requests would get a 404
    if strategy_of(rollout) is None and spec.default is None and len(spec.versions) > 1:
        yield Finding(("spec", "versions"),
                      f"{len(spec.versions)} versions but no strategy says which one serves traffic",
                      "add a `canary`, `blueGreen` or `abTest` block or a `default`, or keep one version "
                      "for a service in steady state")
        return
    names = {v.name for v in spec.versions}
    used = set(routed_versions(rollout))
    if not used <= names or (spec.canary is not None and spec.canary.stable == spec.canary.canary):
        return  # reported by the rules of the block that names them
    if strategy_of(rollout) is None and spec.default is None:
        return
    controller_runs = engine_of(rollout) == "argo-rollouts"  # one Rollout: the stable and the new ReplicaSet
    for i, version in enumerate(spec.versions):
        if version.name not in used:
            yield Finding(("spec", "versions", i, "name"),
                          f"version {version.name!r} does not run: the Rollout runs only the stable version and "
                          "the one under test" if controller_runs else
                          f"version {version.name!r} runs but receives no traffic",
                          "remove it from `versions`" if controller_runs else "remove it once it is retired",
                          severity="warning")


def check_labels(rollout: Rollout) -> Iterator[Finding]:

    for key in rollout.metadata.labels:
        problem = label_key_error(key)
        if problem and problem != "is not a valid label key":  # that one is the schema's pattern
            yield Finding(("metadata", "labels", key), f"key {key!r} {problem}",
                          "a label key is an optional DNS prefix of at most 253 characters and `/`, then a name "
                          "of at most 63", key=True)
        if key in (c.APP_LABEL, c.VERSION_LABEL):
            yield Finding(("metadata", "labels", key), f"the label {key!r} is set by rollgen on every pod",
                          "its value is the service or version name; choose another label key", key=True)


def check_pod(rollout: Rollout) -> Iterator[Finding]:

    yield from check_pod_fragment(rollout, rollout.spec.workload.pod, ("spec", "workload", "pod"))


def check_pod_fragment(rollout: Rollout, fragment: dict | None, base: tuple) -> Iterator[Finding]:
    """A PodSpec fragment (`workload.pod`, a version's `pod`) merged with the generated container,
    against Kubernetes' schema and the rules of a Deployment's pods, located in the fragment."""
    if fragment is None:
        return
    name = rollout.spec.workload.container or rollout.metadata.name
    if "containers" in fragment and not isinstance(fragment["containers"], list):
        # merging would silently drop it: say so instead
        yield Finding(base + ("containers",), f"expected array, got {json.dumps(fragment['containers'])[:60]}",
                      "containers is a list: `- name: <container>` entries")
        return
    policy = fragment.get("restartPolicy")
    if policy is not None and policy != "Always":
        # Kubernetes' schema has no enum here; the API server refuses anything else in a Deployment
        yield Finding(base + ("restartPolicy",), f"a Deployment's pods must have restartPolicy Always, got {json.dumps(policy)}",
                      "remove restartPolicy: Deployments restart their containers always")
    containers = fragment.get("containers") if isinstance(fragment.get("containers"), list) else None
    if containers is not None:
        for i, item in enumerate(containers):
            if isinstance(item, dict) and item.get("name") == name and "image" in item:
                yield Finding(base + ("containers", i, "image"),
                              "the application container's image comes from the spec, not the pod fragment",
                              "set `workload.image` or `versions[].image`")
    target = rollout.spec.service.targetPort or rollout.spec.service.port
    generated = {"name": name, "image": "registry.invalid/placeholder:check",
                 "ports": [{"name": "http", "containerPort": target, "protocol": "TCP"}]}
    pod, index = merge_pod(fragment, generated)
    inserted = containers is None or not any(isinstance(x, dict) and x.get("name") == name for x in containers)
    mine = next((x for x in containers or () if isinstance(x, dict) and x.get("name") == name), None)
    # ports rollgen keeps in front of the fragment's own in the application container
    kept = 0 if mine is None or not isinstance(mine.get("ports"), list) else len(pod["containers"][index]["ports"]) - len(mine["ports"])

    def located(path: tuple) -> tuple | None:
        """The path in the fragment of a path in the merged pod; None for what rollgen generated."""
        if len(path) >= 2 and path[0] == "containers" and isinstance(path[1], int):
            if inserted:
                if path[1] == index:
                    return None  # the generated container itself
                return ("containers", path[1] - 1) + path[2:]
            if path[1] == index and len(path) >= 4 and path[2] == "ports" and isinstance(path[3], int):
                if path[3] < kept:
                    return None  # the generated port
                return path[:3] + (path[3] - kept,) + path[4:]
        return path

    schema_problems = podspec_errors(pod)
    for path, message in schema_problems:
        path = located(path)
        if path is not None:
            yield Finding(base + path, message, "this fragment is a Kubernetes PodSpec (kubectl explain pod.spec)")
    wrong_shape = [p for p, _ in schema_problems]
    for problem in pod_value_problems(pod):
        if any(p[:len(problem.path)] == problem.path or problem.path[:len(p)] == p for p in wrong_shape):
            continue  # one finding per place: the shape first
        path = located(problem.path)
        if path is not None:
            yield Finding(base + path, problem.message, problem.hint, severity=problem.severity, key=problem.key)


def check_strategy(rollout: Rollout) -> Iterator[Finding]:

    spec = rollout.spec
    given = [k for k in ("canary", "blueGreen", "abTest") if getattr(spec, k) is not None]
    for extra in given[1:]:
        yield Finding(("spec", extra), f"a spec runs one strategy at a time, but it has {' and '.join(given)}",
                      f"keep `{given[0]}` or `{extra}`; promote or finalize one before starting the next",
                      key=True)
    if spec.default is not None:
        if strategy_of(rollout) is not None:
            yield Finding(("spec", "default"),
                          f"`default` is for specs without a strategy; here `{strategy_of(rollout)}` decides where "
                          "unmatched requests go", "remove `default`", key=True)
        else:
            yield from _version_ref(rollout, spec.default, ("spec", "default"))


def check_blue_green(rollout: Rollout) -> Iterator[Finding]:
    bg = rollout.spec.blueGreen
    if bg is None:
        return
    base = ("spec", "blueGreen")
    if bg.active is None:
        yield Finding(base, "needs `active`: the version that serves production traffic",
                      "e.g. `blueGreen: {active: blue, preview: green}`", key=True)
    else:
        yield from _version_ref(rollout, bg.active, base + ("active",))
    if bg.preview is not None:
        yield from _version_ref(rollout, bg.preview, base + ("preview",))
        if bg.preview == bg.active:
            yield Finding(base + ("preview",), f"active and preview are both {bg.active!r}",
                          "preview is the other version, waiting for the cutover")
    if bg.test is not None:
        if bg.preview is None:
            yield Finding(base + ("test",), "a test match needs `preview`: the version test requests reach",
                          "add `preview: <version>`, or remove `test`", key=True)
        yield from check_header_match(bg.test, base + ("test",))


def check_ab_test(rollout: Rollout) -> Iterator[Finding]:
    ab = rollout.spec.abTest
    if ab is None:
        return
    base = ("spec", "abTest")
    if ab.cookie is None:
        yield Finding(base, "needs `cookie`: the cookie that keeps each user on their variant",
                      "e.g. `cookie: {name: ab-test, maxAge: 86400}`", key=True)
    if ab.variants is None:
        yield Finding(base, "needs `variants`: the versions under test, each with a cookie value and a weight",
                      "e.g. `variants: [{version: a, value: a, weight: 50}, {version: b, value: b, weight: 50}]`",
                      key=True)
        return
    if len(ab.variants) < 2:
        yield Finding(base + ("variants",), f"an A/B test needs at least two variants (got {len(ab.variants)})",
                      "add the variant to compare with")
    versions: dict[str, int] = {}
    values: dict[str, int] = {}
    for i, variant in enumerate(ab.variants):
        yield from _version_ref(rollout, variant.version, base + ("variants", i, "version"))
        if variant.version in versions:
            yield Finding(base + ("variants", i, "version"),
                          f"version {variant.version!r} is already variants[{versions[variant.version]}]",
                          "each variant is a different version")
        versions.setdefault(variant.version, i)
        if variant.value in values:
            yield Finding(base + ("variants", i, "value"),
                          f"cookie value {variant.value!r} is already variants[{values[variant.value]}]'s",
                          "each variant needs its own cookie value, or users cannot be told apart")
        values.setdefault(variant.value, i)
    total = sum(v.weight for v in ab.variants)
    if total != 100:
        shown = " + ".join(str(v.weight) for v in ab.variants)
        yield Finding(base + ("variants",), f"the variants' weights must sum to 100 (got {shown} = {total})",
                      "weights are the percent of new users assigned to each variant")
    mesh = MESHES[rollout.spec.mesh]
    if mesh.sticky_cookie == "backend-filters" and not mesh.backend_filters_applied and ab.cookie is not None:
        yield Finding(base + ("cookie",),
                      "the sticky cookie is set by a ResponseHeaderModifier filter on each backendRef, which the "
                      "Gateway API leaves implementation-specific: without it users are split but not kept "
                      "on their variant", "check that your mesh applies backendRef filters", severity="warning",
                      key=True)


def check_routes(rollout: Rollout) -> Iterator[Finding]:

    spec = rollout.spec
    routes = spec.routes or []
    for i, route in enumerate(routes):
        base = ("spec", "routes", i)
        yield from check_header_match(route.match, base + ("match",))
        if (route.version is None) == (route.host is None):
            what = "both" if route.version is not None else "neither"
            yield Finding(base, f"needs exactly one of `version` or `host` (got {what})",
                          "`version: <one of spec.versions>` or `host: <service>.<namespace>.svc.cluster.local`")
            continue
        if route.version is not None:
            yield from _version_ref(rollout, route.version, base + ("version",))
            if route.port is not None:
                yield Finding(base + ("port",), "`port` goes with `host`; a version is reached on the service's port",
                              "remove `port`", key=True)
            continue
        target = cluster_service(route.host, rollout.metadata.namespace)
        if MESHES[spec.mesh].route.registry_hosts:
            if target is None:
                yield Finding(base + ("host",),
                              f"{route.host!r} is not a Service of the cluster: Istio routes only to hosts in its "
                              "registry, so requests sent there fail unless a ServiceEntry declares it",
                              "make sure a ServiceEntry for this host exists (rollgen does not generate one)",
                              severity="warning")
            continue
        if target is None:
            yield Finding(base + ("host",),
                          f"{route.host!r} is not a Service of the cluster, and an HTTPRoute ({spec.mesh}) can only "
                          "send requests to a Service",
                          "name a Service (`<service>`, `<service>.<namespace>.svc` or "
                          "`<service>.<namespace>.svc.cluster.local`), or use `mesh: istio` for other hosts")
            continue
        if route.port is None:
            yield Finding(base + ("host",), f"routing to {route.host!r} on {spec.mesh} needs `port`: an HTTPRoute "
                          "backendRef names the Service's port", "add `port: <the Service's port>`")
        if target.namespace != rollout.metadata.namespace:
            yield Finding(base + ("host",),
                          f"Service {target.name!r} is in namespace {target.namespace!r}: the HTTPRoute may only "
                          f"send requests there when a ReferenceGrant in {target.namespace!r} allows HTTPRoutes "
                          f"from {rollout.metadata.namespace!r}", "create that ReferenceGrant with the Service's owners",
                          severity="warning")
    if routes and strategy_of(rollout) is None and spec.default is None:
        yield Finding(("spec", "routes"),
                      "requests that match no route have no destination: they would get a 404",
                      f"add `default: <version>` (one of {', '.join(v.name for v in spec.versions)}) for every "
                      "other request", key=True)




def check_rule_count(rollout: Rollout) -> Iterator[Finding]:
    """An HTTPRoute holds at most 16 rules: the routes plus the strategy's own rules must fit."""
    spec = rollout.spec
    limit = MESHES[spec.mesh].route.rule_limit
    if limit is None or not spec.routes:
        return
    own = 1
    if spec.canary is not None and spec.canary.testers is not None:
        own += 1
    if spec.canary is not None and spec.canary.sticky is not None:
        own += 3  # sticky-canary, sticky-stable, sticky-move
    if spec.blueGreen is not None and spec.blueGreen.test is not None:
        own += 1
    if spec.abTest is not None:
        own += len(spec.abTest.variants or ())
    if len(spec.routes) + own > limit:
        yield Finding(("spec", "routes"),
                      f"{len(spec.routes)} routes and {own} rule(s) of the strategy make {len(spec.routes) + own} "
                      f"HTTPRoute rules; an HTTPRoute holds at most {limit}",
                      f"keep at most {limit - own} routes (a regex can match several values)", key=True)


RULES = (check_labels, check_versions, check_images, check_strategy, check_canary, check_blue_green, check_ab_test, check_routes,
         check_rule_count, check_traffic, check_pod)


# Rules that hold for every delivery; the others describe rollgen's own routing of named versions.
SHARED_RULES = (check_labels, check_strategy, check_pod)
