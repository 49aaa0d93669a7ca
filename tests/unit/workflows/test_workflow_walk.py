"""Positions in the step tree (walk.py), what a call ended with (outcomes.py) and the
structural rules a schema cannot express (checks.py)."""

from __future__ import annotations

import itertools

import pytest

from ringfence.domain.vocabulary import AppointmentStatus, CallOutcome, CallPurpose, CallStatus
from ringfence.domain.workflows.checks import Problem, structural_problems
from ringfence.domain.workflows.definition import (
    AddNote,
    AddTag,
    Audience,
    Branch,
    BranchCase,
    BranchOn,
    CreateTask,
    Step,
    Trigger,
    TriggerKind,
    VoiceAICall,
    Wait,
    WaitUntil,
    WorkflowDefinition,
)
from ringfence.domain.workflows.outcomes import CallResultView, branch_signals, choose_case
from ringfence.domain.workflows.walk import (
    case_path,
    first_path,
    format_path,
    next_path,
    step_at,
    walk,
)

CALL = VoiceAICall(
    action_name="Confirm",
    agent_id=1,
    from_number_id=1,
    purpose=CallPurpose.APPOINTMENT_CONFIRMATION,
)
SCHEDULED = Trigger(kind=TriggerKind.APPOINTMENT_SCHEDULED)
WAIT_DAY = Wait(minutes=60 * 24)

# steps[0] wait, steps[1] call, steps[2] branch:
#   cases[0] (confirmed): tag, note
#   cases[1] (voicemail): task, call, branch:
#       cases[0] (connected): tag "Reached"
#       otherwise: (empty)
#   cases[2] (opted out): (empty)
#   otherwise: note
INNER = Branch(
    cases=(BranchCase(when=(BranchOn.CONNECTED,), steps=(AddTag(tag="Reached"),)),),
)
OUTER = Branch(
    cases=(
        BranchCase(
            when=(BranchOn.APPOINTMENT_CONFIRMED,),
            steps=(AddTag(tag="Confirmed"), AddNote(body="Confirmed by the AI")),
        ),
        BranchCase(
            when=(BranchOn.VOICEMAIL, BranchOn.NO_ANSWER),
            steps=(CreateTask(title="Call back"), CALL, INNER),
        ),
        BranchCase(when=(BranchOn.OPTED_OUT,)),
    ),
    otherwise=(AddNote(body="Other"),),
)
TREE = WorkflowDefinition(trigger=SCHEDULED, steps=(WAIT_DAY, CALL, OUTER))


def test_walk_visits_every_step_depth_first_with_its_path() -> None:
    assert [path for path, _ in walk(TREE.steps)] == [
        (0,),
        (1,),
        (2,),
        (2, 0, 0),
        (2, 0, 1),
        (2, 1, 0),
        (2, 1, 1),
        (2, 1, 2),
        (2, 1, 2, 0, 0),
        (2, 3, 0),
    ]
    for path, step in walk(TREE.steps):
        assert step_at(TREE, path) is step


def test_next_path_stays_in_its_own_list_and_ends_with_it() -> None:
    assert first_path(TREE) == (0,)
    assert next_path(TREE, (0,)) == (1,)
    assert next_path(TREE, (1,)) == (2,)
    assert next_path(TREE, (2,)) is None  # a branch ends its list
    assert next_path(TREE, (2, 0, 0)) == (2, 0, 1)
    assert next_path(TREE, (2, 0, 1)) is None  # end of the case: the enrollment completes
    assert next_path(TREE, (2, 1, 1)) == (2, 1, 2)
    assert next_path(TREE, (2, 1, 2, 0, 0)) is None
    assert next_path(TREE, (2, 3, 0)) is None
    assert first_path(WorkflowDefinition(trigger=SCHEDULED)) is None


def test_case_path_enters_a_case_or_says_it_is_empty() -> None:
    assert case_path(TREE, (2,), 0) == (2, 0, 0)
    assert case_path(TREE, (2,), 1) == (2, 1, 0)
    assert case_path(TREE, (2,), 2) is None  # the opted-out case has no steps
    assert case_path(TREE, (2,), 3) == (2, 3, 0)  # otherwise
    assert case_path(TREE, (2, 1, 2), 0) == (2, 1, 2, 0, 0)
    assert case_path(TREE, (2, 1, 2), 1) is None  # the inner otherwise is empty
    with pytest.raises(LookupError):
        case_path(TREE, (1,), 0)  # a call, not a branch


def test_step_at_rejects_positions_that_are_not_steps() -> None:
    for bad in [(), (2, 0), (1, 0, 0)]:
        with pytest.raises(LookupError):
            step_at(TREE, bad)


