"""Documents attached to a case or to one of its steps: the report as PDF or Word, an agency's chronology
as a spreadsheet, minutes. Kept in the database with the case (a backup of one is a backup of the other),
their type read from their content (engine/filetypes.py), and seen under the same rule as the case's data:
whoever may see the case (engine/services/access.py) sees all its documents; an agency sees only those on
its own request's step. Every upload, refusal and download is audited with the file's name, size and
SHA-256, never its content."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock, filetypes
from engine.services import access, audit
from engine.services.actor import Actor
from engine.services.core import Core
from engine.services.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge
from engine.statuses import TaskStatus
from engine.store.models import Document, HumanTask, Instance

#: what a list reads: everything but the content
METADATA = (
    Document.id,
    Document.instance_id,
    Document.task_id,
    Document.element_id,
    Document.name,
    Document.content_type,
    Document.size,
    Document.sha256,
    Document.uploaded_by,
    Document.uploaded_at,
)
NAME_LIMIT = 200


def display_name(given: str) -> str:
    """The name as given, without any folder (``C:\\Users\\me\\report.pdf``: ``report.pdf``), control or
    formatting characters, or runs of spaces; at most 200 characters, its extension kept."""
    name = re.split(r"[\\/]", given or "")[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = " ".join(name.split()).strip(" .")
    if len(name) > NAME_LIMIT:
        ext = filetypes.extension(name)[:16]
        name = name[: NAME_LIMIT - len(ext)].rstrip() + ext
    return name


def size_text(size: int) -> str:
    """A size as people read it: 820 bytes, 14 KB, 2.5 MB."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")


def document_dict(row, step_name: str | None = None) -> dict:
    return {
        "id": row.id,
        "instance_id": row.instance_id,
        "task_id": row.task_id,
        "element_id": row.element_id,
        "step": step_name,
        "name": row.name,
        "content_type": row.content_type,
        "type": _label(row.content_type),
        "size": row.size,
        "size_text": size_text(row.size),
        "sha256": row.sha256,
        "uploaded_by": row.uploaded_by,
        "uploaded_at": row.uploaded_at.isoformat(),
    }


def _label(content_type: str) -> str:
    return next((t.label for t in filetypes.ALLOWED if t.mime == content_type), content_type)


def named(name: str, content: bytes, max_bytes: int) -> str:
    """The name a file is kept under, once it has one and is within the size limit."""
    shown = display_name(name)
    if not shown:
        raise Invalid("Choose a file with a name")
    if len(content) > max_bytes:
        raise TooLarge(f"‘{shown}’ is larger than the limit of {size_text(max_bytes)}")
    return shown


def keep(
    session: Session,
    actor: Actor,
    instance_id: int,
    shown: str,
    kind: filetypes.FileType,
    content: bytes,
    task: HumanTask | None = None,
    element_id: str | None = None,
) -> Document:
    """Keep a checked file on the case (on ``task``'s step, or on the step ``element_id`` names), audited, in
    the caller's transaction."""
    doc = Document(
        instance_id=instance_id,
        task_id=task.id if task else None,
        element_id=task.element_id if task else element_id,
        name=shown,
        content_type=kind.mime,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        uploaded_by=actor.username,
        uploaded_at=clock.now(),
    )
    session.add(doc)
    session.flush()
    Documents._audit(session, "document_uploaded", actor, doc)
    return doc


