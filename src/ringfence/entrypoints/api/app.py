"""The API as an ASGI application: routes, error translation and request-size limits.

`entrypoints/asgi.py` adds the staff pages and the test console to it (`create_app`).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ringfence import __version__
from ringfence.adapters.captcha import captcha_verifier
from ringfence.bootstrap import Container
from ringfence.bootstrap.policies import policy_factory
from ringfence.entrypoints.api import resources
from ringfence.entrypoints.api.carriers import install_carrier_routes
from ringfence.entrypoints.api.crud import build_router
from ringfence.entrypoints.api.input_guard import ControlCharacterGuard
from ringfence.entrypoints.api.ops import install_ops_routes
from ringfence.entrypoints.api.reference import install_api_reference
from ringfence.entrypoints.api.routes import (
    account,
    api_keys,
    calls,
    consents,
    console_calls,
    contact_imports,
    eligibility,
    kyc,
    phi,
    workflows,
)
from ringfence.entrypoints.rate_limits import RateLimiter
from ringfence.entrypoints.request_ids import RequestIds
from ringfence.services.console import AgentConsole
from ringfence.services.errors import Conflict, InvalidField, InvalidFields, NotFound

API_PREFIX = "/api/v1"


class BodySizeLimit:
    """Refuse request bodies above `max_bytes` with 413, before any handler reads them.

    Checks Content-Length up front; a body sent without it (chunked) is read here up to the
    limit and replayed, so leaving the header out does not get around the limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.max_bytes:
                await _too_large(self.max_bytes)(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _too_large(self.max_bytes)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _too_large(max_bytes: int) -> JSONResponse:
    return JSONResponse(
        {"detail": f"request body larger than {max_bytes} bytes"},
        status_code=status.HTTP_413_CONTENT_TOO_LARGE,
    )


class ErrorOut(BaseModel):
    detail: str


# What any API operation may answer besides its own: documented so that clients (and the
# schema fuzzing in tests/security) know every status they can get.
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    # FastAPI's answer to a JSON body that is not UTF-8 (malformed JSON itself is a 422).
    status.HTTP_400_BAD_REQUEST: {"model": ErrorOut, "description": "Body not readable"},
    status.HTTP_401_UNAUTHORIZED: {"model": ErrorOut, "description": "Missing or invalid API key"},
    status.HTTP_404_NOT_FOUND: {"model": ErrorOut, "description": "Not found in this account"},
    status.HTTP_409_CONFLICT: {"model": ErrorOut, "description": "Conflicts with existing data"},
    status.HTTP_413_CONTENT_TOO_LARGE: {"model": ErrorOut, "description": "Body too large"},
    status.HTTP_429_TOO_MANY_REQUESTS: {"model": ErrorOut, "description": "Rate limited"},
}


def _field_error(field: str, message: str, kind: str) -> dict[str, Any]:
    # Same shape as FastAPI's own validation errors, so clients parse one format; a dotted
    # field ("outbound_openings.lead_reactivation") becomes a path.
    return {"detail": [{"loc": ["body", *field.split(".")], "msg": message, "type": kind}]}


def link_created_resources(document: dict[str, Any]) -> dict[str, Any]:
    """Add OpenAPI links from each create to what can be done with what it created.

    A POST on a collection (`/contacts`) whose 201 answer has an `id` links to every operation
    on the paths under it that take that id (`/contacts/{item_id}`, `/contacts/{contact_id}/
    consents`, `/api-keys/{key_id}/revoke`...): clients can follow them, and the stateful
    schema fuzzing (tests/security) chains create, read, change and delete along them.
    """
    paths: dict[str, dict[str, Any]] = document["paths"]
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    for collection, operations in paths.items():
        created = operations.get("post", {}).get("responses", {}).get("201")
        if created is None or "id" not in _properties(created, schemas):
            continue
        links: dict[str, Any] = {}
        under = f"{collection}/{{"
        for path, targets in paths.items():
            if not path.startswith(under):
                continue
            param, _, rest = path.removeprefix(under).partition("}")
            for method, target in targets.items():
                name = re.sub(r"[^A-Za-z0-9]+", "_", f"{method}_{param}{rest}").strip("_")
                links[name] = {
                    "operationId": target["operationId"],
                    "parameters": {param: "$response.body#/id"},
                }
        if links:
            created["links"] = links
    return document


def _properties(response: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
    properties: dict[str, Any] = schema.get("properties", {})
    return properties


def create_api(container: Container) -> FastAPI:
    app = FastAPI(
        title="Ringfence",
        version=__version__,
        description=(
            "Compliance-first outbound Voice AI calling. Authenticate with "
            "`Authorization: Bearer <API key>`; every call is scoped to the key's account."
        ),
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served below from the packaged Swagger UI, not a CDN
        redoc_url=None,
    )
    install_api_reference(app)
    app.state.container = container
    app.state.rate_limiter = RateLimiter(container.settings.rate_limit_storage)
    # Public forms' optional captcha (None: off); tests put a fake verifier here.
    app.state.captcha = captcha_verifier(container.settings)

    api_routers = [
        workflows.events_router,  # first: the busiest route (see there)
        *(build_router(resource) for resource in resources.ALL),
        consents.router,
        contact_imports.router,
        account.router,
        api_keys.router,
        eligibility.router,
        calls.router,
        phi.router,
        console_calls.router,
        workflows.router,
        kyc.router,
        kyc.operator_router,
    ]
    for router in api_routers:
        app.include_router(router, prefix=API_PREFIX, responses=COMMON_RESPONSES)
    # Carrier-facing (signed by the vendor, no API prefix or key): one module per carrier.
    install_carrier_routes(app, container)
    app.state.agent_console = AgentConsole(policy_factory(container.settings))

    @app.exception_handler(NotFound)
    async def _not_found(_request: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_404_NOT_FOUND)

    @app.exception_handler(InvalidField)
    async def _invalid(_request: Request, exc: InvalidField) -> JSONResponse:
        errors = exc.errors if isinstance(exc, InvalidFields) else [exc]
        return JSONResponse(
            {
                "detail": [
                    entry
                    for error in errors
                    for entry in _field_error(error.field, error.message, "invalid_value")["detail"]
                ]
            },
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )

    @app.exception_handler(Conflict)
    async def _conflict(_request: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_409_CONFLICT)

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, _exc: IntegrityError) -> JSONResponse:
        # A race lost to a concurrent request (e.g. two creates of one phone number); the
        # transaction was rolled back, so nothing was written.
        return JSONResponse(
            {"detail": "the change conflicts with existing data; nothing was written"},
            status_code=status.HTTP_409_CONFLICT,
        )

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        # The process is up: no I/O here (readiness, with the database, is /readyz).
        return {"status": "ok", "version": __version__}

    install_ops_routes(app)  # /metrics and /readyz (docs/operations.md)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        # The staff app (its sign-in page first, for a visitor who is not signed in); the
        # sign-in page links the API reference and the test console for integrators.
        return RedirectResponse("/app", status_code=status.HTTP_307_TEMPORARY_REDIRECT)

    generate_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = link_created_resources(generate_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's way to extend the document

    app.add_middleware(ControlCharacterGuard)  # inside the size limit: reads a bounded body
    app.add_middleware(BodySizeLimit, max_bytes=container.settings.max_request_bytes)
    app.add_middleware(RequestIds)  # outermost: even a refused request's lines carry its id
    return app
