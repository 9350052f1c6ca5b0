"""Reading the documentation as the site shows it: pages with their included files expanded, and the
fenced blocks in them (the examples the tests run)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import yaml

from conftest import ROOT

DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def load_docs_script(name: str):
    """docs/NAME.py (the MkDocs hook, the command reference generator) as a module."""
    spec = importlib.util.spec_from_file_location(f"docs_{name}", DOCS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hooks = load_docs_script("hooks")


def page_text(page: Path) -> str:
    """The page as the site shows it: included files expanded."""
    return hooks.expand_includes(page.read_text())


def blocks(language: str) -> list[tuple[str, int, str]]:
    """Every fenced block of a language: (page, number on the page, text)."""
    found = []
    for page in PAGES:
        numbered = [m for m in FENCE.finditer(page_text(page)) if m.group(1) == language]
        found += [(page.relative_to(ROOT).as_posix(), i, m.group(2)) for i, m in enumerate(numbered, 1)]
    return found


def precommit_snippet() -> dict:
    """The .pre-commit-config.yaml the docs tell users to add (the one YAML block naming rollgen's hook
    with a `rev`)."""
    found = [yaml.safe_load(text) for _, _, text in blocks("yaml") if "rollgen-check" in text and "rev:" in text]
    assert len(found) == 1, f"the docs show one pre-commit snippet, found {len(found)}"
    return found[0]
