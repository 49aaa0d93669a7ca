"""Consent and opt-out are facts about a phone number within a practice (issue 14).

Each case here failed before the number-keyed ledger: the gate read consent and opt-outs from
the contact row, so it dialed on consent for another number, on a form whose text failed the
voice scan, past the "Opted Out" tag, and after an opt-out recorded for the same number
elsewhere in the practice.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringfence.domain.compliance import (
    ConsentFact,
    ConsentFacts,
    Dial,
    Fail,
    Outcome,
    ReasonCode,
    Rule,
    Suppression,
    SuppressionSource,
    evaluate,
)
from ringfence.domain.vocabulary import Channel, ConsentKind, ContactSource
from tests.unit.compliance.factories import CONSENT_AT, NOW, make_facts

NUMBER = "+12125550123"
OTHER = "+13125550123"


def _facts(*records: ConsentFact, number: str = NUMBER) -> ConsentFacts:
    return ConsentFacts.from_records(records, number)


def test_consent_for_another_number_does_not_count_and_says_which() -> None:
    consent = _facts(ConsentFact(ConsentKind.CRM_FORM, CONSENT_AT, OTHER, form_valid=True))
    evaluation = evaluate(make_facts(phone=NUMBER, consent=consent), NOW)
    assert evaluation.verdict == Fail(ReasonCode.CONSENT_FOR_OTHER_NUMBER)
    check = evaluation.check(Rule.CONSENT)
    assert OTHER in check.detail
    assert "not the number" in check.detail


def test_a_form_opt_in_through_failing_consent_text_does_not_count() -> None:
    consent = _facts(ConsentFact(ConsentKind.CRM_FORM, CONSENT_AT, NUMBER, form_valid=False))
    assert evaluate(make_facts(consent=consent), NOW).verdict == Fail(
        ReasonCode.CONSENT_FORM_NOT_VALID
    )


def test_a_held_submission_does_not_count_until_staff_confirm() -> None:
    held = ConsentFact(ConsentKind.CRM_FORM, NOW - timedelta(hours=1), NUMBER, True, held=True)
    suppression = Suppression(NOW - timedelta(days=1), SuppressionSource.CALL_OPT_OUT)
    facts = make_facts(consent=_facts(held), suppression=suppression)
    assert evaluate(facts, NOW).verdict == Fail(ReasonCode.CONSENT_HELD_FOR_CONFIRMATION)
    confirmed = ConsentFact(ConsentKind.MANUAL_WRITTEN, NOW - timedelta(minutes=5), NUMBER)
    facts = make_facts(consent=_facts(held, confirmed), suppression=suppression)
    assert evaluate(facts, NOW).verdict == Dial()


def test_the_opted_out_tag_blocks_without_the_flag() -> None:
    evaluation = evaluate(make_facts(opt_out_tagged=True), NOW)
    assert evaluation.verdict == Fail(ReasonCode.OPTED_OUT)
    assert "Opted Out" in evaluation.check(Rule.OPT_OUT).detail


@pytest.mark.parametrize("source", list(SuppressionSource))
def test_a_suppressed_number_fails_whatever_path_suppressed_it(source: SuppressionSource) -> None:
    facts = make_facts(suppression=Suppression(NOW - timedelta(days=3), source))
    evaluation = evaluate(facts, NOW)
    assert evaluation.verdict == Fail(ReasonCode.NUMBER_SUPPRESSED)
    assert source.value in evaluation.check(Rule.OPT_OUT).detail


def test_only_consent_recorded_after_the_opt_out_lifts_it() -> None:
    suppression = Suppression(CONSENT_AT + timedelta(days=1), SuppressionSource.OPT_OUT_TAG)
    # The consent on file predates the opt-out: still suppressed (clearing a flag or a tag
    # changes no fact the gate reads).
    before = make_facts(suppression=suppression)
    assert evaluate(before, NOW).verdict == Fail(ReasonCode.NUMBER_SUPPRESSED)
    # Consent at the same instant as the opt-out does not lift it either.
    same = ConsentFacts(manual_written_at=suppression.at)
    assert evaluate(make_facts(consent=same, suppression=suppression), NOW).verdict == Fail(
        ReasonCode.NUMBER_SUPPRESSED
    )
    after = ConsentFacts(manual_written_at=suppression.at + timedelta(seconds=1))
    assert evaluate(make_facts(consent=after, suppression=suppression), NOW).verdict == Dial()


def test_a_suppression_stamped_after_now_still_counts() -> None:
    """Another worker's clock ran ahead: counting the entry can only make the verdict stricter."""
    suppression = Suppression(NOW + timedelta(minutes=5), SuppressionSource.CALL_OPT_OUT)
    assert evaluate(make_facts(suppression=suppression), NOW).verdict == Fail(
        ReasonCode.NUMBER_SUPPRESSED
    )