class Documents:
    def __init__(self, core: Core):
        self.core = core

    @property
    def max_bytes(self) -> int:
        return self.core.settings.max_document_bytes

    def upload(
        self, actor: Actor, instance_id: int | None, name: str, content: bytes, task_id: str | None = None
    ) -> dict:
        """Keep a file on a case (``task_id`` None: whoever may see the case) or on one open step (whoever
        holds its role, or a manager; ``instance_id`` None: the step's case). Refused: too large (413),
        empty, unnamed, or of a type not allowed or not matching its name (422, the message names the file
        and what it really is)."""
        shown = named(name, content, self.max_bytes)
        digest = hashlib.sha256(content).hexdigest()
        with self.core.db.transaction() as session:
            task = self._target(session, actor, instance_id, task_id)
            instance_id = task.instance_id if task else instance_id
            try:
                kind = filetypes.check(shown, content)
            except filetypes.RefusedType as exc:
                refusal = str(exc)
            else:
                doc = keep(session, actor, instance_id, shown, kind, content, task=task)
                return document_dict(doc, task.name if task else None)
            audit.record(  # a disguised file is worth knowing about: kept in the log, never in the case
                session,
                "document_refused",
                actor.username,
                instance_id=instance_id,
                task_id=task.id if task else None,
                element_id=task.element_id if task else None,
                detail={"name": shown, "size": len(content), "sha256": digest, "reason": refusal},
            )
        raise Invalid(refusal, [{"path": "file", "message": refusal}])

    def inspect(self, name: str, content: bytes, field: str = "file") -> tuple[str, filetypes.FileType]:
        """A file about to be kept with another command (an answer from outside): its name as shown and its
        type, or Invalid/TooLarge naming ``field``, before anything is changed."""
        try:
            shown = named(name, content, self.max_bytes)
            return shown, filetypes.check(shown, content)
        except (Invalid, TooLarge, filetypes.RefusedType) as exc:
            message = getattr(exc, "message", None) or str(exc)
            raise Invalid(message, [{"path": field, "kind": "file", "message": message}]) from None

    def _target(self, session: Session, actor: Actor, instance_id: int | None, task_id: str | None):
        """The step a file goes on (None: the case), once the actor is known to be allowed to add it."""
        if task_id is None:
            if instance_id is None or session.get(Instance, instance_id) is None:
                raise NotFound(f"no case {instance_id}")
            access.check(session, actor, instance_id)
            return None
        task = session.get(HumanTask, task_id)
        if task is None or instance_id not in (None, task.instance_id):
            raise NotFound(f"no task '{task_id}' in case {instance_id}")
        if not access.may_see_step(actor, task):
            raise Forbidden(f"this task belongs to the role '{task.role}'")
        if task.state != TaskStatus.OPEN:
            raise Conflict("this task is no longer open: a document can be added only to an open task")
        return task

    def for_case(self, instance_id: int, actor: Actor) -> list[dict]:
        """Every document of a case, on the case and on its steps, oldest first (whoever may see the case)."""
        with self.core.db.reading() as session:
            if session.get(Instance, instance_id) is None:
                raise NotFound(f"no case {instance_id}")
            access.check(session, actor, instance_id)
            return self._list(session, Document.instance_id == instance_id)

    def for_task(self, task_id: str, actor: Actor) -> dict:
        """The documents on one step (``step``), for whoever holds its role or may see its case; and the
        case's other documents (``case``) only for whoever may see the case (an agency: None)."""
        with self.core.db.reading() as session:
            task = session.get(HumanTask, task_id)
            if task is None:
                raise NotFound(f"no task '{task_id}'")
            whole_case = access.may_see(session, actor, task.instance_id)
            if not (whole_case or access.may_see_step(actor, task)):
                raise Forbidden(f"this task belongs to the role '{task.role}'")
            step = self._list(session, Document.task_id == task_id)
            others = None
            if whole_case:
                others = self._list(
                    session,
                    Document.instance_id == task.instance_id,
                    (Document.task_id.is_(None)) | (Document.task_id != task_id),
                )
            return {"step": step, "case": others, "may_upload": task.state == TaskStatus.OPEN}

    def _list(self, session: Session, *where) -> list[dict]:
        stmt = (
            select(*METADATA, HumanTask.name.label("step"))
            .outerjoin(HumanTask, HumanTask.id == Document.task_id)
            .where(*where)
            .order_by(Document.id)
        )
        return [document_dict(row, row.step) for row in session.execute(stmt)]

    def download(self, document_id: int, actor: Actor) -> tuple[dict, bytes]:
        """A document's metadata and content, for whoever may see it; the download is audited."""
        with self.core.db.transaction() as session:
            row = session.execute(select(*METADATA).where(Document.id == document_id)).first()
            if row is None:
                raise NotFound(f"no document {document_id}")
            if not access.may_see(session, actor, row.instance_id):
                task = session.get(HumanTask, row.task_id) if row.task_id else None
                if task is None or not access.may_see_step(actor, task):
                    raise Forbidden("you may not see this document")
            content = session.scalar(select(Document.content).where(Document.id == document_id))
            self._audit(session, "document_downloaded", actor, row)
            return document_dict(row), content

    @staticmethod
    def _audit(session: Session, kind: str, actor: Actor, doc) -> None:
        audit.record(
            session,
            kind,
            actor.username,
            instance_id=doc.instance_id,
            task_id=doc.task_id,
            element_id=doc.element_id,
            detail={
                "document_id": doc.id,
                "name": doc.name,
                "type": doc.content_type,
                "size": doc.size,
                "sha256": doc.sha256,
            },
        )
