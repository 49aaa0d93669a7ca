"""PHI over HTTP: recordings and transcripts read back decrypted, every read logged (API,
staff drawer, share link) and readable by the account only, the retention policy set and
audited through the account, and a purged call saying so."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.services.phi_retention import purge_expired
from tests.conftest import Tenant
from tests.dashboard_calls import CallBook
from tests.e2e.web_client import csrf_token, shared_call_refs, sign_in
from tests.factories import add_voice_agent
from tests.phi_calls import SECRET_WORDS, TURNS, recorded_call, tone_wav, use_store

TODAY = date(2026, 11, 26)
OUTBOUND = "/app/voice-ai/dashboards/outbound"
LOG = "/api/v1/phi-access-log"


@pytest.fixture
def store(container: Container, tmp_path: Path) -> Path:
    use_store(container, tmp_path)
    return tmp_path


def entries(client: TestClient, tenant: Tenant, query: str = "") -> list[tuple[str, ...]]:
    page = client.get(f"{LOG}{query}", headers=tenant.headers)
    assert page.status_code == 200, page.text
    return [(e["actor"], e["what"], e["via"], str(e["job_id"])) for e in page.json()["items"]]


def test_api_reads_are_decrypted_and_logged_for_the_account_only(
    client: TestClient, container: Container, tenant: Tenant, other_tenant: Tenant, store: Path
) -> None:
    job = recorded_call(CallBook(container, tenant), store, day=TODAY)
    h = tenant.headers

    transcript = client.get(f"/api/v1/call-jobs/{job}/transcript", headers=h)
    assert transcript.status_code == 200
    assert transcript.json()["turns"] == TURNS
    assert transcript.json()["purged_at"] is None
    audio = client.get(f"/api/v1/call-jobs/{job}/recording", headers=h)
    assert audio.status_code == 200
    assert audio.headers["content-type"] == "audio/wav"
    assert audio.headers["cache-control"] == "private"
    assert audio.content == tone_wav()

    j = str(job)
    assert entries(client, tenant) == [
        ("api_key:test", "transcript", "api", j),
        ("api_key:test", "recording", "api", j),
    ]
    assert entries(client, tenant, "?what=recording") == [("api_key:test", "recording", "api", j)]
    assert entries(client, tenant, f"?via=web&job_id={job}") == []
    first = client.get(f"{LOG}?limit=1", headers=h).json()
    assert len(first["items"]) == 1
    rest = client.get(f"{LOG}?limit=1&cursor={first['next_cursor']}", headers=h).json()
    assert rest["items"][0]["what"] == "recording"

    # Another account can neither read the call nor see who did; its refused tries log nothing.
    intruder = other_tenant.headers
    assert client.get(f"/api/v1/call-jobs/{job}/transcript", headers=intruder).status_code == 404
    assert client.get(f"/api/v1/call-jobs/{job}/recording", headers=intruder).status_code == 404
    assert entries(client, other_tenant) == []
    assert len(entries(client, tenant)) == 2
    assert client.get(f"{LOG}?what=everything", headers=h).status_code == 422


def test_the_staff_drawer_and_its_player_are_logged(
    client: TestClient, container: Container, tenant: Tenant, store: Path
) -> None:
    add_voice_agent(container, tenant)
    job = recorded_call(CallBook(container, tenant), store, day=TODAY)
    sign_in(client, tenant)

    drawer = client.get(f"{OUTBOUND}/calls/{job}", headers={"HX-Request": "true"})
    assert SECRET_WORDS in drawer.text
    audio = client.get(f"{OUTBOUND}/calls/{job}/recording")
    assert (audio.status_code, audio.headers["content-type"]) == (200, "audio/wav")
    assert audio.headers["cache-control"] == "private"
    assert audio.content == tone_wav()

    j = str(job)
    assert entries(client, tenant) == [
        ("web:api_key:test", "transcript", "web", j),
        ("web:api_key:test", "recording", "web", j),
    ]


def test_share_views_with_phi_are_logged_as_the_link(
    client: TestClient, container: Container, tenant: Tenant, store: Path
) -> None:
    add_voice_agent(container, tenant)
    job = recorded_call(CallBook(container, tenant), store, day=TODAY)
    sign_in(client, tenant)
    shares = f"{OUTBOUND}/shares"
    form = client.get(shares)
    made = client.post(
        shares,
        data={
            "csrf_token": csrf_token(form),
            "location_id": str(tenant.location_id),
            "filters": "",
            "expires_in_days": "7",
            "include_phi": "true",
        },
        follow_redirects=True,
    )
    path = re.findall(r"http://testserver(/share/dashboard/[A-Za-z0-9._-]+)", made.text)[0]
    anonymous = TestClient(client.app)

    [ref] = shared_call_refs(anonymous.get(path).text, path)
    assert SECRET_WORDS in anonymous.get(f"{path}/calls/{ref}").text
    assert anonymous.get(f"{path}/calls/{job}").status_code == 404  # not by its id
    audio = anonymous.get(f"{path}/calls/{ref}/recording")
    assert audio.status_code == 200
    assert audio.content == tone_wav()

    logged = entries(client, tenant)
    assert [(what, via) for _, what, via, _ in logged] == [
        ("transcript", "share"),
        ("recording", "share"),
    ]
    assert all(re.fullmatch(r"share_link:\d+", actor) for actor, *_ in logged)


def test_the_retention_policy_is_read_set_and_audited(client: TestClient, tenant: Tenant) -> None:
    h = tenant.headers
    assert client.get("/api/v1/account", headers=h).json()["phi_retention_days"] is None

    set_30 = client.patch("/api/v1/account", json={"phi_retention_days": 30}, headers=h)
    assert set_30.status_code == 200
    assert set_30.json()["phi_retention_days"] == 30
    refused = client.patch("/api/v1/account", json={"phi_retention_days": 45}, headers=h)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "phi_retention_days"]
    client.patch("/api/v1/account", json={"name": "Renamed"}, headers=h)  # not audited
    keep = client.patch("/api/v1/account", json={"phi_retention_days": None}, headers=h)
    assert keep.json()["phi_retention_days"] is None

    audit = client.get("/api/v1/audit-events?action=phi_retention_changed", headers=h).json()
    assert [(e["actor"], e["before"], e["after"]) for e in audit["items"]] == [
        ("api_key:test", {"phi_retention_days": None}, {"phi_retention_days": 30}),
        ("api_key:test", {"phi_retention_days": 30}, {"phi_retention_days": None}),
    ]


def test_a_purged_call_says_when_and_under_which_policy(
    client: TestClient,
    container: Container,
    clock: VirtualClock,
    tenant: Tenant,
    store: Path,
) -> None:
    add_voice_agent(container, tenant)
    client.patch("/api/v1/account", json={"phi_retention_days": 30}, headers=tenant.headers)
    job = recorded_call(CallBook(container, tenant), store, day=TODAY - timedelta(days=40))
    assert purge_expired(container.session_factory, clock, store_dir=store).transcripts == 1

    transcript = client.get(f"/api/v1/call-jobs/{job}/transcript", headers=tenant.headers).json()
    assert transcript["turns"] == []
    assert transcript["purged_at"] == "2026-11-26T15:00:00Z"
    assert transcript["sentiment"] == "positive"
    assert transcript["has_recording"] is False
    gone = client.get(f"/api/v1/call-jobs/{job}/recording", headers=tenant.headers)
    assert gone.status_code == 404

    sign_in(client, tenant)
    drawer = client.get(f"{OUTBOUND}/calls/{job}", headers={"HX-Request": "true"}).text
    assert "Recording and transcript purged on 2026-11-26 10:00 EST" in drawer
    assert "under the 30-day policy" in drawer
    assert SECRET_WORDS not in drawer
    assert entries(client, tenant) == []  # nothing was there to read
