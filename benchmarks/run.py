"""rollgen's speed against the floor, on this machine.

For each N it synthesises N specs (mixed meshes, canaries with every kind of tester, steady
services; see specs.py) and measures, with the real commands in fresh processes:

  floor      a plain Python script writing the same documents with PyYAML's C dumper (floor.py)
  cold       `rollgen generate` into an empty output directory
  check      `rollgen check` with nothing changed (when this rollgen has the command)
  unchanged  `rollgen generate` again with nothing changed
  one        `rollgen generate` after one spec changed

The runs are interleaved: round after round, each round runs every measurement once, the floor
first (floor, cold, check, unchanged, one; floor, cold, ...), so a disturbance of the shared machine
(another process, the disk flushing) falls on both sides of a comparison instead of on one row. Each
time is the best of --repeat rounds (the minimum is the least disturbed), shown with the median and
the maximum; each "× floor" is the best time over the best floor, shown with the spread of the ratios
within rounds (a row's time divided by the same round's floor). A first cold run, not timed, writes
the documents the floor is given. The CPU time (user + system) of each run's whole process tree,
Node.js included, is shown too: waiting for the disk or for another process's turn on a core moves
wall times a lot on a busy machine and CPU times much less.

Peak memory comes from one more run of each, sampled over the whole process tree (rollgen, its
worker processes and every Node.js process they start) with psutil, as two sums (RSS every 20 ms,
PSS every 100 ms):

  RSS  the sum of resident set sizes: an upper bound, since pages shared between processes (the
       Python a forked worker shares with its parent, shared libraries) count once per process;
  PSS  the sum of proportional set sizes (/proc/PID/smaps_rollup): each shared page divided among
       the processes sharing it, so the sum is the physical memory the tree really uses.

(getrusage(RUSAGE_CHILDREN).ru_maxrss would give the largest single descendant, not the total of
processes running at the same time, so it under-reports a tree of workers and Node.js runtimes.)

    python benchmarks/run.py                      # N = 1, 20, 200, 2000; writes benchmarks/RESULTS.md
    python benchmarks/run.py --sizes 1 20 --repeat 1 --no-write
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from specs import spec_text, write_specs  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent  # the rollgen checkout measured (--rollgen to measure another one)
ROLLGEN = [sys.executable, "-m", "generator"]


@dataclass
class Sample:
    wall: float
    rss: int  # peak of the summed RSS of the process tree, bytes
    pss: int  # peak of the summed PSS, bytes
    code: int
    cpu: float = 0.0  # user + system CPU seconds of the process tree (Node.js included: it is waited for)


class TreeSampler(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.02):
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak_rss = 0
        self.peak_pss = 0
        self.done = threading.Event()
        self.count = 0

    def sample(self) -> None:
        try:
            procs = [self.root] + self.root.children(recursive=True)
        except psutil.Error:
            return
        self.count += 1
        full = self.count % 5 == 1  # PSS needs smaps_rollup, costlier to read: every 100 ms
        rss = pss = 0
        for proc in procs:
            try:
                info = proc.memory_full_info() if full else proc.memory_info()
            except psutil.Error:
                continue
            rss += info.rss
            pss += getattr(info, "pss", 0)
        self.peak_rss = max(self.peak_rss, rss)
        if full:
            self.peak_pss = max(self.peak_pss, pss)

    def run(self) -> None:
        while not self.done.is_set():
            self.sample()
            self.done.wait(self.interval)


def measure(cmd: list[str], cwd: Path, sample: bool = False) -> Sample:
    """One run of `cmd`: its wall time, or (sample=True) the peak memory of its process tree.
    Sampling reads /proc of every process many times a second, which steals CPU from the run on a
    small machine, so times come from runs without it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    # What the previous run (or its preparation: deleting an output) left to write back goes to the
    # disk now, not during this run: otherwise the run after the floor pays for the floor's files.
    os.sync()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sampler = TreeSampler(proc.pid)
    if sample:
        sampler.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if sample:
        sampler.done.set()
        sampler.join()
    if proc.returncode not in (0,):
        sys.stderr.write(f"{' '.join(cmd)} exited {proc.returncode}:\n{err.decode()[-2000:]}\n")
    return Sample(wall, sampler.peak_rss, sampler.peak_pss, proc.returncode, cpu)


