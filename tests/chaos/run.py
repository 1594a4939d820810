"""The chaos suite: real workers killed at random, a sink that goes down, a relay that hangs, database
connections terminated, poison cases among good ones, and hostile input, all on loopback against
PostgreSQL; then the figures the service promises (README, "The chaos suite"), each against its target.

    make chaos                                   # full size, about 5 minutes
    .venv/bin/python -m tests.chaos.run --cases 10 --emails 100 --kills 20 --duration 40 --hang 15 \\
        --poison-cases 10                        # a small run while developing

Uses ``REVIEWFLOW_TEST_POSTGRES_URL`` (default postgresql://postgres@127.0.0.1:5432/test) and a fresh
schema in it, dropped at the end. Prints a table, writes var/chaos/results.json (logs in
var/chaos/logs/) and exits 1 if a target is missed, 2 if the run could not be set up.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import sys
import time
import traceback
import uuid
from dataclasses import asdict
from pathlib import Path

from tests.chaos import report
from tests.chaos.postgres import Scratch, Unreachable
from tests.chaos.scenario import Chaos

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.chaos.run", description=__doc__.splitlines()[0])
    p.add_argument(
        "--postgres",
        default=os.environ.get("REVIEWFLOW_TEST_POSTGRES_URL") or DEFAULT_POSTGRES,
        help="PostgreSQL server (a fresh schema is made in it and dropped after)",
    )
    p.add_argument("--workers", type=int, default=5, help="reviewflow worker processes (at least 3)")
    p.add_argument("--interval", type=float, default=2.0, help="seconds between a worker's sweeps")
    p.add_argument("--cases", type=int, default=50, help="good cases in the storm")
    p.add_argument("--emails", type=int, default=1000, help="e-mails the storm's timers queue (2 per timer)")
    p.add_argument("--kills", type=int, default=110, help="SIGKILLs during the storm (at least)")
    p.add_argument("--duration", type=float, default=140, help="seconds of storm")
    p.add_argument("--hang", type=float, default=25, help="seconds the relay hangs")
    p.add_argument("--escalations", type=int, default=6, help="escalations due while the relay hangs")
    p.add_argument("--poison-cases", type=int, default=50, help="good cases beside the poison cases")
    p.add_argument("--terminate-every", type=float, default=1.0, help="seconds between killed connections")
    p.add_argument(
        "--min-life",
        type=float,
        default=0.5,
        help="shortest life of a worker in the storm, from its database connection showing",
    )
    p.add_argument("--max-life", type=float, default=None, help="longest life (default: 1.5 sweep intervals)")
    p.add_argument(
        "--drain", type=float, default=120, help="seconds at most to wait for the outbox after the storm"
    )
    p.add_argument("--seed", type=int, default=8)
    p.add_argument("--keep", action="store_true", help="keep the schema for inspection")
    p.add_argument("--out", type=Path, default=ROOT / "var" / "chaos")
    return p.parse_args(argv)


def _stop_on_sigterm(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")  # unwinds through the clean-up: processes, schema


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    ticks = max(1, math.ceil(args.emails / (2 * args.cases)))
    params = {
        **{k: v for k, v in vars(args).items() if k not in ("postgres", "out", "keep")},
        "ticks": ticks,
        "timers": ticks * args.cases,
        "max_life": args.max_life or 1.5 * args.interval,
    }
    out, logs = args.out, args.out / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True, exist_ok=True)
    scratch = Scratch(args.postgres, "chaos_" + uuid.uuid4().hex[:10])
    try:
        server = scratch.check()
    except Unreachable as exc:
        print(
            f"chaos: {exc}\nchaos: start PostgreSQL or set REVIEWFLOW_TEST_POSTGRES_URL "
            "(e.g. postgresql://postgres@127.0.0.1:5432/test)",
            file=sys.stderr,
        )
        return 2
    print(f"chaos: {server.split(' on ')[0]}, schema {scratch.schema}; logs in {logs}")
    scratch.create()
    started = time.time()
    chaos = Chaos(params, scratch, logs)
    try:
        chaos.setup()
        chaos.hang_phase()
        chaos.storm_phase()
        chaos.drain(("hang", "storm"), args.drain)
        chaos.poison_phase()
        run = chaos.finish()
    except Exception:
        traceback.print_exc()
        print(f"chaos: the run could not complete; logs in {logs}", file=sys.stderr)
        return 2
    finally:
        chaos.close()
        if not args.keep:
            scratch.drop()
    run["params"] = params
    measures = report.evaluate(run)
    results = {
        "params": params,
        "seconds": round(time.time() - started, 1),
        "schema": scratch.schema,
        "measures": report.as_json(measures),
        "derived": run["derived"],
        "poison": run["poison"],
        "pool": run["pool"],
        "web_load": run["web_load"],
        "terminated": run["terminated"],
        "hostile": run["hostile"],
        "redirects": run["redirects"],
        "timeline": run["timeline"],
        "planned": [asdict(p) for p in run["planned"]],
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    raw = {k: run[k] for k in ("records", "received", "terminations")}  # for a post-mortem
    raw["kills"] = run["pool"]["kills"]
    (logs / "records.json").write_text(json.dumps(raw, default=str))
    print()
    print(report.table(measures))
    failed = [m.name for m in measures if m.passed is False]
    if failed:
        print("\n" + report.missed(measures))
    print(
        f"\nchaos: {results['seconds']:.0f} s; {len(failed)} target(s) missed; "
        f"details in {out / 'results.json'}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
