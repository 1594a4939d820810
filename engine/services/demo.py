"""Demonstration accounts and cases, so that a fresh install shows every page with something on it.

One account per role, all with one password generated at set-up (printed, never stored in the
repository), and a few cases taken to different stages by replaying the steps listed in
``demo_cases.json`` beside this module. Refused in production by the command that calls it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from pathlib import Path

from engine import clock, passwords
from engine.services.actor import Actor

CASES_FILE = Path(__file__).resolve().parent / "demo_cases.json"

ACCOUNTS = {
    "referrer": ["Referring agency"],
    "la": ["Local authority"],
    "bu": ["Business Unit"],
    "prg": ["Practice Review Group"],
    "subgroup": ["SCR sub group"],
    "exec": ["Executive Group"],
    "board": ["Board"],
    "chair": ["Independent Chair"],
    "peer": ["Peer chair"],
    "reviewer": ["Lead reviewer"],
    "police": ["Agency: Police"],
    "health": ["Agency: Health"],
    "manager": ["manager"],
    "owner": ["process_owner"],
    "admin": ["admin"],
}


def seed(service, password: str | None = None) -> dict:
    """Create (or reset) the demo accounts and, if there are no cases yet, the demo cases."""
    while password is None or any(passwords.problem(password, name) for name in ACCOUNTS):
        password = secrets.token_urlsafe(12)  # a random one never contains an account's name
    existing = {u["username"] for u in service.users.list()}
    for username, roles in ACCOUNTS.items():
        if username not in existing:
            service.users.add(username, roles, password=password, display_name=f"Demo {username}")
        else:
            service.users.set_password(username, password, actor="demo")
    started = []
    if not service.queries.list_instances(Actor("demo-seed", frozenset({"admin"})), limit=1):
        started = [
            _replay(service, case) for case in json.loads(CASES_FILE.read_text(encoding="utf-8"))["cases"]
        ]
    return {"accounts": sorted(ACCOUNTS), "password": password, "cases": started}


_RELATIVE = re.compile(r"^\{today(?:([+-])(\d+))?\}$")


def _dated(value):
    """'{today-5}' becomes the date five days before today, anywhere in the case data."""
    if isinstance(value, dict):
        return {k: _dated(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dated(v) for v in value]
    if isinstance(value, str) and (m := _RELATIVE.match(value)):
        days = int(m.group(2) or 0) * (-1 if m.group(1) == "-" else 1)
        return (clock.today() + dt.timedelta(days=days)).isoformat()
    return value


def _replay(service, case: dict) -> str:
    """Start a case as its referrer, then complete each listed step as the account named for it."""

    def actor(username: str) -> Actor:
        return service.users.actor(username)

    case = _dated(case)
    started = service.instances.start(case["process"], case["data"], actor(case["started_by"]))
    for step in case.get("steps", []):
        who = actor(step["by"])
        [task] = [t for t in service.tasks.for_user(who) if t["element_id"] == step["step"]][:1] or [None]
        if task is None:
            raise ValueError(
                f"demo case {case['title']!r}: step {step['step']!r} is not open for {step['by']}"
            )
        service.instances.complete_task(task["id"], step["data"], who)
    return started["business_key"]
