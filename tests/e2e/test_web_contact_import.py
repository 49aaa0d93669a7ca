"""Patients → Import contacts on the staff pages: upload, columns, check or import, report.

The import itself is `services.contact_import` (tested through the API and the CLI); these
tests hold the page to it: the same guesses, the same report, nothing written by a check,
and the upload unreachable from another account.
"""

from __future__ import annotations

import csv
import io
import re
import stat
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func, select

from ringfence.adapters.db.orm import ConsentRecord, Contact, Location
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.entrypoints.api.schemas.contact_imports import MAX_CSV_CHARS
from ringfence.entrypoints.asgi import create_app
from ringfence.entrypoints.web.routes.contact_import import get_runner
from ringfence.services.contact_import_report import ImportPhase
from ringfence.services.contact_import_view import FORM_OVERHEAD_BYTES, MAX_UPLOAD_BYTES
from ringfence.services.import_progress import ImportJob
from tests.conftest import Tenant
from tests.e2e.web_client import csrf_token, sign_in

PAGE = "/app/contacts/import"
HYPERLINK = '=HYPERLINK("http://evil.example/","Click me")'
QUOTED = HYPERLINK.replace('"', '""')
CSV_TEXT = (
    "Mobile,First Name,Last Name,Email,Patient notes\n"
    "(212) 555-0147,Ava,Smith,ava@example.com,likes mornings\n"
    "555-01,Ben,Jones,,\n"
    f'212-555-0149,"{QUOTED}",Doe,,\n'
    "212.555.0147,,,,\n"
    "212-555-0150,Zoe,,zoe@example.com,\n"
    "212-555-0151,Max,Lee,,\n"
)


class JoinedRunner:
    """Each run in a thread of its own, as in production, but answered once it is over: the
    page that follows then shows its end."""

    def start(self, work: Callable[[], None]) -> None:
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()


class HeldRunner:
    """Keeps the runs it is given, for the test to run (or never run: a process that died)."""

    def __init__(self) -> None:
        self.held: list[ImportJob] = []

    def start(self, work: Callable[[], None]) -> None:
        assert isinstance(work, ImportJob)
        self.held.append(work)

    def run_all(self) -> None:
        while self.held:
            JoinedRunner().start(self.held.pop(0))


def _use_runner(client: TestClient, runner: JoinedRunner | HeldRunner) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    app.dependency_overrides[get_runner] = lambda: runner


@pytest.fixture(autouse=True)
def _joined_runs(request: pytest.FixtureRequest) -> None:
    if "client" in request.fixturenames:
        _use_runner(request.getfixturevalue("client"), JoinedRunner())


def _second_location(container: Container, tenant: Tenant) -> int:
    with container.uow() as uow:
        now = uow.clock.now()
        location = Location(
            account_id=tenant.account_id,
            name="Glow Brooklyn",
            time_zone="America/New_York",
            created_at=now,
            updated_at=now,
        )
        uow.session.add(location)
        uow.session.flush()
        location_id = location.id
        uow.commit()
    return location_id


def _contacts(container: Container, account_id: int) -> list[tuple[int, str | None, str]]:
    with container.uow() as uow:
        rows = uow.session.execute(
            select(Contact.location_id, Contact.phone_e164, Contact.first_name)
            .where(Contact.account_id == account_id)
            .order_by(Contact.phone_e164)
        )
        return [(r.location_id, r.phone_e164, r.first_name) for r in rows]


def _upload(
    client: TestClient,
    location_id: int | str,
    content: bytes = CSV_TEXT.encode(),
    *,
    filename: str = "patients.csv",
) -> Response:
    page = client.get(PAGE)
    assert page.status_code == 200, page.text
    return client.post(
        PAGE,
        data={"csrf_token": csrf_token(page), "location_id": str(location_id)},
        files={"file": (filename, content, "text/csv")},
        follow_redirects=False,
    )


def _token(response: Response) -> str:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    found = re.fullmatch(rf"{PAGE}/([A-Za-z0-9_-]+)", location)
    assert found is not None, location
    return found.group(1)


def _selected(html: str) -> dict[str, str]:
    """Each column select's chosen value, by its name."""
    chosen: dict[str, str] = {}
    for name, body in re.findall(r'<select name="(column-\d+)".*?>(.*?)</select>', html, re.S):
        value = re.search(r'<option value="([a-z_0-9]+)" selected>', body)
        assert value is not None, name
        chosen[name] = value.group(1)
    return chosen


def _count(html: str, name: str) -> int:
    found = re.search(rf'data-count="{name}">(\d+)<', html)
    assert found is not None, name
    return int(found.group(1))


