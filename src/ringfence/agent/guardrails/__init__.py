"""Guardrails enforced in code around any dialogue policy (docs/agent.md)."""

from __future__ import annotations

from ringfence.agent.guardrails.clinical import ClinicalConcern, assess_clinical
from ringfence.agent.guardrails.disclosure import asks_if_ai, claims_human, disclosure
from ringfence.agent.guardrails.identity import IdentityAnswer, classify_identity_answer
from ringfence.agent.guardrails.opening import opening_problems
from ringfence.agent.guardrails.opt_out import OptOutMatch, OptOutRule, detect_opt_out
from ringfence.agent.guardrails.outgoing import Screened, Withheld, screen_utterance
from ringfence.agent.guardrails.phi import PHI_TERMS, phi_terms_in

__all__ = [
    "PHI_TERMS",
    "ClinicalConcern",
    "IdentityAnswer",
    "OptOutMatch",
    "OptOutRule",
    "Screened",
    "Withheld",
    "asks_if_ai",
    "assess_clinical",
    "claims_human",
    "classify_identity_answer",
    "detect_opt_out",
    "disclosure",
    "opening_problems",
    "phi_terms_in",
    "screen_utterance",
]
