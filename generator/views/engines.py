"""The views of each delivery engine, in one table: `plan` as text, JSON and Mermaid, and
`status-commands`. Commands ask `engine_of(document)` which row applies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from generator.spec.kinds import engine_of
from generator.views import argo, json, mermaid, text


@dataclass(frozen=True)
class Views:
    table: Callable  # (document, source) -> text
    document: Callable  # (document, source) -> JSON data
    flowchart: Callable | None  # (document, source) -> Mermaid text; None: nothing to draw
    commands: Callable  # (loaded spec) -> text, or a located refusal


VIEWS: dict[str, Views] = {
    "manual": Views(text.routed_table, json.routed_document, mermaid.routed_flowchart, text.manual_commands),
    "flagger": Views(text.flagger_table, json.flagger_document, mermaid.flagger_flowchart, text.flagger_commands),
    "platform": Views(text.platform_table, json.platform_document, None, text.platform_commands),
    "argo-rollouts": Views(argo.argo_table, argo.argo_document, argo.argo_flowchart, argo.argo_commands),
}


def plan_table(document, source: str) -> str:
    return VIEWS[engine_of(document)].table(document, source)


def plan_document(document, source: str) -> dict:
    return VIEWS[engine_of(document)].document(document, source)


def plan_flowchart(document, source: str) -> str:
    """Platform specs are refused by the command before (require_rollout): nothing to draw."""
    return VIEWS[engine_of(document)].flowchart(document, source)


def status_commands_text(loaded) -> str:
    return VIEWS[engine_of(loaded.document)].commands(loaded)
