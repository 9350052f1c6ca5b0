"""Synthesis at scale: batching and worker processes never change what is generated."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import generator.output.workers as workers
from generator.plan.checks import parse_spec
from generator.app import compile_specs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from specs import spec_text  # noqa: E402


def square_all(batch, scratch):
    return [(x * x, scratch) for x in batch]


def as_list(submitted):
    return list(submitted)


def test_batches_are_consecutive_cover_everything_and_are_bounded():
    items = list(range(2003))
    for count in (1, 2, 4):
        parts = workers.batches(items, count)
        assert [x for part in parts for x in part] == items
        assert all(len(p) <= workers.MAX_BATCH for p in parts)
    assert len(workers.batches(list(range(200)), 2)) == 8  # several per worker: no core left idle


def test_runs_one_runtime_can_hold_stay_in_one_process_and_larger_ones_use_the_cores():
    assert workers.worker_count(1, cpus=2) == 1
    assert workers.worker_count(2000, cpus=8) == 1
    assert workers.worker_count(workers.SPECS_PER_RUNTIME, cpus=2) == 1
    assert workers.worker_count(workers.SPECS_PER_RUNTIME + 1, cpus=2) == 2
    assert workers.worker_count(5000, cpus=64) == workers.MAX_WORKERS


def test_results_come_back_in_order_from_worker_processes_with_progress(monkeypatch):
    monkeypatch.setattr(workers, "SPECS_PER_WORKER", 20)  # several rounds of fresh workers
    seen = []
    out = workers.run_batches(square_all, as_list, list(range(100)), "scratch", workers=2, advance=seen.append)
    assert out == [(x * x, "scratch") for x in range(100)]
    assert sum(seen) == 100 and len(seen) > 2


def test_in_this_process_each_batch_is_submitted_before_the_previous_one_is_collected():
    events = []

    def submit(part, scratch):
        events.append(("submit", part[0]))
        return part

    def collect(part):
        events.append(("collect", part[0]))
        return list(part)

    seen = []
    out = workers.run_batches(submit, collect, list(range(60)), "scratch", workers=1, advance=seen.append)
    assert out == list(range(60)) and sum(seen) == 60
    starts = [first for kind, first in events if kind == "submit"]
    assert len(starts) > 2
    assert events == [("submit", 0)] + [e for first, nxt in zip(starts, starts[1:])
                                         for e in (("submit", nxt), ("collect", first))] + [("collect", starts[-1])]


def test_parallel_synthesis_writes_exactly_what_one_process_writes(monkeypatch):
    specs = [parse_spec(spec_text(i).encode(), f"specs/svc{i:04d}.yaml") for i in range(30)]
    serial = compile_specs(specs)
    monkeypatch.setattr(workers, "SPECS_PER_RUNTIME", 10)
    monkeypatch.setattr(workers, "usable_cpus", lambda: 2)
    monkeypatch.setattr(workers, "SPECS_PER_WORKER", 10)  # rounds of fresh workers
    parallel = compile_specs(specs)
    assert parallel == serial
    assert sum(len(files) for files in serial.values()) > 100


def _children_cmdlines() -> list[str]:
    me = str(os.getpid())
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if stat.read_text().rsplit(")", 1)[1].split()[1] == me:
                out.append((stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, IndexError):
            continue
    return out


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_the_jsii_kernel_runs_as_one_node_process_without_the_wrapper():
    from generator.constructs.runtime import start

    start().ready()
    nodes = [c for c in _children_cmdlines() if "program.js" in c or "jsii-runtime.js" in c]
    assert len(nodes) == 1 and "program.js" in nodes[0]
