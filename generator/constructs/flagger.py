"""Flagger: Canary, MetricTemplate and AlertProvider (flagger.app/v1beta1)."""

from __future__ import annotations

from generator.plan.flagger import CANARY_API, AlertProviderPlan, FlaggerPlan, MetricPlan, MetricTemplatePlan, WebhookPlan
from generator.constructs.runtime import emit


def _metric(plan: FlaggerPlan, metric: MetricPlan) -> dict:
    out: dict = {"name": metric.name}
    if metric.template is not None:
        out["templateRef"] = {"name": metric.template, "namespace": plan.namespace}
    threshold = {k: v for k, v in (("min", metric.min), ("max", metric.max)) if v is not None}
    out["thresholdRange"] = threshold
    out["interval"] = metric.interval
    return out


def _webhook(hook: WebhookPlan) -> dict:
    out: dict = {"name": hook.name, "type": hook.type, "url": hook.url}
    if hook.timeout is not None:
        out["timeout"] = hook.timeout
    if hook.metadata:
        out["metadata"] = dict(hook.metadata)
    return out


def canary_analysis(plan: FlaggerPlan) -> dict:
    a = plan.analysis
    out: dict = {"interval": a.interval, "threshold": a.threshold}
    if a.iterations is not None:
        out["iterations"] = a.iterations
    if a.max_weight is not None:
        out["maxWeight"] = a.max_weight
    if a.step_weight is not None:
        out["stepWeight"] = a.step_weight
    if a.step_weights:
        out["stepWeights"] = list(a.step_weights)
    if a.match:
        out["match"] = [dict(m) for m in a.match]
    if a.mirror_weight is not None:
        out["mirror"] = True
        out["mirrorWeight"] = a.mirror_weight
    if a.session_affinity is not None:
        cookie, max_age = a.session_affinity
        out["sessionAffinity"] = {"cookieName": cookie, **({"maxAge": max_age} if max_age is not None else {})}
    if a.metrics:
        out["metrics"] = [_metric(plan, m) for m in a.metrics]
    if a.webhooks:
        out["webhooks"] = [_webhook(h) for h in a.webhooks]
    if a.alerts:
        out["alerts"] = [{"name": x.name, "severity": x.severity, "providerRef": {
            "name": x.provider, **({"namespace": x.provider_namespace} if x.provider_namespace else {})}}
            for x in a.alerts]
    return out


class Canary:
    def __init__(self, chart, plan: FlaggerPlan):
        service: dict = {"port": plan.port, "targetPort": plan.target_port}
        if plan.gateway_refs:
            service["gatewayRefs"] = [dict(ref) for ref in plan.gateway_refs]
        service.update(plan.service_options)
        self.obj = emit(chart, CANARY_API, "Canary", plan.name, plan.labels, {
            "spec": {
                "provider": plan.provider,
                **({"progressDeadlineSeconds": plan.progress_deadline} if plan.progress_deadline is not None else {}),
                "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": plan.workload.name},
                **({"autoscalerRef": {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                                      "name": plan.workload.name}} if plan.autoscaler is not None else {}),
                "service": service,
                "analysis": canary_analysis(plan),
            }
        })


class MetricTemplate:
    def __init__(self, chart, plan: FlaggerPlan, template: MetricTemplatePlan):
        self.obj = emit(chart, CANARY_API, "MetricTemplate", template.name, plan.labels, {
            "spec": {
                "provider": {"type": "prometheus", "address": template.address},
                "query": template.query,
            }
        })


class AlertProvider:
    def __init__(self, chart, plan: FlaggerPlan, provider: AlertProviderPlan):
        spec: dict = {"type": provider.type}
        for key in ("channel", "username", "address", "proxy"):
            if getattr(provider, key) is not None:
                spec[key] = getattr(provider, key)
        if provider.secret is not None:
            spec["secretRef"] = {"name": provider.secret}
        self.obj = emit(chart, CANARY_API, "AlertProvider", provider.name, plan.labels, {"spec": spec})
