"""Answers from outside that a case waits for (the Panel's answer, its scrutiny, new information): what each
case waits for, from whom and since when; who may record an answer; and its data judged by the form its
catching step declares (engine/bpmn/awaited.py). Recording one is :meth:`Instances.deliver_message`, the one
command that moves a case on an outside answer, from the pages and the API alike."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from engine import xmlsafe
from engine.bpmn.awaited import Awaited, declarations
from engine.services import access, forms, immutable
from engine.services import workflow as wfsvc
from engine.services.actor import Actor
from engine.services.core import Core
from engine.services.errors import Forbidden, Invalid, NotFound
from engine.statuses import OPEN_CASE
from engine.store.models import Instance, MessageWait, ProcessVersion

DATE_FIELD = "received_date"  # the day the answer arrived; today when the sender leaves it out


def declared(session, version_id: int) -> dict[str, Awaited]:
    """Message name -> what the process version's diagram declares about it (versions never change)."""

    def read() -> dict[str, Awaited]:
        row = session.execute(
            select(ProcessVersion.bpmn, ProcessVersion.file).where(ProcessVersion.id == version_id)
        ).one()
        return declarations(xmlsafe.parse(row.bpmn, row.file))

    key = (session.get_bind().url.render_as_string(hide_password=True), version_id)
    return immutable.cached(immutable.Key(("awaited", *key), read))


def may_record(actor: Actor, awaited: Awaited | None) -> bool:
    """The role the step names records the answer; a manager may too. An answer a version deployed before
    these declarations awaits is recorded by anyone who may see the case, as it always was."""
    if awaited is None or not awaited.recorded_by:
        return True
    return actor.is_manager or actor.has(awaited.recorded_by)


def judge(awaited: Awaited | None, schema: dict | None, data: dict, actor: Actor, context) -> dict:
    """The answer as it will be delivered, or Forbidden (a role that may not record it) or Invalid (every
    problem with its data at once, each naming its field). The day it arrived defaults to today."""
    if not may_record(actor, awaited):
        raise Forbidden(f"only the role '{awaited.recorded_by}' (or a manager) records '{awaited.message}'")
    if awaited is None or schema is None:
        return data
    if DATE_FIELD in schema.get("properties", {}) and data.get(DATE_FIELD) in (None, ""):
        data = {**data, DATE_FIELD: context.today.isoformat()}
    with forms.in_case(context):
        problems = forms.validate(schema, data)
    if problems:
        fields = ", ".join(sorted({p["path"] for p in problems}))
        raise Invalid(f"the answer cannot be recorded: check {fields}", problems)
    return data


class OutsideAnswers:
    def __init__(self, core: Core):
        self.core = core

    def records_any(self, actor: Actor) -> bool:
        """Whether ``actor`` records some answer a deployed process waits for (for the menu)."""
        if actor.is_manager:
            return True
        with self.core.db.reading() as session:
            latest = session.scalars(
                select(func.max(ProcessVersion.id)).group_by(ProcessVersion.process_id)
            ).all()
            return any(
                a.recorded_by and actor.has(a.recorded_by)
                for version_id in latest
                for a in declared(session, version_id).values()
            )

    def waiting_for(self, instance_id: int, actor: Actor) -> list[dict]:
        """What the case waits for from outside: the step, the message, who records it, since when (the
        time of the command that reached the step that waits: ``message_wait.since``) and whether
        ``actor`` may record it."""
        with self.core.db.reading() as session:
            inst = session.get(Instance, instance_id)
            if inst is None:
                raise NotFound(f"no instance {instance_id}")
            access.check(session, actor, inst.id)
            return self._waiting(session, inst, actor)

    def awaited_by(self, actor: Actor) -> list[dict]:
        """Every open case ``actor`` may see that waits for an answer ``actor`` may record, oldest first."""
        with self.core.db.reading() as session:
            stmt = (
                select(Instance)
                .where(Instance.id.in_(select(MessageWait.instance_id)), Instance.status.in_(OPEN_CASE))
                .order_by(Instance.id)
                .limit(500)
            )
            cases = list(session.scalars(access.only_visible(stmt, Instance.id, actor)))
            since: dict[int, dict] = {}
            waits = select(MessageWait.instance_id, MessageWait.name, MessageWait.since).where(
                MessageWait.instance_id.in_([c.id for c in cases])
            )
            for instance_id, name, began in session.execute(waits):
                since.setdefault(instance_id, {})[name] = began
            out = []
            for inst in cases:
                for row in self._waiting(session, inst, actor, since.get(inst.id, {})):
                    if row["may_record"]:
                        out.append({**row, "business_key": inst.business_key, "process_id": inst.process_id})
            return sorted(out, key=lambda r: (r["since"] or "", r["instance_id"]))

    def form(self, instance_id: int, message: str, actor: Actor) -> dict:
        """What the page recording ``message`` on the case needs: the step, its form and its guidance.
        NotFound when the case does not wait for it; Forbidden for a role that may not record it."""
        with self.core.db.reading() as session:
            inst = session.get(Instance, instance_id)
            if inst is None:
                raise NotFound(f"no instance {instance_id}")
            access.check(session, actor, inst.id)
            awaited = declared(session, inst.process_version_id).get(message)
            if awaited is not None and not may_record(actor, awaited):
                raise Forbidden(f"only the role '{awaited.recorded_by}' (or a manager) records this answer")
            row = next((r for r in self._waiting(session, inst, actor) if r["message"] == message), None)
            if row is None or not row["form"]:
                raise NotFound(f"case {inst.business_key} is not waiting for '{message}'")
            version = wfsvc.version_info(session, inst.process_version_id)
            return {
                **row,
                "business_key": inst.business_key,
                "process_id": inst.process_id,
                "schema": version.forms.get(row["form"]) if row["form"] else None,
                "ui": version.forms.get(row["ui_form"]) if row["ui_form"] else None,
            }

    def _waiting(self, session, inst: Instance, actor: Actor, since: dict | None = None) -> list[dict]:
        """What ``inst`` waits for from outside, from its rows (``message_wait``: since when) and its
        version's declarations; the case's workflow is never opened. ``since``: the rows, read already."""
        if not inst.waiting_messages or inst.status not in OPEN_CASE:
            return []
        decls = declared(session, inst.process_version_id)
        if since is None:
            since = dict(
                session.execute(
                    select(MessageWait.name, MessageWait.since).where(MessageWait.instance_id == inst.id)
                ).all()
            )
        rows = []
        for name in inst.waiting_messages:
            awaited = decls.get(name)
            rows.append(
                {
                    "instance_id": inst.id,
                    "message": name,
                    "step": (awaited.title if awaited else None) or name,
                    "documentation": awaited.documentation if awaited else "",
                    "sender": awaited.sender if awaited else None,
                    "recorded_by": awaited.recorded_by if awaited else None,
                    "form": awaited.form if awaited else None,
                    "ui_form": awaited.ui_form if awaited else None,
                    "since": _iso(since.get(name)),
                    "may_record": bool(awaited and awaited.form) and may_record(actor, awaited),
                }
            )
        return rows


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
