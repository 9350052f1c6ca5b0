"""`delivery: argo-rollouts`: what rollgen emits is what Argo Rollouts v1.9.1 and its Gateway API plugin
accept and route (tests/argo_reading.py, written from their Go source), the analysis never counts no data
as healthy (the conditions through the expr model, the queries through promtool on synthetic series),
and the Argo CD ignore rules cover exactly what the controller rewrites."""

from __future__ import annotations

import functools
import json
import math
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from argo_reading import (analysis_outcome, istio_set_weight, metric_phase, plugin_weighted_rules,
                          validate_analysis_template, validate_rollout)
from conftest import ARGO_EXAMPLES, MANUAL_EXAMPLES, OUTPUT, ROOT, SPECS, compile_spec_text, run_cli
from generator.plan.argo import argocd_ignore_differences, plan_argo
from generator.plan.checks import read_spec


def output_of(name: str) -> list[dict]:
    spec = read_spec(SPECS / name, ROOT)
    folder = OUTPUT / spec.document.metadata.namespace / spec.document.metadata.name
    return [yaml.safe_load(p.read_text()) for p in sorted(folder.glob("*.yaml")) if p.name != "kustomization.yaml"]


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def the(docs: list[dict], kind: str) -> dict:
    (found,) = of_kind(docs, kind)
    return found


def test_the_examples_cover_every_mesh_both_strategies_testers_and_analysis():
    rollouts = [the(output_of(n), "Rollout") for n in ARGO_EXAMPLES]
    canaries = [r["spec"]["strategy"]["canary"] for r in rollouts if "canary" in r["spec"]["strategy"]]
    assert {read_spec(SPECS / n, ROOT).document.spec.mesh for n in ARGO_EXAMPLES} == {"istio", "gateway-api", "linkerd"}
    assert any("blueGreen" in r["spec"]["strategy"] for r in rollouts)
    assert any(c.get("managedRoutes") or c["trafficRouting"].get("managedRoutes") for c in canaries)
    assert any("analysis" in c and "setHeaderRoute" in json.dumps(c["steps"]) for c in canaries)


@pytest.mark.parametrize("name", ARGO_EXAMPLES)
def test_argo_rollouts_accepts_the_rollout_and_can_route_it(name):
    docs = output_of(name)
    rollout = the(docs, "Rollout")
    assert validate_rollout(rollout, of_kind(docs, "Service"), of_kind(docs, "VirtualService"),
                            of_kind(docs, "DestinationRule"), of_kind(docs, "HTTPRoute")) == []


@pytest.mark.parametrize("name", ARGO_EXAMPLES)
def test_the_analysis_template_is_valid_for_its_use_and_gets_its_args(name):
    docs = output_of(name)
    strategy = the(docs, "Rollout")["spec"]["strategy"]
    use, ref = (("background", strategy["canary"].get("analysis")) if "canary" in strategy
                else ("prePromotion", strategy["blueGreen"].get("prePromotionAnalysis")))
    templates = {t["metadata"]["name"]: t for t in of_kind(docs, "AnalysisTemplate")}
    assert ref is not None and [t["templateName"] for t in ref["templates"]] == sorted(templates)
    for template in templates.values():
        assert validate_analysis_template(template, use, ref["args"]) == []


@pytest.mark.parametrize("name", ARGO_EXAMPLES)
def test_the_pod_template_runs_the_version_under_test_and_no_service_selects_a_version(name):
    spec = read_spec(SPECS / name, ROOT).document
    docs = output_of(name)
    rollout = the(docs, "Rollout")
    under_test = spec.spec.canary.canary if spec.spec.canary else spec.spec.blueGreen.preview
    labels = rollout["spec"]["template"]["metadata"]["labels"]
    assert labels["version"] == under_test
    assert rollout["spec"]["selector"]["matchLabels"] == {"app": spec.metadata.name}
    assert not of_kind(docs, "Deployment")
    for service in of_kind(docs, "Service"):
        assert service["spec"]["selector"] == {"app": spec.metadata.name}


@pytest.mark.parametrize("name", ARGO_EXAMPLES)
def test_the_service_clients_call_is_never_one_the_controller_narrows(name):
    """A Service the controller steers keeps the pod hash in its selector after the Rollout stops naming it
    (a canary finalized, a strategy changed): `<name>` itself must never be one, or it would lose pods."""
    spec = read_spec(SPECS / name, ROOT).document
    docs = output_of(name)
    strategy = json.dumps(the(docs, "Rollout")["spec"]["strategy"])
    assert f'"{spec.metadata.name}"' not in strategy.replace(f'"httpRoute": "{spec.metadata.name}"', "") \
        .replace(f'"name": "{spec.metadata.name}"', "")
    assert spec.metadata.name in {s["metadata"]["name"] for s in of_kind(docs, "Service")}


