"""The runtime: guardrails run before and after any policy, whatever the policy does."""

from __future__ import annotations

import pytest

from ringfence.agent.events import (
    AiDisclosed,
    AppointmentConfirmed,
    CallEnded,
    ConversationOutcome,
    EndReason,
    EventKind,
    FollowUpReason,
    HumanClaimBlocked,
    OptOut,
    PhiBlocked,
    StaffFollowUp,
)
from ringfence.agent.policies.base import PolicyReply, PolicyRequest, PolicyUnavailable
from ringfence.agent.policies.scripted import ScriptedPolicy
from ringfence.agent.runtime import ConversationOver, ConversationRuntime, InvalidAgentProfile
from ringfence.domain.vocabulary import CallPurpose, TaskPriority

from .factories import PRACTICE, inbound, outbound, profile


class RecordingPolicy:
    """A fake policy that says whatever it is told to, and records every request."""

    def __init__(self, *replies: PolicyReply) -> None:
        self.replies = list(replies)
        self.requests: list[PolicyRequest] = []

    def respond(self, request: PolicyRequest) -> PolicyReply:
        self.requests.append(request)
        return self.replies.pop(0) if self.replies else PolicyReply("Okay. Anything else?")


class BrokenPolicy:
    def respond(self, request: PolicyRequest) -> PolicyReply:
        raise PolicyUnavailable("model timed out after 4.0 s")


def kinds(events: tuple[object, ...]) -> list[EventKind]:
    return [e.kind for e in events]  # type: ignore[attr-defined]


def confirmed_runtime(
    policy: object = None, purpose: CallPurpose = CallPurpose.APPOINTMENT_CONFIRMATION
) -> ConversationRuntime:
    runtime = ConversationRuntime(profile(), outbound(purpose), policy or ScriptedPolicy())  # type: ignore[arg-type]
    runtime.start()
    runtime.respond("Yes, this is Jane.")
    return runtime


def test_outbound_opening_identifies_then_states_the_reason_then_asks_identity() -> None:
    runtime = ConversationRuntime(profile(), outbound(), ScriptedPolicy())
    first = runtime.start()
    assert first.text == (
        f"Hi, this is the AI assistant for {PRACTICE}. I'm calling about your upcoming "
        "appointment with us. Am I speaking with Jane?"
    )
    assert "Botox" not in first.text
    assert "2 PM" not in first.text
    assert first.events == ()
    assert not first.ended


def test_marketing_opening_offers_the_opt_out() -> None:
    runtime = ConversationRuntime(
        profile(), outbound(CallPurpose.LEAD_REACTIVATION), ScriptedPolicy()
    )
    assert "say stop at any time" in runtime.start().text.split(". ")[0]


def test_inbound_calls_get_the_inbound_greeting() -> None:
    runtime = ConversationRuntime(profile(), inbound(), ScriptedPolicy())
    assert runtime.start().text.startswith(f"Thank you for calling {PRACTICE}.")


def test_service_and_time_only_after_identity_is_confirmed() -> None:
    runtime = ConversationRuntime(profile(), outbound(), ScriptedPolicy())
    runtime.start()
    turn = runtime.respond("Yes, this is Jane.")
    assert "Botox touch-up on Friday at 2 PM" in turn.text
    assert kinds(turn.events) == [EventKind.IDENTITY_CONFIRMED]
    assert runtime.identity_confirmed


def test_someone_else_answering_hears_no_details() -> None:
    runtime = ConversationRuntime(profile(), outbound(), ScriptedPolicy())
    runtime.start()
    turn = runtime.respond("No, this is her husband.")
    assert turn.ended
    assert "Botox" not in turn.text
    assert "305-555-0123" in turn.text
    assert runtime.outcome is ConversationOutcome.PATIENT_UNAVAILABLE


