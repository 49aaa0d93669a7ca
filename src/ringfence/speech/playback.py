"""The agent's side of a call's timeline: its replies (`Reply`) and where their audio plays.

Each sentence plays from where the last one ends (or now, when the agent is quiet), so whether
the agent is speaking is read off the timeline (`AgentTrack.until_ms`) with carriers that send
marks and those that do not. A barge-in cuts the track: the sentences and the recording's
agent leg end where the callee stopped hearing them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ringfence.agent.callee import TranscriptLine
from ringfence.agent.policies.base import Speaker
from ringfence.speech.contracts import AudioChunk
from ringfence.speech.media import OutboundAudio
from ringfence.speech.recording import CallRecorder
from ringfence.speech.turns import TurnEnded
from ringfence.speech.worker import ReplyDone


@dataclass(slots=True)
class Reply:
    """One agent utterance as played: sentences placed on the timeline."""

    id: int
    sentences: list[tuple[int, int, str]] = field(default_factory=list)  # start, end, text
    turn: TurnEnded | None = None
    respond: bool = False
    start_ms: int = 0  # where the callee's words begin (an earlier turn's, when joined)
    pcm: bytes = b""  # the turn's audio for speech-to-text (16 kHz)
    heard: str = ""
    decided_wall: float = 0.0
    first_audio_wall: float | None = None
    done: ReplyDone | None = None
    latency_recorded: bool = False


class AgentTrack:
    """The replies of one call, by id (0 is the opening), and the audio placed for them on
    the timeline (the recorder's agent leg)."""

    def __init__(self, recorder: CallRecorder) -> None:
        self._recorder = recorder
        self.replies: dict[int, Reply] = {}
        self._next_id = 1  # reply 0 is the opening
        self.until_ms = 0  # where the audio placed so far ends
        self._marks: dict[str, int] = {}  # mark -> the timeline ms its audio ends at

    def new_reply(self, reply_id: int | None = None) -> Reply:
        """A new reply: the next id, or `reply_id` (the opening's, 0)."""
        if reply_id is None:
            reply_id = self._next_id
            self._next_id += 1
        reply = Reply(reply_id)
        self.replies[reply_id] = reply
        return reply

    def play(self, reply: Reply, chunk: AudioChunk, now_ms: int) -> OutboundAudio:
        """Place a sentence of `reply` where the agent's audio ends (now if it is quiet)."""
        start = max(now_ms, self.until_ms)
        length_ms = round(chunk.seconds * 1000)
        self.until_ms = start + length_ms
        self._recorder.add_outbound(start, chunk.pcm)
        reply.sentences.append((start, start + length_ms, chunk.text))
        mark = f"reply-{reply.id}-{len(reply.sentences)}"
        self._marks[mark] = self.until_ms
        return OutboundAudio(chunk.pcm, mark=mark)

    def played(self, mark: str) -> bool:
        """The carrier says `mark`'s audio has played; False for a mark cut or unknown."""
        return self._marks.pop(mark, None) is not None

    def cut(self, at_ms: int) -> bool:
        """Nothing placed from `at_ms` on is heard; False when nothing played past it."""
        if self.until_ms <= at_ms:
            return False
        self._recorder.cut_outbound(at_ms)
        for reply in self.replies.values():
            reply.sentences = [
                (start, min(end, at_ms), text)
                for start, end, text in reply.sentences
                if start < at_ms
            ]
        self.until_ms = at_ms
        self._marks.clear()
        return True

    def lines(self) -> list[TranscriptLine]:
        """The agent's lines of the transcript: each reply from its first sentence's start to
        its last one's end, as heard."""
        return [
            TranscriptLine(
                Speaker.AGENT,
                " ".join(text for _, _, text in reply.sentences),
                reply.sentences[0][0] / 1000,
                reply.sentences[-1][1] / 1000,
            )
            for reply in self.replies.values()
            if reply.sentences
        ]
