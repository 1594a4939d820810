"""The databases of the managers' pages' benchmarks: 100 finished cases and ``--large`` finished cases
(100,000 by default), both with the same open cases of the day.

They are built fast: one real rapid review is taken to its end through the engine (its notification
and its rapid review: two instances, their tasks, deadlines and audit rows), and its rows are copied, shifted
in time across 2026, once per synthetic case with SQLAlchemy Core; two cases in five missed their agencies'
deadline. Then today's open cases are made through the engine (tests/casework.py). A built database is kept
under var/bench/ and used again while the schema and this builder are unchanged."""

from __future__ import annotations

import datetime as dt
import functools
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import insert, select

from engine import clock
from engine.services import Reviewflow
from engine.store import models
from engine.store.models import AuditEvent, Deadline, HumanTask, Instance, ProcessVersion, RuleSetVersion
from tests.bench.common import ROOT, schema_hash, service, sqlite_url

TODAY = "2026-12-21T09:00:00+00:00"  # the day the pages are read (a Monday)
HISTORY_FROM, HISTORY_DAYS = dt.date(2026, 1, 5), 320  # finished cases started from 5 January to mid-November
OPEN_CASES = 20  # the open cases of the day, in both databases
BATCH = 2000  # cases inserted per statement batch


def _service(path: Path) -> Reviewflow:
    return service(sqlite_url(path))


# --- one real finished case, as rows ------------------------------------------------------------------


def _rows(session, table, where) -> list[dict]:
    return [
        dict(r._mapping) for r in session.execute(select(table).where(where).order_by(*table.primary_key))
    ]


@functools.cache
def finished_case() -> dict:
    """A rapid review notified on 21 December 2026 and finished in January 2027 (no review needed, the Panel
    told), made through the engine in a scratch database; its rows, and what its ids refer to."""
    from tests.scenarios.driver import form
    from tests.scenarios.test_wt2018_local_review import rapid_review_done

    with tempfile.TemporaryDirectory() as scratch:
        clock.set_now(TODAY)
        service = _service(Path(scratch) / "template.db")
        service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], _owner())
        p = rapid_review_done(service, prg="no_lcspr", executive="no_lcspr")
        p.do("tell_family_decision", form("family_contact"))
        p.answer("rapid_review", "panel_response", outcome="no_national_review")
        # with no local review the immediate learning is tracked until done (003 §4.3, §7.10)
        item = form("action_plan")["action_plan_items"][0]
        p.do("agree_action_plan", form("action_plan", report_agreed_date="2027-01-12"))
        p.do(
            "first_progress_review",
            {
                **item,
                "status": "implemented",
                "completed_date": "2027-01-12",
                "progress": [{"date": "2027-01-12", "update": "Done.", "evidence": "Audit."}],
            },
        )
        with service.db.reading() as s:
            instances = _rows(s, Instance.__table__, Instance.id > 0)
            assert [i["status"] for i in instances] == ["completed", "completed", "completed"], instances
            ids = [i["id"] for i in instances]
            case = {
                "instances": instances,
                "tasks": _rows(s, HumanTask.__table__, HumanTask.instance_id.in_(ids)),
                "deadlines": _rows(s, Deadline.__table__, Deadline.instance_id.in_(ids)),
                "audit": _rows(s, AuditEvent.__table__, AuditEvent.instance_id.in_(ids)),
                "versions": {
                    v.id: (v.process_id, v.version)
                    for v in s.execute(
                        select(ProcessVersion.id, ProcessVersion.process_id, ProcessVersion.version)
                    )
                },
                "rulesets": {r.id: r.name for r in s.execute(select(RuleSetVersion.id, RuleSetVersion.name))},
            }
        service.db.dispose()
    for row in case["audit"]:  # form data stays in the real case; the copies keep its shape
        if len(repr(row["detail"])) > 200:
            row["detail"] = {"copied": True}
    return case


def _owner():
    from tests.conftest import PROCESS_OWNER

    return PROCESS_OWNER


# --- the databases -----------------------------------------------------------------------------------


