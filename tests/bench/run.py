"""Benchmarks: each target is a ratio of two figures measured side by side in one run.

    make bench                      # full size (100,000 instances; builds var/bench/*.db once)
    make bench BENCH_ARGS=--quick   # small sizes, for a smoke run
    make bench BENCH_ARGS="--large 5000 --only dashboard,case list"   # a development run

Prints a table and writes var/bench/results.json:
  1. engine overhead   persisted engine (SQLite file) vs SpiffWorkflow in memory with one
                       serialize + deserialize per wait state; target <= 3x
  2. task list         20 open tasks for one user, 100,000 vs 100 finished instances; <= 1.5x
  3. timer sweep       fire 10 due timers with 100,000 vs 100 instances waiting; <= 1.5x
  4. server memory     peak RSS after 1,000 task-list requests, 100,000 vs 100 instances; <= 1.2x
  5. the managers' pages: dashboard, case list, case list overdue, deadline csv (to its first chunk) and
     case page, each 100,000 vs 100 finished cases (tests/bench/reports.py); <= 1.5x
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(os.environ.get("REVIEWFLOW_BENCH_DIR") or ROOT / "var" / "bench")
BENCH_DIR = Path(__file__).resolve().parent
START = "2026-01-05T09:00:00+00:00"

from engine import (
    clock,
    config,
)
from engine.services import Reviewflow  # noqa: E402
from engine.services.actor import Actor  # noqa: E402

OWNER = Actor("bench-owner", frozenset({"process_owner"}))
STAFF = Actor("bench-staff", frozenset({"Staff"}))
STEP = {"note": "Checked the chronology and the agency returns.", "approved": True}


def _files() -> dict[str, bytes]:
    return {
        "bench_reference.bpmn": (BENCH_DIR / "bench_reference.bpmn").read_bytes(),
        "bench_timer.bpmn": (BENCH_DIR / "bench_timer.bpmn").read_bytes(),
        "bench_step.json": (BENCH_DIR / "bench_step.json").read_bytes(),
    }


def _service(path: Path) -> Reviewflow:
    return Reviewflow(config.load({"REVIEWFLOW_DATABASE_URL": f"sqlite:///{path}"}))


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# --- 1. engine overhead -------------------------------------------------------------------------


def bench_engine_overhead(runs: int) -> dict:
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.spiff.parser import SpiffBpmnParser
    from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG
    from SpiffWorkflow.util.task import TaskState

    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(BENCH_DIR / "bench_reference.bpmn"))
    spec = parser.get_spec("bench_reference")
    ser = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))

    def in_memory():
        wf = BpmnWorkflow(spec)
        wf.task_tree.set_data(steps_done=0)
        wf.do_engine_steps()
        while not wf.is_completed():
            wf = ser.deserialize_json(ser.serialize_json(wf))  # the wait state, persisted at least once
            task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
            task.set_data(**STEP)
            task.run()
            wf.do_engine_steps()
        assert wf.data["steps_done"] == 10

    path = OUT / "engine_overhead.db"
    for p in OUT.glob("engine_overhead.db*"):
        p.unlink()
    service = _service(path)
    service.deployments.deploy(_files(), OWNER)

    def persisted():
        started = service.instances.start("bench_reference", {"steps_done": 0}, STAFF)
        while True:
            tasks = [t for t in service.tasks.for_user(STAFF) if t["instance_id"] == started["id"]]
            if not tasks:
                break
            service.instances.complete_task(tasks[0]["id"], STEP, STAFF)

    for fn in (in_memory, persisted):  # warm up caches and imports
        fn()
    mem, db = [], []
    for _ in range(runs):  # interleaved, so machine noise hits both alike
        mem.append(_timed(in_memory))
        db.append(_timed(persisted))
    a, b = statistics.median(db), statistics.median(mem)
    return {
        "name": "engine overhead",
        "target": 3.0,
        "ratio": a / b,
        "unit": "ms per case",
        "figures": {"persisted_sqlite": a * 1000, "in_memory_spiffworkflow": b * 1000},
    }


# --- building large databases quickly -----------------------------------------------------------


def build_database(size: int) -> Path:
    """A database holding ``size`` finished cases and ``size`` cases waiting on a far timer."""
    from tests.bench.reports import schema_hash

    path = OUT / f"cases_{size}.db"
    marker = OUT / f"cases_{size}.ok"
    wanted = schema_hash(Path(__file__))  # built again when the schema or this builder changes
    if marker.exists() and path.exists() and marker.read_text() == wanted:
        return path
    for p in OUT.glob(f"cases_{size}.db*"):
        p.unlink()
    clock.set_now(START)
    service = _service(path)
    service.deployments.deploy(_files(), OWNER)
    # one real finished case and one real waiting case give realistic state blobs to copy
    done = service.instances.start("bench_reference", {"steps_done": 0}, STAFF)
    while tasks := [t for t in service.tasks.for_user(STAFF) if t["instance_id"] == done["id"]]:
        service.instances.complete_task(tasks[0]["id"], STEP, STAFF)
    waiting = service.instances.start("bench_timer", {}, STAFF)
    from sqlalchemy import insert

    from engine.store.models import AuditEvent, HumanTask, Instance

    with service.db.reading() as s:
        finished_row = s.get(Instance, done["id"])
        waiting_row = s.get(Instance, waiting["id"])
        finished = {
            c: getattr(finished_row, c) for c in ("process_version_id", "process_id", "state", "summary")
        }
        waiter = {
            c: getattr(waiting_row, c) for c in ("process_version_id", "process_id", "state", "summary")
        }
    now = clock.now()
    far = now + dt.timedelta(days=3650)
    batch = 5000
    next_id = 1000
    with service.db.engine.begin() as conn:
        for start in range(0, size, batch):
            n = min(batch, size - start)
            inst_rows, task_rows, audit_rows = [], [], []
            for _ in range(n):
                for template, status, timer in ((finished, "completed", None), (waiter, "running", far)):
                    next_id += 1
                    inst_rows.append(
                        {
                            "id": next_id,
                            **template,
                            "business_key": f"RF-B-{next_id}",
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
                    )
                    if status == "completed":
                        for k in range(10):
                            task_rows.append(
                                {
                                    "id": str(uuid.uuid4()),
                                    "instance_id": next_id,
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
                            )
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
    service.db.dispose()
    marker.write_text(wanted)
    return path


def _working_copy(source: Path, name: str) -> Path:
    """A fresh copy of a built database, so each benchmark starts from the same state."""
    work = OUT / f"{name}.db"
    for p in OUT.glob(f"{name}.db*"):
        p.unlink()
    shutil.copy(source, work)
    return work


def _open_tasks(service: Reviewflow, n: int = 20) -> None:
    for _ in range(n):
        service.instances.start("bench_reference", {"steps_done": 0}, STAFF)


# --- 2. task list ---------------------------------------------------------------------------------


def bench_task_list(small: Path, large: Path, calls: int) -> dict:
    services = {}
    for label, path in (("small", small), ("large", large)):
        work = _working_copy(path, f"tasklist_{label}")
        clock.set_now(START)
        services[label] = _service(work)
        _open_tasks(services[label])
        assert len(services[label].tasks.for_user(STAFF)) == 20
    timings = {"small": [], "large": []}
    for _ in range(calls):
        for label in ("small", "large"):
            t = time.perf_counter()
            services[label].tasks.for_user(STAFF)
            timings[label].append(time.perf_counter() - t)
    a, b = statistics.median(timings["large"]), statistics.median(timings["small"])
    return {
        "name": "task list",
        "target": 1.5,
        "ratio": a / b,
        "unit": "ms per request",
        "figures": {"large": a * 1000, "small": b * 1000},
    }


# --- 3. timer sweep -------------------------------------------------------------------------------


def bench_timer_sweep(small: Path, large: Path, rounds: int) -> dict:
    services = {}
    for label, path in (("small", small), ("large", large)):
        work = _working_copy(path, f"timers_{label}")
        services[label] = _service(work)
    timings = {"small": [], "large": []}
    when = dt.datetime.fromisoformat(START)
    for _ in range(rounds):
        for label in ("small", "large"):
            service = services[label]
            clock.set_now(when)
            for _ in range(10):
                service.instances.start("bench_timer", {}, STAFF)
            clock.set_now(when + dt.timedelta(days=1, minutes=1))
            t = time.perf_counter()
            fired = service.instances.fire_due_timers()
            timings[label].append(time.perf_counter() - t)
            assert len(fired) == 10, (label, len(fired))
        when += dt.timedelta(days=2)
    a, b = statistics.median(timings["large"]), statistics.median(timings["small"])
    return {
        "name": "timer sweep",
        "target": 1.5,
        "ratio": a / b,
        "unit": "ms per sweep of 10",
        "figures": {"large": a * 1000, "small": b * 1000},
    }


# --- 4. server memory -----------------------------------------------------------------------------


def _peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM")


def bench_server_memory(small: Path, large: Path, requests: int) -> dict:
    peaks = {}
    for label, path in (("small", small), ("large", large)):
        work = _working_copy(path, f"memory_{label}")
        clock.set_now(START)
        service = _service(work)
        _open_tasks(service)
        service.users.add("bench-staff", ["Staff"])
        token = service.users.create_token("bench-staff")
        service.db.dispose()
        port = 18000 + (0 if label == "small" else 1)
        env = {**os.environ, "REVIEWFLOW_DATABASE_URL": f"sqlite:///{work}", "REVIEWFLOW_FAKE_NOW": START}
        proc = subprocess.Popen(
            [sys.executable, "-m", "web.cli", "serve", "--port", str(port), "--no-worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            for _ in range(300):
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    conn.request("GET", "/api/v1/openapi.json")
                    conn.getresponse().read()
                    break
                except OSError:
                    time.sleep(0.1)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for _ in range(requests):
                conn.request("GET", "/api/v1/tasks", headers={"Authorization": f"Bearer {token}"})
                response = conn.getresponse()
                body = json.loads(response.read())
                assert response.status == 200 and len(body["tasks"]) == 20
            peaks[label] = _peak_rss_kib(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return {
        "name": "server memory",
        "target": 1.2,
        "ratio": peaks["large"] / peaks["small"],
        "unit": "MiB peak RSS",
        "figures": {"large": peaks["large"] / 1024, "small": peaks["small"] / 1024},
    }


def main(argv=None) -> int:
    from tests.bench import reports

    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes: checks the benchmarks run")
    parser.add_argument(
        "--large", type=int, help="cases on the large side (default 100,000; 2,000 with --quick)"
    )
    parser.add_argument("--only", help="run only these benchmarks (names, comma-separated)")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    large_n = args.large or (2_000 if args.quick else 100_000)
    small_n = 100
    only = {n.strip() for n in args.only.split(",")} if args.only else None

    def wanted(*names: str) -> bool:
        return only is None or bool(only & set(names))

    results = []
    if wanted("engine overhead"):
        results.append(bench_engine_overhead(3 if args.quick else 30))
    if wanted("task list", "timer sweep", "server memory"):
        small, large = build_database(small_n), build_database(large_n)
        if wanted("task list"):
            results.append(bench_task_list(small, large, 20 if args.quick else 500))
        if wanted("timer sweep"):
            results.append(bench_timer_sweep(small, large, 2 if args.quick else 7))
        if wanted("server memory"):
            results.append(bench_server_memory(small, large, 100 if args.quick else 1000))
    page_names = [name for name, _ in reports.PAGES]
    if wanted(*page_names):
        case = reports.finished_case()
        small, large = (reports.build_reports_database(n, OUT, case) for n in (small_n, large_n))
        results += reports.bench_pages(small, large, 5 if args.quick else 25, OUT, only)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}"
    print(
        f"\nreviewflow benchmarks ({'quick' if args.quick else 'full'}; {small_n:,} vs {large_n:,} instances) on {machine}"
    )
    print(f"{'benchmark':<17} {'measured':<52} {'ratio':>7} {'target':>7}  verdict")
    for r in results:
        (ka, a), (kb, b) = list(r["figures"].items())
        r["met"] = r["ratio"] <= r["target"]
        figures = f"{ka} {a:.2f} / {kb} {b:.2f} {r['unit']}"
        print(
            f"{r['name']:<17} {figures:<52} {r['ratio']:>6.2f}x {r['target']:>6.1f}x  {'ok' if r['met'] else 'MISSED'}"
        )
    (OUT / "results.json").write_text(
        json.dumps(
            {"machine": machine, "quick": args.quick, "small": small_n, "large": large_n, "results": results},
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
