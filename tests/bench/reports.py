"""Benchmarks of the managers' pages: each page rendered by the web app (in process, signed in as a
manager) against a database of 100 finished cases and one of ``--large`` finished cases (100,000 by
default), both with the same open cases of the day; interleaved, medians, target 1.5x.

The databases are built fast: one real rapid review is taken to its end through the engine (its notification
and its rapid review: two instances, their tasks, deadlines and audit rows), and its rows are copied, shifted
in time across 2026, once per synthetic case with SQLAlchemy Core; two cases in five missed their agencies'
deadline. Then today's open cases are made through the engine (tests/casework.py). A built database is kept
under var/bench/ and used again while the schema and this builder are unchanged."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import insert, select

from engine import clock, config
from engine.services import Reviewflow
from engine.store import models
from engine.store.models import AuditEvent, Deadline, HumanTask, Instance, ProcessVersion, RuleSetVersion

ROOT = Path(__file__).resolve().parents[2]
TODAY = "2026-12-21T09:00:00+00:00"  # the day the pages are read (a Monday)
HISTORY_FROM, HISTORY_DAYS = dt.date(2026, 1, 5), 320  # finished cases started from 5 January to mid-November
OPEN_CASES = 20  # the open cases of the day, in both databases
BATCH = 2000  # cases inserted per statement batch
PAGES = [
    ("dashboard", "/dashboard"),
    ("case list", "/cases"),
    ("case list overdue", "/cases?overdue=yes"),
    ("deadline csv", "/deadlines.csv"),
    ("case page", "/cases/{case}"),
]
WEB = {"REVIEWFLOW_INSECURE_COOKIES": "1", "REVIEWFLOW_SECRET_KEY": "bench-only-secret-key-for-the-pages"}


def _service(path: Path, **settings) -> Reviewflow:
    return Reviewflow(config.load({"REVIEWFLOW_DATABASE_URL": f"sqlite:///{path}", **settings}))


def schema_hash(*builders: Path) -> str:
    """What a built database depends on: the schema (models and migrations) and the code that builds it."""
    digest = hashlib.sha256()
    files = [
        Path(models.__file__),
        *builders,
        *sorted((Path(models.__file__).parent / "migrations" / "versions").glob("*.py")),
    ]
    for path in files:
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


# --- one real finished case, as rows ------------------------------------------------------------------


def _rows(session, table, where) -> list[dict]:
    return [
        dict(r._mapping) for r in session.execute(select(table).where(where).order_by(*table.primary_key))
    ]


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


def build_reports_database(size: int, out: Path, case: dict | None = None) -> Path:
    path, marker = out / f"reports_{size}.db", out / f"reports_{size}.ok"
    wanted = schema_hash(Path(__file__), ROOT / "tests" / "casework.py")
    if path.exists() and marker.exists() and marker.read_text() == wanted:
        return path
    for p in out.glob(f"reports_{size}.db*"):
        p.unlink()
    marker.unlink(missing_ok=True)
    case = case or finished_case()
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


def working_copy(source: Path, name: str, out: Path) -> Path:
    work = out / f"{name}.db"
    for p in out.glob(f"{name}.db*"):
        p.unlink()
    shutil.copy(source, work)
    return work


# --- the pages -----------------------------------------------------------------------------------------


def _open_app(path: Path):
    from tests.signed_in import manager_client
    from web.app import create_app

    clock.set_now(TODAY)
    service = _service(path, **WEB)
    app = create_app(service)
    client = manager_client(app, "bench-manager")
    with service.db.reading() as s:
        case = s.scalar(
            select(Instance.id)
            .where(Instance.process_id == "scr_decision", Instance.status == "running")
            .order_by(Instance.id)
            .limit(1)
        )
    return service, client, case


def _fetch(client, path: str) -> int:
    """The page, or for a download its first chunk (what the manager waits for before it starts); bytes
    read."""
    response = client.get(path, buffered=False)
    try:
        assert response.status_code == 200, (path, response.status_code)
        return len(next(iter(response.response)))
    finally:
        response.close()


def bench_pages(small: Path, large: Path, runs: int, out: Path, only: set[str] | None = None) -> list[dict]:
    opened = {
        label: _open_app(working_copy(path, f"pages_{label}", out))
        for label, path in (("small", small), ("large", large))
    }
    results = []
    for name, template in PAGES:
        if only and name not in only:
            continue
        paths = {label: template.format(case=case) for label, (_, _, case) in opened.items()}
        sizes = {}
        for label, (_, client, _) in opened.items():  # warm caches alike
            for _ in range(2):
                sizes[label] = _fetch(client, paths[label])
        timings = {"small": [], "large": []}
        for _ in range(runs):
            for label in ("small", "large"):
                client = opened[label][1]
                started = time.perf_counter()
                _fetch(client, paths[label])
                timings[label].append(time.perf_counter() - started)
        a, b = statistics.median(timings["large"]), statistics.median(timings["small"])
        unit = "ms to the first chunk" if name == "deadline csv" else "ms per page"
        results.append(
            {
                "name": name,
                "target": 1.5,
                "ratio": a / b,
                "unit": unit,
                "figures": {"large": a * 1000, "small": b * 1000},
                "bytes": {"large": sizes["large"], "small": sizes["small"]},
            }
        )
    for service, _, _ in opened.values():
        service.db.dispose()
    return results
