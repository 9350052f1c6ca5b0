"""Moving a rollout: `promote` and `rollback` edit the spec in place (GitOps: the spec is the state).

The spec is edited with a round-trip YAML parser so comments, key order, quoting and flow style
survive; the edited text is checked like any spec before anything is written.
"""

from __future__ import annotations

import difflib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from generator.spec.kinds import engine_of
from generator.diagnostics import Diagnostic, InvalidInput, format_path
from generator.spec.facts import after_cutover
from generator.spec.load import LoadedSpec, parse_spec, read_spec, require_rollout
from generator.spec.rules import check_document
from generator.spec.scaffold import BLUE_GREEN_COMMENTS

# Indentation styles tried when re-emitting a spec (mapping, sequence, offset); the one that
# reproduces the unedited file best is used, so an edit changes only the lines it means to.
_INDENTS = ((2, 4, 2), (2, 2, 0), (4, 6, 4), (4, 4, 0), (4, 4, 2), (2, 3, 1))


@dataclass(frozen=True)
class Edit:
    """A spec before and after one move, with a one-line account of it."""
    source: str
    old_text: str
    new_text: str
    summary: str

    @property
    def changed(self) -> bool:
        return self.old_text != self.new_text

    def diff(self) -> str:
        lines = difflib.unified_diff(self.old_text.splitlines(keepends=True), self.new_text.splitlines(keepends=True),
                                     f"a/{self.source}", f"b/{self.source}", n=1)
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


class _Document:
    """A spec loaded for a round-trip edit."""
    def __init__(self, text: str):
        from ruamel.yaml import YAML

        self.crlf = "\r\n" in text
        text = text.replace("\r\n", "\n")  # edited as LF, written back with the file's own line ends
        best = None
        for indent in _INDENTS:
            yaml = YAML()
            yaml.preserve_quotes = True
            yaml.width = 4096
            yaml.brace_single_entry_mapping_in_flow_sequence = True  # `[{name: v1}]`, not `[name: v1]`
            yaml.indent(mapping=indent[0], sequence=indent[1], offset=indent[2])
            data = yaml.load(text)
            out = self._dump(yaml, data)
            cost = sum(1 for line in difflib.ndiff(text.splitlines(), out.splitlines()) if line[:1] in "+-")
            if best is None or cost < best[0]:
                best = (cost, yaml)
            if cost == 0:
                break
        self.yaml = best[1]
        self.text = text
        self.base = self._dump(self.yaml, self.yaml.load(text))  # the unedited spec as the dumper writes it
        self.data = self.yaml.load(text)

    @staticmethod
    def _dump(yaml, data) -> str:
        out = io.StringIO()
        yaml.dump(data, out)
        return out.getvalue()

    def dump(self) -> str:
        """The edited spec: the edit applied to the original text, so that lines the round-trip
        dumper would reformat (`---`, `[{name: a}]`, aligned values, `~`) stay as written unless
        the edit itself touches them."""
        edited = self._dump(self.yaml, self.data)
        out = _merge(self.text, self.base, edited)
        if out != edited and not _same_data(out, edited):
            out = edited  # the merge must say exactly what the edit says; else the dumper's text is used
        return out.replace("\n", "\r\n") if self.crlf else out


def _changes(old: list[str], new: list[str]) -> list[tuple[int, int, list[str]]]:
    """The hunks turning `old` into `new`: (start, end, replacement lines) over `old`."""
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    out = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "replace" and i2 - i1 == j2 - j1:  # line for line: one hunk per line, so merges stay fine-grained
            out += [(i1 + k, i1 + k + 1, [new[j1 + k]]) for k in range(i2 - i1)]
        elif tag != "equal":
            out.append((i1, i2, new[j1:j2]))
    return out


def _same_data(one: str, other: str) -> bool:
    import yaml

    try:
        return yaml.safe_load(one) == yaml.safe_load(other)
    except yaml.YAMLError:
        return False


