"""The delivery engine is decided once (`spec.kinds.engine_of`) and every layer keys one table by it."""

from pathlib import Path

import pytest

from generator.constructs.charts import CHARTS, ROUTERS
from generator.mesh import MESHES
from generator.plan.argo import plan_argo
from generator.plan.engines import PLANNERS, build_plan
from generator.plan.flagger import plan_flagger
from generator.plan.platform import build_platform_plan
from generator.plan.routed import build_routed_plan
from generator.spec.kinds import ENGINE_NAMES, engine_of
from generator.plan.checks import read_spec
from conftest import SPEC_FILES
from generator.spec.rules import RULES
from generator.views.engines import VIEWS

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = list(SPEC_FILES)


@pytest.mark.parametrize("table", [RULES, PLANNERS, CHARTS, VIEWS], ids=["spec rules", "plan builders", "chart builders", "views"])
def test_every_engine_table_registers_exactly_the_engines(table):
    assert tuple(table) == ENGINE_NAMES


def test_the_examples_cover_every_engine():
    engines = {engine_of(read_spec(path, ROOT).document) for path in EXAMPLES}
    assert engines == set(ENGINE_NAMES)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_an_example_is_planned_by_the_builder_of_its_engine(path):
    spec = read_spec(path, ROOT)
    engine = engine_of(spec.document)
    assert engine == ("platform" if spec.kind == "Platform" else spec.document.spec.delivery)
    builder = {"manual": build_routed_plan, "flagger": plan_flagger, "platform": build_platform_plan,
               "argo-rollouts": plan_argo}[engine]
    assert build_plan(spec.document, spec.source) == builder(spec.document, spec.source)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_a_plan_names_the_engine_that_built_it(path):
    spec = read_spec(path, ROOT)
    assert build_plan(spec.document, spec.source).engine == engine_of(spec.document)


def test_the_mesh_table_covers_the_spec_language():
    from typing import get_args

    from generator.spec.v1alpha1 import RolloutSpec

    assert set(MESHES) == set(get_args(RolloutSpec.model_fields["mesh"].annotation))


def test_every_mesh_has_a_router_its_providers_and_a_known_metrics_source():
    from typing import get_args

    from generator.spec.flagger import FlaggerSettings
    from generator.spec.v1alpha1 import Analysis

    providers = set(get_args(get_args(FlaggerSettings.model_fields["provider"].annotation)[0]))
    sources = set(get_args(get_args(Analysis.model_fields["metrics"].annotation)[0]))
    for name, mesh in MESHES.items():
        assert mesh.route.kind in ROUTERS, name
        assert mesh.default_provider in mesh.providers and set(mesh.providers) <= providers, name
        assert mesh.metrics in sources, name
        # Services per version exactly where there are no Istio subsets to tell versions apart
        assert mesh.per_version_services == (mesh.route.kind != "VirtualService"), name
