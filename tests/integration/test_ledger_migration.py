"""Revision 0016 builds the number-keyed consent ledger from existing rows, conservatively.

Run on a database of its own (SQLite file, or a throw-away PostgreSQL database when
RINGFENCE_TEST_DATABASE_URL is set), migrated to 0015, filled, then upgraded.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, MetaData, insert, select

from ringfence.adapters.db.migrate import upgrade

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
T1 = datetime(2026, 2, 5, 15, 0, tzinfo=UTC)
T2 = datetime(2026, 3, 5, 15, 0, tzinfo=UTC)
GOOD = (
    "By checking this box, I agree that Glow Aesthetics may contact me at the phone number I "
    "provided, including with calls using an artificial or AI-generated voice and automated "
    "technology, about my appointments and special offers. Consent is not a condition of "
    'purchase. I can opt out at any time by saying "stop" on a call. See our Terms of Service '
    "and Privacy Policy."
)


def test_the_ledger_is_backfilled_from_contacts_forms_and_revocations(old_engine: Engine) -> None:
    upgrade(old_engine, "0015")
    meta = MetaData()
    meta.reflect(old_engine)
    t = meta.tables
    stamp = {"created_at": T0, "updated_at": T0}
    with old_engine.begin() as conn:
        conn.execute(
            insert(t["accounts"]),
            [
                {
                    "id": 1,
                    "name": "Glow Aesthetics",
                    "kyc_status": "approved",
                    "outbound_enabled": True,
                    **stamp,
                }
            ],
        )
        conn.execute(
            insert(t["locations"]),
            [{"id": 1, "account_id": 1, "name": "Main", "time_zone": "America/New_York", **stamp}],
        )
        contact = {
            "account_id": 1,
            "location_id": 1,
            "first_name": "P",
            "last_name": "",
            "source": "form",
            "dnd_voice": False,
            "dnd_sms": False,
            "dnd_email": False,
            "opted_out_at": None,
            "opted_out_channel": None,
            **stamp,
        }
        conn.execute(
            insert(t["contacts"]),
            [
                contact | {"id": 1, "phone_e164": "+12125550101"},  # consent, no flags
                contact | {"id": 2, "phone_e164": "+12125550102", "dnd_voice": True},
                contact | {"id": 3, "phone_e164": "+12125550103"},  # tagged Opted Out
                contact | {"id": 4, "phone_e164": "+12125550104"},  # revoked, then consented
                contact
                | {
                    "id": 5,
                    "phone_e164": "+12125550105",
                    "opted_out_at": T1,
                    "opted_out_channel": "email",
                },
            ],
        )
        conn.execute(insert(t["tags"]), [{"id": 1, "account_id": 1, "name": "Opted Out", **stamp}])
        conn.execute(insert(t["contact_tags"]), [{"contact_id": 3, "tag_id": 1}])
        conn.execute(
            insert(t["forms"]),
            [
                {
                    "id": 1,
                    "account_id": 1,
                    "location_id": 1,
                    "name": "Good",
                    "current_version": 1,
                    **stamp,
                },
                {
                    "id": 2,
                    "account_id": 1,
                    "location_id": 1,
                    "name": "Old",
                    "current_version": 1,
                    **stamp,
                },
            ],
        )
        conn.execute(
            insert(t["form_versions"]),
            [
                {
                    "form_id": 1,
                    "version": 1,
                    "consent_text": GOOD,
                    "text_sha256": "x",
                    "scan": {"valid_for_voice_opt_in": True, "score": 100},
                    "created_at": T0,
                },
                # Made before the scanner kept verdicts: judged at migration.
                {
                    "form_id": 2,
                    "version": 1,
                    "consent_text": "Sign up for our newsletter.",
                    "text_sha256": "y",
                    "scan": None,
                    "created_at": T0,
                },
            ],
        )
        record = {
            "account_id": 1,
            "location_id": 1,
            "channel": "voice",
            "recorded_by": "t",
            "form_id": None,
            "form_version": None,
        }
        conn.execute(
            insert(t["consent_records"]),
            [
                record
                | {
                    "id": 1,
                    "contact_id": 1,
                    "kind": "crm_form",
                    "form_id": 1,
                    "form_version": 1,
                    "recorded_at": T0,
                },
                record
                | {
                    "id": 2,
                    "contact_id": 2,
                    "kind": "crm_form",
                    "form_id": 2,
                    "form_version": 1,
                    "recorded_at": T0,
                },
                record
                | {
                    "id": 3,
                    "contact_id": 4,
                    "kind": "revocation",
                    "channel": "sms",
                    "recorded_at": T1,
                },
                record | {"id": 4, "contact_id": 4, "kind": "manual_written", "recorded_at": T2},
            ],
        )

    upgrade(old_engine, "0016")

    meta = MetaData()
    meta.reflect(old_engine)
    consents, suppressions = meta.tables["consent_records"], meta.tables["number_suppressions"]
    with old_engine.connect() as conn:
        records = {
            row.id: row
            for row in conn.execute(
                select(consents.c.id, consents.c.phone_e164, consents.c.form_valid, consents.c.held)
            )
        }
        entries = {
            row.phone_e164: row
            for row in conn.execute(
                select(
                    suppressions.c.phone_e164, suppressions.c.source, suppressions.c.suppressed_at
                )
            )
        }
    assert records[1].phone_e164 == "+12125550101"
    assert records[1].form_valid is True
    assert records[2].form_valid is False  # the old newsletter text fails the scan
    assert records[4].phone_e164 == "+12125550104"
    assert not any(r.held for r in records.values())
    # Flags and the tag: suppressed from the migration's instant; no older consent lifts them.
    assert set(entries) == {"+12125550102", "+12125550103", "+12125550104", "+12125550105"}
    for phone in ("+12125550102", "+12125550103", "+12125550105"):
        assert entries[phone].source == "backfill"
        assert _aware(entries[phone].suppressed_at) > T2
    # A revocation keeps its own instant: the later written consent still lifts it.
    assert entries["+12125550104"].source == "revocation"
    assert _aware(entries["+12125550104"].suppressed_at) == T1


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