def test_an_unclear_identity_answer_is_asked_once_more() -> None:
    runtime = ConversationRuntime(profile(), outbound(), ScriptedPolicy())
    runtime.start()
    again = runtime.respond("Who is this?")
    assert again.text.endswith("Am I speaking with Jane?")
    assert not again.ended
    final = runtime.respond("Why do you want to know?")
    assert final.ended
    assert runtime.outcome is ConversationOutcome.PATIENT_UNAVAILABLE


@pytest.mark.parametrize("said", ["Stop calling me.", "Yes, but remove me from your list.", "stop"])
def test_opt_out_ends_the_call_without_consulting_the_policy(said: str) -> None:
    policy = RecordingPolicy(PolicyReply("But wait, you'll miss our specials! Are you sure?"))
    runtime = ConversationRuntime(profile(), outbound(first_name=None), policy)
    runtime.start()
    asked = len(policy.requests)
    turn = runtime.respond(said)
    assert len(policy.requests) == asked
    assert turn.text == f"Understood. You won't receive any more calls from {PRACTICE}. Goodbye."
    assert turn.ended
    assert turn.end_reason is EndReason.OPT_OUT
    assert kinds(turn.events) == [EventKind.OPT_OUT, EventKind.CALL_ENDED]
    assert runtime.outcome is ConversationOutcome.OPTED_OUT
    with pytest.raises(ConversationOver):
        runtime.respond("hello?")


def test_opt_out_works_at_any_point_and_inbound_too() -> None:
    runtime = confirmed_runtime()
    assert runtime.respond("Actually, take me off your list please.").ended
    inbound_runtime = ConversationRuntime(profile(), inbound(), ScriptedPolicy())
    inbound_runtime.start()
    assert inbound_runtime.respond("Please stop calling me.").end_reason is EndReason.OPT_OUT


def test_a_bare_cancel_on_an_appointment_call_is_asked_about_then_opens_a_staff_task() -> None:
    """A bare "cancel" may mean the appointment or the calls: the agent asks, and anything but
    a clear no is an opt-out, with a task for staff to check the appointment."""
    runtime = confirmed_runtime()
    asked = runtime.respond("Cancel.")
    assert asked.text == "Would you like us to stop calling this number?"
    assert not asked.ended
    assert kinds(asked.events) == []
    turn = runtime.respond("Yeah.")
    assert kinds(turn.events) == [
        EventKind.OPT_OUT,
        EventKind.STAFF_FOLLOW_UP,
        EventKind.CALL_ENDED,
    ]
    task = turn.events[1]
    assert isinstance(task, StaffFollowUp)
    assert task.reason is FollowUpReason.AMBIGUOUS_CANCEL


def test_a_possible_opt_out_that_reports_a_complication_is_flagged_urgent_before_asking() -> None:
    """Review finding: "Stop calling me, my face is swollen and I can't breathe" reads as an
    opt-out in doubt (the classifier hears a clinical turn), and the agent only asked "Would
    you like us to stop calling this number?": no urgent task, no 911 line. Both come first
    now, and the question still follows (an opt-out is never assumed away)."""
    runtime = confirmed_runtime()
    said = "Stop calling me, my face is swollen and I can't breathe since the filler."
    asked = runtime.respond(said)
    assert asked.text.endswith("Would you like us to stop calling this number?")
    assert "call 911" in asked.text
    assert not asked.ended
    [task] = asked.events
    assert isinstance(task, StaffFollowUp)
    assert (task.reason, task.priority) == (
        FollowUpReason.POSSIBLE_COMPLICATION,
        TaskPriority.URGENT,
    )
    turn = runtime.respond("Yes.")
    assert kinds(turn.events) == [EventKind.OPT_OUT, EventKind.CALL_ENDED]
    assert "call 911" in turn.text
    assert kinds(runtime.events).count(EventKind.STAFF_FOLLOW_UP) == 1


def test_after_an_urgent_complication_a_clear_no_ends_the_call() -> None:
    """Review finding: after the urgent flag and the opt-out question, "No." went back to the
    appointment ("Will you be able to make it?") with someone who cannot breathe."""
    runtime = confirmed_runtime()
    runtime.respond("Stop calling me, my face is swollen and I can't breathe since the filler.")
    turn = runtime.respond("No.")
    assert turn.end_reason is EndReason.URGENT_FOLLOW_UP
    assert "call 911" in turn.text
    assert "make it" not in turn.text
    assert EventKind.OPT_OUT not in kinds(runtime.events)


