"""Benchmarks of the managers' pages: each page rendered by the web app (in process, signed in as a
manager) against a database of 100 finished cases and one of ``--large`` finished cases (100,000 by
default), both with the same open cases of the day (tests/bench/reports_db.py); interleaved, medians,
target 1.5x."""

from __future__ import annotations

import statistics
import time

from sqlalchemy import select

from engine import clock
from engine.store.models import Instance
from tests.bench.common import service
from tests.bench.reports_db import TODAY

PAGES = [
    ("dashboard", "/dashboard"),
    ("case list", "/cases"),
    ("case list overdue", "/cases?overdue=yes"),
    ("deadline csv", "/deadlines.csv"),
    ("case page", "/cases/{case}"),
]
WEB = {"REVIEWFLOW_INSECURE_COOKIES": "1", "REVIEWFLOW_SECRET_KEY": "bench-only-secret-key-for-the-pages"}


# --- the pages -----------------------------------------------------------------------------------------


def open_app(url: str):
    """The web app on the database at ``url``, a test client signed in as a manager, and the open case whose
    page is read."""
    from tests.signed_in import manager_client
    from web.app import create_app

    clock.set_now(TODAY)
    svc = service(url, **WEB)
    app = create_app(svc)
    client = manager_client(app, "bench-manager")
    with svc.db.reading() as s:
        case = s.scalar(
            select(Instance.id)
            .where(Instance.process_id == "scr_decision", Instance.status == "running")
            .order_by(Instance.id)
            .limit(1)
        )
    return svc, client, case


def _fetch(client, path: str) -> int:
    """The page, or for a download its first chunk (what the manager waits for before it starts); bytes
    read."""
    response = client.get(path, buffered=False)
    try:
        assert response.status_code == 200, (path, response.status_code)
        return len(next(iter(response.response)))
    finally:
        response.close()


def bench_pages(store, small, large, runs: int, only: set[str] | None = None) -> list[dict]:
    """``small`` and ``large``: the built databases, as ``store`` holds them."""
    opened = {
        label: open_app(store.working_copy(source, label))
        for label, source in (("small", small), ("large", large))
    }
    results = []
    for name, template in PAGES:
        if only and name not in only and name + store.suffix not in only:
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
                "name": name + store.suffix,
                "target": 1.5,
                "ratio": a / b,
                "unit": unit,
                "figures": {"large": a * 1000, "small": b * 1000},
                "bytes": {"large": sizes["large"], "small": sizes["small"]},
            }
        )
    for svc, _, _ in opened.values():
        svc.db.dispose()
    return results