def _run(client: TestClient, token: str, action: str, **columns: str) -> Response:
    mapping_page = client.get(f"{PAGE}/{token}")
    form = {"csrf_token": csrf_token(mapping_page), "action": action}
    form.update(_selected(mapping_page.text))
    form.update({k.replace("_", "-"): v for k, v in columns.items()})
    return client.post(f"{PAGE}/{token}", data=form, follow_redirects=False)


def test_upload_map_import_and_read_the_report(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    brooklyn = _second_location(container, tenant)
    existing = client.post(
        "/api/v1/contacts",
        json={"location_id": brooklyn, "first_name": "Zoe", "phone": "+12125550150"},
        headers=tenant.headers,
    )
    assert existing.status_code == 201, existing.text
    sign_in(client, tenant)

    start = client.get(PAGE)
    assert '<a href="/app/contacts/import" aria-current="page">Import contacts</a>' in start.text
    assert "Glow Brooklyn" in start.text
    token = _token(_upload(client, brooklyn))

    mapping = client.get(f"{PAGE}/{token}")
    assert mapping.status_code == 200
    assert "Glow Brooklyn" in mapping.text
    # The service's own guesses by header name; the unknown column is left out.
    assert _selected(mapping.text) == {
        "column-0": "phone",
        "column-1": "first_name",
        "column-2": "last_name",
        "column-3": "email",
        "column-4": "ignore",
    }
    preview = mapping.text.split('id="import-preview"', 1)[1]
    assert "likes mornings" in preview
    assert "Max" not in preview  # line 7: only the first 5 rows are previewed
    assert HYPERLINK not in mapping.text  # escaped, never raw HTML
    assert "=HYPERLINK(&#34;http://evil.example/&#34;" in preview

    done = _run(client, token, "import")
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"{PAGE}/{token}/progress"
    report = client.get(done.headers["location"])  # finished: it sends on to the report
    assert report.status_code == 200
    assert str(report.url).endswith(f"{PAGE}/{token}/report")
    assert "Imported: 3 new, 2 merged, 1 skipped." in report.text
    assert "<h1>Import report</h1>" in report.text
    counts = {n: _count(report.text, n) for n in ("rows", "created", "merged", "skipped")}
    assert counts == {"rows": 6, "created": 3, "merged": 2, "skipped": 1}
    problem = re.search(r'<tr data-line="3">(.*?)</tr>', report.text, re.S)
    assert problem is not None
    assert "Skipped" in problem.group(1)
    assert "<td>Mobile</td>" in problem.group(1)
    assert "Phone number not valid" in problem.group(1)
    assert "not a valid phone number: &#39;555-01&#39;" in problem.group(1)
    assert "never records consent to be called" in report.text

    # The bad row blocked nothing: every good row is a contact of the chosen location.
    assert _contacts(container, tenant.account_id) == [
        (brooklyn, "+12125550147", "Ava"),
        (brooklyn, "+12125550149", HYPERLINK),
        (brooklyn, "+12125550150", "Zoe"),
        (brooklyn, "+12125550151", "Max"),
    ]
    with container.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(ConsentRecord)) == 0


def test_a_check_writes_nothing_and_the_import_follows_from_its_report(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    sign_in(client, tenant)
    token = _token(_upload(client, tenant.location_id))
    checked = _run(client, token, "check")
    assert checked.status_code == 303
    report = client.get(checked.headers["location"])
    assert "Check report: nothing was saved" in report.text
    assert "Checked 6 rows: nothing was saved." in report.text
    assert _count(report.text, "created") == 4
    assert 'id="import-now"' in report.text
    assert _contacts(container, tenant.account_id) == []

    # "Import these contacts" on the check's report imports with the same columns.
    form = re.search(r'<form method="post" [^>]*id="import-now">(.*?)</form>', report.text, re.S)
    assert form is not None
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(1)))
    fields["action"] = "import"
    imported = client.post(f"{PAGE}/{token}", data=fields)
    assert "<h1>Import report</h1>" in imported.text
    assert len(_contacts(container, tenant.account_id)) == 4

    # Posting it again (a second click, the back button) imports nothing more.
    again = client.post(f"{PAGE}/{token}", data=fields)
    assert "This file was already imported" in again.text
    assert len(_contacts(container, tenant.account_id)) == 4


