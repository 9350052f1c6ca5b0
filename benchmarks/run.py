"""rollgen's speed against the floor, on this machine.

For each N it synthesises N specs (mixed meshes, canaries with every kind of tester, steady
services; see specs.py) and measures, with the real commands in fresh processes:

  floor      a plain Python script writing the same documents with PyYAML's C dumper (floor.py)
  cold       `rollgen generate` into an empty output directory
  check      `rollgen check` with nothing changed (when this rollgen has the command)
  unchanged  `rollgen generate` again with nothing changed
  one        `rollgen generate` after one spec changed

Each time is the best of --repeat runs (the machine is shared; the minimum is the least disturbed).
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
import shutil
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
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sampler = TreeSampler(proc.pid)
    if sample:
        sampler.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    if sample:
        sampler.done.set()
        sampler.join()
    if proc.returncode not in (0,):
        sys.stderr.write(f"{' '.join(cmd)} exited {proc.returncode}:\n{err.decode()[-2000:]}\n")
    return Sample(wall, sampler.peak_rss, sampler.peak_pss, proc.returncode)


def best(samples: list[Sample], memory: Sample) -> Sample:
    """The fastest of the timed runs, with the memory of the sampled one."""
    fastest = min(samples, key=lambda s: s.wall)
    return Sample(fastest.wall, memory.rss, memory.pss, max(s.code for s in samples + [memory]))


def series(cmd: list[str], cwd: Path, repeat: int, before=lambda i: None) -> Sample:
    """`repeat` timed runs and one sampled run of `cmd`; `before(i)` prepares run i."""
    timed = []
    for i in range(repeat):
        before(i)
        timed.append(measure(cmd, cwd))
    before(repeat)
    return best(timed, measure(cmd, cwd, sample=True))


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
    row: dict = {"n": n}

    row["cold"] = series(generate, root, repeat, lambda i: shutil.rmtree(root / "output", ignore_errors=True))
    docs = documents_of(root / "output")
    row["documents"] = len(docs)
    (work / "documents.json").write_text(json.dumps(docs))
    floor = [sys.executable, str(HERE / "floor.py"), str(work / "documents.json"), "floor"]
    row["floor"] = series(floor, root, repeat, lambda i: shutil.rmtree(root / "floor", ignore_errors=True))
    if check:
        row["check"] = series(ROLLGEN + ["check", "specs", "-o", "output"], root, repeat)
    row["unchanged"] = series(generate, root, repeat)

    def edit(i: int) -> None:
        (root / "specs" / "svc0000.yaml").write_text(spec_text(0, revision=i + 1))
    row["one"] = series(generate, root, repeat, edit)
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


def table(rows: list[dict]) -> str:
    lines = ["| N specs | documents | measurement | wall s | × floor | peak RSS sum MB | peak PSS sum MB |",
             "| ---: | ---: | --- | ---: | ---: | ---: | ---: |"]
    for row in rows:
        floor = row["floor"].wall
        for key, label in COLUMNS:
            if key not in row:
                lines.append(f"| {row['n']} | {row['documents']} | {label} | n/a | | | |")
                continue
            s = row[key]
            failed = "" if s.code == 0 or key == "check" and s.code == 1 else f" (exit {s.code})"
            lines.append(f"| {row['n']} | {row['documents']} | {label}{failed} | {s.wall:.2f} | "
                         f"{s.wall / floor:.1f} | {mb(s.rss)} | {mb(s.pss)} |")
    return "\n".join(lines)


def verdicts(rows: list[dict]) -> list[str]:
    by = {row["n"]: row for row in rows}
    out = []

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    if 200 in by:
        r = by[200]
        ratio = r["cold"].wall / r["floor"].wall
        out.append(f"- cold generate of 200 specs ≤ 4× the floor: {ratio:.1f}× — {verdict(ratio <= 4)}")
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
                        help="runs per measurement (best is kept); 2000 uses at most 2")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write RESULTS.md")
    parser.add_argument("--rollgen", type=Path, help="measure the rollgen source tree at this path instead")
    args = parser.parse_args()
    if args.rollgen:
        global ROOT
        ROOT = args.rollgen.resolve()
        args.no_write = True

    check = has_check()
    rows = []
    with tempfile.TemporaryDirectory(prefix="rollgen-bench-") as tmp:
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
            f"Measured with `{command.strip()}` on {machine()}. Each time is the best of "
            f"{args.repeat} runs (at most two at 2000 specs: a single run on a shared machine is too easily "
            "disturbed to judge growth by); memory is the peak, in one more run, of the process tree "
            "(rollgen, its workers and their Node.js processes): RSS summed (an upper bound: shared pages "
            "count once per process) and PSS summed (shared pages divided among their processes: the "
            "physical memory used). See `benchmarks/run.py` for what each row runs.\n\n"
            f"{text}\n\n## Targets\n\n" + "\n".join(found) + "\n\n" + MEMORY_NOTE + "\n"
            + (f"\n{DESIGN_HEADING}{kept}" if kept else ""))


if __name__ == "__main__":
    main()