def test_format_path_names_steps_the_way_the_api_does() -> None:
    assert format_path(()) == ""
    assert format_path((3,)) == "steps[3]"
    assert format_path((2, 1, 0)) == "steps[2].cases[1].steps[0]"
    assert format_path((2, 1, 2, 0, 0)) == "steps[2].cases[1].steps[2].cases[0].steps[0]"


def test_format_path_names_the_otherwise_path_when_given_the_definition() -> None:
    assert format_path((2, 3, 0), TREE) == "steps[2].otherwise[0]"
    nested = WorkflowDefinition(
        trigger=SCHEDULED,
        steps=(
            CALL,
            Branch(
                cases=OUTER.cases[:1],
                otherwise=(CALL, Branch(cases=INNER.cases, otherwise=(AddNote(body="x"),))),
            ),
        ),
    )
    assert format_path((1, 1, 1, 1, 0), nested) == "steps[1].otherwise[1].otherwise[0]"
    assert format_path((2, 1, 2, 0, 0), TREE) == "steps[2].cases[1].steps[2].cases[0].steps[0]"


# --- outcomes ---------------------------------------------------------------------------

_COMPLETED = {
    CallOutcome.CONNECTED: BranchOn.CONNECTED,
    CallOutcome.VOICEMAIL: BranchOn.VOICEMAIL,
    CallOutcome.NO_ANSWER: BranchOn.NO_ANSWER,
    CallOutcome.BUSY: BranchOn.FAILED,
    CallOutcome.FAILED: BranchOn.FAILED,
}


@pytest.mark.parametrize(
    ("status", "outcome", "deferrals"),
    list(itertools.product(CallStatus, [None, *CallOutcome], [0, 1, 3])),
)
def test_branch_signals_for_every_status_and_outcome(
    status: CallStatus, outcome: CallOutcome | None, deferrals: int
) -> None:
    signals = branch_signals(CallResultView(status=status, outcome=outcome, deferrals=deferrals))
    if status is CallStatus.FAILED:
        expected = {BranchOn.DEFERRED_THEN_FAILED if deferrals else BranchOn.FAILED}
    elif status is CallStatus.COMPLETED:
        expected = {_COMPLETED[outcome]} if outcome is not None else {BranchOn.FAILED}
    else:  # canceled, or not terminal: nothing to branch on
        expected = set()
    assert signals == expected


def test_what_the_conversation_produced_adds_its_signals() -> None:
    result = CallResultView(
        status=CallStatus.COMPLETED,
        outcome=CallOutcome.CONNECTED,
        deferrals=0,
        produced=frozenset({"appointment_confirmed", "clinical_question", "something_else"}),
    )
    assert branch_signals(result) == {
        BranchOn.CONNECTED,
        BranchOn.APPOINTMENT_CONFIRMED,
        BranchOn.CLINICAL_QUESTION,
    }
    for produced, signal in [
        ("reschedule_requested", BranchOn.RESCHEDULE_REQUESTED),
        ("opted_out", BranchOn.OPTED_OUT),
    ]:
        view = CallResultView(
            status=CallStatus.COMPLETED,
            outcome=CallOutcome.CONNECTED,
            deferrals=0,
            produced=frozenset({produced}),
        )
        assert signal in branch_signals(view)


def test_choose_case_takes_the_first_match_else_otherwise() -> None:
    branch = Branch(
        cases=(
            BranchCase(when=(BranchOn.APPOINTMENT_CONFIRMED,)),
            BranchCase(when=(BranchOn.CONNECTED, BranchOn.VOICEMAIL)),
            BranchCase(when=(BranchOn.CONNECTED,)),
        )
    )
    assert choose_case(branch, {BranchOn.CONNECTED, BranchOn.APPOINTMENT_CONFIRMED}) == 0
    assert choose_case(branch, {BranchOn.CONNECTED}) == 1  # first match, not the exact one
    assert choose_case(branch, [BranchOn.VOICEMAIL]) == 1
    assert choose_case(branch, {BranchOn.FAILED}) == 3  # otherwise
    assert choose_case(branch, set()) == 3


# --- structural problems ----------------------------------------------------------------


def _problems(*steps: Step, trigger: Trigger = SCHEDULED, **fields: object) -> list[Problem]:
    audience = fields.pop("audience", Audience())
    assert isinstance(audience, Audience)
    return structural_problems(
        WorkflowDefinition(trigger=trigger, audience=audience, steps=tuple(steps))
    )


def _branch(*cases: tuple[Step, ...], otherwise: tuple[Step, ...] = ()) -> Branch:
    return Branch(
        cases=tuple(BranchCase(when=(BranchOn.CONNECTED,), steps=s) for s in cases),
        otherwise=otherwise,
    )


