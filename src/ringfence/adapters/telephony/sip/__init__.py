"""The SIP carrier: an RFC 3261 user agent client for outbound calls over UDP, with G.711 RTP.

Pure parts (no I/O): `message` (parse and render SIP messages), `digest` (authentication),
`sdp` (the offer and the answer), `rtp` (packets), `outcomes` (final responses as call
outcomes), `dialog` (the requests of one call, as RFC 3261 builds them). I/O: `call` (one
call's transactions on an asyncio loop), `rtp_bridge` (its media, bridged to the agent's
session), `endpoint` (the UDP socket and the loop's thread), `carrier` (the
`TelephonyProvider`).
"""
