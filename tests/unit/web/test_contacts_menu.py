"""The Contacts entry of the menu: a contact's pages are its, the import page keeps its own."""

from __future__ import annotations

import pytest

from ringfence.entrypoints.web.navigation import current_link


@pytest.mark.parametrize(
    ("path", "entry"),
    [
        ("/app/contacts", "/app/contacts"),
        ("/app/contacts/7", "/app/contacts"),
        ("/app/contacts/7/consent-evidence", "/app/contacts"),
        ("/app/contacts/import", "/app/contacts/import"),
    ],
)
def test_a_contacts_pages_belong_to_the_contacts_entry(path: str, entry: str) -> None:
    assert current_link(path) == entry
