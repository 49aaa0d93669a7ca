"""The runtime's entry point: `Understander.understand(text, appointment_call=...)`.

`LearnedUnderstander` runs the trained model and `decide`; `RulesOnlyUnderstander` is `decide`
with no model (every probability zero), the fallback when scikit-learn cannot be imported and
the baseline the evaluation compares against.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
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
            urgency=self._model.urgent_probability(text),
            thresholds=self._thresholds,
        )


class MemoUnderstander:
    """Another understander's answers, kept per (text, appointment call): `understand` is a
    pure function of those (a fixed model and thresholds), so a repeated turn is read once.

    For the simulated callee (agent/callee.py `play_conversation`): its scripted personas say
    a few dozen distinct lines over thousands of calls (62 over a 2,000-dial day), and reading
    them was the largest part of the simulated day's agent time. Bounded (least recently used
    first out); live calls do not use it (real callers rarely repeat a turn word for word, and
    their words are not kept beyond the call).
    """

    def __init__(self, inner: Understander, *, kept: int = 4096) -> None:
        self._inner = inner
        self._kept = kept
        self._answers: OrderedDict[tuple[str, bool], Understanding] = OrderedDict()
        self._lock = threading.Lock()

    def understand(self, text: str, *, appointment_call: bool) -> Understanding:
        key = (text, appointment_call)
        with self._lock:
            found = self._answers.get(key)
            if found is not None:
                self._answers.move_to_end(key)
                return found
        found = self._inner.understand(text, appointment_call=appointment_call)
        with self._lock:
            self._answers[key] = found
            while len(self._answers) > self._kept:
                self._answers.popitem(last=False)
        return found


class RulesOnlyUnderstander:
    """The rules as wave 1 had them: a rule's opt-out is acted on at once (no model to doubt
    it), everything else is left to the dialogue policy."""

    _THRESHOLDS = replace(DEFAULT_THRESHOLDS, rule_confirmed_by=0.0)

    def understand(self, text: str, *, appointment_call: bool) -> Understanding:
        return decide(
            text, appointment_call=appointment_call, probabilities={}, thresholds=self._THRESHOLDS
        )
