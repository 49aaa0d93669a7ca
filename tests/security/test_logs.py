"""Logs hold no query strings and no patients' numbers (finding 6, Low).

Before: uvicorn's access log recorded `?q=Aria` and `?phone=%2B1...`, and PostgreSQL's
duplicate-key DETAIL named the number. Now the root handlers carry two filters
(`ringfence.log_safety`); `serve` lets uvicorn's loggers propagate to them (the end-to-end
check is in tests/e2e/test_cli_and_server.py, on a real `ringfence serve`)."""

from __future__ import annotations

import io
import logging

import pytest

from ringfence.log_safety import install_log_safety, scrub


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dialing +12125550147 now", "dialing +•••••••••47 now"),
        ("GET /x?phone=%2B12125550147", "GET /x?phone=+•••••••••47"),
        (
            "DETAIL:  Key (location_id, phone_e164)=(1, +12125550152) already exists.",
            "DETAIL:  Key (location_id, phone_e164)=(…) already exists.",
        ),
        ("job 12125550147 took 3 ms", "job 12125550147 took 3 ms"),  # no "+": an id, kept
        ("no numbers here", "no numbers here"),
    ],
)
def test_numbers_and_key_values_are_masked(text: str, expected: str) -> None:
    assert scrub(text) == expected


def test_a_full_access_line_and_an_exception_pass_the_root_handlers_clean() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    logger = logging.getLogger("log-safety-test")
    logger.handlers, logger.propagate = [handler], False
    install_log_safety(logger)
    install_log_safety(logger)  # once: no duplicate filters
    assert len(handler.filters) == 2
    access = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/app/contacts?q=Aria&phone=%2B12125550147", "1.1", 200),
        None,
    )
    handler.handle(access)
    try:
        raise ValueError("Key (e164)=(+12125550147) already exists")
    except ValueError:
        logger.exception("import of +13055550123 failed")
    out = stream.getvalue()
    assert 'GET /app/contacts HTTP/1.1" 200' in out
    assert "Aria" not in out
    assert "2125550147" not in out
    assert "3055550123" not in out