@pytest.mark.parametrize("channel", [Channel.VOICE, Channel.SMS, Channel.EMAIL, None])
def test_an_opt_out_flag_on_any_channel_blocks(channel: Channel | None) -> None:
    facts = make_facts(opted_out_at=NOW - timedelta(days=2), opted_out_channel=channel)
    assert evaluate(facts, NOW).verdict == Fail(ReasonCode.OPTED_OUT)


def test_records_fold_by_number() -> None:
    records = (
        ConsentFact(ConsentKind.CRM_FORM, CONSENT_AT, NUMBER, form_valid=True),
        ConsentFact(ConsentKind.MANUAL_WRITTEN, CONSENT_AT + timedelta(days=1), OTHER),
        ConsentFact(ConsentKind.REVOCATION, CONSENT_AT + timedelta(days=2), OTHER),
        ConsentFact(ConsentKind.CRM_FORM, CONSENT_AT + timedelta(days=3), NUMBER, False),
    )
    facts = ConsentFacts.from_records(records, NUMBER)
    assert facts.crm_form_opt_in_at == CONSENT_AT
    assert facts.manual_written_at is None
    assert facts.revoked_at is None  # revoked for the other number only
    assert facts.invalid_form_at == CONSENT_AT + timedelta(days=3)
    assert facts.other_number == OTHER


_KINDS = st.sampled_from(list(ConsentKind))
_RECORD = st.builds(
    ConsentFact,
    kind=_KINDS,
    at=st.integers(0, 400).map(lambda d: CONSENT_AT + timedelta(hours=d)),
    phone_e164=st.sampled_from([NUMBER, OTHER, None]),
    form_valid=st.sampled_from([True, False, None]),
    held=st.booleans(),
)


@given(
    records=st.lists(_RECORD, max_size=8),
    suppressed_at=st.none() | st.integers(0, 400).map(lambda d: CONSENT_AT + timedelta(hours=d)),
    source=st.sampled_from([ContactSource.FORM, ContactSource.IMPORT]),
)
def test_a_dial_always_rests_on_qualifying_consent_for_the_dialed_number(
    records: list[ConsentFact], suppressed_at: object, source: ContactSource
) -> None:
    """Whatever the records: Dial only if some record for the dialed number qualifies (a
    written consent, or a form opt-in through a valid form, not held), no revocation for the
    number came at or after it, and it is newer than the number's suppression."""
    suppression = (
        Suppression(suppressed_at, SuppressionSource.CALL_OPT_OUT)  # type: ignore[arg-type]
        if suppressed_at is not None
        else None
    )
    facts = make_facts(
        source=source, consent=_facts(*records), suppression=suppression, phone=NUMBER
    )
    evaluation = evaluate(facts, NOW)
    mine = [r for r in records if r.phone_e164 == NUMBER]
    qualifying = [r.at for r in mine if r.qualifies]
    revocations = [r.at for r in mine if r.kind is ConsentKind.REVOCATION]
    latest = max(qualifying, default=None)
    allowed = (
        latest is not None
        and all(at < latest for at in revocations)
        and (suppression is None or suppression.at < latest)
    )
    assert (evaluation.verdict == Dial()) is allowed
    if not allowed:
        assert evaluation.check(Rule.CONSENT).outcome is Outcome.FAILED or (
            evaluation.check(Rule.OPT_OUT).outcome is Outcome.FAILED
        )
