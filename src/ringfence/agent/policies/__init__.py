"""Dialogue policies: the Protocol, the embedded scripted policy, the OpenAI-compatible one."""

from __future__ import annotations
