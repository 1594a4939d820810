"""The database of the engine's own benchmarks (task list, timer sweep, server memory): ``size`` finished
cases of the benchmark's reference diagram and ``size`` cases waiting on a far timer, copied with SQLAlchemy
Core from one real case of each, so that 100,000 of each are built in seconds. Kept under var/bench/ and
used again while the schema and this builder are unchanged."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from sqlalchemy import insert

from engine import clock
from engine.store.models import AuditEvent, HumanTask, Instance
from tests.bench.common import OUT, OWNER, STAFF, START, STEP, bench_files, schema_hash, service, sqlite_url

BATCH = 5000


def build_database(size: int) -> Path:
    """A database holding ``size`` finished cases and ``size`` cases waiting on a far timer."""
    path = OUT / f"cases_{size}.db"
    marker = OUT / f"cases_{size}.ok"
    wanted = schema_hash(Path(__file__))  # built again when the schema or this builder changes
    if marker.exists() and path.exists() and marker.read_text() == wanted:
        return path
    for p in OUT.glob(f"cases_{size}.db*"):
        p.unlink()
    marker.unlink(missing_ok=True)
    clock.set_now(START)
    built = service(sqlite_url(path))
    built.deployments.deploy(bench_files(), OWNER)
    # one real finished case and one real waiting case give realistic state blobs to copy
    done = built.instances.start("bench_reference", {"steps_done": 0}, STAFF)
    while tasks := [t for t in built.tasks.for_user(STAFF) if t["instance_id"] == done["id"]]:
        built.instances.complete_task(tasks[0]["id"], STEP, STAFF)
    waiting = built.instances.start("bench_timer", {}, STAFF)
    columns = ("process_version_id", "process_id", "state", "summary")
    with built.db.reading() as s:
        finished = {c: getattr(s.get(Instance, done["id"]), c) for c in columns}
        waiter = {c: getattr(s.get(Instance, waiting["id"]), c) for c in columns}
    now = clock.now()
    far = now + dt.timedelta(days=3650)
    next_id = 1000
    with built.db.engine.begin() as conn:
        for start in range(0, size, BATCH):
            inst_rows, task_rows, audit_rows = [], [], []
            for _ in range(min(BATCH, size - start)):
                for template, status, timer in ((finished, "completed", None), (waiter, "running", far)):
                    next_id += 1
                    inst_rows.append(_instance(next_id, template, status, timer, now))
                    if status == "completed":
                        task_rows += [_finished_task(next_id, k, now) for k in range(10)]
                        audit_rows.append(
                            {
                                "instance_id": next_id,
                                "at": now,
                                "actor": "bench",
                                "kind": "started",
                                "task_id": None,
                                "element_id": None,
                                "detail": {},
                            }
                        )
            conn.execute(insert(Instance), inst_rows)
            conn.execute(insert(HumanTask), task_rows)
            conn.execute(insert(AuditEvent), audit_rows)
        # the template waiting case joins the far-off waiters, so only the benchmark's own 10 are due
        conn.execute(
            Instance.__table__.update().where(Instance.id == waiting["id"]).values(next_timer_at=far)
        )
    built.db.dispose()
    marker.write_text(wanted)
    return path


def _instance(instance_id: int, template: dict, status: str, timer, now) -> dict:
    return {
        "id": instance_id,
        **template,
        "business_key": f"RF-B-{instance_id}",
        "status": status,
        "regime": None,
        "ruleset_version_id": None,
        "parent_instance_id": None,
        "active_steps": [],
        "waiting_messages": [],
        "open_deadlines": 0,
        "error": None,
        "next_timer_at": timer,
        "lock_version": 1,
        "created_by": "bench",
        "created_at": now,
        "updated_at": now,
        "completed_at": now if status == "completed" else None,
    }


def _finished_task(instance_id: int, k: int, now) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "instance_id": instance_id,
        "process_id": "bench_reference",
        "element_id": f"review_{k + 1}",
        "name": f"Review step {k + 1}",
        "role": "Staff",
        "form": "bench_step.json",
        "ui_form": None,
        "documentation": None,
        "state": "completed",
        "assignee": None,
        "due_date": None,
        "deadline_key": None,
        "created_at": now,
        "completed_at": now,
        "completed_by": "bench",
    }
