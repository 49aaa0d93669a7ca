"""Choose the understanding's opt-out thresholds by cross-validation on the training corpus.

    .venv/bin/python scripts/intent_calibration.py [--folds 5]

Each fold trains the model on the other folds and decides every held-back utterance with
`decide` (the runtime's own decision) for a grid of (opt_out_doubt, opt_out_certain) pairs; the
table prints opt-out recall (acted on or asked about), the precision of the certain opt-outs,
and how many non-opt-outs would be asked "Would you like us to stop calling this number?".
The frozen test split is never read here (docs/agent-evaluation.md).
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence
from dataclasses import replace

from ringfence.agent.understanding.corpus import Utterance, training_corpus
from ringfence.agent.understanding.decision import DEFAULT_THRESHOLDS, Thresholds, decide
from ringfence.agent.understanding.labels import Label
from ringfence.agent.understanding.model import IntentModel

DOUBT = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4)
CERTAIN = (0.5, 0.6, 0.7)


def folds(corpus: Sequence[Utterance], k: int) -> list[list[Utterance]]:
    shuffled = list(corpus)
    random.Random(0).shuffle(shuffled)
    return [shuffled[i::k] for i in range(k)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    parts = folds(training_corpus(), args.folds)
    scored: list[tuple[Utterance, dict[Label, float]]] = []
    for index, held in enumerate(parts):
        model = IntentModel.train([u for j, part in enumerate(parts) if j != index for u in part])
        scored += [(u, dict(model.probabilities(u.text))) for u in held]
    print(f"{len(scored)} utterances, {args.folds}-fold cross-validation on the training corpus")
    print("doubt certain | recall  certain-precision  asked(non-opt-out)  accuracy")
    for doubt in DOUBT:
        for certain in CERTAIN:
            thresholds: Thresholds = replace(
                DEFAULT_THRESHOLDS, opt_out_doubt=doubt, opt_out_certain=certain
            )
            found = [
                (u, decide(u.text, appointment_call=u.appointment_call, probabilities=p,
                           thresholds=thresholds))
                for u, p in scored
            ]  # fmt: skip
            positives = [d for u, d in found if u.label is Label.OPT_OUT]
            acted = [u for u, d in found if d.label is Label.OPT_OUT and not d.doubt]
            asked_wrongly = sum(
                1 for u, d in found if d.label is Label.OPT_OUT and d.doubt and u.label != d.label
            )
            recall = sum(d.label is Label.OPT_OUT for d in positives) / len(positives)
            precision = sum(u.label is Label.OPT_OUT for u in acted) / max(len(acted), 1)
            accuracy = sum(u.label is d.label for u, d in found) / len(found)
            print(
                f"{doubt:5.2f} {certain:7.2f} | {recall:6.3f}  {precision:17.3f}  "
                f"{asked_wrongly:18d}  {accuracy:8.3f}"
            )


if __name__ == "__main__":
    main()
