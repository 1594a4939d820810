"""Benchmarks: each target is a ratio of two figures measured side by side in one run (interleaved,
medians), so that the machine's speed cancels out.

    make bench                      # full size (100,000 cases; builds var/bench/*.db once)
    make bench BENCH_ARGS=--quick   # small sizes, for a smoke run
    make bench BENCH_ARGS="--large 1000000"                  # the large side at a million cases
    make bench BENCH_ARGS="--large 5000 --only dashboard,history"   # a development run

With ``REVIEWFLOW_TEST_POSTGRES_URL`` set, every benchmark runs on PostgreSQL too, named with
" (postgresql)" after it (tests/bench/stores.py). Prints a table and writes var/bench/results.json:
  engine overhead            persisted engine vs SpiffWorkflow in memory with one serialize + deserialize
                             per wait state; target <= 2x
  task list                  20 open tasks for one user, 100,000 vs 100 finished instances; <= 1.5x
  timer sweep                fire 10 due timers with 100,000 vs 100 instances waiting; <= 1.5x
  server memory              peak RSS after 1,000 task-list requests, 100,000 vs 100 instances; <= 1.2x
  dashboard, case list, case list overdue, deadline csv (to its first chunk), case page
                             each 100,000 vs 100 finished cases (tests/bench/reports.py); <= 1.5x
  server memory after pages  peak RSS after 100 requests to each of those pages, 100,000 vs 100; <= 1.2x
  history                    one progress review of a case after 200 reviews vs after 1
                             (tests/bench/history.py); <= 1.5x
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
import traceback

from engine import clock
from tests.bench.common import BENCH_DIR, OUT, OWNER, STAFF, START, STEP, bench_files, service, timed
from tests.bench.stores import PostgresStore, SQLiteStore

PAGE_NAMES = ["dashboard", "case list", "case list overdue", "deadline csv", "case page"]
NAMES = [
    "engine overhead",
    "task list",
    "timer sweep",
    "server memory",
    *PAGE_NAMES,
    "server memory after pages",
    "history",
]

# --- engine overhead ------------------------------------------------------------------------------------


def bench_engine_overhead(store, runs: int) -> dict:
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

    svc = service(store.empty("engine_overhead"))
    svc.deployments.deploy(bench_files(), OWNER)

    def persisted():
        started = svc.instances.start("bench_reference", {"steps_done": 0}, STAFF)
        while True:
            tasks = [t for t in svc.tasks.for_user(STAFF) if t["instance_id"] == started["id"]]
            if not tasks:
                break
            svc.instances.complete_task(tasks[0]["id"], STEP, STAFF)

    for fn in (in_memory, persisted):  # warm up caches and imports
        fn()
    mem, db = [], []
    for _ in range(runs):  # interleaved, so machine noise hits both alike
        mem.append(timed(in_memory))
        db.append(timed(persisted))
    svc.db.dispose()
    a, b = statistics.median(db), statistics.median(mem)
    return {
        "name": "engine overhead" + store.suffix,
        "target": 2.0,
        "ratio": a / b,
        "unit": "ms per case",
        "figures": {f"persisted_{store.dialect}": a * 1000, "in_memory_spiffworkflow": b * 1000},
    }


# --- task list --------------------------------------------------------------------------------------------


def bench_task_list(store, small, large, calls: int) -> dict:
    services = {}
    for label, source in (("small", small), ("large", large)):
        clock.set_now(START)
        services[label] = service(store.working_copy(source, label))
        for _ in range(20):
            services[label].instances.start("bench_reference", {"steps_done": 0}, STAFF)
        assert len(services[label].tasks.for_user(STAFF)) == 20
    timings = {"small": [], "large": []}
    for _ in range(calls):
        for label in ("small", "large"):
            t = time.perf_counter()
            services[label].tasks.for_user(STAFF)
            timings[label].append(time.perf_counter() - t)
    for svc in services.values():
        svc.db.dispose()
    a, b = statistics.median(timings["large"]), statistics.median(timings["small"])
    return {
        "name": "task list" + store.suffix,
        "target": 1.5,
        "ratio": a / b,
        "unit": "ms per request",
        "figures": {"large": a * 1000, "small": b * 1000},
    }


# --- timer sweep ------------------------------------------------------------------------------------------


def bench_timer_sweep(store, small, large, rounds: int) -> dict:
    services = {
        label: service(store.working_copy(source, label))
        for label, source in (("small", small), ("large", large))
    }
    timings = {"small": [], "large": []}
    when = dt.datetime.fromisoformat(START)
    for _ in range(rounds):
        for label in ("small", "large"):
            svc = services[label]
            clock.set_now(when)
            for _ in range(10):
                svc.instances.start("bench_timer", {}, STAFF)
            clock.set_now(when + dt.timedelta(days=1, minutes=1))
            t = time.perf_counter()
            fired = svc.instances.fire_due_timers()
            timings[label].append(time.perf_counter() - t)
            assert len(fired) == 10, (label, len(fired))
        when += dt.timedelta(days=2)
    for svc in services.values():
        svc.db.dispose()
    a, b = statistics.median(timings["large"]), statistics.median(timings["small"])
    return {
        "name": "timer sweep" + store.suffix,
        "target": 1.5,
        "ratio": a / b,
        "unit": "ms per sweep of 10",
        "figures": {"large": a * 1000, "small": b * 1000},
    }


# --- running them -----------------------------------------------------------------------------------------


BUILT: dict = {}  # each database built (or found current) once a run, so every store runs on the same one


def run_store(store, args, only: set[str] | None, small_n: int, large_n: int) -> list[dict]:
    """Every benchmark wanted, on one store; each result says how long it took (building included)."""
    from tests.bench import history, history_db, reports, reports_db, served
    from tests.bench.cases_db import build_database

    def wanted(*names: str) -> bool:
        return only is None or any(n in only or n + store.suffix in only for n in names)

    results = []

    def measure(fn, *a):
        started = time.perf_counter()
        found = fn(*a)
        for r in found if isinstance(found, list) else [found]:
            r["seconds"] = time.perf_counter() - started
            results.append(r)
            print(f"  {r['name']}: {r['ratio']:.2f}x ({r['seconds']:.0f} s)", flush=True)

    def built(build, *a):
        started = time.perf_counter()
        if (build, a) not in BUILT:
            BUILT[build, a] = build(*a)
        found = store.built(BUILT[build, a])
        took = time.perf_counter() - started
        if took > 5:
            print(f"  {build.__name__}{a}: ready in {took:.0f} s", flush=True)
        return found

    def group(names: list[str], run) -> None:
        """One group of benchmarks sharing databases; if it fails, the failure is its result and the
        others still run."""
        names = [n for n in names if wanted(n)]
        if not names:
            return
        try:
            run(names)
        except Exception as exc:
            traceback.print_exc()
            done = {r["name"] for r in results}
            for name in names:
                if name + store.suffix not in done:
                    results.append({"name": name + store.suffix, "error": f"{type(exc).__name__}: {exc}"})

    quick = args.quick

    def engine(names):
        measure(bench_engine_overhead, store, 3 if quick else 30)

    def cases(names):
        small, large = built(build_database, small_n), built(build_database, large_n)
        if "task list" in names:
            measure(bench_task_list, store, small, large, 20 if quick else 500)
        if "timer sweep" in names:
            measure(bench_timer_sweep, store, small, large, 2 if quick else 7)
        if "server memory" in names:
            measure(served.bench_server_memory, store, small, large, 100 if quick else 1000)

    def pages(names):
        small, large = (built(reports_db.build_reports_database, n, OUT) for n in (small_n, large_n))
        if set(names) & set(PAGE_NAMES):
            measure(reports.bench_pages, store, small, large, 5 if quick else 25, set(names))
        if "server memory after pages" in names:
            measure(served.bench_pages_memory, store, small, large, 3 if quick else 100)

    def long_case(names):
        reviews = {"small": 1, "large": 20 if quick else 200}
        sources = {label: built(history_db.build_history_database, n) for label, n in reviews.items()}
        measure(history.bench_history, store, sources, reviews, 3 if quick else 51)

    group(["engine overhead"], engine)
    group(["task list", "timer sweep", "server memory"], cases)
    group([*PAGE_NAMES, "server memory after pages"], pages)
    group(["history"], long_case)
    return results


def _table(results: list[dict]) -> list[str]:
    width = max([len("benchmark"), *(len(r["name"]) for r in results)])
    lines = [f"{'benchmark':<{width}} {'measured':<60} {'ratio':>7} {'target':>7}  verdict"]
    for r in results:
        if "error" in r:
            lines.append(f"{r['name']:<{width}} {r['error'][:60]:<60} {'':>16}  ERROR")
            continue
        (ka, a), (kb, b) = list(r["figures"].items())
        figures = f"{ka} {a:.2f} / {kb} {b:.2f} {r['unit']}"
        ratio, verdict = f"{r['ratio']:>6.2f}x {r['target']:>6.1f}x", "ok" if r["met"] else "MISSED"
        lines.append(f"{r['name']:<{width}} {figures:<60} {ratio}  {verdict}")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes: checks the benchmarks run")
    parser.add_argument(
        "--large", type=int, help="cases on the large side (default 100,000; 2,000 with --quick)"
    )
    parser.add_argument(
        "--only",
        help="run only these benchmarks (names, comma-separated; a name with ' (postgresql)' after it "
        "runs on PostgreSQL only)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    large_n = args.large or (2_000 if args.quick else 100_000)
    small_n = 100
    only = {n.strip() for n in args.only.split(",")} if args.only else None
    if only:
        unknown = {n.removesuffix(" (postgresql)") for n in only} - set(NAMES)
        if unknown:
            parser.error(f"no benchmark named {', '.join(sorted(unknown))}; the names: {', '.join(NAMES)}")
    stores = [SQLiteStore()]
    postgres = os.environ.get("REVIEWFLOW_TEST_POSTGRES_URL")
    if postgres:
        stores.append(PostgresStore(postgres))
    results = []
    for store in stores:
        print(f"{store.dialect}:", flush=True)
        try:
            results += run_store(store, args, only, small_n, large_n)
        finally:
            store.finish()
    for r in results:
        if "error" not in r:
            r["met"] = r["ratio"] <= r["target"]
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.platform()}"
    )
    wall = time.perf_counter() - started
    size = f"{small_n:,} vs {large_n:,} cases"
    print(f"\nreviewflow benchmarks ({'quick' if args.quick else 'full'}; {size}) on {machine}")
    print("\n".join(_table(results)))
    print(f"wall time {wall / 60:.1f} min")
    (OUT / "results.json").write_text(
        json.dumps(
            {
                "machine": machine,
                "quick": args.quick,
                "small": small_n,
                "large": large_n,
                "postgresql": bool(postgres),
                "seconds": wall,
                "results": results,
            },
            indent=2,
        )
    )
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
