"""The Argo Rollouts reading model (tests/argo_reading.py) against Argo Rollouts' and the Gateway API
plugin's own example manifests and Go test cases, including the cases the Go code rejects."""

from __future__ import annotations

import copy
import math

import pytest
import yaml

from argo_reading import (
    ExprError,
    analysis_outcome,
    evaluate_condition,
    istio_set_weight,
    metric_phase,
    plugin_config,
    plugin_weighted_rules,
    validate_analysis_template,
    validate_metric,
    validate_rollout,
    validate_rollout_spec,
)

# argo-rollouts v1.9.1 examples/istio/istio-subset-split.yaml (verbatim, container trimmed).
ISTIO_SUBSET_SPLIT = """
apiVersion: v1
kind: Service
metadata: {name: istio-subset-split}
spec:
  ports: [{port: 80, targetPort: http, protocol: TCP, name: http}]
  selector: {app: istio-subset-split}
---
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: istio-subset-split-vsvc}
spec:
  hosts: [istio-subset-split]
  http:
  - name: primary
    route:
    - destination: {host: istio-subset-split, subset: stable}
      weight: 100
    - destination: {host: istio-subset-split, subset: canary}
      weight: 0
---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: {name: istio-subset-split-destrule}
spec:
  host: istio-subset-split
  subsets:
  - name: stable
    labels: {app: istio-subset-split}
  - name: canary
    labels: {app: istio-subset-split}
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: istio-subset-split}
spec:
  strategy:
    canary:
      trafficRouting:
        istio:
          virtualService: {name: istio-subset-split-vsvc, routes: [primary]}
          destinationRule: {name: istio-subset-split-destrule, canarySubsetName: canary, stableSubsetName: stable}
      steps:
      - setWeight: 10
      - pause: {}
  selector:
    matchLabels: {app: istio-subset-split}
  template:
    metadata:
      labels: {app: istio-subset-split}
    spec:
      containers: [{name: istio-subset-split, image: "nginx:1.19-alpine"}]
"""

# argo-rollouts v1.9.1 test/e2e/istio/istio-host-split.yaml (container trimmed).
ISTIO_HOST_SPLIT = """
apiVersion: v1
kind: Service
metadata: {name: istio-host-split-canary}
spec:
  ports: [{port: 80, targetPort: http, protocol: TCP, name: http}]
  selector: {app: istio-host-split}
---
apiVersion: v1
kind: Service
metadata: {name: istio-host-split-stable}
spec:
  ports: [{port: 80, targetPort: http, protocol: TCP, name: http}]
  selector: {app: istio-host-split}
---
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: istio-host-split-vsvc}
spec:
  hosts: [istio-host-split]
  http:
  - name: primary
    route:
    - destination: {host: istio-host-split-stable}
      weight: 100
    - destination: {host: istio-host-split-canary}
      weight: 0
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: istio-host-split}
spec:
  strategy:
    canary:
      canaryService: istio-host-split-canary
      stableService: istio-host-split-stable
      trafficRouting:
        istio:
          virtualService: {name: istio-host-split-vsvc, routes: [primary]}
      steps:
      - setWeight: 10
      - pause: {}
  selector:
    matchLabels: {app: istio-host-split}
  template:
    metadata:
      labels: {app: istio-host-split}
    spec:
      containers: [{name: istio-host-split, image: "nginx:1.19-alpine"}]
"""

