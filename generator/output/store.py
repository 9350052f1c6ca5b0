"""The output directory: what rollgen owns there, and atomic, ownership-safe writes.

rollgen keeps a record, `<out>/.rollgen-state` (JSON, deliberately without a .json/.yaml suffix so
`kubectl apply -R`, Flux and other manifest readers skip it), of every file it wrote, per spec, with
content hashes. It only ever replaces or removes files in that record; anything else in the output
directory is left alone, and a generated file that would land on a foreign file is an error.

The record is committed with the output, so it holds only what the bytes of the output depend on
(spec bytes, file hashes, the output format) and changes only when they do. Which compiler verified
which record entries is local knowledge, kept in `<out>/.rollgen-cache/`, a directory that tells git
to ignore it: a clean clone has no cache, so nothing there is trusted until this rollgen has compiled it.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
import stat
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from generator.diagnostics import Diagnostic, InvalidInput

STATE_FILE = ".rollgen-state"
LOCK_FILE = ".rollgen-lock"  # exists only while a run holds it
STATE_FORMAT = 1
DEFAULT_OUTPUT_FORMAT = "manifests"
CACHE_DIR = ".rollgen-cache"
VERIFIED_FILE = f"{CACHE_DIR}/verified"  # no .json suffix: manifest readers skip it
CACHE_IGNORE = (f"# Written by rollgen: {CACHE_DIR}/ is what this machine's rollgen has verified in this\n"
                "# output directory, never committed (a clean clone trusts nothing until it has compiled).\n*\n")


def sha(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


@dataclass
class SpecRecord:
    digest: str  # sha256 of the spec file's bytes when it was compiled
    files: dict[str, str]  # relative path -> sha256 of the text written


def entry_digest(rec: SpecRecord) -> str:
    """One record entry (spec bytes and file hashes) as a digest: what the cache vouches for."""
    return sha(json.dumps([rec.digest, sorted(rec.files.items())]))


@dataclass
class State:
    specs: dict[str, SpecRecord] = field(default_factory=dict)
    # What kind of output the files are (`manifests`, `helm:<chart>`): with the spec bytes, the spec's
    # display path (the key of `specs`) and the compiler (see Verified), everything a spec's files depend on.
    output_format: str = DEFAULT_OUTPUT_FORMAT

    def owned(self) -> dict[str, str]:
        return {path: digest for rec in self.specs.values() for path, digest in rec.files.items()}

    def to_text(self) -> str:
        doc = {
            "format": STATE_FORMAT,
            "note": "Written by rollgen: the files it generated here, per spec. Do not edit.",
            "output_format": self.output_format,
            "specs": {src: {"digest": rec.digest, "files": dict(sorted(rec.files.items()))}
                      for src, rec in sorted(self.specs.items())},
        }
        return json.dumps(doc, indent=1, sort_keys=False) + "\n"


def read_regular(path: Path) -> bytes | None:
    """The bytes of a regular file, or None when there is none: missing, a directory, a link, or a
    FIFO or device someone put there (reading those could block or never end)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(os.dup(fd), "rb") as fh:
            return fh.read()
    except OSError:
        return None
    finally:
        os.close(fd)


def read_state(outdir: Path) -> State:
    path = outdir / STATE_FILE
    try:
        raw = read_regular(path)
        if raw is None:
            return State()
        doc = json.loads(raw.decode("utf-8"))
        if doc.get("format") != STATE_FORMAT:
            return State()
        # A "generator" key (older rollgen named its compiler here) is ignored: see Verified.
        return State({src: SpecRecord(rec["digest"], dict(rec["files"])) for src, rec in doc.get("specs", {}).items()},
                     str(doc.get("output_format", DEFAULT_OUTPUT_FORMAT)))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return State()


@dataclass
class Verified:
    """The cache: record entries that the compiler `generator` (rollgen's code and every dependency that
    shapes the bytes) has itself compiled, by source, as `entry_digest`s. An entry is trusted without
    compiling only when it is vouched for here by the compiler running now."""

    generator: str = ""
    output_format: str = ""
    specs: dict[str, str] = field(default_factory=dict)

    def to_text(self) -> str:
        return json.dumps({"format": STATE_FORMAT, "generator": self.generator, "output_format": self.output_format,
                           "specs": dict(sorted(self.specs.items()))}, indent=1) + "\n"


def read_verified(outdir: Path) -> Verified:
    if (outdir / CACHE_DIR).is_symlink():  # never trusted through a link, as nothing is written through one
        return Verified()
    raw = read_regular(outdir / VERIFIED_FILE)
    if raw is None:
        return Verified()
    try:
        doc = json.loads(raw.decode("utf-8"))
        if doc.get("format") != STATE_FORMAT:
            return Verified()
        return Verified(str(doc["generator"]), str(doc["output_format"]),
                        {str(src): str(d) for src, d in doc["specs"].items()})
    except (ValueError, KeyError, TypeError, AttributeError):
        return Verified()