@pytest.mark.parametrize(
    ("filename", "content", "problem"),
    [
        ("empty.csv", b"", "“empty.csv” is empty"),
        ("blank.csv", b"\n\n  \n", "“blank.csv” is empty"),
        ("header.csv", b"Mobile,First Name\n", "has a header row but no contacts"),
        # (A file with a NUL byte, as every real spreadsheet has, is refused before the page by
        # the app's control-character guard; the page's script names it in the browser.)
        ("patients.json", b'[{"phone": "2125550147"}]', "“patients.json” is not a CSV file"),
        ("patients.xlsx", b"PK\x03\x04\x14", "“patients.xlsx” is not a CSV file"),
        ("photo.csv", b"\x89PNG\r\n\x1a\n", "line 1: the file is not UTF-8 text"),
        (
            "latin1.csv",
            b"Mobile,First Name\n2125550147,Chlo\xe9\n",
            "line 2: the file is not UTF-8 text (in Excel, save it as &#39;CSV UTF-8&#39;)",
        ),
        ("broken.csv", b'Mobile\n"2125550147\n', "malformed CSV"),
        (
            "huge.csv",
            b"Mobile\n" + b"2125550147\n" * 94_000,
            "“huge.csv” is too large: the limit is 1.0 MB",
        ),
    ],
)
def test_a_bad_file_is_refused_on_step_1_naming_the_problem(
    client: TestClient,
    container: Container,
    tenant: Tenant,
    filename: str,
    content: bytes,
    problem: str,
) -> None:
    sign_in(client, tenant)
    refused = _upload(client, tenant.location_id, content, filename=filename)
    assert refused.status_code == 422
    assert "<h1>Import contacts</h1>" in refused.text
    assert "Not uploaded:" in refused.text
    assert problem in refused.text
    assert f'<option value="{tenant.location_id}" selected>' in refused.text
    assert _contacts(container, tenant.account_id) == []


def test_the_size_limit_is_the_apis_under_the_request_limit() -> None:
    assert MAX_UPLOAD_BYTES == MAX_CSV_CHARS
    # The huge file above is over the page's limit but under the default 1 MiB request
    # limit, so the page itself answers it.
    assert 1_048_576 - FORM_OVERHEAD_BYTES < len(b"2125550147\n") * 94_000 < 1_048_576 - 300


