"""What the process's logs may not hold: patients' phone numbers, a duplicate key's values,
query strings (searches by name, numbers to look up).

`install_log_safety()` puts two filters on the root logger's handlers, so every record that
reaches a log (Ringfence's own, SQLAlchemy's, uvicorn's access and error logs, which `serve`
lets propagate to the root) passes them:

- `AccessLogWithoutQuery`: uvicorn's access line keeps the path and drops `?...`
  (`/app/contacts?q=Aria` is logged as `/app/contacts`);
- `PhiScrubber`: phone numbers in E.164 (`+12125550147`, also percent-encoded `%2B1212...`)
  keep their last two digits only, and PostgreSQL's `DETAIL: Key (...)=(...)` loses its values.

Names cannot be found by a pattern: the code never logs them (the engines hide statement
parameters; `hide_parameters` in adapters/db/engine.py).
"""

from __future__ import annotations

import logging
import re
from typing import Final

_PHONE: Final = re.compile(r"(?:\+|%2[Bb])(\d{6,13})(\d{2})\b")
_KEY_VALUES: Final = re.compile(r"(Key \([^)]*\)=)\((?:[^()]|\([^()]*\))*\)")


def scrub(text: str) -> str:
    """`text` with phone numbers masked and duplicate-key values removed."""
    text = _PHONE.sub(lambda m: "+" + "•" * len(m.group(1)) + m.group(2), text)
    return _KEY_VALUES.sub(r"\1(…)", text)


class PhiScrubber(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class AccessLogWithoutQuery(logging.Filter):
    """uvicorn's access record: (client, method, path with query, HTTP version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            args = list(record.args)
            if len(args) >= 3 and isinstance(args[2], str):
                args[2] = args[2].split("?", 1)[0]
                record.args = tuple(args)
        return True


def install_log_safety(logger: logging.Logger | None = None) -> None:
    """Put the filters on every handler of `logger` (the root logger by default); once."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        kinds = {type(f) for f in handler.filters}
        if AccessLogWithoutQuery not in kinds:
            handler.addFilter(AccessLogWithoutQuery())  # before the scrubber formats the line
        if PhiScrubber not in kinds:
            handler.addFilter(PhiScrubber())