def test_stop_talking_inside_an_urgent_turn_is_no_request_about_our_calls() -> None:
    """Review finding: the clause "stop talking", read alone, is a certain opt-out to the
    classifier; the urgent deferral that ends the call was turned into an opt-out question.
    A clause counts only if it names our calls (or the number, the list, a message)."""
    runtime = confirmed_runtime()
    turn = runtime.respond("I can't breathe, stop talking, my throat is closing.")
    assert turn.end_reason is EndReason.URGENT_FOLLOW_UP
    assert "stop calling" not in turn.text


@pytest.mark.parametrize(
    "said",
    [
        "Deje de llamarme, tengo la cara hinchada desde ayer.",
        "No me molesten más, tengo la cara hinchada desde ayer.",  # (review: "molest-")
    ],
)
def test_a_request_not_to_be_called_inside_a_clinical_turn_is_asked_about(said: str) -> None:
    """Review finding: "Deje de llamarme, tengo la cara hinchada desde ayer." (stop calling me,
    my face has been swollen since yesterday) is heard as a clinical question as a whole, and
    the request not to be called inside it was lost: the agent deferred the question and went
    on. A clause that is a certain opt-out on its own makes the turn one in doubt: the
    clinical question is still deferred (a task: the learned urgency head reads a face
    swollen since yesterday as a possible complication, so it may be an urgent one), and the
    agent asks."""
    runtime = confirmed_runtime()
    asked = runtime.respond(said)
    assert asked.text.endswith("¿Quiere que dejemos de llamar a este número?")
    assert not asked.ended
    reasons = {e.reason for e in asked.events if isinstance(e, StaffFollowUp)}
    assert reasons & {FollowUpReason.CLINICAL_QUESTION, FollowUpReason.POSSIBLE_COMPLICATION}
    turn = runtime.respond("Sí, por favor.")
    assert EventKind.OPT_OUT in kinds(turn.events)


def test_a_request_inside_a_clinical_turn_on_the_last_turn_keeps_the_clinical_task() -> None:
    """Review finding: with no turn left to ask, the doubt is an opt-out, and the clinical
    question it carried was dropped."""
    runtime = ConversationRuntime(profile(), outbound(), ScriptedPolicy(), max_callee_turns=2)
    runtime.start()
    runtime.respond("Yes, this is Jane.")
    # In doubt (the model alone; "deje de llamarme" is a rule's, certain: no call back for a
    # question that is not urgent; so, since 2026-12-08, is "ya no quiero saber nada de
    # ustedes", this test's words until then).
    turn = runtime.respond("I'm done with you people, I've had some bruising since yesterday.")
    assert turn.end_reason is EndReason.OPT_OUT
    reasons = [e.reason for e in turn.events if isinstance(e, StaffFollowUp)]
    assert FollowUpReason.CLINICAL_QUESTION in reasons


def test_a_complication_inside_a_request_on_the_last_turn_raises_one_urgent_task() -> None:
    """Review finding: a fever (urgent) inside the request got a normal clinical task beside
    the urgent one, two tasks for the same words."""
    runtime = ConversationRuntime(profile(), outbound(), ScriptedPolicy(), max_callee_turns=2)
    runtime.start()
    runtime.respond("Yes, this is Jane.")
    turn = runtime.respond("Deje de llamarme, tengo fiebre desde ayer.")
    assert turn.end_reason is EndReason.OPT_OUT
    tasks = [e for e in turn.events if isinstance(e, StaffFollowUp)]
    assert [(t.reason, t.priority) for t in tasks] == [
        (FollowUpReason.POSSIBLE_COMPLICATION, TaskPriority.URGENT)
    ]


