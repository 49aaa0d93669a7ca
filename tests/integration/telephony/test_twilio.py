"""The Twilio carrier beyond the shared contract: the request it sends, at-most-once dialing
across lost answers, and the signed status and AMD callbacks (through the API, on a fake of
Twilio's REST API; nothing here reaches the network)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ringfence.adapters.db.carriers import CarrierCall
from ringfence.adapters.telephony.base import CarrierCallState, TelephonyError
from ringfence.adapters.telephony.twilio import TwilioCarrier, TwilioOptions, TwilioWebhooks
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.vocabulary import CallOutcome
from tests.integration.telephony.conftest import (
    BASE,
    TOKEN,
    dial_request,
    post_signed,
    rfc2822,
    signature,
)
from tests.integration.telephony.fake_twilio import FakeTwilio, number_for

SECOND = timedelta(seconds=1)
PERSON = number_for(CallOutcome.CONNECTED)


def _row(container: Container, key: str) -> CarrierCall:
    with container.session_factory() as session:
        row = session.scalars(select(CarrierCall).where(CarrierCall.idempotency_key == key)).one()
        session.expunge(row)
        return row


# --- The request -----------------------------------------------------------------------------


def test_dial_asks_for_a_media_stream_signed_callbacks_and_machine_detection(
    carrier: TwilioCarrier, fake: FakeTwilio
) -> None:
    receipt = carrier.dial(dial_request(PERSON, "k-1"))

    [call] = fake.calls_made
    assert receipt.carrier_call_id == call.sid
    assert receipt.accepted
    assert (call.to, call.from_) == (PERSON, "+16465550198")
    assert call.params["twiml"] == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Connect>'
        '<Stream url="wss://ringfence.example/twilio/media/k-1">'
        '<Parameter name="idempotency_key" value="k-1" /></Stream></Connect></Response>'
    )
    assert call.params["status_callback"] == f"{BASE}/twilio/status?key=k-1"
    assert call.params["status_callback_event"] == ["initiated", "ringing", "answered", "completed"]
    assert call.params["status_callback_method"] == "POST"
    assert call.params["machine_detection"] == "DetectMessageEnd"
    assert call.params["async_amd"] == "true"  # the agent greets at once; the verdict follows
    assert call.params["async_amd_status_callback"] == f"{BASE}/twilio/amd?key=k-1"
    assert int(str(call.params["timeout"])) >= 15


def test_machine_detection_can_be_turned_off(
    twilio_container: Container, fake: FakeTwilio, clock: VirtualClock
) -> None:
    options = TwilioOptions(public_base_url=BASE, machine_detection=False)
    carrier = TwilioCarrier(fake, twilio_container.session_factory, clock, options)
    carrier.dial(dial_request(PERSON, "k-1"))
    assert not {"machine_detection", "async_amd"} & set(fake.calls_made[0].params)


def test_the_key_is_claimed_in_the_database_before_the_request_is_sent(
    twilio_container: Container, carrier: TwilioCarrier, fake: FakeTwilio
) -> None:
    seen: list[tuple[str, str | None]] = []
    fake.on_create.append(lambda: seen.append(_status(twilio_container, "k-1")))
    carrier.dial(dial_request(PERSON, "k-1"))
    assert seen == [("requested", None)]
    assert _status(twilio_container, "k-1") == ("queued", fake.calls_made[0].sid)


def _status(container: Container, key: str) -> tuple[str, str | None]:
    row = _row(container, key)
    return row.status, row.carrier_call_id


def test_a_refusal_keeps_twilios_code_and_counts_as_a_failed_dial(
    carrier: TwilioCarrier, fake: FakeTwilio
) -> None:
    receipt = carrier.dial(dial_request(number_for(CallOutcome.FAILED), "k-1"))
    assert not receipt.accepted
    assert receipt.carrier_reason == "Twilio 21211: Invalid 'To' Phone Number"
    assert fake.calls_made == []
    assert carrier.dial(dial_request(number_for(CallOutcome.FAILED), "k-1")) == receipt
    assert fake.calls_under("k-1") == 1


# --- At most once ----------------------------------------------------------------------------


def test_an_answer_lost_after_twilio_placed_the_call_is_recovered_from_its_list(
    carrier: TwilioCarrier, fake: FakeTwilio
) -> None:
    fake.drop_next_create = "after"
    receipt = carrier.dial(dial_request(PERSON, "k-1"))
    [call] = fake.calls_made
    assert (receipt.carrier_call_id, receipt.accepted) == (call.sid, True)
    assert fake.lists == 1
    assert fake.calls_under("k-1") == 1


def test_an_answer_lost_while_twilio_cannot_be_asked_is_settled_by_lookup(
    twilio_container: Container, carrier: TwilioCarrier, fake: FakeTwilio, clock: VirtualClock
) -> None:
    fake.drop_next_create = "after"
    fake.fail_next_list = True
    request = dial_request(PERSON, "k-1")
    with pytest.raises(TelephonyError, match="may exist"):
        carrier.dial(request)
    [call] = fake.calls_made
    assert _status(twilio_container, "k-1") == ("requested", None)

    clock.advance(2 * SECOND)
    restarted = TwilioCarrier(
        fake, twilio_container.session_factory, clock, TwilioOptions(public_base_url=BASE)
    )
    report = restarted.lookup("k-1")
    assert report is not None
    assert report.carrier_call_id == call.sid
    assert report.state is CarrierCallState.RINGING
    assert restarted.dial(request).carrier_call_id == call.sid  # the same call, not a new one
    assert fake.calls_under("k-1") == 1


def test_the_initiated_callback_settles_a_lost_answer_without_searching(
    twilio_client: TestClient, carrier: TwilioCarrier, fake: FakeTwilio, clock: VirtualClock
) -> None:
    fake.drop_next_create = "after"
    fake.fail_next_list = True
    request = dial_request(PERSON, "k-1")
    with pytest.raises(TelephonyError):
        carrier.dial(request)
    sid = fake.calls_made[0].sid
    lists = fake.lists

    params = {"CallSid": sid, "CallStatus": "initiated", "Timestamp": rfc2822(clock.now())}
    assert post_signed(twilio_client, "/twilio/status?key=k-1", params) == 204

    receipt = carrier.dial(request)
    assert (receipt.carrier_call_id, receipt.accepted) == (sid, True)
    assert fake.lists == lists  # no search needed: the callback named the call
    assert fake.calls_under("k-1") == 1


def test_a_request_that_never_reached_twilio_is_placed_by_the_next_dial(
    carrier: TwilioCarrier, fake: FakeTwilio, clock: VirtualClock
) -> None:
    fake.drop_next_create = "before"
    request = dial_request(PERSON, "k-1")
    with pytest.raises(TelephonyError):
        carrier.dial(request)
    with pytest.raises(TelephonyError, match="not reported it yet"):
        carrier.lookup("k-1")  # too early to say it was never placed

    clock.advance(61 * SECOND)
    assert carrier.lookup("k-1") is None  # no callback, nothing in Twilio's list: not placed
    receipt = carrier.dial(request)  # the dispatcher dials the key again
    assert receipt.accepted
    assert fake.calls_under("k-1") == 1
    assert [c.sid for c in fake.calls_made] == [receipt.carrier_call_id]


def test_a_call_declared_never_placed_that_turns_up_keeps_its_place_and_the_resend_is_canceled(
    twilio_container: Container, carrier: TwilioCarrier, fake: FakeTwilio, clock: VirtualClock
) -> None:
    """The residual case: Twilio took the request, but neither its callback nor its call list
    showed the call for a minute. The resent request's call is canceled at once."""
    fake.drop_next_create = "after"
    fake.fail_next_list = True
    request = dial_request(PERSON, "k-1")
    with pytest.raises(TelephonyError):
        carrier.dial(request)
    first = fake.calls_made[0].sid
    fake.unlisted.add(first)
    clock.advance(61 * SECOND)
    assert carrier.lookup("k-1") is None

    webhooks = TwilioWebhooks(
        twilio_container.session_factory, clock, auth_token=TOKEN, public_base_url=BASE
    )

    def late_callback() -> None:  # the first call's callback arrives while the resend is sent
        webhooks.record_status("k-1", {"CallSid": first, "CallStatus": "ringing"})

    fake.on_create.append(late_callback)
    receipt = carrier.dial(request)

    second = fake.calls_made[1]
    assert receipt.carrier_call_id == first
    assert second.instance(clock.now()).status == "canceled"


