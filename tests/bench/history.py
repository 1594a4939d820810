"""Benchmark of a long-lived case: one step of a recommendation-monitoring case (one action plan item
still open, reviewed every week) after 200 progress reviews and after 1, target 1.5x. The step is the next
progress review completed through the service; its cost grows with what the case carries of its past (its
state, its tasks, deadlines and audit rows).

Each case is taken through its reviews by the engine once (tests/bench/history_db.py). Every timed step
starts from the same case: after it, the case's rows are put back as they were (untimed), all but its audit
trail, which only grows."""

from __future__ import annotations

import statistics
import time

from sqlalchemy import delete, func, insert, select, update

from engine import clock
from engine.store.models import Base, DeadlineTally, DeliveryAttempt, Instance, OutboxMessage
from tests.bench.common import service
from tests.bench.history_db import at, open_review, review_day

# --- putting a case back as it was ---------------------------------------------------------------------


def _by_instance() -> list:
    """The case's own tables; not the audit trail, which is append-only (a step adds to it, never reads
    it), so the few rows each timed step adds stay."""
    return [t for t in Base.metadata.sorted_tables if "instance_id" in t.c and t.name != "audit_event"]


def snapshot(conn, instance_id: int) -> dict:
    """Every row that belongs to the case, and the few shared rows a step can change."""
    rows = {
        t.name: [dict(r._mapping) for r in conn.execute(select(t).where(t.c.instance_id == instance_id))]
        for t in _by_instance()
    }
    rows["instance"] = [
        dict(r._mapping) for r in conn.execute(select(Instance.__table__).where(Instance.id == instance_id))
    ]
    outbox = [r["id"] for r in rows[OutboxMessage.__tablename__]]
    rows[DeliveryAttempt.__tablename__] = [
        dict(r._mapping)
        for r in conn.execute(select(DeliveryAttempt.__table__).where(DeliveryAttempt.outbox_id.in_(outbox)))
    ]
    tally = DeadlineTally.__table__
    rows[tally.name] = [dict(r._mapping) for r in conn.execute(select(tally))]
    rows["_outbox_max"] = conn.scalar(select(func.max(OutboxMessage.id))) or 0
    return rows


def restore(conn, instance_id: int, rows: dict) -> None:
    """The case's rows as ``snapshot`` found them."""
    outbox = OutboxMessage.__table__
    mine = select(outbox.c.id).where(
        (outbox.c.instance_id == instance_id) | (outbox.c.id > rows["_outbox_max"])
    )
    conn.execute(delete(DeliveryAttempt.__table__).where(DeliveryAttempt.outbox_id.in_(mine)))
    conn.execute(delete(outbox).where(outbox.c.id > rows["_outbox_max"]))
    for table in reversed(_by_instance()):
        conn.execute(delete(table).where(table.c.instance_id == instance_id))
    conn.execute(delete(DeadlineTally.__table__))
    [instance] = rows["instance"]
    conn.execute(
        update(Instance.__table__)
        .where(Instance.id == instance_id)
        .values(**{k: v for k, v in instance.items() if k != "id"})
    )
    for table in [*_by_instance(), DeliveryAttempt.__table__, DeadlineTally.__table__]:
        if rows[table.name]:
            conn.execute(insert(table), rows[table.name])


# --- the benchmark -------------------------------------------------------------------------------------


def bench_history(store, sources: dict[str, object], reviews: dict[str, int], runs: int) -> dict:
    """``sources``: the built databases of both sides ("large", "small"), as ``store`` holds them."""
    from tests.scenarios.driver import STAFF
    from tests.scenarios.test_improvement_tracking import ITEMS, update

    sides = {}
    for label, source in sources.items():
        day = review_day(reviews[label])
        clock.set_now(at(day))
        svc = service(store.working_copy(source, label))
        task = open_review(svc, STAFF)
        with svc.db.engine.begin() as conn:
            rows = snapshot(conn, task["instance_id"])
        sides[label] = (svc, day, task, rows)

    def one_step(label: str) -> float:
        svc, day, task, rows = sides[label]
        clock.set_now(at(day))
        data = update(ITEMS[0], "in_progress", review_date=day.isoformat())
        started = time.perf_counter()
        svc.instances.complete_task(task["id"], data, STAFF)
        took = time.perf_counter() - started
        with svc.db.engine.begin() as conn:
            restore(conn, task["instance_id"], rows)
        return took

    for label in sides:  # warm caches alike
        one_step(label)
    timings = {"small": [], "large": []}
    for _ in range(runs):
        for label in ("small", "large"):
            timings[label].append(one_step(label))
    assert open_review(sides["large"][0], STAFF)["id"] == sides["large"][2]["id"]  # put back each time
    state = {label: len(rows["instance"][0]["state"]) for label, (_, _, _, rows) in sides.items()}
    for svc, *_ in sides.values():
        svc.db.dispose()
    a, b = statistics.median(timings["large"]), statistics.median(timings["small"])
    return {
        "name": "history" + store.suffix,
        "target": 1.5,
        "ratio": a / b,
        "unit": "ms per step",
        "figures": {
            f"after_{reviews['large']}_reviews": a * 1000,
            f"after_{reviews['small']}_review{'s' if reviews['small'] != 1 else ''}": b * 1000,
        },
        "state_bytes": {
            f"after_{reviews['large']}_reviews": state["large"],
            f"after_{reviews['small']}_review{'s' if reviews['small'] != 1 else ''}": state["small"],
        },
    }