def test_a_well_formed_tree_has_no_problems() -> None:
    assert structural_problems(TREE) == []


def test_a_workflow_needs_a_step() -> None:
    assert _problems() == [Problem("steps", "a workflow needs at least one step")]


def test_a_branch_must_end_its_list() -> None:
    problems = _problems(CALL, _branch(()), AddTag(tag="x"))
    assert [p.field for p in problems] == ["steps[1]"]
    assert "must be the last step" in problems[0].message


def test_a_nested_branch_must_end_its_list() -> None:
    nested = _branch((CALL, _branch(()), AddNote(body="after")))
    problems = _problems(CALL, nested)
    assert [p.field for p in problems] == ["steps[1].cases[0].steps[1]"]


def test_a_branch_needs_a_call_before_it() -> None:
    problems = _problems(AddTag(tag="x"), _branch(()))
    assert [p.field for p in problems] == ["steps[1]"]
    assert "needs a Voice AI Outbound Call step before it" in problems[0].message
    # A call inside an earlier case counts for the branches nested after it in that case.
    assert _problems(CALL, _branch((CALL, _branch(())))) == []


def test_a_branch_in_the_otherwise_path_is_named_by_that_path() -> None:
    problems = _problems(CALL, _branch((), otherwise=(_branch(()), AddTag(tag="x"))))
    assert [p.field for p in problems] == ["steps[1].otherwise[0]"]


def test_waiting_for_an_appointment_needs_an_appointment_trigger() -> None:
    wait = Wait(until=WaitUntil.BEFORE_APPOINTMENT)
    tagged = Trigger(kind=TriggerKind.CONTACT_TAG_ADDED, tag="Botox")
    problems = _problems(wait, CALL, trigger=tagged)
    assert problems == [
        Problem("steps[0].until", "waiting for an appointment needs an appointment trigger")
    ]
    for kind in TriggerKind:
        trigger = Trigger(kind=kind, tag="t", stage="s", event_name="e")
        fields = [p.field for p in _problems(wait, CALL, trigger=trigger)]
        assert ("steps[0].until" in fields) is (not kind.about_appointment)


@pytest.mark.parametrize(("earliest", "latest"), [(24, 24), (24, 48), (2, 3)])
def test_latest_must_come_after_earliest(earliest: int, latest: int) -> None:
    wait = Wait(
        until=WaitUntil.BEFORE_APPOINTMENT,
        earliest_hours_before=earliest,
        latest_hours_before=latest,
    )
    assert [p.field for p in _problems(wait, CALL)] == ["steps[0].latest_hours_before"]


def test_a_duration_wait_needs_minutes() -> None:
    assert [p.field for p in _problems(Wait(minutes=0), CALL)] == ["steps[0].minutes"]


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        (TriggerKind.CONTACT_TAG_ADDED, "trigger.tag"),
        (TriggerKind.OPPORTUNITY_STAGE_CHANGED, "trigger.stage"),
        (TriggerKind.CUSTOM, "trigger.event_name"),
    ],
)
def test_triggers_that_need_a_narrowing_value(kind: TriggerKind, field: str) -> None:
    [problem] = _problems(CALL, trigger=Trigger(kind=kind))
    assert problem.field == field
    assert problem.message.startswith("required: ")
    filled = Trigger(kind=kind, tag="Botox", stage="Quoted", event_name="quiz_done")
    assert _problems(CALL, trigger=filled) == []


def test_form_and_appointment_triggers_need_no_narrowing_value() -> None:
    for kind in (TriggerKind.FORM_SUBMITTED, *(k for k in TriggerKind if k.about_appointment)):
        assert _problems(CALL, trigger=Trigger(kind=kind)) == []


def test_appointment_statuses_need_an_appointment_trigger() -> None:
    audience = Audience(appointment_statuses=(AppointmentStatus.SCHEDULED,))
    trigger = Trigger(kind=TriggerKind.CUSTOM, event_name="quiz")
    problems = _problems(CALL, trigger=trigger, audience=audience)
    assert [p.field for p in problems] == ["audience.appointment_statuses"]
    assert _problems(CALL, audience=audience) == []


def test_every_problem_is_reported() -> None:
    wait = Wait(until=WaitUntil.BEFORE_APPOINTMENT, earliest_hours_before=24)
    problems = _problems(
        wait, _branch(()), AddTag(tag="x"), trigger=Trigger(kind=TriggerKind.CUSTOM)
    )
    assert [p.field for p in problems] == [
        "trigger.event_name",
        "steps[0].until",
        "steps[0].latest_hours_before",
        "steps[1]",
        "steps[1]",
    ]
