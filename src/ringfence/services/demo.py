"""The demo practice: a med spa with two locations in different time zones, seeded once.

Deterministic (fixed seed) and idempotent: the account is found by its slug, and a second run
adds nothing. Only the demo API key is rotated on each run, since keys are stored hashed and
cannot be shown again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters.db import orm
from ringfence.adapters.db.kyc import KycRegistration
from ringfence.domain.compliance import SuppressionSource
from ringfence.domain.kyc import (
    Address,
    KycApplication,
    Owner,
    Representative,
    material_fingerprint,
)
from ringfence.domain.tags import COMPLAINT_TAG, OPT_OUT_TAG, QA_TEST_TAG
from ringfence.domain.us_zones import us_time_zone
from ringfence.domain.vocabulary import (
    AppointmentStatus,
    CallPurpose,
    Channel,
    ConsentKind,
    ContactSource,
    KycStatus,
)
from ringfence.domain.workflows.definition import TriggerKind
from ringfence.services.api_keys import create_api_key, revoke_api_keys
from ringfence.services.consent_review import scan_version
from ringfence.services.forms import set_consent_text
from ringfence.services.kyc import application_to_dict
from ringfence.services.suppression import suppress_number
from ringfence.services.unit_of_work import TenantScope
from ringfence.services.workflows import manage
from ringfence.services.workflows.events import TriggerEvent, ingest
from ringfence.services.workflows.templates import BY_KEY as TEMPLATES_BY_KEY

DEMO_SLUG = "demo-glow-aesthetics"
DEMO_KEY_NAME = "demo"

GOOD_CONSENT = (
    "By checking this box, I agree that Glow Aesthetics may call me at the phone number I "
    "provided, including calls made with automated technology or an artificial or AI voice, "
    "about my appointments and offers. Consent is not a condition of purchase. I can opt out "
    "at any time by saying 'stop' on a call or replying STOP. See our Terms and Privacy Policy."
)
WEAK_CONSENT = "Sign me up for news and specials from Glow Aesthetics."

FIRST = [
    "Olivia",
    "Emma",
    "Ava",
    "Sophia",
    "Isabella",
    "Mia",
    "Amelia",
    "Harper",
    "Evelyn",
    "Abigail",
    "Emily",
    "Ella",
    "Elizabeth",
    "Camila",
    "Luna",
    "Sofia",
    "Avery",
    "Mila",
    "Aria",
    "Scarlett",
    "Penelope",
    "Layla",
    "Chloe",
    "Victoria",
    "Madison",
    "Eleanor",
    "Grace",
    "Nora",
    "Riley",
    "Zoey",
    "Hannah",
    "Hazel",
    "Lily",
    "Ellie",
    "Violet",
    "Lillian",
    "Zoe",
    "Stella",
    "Aurora",
    "Natalie",
    "Liam",
    "Noah",
    "James",
    "Lucas",
    "Mason",
    "Ethan",
    "Daniel",
    "Henry",
    "Michael",
    "Jackson",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
]
SERVICES = (
    "Botox touch-up",
    "Dermal filler",
    "Laser hair removal session",
    "HydraFacial",
    "Microneedling",
    "Chemical peel",
    "Consultation",
    "CoolSculpting session",
)


@dataclass(frozen=True)
class _Site:
    name: str
    time_zone: str
    local_area_codes: tuple[str, ...]
    caller_ids: tuple[str, ...]
    state: str
    city: str
    postal_codes: tuple[str, ...]


SITES = (
    _Site(
        "Glow Aesthetics – Manhattan",
        "America/New_York",
        ("212", "646", "917", "718", "347", "201"),
        ("+12125550147", "+16465550198"),
        "NY",
        "New York",
        ("10001", "10011", "10021", "10128"),
    ),
    _Site(
        "Glow Aesthetics – Scottsdale",
        "America/Phoenix",
        ("480", "602", "623", "928"),
        ("+14805550123", "+16025550186"),
        "AZ",
        "Scottsdale",
        ("85251", "85254", "85260", "85016"),
    ),
)
# Callers from elsewhere: multi-zone and overlay area codes, Alaska, Hawaii, and Canada
# (which the gate must refuse).
TRAVELLER_AREA_CODES = ("208", "541", "458", "907", "808", "270", "850", "605", "416")


@dataclass(frozen=True)
class DemoResult:
    account_id: int
    api_key: str
    created: bool
    contacts: int


def _phone(rng: random.Random, area_code: str, taken: set[str]) -> str:
    # 555-0100..0199 is reserved for fiction in every NANP area code: the demo can never ring
    # a real person, even if someone points it at a real carrier.
    region = "CA" if area_code == "416" else "US"
    for _attempt in range(10_000):
        number = f"+1{area_code}55501{rng.randint(0, 99):02d}"
        parsed = phonenumbers.parse(number, None)
        if number not in taken and phonenumbers.region_code_for_number(parsed) == region:
            taken.add(number)
            return number
    raise RuntimeError(f"area code {area_code}: the 100 fictional demo numbers are used up")


def demo_account_id(session: Session) -> int | None:
    return session.scalars(select(orm.Account.id).where(orm.Account.slug == DEMO_SLUG)).first()


def seed_demo(session: Session, *, now: datetime, contacts_per_location: int = 150) -> DemoResult:
    """Create the demo practice unless it exists; always issue a fresh demo API key."""
    account = session.scalars(select(orm.Account).where(orm.Account.slug == DEMO_SLUG)).first()
    created = account is None
    if account is None:
        account = _seed(session, now=now, contacts_per_location=contacts_per_location)
    revoke_api_keys(session, account_id=account.id, name=DEMO_KEY_NAME, now=now)
    _key, plaintext = create_api_key(session, account_id=account.id, name=DEMO_KEY_NAME, now=now)
    count = session.query(orm.Contact).filter(orm.Contact.account_id == account.id).count()
    return DemoResult(account_id=account.id, api_key=plaintext, created=created, contacts=count)


def _seed(session: Session, *, now: datetime, contacts_per_location: int) -> orm.Account:
    rng = random.Random(20261126)
    account = orm.Account(
        name="Glow Aesthetics",
        legal_name="Glow Aesthetics Medical Spa, PLLC",
        kyc_status=KycStatus.APPROVED,
        outbound_enabled=True,
        slug=DEMO_SLUG,
        created_at=now,
        updated_at=now,
    )
    session.add(account)
    session.flush()
    _seed_registration(session, account, now)
    tags = {
        name: orm.Tag(account_id=account.id, name=name, created_at=now, updated_at=now)
        for name in (QA_TEST_TAG, OPT_OUT_TAG, COMPLAINT_TAG, "VIP", "Botox", "Filler", "Lead")
    }
    session.add_all(tags.values())
    taken: set[str] = set()
    for site in SITES:
        _seed_location(session, rng, account, site, tags, taken, now, contacts_per_location)
    session.flush()
    _seed_workflows(session, account, now)
    return account


def _seed_registration(session: Session, account: orm.Account, now: datetime) -> None:
    """The business registration the demo's approval rests on, so Enable Outbound Calls shows
    what was registered and by whom it was approved, as for any approved practice."""
    application = KycApplication(
        legal_name=account.legal_name or account.name,
        dba=account.name,
        ein="84-1234567",
        address=Address("455 Park Avenue South", "New York", "NY", "10016"),
        website="https://glow-aesthetics.example",
        owners=(Owner("Dana Whitfield", "Managing member", 100.0, control_person=True),),
        representative=Representative(
            "Dana Whitfield", "Managing member", "dana@glow-aesthetics.example", "+12125550100"
        ),
        use_cases=(
            CallPurpose.APPOINTMENT_CONFIRMATION,
            CallPurpose.NO_SHOW_RECOVERY,
            CallPurpose.CONSULT_FOLLOW_UP,
            CallPurpose.TREATMENT_REMINDER,
        ),
        expected_daily_volume=120,
    )
    session.add(
        KycRegistration(
            account_id=account.id,
            status=KycStatus.APPROVED,
            application=application_to_dict(application),
            legal_name=application.legal_name,
            ein=application.ein,
            reasons=[],
            approved_fingerprint=material_fingerprint(application),
            submitted_at=now,
            decided_at=now,
            decided_by="platform operator (demo)",
            approval_seen_at=now,
            created_at=now,
            updated_at=now,
        )
    )


# Published in the demo so the sandbox carrier has work from the first minute: the
# confirmation and no-show templates (the description's lowest-risk use cases); the other
# three templates are left as drafts to explore.
_PUBLISHED_TEMPLATES = ("appointment_confirmation", "no_show_recovery")
_DRAFT_TEMPLATES = ("consult_follow_up", "treatment_reminder", "lead_reactivation")


def _seed_workflows(session: Session, account: orm.Account, now: datetime) -> None:
    scope = TenantScope(account_id=account.id, actor="demo_seed")
    for name in ("Reactivate",):
        session.add(orm.Tag(account_id=account.id, name=name, created_at=now, updated_at=now))
    session.flush()
    locations = session.scalars(
        select(orm.Location).where(orm.Location.account_id == account.id).order_by(orm.Location.id)
    ).all()
    for location in locations:
        agent_id = session.scalars(
            select(orm.VoiceAgent.id).where(orm.VoiceAgent.location_id == location.id)
        ).first()
        number_id = session.scalars(
            select(orm.PhoneNumber.id)
            .where(orm.PhoneNumber.location_id == location.id)
            .order_by(orm.PhoneNumber.id)
        ).first()
        assert agent_id is not None
        assert number_id is not None
        for key in (*_PUBLISHED_TEMPLATES, *_DRAFT_TEMPLATES):
            template = TEMPLATES_BY_KEY[key]
            workflow = manage.create_workflow(
                session,
                scope,
                name=f"{template.name} · {location.name}",
                location_id=location.id,
                definition=template.definition(agent_id=agent_id, from_number_id=number_id),
                now=now,
            )
            if key in _PUBLISHED_TEMPLATES:
                manage.publish(session, scope, workflow, now=now)
    # The seeded appointments arrive as the events a booking system would have sent.
    kinds = {
        AppointmentStatus.SCHEDULED: TriggerKind.APPOINTMENT_SCHEDULED,
        AppointmentStatus.NO_SHOW: TriggerKind.APPOINTMENT_NO_SHOW,
    }
    appointments = session.scalars(
        select(orm.Appointment)
        .where(orm.Appointment.account_id == account.id, orm.Appointment.status.in_(kinds))
        .order_by(orm.Appointment.id)
    ).all()
    for appointment in appointments:
        kind = kinds[appointment.status]
        ingest(
            session,
            scope,
            TriggerEvent(
                external_id=f"demo:appointment:{appointment.id}:{kind.value}",
                kind=kind,
                contact_id=appointment.contact_id,
                appointment_id=appointment.id,
            ),
            now,
        )


def _seed_location(
    session: Session,
    rng: random.Random,
    account: orm.Account,
    site: _Site,
    tags: dict[str, orm.Tag],
    taken: set[str],
    now: datetime,
    count: int,
) -> None:
    location = orm.Location(
        account_id=account.id,
        name=site.name,
        time_zone=us_time_zone(site.time_zone),  # locations are in the states only
        created_at=now,
        updated_at=now,
    )
    session.add(location)
    session.flush()
    ids = {"account_id": account.id, "location_id": location.id}
    for i, e164 in enumerate(site.caller_ids):
        label = "Main line" if i == 0 else "Outbound campaigns"
        session.add(orm.PhoneNumber(**ids, e164=e164, label=label, created_at=now, updated_at=now))
    session.add(
        orm.VoiceAgent(
            **ids,
            name=f"{site.city} front desk",
            practice_name="Glow Aesthetics",
            system_prompt=(
                "You are the AI assistant of Glow Aesthetics. Detect whether the call is "
                "inbound or outbound and greet accordingly. Never give medical advice."
            ),
            inbound_greeting="Thank you for calling Glow Aesthetics, how can I help you today?",
            outbound_opening=(
                "Hi, this is the AI assistant calling from Glow Aesthetics. I'm calling about "
                "your upcoming appointment."
            ),
            created_at=now,
            updated_at=now,
        )
    )
    good = orm.Form(
        **ids, name="Book a consultation", current_version=0, created_at=now, updated_at=now
    )
    weak = orm.Form(
        **ids, name="Newsletter sign-up", current_version=0, created_at=now, updated_at=now
    )
    for form, text in ((good, GOOD_CONSENT), (weak, WEAK_CONSENT)):
        version = set_consent_text(form, text, now=now)
        if version is not None:
            scan_version(version, account)
    session.add_all([good, weak])
    session.flush()

    for n in range(count):
        local = rng.random() < 0.88
        area = rng.choice(site.local_area_codes if local else TRAVELLER_AREA_CODES)
        source = rng.choices(
            [
                ContactSource.FORM,
                ContactSource.IMPORT,
                ContactSource.MANUAL,
                ContactSource.API,
                ContactSource.EXTERNAL,
            ],
            weights=[60, 18, 10, 7, 5],
        )[0]
        created = now - timedelta(days=rng.randint(1, 720))
        contact = orm.Contact(
            **ids,
            first_name=rng.choice(FIRST),
            last_name=rng.choice(LAST),
            phone_e164=None if n % 97 == 13 else _phone(rng, area, taken),
            source=source,
            dnd_voice=rng.random() < 0.05,
            dnd_sms=rng.random() < 0.05,
            dnd_email=False,
            city=site.city if local else None,
            state=site.state if local else None,
            postal_code=rng.choice(site.postal_codes) if local else None,
            # Leads go cold: a share of contacts has not engaged for 90+ days.
            last_engaged_at=created + (now - created) * rng.random(),
            last_contacted_at=(now - timedelta(days=rng.randint(0, 200)))
            if rng.random() < 0.5
            else None,
            created_at=created,
            updated_at=created,
        )
        contact.email = f"{contact.first_name}.{contact.last_name}{n}@example.com".lower()
        chosen = [t for t in ("VIP", "Botox", "Filler", "Lead") if rng.random() < 0.15]
        if n < 3:
            chosen.append(QA_TEST_TAG)
        if rng.random() < 0.04:
            contact.opted_out_at = created + timedelta(days=rng.randint(0, 30))
            contact.opted_out_channel = rng.choice([Channel.VOICE, Channel.SMS])
            chosen.append(OPT_OUT_TAG)
        if rng.random() < 0.02:
            chosen.append(COMPLAINT_TAG)
        contact.tags = [tags[name] for name in chosen]
        session.add(contact)
        session.flush()
        _seed_consent(session, rng, contact, good, weak, created)
        _seed_appointments(session, rng, contact, now)
        _seed_suppression(session, contact, now)


def _seed_consent(
    session: Session,
    rng: random.Random,
    contact: orm.Contact,
    good: orm.Form,
    weak: orm.Form,
    created: datetime,
) -> None:
    base = {
        "account_id": contact.account_id,
        "location_id": contact.location_id,
        "contact_id": contact.id,
        "phone_e164": contact.phone_e164,
    }
    if contact.phone_e164 is None:
        return  # consent is given for a phone number
    if contact.source is ContactSource.FORM:
        form = good if rng.random() < 0.85 else weak
        version = form.versions[-1]
        if form is weak:
            # The newsletter's text fails the voice-consent scan: ticking its box records no
            # voice consent (services/public_forms.py), so these contacts have none.
            return
        session.add(
            orm.ConsentRecord(
                **base,
                kind=ConsentKind.CRM_FORM,
                channel=Channel.VOICE,
                recorded_at=created,
                form_id=form.id,
                form_version=version.version,
                consent_text=version.consent_text,
                consent_text_sha256=version.text_sha256,
                ip_address=f"203.0.113.{rng.randint(1, 254)}",
                user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)",
                page_url="https://glowaesthetics.example/book",
                recorded_by="public_form",
                form_valid=True,
                scanner_version=str((version.scan or {}).get("scanner_version") or "1"),
            )
        )
        if rng.random() < 0.03:
            session.add(
                orm.ConsentRecord(
                    **base,
                    kind=ConsentKind.REVOCATION,
                    channel=Channel.VOICE,
                    recorded_at=created + timedelta(days=rng.randint(1, 60)),
                    note="Patient asked by email not to be called.",
                    recorded_by="demo_seed",
                )
            )
    elif contact.source is ContactSource.IMPORT and rng.random() < 0.5:
        session.add(
            orm.ConsentRecord(
                **base,
                kind=ConsentKind.MANUAL_WRITTEN,
                channel=Channel.VOICE,
                recorded_at=created + timedelta(days=1),
                confirmed_by="Dana (front desk)",
                note="Signed intake form on file, scanned to the patient chart.",
                recorded_by="demo_seed",
            )
        )


def _seed_suppression(session: Session, contact: orm.Contact, now: datetime) -> None:
    """Opted-out, DND and revoked contacts suppress their number, as every opt-out path does."""
    revoked = session.scalar(
        select(orm.ConsentRecord.recorded_at).where(
            orm.ConsentRecord.contact_id == contact.id,
            orm.ConsentRecord.kind == ConsentKind.REVOCATION,
        )
    )
    if contact.opted_out_at is not None:
        at, source = contact.opted_out_at, SuppressionSource.OPT_OUT_FLAG
    elif contact.dnd_voice:
        at, source = contact.created_at, SuppressionSource.DND_VOICE
    elif revoked is not None:
        at, source = revoked, SuppressionSource.REVOCATION
    else:
        return
    scope = TenantScope(account_id=contact.account_id, actor="demo_seed")
    suppress_number(
        session, scope, contact.phone_e164, at=min(at, now), source=source, contact_id=contact.id
    )


def _seed_appointments(
    session: Session, rng: random.Random, contact: orm.Contact, now: datetime
) -> None:
    base = {
        "account_id": contact.account_id,
        "location_id": contact.location_id,
        "contact_id": contact.id,
    }
    roll = rng.random()
    if roll < 0.35:
        starts = now + timedelta(days=rng.randint(1, 14), hours=rng.randint(0, 8))
        status = AppointmentStatus.SCHEDULED
    elif roll < 0.45:
        starts = now - timedelta(days=rng.randint(1, 5))
        status = AppointmentStatus.NO_SHOW
    elif roll < 0.70:
        starts = now - timedelta(days=rng.randint(20, 120))
        status = AppointmentStatus.COMPLETED
    else:
        return
    starts = starts.replace(minute=rng.choice((0, 15, 30, 45)), second=0, microsecond=0)
    session.add(
        orm.Appointment(
            **base,
            starts_at=starts,
            service=rng.choice(SERVICES),
            status=status,
            created_at=now,
            updated_at=now,
        )
    )
