"""The documentation says what rollgen does: its command reference is the CLI's own help, every
rollgen document in it validates, its links lead somewhere, and the release it names exists."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, run_cli
from docs_reading import DOCS, FENCE, PAGES, blocks, load_docs_script, precommit_snippet
from generator.views.routecases import load_cases

gen_commands = load_docs_script("gen_commands")


YAML_BLOCKS = blocks("yaml")


def _is_rollgen_document(document) -> bool:
    return isinstance(document, dict) and str(document.get("apiVersion", "")).startswith("rollgen") \
        and document.get("kind") != "RouteTests"


ROLLGEN_DOCUMENTS = [b for b in YAML_BLOCKS if _is_rollgen_document(yaml.safe_load(b[2]))]
ROUTE_CASE_FILES = [b for b in YAML_BLOCKS if (yaml.safe_load(b[2]) or {}).get("kind") == "RouteTests"]


def test_the_command_reference_is_what_the_cli_prints():
    assert (DOCS / "commands.md").read_text() == gen_commands.render(), \
        "docs/commands.md differs from the CLI's help: run python docs/gen_commands.py"


def test_the_command_reference_covers_every_command_and_option():
    from click import Context

    group = gen_commands.cli_command()
    page = (DOCS / "commands.md").read_text()
    ctx = Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert f"## `rollgen {name}`" in page
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("-"):
                    assert opt in page, f"rollgen {name} {opt}"


def test_the_command_reference_picks_up_a_new_command_without_edits(monkeypatch):
    import click

    group = gen_commands.cli_command()

    @click.command("route")
    @click.option("--to", help="Where requests go.")
    def route(to):
        """Route requests somewhere."""

    monkeypatch.setitem(group.commands, "route", route)
    text = gen_commands.render()
    assert "## `rollgen route`" in text and "--to TEXT" in text and "Where requests go." in text
    assert "- [`rollgen route`](#rollgen-route)" in text


def test_the_docs_show_rollgen_documents():
    """The collection below is not empty by accident: the spec, Flagger and Platform examples are in it."""
    kinds = {yaml.safe_load(text)["kind"] for _, _, text in ROLLGEN_DOCUMENTS}
    assert kinds == {"Rollout", "Platform"} and len(ROLLGEN_DOCUMENTS) >= 4


@pytest.mark.parametrize("page,number,text", YAML_BLOCKS, ids=[f"{p}#{n}" for p, n, _ in YAML_BLOCKS])
def test_every_yaml_block_in_the_docs_is_yaml(page, number, text):
    yaml.safe_load(text)


@pytest.mark.parametrize("page,number,text", ROLLGEN_DOCUMENTS, ids=[f"{p}#{n}" for p, n, _ in ROLLGEN_DOCUMENTS])
def test_every_rollgen_document_in_the_docs_validates(page, number, text, tmp_path: Path):
    spec = tmp_path / "specs" / f"{Path(page).stem}-{number}.yaml"
    spec.parent.mkdir()
    spec.write_text(text)
    result = run_cli("validate", str(spec), cwd=tmp_path)
    assert result.exit_code == 0, f"{page}, yaml block {number}:\n{result.output}"


def test_the_docs_show_a_routing_case_file():
    assert ROUTE_CASE_FILES


@pytest.mark.parametrize("page,number,text", ROUTE_CASE_FILES, ids=[f"{p}#{n}" for p, n, _ in ROUTE_CASE_FILES])
def test_every_routing_case_file_in_the_docs_loads(page, number, text):
    assert load_cases(text.encode(), f"{page}#{number}").cases


LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("page", [ROOT / "README.md", ROOT / "CHANGELOG.md"], ids=lambda p: p.name)
def test_relative_links_outside_the_site_lead_to_files_and_headings(page: Path):
    """The site's own links are checked by `mkdocs build --strict`; the README and the changelog are
    read on the repository's page, so their links are checked here."""
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path) if path else page
        assert file.is_file(), f"{page.name}: {target}: no such file"
        if anchor:
            headings = re.findall(r"^#+ (.+)$", file.read_text(), re.MULTILINE)
            assert anchor in {_slug(h) for h in headings}, f"{page.name}: {target}: no such heading"


def _slug(heading: str) -> str:
    """The id of a heading, as GitHub and MkDocs' toc extension make it for these headings."""
    text = re.sub(r"[^\w\- ]", "", heading.lower()).strip()
    return re.sub(r"[\s]+", "-", text)


def test_the_readme_starts_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    first_block = FENCE.search(readme)
    assert first_block.group(1) == "sh"
    commands = [line.split("#")[0].strip() for line in first_block.group(2).splitlines()]
    assert commands == ["pip install . && rollgen generate", "pip install '.[test]' && pytest"]


def test_the_readme_keeps_its_how_it_works_section_and_the_way_to_the_reference_differences():
    readme = (ROOT / "README.md").read_text()
    assert "\n## How it works\n" in readme
    assert "\n## Where the reference document is outdated\n" in readme
    assert "(docs/upstream-differences.md)" in readme


def pyproject_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def test_the_precommit_snippet_names_this_release():
    (repo,) = precommit_snippet()["repos"]
    assert repo["rev"] == "v" + pyproject_version()


def test_the_changelog_has_a_section_for_this_release():
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(rf"^## \[{re.escape(pyproject_version())}\]", changelog, re.MULTILINE)


def test_the_cli_reports_the_released_version():
    result = run_cli("--version")
    assert result.output.strip() == f"rollgen, version {pyproject_version()}"


def test_install_commands_in_the_docs_name_this_release():
    versions = set()
    for page in PAGES_WITH_INSTALLS:
        text = page.read_text()
        versions |= set(re.findall(r"@v(\d+\.\d+\.\d+)", text)) | set(re.findall(r"rollgen-(\d+\.\d+\.\d+)-", text))
    assert versions == {pyproject_version()}


PAGES_WITH_INSTALLS = [DOCS / "getting-started.md"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_fenced_block_is_closed(page: Path):
    fences = [line for line in page.read_text().splitlines() if line.startswith("```")]
    assert len(fences) % 2 == 0 and all(line == "```" for line in fences[1::2]), page.name