def write_verified(outdir: Path, verified: Verified) -> None:
    """Replace the cache. A cache that cannot be written (a link planted there, a full disk) costs the
    next run a recompile, nothing else: it is not an error."""
    try:
        ignore = _inside(outdir, f"{CACHE_DIR}/.gitignore")
        if read_regular(ignore) != CACHE_IGNORE.encode():
            _atomic_write(ignore, CACHE_IGNORE)
        _atomic_write(_inside(outdir, VERIFIED_FILE), verified.to_text())
    except (OSError, UnsafePath):
        pass


class UnsafePath(Exception):
    """A path in the output directory that rollgen refuses to write or remove."""

    def __init__(self, rel: str, message: str, hint: str = ""):
        super().__init__(f"{rel}: {message}")
        self.rel, self.message, self.hint = rel, message, hint


def _inside(outdir: Path, rel: str, seen: dict[str, int] | None = None) -> Path:
    """`outdir/rel`, refusing anything that could lead outside the output directory: absolute paths,
    `..`, and symbolic links below the root. The root itself may be a link (it is where the user
    pointed `-o`); links inside it are never followed, so nothing is written or removed through one.

    `seen` (a run's knowledge of the output directory, kept by the caller) maps each path looked at to
    its st_mode, 0 when it does not exist: a directory is looked at once however many files it holds,
    and nothing below a missing directory is looked at."""
    parts = rel.split("/")
    if not rel or rel.startswith("/") or "\\" in rel or "\0" in rel or any(part in ("", ".", "..") for part in parts):
        raise UnsafePath(rel, "is not a plain relative path inside the output directory",
                         "the state record is damaged: restore it from version control")
    seen = {} if seen is None else seen
    root = os.fspath(outdir)
    prefix, missing = "", False
    for part in parts:
        prefix = f"{prefix}/{part}" if prefix else part
        mode = seen.get(prefix)
        if mode is None:
            mode = 0 if missing else _lstat_mode(os.path.join(root, prefix))
            seen[prefix] = mode
        if stat.S_ISLNK(mode):
            raise UnsafePath(rel, f"{(outdir / prefix).as_posix()} is a symbolic link, and rollgen does not follow links "
                             "inside the output directory", "replace the link with a real directory or file, or point -o elsewhere")
        missing = mode == 0
    return outdir / rel


def _lstat_mode(path: Path | str) -> int:
    """The st_mode of `path` itself (a link is not followed), 0 when there is nothing there."""
    try:
        return os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return 0


def _new_top(rel: str, seen: dict[str, int]) -> str | None:
    """The top-most of `rel`'s directories that does not exist (as `_inside` found them), if any."""
    parts = rel.split("/")[:-1]
    for i in range(len(parts)):
        prefix = "/".join(parts[:i + 1])
        if seen.get(prefix) == 0:
            parent = "/".join(parts[:i])
            if parent and not stat.S_ISDIR(seen[parent]):
                raise NotADirectoryError(errno.ENOTDIR, "Not a directory", parent)
            return prefix
    return None


def _unsafe(outdir: Path, exc: UnsafePath, source: str = "") -> Diagnostic:
    if source:  # a file this spec generates
        return Diagnostic(source, 0, 0, "", f"cannot write {outdir.as_posix()}/{exc.rel}: {exc.message}", exc.hint)
    return Diagnostic(f"{outdir.as_posix()}/{STATE_FILE}", 0, 0, "",  # a file the record says rollgen wrote
                      f"records {exc.rel!r} as generated, which rollgen will not remove: it {exc.message}",
                      exc.hint)


def write_error(outdir: Path, what: str, exc: OSError, intact: bool = True) -> InvalidInput:
    """A failed write as a diagnostic: the user's environment (disk full, permissions), not a bug."""
    reason = exc.strerror or str(exc)
    hint = {errno.ENOSPC: "free some disk space and run generate again",
            errno.EDQUOT: "free some disk space (quota) and run generate again",
            errno.EACCES: "rollgen needs write access to the output directory",
            errno.EPERM: "rollgen needs write access to the output directory",
            errno.EROFS: "the output directory is on a read-only file system; choose another with -o",
            errno.EFBIG: "a file size limit (ulimit -f) stopped the write"}.get(exc.errno or 0, "")
    return InvalidInput([Diagnostic(f"{outdir.as_posix()}/{what}" if what else outdir.as_posix(), 0, 0, "",
                                    f"cannot write: {reason}; " + ("the previous output is unchanged" if intact else
                                    "some files were already replaced; run generate again once this is fixed"),
                                    hint)])


