"""Meaning of `delivery: argo-rollouts`: what the Argo Rollouts controller (v1.9) and its Gateway API
plugin cannot express, as located findings that say why. Pure functions over the model.

The spec keeps the manual shape (versions, `canary.stable/canary/steps`, `blueGreen.active/preview`):
the Rollout runs the version under test (the canary, or the blue/green preview) and the controller
moves the traffic, so everything that names a third version or a position is the controller's now.
"""

from __future__ import annotations

from typing import Iterator

from generator.mesh import MESHES
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


def check_canary_extras(rollout) -> Iterator[Finding]:
    """`canary.sticky` and `canary.shadow` as the controller can run them (or not)."""
    if engine_of(rollout) != ENGINE or rollout.spec.canary is None:
        return
    canary, mesh = rollout.spec.canary, rollout.spec.mesh
    if canary.sticky is not None:
        yield Finding(("spec", "canary", "sticky"),
                      "Argo Rollouts cannot keep users on the version they reached: `setWeight` splits every "
                      "request by weight anew, and no step sets or follows a cookie",
                      "remove `sticky` (users may see both versions while the canary runs), or use "
                      "`delivery: manual` or `delivery: flagger` (its `analysis.sessionAffinity`)", key=True)
    shadow = canary.shadow
    if shadow is None or MESHES[mesh].mirroring is None:
        return  # the mesh's own rule refuses shadow on a mesh that cannot mirror at all
    path = ("spec", "canary", "shadow")
    if MESHES[mesh].argo_router != "istio":  # the plugin's router: setMirrorRoute is a no-op (plugin.go:155-157)
        yield Finding(path, "Argo Rollouts mirrors only through Istio: the Gateway API plugin does nothing on "
                      "`setMirrorRoute` and the controller refuses the step with a traffic-router plugin",
                      "remove `shadow`, use `mesh: istio`, or use `delivery: manual`", key=True)
        return
    if shadow.percent != int(shadow.percent):
        yield Finding(path + ("percent",), f"Argo Rollouts mirrors a whole percentage (`setMirrorRoute.percentage` "
                      f"is an integer), got {shadow.percent!r}", f"use {max(1, round(shadow.percent))}")
    if rollout.spec.routes:
        yield Finding(path, "the controller puts its mirror route before every route of the VirtualService, and "
                      "Argo Rollouts' mirror match cannot exclude requests: the requests `routes` send elsewhere "
                      "would reach the split instead while the copies run",
                      "remove `shadow` or `routes`, or use `delivery: manual` (its mirror is on the split alone)",
                      key=True)


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


# workload.deployment keys the Rollout has but takes from elsewhere, and why (RolloutSpec in argoproj.io_rollouts.yaml)
ROLLOUT_OWNED_FIELDS = {
    "strategy": ("the Rollout's strategy is the spec's `canary` or `blueGreen`: the controller replaces the "
                 "Deployment's rolling update with its steps", "remove `strategy`; set the canary's `steps` instead"),
    "paused": ("the controller writes the Rollout's `spec.paused` itself (`kubectl argo rollouts pause` / "
               "`promote`), and a paused Rollout in Git would undo every promote at the next sync",
               "remove `paused`; pause with `kubectl argo rollouts pause`"),
}
DEFAULT_PROGRESS_DEADLINE = 600  # RolloutSpec.progressDeadlineSeconds' default (defaults.GetProgressDeadlineSecondsOrDefault)


def check_deployment(rollout) -> Iterator[Finding]:
    """`workload.deployment` under Argo Rollouts: the DeploymentSpec fields the Rollout has too
    (minReadySeconds, revisionHistoryLimit, progressDeadlineSeconds) are written on the Rollout; the
    rest is the controller's (validation.go:172-176 for the deadline)."""
    if engine_of(rollout) != ENGINE or rollout.spec.workload.deployment is None:
        return
    deployment = rollout.spec.workload.deployment
    base = ("spec", "workload", "deployment")
    for key in deployment:
        if key in ROLLOUT_OWNED_FIELDS:
            why, hint = ROLLOUT_OWNED_FIELDS[key]
            yield Finding(base + (key,), f"`{key}` cannot be kept with `delivery: argo-rollouts`: {why}", hint, key=True)
    ready, deadline = deployment.get("minReadySeconds"), deployment.get("progressDeadlineSeconds")
    if isinstance(ready, int) and (deadline is None or isinstance(deadline, int)):
        limit = DEFAULT_PROGRESS_DEADLINE if deadline is None else deadline
        if limit <= ready:
            said = "the default progressDeadlineSeconds, 600" if deadline is None else f"progressDeadlineSeconds ({deadline})"
            yield Finding(base + ("minReadySeconds",), f"Argo Rollouts refuses a Rollout whose {said} is not "
                          f"longer than minReadySeconds ({ready})",
                          f"set `progressDeadlineSeconds` above {ready}, or lower `minReadySeconds`", key=True)


RULES = (check_strategy, check_canary_extras, check_routes, check_deployment)
