"""Two specs must never generate the same Kubernetes object.

A spec claims what it generates: its output directory `<namespace>/<name>/` (two specs with the same
metadata.name and namespace would write the same files) and the names of the Services in its
namespace. A version's objects are named `<name>-<version>`: the blue/green `billing` with a version
`green` and a service `billing-green` in the same namespace would both write Service `billing-green`,
and whichever is applied last would take the other's traffic. Claims come from a spec alone (what
`validate` knows, without compiling) or from the files recorded for specs generated earlier (what
`generate` and `check` know too); one reporter turns every clash into an error at the field that
decides the claim, in both files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import generator.names as c
from generator.diagnostics import Diagnostic, format_path
from generator.plan.routed import build_routed_plan
from generator.spec.kinds import engine_of
from generator.plan.argo import plan_argo
from generator.spec.yamlio import Located

NAME = ("metadata", "name")
SAME_SERVICE_HINT = ("two specs have the same metadata.name and metadata.namespace: rename one, or move it to "
                     "another namespace")
VERSION_HINT = "rename a service or a version: `<name>-<version>` of one must not be another service's name"
OWN_NAME_HINT = ("rename one of the two services: a service's name must not be another service's `<name>-<version>`, "
                 "nor the `<name>-primary` or `<name>-canary` of a `delivery: flagger` service")
FLAGGER_HINT = ("Flagger creates the Services `<name>`, `<name>-primary` and `<name>-canary` of a `delivery: flagger` "
                "spec: rename one of the services")


@dataclass(frozen=True)
class Claim:
    """Something only one spec may generate. Specs whose claims share a `key` clash. `what` names it
    in messages ("service production/billing-green"), `field` is the spec field that decides it
    (where the clash is reported), `hint` how to resolve it. Of two specs that clash several times
    the claim of lowest `rank` is reported (the whole service before one of its objects)."""

    key: tuple
    what: str
    field: tuple = NAME
    hint: str = SAME_SERVICE_HINT
    rank: int = 0


def service_claim(namespace: str, name: str, field: tuple = NAME, hint: str = SAME_SERVICE_HINT) -> Claim:
    """The output directory `<namespace>/<name>/` of one spec: everything it generates."""
    return Claim(("directory", namespace, name), f"service {namespace}/{name}", field, hint, rank=0)


def object_claim(namespace: str, kind: str, name: str, hint: str = VERSION_HINT) -> Claim:
    """One object, keyed by the file that holds it (`<kind>-<name>.yaml` in its namespace)."""
    return Claim(("object", namespace, c.file_name(kind, name)), f"{kind.lower()} {namespace}/{name}",
                 NAME, hint, rank=1 if kind.lower() == "service" else 2)


def spec_claims(spec) -> list[Claim]:
    """What one valid spec claims, from the spec alone: its directory, and the Services its
    namespace will hold (its own, each version's `<name>-<version>`, and Flagger's)."""
    document = spec.document
    namespace, name = document.metadata.namespace, document.metadata.name
    claims = [service_claim(namespace, name)]
    engine = engine_of(document)
    if engine == "platform":
        return claims
    if engine == "flagger":
        own, *created = c.flagger_service_names(name)
        return claims + [object_claim(namespace, "Service", own, OWN_NAME_HINT)] + [
            object_claim(namespace, "Service", s, FLAGGER_HINT) for s in created]
    own = object_claim(namespace, "Service", name, OWN_NAME_HINT)
    if engine == "argo-rollouts":
        steered = [s.name for s in plan_argo(document, spec.source).services if s.name != name]
        return claims + [own] + [object_claim(namespace, "Service", s) for s in steered]
    versions = [c.version_service_name(name, v) for v in build_routed_plan(document, spec.source).version_services]
    return claims + [own] + [object_claim(namespace, "Service", s) for s in versions]


def _object(rel: str) -> tuple[str, str, str] | None:
    """(namespace, service directory, file name) of a generated object's file, else None."""
    parts = rel.split("/")
    if len(parts) < 3 or not parts[-1].endswith(".yaml") or parts[-1] == "kustomization.yaml":
        return None
    return parts[-3], parts[-2], parts[-1]


def record_claims(files: Iterable[str]) -> list[Claim]:
    """What a spec claims by the files it generates (as a generate records them)."""
    claims: dict[tuple, Claim] = {}
    for rel in sorted(files):
        found = _object(rel)
        if found is None:
            continue
        namespace, service, filename = found
        directory = service_claim(namespace, service)
        claims.setdefault(directory.key, directory)
        kind, _, name = filename.removesuffix(".yaml").partition("-")
        claim = object_claim(namespace, kind, name)
        claims.setdefault(claim.key, claim)
    return list(claims.values())


