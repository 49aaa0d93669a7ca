"""Live calls' media on the app: the speech pipeline behind Twilio's media streams.

Set up only when the Twilio carrier is configured (account SID, auth token, public URL):
`app.state.media_sessions` builds each call's `VoicePipeline` (`speech.sessions`), and
`app.state.media_hangup` ends a call when its pipeline says so. Without the speech engines
the setting asks for, nothing is set and streams are refused (1011), with the reason logged.
"""

from __future__ import annotations

import logging
import threading

from fastapi import FastAPI

from ringfence.agent.policies.factory import policy_factory
from ringfence.bootstrap import Container
from ringfence.entrypoints.worker import make_twilio_carrier
from ringfence.speech.contracts import SpeechEngineUnavailable
from ringfence.speech.sessions import LiveMediaSessions, engines_of

log = logging.getLogger("ringfence.twilio")


def install_live_media(app: FastAPI, container: Container) -> None:
    settings = container.settings
    if not (
        settings.twilio_account_sid and settings.twilio_auth_token and settings.public_base_url
    ):
        return  # no Twilio carrier: no media streams to serve
    try:
        engines = engines_of(settings.speech_engines)
    except SpeechEngineUnavailable as exc:
        log.error("media streams of Twilio calls will be refused: %s", exc)
        return
    app.state.media_sessions = LiveMediaSessions(
        container.session_factory,
        engines=engines,
        policy_for=policy_factory(settings),
        results=container.live_calls,
        store_dir=settings.recordings_dir,
        cipher=container.phi_cipher,
    )
    app.state.media_hangup = make_twilio_carrier(container).hangup
    if settings.speech_engines == "local":
        # Load Whisper and Piper now, not on the first call's answer: loading takes seconds,
        # and the agent must speak within 2 s of the answer (the abandonment rule).
        threading.Thread(target=engines, name="speech-warm-up", daemon=True).start()
