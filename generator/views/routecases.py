"""Routing cases: requests and where they must go, checked against the generated routing objects.

A case file sits beside its spec (`specs/backend.yaml` -> `specs/backend.routes.yaml`):

    apiVersion: rollgen/v1alpha1
    kind: RouteTests
    cases:
      - name: testers reach the canary
        request: {headers: {x-canary-user: "true"}}
        expect: {version: v2}
      - name: everyone else gets the step's share
        request: {path: /cart}
        positions: [1]
        expect: {versions: {v1: 90, v2: 10}}

A request has `host`, `gateway` (NAMESPACE/NAME[:SECTION]; none: the mesh), `path`, `method`,
`headers`, `cookies`. `positions` lists the canary positions a case holds at (`all`, the default: every
position evaluated). `expect` names exactly one of `version` (every request reaches it; with `share`,
that percentage of requests does), `versions` (the exact split, percentages) or `host` (a backend
outside the rollout; `share` as for `version`), and optionally `rule`, the name of the rule that must
match (as written in the generated object, or `rule N`), `mirror`: `{version, share}` (copies of
`share` percent of the requests go to that version; share defaults to 100) or `none` (nothing is copied),
and `fault`: the rule's fault injection as a spec writes it, `{abort: {httpStatus, percent}, delay:
{fixed, percent}}` (percent defaults to 100), or `none`.

`load_cases` validates a file and reports every problem located (file:line:col: field: what; hint:),
`run_cases` evaluates the cases with `generator.views.routing` against the documents generated for each
position, `render_failures` says what each failing case got and expected.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from generator.diagnostics import Diagnostic, InvalidInput, format_path
from generator.names import ROUTE_CASES_SUFFIXES
from generator.views.routing import (Request, Result, RoutingError, canonical_host, fault_parts, route_request,
                                     share_text)
from generator.spec.yamlio import Located, load_yaml

API_VERSION = "rollgen/v1alpha1"
KIND = "RouteTests"
SUFFIX = ROUTE_CASES_SUFFIXES[0]

ALL = None  # a case's positions: every position evaluated

_TOP = ("apiVersion", "kind", "cases")
_CASE = ("name", "request", "positions", "expect")
_REQUEST = ("host", "gateway", "path", "method", "headers", "cookies")
_EXPECT = ("version", "versions", "host", "share", "rule", "mirror", "fault")
_MIRROR = ("version", "share")
_FAULT = ("abort", "delay")
_ABORT = ("httpStatus", "percent")
_DELAY = ("fixed", "percent")
_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")


def cases_path(spec: Path) -> Path:
    """Where the routing cases of a spec live: beside it, `NAME.routes.yaml`."""
    return spec.with_name(spec.name.rsplit(".", 1)[0] + SUFFIX)


def spec_path(cases: Path) -> Path:
    """The spec a case file belongs to: `NAME.yaml` beside `NAME.routes.yaml`."""
    suffix = next((s for s in ROUTE_CASES_SUFFIXES if cases.name.endswith(s)), None)
    if suffix is None:
        raise ValueError(f"{cases} is not a routing case file (*{SUFFIX})")
    return cases.with_name(cases.name[: -len(suffix)] + suffix[len(".routes"):])


def is_cases_file(path: Path) -> bool:
    return path.name.endswith(ROUTE_CASES_SUFFIXES)


@dataclass(frozen=True)
class Expectation:
    """Where a case's request must go. Shares are fractions of the requests (1 = every request)."""

    version: str | None = None
    versions: Mapping[str, Fraction] | None = None
    host: str | None = None
    share: Fraction | None = None
    rule: str | None = None
    mirror: tuple[str, Fraction] | None = None  # (version, share of the requests copied to it)
    no_mirror: bool = False
    fault: Mapping[str, tuple] | None = None  # {"abort": (status, share), "delay": (duration, share)}; {}: none

    def describe(self) -> str:
        if self.versions is not None:
            what = "versions " + ", ".join(f"{v} {share_text(s)}" for v, s in self.versions.items())
        else:
            what = f"version {self.version}" if self.version is not None else f"host {self.host}"
            what += f" for {share_text(self.share)} of requests" if self.share is not None else " for every request"
        what += f" through rule {self.rule!r}" if self.rule else ""
        if self.mirror is not None:
            what += f", mirroring {share_text(self.mirror[1])} to {self.mirror[0]}"
        elif self.no_mirror:
            what += ", mirroring nothing"
        if self.fault is not None:
            what += fault_text(self.fault)
        return what


