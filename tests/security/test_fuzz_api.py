"""Schemathesis against the whole API, authenticated as a tenant (issue 16, item 9).

Every operation of the OpenAPI document gets generated requests (valid and invalid, bounded
by `RINGFENCE_FUZZ_EXAMPLES` per operation to fit CI) and every check schemathesis has: no 5xx,
every response matching its documented schema, documented status codes and content types,
and so on. Then a stateful run chains operations along the document's links (create, then
read, change, delete what was created), every check again, bounded by
`RINGFENCE_FUZZ_SCENARIOS` scenarios of up to `RINGFENCE_FUZZ_STEPS` calls, each scenario in
an account of its own. Runs on SQLite and on PostgreSQL (this folder is in the PostgreSQL
pass).

The pytest integration of schemathesis does not load under this pytest; the operations are
driven here with their hypothesis strategies instead, one test per operation, and the state
machine with hypothesis' runner."""

from __future__ import annotations

import itertools
import os
import re
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

from ringfence.bootstrap import Container
from ringfence.config import Settings
from ringfence.entrypoints.asgi import create_app
from ringfence.entrypoints.rate_limits import Limited
from ringfence.services.api_keys import create_api_key, list_api_keys
from tests.conftest import Tenant, make_tenant

FUZZ_EXAMPLES = int(os.environ.get("RINGFENCE_FUZZ_EXAMPLES", "15"))
FUZZ_SCENARIOS = int(os.environ.get("RINGFENCE_FUZZ_SCENARIOS", "100"))
FUZZ_STEPS = int(os.environ.get("RINGFENCE_FUZZ_STEPS", "20"))
# Every check but one: "a schema-valid request must be accepted" cannot know the rules the
# schema does not express (a cursor is a string, but only ours decode; a contact id must be
# the tenant's), which answer 422 or 404 by design.
EXCLUDED = [checks.positive_data_acceptance]


class Unlimited:
    """The fuzzer sends thousands of requests, unauthenticated ones among them (to check auth
    is enforced): rate limits would answer 429 to the rest. They have their own tests."""

    in_memory = True  # nothing to wait for: asked on the event loop, like `memory://`

    def hit(self, rules: str, *keys: str) -> Limited | None:
        return None

    def exhausted(self, rules: str, *keys: str) -> Limited | None:
        return None


