"""The committed JSON Schema is the model's, and it accepts every example."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from conftest import ROOT, SPEC_FILES, SPECS
from generator.spec.schema import KINDS, SCHEMA_FILE, render_schema


def test_committed_schema_is_generated_from_the_model():
    assert (ROOT / "schemas" / SCHEMA_FILE).read_text() == render_schema()


@pytest.mark.parametrize("name", [p.name for p in SPEC_FILES])
def test_examples_validate_against_the_schema(name):
    document = yaml.safe_load((SPECS / name).read_text())
    schema = json.loads((ROOT / "schemas" / KINDS[document["kind"]][0]).read_text())
    jsonschema.Draft202012Validator(schema).validate(document)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_has_its_committed_schema(kind):
    assert (ROOT / "schemas" / KINDS[kind][0]).read_text() == render_schema(kind)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_schema_documents_every_field(kind):
    schema = json.loads(render_schema(kind))

    def walk(node, path):
        for name, prop in node.get("properties", {}).items():
            if name not in ("apiVersion", "kind") and "$ref" not in prop:
                assert prop.get("description"), f"{path}.{name} has no description"
    for name, definition in schema["$defs"].items():
        walk(definition, name)