def test_a_clinical_turn_that_only_says_we_called_is_no_opt_out() -> None:
    runtime = confirmed_runtime()
    turn = runtime.respond("Hi, you called? I have a hard bump where the filler went.")
    assert "stop calling" not in turn.text
    [task] = turn.events
    assert isinstance(task, StaffFollowUp)
    assert task.reason is FollowUpReason.CLINICAL_QUESTION


def test_cancel_my_appointment_is_a_cancel_request() -> None:
    runtime = confirmed_runtime()
    turn = runtime.respond("Can I cancel my appointment?")
    assert kinds(turn.events) == [EventKind.CANCEL_REQUESTED, EventKind.CALL_ENDED]


def test_ai_question_is_answered_with_the_disclosure_and_the_pending_question() -> None:
    policy = RecordingPolicy()
    runtime = ConversationRuntime(profile(), outbound(), policy)
    runtime.start()
    turn = runtime.respond("Wait, are you a real person?")
    assert turn.text == f"I'm an AI assistant for {PRACTICE}. Am I speaking with Jane?"
    assert turn.events == (AiDisclosed("Wait, are you a real person?"),)
    assert policy.requests == []


def test_clinical_questions_are_deferred_to_staff() -> None:
    policy = RecordingPolicy(PolicyReply("Will you be able to make it?", state="purpose:0"))
    runtime = ConversationRuntime(profile(), outbound(), policy)
    runtime.start()
    runtime.respond("Yes, this is Jane.")
    asked = len(policy.requests)
    turn = runtime.respond("Is this swelling normal? It's been a week.")
    assert len(policy.requests) == asked
    assert "clinical team" in turn.text
    assert turn.text.endswith("Will you be able to make it?")
    (task,) = turn.events
    assert isinstance(task, StaffFollowUp)
    assert task.priority is TaskPriority.NORMAL
    assert task.reason is FollowUpReason.CLINICAL_QUESTION
    assert not turn.ended


def test_complications_are_urgent_and_end_the_call_with_a_911_line() -> None:
    runtime = confirmed_runtime()
    turn = runtime.respond("My lips are turning white since the filler and it's getting worse")
    task = turn.events[0]
    assert isinstance(task, StaffFollowUp)
    assert task.priority is TaskPriority.URGENT
    assert task.reason is FollowUpReason.POSSIBLE_COMPLICATION
    assert "911" in turn.text
    assert turn.end_reason is EndReason.URGENT_FOLLOW_UP
    assert "white" not in turn.text
    assert "swell" not in turn.text


def test_a_policy_claiming_to_be_human_is_overruled() -> None:
    runtime = confirmed_runtime(
        RecordingPolicy(
            PolicyReply("Thanks!"), PolicyReply("Of course I'm a real person! Can you make it?")
        )
    )
    turn = runtime.respond("Great.")
    assert turn.text == f"I'm an AI assistant for {PRACTICE}. Can you make it?"
    assert HumanClaimBlocked("claims_person") in turn.events


def test_a_policy_reciting_clinical_details_is_overruled() -> None:
    runtime = confirmed_runtime(
        RecordingPolicy(
            PolicyReply("Thanks!"),
            PolicyReply(
                "Your filler dissolution after the complications is Friday. Can you make it?"
            ),
        )
    )
    turn = runtime.respond("Okay.")
    assert "dissolution" not in turn.text
    assert "complication" not in turn.text
    assert any(isinstance(e, PhiBlocked) for e in turn.events)
    assert turn.text.endswith("Can you make it?")


def test_a_policy_cannot_leak_details_before_identity() -> None:
    policy = RecordingPolicy(PolicyReply("Your Botox touch-up is Friday at 2 PM. Can you make it?"))
    runtime = ConversationRuntime(profile(), outbound(first_name=None), policy)
    first = runtime.start()
    assert "Botox" not in first.text
    assert "2 PM" not in first.text
    assert policy.requests[0].identity_confirmed is False


