"""Traffic patterns beyond the canary: blue/green, cookie A/B tests, header routes and a default.

Pure functions shared by the meaning checks and the plan: the sticky-cookie regex and header, where
a route's host lands in the cluster, and the routing rules of each strategy.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from generator.spec.v1alpha1 import Rollout
from generator.spec.facts import after_cutover
from generator.plan.model import Destination, FaultPlan, HeaderCondition, Rule

_REGEX_SPECIAL = set("\\.^$|?*+()[]{}")


def regex_escape(text: str) -> str:
    """Escape RE2 metacharacters only (Python's re.escape also escapes '-', '/', ... needlessly)."""
    return "".join("\\" + ch if ch in _REGEX_SPECIAL else ch for ch in text)


def cookie_regex(name: str, *values: str) -> str:
    """An RE2 expression (whole-value match, as Envoy applies it) that is true when the Cookie header
    carries exactly `name=value`, for one of `values`, as one of its cookies.

    Browsers join cookies with "; " (RFC 6265 §5.4), so the pair is either first or follows a ';' and
    optional whitespace, and is either last or followed by ';'. Neither `xname=value` (another cookie
    whose name ends like ours) nor `name=value2` (a longer value) matches.
    """
    value = regex_escape(values[0]) if len(values) == 1 else "(?:" + "|".join(map(regex_escape, values)) + ")"
    return "^(?:.*;)?[ \\t]*" + regex_escape(name) + "=" + value + "[ \\t]*(?:;.*)?$"


def set_cookie(name: str, value: str, max_age: int | None) -> str:
    """The Set-Cookie value that assigns a user to a variant. `Path=/` scopes it to the whole service:
    without it a browser keeps the cookie only for the directory of the first request's path, and a
    user would be re-assigned on every other path."""
    parts = [f"{name}={value}"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    parts.append("Path=/")
    return "; ".join(parts)


def shadow_percent(shadow) -> Fraction:
    """The share of requests a shadow copies, exactly (`0.5` is 1/2, not a binary float)."""
    return Fraction(Decimal(repr(shadow.percent)))


def sticky_value(version: str, position: int) -> str:
    """The sticky canary's cookie value: the version a user was sent to and the position it happened at
    (`v2.3`). The position lets a rollback release exactly the users pinned after it."""
    return f"{version}.{position}"


def sticky_rules(canary, stable_weight: int, canary_weight: int, at: int, previous_weight: int) -> tuple:
    """The rules of a sticky canary at position `at` (1 <= at < the last position), before the split.

    A user is kept on the version recorded in their cookie: the canary for good (any position up to
    this one: a rollback to position m releases those pinned after m), stable for this position only.
    Stable users of the position before are moved to the canary in the proportion that brings the
    canary's share of users from the previous step's weight to this one's; users without a (current)
    cookie are split by the step's weight. Each split sets the cookie of the version it chose."""
    cookie = canary.sticky.cookie
    age = canary.sticky.maxAge
    pinned = tuple(sticky_value(canary.canary, k) for k in range(1, at + 1))

    def cond(*values: str) -> HeaderCondition:
        shown = " or ".join(f"{cookie}={v}" for v in values) if len(values) < 3 else \
            f"{cookie}={values[0]} ... {values[-1]}"
        return HeaderCondition("cookie", "regex", cookie_regex(cookie, *values), f"cookie {shown}", anchored=True)

    def assign(stable_share: int, canary_share: int) -> tuple[Destination, ...]:
        return (Destination(canary.stable, weight=stable_share, response_headers=(
                    ("Set-Cookie", set_cookie(cookie, sticky_value(canary.stable, at), age)),)),
                Destination(canary.canary, weight=canary_share, response_headers=(
                    ("Set-Cookie", set_cookie(cookie, sticky_value(canary.canary, at), age)),)))

    rules = [Rule("sticky-canary", ((cond(*pinned),),), (Destination(canary.canary),)),
             Rule("sticky-stable", ((cond(sticky_value(canary.stable, at)),),), (Destination(canary.stable),))]
    if at > 1:
        moved = round(100 * (canary_weight - previous_weight) / (100 - previous_weight))
        rules.append(Rule("sticky-move", ((cond(sticky_value(canary.stable, at - 1)),),), assign(100 - moved, moved)))
    return tuple(rules), assign(stable_weight, canary_weight)


def kept_versions(rollout: Rollout) -> list[str]:
    """Versions that get their own Service `<name>-<version>` even when no rule routes to them now:
    both sides of a blue/green, so a cutover or a rollback only edits the route."""
    bg = rollout.spec.blueGreen
    if bg is None:
        return []
    return [v for v in (bg.active, bg.preview) if v]


def route_rules(rollout: Rollout) -> tuple:
    """`spec.routes`, in order: one rule each, before the strategy's rules."""
    via_service = rollout.spec.blueGreen is not None
    out = []
    for i, route in enumerate(rollout.spec.routes or ()):
        if route.version is not None:
            dest = Destination(route.version, version_service=via_service)
        else:
            dest = Destination(host=route.host, port=route.port)
        out.append(Rule(f"route-{i}", ((HeaderCondition.of(route.match),),), (dest,), faults=route_faults(route)))
    return tuple(out)


def route_faults(route) -> tuple[FaultPlan, ...]:
    """A route's fault injection: the delay first, then the abort (the order Istio's HTTPFaultInjection lists them)."""
    fault = route.fault
    if fault is None:
        return ()
    out = []
    if fault.delay is not None:
        out.append(FaultPlan("delay", fault.delay.fixed, fault.delay.percent))
    if fault.abort is not None:
        out.append(FaultPlan("abort", fault.abort.httpStatus, fault.abort.percent))
    return tuple(out)


def strategy_rules(rollout: Rollout) -> tuple[str, tuple] | None:
    """(stage, rules) for blue/green, A/B tests and default-routed specs; None for a canary or a plain
    steady service (the plan handles those)."""

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


def blue_green_fallback(bg) -> str:
    """Where a blue/green rollback sends every request: the previous version after a cutover, else
    the active one (only the test match is dropped)."""
    return bg.preview if after_cutover(bg) else bg.active


def emergency_rules(rollout: Rollout) -> tuple:
    """One rule, every request to the emergency version: no testers, no test match, no routes."""
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


def header_regex(cond: HeaderCondition) -> str:
    """A RegularExpression value with whole-value semantics whatever the implementation's default
    (RE2 full match in Envoy, search in others): anchored explicitly."""
    if cond.kind == "prefix":
        return "^" + regex_escape(cond.value) + ".*$"
    if cond.anchored:
        return cond.value
    return "^(?:" + cond.value + ")$"
