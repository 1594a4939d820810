"""Drive the procedures through the engine's service layer as the people in them would: find the
open step by its diagram id, submit its form, move the fixed clock, record the Panel's answers, and
read back the cases, deadlines and notifications."""

from __future__ import annotations

import copy

from engine import clock
from engine.services.actor import Actor
from tests.unit.test_forms import EXAMPLES

AGENCIES = ["Police", "Health"]
ROLES = {
    "Referring agency",
    "Local authority",
    "Business Unit",
    "Practice Review Group",
    "SCR sub group",
    "Executive Group",
    "Board",
    "Independent Chair",
    "Peer chair",
    "Lead reviewer",
    "manager",
    *(f"Agency: {a}" for a in AGENCIES),
}
STAFF = Actor("staff", frozenset(ROLES))
MANAGER = Actor("mo", frozenset({"manager"}))
# The rules in force on date_aware apply (WT2023 for these 2026 cases); a manager (STAFF holds the role)
# runs a case under Working Together 2015 or Bolton's rules only with a recorded reason.
TRANSITIONAL = "The partnership still runs this case under its serious case review procedures."


def form(name: str, **changes) -> dict:
    """A valid submission of ``forms/<name>.json`` with ``changes`` applied (None removes a field)."""
    data = copy.deepcopy(EXAMPLES[f"{name}.json"])
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def notification(**changes) -> dict:
    return form("incident_notification", agencies=AGENCIES, **changes)


class Partnership:
    """The partnership's staff working through every open step of every case."""

    def __init__(self, service):
        self.service = service

    # reading
    def tasks(self, element_id: str | None = None) -> list[dict]:
        tasks = self.service.tasks.for_user(STAFF)
        return [t for t in tasks if element_id is None or t["element_id"] == element_id]

    def task(self, element_id: str) -> dict:
        found = self.tasks(element_id)
        assert len(found) == 1, (element_id, [t["element_id"] for t in self.tasks()])
        return found[0]

    def open_steps(self) -> list[str]:
        return sorted(t["element_id"] for t in self.tasks())

    def instances(self, process_id: str) -> list[dict]:
        rows = [i for i in self.service.queries.list_instances(MANAGER) if i["process_id"] == process_id]
        return [
            self.service.queries.get_instance(r["id"], MANAGER) for r in sorted(rows, key=lambda r: r["id"])
        ]

    def case(self, process_id: str) -> dict:
        [one] = self.instances(process_id)
        return one

    def deadlines(self, process_id: str) -> dict[str, tuple[str, str]]:
        """key -> (due date, status) of the deadlines armed on the one instance of ``process_id`` (last armed
        wins)."""
        return {
            d["key"]: (d["due_date"], d["status"])
            for d in self.case(process_id)["deadlines"]
            if d.get("armed", True)
        }

    def sent(self, template: str | None = None) -> list[tuple[str, str]]:
        """(recipient, template) of every notification queued, in order."""
        rows = self.service.outbox.list(MANAGER)
        rows = sorted(rows, key=lambda m: m["id"])
        return [
            (m["recipient"], m["template"]) for m in rows if template is None or m["template"] == template
        ]

    def sent_on(self, template: str) -> list[str]:
        return sorted(
            {m["created_at"][:10] for m in self.service.outbox.list(MANAGER) if m["template"] == template}
        )

    # acting
    def start(self, **changes) -> dict:
        return self.service.instances.start("incident_notification", notification(**changes), STAFF)

    def agencies_answered(self, **changes) -> None:
        """A serious incident notified on the day (Monday 21 December 2026 in the scenarios), the other
        children checked, the notices sent, and every agency's information for the rapid review in (003

         §3.4-3.6, §4.1)."""
        self.start(date_aware="2026-12-18", notification_date=None, **changes)
        self.do("check_other_children", form("safety_check"))
        self.do("notify_panel_and_partners", form("statutory_notification"))
        self.do(
            "arrange_rapid_review", form("rapid_review_arrangements", information_required_by="2026-12-31")
        )
        for agency in AGENCIES:
            self.do(
                "return_agency_information", form("agency_case_information", agency=agency), agency=agency
            )

    def do(self, element_id: str, data: dict, agency: str | None = None) -> None:
        tasks = self.tasks(element_id)
        if agency is not None:
            tasks = [t for t in tasks if t["role"] == f"Agency: {agency}"]
        assert len(tasks) == 1, (element_id, agency, [t["element_id"] for t in self.tasks()])
        self.service.instances.complete_task(tasks[0]["id"], data, STAFF)

    def answer(self, process_id: str, message: str, **data) -> None:
        self.service.instances.deliver_message(message, data, STAFF, instance_id=self.case(process_id)["id"])

    def at(self, instant: str) -> dict:
        """Move the clock to ``instant`` (ISO, UTC) and let the worker fire what is due."""
        clock.set_now(instant)
        return self.service.work_once()

    def errors(self) -> list[str]:
        return [
            f"{i['process_id']}: {i['error']}"
            for i in self.service.queries.list_instances(MANAGER)
            if i.get("status") == "error"
        ]
