"""Tests for rule breaks that the mutation check's killers let through (scripts/mutation_check.py).

`revocation_channel`: `services/facts.py` `_fact` turns each grouped consent row into a
fact. A revocation counts on **any** channel (FCC 24-24: consent may be revoked "by any
reasonable means"; docs/compliance.md, "Consent, DND, opt-out"), while an opt-in on another
channel than voice is not consent to voice calls. Dropping non-voice revocations there
changed no verdict anywhere else: every revocation also suppresses the number, and a
contact's own revocation is read a second way, so the unit tests, the simulation audit and the
consent e2e tests all passed with it. These tests pin the reading where the facts are made.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from ringfence.domain.compliance import ConsentFacts, ReasonCode, evaluate
from ringfence.domain.vocabulary import Channel, ConsentKind
from ringfence.services.facts import _fact
from tests.unit.compliance.factories import CONSENT_AT, NOW, make_facts

NUMBER = "+12125550123"


@pytest.mark.parametrize("channel", list(Channel))
def test_a_revocation_on_any_channel_is_a_fact(channel: Channel) -> None:
    fact = _fact(NUMBER, ConsentKind.REVOCATION.value, channel.value, None, False, CONSENT_AT)
    assert fact is not None
    assert fact.kind is ConsentKind.REVOCATION
    assert fact.at == CONSENT_AT
    assert fact.phone_e164 == NUMBER


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.EMAIL])
def test_an_opt_in_on_another_channel_is_not_voice_consent(channel: Channel) -> None:
    for kind, form_valid in ((ConsentKind.CRM_FORM, True), (ConsentKind.MANUAL_WRITTEN, None)):
        assert _fact(NUMBER, kind.value, channel.value, form_valid, False, CONSENT_AT) is None
        voice = _fact(NUMBER, kind.value, Channel.VOICE.value, form_valid, False, CONSENT_AT)
        assert voice is not None


def test_an_sms_revocation_of_the_number_fails_consent() -> None:
    """A voice opt-in, then STOP by text from the same number (here from another contact of
    the practice, whose revocation reaches this contact only through the number)."""
    rows = [
        _fact(NUMBER, ConsentKind.CRM_FORM.value, Channel.VOICE.value, True, False, CONSENT_AT),
        _fact(
            NUMBER,
            ConsentKind.REVOCATION.value,
            Channel.SMS.value,
            None,
            False,
            CONSENT_AT + timedelta(days=1),
        ),
    ]
    consent = ConsentFacts.from_records([row for row in rows if row is not None], NUMBER)
    assert consent.revoked_at == CONSENT_AT + timedelta(days=1)
    verdict = evaluate(make_facts(phone=NUMBER, consent=consent), NOW).verdict
    assert getattr(verdict, "reason", None) is ReasonCode.CONSENT_REVOKED
