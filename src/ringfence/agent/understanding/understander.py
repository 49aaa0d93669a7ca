"""The runtime's entry point: `Understander.understand(text, appointment_call=...)`.

`LearnedUnderstander` runs the trained model and `decide`; `RulesOnlyUnderstander` is `decide`
with no model (every probability zero), the fallback when scikit-learn cannot be imported and
the baseline the evaluation compares against.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from ringfence.agent.understanding.decision import (
    DEFAULT_THRESHOLDS,
    Thresholds,
    Understanding,
    decide,
)
from ringfence.agent.understanding.labels import Language
from ringfence.agent.understanding.model import IntentModel, default_model


class Understander(Protocol):
    def understand(self, text: str, *, appointment_call: bool) -> Understanding: ...


class LearnedUnderstander:
    def __init__(
        self, model: IntentModel | None = None, thresholds: Thresholds = DEFAULT_THRESHOLDS
    ) -> None:
        self._model = model or default_model()
        self._thresholds = thresholds

    def understand(self, text: str, *, appointment_call: bool) -> Understanding:
        probabilities = self._model.probabilities(text)
        spanish = self._model.language_probabilities(text).get(Language.ES, 0.0)
        return decide(
            text,
            appointment_call=appointment_call,
            probabilities=probabilities,
            spanish=spanish,
            thresholds=self._thresholds,
        )


class RulesOnlyUnderstander:
    """The rules as wave 1 had them: a rule's opt-out is acted on at once (no model to doubt
    it), everything else is left to the dialogue policy."""

    _THRESHOLDS = replace(DEFAULT_THRESHOLDS, rule_confirmed_by=0.0)

    def understand(self, text: str, *, appointment_call: bool) -> Understanding:
        return decide(
            text, appointment_call=appointment_call, probabilities={}, thresholds=self._THRESHOLDS
        )
