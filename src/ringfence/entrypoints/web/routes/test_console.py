"""AI Agents → Test console: talk to a voice agent as the patient, signed in (no API key to
paste), with purposes and patients by name and what the agent did after each turn.

Plain forms that work without JavaScript (htmx only swaps the conversation in place). A test
call is a dry run logged as Call Type Test (services/console.py); this module only translates.
Each agent line can be heard: its WAV is spoken on demand by services/console_audio.py.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Path, Query, Request, status
from fastapi.responses import RedirectResponse, Response

from ringfence.domain.vocabulary import CallPurpose
from ringfence.entrypoints.deps import Uow
from ringfence.entrypoints.web.deps import SignedIn, Web
from ringfence.entrypoints.web.pages import Viewer
from ringfence.entrypoints.web.params import whole_number
from ringfence.services.console import AgentConsole
from ringfence.services.console_audio import ConsoleAudio
from ringfence.services.console_views import console_call_view, console_choices
from ringfence.services.errors import Conflict, InvalidField, InvalidFields, NotFound
from ringfence.speech.contracts import SpeechEngineUnavailable

router = APIRouter()

CONSOLE: Final = "/app/voice-ai/console"
CallId = Annotated[int, Path(ge=1, le=2**31 - 1)]
PURPOSES: Final = tuple((purpose.value, purpose.label) for purpose in CallPurpose)
# The audio speaks the patient's name: never kept by the browser, where the next member of
# staff at a shared front-desk computer could replay it (the server keeps its own cache).
AUDIO_CACHE: Final = "no-store"
_AUDIO_SETUP = threading.Lock()


def _console(request: Request) -> AgentConsole:
    console: AgentConsole = request.app.state.agent_console
    return console


def _audio(request: Request) -> ConsoleAudio:
    """The app's speaker of agent lines, made on first use (tests set their own first)."""
    state = request.app.state
    with _AUDIO_SETUP:
        audio: ConsoleAudio | None = getattr(state, "console_audio", None)
        if audio is None:
            audio = state.console_audio = ConsoleAudio()
    return audio


@router.get("/console", include_in_schema=False)
def old_console() -> RedirectResponse:
    """The console's first address (a page that took a pasted API key) now leads here."""
    return RedirectResponse(CONSOLE, status_code=status.HTTP_308_PERMANENT_REDIRECT)


