"""The commands around generate: schema, init, JSON results, Mermaid diagrams, progress."""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import ROOT, SPEC_FILES, SPECS, run_cli
from generator.spec.schema import SCHEMA_FILE


def test_schema_prints_the_committed_schema():
    result = run_cli("schema")
    assert result.exit_code == 0
    assert result.stdout == (ROOT / "schemas" / SCHEMA_FILE).read_text()


def test_schema_can_be_written_to_a_file(tmp_path: Path):
    result = run_cli("schema", "-o", "schemas/rollout.v1alpha1.json", cwd=tmp_path)
    assert result.exit_code == 0
    assert (tmp_path / "schemas/rollout.v1alpha1.json").read_text() == (ROOT / "schemas" / SCHEMA_FILE).read_text()


def uncomment(text: str) -> str:
    """Turn the scaffold's commented-out options on (everything below the header comments)."""
    lines = text.splitlines(keepends=True)
    body = [re.sub(r"^(\s*)# ", r"\1", line) for line in lines[3:]]
    return "".join(lines[:3] + body)


STRATEGY_BLOCKS = {"steady": None, "canary": "canary", "blue-green": "blueGreen", "ab-test": "abTest",
                   "flagger-canary": "canary", "flagger-blue-green": "blueGreen", "flagger-ab-test": "abTest",
                   "argo-canary": "canary", "argo-blue-green": "blueGreen"}


def test_init_offers_every_strategy_the_planner_knows():
    from generator.spec.scaffold import STRATEGIES

    assert set(STRATEGIES) == set(STRATEGY_BLOCKS)


