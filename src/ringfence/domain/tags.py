"""Tags with a meaning to the platform (workflow audiences, test calls, call outcomes).

They are ordinary account tags, so staff can also apply them by hand; Ringfence reads and
writes them by these exact names.
"""

from __future__ import annotations

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
    folded = " ".join(name.split()).casefold()
    if folded != OPT_OUT_TAG.casefold() or (exact_allowed and name == OPT_OUT_TAG):
        return None
    return (
        f'"{OPT_OUT_TAG}" is kept by the opt-out ledger: add it to a contact to opt its number '
        "out; no tag can be renamed to it or spelt another way"
    )
