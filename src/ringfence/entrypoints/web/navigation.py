"""The left-hand menu, mirroring the product's: AI Agents, Automation, Dashboards & Logs.

Declared once here so that a new page gets its menu entry in one line, and the base layout can
mark the entry the current page belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class NavLink:
    label: str
    href: str


@dataclass(frozen=True, slots=True)
class NavSection:
    label: str
    links: tuple[NavLink, ...]


MENU: Final = (
    NavSection(
        "AI Agents",
        (NavLink("Voice AI", "/app/voice-ai"), NavLink("Test console", "/app/voice-ai/console")),
    ),
    NavSection(
        "Patients",
        (NavLink("Contacts", "/app/contacts"), NavLink("Import contacts", "/app/contacts/import")),
    ),
    NavSection(
        "Automation",
        (NavLink("Workflows", "/app/workflows"), NavLink("Forms", "/app/forms")),
    ),
    NavSection(
        "Dashboards & Logs",
        (
            NavLink("Inbound", "/app/voice-ai/dashboards/inbound"),
            NavLink("Outbound", "/app/voice-ai/dashboards/outbound"),
        ),
    ),
    NavSection(
        "Settings",
        (
            NavLink("Phone numbers", "/app/phone-numbers"),
            NavLink("API keys & sessions", "/app/security"),
            NavLink("Audit log", "/app/settings/audit"),
            NavLink("PHI access & retention", "/app/settings/phi"),
            NavLink("Share links", "/app/voice-ai/dashboards/outbound/shares"),
        ),
    ),
)


def current_link(path: str) -> str | None:
    """The href of the menu entry `path` belongs to: the longest one it starts with.

    "/app/voice-ai/dashboards/outbound/calls/7" is the dashboard's, not Voice AI's.
    """
    matches = [
        link.href
        for section in MENU
        for link in section.links
        if path == link.href or path.startswith(link.href.rstrip("/") + "/")
    ]
    return max(matches, key=len, default=None)
