"""The databases of the history benchmark (tests/bench/history.py): one recommendation-monitoring case (one
action plan item still open) taken by the engine through ``n`` progress reviews, the first six months after
the plan was agreed and then every week, its next review open on the day it is due. Kept under var/bench/
(history_<n>.db) and used again while the schema, the engine, the diagrams, the forms and this builder are
unchanged."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from engine import clock
from tests.bench.common import OUT, ROOT, schema_hash, service, sqlite_url

FIRST_REVIEW = dt.date(2027, 7, 1)  # a Thursday, six months after the plan was agreed; weekly after
EVERY = dt.timedelta(days=7)


def review_day(reviews_done: int) -> dt.date:
    return FIRST_REVIEW + reviews_done * EVERY


def at(day: dt.date) -> str:
    return f"{day.isoformat()}T10:00:00+00:00"


def _inputs() -> list[Path]:
    """The case's state is the engine's own serialization of the diagram's run: built again when the
    engine, the diagrams or the forms change, not only the schema."""
    return [
        Path(__file__),
        *sorted((ROOT / "engine").rglob("*.py")),
        *sorted(p for p in (ROOT / "processes").rglob("*") if p.is_file()),
        *sorted(p for p in (ROOT / "forms").rglob("*") if p.is_file()),
    ]


def open_review(svc, actor) -> dict:
    [task] = [t for t in svc.tasks.for_user(actor) if t["element_id"] == "next_progress_review"]
    return task


def build_history_database(reviews: int) -> Path:
    """A database with one recommendation-monitoring case after ``reviews`` progress reviews (the first at
    six months, then weekly), its next review open on the day it is due."""
    from tests.conftest import PROCESS_OWNER
    from tests.scenarios.driver import STAFF, form
    from tests.scenarios.test_improvement_tracking import ITEMS, update

    path, marker = OUT / f"history_{reviews}.db", OUT / f"history_{reviews}.ok"
    wanted = schema_hash(*_inputs())
    if path.exists() and marker.exists() and marker.read_text() == wanted:
        return path
    for p in OUT.glob(f"history_{reviews}.db*"):
        p.unlink()
    marker.unlink(missing_ok=True)
    started = time.perf_counter()
    clock.set_now("2027-01-04T10:00:00+00:00")
    built = service(sqlite_url(path))
    built.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
    built.instances.start(
        "recommendation_monitoring",
        {"regime": "WT2015", "action_plan_items": ITEMS[:1], "report_agreed_date": "2027-01-04"},
        STAFF,
    )
    for done in range(reviews):
        day = review_day(done)
        clock.set_now(at(day))
        step = "first_progress_review" if done == 0 else "next_progress_review"
        [task] = [t for t in built.tasks.for_user(STAFF) if t["element_id"] == step]
        built.instances.complete_task(
            task["id"], update(ITEMS[0], "in_progress", review_date=day.isoformat()), STAFF
        )
        [task] = [t for t in built.tasks.for_user(STAFF) if t["element_id"] == "schedule_next_review"]
        agreed = form(
            "action_plan_review", review_date=day.isoformat(), next_review_date=(day + EVERY).isoformat()
        )
        built.instances.complete_task(task["id"], agreed, STAFF)
    clock.set_now(at(review_day(reviews)))
    open_review(built, STAFF)
    built.db.dispose()
    marker.write_text(wanted)
    took = time.perf_counter() - started
    print(f"built {path.name}: a case after {reviews} progress reviews in {took:.0f} s", flush=True)
    return path
