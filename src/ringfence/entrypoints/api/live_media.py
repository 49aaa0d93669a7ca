"""Live calls' media on the app: the speech pipeline behind Twilio's media streams.

Set up only when the Twilio carrier is configured (account SID, auth token, public URL):
`app.state.media_sessions` builds each call's `VoicePipeline` (`services/live_media.py`), and
`app.state.media_hangup` ends a call when its pipeline says so (`app.state.media_transfer`
hands it to staff). Without the speech engines
the setting asks for, nothing is set and streams are refused (1011), with the reason logged.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI

from ringfence.adapters.telephony.base import CallTransferrer
from ringfence.bootstrap import Container
from ringfence.bootstrap.carriers import live_media_sessions, make_twilio_carrier

log = logging.getLogger("ringfence.twilio")


def install_live_media(app: FastAPI, container: Container) -> None:
    settings = container.settings
    if not (
        settings.twilio_account_sid and settings.twilio_auth_token and settings.public_base_url
    ):
        return  # no Twilio carrier: no media streams to serve
    sessions = live_media_sessions(container)
    if sessions is None:
        log.error("media streams of Twilio calls will be refused: no speech engines")
        return
    carrier = make_twilio_carrier(container)
    app.state.media_sessions = sessions
    app.state.media_hangup = carrier.hangup
    if isinstance(carrier, CallTransferrer):
        app.state.media_transfer = carrier.transfer
