"""What every benchmark shares: where built databases live, the benchmark's own diagrams and actors, a
service on a database URL, and the hash that says when a built database must be built again."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from engine import config
from engine.services import Reviewflow
from engine.services.actor import Actor
from engine.store import models

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(os.environ.get("REVIEWFLOW_BENCH_DIR") or ROOT / "var" / "bench")
BENCH_DIR = Path(__file__).resolve().parent
START = "2026-01-05T09:00:00+00:00"

OWNER = Actor("bench-owner", frozenset({"process_owner"}))
STAFF = Actor("bench-staff", frozenset({"Staff"}))
STEP = {"note": "Checked the chronology and the agency returns.", "approved": True}


def bench_files() -> dict[str, bytes]:
    return {
        name: (BENCH_DIR / name).read_bytes()
        for name in ("bench_reference.bpmn", "bench_timer.bpmn", "bench_step.json")
    }


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def service(url: str, **settings) -> Reviewflow:
    return Reviewflow(config.load({"REVIEWFLOW_DATABASE_URL": url, **settings}))


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


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