def build_reports_database(size: int, out: Path) -> Path:
    path, marker = out / f"reports_{size}.db", out / f"reports_{size}.ok"
    wanted = schema_hash(Path(__file__), ROOT / "tests" / "casework.py")
    if path.exists() and marker.exists() and marker.read_text() == wanted:
        return path
    for p in out.glob(f"reports_{size}.db*"):
        p.unlink()
    marker.unlink(missing_ok=True)
    case = finished_case()
    started = time.perf_counter()
    clock.set_now(TODAY)
    service = _service(path)
    service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], _owner())
    with service.db.reading() as s:
        versions = {
            (v.process_id, v.version): v.id
            for v in s.execute(select(ProcessVersion.id, ProcessVersion.process_id, ProcessVersion.version))
        }
        rulesets = {
            r.name: r.id
            for r in s.execute(select(RuleSetVersion.id, RuleSetVersion.name).order_by(RuleSetVersion.id))
        }
    _copy_history(service, case, size, versions, rulesets)
    from tests.casework import make_cases

    clock.set_now(TODAY)
    make_cases(service, OPEN_CASES)
    service.db.dispose()
    marker.write_text(wanted)
    print(f"built {path.name}: {size:,} finished cases in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def _copy_history(service, case: dict, size: int, versions: dict, rulesets: dict) -> None:
    instance_columns = set(Instance.__table__.c.keys())
    first_day = min(i["created_at"] for i in case["instances"]).date()
    template_ids = [i["id"] for i in case["instances"]]
    tally: dict[tuple, list] = {}
    next_id = 1
    with service.db.engine.begin() as conn:
        for batch_start in range(0, size, BATCH):
            instances, tasks, deadlines, audit = [], [], [], []
            for k in range(batch_start, min(size, batch_start + BATCH)):
                shift = dt.timedelta(days=(HISTORY_FROM - first_day).days + k * HISTORY_DAYS // size)
                ids = {old: next_id + n for n, old in enumerate(template_ids)}
                next_id += len(template_ids)
                missed_case = k % 5 in (0, 1)  # two cases in five missed the agencies' deadline
                missed_due = {}
                for d in case["deadlines"]:
                    row = {
                        **{c: v for c, v in d.items() if c != "id"},
                        "instance_id": ids[d["instance_id"]],
                        "anchor_date": d["anchor_date"] + shift,
                        "due_date": d["due_date"] + shift,
                        "fires_at": d["fires_at"] + shift,
                        "closed_at": d["closed_at"] + shift if d["closed_at"] else None,
                    }
                    if missed_case and d["key"] == "RR_AGENCY_INFO":
                        row["status"], row["closed_at"] = "missed", row["fires_at"]
                        missed_due[row["instance_id"]] = row["due_date"]
                    deadlines.append(row)
                    if row["status"] in ("met", "missed"):
                        counts = tally.setdefault((row["key"], row["due_date"]), [row["name"], 0, 0])
                        counts[1 if row["status"] == "met" else 2] += 1
                for i in case["instances"]:
                    new_id = ids[i["id"]]
                    row = {
                        **i,
                        "id": new_id,
                        "business_key": f"RF-H-{k:07d}",
                        "parent_instance_id": ids.get(i["parent_instance_id"]),
                        "process_version_id": versions[case["versions"][i["process_version_id"]]],
                        "ruleset_version_id": rulesets[case["rulesets"][i["ruleset_version_id"]]]
                        if i["ruleset_version_id"]
                        else None,
                        "created_at": i["created_at"] + shift,
                        "updated_at": i["updated_at"] + shift,
                        "completed_at": i["completed_at"] + shift,
                        "lock_version": 1,
                    }
                    if "missed_due" in instance_columns:
                        row["missed_due"] = missed_due.get(new_id)
                    instances.append({c: v for c, v in row.items() if c in instance_columns})
                for t in case["tasks"]:
                    tasks.append(
                        {
                            **t,
                            "id": str(uuid.uuid4()),
                            "instance_id": ids[t["instance_id"]],
                            "created_at": t["created_at"] + shift,
                            "completed_at": t["completed_at"] + shift if t["completed_at"] else None,
                        }
                    )
                for a in case["audit"]:
                    audit.append(
                        {
                            **{c: v for c, v in a.items() if c != "id"},
                            "instance_id": ids[a["instance_id"]],
                            "at": a["at"] + shift,
                        }
                    )
            conn.execute(insert(Instance), instances)
            conn.execute(insert(HumanTask), tasks)
            conn.execute(insert(Deadline), deadlines)
            conn.execute(insert(AuditEvent), audit)
        tally_table = getattr(models, "DeadlineTally", None)
        if tally_table is not None:
            conn.execute(
                insert(tally_table),
                [
                    {"key": key, "due_date": due, "name": name, "met": met, "missed": missed}
                    for (key, due), (name, met, missed) in tally.items()
                ],
            )
