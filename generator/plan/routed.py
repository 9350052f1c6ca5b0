"""The plan: pure data about what a spec compiles to — names, workloads, weights, routing rules.

No cdk8s, no files, no click. Constructs turn a plan into objects; tests check most behaviour here.
"""

from __future__ import annotations

import generator.names as c
from generator.mesh import MESHES
from generator.spec.pod import merge_pod, overlay_pod
from generator.spec.v1alpha1 import Rollout
from generator.spec.facts import canary_weights
from generator.plan.model import AutoscalerPlan, Destination, EdgePlan, HeaderCondition, Mirror, Plan, Rule, WorkloadPlan
from generator.plan.flagger import retries_dict
from generator.plan.pods import container_ports, plan_ports, pod_metadata
from generator.plan.patterns import emergency_rules, kept_versions, route_rules, shadow_percent, sticky_rules, strategy_rules
from generator.plan.queries import plan_alerts


def object_labels(rollout: Rollout) -> dict[str, str]:
    return {**rollout.metadata.labels, **c.MANAGED_BY}


def plan_workloads(rollout: Rollout) -> tuple[WorkloadPlan, ...]:
    spec, name = rollout.spec, rollout.metadata.name
    container_name = spec.workload.container or name
    labels, annotations = pod_metadata(rollout)
    out = []
    for version in spec.versions:
        image = version.image or f"{spec.workload.image}:{version.name}"
        container = {"name": container_name, "image": image, "ports": container_ports(rollout)}
        pod, _ = merge_pod(overlay_pod(spec.workload.pod, version.pod), container)
        replicas = version.replicas if version.replicas is not None else spec.workload.replicas
        if spec.workload.autoscaling is not None:
            replicas = None  # the version's autoscaler holds the count
        out.append(WorkloadPlan(version.name, c.deployment_name(name, version.name), image, replicas, pod,
                                dict(spec.workload.deployment or {}), labels, annotations))
    return tuple(out)


def plan_edge(rollout: Rollout) -> EdgePlan | None:
    ingress = rollout.spec.ingress
    if ingress is None:
        return None
    return EdgePlan(tuple(ingress.gateways), tuple(ingress.hosts), ingress.mesh)


def plan_rules(rollout: Rollout, position: int | None = None,
               emergency: bool = False) -> tuple[str, tuple[Rule, ...]]:
    """The routing rules (and the stage they belong to), at `position` or the spec's live one.
    `emergency`: everything on the version a rollback returns to, no header rules at all."""

    if emergency:
        return "emergency", emergency_rules(rollout)
    found = strategy_rules(rollout)
    if found is not None:
        stage, rules = found
        return stage, route_rules(rollout) + rules
    spec = rollout.spec
    canary = spec.canary
    if canary is None:
        # Steady state: to the one version (a subset, or its own Service), as every position of a
        # rollout does, never to whatever the app-wide Service happens to select in the cluster.
        return "steady", (Rule("default", (), (Destination(spec.versions[0].name),)),)
    at = canary.position if position is None else position
    stable_weight, canary_weight = canary_weights(canary.steps, at)
    rules = []
    if canary.testers is not None:
        rules.append(Rule("testers", ((HeaderCondition.of(canary.testers),),), (Destination(canary.canary),)))
    split = (Destination(canary.stable, weight=stable_weight), Destination(canary.canary, weight=canary_weight))
    if canary.sticky is not None and 0 < at < len(canary.steps):
        sticky, split = sticky_rules(canary, stable_weight, canary_weight, at, canary_weights(canary.steps, at - 1)[1])
        rules.extend(sticky)
    # Shadow traffic while the canary serves nobody: from the first step on it answers real users.
    mirror = Mirror(Destination(canary.canary), shadow_percent(canary.shadow)) \
        if canary.shadow is not None and at == 0 else None
    rules.append(Rule("split", (), split, mirror))
    return "canary", route_rules(rollout) + tuple(rules)