def _merge(original: str, base: str, edited: str) -> str:
    """A three-way merge of two changes of `base` (the dumper's copy of `original`): the dumper's
    reformatting (base → original, undone by keeping the original's lines) and the edit (base → edited).
    Where both touch the same lines the edit wins, so the edited lines are always the dumper's."""
    if original == base:
        return edited
    lines = [base.splitlines(keepends=True), original.splitlines(keepends=True), edited.splitlines(keepends=True)]
    # each hunk: (start, end, replacement, is_edit); touching hunks are merged into one region
    hunks = sorted([(a, b, r, False) for a, b, r in _changes(lines[0], lines[1])] +
                   [(a, b, r, True) for a, b, r in _changes(lines[0], lines[2])], key=lambda h: (h[0], h[1]))
    regions: list[list] = []
    for hunk in hunks:
        if regions and (hunk[0] < regions[-1][1] or hunk[0] == regions[-1][1] == hunk[1]):
            regions[-1][1] = max(regions[-1][1], hunk[1])
            regions[-1][2].append(hunk)
        else:
            regions.append([hunk[0], hunk[1], [hunk]])
    out: list[str] = []
    at = 0
    for start, end, members in regions:
        out += lines[0][at:start]
        # only reformatting: the original's lines; else the edit, over the dumper's lines of the region
        picked = [h for h in members if h[3]] or members
        cursor = start
        for a, b, replacement, _ in picked:
            out += lines[0][cursor:a] + replacement
            cursor = b
        out += lines[0][cursor:end]
        at = end
    out += lines[0][at:]
    return "".join(out)


def _like(old, new: str):
    """`new`, quoted the way `old` was (ruamel keeps quoting in str subclasses)."""
    return type(old)(new) if isinstance(old, str) and type(old) is not str else new


def _refuse(spec: LoadedSpec, path: tuple, message: str, hint: str = "", key: bool = False) -> InvalidInput:

    line, col = spec.located.position(path, key=key)
    return InvalidInput([Diagnostic(spec.source, line, col, format_path(path), message, hint)])


def _put(mapping, key: str, value, after: str) -> None:
    """Set `key`; a new key goes next to `after` rather than at the end, where the round-trip dumper
    would write it below the comments that follow the mapping's last entry."""
    if key in mapping or after not in mapping or mapping.fa.flow_style():
        mapping[key] = value
        return
    keys = list(mapping)
    at = keys.index(after)
    # after the neighbour, unless the neighbour is last (its trailing comments would come first)
    mapping.insert(at + 1 if at + 1 < len(keys) else at, key, value)


def _drop_version(doc: _Document, name: str) -> None:
    versions = doc.data["spec"]["versions"]
    for i, item in enumerate(versions):
        if item.get("name") == name:
            del versions[i]
            return


def _finalize_to(spec: LoadedSpec, doc: _Document, block: str, keep: str, drop: str) -> str:
    """Steady state on `keep`: the strategy block and the `drop` version go; routes keep working."""
    rollout = spec.document.spec
    for i, route in enumerate(rollout.routes or ()):
        if route.version == drop:
            raise _refuse(spec, ("spec", "routes", i, "version"),
                          f"this route sends requests to {drop!r}, which finalizing removes",
                          f"point it at {keep!r} or remove the route first")
    data = doc.data["spec"]
    del data[block]
    _drop_version(doc, drop)
    if rollout.routes and "default" not in data:
        _put(data, "default", keep, after="routes")
    return f"finalized: steady state on {keep!r}; {drop!r} and the {block} block are removed"


def _promote_canary(spec: LoadedSpec, doc: _Document, finalize: bool) -> str:
    canary = spec.document.spec.canary
    last = len(canary.steps)
    path = ("spec", "canary", "position")
    if finalize:
        if canary.position < last:
            raise _refuse(spec, path, f"the canary is at position {canary.position} of {last}; finalize only "
                          "after the last step", f"promote {last - canary.position} more time(s) first")
        return _finalize_to(spec, doc, "canary", canary.canary, canary.stable)
    if canary.position >= last:
        raise _refuse(spec, path, f"the canary is fully shifted (position {last} of {last}); there is no next step",
                      f"run `rollgen promote {spec.source} --finalize` for steady state on {canary.canary!r}")
    new = canary.position + 1
    _put(doc.data["spec"]["canary"], "position", new, after="steps")
    share = canary.steps[new - 1]
    stop = "; the shadow copies stop (the canary now answers users)" if canary.shadow is not None and new == 1 else ""
    return f"canary position {canary.position} → {new}: {canary.canary!r} takes {share}% of traffic{stop}"


def _swap_blue_green(spec: LoadedSpec, doc: _Document, verb: str) -> str:
    bg = spec.document.spec.blueGreen
    if bg.preview is None:
        raise _refuse(spec, ("spec", "blueGreen"), f"nothing to {verb}: the blue/green has no `preview` version",
                      "add `preview: <version>` (the version to switch to)", key=True)
    node = doc.data["spec"]["blueGreen"]
    node["active"], node["preview"] = _like(node["active"], bg.preview), _like(node["preview"], bg.active)
    note = ""
    if "test" in node:
        # The test match reached the version that is live now; kept, it would send testers to the old one.
        del node["test"]
        note = "; the test match is removed (it reached the version now live)"
    stands = BLUE_GREEN_COMMENTS["cut over" if verb == "promote" else "rolled back"]
    _recomment(doc.data["spec"], "blueGreen", stands["blueGreen"])
    _recomment(node, "preview", stands["preview"])
    what = "cutover" if verb == "promote" else "rollback"
    return f"blue/green {what}: active {bg.active!r} → {bg.preview!r}; {bg.active!r} keeps running as preview{note}"


