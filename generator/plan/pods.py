"""What every Deployment of a rollout shares, whoever delivers it: the application container's ports (the
rollout's `http` and `service.additionalPorts`) and the pods' own labels and annotations."""

from __future__ import annotations

from generator.spec.v1alpha1 import Rollout
from generator.plan.model import PortPlan


def plan_ports(rollout: Rollout) -> tuple[PortPlan, ...]:
    """`service.additionalPorts`, in the spec's order."""
    return tuple(PortPlan(p.name, p.port, p.targetPort or p.port, p.protocol, p.appProtocol)
                 for p in rollout.spec.service.additionalPorts)


def container_ports(rollout: Rollout) -> list[dict]:
    """The application container's ports: `http` on the target port, then each additional port's target."""
    spec = rollout.spec
    ports = [{"name": "http", "containerPort": spec.service.targetPort or spec.service.port, "protocol": "TCP"}]
    ports += [{"name": p.name, "containerPort": p.target_port, "protocol": p.protocol} for p in plan_ports(rollout)]
    return ports


def pod_metadata(rollout: Rollout) -> tuple[dict, dict]:
    """(labels, annotations) of `workload.podMetadata`."""
    meta = rollout.spec.workload.podMetadata
    return (dict(meta.labels), dict(meta.annotations)) if meta is not None else ({}, {})