@pytest.mark.parametrize(
    ("http", "code", "message"),
    [(429, 20429, "Too Many Requests"), (401, 20003, "Authenticate")],
)
def test_a_request_refused_for_the_account_places_nothing_and_may_be_sent_again(
    carrier: TwilioCarrier, fake: FakeTwilio, http: int, code: int, message: str
) -> None:
    fake.refuse_next_create = (http, code, message)
    request = dial_request(PERSON, "k-1")
    with pytest.raises(TelephonyError, match=f"Twilio {code}"):
        carrier.dial(request)
    assert carrier.lookup("k-1") is None
    assert carrier.dial(request).accepted
    assert len(fake.calls_made) == 1


def test_an_unreachable_twilio_leaves_the_dial_unknown_until_it_can_say(
    carrier: TwilioCarrier, fake: FakeTwilio, clock: VirtualClock
) -> None:
    fake.unreachable = True
    with pytest.raises(TelephonyError, match="may exist"):
        carrier.dial(dial_request(PERSON, "k-1"))
    clock.advance(120 * SECOND)
    with pytest.raises(TelephonyError, match="cannot list"):
        carrier.lookup("k-1")  # Twilio cannot be asked: unknown, never "not placed"
    fake.unreachable = False
    assert carrier.lookup("k-1") is None


