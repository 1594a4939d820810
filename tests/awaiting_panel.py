"""A rapid review sent to the Child Safeguarding Practice Review Panel and waiting for its answer (003 §8.5),
driven through the service on a database that may hold other cases: every step is taken on this case's own
tasks."""

from __future__ import annotations

from tests.scenarios.driver import Partnership, form


class OneCase(Partnership):
    """The partnership's staff working on one case only (the demo cases of a served database stay put)."""

    key: str | None = None

    def start(self, **changes) -> dict:
        started = super().start(**changes)
        self.key = started["business_key"]
        return started

    def tasks(self, element_id: str | None = None) -> list[dict]:
        return [t for t in super().tasks(element_id) if t.get("business_key") == self.key]

    def instances(self, process_id: str) -> list[dict]:
        return [i for i in super().instances(process_id) if i["business_key"] == self.key]


def waiting_for_the_panel(service) -> OneCase:
    """Notified, reviewed with no local review, ratified and sent to the Panel on Monday 21 December 2026;
    the family told: the rapid review now waits for the Panel's answer."""
    p = OneCase(service)
    p.agencies_answered()
    p.do(
        "record_rapid_review",
        form("rapid_review_record", lcspr_decision="no_lcspr", no_further_learning_reasons="Acted on."),
    )
    p.do(
        "ratify_rapid_review_partners",
        form(
            "executive_ratification_partners",
            executive_lcspr_decision="no_lcspr",
            ratification_date="2026-12-21",
            decision_date=None,
        ),
    )
    p.do("tell_family_decision", form("family_decision_contact", informed_date="2026-12-21"))
    return p
