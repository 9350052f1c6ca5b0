"""Spec blocks of `delivery: flagger`: webhooks, Flagger settings and alert channels.

Part of the rollgen/v1alpha1 Rollout language (see `v1alpha1.RolloutSpec`); field descriptions are
user documentation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import Field

import generator.names as c
from generator.spec.base import NAME_PATTERN, Model

# Durations as Flagger's Canary CRD accepts them (its pattern is `^[0-9]+(m|s)`): seconds or minutes.
FLAGGER_DURATION_PATTERN = r"^([0-9]+(ms|s|m))+$"
URL_PATTERN = r"^https?://[^\s]+$"
# Istio's TrafficPolicy as Flagger's Canary CRD accepts it (vendored from Flagger v1.44's CRD).
TRAFFIC_POLICY_SCHEMA = json.loads((Path(__file__).parent / "istio_traffic_policy.json").read_text("utf-8"))


class Webhook(Model):
    name: str = Field(description="Name of the webhook, shown in Flagger's events (e.g. `load-test`).",
                      pattern=NAME_PATTERN, min_length=1, max_length=c.MAX_LABEL)
    type: Literal["pre-rollout", "rollout", "post-rollout", "confirm-rollout", "confirm-promotion",
                  "confirm-traffic-increase", "rollback", "event"] = Field(
        "rollout",
        description="When Flagger calls it: `pre-rollout` (before traffic reaches the canary; a failure counts "
        "towards the threshold), `rollout` (every analysis interval, e.g. load tests), `post-rollout` (after "
        "promotion or rollback), `confirm-rollout` / `confirm-promotion` / `confirm-traffic-increase` (gates: "
        "Flagger waits until the URL answers 200), `rollback` (a 200 rolls back), `event` (every Flagger "
        "event is posted to the URL). Default: `rollout`.",
    )
    timeout: Optional[str] = Field(None, description="Request timeout, in seconds or minutes (`15s`, `1m`).",
                                   pattern=FLAGGER_DURATION_PATTERN)
    cmd: Optional[str] = Field(
        None, description="Command the load tester runs (`hey ...`, `curl ...`). Address the canary as "
        "`<name>-canary.<namespace>:<port>`: the load tester resolves names in its own namespace.",
        min_length=1)
    url: Optional[str] = Field(
        None, description="Webhook URL. Default: the load tester (`flagger.loadtester`); for gates its "
        "`gate/check` endpoint (open it with the load tester's `gate/open`), for `rollback` its `rollback/check`.",
        pattern=URL_PATTERN)
    runner: Optional[Literal["bash", "cmd"]] = Field(
        None,
        description="How the load tester runs `cmd`: `bash` waits for it and fails the check on a non-zero "
        "exit; `cmd` starts it in the background and answers at once (for load generators). Default: `cmd` "
        "for `rollout` webhooks, `bash` for the others.",
    )


class AlertChannel(Model):
    name: str = Field(description="Name of the channel; the AlertProvider rollgen writes is `<name>-<channel name>`.",
                      pattern=NAME_PATTERN, min_length=1, max_length=c.MAX_LABEL)
    type: Optional[Literal["slack", "msteams", "discord", "rocket", "gchat"]] = Field(
        None, description="Chat service of the AlertProvider rollgen writes (or give `providerRef`).")
    providerRef: Optional[ProviderRef] = Field(
        None, description="An existing AlertProvider, shared across rollouts (`{name: on-call, namespace: "
        "flagger-system}`), instead of one written for this rollout.")
    severity: Literal["info", "warn", "error"] = Field(
        "error", description="Least severity sent: `info` (every step), `warn` (waiting for approval and "
        "failures) or `error` (failures only). Default: `error`.")
    channel: Optional[str] = Field(None, description="Channel to post to (Slack, Discord, Rocket).")
    username: Optional[str] = Field(None, description="Name the messages are posted as.")
    secretRef: Optional[str] = Field(
        None, description="Name of a Secret in the rollout's namespace holding the hook URL under the key "
        "`address` (keeps the URL, a credential, out of Git).", pattern=NAME_PATTERN, max_length=253)
    address: Optional[str] = Field(None, description="Hook URL written in the spec (prefer `secretRef`).",
                                   pattern=URL_PATTERN)
    proxy: Optional[str] = Field(None, description="HTTP(S) proxy for reaching the chat service.",
                                 pattern=URL_PATTERN)


class ProviderRef(Model):
    name: str = Field(description="Name of the AlertProvider.", pattern=NAME_PATTERN, min_length=1, max_length=253)
    namespace: Optional[str] = Field(None, description="Its namespace. Default: the rollout's.",
                                     pattern=NAME_PATTERN, max_length=c.MAX_LABEL)


class FlaggerSettings(Model):
    loadtester: Optional[str] = Field(
        None,
        description="URL of flagger-loadtester, which runs the webhooks' commands. Flagger calls it from its "
        "own pod, so the host names the namespace. Default: `http://flagger-loadtester.<namespace>/`, the "
        "meshed load tester a Platform installs in the rollout's namespace.",
        pattern=URL_PATTERN)
    provider: Optional[Literal["istio", "linkerd", "gatewayapi:v1", "kubernetes"]] = Field(
        None,
        description="Flagger's traffic provider for this Canary (always written into the Canary): `istio`, "
        "`linkerd` (SMI TrafficSplit: canary and blue/green; Linkerd 2.12+ honours it only with the linkerd-smi "
        "extension) or `gatewayapi:v1` (an HTTPRoute attached to the Service; Linkerd implements it, with A/B "
        "tests) or `kubernetes` (no traffic routing: blue/green only, Flagger switches the Service's selector "
        "after the checks). Default: `istio` on mesh istio, `gatewayapi:v1` on mesh linkerd (as Flagger's "
        "Linkerd guide) and on mesh gateway-api.",
    )
    metricsServer: Optional[str] = Field(
        None,
        description="Prometheus the generated MetricTemplates query, as Flagger reaches it from its own "
        "namespace. Default: the mesh's Prometheus, as the Platform gives Flagger: "
        "`http://prometheus.istio-system:9090` on istio, `http://prometheus.linkerd-viz:9090` on linkerd, "
        "`http://prometheus:9090` on gateway-api.",
        pattern=URL_PATTERN)
    progressDeadlineSeconds: Optional[int] = Field(
        None, description="Seconds the canary may take to make progress (pods ready) before Flagger fails the "
        "release (the Canary's progressDeadlineSeconds). Default: Flagger's, 600.", ge=1, le=2**31 - 1)
    portDiscovery: Optional[bool] = Field(
        None, description="Add every container port to the Services Flagger generates (the Canary's "
        "`service.portDiscovery`), e.g. for a metrics port beside `service.port`.")
    trafficPolicy: Optional[dict[str, Any]] = Field(
        None, description="Istio provider: the TrafficPolicy of the DestinationRules Flagger writes (e.g. `{tls: "
        "{mode: ISTIO_MUTUAL}}`), checked against Flagger's Canary CRD.",
        json_schema_extra={k: v for k, v in TRAFFIC_POLICY_SCHEMA.items() if k not in ("type", "description")})
    alerts: list[AlertChannel] = Field(
        default_factory=list,
        description="Chat channels Flagger notifies (one AlertProvider each, referenced from the Canary's "
        "analysis alerts).")
