"""Meaning of `delivery: argo-rollouts`: what the Argo Rollouts controller (v1.9) and its Gateway API
plugin cannot express, as located findings that say why. Pure functions over the model.

The spec keeps the manual shape (versions, `canary.stable/canary/steps`, `blueGreen.active/preview`):
the Rollout runs the version under test (the canary, or the blue/green preview) and the controller
moves the traffic, so everything that names a third version or a position is the controller's now.
"""

from __future__ import annotations

from typing import Iterator

from generator.spec.checks import Finding
from generator.spec.kinds import engine_of

ENGINE = "argo-rollouts"


def check_strategy(rollout) -> Iterator[Finding]:
    if engine_of(rollout) != ENGINE:
        return
    spec = rollout.spec
    if spec.abTest is not None:
        yield Finding(("spec", "abTest"),
                      "Argo Rollouts cannot run a cookie A/B test: its traffic routing splits by weight and "
                      "by header, and nothing sets or follows a sticky cookie",
                      "use `delivery: manual` for the A/B test, or a `canary` with `testers` under Argo Rollouts",
                      key=True)
    if spec.canary is not None and spec.canary.position != 0:
        yield Finding(("spec", "canary", "position"),
                      "`canary.position` is not read with `delivery: argo-rollouts`: the controller steps "
                      "through `canary.steps` itself",
                      f"promote with `kubectl argo rollouts promote {rollout.metadata.name} -n "
                      f"{rollout.metadata.namespace}`; remove `position`", severity="warning")


def check_routes(rollout) -> Iterator[Finding]:
    """A route to a version: the controller runs only the stable and the new ReplicaSets and moves the
    routing objects' weights itself, so a rule to one version could not stay put."""
    if engine_of(rollout) != ENGINE:
        return
    for i, route in enumerate(rollout.spec.routes or ()):
        if route.version is not None:
            yield Finding(("spec", "routes", i, "version"),
                          "a route to a version cannot be expressed with `delivery: argo-rollouts`: the controller "
                          "runs the stable and the new version as ReplicaSets of one Rollout, with no Service or "
                          "subset of their own to route to",
                          "route to another `host`, use `canary.testers` for requests that must reach the canary, "
                          "or use `delivery: manual`", key=True)


def check_argo_only_fields(rollout) -> Iterator[Finding]:
    """Fields only the Argo Rollouts engine reads: a warning with the other engines (their rules include
    this), so that switching `delivery` needs no other edit."""
    if engine_of(rollout) == ENGINE:
        return
    analysis = rollout.spec.analysis
    if analysis is not None and analysis.prometheus is not None:
        yield Finding(("spec", "analysis", "prometheus"),
                      "`analysis.prometheus` is only read with `delivery: argo-rollouts`: ignored here",
                      "remove it unless you switch to Argo Rollouts (with `delivery: flagger`, "
                      "`flagger.metricsServer` names Flagger's Prometheus)", severity="warning", key=True)


RULES = (check_strategy, check_routes)