@dataclass(frozen=True)
class Case:
    """One request and where it must go, at `positions` (ALL: every position evaluated)."""

    name: str
    request: Request
    expect: Expectation
    positions: tuple[int, ...] | None = ALL
    file: str = ""
    line: int = 0
    column: int = 0


@dataclass(frozen=True)
class RouteCases:
    file: str
    cases: tuple[Case, ...]


# --- loading -------------------------------------------------------------------------------------

class _Checker:
    def __init__(self, located: Located, filename: str):
        self.located, self.filename = located, filename
        self.errors: list[Diagnostic] = []

    def error(self, path: tuple, message: str, hint: str = "", key: bool = False) -> None:
        line, column = self.located.position(path, key=key)
        self.errors.append(Diagnostic(self.filename, line, column, format_path(path), message, hint))

    def mapping(self, value: Any, path: tuple, known: tuple[str, ...], what: str) -> dict | None:
        if not isinstance(value, dict):
            self.error(path, f"must be a mapping ({what}), got {_shown(value)}")
            return None
        for key in value:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
                self.error(path + (key,), f"unknown field {key!r}",
                           f"did you mean {close[0]!r}?" if close else f"{what} has: {', '.join(known)}", key=True)
        return value

    def string(self, value: Any, path: tuple, hint: str = "") -> str | None:
        if isinstance(value, str) and value:
            return value
        self.error(path, f"must be a non-empty string, got {_shown(value)}",
                   hint or ("quote it: YAML reads true, 1 or 1.10 as other types" if value is not None else ""))
        return None

    def string_map(self, value: Any, path: tuple, what: str) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(path, f"must be a mapping of {what} names to values, got {_shown(value)}")
            return {}
        out = {}
        for k, v in value.items():
            if not isinstance(v, str):
                self.error(path + (k,), f"must be a string, got {_shown(v)}",
                           f"quote it: {k}: \"{self.located.text(path + (k,), str(v))}\"")
            else:
                out[str(k)] = v
        return out

    def percent(self, value: Any, path: tuple) -> Fraction | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
            self.error(path, f"must be a percentage from 0 to 100, got {_shown(value)}",
                       "write the share of requests as a number, e.g. 10 for 10%")
            return None
        return Fraction(self.located.text(path, str(value))) / 100


