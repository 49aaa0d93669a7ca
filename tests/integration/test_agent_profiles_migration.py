"""Revision 0024 stores agent profiles once per content (`agent_profiles`) and names them from
the job (`call_jobs.agent_profile_digest`). A job written before it keeps its inline profile
and still reads back; downgrading puts each job's profile back inline before the table goes.
Run on a database of its own (SQLite file, or a throw-away PostgreSQL database when
RINGFENCE_TEST_DATABASE_URL is set)."""

from __future__ import annotations

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from ringfence.adapters.db.migrate import downgrade, upgrade
from ringfence.agent.profile import AgentProfile, CallContext, CallDirection, PolicyName
from ringfence.agent.session import AgentSession, profile_to_json, session_to_json
from ringfence.domain.vocabulary import CallPurpose
from ringfence.services.stored_sessions import load_session, profile_digest
from tests.integration.test_call_direction_migration import T0, _job, _practice, _tables

SESSION = AgentSession(
    AgentProfile(
        practice_name="Glow",
        callback_number="+12125550199",
        system_prompt="",
        inbound_greeting=None,
        outbound_openings={},
        voicemail_script=None,
        policy=PolicyName.SCRIPTED,
    ),
    CallContext(
        direction=CallDirection.OUTBOUND,
        purpose=CallPurpose.APPOINTMENT_CONFIRMATION,
        patient_first_name="Jane",
        appointment_service="Botox touch-up",
        appointment_local_time="Friday at 2 PM",
        is_test=False,
    ),
)


def test_old_jobs_read_back_and_a_downgrade_puts_profiles_back_inline(
    old_engine: Engine,
) -> None:
    upgrade(old_engine, "0023")
    t = _tables(old_engine)
    inline = session_to_json(SESSION)
    with old_engine.begin() as conn:
        _practice(conn, t)
        conn.execute(insert(t["call_jobs"]), [_job(t, 1, agent_session=inline)])

    upgrade(old_engine, "0024")
    t = _tables(old_engine)
    jobs = t["call_jobs"]
    with Session(old_engine) as session:
        session_json, digest = session.execute(
            select(jobs.c.agent_session, jobs.c.agent_profile_digest).where(jobs.c.id == 1)
        ).one()
        assert digest is None
        assert load_session(session, 1, session_json, digest) == SESSION  # read inline
    body = profile_to_json(SESSION.profile)
    digest = profile_digest(1, body)
    with old_engine.begin() as conn:
        conn.execute(
            insert(t["agent_profiles"]),
            [{"digest": digest, "account_id": 1, "profile": body, "created_at": T0}],
        )
        conn.execute(
            insert(jobs),
            [
                _job(
                    t,
                    2,
                    agent_session={"context": inline["context"]},
                    agent_profile_digest=digest,
                ),
                # Rows the downgrade cannot make whole: a profile row gone, and no session.
                _job(
                    t,
                    3,
                    agent_session={"context": inline["context"]},
                    agent_profile_digest="f" * 64,
                ),
                _job(t, 4, agent_session=None, agent_profile_digest=digest),
            ],
        )

    downgrade(old_engine, "0023")
    back = _tables(old_engine)
    assert "agent_profiles" not in back
    assert "agent_profile_digest" not in back["call_jobs"].c
    with old_engine.connect() as conn:
        sessions = dict(
            conn.execute(select(back["call_jobs"].c.id, back["call_jobs"].c.agent_session)).all()
        )
    assert sessions == {1: inline, 2: inline, 3: None, 4: None}