@contextmanager
def locked(outdir: Path, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the output directory's lock (`<out>/.rollgen-lock`, fcntl.flock) for a whole run.

    A second run on the same output waits here until the first has written everything, then reads
    the record the first one left: both succeed and neither sees the other half-done. The lock file
    is removed on release (while still locked; a waiter that then holds a lock on the removed file
    notices and locks the new one), so no stray file stays in the output directory. If the run had
    to create the output directory and leaves it empty (invalid specs), it is removed again.
    """
    created = not outdir.exists()
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(outdir, "", exc) from None
    path = outdir / LOCK_FILE
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            if created:
                _rmdir(outdir)
            raise write_error(outdir, LOCK_FILE, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait:
                on_wait(f"waiting for another rollgen run writing {outdir.as_posix()} ...")
                on_wait = None
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            current = os.stat(path, follow_symlinks=False).st_ino
        except FileNotFoundError:
            current = None
        if current == os.fstat(fd).st_ino:
            break
        os.close(fd)
    try:
        remove_leftover_staging(outdir)
        yield
    finally:
        _unlink(str(path))
        os.close(fd)
        if created:
            _rmdir(outdir)


STAGING_PREFIX, STAGING_SUFFIX = ".rollgen-", ".tmp"


def remove_leftover_staging(outdir: Path) -> list[str]:
    """Remove what a killed run left staged (`.rollgen-*.tmp` files written by `_stage`, and
    `.rollgen-*.tmp` directories made by `_NewDirectories`).

    Called while holding the lock, so no other run is staging now; links are not followed and only
    regular files and real directories are removed."""
    removed = []
    for root, dirs, files in os.walk(outdir, followlinks=False):
        for name in list(dirs):
            if name.startswith(STAGING_PREFIX) and name.endswith(STAGING_SUFFIX):
                dirs.remove(name)
                path = Path(root) / name
                if stat.S_ISDIR(_lstat_mode(path)):
                    shutil.rmtree(path, ignore_errors=True)
                    removed.append(path.relative_to(outdir).as_posix())
        for name in files:
            if name.startswith(STAGING_PREFIX) and name.endswith(STAGING_SUFFIX):
                path = Path(root) / name
                if stat.S_ISREG(_lstat_mode(path)):
                    _unlink(str(path))
                    removed.append(path.relative_to(outdir).as_posix())
    return removed


def _rmdir(directory: Path) -> None:
    try:
        directory.rmdir()
    except OSError:
        pass


# A new file, never one that exists (nor through a link), with the mode any file the user creates gets
# (0666 less the umask): what an editor or `git checkout` would leave, readable by whoever reads the repo.
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def _create(path: Path | str, text: str) -> None:
    """Write `text` to the new file `path`; on any failure, nothing is left there."""
    fd = os.open(path, _CREATE, 0o666)
    try:
        try:
            data = memoryview(text.encode("utf-8"))
            while data:
                data = data[os.write(fd, data):]
        finally:
            os.close(fd)
    except BaseException:
        _unlink(str(path))
        raise


def _stage(path: Path, text: str) -> str:
    """Write `text` to a temporary file beside `path`; the caller renames it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = str(path.parent / f"{STAGING_PREFIX}{os.urandom(6).hex()}{STAGING_SUFFIX}")
        try:
            _create(tmp, text)
        except FileExistsError:
            continue  # 48 random bits taken: draw again
        return tmp


class _NewDirectories:
    """Files of directories that do not exist yet (a new service, a new namespace, the first
    generate). Nothing there can be checked, kept or replaced, so instead of a staged file and a
    rename each, they are written into one staging directory (`<out>/.rollgen-*.tmp/`, laid out like
    the output) and each new top-most directory is renamed into place: one rename per directory."""

    def __init__(self, outdir: Path):
        self.outdir = outdir
        self.root: Path | None = None
        self.tops: set[str] = set()
        self.made: set[str] = {""}

    def stage(self, rel: str, top: str, text: str) -> None:
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(dir=self.outdir, prefix=STAGING_PREFIX, suffix=STAGING_SUFFIX))
        self.tops.add(top)
        parent = rel.rpartition("/")[0]
        if parent not in self.made:
            (self.root / parent).mkdir(parents=True, exist_ok=True)
            parts = parent.split("/")
            self.made.update("/".join(parts[:i + 1]) for i in range(len(parts)))
        _create(self.root / rel, text)

    def move_in(self) -> None:
        for top in sorted(self.tops):
            os.rename(self.root / top, self.outdir / top)
        self.discard()

    def discard(self) -> None:
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None


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
    record_written: bool = False  # the record changed (a spec's bytes or its set of files)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # no longer generated, but edited since: left in place


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
    seen: dict[str, int] = {}
    for rel, source in sorted(claimed.items()):
        if rel in others:
            problems.append(Diagnostic(source, 0, 0, "", f"generates {rel}, which {others[rel]} generated",
                                       "two specs have the same metadata.name and namespace"))
            continue
        try:
            _inside(outdir, rel, seen)
        except UnsafePath as exc:
            problems.append(_unsafe(outdir, exc, source))
            continue
        text = new[source][rel]
        mode = seen[rel]
        if mode and (rel not in owned or not stat.S_ISREG(mode)):
            problems.append(Diagnostic(source, 0, 0, "", f"{outdir.as_posix()}/{rel} exists and was not generated by rollgen",
                                       "rollgen never overwrites a file it did not write; move that file away"))
            continue
        to_write[rel] = text
    stale = sorted({p for s, rec in state.specs.items() if s in new or s in dropped for p in rec.files} - set(claimed))
    for rel in stale:
        try:
            _inside(outdir, rel)
        except UnsafePath as exc:
            problems.append(_unsafe(outdir, exc))
    return to_write, stale, problems


