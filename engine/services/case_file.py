"""What a person deciding a step reads beside its form, and the answers of a completed step: each value
labelled with the title of the form field that captured it, dates as long dates, who submitted it and when.

A step's case file is declared in its diagram (``caseFile``, engine/bpmn/case_file.py): earlier steps, whose
submitted answers come from the audit log's ``task_completed`` rows, and case-data keys, whose values come
from the case data. A step of an agency's request shows none of it (least privilege: 001 §2). The page
only renders what this module returns."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import agencies as directory
from engine.bpmn import case_file as declaration
from engine.services.actor import REQUEST_ONLY_PREFIX, REQUEST_ONLY_ROLES
from engine.statuses import TaskStatus
from engine.store.models import AuditEvent, HumanTask, Instance, ProcessVersion, User

MAX_ITEMS = 200  # rows of one list shown; a longer list says how many more there are


def is_request_only(role: str) -> bool:
    return role in REQUEST_ONLY_ROLES or role.startswith(REQUEST_ONLY_PREFIX)


# --- labelling values ------------------------------------------------------------------------------


def _long_date(text: str) -> str:
    try:
        day = dt.date.fromisoformat(str(text)[:10])
    except ValueError:
        return str(text)
    return f"{day.day} {day:%B %Y}"


def _scalar(schema: dict, value) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    enum, titles = schema.get("enum"), schema.get("x-enum-titles")
    if enum and titles and value in enum and len(titles) == len(enum):
        return str(titles[enum.index(value)])
    if schema.get("format") == "date" and isinstance(value, str):
        return _long_date(value)
    if schema.get("format") == "date-time" and isinstance(value, str):
        try:
            when = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        return f"{when.day} {when:%B %Y %H:%M}"
    return str(value)


def _empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _value(schema: dict, ui: dict, value) -> dict:
    """One value as the page shows it: ``text``, ``items`` (a list), ``rows`` (an object: a nested
    summary list) or ``groups`` (a list of objects: one nested summary list each)."""
    if isinstance(value, dict):
        return {"rows": labelled(schema, ui, value)}
    if isinstance(value, list):
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        item_ui = ui.get("items") if isinstance(ui.get("items"), dict) else {}
        shown, more = value[:MAX_ITEMS], max(len(value) - MAX_ITEMS, 0)
        if any(isinstance(v, dict) for v in shown):
            return {
                "groups": [labelled(items, item_ui, v) for v in shown if isinstance(v, dict)],
                "more": more,
            }
        return {"items": [_scalar(items, v) for v in shown if not _empty(v)], "more": more}
    return {"text": _scalar(schema, value)}


def labelled(schema: dict, ui: dict | None, data: dict) -> list[dict]:
    """The answers in ``data`` a form ``schema`` describes, in the form's order, each with its field's
    title; fields the form does not describe are left out (never shown by their raw key)."""
    props = (schema or {}).get("properties") or {}
    ui = ui or {}
    order = [n for n in ui.get("ui:order") or [] if n in props] + [
        n for n in props if n not in (ui.get("ui:order") or [])
    ]
    rows = []
    for key in order:
        if key not in data or _empty(data[key]):
            continue
        sub = props[key] if isinstance(props[key], dict) else {}
        sub_ui = ui.get(key) if isinstance(ui.get(key), dict) else {}
        rows.append(
            {
                "key": str(sub.get("title") or key.replace("_", " ").capitalize()),
                **_value(sub, sub_ui, data[key]),
            }
        )
    return rows


def _titled(schema: dict, agencies: directory.Directory | None) -> dict:
    return directory.titled(schema, agencies) if agencies is not None else schema


# --- who and when --------------------------------------------------------------------------------


def _names(session: Session, usernames) -> dict[str, str]:
    wanted = sorted({u for u in usernames if u})
    if not wanted:
        return {}
    return dict(
        session.execute(select(User.username, User.display_name).where(User.username.in_(wanted))).all()
    )


def _who(names: dict[str, str], username: str | None) -> str | None:
    if not username:
        return None
    name = names.get(username)
    return f"{name} ({username})" if name and name != username else username


# --- a completed step's answers --------------------------------------------------------------------


def answers(
    session: Session, ht: HumanTask, version: ProcessVersion, agencies: directory.Directory | None = None
) -> dict:
    """What was submitted at a completed step, labelled by its form, with who submitted it and when;
    agencies chosen from the directory (``agencies``) by their names."""
    row = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.task_id == ht.id, AuditEvent.kind == "task_completed")
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    if row is None or ht.state != TaskStatus.COMPLETED:
        return {"rows": [], "by": _who(_names(session, [ht.completed_by]), ht.completed_by), "at": None}
    schema = version.forms.get(ht.form) if ht.form else None
    ui = version.forms.get(ht.ui_form) if ht.ui_form else None
    data = (row.detail or {}).get("after") or {}
    return {
        "rows": labelled(_titled(schema or {}, agencies), ui, data if isinstance(data, dict) else {}),
        "by": _who(_names(session, [row.actor]), row.actor),
        "at": row.at.isoformat(),
    }


# --- the case file beside an open step ------------------------------------------------------------


def for_task(
    session: Session,
    inst: Instance,
    version: ProcessVersion,
    ht: HumanTask,
    data: dict,
    agencies: directory.Directory | None = None,
) -> list[dict]:
    """The sections the step ``ht`` declares, in order: each earlier step's latest answers (every agency's
    when the step went to several at once), and the case-data values, grouped by the submission that
    recorded them; agencies chosen from the directory (``agencies``) by their names. Nothing for a step of
    an agency's request, or a step that declares no case file."""
    if is_request_only(ht.role):
        return []
    specs = _task_specs(session, inst)
    spec = next((s for s in specs if getattr(s, "bpmn_id", None) == ht.element_id), None)
    listed = declaration.declared(spec) if spec is not None else []
    if not listed:
        return []
    steps = set(
        session.scalars(select(HumanTask.element_id).where(HumanTask.instance_id == inst.id).distinct())
    )
    completions = _completions(session, inst.id, [e for e in listed if e in steps])
    sources = _sources(session, inst)
    names = _names(
        session, [c["actor"] for cs in completions.values() for c in cs] + [s[1] for s in sources.values()]
    )
    results = {
        getattr(s, "result_variable", None): declaration.HANDLER_RESULTS[s.operation_name]
        for s in specs
        if getattr(s, "operation_name", None) in declaration.HANDLER_RESULTS
    }
    sections: list[dict] = []
    for entry in listed:
        if entry in steps:
            for c in completions.get(entry, []):
                sections.append(
                    {
                        "title": c["name"] + (f": {c['role']}" if c["several"] else ""),
                        "step": entry,
                        "by": _who(names, c["actor"]),
                        "at": c["at"],
                        "rows": labelled(
                            _titled(version.forms.get(c["form"]) or {}, agencies),
                            version.forms.get(c["ui_form"]),
                            c["data"],
                        ),
                    }
                )
            continue
        if _empty(data.get(entry)):
            continue
        if entry in results and isinstance(data[entry], dict):  # a handler's result: a section of its own
            result = results[entry]
            rows = labelled(result, {}, data[entry])
            sections.append({"title": result["title"], "step": None, "by": None, "at": None, "rows": rows})
            continue
        step, who, at, form = sources.get(entry, (None, None, None, None))
        schema = _field_schema(entry, form, version)
        if schema is None:
            continue
        schema = _titled(schema, agencies)
        row = {"key": str(schema.get("title") or entry), **_value(schema, {}, data[entry])}
        source = (step or "Other case details", who, at)
        same = next((x for x in sections if x.get("source") == source), None)  # one section per submission
        if same is not None:
            same["rows"].append(row)
        else:
            sections.append(
                {
                    "title": source[0],
                    "step": None,
                    "by": _who(names, who),
                    "at": at,
                    "rows": [row],
                    "source": source,
                }
            )
    for section in sections:
        section.pop("source", None)
    return [s for s in sections if s["rows"]]


