"""The trained classifiers, read for one turn without scikit-learn's per-call machinery.

A fitted pipeline here is TF-IDF vectorizers (one, or a union of them) and a logistic
regression: the probabilities of one text are a few dictionary look-ups, a sparse dot product
and a softmax. scikit-learn's `predict_proba` computes the same numbers but spends ~5 ms a call
on input validation, dataframe checks and its parallel helpers (profiled: 70 % of the simulated
day went there), which every callee turn of every call paid. `LinearScorer` is built once from
the fitted pipeline and reads its fitted attributes; `tests/unit/agent/test_understanding.py`
checks it gives `predict_proba`'s probabilities on every text of the corpus.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline


@dataclass(frozen=True, slots=True)
class _Vectorizer:
    analyze: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: NDArray[np.float64]
    sublinear: bool
    offset: int  # where its columns start in the union's output


class LinearScorer:
    """`predict_proba` of a fitted TF-IDF + logistic-regression pipeline, for one text."""

    def __init__(self, pipeline: Pipeline) -> None:
        features, classifier = pipeline.steps[0][1], pipeline.steps[-1][1]
        if not isinstance(classifier, LogisticRegression) or len(pipeline.steps) != 2:
            raise TypeError("a TF-IDF + LogisticRegression pipeline is expected")
        vectorizers: Sequence[Any] = (
            [step for _name, step in features.transformer_list]
            if isinstance(features, FeatureUnion)
            else [features]
        )
        offset = 0
        self._vectorizers: list[_Vectorizer] = []
        for vectorizer in vectorizers:
            if not isinstance(vectorizer, TfidfVectorizer) or vectorizer.norm != "l2":
                raise TypeError("TF-IDF vectorizers with l2 norm are expected")
            vocabulary = dict(vectorizer.vocabulary_)
            self._vectorizers.append(
                _Vectorizer(
                    analyze=vectorizer.build_analyzer(),
                    vocabulary=vocabulary,
                    idf=np.asarray(vectorizer.idf_, dtype=np.float64),
                    sublinear=bool(vectorizer.sublinear_tf),
                    offset=offset,
                )
            )
            offset += len(vocabulary)
        self._coef = np.asarray(classifier.coef_, dtype=np.float64)
        self._intercept = np.asarray(classifier.intercept_, dtype=np.float64)
        if self._coef.shape[1] != offset:
            raise TypeError("the classifier's features are not the vectorizers' columns")
        self.classes: tuple[str, ...] = tuple(str(c) for c in classifier.classes_)

    def proba(self, text: str) -> NDArray[np.float64]:
        columns: list[int] = []
        weights: list[float] = []
        for vectorizer in self._vectorizers:
            counts = Counter(
                index
                for token in vectorizer.analyze(text)
                if (index := vectorizer.vocabulary.get(token)) is not None
            )
            if not counts:
                continue
            indices = list(counts)
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(indices))
            if vectorizer.sublinear:
                tf = np.log(tf) + 1.0
            values = tf * vectorizer.idf[indices]
            norm = math.sqrt(float(values @ values))
            if norm > 0.0:
                values /= norm
            columns += [vectorizer.offset + i for i in indices]
            weights += values.tolist()
        scores = self._intercept.copy()
        if columns:
            scores += self._coef[:, columns] @ np.asarray(weights, dtype=np.float64)
        if len(self.classes) == 2:  # binary: one decision function, its logistic
            positive = 1.0 / (1.0 + math.exp(-float(scores[0])))
            return np.asarray([1.0 - positive, positive], dtype=np.float64)
        shifted = np.exp(scores - scores.max())
        probabilities: NDArray[np.float64] = shifted / shifted.sum()
        return probabilities
