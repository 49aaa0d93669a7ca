"""Tags with a meaning to the platform (workflow audiences, test calls, call outcomes).

They are ordinary account tags, so staff can also apply them by hand; Ringfence reads and
writes them by these exact names.
"""

from __future__ import annotations

import unicodedata
from typing import Final

# "Add yourself to the workflow with a tag like QA – Voice AI Test" (product description).
QA_TEST_TAG = "QA – Voice AI Test"
# Applied when a callee asks not to be called again; excluded from future workflows.
OPT_OUT_TAG = "Opted Out"
# "Exclude contacts with ... recent complaint history."
COMPLAINT_TAG = "Recent Complaint"
CONFIRMED_TAG = "Appointment Confirmed"
WRONG_NUMBER_TAG = "Wrong Number"
NOT_INTERESTED_TAG = "Not Interested"


def reserved_name_problem(name: str, *, exact_allowed: bool) -> str | None:
    """Why `name` cannot be given to a tag by hand, or None. The "Opted Out" tag mirrors the
    number-keyed suppression ledger, so it only ever changes by being added to or removed
    from contacts; a look-alike ("opted out", "Opted  Out") would read as an opt-out to staff
    while the gate, which reads the exact name, would dial. `exact_allowed`: creating the
    tag under its exact name (empty, harmless) is fine; renaming another tag to it is not
    (its contacts would be opted out without a ledger entry)."""
    if skeleton(name) != skeleton(OPT_OUT_TAG) or (exact_allowed and name == OPT_OUT_TAG):
        return None
    return (
        f'"{OPT_OUT_TAG}" is kept by the opt-out ledger: add it to a contact to opt its number '
        "out; no tag can be renamed to it or spelt another way"
    )


# Letters from other scripts that look like Latin ones ("Opted Out" spelt with a Cyrillic O).
_CONFUSABLES: Final = str.maketrans(
    "\u043e\u0435\u0430\u0440\u0441\u0442\u043a\u0456\u0443\u0501\u0445\u041e\u0415\u0410\u0420\u0421\u0422\u041a\u0406\u0423\u0425",
    "oeapctkiydxoeapctkiyx",
)


def skeleton(name: str) -> str:
    """`name` reduced to its Latin letters, lower-cased: "Opted-Out", "opted_out.", "Opted Out"
    with a zero-width space or a Cyrillic O all reduce to "optedout"."""
    decomposed = unicodedata.normalize("NFKD", name.translate(_CONFUSABLES)).casefold()
    return "".join(ch for ch in decomposed if "a" <= ch <= "z")