def test_a_location_must_be_the_accounts_own(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    sign_in(client, tenant)
    for location_id in ("", other_tenant.location_id, "x"):
        refused = _upload(client, location_id)
        assert refused.status_code == 422
        assert "Choose the location these contacts belong to." in refused.text
        assert "Rival Derm" not in refused.text


def test_the_columns_are_checked_before_anything_runs(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    sign_in(client, tenant)
    token = _token(_upload(client, tenant.location_id))
    twice = _run(client, token, "import", column_4="phone")
    assert twice.status_code == 422
    assert "“Phone number” is already chosen for column “Mobile”." in twice.text
    no_phone = _run(client, token, "check", column_0="ignore")
    assert no_phone.status_code == 422
    assert "Choose “Phone number” for the column that holds the patients&#39; phone" in (
        no_phone.text
    )
    # What was chosen is kept on the form.
    assert _selected(no_phone.text)["column-0"] == "ignore"
    assert _contacts(container, tenant.account_id) == []

    # A phone column the service does not recognise by name: staff choose it.
    unknown = "Numero,Prénom\n2125550147,Ava\n".encode()
    other_token = _token(_upload(client, tenant.location_id, unknown))
    page = client.get(f"{PAGE}/{other_token}")
    assert _selected(page.text) == {"column-0": "ignore", "column-1": "ignore"}
    done = _run(client, other_token, "import", column_0="phone", column_1="first_name")
    assert done.status_code == 303
    assert _contacts(container, tenant.account_id) == [(tenant.location_id, "+12125550147", "Ava")]


def test_another_account_cannot_use_the_upload(
    client: TestClient, container: Container, tenant: Tenant, other_tenant: Tenant
) -> None:
    sign_in(client, tenant)
    token = _token(_upload(client, tenant.location_id))
    assert _run(client, token, "check").status_code == 303

    with TestClient(create_app(container)) as rival:
        sign_in(rival, other_tenant)
        for path in (
            f"{PAGE}/{token}",
            f"{PAGE}/{token}/progress",
            f"{PAGE}/{token}/report",
            f"{PAGE}/{token}/report.csv",
        ):
            seen = rival.get(path)
            assert seen.status_code == 404, path
            assert "does not exist in this account" in seen.text
            assert "Ava" not in seen.text
        form = rival.get(PAGE)
        posted = rival.post(
            f"{PAGE}/{token}",
            data={"csrf_token": csrf_token(form), "action": "import", "column-0": "phone"},
        )
        assert posted.status_code == 404
    assert _contacts(container, tenant.account_id) == []
    assert _contacts(container, other_tenant.account_id) == []
    assert client.get(f"{PAGE}/{token}").status_code == 200  # still the owner's


def test_an_upload_expires(
    client: TestClient, clock: VirtualClock, container: Container, tenant: Tenant
) -> None:
    sign_in(client, tenant)
    token = _token(_upload(client, tenant.location_id))
    clock.advance(timedelta(minutes=61))
    sign_in(client, tenant)  # the session outlives the upload either way
    assert client.get(f"{PAGE}/{token}").status_code == 404
    assert client.get(f"{PAGE}/not-a-token").status_code == 404


def test_every_form_needs_the_csrf_token(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    sign_in(client, tenant)
    # Multipart like the real form (without the file: a form refused by the CSRF check is
    # never closed by the route, and its spooled file would outlive the test).
    refused = client.post(PAGE, files={"location_id": (None, str(tenant.location_id))})
    assert refused.status_code == 403
    token = _token(_upload(client, tenant.location_id))
    run = client.post(f"{PAGE}/{token}", data={"action": "import", "column-0": "phone"})
    assert run.status_code == 403
    forged = client.post(
        f"{PAGE}/{token}", data={"action": "import", "csrf_token": "forged", "column-0": "phone"}
    )
    assert forged.status_code == 403
    assert _contacts(container, tenant.account_id) == []


def test_the_row_report_download_defuses_spreadsheet_formulas(
    client: TestClient, tenant: Tenant
) -> None:
    sign_in(client, tenant)
    token = _token(_upload(client, tenant.location_id))
    assert _run(client, token, "import").status_code == 303
    download = client.get(f"{PAGE}/{token}/report.csv")
    assert download.status_code == 200
    assert download.headers["content-type"] == "text/csv; charset=utf-8"
    assert download.headers["content-disposition"] == (
        'attachment; filename="patients-import-report.csv"'
    )
    rows = list(csv.reader(io.StringIO(download.text)))
    assert rows[0] == [
        "Line",
        "Result",
        "Problems",
        "Mobile",
        "First Name",
        "Last Name",
        "Email",
        "Patient notes",
    ]
    by_line = {row[0]: row for row in rows[1:]}
    assert by_line["4"][4] == "'" + HYPERLINK
    assert by_line["3"][1:3] == [
        "Skipped",
        "Mobile: Phone number not valid (not a valid phone number: '555-01')",
    ]
    assert by_line["2"][1] == "New contact"
    assert by_line["5"][1] == "Merged into an existing contact"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_the_pages_need_a_signed_in_member_of_staff(client: TestClient) -> None:
    answer = client.get(PAGE, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")


def test_the_upload_is_kept_owner_only_and_never_by_its_token(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    sign_in(client, tenant)
    folder = container.settings.secret_key_file.parent / "import-uploads"
    before = set(folder.iterdir()) if folder.exists() else set()
    token = _token(_upload(client, tenant.location_id))
    [kept] = set(folder.iterdir()) - before  # other tests' uploads share the folder
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert token not in kept.name
    # A run's progress (and the lock that orders its writes) sits beside it, the same way.
    assert _run(client, token, "check").status_code == 303
    beside = set(folder.iterdir()) - before - {kept}
    assert {path.name.removeprefix(kept.name.split(".")[0]) for path in beside} == {
        ".progress.json",
        ".lock",
    }
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in beside)


def _polled(client: TestClient, token: str, seen: str = "") -> Response:
    return client.get(
        f"{PAGE}/{token}/progress",
        params={"seen": seen} if seen else None,
        headers={"HX-Request": "true"},
        follow_redirects=False,
    )


def test_the_progress_page_follows_a_run_to_its_report(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    held = HeldRunner()
    _use_runner(client, held)
    sign_in(client, tenant)
    token = _token(_upload(client, tenant.location_id))
    assert client.get(f"{PAGE}/{token}/progress").status_code == 404  # nothing run yet
    started = _run(client, token, "import")
    assert started.status_code == 303
    assert started.headers["location"] == f"{PAGE}/{token}/progress"
    [job] = held.held

    page = client.get(f"{PAGE}/{token}/progress", follow_redirects=False)
    assert page.status_code == 200
    assert "<h1>Importing contacts</h1>" in page.text
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page.text
    assert 'hx-trigger="every 1s"' in page.text
    assert f'hx-get="{PAGE}/{token}/progress?seen=validating"' in page.text
    assert '<label for="import-bar" id="import-words">Checking rows: 0 of 6</label>' in page.text
    assert '<progress id="import-bar" max="6" value="0">' in page.text
    assert re.search(
        r'<p id="import-phase" role="status" aria-live="polite">Checking rows', page.text
    )

    # The run's own callback, as the service calls it: the fragment shows the count, and
    # the live region is sent again only when the phase is not the one it last said.
    job.tracker(ImportPhase.VALIDATING, 3, 6)
    fragment = _polled(client, token, seen="validating")
    assert fragment.status_code == 200
    assert "Checking rows: 3 of 6" in fragment.text
    assert "<html" not in fragment.text
    assert "hx-swap-oob" not in fragment.text
    job.tracker(ImportPhase.WRITING, 1, 5)
    moved = _polled(client, token, seen="validating")
    assert "Saving contacts: 1 of 5" in moved.text
    assert '<p id="import-phase" hx-swap-oob="innerHTML">Saving contacts…</p>' in moved.text

    # A second click on "Import" starts nothing: it shows the run going on.
    again = _run(client, token, "import")
    assert again.status_code == 303
    assert again.headers["location"] == f"{PAGE}/{token}/progress"
    shown = client.get(again.headers["location"])
    assert "This file is already being checked or imported" in shown.text
    assert "Saving contacts: 1 of 5" in shown.text
    assert len(held.held) == 1
    assert _contacts(container, tenant.account_id) == []

    held.run_all()
    finished = _polled(client, token, seen="writing")
    assert finished.headers["HX-Redirect"] == f"{PAGE}/{token}/report"
    report = client.get(f"{PAGE}/{token}/progress")
    assert str(report.url).endswith(f"{PAGE}/{token}/report")
    assert "Imported: 4 new, 1 merged, 1 skipped." in report.text
    assert len(_contacts(container, tenant.account_id)) == 4
    # Done, the file is imported: the guard holds as before.
    refused = _run(client, token, "import")
    assert refused.headers["location"] == f"{PAGE}/{token}/report"
    assert "This file was already imported" in client.get(refused.headers["location"]).text
    assert held.held == []


def test_a_run_that_stopped_answering_is_shown_interrupted_and_can_run_again(
    client: TestClient, clock: VirtualClock, container: Container, tenant: Tenant
) -> None:
    held = HeldRunner()
    _use_runner(client, held)
    sign_in(client, tenant)
    token = _token(_upload(client, tenant.location_id))
    assert _run(client, token, "import").status_code == 303
    [dead] = held.held  # its process "died": it never runs
    held.held.clear()

    clock.advance(timedelta(seconds=119))
    running = client.get(f"{PAGE}/{token}/progress")
    assert "Checking rows: 0 of 6" in running.text
    # Still running a minute and more on: a second "Import" is refused.
    _run(client, token, "import")
    assert held.held == []

    clock.advance(timedelta(seconds=1))
    page = client.get(f"{PAGE}/{token}/progress")
    assert page.status_code == 200
    assert "The import was interrupted" in page.text
    assert "Nothing was imported" in page.text
    assert "http-equiv" not in page.text
    assert "hx-trigger" not in page.text
    assert _polled(client, token).status_code == 200  # no redirect: the poll stops here

    form = re.search(r'<form method="post" [^>]*id="import-again">(.*?)</form>', page.text, re.S)
    assert form is not None
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(1)))
    assert fields["column-0"] == "phone"
    fields["action"] = "import"
    _use_runner(client, JoinedRunner())
    report = client.post(f"{PAGE}/{token}", data=fields)
    assert "<h1>Import report</h1>" in report.text
    assert len(_contacts(container, tenant.account_id)) == 4

    # The old run, had it lived, writes nothing over the new one's.
    dead.tracker(ImportPhase.VALIDATING, 1, 6)
    assert str(client.get(f"{PAGE}/{token}/progress").url).endswith("/report")


def test_a_run_that_fails_says_nothing_was_imported(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    held = HeldRunner()
    _use_runner(client, held)
    sign_in(client, tenant)
    brooklyn = _second_location(container, tenant)
    token = _token(_upload(client, brooklyn))
    assert _run(client, token, "check").status_code == 303
    with container.uow() as uow:
        location = uow.session.get(Location, brooklyn)
        assert location is not None
        uow.session.delete(location)
        uow.commit()
    held.run_all()
    page = client.get(f"{PAGE}/{token}/progress")
    assert "<h1>Checking the file</h1>" in page.text
    assert "The check stopped: the location chosen for this file no longer exists" in page.text
    assert "Nothing was imported" in page.text
    assert _contacts(container, tenant.account_id) == []
