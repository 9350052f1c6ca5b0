"""The project file (rollgen.toml, or [tool.rollgen] in pyproject.toml): where the specs and the output
are, what is not a spec, the output format; found from a subfolder; the command line wins over it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import SPECS, run_cli
from generator.output.sources import Excludes

STRAY_VALUES = "replicaCount: 2\nimage:\n  tag: v1\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A GitOps repository with one spec in a subfolder of deploy/specs and a Helm values file beside it."""
    specs = tmp_path / "deploy" / "specs" / "shop"
    specs.mkdir(parents=True)
    shutil.copy(SPECS / "catalog.yaml", specs / "catalog.yaml")
    (specs / "values.yml").write_text(STRAY_VALUES)
    return tmp_path


def test_a_stray_values_file_fails_the_run_with_a_hint_that_says_how_to_exclude_it(repo: Path):
    result = run_cli("generate", "deploy/specs", cwd=repo)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "deploy/specs/shop/values.yml:1:1: not a rollgen spec: it has neither apiVersion nor kind\n"
        "  hint: a spec starts with `apiVersion: rollgen/v1alpha1` and `kind:`; if this file is something else "
        "(Helm values, a Kustomize file), exclude it in rollgen.toml or [tool.rollgen] of pyproject.toml: "
        'exclude = ["deploy/specs/shop/values.yml"]\n')


def test_rollgen_toml_names_specs_output_and_excludes(repo: Path):
    (repo / "rollgen.toml").write_text('specs = ["deploy/specs"]\noutput = "deploy/output"\nexclude = ["values.yml"]\n')
    result = run_cli("generate", cwd=repo)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("deploy/output: ")
    assert (repo / "deploy/output/production/catalog/kustomization.yaml").is_file()
    assert not (repo / "output").exists()
    assert run_cli("check", cwd=repo).stderr == "deploy/output: up to date (1 spec)\n"
    assert run_cli("validate", cwd=repo).stderr == "1 spec valid\n"


def test_tool_rollgen_in_pyproject_is_read_and_a_pyproject_without_it_is_not(repo: Path):
    (repo / "pyproject.toml").write_text('[project]\nname = "infra"\n')
    assert run_cli("validate", "deploy/specs", cwd=repo).exit_code == 1  # the values file
    (repo / "pyproject.toml").write_text('[project]\nname = "infra"\n\n[tool.rollgen]\nspecs = ["deploy/specs"]\n'
                                         'exclude = ["**/values.yml"]\noutput-format = "helm"\nchart-name = "shop"\n')
    result = run_cli("generate", "-o", "charts/shop", cwd=repo)
    assert result.exit_code == 0, result.stderr
    assert (repo / "charts/shop/Chart.yaml").read_text().count("name: shop") == 1


def test_a_run_from_a_subfolder_finds_the_project_file_and_writes_the_same_record(repo: Path):
    (repo / "rollgen.toml").write_text('specs = ["deploy/specs"]\nexclude = ["values.yml"]\n')
    assert run_cli("generate", cwd=repo).exit_code == 0
    record = (repo / "output/.rollgen-state").read_text()
    assert '"deploy/specs/shop/catalog.yaml"' in record
    result = run_cli("check", cwd=repo / "deploy/specs/shop")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "../../../output: up to date (1 spec)\n"
    assert run_cli("generate", "--force", cwd=repo / "deploy").exit_code == 0
    assert (repo / "output/.rollgen-state").read_text() == record


def test_options_on_the_command_line_win_over_the_project_file(repo: Path):
    (repo / "rollgen.toml").write_text('specs = ["nowhere"]\noutput = "deploy/output"\nexclude = ["values.yml"]\n'
                                       'output-format = "helm"\n')
    result = run_cli("generate", "deploy/specs", "-o", "out", "--output-format", "manifests", cwd=repo)
    assert result.exit_code == 0, result.stderr
    assert (repo / "out/kustomization.yaml").is_file() and not (repo / "deploy/output").exists()