@pytest.mark.parametrize("strategy", sorted(STRATEGY_BLOCKS))
@pytest.mark.parametrize("mesh", ["istio", "linkerd", "gateway-api"])
def test_init_scaffolds_a_commented_spec_that_validates_and_compiles(tmp_path: Path, mesh, strategy):
    assert run_cli("schema", "-o", "schemas/rollout.v1alpha1.json", cwd=tmp_path).exit_code == 0
    result = run_cli("init", "payments", "--mesh", mesh, "--strategy", strategy, "-n", "shop", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    spec = tmp_path / "specs" / "payments.yaml"
    text = spec.read_text()
    first = text.splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/rollout.v1alpha1.json"
    assert (spec.parent / first.split("=", 1)[1]).resolve() == (tmp_path / "schemas/rollout.v1alpha1.json")
    jsonschema.Draft202012Validator(json.loads((tmp_path / "schemas/rollout.v1alpha1.json").read_text())
                                    ).validate(yaml.safe_load(text))
    data = yaml.safe_load(text)
    assert data["metadata"] == {"name": "payments", "namespace": "shop"} and data["spec"]["mesh"] == mesh
    blocks = {b for b in STRATEGY_BLOCKS.values() if b}
    assert blocks & set(data["spec"]) == ({STRATEGY_BLOCKS[strategy]} if STRATEGY_BLOCKS[strategy] else set())
    if strategy.startswith("flagger-"):  # the provider is the mesh's default (gatewayapi:v1 on Linkerd)
        assert "flagger" not in data["spec"]
    if strategy.startswith("argo-"):
        assert data["spec"]["delivery"] == "argo-rollouts"
    assert run_cli("validate", cwd=tmp_path).stderr.endswith("1 spec valid\n")
    assert run_cli("generate", cwd=tmp_path).exit_code == 0
    spec.write_text(uncomment(text))  # the commented options are right too
    result = run_cli("validate", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr + spec.read_text()
    assert yaml.safe_load(spec.read_text())["spec"]["workload"]["pod"]["serviceAccountName"] == "payments"


def test_init_never_overwrites_and_reports_a_bad_name(tmp_path: Path):
    assert run_cli("init", "web", cwd=tmp_path).exit_code == 0
    result = run_cli("init", "web", cwd=tmp_path)
    assert result.exit_code == 2 and "already exists" in result.stderr
    result = run_cli("init", "Web_App", "-o", "-", cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr.startswith('<stdout>: NAME: must be a DNS-1035 label (it names the Service), got "Web_App"\n')
    assert result.stderr.endswith("init failed: nothing written to <stdout>\n") and result.stdout == ""
    assert "hint: editors complete specs once the schema exists: rollgen schema -o schemas/rollout.v1alpha1.json" in run_cli("init", "api", cwd=tmp_path).stderr


def test_validate_json_reports_every_diagnostic_with_location_and_hint(workdir: Path):
    spec = workdir / "specs" / "backend.yaml"
    spec.write_text(spec.read_text().replace("replicas: 3", "replica: 3"))
    result = run_cli("validate", "--format", "json", cwd=workdir)
    assert result.exit_code == 1
    assert result.stderr == ""
    doc = json.loads(result.stdout)
    assert doc["ok"] is False and doc["errors"] == 1
    (d,) = doc["diagnostics"]
    assert d == {"file": "specs/backend.yaml", "line": 16, "column": 5, "path": "spec.workload.replica",
                 "message": "unknown field 'replica'", "hint": "did you mean 'replicas'?", "severity": "error"}


def test_validate_json_on_valid_specs(workdir: Path):
    result = run_cli("validate", "--format", "json", cwd=workdir)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"ok": True, "errors": 0, "warnings": 0, "diagnostics": [],
                                         "specs": len(SPEC_FILES)}


def test_check_json_lists_the_drift(workdir: Path):
    assert run_cli("generate", cwd=workdir).exit_code == 0
    doc = json.loads(run_cli("check", "--format", "json", cwd=workdir).stdout)
    assert doc["ok"] is True and doc["drift"] == [] and doc["specs"] == len(SPEC_FILES)
    spec = workdir / "specs" / "orders.yaml"
    spec.write_text(spec.read_text().replace("position: 1", "position: 4"))
    result = run_cli("check", "--format", "json", cwd=workdir)
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["ok"] is False and doc["errors"] == 0
    assert [(d["path"], d["status"]) for d in doc["drift"]] == [
        ("production/orders/httproute-orders.yaml", "changed"), (".rollgen-state", "changed")]
    assert "+      weight: 75\n" in doc["drift"][0]["diff"]
    text = run_cli("check", "--diff", cwd=workdir).stdout  # the manifests' diffs, never the record's JSON
    assert text.startswith("--- output/production/orders/httproute-orders.yaml\n")
    assert ".rollgen-state" not in text


def test_check_json_reports_invalid_specs_as_diagnostics(workdir: Path):
    spec = workdir / "specs" / "orders.yaml"
    spec.write_text(spec.read_text().replace("position: 1", "position: 9"))
    result = run_cli("check", "--format", "json", cwd=workdir)
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert [(d["file"], d["path"]) for d in doc["diagnostics"]] == [("specs/orders.yaml", "spec.canary.position")]
    assert doc["diagnostics"][0]["line"] > 0 and doc["diagnostics"][0]["hint"]


def test_plan_json_has_the_live_rules_and_every_position():
    result = run_cli("plan", "specs/backend.yaml", "--format", "json", cwd=SPECS.parent)
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["ok"] is True and doc["diagnostics"] == []
    plan = doc["plan"]
    assert (plan["name"], plan["namespace"], plan["stage"], plan["position"]) == ("backend", "production", "canary", 1)
    split = plan["rules"][1]
    assert [(d["version"], d["weight"]) for d in split["destinations"]] == [("v1", 90), ("v2", 10)]
    assert [p["live"] for p in plan["positions"]] == [False, True, False, False, False, False]
    last = plan["positions"][-1]["rules"][1]["destinations"]
    assert [d["weight"] for d in last] == [0, 100]


def test_plan_json_on_an_invalid_spec(workdir: Path):
    spec = workdir / "specs" / "orders.yaml"
    spec.write_text(spec.read_text().replace("position: 1", "position: 9"))
    result = run_cli("plan", "specs/orders.yaml", "--format", "json", cwd=workdir)
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["plan"] is None and doc["diagnostics"][0]["path"] == "spec.canary.position"


def test_plan_mermaid_draws_the_rules_in_order_with_weights():
    result = run_cli("plan", "specs/backend.yaml", "--format", "mermaid", cwd=SPECS.parent)
    assert result.exit_code == 0
    assert result.stdout == (
        "flowchart LR\n"
        '  requests(["requests to backend.production:8080<br/>istio, canary"])\n'
        "  r1{\"1. testers: x-canary-user = 'true'?\"}\n"
        "  requests --> r1\n"
        '  t1["v2<br/>backend:v2<br/>3 replicas"]\n'
        '  r1 -->|"yes · 100%"| t1\n'
        '  r2{{"2. split: weighted split"}}\n'
        '  r1 -->|"no"| r2\n'
        '  t2["v1<br/>backend:v1<br/>3 replicas"]\n'
        '  r2 -->|"90%"| t2\n'
        '  r2 -->|"10%"| t1\n'
    )


def test_plan_mermaid_for_a_steady_service_and_zero_weights(workdir: Path):
    result = run_cli("plan", "specs/catalog.yaml", "--format", "mermaid", cwd=workdir)
    assert '  requests -->|"1. default · 100%"| t1\n' in result.stdout
    spec = workdir / "specs" / "orders.yaml"
    spec.write_text(spec.read_text().replace("position: 1", "position: 0"))
    result = run_cli("plan", "specs/orders.yaml", "--format", "mermaid", cwd=workdir)
    assert '-.->|"0%"|' in result.stdout  # an unused destination is drawn dotted


def test_the_documented_diagram_is_what_plan_prints():
    page = (ROOT / "docs" / "gitops.md").read_text()
    diagram = run_cli("plan", "specs/checkout.yaml", "--format", "mermaid", cwd=SPECS.parent).stdout
    assert "```mermaid\n" + diagram + "```\n" in page


def many_specs(root: Path, n: int) -> None:
    base = (SPECS / "catalog.yaml").read_text()
    (root / "specs").mkdir()
    for i in range(n):
        (root / "specs" / f"svc{i:02}.yaml").write_text(base.replace("name: catalog", f"name: svc{i:02}"))


def run_on_a_terminal(args: list[str], cwd: Path, env: dict) -> tuple[int, str]:
    """Run rollgen with stderr on a pseudo-terminal, as a person at a shell would."""
    master, slave = os.openpty()
    proc = subprocess.Popen([str(Path(sys.executable).with_name("rollgen")), *args], cwd=cwd, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(), b"".join(chunks).decode("utf-8", "replace")


def test_generate_shows_a_progress_bar_on_a_terminal_only(tmp_path: Path):
    many_specs(tmp_path, 12)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    code, screen = run_on_a_terminal(["generate"], tmp_path, env)
    assert code == 0, screen
    assert "validating" in screen and "compiling" in screen and "100%" in screen
    assert "output: 62 written" in screen
    shutil.rmtree(tmp_path / "output")
    code, screen = run_on_a_terminal(["generate"], tmp_path, {**env, "CI": "true"})
    assert code == 0 and "compiling" not in screen and "output: 62 written" in screen
    shutil.rmtree(tmp_path / "output")
    proc = subprocess.run([str(Path(sys.executable).with_name("rollgen")), "generate"], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr == "output: 62 written, 0 unchanged, 0 removed\n"


def test_plan_mermaid_escapes_user_text_in_labels(workdir: Path):
    spec = workdir / "specs" / "backend.yaml"
    spec.write_text(spec.read_text().replace('exact: "true"', 'regex: "(a|b)\\"<x>#35;"'))
    result = run_cli("plan", "specs/backend.yaml", "--format", "mermaid", cwd=workdir)
    assert result.exit_code == 0, result.stderr
    line = result.stdout.splitlines()[2]
    assert line == "  r1{\"1. testers: x-canary-user matches '(a|b)#quot;#lt;x#gt;#35;35;'?\"}"


@pytest.mark.parametrize("command", [["schema", "-o"], ["init", "backend", "-o"]])
def test_a_file_that_cannot_be_written_is_a_clean_error_not_a_bug(tmp_path: Path, command: list[str]):
    (tmp_path / "taken").write_text("a file where a directory should be\n")
    result = run_cli(*command, "taken/out.yaml", cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr.startswith("taken/out.yaml: cannot write: ")
    assert "hint: choose a path in a directory you can write to" in result.stderr
    assert "internal error" not in result.stderr
    assert (tmp_path / "taken").read_text() == "a file where a directory should be\n"
