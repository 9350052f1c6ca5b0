"""Prometheus: a rollout's alert rules, as a Prometheus Operator PrometheusRule or as a plain
Prometheus rules file in a ConfigMap (the reference's `canary-alerts` form)."""

from __future__ import annotations

import generator.names as c
from generator.plan.model import Plan
from generator.spec.yamlio import dump_document
from generator.constructs.runtime import emit


class PrometheusRule:
    def __init__(self, chart, plan: Plan):
        alerts = plan.alerts
        self.obj = emit(chart, "monitoring.coreos.com/v1", "PrometheusRule", alerts.name, alerts.labels,
                        {"spec": alerts.rules})


class AlertsConfigMap:
    def __init__(self, chart, plan: Plan):
        alerts = plan.alerts
        self.obj = emit(chart, "v1", "ConfigMap", alerts.name, alerts.labels,
                        {"data": {c.ALERTS_CONFIGMAP_KEY: dump_document(alerts.rules)}})


def alerts(chart, plan: Plan):
    """The alert rules object the spec asks for."""
    if plan.alerts.delivery == "configMap":
        return AlertsConfigMap(chart, plan)
    return PrometheusRule(chart, plan)
