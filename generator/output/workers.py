"""Synthesis at scale: plans are built in batches, each batch in a fresh cdk8s App; runs too large for
one jsii runtime go through worker processes, each with its own runtime, spread over the cores.

Why batches: a cdk8s App slows down as it fills (each new chart and each `to_json` walks more of the
construct tree), so a fresh App per batch keeps time proportional to the batch.

Why one process up to SPECS_PER_RUNTIME specs: a jsii kernel is single-threaded, so a second process
would keep a second core busy, but on a 2-core machine the measured wall time of `rollgen generate` is the same (loading, checking and writing the
files take most of it, in this process anyway), and every worker costs a Python process and a Node.js
process: at 2000 specs two forked workers took the summed RSS of the process tree from ~300 MB to
~575 MB (benchmarks/RESULTS.md). Why workers beyond it: a jsii runtime never frees an object it built
(about 10 KB each, ~6 MB per 100 specs), so a run larger than that is split into rounds of
SPECS_PER_WORKER specs, each round in fresh worker processes whose runtimes end with them.
"""

from __future__ import annotations

import gc
import os
from functools import partial
from itertools import repeat
from typing import Callable, Sequence, TypeVar

T = TypeVar("T")
P = TypeVar("P")
R = TypeVar("R")

# Up to this many specs, this process builds them with its own jsii runtime (its Node.js grows to
# ~65 MB + ~6 MB per 100 specs: ~190 MB at 2000).
SPECS_PER_RUNTIME = 2500
MAX_BATCH = 100
# In this process, batches are smaller: each is synthesized in Node.js while the one before it is
# dumped here, so the smaller they are, the less of Node.js's work is left after the last dump.
PIPELINED_BATCH = 25
MAX_WORKERS = 4  # each worker holds a Node.js runtime (100-150 MB); more than this buys little
# A jsii runtime keeps every object it built: a worker process is replaced after this many specs so
# memory stays bounded however many specs a run compiles (~0.3 s per restart).
SPECS_PER_WORKER = 500


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def in_this_process(items: int) -> bool:
    """Whether a run of `items` specs is built in this process, with its own jsii kernel (see the
    module's docstring), rather than in worker processes."""
    return items <= SPECS_PER_RUNTIME


def worker_count(items: int, cpus: int | None = None) -> int:
    """How many processes build `items` specs: up to SPECS_PER_RUNTIME, 1 (this process itself, see the
    module's docstring); beyond it, worker processes, one per core (rounds of fresh ones)."""
    cpus = usable_cpus() if cpus is None else cpus
    if in_this_process(items):
        return 1
    return max(1, min(cpus, MAX_WORKERS))


def batches(items: Sequence[T], workers: int, size: int | None = None) -> list[Sequence[T]]:
    """Consecutive batches of at most `size` (default: about four per worker, so a slow batch does
    not leave a core idle, and never more than MAX_BATCH) items."""
    if not items:
        return []
    if size is None:
        size = -(-len(items) // (workers * 4)) if workers > 1 else MAX_BATCH
    size = max(1, min(MAX_BATCH, size))
    return [items[i:i + size] for i in range(0, len(items), size)]


def _start_runtime() -> None:
    from generator.constructs.runtime import start

    start()  # start this worker's jsii kernel at once, while the others start theirs


def _context():
    """fork is cheapest (the parent's imports are inherited) but only safe while this process has no
    jsii runtime of its own: a forked child would share the parent's pipes to Node.js."""
    import multiprocessing

    from generator.constructs import runtime

    if runtime.started() or "fork" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    return multiprocessing.get_context("fork")


def _whole(submit, collect, part, scratch):
    return collect(submit(part, scratch))


def _new_pool(workers: int):
    from concurrent.futures import ProcessPoolExecutor  # only runs larger than SPECS_PER_RUNTIME need it

    return ProcessPoolExecutor(max_workers=workers, mp_context=_context(), initializer=_start_runtime)


def run_batches(submit: Callable[[Sequence[T], str], P], collect: Callable[[P], list[R]], items: Sequence[T],
                scratch: str, workers: int | None = None, advance: Callable[[int], None] | None = None) -> list[R]:
    """`collect(submit(batch, scratch))` over consecutive batches of `items`; results concatenated in
    order. `advance(n)` is called as each batch of n items is done (a progress bar's hook).

    In this process, a batch is submitted before the previous one is collected: what `submit` sets
    going elsewhere (cdk8s synthesizing the batch in Node.js) runs while the previous batch is
    collected here (its documents dumped to YAML)."""
    workers = worker_count(len(items)) if workers is None else workers
    out: list[R] = []
    if workers <= 1 and in_this_process(len(items)):
        size = PIPELINED_BATCH if advance is None else -(-len(items) // 20)  # a progress bar moves in 5% steps
        pending: tuple[int, P] | None = None
        for part in batches(items, 1, size):
            submitted = (len(part), submit(part, scratch))
            if pending is not None:
                out.extend(collect(pending[1]))
                if advance:
                    advance(pending[0])
            pending = submitted
        if pending is not None:
            out.extend(collect(pending[1]))
            if advance:
                advance(pending[0])
        return out
    per_round = workers * SPECS_PER_WORKER
    # Forked workers share the parent's memory until they write to it, and a garbage collection
    # writes to every object it visits: frozen objects are never visited, so they stay shared.
    gc.collect()
    gc.freeze()
    try:
        for start in range(0, len(items), per_round):
            parts = batches(items[start:start + per_round], workers)
            with _new_pool(workers) as pool:
                for part, done in zip(parts, pool.map(partial(_whole, submit, collect), parts, repeat(scratch))):
                    out.extend(done)
                    if advance:
                        advance(len(part))
    finally:
        gc.unfreeze()
    return out
