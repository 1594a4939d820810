"""Cases at different stages, made through the service layer as people would: each of the demo's cases
(engine/services/demo_cases.json: agencies returning information, an SCR decision with the chair, a
looked-after child's death with its notifications overdue, a new notification) started again and taken
through its listed steps, as many times as a test or a benchmark needs."""

from __future__ import annotations

import json

from engine.services import demo
from engine.services.actor import Actor

ACTORS = {name: Actor(name, frozenset(roles)) for name, roles in demo.ACCOUNTS.items()}


def demo_cases() -> list[dict]:
    return json.loads(demo.CASES_FILE.read_text(encoding="utf-8"))["cases"]


def replay(service, case: dict) -> str:
    """Start ``case`` and complete its steps, each on this case (its reference), as the account named."""
    case = demo._dated(case)
    started = service.instances.start(case["process"], case["data"], ACTORS[case["started_by"]])
    reference = started["business_key"]
    for step in case.get("steps", []):
        who = ACTORS[step["by"]]
        task = next(
            t
            for t in service.tasks.for_user(who)
            if t["business_key"] == reference and t["element_id"] == step["step"]
        )
        service.instances.complete_task(task["id"], step["data"], who)
    return reference


def make_cases(service, count: int) -> list[str]:
    """``count`` cases, going round the demo's cases in turn; their references."""
    cases = demo_cases()
    return [replay(service, cases[n % len(cases)]) for n in range(count)]