# rollouts-plugin-trafficrouter-gatewayapi v0.15.0 examples/linkerd-header-based/{service,httproute,
# rollout}.yaml (GAMMA: the HTTPRoute's parent is a Service; container trimmed).
LINKERD_HEADER_BASED = """
apiVersion: v1
kind: Service
metadata: {name: argo-rollouts-service}
spec:
  ports: [{port: 80, targetPort: http}]
  selector: {app: rollouts-demo}
---
apiVersion: v1
kind: Service
metadata: {name: argo-rollouts-canary-service}
spec:
  ports: [{port: 80, targetPort: http}]
  selector: {app: rollouts-demo}
---
apiVersion: v1
kind: Service
metadata: {name: argo-rollouts-stable-service}
spec:
  ports: [{port: 80, targetPort: http}]
  selector: {app: rollouts-demo}
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: HTTPRoute
metadata: {name: argo-rollouts-http-route, namespace: default}
spec:
  parentRefs:
  - {group: core, name: argo-rollouts-service, kind: Service, port: 80}
  rules:
  - backendRefs:
    - {name: argo-rollouts-stable-service, group: core, port: 80, kind: Service}
    - {name: argo-rollouts-canary-service, group: core, port: 80, kind: Service}
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: rollouts-demo, namespace: default}
spec:
  replicas: 5
  strategy:
    canary:
      canaryService: argo-rollouts-canary-service
      stableService: argo-rollouts-stable-service
      trafficRouting:
        plugins:
          argoproj-labs/gatewayAPI:
            httpRoutes:
            - {name: argo-rollouts-http-route, useHeaderRoutes: true}
            namespace: default
        managedRoutes:
        - name: argo-rollouts
      steps:
      - pause: {}
      - setCanaryScale: {replicas: 1}
      - setHeaderRoute:
          name: argo-rollouts
          match:
          - headerName: X-Test
            headerValue: {exact: test}
      - pause: {}
      - setHeaderRoute: {name: argo-rollouts}
  revisionHistoryLimit: 2
  selector:
    matchLabels: {app: rollouts-demo}
  template:
    metadata:
      labels: {app: rollouts-demo}
    spec:
      containers: [{name: http-echo, image: hashicorp/http-echo}]
"""

# argo-rollouts v1.9.1 docs/analysis/prometheus.md (first example; address/query trimmed).
PROMETHEUS_TEMPLATE = """
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: success-rate}
spec:
  args:
  - name: service-name
  metrics:
  - name: success-rate
    interval: 5m
    successCondition: result[0] >= 0.95
    failureLimit: 3
    provider:
      prometheus:
        address: http://prometheus.example.com:9090
        query: sum(irate(istio_requests_total{destination_service=~"{{args.service-name}}"}[5m]))
"""

# The conditions rollgen is to emit (docs: /work/briefs/argo-facts.md): empty or NaN is neither.
GUARDED_SUCCESS = "len(result) == 1 && !isNaN(result[0]) && !isInf(result[0]) && result[0] >= 0.99"
GUARDED_FAILURE = "len(result) == 1 && !isNaN(result[0]) && !isInf(result[0]) && result[0] < 0.99"


