"""The learned half of the agent's understanding: a text classifier over the nine labels, and
a language identifier (English / Spanish), trained on the shipped corpus.

Why this model (docs/agent-evaluation.md, "Choosing the model", has the figures): word 1-2
grams and character 2-5 grams (within words) weighted by TF-IDF, and a logistic regression
with balanced class weights. Character n-grams carry what speech-to-text does to words
("stp callin", "remoove"), Spanish inflections and dialect spellings; word bigrams carry
negation ("don't stop", "not interested"). Sentence embeddings were measured against it: the
lexical WordLlama model scored lower, all-MiniLM-L6-v2 scored about the same at ~7 ms a turn
and a PyTorch install of several hundred MB, so the light model is the one shipped.

Training takes a few seconds and happens once per process (`default_model`), from the
package's own corpus: no model file is shipped or downloaded, and the figures can always be
rebuilt from the text. Classifying one turn takes about 0.3 ms (`linear.LinearScorer` reads
the fitted model directly; scikit-learn's own `predict_proba` took ~10 ms a call here).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Final

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline, make_union
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from ringfence.agent.text import unaccented
from ringfence.agent.understanding.corpus import Utterance, training_corpus
from ringfence.agent.understanding.labels import Label, Language
from ringfence.agent.understanding.linear import LinearScorer
from ringfence.agent.understanding.urgency_corpus import Urgency, UrgencyCase, training_cases

_SEED: Final = 0


def model_text(text: str) -> str:
    """What the classifiers read: lowercased, single-spaced. Whether an appointment is in
    context is not a feature: in a corpus, the calls without one are mostly opt-out examples
    ("cancel it"), so a marker would teach "no appointment" as a sign of an opt-out. The
    decision applies its one meaning instead (`decide`: "cancel" without an appointment is an
    opt-out)."""
    lowered = text.lower().replace("\u2019", "'")
    for pattern, replacement in _CONTRACTIONS:
        lowered = pattern.sub(replacement, lowered)
    return " ".join(lowered.split())


# The word tokenizer splits on apostrophes and drops one-letter tokens, so "can't" would read
# as "can": negations are spelled out first ("can't make it" is not "can make it").
_CONTRACTIONS: Final = (
    (re.compile(r"\bcan'?t\b"), "can not"),
    (re.compile(r"\bwon'?t\b"), "will not"),
    (re.compile(r"\bain'?t\b"), "is not"),
    (re.compile(r"(\w)n't\b"), r"\1 not"),
    (re.compile(r"\b(do|does|did|is|are|was|were|could|would|should|have|has)nt\b"), r"\1 not"),
)


def _intent_pipeline() -> Pipeline:
    features = make_union(
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
    )
    classifier = LogisticRegression(
        C=10.0, max_iter=3000, class_weight="balanced", random_state=_SEED
    )
    return make_pipeline(features, classifier)


def _language_pipeline() -> Pipeline:
    features = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True)
    return make_pipeline(features, LogisticRegression(C=10.0, max_iter=3000, random_state=_SEED))


class IntentModel:
    """Label and language probabilities for one callee turn. Immutable once trained."""

    def __init__(
        self, intents: Pipeline, languages: Pipeline, urgency: Pipeline | None = None
    ) -> None:
        self.intents = intents
        self.languages = languages
        self.urgency = urgency
        # The same probabilities as the pipelines' predict_proba, ~50 times cheaper a turn
        # (linear.py says why; the tests check they agree on the whole corpus).
        self._intent_scorer = LinearScorer(intents)
        self._language_scorer = LinearScorer(languages)
        self._labels = tuple(Label(name) for name in self._intent_scorer.classes)
        self._langs = tuple(Language(name) for name in self._language_scorer.classes)
        self._urgency_scorer = LinearScorer(urgency) if urgency is not None else None

    @classmethod
    def train(cls, corpus: Sequence[Utterance], urgency: Sequence[UrgencyCase] = ()) -> IntentModel:
        """`urgency`: turns labelled urgent / clinical / none, for the urgency head (none: the
        model has no urgency head, `urgent_probability` is 0)."""
        if len({u.label for u in corpus}) < 2 or len({u.lang for u in corpus}) < 2:
            raise ValueError("the corpus needs at least two labels and both languages")
        if urgency and len({c.label is Urgency.URGENT for c in urgency}) < 2:
            raise ValueError("the urgency cases need urgent and other turns")
        texts = [model_text(u.text) for u in corpus]
        # One thread: the solver's thread pool only contends on a busy machine (measured on 2
        # shared cores: ~10 s with two threads, under 2 s with one).
        with threadpool_limits(limits=1):
            intents = _intent_pipeline().fit(texts, [u.label.value for u in corpus])
            languages = _language_pipeline().fit(texts, [u.lang.value for u in corpus])
            urgent = (
                # The intent features and classifier, on accent-folded text (`_urgency_text`): a
                # transcript drops Spanish accents at random.
                _intent_pipeline().fit(
                    [_urgency_text(c.text) for c in urgency],
                    [c.label is Urgency.URGENT for c in urgency],
                )
                if urgency
                else None
            )
        return cls(intents, languages, urgent)

    def probabilities(self, text: str) -> Mapping[Label, float]:
        row = self._intent_scorer.proba(model_text(text))
        found = dict.fromkeys(Label, 0.0)
        found.update(zip(self._labels, (float(p) for p in row), strict=True))
        return found

    def urgent_probability(self, text: str) -> float:
        """How likely the turn reports a possible complication (the urgency head; 0 without
        one). Only a turn that goes to clinical staff anyway is read for it (`decide`)."""
        if self._urgency_scorer is None:
            return 0.0
        row = self._urgency_scorer.proba(_urgency_text(text))
        return float(row[self._urgency_scorer.classes.index("True")])

    def language_probabilities(self, text: str) -> Mapping[Language, float]:
        row = self._language_scorer.proba(model_text(text))
        return dict(zip(self._langs, (float(p) for p in row), strict=True))


def _urgency_text(text: str) -> str:
    return unaccented(model_text(text))


@lru_cache(maxsize=1)
def default_model() -> IntentModel:
    """The model trained on the shipped training corpora (never on a frozen test split)."""
    return IntentModel.train(training_corpus(), training_cases())
