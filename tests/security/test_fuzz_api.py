"""Schemathesis against the whole API, authenticated as a tenant (issue 16, item 9).

Every operation of the OpenAPI document gets generated requests (valid and invalid, bounded
by `RINGFENCE_FUZZ_EXAMPLES` per operation to fit CI) and every check schemathesis has: no 5xx,
every response matching its documented schema, documented status codes and content types,
and so on. Runs on SQLite and on PostgreSQL (this folder is in the PostgreSQL pass).

The pytest integration of schemathesis does not load under this pytest; the operations are
driven here with their hypothesis strategies instead, one test per operation."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from ringfence.bootstrap import Container
from ringfence.config import Settings
from ringfence.entrypoints.api.app import create_app
from ringfence.entrypoints.api.rate_limits import Limited
from tests.conftest import Tenant

FUZZ_EXAMPLES = int(os.environ.get("RINGFENCE_FUZZ_EXAMPLES", "15"))
# Every check but one: "a schema-valid request must be accepted" cannot know the rules the
# schema does not express (a cursor is a string, but only ours decode; a contact id must be
# the tenant's), which answer 422 or 404 by design.
EXCLUDED = [checks.positive_data_acceptance]


class Unlimited:
    """The fuzzer sends thousands of requests, unauthenticated ones among them (to check auth
    is enforced): rate limits would answer 429 to the rest. They have their own tests."""

    def hit(self, rules: str, *keys: str) -> Limited | None:
        return None

    def exhausted(self, rules: str, *keys: str) -> Limited | None:
        return None


def _schema_app() -> FastAPI:
    """An app to read the OpenAPI document from at collection time (no database touched)."""
    from ringfence.bootstrap import bootstrap

    return create_app(bootstrap(Settings(database_url="sqlite://")))


_OPERATIONS = [
    result.ok()
    for result in schemathesis.openapi.from_asgi(
        "/api/v1/openapi.json", _schema_app()
    ).get_all_operations()
]


@pytest.mark.parametrize("label", [op.label for op in _OPERATIONS])
def test_the_api_never_errs_and_keeps_its_schema(
    label: str, container: Container, tenant: Tenant
) -> None:
    app = create_app(container)
    app.state.rate_limiter = Unlimited()
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operation = schema.find_operation_by_label(label)
    assert operation is not None

    @given(case=operation.as_strategy())
    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: Any) -> None:
        case.call_and_validate(headers=tenant.headers, excluded_checks=EXCLUDED)

    run()