def step_names(session: Session, inst: Instance) -> dict[str, str]:
    """element id -> the step's name as its diagram gives it, for the case's process and those it calls."""
    return {
        s.bpmn_id: s.bpmn_name
        for s in _task_specs(session, inst)
        if getattr(s, "bpmn_id", None) and getattr(s, "bpmn_name", None)
    }


def _task_specs(session: Session, inst: Instance) -> list:
    """Every task spec of the case's process and the processes it calls (versions never change: cached)."""
    from engine.services import workflow as wfsvc

    info = wfsvc.version_info(session, inst.process_version_id)
    specs = list(info.spec.task_specs.values())
    for sub in (info.subprocess_specs or {}).values():
        specs += list(sub.task_specs.values())
    return specs


def _field_schema(key: str, form: str | None, version: ProcessVersion) -> dict | None:
    """The field ``key`` as the form that captured it describes it, else as the first of the version's
    forms that has it (the deploy lint made sure one does)."""
    forms = version.forms or {}
    order = [form] if form else []
    order += sorted(n for n in forms if not n.endswith(".ui.json"))
    name = declaration.label_form(key, order, forms)
    return forms[name]["properties"][key] if name else None


def _completions(session: Session, instance_id: int, elements: list[str]) -> dict[str, list[dict]]:
    """element id -> the answers of its latest round: the tasks of that step created together last (one
    per agency for a request sent to several), each with its latest ``task_completed`` audit row."""
    if not elements:
        return {}
    rows = session.execute(
        select(HumanTask, AuditEvent)
        .join(AuditEvent, (AuditEvent.task_id == HumanTask.id) & (AuditEvent.kind == "task_completed"))
        .where(
            HumanTask.instance_id == instance_id,
            HumanTask.element_id.in_(elements),
            HumanTask.state == TaskStatus.COMPLETED,
        )
        .order_by(HumanTask.created_at, AuditEvent.id)
    ).all()
    latest: dict[str, dt.datetime] = {}
    for ht, _ in rows:
        latest[ht.element_id] = max(latest.get(ht.element_id, ht.created_at), ht.created_at)
    by_task: dict[str, dict] = {}
    for ht, event in rows:
        if ht.created_at != latest[ht.element_id]:
            continue
        after = (event.detail or {}).get("after")
        by_task[ht.id] = {
            "element": ht.element_id,
            "name": ht.name,
            "role": ht.role,
            "form": ht.form,
            "ui_form": ht.ui_form,
            "actor": event.actor,
            "at": event.at.isoformat(),
            "data": after if isinstance(after, dict) else {},
        }
    out: dict[str, list[dict]] = {}
    for c in by_task.values():
        out.setdefault(c["element"], []).append(c)
    for cs in out.values():
        for c in cs:
            c["several"] = len(cs) > 1
    return out


