"""The SIP carrier: an RFC 3261 user agent client for outbound calls over UDP, with G.711 RTP.

Pure parts (no I/O): `message` (parse and render SIP messages), `digest` (authentication),
`sdp` (the offer and the answer), `rtp` (packets), `outcomes` (final responses as call
outcomes). I/O: `call` (one call's transactions and media on an asyncio loop), `endpoint`
(the UDP socket and the loop's thread), `carrier` (the `TelephonyProvider`).
"""
