"""Answering-machine detection with the greeting's words: the word rules (text in), the
detector asking for transcripts and weighing them (a fake transcriber in its loop, on the
audio's clock), and the pipeline feeding it."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from ringfence.adapters.speech import EnergyVad, ScriptedStt, ToneTts
from ringfence.adapters.telephony.media import Clear, StreamStart
from ringfence.agent.events import EndReason, OptOut
from ringfence.agent.guardrails.opt_out import detect_opt_out
from ringfence.agent.policies.scripted import ScriptedPolicy
from ringfence.agent.session import AgentSession
from ringfence.speech.amd import (
    AmdReason,
    AmdVerdict,
    AnsweringMachineDetector,
    TranscribeGreeting,
)
from ringfence.speech.amd_config import AmdConfig
from ringfence.speech.amd_eval import greeting_audio, no_words, parse_case, render, run_case
from ringfence.speech.amd_words import (
    Cue,
    GreetingFacts,
    WordsConfig,
    WordsSay,
    normalize,
    weigh_words,
)
from ringfence.speech.audio import CARRIER_RATE, STT_RATE, samples_of, silence
from ringfence.speech.contracts import Transcript
from ringfence.speech.opening import prepare_opening
from ringfence.speech.pipeline import Mode, VoicePipeline
from ringfence.speech.synth import babble
from tests.unit.agent.factories import outbound, profile

FRAME = 320  # 20 ms at 8 kHz
WORDS = WordsConfig()
AMD_DATA = Path(__file__).resolve().parents[2] / "data" / "amd"  # the tuning sets, never frozen*
SO_FAR = GreetingFacts(greeting_ms=1_500, complete=False)
ENDED = GreetingFacts(greeting_ms=1_500, complete=True)


def pause(seconds: float) -> bytes:
    return silence(seconds, CARRIER_RATE)


# -- the word rules, text in ---------------------------------------------------------------
def test_transcripts_are_normalized_before_matching() -> None:
    assert normalize("Hi, you've reached Jane. Can't talk!") == "hi youve reached jane cant talk"
    assert normalize("Después del tono, BUZÓN de voz.") == "despues del tono buzon de voz"
    assert normalize("  ") == ""


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("Hi, this is Jane. Please leave a message.", "leave a message"),
        ("Hey, it's Mike, leave me a detailed message", "leave a message"),
        ("Please leave your name and number", "leave a message"),
        ("Leave a message after the tone.", "leave a message"),
        ("At the tone, please record your message.", "after the tone"),
        ("You have reached the voicemail of Tom", "voicemail"),
        ("The mailbox you have reached", "mailbox"),
        ("The person you are trying to reach is", "the person you are calling"),
        ("The number you have dialed", "the person you are calling"),
        ("Hi, you've reached Jane Smith. I can't take your car", "cannot take your call"),
        ("We can't come to the phone right now", "cannot take your call"),
        ("Sorry I missed your call", "missed your call"),
        ("Sorry I missed you.", "missed your call"),
        ("You have reached five five five, zero one two three.", "reached a phone"),
        ("You've reached 305-555-0123", "reached a phone"),
        ("You've reached the cell phone of Doctor Shah.", "reached a phone"),
        ("I'm away from my desk at the moment", "away from my desk"),
        ("Our office is currently closed", "office closed"),
        ("For appointments press one", "press a key"),
        ("The person you are calling is screening calls", "the person you are calling"),
        # Finding (greetings_fresh): carriers', auto-attendants' and queues' phrases, heard
        # 1-2 s before the greeting was a machine by its length.
        ("Your call has been forwarded to an automated voice message system", "automated system"),
        (
            "Thank you for calling Summit Realty. Your call is very important to me.",
            "your call is important",
        ),
        (
            "All of our team members are currently helping other patients.",
            "all of our staff are busy",
        ),
        ("Calls will be answered in the order they were received.", "all of our staff are busy"),
        ("If this is a medical emergency, please hang up and dial 911.", "if this is an emergency"),
        ("In case of emergency hang up and dial nine one one.", "if this is an emergency"),
        ("Your call was transferred to an automated voice messaging system", "automated system"),
        # A recorded "leave a message" cut off where the transcribed audio stops.
        ("Hi, this is Jane, leave a mess.", "leave a message cut off"),
        ("Hello, you've reached the Parkers, please leave us a messa", "leave a message cut off"),
        ("Por favor, deje su mensaje después del tono.", "deje su mensaje"),
        ("Ha llamado al buzón de voz de María", "buzon"),
        ("después del tono", "despues del tono"),
    ],
)
def test_a_recorded_greetings_phrase_is_a_machine_at_once(text: str, cue: str) -> None:
    evidence = weigh_words(text, SO_FAR, WORDS)
    assert (evidence.says, evidence.cue) == (WordsSay.MACHINE, cue)


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("Bright Dental, this is Jane, how can I help you?", "how can I help"),
        ("Good morning, Lakeside Clinic, how may I direct your call?", "how can I help"),
        ("Hello, who's calling please?", "who is this"),
        ("Hi, who is this?", "who is this"),
        ("Front desk, this is Tom speaking.", "speaking"),
        ("Hello? Hold on, let me step outside.", "hold on"),
        ("Yeah, one sec.", "one second"),
        ("Lakeside Clinic, can you hold please?", "hold on"),
        ("Hello? Hello? Can you hear me?", "can you hear me"),
        ("¿Quién habla?", "quien habla"),
        ("Hello? Who is it?", "who is this"),
        ("Yeah, this is Tom, what's this about?", "what is this about"),
        ("Hi, is this the clinic?", "what is this about"),
        ("Hello, I'm kind of in the middle of something.", "bad moment"),
        ("Hang on, I'm driving, let me put you on speaker.", "bad moment"),
        ("Okay, go ahead.", "bad moment"),
        ("Can you call me later?", "bad moment"),
        # A person's words win over a machine's: they were said to the caller.
        ("She's not available, would you like to leave a message?", "would you like to leave"),
        ("Dr. Lee is not available, can I take a message?", "take a message"),
        # Finding (greetings_fresh): a person answering a call they know of, once taken for a
        # machine by "your message" (weak) or by length.
        (
            "Hi, yes, I got your message yesterday, is this about my appointment?",
            "got your message",
        ),
        ("Hello? Yes, this is Greg, I saw a missed call from this number.", "got your message"),
    ],
)
def test_a_live_persons_phrase_lets_the_greeting_run_and_ends_it_sooner(
    text: str, cue: str
) -> None:
    evidence = weigh_words(text, ENDED, WORDS)
    assert (evidence.says, evidence.cue) == (WordsSay.LIVE, cue)
    assert evidence.machine_greeting_ms == WORDS.live_greeting_ms
    assert evidence.end_silence_ms == WORDS.live_end_silence_ms
    # Even before the transcript covers the whole greeting: the rest cannot undo a live phrase.
    assert weigh_words(text, SO_FAR, WORDS).end_silence_ms == WORDS.live_end_silence_ms


@pytest.mark.parametrize(
    "text",
    [
        "If you are calling about a prescription, press one. If this is about billing, wait.",
        # Review finding: "are you calling...?" / "is this about...?" as live phrases (tried
        # for greetings_fresh's long human answers) made these recordings people, since a
        # live phrase outweighs every machine phrase; the patient's name then went on tape.
        "Thank you for calling Lakeside Dental. Are you calling to schedule an appointment? "
        "Press one.",
        "You've reached Mike. Are you calling about the apartment? Please leave a message.",
        "Hi, it's Dana. Is this about a prescription refill? Please leave a message.",
        "Were you trying to reach Maria? Leave your name and number after the tone.",
        # A recording's "missed your call" is no live "I saw a missed call".
        "Hi, it's Dana, sorry I missed your call, I'll get your message later.",
        # Review finding: nor is its "if I got your message" (a condition, no call it knows of).
        "Hi, it's Tom. If I got your message already, I'll call you back. Leave a message.",
    ],
)
def test_a_recording_that_asks_its_callers_a_question_is_still_a_machine(text: str) -> None:
    assert weigh_words(text, ENDED, WORDS).says is WordsSay.MACHINE


@pytest.mark.parametrize(
    "text",
    [
        # Review finding: what a person says back to the AI opening, or about their own phone,
        # once taken for a carrier's or an emergency menu's phrase (a machine at once).
        "Hello? Is this an automated message?",
        "Hello? Oh, can you hang up and call my cell instead?",
    ],
)
def test_a_persons_words_near_a_carriers_phrase_are_no_machine(text: str) -> None:
    assert weigh_words(text, SO_FAR, WORDS).says is not WordsSay.MACHINE


@pytest.mark.parametrize(
    "text",
    [
        "Hi, the number you gave me doesn't work.",
        "Please leave it on the porch, thanks. Hello?",
        "Hello, I was just about to leave.",
        "Hi, I can't answer much now, I'm at work.",
        "Jane's phone. She's not available.",  # someone answering another's phone: weak only
        # People opting out in words that open like a recording's (review, 2026-12-07).
        "Please leave me alone.",
        "Hello? I'm not available for this, take me off your list.",
        "I'm not available right now, take me off your list.",
        "This is harassment. Please leave me alone.",
        "This is his wife, leave him alone.",
        "You've reached the wrong number. Please leave me alone.",
        "Thanks for calling, but please leave me alone.",
        "Stop calling this number, you people.",
        "Wrong number, you have the wrong person.",
        "Hello? I can't take these calls anymore, stop calling.",
        "I can't take your calls anymore, stop calling me.",
        "I can't take calls at work, stop calling me.",
        "Sorry, I can't get to the store today.",
        "Hello? I'm at work, I can't talk, please stop calling me.",
    ],
)
def test_no_persons_words_are_a_machine_at_any_length(text: str) -> None:
    """The greeting is transcribed as it grows, and a machine verdict stops the transcription:
    so no opening of a person's sentence may be a machine's phrase, or what follows it (an
    opt-out) is never heard. Every word-prefix is weighed, as a transcript cut there would be."""
    words = text.split()
    for n in range(1, len(words) + 1):
        prefix = " ".join(words[:n])
        assert weigh_words(prefix, SO_FAR, WORDS).says is not WordsSay.MACHINE, prefix


@pytest.mark.parametrize(
    "text",
    [
        "You've reached Sam.",
        "Dr. Lee is not available.",
        "I'll call you back.",
        "Has llamado a Ana",
    ],
)
def test_a_phrase_a_person_may_say_too_is_a_machine_only_at_the_greetings_end(text: str) -> None:
    assert weigh_words(text, SO_FAR, WORDS).says is WordsSay.MACHINE_AT_END
    long = GreetingFacts(greeting_ms=WORDS.weak_cue_greeting_ms, complete=False)
    assert weigh_words(text, long, WORDS).says is WordsSay.MACHINE


@pytest.mark.parametrize(
    "text",
    [
        "Good afternoon, Lakeside Clinic, this is Sam.",
        "Thank you for calling Glow Med Spa.",  # both sides say it
        "Hi, this is Jane.",  # and this
    ],
)
def test_words_without_a_cue_let_the_greeting_run_a_little_longer(text: str) -> None:
    evidence = weigh_words(text, SO_FAR, WORDS)
    assert evidence.says is WordsSay.NOTHING
    assert evidence.machine_greeting_ms == WORDS.wordy_greeting_ms


def test_a_whole_greeting_heard_without_a_cue_or_with_a_weak_one_ends_sooner() -> None:
    """Once the transcript covers the greeting, its end needs at most heard_end_silence_ms
    of silence (timing alone waits 0.7 s + 0.3 x its length); until then, timing's."""
    for text in ("Good afternoon, Lakeside Clinic, this is Sam.", "You've reached Sam."):
        assert weigh_words(text, ENDED, WORDS).end_silence_ms == WORDS.heard_end_silence_ms
        assert weigh_words(text, SO_FAR, WORDS).end_silence_ms is None


