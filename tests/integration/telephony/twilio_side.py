"""Twilio's side of a media stream (wss://.../twilio/media/{key}), as the tests play it: the
`connected` and `start` messages, then the callee's audio one 20 ms µ-law `media` message at a
time, each message numbered as Twilio numbers them."""

from __future__ import annotations

import base64
import json
from typing import Any

from starlette.testclient import WebSocketTestSession

from ringfence.adapters.telephony.g711 import FRAME_BYTES, pcm16_to_mulaw


class TwilioSide:
    def __init__(self, ws: WebSocketTestSession, *, key: str, call_sid: str, stream: str) -> None:
        self.ws, self.key, self.call_sid, self.stream = ws, key, call_sid, stream
        self.sequence = self.chunk = 0

    def send(self, event: str, **body: Any) -> None:
        self.sequence += 1
        message = {"event": event, "sequenceNumber": str(self.sequence), "streamSid": self.stream}
        self.ws.send_text(json.dumps({**message, **body}))

    def start(self) -> None:
        self.ws.send_text(
            json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        )
        self.send(
            "start",
            start={
                "streamSid": self.stream,
                "accountSid": "AC" + "0" * 32,
                "callSid": self.call_sid,
                "tracks": ["inbound"],
                "customParameters": {"idempotency_key": self.key},
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            },
        )

    def audio(self, pcm16: bytes) -> None:
        """The callee's audio, as Twilio sends it: one `media` message per 20 ms."""
        mulaw = pcm16_to_mulaw(pcm16)
        for i in range(0, len(mulaw), FRAME_BYTES):
            self.chunk += 1
            media = {
                "track": "inbound",
                "chunk": str(self.chunk),
                "timestamp": str(20 * (self.chunk - 1)),
                "payload": base64.b64encode(mulaw[i : i + FRAME_BYTES]).decode(),
            }
            self.send("media", media=media)
