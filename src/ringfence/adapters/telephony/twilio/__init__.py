"""Twilio as a carrier: calls placed through the REST API, their state from signed callbacks.

This is the control plane. `TwilioCarrier` keeps the `TelephonyProvider` contract with
Twilio's REST API (`calls.create`, `calls(sid).fetch/update`, `calls.list`), through a client
object injected at construction (`twilio.rest.Client`, or the tests' fake of it).
`TwilioWebhooks` checks the `X-Twilio-Signature` of what Twilio posts back and records it. The
call's audio is a bidirectional Media Stream opened by the TwiML `<Connect><Stream>` given at
dial time, served by `entrypoints/api/carriers/twilio.py` with `media.py`.

At most once, with an API that has no idempotency key (docs/carriers.md has the long form):
1. The row claiming a key in `carrier_calls` is committed *before* the create request is sent,
   and only the process whose insert won sends it: one key, one request.
2. When Twilio answers, its CallSid is written to the row. A crash between the request and
   that write leaves a `requested` row; it is settled by the `initiated` status callback (its
   signed URL carries the key), or by `lookup`, which searches Twilio's calls for one to the
   same number from the same caller ID created around the request time.
3. A `requested` row that neither settles within `unknown_after` was never placed: it is
   marked `not_placed`, `lookup` answers None, and the dispatcher's next dial of the key may
   send a request again. That last step is the one place a duplicate could arise: a request
   Twilio accepted but whose call neither called back nor appeared in its call list for that
   long.

Twilio statuses map to outcomes: completed (answered by a person) -> connected, completed and
AnsweredBy machine_* -> voicemail, no-answer, busy, failed -> failed with Twilio's error code and
SIP response kept as `carrier_reason`; canceled -> no answer when Ringfence hung up before the
answer (as the sandbox reports it), failed otherwise.

The SDK is the optional `[twilio]` extra, imported when first needed.
"""

from __future__ import annotations

from ringfence.adapters.telephony.twilio.carrier import TwilioCarrier, TwilioOptions, connect_twilio
from ringfence.adapters.telephony.twilio.rest import (
    INSTALL_HINT,
    TwilioCallResource,
    TwilioRestClient,
    TwilioUnavailable,
)
from ringfence.adapters.telephony.twilio.state import (
    FINAL_STATUSES,
    CallState,
    Observation,
    observation_of_callback,
    observation_of_resource,
    observe,
    outcome_of,
    report_of,
)
from ringfence.adapters.telephony.twilio.twiml import (
    AMD_PATH,
    KEY_PARAMETER,
    MEDIA_PATH,
    STATUS_PATH,
    PublicUrls,
    stream_twiml,
    transfer_twiml,
    websocket_url,
)
from ringfence.adapters.telephony.twilio.webhooks import TwilioWebhooks

__all__ = [
    "AMD_PATH",
    "FINAL_STATUSES",
    "INSTALL_HINT",
    "KEY_PARAMETER",
    "MEDIA_PATH",
    "STATUS_PATH",
    "CallState",
    "Observation",
    "PublicUrls",
    "TwilioCallResource",
    "TwilioCarrier",
    "TwilioOptions",
    "TwilioRestClient",
    "TwilioUnavailable",
    "TwilioWebhooks",
    "connect_twilio",
    "observation_of_callback",
    "observation_of_resource",
    "observe",
    "outcome_of",
    "report_of",
    "stream_twiml",
    "transfer_twiml",
    "websocket_url",
]