@pytest.mark.parametrize("text", ["", "  ", "Hello.", "Yes?", "¿Bueno?", "Hi there."])
def test_few_or_no_words_change_nothing(text: str) -> None:
    evidence = weigh_words(text, ENDED, WORDS)
    assert evidence.says is WordsSay.NOTHING
    assert evidence.machine_greeting_ms is None
    assert evidence.end_silence_ms is None


def test_words_config_is_checked() -> None:
    with pytest.raises(ValueError, match="wordy_greeting_ms"):
        WordsConfig(wordy_greeting_ms=-1)
    with pytest.raises(Exception, match=r"unterminated|missing"):
        WordsConfig(live_cues=(Cue("broken", r"(unclosed"),))
    with pytest.raises(ValueError, match="transcribe_every_ms"):
        AmdConfig(transcribe_every_ms=0)


# -- the detector with a fake transcriber in its loop --------------------------------------
class SpokenWords:
    """A fake speech-to-text of one greeting: its words are said evenly from `start_ms` over
    `seconds`; a request hears those said by its end (the words are known, the audio is
    babble). Keeps every request."""

    def __init__(self, text: str, *, start_ms: int, seconds: float) -> None:
        self.words = text.split()
        self.start_ms = start_ms
        self.seconds = seconds
        self.requests: list[TranscribeGreeting] = []

    def at(self, request: TranscribeGreeting) -> str:
        self.requests.append(request)
        said = (request.until_ms - self.start_ms) / (1000 * self.seconds)
        count = max(0, min(len(self.words), int(len(self.words) * said)))
        return " ".join(self.words[:count])