@router.get(CONSOLE, name="test_console")
def console_page(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    agent: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    q: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    return _start_page(request, web, viewer, uow, agent=agent, search=q)


@router.post(CONSOLE, name="test_console_start")
def start(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    agent_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    purpose: Annotated[str, Form(max_length=40)],
    contact_id: Annotated[str, Form(max_length=12)] = "",
    phone: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    values = {"purpose": purpose, "contact_id": contact_id, "phone": phone}
    errors: dict[str, str] = {}
    try:
        chosen_purpose = CallPurpose(purpose)
    except ValueError:
        errors["purpose"] = "choose what the call is for"
    contact = whole_number(contact_id)
    if contact is None and not phone.strip():
        errors["contact_id"] = "choose a patient, or give a phone number to play an unknown caller"
    if errors:
        return _start_page(request, web, viewer, uow, agent=agent_id, values=values, errors=errors)
    try:
        call_id, _turn = _console(request).start(
            uow=uow,
            scope=viewer.scope,
            agent_id=agent_id,
            contact_id=contact,
            phone=None if contact is not None else phone.strip(),
            purpose=chosen_purpose,
        )
    except InvalidField as exc:
        problems = exc.errors if isinstance(exc, InvalidFields) else [exc]
        errors = {p.field: p.message for p in problems}
        return _start_page(request, web, viewer, uow, agent=agent_id, values=values, errors=errors)
    return RedirectResponse(f"{CONSOLE}/calls/{call_id}", status_code=status.HTTP_303_SEE_OTHER)


@router.get(f"{CONSOLE}/calls/{{call_id}}", name="test_console_call")
def call_page(request: Request, web: Web, viewer: SignedIn, uow: Uow, call_id: CallId) -> Response:
    return _call_page(request, web, viewer, uow, call_id)


@router.get(f"{CONSOLE}/calls/{{call_id}}/turns/{{turn}}/audio.wav", name="test_console_audio")
def line_audio(
    request: Request, web: Web, viewer: SignedIn, uow: Uow, call_id: CallId, turn: int
) -> Response:
    """One agent line spoken (the browser asks when Play is pressed): 404 for anything but an
    agent line of this account's test call, 503 with what to install when no voice is."""
    try:
        wav = _audio(request).agent_line_wav(
            uow=uow, scope=viewer.scope, call_id=call_id, turn=turn
        )
    except NotFound:
        return web.pages.not_found(request, viewer=viewer, what="That agent line")
    except SpeechEngineUnavailable as exc:
        return Response(
            f"The agent's lines cannot be played: {exc}.",
            status.HTTP_503_SERVICE_UNAVAILABLE,
            media_type="text/plain",
        )
    return Response(wav, media_type="audio/wav", headers={"Cache-Control": AUDIO_CACHE})


@router.post(f"{CONSOLE}/calls/{{call_id}}/turns", name="test_console_turn")
def say(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    call_id: CallId,
    text: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    if not text.strip():
        return _call_page(request, web, viewer, uow, call_id, error="say something first")
    try:
        # The turn's events are stored with the call's transcript: the page reads them there.
        _console(request).respond(uow=uow, scope=viewer.scope, call_id=call_id, text=text)
    except Conflict:
        return _call_page(request, web, viewer, uow, call_id, error="this test call has ended")
    return _call_page(request, web, viewer, uow, call_id, answered=True)


@router.post(f"{CONSOLE}/calls/{{call_id}}/hangup", name="test_console_hangup")
def hang_up(request: Request, web: Web, viewer: SignedIn, uow: Uow, call_id: CallId) -> Response:
    with contextlib.suppress(Conflict):  # already over: show it as it is
        _console(request).hang_up(uow=uow, scope=viewer.scope, call_id=call_id)
    return RedirectResponse(f"{CONSOLE}/calls/{call_id}", status_code=status.HTTP_303_SEE_OTHER)


def _start_page(
    request: Request,
    web: Web,
    viewer: Viewer,
    uow: Uow,
    *,
    agent: int | None,
    search: str = "",
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    try:
        choices = console_choices(uow=uow, scope=viewer.scope, agent_id=agent, search=search)
    except InvalidField:
        return web.pages.not_found(request, viewer=viewer, what="That agent")
    return web.pages.render(
        request,
        "test_console.html",
        viewer=viewer,
        context={
            "choices": choices,
            "purposes": PURPOSES,
            "search": search,
            "values": values or {},
            "errors": errors or {},
        },
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT if errors else status.HTTP_200_OK,
    )


def _call_page(
    request: Request,
    web: Web,
    viewer: Viewer,
    uow: Uow,
    call_id: int,
    *,
    answered: bool = False,
    error: str | None = None,
) -> Response:
    try:
        call = console_call_view(uow=uow, scope=viewer.scope, call_id=call_id)
    except (NotFound, InvalidField):
        return web.pages.not_found(request, viewer=viewer, what="That test call")
    context: dict[str, Any] = {
        "call": call,
        "answered": answered,  # the tester just spoke: their turn's events are announced
        "error": error,
        "speech_missing": _audio(request).missing_engine(),
    }
    template = "test_console_call.html"
    if request.headers.get("HX-Request") == "true":
        template = "test_console/_conversation.html"  # the region htmx swaps in place
    return web.pages.render(
        request,
        template,
        viewer=viewer,
        context=context,
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT if error else status.HTTP_200_OK,
    )
