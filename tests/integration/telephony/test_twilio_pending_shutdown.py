"""An inbound Twilio call answered just before the server stops, whose media stream never
came: its expiry timer dies with the event loop, so the app's shutdown closes it unanswered
(otherwise its record stays in progress and holds a line until the dispatcher's sweep)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ringfence.adapters.telephony.twilio.pending import PendingStreams
from ringfence.bootstrap import Container
from ringfence.entrypoints.asgi import create_app
from tests.integration.telephony.conftest import BASE
from tests.unit.telephony.test_twilio_pending import Prepared


def test_the_server_stopping_closes_the_calls_still_waiting_for_their_stream(
    twilio_container: Container,
) -> None:
    waiting, taken = Prepared(), Prepared()
    with TestClient(create_app(twilio_container), base_url=BASE) as client:
        pending = client.app.state.twilio_pending  # type: ignore[attr-defined]
        assert isinstance(pending, PendingStreams)
        pending.hold("CA" + "1" * 32, waiting)
        key = pending.hold("CA" + "2" * 32, taken)
        assert pending.take(key) is not None  # its stream came: no longer the app's to close
        assert waiting.discarded == 0  # nothing is closed while the server runs
    assert waiting.discarded == 1
    assert taken.discarded == 0
    assert len(pending) == 0


def test_one_call_that_cannot_be_closed_does_not_stop_the_shutdown(
    twilio_container: Container,
) -> None:
    broken, other = Prepared(fails=True), Prepared()
    with TestClient(create_app(twilio_container), base_url=BASE) as client:
        pending = client.app.state.twilio_pending  # type: ignore[attr-defined]
        pending.hold("CA" + "3" * 32, broken)
        pending.hold("CA" + "4" * 32, other)
    assert (broken.discarded, other.discarded) == (1, 1)