def listen_with_words(
    pcm: bytes, words: SpokenWords | None, *, latency_ms: int = 500, answer: bool = True
) -> AnsweringMachineDetector:
    """Run the detector as the pipeline does: each request transcribed, handed back
    `latency_ms` later on the audio's clock (`answer=False`: never handed back)."""
    detector = AnsweringMachineDetector(AmdConfig(), words=words is not None)
    vad = EnergyVad()
    due: tuple[int, str, int] | None = None
    for at in range(0, len(pcm) - FRAME + 1, FRAME):
        if due is not None and detector.now_ms >= due[0]:
            detector.hear(due[1], until_ms=due[2])
            due = None
        frame = pcm[at : at + FRAME]
        for event in detector.observe(frame, speech=vad.is_speech(frame)):
            if isinstance(event, TranscribeGreeting):
                assert words is not None
                text = words.at(event)
                if answer:
                    due = (event.until_ms + latency_ms, text, event.until_ms)
        if detector.done:
            break
    return detector


def test_a_short_voicemail_without_a_beep_is_a_machine_by_its_words() -> None:
    """Finding: "Hi, this is Jane. Please leave a message." and no beep (2.2 s) was judged a
    person by its length. Its words say machine, as soon as they are transcribed."""
    audio = pause(0.4) + babble(2.2, seed=31) + pause(5)
    timing_only = listen_with_words(audio, None)
    assert timing_only.decision is not None
    assert timing_only.decision.verdict is AmdVerdict.HUMAN
    words = SpokenWords("Hi, this is Jane. Please leave a message.", start_ms=400, seconds=2.2)
    detector = listen_with_words(audio, words)
    assert detector.decision is not None
    assert (detector.decision.verdict, detector.decision.reason) == (
        AmdVerdict.MACHINE,
        AmdReason.MACHINE_WORDS,
    )
    # (or by "Please leave a mess-", cut off where the transcribed audio stops)
    assert detector.decision.cue in {"leave a message", "leave a message cut off"}
    # Before the greeting has even ended (2.6 s), and long before 3.5 s of it.
    assert detector.decision.at_ms < timing_only.decision.at_ms
    # Then the message goes on the box after its greeting, as a box that never beeps gets it.
    assert detector.ready is not None