def test_canary_steps_hold_each_weight_and_testers_come_first_with_a_scaled_canary():
    steps = the(output_of("argo-canary-istio.yaml"), "Rollout")["spec"]["strategy"]["canary"]["steps"]
    assert steps[:3] == [{"setCanaryScale": {"replicas": 3}},
                         {"setHeaderRoute": {"name": "testers", "match": [
                             {"headerName": "x-canary-user", "headerValue": {"exact": "true"}}]}},
                         {"pause": {"duration": "600s"}}]
    assert steps[3:] == [s for w in (10, 25, 50, 100) for s in ({"setWeight": w}, {"pause": {"duration": "600s"}})]
    gateway = the(output_of("argo-canary-gateway-api.yaml"), "Rollout")["spec"]["strategy"]["canary"]["steps"]
    assert gateway == [s for w in (20, 50, 100) for s in ({"setWeight": w}, {"pause": {}})]  # the manual gate


def test_the_background_analysis_starts_with_the_first_weight():
    canary = the(output_of("argo-canary-istio.yaml"), "Rollout")["spec"]["strategy"]["canary"]
    assert canary["steps"][canary["analysis"]["startingStep"]] == {"setWeight": 10}


def test_a_prefix_match_reaches_the_plugin_as_an_escaped_anchored_regex():
    steps = the(output_of("argo-canary-linkerd.yaml"), "Rollout")["spec"]["strategy"]["canary"]["steps"]
    route = next(s["setHeaderRoute"] for s in steps if "setHeaderRoute" in s)
    assert route["match"] == [{"headerName": "x-canary", "headerValue": {"regex": "^internal-.*$"}}]


def test_linkerd_gets_a_gateway_api_httproute_the_plugin_reads():
    docs = output_of("argo-canary-linkerd.yaml")
    route = the(docs, "HTTPRoute")
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert route["spec"]["parentRefs"][0]["kind"] == "Service"
    plugin = the(docs, "Rollout")["spec"]["strategy"]["canary"]["trafficRouting"]["plugins"]["argoproj-labs/gatewayAPI"]
    assert plugin["httpRoute"] == route["metadata"]["name"]


def test_blue_green_switches_services_and_keeps_the_test_route_to_the_preview():
    docs = output_of("argo-blue-green.yaml")
    bg = the(docs, "Rollout")["spec"]["strategy"]["blueGreen"]
    assert bg["activeService"] == "argo-profile-active" and bg["previewService"] == "argo-profile-preview"
    assert bg["autoPromotionEnabled"] is False and "prePromotionAnalysis" in bg
    http = the(docs, "VirtualService")["spec"]["http"]
    assert http[0]["match"] == [{"headers": {"x-version": {"exact": "green"}}}]
    assert http[0]["route"][0]["destination"]["host"].startswith("argo-profile-preview.shop.svc")
    assert http[-1]["route"] == [{"destination": {"host": "argo-profile-active.shop.svc.cluster.local"}}]
    assert the(docs, "VirtualService")["spec"]["hosts"] == ["argo-profile"]


# --- analysis: no data is never healthy ------------------------------------------------------------------

def _metrics(name: str) -> list[dict]:
    return [m for t in of_kind(output_of(name), "AnalysisTemplate") for m in t["spec"]["metrics"]]


def _bad_and_good(metric: dict) -> tuple[float, float]:
    threshold = float(metric["successCondition"].rsplit(" ", 1)[1])
    lower_is_better = "<=" in metric["successCondition"]
    return (threshold * 2 + 1, threshold / 2) if lower_is_better else (threshold / 2, threshold * 2)


@pytest.mark.parametrize("name", ARGO_EXAMPLES)
def test_each_measurement_fails_a_bad_version_passes_a_good_one_and_never_passes_no_data(name):
    for metric in _metrics(name):
        bad, good = _bad_and_good(metric)
        assert analysis_outcome(metric, [bad]) == "Failed", metric["name"]
        assert analysis_outcome(metric, [good]) == "Successful", metric["name"]
        for no_data in ([], [math.nan], [math.inf], [good, good]):
            assert analysis_outcome(metric, no_data) == "Inconclusive", (metric["name"], no_data)


