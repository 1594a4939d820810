"""What a step's form starts with, so that nothing already written is asked for again or lost:

- a step done before in this case and come round again (a report sent back) starts from the answers sent
  last time, by the same role: the reviewer rewrites the report, never types it again. Its dates are left
  out (each is the date of an act done again, so it is asked afresh), and a decision that asks to be
  checked before it is sent (``x-check-answers``) is made afresh;
- otherwise a form field may declare where its answer was first given (``x-prefill``): a case field of the
  same shape (``"x-prefill": "children"``), or a list of texts made into rows
  (``"x-prefill": {"from": "recommendations", "as": "objective"}``: one action per recommendation), or the
  name of the agency a case field names (``"x-prefill": {"agency": "agency"}``: an agency's return starts
  with its own name, from the request it answers, never typed); a whole
  form may start from one record (``"x-prefill": ["first_action_item", "next_action_item"]`` at its top,
  the first found: the action plan item a progress review updates, never typed again);
- the agencies a case names are preselected where a form asks which to ask (engine/services/agencies.py).

A step that records something new each time it comes round (``"x-new-each-time": true``: one
practitioner's interview, one contact with the family) never starts from the last one's answers, and a form
that starts from a record (an action plan item) starts from that record, never from another item's answers.
A draft the person saved wins over all of these (the task page shows it instead)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.services.actor import REQUEST_ONLY_ROLES
from engine.statuses import TaskStatus
from engine.store.models import AuditEvent, HumanTask


def earlier_answers(session: Session, ht: HumanTask) -> dict | None:
    """The answers last sent at this step of this case by its role, if the step was done before; never
    another agency's (a role every agency shares is never carried over)."""
    if ht.role in REQUEST_ONLY_ROLES:
        return None
    stmt = (
        select(AuditEvent.detail)
        .join(HumanTask, HumanTask.id == AuditEvent.task_id)
        .where(
            HumanTask.instance_id == ht.instance_id,
            HumanTask.element_id == ht.element_id,
            HumanTask.role == ht.role,
            HumanTask.state == TaskStatus.COMPLETED,
            HumanTask.id != ht.id,
            AuditEvent.kind == "task_completed",
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    detail = session.scalars(stmt).first()
    after = (detail or {}).get("after")
    return dict(after) if isinstance(after, Mapping) and after else None


def carries_over(schema: Mapping | None) -> bool:
    """Whether a step done before starts from the answers sent last time: not a decision (made afresh), not
    a new record each time, not a form that starts from a record of its own."""
    schema = schema or {}
    return not (
        schema.get("x-check-answers")
        or schema.get("x-new-each-time")
        or isinstance(schema.get("x-prefill"), list)
    )


def carried_over(schema: Mapping | None, earlier: Mapping) -> dict:
    """``earlier`` answers as a step come round again starts from them: without their dates; nothing for a
    decision (a form that asks for its answers to be checked)."""
    if (schema or {}).get("x-check-answers"):
        return {}
    return _without_dates(schema or {}, earlier)


def _without_dates(schema: Mapping, value):
    if schema.get("format") == "date":
        return None
    if isinstance(value, Mapping):
        properties = schema.get("properties") or {}
        kept = {k: _without_dates(properties.get(k) or {}, v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v is not None}
    if isinstance(value, list):
        items = schema.get("items") or {}
        return [v for v in (_without_dates(items, v) for v in value) if v is not None]
    return value


def declared(schema: Mapping | None, data: Mapping, agency_name=None) -> dict:
    """The answers the form's ``x-prefill`` fields take from the case data ``data``; ``agency_name`` gives
    an agency's name from its directory key."""
    records = (schema or {}).get("x-prefill") or []
    whole = next((data[name] for name in records if isinstance(data.get(name), Mapping)), {})
    out = dict(whole)
    for name, node in ((schema or {}).get("properties") or {}).items():
        source = node.get("x-prefill") if isinstance(node, Mapping) else None
        if isinstance(source, str) and data.get(source) not in (None, "", [], {}):
            out[name] = data[source]
        elif isinstance(source, Mapping) and "agency" in source:
            key = data.get(source["agency"])
            if isinstance(key, str) and key:
                out[name] = agency_name(key) if agency_name else key
        elif isinstance(source, Mapping):
            texts = data.get(source.get("from"))
            if isinstance(texts, list) and texts:
                out[name] = [{source["as"]: str(text)} for text in texts if str(text).strip()]
    return out


def has_declarations(schema: Mapping | None) -> bool:
    return "x-prefill" in (schema or {}) or any(
        isinstance(node, Mapping) and "x-prefill" in node
        for node in ((schema or {}).get("properties") or {}).values()
    )
