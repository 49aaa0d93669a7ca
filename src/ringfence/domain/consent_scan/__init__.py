"""The consent scanner: is a form's consent text a valid opt-in for outbound AI-voice calls?

Pure: `scan(text, business_name=..., covers_sms=...)` returns a `ConsentScan` (score,
validity, one `Finding` per element with a paste-ready suggestion, the scanner version).
`evaluation` measures the scanner against the reviewed set shipped in `eval_set/`.
"""

from __future__ import annotations

from ringfence.domain.consent_scan.elements import (
    BLOCKING,
    CATALOGUE,
    Element,
    ElementSpec,
    Status,
)
from ringfence.domain.consent_scan.scanner import (
    SCANNER_VERSION,
    VALID_SCORE_THRESHOLD,
    ConsentScan,
    Finding,
    scan,
)

__all__ = [
    "BLOCKING",
    "CATALOGUE",
    "SCANNER_VERSION",
    "VALID_SCORE_THRESHOLD",
    "ConsentScan",
    "Element",
    "ElementSpec",
    "Finding",
    "Status",
    "scan",
]
