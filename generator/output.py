"""The output directory: what rollgen owns there, and atomic, ownership-safe writes.

rollgen keeps a record, `<out>/.rollgen-state` (JSON, deliberately without a .json/.yaml suffix so
`kubectl apply -R`, Flux and other manifest readers skip it), of every file it wrote, per spec, with
content hashes. It only ever replaces or removes files in that record; anything else in the output
directory is left alone, and a generated file that would land on a foreign file is an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .diagnostics import Diagnostic

STATE_FILE = ".rollgen-state"
STATE_FORMAT = 1
DEFAULT_OUTPUT_FORMAT = "manifests"


def sha(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


@dataclass
class SpecRecord:
    digest: str  # sha256 of the spec file's bytes when it was compiled
    files: dict[str, str]  # relative path -> sha256 of the text written


@dataclass
class State:
    generator: str = ""
    specs: dict[str, SpecRecord] = field(default_factory=dict)
    # What kind of output the files are (`manifests`, `helm:<chart>`): with the generator id, the spec
    # bytes and the spec's display path (the key of `specs`), everything a spec's files depend on.
    output_format: str = DEFAULT_OUTPUT_FORMAT

    def owned(self) -> dict[str, str]:
        return {path: digest for rec in self.specs.values() for path, digest in rec.files.items()}

    def to_text(self) -> str:
        doc = {
            "format": STATE_FORMAT,
            "note": "Written by rollgen: the files it generated here, per spec. Do not edit.",
            "generator": self.generator,
            "output_format": self.output_format,
            "specs": {src: {"digest": rec.digest, "files": dict(sorted(rec.files.items()))}
                      for src, rec in sorted(self.specs.items())},
        }
        return json.dumps(doc, indent=1, sort_keys=False) + "\n"


def read_state(outdir: Path) -> State:
    path = outdir / STATE_FILE
    try:
        doc = json.loads(path.read_text("utf-8"))
        if doc.get("format") != STATE_FORMAT:
            return State()
        return State(doc.get("generator", ""),
                     {src: SpecRecord(rec["digest"], dict(rec["files"])) for src, rec in doc.get("specs", {}).items()},
                     str(doc.get("output_format", DEFAULT_OUTPUT_FORMAT)))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return State()


def _inside(outdir: Path, rel: str) -> Path:
    target = (outdir / rel)
    resolved_root = outdir.resolve()
    if ".." in Path(rel).parts or Path(rel).is_absolute():
        raise ValueError(f"refusing to write outside the output directory: {rel}")
    if not str(target.resolve()).startswith(str(resolved_root) + os.sep):
        raise ValueError(f"refusing to write outside the output directory: {rel}")
    return target


def _stage(path: Path, text: str) -> str:
    """Write `text` to a temporary file beside `path`; the caller renames it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".rollgen-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    except BaseException:
        _unlink(tmp)
        raise
    return tmp


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _atomic_write(path: Path, text: str) -> None:
    os.replace(_stage(path, text), path)


@dataclass
class Change:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def plan_changes(outdir: Path, state: State, new: dict[str, dict[str, str]], dropped: set[str]
                 ) -> tuple[dict[str, str], list[str], list[Diagnostic]]:
    """What a write would do: (files to write, owned files to remove, conflicts).

    `new` maps a spec source to {relative path: text}; `dropped` are recorded specs that no longer exist.
    """
    problems: list[Diagnostic] = []
    claimed: dict[str, str] = {}
    for source in sorted(new):
        for rel in sorted(new[source]):
            if rel in claimed:
                problems.append(Diagnostic(source, 0, 0, "", f"generates {rel}, which {claimed[rel]} generates too",
                                           "two specs have the same metadata.name and namespace"))
            claimed[rel] = source
    owned = state.owned()
    # Files recorded for specs compiled now are re-owned by them; files other specs own stay theirs.
    others = {p: s for s, rec in state.specs.items() if s not in new and s not in dropped for p in rec.files}
    to_write: dict[str, str] = {}
    for rel, source in sorted(claimed.items()):
        if rel in others:
            problems.append(Diagnostic(source, 0, 0, "", f"generates {rel}, which {others[rel]} generated",
                                       "two specs have the same metadata.name and namespace"))
            continue
        target = _inside(outdir, rel)
        text = new[source][rel]
        if target.is_symlink() or (target.exists() and rel not in owned):
            problems.append(Diagnostic(source, 0, 0, "", f"{outdir.as_posix()}/{rel} exists and was not generated by rollgen",
                                       "rollgen never overwrites a file it did not write; move that file away"))
            continue
        to_write[rel] = text
    stale = sorted({p for s, rec in state.specs.items() if s in new or s in dropped for p in rec.files} - set(claimed))
    return to_write, stale, problems


def final_state(state: State, generator: str, new: dict[str, dict[str, str]], digests: dict[str, str],
                dropped: set[str], output_format: str = DEFAULT_OUTPUT_FORMAT) -> State:
    """The record a write leaves behind: specs compiled now replace theirs, dropped ones go."""
    final = State(generator, {s: r for s, r in state.specs.items() if s not in dropped}, output_format)
    for source, files in new.items():
        final.specs[source] = SpecRecord(digests[source], {rel: sha(text) for rel, text in files.items()})
    return final


def apply_changes(outdir: Path, state: State, generator: str, new: dict[str, dict[str, str]],
                  digests: dict[str, str], dropped: set[str], to_write: dict[str, str], stale: list[str],
                  output_format: str = DEFAULT_OUTPUT_FORMAT) -> Change:
    """Write files atomically and keep the record right at every moment.

    Every new file is staged beside its target first; a failure there (disk full, permissions)
    removes the staged files and leaves the previous output and record untouched. Then the record is
    widened to cover old and new files (an interrupted run never leaves a file rollgen wrote looking
    foreign), staged files are renamed into place, stale ones removed, and the final record written.
    """
    change = Change()
    outdir.mkdir(parents=True, exist_ok=True)
    # Stage every file first: if anything fails here (disk full, permissions), nothing was replaced.
    staged: list[tuple[str, Path]] = []
    try:
        for rel, text in sorted(to_write.items()):
            target = _inside(outdir, rel)
            try:
                if target.read_bytes() == text.encode("utf-8"):
                    change.unchanged.append(rel)
                    continue
            except OSError:
                pass
            staged.append((_stage(target, text), target))
            change.written.append(rel)
    except BaseException:
        for tmp, _ in staged:
            _unlink(tmp)
        raise
    widened = State(generator, dict(state.specs), output_format)
    for source, files in new.items():
        prev = widened.specs.get(source)
        union = dict(prev.files) if prev else {}
        union.update({rel: sha(text) for rel, text in files.items()})
        widened.specs[source] = SpecRecord("", union)
    try:
        _atomic_write(outdir / STATE_FILE, widened.to_text())
    except BaseException:
        for tmp, _ in staged:
            _unlink(tmp)
        raise

    for tmp, target in staged:
        os.replace(tmp, target)
    for rel in stale:
        target = _inside(outdir, rel)
        try:
            target.unlink()
            change.removed.append(rel)
        except FileNotFoundError:
            pass
        _prune_empty(outdir, target.parent)

    final = final_state(state, generator, new, digests, dropped, output_format)
    _atomic_write(outdir / STATE_FILE, final.to_text())
    return change


def _prune_empty(outdir: Path, directory: Path) -> None:
    root = outdir.resolve()
    d = directory.resolve()
    while d != root and root in d.parents:
        try:
            d.rmdir()
        except OSError:
            return
        d = d.parent
