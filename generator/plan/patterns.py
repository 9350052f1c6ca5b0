"""Traffic patterns beyond the canary: blue/green, cookie A/B tests, header routes and a default.

Pure functions shared by the meaning checks and the plan: the sticky-cookie regex and header, where
a route's host lands in the cluster, and the routing rules of each strategy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import generator.names as c
from generator.spec.v1alpha1 import Rollout

_REGEX_SPECIAL = set("\\.^$|?*+()[]{}")


def regex_escape(text: str) -> str:
    """Escape RE2 metacharacters only (Python's re.escape also escapes '-', '/', ... needlessly)."""
    return "".join("\\" + ch if ch in _REGEX_SPECIAL else ch for ch in text)


def cookie_regex(name: str, value: str) -> str:
    """An RE2 expression (whole-value match, as Envoy applies it) that is true when the Cookie header
    carries exactly `name=value` as one of its cookies.

    Browsers join cookies with "; " (RFC 6265 §5.4), so the pair is either first or follows a ';' and
    optional whitespace, and is either last or followed by ';'. Neither `xname=value` (another cookie
    whose name ends like ours) nor `name=value2` (a longer value) matches.
    """
    return "^(?:.*;)?[ \\t]*" + regex_escape(name) + "=" + regex_escape(value) + "[ \\t]*(?:;.*)?$"


def set_cookie(name: str, value: str, max_age: int | None) -> str:
    """The Set-Cookie value that assigns a user to a variant. `Path=/` scopes it to the whole service:
    without it a browser keeps the cookie only for the directory of the first request's path, and a
    user would be re-assigned on every other path."""
    parts = [f"{name}={value}"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    parts.append("Path=/")
    return "; ".join(parts)


@dataclass(frozen=True)
class ClusterService:
    name: str
    namespace: str


_SVC_HOST = re.compile(r"^(?P<name>[a-z0-9]([-a-z0-9]*[a-z0-9])?)\.(?P<ns>[a-z0-9]([-a-z0-9]*[a-z0-9])?)"
                       r"\.svc(?:\." + re.escape(c.DEFAULT_CLUSTER_DOMAIN) + r")?$")
_LABEL = re.compile(c.DNS1123_LABEL)


def cluster_service(host: str, namespace: str) -> ClusterService | None:
    """The Service a host names (`name`, `name.ns.svc`, `name.ns.svc.cluster.local`), else None.

    Two-label names (`name.ns`) are refused on purpose: outside the cluster's search path they are
    ordinary DNS names, so they cannot be told apart from an external host."""
    if _LABEL.match(host) and len(host) <= c.MAX_LABEL:
        return ClusterService(host, namespace)
    m = _SVC_HOST.match(host)
    if m and len(m.group("name")) <= c.MAX_LABEL:
        return ClusterService(m.group("name"), m.group("ns"))
    return None


def strategy_of(rollout: Rollout) -> str | None:
    """`canary`, `blueGreen`, `abTest` or None (the first one set, when a spec sets several)."""
    spec = rollout.spec
    for name in ("canary", "blueGreen", "abTest"):
        if getattr(spec, name) is not None:
            return name
    return None


def routed_versions(rollout: Rollout) -> list[str]:
    """Versions a spec sends traffic to (or keeps ready for a cutover), in spec order."""
    spec = rollout.spec
    used: list[str] = []
    if spec.canary is not None:
        used += [spec.canary.stable, spec.canary.canary]
    if spec.blueGreen is not None:
        used += [v for v in (spec.blueGreen.active, spec.blueGreen.preview) if v]
    if spec.abTest is not None:
        used += [v.version for v in spec.abTest.variants or ()]
    used += [r.version for r in spec.routes or () if r.version]
    if spec.default:
        used.append(spec.default)
    return list(dict.fromkeys(used))


def kept_versions(rollout: Rollout) -> list[str]:
    """Versions that get their own Service `<name>-<version>` even when no rule routes to them now:
    both sides of a blue/green, so a cutover or a rollback only edits the route."""
    bg = rollout.spec.blueGreen
    if bg is None:
        return []
    return [v for v in (bg.active, bg.preview) if v]


def route_rules(rollout: Rollout) -> tuple:
    """`spec.routes`, in order: one rule each, before the strategy's rules."""
    from generator.plan.routed import Destination, HeaderCondition, Rule

    via_service = rollout.spec.blueGreen is not None
    out = []
    for i, route in enumerate(rollout.spec.routes or ()):
        if route.version is not None:
            dest = Destination(route.version, version_service=via_service)
        else:
            dest = Destination(host=route.host, port=route.port)
        out.append(Rule(f"route-{i}", ((HeaderCondition.of(route.match),),), (dest,)))
    return tuple(out)


def strategy_rules(rollout: Rollout) -> tuple[str, tuple] | None:
    """(stage, rules) for blue/green, A/B tests and default-routed specs; None for a canary or a plain
    steady service (the plan handles those)."""
    from generator.plan.routed import Destination, HeaderCondition, Rule

    spec = rollout.spec
    if spec.blueGreen is not None:
        bg = spec.blueGreen
        rules = []
        if bg.preview and bg.test is not None:
            rules.append(Rule("test", ((HeaderCondition.of(bg.test),),),
                              (Destination(bg.preview, version_service=True),)))
        rules.append(Rule("active", (), (Destination(bg.active, version_service=True),)))
        return "blue-green", tuple(rules)
    if spec.abTest is not None:
        ab = spec.abTest
        rules = [Rule(f"sticky-{v.version}",
                      ((HeaderCondition("cookie", "regex", cookie_regex(ab.cookie.name, v.value),
                                        f"cookie {ab.cookie.name}={v.value}", anchored=True),),),
                      (Destination(v.version),)) for v in ab.variants]
        rules.append(Rule("assign", (), tuple(
            Destination(v.version, weight=v.weight,
                        response_headers=(("Set-Cookie", set_cookie(ab.cookie.name, v.value, ab.cookie.maxAge)),))
            for v in ab.variants)))
        return "ab-test", tuple(rules)
    if spec.canary is None and spec.default is not None:
        rules = (Rule("default", (), (Destination(spec.default),)),)
        return ("routes" if spec.routes else "steady"), rules
    return None


def emergency_version(rollout: Rollout) -> str:
    """The version an emergency rollback sends everything to: the canary's stable; the blue/green's
    previous version (see `blue_green_fallback`); the A/B test's first variant (the control), or the
    default; a steady service's one version."""
    spec = rollout.spec
    if spec.canary is not None:
        return spec.canary.stable
    if spec.blueGreen is not None:
        return blue_green_fallback(spec.blueGreen)
    if spec.abTest is not None:
        return spec.abTest.variants[0].version
    return spec.default or spec.versions[0].name


def after_cutover(bg) -> bool:
    """Whether a blue/green's preview is the version that was live before the cutover: `promote`
    swaps active and preview and removes `test`, so a preview without a test match has been live
    (this is what `rollback` switches back to); with a test match it has never served production."""
    return bg.preview is not None and bg.test is None


def blue_green_fallback(bg) -> str:
    """Where a blue/green rollback sends every request: the previous version after a cutover, else
    the active one (only the test match is dropped)."""
    return bg.preview if after_cutover(bg) else bg.active


def emergency_rules(rollout: Rollout) -> tuple:
    """One rule, every request to the emergency version: no testers, no test match, no routes."""
    from generator.plan.routed import Destination, Rule

    dest = Destination(emergency_version(rollout), version_service=rollout.spec.blueGreen is not None)
    return (Rule("rollback", (), (dest,)),)


def precedence_keeps_order(rules) -> bool:
    """Gateway API (and Linkerd's HTTPRoute) do not evaluate rules in order: among the rules that match,
    the one with the most header matches wins, and only ties go by list order. Rules written in
    first-match order behave the same exactly when no rule has more header conditions than a rule
    before it (every alternative of a rule counts)."""
    most = None
    for rule in rules:
        counts = [len(alt) for alt in rule.matches] or [0]
        if most is not None and max(counts) > most:
            return False
        most = min(counts) if most is None else min(most, min(counts))
    return True
