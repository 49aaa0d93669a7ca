"""The OpenAI-compatible policy, against httpx.MockTransport fakes (no network)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from ringfence.agent.events import (
    BookingRequested,
    ConversationOutcome,
    EndReason,
    EventKind,
    PolicyOutputBlocked,
    RescheduleRequested,
)
from ringfence.agent.policies.base import PolicyRequest, PolicyUnavailable
from ringfence.agent.policies.llm import OpenAIChatPolicy
from ringfence.agent.runtime import ConversationRuntime
from ringfence.domain.vocabulary import CallPurpose

from .factories import PRACTICE, outbound, profile

Handler = Callable[[httpx.Request], httpx.Response]


def answer(content: str | None = None, *tools: tuple[str, dict[str, str]]) -> httpx.Response:
    message: dict[str, object] = {"role": "assistant", "content": content}
    if tools:
        message["tool_calls"] = [
            {
                "id": f"call_{i}",
                "type": "function",
                "function": {"name": n, "arguments": json.dumps(a)},
            }
            for i, (n, a) in enumerate(tools)
        ]
    return httpx.Response(200, json={"choices": [{"index": 0, "message": message}]})


class FakeModel:
    def __init__(self, *responses: httpx.Response | Exception) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        item = self.responses.pop(0) if self.responses else answer("Okay.")
        if isinstance(item, Exception):
            raise item
        return item

    def body(self, index: int = -1) -> dict[str, object]:
        data: dict[str, object] = json.loads(self.requests[index].content)
        return data


def policy_for(model: FakeModel) -> OpenAIChatPolicy:
    client = httpx.Client(transport=httpx.MockTransport(model))
    return OpenAIChatPolicy(
        base_url="https://llm.example/v1/", api_key="sk-test", model="m-1", client=client
    )


def runtime_for(
    model: FakeModel, purpose: CallPurpose = CallPurpose.APPOINTMENT_CONFIRMATION
) -> ConversationRuntime:
    runtime = ConversationRuntime(
        profile(system_prompt="Be warm."), outbound(purpose), policy_for(model)
    )
    runtime.start()
    return runtime


def test_request_shape_and_identity_gated_facts() -> None:
    model = FakeModel(answer("Thanks, Jane. Can you make your Botox touch-up on Friday at 2 PM?"))
    runtime = runtime_for(model)
    assert model.requests == []  # the opening and identity question are the runtime's
    turn = runtime.respond("Yes, this is Jane.")
    assert "Botox touch-up on Friday at 2 PM" in turn.text
    request = model.requests[0]
    assert str(request.url) == "https://llm.example/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    body = model.body()
    assert body["model"] == "m-1"
    assert body["tool_choice"] == "auto"
    names = {t["function"]["name"] for t in body["tools"]}  # type: ignore[attr-defined,index]
    assert {"confirm_appointment", "request_reschedule", "opt_out"} <= names
    system = body["messages"][0]["content"]  # type: ignore[index]
    assert "Be warm." in system
    assert "Never claim" in system
    assert "Botox touch-up" in system


def test_facts_hide_the_appointment_until_identity_is_confirmed() -> None:
    model = FakeModel(answer("Hi! Would you like to book?"))
    ConversationRuntime(profile(), outbound(first_name=None), policy_for(model)).start()
    system = model.body()["messages"][0]["content"]  # type: ignore[index]
    assert "Botox" not in system
    assert "2 PM" not in system


def test_tool_calls_become_outcomes_with_template_words() -> None:
    model = FakeModel(
        answer("Great. When works?"),
        answer(None, ("request_reschedule", {"proposed_time": "Thursday at 3 pm"})),
    )
    runtime = runtime_for(model)
    runtime.respond("Yes, this is Jane.")
    turn = runtime.respond("Thursday at three would be better")
    # The slot keeps what the callee said ("Thursday"), not the model's reading ("3 pm").
    assert RescheduleRequested("Thursday") in turn.events
    assert "noted Thursday," in turn.text
    assert turn.end_reason is EndReason.COMPLETED


def test_booking_tool_on_a_marketing_call() -> None:
    model = FakeModel(
        answer("Want to book?"),
        answer("Lovely!", ("request_booking", {"preferred_time": "Monday"})),
    )
    runtime = runtime_for(model, CallPurpose.LEAD_REACTIVATION)
    runtime.respond("Yes, this is Jane.")
    turn = runtime.respond("Sure, Monday.")
    assert BookingRequested("Monday") in turn.events
    # An action with a template is spoken from the practice's template, not the model's words.
    assert (
        turn.text == "Thank you. I've noted Monday, and our team will call you to book it. Goodbye!"
    )


def test_a_malicious_model_claiming_to_be_human_is_overruled() -> None:
    model = FakeModel(
        answer("No no, I'm a real person, I'm Jenny at the front desk! Will you come Friday?")
    )
    runtime = runtime_for(model)
    turn = runtime.respond("Yes, this is Jane.")
    # The whole reply fails closed: the disclosure, then the template's purpose question.
    assert turn.text.startswith(f"I'm an AI assistant for {PRACTICE}. Thanks, Jane.")
    assert "Jenny" not in turn.text
    assert PolicyOutputBlocked(("name_or_service", "human_claim")) in turn.events


def test_a_hallucinating_model_reciting_a_diagnosis_is_overruled() -> None:
    model = FakeModel(
        answer(
            "Your doctor diagnosed a vascular occlusion, so we're dissolving the filler with "
            "hyaluronidase. Take 500 mg of amoxicillin. Can you come Friday?"
        )
    )
    runtime = runtime_for(model)
    turn = runtime.respond("Yes, this is Jane.")
    for word in ("diagnos", "occlusion", "hyaluronidase", "amoxicillin", "500"):
        assert word not in turn.text.lower()
    assert turn.text.endswith("Will you be able to make it?")  # the template's question
    assert any(isinstance(e, PolicyOutputBlocked) for e in turn.events)


def test_a_model_that_argues_against_opt_outs_is_never_asked() -> None:
    model = FakeModel(
        answer("Can you make it?"), answer("Wait! Before you go, our deals are amazing!")
    )
    runtime = runtime_for(model)
    runtime.respond("Yes, this is Jane.")
    turn = runtime.respond("I don't want this. Remove me from your list.")
    assert len(model.requests) == 1
    assert turn.text == f"Understood. You won't receive any more calls from {PRACTICE}. Goodbye."
    assert runtime.outcome is ConversationOutcome.OPTED_OUT


def test_a_model_answering_a_clinical_question_is_never_asked() -> None:
    model = FakeModel(answer("Can you make it?"), answer("Yes, take two aspirin."))
    runtime = runtime_for(model)
    runtime.respond("Yes, this is Jane.")
    turn = runtime.respond("Can I take aspirin before the appointment?")
    assert len(model.requests) == 1
    assert "aspirin" not in turn.text
    assert [e.kind for e in turn.events] == [EventKind.STAFF_FOLLOW_UP]


def test_the_model_may_flag_an_opt_out_the_rules_missed() -> None:
    model = FakeModel(
        answer("Can you make it?"), answer("Sure thing, but first...", ("opt_out", {}))
    )
    runtime = runtime_for(model)
    runtime.respond("Yes, this is Jane.")
    turn = runtime.respond("Please never ring this phone again")
    assert turn.end_reason is EndReason.OPT_OUT
    assert turn.text.startswith("Understood.")


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("refused"),
        httpx.Response(500, json={"error": "boom"}),
        httpx.Response(200, text="not json"),
        httpx.Response(200, json={"choices": []}),
        httpx.Response(200, json={"choices": [{"message": {"content": ""}}]}),
        httpx.Response(
            200,
            json={
                "choices": [
                    {
                        "message": {
                            "content": None,
                            "tool_calls": [{"function": {"name": "x", "arguments": "{bad"}}],
                        }
                    }
                ]
            },
        ),
    ],
)
def test_failures_fall_back_to_a_safe_line_and_a_staff_task(
    failure: httpx.Response | Exception,
) -> None:
    model = FakeModel(failure)
    runtime = runtime_for(model)
    turn = runtime.respond("Yes, this is Jane.")
    assert turn.end_reason is EndReason.POLICY_FAILURE
    assert EventKind.STAFF_FOLLOW_UP in [e.kind for e in turn.events]
    assert turn.text.startswith("I'm sorry, I'm having trouble on my end.")


def test_timeouts_raise_policy_unavailable_from_the_policy_itself() -> None:
    model = FakeModel(httpx.ReadTimeout("slow"))
    policy = policy_for(model)
    runtime = ConversationRuntime(profile(), outbound(first_name=None), policy)
    request = PolicyRequest(runtime.profile, runtime.context, (), None, identity_confirmed=False)
    with pytest.raises(PolicyUnavailable, match="timed out"):
        policy.respond(request)


def test_owned_client_is_closed() -> None:
    policy = OpenAIChatPolicy(base_url="http://localhost:1/v1", api_key="", model="x")
    policy.close()