def _recomment(mapping, key: str, text: str) -> None:
    """Replace the comment after `key` by `text` when it is one `rollgen init` wrote for a blue/green
    (a comment the user wrote is theirs: it stays as it is)."""
    token = (mapping.ca.items.get(key) or [None, None, None])[2]
    if token is None:
        return
    first, newline, rest = token.value.partition("\n")
    written = {f"# {stands[key]}" for stands in BLUE_GREEN_COMMENTS.values()}
    if first.rstrip() in written:
        token.value = f"# {text}{newline}{rest}"


def _no_moves(spec: LoadedSpec, verb: str) -> InvalidInput:
    rollout = spec.document.spec
    if rollout.abTest is not None:
        return _refuse(spec, ("spec", "abTest"), f"an A/B test has no order of steps to {verb}",
                       "change the variants' weights, or end the test with a canary or blue/green to the winner",
                       key=True)
    return _refuse(spec, ("spec",), f"nothing to {verb}: the spec has no `canary` or `blueGreen` block",
                   "promote and rollback move a canary or a blue/green", key=True)


def refuse_unmovable(spec: LoadedSpec, verb: str) -> None:
    """Platform specs have nothing to move, and Flagger moves its rollouts itself."""
    require_rollout(spec, verb.replace(" ", ""))

    if engine_of(spec.document) == "flagger":
        name, ns = spec.document.metadata.name, spec.document.metadata.namespace
        if verb == "promote":
            raise _refuse(spec, ("spec", "delivery"), "with `delivery: flagger`, Flagger promotes by itself when "
                          "the analysis passes", "release by changing `workload.image`; to approve each promotion "
                          "by hand, add a `confirm-promotion` webhook", key=True)
        raise _refuse(spec, ("spec", "delivery"), "with `delivery: flagger`, Flagger rolls back by itself when "
                      "the checks fail", f"to undo a release, revert the `workload.image` change and commit; to abort "
                      f"a running analysis, add a `rollback` webhook and open it from inside the cluster: curl -d "
                      f"'{{\"name\": \"{name}\", \"namespace\": \"{ns}\"}}' http://flagger-loadtester.{ns}/rollback/open",
                      key=True)


def _argo_promote(spec: LoadedSpec, doc: _Document, finalize: bool) -> str:
    """The controller promotes; Git records the result: `--finalize` is steady state on the version the
    Rollout runs (the canary, or the blue/green preview), which leaves its pod template unchanged."""
    rollout, meta = spec.document.spec, spec.document.metadata
    if not finalize:
        raise _refuse(spec, ("spec", "delivery"), "with `delivery: argo-rollouts`, the Argo Rollouts controller moves "
                      "the steps and switches blue/green services: no field of the spec says where it is",
                      f"run `kubectl argo rollouts promote {meta.name} -n {meta.namespace}` (`--full` skips the "
                      f"remaining steps); once the rollout is Healthy, `rollgen promote {spec.source} --finalize` "
                      "records the steady state in Git", key=True)
    if rollout.canary is not None:
        return _finalize_to(spec, doc, "canary", rollout.canary.canary, rollout.canary.stable)
    bg = rollout.blueGreen
    if bg is not None and bg.preview is not None:
        return _finalize_to(spec, doc, "blueGreen", bg.preview, bg.active)
    if bg is not None:
        raise _refuse(spec, ("spec", "blueGreen"), "nothing to finalize: there is no `preview` version", key=True)
    raise _no_moves(spec, "promote")