def build_routed_plan(rollout: Rollout, source: str, position: int | None = None, emergency: bool = False) -> Plan:

    spec = rollout.spec
    stage, rules = plan_rules(rollout, position, emergency)
    per_version = MESHES[spec.mesh].per_version_services
    routed = [d.version for r in rules for d in r.destinations
              if d.version is not None and (per_version or d.version_service)]
    routed += kept_versions(rollout)
    by_subset = any(d.version is not None and not d.version_service for r in rules for d in r.destinations)
    return Plan(
        source=source,
        name=rollout.metadata.name,
        namespace=rollout.metadata.namespace,
        labels=object_labels(rollout),
        mesh=spec.mesh,
        port=spec.service.port,
        target_port=spec.service.targetPort or spec.service.port,
        stage=stage,
        workloads=plan_workloads(rollout),
        # A DestinationRule is needed unless every version is reached through its own Service.
        subsets=tuple(v.name for v in spec.versions) if by_subset or stage in ("steady", "canary") else (),
        version_services=tuple(dict.fromkeys(routed)),
        # With one version the app-wide Service names it: pods of a version that Git no longer has
        # (a sync without pruning leaves them running) are then no endpoints of it. With more, it
        # selects them all, so Istio subsets find their pods and starting a rollout only adds endpoints.
        only_version=spec.versions[0].name if len(spec.versions) == 1 else None,
        rules=rules,
        alerts=_plan_alerts(rollout),
        ports=plan_ports(rollout),
        edge=plan_edge(rollout),
        timeout=spec.service.timeout,
        retries=retries_dict(spec.service.retries),
        autoscaler=_autoscaler(rollout),
        route_annotations=route_annotations(rollout),
    )


def route_annotations(rollout: Rollout) -> dict:
    """What the mesh reads from the routing object's annotations rather than its rules: Linkerd's retry
    policy, `retry.linkerd.io/limit` (retries after the first try, like Istio's `attempts`), `/timeout`
    (each try) and `/http` (the statuses retried; the spec check allows only what Linkerd parses,
    comma-separated without spaces). Linkerd reads them on policy.linkerd.io and gateway.networking.k8s.io
    HTTPRoutes alike (policy-controller/k8s/index/src/outbound/index/http.rs convert_route)."""
    retries = rollout.spec.service.retries
    if retries is None or MESHES[rollout.spec.mesh].retries_as != "annotations":
        return {}
    out = {"retry.linkerd.io/http": retries.on, "retry.linkerd.io/limit": str(retries.attempts)}
    if retries.perTryTimeout is not None:
        out["retry.linkerd.io/timeout"] = retries.perTryTimeout
    return out


def _autoscaler(rollout: Rollout) -> AutoscalerPlan | None:
    scaling = rollout.spec.workload.autoscaling
    if scaling is None:
        return None
    return AutoscalerPlan(scaling.min, scaling.max, scaling.cpu, rollout.spec.workload.container or rollout.metadata.name)


def _plan_alerts(rollout: Rollout):

    return plan_alerts(rollout, object_labels(rollout))


def at_position(rollout: Rollout, position: int | None) -> Rollout:
    """The spec as it reads at another canary position (None: as it is): what `promote` and `rollback`
    would leave behind, without touching the file."""
    canary = rollout.spec.canary
    if position is None or canary is None or position == canary.position:
        return rollout
    if position not in positions(rollout):
        raise ValueError(f"position {position} is not one of the rollout's positions {positions(rollout)}")
    spec = rollout.spec.model_copy(update={"canary": canary.model_copy(update={"position": position})})
    return rollout.model_copy(update={"spec": spec})


def positions(rollout: Rollout) -> list[int]:
    """Every position a spec can be at (just the live one when it has no steps)."""
    if rollout.spec.canary is None:
        return [0]
    return list(range(len(rollout.spec.canary.steps) + 1))