def final_state(state: State, new: dict[str, dict[str, str]], digests: dict[str, str],
                dropped: set[str], output_format: str = DEFAULT_OUTPUT_FORMAT) -> State:
    """The record a write leaves behind: specs compiled now replace theirs, dropped ones go."""
    final = State({s: r for s, r in state.specs.items() if s not in dropped}, output_format)
    for source, files in new.items():
        final.specs[source] = SpecRecord(digests[source], {rel: sha(text) for rel, text in files.items()})
    return final


def apply_changes(outdir: Path, state: State, new: dict[str, dict[str, str]],
                  digests: dict[str, str], dropped: set[str], to_write: dict[str, str], stale: list[str],
                  output_format: str = DEFAULT_OUTPUT_FORMAT) -> Change:
    """Write files atomically and keep the record right at every moment.

    Every new file is staged first, beside its target (or, in a directory that does not exist yet, in
    a staging tree: see _NewDirectories); a failure there (disk full, permissions) removes the staged
    files and leaves the previous output and record untouched. Then the record is
    widened to cover old and new files (an interrupted run never leaves a file rollgen wrote looking
    foreign), staged files are renamed into place, stale ones removed, and the final record written.
    A record that would not change is not rewritten, and with no file to write not widened either.
    """
    change = Change()
    # Stage every file first: if anything fails here (disk full, permissions), nothing was replaced.
    staged: list[tuple[str, Path]] = []
    fresh = _NewDirectories(outdir)
    seen: dict[str, int] = {}
    current = ""
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        for rel, text in sorted(to_write.items()):
            current = rel
            target = _inside(outdir, rel, seen)
            top = _new_top(rel, seen)
            if top is not None:
                fresh.stage(rel, top, text)
            elif seen[rel] and read_regular(target) == text.encode("utf-8"):
                change.unchanged.append(rel)
                continue
            else:
                staged.append((_stage(target, text), target))
            change.written.append(rel)
        if staged or fresh.tops:
            widened = State(dict(state.specs), output_format)
            for source, files in new.items():
                prev = widened.specs.get(source)
                union = dict(prev.files) if prev else {}
                union.update({rel: sha(text) for rel, text in files.items()})
                widened.specs[source] = SpecRecord("", union)
            current = STATE_FILE
            _atomic_write(outdir / STATE_FILE, widened.to_text())
    except BaseException as exc:
        for tmp, _ in staged:
            _unlink(tmp)
        fresh.discard()
        if isinstance(exc, OSError):
            raise write_error(outdir, current, exc) from None
        raise

    owned = state.owned()
    try:
        for tmp, target in staged:
            os.replace(tmp, target)
        fresh.move_in()
        for rel in stale:
            target = _inside(outdir, rel)
            raw = read_regular(target)
            if raw is None:
                continue  # gone already (or not a file: not rollgen's)
            if sha(raw) != owned.get(rel):
                change.kept.append(rel)  # edited since rollgen wrote it: not rollgen's to delete
                continue
            try:
                target.unlink()
                change.removed.append(rel)
            except FileNotFoundError:
                continue
            _prune_empty(outdir, target.parent)
        text = final_state(state, new, digests, dropped, output_format).to_text()
        if read_regular(outdir / STATE_FILE) != text.encode("utf-8"):
            _atomic_write(outdir / STATE_FILE, text)
            change.record_written = True
    except OSError as exc:
        raise write_error(outdir, STATE_FILE, exc, intact=False) from None
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