# --- Status callbacks -----------------------------------------------------------------------


def _callback(sid: str, status: str, at: str, **more: str) -> dict[str, str]:
    return {"CallSid": sid, "CallStatus": status, "Timestamp": at, "AccountSid": "AC1", **more}


def test_signed_callbacks_drive_the_call_to_its_report_without_polling(
    twilio_client: TestClient, carrier: TwilioCarrier, fake: FakeTwilio, clock: VirtualClock
) -> None:
    sid = carrier.dial(dial_request(PERSON, "k-1")).carrier_call_id
    dialed = clock.now()
    path = "/twilio/status?key=k-1"
    assert post_signed(twilio_client, path, _callback(sid, "initiated", rfc2822(dialed))) == 204
    clock.advance(SECOND)
    assert post_signed(twilio_client, path, _callback(sid, "ringing", rfc2822(clock.now()))) == 204
    clock.advance(4 * SECOND)
    answered = clock.now()
    assert post_signed(twilio_client, path, _callback(sid, "in-progress", rfc2822(answered))) == 204
    report = carrier.lookup("k-1")  # asks Twilio (the fake still rings): never moves back
    assert report is not None
    assert (report.state, report.answered_at) == (CarrierCallState.IN_PROGRESS, answered)
    fetched = fake.fetches

    clock.advance(42 * SECOND)
    ended = clock.now()
    done = _callback(sid, "completed", rfc2822(ended), CallDuration="42")
    assert post_signed(twilio_client, path, done) == 204
    [report] = carrier.completed_reports()
    assert fake.fetches == fetched  # the callback said it all
    assert report.outcome is CallOutcome.CONNECTED
    assert (report.dialed_at, report.answered_at, report.ended_at) == (dialed, answered, ended)
    assert (report.duration_seconds, report.billable_seconds) == (47, 42)
    assert carrier.completed_reports() == []


def test_the_amd_callback_makes_an_answered_call_a_voicemail(
    twilio_client: TestClient, carrier: TwilioCarrier, clock: VirtualClock
) -> None:
    sid = carrier.dial(dial_request(PERSON, "k-1")).carrier_call_id
    amd = {"CallSid": sid, "AnsweredBy": "machine_end_beep", "MachineDetectionDuration": "4100"}
    assert post_signed(twilio_client, "/twilio/amd?key=k-1", amd) == 204
    clock.advance(30 * SECOND)
    done = _callback(sid, "completed", rfc2822(clock.now()), CallDuration="25")
    assert post_signed(twilio_client, "/twilio/status?key=k-1", done) == 204
    [report] = carrier.completed_reports()
    assert report.outcome is CallOutcome.VOICEMAIL


@pytest.mark.parametrize(
    ("status", "extra", "outcome", "reason"),
    [
        ("busy", {"SipResponseCode": "486"}, CallOutcome.BUSY, "SIP 486"),
        ("no-answer", {"SipResponseCode": "480"}, CallOutcome.NO_ANSWER, "SIP 480"),
        (
            "failed",
            {"ErrorCode": "32009", "ErrorMessage": "Number unreachable", "SipResponseCode": "404"},
            CallOutcome.FAILED,
            "Twilio 32009: Number unreachable; SIP 404",
        ),
        ("canceled", {}, CallOutcome.FAILED, "canceled by the carrier"),
    ],
)
def test_unconnected_calls_keep_the_carriers_code(
    twilio_client: TestClient,
    carrier: TwilioCarrier,
    clock: VirtualClock,
    status: str,
    extra: dict[str, str],
    outcome: CallOutcome,
    reason: str,
) -> None:
    sid = carrier.dial(dial_request(PERSON, "k-1")).carrier_call_id
    clock.advance(20 * SECOND)
    params = _callback(sid, status, rfc2822(clock.now()), **extra)
    assert post_signed(twilio_client, "/twilio/status?key=k-1", params) == 204
    [report] = carrier.completed_reports()
    assert (report.outcome, report.carrier_reason) == (outcome, reason)
    assert report.answered_at is None
    assert report.billable_seconds == 0


