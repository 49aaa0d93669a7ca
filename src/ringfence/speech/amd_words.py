"""The greeting's words as evidence for answering-machine detection (pure: text in, no I/O).

Timing alone cannot tell a person's long answer ("Good afternoon, Lakeside Clinic, this is Sam,
how can I help you?") from a short recorded greeting with no beep ("Hi, this is Jane, leave a
message."). Their words can. The pipeline transcribes the greeting as it grows (the detector
asks for it, see `amd.AnsweringMachineDetector`) and hands the text in; `weigh_words` reads
the transcript so far against the greeting's timing and says what the words change:

- **a recorded greeting's phrase** (`machine_cues`: "leave a message", "after the tone",
  "voicemail", "mailbox", "can't take your call", "the person you are calling", "press 1",
  "deje su mensaje", "buzón", "después del tono", and what carriers, auto-attendants and
  queues read out: "forwarded to an automated voice message system", "your call is
  important", "all of our staff are busy", "if this is an emergency, hang up and dial
  911"...) makes a machine at once, before the
  greeting has outlasted a person's answer; so does a recording's "leave a mess-" cut off where the
  transcribed audio stops;
- **a phrase a machine says but a person may too** (`weak_machine_cues`: "you've reached",
  "not available", "call you back": "You've reached Bright Dental, this is Jane", "Dr. Lee is
  not available, can I take a message?") makes a machine only once the greeting is over, where
  timing alone would say "a person", or once it has run `weak_cue_greeting_ms`;
- **a live person's phrase** (`live_cues`: "how can I help you", "who is this", "Jane
  speaking", "hold on", "one second", "can I take a message", "would you like to leave a
  message", "I got your message", "I saw a missed call") overrides both: a person answering
  a business line or stepping outside talks on past the length a recorded greeting is judged
  by, so the length that makes a machine grows to `live_greeting_ms`, and a greeting that has
  ended is a person's after `live_end_silence_ms` (no beep follows a question put to the
  caller), whether or not the transcript covers its last words yet (nothing in them can undo
  a live phrase);
- **words and none of these** (`min_words` or more, no cue) lengthen the greeting a person may
  give to `wordy_greeting_ms`: a recorded greeting says its phrase within a few seconds, so a
  greeting that has said none is more likely a person's long answer;
- **the whole greeting heard** (a complete transcript of a greeting shorter than
  `heard_end_greeting_ms`, with words and no cue, or a weak one) ends it after at most
  `heard_end_silence_ms` of silence: what timing's longer wait listens for (a next sentence, a
  late beep) mostly follows a machine's phrase, which would have decided it;
- **no words** (nothing transcribed yet, an empty transcript, or a language the speech-to-text
  does not know and garbles into too few words) change nothing: timing decides.

A transcript is *complete* when it covers the greeting up to its last speech; the detector
waits up to `wait_for_words_ms` past the greeting's end for a complete one before it calls the
greeting a person's (the weak cues are read there), and as long past the length that makes it a
machine by length alone for a transcript that is out (its newest words may be a live phrase).

The phrases are matched on a normalized transcript: lower case, accents stripped ("buzón" ->
"buzon"), apostrophes dropped ("you've" -> "youve", "can't" -> "cant"), every other
non-letter a space. They are written for the speech-to-text the pipeline runs (Whisper tiny.en,
which writes "Hello." for "Hello?", so a question mark is never needed) and its usual slips
("take your car" for "take your call": the phrase stops at "take your").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Cue:
    """A phrase: `label` names it (what a decision records: never the callee's words, which
    are PHI), `pattern` finds it in a normalized transcript."""

    label: str
    pattern: str


def _cues(*pairs: tuple[str, str]) -> tuple[Cue, ...]:
    return tuple(Cue(label, pattern) for label, pattern in pairs)


# Things only a recorded greeting (or a carrier's announcement) says.
MACHINE_CUES = _cues(
    ("leave a message", r"\bleave (?:\w+ ){0,3}?(?:message|messages|name|number|voicemail)\b"),
    ("after the tone", r"\b(?:after|at) the (?:tone|beep|signal|sound)\b"),
    ("voicemail", r"\bvoice ?mail\b"),
    ("mailbox", r"\b(?:mail|message) ?box\b"),
    ("record your message", r"\brecord (?:your|a|the) (?:message|name)\b"),
    ("finished recording", r"\b(?:finished|done|when you finish) recording\b"),
    (
        "the person you are calling",
        r"\b(?:person|party|number|subscriber|customer) (?:that )?you(?: are| have|re|ve) "
        r"(?:calling|trying|dialed|called|reached)\b",
    ),
    ("you have dialed", r"\byou(?: have|ve)? dialed\b"),
    (
        "cannot take your call",
        # Whole phrases, not their openings: "I can't take your calls anymore, stop..." and
        # "I can't take these..." are a person, and a machine verdict stops the transcription.
        r"\b(?:cant|cannot|can not|unable to|not able to) (?:come to the phone|get to the phone"
        r"|take (?:your|the) call\b|answer (?:your|the) (?:call|phone)\b|answer right now"
        r"|pick up (?:the phone|right now)|take calls (?:right now|at the moment|at this time))"
        # ... and after a recording's own words, its opening too ("take your ca-" cut off)
        r"|\byou(?: have|ve)? reached\b.*\b(?:cant|cannot|can not) take your\b",
    ),
    (
        "missed your call",
        r"\bmissed (?:your|the) call\b|\b(?:sorry|so sorry) (?:i|we) missed you\b",
    ),
    # "You've reached" (weak, below) followed by what only a recording reads out: a phone
    # number, an extension, or whose phone or mailbox it is.
    (
        "reached a phone",
        r"\byou(?: have|ve)? reached (?:the )?(?:\d|(?:zero|one|two|three|four|five|six|seven|"
        r"eight|nine|extension)\b|(?:(?:cell|mobile|personal|private|direct) ?(?:phone|line)?"
        r"|voice ?mail|mailbox|phone) (?:of|for)\b)",
    ),
    ("away from my desk", r"\baway from (?:my|the|our) (?:desk|phone|office)\b"),
    # A recorded "leave a message" cut off where the transcribed audio stops (the greeting is
    # transcribed as it grows): not waited on for its next transcript. Only this phrase, and
    # only at the transcript's end: a machine verdict stops the transcription, so a cue that
    # also begins a person's sentence ("please leave [me alone]", "I can't take [these calls]",
    # "stop calling this number, you...", "I'm not available [for this]") would lose the
    # opt-out said after it (review, 2026-12-07; `test_no_persons_words_are_a_machine_at_any_
    # length`).
    ("leave a message cut off", r"\b(?:please )?leave (?:a|your|us a|me a) mess\w*$"),
    (
        "office closed",
        r"\b(?:office|we) (?:is |are |re )?(?:currently |now )?closed\b|\bcurrently closed\b",
    ),
    ("office hours", r"\b(?:office|business|our) hours\b"),
    ("screening calls", r"\bscreening\b"),
    ("not in service", r"\b(?:not|no longer) in service\b|\bbeen disconnected\b"),
    # What carriers, auto-attendants and call queues read out, never a person answering.
    (
        "automated system",
        # not a bare "automated message": a person who hears the AI opening asks "is this an
        # automated message?" (and "is this a..." is a live phrase)
        r"\b(?:forwarded|transferred) to an? (?:automated|voice)\b"
        r"|\bautomated voice ?(?:messag|mail)",
    ),
    ("your call is important", r"\byour call is (?:very )?important\b"),
    (
        "all of our staff are busy",
        r"\ball (?:of )?our (?:\w+ ){1,2}are (?:currently |now )?(?:busy|helping|assisting|serving"
        r"|with other)\b|\bin the order (?:it was|they were|in which it was) received\b",
    ),
    (
        "if this is an emergency",
        r"\bif (?:this is|you have|youre having|you are having) an? (?:medical )?emergency\b"
        # a person may ask to be called on another line: "can you hang up and call my cell?"
        r"|\bhang up and (?:dial|call) (?:911|9 1 1|nine one one)\b",
    ),
    (
        "press a key",
        r"\bpress (?:one|two|three|four|five|six|seven|eight|nine|zero|pound|star|\d)\b",
    ),
    # Spanish (a speech-to-text that knows it; Whisper tiny.en often translates it instead).
    ("deje su mensaje", r"\bdej[ea] (?:\w+ )?(?:mensaje|recado)\b|\bmensaje\b"),
    ("buzon", r"\bbuzon\b"),
    ("despues del tono", r"\bdespues (?:del|de la) (?:tono|senal|pitido)\b"),
    ("grabe su mensaje", r"\bgrab[ea] su\b"),
    ("oprima", r"\b(?:oprima|marque|presione|pulse)\b"),
)

# Things a recorded greeting says that a person answering may say too.
WEAK_MACHINE_CUES = _cues(
    ("you have reached", r"\byou(?: have|ve)? reached\b|\b(?:ha|has) llamado\b"),
    ("not available", r"\b(?:not|isnt) available\b|\bunavailable\b"),
    ("no disponible", r"\bno (?:esta|estoy|estamos) disponible"),
    (
        "call you back",
        r"\b(?:call|get back to|return) (?:you|your call)\b|\bdevolver\w*\b|\bte llamo\b",
    ),
    ("not here right now", r"\bnot (?:here|home|in|around) (?:right now|at the moment)\b"),
    ("other line", r"\b(?:on another call|on the other line)\b"),
    ("stay on the line", r"\bstay on the line\b"),
    # "Leave a message" misheard ("we have a message"), or said some other way.
    ("a message", r"\b(?:a|your|the) message\b"),
)

# Things a live person says to the caller (or to someone beside them).
LIVE_CUES = _cues(
    # (its last word may be cut off: the transcript stops where the audio does)
    ("how can I help", r"\bhow (?:can|may|could|might) (?:i|we)\b"),
    ("what can I do for you", r"\bwhat can (?:i|we) do for you\b"),
    (
        "who is this",
        r"\bwho (?:is )?(?:this|calling|speaking)\b|\bwhos (?:this|calling|it)\b|\bwho is it\b",
    ),
    # A question back about the call: a recording asks the caller nothing about it.
    (
        "what is this about",
        r"\bwhat(?:s| is) (?:this|it|that) (?:about|regarding|for|in regards)\b"
        r"|\bis this (?:the|a)\b",
    ),
    # Answering at a bad moment: busy, driving, on the speaker, asking to be called later.
    (
        "bad moment",
        r"\bin the middle of\b|\bbad time\b|\bcall me (?:back )?later\b|\bim driving\b"
        r"|\bon (?:the )?speaker\b|\bgo ahead\b|\bsorry about that\b",
    ),
    ("who am I speaking to", r"\bwho am i (?:speaking|talking)\b|\bmay i ask who\b"),
    ("speaking", r"\bspeaking\b"),
    ("hold on", r"\b(?:hold|hang) on\b|\bcan you hold\b"),
    (
        "one second",
        r"\b(?:one|a|just a|just one|give me a) (?:sec|second|moment|minute)\b",
    ),
    ("let me step out", r"\blet me (?:step|go|get|grab|turn|move|put|take)\b"),
    ("can you hear me", r"\bcan you hear me\b|\bare you there\b|\bi cant hear\b"),
    ("take a message", r"\b(?:can|may|shall) i take (?:a|your) message\b"),
    # Answering a call they know came before ("I got your message", "I saw a missed call"): a
    # recording cannot know of one (it says "sorry I missed your call", a machine's phrase).
    (
        "got your message",
        # not "if I got your message": a recording's condition, no call it knows of
        r"(?<!\bif )\bi (?:just )?(?:got|saw|received) (?:your|a|the) (?:message|voice ?mail"
        r"|missed call|text|call)\b",
    ),
    ("would you like to leave", r"\b(?:would|do) you (?:like|want) to leave\b"),
    # Talking to someone beside them: no recorded greeting does.
    (
        "talking to someone else",
        r"\b(?:im|mommy is|daddy is|mom is|dad is) on the phone\b|\bbe right there\b"
        r"|\bcome here\b|\bstop (?:that|it)\b|\bbe quiet\b|\bhoney\b|\bsweetie\b",
    ),
    ("quien habla", r"\bquien (?:habla|llama|es)\b|\bdigame\b|\ben que (?:le|te) puedo\b"),
    ("un momento", r"\bun moment(?:o|ito)\b|\bespere\b"),
)


@dataclass(frozen=True, slots=True)
class WordsConfig:
    """What the greeting's words change, and the phrases they are read by (see the module
    docstring). Times in ms of greeting (from its first word) or of silence after it."""

    machine_cues: tuple[Cue, ...] = MACHINE_CUES
    weak_machine_cues: tuple[Cue, ...] = WEAK_MACHINE_CUES
    live_cues: tuple[Cue, ...] = LIVE_CUES
    # A greeting with a live person's phrase in it is a machine only past this (the detector's
    # bound on a verdict, 6 s, comes first: then it is a person).
    live_greeting_ms: int = 6_000
    # After a live person's phrase, the greeting has ended after this much silence (the
    # pipeline's end of turn is 600 ms: a shorter one would answer the greeting).
    live_end_silence_ms: int = 700
    # A greeting whose words (min_words or more) hold no cue is a machine only past this.
    wordy_greeting_ms: int = 4_500
    min_words: int = 3
    # A weak machine phrase makes a machine once the greeting has run this long, or ended.
    weak_cue_greeting_ms: int = 3_500
    # At the greeting's end, how much longer to wait for a transcript that covers it; and
    # when a greeting has run long enough to be a machine by length alone (3.5 s, 4.5 s with
    # words and no cue), how much longer to wait for a transcript that is out: its newest
    # words may hold a live phrase ("..., this is Harold, what can I do for you?", 4.5 s, was
    # a machine while they were being transcribed). Machines decided by length are decided
    # as much later (~0.1-0.2 s on the tuning sets), never past the 6 s bound.
    wait_for_words_ms: int = 1_000
    # Once a transcript covers the whole greeting and it holds no machine's phrase (min_words
    # or more, no cue) or only a weak one, the greeting has ended after at most this much
    # silence (timing alone waits 0.7 s + 0.3 x its length: 1.6 s after 3 s). The words are
    # in, so what the longer wait was for is mostly answered: recorded greetings pause 0.3-0.9
    # s between sentences (as the VAD sees them), and a box that beeps late after a long
    # greeting says a machine's phrase first ("leave a message") and is decided by it. At
    # 1.0 s a beep 0.7 s after a garbled "Please leave a message." was missed: it never cuts
    # timing's wait for a greeting under ~1.3 s, only longer ones.
    heard_end_silence_ms: int = 1_100
    # ...for a greeting shorter than this only (timing's own machine length): one that has run
    # longer is past a person's plain answer, and a pause in it may be a recording's between
    # two sentences the speech-to-text garbled or dropped (Spanish, a number read out).
    heard_end_greeting_ms: int = 3_500

    def __post_init__(self) -> None:
        for name in (
            "live_greeting_ms",
            "live_end_silence_ms",
            "wordy_greeting_ms",
            "weak_cue_greeting_ms",
            "wait_for_words_ms",
            "heard_end_silence_ms",
            "heard_end_greeting_ms",
            "min_words",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        for cue in (*self.machine_cues, *self.weak_machine_cues, *self.live_cues):
            re.compile(cue.pattern)  # a bad pattern fails here, not mid-call


@dataclass(frozen=True, slots=True)
class GreetingFacts:
    """The timing the words are weighed against (from the detector, on the audio's clock)."""

    greeting_ms: int  # how long the greeting has run, first word to last speech
    complete: bool  # the transcript covers the greeting up to its last speech


class WordsSay(StrEnum):
    NOTHING = "nothing"  # no words, or words without a cue: timing decides
    MACHINE = "machine"  # a recorded greeting's phrase: a machine now
    MACHINE_AT_END = "machine_at_end"  # a weak one: a machine at the greeting's end
    LIVE = "live"  # a live person's phrase


@dataclass(frozen=True, slots=True)
class WordsEvidence:
    """What the words say, and the thresholds that follow (None: the detector's own)."""

    says: WordsSay = WordsSay.NOTHING
    cue: str = ""  # the label of the phrase that said it
    machine_greeting_ms: int | None = None  # the greeting length that makes a machine
    end_silence_ms: int | None = None  # the silence that ends the greeting


NO_WORDS = WordsEvidence()


def normalize(text: str) -> str:
    """Lower case, accents stripped, apostrophes dropped, other non-letters spaces."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = re.sub(r"['\u2019`]", "", plain)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


def find_cue(text: str, cues: tuple[Cue, ...]) -> str:
    """The label of the first of `cues` found in the normalized `text` ("" if none)."""
    for cue in cues:
        if re.search(cue.pattern, text):
            return cue.label
    return ""


# What networks' intercepts and call screeners say: used only to keep them from being taken
# for a person's words after a machine verdict (`recording_words`), not weighed by AMD. The
# learned understander reads many of them as a request not to be called ("Please try your
# call again later.", "Calls to this number are restricted.").
INTERCEPT_CUES = _cues(
    # Each anchored to the recording's own wording, not a word a person's opt-out may use
    # ("I've blocked calls from you...", "don't try your call again", "no me llamen,
    # verifique su lista"): a review of the first, broader list found those filtered out.
    ("all circuits", r"\ball circuits\b"),
    (
        "try your call again",
        r"\bplease try (?:your |the )?(?:call )?again\b|(?<!dont )(?<!do not )\btry your call "
        r"again\b|\btry again later\b",
    ),
    ("check the number", r"\b(?:check|verify) the number\b"),
    ("cannot be completed", r"\b(?:cannot|can not|could not|couldnt) be (?:completed|connected)\b"),
    ("no longer in use", r"\bno longer in use\b"),
    (
        "calls to this number",
        r"\bcalls to this (?:number|line|phone) (?:are|is|have been|cannot be) (?:being )?"
        r"(?:restricted|blocked|forwarded|not (?:being )?(?:accepted|permitted))\b",
    ),
    (
        "calls blocked",
        r"\bcalls (?:are|have been) (?:blocked|restricted)\b"
        r"|\b(?:subscriber|customer|party|caller|person) (?:\w+ ){0,6}(?:has|have) (?:blocked|"
        r"restricted)\b|\bhas been (?:blocked|restricted) by\b|\bnumber (?:does not|doesnt) "
        r"accept calls\b|\b(?:number|line|phone) is not accepting calls\b",
    ),
    # a screener asks for both: the name, and why
    ("say your name", r"\b(?:say|state|record) your name (?:\w+ ){0,3}(?:reason|why)\b"),
    (
        "el numero marcado",
        r"\bel numero que (?:usted )?(?:ha )?marcado\b|\bel numero (?:\w+ ){0,4}no existe\b"
        r"|\bverifique (?:el|su) numero\b"
        r"|(?<!no )\bintente (?:su llamada |llamar )?(?:mas tarde|nuevamente|de nuevo)\b",
    ),
)


def recording_words(text: str) -> str:
    """The label of a recorded greeting's phrase in `text`, strong or weak, or of a network's
    intercept or a call screener ("" if none): what a person's words must not carry to be
    taken for a person's after a machine verdict."""
    plain = normalize(text)
    return (
        find_cue(plain, MACHINE_CUES)
        or find_cue(plain, WEAK_MACHINE_CUES)
        or find_cue(plain, INTERCEPT_CUES)
    )


def weigh_words(transcript: str, facts: GreetingFacts, config: WordsConfig) -> WordsEvidence:
    """What the greeting's transcript so far says, given its timing (see the module docstring).

    A live person's phrase wins over a machine's ("She's not available, would you like to
    leave a message?"); a recorded greeting's phrase decides at once; a weak one at the
    greeting's end or past `weak_cue_greeting_ms`."""
    text = normalize(transcript)
    if not text:
        return NO_WORDS
    live = find_cue(text, config.live_cues)
    if live:
        return WordsEvidence(
            WordsSay.LIVE,
            live,
            machine_greeting_ms=config.live_greeting_ms,
            # Whether or not the transcript covers the greeting's end yet: a live phrase wins
            # over any the rest could hold, so only a beep is still worth waiting for.
            end_silence_ms=config.live_end_silence_ms,
        )
    machine = find_cue(text, config.machine_cues)
    if machine:
        return WordsEvidence(WordsSay.MACHINE, machine)
    heard_end = None
    if facts.complete and facts.greeting_ms < config.heard_end_greeting_ms:
        heard_end = config.heard_end_silence_ms
    weak = find_cue(text, config.weak_machine_cues)
    if weak:
        if facts.greeting_ms >= config.weak_cue_greeting_ms:
            return WordsEvidence(WordsSay.MACHINE, weak)
        return WordsEvidence(WordsSay.MACHINE_AT_END, weak, end_silence_ms=heard_end)
    if len(text.split()) >= config.min_words:
        return WordsEvidence(machine_greeting_ms=config.wordy_greeting_ms, end_silence_ms=heard_end)
    return NO_WORDS