def test_a_long_live_answer_is_a_person_by_its_words() -> None:
    """Finding: "Hello? Hold on, let me step outside, it's loud in here." (4.2 s) was judged
    a machine at 3.5 s. A live person's phrase lets the greeting run."""
    audio = pause(0.3) + babble(4.2, seed=32) + pause(5)
    timing_only = listen_with_words(audio, None)
    assert timing_only.decision is not None
    assert timing_only.decision.verdict is AmdVerdict.MACHINE
    words = SpokenWords(
        "Hello? Hold on, let me step outside, it's loud in here.", start_ms=300, seconds=4.2
    )
    detector = listen_with_words(audio, words)
    assert detector.decision is not None
    assert (detector.decision.verdict, detector.decision.reason) == (
        AmdVerdict.HUMAN,
        AmdReason.LIVE_WORDS,
    )
    # Ended by the live person's shorter silence (0.7 s), not 0.7 + 0.3 x 4.2 s.
    assert detector.decision.at_ms <= 4_500 + WORDS.live_end_silence_ms + 100


def test_a_live_phrase_heard_early_ends_the_greeting_without_waiting_for_its_last_words() -> None:
    """Finding: "Lakeside Clinic, how can I help you today?" had its live phrase transcribed
    mid-greeting, yet the verdict waited for a transcript of the greeting's last words (or
    timing's 0.7 s + 0.3 x its length). Nothing they say can undo a live phrase: 0.7 s of
    silence ends it, however slow the speech-to-text."""
    audio = pause(0.4) + babble(2.5, seed=38) + pause(5)
    words = SpokenWords("Lakeside Clinic, how can I help you today?", start_ms=400, seconds=2.5)
    detector = listen_with_words(audio, words, latency_ms=1_200)
    assert detector.decision is not None
    assert (detector.decision.verdict, detector.decision.cue) == (
        AmdVerdict.HUMAN,
        "how can I help",
    )
    greeting_end = 400 + 2_500
    assert detector.decision.at_ms <= greeting_end + WORDS.live_end_silence_ms + 100


