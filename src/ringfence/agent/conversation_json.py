"""A held conversation as JSON and back: how a live call's record travels from the process that
held its audio (the web process, for Twilio's media streams) to the dispatcher's worker.

Each event is `{"kind": <EventKind>, <field>: <value>, ...}`; enums are stored by value and
tuples as lists. Decoding is strict: an unknown kind or a missing field raises ValueError, so a
record written by a newer version is refused, not half-read.
"""

from __future__ import annotations

import dataclasses
import typing
from enum import Enum
from typing import Any, Final

from ringfence.agent import events as ev
from ringfence.agent.callee import Conversation, TranscriptLine
from ringfence.agent.events import AgentEvent, ConversationOutcome, EndReason, EventKind
from ringfence.agent.policies.base import Speaker

_EVENT_TYPES: Final[tuple[type[Any], ...]] = typing.get_args(ev.AgentEvent)
_BY_KIND: Final[dict[EventKind, type[Any]]] = {cls.kind: cls for cls in _EVENT_TYPES}


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


def event_to_json(event: AgentEvent) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": event.kind.value}
    for field in dataclasses.fields(event):
        data[field.name] = _plain(getattr(event, field.name))
    return data


def _typed(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin is tuple:
        (item, *_rest) = typing.get_args(hint)
        return tuple(_typed(item, v) for v in value)
    for option in typing.get_args(hint) or (hint,):  # X | None: the non-None member
        if isinstance(option, type) and issubclass(option, Enum):
            return option(value)
    return value


def event_from_json(data: dict[str, Any]) -> AgentEvent:
    try:
        cls = _BY_KIND[EventKind(data["kind"])]
    except (KeyError, ValueError) as exc:
        raise ValueError(f"unknown event kind {data.get('kind')!r}") from exc
    hints = typing.get_type_hints(cls, vars(ev))
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        if field.name in data:
            values[field.name] = _typed(hints[field.name], data[field.name])
        elif field.default is dataclasses.MISSING:
            raise ValueError(f"event {cls.__name__} lacks {field.name!r}")
    event: AgentEvent = cls(**values)
    return event


def conversation_to_json(conversation: Conversation) -> dict[str, Any]:
    return {
        "transcript": [
            {
                "speaker": line.speaker.value,
                "text": line.text,
                "start_s": line.start_s,
                "end_s": line.end_s,
            }
            for line in conversation.transcript
        ],
        "events": [event_to_json(event) for event in conversation.events],
        "outcome": conversation.outcome.value,
        "ended_by": conversation.ended_by.value,
    }


def conversation_from_json(data: dict[str, Any]) -> Conversation:
    try:
        return Conversation(
            transcript=tuple(
                TranscriptLine(
                    Speaker(line["speaker"]),
                    str(line["text"]),
                    float(line["start_s"]),
                    float(line["end_s"]),
                )
                for line in data["transcript"]
            ),
            events=tuple(event_from_json(event) for event in data["events"]),
            outcome=ConversationOutcome(data["outcome"]),
            ended_by=EndReason(data["ended_by"]),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a conversation record: {exc}") from exc