@pytest.mark.parametrize("name", ARGO_EXAMPLES)
def test_a_run_without_data_pauses_the_rollout_and_a_failing_one_aborts_it(name):
    for metric in _metrics(name):
        tolerated = metric["failureLimit"]
        assert metric_phase(metric, ["Failed"] * (tolerated + 1)) == "Failed"
        assert metric_phase(metric, ["Failed"] * tolerated) in ("Running", "Successful")
        assert metric_phase(metric, ["Inconclusive"] * (metric["inconclusiveLimit"] + 1)) == "Inconclusive"


def test_pre_promotion_analysis_ends_after_its_count():
    for metric in _metrics("argo-blue-green.yaml"):
        assert metric_phase(metric, ["Successful"] * metric["count"]) == "Successful"
        assert metric_phase(metric, ["Successful"] * (metric["count"] - 1)) == "Running"


# --- the queries, with the args filled in, on synthetic series (promtool) --------------------------------

SCRAPE = 15


def _series(source: str, ns: str, app: str, version: str, code: int,
            reporter: str = "destination") -> tuple[str, dict]:
    """How each metrics source labels a request answered by a pod of the Rollout's ReplicaSet: Istio names
    the workload after the ReplicaSet (`<app>-<hash>`) and reports the pod's app/version labels; linkerd-viz's
    Prometheus copies every pod label; the app's own metrics carry the labels the spec's selector names.
    `reporter`: Istio's proxy that reports the request (`source`: the caller's, an ingress gateway among
    them, which labels the destination the same way)."""
    if source == "istio":
        return "istio_requests_total", {"reporter": reporter, "destination_workload": f"{app}-6d4f8b9c7",
                                        "destination_workload_namespace": ns, "destination_app": app,
                                        "destination_version": version, "response_code": str(code)}
    if source == "linkerd":
        return "response_total", {"direction": "inbound", "namespace": ns, "app": app, "version": version,
                                  "pod": f"{app}-6d4f8b9c7-x2x4z",
                                  "classification": "failure" if code >= 500 else "success"}
    return "http_requests_total", {"namespace": ns, "app": app, "version": version, "code": str(code)}


def _histogram(source: str) -> str:
    return {"istio": "istio_request_duration_milliseconds_bucket",
            "linkerd": "response_latency_ms_bucket"}.get(source, "http_request_duration_seconds_bucket")


def _text(metric: str, labels: dict) -> str:
    return metric + "{" + ", ".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def _traffic(source: str, ns: str, app: str, version: str, rps: float, errors: float, latency: float,
             samples: int, reporter: str = "destination") -> list[dict]:
    out = []
    per = rps * SCRAPE
    for code, count in ((200, per * (1 - errors)), (500, per * errors)):
        metric, labels = _series(source, ns, app, version, code, reporter)
        out.append({"series": _text(metric, labels), "values": f"0+{count:g}x{samples}"})
    _, base = _series(source, ns, app, version, 200, reporter)
    for key in ("response_code", "classification", "code"):
        base.pop(key, None)
    for le in ("0.001", "1", "100", "1000", "100000", "+Inf"):
        count = per if le == "+Inf" or float(le) >= latency else 0
        out.append({"series": _text(_histogram(source), {**base, "le": le}), "values": f"0+{count:g}x{samples}"})
    return out


