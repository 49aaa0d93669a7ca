"""Webhook secrets never leave through the API: a workflow's definition is shown with each
`send_webhook` secret replaced by `HIDDEN_SECRET`, and a definition sent back with that
placeholder keeps the secret already saved for the same URL. Staff can still round-trip a
definition (GET, edit, PATCH) without knowing the secret, and can rotate it by sending a new
one."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any, Final

from ringfence.services.errors import InvalidField

HIDDEN_SECRET: Final = "(hidden; send a new secret to change it)"


def _webhooks(steps: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if not isinstance(steps, list):
        return
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            continue
        here = f"{path}[{index}]"
        if step.get("type") == "send_webhook":
            yield here, step
        elif step.get("type") == "branch":
            for n, case in enumerate(step.get("cases") or []):
                if isinstance(case, dict):
                    yield from _webhooks(case.get("steps"), f"{here}.cases[{n}].steps")
            yield from _webhooks(step.get("otherwise"), f"{here}.otherwise")


def hide_secrets(definition: dict[str, Any]) -> dict[str, Any]:
    shown = copy.deepcopy(definition)
    for _path, step in _webhooks(shown.get("steps"), "definition.steps"):
        if "secret" in step:
            step["secret"] = HIDDEN_SECRET
    return shown


def restore_secrets(incoming: dict[str, Any], saved: dict[str, Any]) -> dict[str, Any]:
    """`incoming` with each hidden secret put back from the saved webhook to the same URL."""
    known = {
        step.get("url"): step.get("secret")
        for _path, step in _webhooks(saved.get("steps"), "definition.steps")
    }
    restored = copy.deepcopy(incoming)
    for path, step in _webhooks(restored.get("steps"), "definition.steps"):
        if step.get("secret") != HIDDEN_SECRET:
            continue
        secret = known.get(step.get("url"))
        if not isinstance(secret, str):
            raise InvalidField(
                f"{path}.secret",
                "no saved webhook to this URL has a secret to keep: send the secret",
            )
        step["secret"] = secret
    return restored