def test_no_specs_says_where_it_looked_and_suggests_init(tmp_path: Path):
    result = run_cli("generate", cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr == (
        "specs: no such file or directory\n"
        "rollgen generate: no spec files (*.yaml, *.yml) found in specs/ (the default; name files or directories "
        "as arguments, or in a rollgen.toml); subfolders are searched too\n"
        "  hint: `rollgen init NAME` writes a first spec to specs/NAME.yaml\n")
    (tmp_path / "rollgen.toml").write_text('specs = ["deploy/specs"]\n')
    (tmp_path / "deploy/specs").mkdir(parents=True)
    result = run_cli("check", cwd=tmp_path / "deploy")
    assert result.exit_code == 1
    assert result.stderr == (
        "rollgen check: no spec files (*.yaml, *.yml) found in specs (from ../rollgen.toml); subfolders are "
        "searched too\n"
        "  hint: `rollgen init NAME` writes a first spec to specs/NAME.yaml\n")
    assert run_cli("init", "web", cwd=tmp_path / "deploy").stderr.startswith("wrote specs/web.yaml")
    assert (tmp_path / "deploy/specs/web.yaml").is_file()


def test_init_writes_into_the_first_spec_directory_of_the_project_file(tmp_path: Path):
    (tmp_path / "rollgen.toml").write_text('specs = ["deploy/specs"]\n')
    result = run_cli("init", "web", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("wrote deploy/specs/web.yaml: ")
    assert run_cli("validate", cwd=tmp_path).stderr == "1 spec valid\n"


@pytest.mark.parametrize("text, expected", [
    ('specs = ["specs"]\noutptu = "out"\n',
     "rollgen.toml:2:1: outptu: unknown key 'outptu'\n"
     "  hint: did you mean 'output'? known keys: specs, output, exclude, output-format, chart-name\n"),
    ('output-format = "chart"\n', "rollgen.toml:1:1: output-format: must be one of manifests, helm, got 'chart'\n"),
    ('exclude = [1]\n', "rollgen.toml:1:1: exclude: must be a list of globs of files that are not specs (strings), "
                        "got [1]\n  hint: e.g. exclude = [\"values.yml\"]\n"),
    ('output-format = "helm"\nchart-name = "Fleet_1"\n',
     "rollgen.toml:2:1: chart-name: 'Fleet_1' is not a chart name\n  hint: use lowercase letters, digits and '-'\n"),
    ('specs = ["../elsewhere"]\n', "rollgen.toml:1:1: specs: '../elsewhere' is outside the project\n"
                                   "  hint: name paths relative to the directory of rollgen.toml, inside it\n"),
    ('exclude = [values.yml"]\n', "rollgen.toml:1:12: not valid TOML: invalid value\n"
                                  "  hint: see https://toml.io for the syntax\n"),
])
def test_a_bad_project_file_is_a_located_error(tmp_path: Path, text: str, expected: str):
    (tmp_path / "rollgen.toml").write_text(text)
    for command in ("generate", "check", "validate"):
        result = run_cli(command, cwd=tmp_path)
        assert result.exit_code == 1
        assert result.stderr == expected


def test_a_bad_key_in_tool_rollgen_is_located_in_its_table(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.other]\nspecs = 1\n\n[tool.rollgen]\n# where\nspecs = "specs"\n'
                                             'output = 3\n')
    result = run_cli("validate", cwd=tmp_path / ".")
    assert result.stderr == "pyproject.toml:7:1: tool.rollgen.output: must be the output directory (a string), got 3\n"


@pytest.mark.parametrize("pattern, path, excluded", [
    ("values.yml", "specs/shop/values.yml", True),
    ("values.yml", "specs/values.yaml", False),
    ("*.values.yaml", "specs/a/prod.values.yaml", True),
    ("**/values.yml", "values.yml", True),
    ("**/values.yml", "specs/a/b/values.yml", True),
    ("specs/legacy/**", "specs/legacy/old/api.yaml", True),
    ("specs/legacy", "specs/legacy/api.yaml", True),
    ("specs/*.yaml", "specs/a/api.yaml", False),
    ("specs/*.yaml", "specs/api.yaml", True),
    ("legacy", "specs/legacy/api.yaml", True),
    ("legacy", "specs/legacyish/api.yaml", False),
])
def test_exclude_patterns_match_like_gitignore_lines(tmp_path: Path, pattern: str, path: str, excluded: bool):
    assert Excludes(tmp_path, (pattern,))(tmp_path / path) is excluded


def test_a_file_named_on_the_command_line_is_read_even_when_excluded(repo: Path):
    (repo / "rollgen.toml").write_text('exclude = ["values.yml"]\n')
    result = run_cli("validate", "deploy/specs/shop/values.yml", cwd=repo)
    assert result.exit_code == 1 and "not a rollgen spec" in result.stderr


def test_the_project_file_the_docs_show_works_as_shown(tmp_path: Path):
    from docs_reading import blocks

    (example,) = [text for _, _, text in blocks("toml") if "specs =" in text]
    (tmp_path / "rollgen.toml").write_text(example)
    specs = tmp_path / "deploy/specs"
    (specs / "legacy").mkdir(parents=True)
    shutil.copy(SPECS / "catalog.yaml", specs / "catalog.yaml")
    (specs / "values.yml").write_text(STRAY_VALUES)
    (specs / "legacy" / "old.yaml").write_text("apiVersion: v1\nkind: ConfigMap\n")
    result = run_cli("generate", cwd=specs)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("../output: ")
    assert run_cli("check", cwd=tmp_path).stderr == "deploy/output: up to date (1 spec)\n"


def test_no_specs_in_an_empty_folder_is_said_once_and_a_missing_named_file_gets_no_init_hint(tmp_path: Path):
    (tmp_path / "specs").mkdir()
    result = run_cli("validate", cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr == (
        "rollgen validate: no spec files (*.yaml, *.yml) found in specs/ (the default; name files or directories "
        "as arguments, or in a rollgen.toml); subfolders are searched too\n"
        "  hint: `rollgen init NAME` writes a first spec to specs/NAME.yaml\n")
    result = run_cli("validate", "nope.yaml", cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr == "nope.yaml: no such file or directory\nrollgen validate: no spec files (*.yaml, *.yml) found in nope.yaml\n"


def test_missing_spec_paths_of_the_project_file_are_named_from_where_the_command_runs(tmp_path: Path):
    (tmp_path / "rollgen.toml").write_text('specs = ["deploy/specs"]\n')
    (tmp_path / "sub").mkdir()
    result = run_cli("generate", cwd=tmp_path / "sub")
    assert result.exit_code == 1
    assert result.stderr.startswith("../deploy/specs: no such file or directory\n"
                                    "rollgen generate: no spec files (*.yaml, *.yml) found in ../deploy/specs (from "
                                    "../rollgen.toml); subfolders are searched too\n")
    assert result.stderr.endswith("  hint: `rollgen init NAME` writes a first spec to ../deploy/specs/NAME.yaml\n")


def test_where_to_work_takes_the_command_line_then_the_project_file_then_the_defaults(tmp_path: Path):
    from generator.project import Project, where_to_work

    sub = tmp_path / "deploy"
    project = Project(tmp_path, tmp_path / "rollgen.toml", (tmp_path / "deploy/specs",), tmp_path / "out", ("values.yml",))
    where = where_to_work(project, [], None, sub)
    assert (where.targets, where.outdir, where.cwd, where.named) == ([Path("specs")], Path("../out"), tmp_path, False)
    assert where.looked == "specs (from ../rollgen.toml)" and where.spec_folder == Path("specs")
    where = where_to_work(project, [Path("a.yaml")], Path("o"), sub)
    assert (where.targets, where.outdir, where.cwd, where.named) == ([Path("a.yaml")], Path("o"), tmp_path, True)
    assert where.exclude(tmp_path / "deploy/specs/values.yml")
    where = where_to_work(Project(sub), [], None, sub)
    assert (where.targets, where.outdir, where.cwd) == ([Path("specs")], Path("output"), sub)
    assert not where.exclude(sub / "specs/values.yml")
