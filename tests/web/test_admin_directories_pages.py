"""The administration's Recipients and Agencies pages read as HTML (the test client, signed in as the demo
administrator): what each lists and flags, the GOV.UK error summary for every refusal (a bad address, a
duplicate or malformed key, a missing name), a form without its CSRF token refused, and none of these
changing anything; a change saved is Post/Redirect/Get."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from sqlalchemy import select

from engine.services import directories
from engine.store.models import AuditEvent, DirectoryAgency, NamedRecipient
from tests.web.conftest import csrf_of, sign_in_client


@pytest.fixture
def admin(app):
    client = app.test_client()
    sign_in_client(client, "admin")
    return client


def _text(response) -> str:
    """The page's text, tags removed and whitespace collapsed."""
    body = response.get_data(as_text=True)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def _state(service):
    with service.db.reading() as session:
        recipients = {
            r.key: (tuple(r.addresses), r.description) for r in session.scalars(select(NamedRecipient))
        }
        agencies = {
            a.key: (a.name, a.safeguarding_lead, a.active) for a in session.scalars(select(DirectoryAgency))
        }
        audited = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    return recipients, agencies, audited


def _token(client) -> str:
    return csrf_of(client.get("/admin/recipients/new").get_data(as_text=True))


def test_the_recipients_page_lists_each_key_its_addresses_and_the_processes_that_name_it(admin):
    page = admin.get("/admin/recipients")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    row = re.search(r'<tr class="govuk-table__row" data-recipient="panel">(.*?)</tr>', html, re.S).group(1)
    assert "panel-notifications@example.org" in row
    assert "Serious incident notification" in row and "Rapid review" in row
    assert "From the file" in row
    assert 'id="missing"' not in html  # every key the diagrams name has addresses
    assert 'href="/admin/recipients/change?key=panel"' in html


def test_a_key_a_diagram_names_but_the_table_lacks_is_flagged_with_a_link_to_add_it(admin, service):
    with service.db.transaction() as session:
        session.delete(session.get(NamedRecipient, "ofsted"))
        directories.changed(session, directories.RECIPIENTS)
    html = admin.get("/admin/recipients").get_data(as_text=True)
    flagged = re.search(r'<li data-missing="ofsted">(.*?)</li>', html, re.S).group(1)
    assert "Serious incident notification" in flagged
    assert 'href="/admin/recipients/new?key=ofsted"' in flagged
    assert 'value="ofsted"' in admin.get("/admin/recipients/new?key=ofsted").get_data(as_text=True)


def test_changing_a_recipients_addresses_is_saved_and_redirected(admin, service):
    token = _token(admin)
    response = admin.post(
        "/admin/recipients/change?key=panel",
        data={
            "csrf_token": token,
            "addresses": "one@example.org\ntwo@example.org",
            "description": "The Panel",
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/admin/recipients"
    assert "The recipient ‘panel’ was changed." in _text(admin.get("/admin/recipients"))
    assert service.recipients.named()["panel"] == ["one@example.org", "two@example.org"]


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        (
            "/admin/recipients/change?key=panel",
            {"addresses": "panel@example.org, not-an-address", "description": ""},
            "Enter e-mail addresses in the correct format, like name@example.org: ‘not-an-address’ is not",
        ),
        (
            "/admin/recipients/change?key=panel",
            {"addresses": "", "description": ""},
            "Enter at least one e-mail",
        ),
        (
            "/admin/recipients/new",
            {"key": "panel", "addresses": "p@example.org", "description": ""},
            "A recipient with the key ‘panel’ already exists",
        ),
        (
            "/admin/recipients/new",
            {"key": "The Panel", "addresses": "p@example.org", "description": ""},
            "Enter a key of lower-case letters, digits and underscores",
        ),
        (
            "/admin/agencies/new",
            {"key": "police", "name": "Police", "safeguarding_lead": ""},
            "An agency with the key ‘police’ already exists",
        ),
        (
            "/admin/agencies/new",
            {"key": "Youth Justice", "name": "", "safeguarding_lead": "duty desk"},
            "Enter a key of lower-case letters",
        ),
        (
            "/admin/agencies/change?key=police",
            {"name": "Health", "safeguarding_lead": ""},
            "Another agency is already called ‘Health’",
        ),
    ],
)
def test_a_refusal_shows_every_error_in_the_summary_and_changes_nothing(admin, service, path, data, message):
    before = _state(service)
    response = admin.post(path, data={**data, "csrf_token": _token(admin)})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    summary = re.search(r'<div class="govuk-error-summary".*?</ul>', html, re.S).group(0)
    assert message in htmllib.unescape(summary)
    if "Youth Justice" in str(data):  # all at once: the key, the name and the lead
        assert htmllib.unescape(summary).count("<li>") == 3
    assert _state(service) == before


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(admin, service):
    before = _state(service)
    for path, data in (
        ("/admin/recipients/change?key=panel", {"addresses": "x@example.org"}),
        ("/admin/recipients/new", {"key": "new_key", "addresses": "x@example.org"}),
        ("/admin/recipients/test", {"key": "panel"}),
        ("/admin/agencies/new", {"key": "youth", "name": "Youth justice"}),
        ("/admin/agencies/status", {"key": "police", "active": "no"}),
    ):
        assert admin.post(path, data=data).status_code == 400, path
    assert _state(service) == before


def test_the_agencies_page_counts_each_agencys_active_people_and_flags_those_with_none(admin):
    html = admin.get("/admin/agencies").get_data(as_text=True)
    police = re.search(r'data-agency="police">(.*?)</tr>', html, re.S).group(1)
    assert 'data-active-users="1"' in police and "Agency: Police" in police
    assert "police-safeguarding@example.org" in police
    social = re.search(r'data-agency="childrens_social_care">(.*?)</tr>', html, re.S).group(1)
    assert "No active user" in social  # no demo account holds its role
    assert "no active person holding its role" in _text(admin.get("/admin/agencies"))


def test_an_agency_is_added_renamed_retired_and_reactivated(admin, service):
    token = _token(admin)
    added = admin.post(
        "/admin/agencies/new",
        data={"csrf_token": token, "key": "youth_justice", "name": "Youth justice", "safeguarding_lead": ""},
    )
    assert added.status_code == 302
    assert "Give its people the role ‘Agency: Youth justice’" in _text(admin.get("/admin/agencies"))
    admin.post(
        "/admin/agencies/change?key=youth_justice",
        data={"csrf_token": token, "name": "Youth justice service", "safeguarding_lead": "yj@example.org"},
    )
    admin.post("/admin/agencies/status", data={"csrf_token": token, "key": "youth_justice", "active": "no"})
    html = admin.get("/admin/agencies").get_data(as_text=True)
    row = re.search(r'data-agency="youth_justice">(.*?)</tr>', html, re.S).group(1)
    assert "Youth justice service" in row and "Retired" in row and "Agency: Youth justice" in row
    assert "youth_justice" not in {a["key"] for a in service.agencies.listed()}
    admin.post("/admin/agencies/status", data={"csrf_token": token, "key": "youth_justice", "active": "yes"})
    assert "youth_justice" in {a["key"] for a in service.agencies.listed()}


def test_a_test_message_is_put_in_the_outbox(admin, service):
    response = admin.post("/admin/recipients/test", data={"csrf_token": _token(admin), "key": "board"})
    assert response.status_code == 302
    assert "A test message to ‘board’ is in the outbox for board@example.org" in _text(
        admin.get("/admin/recipients")
    )
    assert [m["recipient"] for m in service.outbox.list(service.users.actor("manager"))][:1] == [
        "board@example.org"
    ]