def _leaves_out_authorization(case: Any) -> bool:
    """Whether the case is one sent without its Authorization header, to check the header is
    required. Schemathesis leaves the header we pass out of such a request only when that is
    the case's one invalid part: with an extra query parameter too (which the API ignores), our
    key would go in, the API would answer 200, and the check would count an invalid request
    accepted."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_negative:
        return False
    sent = {name.lower() for name in case.headers or {}}
    return "authorization" not in sent and any(
        mutation.parameter == "Authorization" and mutation.parameter_location == "header"
        for mutation in getattr(meta.phase.data, "mutations", ())
    )


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
        headers = None if _leaves_out_authorization(case) else tenant.headers
        case.call_and_validate(headers=headers, excluded_checks=EXCLUDED)

    run()


def test_each_create_links_to_what_it_created() -> None:
    """The links the stateful run follows: create -> read, change, delete, sub-resources."""
    paths = _schema_app().openapi()["paths"]
    by_id = {
        op["operationId"]: f"{method.upper()} {path.removeprefix('/api/v1')}"
        for path, operations in paths.items()
        for method, op in operations.items()
    }

    def targets(collection: str) -> set[str]:
        links = paths[f"/api/v1{collection}"]["post"]["responses"]["201"]["links"]
        for link in links.values():
            (param,) = link["parameters"]  # the target's own path parameter, from the new id
            assert f"{{{param}}}" in by_id[link["operationId"]]
            assert link["parameters"][param] == "$response.body#/id"
        return {by_id[link["operationId"]] for link in links.values()}

    assert targets("/contacts") == {
        "GET /contacts/{item_id}",
        "PATCH /contacts/{item_id}",
        "DELETE /contacts/{item_id}",
        "GET /contacts/{contact_id}/consents",
        "POST /contacts/{contact_id}/consents",
        "GET /contacts/{contact_id}/consents/evidence",
        "GET /contacts/{contact_id}/call-eligibility",
    }
    assert targets("/locations") == {"GET /locations/{item_id}", "PATCH /locations/{item_id}"}
    assert targets("/api-keys") == {
        "POST /api-keys/{key_id}/revoke",
        "POST /api-keys/{key_id}/rotate",
    }
    assert {
        "GET /workflows/{workflow_id}",
        "DELETE /workflows/{workflow_id}",
        "POST /workflows/{workflow_id}/publish",
    } <= targets("/workflows")
    for collection in ("/phone-numbers", "/voice-agents", "/tags", "/appointments", "/tasks"):
        assert f"DELETE {collection}/{{item_id}}" in targets(collection)


class _WorkingKey:
    """The scenario's API key. A scenario may revoke or rotate that very key (it is one of the
    account's keys, listed by GET /api-keys): it then goes on with the new key of a rotation,
    or with a fresh one, instead of answering 401 to everything after."""

    def __init__(self, container: Container, tenant: Tenant) -> None:
        self.container = container
        self.account_id = tenant.account_id
        self.plaintext = tenant.api_key
        with container.uow() as uow:
            (key,) = list_api_keys(uow.session, account_id=tenant.account_id)
            self.id = key.id

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.plaintext}"}

    def after(self, case: Any, response: Any) -> None:
        if not 200 <= response.status_code < 300:
            return
        path = case.operation.path
        if path.endswith("/api-keys/{key_id}/rotate"):
            if str(case.path_parameters.get("key_id")) == str(self.id):
                body = response.json()
                self.id, self.plaintext = body["id"], body["api_key"]
        elif path.endswith("/api-keys/{key_id}/revoke") and response.json()["id"] == self.id:
            with self.container.uow() as uow:
                key, self.plaintext = create_api_key(
                    uow.session, account_id=self.account_id, name="fuzz", now=uow.clock.now()
                )
                uow.commit()
                self.id = key.id


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # what input_guard refuses
_PHONE_FIELDS = ("e164", "phone", "callback_number", "transfer_number")
# A workflow that waits an hour on a custom event (docs/workflows.md has the rules).
_WORKFLOW = {
    "trigger": {"kind": "custom", "event_name": "fuzz"},
    "steps": [{"type": "wait", "until": "duration", "minutes": 60}],
}


def _without_controls(value: Any) -> Any:
    if isinstance(value, str):
        return _CONTROL.sub("", value)
    if isinstance(value, dict):
        return {_CONTROL.sub("", k): _without_controls(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_controls(v) for v in value]
    return value


class _Realistic:
    """Valid values where the schema cannot state the rules (a real time zone, a dialable
    number, staff hours, a workflow definition, no control characters, a location or contact of
    the tenant), in the requests meant to be valid: so that creates succeed and the chains
    after them run. An id a link put in is kept; invalid requests are left as generated."""

    def __init__(self, tenant: Tenant) -> None:
        self.numbers = itertools.count(2_000_000)
        self.owned: dict[str, list[int]] = {"location_id": [tenant.location_id], "contact_id": []}

    def before(self, case: Any) -> None:
        if case.meta is None or case.meta.generation.mode is not GenerationMode.POSITIVE:
            return
        if case.query:
            case.query = _without_controls(case.query)
        if not isinstance(case.body, dict):
            return
        body = _without_controls(case.body)
        if isinstance(body.get("time_zone"), str):
            body["time_zone"] = "America/Chicago"
        for name in _PHONE_FIELDS:
            if isinstance(body.get(name), str):
                body[name] = f"+1212{next(self.numbers):07d}"
        for name, owned in self.owned.items():
            value = body.get(name)  # a JSON integer may come as 12.0
            if isinstance(value, int | float) and owned and value not in owned:
                body[name] = owned[int(value) % len(owned)]
        if isinstance(body.get("definition"), dict):
            body["definition"] = _WORKFLOW
        if "staff_hours" in body or isinstance(body.get("transfer_number"), str):
            body["staff_hours"] = {"mon": ["09:00-17:00"]}
        case.body = body

    def after(self, case: Any, response: Any) -> None:
        if response.status_code == 201 and case.operation.method == "post":
            for name, path in (("location_id", "/locations"), ("contact_id", "/contacts")):
                if case.operation.path.endswith(path):
                    self.owned[name].append(response.json()["id"])


def test_chained_operations_never_err_and_keep_their_schema(container: Container) -> None:
    app = create_app(container)
    app.state.rate_limiter = Unlimited()
    # The links are the document's own, from each create to the operations on what it created
    # (app.link_created_resources). Schemathesis' inference would add a thousand more, mostly
    # "list filtered by this id", and so few steps would reach create -> read/change/delete.
    config = SchemathesisConfig.from_dict(
        {"phases": {"stateful": {"inference": {"algorithms": []}}}}
    )
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app, config=config)

    class TenantScenario(schema.as_state_machine()):  # type: ignore[misc]
        """One scenario: up to FUZZ_STEPS calls, each along a link from an earlier answer
        or starting a new chain, with every check run on every answer."""

        def setup(self) -> None:
            # Each scenario in an account of its own: the API shows a tenant nothing of
            # another, so every scenario starts from the same state, as hypothesis expects
            # when it replays one.
            tenant = make_tenant(container, "Fuzz Dental")
            self.key = _WorkingKey(container, tenant)
            self.realistic = _Realistic(tenant)

        def before_call(self, case: Any) -> None:
            self.realistic.before(case)

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {} if _leaves_out_authorization(case) else {"headers": self.key.headers}

        def after_call(self, response: Any, case: Any) -> None:
            super().after_call(response, case)  # recorded, for the checks across steps
            self.key.after(case, response)
            self.realistic.after(case, response)

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            case.validate_response(
                response,
                headers=kwargs.get("headers"),
                additional_checks=additional_checks,
                excluded_checks=EXCLUDED,
                transport_kwargs=kwargs or None,
                recorder=self.recorder,
            )

    TenantScenario.run(
        settings=settings(
            max_examples=FUZZ_SCENARIOS,
            stateful_step_count=FUZZ_STEPS,
            phases=[Phase.generate],
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
    )