def test_a_verdict_by_length_waits_a_little_for_the_words_being_transcribed() -> None:
    """Finding (greetings_fresh): "Well hello there, this is Harold, what can I do for you?"
    was a machine by its length (4.5 s of words with no cue) while the transcript holding its
    live phrase was out. A verdict by length alone waits for it (up to wait_for_words_ms)."""
    audio = pause(0.4) + babble(4.8, seed=40) + pause(5)
    text = "Well hello there, this is Harold, I was just sitting down here, what can I do for you"
    # All its words said by 4.4 s: the request that covers them is out at 4.9 s (4.5 s in).
    words = SpokenWords(text, start_ms=400, seconds=4.0)
    detector = listen_with_words(audio, words)
    assert detector.decision is not None
    assert (detector.decision.verdict, detector.decision.cue) == (
        AmdVerdict.HUMAN,
        "what can I do for you",
    )
    # A machine still is one by length, only as late as its transcript (no cue in it).
    machine = listen_with_words(
        audio, SpokenWords("Hello and thank you for calling " * 4, start_ms=400, seconds=4.0)
    )
    assert machine.decision is not None
    assert (machine.decision.verdict, machine.decision.reason) == (
        AmdVerdict.MACHINE,
        AmdReason.LONG_GREETING,
    )
    assert machine.decision.at_ms <= 400 + WORDS.wordy_greeting_ms + WORDS.wait_for_words_ms


