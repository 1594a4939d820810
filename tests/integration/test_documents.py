"""Documents on a case and on its steps, under the same least privilege as the case's data: whoever may see
the case sees all its documents; an agency adds to and sees only those on its own request. Kept in the
database (SQLite and PostgreSQL) byte for byte, their type read from their content, a size limit, and every
upload, refusal and download in the audit log with the file's name, size and hash, never its content."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import event, select

from engine.services import Reviewflow
from engine.services.actor import Actor
from engine.services.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge
from engine.store.models import AuditEvent, Document
from tests.conftest import MANAGER, PROCESS_OWNER, ROOT, make_settings
from tests.scenarios.driver import STAFF, Partnership, form

POLICE = Actor("pc", frozenset({"Agency: Police"}))
HEALTH = Actor("nurse", frozenset({"Agency: Health"}))
BU = Actor("bu", frozenset({"Business Unit"}))
OUTSIDER = Actor("ex", frozenset({"Board"}))
AGENCIES = ["police", "health"]  # keys of the partnership's directory (processes/agencies.toml)
# every byte value, so that a store that altered binary content would show it
PDF = b"%PDF-1.7\n" + bytes(range(256)) + b"\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def police_request(service) -> dict:
    """A rapid review asking the police for information: the police's open request task."""
    p = Partnership(service)
    notified = form(
        "incident_notification", agencies=AGENCIES, date_aware="2026-12-18", notification_date=None
    )
    service.instances.start("incident_notification", notified, STAFF)
    p.do("check_other_children", form("safety_check"))
    p.do("notify_panel_and_partners", form("statutory_notification"))
    p.do("arrange_rapid_review", form("rapid_review_arrangements", information_required_by="2026-12-31"))
    [request] = service.tasks.for_user(POLICE)
    return request


def audit_rows(service, kind: str) -> list:
    """The audit log's rows of one kind, oldest first."""
    columns = (AuditEvent.actor, AuditEvent.instance_id, AuditEvent.task_id, AuditEvent.element_id)
    with service.db.reading() as session:
        stmt = select(*columns, AuditEvent.detail).where(AuditEvent.kind == kind).order_by(AuditEvent.id)
        return session.execute(stmt).all()


def test_an_agency_adds_to_and_sees_only_its_own_request(deployed):
    request = police_request(deployed)
    case_id = request["instance_id"]
    minutes = deployed.documents.upload(BU, case_id, "minutes.txt", b"Minutes of the rapid review\n")
    chronology = deployed.documents.upload(
        POLICE, case_id, "police chronology.csv", b"date,event\n2026-12-01,visit\n", task_id=request["id"]
    )
    assert chronology["content_type"] == "text/csv; charset=utf-8" and chronology["step"] == request["name"]

    # the agency: its own request's documents, nothing of the case
    assert [d["name"] for d in deployed.documents.for_task(request["id"], POLICE)["step"]] == [
        "police chronology.csv"
    ]
    assert deployed.documents.for_task(request["id"], POLICE)["case"] is None
    assert deployed.documents.download(chronology["id"], POLICE)[1] == b"date,event\n2026-12-01,visit\n"
    for refused in (
        lambda: deployed.documents.for_case(case_id, POLICE),
        lambda: deployed.documents.download(minutes["id"], POLICE),
        lambda: deployed.documents.upload(POLICE, case_id, "notes.txt", b"notes"),
    ):
        with pytest.raises(Forbidden):
            refused()

    # another agency: nothing at all
    for refused in (
        lambda: deployed.documents.for_task(request["id"], HEALTH),
        lambda: deployed.documents.download(chronology["id"], HEALTH),
        lambda: deployed.documents.upload(HEALTH, case_id, "x.txt", b"x", task_id=request["id"]),
    ):
        with pytest.raises(Forbidden):
            refused()

    # partnership staff with a step in the case, and managers: every document of it
    for person in (BU, MANAGER):
        listed = deployed.documents.for_case(case_id, person)
        assert [(d["name"], d["step"]) for d in listed] == [
            ("minutes.txt", None),
            ("police chronology.csv", request["name"]),
        ]
        assert "content" not in listed[0]
        assert deployed.documents.download(chronology["id"], person)[0]["sha256"] == chronology["sha256"]
    with pytest.raises(Forbidden):
        deployed.documents.for_case(case_id, OUTSIDER)
    with pytest.raises(NotFound):
        deployed.documents.download(chronology["id"] + 100, MANAGER)


def test_content_is_kept_byte_for_byte_and_lists_never_read_it(deployed):
    request = police_request(deployed)
    case_id = request["instance_id"]
    kept = deployed.documents.upload(MANAGER, case_id, "C:\\Users\\me\\Report\x07 final.pdf", PDF)
    assert kept["name"] == "Report final.pdf" and kept["size"] == len(PDF)
    assert kept["sha256"] == hashlib.sha256(PDF).hexdigest() and kept["type"] == "PDF document"
    statements: list[str] = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731 (conn, cursor, statement, ...)
    event.listen(deployed.db.engine, "before_cursor_execute", listen)
    try:
        deployed.documents.for_case(case_id, MANAGER)
        deployed.documents.for_task(request["id"], BU)
    finally:
        event.remove(deployed.db.engine, "before_cursor_execute", listen)
    reads = [s for s in statements if "FROM document" in s]
    assert reads and not any(re.search(r"document\.content\b", s) for s in reads)
    meta, content = deployed.documents.download(kept["id"], BU)
    assert content == PDF and meta["content_type"] == "application/pdf"


