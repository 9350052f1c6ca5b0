"""Property-based tests: every valid spec compiles to deterministic, conforming manifests; every
invalid one gets a clean, located diagnostic and leaves the output directory alone."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CONFORM, ORACLE, require, run_cli
from strategies import MESHES, STRATEGIES, mutated_specs, spec_texts, valid_specs

from generator.diagnostics import InvalidInput
from generator.plan.checks import parse_spec
from generator.plan.routed import build_routed_plan, positions

CORPUS_SIZE = 120
LOCATED = re.compile(r"^(?P<file>[^\s:]+\.yaml):(?P<line>\d+):(?P<col>\d+): \S")
FAST = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def rollgen(*args: str, cwd: Path, seed: str = "0") -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@FAST
@given(spec_texts())
def test_every_valid_spec_is_accepted_and_plans_integer_weights_that_sum_to_100(text: str):
    loaded = parse_spec(text.encode(), "spec.yaml")
    for at in positions(loaded.document):
        plan = build_routed_plan(loaded.document, "spec.yaml", at)
        for rule in plan.rules:
            weights = [d.weight for d in rule.destinations if d.weight is not None]
            assert not weights or (sum(weights) == 100 and all(0 <= w <= 100 for w in weights))
        names = [w.name for w in plan.workloads]
        assert len(names) == len(set(names)) and all(len(n) <= 63 for n in names)


def test_a_generated_corpus_compiles_deterministically_and_passes_the_oracle(tmp_path: Path):
    """One corpus of generated specs over every mesh and strategy, generated twice in separate
    processes (different hash seeds) and checked by the conformance oracle once."""
    combos = [(name, mesh) for name, (_, runs_on, _) in sorted(STRATEGIES.items()) for mesh in runs_on]
    corpus: dict[tuple[str, str], str] = {}
    seen: set[tuple[str, str]] = set()

    def collect(name: str, mesh: str, text: str):
        parse_spec(text.encode(), "spec.yaml")  # each one must validate on its own
        doc = yaml.safe_load(text)
        key = (doc["metadata"].get("namespace", "default"), doc["metadata"]["name"])
        if key in corpus:  # the same service twice would generate the same files
            doc["metadata"]["namespace"] = f"corpus{len(corpus)}"
            key, text = (doc["metadata"]["namespace"], key[1]), yaml.safe_dump(doc, sort_keys=False)
        corpus[key] = text
        seen.add((name, mesh))

    for name, mesh in combos:
        @settings(FAST, max_examples=max(3, CORPUS_SIZE // len(combos)))
        @given(spec_texts(valid_specs(meshes=(mesh,), strategies=(name,))))
        def run(text: str) -> None:
            collect(name, mesh, text)  # noqa: B023 - run is called right away, in this iteration

        run()
    assert seen == set(combos), "the corpus covers every strategy on every mesh it runs on"
    specs = tmp_path / "specs"
    specs.mkdir()
    for i, text in enumerate(corpus.values()):
        (specs / f"spec{i:03d}.yaml").write_text(text)

    first = rollgen("generate", "specs", "-o", "out1", cwd=tmp_path, seed="1")
    assert first.returncode == 0, first.stderr[-3000:]
    second = rollgen("generate", "specs", "-o", "out2", cwd=tmp_path, seed="2")
    assert second.returncode == 0, second.stderr[-3000:]
    assert tree(tmp_path / "out1") == tree(tmp_path / "out2")
    assert len(list((tmp_path / "out1").rglob("*.yaml"))) >= 3 * len(corpus)

    require(CONFORM.exists(), ORACLE)
    oracle = subprocess.run([sys.executable, str(CONFORM), "--no-promtool", str(tmp_path / "out1")],
                            capture_output=True, text=True, timeout=600)
    assert oracle.returncode == 0, oracle.stdout[-5000:] + oracle.stderr[-2000:]
    assert " 0 problems" in oracle.stdout


def test_every_strategy_function_is_drawn():
    assert set(STRATEGIES) >= {"steady", "canary", "blueGreen", "abTest", "routes"}
    assert set(MESHES) == {"istio", "linkerd", "gateway-api"}


@settings(FAST, max_examples=150)
@given(mutated_specs())
def test_an_invalid_spec_gets_located_diagnostics_exit_1_and_output_is_unchanged(tmp_path_factory, case):
    what, text = case
    work = tmp_path_factory.mktemp("invalid")
    (work / "specs").mkdir()
    (work / "specs" / "svc.yaml").write_text(text)
    out = work / "output"
    (out / "team").mkdir(parents=True)
    (out / "team" / "kept.yaml").write_text("kind: ConfigMap\n")
    before = tree(out)

    result = run_cli("generate", cwd=work)

    assert result.exit_code == 1, f"{what}: {result.stderr}"
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line and not line.startswith(("  hint:", "generate failed"))
              and ": warning:" not in line]
    assert errors, result.stderr
    for line in errors:
        m = LOCATED.match(line)
        assert m and m["file"] == "specs/svc.yaml" and int(m["line"]) >= 1 and int(m["col"]) >= 1, (what, line)
    assert tree(out) == before
