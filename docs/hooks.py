"""MkDocs hook: a line `--8<-- "PATH"` is replaced by the text of PATH (relative to the repository root).

The docs include files instead of copying them, so that an included example is the file the tests
compile and a measured table is the one the benchmark wrote. The tests expand pages the same way
(`expand_includes`) before they read examples out of them.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INCLUDE = re.compile(r'^--8<-- "([^"]+)"$', re.MULTILINE)


def expand_includes(markdown: str, root: Path = ROOT) -> str:
    def include(match: re.Match) -> str:
        path = (root / match.group(1)).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            raise ValueError(f"--8<-- {match.group(1)!r}: no such file in the repository")
        return path.read_text().rstrip("\n")

    return INCLUDE.sub(include, markdown)


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 - MkDocs' hook signature
    return expand_includes(markdown)