@dataclass
class Series:
    """One measurement over the rounds: a wall time per round, and the memory of the sampled run."""

    walls: list[float]
    cpus: list[float]
    memory: Sample
    code: int

    @property
    def wall(self) -> float:
        return min(self.walls)  # the best: the least disturbed run

    @property
    def cpu(self) -> float:
        return min(self.cpus)

    @property
    def rss(self) -> int:
        return self.memory.rss

    @property
    def pss(self) -> int:
        return self.memory.pss


def spread(values: list[float]) -> tuple[float, float, float]:
    return min(values), statistics.median(values), max(values)


def interleaved(steps: list[tuple[str, list[str], object]], cwd: Path, repeat: int) -> dict[str, Series]:
    """`repeat` rounds, each running every step once in order, then one sampled run of each.
    A step is (key, command, prepare) where `prepare(i)` readies run i of it."""
    walls: dict[str, list[float]] = {key: [] for key, _, _ in steps}
    cpus: dict[str, list[float]] = {key: [] for key, _, _ in steps}
    codes: dict[str, int] = {key: 0 for key, _, _ in steps}
    for i in range(repeat):
        for key, cmd, prepare in steps:
            prepare(i)
            run = measure(cmd, cwd)
            walls[key].append(run.wall)
            cpus[key].append(run.cpu)
            codes[key] = max(codes[key], run.code)
    out = {}
    for key, cmd, prepare in steps:
        prepare(repeat)
        memory = measure(cmd, cwd, sample=True)
        out[key] = Series(walls[key], cpus[key], memory, max(codes[key], memory.code))
    return out


def documents_of(outdir: Path) -> list:
    """The generated documents (header line and content), to hand to the floor script."""
    out = []
    for path in sorted(outdir.rglob("*.yaml")):
        text = path.read_text()
        header, _, body = text.partition("\n")
        out.append([path.relative_to(outdir).as_posix(), header + "\n", yaml.load(body, Loader=yaml.CSafeLoader)])
    return out


