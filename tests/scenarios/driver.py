"""Drive the procedures through the engine's service layer as the people in them would: find the
open step by its diagram id, submit its form, move the fixed clock, record the Panel's answers, and
read back the cases, deadlines and notifications."""

from __future__ import annotations

import copy

from engine import clock
from engine.services.actor import Actor
from tests.unit.test_forms import EXAMPLES

AGENCIES = ["Police", "Health"]
KEYS = [a.lower() for a in AGENCIES]  # the agencies' keys in processes/agencies.toml, which forms hold
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
# A Working Together 2015 case: the local authority became aware on Friday 3 March 2017.
# The example children's dates of birth (2019, 2021) are after March 2017: a date of birth cannot be in the
# future (x-not-future, 003 §3.6), so these children were born before the incident.
AWARE_2017 = {
    "incident_date": "2017-03-02",
    "date_aware": "2017-03-03",
    "referral_date": "2017-03-03",
    "notification_date": None,
    "children": [
        {"name": "Child A Example", "date_of_birth": "2012-03-14", "gender": "female"},
        {"name": "Child B Example", "date_of_birth": "2014-07-01", "gender": "male"},
    ],
}
# Each agency contributes a report to a review's terms of reference
REPORTERS = [{"agency": key, "contribution": "agency_report"} for key in KEYS]
MANAGER = Actor("mo", frozenset({"manager"}))
# The rules in force on date_aware apply (WT2023 for these 2026 cases); a manager (STAFF holds the role)
# runs a case under Working Together 2015 or Bolton's rules only with a recorded reason.
TRANSITIONAL = "The partnership still runs this case under its serious case review procedures."
# A review's steps, with the form each takes, from the practitioner event and the interviews (one here) to
# the action plan, in the order the scenarios work through them.
LOCAL_REVIEW_STEPS = {
    "lcspr_practitioners": "practitioner_event",
    "lcspr_interview": "practitioner_interview",
    "lcspr_family": "family_involvement",
    "lcspr_capture_improvements": "improvements_captured",
    "lcspr_supervise": "review_supervision",
    "lcspr_write_report": "overview_report",
    "lcspr_partners_sign_off": "report_sign_off_partners",
    "lcspr_scrutiny": "chair_scrutiny",
    "lcspr_action_plan": "action_plan",
}
SCR_STEPS = {
    "scr_practitioners": "practitioner_event",
    "scr_interview": "practitioner_interview",
    "scr_family": "family_involvement",
    "scr_capture_improvements": "improvements_captured",
    "scr_overview_report": "overview_report",
    "scr_board_sign_off": "report_sign_off",
    "scr_action_plan": "action_plan",
}


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
    return form("incident_notification", agencies=KEYS, **changes)


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
        self.rapid_review_information_in()

    def rapid_review_information_in(self) -> None:
        """The rapid review arranged with information required by 31 December 2026, and every agency's in."""
        self.do(
            "arrange_rapid_review", form("rapid_review_arrangements", information_required_by="2026-12-31")
        )
        self.each_agency("return_agency_information", "agency_case_information")

    def rapid_review_recorded(self, decision: str, reasons: str = "Acted on.") -> None:
        """The rapid review's ``decision`` on a local review, giving ``reasons`` when it is not "lcspr"."""
        self.do(
            "record_rapid_review",
            form(
                "rapid_review_record",
                lcspr_decision=decision,
                no_further_learning_reasons=None if decision == "lcspr" else reasons,
            ),
        )

    def ratified(self, decision: str, on: str) -> None:
        """The partners ratify ``decision`` on ``on``, the date too of any decision to hold a local review."""
        self.do(
            "ratify_rapid_review_partners",
            form(
                "executive_ratification_partners",
                executive_lcspr_decision=decision,
                ratification_date=on,
                decision_date=on if decision == "lcspr" else None,
            ),
        )

    def each_agency(self, element_id: str, name: str) -> None:
        """Every agency's example ``name`` form at ``element_id``, in the order of AGENCIES."""
        for agency in AGENCIES:
            self.do(element_id, form(name, agency=agency), agency=agency)

    def initial_panel_prepared(self, died: bool = False) -> None:
        """Bolton's Initial SCR Panel prepared (004): a death referred to the Child Death Overview Panel,
        then each organisation's chronology and synopsis."""
        if died:
            self.do("cdop_referral", form("cdop_referral", cdop_referral_date=clock.today().isoformat()))
        self.do("bolton_request_chronologies", form("information_request", agencies=KEYS))
        self.each_agency("bolton_agency_chronology", "initial_panel_return")

    def steps(
        self,
        steps: dict[str, str],
        skip: tuple[str, ...] = (),
        if_open: tuple[str, ...] = (),
        until: str = "",
    ) -> None:
        """Each step of ``steps`` with its example form, in order, up to ``until``: all but those in ``skip``,
        and those in ``if_open`` only where the case has them open."""
        for element_id, name in steps.items():
            if element_id not in skip and (element_id not in if_open or self.tasks(element_id)):
                self.do(element_id, form(name))
            if element_id == until:
                return

    def publication_decided(
        self, element_id: str, publication_date: str | None, on: str = "", **changes
    ) -> None:
        """Publication on ``publication_date``, decided and the family told ``on`` (today unless given), with
        ``changes`` to the example form."""
        on = on or clock.today().isoformat()
        self.do(
            element_id,
            form(
                "publication_decision",
                **{
                    "publication_date": publication_date,
                    "decided_on": on,
                    "family_informed_date": on,
                    **changes,
                },
            ),
        )

    def publication_delayed(self, element_id: str, details: str, **changes) -> None:
        """Publication waits on other proceedings (``details``), with ``changes`` to the example decision."""
        self.do(
            element_id,
            form("publication_decision", delayed_by_other_proceedings=True, delay_details=details, **changes),
        )

    def not_published(self, element_id: str, **changes) -> None:
        """The report is not to be published, for the example's reason unless ``changes`` give another."""
        self.do(
            element_id,
            form(
                "publication_decision",
                **{
                    "publication_decision": "not_published",
                    "justification": "Publication would identify the child.",
                    "publication_date": None,
                    **changes,
                },
            ),
        )

    def finally_not_published(self, element_id: str, **changes) -> None:
        self.do(
            element_id,
            form(
                "publication_final_decision",
                **{"final_publication_decision": "not_published", "publication_date": None, **changes},
            ),
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
