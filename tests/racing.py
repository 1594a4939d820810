"""Commands sent at the same instant from several threads, as several people pressing one button at once."""

from __future__ import annotations

import threading

from engine.services.errors import Conflict


def race(command, times: int = 4) -> list[str]:
    """Run ``command`` in ``times`` threads released together; each outcome, sorted: "ok", or "conflict" for
    a :class:`Conflict` (anything else is raised in its thread, and the outcome is missing)."""
    results, barrier = [], threading.Barrier(times)

    def run():
        barrier.wait()
        try:
            command()
            results.append("ok")
        except Conflict:
            results.append("conflict")

    threads = [threading.Thread(target=run) for _ in range(times)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(results)