def _analysis_cases(name: str) -> tuple[dict, list[dict]]:
    """A promtool test file: for every metric, the query with `{{args.version}}` filled in as the Rollout
    fills it, evaluated on a failing, a healthy and an absent canary next to a failing stable version."""
    spec = read_spec(SPECS / name, ROOT).document
    plan = plan_argo(spec, name)
    source = {"http://prometheus.istio-system:9090": "istio",
              "http://prometheus.linkerd-viz:9090": "linkerd"}.get(plan.analysis.address, "app")
    docs = output_of(name)
    strategy = the(docs, "Rollout")["spec"]["strategy"]
    ref = strategy["canary"]["analysis"] if "canary" in strategy else strategy["blueGreen"]["prePromotionAnalysis"]
    args = {a["name"]: a["value"] for a in ref["args"]}
    ns, app, version, stable = spec.metadata.namespace, spec.metadata.name, args["version"], plan.stable_version
    samples = 40
    at = f"{SCRAPE * 30}s"
    reporter = spec.spec.analysis.reporter or "destination"
    traffic = functools.partial(_traffic, reporter=reporter)
    stable_bad = traffic(source, ns, app, stable, 40, 0.5, 50000, samples)
    unit_ms = source in ("istio", "linkerd")
    fast, slow = (5, 50000) if unit_ms else (0.0005, 50)  # in the histogram's unit
    scenarios = {
        "failing": traffic(source, ns, app, version, 40, 0.2, slow, samples),
        "healthy": traffic(source, ns, app, version, 40, 0.0, fast, samples),
        "idle": traffic(source, ns, app, version, 0, 0.0, fast, samples),
        "absent": [],
    }
    expected = {}
    tests = []
    for metric in _metrics(name):
        query = metric["provider"]["prometheus"]["query"]
        for key, value in args.items():
            query = query.replace("{{args.%s}}" % key, value)
        assert "{{" not in query
        threshold = metric["successCondition"].rsplit(" ", 1)[1]
        op = ">" if "<=" in metric["successCondition"] else "<"
        rate = metric["name"] == "request-rate"
        for scenario, series in scenarios.items():
            # With traffic: the comparison with `bool` is 1 where the condition fails the canary, 0 where it
            # passes. Without: the query itself is NaN (0/0; idle ratios and quantiles) or has no sample.
            if scenario in ("failing", "healthy"):
                outcome = 0 if rate or scenario == "healthy" else 1
                expr, samples_ = f"({query}) {op} bool {threshold}", [{"labels": "{}", "value": outcome}]
            elif scenario == "idle" and not rate:
                # exactly one sample, NaN (only NaN differs from itself): counted, since NaN equals nothing
                outcome, expr = math.nan, f"count(({query}) != ({query}))"
                samples_ = [{"labels": "{}", "value": 1}]
            elif scenario == "idle":
                outcome, expr, samples_ = 0.0, query, [{"labels": "{}", "value": 0}]
            else:
                outcome, expr, samples_ = None, query, []
            tests.append({"interval": f"{SCRAPE}s", "input_series": stable_bad + series, "promql_expr_test": [
                {"expr": expr, "eval_time": at, "exp_samples": samples_}]})
            expected[(metric["name"], scenario)] = outcome
    return {"tests": tests}, expected


