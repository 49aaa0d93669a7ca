"""A dialogue policy backed by any OpenAI-compatible chat-completions endpoint.

    OpenAIChatPolicy(base_url="https://api.openai.com/v1", api_key=key, model="gpt-4o-mini")
    OpenAIChatPolicy(base_url="http://localhost:11434/v1", api_key="", model="llama3.1")

The model chooses an action as a tool call (the same outcomes as the embedded policy, each
with its JSON-schema arguments); an action with a template is spoken from the practice's
template, and only otherwise are the model's own words used, as free text. The prompt repeats
the guardrails, but nothing relies on the model obeying them: the runtime detects opt-outs, AI
questions and clinical questions before the model is asked, grounds every recorded action in
the callee's own words and verifies the free text (agent/model_output.py), failing closed to a
safe line. Timeouts, HTTP errors and malformed answers
raise PolicyUnavailable; the runtime then says a safe line and opens a staff task.
"""

from __future__ import annotations

import json
from typing import Final

import httpx

from ringfence.agent.events import (
    AppointmentConfirmed,
    BookingRequested,
    CallbackRequested,
    CancelRequested,
    DetectedBy,
    FollowUpReason,
    NotInterested,
    OptOut,
    PolicyOutcome,
    RescheduleRequested,
    StaffFollowUp,
    WrongNumber,
    time_slot,
)
from ringfence.agent.policies.base import PolicyReply, PolicyRequest, PolicyUnavailable, Speaker
from ringfence.agent.policies.scripted import render_reply
from ringfence.domain.vocabulary import TaskPriority

GUARDRAILS_PROMPT: Final = """\
You are the AI assistant of a medical aesthetics practice, on a phone call. Rules:
- You are an AI assistant. Never claim or imply that you are a human.
- Never give medical advice, and never mention complications, symptoms, diagnoses,
  medications or doses. Say a staff member will call back, and call question_for_staff.
- If the caller asks to stop calls or to be removed, call opt_out and say nothing else.
- Mention the appointment's service and time only when the facts below include them.
- Keep every reply to one or two short sentences. Ask at most one question.
- When the caller's answer settles the call, call the matching tool; it ends the call."""

_TOOLS: Final[tuple[tuple[str, str, str | None], ...]] = (
    ("confirm_appointment", "The caller confirms they will attend the appointment.", None),
    (
        "request_reschedule",
        "The caller wants a different time for the appointment.",
        "proposed_time",
    ),
    ("request_booking", "The caller wants to book a treatment or consultation.", "preferred_time"),
    ("cancel_appointment", "The caller wants to cancel the appointment.", None),
    ("request_callback", "The caller asks to be called back later.", "when"),
    ("wrong_number", "The number does not belong to the patient.", None),
    ("not_interested", "The caller is not interested.", None),
    ("question_for_staff", "The caller has a question only staff can answer.", "question"),
    ("opt_out", "The caller asks to stop being called, or to be removed from the list.", None),
    ("end_call", "The conversation is over.", None),
)
_TERMINAL: Final = frozenset(
    {
        "confirm_appointment",
        "request_reschedule",
        "request_booking",
        "cancel_appointment",
        "request_callback",
        "wrong_number",
        "not_interested",
        "opt_out",
        "end_call",
    }
)


def _tool_schema(name: str, description: str, argument: str | None) -> dict[str, object]:
    properties: dict[str, object] = {}
    if argument is not None:
        properties[argument] = {"type": "string", "description": "the caller's own words"}
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": []},
        },
    }


class OpenAIChatPolicy:
    """`DialoguePolicy` over POST {base_url}/chat/completions (OpenAI, Azure-compatible
    gateways, vLLM, Ollama, llama.cpp server...). Inject `client` to share a connection pool
    or, in tests, an `httpx.Client(transport=httpx.MockTransport(...))`."""

    name: Final = "llm"

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        client: httpx.Client | None = None,
        timeout_s: float = 4.0,
        temperature: float = 0.2,
        max_tokens: int = 160,
    ) -> None:
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._api_key = api_key
        self._model = model
        self._client = client if client is not None else httpx.Client()
        self._owns_client = client is None
        self._timeout = timeout_s
        self._temperature = temperature
        self._max_tokens = max_tokens

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def respond(self, request: PolicyRequest) -> PolicyReply:
        body = {
            "model": self._model,
            "messages": self._messages(request),
            "tools": [_tool_schema(*tool) for tool in _TOOLS],
            "tool_choice": "auto",
            "temperature": self._temperature,
            "max_tokens": self._max_tokens,
        }
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        try:
            response = self._client.post(
                self._url, json=body, headers=headers, timeout=self._timeout
            )
            response.raise_for_status()
            payload: object = response.json()
        except httpx.TimeoutException as exc:
            raise PolicyUnavailable(f"model timed out after {self._timeout} s") from exc
        except (httpx.HTTPError, ValueError) as exc:
            raise PolicyUnavailable(f"model request failed: {exc}") from exc
        content, calls = _parse(payload)
        return _reply(request, content, calls)

    def _messages(self, request: PolicyRequest) -> list[dict[str, str]]:
        system = "\n\n".join(
            part
            for part in (GUARDRAILS_PROMPT, request.profile.system_prompt, _facts(request))
            if part
        )
        messages = [{"role": "system", "content": system}]
        for turn in request.history:
            role = "assistant" if turn.speaker is Speaker.AGENT else "user"
            messages.append({"role": role, "content": turn.text})
        if request.callee_text is None:
            messages.append(
                {
                    "role": "system",
                    "content": "State the purpose of the call now and ask one question.",
                }
            )
        return messages