def _shown(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _request(check: _Checker, value: Any, path: tuple) -> Request | None:
    if value is None:
        return Request()
    data = check.mapping(value, path, _REQUEST, "a request")
    if data is None:
        return None
    host = check.string(data["host"], path + ("host",)) if "host" in data else None
    gateway = None
    if "gateway" in data:
        gateway = check.string(data["gateway"], path + ("gateway",))
        if gateway is not None and gateway != "mesh":
            ref = gateway.partition(":")[0]
            ns, slash, name = ref.partition("/")
            if not (slash and ns and name):
                check.error(path + ("gateway",), f"must be NAMESPACE/NAME[:SECTION], got {gateway!r}",
                            "e.g. istio-system/public-gateway; leave it out for a request from inside the mesh")
    path_value = "/"
    if "path" in data:
        path_value = check.string(data["path"], path + ("path",)) or "/"
        if not path_value.startswith("/"):
            check.error(path + ("path",), f"must start with '/', got {path_value!r}", f"write /{path_value}")
    method = "GET"
    if "method" in data:
        method = check.string(data["method"], path + ("method",)) or "GET"
        if method not in _METHODS:
            close = difflib.get_close_matches(method.upper(), _METHODS, n=1)
            check.error(path + ("method",), f"unknown HTTP method {method!r}",
                        f"did you mean {close[0]!r}?" if close else "one of " + ", ".join(_METHODS))
    headers = check.string_map(data.get("headers"), path + ("headers",), "header")
    cookies = check.string_map(data.get("cookies"), path + ("cookies",), "cookie")
    return Request(host=host, gateway=gateway, path=path_value, method=method, headers=headers, cookies=cookies)


def _positions(check: _Checker, value: Any, path: tuple) -> tuple[int, ...] | None:
    if value is None or value == "all":
        return ALL
    if not isinstance(value, list) or not value:
        check.error(path, f"must be `all` or a non-empty list of positions, got {_shown(value)}",
                    "e.g. positions: [0, 1] (0 is before the first step), or leave it out for every position")
        return ALL
    out = []
    for i, p in enumerate(value):
        if isinstance(p, bool) or not isinstance(p, int) or p < 0:
            check.error(path + (i,), f"must be a position (a whole number from 0), got {_shown(p)}")
        elif p in out:
            check.error(path + (i,), f"position {p} is listed twice")
        else:
            out.append(p)
    return tuple(out)


def _expect(check: _Checker, value: Any, path: tuple) -> Expectation | None:
    data = check.mapping(value, path, _EXPECT, "an expectation")
    if data is None:
        return None
    targets = [k for k in ("version", "versions", "host") if k in data]
    if len(targets) != 1:
        check.error(path, "must name exactly one of version, versions, host"
                    + (f" (got {', '.join(targets)})" if targets else ""),
                    "version: the version every request reaches (with share: for some of them); "
                    "versions: the whole split; host: a backend outside the rollout")
        return None
    version = check.string(data["version"], path + ("version",)) if "version" in data else None
    host = check.string(data["host"], path + ("host",)) if "host" in data else None
    versions = None
    if "versions" in data:
        raw = data["versions"]
        if not isinstance(raw, dict) or not raw:
            check.error(path + ("versions",), f"must map each version to its percentage, got {_shown(raw)}",
                        "e.g. versions: {v1: 90, v2: 10}")
        else:
            versions = {}
            for k, v in raw.items():
                share = check.percent(v, path + ("versions", k))
                if share is not None:
                    versions[str(k)] = share
            if len(versions) == len(raw) and sum(versions.values()) != 1:
                check.error(path + ("versions",), f"the percentages add up to {share_text(sum(versions.values()))}, not 100%",
                            "list every version the requests reach, with its share")
    share = None
    if "share" in data:
        if versions is not None or "versions" in data:
            check.error(path + ("share",), "goes with version or host, not with versions",
                        "versions already gives each version's share", key=True)
        else:
            share = check.percent(data["share"], path + ("share",))
    rule = check.string(data["rule"], path + ("rule",)) if "rule" in data else None
    mirror, no_mirror = None, False
    if "mirror" in data:
        raw = data["mirror"]
        if raw == "none":
            no_mirror = True
        else:
            entry = check.mapping(raw, path + ("mirror",), _MIRROR, "a mirror expectation")
            if entry is not None:
                if "version" not in entry:
                    check.error(path + ("mirror",), "needs `version`: the version the copies reach",
                                "e.g. mirror: {version: v2, share: 10}, or mirror: none")
                else:
                    target = check.string(entry["version"], path + ("mirror", "version"))
                    copied = check.percent(entry["share"], path + ("mirror", "share")) if "share" in entry else Fraction(1)
                    if target is not None and copied is not None:
                        mirror = (target, copied)
    fault = _fault(check, data["fault"], path + ("fault",)) if "fault" in data else None
    return Expectation(version, versions, host, share, rule, mirror, no_mirror, fault)


def _fault(check: _Checker, raw: Any, path: tuple) -> Mapping[str, tuple] | None:
    """A fault expectation, as a spec writes a route's fault (`none`: the rule injects no fault)."""
    if raw == "none":
        return {}
    entry = check.mapping(raw, path, _FAULT, "a fault expectation")
    if entry is None:
        return None
    if not entry:
        check.error(path, "names neither abort nor delay", "e.g. fault: {abort: {httpStatus: 500}}, or fault: none")
        return None
    out: dict[str, tuple] = {}
    for kind, fields, what in (("abort", _ABORT, "httpStatus"), ("delay", _DELAY, "fixed")):
        if kind not in entry:
            continue
        part = check.mapping(entry[kind], path + (kind,), fields, f"a fault's {kind}")
        if part is None:
            continue
        if what not in part:
            check.error(path + (kind,), f"needs `{what}`",
                        "e.g. abort: {httpStatus: 500, percent: 10}" if kind == "abort" else
                        "e.g. delay: {fixed: 7s, percent: 10}")
            continue
        value = part[what]
        if kind == "abort" and (isinstance(value, bool) or not isinstance(value, int) or not 200 <= value <= 599):
            check.error(path + (kind, what), f"must be an HTTP status from 200 to 599, got {_shown(value)}")
            continue
        if kind == "delay":
            value = check.string(value, path + (kind, what), "a duration as the spec writes it, e.g. 7s")
            if value is None:
                continue
        share = check.percent(part["percent"], path + (kind, "percent")) if "percent" in part else Fraction(1)
        if share is not None:
            out[kind] = (value, share)
    return out if len(out) == len(entry) else None


def faults_of(result: Result) -> dict[str, tuple]:
    """The matched rule's fault injection, as a case writes it."""
    return fault_parts(result.fault)


def fault_text(faults: Mapping[str, tuple]) -> str:
    if not faults:
        return ", no fault"
    parts = []
    if "abort" in faults:
        parts.append(f"aborting {share_text(faults['abort'][1])} with HTTP {faults['abort'][0]}")
    if "delay" in faults:
        parts.append(f"delaying {share_text(faults['delay'][1])} by {faults['delay'][0]}")
    return ", " + " and ".join(parts)


def load_cases(raw: bytes, filename: str) -> RouteCases:
    """Validate a case file; raises InvalidInput with every problem found, located."""
    located = load_yaml(raw, filename)
    check = _Checker(located, filename)
    data = check.mapping(located.data, (), _TOP, "a routing case file")
    if data is None:
        raise InvalidInput(check.errors)
    if data.get("apiVersion") != API_VERSION:
        check.error(("apiVersion",), f"must be {API_VERSION}, got {_shown(data.get('apiVersion'))}",
                    f"start the file with apiVersion: {API_VERSION} and kind: {KIND}")
    if data.get("kind") != KIND:
        check.error(("kind",), f"must be {KIND}, got {_shown(data.get('kind'))}",
                    "a routing case file holds kind RouteTests; a spec is kind Rollout")
    raw_cases = data.get("cases")
    if not isinstance(raw_cases, list) or not raw_cases:
        check.error(("cases",), f"must be a non-empty list of cases, got {_shown(raw_cases)}",
                    "each case: {name, request, expect} and optionally positions")
        raise InvalidInput(check.errors)
    cases, names = [], {}
    for i, item in enumerate(raw_cases):
        path = ("cases", i)
        entry = check.mapping(item, path, _CASE, "a case")
        if entry is None:
            continue
        name = check.string(entry.get("name"), path + ("name",),
                            "name the case after what it proves, e.g. testers reach the canary") or f"case {i + 1}"
        if name in names:
            check.error(path + ("name",), f"case name {name!r} is already used by cases[{names[name]}]",
                        "give each case its own name: a failure is reported by name")
        names.setdefault(name, i)
        request = _request(check, entry.get("request"), path + ("request",))
        positions = _positions(check, entry.get("positions"), path + ("positions",))
        if "expect" not in entry:
            check.error(path, "a case needs `expect`: where its request must go", "e.g. expect: {version: v2}")
            continue
        expect = _expect(check, entry["expect"], path + ("expect",))
        if request is not None and expect is not None:
            line, column = located.position(path)
            cases.append(Case(name, request, expect, positions, filename, line, column))
    if check.errors:
        raise InvalidInput(check.errors)
    return RouteCases(filename, tuple(cases))


def read_cases(path: Path, display: str | None = None) -> RouteCases:
    """Read and validate the case file at `path`, named `display` in diagnostics."""
    return load_cases(path.read_bytes(), display or path.as_posix())


# --- running -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    """One case at one position: passed, or what it got instead (`got`), with the evaluation."""

    case: Case
    position: int | None
    passed: bool
    got: str
    result: Result | None = field(default=None, compare=False)


def mirrored(result: Result) -> dict[str, Fraction]:
    """{version: share of the requests copied to it} over every mirror of the matched rule."""
    out: dict[str, Fraction] = {}
    for m in result.mirrors:
        for version, part in (m.versions or {m.backend: Fraction(1)}).items():
            out[version] = out.get(version, Fraction(0)) + m.percent / 100 * part
    return out


def _got(result: Result) -> str:
    reached = result.versions()
    what = ("versions " + ", ".join(f"{v} {share_text(s)}" for v, s in reached.items())) if reached else "no backend"
    copies = mirrored(result)
    faults = faults_of(result)
    return what + (f" through rule {result.rule!r}" if result.rule else "") + \
        "".join(f", mirroring {share_text(s)} to {v}" for v, s in copies.items()) + \
        (fault_text(faults) if faults else "") + \
        (f" ({result.router})" if result.router else f" ({result.why[-1]})")


def check_case(case: Case, result: Result, namespace: str | None = None) -> bool:
    """Does the evaluation of a case's request meet its expectation?"""
    expect = case.expect
    if expect.rule is not None and result.rule != expect.rule:
        return False
    if expect.no_mirror and mirrored(result):
        return False
    if expect.mirror is not None and mirrored(result) != {expect.mirror[0]: expect.mirror[1]}:
        return False
    if expect.fault is not None and faults_of(result) != dict(expect.fault):
        return False
    if expect.versions is not None:
        return dict(result.versions()) == dict(expect.versions)
    if expect.version is not None:
        got = result.versions().get(expect.version, Fraction(0))
    else:
        wanted = {expect.host.lower(), canonical_host(expect.host, namespace)}
        got = sum((s for h, s in result.hosts().items() if h in wanted or canonical_host(h, namespace) in wanted),
                  Fraction(0))
    return got == (expect.share if expect.share is not None else 1)


DocumentSource = Mapping[Any, Iterable[dict]] | Callable[[Any], Iterable[dict]]


def run_cases(cases: RouteCases, documents: DocumentSource, positions: Iterable[int | None] | None = None,
              namespace: str | None = None) -> list[Outcome]:
    """Evaluate every case at every position it names, against the documents generated for that
    position: `documents` is {position: documents} or a function of the position. `positions` are the
    positions evaluated (default: the mapping's keys); a case at `all` runs at each of them, a case
    naming positions runs at those of them that are evaluated. A spec without positions is evaluated
    at the position None. `namespace` resolves short hosts in expectations (the spec's namespace)."""
    if positions is None:
        if callable(documents):
            raise TypeError("run_cases needs the positions to evaluate when documents is a function")
        positions = list(documents)
    positions = list(positions)
    fetch = documents if callable(documents) else (lambda p: documents[p])
    cache: dict[Any, list[dict]] = {}
    out = []
    for case in cases.cases:
        for position in positions:
            if case.positions is not ALL and position not in case.positions:
                continue
            if position not in cache:
                cache[position] = list(fetch(position))
            try:
                result = route_request(cache[position], case.request)
            except RoutingError as exc:
                out.append(Outcome(case, position, False, f"no evaluation: {exc}"))
                continue
            out.append(Outcome(case, position, check_case(case, result, namespace), _got(result), result))
    return out


def unevaluated(cases: RouteCases, positions: Iterable[int | None]) -> list[tuple[Case, tuple[int, ...]]]:
    """The cases naming positions that are not among `positions` (and so did not run there)."""
    evaluated = set(positions)
    out = []
    for case in cases.cases:
        if case.positions is not ALL:
            missing = tuple(p for p in case.positions if p not in evaluated)
            if missing:
                out.append((case, missing))
    return out


def render_failures(outcomes: Iterable[Outcome]) -> str:
    """Each failing case, located in its file, with what it expected and what it got."""
    lines = []
    for o in outcomes:
        if o.passed:
            continue
        at = f" at position {o.position}" if o.position is not None else ""
        lines.append(f"{o.case.file}:{o.case.line}:{o.case.column}: case {o.case.name!r}{at}: "
                     f"expected {o.case.expect.describe()}, got {o.got}")
    return "\n".join(lines)


def outcomes_json(outcomes: Iterable[Outcome]) -> list[dict]:
    """The JSON-able form of outcomes (`rollgen test --format json`)."""
    return [{"file": o.case.file, "line": o.case.line, "case": o.case.name, "position": o.position,
             "passed": o.passed, "expected": o.case.expect.describe(), "got": o.got} for o in outcomes]
