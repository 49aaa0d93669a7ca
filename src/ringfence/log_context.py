"""Which request and which call a log line belongs to, and the opt-in JSON log format.

A request's id (its `X-Request-ID` header when it sends a sane one, else a new one: see
`entrypoints/request_ids.py`) and the call job being worked on (`bound_call`) are kept in
context variables, so every line logged while handling them carries them: the thread pool
FastAPI runs sync handlers on copies the context along.

`configure_logging` sets up the root logger once per process, in the settings' `log_format`:
`text` (the default, as before) or `json`, one object a line for a log collector. Either way
the handlers keep `log_safety`'s filters, so the JSON's message and exception text are the
scrubbed ones: the formatter reads what the filters left, never the raw arguments.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Final, Literal

from ringfence.log_safety import install_log_safety, scrub

REQUEST_ID: Final = contextvars.ContextVar[str | None]("ringfence_request_id", default=None)
CALL_ID: Final = contextvars.ContextVar[int | None]("ringfence_call_id", default=None)

# What a client may choose as its request id: short, and nothing a log reader could mistake
# for another field (or a patient's number: digits alone are not enough to be taken).
_SANE_ID: Final = re.compile(r"[A-Za-z0-9._:-]{8,64}")


def request_id_from(header: str | None) -> str:
    """The client's request id when it is sane, else a new one."""
    if header is not None and _SANE_ID.fullmatch(header) and not header.isdigit():
        return header
    return uuid.uuid4().hex


@contextmanager
def bound_call(call_id: int | None) -> Iterator[None]:
    """Lines logged inside carry this call job's id."""
    token = CALL_ID.set(call_id)
    try:
        yield
    finally:
        CALL_ID.reset(token)


class ContextFields(logging.Filter):
    """Stamps each record with the request and call it belongs to (None outside any)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        if getattr(record, "call_id", None) is None:
            record.call_id = CALL_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id, call_id, and the
    exception when there is one (as the scrubbing filter left it)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "call_id": getattr(record, "call_id", None),
        }
        if record.exc_info and not record.exc_text:
            # No scrubber ran (a handler set up without log_safety): scrub here.
            record.exc_text = scrub(self.formatException(record.exc_info))
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = scrub(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(log_format: Literal["text", "json"], *, text_format: str) -> None:
    """The root logger at INFO on stderr, in `log_format`, with the context fields and the PHI
    filters on its handler (`text_format` is the plain format the caller used before)."""
    logging.basicConfig(level=logging.INFO, format=text_format)
    for handler in logging.getLogger().handlers:
        if log_format == "json":
            handler.setFormatter(JsonFormatter())
        if not any(isinstance(f, ContextFields) for f in handler.filters):
            handler.addFilter(ContextFields())
    install_log_safety()