def clashes(claims: dict[str, list[Claim]], located: dict[str, Located]) -> list[Diagnostic]:
    """One error in each file of every two specs that claim the same thing, at the field that decides
    it and naming the other file (where it is, when that file was read in this run). Specs not read
    now (known from the record of an earlier generate) are named, never blamed."""
    holders: dict[tuple, dict[str, Claim]] = {}
    for source in sorted(claims):
        for claim in claims[source]:
            holders.setdefault(claim.key, {}).setdefault(source, claim)
    pairs: dict[tuple[str, str], tuple[Claim, Claim]] = {}
    for key in sorted(holders, key=repr):
        sources = sorted(holders[key])
        for i, a in enumerate(sources):
            for b in sources[i + 1:]:
                found = (holders[key][a], holders[key][b])
                if (a, b) not in pairs or found[0].rank < pairs[a, b][0].rank:
                    pairs[a, b] = found
    problems = []
    for (a, b), (claim_a, claim_b) in sorted(pairs.items()):
        sides = [(a, claim_a, b, claim_b), (b, claim_b, a, claim_a)]
        blamed = [side for side in sides if side[0] in located] or sides[:1]
        for source, claim, other, other_claim in blamed:
            spec = located.get(source)
            line, column = spec.position(claim.field) if spec else (0, 0)
            problems.append(Diagnostic(
                source, line, column, format_path(claim.field),
                f"{claim.what} is generated by this spec and by {_where(other, other_claim, located)}: "
                "applied together, one would overwrite the other", claim.hint))
    return problems


def _scope(watches: str, first: bool) -> str:
    if first:
        return "every namespace's Canaries" if not watches else f"the Canaries of {watches}"
    return "those of every namespace" if not watches else f"those of {watches}"


def _platform_pair(a, b) -> list[tuple[str, str]]:
    """(message about `a`, hint) for each way two Platforms' Flagger installs would break each other."""
    out = []
    names_b = {r.name for r in b.flagger_releases}
    shared = sorted({r.name for r in a.flagger_releases} & names_b)
    if shared:
        # the chart names its ClusterRole and ClusterRoleBinding after the release (fullnameOverride)
        out.append((f"ClusterRole {shared[0]} is written by Flagger of this spec and of {b.source}: applied "
                    "together, one would overwrite the other", "give the Platforms different `metadata.name`s"))
    for ra in a.flagger_releases:
        rb = next((r for r in b.flagger_releases if not ra.watches or not r.watches or r.watches == ra.watches), None)
        if rb is not None and rb.name != ra.name:
            out.append((f"Flagger {ra.name} reconciles {_scope(ra.watches, True)} and Flagger {rb.name} of "
                        f"{b.source} {_scope(rb.watches, False)}: both would run them",
                        "give both Platforms `spec.flagger.namespaces` that do not overlap"))
            break
    testers = sorted(set(a.loadtester_namespaces) & set(b.loadtester_namespaces))
    if testers:
        out.append((f"the load tester of namespace {testers[0]} is installed by this spec and by {b.source}",
                    "install it from one Platform: list the namespace in the `spec.loadtester.namespaces` of one"))
    va = {r.version for r in a.flagger_releases}
    vb = {r.version for r in b.flagger_releases}
    if va != vb:
        out.append((f"Flagger's CRDs come from chart version {', '.join(sorted(va))} here and "
                    f"{', '.join(sorted(vb))} in {b.source}: each install would replace the other's",
                    "use the same `spec.flagger.version` in every Platform"))
    return out


def platform_clashes(platforms: list) -> list[Diagnostic]:
    """Errors, at `metadata.name` of both, for two Platforms whose Flagger installs share a cluster but
    not safely: the chart's cluster-wide RBAC names, the Canaries each reconciles, a load tester, the CRDs.
    `platforms` holds (PlatformPlan, LoadedSpec) pairs."""
    ordered = sorted(platforms, key=lambda p: p[0].source)
    problems = []
    for i, (a, spec_a) in enumerate(ordered):
        for b, spec_b in ordered[i + 1:]:
            for (this, other, spec) in ((a, b, spec_a), (b, a, spec_b)):
                line, column = spec.located.position(("metadata", "name"))
                for message, hint in _platform_pair(this, other):
                    problems.append(Diagnostic(this.source, line, column, "metadata.name", message, hint))
    return problems


def _where(source: str, claim: Claim, located: dict[str, Located]) -> str:
    if source not in located:
        return f"{source} (generated earlier)"
    line, column = located[source].position(claim.field)
    return f"{source}:{line}:{column}"


def spec_clashes(specs) -> list[Diagnostic]:
    """Every clash among valid specs, from the specs alone (no compiling)."""
    return clashes({s.source: spec_claims(s) for s in specs}, {s.source: s.located for s in specs})
