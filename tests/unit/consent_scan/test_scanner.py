"""The scan result: contract, score arithmetic, validity, suggestions, normalisation and
properties (whitespace and case invariance, purity)."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.domain.consent_scan import BLOCKING, CATALOGUE, Element, Status, scan
from ringfence.domain.consent_scan.scanner import VALID_SCORE_THRESHOLD, points, score, valid
from ringfence.domain.consent_scan.text import expand_contractions, is_negated, normalise

BUSINESS = "Glow Aesthetics Med Spa"
GOLD = (
    "By checking this box, I agree that Glow Aesthetics Med Spa may contact me at the phone "
    "number I provided, including with calls and texts using automated technology and an "
    "artificial or AI-generated voice, about my appointments and special offers. Consent is "
    'not a condition of purchase. I can opt out at any time by saying "stop" on a call or '
    "replying STOP to a text. Msg & data rates may apply. Msg frequency varies. Reply HELP "
    "for help. See our Terms of Service and Privacy Policy."
)
ORDER = [
    "business_name",
    "artificial_voice",
    "phone_number",
    "not_condition_of_purchase",
    "affirmative_checkbox",
    "autodialer",
    "opt_out",
    "marketing_purpose",
    "terms_privacy",
    "sms_disclosures",
]


def test_contract_shape_and_order() -> None:
    result = scan(GOLD, business_name=BUSINESS).as_dict()
    assert list(result) == ["score", "valid_for_voice_opt_in", "findings", "scanner_version"]
    assert [f["element"] for f in result["findings"]] == ORDER  # type: ignore[attr-defined]
    for finding in result["findings"]:  # type: ignore[attr-defined]
        assert list(finding) == ["element", "status", "blocking", "suggestion"]
    blocking = [f["blocking"] for f in result["findings"]]  # type: ignore[attr-defined]
    assert blocking == [True] * 5 + [False] * 5
    json.dumps(result)  # JSON-ready as is


def test_complete_text_scores_100_and_is_valid() -> None:
    result = scan(GOLD, business_name=BUSINESS)
    assert result.score == 100
    assert result.valid_for_voice_opt_in
    assert all(f.suggestion == "" for f in result.findings)


def test_empty_text_scores_zero_plus_not_applicable_sms() -> None:
    result = scan("", business_name=BUSINESS)
    assert not result.valid_for_voice_opt_in
    # Only the not-applicable SMS element earns its points.
    assert result.score == 4
    assert result.status(Element.SMS_DISCLOSURES) is Status.PRESENT


def test_score_arithmetic() -> None:
    everything = {spec.element: Status.PRESENT for spec in CATALOGUE}
    assert score(everything) == 100
    assert score(dict.fromkeys(everything, Status.MISSING)) == 0
    assert score(dict.fromkeys(everything, Status.WEAK)) == 50
    one_weak_blocking = {**everything, Element.PHONE_NUMBER: Status.WEAK}
    assert points(one_weak_blocking) == 92
    assert score(one_weak_blocking) == 79  # invalid: capped below the threshold
    one_weak_weighted = {**everything, Element.OPT_OUT: Status.WEAK}
    assert score(one_weak_weighted) == 98
    blocking_only = {
        spec.element: Status.PRESENT if spec.blocking else Status.MISSING for spec in CATALOGUE
    }
    assert score(blocking_only) == VALID_SCORE_THRESHOLD == 80
    assert valid(everything)
    assert not valid(one_weak_blocking)
    assert valid(one_weak_weighted)


def test_blocking_set() -> None:
    assert {e.value for e in BLOCKING} == set(ORDER[:5])


def test_suggestions_name_the_practice_and_carry_the_reference_wording() -> None:
    result = scan("We may call you.", business_name="Luxe Skin Studio")
    for finding in result.findings:
        if finding.status is not Status.PRESENT and finding.element not in {
            Element.NOT_CONDITION_OF_PURCHASE,
            Element.SMS_DISCLOSURES,
        }:
            assert "Luxe Skin Studio" in finding.suggestion, finding
    assert result.recommended_text.startswith(
        "By checking this box, I agree that Luxe Skin Studio may contact me at the phone number"
    )
    assert "Consent is not a condition of purchase." in result.recommended_text
    again = scan(result.recommended_text, business_name="Luxe Skin Studio")
    assert again.valid_for_voice_opt_in
    assert again.score == 100


@pytest.mark.parametrize("sms", [True, False])
def test_recommended_text_passes_its_own_scan(sms: bool) -> None:
    first = scan("nothing here", business_name="Bellissima Aesthetics", covers_sms=sms)
    second = scan(first.recommended_text, business_name="Bellissima Aesthetics", covers_sms=sms)
    assert second.score == 100, second.findings


def test_blank_business_name_is_rejected() -> None:
    with pytest.raises(ValueError, match="business_name"):
        scan(GOLD, business_name="   ")


def test_result_is_frozen() -> None:
    result = scan(GOLD, business_name=BUSINESS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.score = 0  # type: ignore[misc]


# --- normalisation ----------------------------------------------------------------------


def test_normalise_strips_html_and_folds_typography() -> None:
    text = normalise(
        "<p>I\u2019m \u201cin\u201d &amp; it isn\u2019t <b>S\u00e9r\u00e9nit\u00e9</b>"
        "\u00a0AI\u2011generated</p>"
    )
    assert text.lower == 'i am "in" & it is not serenite ai-generated'
    assert text.checkboxes == ()


def test_checkbox_inputs_are_found_before_tags_go() -> None:
    text = normalise(
        '<input type="checkbox" checked> <input type=checkbox> <input type="text" '
        'data-checked="1"> <INPUT TYPE="CHECKBOX" CHECKED="checked">'
    )
    assert text.checkboxes == (True, False, True)


def test_sentences_ignore_abbreviations() -> None:
    text = normalise("I authorize Aura Skin Co. to call me, incl. AI calls. Reply STOP.")
    assert text.sentences == (
        "i authorize aura skin co. to call me, incl. ai calls.",
        "reply stop.",
    )


@pytest.mark.parametrize(
    ("lower", "term", "negated"),
    [
        ("we will never use an automated system or a recorded voice", "recorded", True),
        ("we do not use artificial intelligence", "artificial", True),
        (
            "consent is not a condition of purchase; calls may use an autodialer",
            "autodialer",
            False,
        ),
        ("i am not required to agree to autodialed calls", "autodialed", False),
        ("we never sell data. calls may use an autodialer", "autodialer", False),
        ("we will not, but calls use an autodialer", "autodialer", False),
    ],
)
def test_negation(lower: str, term: str, negated: bool) -> None:
    assert is_negated(lower, lower.index(term)) is negated


def test_contractions() -> None:
    assert expand_contractions("won't can't isn't i've you're") == (
        "will not cannot is not i have you are"
    )


# --- properties -------------------------------------------------------------------------

_SAMPLES = [
    GOLD,
    "By submitting this form, you agree to receive recurring automated marketing calls and "
    "text messages from Glow Aesthetics Med Spa at the phone number provided. Consent is not "
    "a condition of purchase. Msg & data rates may apply. Reply STOP to unsubscribe.",
    "I agree that Glow Aesthetics Med Spa may call me. We will never use an automated system "
    "or a recorded voice. This box is pre-checked; uncheck it to opt out.",
    "Sign up for our newsletter and be the first to hear about new treatments!",
]
_GAPS = st.sampled_from([" ", "  ", "\t", "\n", " \t ", "\r\n"])


def _statuses(text: str) -> list[Status]:
    return [f.status for f in scan(text, business_name=BUSINESS).findings]


@settings(max_examples=60, deadline=None)
@given(sample=st.sampled_from(_SAMPLES), data=st.data())
def test_whitespace_never_changes_a_finding(sample: str, data: st.DataObject) -> None:
    words = sample.split()
    gaps = data.draw(st.lists(_GAPS, min_size=len(words) - 1, max_size=len(words) - 1))
    spaced = words[0] + "".join(g + w for g, w in zip(gaps, words[1:], strict=True))
    assert _statuses(spaced) == _statuses(" ".join(words))


@settings(max_examples=60, deadline=None)
@given(sample=st.sampled_from(_SAMPLES), flips=st.lists(st.booleans(), min_size=400))
def test_letter_case_never_changes_a_finding_but_the_name(sample: str, flips: list[bool]) -> None:
    # The business-name check reads capitals on purpose (short forms, acronyms).
    flipped = "".join(
        (ch.upper() if flips[i % len(flips)] else ch.lower()) for i, ch in enumerate(sample)
    )
    assert _statuses(flipped)[1:] == _statuses(sample)[1:]
    assert _statuses(sample.upper()) == _statuses(sample)


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=400), business=st.text(min_size=1, max_size=40))
def test_any_text_scans_consistently(text: str, business: str) -> None:
    if not business.strip():
        return
    result = scan(text, business_name=business)
    assert 0 <= result.score <= 100
    assert [f.element.value for f in result.findings] == ORDER
    assert result.valid_for_voice_opt_in == all(
        f.status is Status.PRESENT for f in result.findings if f.blocking
    )
    assert result == scan(text, business_name=business)  # pure: same in, same out


@settings(max_examples=40, deadline=None)
@given(tag=st.sampled_from(["b", "span", "em", "strong", "u", "i"]))
def test_inline_tags_around_words_change_nothing(tag: str) -> None:
    tagged = re.sub(r"\b(not|call|box|number)\b", rf"<{tag}>\1</{tag}>", GOLD)
    assert _statuses(tagged) == _statuses(GOLD)
