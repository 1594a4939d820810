"""The named recipients and the directory of agencies kept in the database (engine/services/directories.py,
recipients.py, agencies.py): seeded from the files on a new installation and idempotently after; a file's
later change followed only where nobody changed the key in the browser; every reader going through one
cached copy that is read again only when its revision moves; each change audited with before and after;
refusals changing nothing; a test message through the outbox; agencies added, renamed, retired (no longer
offered, still named) and reactivated, each with the number of active people holding its role."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.services import Reviewflow, directories
from engine.services.actor import Actor
from engine.services.errors import Forbidden, Invalid
from engine.store.models import AuditEvent, DirectoryAgency, NamedRecipient, OutboxMessage
from tests.conftest import BUSINESS_UNIT, MANAGER, PROCESS_OWNER, ROOT, make_settings
from tests.integration.test_demo_process import INCIDENT, only_task, start_demo
from tests.roundtrips import Statements

ADMIN = Actor("ada", frozenset({"admin"}))


def _audit(service, *kinds: str) -> list[dict]:
    with service.db.reading() as session:
        return [
            {"kind": e.kind, "actor": e.actor, **(e.detail or {})}
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.kind.in_(kinds)).order_by(AuditEvent.id)
            )
        ]


def _rows(service, model) -> dict:
    with service.db.reading() as session:
        return {
            r.key: {c.name: getattr(r, c.name) for c in model.__table__.columns if c.name != "updated_at"}
            for r in session.scalars(select(model))
        }


@pytest.fixture
def seeded(database_url, tmp_path):
    recipients = tmp_path / "recipients.toml"
    recipients.write_text(
        '[recipients]\npanel = "panel@example.org"\nboard = ["a@example.org", "b@example.org"]\n'
    )
    agencies = tmp_path / "agencies.toml"
    agencies.write_text('[agencies.police]\nname = "Police"\n\n[agencies.health]\nname = "Health"\n')
    settings = make_settings(
        database_url, REVIEWFLOW_RECIPIENTS_FILE=str(recipients), REVIEWFLOW_AGENCIES_FILE=str(agencies)
    )
    service = Reviewflow(settings)
    yield service, recipients, agencies, settings
    service.db.dispose()


def test_a_new_installation_is_seeded_from_the_files_once(seeded):
    service, _recipients, _agencies, settings = seeded
    assert service.recipients.named() == {
        "board": ["a@example.org", "b@example.org"],
        "panel": ["panel@example.org"],
    }
    assert [(a.key, a.name, a.role, a.active) for a in service.agencies.directory().agencies] == [
        ("health", "Health", "Agency: Health", True),
        ("police", "Police", "Agency: Police", True),
    ]
    seeded_audit = _audit(service, "recipient_added", "agency_added")
    assert len(seeded_audit) == 4 and all(
        e["actor"] == "system" and e["before"] is None for e in seeded_audit
    )

    again = Reviewflow(settings)  # a second start, a deploy: nothing to do
    assert again.core is not service.core
    assert (
        _audit(again, "recipient_added", "agency_added", "recipient_changed", "agency_changed")
        == seeded_audit
    )
    again.db.dispose()


def test_a_changed_file_is_followed_only_where_nobody_changed_the_key_in_the_browser(seeded):
    service, recipients, agencies, settings = seeded
    service.recipients.change("panel", "panel-office@example.org", "The National Panel", ADMIN)
    recipients.write_text(
        '[recipients]\npanel = "old-panel@example.org"\nboard = "board@example.org"\n'
        'ofsted = "o@example.org"\n'
    )
    agencies.write_text('[agencies.police]\nname = "Avon Police"\n\n[agencies.health]\nname = "Health"\n')

    report = Reviewflow(settings).core.__dict__["_directories"].follow_files()  # nothing left to do here
    assert report == []  # its own start brought the files in; the report below is the running service's
    lines = directories.of(service.core).follow_files()
    assert any("kept 'panel' as changed in the browser by ada" in line for line in lines), lines
    assert service.recipients.named() == {
        "board": ["board@example.org"],  # never edited: follows the file
        "ofsted": ["o@example.org"],  # new in the file: added
        "panel": ["panel-office@example.org"],  # edited in the browser: the database wins
    }
    police = service.agencies.directory().get("police")
    assert (police.name, police.role) == ("Avon Police", "Agency: Avon Police")  # untouched: follows the file


def test_every_reader_uses_one_cached_copy_read_again_only_when_its_revision_moves(seeded):
    service = seeded[0]
    accessor = directories.of(service.core)
    first = accessor.recipients()
    with Statements(service.db.engine) as seen:
        assert accessor.recipients() is first
    assert seen.count <= 2  # the revision (and SQLite's BEGIN): never the table
    service.recipients.change("panel", "new-panel@example.org", "", ADMIN)
    assert accessor.recipients()["panel"] == ["new-panel@example.org"]
    agencies = accessor.agencies()
    with Statements(service.db.engine) as seen:
        assert accessor.agencies() is agencies
    assert seen.count <= 2


def test_a_notification_step_addresses_the_database_copy(database_url):
    service = Reviewflow(make_settings(database_url))
    service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
    service.recipients.change("panel", "panel-a@example.org, panel-b@example.org", "", ADMIN)
    start_demo(service)
    service.instances.complete_task(only_task(service, BUSINESS_UNIT)["id"], INCIDENT, BUSINESS_UNIT)
    assert sorted(m["recipient"] for m in service.outbox.list(MANAGER)) == [
        "panel-a@example.org",
        "panel-b@example.org",
    ]
    service.db.dispose()


@pytest.mark.parametrize(
    ("key", "addresses", "path", "message"),
    [
        ("ofsted", "not an address", "addresses", "Enter e-mail addresses in the correct format"),
        ("ofsted", "", "addresses", "Enter at least one e-mail address"),
        ("Ofsted Office", "o@example.org", "key", "Enter a key of lower-case letters"),
        ("panel", "o@example.org", "key", "A recipient with the key ‘panel’ already exists"),
    ],
)
def test_a_refused_recipient_changes_nothing(seeded, key, addresses, path, message):
    service = seeded[0]
    before = (_rows(service, NamedRecipient), _audit(service, "recipient_added", "recipient_changed"))
    with pytest.raises(Invalid) as refused:
        service.recipients.add(key, addresses, "", ADMIN)
    assert any(p["path"] == path and p["message"].startswith(message) for p in refused.value.details)
    with pytest.raises(Invalid):
        service.recipients.change("panel", "panel@example", "", ADMIN)
    assert (_rows(service, NamedRecipient), _audit(service, "recipient_added", "recipient_changed")) == before


def test_changes_are_audited_with_before_and_after_and_only_by_administrators(seeded):
    service = seeded[0]
    added = service.recipients.add("ofsted", "ofsted@example.org\nregions@example.org", "Ofsted", ADMIN)
    assert added["addresses"] == ["ofsted@example.org", "regions@example.org"]
    service.recipients.change("ofsted", "ofsted@example.org", "Ofsted's office", ADMIN)
    assert _audit(service, "recipient_changed")[-1] == {
        "kind": "recipient_changed",
        "actor": "ada",
        "key": "ofsted",
        "before": {"addresses": ["ofsted@example.org", "regions@example.org"], "description": "Ofsted"},
        "after": {"addresses": ["ofsted@example.org"], "description": "Ofsted's office"},
    }
    for refused in (
        lambda: service.recipients.list(MANAGER),
        lambda: service.recipients.change("ofsted", "x@example.org", "", MANAGER),
        lambda: service.recipients.send_test("ofsted", MANAGER),
        lambda: service.agencies.for_admin(MANAGER),
        lambda: service.agencies.add("youth", "Youth justice", "", MANAGER),
    ):
        with pytest.raises(Forbidden):
            refused()


def test_a_test_message_goes_through_the_outbox_to_each_address_and_is_audited(seeded):
    service = seeded[0]
    assert service.recipients.send_test("board", ADMIN) == ["a@example.org", "b@example.org"]
    with service.db.reading() as session:
        queued = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [(m.recipient, m.template, m.instance_id) for m in queued] == [
            ("a@example.org", "recipient_test", None),
            ("b@example.org", "recipient_test", None),
        ]
        assert "Test message" in queued[0].subject
    service.recipients.send_test("board", ADMIN)  # again, in the same second: its own messages
    assert [e["key"] for e in _audit(service, "recipient_test_sent")] == ["board", "board"]


def test_keys_the_deployed_diagrams_name_are_listed_with_their_processes_and_missing_ones_flagged(
    database_url,
):
    service = Reviewflow(make_settings(database_url))
    service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
    listed = service.recipients.list(ADMIN)
    panel = next(r for r in listed["recipients"] if r["key"] == "panel")
    assert "Serious incident notification" in panel["used_by"] and listed["missing"] == []
    with service.db.transaction() as session:  # a key the table lacks (as if a diagram named a new one)
        session.delete(session.get(NamedRecipient, "ofsted"))
        directories.changed(session, directories.RECIPIENTS)
    missing = service.recipients.list(ADMIN)["missing"]
    assert [m["key"] for m in missing] == ["ofsted"] and missing[0]["used_by"]
    service.db.dispose()


# --- agencies --------------------------------------------------------------------------------------


def test_an_agency_added_is_offered_and_checked_then_retired_no_longer_offered_but_still_named(seeded):
    from engine.services import forms

    service = seeded[0]
    service.users.add("yj", ["Agency: Youth justice"], password="a long enough passphrase 1")
    added = service.agencies.add("youth_justice", "Youth justice", "yj-lead@example.org", ADMIN)
    assert added["role"] == "Agency: Youth justice"
    offered = {a["key"]: a["has_active_user"] for a in service.agencies.listed()}
    assert offered == {"health": False, "police": False, "youth_justice": True}
    counts = {a["key"]: a["active_users"] for a in service.agencies.for_admin(ADMIN)}
    assert counts == {"health": 0, "police": 0, "youth_justice": 1}

    schema = {"type": "object", "properties": {"lead": {"type": "string", "x-directory": "agencies"}}}

    def problems(value):
        context = forms.case_context({}, {}, agencies=directories.of(service.core).agencies)
        with forms.in_case(context):
            return [p["message"] for p in forms.validate(schema, {"lead": value})]

    assert problems("youth_justice") == []
    service.agencies.change("youth_justice", ADMIN, active=False)
    assert "youth_justice" not in {a["key"] for a in service.agencies.listed()}
    assert problems("youth_justice") == [
        "‘Youth justice’ is no longer one of the partnership's agencies: choose another"
    ]
    assert service.agencies.directory().name_of("youth_justice") == "Youth justice"  # old cases still name it
    service.agencies.change("youth_justice", ADMIN, active=True)
    assert problems("youth_justice") == []
    kinds = [e["kind"] for e in _audit(service, "agency_added", "agency_retired", "agency_reactivated")]
    assert kinds[-3:] == ["agency_added", "agency_retired", "agency_reactivated"]


def test_a_renamed_agency_keeps_its_key_and_role_and_the_change_is_audited(seeded):
    service = seeded[0]
    service.agencies.change(
        "police", ADMIN, name="Avon and Somerset Police", safeguarding_lead="l@example.org"
    )
    agency = service.agencies.directory().get("police")
    assert (agency.name, agency.role, agency.safeguarding_lead) == (
        "Avon and Somerset Police",
        "Agency: Police",
        "l@example.org",
    )
    assert _audit(service, "agency_changed")[-1]["before"] == {
        "name": "Police",
        "safeguarding_lead": None,
        "active": True,
    }


@pytest.mark.parametrize(
    ("key", "name", "lead", "path", "message"),
    [
        ("Youth Justice", "Youth justice", "", "key", "Enter a key of lower-case letters"),
        ("police", "Police service", "", "key", "An agency with the key ‘police’ already exists"),
        ("youth", "", "", "name", "Enter the agency's name"),
        ("youth", "health", "", "name", "Another agency is already called ‘Health’"),
        ("youth", "Youth justice", "the duty desk", "safeguarding_lead", "Enter the safeguarding lead's"),
    ],
)
def test_a_refused_agency_changes_nothing(seeded, key, name, lead, path, message):
    service = seeded[0]
    before = (_rows(service, DirectoryAgency), _audit(service, "agency_added", "agency_changed"))
    with pytest.raises(Invalid) as refused:
        service.agencies.add(key, name, lead, ADMIN)
    assert any(p["path"] == path and p["message"].startswith(message) for p in refused.value.details)
    with pytest.raises(Invalid):
        service.agencies.change("police", ADMIN, name="Health")
    assert (_rows(service, DirectoryAgency), _audit(service, "agency_added", "agency_changed")) == before
    with service.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(DirectoryAgency)) == 2


def test_another_process_reads_a_change_once_its_revision_moved(seeded):
    service, _recipients, _agencies, settings = seeded
    other = Reviewflow(settings)  # another web process or the worker: its own cache
    try:
        assert other.recipients.named()["panel"] == ["panel@example.org"]
        assert other.agencies.directory().get("police").active
        service.recipients.change("panel", "moved@example.org", "", ADMIN)
        service.agencies.change("police", ADMIN, active=False)
        assert other.recipients.named()["panel"] == ["moved@example.org"]
        assert not other.agencies.directory().get("police").active
        assert "police" not in {a["key"] for a in other.agencies.listed()}
    finally:
        other.db.dispose()


def test_a_retired_agency_still_names_the_answers_that_chose_it(seeded):
    from engine import agencies as directory

    service = seeded[0]
    service.agencies.change("health", ADMIN, active=False)
    schema = {"type": "object", "properties": {"asked": {"type": "array", "x-directory": "agencies"}}}
    shown = directory.titled(schema, service.agencies.directory())["properties"]["asked"]["items"]
    assert dict(zip(shown["enum"], shown["x-enum-titles"], strict=True))["health"] == "Health"
    assert [a["key"] for a in service.agencies.listed()] == ["police"]  # but only the active are offered