def test_the_greeting_is_transcribed_as_it_grows_one_request_at_a_time() -> None:
    audio = pause(0.4) + babble(2.0, seed=33) + pause(5)
    words = SpokenWords("Good morning Lakeside Clinic this is Sam", start_ms=400, seconds=2.0)
    detector = listen_with_words(audio, words)
    requests = words.requests
    assert len(requests) >= 3
    # From the first word (less the pre-roll), growing; never two out at once.
    assert {r.from_ms for r in requests} == {requests[0].from_ms}
    assert 100 <= requests[0].from_ms <= 300
    gaps = [b.until_ms - a.until_ms for a, b in itertools.pairwise(requests)]
    assert all(gap >= 500 for gap in gaps)  # each waited for the last one's answer
    # The last one covers the greeting's end: it was asked for in the pause after it.
    assert requests[-1].until_ms >= 2_400 + AmdConfig().transcribe_after_pause_ms
    assert detector.decision is not None
    assert detector.decision.verdict is AmdVerdict.HUMAN  # words, no cue: a person's answer


def test_a_transcript_that_never_comes_holds_the_verdict_only_a_little() -> None:
    audio = pause(0.4) + babble(0.6, seed=34) + pause(5)
    timing_only = listen_with_words(audio, None)
    waiting = listen_with_words(
        audio, SpokenWords("Hello", start_ms=400, seconds=0.6), answer=False
    )
    assert timing_only.decision is not None
    assert waiting.decision is not None
    assert waiting.decision.verdict is timing_only.decision.verdict is AmdVerdict.HUMAN
    late = waiting.decision.at_ms - timing_only.decision.at_ms
    assert 0 < late <= WORDS.wait_for_words_ms + 20


def test_a_verdict_by_length_waits_for_a_lost_or_failed_transcript_only_a_little() -> None:
    """Review: the wait at the machine length is bounded like the one at the greeting's end.
    A transcript that never comes holds a long greeting's verdict wait_for_words_ms at most;
    a failed one (hear(None)) holds it not at all; neither past the 6 s bound."""
    for start in (0.4, 2.3):
        audio = pause(start) + babble(8.0, seed=40) + pause(3)
        timing = listen_with_words(audio, None).decision
        words = SpokenWords("la " * 30, start_ms=int(start * 1000), seconds=8.0)
        lost = listen_with_words(audio, words, answer=False).decision
        detector = AnsweringMachineDetector(AmdConfig(), words=True)
        vad = EnergyVad()
        for at in range(0, len(audio) - FRAME + 1, FRAME):
            frame = audio[at : at + FRAME]
            for event in detector.observe(frame, speech=vad.is_speech(frame)):
                if isinstance(event, TranscribeGreeting):
                    detector.hear(None, until_ms=event.until_ms)  # the transcription failed
            if detector.done:
                break
        failed = detector.decision
        assert timing is not None
        assert lost is not None
        assert failed is not None
        assert timing.verdict is lost.verdict is failed.verdict is AmdVerdict.MACHINE
        assert failed.at_ms == timing.at_ms
        bound = min(timing.at_ms + WORDS.wait_for_words_ms, AmdConfig().deadline_ms)
        assert timing.at_ms < lost.at_ms <= bound


def test_a_beep_still_decides_with_words() -> None:
    from ringfence.speech.synth import tone

    audio = pause(0.3) + babble(1.0, seed=35) + pause(0.3) + tone(0.4, 1_000) + pause(3)
    detector = listen_with_words(audio, SpokenWords("Jane Smith", start_ms=300, seconds=1.0))
    assert detector.decision is not None
    assert detector.decision.reason is AmdReason.BEEP


