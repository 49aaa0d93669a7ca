"""The Contacts pages' words: every code the gate, the ledger or a call job can carry has a
sentence (a new one cannot reach staff raw), and the calling status follows the gate's checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ringfence.domain.compliance import (
    AccountFacts,
    CallFacts,
    ConsentFacts,
    ContactFacts,
    LocationFacts,
    ReasonCode,
    Suppression,
    SuppressionSource,
    WarningCode,
    evaluate,
)
from ringfence.domain.vocabulary import (
    CallOutcome,
    CallPurpose,
    CallStatus,
    Channel,
    ContactSource,
    KycStatus,
)
from ringfence.services.contact_words import (
    CHANNELS,
    CONTACT_SOURCES,
    PLAIN_REASONS,
    PLAIN_WARNINGS,
    SUPPRESSION_HOW,
    CallingStatus,
    call_status_words,
    calling_status,
    job_reason_words,
    phone_display,
)

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # 10:00 in New York
NUMBER = "+12125550147"


def test_every_reason_code_the_gate_can_emit_has_a_plain_sentence() -> None:
    assert set(PLAIN_REASONS) == set(ReasonCode)
    assert set(PLAIN_WARNINGS) == set(WarningCode)
    for sentence in [*PLAIN_REASONS.values(), *PLAIN_WARNINGS.values()]:
        assert sentence.endswith("."), sentence
        assert "_" not in sentence, sentence  # no code-like words in what staff read


def test_every_opt_out_path_contact_source_and_channel_has_words() -> None:
    assert set(SUPPRESSION_HOW) == set(SuppressionSource)
    assert set(CONTACT_SOURCES) == set(ContactSource)
    assert set(CHANNELS) == set(Channel)
    texts = [*SUPPRESSION_HOW.values(), *CONTACT_SOURCES.values(), *CHANNELS.values()]
    assert all(text and "_" not in text for text in texts)


@pytest.mark.parametrize("status", list(CallStatus))
def test_every_call_state_reads_in_words(status: CallStatus) -> None:
    words = call_status_words(status, None, None)
    assert words[0].isupper()
    assert "_" not in words


def test_a_call_jobs_reason_is_a_sentence_or_nothing_never_the_code() -> None:
    assert call_status_words(CallStatus.COMPLETED, CallOutcome.BUSY, None) == "No Answer"
    assert (
        call_status_words(CallStatus.CANCELED, None, "opted_out")
        == "Canceled: the number opted out"
    )
    failed = call_status_words(CallStatus.FAILED, None, ReasonCode.FOURTEEN_DAY_CAP.value)
    assert failed.startswith("Not placed: this number already had the most calls")
    for code in ReasonCode:
        assert job_reason_words(code.value) is not None
    assert job_reason_words("a_code_from_the_future") is None
    assert call_status_words(CallStatus.FAILED, None, "a_code_from_the_future") == "Not placed"


def test_phone_numbers_read_as_staff_write_them() -> None:
    assert phone_display(NUMBER) == "(212) 555-0147"
    assert phone_display("+16475550100") == "+1 647-555-0100"  # Canada: not a US number
    assert phone_display(None) == "—"


def _facts(
    *,
    phone: str | None = NUMBER,
    consent: ConsentFacts | None = None,
    suppression: Suppression | None = None,
    dnd: bool = False,
    kyc: KycStatus = KycStatus.APPROVED,
) -> CallFacts:
    return CallFacts(
        purpose=CallPurpose.APPOINTMENT_CONFIRMATION,
        account=AccountFacts(kyc_status=kyc, outbound_enabled=True),
        contact=ContactFacts(phone_e164=phone, source=ContactSource.IMPORT, dnd_voice=dnd),
        consent=consent or ConsentFacts(),
        suppression=suppression,
        location=LocationFacts(time_zone="America/New_York"),
        number_dials=(),
    )


CONSENTED = ConsentFacts(manual_written_at=NOW - timedelta(days=3))
OPTED_OUT = Suppression(NOW - timedelta(days=1), SuppressionSource.CALL_OPT_OUT)


@pytest.mark.parametrize(
    ("facts", "status"),
    [
        (_facts(consent=CONSENTED), CallingStatus.CAN_BE_CALLED),
        # The patient's standing, not the practice's: KYC is the eligibility answer's business.
        (_facts(consent=CONSENTED, kyc=KycStatus.SUBMITTED), CallingStatus.CAN_BE_CALLED),
        (_facts(), CallingStatus.NO_CONSENT),
        (_facts(consent=CONSENTED, suppression=OPTED_OUT), CallingStatus.OPTED_OUT),
        (_facts(consent=CONSENTED, dnd=True), CallingStatus.OPTED_OUT),
        (
            _facts(consent=ConsentFacts(revoked_at=NOW - timedelta(hours=1))),
            CallingStatus.OPTED_OUT,
        ),
        (
            _facts(
                consent=ConsentFacts(
                    revoked_at=NOW - timedelta(days=1), held_at=NOW - timedelta(hours=1)
                ),
                suppression=OPTED_OUT,
            ),
            CallingStatus.CONSENT_HELD,
        ),
        (_facts(phone=None), CallingStatus.NO_NUMBER),
        (_facts(phone="+18005550100", consent=CONSENTED), CallingStatus.NO_NUMBER),
    ],
    ids=[
        "consent",
        "kyc-pending",
        "none",
        "suppressed",
        "dnd",
        "revoked",
        "held",
        "no-number",
        "toll-free",
    ],
)
def test_the_calling_status_follows_the_gates_checks(
    facts: CallFacts, status: CallingStatus
) -> None:
    assert calling_status(evaluate(facts, NOW)) is status
