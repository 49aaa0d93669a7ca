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