def _argo_rollback(spec: LoadedSpec, doc: _Document) -> str:
    """The durable rollback in Git: steady state on the version the controller returns to. The Rollout's
    template becomes the stable ReplicaSet's, which the controller restores without stepping."""
    rollout, meta = spec.document.spec, spec.document.metadata
    if rollout.canary is not None:
        keep, drop, block = rollout.canary.stable, rollout.canary.canary, "canary"
    elif rollout.blueGreen is not None and rollout.blueGreen.preview is not None:
        keep, drop, block = rollout.blueGreen.active, rollout.blueGreen.preview, "blueGreen"
    elif rollout.blueGreen is not None:
        raise _refuse(spec, ("spec", "blueGreen"), "nothing to roll back: there is no `preview` version",
                      "a blue/green without preview runs one version", key=True)
    else:
        raise _no_moves(spec, "roll back")
    _finalize_to(spec, doc, block, keep, drop)
    return (f"rolled back: the Rollout runs {keep!r} again; {drop!r} and the {block} block are removed "
            f"(to stop the live rollout at once, first `kubectl argo rollouts abort {meta.name} -n {meta.namespace}`)")


def promote(spec: LoadedSpec, text: str, finalize: bool = False) -> Edit:
    """canary: position + 1 (or, at the end with `finalize`, steady state on the canary);
    blueGreen: swap active and preview (or, with `finalize`, steady state on active).
    With Argo Rollouts only `finalize` edits: steady state on the version the Rollout runs."""
    refuse_unmovable(spec, "promote")
    doc = _Document(text)
    rollout = spec.document.spec
    if engine_of(spec.document) == "argo-rollouts":
        summary = _argo_promote(spec, doc, finalize)
    elif rollout.canary is not None:
        summary = _promote_canary(spec, doc, finalize)
    elif rollout.blueGreen is not None:
        bg = rollout.blueGreen
        if finalize:
            if bg.preview is None:
                raise _refuse(spec, ("spec", "blueGreen"), "nothing to finalize: there is no `preview` version",
                              key=True)
            summary = _finalize_to(spec, doc, "blueGreen", bg.active, bg.preview)
        else:
            summary = _swap_blue_green(spec, doc, "promote")
    else:
        raise _no_moves(spec, "promote")
    return _checked(spec, text, doc.dump(), summary)


def rollback(spec: LoadedSpec, text: str) -> Edit:
    """canary: position 0 (everything on stable); blueGreen: back to the version kept as preview.
    With Argo Rollouts: steady state on the stable (blue/green: active) version."""
    refuse_unmovable(spec, "roll back")
    rollout = spec.document.spec
    doc = _Document(text)
    if engine_of(spec.document) == "argo-rollouts":
        summary = _argo_rollback(spec, doc)
        return _checked(spec, text, doc.dump(), summary)
    if rollout.canary is not None:
        canary = rollout.canary
        if canary.position == 0:
            return Edit(spec.source, text, text, f"the canary is already at position 0: all traffic on {canary.stable!r}")
        _put(doc.data["spec"]["canary"], "position", 0, after="steps")
        summary = f"canary position {canary.position} → 0: all traffic back on {canary.stable!r}"
        if canary.shadow is not None:
            summary += f"; {canary.shadow.percent:g}% of requests are mirrored to {canary.canary!r} again"
    elif rollout.blueGreen is not None:
        bg = rollout.blueGreen

        if bg.preview is not None and not after_cutover(bg):
            # `promote` removes the test match, so with one the preview has never been live.
            raise _refuse(spec, ("spec", "blueGreen", "test"),
                          f"{bg.preview!r} is still being tested and has not been live: there is no previous "
                          f"version to roll back to ({bg.active!r} serves production)",
                          "to stop testing, remove `test`; after `rollgen promote` the old version is kept as "
                          "preview and rollback switches back to it", key=True)
        summary = _swap_blue_green(spec, doc, "roll back")
    else:
        raise _no_moves(spec, "roll back")
    return _checked(spec, text, doc.dump(), summary)


def _checked(spec: LoadedSpec, old: str, new: str, summary: str) -> Edit:
    """The edited spec must be valid before it replaces the old one."""
    try:
        parse_spec(new.encode(), spec.source)
    except InvalidInput as exc:
        raise InvalidInput([Diagnostic(d.file, d.line, d.column, d.path, f"after the edit: {d.message}", d.hint,
                                       d.severity) for d in exc.diagnostics]) from None
    return Edit(spec.source, old, new, summary)


def load_for_edit(path: Path, cwd: Path, rules=check_document) -> tuple[LoadedSpec, str]:
    """A valid spec and its text (an invalid spec is reported, never edited); `rules` as read_spec's."""
    spec = read_spec(path, cwd, rules)
    return spec, path.read_bytes().decode("utf-8-sig")


def write_spec(path: Path, text: str) -> None:
    """Replace the spec atomically, keeping its permissions. A spec that is a symbolic link is
    edited where the link points (replacing the link would leave the real spec unchanged)."""
    path = Path(os.path.realpath(path))
    mode = path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
