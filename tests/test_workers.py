"""Synthesis at scale: batching and worker processes never change what is generated."""

from __future__ import annotations

import sys
from pathlib import Path

import generator.workers as workers
from generator.load import parse_spec
from generator.pipeline import compile_specs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from specs import spec_text  # noqa: E402


def square_all(batch, scratch):
    return [(x * x, scratch) for x in batch]


def test_batches_are_consecutive_cover_everything_and_are_bounded():
    items = list(range(2003))
    for count in (1, 2, 4):
        parts = workers.batches(items, count)
        assert [x for part in parts for x in part] == items
        assert all(len(p) <= workers.MAX_BATCH for p in parts)
    assert len(workers.batches(list(range(200)), 2)) == 8  # several per worker: no core left idle


def test_small_runs_stay_in_one_process_and_large_ones_use_the_cores():
    assert workers.worker_count(1, cpus=2) == 1
    assert workers.worker_count(workers.PARALLEL_MIN - 1, cpus=8) == 1
    assert workers.worker_count(200, cpus=1) == 1
    assert workers.worker_count(200, cpus=2) == 2
    assert workers.worker_count(5000, cpus=64) == workers.MAX_WORKERS


def test_results_come_back_in_order_from_worker_processes_with_progress(monkeypatch):
    monkeypatch.setattr(workers, "SPECS_PER_WORKER", 20)  # several rounds of fresh workers
    seen = []
    out = workers.run_batches(square_all, list(range(100)), "scratch", workers=2, advance=seen.append)
    assert out == [(x * x, "scratch") for x in range(100)]
    assert sum(seen) == 100 and len(seen) > 2


def test_parallel_synthesis_writes_exactly_what_one_process_writes(monkeypatch):
    specs = [parse_spec(spec_text(i).encode(), f"specs/svc{i:04d}.yaml") for i in range(30)]
    parallel = compile_specs(specs)
    monkeypatch.setattr(workers, "PARALLEL_MIN", 10_000)
    serial = compile_specs(specs)
    assert parallel == serial
    assert sum(len(files) for files in serial.values()) > 100
