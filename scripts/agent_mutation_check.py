"""Mutation check of the agent's understanding and output guardrails: make the checks able to
fail.

Plants named breaks of the agent's judgement, one at a time, each in its own throw-away copy
of the repository (the machinery of scripts/mutation_check.py), and runs the agent's unit
tests (`tests/unit/agent`), the answering-machine detector's (`test_amd.py`,
`test_amd_words.py`: whether the opening, with the patient's first name, plays into a
recording) and the speech pipeline's (`test_pipeline.py`: what is heard around AMD's verdict)
against the copy. A mutant is caught when they fail.

    .venv/bin/python scripts/agent_mutation_check.py [--only NAME ...] [--jobs N] [--markdown]

Exit status: 0 every mutant caught; 1 one survived; 2 a target text is missing or not unique;
3 the unmutated baseline fails. About 9 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mutation_check import (  # the sibling script, imported as a module
    _FAILED,
    ROOT,
    Mutant,
    _copy_tree,
    _run_in,
    plant,
    target_count,
)

KILLER = ("-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-p", "no:randomly",
          "tests/unit/agent", "tests/unit/speech/test_amd_words.py",
          "tests/unit/speech/test_amd.py", "tests/unit/speech/test_pipeline.py")  # fmt: skip

_DECISION = "src/ringfence/agent/understanding/decision.py"
_UNDERSTANDER = "src/ringfence/agent/understanding/understander.py"
_RUNTIME = "src/ringfence/agent/runtime.py"
_OUTPUT = "src/ringfence/agent/model_output.py"
_VERIFIER = "src/ringfence/agent/guardrails/verifier.py"
_AMD = "src/ringfence/speech/amd.py"
_AMD_WORDS = "src/ringfence/speech/amd_words.py"
_PIPELINE = "src/ringfence/speech/pipeline.py"
_WORKER = "src/ringfence/speech/worker.py"
_RESULT = "src/ringfence/speech/result.py"
_CLINICAL = "src/ringfence/agent/guardrails/clinical.py"
_OPT_OUT_RULES = "src/ringfence/agent/guardrails/opt_out.py"
_OPT_OUT_ES = "src/ringfence/agent/guardrails/opt_out_es.py"

MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "model_ignored",
        _UNDERSTANDER,
        "        probabilities = self._model.probabilities(text)\n",
        "        probabilities = {}\n",
        "the learned model is never consulted (wave 1's rules alone)",
    ),
    Mutant(
        "doubt_dropped",
        _DECISION,
        "    if certain or rule is not None or opt_out >= thresholds.opt_out_doubt:\n",
        "    if certain:\n",
        "an opt-out in doubt is not asked about (treated as no opt-out)",
    ),
    Mutant(
        "doubt_acted_on",
        _DECISION,
        "label=Label.OPT_OUT, doubt=not certain,",
        "label=Label.OPT_OUT, doubt=False,",
        "an opt-out in doubt is acted on without asking",
    ),
    Mutant(
        "any_answer_keeps_calling",
        _RUNTIME,
        "            if heard.label is not Label.OPT_OUT and keeps_the_calls(callee_text):\n",
        "            if heard.label is not Label.OPT_OUT:\n",
        "after the opt-out question, anything but an opt-out keeps calling (not only a clear no)",
    ),
    Mutant(
        "bare_answer_read_by_model",
        _DECISION,
        "    p = {} if is_bare_answer(text) else dict(probabilities)\n",
        "    p = dict(probabilities)\n",
        'a bare yes/no is read by the model ("no" to "is this Jane?" becomes a doubt)',
    ),
    Mutant(
        "cancel_without_appointment",
        _DECISION,
        "        p[Label.OPT_OUT] = p.get(Label.OPT_OUT, 0.0) + p.pop(Label.CANCEL, 0.0)\n",
        "        pass\n",
        '"cancel it" on a call without an appointment is not an opt-out',
    ),
    Mutant(
        "spanish_ack_in_english",
        _RUNTIME,
        "        ack = self._render(OPT_OUT_ACK_ES if self._spanish else OPT_OUT_ACK)\n",
        "        ack = self._render(OPT_OUT_ACK)\n",
        "a Spanish speaker's opt-out is acknowledged in English",
    ),
    Mutant(
        "verifier_off",
        _OUTPUT,
        "    if reply.free_text:\n",
        "    if False:\n",
        "a model's free text is said unverified",
    ),
    Mutant(
        "grounding_off",
        _OUTPUT,
        "    if needs is not None and (\n",
        "    if False and (\n",
        "a model's confirm/cancel/reschedule stands without the callee saying so",
    ),
    Mutant(
        "slot_not_grounded",
        _OUTPUT,
        "            return RescheduleRequested(_said(when, callee_turns))\n",
        "            return RescheduleRequested(when)\n",
        "a reschedule slot keeps the model's words (another patient's name in a task)",
    ),
    Mutant(
        "phone_check_off",
        _VERIFIER,
        "    if _phone_numbers(text, allowance):\n",
        "    if False:\n",
        "the verifier lets any phone number through",
    ),
    Mutant(
        "offers_after_a_no",
        _RUNTIME,
        "            self._negative = True",
        "            self._negative = False",
        "offers are allowed after the callee said no or not interested",
    ),
    # The answering-machine detector's words (2026-12-07's changes and their review).
    Mutant(
        "amd_if_guard_dropped",
        _AMD_WORDS,
        'r"(?<!\\bif )\\bi (?:just )?',
        'r"\\bi (?:just )?',
        "AMD: the live phrase 'I got your message' counts after 'if' (a recording's condition)",
    ),
    Mutant(
        "amd_wait_unbounded",
        _AMD,
        "and not self._heard_all and late < self.config.words.wait_for_words_ms",
        "and not self._heard_all",
        "AMD: a greeting transcript that is out is waited for without bound",
    ),
    Mutant(
        "amd_length_wait_dropped",
        _AMD,
        "if greeting >= long_from and not self._words_due(self._greeting_start + long_from, now):",
        "if greeting >= long_from:",
        "AMD: a verdict by length does not wait for a transcript that is out",
    ),
    Mutant(
        "amd_automated_message_bare",
        _AMD_WORDS,
        'r"|\\bautomated voice ?(?:messag|mail)",',
        'r"|\\bautomated (?:voice|message)",',
        "AMD: 'automated message' alone is a machine phrase (a person asks 'is this an automated"
        " message?')",
    ),
    Mutant(
        "amd_hang_up_and_call_bare",
        _AMD_WORDS,
        'r"|\\bhang up and (?:dial|call) (?:911|9 1 1|nine one one)\\b",',
        'r"|\\bhang up and (?:dial|call)\\b",',
        "AMD: 'hang up and call' alone is a machine phrase ('can you hang up and call my cell?')",
    ),
    Mutant(
        "amd_queue_phrase_dropped",
        _AMD_WORDS,
        '("your call is important", r"\\byour call is (?:very )?important\\b"),',
        "",
        "AMD: a queue's 'your call is important' is no machine phrase",
    ),
    # What a person's words may never start, and the opt-out that overrules AMD (the review of
    # 2026-12-07's cut-off cues).
    Mutant(
        "amd_cannot_take_opening",
        _AMD_WORDS,
        'r"|take (?:your|the) call\\b|answer (?:your|the) (?:call|phone)\\b|answer right now"',
        'r"|take your|take the|answer your|answer the|answer right"',
        "AMD: 'I can't take these...' / 'I can't take your [calls anymore]' open a machine phrase",
    ),
    Mutant(
        "amd_greeting_opt_out_ignored",
        _PIPELINE,
        "                if message.opt_out:\n",
        "                if False:\n",
        "AMD weighs a greeting transcript carrying an opt-out ('Stop calling me, my voicemail')",
    ),
    # A beep soon after a person verdict (2026-12-08) and its review.
    Mutant(
        "amd_late_beep_ignored",
        _AMD,
        "self._watching = cfg.late_beep_ms > 0 and decision.reason in _WATCHED",
        "self._watching = False",
        "AMD: a beep after a person verdict changes nothing ('Hello? ... Just kidding, leave a "
        "message.' and its beep: the opening runs on into the recording)",
    ),
    Mutant(
        "amd_watch_unbounded",
        _AMD,
        "        if now - person.at_ms >= cfg.late_beep_ms:",
        "        if now - person.at_ms >= 100 * cfg.late_beep_ms:",
        "AMD: a person verdict is watched for a beep without bound",
    ),
    Mutant(
        "amd_watch_after_live_words",
        _AMD,
        "_WATCHED = frozenset({AmdReason.SHORT_GREETING, AmdReason.DEADLINE_SHORT_SPEECH})",
        "_WATCHED = frozenset(\n"
        "    {AmdReason.SHORT_GREETING, AmdReason.DEADLINE_SHORT_SPEECH, AmdReason.LIVE_WORDS}\n"
        ")",
        "AMD: a tone after a live person's phrase ('Hello, who's this?') makes the call a "
        "voicemail",
    ),
    Mutant(
        "amd_late_beep_under_speech",
        _AMD,
        "            and beep.at_ms - self._last_speech_end >= cfg.late_beep_quiet_ms\n",
        "            and True\n",
        "AMD: a tone right after a person's words is a late beep",
    ),
    Mutant(
        "amd_late_beep_speech_after_ignored",
        _AMD,
        "            if self._last_speech_end > ended:",
        "            if False:",
        "AMD: a tone the person talks on after (a tone under their words) is a late beep",
    ),
    Mutant(
        "amd_watch_kept_in_conversation",
        _PIPELINE,
        "                self._amd.close_watch()\n            # Turns the worker",
        "                pass\n            # Turns the worker",
        "a tone on the callee's line after their turn went to the runtime makes the call a "
        "voicemail (the runtime's opt-out unacknowledged, its confirmation dropped)",
    ),
    Mutant(
        "amd_late_beep_turn_not_held",
        _PIPELINE,
        "                and self._amd.late_beep_pending\n                and self._held_turn",
        "                and False\n                and self._held_turn",
        "a recording's last words that end their turn during its beep are answered: the "
        "patient's name on the tape",
    ),
    Mutant(
        "greeting_turn_learned_opt_out",
        _WORKER,
        "                if not self._runtime.rules_hear_opt_out(text):\n",
        "                if not self._runtime.hears_opt_out(text):\n",
        "a greeting turn is an opt-out at once by the learned understander (a recording's "
        "'Leave your name and number.' opts the contact out)",
    ),
    Mutant(
        "greeting_doubt_never_heard",
        _PIPELINE,
        "                elif isinstance(heard, AmdDecision):\n"
        "                    self._answer_greeting_doubts(out)\n",
        "                elif isinstance(heard, AmdDecision):\n                    pass\n",
        "a greeting turn held in doubt is not heard when AMD finds a person",
    ),
    Mutant(
        "deaf_after_machine_verdict",
        _PIPELINE,
        "        if isinstance(event, TurnEnded) and self._amd is not None"
        " and self._amd.ready is None:\n",
        "        if False:\n",
        "nothing is heard after a machine verdict (a person taken for one who says 'stop "
        "calling me' gets the message)",
    ),
    Mutant(
        "own_message_echo_judged",
        _PIPELINE,
        " and self._amd.ready is None:\n",
        ":\n",
        "turns are judged while our message plays (its echo '...say stop' opts the patient out)",
    ),
    Mutant(
        "opt_out_ack_left_cut",
        _WORKER,
        "                self._gate.pin(reply_id)\n",
        "                pass\n",
        "an opt-out judged after the switch to voicemail keeps its cut reply (no "
        "acknowledgement, a hang-up at once)",
    ),
    Mutant(
        "ack_cut_by_the_switch",
        _WORKER,
        "            self._cut.update(i for i in reply_ids if i not in self._pinned)\n",
        "            self._cut.update(reply_ids)\n",
        "a switch to voicemail cuts an opt-out's acknowledgement the worker already pinned",
    ),
    Mutant(
        "turn_in_progress_unheard_at_hang_up",
        _PIPELINE,
        "        if self._turns.in_speech and state.speech_ms >= "
        "self._turns.config.min_speech_ms:\n",
        "        if False:\n",
        "'Stop calling me.' and a hang-up before the turn ends is never judged",
    ),
    Mutant(
        "last_messages_unread_at_hang_up",
        _PIPELINE,
        "        self._drain([])  # what the worker finished before it stopped"
        " (an opt-out, a doubt)\n",
        "        pass\n",
        "at the hang-up the held doubts are judged before the worker's last messages are read",
    ),
    Mutant(
        "turns_before_the_message_dropped_at_hang_up",
        _PIPELINE,
        "            unheard = [u for u in unheard if isinstance(u, Reply)]\n",
        "            return\n",
        "at a hang-up during the message, a person's opt-out from before it was due is dropped",
    ),
    Mutant(
        "doubts_heard_after_machine_verdict",
        _PIPELINE,
        "        if self._mode is Mode.CONVERSATION:\n            said += (t for r, t in",
        "        if True:\n            said += (t for r, t in",
        "at the hang-up after a machine verdict, a recording's words held in doubt opt out",
    ),
    Mutant(
        "answered_doubt_heard_again",
        _PIPELINE,
        " if not self._worker.answered(r))\n",
        ")\n",
        "a doubt the runtime already asked about is heard again at the hang-up (a confirmation "
        "the callee never gave)",
    ),
    Mutant(
        "doubt_in_flight_forgotten",
        _PIPELINE,
        "        self._doubts_in_flight[reply.id] = text\n",
        "        pass\n",
        "a held doubt handed to a busy worker is lost when the line drops first",
    ),
    Mutant(
        "answer_cut_by_hang_up_ignored",
        _PIPELINE,
        "        if text and unheard and "
        "self._answers_the_opt_out_question(unheard[0].start_ms):\n",
        "        if False:\n",
        "an answer to the opt-out question cut by the hang-up is not heard: a clear no "
        "suppresses the number",
    ),
    Mutant(
        "answer_before_the_question",
        _PIPELINE,
        "        return bool(asked) and said_from_ms >= max(asked)\n",
        "        return True\n",
        "words begun before the opt-out question was heard are taken for its answer",
    ),
    Mutant(
        "unfinished_message_left",
        _PIPELINE,
        "        if self._message_played:\n            return self._voicemail_events\n",
        "        if True:\n            return self._voicemail_events\n",
        "a message cut by the hang-up (or never begun) is recorded as a voicemail left",
    ),
    Mutant(
        "hang_up_does_not_wait_for_the_judgement",
        _WORKER,
        "            idle = self._idle.wait_for(lambda: self._running == 0, timeout=timeout_s)\n",
        "            idle = False\n",
        "the hang-up meets a turn still inside the runtime: the call ends first and the "
        "turn's possible opt-out is lost",
    ),
    Mutant(
        "any_question_answered",
        _PIPELINE,
        "            for start, _, text in last.sentences\n",
        "            for reply in heard\n            for start, _, text in reply.sentences\n",
        "words cut by the hang-up answer an opt-out question the callee never heard (an "
        "earlier one was heard)",
    ),
    Mutant(
        "speech_placed_after_the_line_drops",
        _PIPELINE,
        "                if message.reply == self._cancelled_voicemail or self._stopped:\n",
        "                if message.reply == self._cancelled_voicemail:\n",
        "audio the worker makes after the line's end is placed on the call's record",
    ),
    Mutant(
        "urgent_task_dropped_beside_voicemail",
        _RESULT,
        "        kept = tuple(e for e in events if isinstance(e, OptOut | StaffFollowUp))\n",
        "        kept = tuple(e for e in events if isinstance(e, OptOut))\n",
        "beside a voicemail, an urgent clinical task raised with an opt-out is dropped",
    ),
    Mutant(
        "beep_not_checked",
        _PIPELINE,
        "        if ready is not None and (ready.reason is ReadyReason.AFTER_BEEP or ready.beep):\n"
        "            return False\n",
        "",
        "a greeting that ended with a beep can still be taken for a person's opt-out",
    ),
    Mutant(
        "whole_greeting_not_checked",
        _PIPELINE,
        "        greeting = [r.heard for r in self._track.replies.values() "
        "if not r.respond and r.heard]\n",
        "        greeting: list[str] = []\n",
        "a possible person's opt-out is weighed alone, not against the rest of the greeting",
    ),
    Mutant(
        "intercepts_not_checked",
        _AMD_WORDS,
        "        or find_cue(plain, INTERCEPT_CUES)\n",
        "",
        "a network's intercept or a call screener read as an opt-out opts the contact out",
    ),
    Mutant(
        "persons_not_weighed_at_ready",
        _PIPELINE,
        "        if self._weigh_persons_opt_outs(out):\n            return\n",
        "",
        "a person's opt-out held since a verdict by length is never weighed: the message is left",
    ),
    Mutant(
        "opt_out_inside_a_clinical_turn_lost",
        _RUNTIME,
        "            and self._opt_out_in_a_clause(callee_text)\n",
        "            and False\n",
        "a request not to be called inside a turn heard as clinical is lost",
    ),
    Mutant(
        "returned_call_clause_is_an_opt_out",
        _RUNTIME,
        "            if only_returns_our_call(part) or not _CONTACT_WORDS.search(plain):\n"
        "                continue\n",
        "            if not _CONTACT_WORDS.search(plain):\n                continue\n",
        'a clinical turn that says "you called?" is asked whether to stop calling',
    ),
    Mutant(
        "message_does_not_wait_for_words",
        _PIPELINE,
        "        if self._persons_opt_outs and self._greeting_words_pending:\n",
        "        if False:\n",
        "a person's opt-out is weighed before the rest of the greeting's words are in (a busy "
        "worker lets a recording's first part opt the contact out)",
    ),
    Mutant(
        "late_opt_out_weighed_before_words",
        _PIPELINE,
        "                        if self._greeting_words_pending:  # (its own ReplyDone is next)\n"
        "                            self._message_waits_for_words = True\n"
        "                        else:\n"
        "                            self._weigh_persons_opt_outs(out)\n",
        "                        self._weigh_persons_opt_outs(out)\n",
        "a possible person's opt-out judged after the greeting ended is weighed before the rest "
        "of the greeting's words are in",
    ),
    Mutant(
        "waiting_message_released_after_hang_up",
        _PIPELINE,
        "                and not self._stopped  # the hang-up weighs them itself\n",
        "",
        "a transcript read at the hang-up releases the waiting message onto the call after it",
    ),
    Mutant(
        "cut_words_not_weighed",
        _PIPELINE,
        "            if persons and self._no_recording_heard("
        "[*persons, text] if text else persons):\n",
        "            if persons and self._no_recording_heard(persons):\n",
        "at a hang-up, the words it cut are not weighed with a held person's opt-out",
    ),
    Mutant(
        "any_clause_counts",
        _RUNTIME,
        "            if only_returns_our_call(part) or not _CONTACT_WORDS.search(plain):\n",
        "            if only_returns_our_call(part):\n",
        'a clause about something other than our calls ("stop talking") turns an urgent '
        "deferral into an opt-out question",
    ),
    Mutant(
        "appointment_talk_after_an_emergency",
        _RUNTIME,
        "                if urgent:\n"
        "                    line = URGENT_GOODBYE_ES if self._spanish else URGENT_GOODBYE\n"
        "                    return self._say(line, noted, EndReason.URGENT_FOLLOW_UP)\n",
        "",
        "after the urgent flag and the opt-out question, a clear no goes back to the appointment",
    ),
    Mutant(
        "clinical_task_lost_on_the_last_turn",
        _RUNTIME,
        "                    noted = [*noted, self._clinical_task(callee_text, heard, "
        "urgent=False)]\n",
        "                    pass\n",
        "on the last turn, a request not to be called inside a clinical turn drops the clinical "
        "question",
    ),
    Mutant(
        "urgent_dropped_when_asking",
        _RUNTIME,
        "            events = [*events, task]\n"
        "            flag = URGENT_FLAG_ES if self._spanish else URGENT_FLAG\n"
        '            question = f"{flag} {question}"\n',
        "            pass\n",
        "a possible opt-out that reports a complication gets only the opt-out question",
    ),
    Mutant(
        "learned_after_any_verdict",
        _PIPELINE,
        "            and decision.reason in BY_LENGTH_ALONE\n",
        "",
        "the understander's reading stands against a verdict by a beep or a recording's phrase",
    ),
    Mutant(
        "recording_words_not_checked",
        _PIPELINE,
        "            and not recording_words(text)\n",
        "",
        "after a verdict by length, a recording's own words read as an opt-out cancel the "
        "message and opt the contact out",
    ),
    Mutant(
        "doubt_stands_against_verdict",
        _PIPELINE,
        "        return doubt.certain and self._a_persons_words(doubt.text)\n",
        "        return self._a_persons_words(doubt.text)\n",
        "a reading in doubt stands against a machine verdict",
    ),
    Mutant(
        "held_opt_out_dropped_at_verdict",
        _PIPELINE,
        "                        d for d in self._greeting_doubts if self._a_persons_opt_out(d)\n",
        "                        d for d in self._greeting_doubts if False\n",
        "a person's opt-out held at a pause is dropped by a verdict by length",
    ),
    Mutant(
        "opt_out_after_message_dropped",
        _PIPELINE,
        "            self._opt_outs_after_message += (d.text for d in doubts)\n",
        "            pass\n",
        "a person's opt-out judged after the whole message played is lost",
    ),
    Mutant(
        "learned_unheard_at_hang_up_after_verdict",
        _PIPELINE,
        "        return self._a_persons_words(text) and self._runtime.hears_opt_out(text, "
        "certain=True)\n",
        "        return False\n",
        "after a verdict by length, a person's opt-out in other words cut by the hang-up is lost",
    ),
    Mutant(
        "spanish_urgent_signals_ignored",
        _CLINICAL,
        "(label, re.compile(p)) for table in (_URGENT_TEXT, URGENT_ES) for label, p in",
        "(label, re.compile(p)) for table in (_URGENT_TEXT,) for label, p in",
        'a Spanish complication ("no puedo respirar") gets a normal clinical task',
    ),
    Mutant(
        "accents_not_folded",
        _CLINICAL,
        "for c in clauses(unaccented(text))]",
        "for c in clauses(text)]",
        'a transcript with its accents ("se me cayó el párpado") is read as broken words',
    ),
    Mutant(
        "idioms_read_as_symptoms",
        _CLINICAL,
        '    parts = [_IDIOMS.sub(" ", c) for c in',
        "    parts = [c for c in",
        '"I nearly fainted at the price" or "trabajo en urgencias" is a complication',
    ),
    Mutant(
        "ai_question_hides_a_complication",
        _RUNTIME,
        "            if heard.label is Label.CLINICAL_QUESTION or concern is not None:\n",
        "            if False:\n",
        "a turn that asks whether the agent is a machine and reports a complication gets the "
        "disclosure alone",
    ),
    Mutant(
        "spanish_911_line_in_english",
        _RUNTIME,
        "            line = URGENT_DEFERRAL_ES if spanish else URGENT_DEFERRAL\n",
        "            line = URGENT_DEFERRAL\n",
        "a Spanish speaker's urgent deferral (the 911 line) is said in English",
    ),
    Mutant(
        "learned_urgency_ignored",
        _DECISION,
        "    if urgency >= thresholds.urgent and (found is not None or heard_clinical):\n",
        "    if False:\n",
        'a complication described, not named ("my leg is fat and sore on one side since the '
        'lipo"), gets a normal clinical task: the urgency head is not read',
    ),
    Mutant(
        "urgent_task_raised_again_at_hang_up",
        _RUNTIME,
        "self._asked_after_cancel, None)",
        "self._asked_after_cancel, self._understander.understand(said, "
        "appointment_call=True).clinical)",
        "a hang-up after the urgent flag and the opt-out question raises a second urgent task",
    ),
    Mutant(
        "worsening_beside_any_clinical_word",
        _CLINICAL,
        "        if label in _NEEDS_A_SYMPTOM and not symptom:\n",
        "        if False:\n",
        '"worse" counts beside any clinical word: "el martes está peor, ¿puedo tomar '
        'ibuprofeno?" ends the call with the 911 line',
    ),
    Mutant(
        "short_spanish_turn_told_in_english",
        _RUNTIME,
        "        return self._spanish or heard.language is Language.ES\n",
        "        return self._spanish\n",
        'a Spanish complication too short to switch the call ("veo borroso") hears the 911 '
        "line in English",
    ),
    Mutant(
        "answer_drops_the_complication",
        _RUNTIME,
        "label=Label.CLINICAL_QUESTION if clinical else Label.OTHER)",
        "label=Label.OTHER)",
        "on the inbound desk, a turn read as an answer drops the complication it reports",
    ),
    Mutant(
        "loose_colour_words_count_anywhere",
        _CLINICAL,
        "    if in_context:\n",
        "    if True:\n",
        "a colour said loosely counts without a part of the body or a treatment: \"I'm going "
        'to White Plains" ends the call with the 911 line',
    ),
    Mutant(
        "denied_signs_still_urgent",
        _CLINICAL,
        "            or not _DENIED.search(clause, max(0, m.start() - 60), m.start())\n",
        "            or True\n",
        'a sign denied right before it counts: "no fever, no chills, just tired" ends the call '
        "with the 911 line",
    ),
    Mutant(
        "denial_reaches_across_words",
        _CLINICAL,
        '    + r") ?$|\\bni("\n',
        '    + r") ?(\\w+ ){0,3}$|\\bni("\n',
        'a denial reaches a sign a few words on: "no my lip turned white" (an answer, then '
        "the complication) is not urgent",
    ),
    Mutant(
        "lost_vision_denied",
        _CLINICAL,
        '_NEVER_DENIED: Final = frozenset({"vision"})',
        "_NEVER_DENIED: Final = frozenset()",
        '"no vision in my left eye" is read as a denied sign, not as the sign itself',
    ),
    Mutant(
        "pet_idiom_reaches_past_a_conjunction",
        _CLINICAL,
        '    r"\\w+){0,4}",\n',
        '    r"\\w+){0,4}( \\w+){0,4}",\n',
        "a pet's clause swallows the words after it: \"my dog is fine but I can't breathe\" "
        "is not urgent",
    ),
    Mutant(
        "doubt_drops_the_clinical_words",
        _RUNTIME,
        "        elif clinical_too or concern is not None:",
        "        elif clinical_too:",
        'a possible opt-out that reports a mild effect ("me molesta un poquito donde '
        'pincharon") hears only the opt-out question: the clinical words reach no one',
    ),
    Mutant(
        "bare_no_reaches_an_article",
        _CLINICAL,
        '    + r"|(not|without|nothing( of)?|none|sin|tampoco|nada de)("\n',
        '    + _ARTICLE\n    + r"|(not|without|nothing( of)?|none|sin|tampoco|nada de)("\n',
        'a bare "no" denies a sign after an article: "no the tongue is swollen" (an answer, '
        "then the complication) is not urgent",
    ),
    Mutant(
        "self_negated_sign_denied",
        _CLINICAL,
        "            or _SELF_NEGATED.match(m.group()) is not None\n",
        "            or False\n",
        'a sign that carries its own negation is denied by the answer before it: "no no puedo '
        'respirar" is not urgent',
    ),
    Mutant(
        "model_certain_of_a_complication_as_opt_out",
        _DECISION,
        "(rule is not None or concern is None)\n",
        "(rule is not None or concern is None or not concern.urgent)\n",
        'the model alone is certain of an opt-out in a turn with clinical words that are no '
        'complication: "ya no me duele" (it no longer hurts; 0.88) suppresses the number',
    ),
    Mutant(
        "model_certain_of_a_complication_as_opt_out_any",
        _DECISION,
        "(rule is not None or concern is None)\n",
        "True\n",
        'the model alone is certain of an opt-out in a turn that reports a complication: "me '
        'desmayé" (read as opt-out at 0.65) suppresses the number of a patient who fainted',
    ),
    Mutant(
        "not_the_patient_beside_a_treatment",
        _CLINICAL,
        "    if not any(p.search(c) for p in (*_SYMPTOM, *_CONTEXT) for c in parts):\n",
        "    if True:\n",
        "a child's fever is set aside even in a turn that names the treatment: \"my kid has a "
        'fever since the laser treatment" is not urgent',
    ),
    Mutant(
        "not_the_patient_includes_a_parent",
        _CLINICAL,
        '    r"\\b(my|our|his|her|mi|mis|su|sus|nuestr[oa]s?)( little)? (grandbaby|grandbabies|"\n',
        '    r"\\b(my|our|his|her|mi|mis|su|sus|nuestr[oa]s?)( little)? (grandbaby|mom|"\n',
        'a parent, who may be the patient, is set aside as someone else: "my mom has a fever" '
        "is not urgent",
    ),
    Mutant(
        "gone_denies_any_fever",
        _CLINICAL,
        '        if gone and label == "fever" and _HAD.search(clause, max(0, m.start() - 40), '
        "m.start()):\n",
        '        if gone and label == "fever":\n',
        'a turn that says one thing went away denies a fever it reports now: "the swelling went '
        'away but now I have a fever" is not urgent',
    ),
    Mutant(
        "fever_had_always_gone",
        _CLINICAL,
        "    gone = any(_GONE.search(c) for c in parts) and not any(_BACK.search(c) for c in "
        "parts)\n",
        "    gone = True\n",
        'a fever had is a past issue even when the turn never says it went away: "I had a fever '
        "yesterday and it's still there\" is not urgent",
    ),
    Mutant(
        "plain_faint_ignored",
        _CLINICAL,
        '    r"patient)( s)? (collapsed|keeled over)\\b",',
        '    r"patient)( s)? (xcollapsed|xkeeled over)\\b",',
        'a faint said plainly is not heard: "she felt faint and collapsed after the treatment" '
        "is not urgent",
    ),
    Mutant(
        "spanish_opt_out_rules_off",
        _OPT_OUT_RULES,
        "        for pattern in _PHRASES_ES:\n",
        "        for pattern in ():\n",
        'the Spanish phrases are never read: "no me llame más" rests on the model alone',
    ),
    Mutant(
        "spanish_negated_request_obeyed",
        _OPT_OUT_RULES,
        "                if not NEGATED_ES.search(clause, 0, found.start()):\n",
        "                if True:\n",
        'a request asked for in the negative is obeyed: "no quiero que dejen de llamarme" '
        "suppresses the number",
    ),
    Mutant(
        "spanish_past_tense_read_as_a_request",
        _OPT_OUT_ES,
        '_ASK: Final = r"(llam|yam|marqu|contact|molest|hostigu|fastidi|friegu)(e|en|es|eis)"',
        '_ASK: Final = r"(llam|yam|marqu|contact|molest|hostigu|fastidi|friegu)'
        '(e|en|es|eis|aron|o)"',
        'a report is read as a request: "no me llamaron ayer" (nobody called) suppresses the '
        "number",
    ),
    Mutant(
        "only_a_bare_no_keeps_the_calls",
        _RUNTIME,
        "            if heard.label is not Label.OPT_OUT and keeps_the_calls(callee_text):\n",
        "            if heard.label is not Label.OPT_OUT and is_clear_no(callee_text):\n",
        'to the opt-out question, "no, I\'m coming" is an opt-out: the patient who keeps her '
        "appointment loses her calls",
    ),
    Mutant(
        "a_bound_no_keeps_the_calls",
        "src/ringfence/agent/understanding/answers.py",
        '    r"si (voy|voy a ir|ire)|ahi (estare|voy a estar)|senorita|senora|senor|que va|'
        'para nada|"\n',
        '    r"(si )?(voy|voy a ir|ire)|ahi (estare|voy a estar)|senorita|senora|senor|que va|"\n'
        '    r"para nada|"\n',
        'a "no" that binds the verb after it keeps the calls: "no voy a ir" (I am not going) to '
        '"Would you like us to stop calling?" is a clear no',
    ),
    Mutant(
        "gone_though_it_came_back",
        _CLINICAL,
        "    gone = any(_GONE.search(c) for c in parts) and not any(_BACK.search(c) for c in "
        "parts)\n",
        "    gone = any(_GONE.search(c) for c in parts)\n",
        'a fever that went away and came back is a past issue: "I had a fever, it went away and '
        'came back" is not urgent',
    ),
    Mutant(
        "nada_alone_denies",
        _CLINICAL,
        '    + r"|(not|without|nothing( of)?|none|sin|tampoco|nada de)("\n',
        '    + r"|(not|without|nothing( of)?|none|sin|tampoco|nada( de)?)("\n',
        'the filler "pues nada" denies the sign after it: "pues nada tengo fiebre desde ayer" is '
        "not urgent",
    ),
    Mutant(
        "spanish_talk_read_as_a_call",
        _OPT_OUT_ES,
        '_TALK: Final = r"(habl|escrib)(e|en|es|eis|a|an|as)"',
        '_TALK: Final = r"(habl|escrib)(e|en|es|eis|a|an|as)\\b.*"',
        '"hablar" as "to talk" is a request not to be called: "no me hablen en inglés" '
        "suppresses the number",
    ),
    Mutant(
        "spanish_keep_calling_read_as_stop",
        _OPT_OUT_ES,
        '    rf"\\b(?<!no )(?<!no me )(?<!no nos )(?<!vaya a )(?<!vayan a )(?<!vayas a )'
        '(deje|dejen|deja|"',
        '    rf"\\b(?<!no )(deje|dejen|deja|"',
        '"no me dejen de llamar" (keep calling me) suppresses the number',
    ),
)


@dataclass(slots=True)
class Result:
    name: str
    planted: str
    caught: bool | None = None
    detail: str = ""
    seconds: float = 0.0


def run_one(pristine: Path, workdir: Path, mutant: Mutant | None, timeout: float) -> Result:
    name = mutant.name if mutant else "baseline"
    result = Result(name, mutant.planted if mutant else "nothing (the unmutated snapshot)")
    copy = workdir / name
    try:
        _copy_tree(pristine, copy)
        if mutant is not None:
            plant(mutant, copy)
        out, result.seconds = _run_in(copy, [sys.executable, *KILLER], timeout)
        if out is None:
            result.caught, result.detail = True, f"timed out after {timeout:.0f} s"
        elif out.returncode == 0:
            result.caught, result.detail = False, "all passed"
        else:
            failed = _FAILED.findall(out.stdout)
            result.caught = True
            result.detail = failed[0].removeprefix("tests/unit/") if failed else "failed"
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    word = (
        ("FAILED" if result.caught else "passed")
        if mutant is None
        else ("caught" if result.caught else "SURVIVED")
    )
    print(f"  {name}: {word} ({result.detail})", flush=True)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", default=[], metavar="NAME")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args(argv)
    selected = [m for m in MUTANTS if not args.only or m.name in args.only]
    workdir = Path(tempfile.mkdtemp(prefix="ringfence-agent-mutants-"))
    pristine = workdir / "_snapshot"
    began = time.perf_counter()
    try:
        _copy_tree(ROOT, pristine)
        bad = [m.name for m in selected if target_count(m, pristine) != 1]
        if bad:
            print(f"TARGET NOT FOUND (or not unique): {', '.join(bad)}", file=sys.stderr)
            return 2
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            baseline = pool.submit(run_one, pristine, workdir, None, args.timeout)
            futures = [pool.submit(run_one, pristine, workdir, m, args.timeout) for m in selected]
            results = [f.result() for f in futures]
            base = baseline.result()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    header = ("mutant", "what is planted", "caught by")
    rows = [(r.name, r.planted, r.detail if r.caught else "SURVIVED") for r in results]
    if args.markdown:
        print("| " + " | ".join(header) + " |\n|---|---|---|")
        print("\n".join("| " + " | ".join((f"`{a}`", b, c)) + " |" for a, b, c in rows))
    else:
        print("\n".join(f"{a:28} {c:60} {b}" for a, b, c in rows))
    survived = [r.name for r in results if not r.caught]
    minutes = (time.perf_counter() - began) / 60
    print(f"\n{len(results) - len(survived)} of {len(results)} caught; {minutes:.1f} min")
    if base.caught:
        print(f"BASELINE FAILED: {base.detail}", file=sys.stderr)
        return 3
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
