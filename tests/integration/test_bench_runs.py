"""The benchmarks still run (quick sizes); their figures are read from `make bench`, never asserted here."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_quick_benchmarks_run_and_write_results(tmp_path):
    env = {**os.environ, "REVIEWFLOW_BENCH_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.run", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((tmp_path / "results.json").read_text())
    names = [
        "engine overhead",
        "task list",
        "timer sweep",
        "server memory",
        "dashboard",
        "case list",
        "case list overdue",
        "deadline csv",
        "case page",
        "server memory after pages",
        "history",
    ]
    if os.environ.get("REVIEWFLOW_TEST_POSTGRES_URL"):  # every benchmark again on PostgreSQL
        names += [f"{name} (postgresql)" for name in names]
    assert [r["name"] for r in results["results"]] == names
    for r in results["results"]:
        assert set(r) >= {"ratio", "target", "figures"} and len(r["figures"]) == 2