def test_a_disguised_file_is_refused_and_logged_without_its_content(deployed):
    request = police_request(deployed)
    with pytest.raises(Invalid) as refused:
        deployed.documents.upload(POLICE, request["instance_id"], "report.pdf", HTML, task_id=request["id"])
    assert "‘report.pdf’ is an HTML or XML document" in refused.value.message
    with deployed.db.reading() as session:
        assert session.scalars(select(Document.id)).all() == []
    [row] = audit_rows(deployed, "document_refused")
    assert row.actor == "pc" and row.instance_id == request["instance_id"] and row.task_id == request["id"]
    assert row.detail["name"] == "report.pdf" and row.detail["size"] == len(HTML)
    assert row.detail["sha256"] == hashlib.sha256(HTML).hexdigest()
    assert "alert" not in str(row.detail)


def test_every_upload_and_download_is_audited_with_who_and_what(deployed):
    request = police_request(deployed)
    kept = deployed.documents.upload(POLICE, request["instance_id"], "return.pdf", PDF, task_id=request["id"])
    deployed.documents.download(kept["id"], BU)
    deployed.documents.download(kept["id"], POLICE)
    what = {"document_id": kept["id"], "name": "return.pdf", "type": "application/pdf", "size": len(PDF)}
    what["sha256"] = kept["sha256"]
    [uploaded] = audit_rows(deployed, "document_uploaded")
    downloads = audit_rows(deployed, "document_downloaded")
    assert (uploaded.actor, uploaded.detail, uploaded.task_id) == ("pc", what, request["id"])
    assert uploaded.element_id == request["element_id"]
    assert [(d.actor, d.detail) for d in downloads] == [("bu", what), ("pc", what)]
    # the case's audit log, as managers read it, shows them
    history = deployed.queries.get_instance(request["instance_id"], MANAGER)["history"]
    assert [h["kind"] for h in history if h["kind"].startswith("document_")] == [
        "document_uploaded",
        "document_downloaded",
        "document_downloaded",
    ]


def test_a_document_goes_only_on_an_open_step_of_its_own_case(deployed):
    request = police_request(deployed)
    answers = form(deployed.tasks.get(request["id"], POLICE)["form"].removesuffix(".json"))
    deployed.instances.complete_task(request["id"], answers, POLICE)
    with pytest.raises(Conflict):
        deployed.documents.upload(POLICE, request["instance_id"], "late.pdf", PDF, task_id=request["id"])
    with pytest.raises(NotFound):
        deployed.documents.upload(MANAGER, request["instance_id"] + 100, "late.pdf", PDF)
    notified = form(
        "incident_notification", agencies=AGENCIES, date_aware="2026-12-18", notification_date=None
    )
    other = deployed.instances.start("incident_notification", notified, STAFF)
    with pytest.raises(NotFound):
        deployed.documents.upload(MANAGER, other["id"], "late.pdf", PDF, task_id=request["id"])


def test_a_document_over_the_size_limit_is_refused(tmp_path):
    service = Reviewflow(
        make_settings(f"sqlite:///{tmp_path / 'reviewflow.db'}", REVIEWFLOW_MAX_DOCUMENT_BYTES="4096")
    )
    try:
        service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
        request = police_request(service)
        case_id = request["instance_id"]
        assert service.documents.upload(MANAGER, case_id, "small.pdf", PDF.ljust(4096, b" "))["size"] == 4096
        with pytest.raises(TooLarge) as refused:
            service.documents.upload(MANAGER, case_id, "big.pdf", PDF.ljust(4097, b" "))
        assert refused.value.message == "‘big.pdf’ is larger than the limit of 4 KB"
        assert [d["name"] for d in service.documents.for_case(case_id, MANAGER)] == ["small.pdf"]
    finally:
        service.db.dispose()


def test_an_agency_in_a_role_every_agency_shares_never_sees_another_agencys_documents(deployed):
    """Every agency answering as ``Contributing agency`` holds the same role: once one has answered, its
    step's documents are for it (and managers and the case's staff), not for the next agency."""
    from tests.integration.test_demo_process import INCIDENT

    amir, bea = (Actor(name, frozenset({"Contributing agency"})) for name in ("amir", "bea"))
    case = deployed.instances.start("engine_demo", {"regime": "WT2018"}, STAFF)
    [record] = deployed.tasks.for_user(STAFF)
    deployed.instances.complete_task(record["id"], INCIDENT, STAFF)
    [request] = deployed.tasks.for_user(amir)
    kept = deployed.documents.upload(amir, None, "health return.pdf", PDF, task_id=request["id"])
    returned = {"agency": "Health", "chronology": [{"date": "2026-11-02", "event": "Seen by health visitor"}]}
    deployed.instances.complete_task(request["id"], returned, amir)
    assert deployed.documents.download(kept["id"], amir)[1] == PDF
    assert [d["name"] for d in deployed.documents.for_task(request["id"], amir)["step"]] == [
        "health return.pdf"
    ]
    for refused in (
        lambda: deployed.documents.download(kept["id"], bea),
        lambda: deployed.documents.for_task(request["id"], bea),
    ):
        with pytest.raises(Forbidden):
            refused()
    assert deployed.documents.for_case(case["id"], MANAGER)[0]["uploaded_by"] == "amir"