def _sources(session: Session, inst: Instance) -> dict[str, tuple]:
    """key -> (step name, who, when, form) of the latest submission that recorded it, in this case or the
    cases it was handed over from; the notification's data counts as submitted with its start form."""
    chain, seen = [], set()
    current = inst
    while current is not None and current.id not in seen and len(chain) < 10:
        seen.add(current.id)
        chain.append(current)
        current = session.get(Instance, current.parent_instance_id) if current.parent_instance_id else None
    events = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.instance_id.in_([i.id for i in chain]),
            AuditEvent.kind.in_(("task_completed", "started")),
        )
        .order_by(AuditEvent.id)
    ).all()
    forms = dict(
        session.execute(
            select(HumanTask.id, HumanTask.form).where(
                HumanTask.id.in_([e.task_id for e in events if e.task_id])
            )
        ).all()
    )
    root = chain[-1]
    start = _start_form(session, root)
    out: dict[str, tuple] = {}
    for e in sorted(events, key=lambda e: (e.at, e.id)):  # the newest submission of a key wins
        detail = e.detail or {}
        if e.kind == "task_completed" and isinstance(detail.get("after"), dict):
            for key in detail["after"]:
                out[key] = (detail.get("task"), e.actor, e.at.isoformat(), forms.get(e.task_id))
        elif e.kind == "started" and e.instance_id == root.id and isinstance(detail.get("data"), dict):
            for key in detail["data"]:
                out.setdefault(key, (start[0], e.actor, e.at.isoformat(), start[1]))
    return out


def _start_form(session: Session, root: Instance) -> tuple[str, str | None]:
    """The title and name of the form the case was started with (the notification)."""
    from engine.services import workflow as wfsvc

    name = wfsvc.version_info(session, root.process_version_id).start_form
    version = session.get(ProcessVersion, root.process_version_id)
    title = ((version.forms or {}).get(name) or {}).get("title") if name else None
    return str(title or "How the case started"), name
