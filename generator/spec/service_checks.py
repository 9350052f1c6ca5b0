"""Meaning of what a real service adds to a rollout: ingress gateways, timeouts, retries and fault
injection (what each mesh's routing object can write, from `generator.mesh`), more Service ports, and
the Deployment's own options (DeploymentSpec fields, pod metadata, per-version pods). Pure functions
over the model; findings located by path.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Iterator

import generator.names as c
from generator.mesh import MESHES
from generator.spec.checks import Finding, check_pod_fragment
from generator.spec.flagger_checks import check_autoscaling_fields, provider_of
from generator.spec.kinds import engine_of
from generator.spec.pod import deploymentspec_errors
from generator.spec.podrules import label_key_error

# DeploymentSpec fields rollgen writes itself, and where the spec sets them instead.
OWNED_DEPLOYMENT_FIELDS = {
    "replicas": "set `workload.replicas` (or a version's `replicas`)",
    "selector": "rollgen selects the pods by their `app` and `version` labels",
    "template": "set the pod with `workload.pod` and `workload.podMetadata`",
}


def _allowed_routes(rollout, path: tuple, namespace: str) -> Iterator[Finding]:
    if namespace != rollout.metadata.namespace:
        yield Finding(path, f"the Gateway is in namespace {namespace!r}: it admits the HTTPRoute from "
                      f"{rollout.metadata.namespace!r} only when its listener's `allowedRoutes.namespaces` "
                      "allows it (the default, `Same`, does not)",
                      "set `allowedRoutes.namespaces.from: All` (or a `Selector` matching this namespace) on the "
                      "Gateway's listener", severity="warning")


def check_ingress(rollout) -> Iterator[Finding]:
    """`spec.ingress` with manual delivery (the rest of Flagger's is checked by `flagger_checks.check_edge`)."""
    spec = rollout.spec
    if spec.ingress is None:
        return
    if engine_of(rollout) == "flagger":
        if provider_of(rollout).startswith("gatewayapi"):  # Flagger's HTTPRoute attaches to the Gateways too
            for i, gateway in enumerate(spec.ingress.gateways):
                if gateway not in spec.ingress.gateways[:i]:  # a duplicate is an error of its own
                    yield from _allowed_routes(rollout, ("spec", "ingress", "gateways", i), gateway.split("/")[0])
        return
    mesh = MESHES[spec.mesh]
    base = ("spec", "ingress")
    if mesh.ingress is not None:
        yield Finding(base, f"{spec.mesh}: {mesh.ingress}", "use `mesh: gateway-api` with your Gateway in "
                      "`ingress.gateways`, or route the edge outside the rollout", key=True)
        return
    seen: dict[str, int] = {}
    for i, gateway in enumerate(spec.ingress.gateways):
        path = base + ("gateways", i)
        if gateway in seen:
            yield Finding(path, f"duplicate gateway {gateway!r} (also gateways[{seen[gateway]}])", "list it once")
            continue
        seen[gateway] = i
        namespace = gateway.split("/")[0]
        if mesh.route.kind == "VirtualService" and ":" in gateway:
            yield Finding(path, f"an Istio Gateway is named NAMESPACE/NAME, got {gateway!r}: listener sections are "
                          "Gateway API's", f"write `{gateway.split(':')[0]}`")
        elif mesh.route.kind == "HTTPRoute":
            yield from _allowed_routes(rollout, path, namespace)
    if mesh.route.kind == "VirtualService" and not spec.ingress.hosts:
        yield Finding(base + ("gateways",), "an Istio gateway routes requests by their host: the VirtualService "
                      "needs the hostnames served there", "add `hosts: [shop.example.com]` to `ingress`", key=True)
    seen_hosts: dict[str, int] = {}
    for i, host in enumerate(spec.ingress.hosts):
        if host in seen_hosts:
            yield Finding(base + ("hosts", i), f"duplicate host {host!r} (also hosts[{seen_hosts[host]}])", "list it once")
        seen_hosts.setdefault(host, i)


ROUTE_DURATION = re.compile(r"^([0-9]{1,5}(h|m|s|ms)){1,4}$")  # the Gateway API's (GEP-2257); Istio's CEL reads it too


def check_route_durations(rollout) -> Iterator[Finding]:
    """Durations written into routes (the timeout, each attempt's, a fault's delay): the units both Istio
    (CEL `duration()`, at least 1ms) and the Gateway API (GEP-2257) read."""
    spec = rollout.spec
    given = [(("spec", "service", "timeout"), spec.service.timeout)]
    if spec.service.retries is not None:
        given.append((("spec", "service", "retries", "perTryTimeout"), spec.service.retries.perTryTimeout))
    for i, route in enumerate(spec.routes or ()):
        if route.fault is not None and route.fault.delay is not None:
            given.append((("spec", "routes", i, "fault", "delay", "fixed"), route.fault.delay.fixed))
    for path, value in given:
        if value is None:
            continue
        if not ROUTE_DURATION.match(value):
            yield Finding(path, f"routes read durations in hours, minutes, seconds and milliseconds (at most "
                          f"99999 of each), got {value!r}", "e.g. `5s`, `1m30s`, `500ms`; a day is `24h`")
        elif not re.search(r"[1-9]", value):
            yield Finding(path, f"must be longer than 0, got {value!r}", "remove it to keep the mesh's default")


def check_route_options(rollout) -> Iterator[Finding]:
    """`service.timeout`, `service.retries` and `routes[].fault`: what the mesh's routing object can write."""
    spec = rollout.spec
    if engine_of(rollout) == "flagger":
        return  # Flagger's own options are checked by flagger_checks.check_edge; `routes` are refused there
    mesh = MESHES[spec.mesh]
    if engine_of(rollout) == "argo-rollouts":
        # The rules are those of the routing object the controller's traffic router reads; what the mesh
        # reads from a route's annotations (Linkerd's retries) it reads there too.
        own, mesh = mesh, MESHES[mesh.argo_router]
        if own.retries_as == "annotations":
            mesh = replace(mesh, retries=None, retries_as="annotations")
    options = (("timeout", ("spec", "service", "timeout"), spec.service.timeout, mesh.timeouts),
               ("retries", ("spec", "service", "retries"), spec.service.retries, mesh.retries))
    for option, path, value, reason in options:
        if value is not None and reason is not None:
            yield Finding(path, f"{spec.mesh}: {reason}", f"remove `{option}`, or use `mesh: istio`", key=True)
    if spec.service.retries is not None and mesh.retries is None and mesh.retries_as == "annotations":
        yield from _annotated_retries(spec.mesh, spec.service.retries)
    for i, route in enumerate(spec.routes or ()):
        if route.fault is None:
            continue
        path = ("spec", "routes", i, "fault")
        if mesh.fault_injection is not None:
            yield Finding(path, f"{spec.mesh}: {mesh.fault_injection}", "remove `fault`, or use `mesh: istio`", key=True)
        elif route.fault.abort is None and route.fault.delay is None:
            yield Finding(path, "a fault needs `abort` or `delay` (or both)",
                          "e.g. `{abort: {httpStatus: 500, percent: 100}}` or `{delay: {fixed: 7s, percent: 10}}`")


LINKERD_RETRY_STATUSES = ("5xx", "gateway-error")  # and HTTP status codes


def _annotated_retries(mesh: str, retries) -> Iterator[Finding]:
    """Linkerd retries the HTTP statuses `retry.linkerd.io/http` names (`5xx`, `gateway-error`, codes);
    with none named it retries none, and Envoy's connection conditions (`reset`, `connect-failure`...)
    have no counterpart."""
    path = ("spec", "service", "retries")
    if retries.on is None:
        yield Finding(path, f"{mesh} retries only the HTTP statuses `retry.linkerd.io/http` names, and `on` names none",
                      'set `"on"`, e.g. `"on": 5xx` or `"on": gateway-error,429`', key=True)
        return
    for token in retries.on.split(","):
        if token not in LINKERD_RETRY_STATUSES and not (token.isdigit() and 100 <= int(token) <= 599):
            yield Finding(path + ("on",), f"{mesh} retries on HTTP statuses only: {token!r} is not one",
                          "use `5xx`, `gateway-error` or status codes such as `503`, or `mesh: istio` for "
                          "Envoy's connection conditions")


def check_ports(rollout) -> Iterator[Finding]:
    """`service.additionalPorts`: IANA service names, unique names and ports (`http` and `port` are the rollout's)."""
    service = rollout.spec.service
    names = {"http": None}
    ports = {service.port: None}
    targets = {service.targetPort or service.port: None}
    for i, extra in enumerate(service.additionalPorts):
        base = ("spec", "service", "additionalPorts", i)
        if not any(ch.isalpha() for ch in extra.name) or "--" in extra.name:
            why = "has no letter" if not any(ch.isalpha() for ch in extra.name) else "has '--'"
            yield Finding(base + ("name",), f"{extra.name!r} is not an IANA service name: it {why}",
                          "a port name is at most 15 lowercase letters, digits and single '-', with a letter; "
                          "e.g. `metrics`, `grpc-web`")
        if extra.name in names:
            owner = "the rollout's own port" if names[extra.name] is None else f"additionalPorts[{names[extra.name]}]"
            yield Finding(base + ("name",), f"port name {extra.name!r} is already used by {owner}",
                          "give every port its own name")
        names.setdefault(extra.name, i)
        clash = extra.port in ports
        if clash:
            owner = "`service.port`" if ports[extra.port] is None else f"additionalPorts[{ports[extra.port]}]"
            yield Finding(base + ("port",), f"port {extra.port} is already exposed by {owner}",
                          "give every port its own number")
        ports.setdefault(extra.port, i)
        target = extra.targetPort or extra.port
        if target in targets and (extra.targetPort is not None or not clash):
            owner = "the rollout's own port" if targets[target] is None else f"additionalPorts[{targets[target]}]"
            yield Finding(base + ("targetPort" if extra.targetPort else "port",),
                          f"container port {target} is already the target of {owner}",
                          "the application container declares each port once: give this port its own targetPort")
        targets.setdefault(target, i)
        if engine_of(rollout) == "flagger" and target != extra.port:
            yield Finding(base + ("targetPort",), "Flagger discovers further ports from the container and exposes "
                          "each on its container port: a different `targetPort` cannot be kept",
                          "remove `targetPort`, or set it equal to `port`", key=True)
    if engine_of(rollout) == "flagger" and service.additionalPorts:
        settings = rollout.spec.flagger
        if settings is not None and settings.portDiscovery is False:
            yield Finding(("spec", "flagger", "portDiscovery"), "Flagger exposes `service.additionalPorts` on its "
                          "Services only with port discovery", "remove `portDiscovery: false`", key=True)


def check_deployment(rollout) -> Iterator[Finding]:
    """`workload.deployment`, `workload.podMetadata` and the versions' `pod` fragments."""
    workload = rollout.spec.workload
    if workload.deployment is not None:
        base = ("spec", "workload", "deployment")
        for key in workload.deployment:
            if key in OWNED_DEPLOYMENT_FIELDS:
                yield Finding(base + (key,), f"`{key}` of the Deployment is rollgen's", OWNED_DEPLOYMENT_FIELDS[key],
                              key=True)
        given = {k: v for k, v in workload.deployment.items() if k not in OWNED_DEPLOYMENT_FIELDS}
        # selector and template are required by the schema: rollgen's own stand in for them
        for path, message in deploymentspec_errors({**given, "selector": {}, "template": {}}):
            yield Finding(base + path, message, "these are Kubernetes DeploymentSpec fields (kubectl explain "
                          "deployment.spec)")
        strategy = given.get("strategy")
        if isinstance(strategy, dict) and strategy.get("type") is not None:
            kind = strategy["type"]
            if kind not in ("RollingUpdate", "Recreate"):
                yield Finding(base + ("strategy", "type"), f"a Deployment's strategy is RollingUpdate or Recreate, "
                              f"got {kind!r}", "write `RollingUpdate` (the default) or `Recreate`")
            elif kind == "Recreate" and strategy.get("rollingUpdate") is not None:
                yield Finding(base + ("strategy", "rollingUpdate"), "`rollingUpdate` goes with the RollingUpdate "
                              "strategy: the API server refuses it with Recreate", "remove `rollingUpdate`", key=True)
    meta = workload.podMetadata
    if meta is not None:
        for kind in ("labels", "annotations"):
            for key in getattr(meta, kind):
                path = ("spec", "workload", "podMetadata", kind, key)
                problem = label_key_error(key)
                if problem and problem != "is not a valid label key":  # that one is the schema's pattern
                    yield Finding(path, f"key {key!r} {problem}", "a key is an optional DNS prefix of at most 253 "
                                  "characters and `/`, then a name of at most 63", key=True)
                if kind == "labels" and key in (c.APP_LABEL, c.VERSION_LABEL):
                    yield Finding(path, f"the label {key!r} is set by rollgen on every pod: the Services and the "
                                  "routes select the pods by it", "choose another label key", key=True)
    for i, version in enumerate(rollout.spec.versions or ()):
        yield from check_pod_fragment(rollout, version.pod, ("spec", "versions", i, "pod"))


def check_autoscaling(rollout) -> Iterator[Finding]:
    """`workload.autoscaling` with manual delivery: one HorizontalPodAutoscaler per version's Deployment."""
    if engine_of(rollout) == "flagger" or rollout.spec.workload.autoscaling is None:
        return
    yield from check_autoscaling_fields(rollout)
    for i, version in enumerate(rollout.spec.versions or ()):
        if version.replicas is not None:
            yield Finding(("spec", "versions", i, "replicas"), "a version's `replicas` and `workload.autoscaling` "
                          "together: every version's autoscaler decides its count between `autoscaling.min` and "
                          "`autoscaling.max`", "remove it", key=True)


RULES = (check_ingress, check_route_durations, check_route_options, check_ports, check_deployment, check_autoscaling)
