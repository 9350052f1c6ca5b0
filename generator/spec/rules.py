"""The meaning rules of each delivery engine, in the order their findings are reported."""

from __future__ import annotations

from generator.spec import analysis_checks, argo_checks, checks, flagger_checks, platform_checks, service_checks
from generator.spec.checks import Finding
from generator.spec.kinds import engine_of

# The Flagger rules run for manual rollouts too: they refuse the Flagger-only blocks there.
RULES = {
    "manual": checks.RULES + service_checks.RULES + analysis_checks.RULES + flagger_checks.RULES
              + (argo_checks.check_argo_only_fields,),
    "flagger": checks.SHARED_RULES + service_checks.RULES + analysis_checks.RULES + flagger_checks.RULES
               + (argo_checks.check_argo_only_fields,),
    "platform": platform_checks.RULES,
    # Argo Rollouts reads the manual shape (named versions); the Flagger rules refuse the Flagger-only blocks.
    "argo-rollouts": checks.RULES + service_checks.RULES + analysis_checks.RULES + flagger_checks.RULES
                     + argo_checks.RULES,
}


def check_document(document) -> list[Finding]:
    """Every finding of the rules of the document's engine."""
    return [finding for rule in RULES[engine_of(document)] for finding in rule(document)]
