"""Agent latency: per-turn time of the embedded policy with every guardrail, and the time from
"answered" to the first utterance being ready.

    .venv/bin/python benchmarks/bench_agent.py [--turns 10000] [--calls 1000]

Turns come from whole sandbox conversations (all eight personas, all five purposes, both
directions, varied seeds); only `ConversationRuntime.respond` is timed, with the learned
understanding (the default) and, side by side in the same run, with the rules alone.
"Answered to first utterance" times building the runtime (profile validation included)
plus `start()`.
Goals from the issue: p99 per turn < 20 ms; first utterance < 100 ms. Figures only: nothing
here asserts a time.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time

from ringfence.adapters.telephony.sandbox import PERSONAS
from ringfence.agent.callee import SimulatedCallee
from ringfence.agent.policies.scripted import ScriptedPolicy
from ringfence.agent.profile import AgentProfile, CallContext, CallDirection
from ringfence.agent.runtime import ConversationRuntime
from ringfence.agent.understanding.model import default_model
from ringfence.agent.understanding.understander import (
    LearnedUnderstander,
    RulesOnlyUnderstander,
    Understander,
)
from ringfence.domain.vocabulary import CallPurpose

PROFILE = AgentProfile(practice_name="Glow Med Spa", callback_number="+13055550123")


def _contexts() -> list[CallContext]:
    outbound = [
        CallContext(CallDirection.OUTBOUND, purpose, "Jane", "Botox touch-up", "Friday at 2 PM")
        for purpose in CallPurpose
    ]
    return [*outbound, CallContext(CallDirection.INBOUND, None, "Jane", "Botox touch-up")]


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _report(name: str, samples_ms: list[float]) -> None:
    print(
        f"{name}: n={len(samples_ms)}  p50={_percentile(samples_ms, 0.50):.3f} ms  "
        f"p99={_percentile(samples_ms, 0.99):.3f} ms  max={max(samples_ms):.3f} ms  "
        f"mean={statistics.fmean(samples_ms):.3f} ms"
    )


def per_turn(turns: int, understander: Understander) -> tuple[list[float], int]:
    policy = ScriptedPolicy()
    samples: list[float] = []
    plan = itertools.cycle(itertools.product(_contexts(), PERSONAS))
    for seed in itertools.count():
        context, persona = next(plan)
        runtime = ConversationRuntime(PROFILE, context, policy, understander=understander)
        callee = SimulatedCallee(persona, first_name=context.patient_first_name, seed=seed)
        agent_text = runtime.start().text
        said: str | None = (
            callee.opening_line() if context.direction is CallDirection.INBOUND else None
        )
        while not runtime.ended and len(samples) < turns:
            said = said or callee.reply(agent_text)
            if said is None:
                break
            started = time.perf_counter_ns()
            agent_text = runtime.respond(said).text
            samples.append((time.perf_counter_ns() - started) / 1e6)
            said = None
        if len(samples) >= turns:
            return samples, seed + 1
    raise AssertionError("unreachable")


def first_utterance(calls: int) -> list[float]:
    policy = ScriptedPolicy()
    contexts = _contexts()
    samples: list[float] = []
    for i in range(calls):
        started = time.perf_counter_ns()
        ConversationRuntime(PROFILE, contexts[i % len(contexts)], policy).start()
        samples.append((time.perf_counter_ns() - started) / 1e6)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=1_000)
    args = parser.parse_args()
    started = time.perf_counter()
    default_model()  # trained once per process, from the shipped corpus
    print(f"intent model trained in {time.perf_counter() - started:.2f} s (once per process)")
    cold = first_utterance(1)
    learned, conversations = per_turn(args.turns, LearnedUnderstander())
    rules, _ = per_turn(args.turns, RulesOnlyUnderstander())
    print(f"embedded policy + guardrails, {conversations} conversations (goal: p99 < 20 ms)")
    _report("per callee turn, learned understanding", learned)
    _report("per callee turn, rules alone         ", rules)
    ratio = _percentile(learned, 0.99) / _percentile(rules, 0.99)
    print(f"p99 learned / rules alone: {ratio:.1f}x")
    print(f"answered -> first utterance ready (goal: < 100 ms); cold first call {cold[0]:.3f} ms")
    _report("first utterance", first_utterance(args.calls))


if __name__ == "__main__":
    main()