def _facts(request: PolicyRequest) -> str:
    context = request.context
    lines = [
        f"Practice: {request.profile.practice_name}",
        f"Callback number: {request.profile.spoken_callback_number}",
        f"Call direction: {context.direction.value}",
    ]
    if context.purpose is not None:
        kind = "marketing" if context.purpose.is_marketing else "informational"
        lines.append(f"Purpose: {context.purpose.value} ({kind})")
    if context.patient_first_name:
        lines.append(f"Patient first name: {context.patient_first_name}")
    if request.identity_confirmed:
        if context.appointment_service:
            lines.append(f"Appointment service: {context.appointment_service}")
        if context.appointment_local_time:
            lines.append(f"Appointment time: {context.appointment_local_time}")
    else:
        lines.append("The patient's identity is not confirmed: do not discuss the appointment.")
    return "Facts:\n" + "\n".join(lines)


def _parse(payload: object) -> tuple[str, list[tuple[str, dict[str, str]]]]:
    """(content, [(tool name, string arguments)]) from a chat-completions response."""
    try:
        message = payload["choices"][0]["message"] if isinstance(payload, dict) else None
        if not isinstance(message, dict):
            raise TypeError("no choices[0].message object")
        content = message.get("content") or ""
        if not isinstance(content, str):
            raise TypeError("message content is not text")
        calls: list[tuple[str, dict[str, str]]] = []
        for call in message.get("tool_calls") or []:
            function = call["function"]
            raw = function.get("arguments") or "{}"
            arguments = json.loads(raw) if isinstance(raw, str) else raw
            if not isinstance(arguments, dict):
                raise TypeError("tool arguments are not an object")
            clean = {str(k): str(v) for k, v in arguments.items() if v is not None}
            calls.append((str(function["name"]), clean))
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise PolicyUnavailable(f"malformed model answer: {exc!r}") from exc
    return content.strip(), calls


def _reply(
    request: PolicyRequest, content: str, calls: list[tuple[str, dict[str, str]]]
) -> PolicyReply:
    t = request.profile.replies
    outcome: PolicyOutcome | None = None
    template = ""
    end = False
    for name, args in calls:
        end = end or name in _TERMINAL
        match name:
            case "opt_out":
                said = request.callee_text or ""
                return PolicyReply(
                    "",
                    OptOut(said, "opt_out_tool", DetectedBy.POLICY),
                    end_call=True,
                    from_model=True,
                )
            case "confirm_appointment":
                outcome, template = AppointmentConfirmed(), t.confirmed
            case "request_reschedule":
                when = args.get("proposed_time") or None
                outcome = RescheduleRequested(when)
                template = t.reschedule_noted if when else t.staff_will_call
            case "request_booking":
                when = args.get("preferred_time") or None
                outcome = BookingRequested(when)
                template = t.booking_noted if when else t.staff_will_call
            case "cancel_appointment":
                outcome, template = CancelRequested(), t.canceled
            case "request_callback":
                when = args.get("when") or None
                outcome, template = CallbackRequested(when), t.callback_noted
            case "wrong_number":
                outcome, template = WrongNumber(), t.wrong_number
            case "not_interested":
                outcome, template = NotInterested(), t.not_interested
            case "question_for_staff":
                question = args.get("question") or request.callee_text or ""
                outcome = StaffFollowUp(
                    FollowUpReason.QUESTION_FOR_STAFF, TaskPriority.NORMAL, question
                )
                template = t.staff_question
            case _:
                pass  # end_call, or a tool we never offered: ignored
    # Speech comes from the practice's templates wherever an action has one; the model's own
    # words are used only without one, and then as free text the runtime verifies.
    if template:
        proposed = time_slot(outcome) or "at a better time"
        text, free = render_reply(request, template, proposed=proposed), False
    else:
        text, free = content, True
    if not text:
        raise PolicyUnavailable("the model returned neither words nor a known tool call")
    return PolicyReply(text, outcome, end_call=end, from_model=True, free_text=free)
