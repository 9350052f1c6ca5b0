"""`rollgen route` and `rollgen test`: the generated objects answer where a request goes, through the one
routing engine (generator.views.routing) that the tests' routing table uses too."""

from __future__ import annotations

import json
import re
import shutil
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from conftest import ARGO_EXAMPLES, MANUAL_EXAMPLES, OUTPUT, PLATFORM_EXAMPLES, ROOT, SPECS, compile_spec_text, run_cli
from generator.app import compile_at, routing_documents, rollout_positions
from generator.plan.checks import read_spec
from routing import route

MESH_REQUESTS = [{}, {"x-canary-user": "true"}, {"x-user-group": "beta-1"}, {"cookie": "ab-test=b"},
                 {"x-version": "green"}, {"x-user-region": "us-east"}, {"user-agent": "iPhone"}]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A scratch copy of the examples and their committed output."""
    shutil.copytree(SPECS, tmp_path / "specs")
    shutil.copytree(OUTPUT, tmp_path / "output")
    return tmp_path


def loaded(name: str):
    return read_spec(SPECS / name, ROOT)


def test_route_names_the_version_the_rule_and_where_the_objects_come_from():
    result = run_cli("route", "specs/backend.yaml", "--header", "x-canary-user=true", cwd=ROOT)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "specs/backend.yaml, position 1 of 5 (output/)",
        "reaches version v2 through backend/v2 (VirtualService production/backend, rule 'testers' (spec.http[0]))"]


def test_route_at_another_position_compiles_it_in_memory_and_shows_the_split():
    result = run_cli("route", "specs/backend.yaml", "--position", "2", cwd=ROOT)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "specs/backend.yaml, position 2 of 5 (compiled in memory)",
        "reaches versions v1 (75%), v2 (25%) (VirtualService production/backend, rule 'split' (spec.http[1]))",
        "  split: backend/v1 75% (weight 75) -> version v1, backend/v2 25% (weight 25) -> version v2"]


def test_route_shows_the_cookie_a_new_visitor_receives():
    out = run_cli("route", "specs/frontend.yaml", cwd=ROOT).stdout
    assert "  from frontend/variant-a: Set-Cookie: ab-test=a; Max-Age=86400; Path=/" in out.splitlines()
    held = run_cli("route", "specs/frontend.yaml", "--cookie", "ab-test=b", "--format", "json", cwd=ROOT)
    doc = json.loads(held.stdout)
    assert (doc["rule"], doc["versions"], doc["documents"]) == (
        "sticky-variant-b", {"variant-b": {"share": "1", "percent": 100.0}}, "output/")


@pytest.mark.parametrize("args,message", [
    (["--position", "9"], "specs/backend.yaml has no position 9: its positions are 0 to 5"),
    (["--header", "x-canary-user"], "'x-canary-user' is not NAME=VALUE"),
    (["--path", "cart"], "'cart' must start with '/'"),
])
def test_route_usage_errors_exit_2(args, message):
    result = run_cli("route", "specs/backend.yaml", *args, cwd=ROOT)
    assert result.exit_code == 2 and message in result.stderr


@pytest.mark.parametrize("spec", PLATFORM_EXAMPLES)
def test_route_refuses_a_platform_spec_located(spec):
    result = run_cli("route", f"specs/{spec}", cwd=ROOT)
    assert result.exit_code == 1 and "`rollgen route` works on a Rollout" in result.stderr


@pytest.mark.parametrize("spec", MANUAL_EXAMPLES + ARGO_EXAMPLES)
def test_rollgen_route_and_the_tests_routing_table_agree_on_every_example(spec):
    docs = routing_documents([(loaded(spec), rollout_positions(loaded(spec)))], OUTPUT)[0]
    for position, found in docs.items():
        for headers in MESH_REQUESTS:
            args = ["route", f"specs/{spec}", "--format", "json"] + [a for k, v in headers.items()
                                                                      for a in ("--header", f"{k}={v}")]
            if position is not None:
                args += ["--position", str(position)]
            doc = json.loads(run_cli(*args, cwd=ROOT).stdout)
            table = route(found.documents, headers)
            total = sum(table.values())
            assert {d["backend"]: Fraction(d["share"]) for d in doc["destinations"] if Fraction(d["share"])} == \
                {b: Fraction(w, total) for b, w in table.items() if w}, (spec, position, headers)


@pytest.mark.parametrize("spec", [s for s in MANUAL_EXAMPLES if "\n  canary:" in (SPECS / s).read_text()])
def test_documents_at_a_position_are_what_the_spec_compiles_to_when_promoted_there(spec):
    sp = loaded(spec)
    positions = rollout_positions(sp)
    compiled = compile_at([(sp, p) for p in positions])
    for position, docs in zip(positions, compiled):
        text = re.sub(r"(?m)^(\s+position: )\d+", rf"\g<1>{position}", (SPECS / spec).read_text())
        assert docs == list(compile_spec_text(text, f"specs/{spec}").values())


def test_rollgen_test_passes_on_the_examples():
    result = run_cli("test", cwd=ROOT)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert re.fullmatch(r"\d+ case files, \d+ checks: all passed", result.stderr.splitlines()[-1])


def swap_rules(path: Path, first: int, second: int) -> None:
    doc = yaml.safe_load(path.read_text())
    http = doc["spec"]["http"]
    http[first], http[second] = http[second], http[first]
    path.write_text(path.read_text().splitlines(keepends=True)[0] + yaml.safe_dump(doc, sort_keys=False))


def test_rollgen_test_fails_naming_the_case_when_two_generated_rules_are_swapped_by_hand(project: Path):
    swap_rules(project / "output/production/frontend/virtualservice-frontend.yaml", 0, 2)
    result = run_cli("test", cwd=project)
    assert result.exit_code == 1
    assert ("specs/frontend.routes.yaml:7:5: case \"a visitor holding variant a's cookie stays on variant a\": "
            "expected version variant-a for every request through rule 'sticky-variant-a', got versions "
            "variant-a 50%, variant-b 50% through rule 'assign' (VirtualService production/frontend)") \
        in result.stdout.splitlines()
    assert "failed" in result.stderr.splitlines()[-1]
    assert run_cli("check", cwd=project).exit_code == 1  # check says the output drifted; test says what broke


def test_rollgen_test_compiles_the_live_position_when_the_output_is_not_current(project: Path):
    spec = project / "specs/backend.yaml"
    spec.write_text(spec.read_text().replace("position: 1", "position: 2"))
    result = run_cli("test", "specs/backend.yaml", cwd=project)
    assert result.exit_code == 0, result.stdout
    assert result.stderr.splitlines()[:2] == [
        "specs/backend.yaml: output/ is not what it compiles to now; its live position was compiled in memory",
        "  hint: run `rollgen generate` to evaluate the committed objects"]


def test_rollgen_test_reports_every_problem_of_a_case_file_located(project: Path):
    (project / "specs/backend.routes.yaml").write_text(
        "apiVersion: rollgen/v1alpha1\nkind: RouteTests\ncases:\n"
        "  - name: too far\n    positions: [7]\n    expect: {version: v2}\n"
        "  - name: unknown\n    expect: {verison: v2}\n")
    (project / "specs/gone.routes.yaml").write_text((project / "specs/backend.routes.yaml").read_text())
    result = run_cli("test", cwd=project)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert "specs/backend.routes.yaml:8:14: cases[1].expect.verison: unknown field 'verison'" in lines
    assert "specs/gone.routes.yaml:8:14: cases[1].expect.verison: unknown field 'verison'" in lines
    (project / "specs/backend.routes.yaml").write_text(
        "apiVersion: rollgen/v1alpha1\nkind: RouteTests\ncases:\n"
        "  - name: too far\n    positions: [7]\n    expect: {version: v2}\n")
    (project / "specs/gone.routes.yaml").write_text((project / "specs/backend.routes.yaml").read_text())
    lines = run_cli("test", cwd=project).stderr.splitlines()
    assert "specs/backend.routes.yaml:4:5: positions: case 'too far' names position 7, which specs/backend.yaml " \
           "does not have" in lines
    assert "  hint: its positions are 0 to 5" in lines
    assert "specs/gone.routes.yaml:1:1: no spec beside this case file: specs/gone.yaml does not exist" in lines


def test_rollgen_test_json_lists_every_check():
    doc = json.loads(run_cli("test", "specs/backend.yaml", "--format", "json", cwd=ROOT).stdout)
    assert doc["ok"] and doc["failed"] == 0 and doc["inMemory"] == []
    assert {c["position"] for c in doc["cases"]} == set(range(6))


def test_route_and_test_work_where_the_project_file_says(tmp_path: Path):
    """rollgen.toml names the specs and the output: `rollgen test` with no argument finds the case files
    there (skipping excluded ones) and evaluates that output, and `rollgen route` reads that output."""
    (tmp_path / "deploy").mkdir()
    shutil.copytree(SPECS, tmp_path / "deploy" / "specs",
                    ignore=lambda d, names: [n for n in names if not n.startswith(("backend.", "frontend."))])
    (tmp_path / "rollgen.toml").write_text('specs = ["deploy/specs"]\noutput = "deploy/out"\n'
                                           'exclude = ["deploy/specs/frontend.*"]\n')
    assert run_cli("generate", cwd=tmp_path).exit_code == 0
    result = run_cli("test", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "1 case file," in result.stderr and "all passed" in result.stderr
    assert "compiled in memory" not in result.stderr  # deploy/out was found and is current
    routed = run_cli("route", "deploy/specs/backend.yaml", cwd=tmp_path)
    assert routed.exit_code == 0, routed.stderr
    assert "(deploy/out/)" in routed.stdout.splitlines()[0]