def test_callbacks_out_of_order_never_move_a_call_backwards(
    twilio_client: TestClient, carrier: TwilioCarrier, clock: VirtualClock
) -> None:
    sid = carrier.dial(dial_request(PERSON, "k-1")).carrier_call_id
    path = "/twilio/status?key=k-1"
    clock.advance(10 * SECOND)
    done = _callback(sid, "completed", rfc2822(clock.now()), CallDuration="4")
    assert post_signed(twilio_client, path, done) == 204
    for late in ("in-progress", "ringing", "initiated", "busy"):
        assert post_signed(twilio_client, path, _callback(sid, late, rfc2822(clock.now()))) == 204
    [report] = carrier.completed_reports()
    assert (report.outcome, report.billable_seconds) == (CallOutcome.CONNECTED, 4)


def test_a_callback_naming_another_call_is_ignored(
    twilio_container: Container, twilio_client: TestClient, carrier: TwilioCarrier
) -> None:
    carrier.dial(dial_request(PERSON, "k-1"))
    params = _callback("CA" + "f" * 32, "completed", "", CallDuration="4")
    assert post_signed(twilio_client, "/twilio/status?key=k-1", params) == 204
    assert _row(twilio_container, "k-1").status == "queued"


def test_a_call_whose_callbacks_are_lost_is_polled_once_quiet(
    carrier: TwilioCarrier, fake: FakeTwilio, clock: VirtualClock
) -> None:
    carrier.dial(dial_request(PERSON, "k-1"))  # rings 6 s, talks 90 s
    clock.advance(59 * SECOND)
    assert carrier.completed_reports() == []
    assert fake.fetches == 0
    clock.advance(41 * SECOND)
    [report] = carrier.completed_reports()
    assert fake.fetches == 1
    assert report.outcome is CallOutcome.CONNECTED
    assert report.billable_seconds == 90


# --- Forged, unsigned or misdirected callbacks -----------------------------------------------


def test_unsigned_or_forged_callbacks_are_refused_and_change_nothing(
    twilio_container: Container, twilio_client: TestClient, carrier: TwilioCarrier
) -> None:
    sid = carrier.dial(dial_request(PERSON, "k-1")).carrier_call_id
    path = "/twilio/status?key=k-1"
    params = _callback(sid, "completed", "", CallDuration="60")
    forged_params = dict(params, CallDuration="1")
    attempts = [
        {},  # unsigned
        {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
        {"X-Twilio-Signature": signature(BASE + path, params, token="f" * 32)},  # other token
        {"X-Twilio-Signature": signature(BASE + "/twilio/status?key=k-2", params)},  # other URL
        {"X-Twilio-Signature": signature(BASE + path, forged_params)},  # tampered fields
    ]
    for headers in attempts:
        response = twilio_client.post(path, data=params, headers=headers)
        assert response.status_code == 403
    amd = {"CallSid": sid, "AnsweredBy": "machine_start"}
    assert twilio_client.post("/twilio/amd?key=k-1", data=amd).status_code == 403
    row = _row(twilio_container, "k-1")
    assert (row.status, row.answered_by, row.ended_at) == ("queued", None, None)


def test_without_an_auth_token_every_callback_is_refused(
    twilio_container: Container, twilio_client: TestClient, carrier: TwilioCarrier
) -> None:
    sid = carrier.dial(dial_request(PERSON, "k-1")).carrier_call_id
    twilio_container.settings.twilio_auth_token = None
    params = _callback(sid, "completed", "", CallDuration="60")
    assert post_signed(twilio_client, "/twilio/status?key=k-1", params, token=TOKEN) == 403
    assert _row(twilio_container, "k-1").status == "queued"


def test_a_signed_callback_without_the_fields_it_needs_is_a_bad_request(
    twilio_client: TestClient, carrier: TwilioCarrier
) -> None:
    carrier.dial(dial_request(PERSON, "k-1"))
    assert post_signed(twilio_client, "/twilio/status?key=k-1", {"CallStatus": "ringing"}) == 400
    assert post_signed(twilio_client, "/twilio/status", {"CallSid": "CA1"}) == 400