@pytest.mark.parametrize("name", ARGO_EXAMPLES)
def test_the_analysis_queries_fail_a_failing_canary_pass_a_healthy_one_and_find_no_data_otherwise(name, tmp_path):
    binary = shutil.which("promtool") or "/usr/local/bin/promtool"
    if not Path(binary).exists():
        pytest.skip("promtool not installed")
    cases, expected = _analysis_cases(name)
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(cases, sort_keys=False))
    run = subprocess.run([binary, "test", "rules", "test.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    # What the controller then decides from those results (the condition over the Prometheus result):
    # without data, never Successful.
    metrics = {m["name"]: m for m in _metrics(name)}
    for (metric_name, scenario), outcome in expected.items():
        if scenario in ("idle", "absent"):
            phase = analysis_outcome(metrics[metric_name], [] if outcome is None else [outcome])
            assert phase in ("Inconclusive", "Failed"), (metric_name, scenario, phase)


def test_the_promtool_cases_are_not_vacuous(tmp_path):
    """A query scoped to the wrong version (the stable one, failing) makes the healthy case fail."""
    binary = shutil.which("promtool") or "/usr/local/bin/promtool"
    if not Path(binary).exists():
        pytest.skip("promtool not installed")
    cases, _ = _analysis_cases("argo-canary-istio.yaml")
    for case in cases["tests"]:
        test = case["promql_expr_test"][0]
        test["expr"] = test["expr"].replace('destination_version="v2"', 'destination_version="v1"')
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(cases, sort_keys=False))
    run = subprocess.run([binary, "test", "rules", "test.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode != 0


# --- Argo CD: ignore exactly what the controller rewrites ------------------------------------------------

def _jq_delete(doc: dict, expressions: list[str]) -> dict:
    program = " | ".join(f"del({e})" for e in expressions) or "."
    run = subprocess.run(["jq", "-S", program], input=json.dumps(doc), capture_output=True, text=True, check=True)
    return json.loads(run.stdout)


def _ignored(name: str, kind: str) -> list[str]:
    spec = read_spec(SPECS / name, ROOT).document
    entries = argocd_ignore_differences(plan_argo(spec, name))["ignoreDifferences"]
    return [e for entry in entries if entry["kind"] == kind for e in entry["jqPathExpressions"]]


def _live_virtual_service(rollout: dict, vs: dict, weight: int) -> dict:
    """The VirtualService as the controller leaves it mid-canary: weights moved, the testers' route first."""
    live = istio_set_weight(rollout, vs, weight)
    managed = rollout["spec"]["strategy"]["canary"]["trafficRouting"].get("managedRoutes") or []
    for route in managed:
        live["spec"]["http"].insert(0, {"name": route["name"], "match": [{"headers": {"x": {"exact": "y"}}}],
                                        "route": [{"destination": {"host": "argo-checkout", "subset": "canary"}}]})
    return live


needs_jq = pytest.mark.skipif(shutil.which("jq") is None, reason="jq not installed")


@needs_jq
def test_the_virtual_service_ignore_rules_cover_the_controllers_rewrite_and_nothing_else():
    docs = output_of("argo-canary-istio.yaml")
    rollout, vs = the(docs, "Rollout"), the(docs, "VirtualService")
    ignored = _ignored("argo-canary-istio.yaml", "VirtualService")
    live = _live_virtual_service(rollout, vs, 25)
    assert live != vs
    assert _jq_delete(live, ignored) == _jq_delete(vs, ignored)
    edited = json.loads(json.dumps(vs))
    edited["spec"]["http"][0]["route"][0]["destination"]["host"] = "checkout-eu-north.shop.svc.cluster.local"
    assert _jq_delete(edited, ignored) != _jq_delete(vs, ignored), "a Git edit of an unmanaged route must still sync"


@needs_jq
def test_the_httproute_ignore_rules_cover_the_plugins_rewrite_and_nothing_else():
    docs = output_of("argo-canary-linkerd.yaml")
    rollout, route = the(docs, "Rollout"), the(docs, "HTTPRoute")
    ignored = _ignored("argo-canary-linkerd.yaml", "HTTPRoute")
    live = json.loads(json.dumps(route))
    canary = rollout["spec"]["strategy"]["canary"]
    for i in plugin_weighted_rules(rollout, live):
        for ref in live["spec"]["rules"][i]["backendRefs"]:
            ref["weight"] = 25 if ref["name"] == canary["canaryService"] else 75
    live["spec"]["rules"].append({"name": "testers", "matches": [{"headers": [{"name": "x-canary", "value": "a"}]}],
                                  "backendRefs": [{"name": canary["canaryService"], "port": 8080}]})
    assert _jq_delete(live, ignored) == _jq_delete(route, ignored)
    edited = json.loads(json.dumps(route))
    edited["spec"]["parentRefs"][0]["port"] = 9090
    assert _jq_delete(edited, ignored) != _jq_delete(route, ignored)


def test_status_commands_print_the_kubectl_plugin_commands_and_the_argocd_fields():
    result = run_cli("status-commands", "specs/argo-canary-istio.yaml", cwd=ROOT)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "kubectl argo rollouts get rollout argo-checkout -n shop --watch" in out
    assert "kubectl argo rollouts abort argo-checkout -n shop" in out
    fields = yaml.safe_load(out[out.index("spec:"):])
    assert fields["spec"]["syncPolicy"]["syncOptions"] == ["RespectIgnoreDifferences=true", "ApplyOutOfSyncOnly=true"]
    assert {e["kind"] for e in fields["spec"]["ignoreDifferences"]} == {"VirtualService", "DestinationRule"}
    assert "managedFieldsManagers" not in out  # it would hide every later Git edit (argo-rollouts #3854)


# --- the same spec under manual, flagger and argo-rollouts ---------------------------------------------

def _with_delivery(text: str, delivery: str) -> str:
    data = yaml.safe_load(text)
    data["spec"]["delivery"] = delivery
    if delivery == "argo-rollouts" and data["spec"].get("canary"):
        data["spec"]["canary"].pop("position", None)  # the controller's, a warning otherwise
    return yaml.safe_dump(data, sort_keys=False)


def _refusals(text: str, name: str) -> list[str]:
    from generator.diagnostics import InvalidInput
    from generator.plan.checks import parse_spec

    try:
        parse_spec(text.encode(), name)
    except InvalidInput as exc:
        return [d.path for d in exc.diagnostics if d.severity == "error"]
    return []


@pytest.mark.parametrize("name", MANUAL_EXAMPLES)
def test_a_manual_example_switched_to_argo_rollouts_generates_unless_argo_cannot_express_it(name):
    spec = yaml.safe_load((SPECS / name).read_text())["spec"]
    text = _with_delivery((SPECS / name).read_text(), "argo-rollouts")
    canary = spec.get("canary") or {}
    shadow = canary.get("shadow")
    # mirrors only on Istio, a whole percentage, and never ahead of routes the mirror route would shadow
    mirror_refused = shadow is not None and (spec["mesh"] != "istio" or shadow["percent"] != int(shadow["percent"])
                                             or bool(spec.get("routes")))
    # the Rollout's strategy is the spec's canary/blueGreen, and the controller writes `paused` itself
    deployment_refused = bool({"strategy", "paused"} & set((spec.get("workload") or {}).get("deployment") or {}))
    inexpressible = ("abTest" in spec or any("version" in r for r in spec.get("routes") or []) or "sticky" in canary
                     or mirror_refused or deployment_refused)
    if inexpressible:
        refused = _refusals(text, name)
        assert refused and all(p.startswith(("spec.abTest", "spec.routes", "spec.canary.sticky", "spec.canary.shadow",
                                             "spec.workload.deployment.strategy", "spec.workload.deployment.paused"))
                               for p in refused), refused
        if deployment_refused and not ("abTest" in spec or "sticky" in canary or mirror_refused
                                       or any("version" in r for r in spec.get("routes") or [])):
            # without the refused options the rest of the spec compiles under the controller
            data = yaml.safe_load(text)
            for key in ("strategy", "paused"):
                data["spec"]["workload"]["deployment"].pop(key, None)
            text = yaml.safe_dump(data, sort_keys=False)
        else:
            return
    docs = compile_spec_text(text, name)
    kinds = [d["kind"] for d in docs.values()]
    assert kinds.count("Rollout") == 1 and "Deployment" not in kinds
    by_kind = lambda k: [d for d in docs.values() if d["kind"] == k]  # noqa: E731
    rollout = by_kind("Rollout")[0]
    assert validate_rollout(rollout, by_kind("Service"), by_kind("VirtualService"), by_kind("DestinationRule"),
                            by_kind("HTTPRoute")) == []


@pytest.mark.parametrize("name", ARGO_EXAMPLES)
def test_an_argo_example_switched_to_manual_generates_without_other_edits(name):
    text = (SPECS / name).read_text().replace("delivery: argo-rollouts", "delivery: manual")
    docs = compile_spec_text(text, name)
    assert "Rollout" not in {d["kind"] for d in docs.values() if d["apiVersion"].startswith("argoproj.io")}
    assert any(d["kind"] == "Deployment" for d in docs.values())


def test_flagger_reads_one_deployment_so_a_spec_with_versions_is_refused_there_with_the_reason():
    text = _with_delivery((SPECS / "argo-canary-gateway-api.yaml").read_text(), "flagger")
    assert "spec.versions" in _refusals(text, "argo-canary-gateway-api.yaml")


# --- the commands, with a controller in charge ------------------------------------------------------

def _project(tmp_path: Path, name: str) -> Path:
    (tmp_path / "specs").mkdir()
    shutil.copy(SPECS / name, tmp_path / "specs" / name)
    return tmp_path


def test_promote_is_the_controllers_and_says_how(tmp_path):
    root = _project(tmp_path, "argo-canary-istio.yaml")
    before = (root / "specs" / "argo-canary-istio.yaml").read_text()
    result = run_cli("promote", "specs/argo-canary-istio.yaml", cwd=root)
    assert result.exit_code == 1
    assert result.stderr.startswith("specs/argo-canary-istio.yaml:12:3: spec.delivery: with `delivery: argo-rollouts`")
    assert "kubectl argo rollouts promote argo-checkout -n shop" in result.stderr
    assert (root / "specs" / "argo-canary-istio.yaml").read_text() == before


@pytest.mark.parametrize("name, verb, kept", [("argo-canary-istio.yaml", "promote", "v2"),
                                              ("argo-canary-istio.yaml", "rollback", "v1"),
                                              ("argo-blue-green.yaml", "promote", "green"),
                                              ("argo-blue-green.yaml", "rollback", "blue")])
def test_finalize_and_rollback_leave_a_steady_rollout_on_the_right_version(tmp_path, name, verb, kept):
    root = _project(tmp_path, name)
    args = [verb, f"specs/{name}"] + (["--finalize"] if verb == "promote" else [])
    result = run_cli(*args, cwd=root)
    assert result.exit_code == 0, result.output
    spec = read_spec(root / "specs" / name, root).document
    assert [v.name for v in spec.spec.versions] == [kept] and spec.spec.canary is None and spec.spec.blueGreen is None
    docs = [yaml.safe_load(p.read_text()) for p in (root / "output" / "shop").rglob("*.yaml")
            if p.name != "kustomization.yaml"]
    rollout = the(docs, "Rollout")
    assert rollout["spec"]["template"]["metadata"]["labels"]["version"] == kept
    assert validate_rollout(rollout, of_kind(docs, "Service"), of_kind(docs, "VirtualService"),
                            of_kind(docs, "DestinationRule"), of_kind(docs, "HTTPRoute")) == []


def test_finalize_keeps_the_pod_template_so_the_controller_starts_no_new_release(tmp_path):
    root = _project(tmp_path, "argo-canary-linkerd.yaml")
    before = the(output_of("argo-canary-linkerd.yaml"), "Rollout")["spec"]["template"]
    assert run_cli("promote", "specs/argo-canary-linkerd.yaml", "--finalize", cwd=root).exit_code == 0
    after = yaml.safe_load((root / "output" / "shop" / "argo-search" / "rollout-argo-search.yaml").read_text())
    assert after["spec"]["template"] == before


def test_the_emergency_rollback_prints_abort_not_routing_objects(tmp_path):
    root = _project(tmp_path, "argo-canary-istio.yaml")
    result = run_cli("rollback", "specs/argo-canary-istio.yaml", "--emergency", cwd=root)
    assert result.exit_code == 0
    commands = [l for l in result.stdout.splitlines() if not l.startswith("#")]
    assert commands == ["kubectl argo rollouts abort argo-checkout -n shop", "rollgen rollback specs/argo-canary-istio.yaml"]
    assert not (root / "output").exists()


@pytest.mark.parametrize("fmt", ["table", "json", "mermaid"])
@pytest.mark.parametrize("name", ARGO_EXAMPLES)
def test_plan_shows_what_the_controller_will_do(name, fmt):
    result = run_cli("plan", "--format", fmt, f"specs/{name}", cwd=ROOT)
    assert result.exit_code == 0, result.output
    if fmt == "json":
        plan = json.loads(result.stdout)["plan"]
        assert plan["delivery"] == "argo-rollouts"
        rollout = the(output_of(name), "Rollout")
        assert plan["steps"] == rollout["spec"]["strategy"].get("canary", {}).get("steps", [])
    elif fmt == "mermaid":
        assert result.stdout.startswith("flowchart LR")
    else:
        assert "Argo Rollouts" in result.stdout


def test_the_docs_show_the_argocd_fields_status_commands_prints():
    page = (ROOT / "docs" / "argo-rollouts.md").read_text()
    shown = page.split("For `specs/argo-canary-istio.yaml`:\n\n```yaml\n", 1)[1].split("```", 1)[0]
    out = run_cli("status-commands", "specs/argo-canary-istio.yaml", cwd=ROOT).stdout
    assert yaml.safe_load(shown) == yaml.safe_load(out[out.index("spec:"):])


def test_a_blue_green_needs_no_argocd_ignore_rules():
    result = run_cli("status-commands", "specs/argo-blue-green.yaml", cwd=ROOT)
    assert result.exit_code == 0
    assert "Argo CD: nothing to ignore" in result.stdout and "ignoreDifferences" not in result.stdout


def test_the_argo_only_prometheus_address_is_a_warning_elsewhere_so_switching_needs_no_edit(tmp_path):
    text = (SPECS / "argo-canary-gateway-api.yaml").read_text().replace("delivery: argo-rollouts", "delivery: manual")
    (tmp_path / "s.yaml").write_text(text)
    result = run_cli("validate", "s.yaml", cwd=tmp_path)
    assert result.exit_code == 0
    assert "warning: spec.analysis.prometheus: `analysis.prometheus` is only read with `delivery: argo-rollouts`" \
        in result.stderr


def test_the_plan_names_the_services_and_subsets_the_routing_in_git_sends_to():
    table = run_cli("plan", "specs/argo-blue-green.yaml", cwd=ROOT).stdout
    assert "x-version = 'green' → argo-profile-preview" in table
    assert "all other requests → argo-profile-active" in table
    table = run_cli("plan", "specs/argo-canary-istio.yaml", cwd=ROOT).stdout
    assert "all other requests → subset stable 100%, subset canary 0%" in table


# --- any spec the manual engine accepts, under the controller ------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402

from strategies import valid_specs  # noqa: E402


@settings(deadline=None, database=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(valid_specs(strategies=("steady", "canary", "blueGreen", "routes")))
def test_any_valid_spec_switched_to_argo_rollouts_is_accepted_by_the_controller_or_refused_with_the_reason(doc):
    doc["spec"]["delivery"] = "argo-rollouts"
    (doc["spec"].get("canary") or {}).pop("position", None)
    deployment = doc["spec"]["workload"].get("deployment") or {}
    if "strategy" in deployment:
        # the Rollout's strategy is the spec's canary/blueGreen: refused, and the rest compiles without it
        refused = _refusals(yaml.safe_dump(doc, sort_keys=False), "s.yaml")
        assert "spec.workload.deployment.strategy" in refused, refused
        del deployment["strategy"]
    text = yaml.safe_dump(doc, sort_keys=False)
    to_versions = [i for i, r in enumerate(doc["spec"].get("routes") or []) if "version" in r]
    if to_versions:
        assert _refusals(text, "s.yaml") == [f"spec.routes[{i}].version" for i in to_versions]
        return
    docs = list(compile_spec_text(text, "s.yaml").values())
    rollout = the(docs, "Rollout")
    assert validate_rollout(rollout, of_kind(docs, "Service"), of_kind(docs, "VirtualService"),
                            of_kind(docs, "DestinationRule"), of_kind(docs, "HTTPRoute")) == []
    for template in of_kind(docs, "AnalysisTemplate"):
        use = "background" if "canary" in rollout["spec"]["strategy"] else "prePromotion"
        ref = (rollout["spec"]["strategy"].get("canary") or {}).get("analysis") or \
            rollout["spec"]["strategy"]["blueGreen"]["prePromotionAnalysis"]
        assert validate_analysis_template(template, use, ref["args"]) == []


def test_the_no_traffic_check_is_the_request_rate_metric_while_the_canary_has_a_share_not_an_alert():
    docs = output_of("argo-canary-istio.yaml")
    alerts = {r["alert"] for g in the(docs, "PrometheusRule")["spec"]["groups"] for r in g["rules"]}
    assert alerts == {"CanaryHighErrorRate", "CanaryHighLatency"}
    assert "request-rate" in {m["name"] for m in the(docs, "AnalysisTemplate")["spec"]["metrics"]}


# --- shadow traffic: a managed mirror route while the canary serves nobody ----------------------------------

def test_shadow_mirrors_while_the_canary_serves_nobody_and_stops_before_the_first_weight():
    canary = the(output_of("argo-shadow-istio.yaml"), "Rollout")["spec"]["strategy"]["canary"]
    steps = canary["steps"]
    first = steps.index({"setWeight": 5})
    # the canary needs pods before any managed route applies (trafficrouting.go:222-233)
    assert steps[0] == {"setCanaryScale": {"replicas": 2}}
    mirror = {"setMirrorRoute": {"name": "shadow", "percentage": 10, "match": [{"path": {"prefix": "/"}}]}}
    assert mirror in steps[:first]
    # a setMirrorRoute without match removes the route (istio.go reconcileVirtualServiceMirrorRoutes)
    assert steps[first - 1] == {"setMirrorRoute": {"name": "shadow"}}
    assert steps.index(mirror) < steps.index({"pause": {}}) < first - 1  # held until promoted, then removed
    # the testers' header route is ordered before the catch-all mirror route (orderRoutes: managedRoutes order)
    assert canary["trafficRouting"]["managedRoutes"] == [{"name": "testers"}, {"name": "shadow"}]
    assert canary["analysis"]["startingStep"] == first


def test_the_argocd_rules_ignore_the_managed_mirror_route():
    assert '.spec.http[] | select(.name == "shadow")' in _ignored("argo-shadow-istio.yaml", "VirtualService")


def test_plan_says_what_the_mirror_route_does():
    text = run_cli("plan", "specs/argo-shadow-istio.yaml", cwd=ROOT).stdout
    assert "mirror 10% to the canary" in text
    assert "managed route shadow: copies of 10% of the requests → canary (responses discarded;" in text
    assert "removed before the first weight" in text
    mermaid = run_cli("plan", "specs/argo-shadow-istio.yaml", "--format", "mermaid", cwd=ROOT).stdout
    assert "copies of 10%" in mermaid


def test_a_version_the_rollout_does_not_run_is_said_so_not_that_it_runs_without_traffic():
    from generator.plan.checks import parse_spec

    text = (SPECS / "argo-canary-linkerd.yaml").read_text().replace("    - name: v8\n", "    - name: v8\n    - name: v9\n")
    warnings = [d for d in parse_spec(text.encode(), "three.yaml").warnings if d.path == "spec.versions[2].name"]
    assert [w.message for w in warnings] == [
        "version 'v9' does not run: the Rollout runs only the stable version and the one under test"]