def test_a_policy_may_add_an_opt_out_but_its_words_are_replaced() -> None:
    said = OptOut("", "opt_out_tool")
    runtime = confirmed_runtime(
        RecordingPolicy(PolicyReply("Thanks!"), PolicyReply("Are you sure? We have deals!", said))
    )
    turn = runtime.respond("I'd rather you didn't ring this phone")
    assert turn.text.startswith("Understood.")
    assert turn.end_reason is EndReason.OPT_OUT


def test_policy_failure_becomes_a_safe_line_and_a_staff_task() -> None:
    runtime = ConversationRuntime(profile(), outbound(), BrokenPolicy())
    runtime.start()
    turn = runtime.respond("Yes, speaking.")
    assert turn.end_reason is EndReason.POLICY_FAILURE
    assert kinds(turn.events) == [
        EventKind.IDENTITY_CONFIRMED,
        EventKind.POLICY_FALLBACK,
        EventKind.STAFF_FOLLOW_UP,
        EventKind.CALL_ENDED,
    ]
    assert "will call you back" in turn.text


def test_max_turns_closes_the_call() -> None:
    runtime = ConversationRuntime(profile(), outbound(), ScriptedPolicy(), max_callee_turns=3)
    runtime.start()
    runtime.respond("Yes, this is Jane.")
    runtime.respond("Hmm, what about parking?")
    turn = runtime.respond("And the address?")
    assert turn.end_reason is EndReason.MAX_TURNS
    assert "305-555-0123" in turn.text


def test_invalid_profiles_never_reach_a_callee() -> None:
    bad = profile(
        outbound_openings={
            CallPurpose.APPOINTMENT_CONFIRMATION: "Hello! I'm calling about your visit."
        }
    )
    with pytest.raises(InvalidAgentProfile) as info:
        ConversationRuntime(bad, outbound(), ScriptedPolicy())
    assert info.value.problems[0].field == "outbound_openings.appointment_confirmation"


def test_callee_hang_up_is_recorded_once() -> None:
    runtime = confirmed_runtime()
    assert runtime.callee_hung_up() == (CallEnded(EndReason.CALLEE_HUNG_UP),)
    assert runtime.callee_hung_up() == ()
    assert runtime.ended_by is EndReason.CALLEE_HUNG_UP


def test_start_and_respond_order_is_enforced() -> None:
    runtime = ConversationRuntime(profile(), outbound(), ScriptedPolicy())
    with pytest.raises(RuntimeError):
        runtime.respond("hello")
    runtime.start()
    with pytest.raises(RuntimeError):
        runtime.start()


def test_confirmation_end_to_end_events() -> None:
    runtime = confirmed_runtime()
    turn = runtime.respond("Yes, I'll be there.")
    assert turn.events == (AppointmentConfirmed(), CallEnded(EndReason.COMPLETED))
    assert runtime.outcome is ConversationOutcome.CONFIRMED


@pytest.mark.parametrize(
    ("answer", "keeps"),
    [
        ("No, I'm coming.", True),
        ("no no, I'll be there", True),
        ("No, sí voy a ir.", True),
        ("no señorita, ahí estaré", True),
        ("No ma'am.", True),
        # "no sigan llamando" (stop calling) once speech-to-text drops the comma: an opt-out.
        ("no, sigan llamando", False),
        ("no, quiero los recordatorios", False),
        ("No voy a ir.", False),
        ("No, just text me instead.", False),
        ("No, I'm done with this.", False),
        ("no, sí voy, pero ya no me llamen", False),
    ],
)
def test_a_no_that_keeps_the_appointment_is_a_clear_no(answer: str, keeps: bool) -> None:
    """To "Would you like us to stop calling this number?", "no, I'm coming" was an opt-out
    (anything but a bare no was): the patient who meant to keep her calls lost them."""
    runtime = confirmed_runtime()
    asked = runtime.respond("Cancel.")
    assert asked.text == "Would you like us to stop calling this number?"
    turn = runtime.respond(answer)
    assert (EventKind.OPT_OUT not in kinds(turn.events)) is keeps
    assert turn.ended is not keeps