def test_a_person_verdict_by_a_live_phrase_is_not_watched_for_a_beep() -> None:
    """A live person's phrase ("Hello, who's this?") is a person's by its words, not its
    length: a tone after it is a sound on their line (review: a kettle, a chime), never a
    late beep (AmdConfig.late_beep_ms watches verdicts by length only)."""
    from ringfence.speech.synth import tone

    hello = pause(0.4) + babble(1.5, seed=38)
    words = SpokenWords("Hello, who's this?", start_ms=400, seconds=1.5)
    detector = listen_with_words(hello + pause(2.0) + tone(0.4, 1_000) + pause(3), words)
    assert detector.decision is not None
    assert detector.decision.reason is AmdReason.LIVE_WORDS
    assert detector.revised is None
    assert not detector.watching


def test_the_evaluation_transcribes_the_rendered_greeting_and_hands_it_back_late() -> None:
    case = parse_case(
        {
            "id": "vm",
            "expect": "machine",
            "parts": [
                {"pause": 0.4},
                {"say": "Hi, this is Jane. Please leave a message."},
                {"pause": 5},
            ],
        }
    )
    rendered = render(case, lambda text, style: babble(2.2, seed=36))
    heard: list[float] = []

    def transcriber(pcm16_16k: bytes) -> str:
        heard.append(len(samples_of(pcm16_16k)) / STT_RATE)
        return "Hi, this is Jane. Please leave a message." if heard[-1] > 2.0 else "Hi, this is"

    result = run_case(rendered, EnergyVad(), transcriber=transcriber, stt_latency_ms=500)
    assert result.correct
    assert result.decision is not None
    assert result.decision.reason is AmdReason.MACHINE_WORDS
    assert result.transcriptions == len(heard) >= 2
    assert result.heard == "Hi, this is Jane. Please leave a message."
    # Babble has no words: the detector decides on timing, as without a transcriber.
    assert run_case(rendered, EnergyVad(), transcriber=no_words).verdict is AmdVerdict.HUMAN
    request = TranscribeGreeting(from_ms=200, until_ms=700)
    assert len(greeting_audio(rendered.pcm, request)) == pytest.approx(STT_RATE, abs=4)  # 0.5 s


