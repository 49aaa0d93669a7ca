"""A small practice seeded straight into the database, for dispatcher tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select, update

from ringfence.adapters.db.calls import CallEvent, CallJob, MinutesLedger
from ringfence.adapters.db.orm import (
    Account,
    CarrierKind,
    ConsentRecord,
    Contact,
    Location,
    PhoneNumber,
    VoiceAgent,
)
from ringfence.adapters.telephony.sandbox_store import SandboxCall
from ringfence.bootstrap import Container
from ringfence.domain.vocabulary import (
    CallPurpose,
    Channel,
    ConsentKind,
    ContactSource,
    KycStatus,
)
from ringfence.services.call_jobs import CallRequest, enqueue_calls

# Friday 27 Nov 2026: 09:00 in New York is 14:00Z; the window opens at 15:00Z.
BEFORE_WINDOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
WINDOW_OPENS = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


@dataclass
class Practice:
    container: Container
    account_id: int = 0
    location_id: int = 0
    agent_id: int = 0
    number_id: int = 0
    contacts: list[int] = field(default_factory=list)

    def add_contact(self, phone: str, *, consent: bool = True, **fields: object) -> int:
        with self.container.uow() as uow:
            now = uow.clock.now()
            values: dict[str, object] = {
                "first_name": "Pat",
                "last_name": "Client",
                "source": ContactSource.FORM,
            } | fields
            contact = Contact(
                account_id=self.account_id,
                location_id=self.location_id,
                phone_e164=phone,
                created_at=now,
                updated_at=now,
                **values,
            )
            uow.session.add(contact)
            uow.session.flush()
            if consent:
                uow.session.add(
                    ConsentRecord(
                        account_id=self.account_id,
                        location_id=self.location_id,
                        contact_id=contact.id,
                        kind=ConsentKind.CRM_FORM,
                        channel=Channel.VOICE,
                        recorded_at=now,
                        recorded_by="test",
                        phone_e164=phone,
                        form_valid=True,
                    )
                )
            contact_id = contact.id
            uow.commit()
        self.contacts.append(contact_id)
        return contact_id

    def enqueue(
        self, *contact_ids: int, purpose: CallPurpose = CallPurpose.APPOINTMENT_CONFIRMATION
    ) -> list[int]:
        with self.container.uow() as uow:
            ids = enqueue_calls(
                uow.session,
                account_id=self.account_id,
                requests=[
                    CallRequest(
                        contact_id=cid,
                        purpose=purpose,
                        agent_id=self.agent_id or None,
                        from_number_id=self.number_id or None,
                    )
                    for cid in contact_ids
                ],
                now=uow.clock.now(),
            )
            uow.commit()
        return ids

    def use_carrier(self, kind: CarrierKind) -> None:
        """The practice's number dials through `kind` (phone_numbers.carrier)."""
        with self.container.session_factory() as session:
            session.execute(
                update(PhoneNumber).where(PhoneNumber.id == self.number_id).values(carrier=kind)
            )
            session.commit()

    def job(self, job_id: int) -> CallJob:
        with self.container.uow() as uow:
            job = uow.session.get(CallJob, job_id)
            assert job is not None
            uow.session.expunge(job)
            return job

    def events(self, job_id: int) -> list[tuple[str | None, str, str | None]]:
        with self.container.uow() as uow:
            rows = uow.session.execute(
                select(CallEvent.from_status, CallEvent.to_status, CallEvent.reason_code)
                .where(CallEvent.job_id == job_id)
                .order_by(CallEvent.id)
            ).all()
        return [(f.value if f else None, t.value, r) for f, t, r in rows]

    def count(self, model: type[object]) -> int:
        with self.container.uow() as uow:
            return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)

    def ledger_seconds(self) -> int:
        with self.container.uow() as uow:
            return int(uow.session.scalar(select(func.sum(MinutesLedger.billable_seconds))) or 0)

    def carrier_calls(self) -> list[SandboxCall]:
        with self.container.uow() as uow:
            calls = list(uow.session.scalars(select(SandboxCall).order_by(SandboxCall.id)))
            for call in calls:
                uow.session.expunge(call)
            return calls


def make_practice(container: Container, *, time_zone: str = "America/New_York") -> Practice:
    practice = Practice(container)
    with container.uow() as uow:
        now = uow.clock.now()
        account = Account(
            name="Glow",
            kyc_status=KycStatus.APPROVED,
            outbound_enabled=True,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(account)
        uow.session.flush()
        location = Location(
            account_id=account.id, name="Main", time_zone=time_zone, created_at=now, updated_at=now
        )
        uow.session.add(location)
        uow.session.flush()
        agent = VoiceAgent(
            account_id=account.id,
            location_id=location.id,
            name="Desk",
            practice_name="Glow",
            created_at=now,
            updated_at=now,
        )
        number = PhoneNumber(
            account_id=account.id,
            location_id=location.id,
            e164="+12125550199",
            created_at=now,
            updated_at=now,
        )
        uow.session.add_all([agent, number])
        uow.session.flush()
        practice.account_id, practice.location_id = account.id, location.id
        practice.agent_id, practice.number_id = agent.id, number.id
        uow.commit()
    return practice