def has_check() -> bool:
    proc = subprocess.run(ROLLGEN + ["check", "--help"], cwd=ROOT, capture_output=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    return proc.returncode == 0


def run_size(n: int, repeat: int, work: Path, check: bool) -> dict:
    root = work / f"n{n}"
    shutil.rmtree(root, ignore_errors=True)
    write_specs(root / "specs", n)
    generate = ROLLGEN + ["generate", "specs", "-o", "output"]
    edited = root / "specs" / "svc0000.yaml"
    row: dict = {"n": n}

    # a first cold run, not timed, writes the documents the floor script is given
    measure(generate, root)
    docs = documents_of(root / "output")
    row["documents"] = len(docs)
    (work / "documents.json").write_text(json.dumps(docs))
    floor = [sys.executable, str(HERE / "floor.py"), str(work / "documents.json"), "floor"]

    def nothing(i: int) -> None:
        pass

    def empty_floor(i: int) -> None:
        shutil.rmtree(root / "floor", ignore_errors=True)

    def cold(i: int) -> None:
        edited.write_text(spec_text(0))  # the spec the floor's documents come from
        shutil.rmtree(root / "output", ignore_errors=True)

    def edit(i: int) -> None:
        edited.write_text(spec_text(0, revision=i + 1))

    steps = [("floor", floor, empty_floor), ("cold", generate, cold)]
    if check:
        steps.append(("check", ROLLGEN + ["check", "specs", "-o", "output"], nothing))
    steps += [("unchanged", generate, nothing), ("one", generate, edit)]
    row.update(interleaved(steps, root, repeat))
    shutil.rmtree(root, ignore_errors=True)
    return row


MEMORY_NOTE = ("The RSS sum is the figure the 400 MB target is judged by: it counts every process of the "
               "tree in full (rollgen and one Node.js process up to 2500 specs). The PSS sum divides the pages "
               "processes share (Python's and Node.js's own code) among them: the physical memory used.")

DESIGN_HEADING = "## Measurements behind the design"

COLUMNS = [("floor", "floor"), ("cold", "generate, cold"), ("check", "check, unchanged"),
           ("unchanged", "generate, unchanged"), ("one", "generate, 1 spec changed")]


def mb(value: int) -> str:
    return f"{value / 2**20:.0f}"


def ratios(row: dict, key: str) -> list[float]:
    """A row's time over the floor's, round by round."""
    return [w / f for w, f in zip(row[key].walls, row["floor"].walls)]


def table(rows: list[dict]) -> str:
    lines = ["| N specs | documents | measurement | best s | median s | max s | × floor (best) "
             "| × floor per round (min / median / max) | CPU s (best) | CPU × floor | peak RSS sum MB | peak PSS sum MB |",
             "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in rows:
        floor = row["floor"].wall
        for key, label in COLUMNS:
            if key not in row:
                lines.append(f"| {row['n']} | {row['documents']} | {label} | n/a | | | | | | | | |")
                continue
            s = row[key]
            failed = "" if s.code == 0 or key == "check" and s.code == 1 else f" (exit {s.code})"
            low, mid, high = spread(s.walls)
            per_round = "" if key == "floor" else "{:.1f} / {:.1f} / {:.1f}".format(*spread(ratios(row, key)))
            lines.append(f"| {row['n']} | {row['documents']} | {label}{failed} | {low:.2f} | {mid:.2f} | "
                         f"{high:.2f} | {s.wall / floor:.1f} | {per_round} | {s.cpu:.2f} | {s.cpu / row['floor'].cpu:.1f} | "
                         f"{mb(s.rss)} | {mb(s.pss)} |")
    return "\n".join(lines)


def verdicts(rows: list[dict]) -> list[str]:
    by = {row["n"]: row for row in rows}
    out = []

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    if 200 in by:
        r = by[200]
        ratio = r["cold"].wall / r["floor"].wall
        low, mid, high = spread(ratios(r, "cold"))
        out.append(f"- cold generate of 200 specs ≤ 3× the floor (best over best, floor interleaved): "
                   f"{ratio:.1f}× — {verdict(ratio <= 3)} (round by round {low:.1f}–{high:.1f}×, median {mid:.1f}×; "
                   f"CPU time {r['cold'].cpu / r['floor'].cpu:.1f}×)")
        for key in ("check", "unchanged"):
            if key in r:
                ratio = r[key].wall / r["floor"].wall
                out.append(f"- {dict(COLUMNS)[key]} of 200 specs ≤ 1.5× the floor: {ratio:.1f}× — {verdict(ratio <= 1.5)}")
            else:
                out.append(f"- {key} of 200 specs: not measured (this rollgen has no `check` command)")
        if 1 in by:
            ratio = r["one"].wall / by[1]["cold"].wall
            out.append(f"- one spec changed among 200 ≤ 1.5× the cold time of a single spec: {ratio:.2f}× — "
                       f"{verdict(ratio <= 1.5)}")
    if 200 in by and 2000 in by:
        growth = by[2000]["cold"].wall / by[200]["cold"].wall
        out.append(f"- cold generate from 200 to 2000 specs grows at most linearly (≤ 10×): {growth:.1f}× — "
                   f"{verdict(growth <= 10)}")
        peak = max(by[2000][k].pss for k in ("cold", "unchanged", "one") if k in by[2000])
        peak_rss = max(by[2000][k].rss for k in ("cold", "unchanged", "one") if k in by[2000])
        out.append(f"- peak memory at 2000 specs < 400 MB (all processes, Node.js included): "
                   f"RSS sum {mb(peak_rss)} MB — {verdict(peak_rss < 400 * 2**20)}; "
                   f"PSS sum {mb(peak)} MB — {verdict(peak < 400 * 2**20)}")
    return out


def spread_note(rows: list[dict]) -> str:
    """How far the machine moved the largest size's figures during the run, in words."""
    row = max(rows, key=lambda r: r["n"])
    floor, cold = spread(row["floor"].walls), spread(row["cold"].walls)
    low, _, high = spread(ratios(row, "cold"))
    cpu = row["cold"].cpu / row["floor"].cpu
    return (f"Spread at {row['n']} specs: the floor took {floor[0]:.2f}–{floor[2]:.2f} s, cold generate "
            f"{cold[0]:.2f}–{cold[2]:.2f} s, their ratio within a round {low:.1f}–{high:.1f}×; "
            f"in CPU time (best of each) cold generate took {cpu:.1f}× the floor.\n\n")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{len(os.sched_getaffinity(0))} usable cores ({cpu}), {psutil.virtual_memory().total / 2**30:.0f} GB RAM, "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 20, 200, 2000])
    parser.add_argument("--repeat", type=int, default=3,
                        help="interleaved rounds (each runs every measurement once; the best is kept); "
                             "2000 uses at most 2")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write RESULTS.md")
    parser.add_argument("--rollgen", type=Path, help="measure the rollgen source tree at this path instead")
    parser.add_argument("--work", type=Path, help="where the specs and outputs are written (default: the system's "
                                                  "temporary directory); a tmpfs such as /dev/shm takes the disk out "
                                                  "of the comparison")
    args = parser.parse_args()
    if args.rollgen:
        global ROOT
        ROOT = args.rollgen.resolve()
        args.no_write = True

    check = has_check()
    rows = []
    # An installed rollgen has its bytecode from `pip install`: compile the measured tree's once
    # (into its git-ignored __pycache__), so that no timed run compiles rollgen's modules from source.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "generator")], check=True,
                   stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory(prefix="rollgen-bench-", dir=args.work) as tmp:
        for n in args.sizes:
            row = run_size(n, args.repeat if n < 2000 else min(args.repeat, 2), Path(tmp), check)
            rows.append(row)
            print(table([row]), flush=True)
    text = table(rows)
    found = verdicts(rows)
    print("\n" + "\n".join(found))
    if not args.no_write:
        command = "python benchmarks/run.py " + " ".join(sys.argv[1:])
        results = HERE / "RESULTS.md"
        # the hand-written section on how the design was measured is kept across runs
        kept = results.read_text().partition(DESIGN_HEADING)[2] if results.exists() else ""
        results.write_text(
            "# Benchmark results\n\n"
            f"Measured with `{command.strip()}` on {machine()}, a machine shared with other work. "
            f"The runs are interleaved: {args.repeat} rounds (at most two at 2000 specs), each running every "
            "measurement once, the floor first, so a disturbance falls on both sides of a comparison. "
            "Times are the best of the rounds, with their median and maximum; \"× floor (best)\" divides the "
            "best time by the best floor, and the per-round ratios (each run over the same round's floor) "
            "show how much the comparison moved; CPU is the user + system time of the whole process tree "
            "(Node.js included), best of the rounds, which waiting on a busy machine moves much less than wall "
            "time. Memory is the peak, in one more run, of the process tree "
            "(rollgen, its workers and their Node.js processes): RSS summed (an upper bound: shared pages "
            "count once per process) and PSS summed (shared pages divided among their processes: the "
            "physical memory used). See `benchmarks/run.py` for what each row runs.\n\n"
            f"{spread_note(rows)}"
            f"{text}\n\n## Targets\n\n" + "\n".join(found) + "\n\n" + MEMORY_NOTE + "\n"
            + (f"\n{DESIGN_HEADING}{kept}" if kept else ""))


if __name__ == "__main__":
    main()