def docs(text: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for doc in yaml.safe_load_all(text):
        out.setdefault(doc["kind"], []).append(doc)
    return out


def check(objs: dict[str, list[dict]]) -> list[str]:
    (rollout,) = objs["Rollout"]
    return validate_rollout(rollout, objs.get("Service", []), objs.get("VirtualService", []),
                            objs.get("DestinationRule", []), objs.get("HTTPRoute", []))


@pytest.mark.parametrize("text", [ISTIO_SUBSET_SPLIT, ISTIO_HOST_SPLIT, LINKERD_HEADER_BASED],
                         ids=["istio-subset-split", "istio-host-split", "linkerd-header-based"])
def test_upstream_examples_are_accepted(text):
    assert check(docs(text)) == []


# --- validation.go ----------------------------------------------------------------------------------

def test_subset_split_needs_no_services_but_host_split_does():
    """validation.go:238-258; validation_test.go "valid Istio missing canary and stable service"."""
    objs = docs(ISTIO_HOST_SPLIT)
    canary = objs["Rollout"][0]["spec"]["strategy"]["canary"]
    del canary["canaryService"], canary["stableService"]
    assert "spec.strategy.canary.stableService: Canary service and Stable service must to be set to use Traffic Routing" in check(objs)
    assert not [e for e in check(docs(ISTIO_SUBSET_SPLIT)) if "must to be set" in e]


def test_plugins_do_not_require_services_in_validation_but_the_gateway_plugin_does():
    """validation_test.go "valid plugin missing canary and stable service" vs httproute.go:19-54."""
    objs = docs(LINKERD_HEADER_BASED)
    canary = objs["Rollout"][0]["spec"]["strategy"]["canary"]
    del canary["canaryService"], canary["stableService"]
    assert validate_rollout_spec(objs["Rollout"][0]) == []
    errors = check(objs)
    assert "spec.strategy.canary.canaryService: required by the Gateway API plugin" in errors


def test_same_stable_and_canary_service_is_rejected():
    """validation.go:264-266; validation_test.go "duplicate services"."""
    objs = docs(ISTIO_HOST_SPLIT)
    objs["Rollout"][0]["spec"]["strategy"]["canary"]["canaryService"] = "istio-host-split-stable"
    assert any("same service for the stable and canary" in e for e in check(objs))


def test_header_route_must_be_listed_in_managed_routes():
    """validation.go:372-387; validation_test.go "using SetHeaderRoute step without managedRoutes
    defined but missing route"."""
    objs = docs(LINKERD_HEADER_BASED)
    rollout = objs["Rollout"][0]
    rollout["spec"]["strategy"]["canary"]["trafficRouting"]["managedRoutes"] = [{"name": "other"}]
    assert "spec.strategy.canary.steps[2].setHeaderRoute: Steps define a route that does not exist in " \
           "spec.strategy.canary.trafficRouting.managedRoutes" in check(objs)
    del rollout["spec"]["strategy"]["canary"]["trafficRouting"]["managedRoutes"]
    assert any("Rollout has missing field 'spec.strategy.canary.trafficRouting.managedRoutes'" in e for e in check(objs))


def test_header_match_needs_exactly_one_of_exact_regex_prefix():
    """validation.go:522-551; validation_test.go "using SetHeaderRoute step with multiple values"
    and "... with missed values"."""
    objs = docs(LINKERD_HEADER_BASED)
    match = objs["Rollout"][0]["spec"]["strategy"]["canary"]["steps"][2]["setHeaderRoute"]["match"][0]
    match["headerValue"] = {"exact": "test", "prefix": "te"}
    assert any("exactly one of the following: exact, regex, prefix" in e for e in check(objs))
    match["headerValue"] = {}
    assert any("StringMatch value missed" in e for e in check(objs))


def test_header_and_mirror_routes_need_a_supporting_router():
    """validation.go:334-337 (header: Istio/ALB/Apisix/plugins) and :351-355 (mirror: Istio only)."""
    objs = docs(LINKERD_HEADER_BASED)
    steps = objs["Rollout"][0]["spec"]["strategy"]["canary"]["steps"]
    steps.append({"setMirrorRoute": {"name": "argo-rollouts", "percentage": 10,
                                     "match": [{"method": {"exact": "GET"}}]}})
    assert any(e.endswith("setMirrorRoute: SetMirrorRoute requires TrafficRouting, supports Istio only") for e in check(objs))
    del objs["Rollout"][0]["spec"]["strategy"]["canary"]["trafficRouting"]
    assert any("SetHeaderRoute requires TrafficRouting" in e for e in check(objs))


@pytest.mark.parametrize("step, message", [
    ({"setWeight": 101}, "SetWeight needs to be between 0 and 100"),
    ({"setWeight": -1}, "SetWeight needs to be between 0 and 100"),
    ({"pause": {"duration": -1}}, "Duration needs to be greater than 0"),
    ({"pause": {"duration": "ten minutes"}}, "Duration needs to be greater than 0"),
    ({}, "Step must have one of the following set"),
    ({"setWeight": 10, "pause": {}}, "Step must have one of the following set"),
])
def test_invalid_steps(step, message):
    """validation.go:312-329; validation_test.go "invalid set weight value", "invalid duration set in
    paused step", "invalid canary step", TestHasMultipleStepsType."""
    objs = docs(ISTIO_HOST_SPLIT)
    objs["Rollout"][0]["spec"]["strategy"]["canary"]["steps"] = [step]
    assert any(message in e for e in check(objs)), check(objs)


def test_pause_forms_rollgen_emits_are_valid():
    objs = docs(ISTIO_HOST_SPLIT)
    objs["Rollout"][0]["spec"]["strategy"]["canary"]["steps"] = [
        {"setWeight": 10}, {"pause": {"duration": "5m"}}, {"setWeight": 50}, {"pause": {"duration": 30}},
        {"pause": {}}]
    assert check(objs) == []


def test_scale_down_delay_and_dynamic_stable_scale():
    """validation.go:293-303; TestCanaryScaleDownDelaySeconds, TestCanaryDynamicStableScale."""
    objs = docs(ISTIO_HOST_SPLIT)
    canary = objs["Rollout"][0]["spec"]["strategy"]["canary"]
    canary["scaleDownDelaySeconds"] = 30
    assert check(objs) == []
    canary["dynamicStableScale"] = True
    assert any("dynamicStableScale cannot be used with scaleDownDelaySeconds" in e for e in check(objs))
    del canary["trafficRouting"]
    errors = check(objs)
    assert any("scaleDownDelaySeconds can only be used with traffic routing" in e for e in errors)
    assert any("dynamicStableScale can only be used with traffic routing" in e for e in errors)


def test_max_traffic_weight_only_with_nginx_or_plugins():
    """validation.go:305-309; validation_test.go "only nginx/plugins support max weight value"."""
    istio, plugin = docs(ISTIO_HOST_SPLIT), docs(LINKERD_HEADER_BASED)
    for objs in (istio, plugin):
        objs["Rollout"][0]["spec"]["strategy"]["canary"]["trafficRouting"]["maxTrafficWeight"] = 1000
    assert any("maxTrafficWeight in traffic routing only supported" in e for e in check(istio))
    assert check(plugin) == []


def test_max_surge_and_max_unavailable_both_zero():
    """validation.go:457-467; TestInvalidMaxSurgeMaxUnavailable."""
    objs = docs(ISTIO_HOST_SPLIT)
    objs["Rollout"][0]["spec"]["strategy"]["canary"].update(maxSurge="0%", maxUnavailable=0)
    assert any("MaxSurge and MaxUnavailable both can not be zero" in e for e in check(objs))


def test_selector_and_template_labels():
    """validation.go:115-125 and :164 (ValidatePodTemplateSpecForReplicaSet); TestValidateRollout."""
    objs = docs(ISTIO_HOST_SPLIT)
    spec = objs["Rollout"][0]["spec"]
    spec["template"]["metadata"]["labels"] = {"app": "other"}
    assert any("`selector` does not match template `labels`" in e for e in check(objs))
    spec["selector"] = {}
    assert any("empty selector is invalid" in e for e in check(objs))
    del spec["selector"]
    assert any("Rollout has missing field '.spec.selector'" in e for e in check(objs))


def test_blue_green_active_and_preview_must_differ():
    """validation.go:220-222; TestValidateRolloutStrategyBlueGreen."""
    objs = docs(ISTIO_HOST_SPLIT)
    objs["Rollout"][0]["spec"]["strategy"] = {"blueGreen": {"activeService": "istio-host-split-stable",
                                                            "previewService": "istio-host-split-stable"}}
    assert any("same service for the active and preview" in e for e in check(objs))
    objs["Rollout"][0]["spec"]["strategy"]["blueGreen"]["previewService"] = "istio-host-split-canary"
    assert check(objs) == []


def test_both_strategies_or_none():
    objs = docs(ISTIO_HOST_SPLIT)
    objs["Rollout"][0]["spec"]["strategy"]["blueGreen"] = {"activeService": "a", "previewService": "b"}
    assert any("Multiple Strategies can not be listed" in e for e in check(objs))
    objs["Rollout"][0]["spec"]["strategy"] = {}
    assert any("Rollout has missing field '.spec.strategy.canary or .spec.strategy.blueGreen'" in e for e in check(objs))


# --- references: Services, VirtualService, DestinationRule ------------------------------------------

def test_service_selector_must_be_within_the_template_labels():
    """validation_references.go:103-112: a `version: canary` selector on a Service is refused — the
    Rollout has one pod template, the controller adds the hash label itself."""
    objs = docs(ISTIO_HOST_SPLIT)
    objs["Service"][0]["spec"]["selector"]["version"] = "canary"
    assert 'spec.strategy.canary.canaryService: Service "istio-host-split-canary" has unmatch label "version" in rollout' in check(objs)
    objs["Service"][0]["spec"]["selector"] = {"app": "istio-host-split", "rollouts-pod-template-hash": "abc"}
    assert check(objs) == []


def test_missing_service_is_reported():
    """rollout/controller.go:806-812."""
    objs = docs(ISTIO_HOST_SPLIT)
    objs["Service"] = objs["Service"][:1]
    assert 'spec.strategy.canary.stableService: services "istio-host-split-stable" not found' in check(objs)


def test_named_route_must_exist_in_the_virtual_service():
    """istio.go:955-981; istio_test.go TestValidateHTTPRoutes ("HTTP Route ... is not found")."""
    objs = docs(ISTIO_SUBSET_SPLIT)
    objs["VirtualService"][0]["spec"]["http"][0]["name"] = "renamed"
    assert any("HTTP Route 'primary' is not found in the defined Virtual Service." in e for e in check(objs))


def test_route_must_hold_both_subsets_or_both_services():
    """istio.go:1176-1220 validateVirtualServiceRouteDestinations."""
    subset = docs(ISTIO_SUBSET_SPLIT)
    subset["VirtualService"][0]["spec"]["http"][0]["route"].pop()
    assert any("Canary DestinationRule subset 'canary' not found in route" in e for e in check(subset))
    host = docs(ISTIO_HOST_SPLIT)
    host["VirtualService"][0]["spec"]["http"][0]["route"].pop(0)
    assert any("Stable Service 'istio-host-split-stable' not found in route" in e for e in check(host))


def test_fully_qualified_hosts_match_by_their_first_label():
    """istio.go:256-264 getHost."""
    objs = docs(ISTIO_HOST_SPLIT)
    for dest in objs["VirtualService"][0]["spec"]["http"][0]["route"]:
        dest["destination"]["host"] += ".default.svc.cluster.local"
    assert check(objs) == []


def test_unnamed_routes_are_ambiguous_without_route_names():
    """istio.go:1127-1129: with `routes` omitted, exactly one non-managed http route may exist."""
    objs = docs(ISTIO_HOST_SPLIT)
    del objs["Rollout"][0]["spec"]["strategy"]["canary"]["trafficRouting"]["istio"]["virtualService"]["routes"]
    http = objs["VirtualService"][0]["spec"]["http"]
    http.append({"name": "by-agent", "match": [{"headers": {"user-agent": {"regex": ".*Mobile.*"}}}],
                 "route": [{"destination": {"host": "istio-host-split-stable"}}]})
    assert any("it must have exactly one route when omitting" in e for e in check(objs))


def test_destination_rule_must_exist_with_both_subsets_and_no_others():
    """istio.go:875-894 (getDestinationRule) and :405-437 (UpdateHash relabels stable/canary only
    and drops other subsets)."""
    objs = docs(ISTIO_SUBSET_SPLIT)
    subsets = objs["DestinationRule"][0]["spec"]["subsets"]
    subsets.append({"name": "legacy", "labels": {"app": "istio-subset-split", "version": "v0"}})
    assert any("subsets ['legacy'] are removed by the controller" in e for e in check(objs))
    subsets[:] = subsets[:1]
    assert any("has no subset 'canary'" in e for e in check(objs))
    objs["DestinationRule"] = []
    assert "DestinationRule `istio-subset-split-destrule` not found" in check(objs)


def test_a_third_destination_in_the_weighted_route_is_deleted():
    """istio.go:242-243 (toDelete) applied at :110-111."""
    objs = docs(ISTIO_HOST_SPLIT)
    objs["VirtualService"][0]["spec"]["http"][0]["route"].append(
        {"destination": {"host": "legacy"}, "weight": 0})
    assert any("destination legacy/None is deleted by the controller at setWeight" in e for e in check(objs))
    after = istio_set_weight(objs["Rollout"][0], objs["VirtualService"][0], 30)
    assert [(d["destination"]["host"], d["weight"]) for d in after["spec"]["http"][0]["route"]] == [
        ("istio-host-split-stable", 70), ("istio-host-split-canary", 30)]


# --- Gateway API plugin -----------------------------------------------------------------------------

def test_single_http_route_key_gets_header_routes_and_namespace_defaults():
    """plugin.go:228-231 and :350-356."""
    rollout = {"metadata": {"namespace": "shop"}, "spec": {"strategy": {"canary": {"trafficRouting": {
        "plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "web"}}}}}}}
    cfg = plugin_config(rollout)
    assert cfg["namespace"] == "shop"
    assert cfg["httpRoutes"] == [{"name": "web", "useHeaderRoutes": True}]


def test_plugin_rewrites_weights_in_every_rule_that_names_the_services():
    """httproute.go:32-51: not just one rule — a user-agent rule pointing at the stable Service is
    re-weighted too; a rule pointing at another Service is left alone."""
    objs = docs(LINKERD_HEADER_BASED)
    route = objs["HTTPRoute"][0]
    route["spec"]["rules"].insert(0, {
        "matches": [{"headers": [{"name": "user-agent", "type": "RegularExpression", "value": ".*Mobile.*"}]}],
        "backendRefs": [{"name": "argo-rollouts-stable-service", "port": 80}]})
    route["spec"]["rules"].insert(0, {
        "matches": [{"path": {"type": "PathPrefix", "value": "/legacy"}}],
        "backendRefs": [{"name": "argo-rollouts-service", "port": 80}]})
    assert plugin_weighted_rules(objs["Rollout"][0], route) == [1, 2]
    assert check(objs) == []


def test_a_rule_sending_only_to_the_canary_is_taken_for_a_plugin_rule():
    """httproute.go:196-214 isHTTPManagedRule and plugin.go:381-394 isManagedRuleName."""
    objs = docs(LINKERD_HEADER_BASED)
    rules = objs["HTTPRoute"][0]["spec"]["rules"]
    rules.append({"matches": [{"headers": [{"name": "x-beta", "value": "1"}]}],
                  "backendRefs": [{"name": "argo-rollouts-canary-service", "port": 80}]})
    rules.append({"name": "argo-rollouts-1", "backendRefs": [{"name": "argo-rollouts-service", "port": 80}]})
    errors = check(objs)
    assert any("rule 1 (unnamed) is taken for a plugin-managed header rule" in e for e in errors)
    assert any("rule 2 (argo-rollouts-1) is taken for a plugin-managed header rule" in e for e in errors)


def test_plugin_needs_the_route_and_both_backends():
    """httproute.go:26 and :52-54 (BackendRefWasNotFoundInHTTPRouteError), errors.go."""
    objs = docs(LINKERD_HEADER_BASED)
    objs["HTTPRoute"][0]["spec"]["rules"][0]["backendRefs"].pop()
    assert "HTTPRoute argo-rollouts-http-route: backendRef was not found in httpRoute" in check(objs)
    objs["HTTPRoute"] = []
    assert any('"argo-rollouts-http-route" not found in namespace "default"' in e for e in check(objs))
    objs["Rollout"][0]["spec"]["strategy"]["canary"]["trafficRouting"]["plugins"]["argoproj-labs/gatewayAPI"] = {}
    assert any(e.startswith("No routes configured.") for e in check(objs))


# --- AnalysisTemplate ---------------------------------------------------------------------------------

def test_upstream_prometheus_template_is_valid_for_background_but_not_pre_promotion():
    """validation_references.go:170-184: an interval without a count runs indefinitely, which a
    prePromotionAnalysis refuses; :185-205: background args need values from the Rollout."""
    (template,) = docs(PROMETHEUS_TEMPLATE)["AnalysisTemplate"]
    assert validate_analysis_template(template, "background", [{"name": "service-name", "value": "x"}]) == []
    assert any("missing analysis argument service-name" in e
               for e in validate_analysis_template(template, "background", []))
    assert any("runs indefinitely" in e for e in validate_analysis_template(template, "prePromotion"))
    template["spec"]["metrics"][0]["count"] = 5
    assert validate_analysis_template(template, "prePromotion") == []


def test_an_undeclared_argument_is_never_resolved():
    (template,) = docs(PROMETHEUS_TEMPLATE)["AnalysisTemplate"]
    template["spec"]["args"] = []
    assert any("args.service-name was not resolved" in e for e in validate_analysis_template(template, "prePromotion"))


@pytest.mark.parametrize("metric, message", [
    ({"count": 3}, "interval must be specified when count > 1"),
    ({"count": 2, "interval": "1m", "failureLimit": 3}, "count (2) must be >= failureLimit + consecutiveSuccessLimit (3 + 0) if both >= 0"),
    ({"failureLimit": -1}, "failureLimit and consecutiveSuccessLimit cannot both be disabled"),
    ({"inconclusiveLimit": -1}, "inconclusiveLimit must be >= 0"),
    ({"count": 2, "interval": "1m", "inconclusiveLimit": 3}, "count must be >= inconclusiveLimit"),
    ({"interval": "1 minute"}, "invalid interval string: 1 minute"),
])
def test_metric_rules(metric, message):
    """utils/analysis/factory.go:149-208 (cases from factory_test.go TestValidateMetrics)."""
    assert validate_metric(metric) == [message]


def test_upstream_condition_on_empty_vector_is_an_error_and_on_nan_a_failure():
    """docs/analysis/prometheus.md `result[0] >= 0.95` with no failureCondition: an empty vector makes
    `result[0]` fail at run time (Error, evaluate.go:119-122); NaN compares false → Failed
    (evaluate.go:40-42). Neither is Successful — but neither says "no data" either."""
    metric = {"successCondition": "result[0] >= 0.95"}
    assert analysis_outcome(metric, [0.97]) == "Successful"
    assert analysis_outcome(metric, [0.5]) == "Failed"
    assert analysis_outcome(metric, []) == "Error"
    assert analysis_outcome(metric, [math.nan]) == "Failed"


@pytest.mark.parametrize("response, phase", [
    ([0.995], "Successful"),
    ([0.5], "Failed"),
    ([], "Inconclusive"),
    ([math.nan], "Inconclusive"),
    ([math.inf], "Inconclusive"),
    ([0.995, 0.2], "Inconclusive"),
])
def test_guarded_conditions_never_count_no_data_as_healthy(response, phase):
    """The pair rollgen is to emit: an empty/NaN/±Inf/unaggregated result satisfies neither
    condition → Inconclusive (evaluate.go:52-54), which pauses the Rollout."""
    metric = {"successCondition": GUARDED_SUCCESS, "failureCondition": GUARDED_FAILURE}
    assert analysis_outcome(metric, response) == phase


def test_evaluate_result_truth_table():
    """utils/evaluate/evaluate_test.go TestEvaluateResult* (the six condition combinations)."""
    cases = [("true", "false", "Successful"), ("true", "true", "Failed"), ("false", "false", "Inconclusive"),
             ("", "false", "Successful"), ("false", "", "Failed"), ("", "", "Successful"),
             ("a == true", "true", "Error"), ("true", "a == true", "Error")]
    for success, failure, phase in cases:
        assert analysis_outcome({"successCondition": success, "failureCondition": failure}, 1) == phase


def test_evaluator_errors_like_expr():
    """evaluate_test.go TestErrorWithNonBoolReturn / TestErrorWithInvalidReference; a scalar result
    has no len and no index."""
    with pytest.raises(ExprError):
        evaluate_condition("1", True)
    with pytest.raises(ExprError):
        evaluate_condition("invalidVariable", True)
    with pytest.raises(ExprError):
        evaluate_condition("len(result) > 0", 0.5)
    assert evaluate_condition("result > 1", 5.0)  # TestEvaluateFloat64
    assert evaluate_condition("isNaN(result)", math.nan)
    assert evaluate_condition("asInt(result) == 1", 1.9)  # evaluate.go:136-139 truncates


def test_metric_phase_limits_and_defaults():
    """analysis/analysis.go:579-687 and :385-405: failureLimit/inconclusiveLimit default 0,
    consecutiveErrorLimit 4; errors do not count towards `count`."""
    metric = {"count": 3, "interval": "1m", "failureLimit": 1}
    assert metric_phase(metric, ["Successful", "Failed", "Successful"]) == "Successful"
    assert metric_phase(metric, ["Failed", "Failed"]) == "Failed"
    assert metric_phase(metric, ["Inconclusive"]) == "Inconclusive"
    assert metric_phase(metric, ["Error"] * 4) == "Running"
    assert metric_phase(metric, ["Error"] * 5) == "Error"
    assert metric_phase(metric, ["Error", "Successful", "Error", "Successful"]) == "Running"
    assert metric_phase({"interval": "1m"}, ["Successful"] * 50) == "Running"
    assert metric_phase({"interval": "1m"}, ["Successful"] * 5, terminating=True) == "Successful"
    assert metric_phase({}, ["Successful"]) == "Successful"  # no count, no interval → one measurement


def test_the_model_does_not_mutate_its_input():
    objs = docs(ISTIO_SUBSET_SPLIT)
    before = copy.deepcopy(objs)
    check(objs)
    istio_set_weight(objs["Rollout"][0], objs["VirtualService"][0], 40)
    assert objs == before
