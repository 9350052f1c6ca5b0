"""`generate --output-format helm`: a chart that renders, with the real Helm engine, to exactly the manifests,
and whose values override images, replicas and traffic per service."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import require, run_cli

try:
    import helm_python as helm
except ImportError:
    require(False, "helm-python-sdk (a test dependency)")


def objects_in(root: Path) -> dict[tuple, dict]:
    out = {}
    for path in sorted(root.rglob("*.yaml")):
        if path.name != "kustomization.yaml":
            doc = yaml.safe_load(path.read_text())
            out[(doc["kind"], doc["metadata"].get("namespace", ""), doc["metadata"]["name"])] = doc  # "": cluster-scoped
    return out


def render(chart: Path, values: dict | None = None) -> dict[tuple, dict]:
    rendered = helm.Chart.load(str(chart)).render(values or {}, name="fleet", namespace="production")
    out = {}
    for text in rendered.values():
        for doc in yaml.safe_load_all(text):
            if doc:
                out[(doc["kind"], doc["metadata"].get("namespace", ""), doc["metadata"]["name"])] = doc  # "": cluster-scoped
    return out


def leaves(value, path=()) -> dict[tuple, object]:
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in leaves(item, path + (key,)).items()}
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value) for k, v in leaves(item, path + (i,)).items()}
    return {path: value}


def differences(a: dict, b: dict) -> dict[tuple, tuple]:
    la, lb = leaves(a), leaves(b)
    return {k: (la.get(k), lb.get(k)) for k in set(la) | set(lb) if la.get(k) != lb.get(k)}


def changed_fields(before: dict, after: dict) -> dict[tuple, tuple]:
    """{(kind, name, *field path): (before, after)} for every field an override changed."""
    changed = {}
    for k in before:
        for path, pair in differences(before[k], after[k]).items():
            changed[(k[0], k[2]) + path] = pair
    return changed


@pytest.fixture
def chart(workdir: Path) -> Path:
    result = run_cli("generate", "--output-format", "helm", "-o", "chart", cwd=workdir)
    assert result.exit_code == 0, result.stderr
    assert run_cli("generate", cwd=workdir).exit_code == 0  # the manifests, to compare with
    return workdir / "chart"


def test_the_chart_has_chart_values_and_one_template_per_object(chart: Path):
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    assert meta["apiVersion"] == "v2" and meta["name"] == "chart" and meta["version"] == "0.1.0"
    templates = sorted(p.relative_to(chart / "templates").as_posix() for p in (chart / "templates").rglob("*.yaml"))
    manifests = sorted(p.relative_to(chart.parent / "output").as_posix()
                       for p in (chart.parent / "output").rglob("*.yaml") if p.name != "kustomization.yaml")
    assert templates == manifests
    values = yaml.safe_load((chart / "values.yaml").read_text())
    backend = values["services"]["production"]["backend"]
    assert backend["versions"]["v1"] == {"image": {"repository": "backend", "tag": "v1"}, "replicas": 3}
    assert backend["canary"] == {"steps": [10, 25, 50, 75, 100], "position": 1, "weight": None}
    orders = values["services"]["production"]["orders"]["versions"]["v2"]
    assert orders["image"] == {"repository": "registry.example.com/shop/orders", "tag": "2.0.1"}


def test_helm_lint_finds_no_errors_or_warnings(chart: Path):
    report = helm.lint(str(chart), strict=True)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


def test_rendered_with_default_values_the_chart_gives_exactly_the_manifests(chart: Path):
    rendered = render(chart)
    manifests = objects_in(chart.parent / "output")
    assert rendered == manifests
    assert len(rendered) == len([p for p in (chart.parent / "output").rglob("*.yaml")
                                 if p.name != "kustomization.yaml"])


def test_overrides_change_the_overridden_fields_and_nothing_else(chart: Path):
    values = {"services": {
        "production": {
            "backend": {"canary": {"position": 3}, "versions": {"v2": {"replicas": 7}}},
            "orders": {"canary": {"weight": 40}, "versions": {"v1": {"image": {"tag": "1.9.0"}}}},
        },
        "shop": {"checkout": {"canary": {"position": 0}}},
    }}
    before, after = render(chart), render(chart, values)
    assert set(before) == set(after)
    changed = changed_fields(before, after)
    container_image = ("spec", "template", "spec", "containers", 0, "image")
    assert changed == {
        ("Deployment", "backend-v2", "spec", "replicas"): (3, 7),
        ("VirtualService", "backend", "spec", "http", 1, "route", 0, "weight"): (90, 50),
        ("VirtualService", "backend", "spec", "http", 1, "route", 1, "weight"): (10, 50),
        ("Deployment", "orders-v1") + container_image: ("registry.example.com/shop/orders:v1",
                                                        "registry.example.com/shop/orders:1.9.0"),
        ("HTTPRoute", "orders", "spec", "rules", 0, "backendRefs", 0, "weight"): (90, 60),
        ("HTTPRoute", "orders", "spec", "rules", 0, "backendRefs", 1, "weight"): (10, 40),
        ("HTTPRoute", "checkout", "spec", "rules", 1, "backendRefs", 0, "weight"): (75, 100),
        ("HTTPRoute", "checkout", "spec", "rules", 1, "backendRefs", 1, "weight"): (25, 0),
    }


def test_an_out_of_range_position_fails_the_render_with_a_clear_message(chart: Path):
    with pytest.raises(helm.HelmError, match=r"canary.position must be 0..5, got 9"):
        render(chart, {"services": {"production": {"backend": {"canary": {"position": 9}}}}})


def test_template_syntax_in_user_values_is_kept_literally(workdir: Path):
    spec = workdir / "specs" / "backend.yaml"
    spec.write_text(spec.read_text().replace(
        "          readinessProbe:", "          env: [{name: GREETING, value: '{{ .Values.secret }}'}]\n"
                                   "          readinessProbe:"))
    assert run_cli("generate", "--output-format", "helm", "-o", "chart", cwd=workdir).exit_code == 0
    rendered = render(workdir / "chart")
    container = rendered[("Deployment", "production", "backend-v1")]["spec"]["template"]["spec"]["containers"][0]
    assert container["env"] == [{"name": "GREETING", "value": "{{ .Values.secret }}"}]


def test_the_chart_is_deterministic_and_checkable(chart: Path):
    workdir = chart.parent
    first = {p: p.read_bytes() for p in sorted(chart.rglob("*")) if p.is_file()}
    result = run_cli("generate", "--output-format", "helm", "-o", "chart", cwd=workdir)
    assert result.exit_code == 0 and "already up to date" in result.stderr
    assert {p: p.read_bytes() for p in sorted(chart.rglob("*")) if p.is_file()} == first
    assert run_cli("check", "--output-format", "helm", "-o", "chart", cwd=workdir).exit_code == 0
    (workdir / "specs/catalog.yaml").write_text((workdir / "specs/catalog.yaml").read_text()
                                                 .replace("replicas: 2", "replicas: 5"))
    result = run_cli("check", "--output-format", "helm", "-o", "chart", "--diff", cwd=workdir)
    assert result.exit_code == 1
    assert "+++ chart/values.yaml" in result.stdout
    assert "  changed  chart/values.yaml\n" in result.stderr
    assert "hint: run `rollgen generate -o chart --output-format helm` and commit chart\n" in result.stderr and "+          replicas: 5" in result.stdout


def test_a_manifests_directory_is_not_taken_for_a_chart(workdir: Path):
    assert run_cli("generate", cwd=workdir).exit_code == 0
    result = run_cli("check", "--output-format", "helm", "-o", "output", cwd=workdir)
    assert result.exit_code == 1


def test_an_output_directory_keeps_the_format_it_holds_when_none_is_given(chart: Path):
    """`generate -o charts/fleet` without --format must update the chart, not replace it with manifests."""
    workdir = chart.parent
    templates = sorted(p.relative_to(chart) for p in (chart / "templates").rglob("*.yaml"))
    result = run_cli("check", "-o", "chart", cwd=workdir)
    assert result.exit_code == 0 and "chart: up to date" in result.stderr
    spec = workdir / "specs/catalog.yaml"
    spec.write_text(spec.read_text().replace("replicas: 2", "replicas: 5"))
    result = run_cli("check", "-o", "chart", "--diff", cwd=workdir)
    assert result.exit_code == 1
    assert [d for d in result.stdout.splitlines() if d.startswith("+++")] == ["+++ chart/values.yaml"]
    result = run_cli("generate", "-o", "chart", cwd=workdir)
    assert result.exit_code == 0, result.stderr
    assert sorted(p.relative_to(chart) for p in (chart / "templates").rglob("*.yaml")) == templates
    assert not (chart / "kustomization.yaml").exists()
    assert "replicas: 5" in (chart / "values.yaml").read_text()
    assert run_cli("check", "--output-format", "helm", "-o", "chart", cwd=workdir).exit_code == 0
    # an explicit format still decides: the manifests directory is not taken for a chart
    assert run_cli("check", "-o", "output", cwd=workdir).exit_code == 1  # catalog changed since
    assert run_cli("generate", "-o", "output", cwd=workdir).exit_code == 0
    assert (workdir / "output/kustomization.yaml").exists()


def test_a_chart_name_that_helm_would_reject_is_a_usage_error(workdir: Path):
    result = run_cli("generate", "--output-format", "helm", "--chart-name", "Fleet_1", "-o", "chart", cwd=workdir)
    assert result.exit_code == 2
    assert "'Fleet_1' is not a chart name" in result.stderr
    assert not (workdir / "chart").exists()


def test_an_ab_test_s_split_is_overridden_through_traffic_and_must_sum_to_100(chart: Path):
    values = {"services": {"production": {"frontend": {"traffic": {"assign": {"variant-a": 80, "variant-b": 20}}}}}}
    before, after = render(chart), render(chart, values)
    changed = {(k[2],) + path: pair for k in before for path, pair in differences(before[k], after[k]).items()}
    assert changed == {
        ("frontend", "spec", "http", 2, "route", 0, "weight"): (50, 80),
        ("frontend", "spec", "http", 2, "route", 1, "weight"): (50, 20),
    }
    with pytest.raises(helm.HelmError, match=r"traffic.assign: the weights must sum to 100, got 120"):
        render(chart, {"services": {"production": {"frontend": {"traffic": {"assign": {"variant-a": 70}}}}}})


def test_a_flagger_rollout_s_image_and_replicas_are_overridable_and_flagger_s_template_variables_survive(chart: Path):
    values = {"services": {"payments": {"backend": {"image": {"tag": "2.0.2"}, "replicas": 5}}}}
    before, after = render(chart), render(chart, values)
    changed = changed_fields(before, after)
    image = ("spec", "template", "spec", "containers", 0, "image")
    assert changed == {
        ("Deployment", "backend") + image: ("registry.example.com/payments/backend:2.0.1",
                                            "registry.example.com/payments/backend:2.0.2"),
        ("HorizontalPodAutoscaler", "backend", "spec", "minReplicas"): (3, 5),
        ("HorizontalPodAutoscaler", "backend", "spec", "maxReplicas"): (3, 5),
    }
    template = next(d for k, d in before.items() if k[0] == "MetricTemplate")
    assert "{{ target }}" in template["spec"]["query"] and "{{ interval }}" in template["spec"]["query"]


def test_an_autoscaled_flagger_rollout_overrides_the_autoscalers_bounds(chart: Path):
    values = {"services": {"shop": {"storefront": {"autoscaling": {"min": 3, "max": 8}}}}}
    changed = changed_fields(render(chart), render(chart, values))
    assert changed == {
        ("HorizontalPodAutoscaler", "storefront", "spec", "minReplicas"): (2, 3),
        ("HorizontalPodAutoscaler", "storefront", "spec", "maxReplicas"): (4, 8),
    }


def test_promote_and_rollback_regenerate_a_chart_as_a_chart(chart: Path):
    workdir = chart.parent
    before = sorted(p.relative_to(chart) for p in chart.rglob("*") if p.is_file())
    result = run_cli("promote", "specs/backend.yaml", "-o", "chart", cwd=workdir)
    assert result.exit_code == 0, result.stderr
    assert sorted(p.relative_to(chart) for p in chart.rglob("*") if p.is_file()) == before
    assert not (chart / "kustomization.yaml").exists()
    assert run_cli("check", "-o", "chart", cwd=workdir).exit_code == 0
    result = run_cli("rollback", "specs/backend.yaml", "-o", "chart", "--output-format", "helm", cwd=workdir)
    assert result.exit_code == 0, result.stderr
    assert run_cli("check", "--output-format", "helm", "-o", "chart", cwd=workdir).exit_code == 0


def test_an_argo_rollout_s_image_and_replicas_are_overridable_and_its_analysis_args_survive(chart: Path):
    values = {"services": {"shop": {"argo-checkout": {"image": {"tag": "v3"}, "replicas": 4}}}}
    before, after = render(chart), render(chart, values)
    image = ("spec", "template", "spec", "containers", 0, "image")
    assert changed_fields(before, after) == {
        ("Rollout", "argo-checkout") + image: ("registry.example.com/shop/checkout:v2",
                                               "registry.example.com/shop/checkout:v3"),
        ("Rollout", "argo-checkout", "spec", "replicas"): (3, 4),
    }
    template = before[("AnalysisTemplate", "shop", "argo-checkout-analysis")]
    assert all("{{args.version}}" in m["provider"]["prometheus"]["query"] for m in template["spec"]["metrics"])


def test_an_autoscaled_argo_rollout_has_no_count_and_its_autoscalers_bounds_are_the_lever(chart: Path):
    values = {"services": {"shop": {"argo-storefront": {"autoscaling": {"min": 4, "max": 8}}}}}
    before, after = render(chart), render(chart, values)
    assert "replicas" not in before[("Rollout", "shop", "argo-storefront")]["spec"]
    assert changed_fields(before, after) == {
        ("HorizontalPodAutoscaler", "argo-storefront", "spec", "minReplicas"): (3, 4),
        ("HorizontalPodAutoscaler", "argo-storefront", "spec", "maxReplicas"): (6, 8),
    }
