"""Choose the understanding's thresholds by cross-validation on the training corpus.

    .venv/bin/python scripts/intent_calibration.py [--folds 5]

Each fold trains the model on the other folds and decides every held-back utterance with
`decide` (the runtime's own decision) and, for the scheduling labels, the embedded policy's
reading (`acted_on`). Four tables:

1. opt-out, for a grid of (opt_out_doubt, opt_out_certain) pairs: recall (acted on or asked
   about; English and Spanish apart), the precision of the certain opt-outs, and how many
   non-opt-outs would be asked "Would you like us to stop calling this number?";
2. the AI-question bar: its recall and precision, and the recall of requests for a person
   (a doubt about a machine is answered first, so a low bar takes some of them);
3. the clinical-question bar: its recall and precision;
4. the bar for a request for a person and the scheduling labels: recall / precision of each.

The rule that picks each bar is printed with its table. The frozen test splits are never read
here (docs/agent-evaluation.md).
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable, Sequence
from dataclasses import replace

from ringfence.agent.understanding.corpus import Utterance, training_corpus
from ringfence.agent.understanding.decision import DEFAULT_THRESHOLDS, Thresholds, decide
from ringfence.agent.understanding.evaluation import acted_on
from ringfence.agent.understanding.labels import Label, Language
from ringfence.agent.understanding.model import IntentModel

DOUBT = (0.1, 0.125, 0.15, 0.175, 0.2, 0.225, 0.25, 0.3, 0.35)
CERTAIN = (0.6, 0.7, 0.8)
AI = (0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
CLINICAL = (0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
INTENT = (0.35, 0.4, 0.45, 0.5, 0.55, 0.6)
_SCHEDULING = (
    Label.HUMAN_REQUEST,
    Label.CANCEL,
    Label.RESCHEDULE,
    Label.CONFIRM,
    Label.WRONG_PERSON,
)
Scored = list[tuple[Utterance, dict[Label, float]]]
Found = list[tuple[Utterance, Label, bool]]  # the label acted on, and whether only asked about


def folds(corpus: Sequence[Utterance], k: int) -> list[list[Utterance]]:
    shuffled = list(corpus)
    random.Random(0).shuffle(shuffled)
    return [shuffled[i::k] for i in range(k)]


def cross_validated(k: int) -> Scored:
    parts = folds(training_corpus(), k)
    scored: Scored = []
    for index, held in enumerate(parts):
        model = IntentModel.train([u for j, part in enumerate(parts) if j != index for u in part])
        scored += [(u, dict(model.probabilities(u.text))) for u in held]
    return scored


def _labelled(scored: Scored, thresholds: Thresholds) -> Found:
    """(utterance, the label acted on, whether an opt-out was only asked about)."""
    found = []
    for u, p in scored:
        heard = decide(
            u.text, appointment_call=u.appointment_call, probabilities=p, thresholds=thresholds
        )
        found.append((u, acted_on(u.text, heard), heard.doubt))
    return found


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def _recall(found: Found, label: Label, lang: Language | None = None) -> float:
    chosen = [(u, got) for u, got, _ in found if u.label is label and lang in (None, u.lang)]
    return _ratio(sum(got is label for _, got in chosen), len(chosen))


def _precision(found: Found, label: Label) -> float:
    acted = [u for u, got, doubt in found if got is label and not doubt]
    return _ratio(sum(u.label is label for u in acted), len(acted))


def _sweep(
    title: str,
    scored: Scored,
    values: Sequence[float],
    field: str,
    columns: Callable[[Found], str],
) -> None:
    print(f"\n{title}")
    for value in values:
        found = _labelled(scored, replace(DEFAULT_THRESHOLDS, **{field: value}))
        print(f"{value:6.3f} | {columns(found)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    scored = cross_validated(args.folds)
    print(f"{len(scored)} utterances, {args.folds}-fold cross-validation on the training corpus")
    print(f"current: {DEFAULT_THRESHOLDS}")

    print("\n1. opt-out: the highest doubt bar keeping recall >= 0.98 and the lowest certain")
    print("   bar keeping the precision of certain opt-outs >= 0.97")
    print("doubt certain | recall (en / es)       certain-precision  asked(non-opt-out)  accuracy")
    for doubt in DOUBT:
        for certain in CERTAIN:
            thresholds = replace(DEFAULT_THRESHOLDS, opt_out_doubt=doubt, opt_out_certain=certain)
            found = _labelled(scored, thresholds)
            asked = sum(
                1 for u, got, doubt_ in found if got is Label.OPT_OUT and doubt_ and u.label != got
            )
            accuracy = _ratio(sum(u.label is got for u, got, _ in found), len(found))
            print(
                f"{doubt:5.3f} {certain:7.2f} | {_recall(found, Label.OPT_OUT):.3f} "
                f"({_recall(found, Label.OPT_OUT, Language.EN):.3f} / "
                f"{_recall(found, Label.OPT_OUT, Language.ES):.3f})  "
                f"{_precision(found, Label.OPT_OUT):17.3f}  {asked:18d}  {accuracy:8.3f}"
            )

    def ai_columns(found: Found) -> str:
        return (
            f"recall {_recall(found, Label.AI_QUESTION):.3f}  precision "
            f"{_precision(found, Label.AI_QUESTION):.3f}  human_request recall "
            f"{_recall(found, Label.HUMAN_REQUEST):.3f}"
        )

    _sweep(
        "2. AI question: the highest bar keeping its recall >= 0.98",
        scored,
        AI,
        "ai_question",
        ai_columns,
    )

    def clinical_columns(found: Found) -> str:
        return (
            f"recall {_recall(found, Label.CLINICAL_QUESTION):.3f}  precision "
            f"{_precision(found, Label.CLINICAL_QUESTION):.3f}"
        )

    _sweep(
        "3. clinical question: the highest bar keeping its recall >= 0.95",
        scored,
        CLINICAL,
        "clinical_question",
        clinical_columns,
    )

    def intent_columns(found: Found) -> str:
        return "  ".join(
            f"{label.value[:8]} {_recall(found, label):.3f}/{_precision(found, label):.3f}"
            for label in _SCHEDULING
        )

    _sweep(
        "4. a person and the scheduling labels (recall/precision): the bar with the best\n"
        "   confirm and reschedule recall at precision >= 0.9 for each",
        scored,
        INTENT,
        "intent",
        intent_columns,
    )


if __name__ == "__main__":
    main()
