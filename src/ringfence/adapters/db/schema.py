"""The complete metadata: importing this module registers every table on `Base.metadata`."""

from __future__ import annotations

from ringfence.adapters.db import calls, carriers, dashboard, kyc, orm, phi, workflows
from ringfence.adapters.telephony import sandbox_store

metadata = orm.Base.metadata

__all__ = [
    "calls",
    "carriers",
    "dashboard",
    "kyc",
    "metadata",
    "orm",
    "phi",
    "sandbox_store",
    "workflows",
]