# -- the pipeline feeds it -----------------------------------------------------------------
class GreetingStt(ScriptedStt):
    """A speech-to-text for the greeting: says `text` for any audio with sound in it."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.calls = 0

    def transcribe(self, pcm16_16k: bytes, *, vocabulary: Sequence[str] = ()) -> Transcript:
        self.calls += 1
        return Transcript(self.text, 1.0, len(pcm16_16k) / (2 * STT_RATE))


def test_the_pipeline_transcribes_the_greeting_and_leaves_the_voicemail_early() -> None:
    tts = ToneTts()
    opening = prepare_opening(AgentSession(profile(), outbound()), tts=tts, policy=ScriptedPolicy())
    greeting_stt = GreetingStt("Hi, you've reached Jane, please leave a message")
    pipeline = VoicePipeline(
        opening, vad=EnergyVad(), stt=ScriptedStt(), tts=tts, greeting_stt=greeting_stt
    )
    actions = list(pipeline.on_start(StreamStart(call_key="k", call_sid="CA1", stream_sid="MZ")))
    clear_at: int | None = None
    audio = pause(0.3) + babble(2.5, seed=37, pitch_hz=180) + pause(4)
    for at in range(0, len(audio), FRAME):
        got = pipeline.on_audio(audio[at : at + FRAME], at / (2 * CARRIER_RATE))
        if clear_at is None and any(isinstance(a, Clear) for a in got):
            clear_at = pipeline.now_ms
        actions += got
    assert greeting_stt.calls >= 1
    result = pipeline.result()
    assert result.amd is not None
    assert (result.amd.verdict, result.amd.reason) == (AmdVerdict.MACHINE, AmdReason.MACHINE_WORDS)
    # The opening stopped as soon as the words were in: long before 3.5 s of greeting.
    assert clear_at is not None
    assert clear_at < 300 + AmdConfig().machine_greeting_ms
    assert pipeline.mode is Mode.VOICEMAIL
    assert pipeline.agent_speaking  # the message began after 2.5 s of silence: no beep here
    while pipeline.agent_speaking:
        pipeline.on_audio(pause(0.02), 0.0)
    assert pipeline.result().voicemail is not None  # left once it played in full


@pytest.mark.parametrize(
    "said",
    [
        "Stop calling me, my voicemail is full.",  # a machine phrase after the opt-out
        "I can't take your calls anymore, take me off your list.",
    ],
)
def test_an_opt_out_in_the_greetings_words_overrules_amd(said: str) -> None:
    """A person who opts out in words AMD would weigh as a machine's: the transcript that
    carries the opt-out is not weighed, the greeting is answered as a turn, the opt-out is
    honoured, and no message is left on the person."""
    greeting_stt = GreetingStt(said)
    pipeline = _answered_by_a_greeting(greeting_stt, ScriptedStt([said]))
    assert greeting_stt.calls >= 1
    result = pipeline.result()
    assert result.amd is None or result.amd.verdict is not AmdVerdict.MACHINE, result.amd
    assert pipeline.mode is Mode.CONVERSATION
    assert result.voicemail is None
    assert result.conversation.ended_by is EndReason.OPT_OUT
    assert any(isinstance(event, OptOut) for event in result.conversation.events)


def test_no_recordings_words_are_an_opt_out_at_any_length() -> None:
    """What overrules AMD (the worker's check of each greeting transcript) must not hear an
    opt-out in a recording: the learned understander, which counts doubt as one, heard it in
    74 of these machine greetings ("please leave your name and number"), which would have
    opted contacts out by their own voicemail (review). Every word-prefix of every machine
    greeting of the tuning sets, as the growing transcript would be."""
    machines = 0
    for path in sorted(AMD_DATA.glob("greetings*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            case = json.loads(line)
            said = " ".join(part["say"] for part in case["parts"] if "say" in part)
            if case["expect"] != "machine" or not said:
                continue
            machines += 1
            words = said.split()
            for n in range(1, len(words) + 1):
                prefix = " ".join(words[:n])
                assert detect_opt_out(prefix) is None, (case["id"], prefix)
    assert machines >= 200


@pytest.mark.parametrize(
    "greeting",
    [
        "Hi, you've reached Jane. Please leave your name and number and I'll call you back.",
        "Hi, you've reached Jane Smith. I can't take your call right now, so please leave a "
        "message after the tone.",
    ],
)
def test_a_recordings_words_never_overrule_amd(greeting: str) -> None:
    """The pipeline end of the check above: these greetings stay a machine's."""
    pipeline = _answered_by_a_greeting(GreetingStt(greeting), ScriptedStt())
    result = pipeline.result()
    assert result.amd is not None
    assert result.amd.verdict is AmdVerdict.MACHINE
    assert pipeline.mode is Mode.VOICEMAIL
    assert not any(isinstance(event, OptOut) for event in result.conversation.events)


def _answered_by_a_greeting(greeting_stt: GreetingStt, stt: ScriptedStt) -> VoicePipeline:
    """An outbound call answered by 2.5 s of speech that `greeting_stt` hears as its words
    (AMD's transcripts) and `stt` as the turn's; then 4 s of silence."""
    tts = ToneTts()
    opening = prepare_opening(AgentSession(profile(), outbound()), tts=tts, policy=ScriptedPolicy())
    pipeline = VoicePipeline(opening, vad=EnergyVad(), stt=stt, tts=tts, greeting_stt=greeting_stt)
    pipeline.on_start(StreamStart(call_key="k", call_sid="CA1", stream_sid="MZ"))
    audio = pause(0.3) + babble(2.5, seed=37, pitch_hz=180) + pause(4)
    for at in range(0, len(audio), FRAME):
        pipeline.on_audio(audio[at : at + FRAME], at / (2 * CARRIER_RATE))
    return pipeline
